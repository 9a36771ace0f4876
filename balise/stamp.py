"""The build stamp: which sources a site was built from, so that `deploy` can refuse a doubtful one.

An I/O edge like `load`'s git times: it asks git about the sources and reads a built site back.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from stat import S_ISREG
from typing import Any

STAMP_FILE = ".balise-build.json"
# What a build reads: a change anywhere else (code, README) does not make a site dirty.
SOURCES = ("establishments.yml", "mkdocs.yml", "statements", "templates")


@dataclass(frozen=True)
class SourceState:
    """The git state of a repository's sources when it was built."""

    commit: str | None  # HEAD, None when not a git repository or nothing is committed yet
    clean: bool | None  # no uncommitted or untracked source file; None when git cannot tell
    changed: int = 0  # how many source files differ from HEAD
    # Their paths, relative to the repository: for `deploy` to name them, never in the stamp
    # (it is published with the site, and a draft's file name can say too much).
    files: tuple[str, ...] = ()


def git(root: Path, *args: str) -> subprocess.CompletedProcess[str] | None:
    """`git -C root ARGS`, its output as text; None when git cannot run at all."""
    try:
        return subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None


def source_state(root: Path) -> SourceState:
    """Ask git which commit the sources are at and whether they have uncommitted changes."""
    head = git(root, "rev-parse", "--verify", "--quiet", "HEAD")
    if head is None or head.returncode != 0:
        inside = git(root, "rev-parse", "--is-inside-work-tree")
        if inside is not None and inside.returncode == 0:
            return SourceState(None, False)  # a repository with nothing committed yet
        return SourceState(None, None)
    status = git(
        root, "status", "--porcelain", "-z", "--untracked-files=all", "--ignored=no", "--", *SOURCES
    )
    if status is None or status.returncode != 0:
        return SourceState(head.stdout.strip(), None)
    files = _changed_files(status.stdout)
    if files:  # git names them from the top of the work tree, which may hold the repository
        prefix = git(root, "rev-parse", "--show-prefix")
        top = prefix.stdout.strip() if prefix is not None and prefix.returncode == 0 else ""
        files = tuple(path.removeprefix(top) for path in files)
    return SourceState(head.stdout.strip(), not files, len(files), files)


def _changed_files(porcelain: str) -> tuple[str, ...]:
    """The paths of `git status --porcelain -z`: `XY PATH`, a rename followed by its origin."""
    entries = iter(porcelain.split("\0"))
    files = []
    for entry in entries:
        if len(entry) < 4:
            continue
        files.append(entry[3:])
        if "R" in entry[:2] or "C" in entry[:2]:
            next(entries, None)  # the path it was renamed or copied from
    return tuple(files)


# --- digests of a built site -------------------------------------------------------------
#
# A site's digest is one sha256 over (path, sha256 of the file) of every file but the stamp.
# Hashing a whole site costs as much as copying it, so what was hashed once is recorded
# beside the site (never inside: the record is no part of what is published) with each
# file's (inode, size, mtime): a file whose stat still matches is not read again. Any write
# into a file moves its mtime; a file written in the same clock tick as the record
# ("racy", as git calls it) is never trusted.

RECORD_SUFFIX = ".balise-digests.json"
_RECORD_VERSION = 1


@dataclass(frozen=True)
class FileDigest:
    """What is known of one file of a site: its sha256 (hex) and, once asked for, its git
    blob id; with the stat it had when they were computed."""

    sha256: str
    blob: str | None
    inode: int
    size: int
    mtime_ns: int


def record_path(site: Path) -> Path | None:
    """Where the digests of `site` are recorded: `.NAME.balise-digests.json` beside it
    (None for a folder that has nothing beside it: `/`)."""
    folder = site.absolute()
    return folder.with_name(f".{folder.name}{RECORD_SUFFIX}") if folder.name else None


def _walk(site: Path) -> list[tuple[str, os.DirEntry[str]]]:
    """Every entry of a built site that is not a folder (files, links, a link to a folder),
    by POSIX path relative to it, in path order (as `Path` sorts: folder by folder)."""
    found: list[tuple[str, os.DirEntry[str]]] = []

    def visit(folder: str, prefix: str) -> None:
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError:
            return  # as os.walk: a folder that cannot be listed (or is gone) holds nothing
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                visit(entry.path, f"{prefix}{entry.name}/")
            else:
                found.append((prefix + entry.name, entry))

    visit(os.fspath(site), "")
    return found


def site_files(site: Path, *, with_stamp: bool = False) -> dict[str, Path]:
    """Every file (or link) of a built site but the stamp (unless `with_stamp`), by POSIX
    path relative to it, in path order."""
    return {
        relative: Path(entry.path)
        for relative, entry in _walk(site)
        if relative != STAMP_FILE or with_stamp
    }


def _content(path: Path) -> bytes:
    """A file's bytes (a link's target's, if it is a file), or what a link to a folder says."""
    return path.read_bytes() if path.is_file() else b"link:" + str(path.readlink()).encode()


def _parts(relative: str) -> list[str]:
    return relative.split("/")


def combined_digest(files: Mapping[str, str]) -> str:
    """The site's digest from the sha256 (hex) of each of its files, by relative path."""
    digest = hashlib.sha256()
    for relative in sorted(files, key=_parts):  # the order of its paths (as Path sorts)
        digest.update(relative.encode() + b"\0" + bytes.fromhex(files[relative]))
    return "sha256:" + digest.hexdigest()


def file_digests(site: Path, known: Mapping[str, str] | None = None) -> dict[str, str]:
    """The sha256 (hex) of every file of `site` but the stamp; the files named in `known`
    (those a build wrote from bytes it hashed, or carried over: see `recorded_digests`)
    are not read again."""
    known = known or {}
    return {
        relative: known.get(relative) or hashlib.sha256(_content(path)).hexdigest()
        for relative, path in site_files(site).items()
    }


def tree_digest(site: Path, known: Mapping[str, str] | None = None) -> str:
    """A digest of every file of a built site but the stamp: it changes if anything is edited.

    `known`: the digests of files the caller already knows (see `file_digests`); without
    it every file is read."""
    return combined_digest(file_digests(site, known))


def record_entries(files: Mapping[str, FileDigest]) -> dict[str, list[Any]]:
    """What is known of a site's files as JSON values (see `trusted_entries`)."""
    return {
        name: [entry.sha256, entry.blob, entry.inode, entry.size, entry.mtime_ns]
        for name, entry in files.items()
    }


def trusted_entries(site: Path, entries: Any, written_ns: int) -> dict[str, FileDigest]:
    """Of the entries recorded at `written_ns` (the record's mtime), those of the regular
    files of `site` whose inode, size and mtime are still those recorded and older than the
    record: a write into a file after it was hashed moves its mtime past the record's."""
    return _unchanged(site, _entries(entries), written_ns)


def _unchanged(
    site: Path, listed: Mapping[str, FileDigest], written_ns: int
) -> dict[str, FileDigest]:
    """Of `listed`, recorded at `written_ns`, the entries of files of `site` still as recorded."""
    root = os.fspath(site)
    trusted = {}
    for relative, entry in listed.items():
        try:
            found = os.lstat(os.path.join(root, relative))
        except (OSError, ValueError):
            continue
        if _still(entry, found, written_ns):
            trusted[relative] = entry
    return trusted


def _entries(entries: Any) -> dict[str, FileDigest]:
    """A record's entries as read from its JSON; none if they are not entries."""
    try:
        return {name: FileDigest(*entry) for name, entry in entries.items()}
    except (AttributeError, TypeError):
        return {}


def _still(entry: FileDigest, found: os.stat_result, written_ns: int) -> bool:
    """The file `found` (its lstat) is still the regular file `entry` recorded at `written_ns`."""
    return (
        S_ISREG(found.st_mode)
        and (found.st_ino, found.st_size, found.st_mtime_ns)
        == (entry.inode, entry.size, entry.mtime_ns)
        and found.st_mtime_ns < written_ns
    )


def recorded(site: Path, record_of: Path | None = None) -> dict[str, FileDigest]:
    """What the record of `record_of` (default: `site`) says of the files of `site` that
    are unchanged since (see `trusted_entries`).

    With `record_of` the previous site, a build learns the digests of the files it carried
    over from it by hard link (the same inode) without reading them."""
    entries, written = _record(record_of or site)
    return _unchanged(site, entries, written)


def _record(site: Path) -> tuple[dict[str, FileDigest], int]:
    """The entries of the record of `site` as written, and when it was written (none if
    there is no readable record)."""
    path = record_path(site)
    if path is None:
        return {}, 0
    try:
        with path.open("rb") as opened:
            written = os.fstat(opened.fileno()).st_mtime_ns
            data = json.loads(opened.read())
    except (OSError, ValueError):
        return {}, 0
    if not isinstance(data, dict) or data.get("version") != _RECORD_VERSION:
        return {}, 0
    return _entries(data.get("files")), written


def recorded_digests(site: Path, record_of: Path | None = None) -> dict[str, str]:
    """The sha256 of the files `recorded` vouches for (for `tree_digest(site, known=...)`)."""
    return {name: entry.sha256 for name, entry in recorded(site, record_of).items()}


def record_digests(site: Path, files: Mapping[str, str | FileDigest]) -> None:
    """Record the digests of the files of `site` beside it, for the next reader: what is
    known of them (with the stat they had when hashed), or the sha256 (hex) of bytes just
    written, with their stat now. Best effort: a folder that cannot be written to only
    costs the next reader a hashing."""
    entries = {}
    for relative, known in files.items():
        if isinstance(known, FileDigest):
            entries[relative] = known
            continue
        try:
            found = os.lstat(site / relative)
        except OSError:
            continue
        entries[relative] = FileDigest(known, None, found.st_ino, found.st_size, found.st_mtime_ns)
    path = record_path(site)
    if path is None:
        return
    temporary = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    data = {"version": _RECORD_VERSION, "files": record_entries(entries)}
    try:
        temporary.write_text(json.dumps(data), encoding="ascii")
        os.replace(temporary, path)
    except OSError:
        with suppress(OSError):
            temporary.unlink()


def git_blob(content: bytes) -> str:
    """The id git gives a blob of these bytes (what `git hash-object` prints)."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


def site_digests(site: Path, *, blobs: bool = False) -> dict[str, FileDigest]:
    """What is known of every file of `site` but the stamp, in path order: from its record
    where the file is unchanged, else read and hashed (and recorded for the next time);
    `blobs`: with git blob ids."""
    known, written = _record(site)
    files: dict[str, FileDigest] = {}
    changed = False
    for relative, found in _walk(site):
        if relative == STAMP_FILE:
            continue
        stat = found.stat(follow_symlinks=False)  # before reading: a write moves the mtime
        entry = known.get(relative)
        if entry is None or not _still(entry, stat, written) or (blobs and entry.blob is None):
            path = Path(found.path)
            content = _content(path)
            entry = FileDigest(
                hashlib.sha256(content).hexdigest(),
                git_blob(str(path.readlink()).encode() if path.is_symlink() else content)
                if blobs
                else None,
                stat.st_ino,
                stat.st_size,
                stat.st_mtime_ns,
            )
            changed = True
        files[relative] = entry
    if changed or len(files) != len(known):
        record_digests(site, files)
    return files


def site_digest(site: Path) -> str:
    """`tree_digest(site)`, reading only the files written since they were last hashed."""
    return digest_of(site_digests(site))


def digest_of(files: Mapping[str, FileDigest]) -> str:
    """The site's digest from what is known of its files (see `site_digests`)."""
    return combined_digest({name: entry.sha256 for name, entry in files.items()})


def stamp(state: SourceState, now: datetime, digest: str, *, strict: bool, warnings: int) -> bytes:
    """The stamp file's bytes: what `deploy` checks before publishing the site."""
    data = {
        "built_at": now.isoformat(),
        "checked": True,  # only `build` writes a stamp, and it builds nothing that fails check
        "strict": strict,
        "warnings": warnings,
        "source": {"commit": state.commit, "clean": state.clean, "changed": state.changed},
        "digest": digest,
    }
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()


def read_stamp(site: Path) -> Mapping[str, Any] | None:
    """The stamp of a built site, or None when it has none (or an unreadable one)."""
    try:
        data = json.loads((site / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None

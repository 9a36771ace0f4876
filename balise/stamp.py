"""The build stamp: which sources a site was built from, so that `deploy` can refuse a doubtful one.

An I/O edge like `load`'s git times: it asks git about the sources and reads a built site back.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
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


def tree_digest(site: Path) -> str:
    """A digest of every file of a built site but the stamp: it changes if anything is edited."""
    digest = hashlib.sha256()
    for path in sorted(p for p in site.rglob("*") if p.is_file() or p.is_symlink()):
        relative = path.relative_to(site).as_posix()
        if relative == STAMP_FILE:
            continue
        content = path.read_bytes() if path.is_file() else b"link:" + str(path.readlink()).encode()
        digest.update(relative.encode() + b"\0" + hashlib.sha256(content).digest())
    return "sha256:" + digest.hexdigest()


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

"""Deploy targets: a local folder switched by one rename, a git branch pushed to a remote.

The I/O edge of `deploy`: it copies, links and runs git. Whether to go and what changed are
decided in `deploy`; a failure here leaves the target serving the previous complete site.
"""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from stat import S_ISLNK, S_IXUSR
from typing import Any, Protocol

from balise.deploy import (  # DeployFailed, TargetRefused: raised here, defined there
    DeployFailed,
    DeploySettings,
    FolderTarget,
    GitTarget,
    Release,
    Target,
    TargetError,
    TargetRefused,
    configured_settings,
    configured_targets,
    walk_back,
)
from balise.load import MKDOCS_FILE, as_data, parse_yaml
from balise.object_store import S3Target
from balise.output import locked
from balise.stamp import (
    STAMP_FILE,
    FileDigest,
    git,
    git_blob,
    read_stamp,
    record_entries,
    site_files,
    tree_digest,
    trusted_entries,
)

RELEASES_SUFFIX = ".releases"
COMPLETE_SUFFIX = ".complete"  # beside a release folder: its copy is complete
NETWORK_TIMEOUT = 300  # seconds for one fetch or push; a hung remote must not hang the crisis
CNAME_FILE = "CNAME"  # GitHub Pages' custom domain, kept from deploy to deploy


def _mkdocs(root: Path) -> Any:
    try:
        text = (root / MKDOCS_FILE).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    problems: list = []
    data = as_data(parse_yaml(text, MKDOCS_FILE, 1, problems))
    if problems:
        raise TargetError(f"{MKDOCS_FILE} cannot be read: {problems[0]}")
    return data


def targets_from_config(root: Path) -> list[Target]:
    """The targets named in the repository's mkdocs.yml (`extra: balise: deploy:`)."""
    return configured_targets(_mkdocs(root), root)


def settings_from_config(root: Path) -> DeploySettings:
    """`extra: balise: keep:` and `cname:` in the repository's mkdocs.yml."""
    return configured_settings(_mkdocs(root))


class Opened(Protocol):
    def deployed_status(self) -> Mapping[str, Any] | None: ...

    def publish(
        self, site: Path, files: Mapping[str, FileDigest], message: str, release: str
    ) -> str:
        """Publish the built `site`, whose files are `files` (see `stamp.site_digests`)."""

    def previous(self) -> Release | None:
        """The complete release deployed before the one served now, if one was kept."""

    def roll_back(self, release: Release, message: str) -> str: ...


@contextmanager
def open_target(
    target: Target,
    on_wait: Callable[[], None] | None = None,
    *,
    repo: Path | None = None,
    settings: DeploySettings | None = None,
    history: bool = False,
) -> Iterator[Opened]:
    """A target ready to be read (what it serves now) and published to or rolled back; a git
    target's commits carry the identity configured in the status repository `repo`, and
    its whole history is fetched only to roll back (`history`)."""
    settings = settings or DeploySettings()
    if isinstance(target, FolderTarget):
        folder = Folder(target.path, settings.keep)
        folder.refuse_a_real_folder()
        with locked(target.path, on_wait):
            yield folder
    elif isinstance(target, S3Target):
        from balise.bucket import open_bucket  # boto3 is imported only to deploy there

        yield open_bucket(target)
    else:
        with tempfile.TemporaryDirectory(prefix="balise-deploy-") as scratch:
            remote = GitRemote(target, Path(scratch), source_identity(repo), settings.cname)
            remote.fetch(history=history)
            yield remote


def _json_object(data: bytes) -> Mapping[str, Any] | None:
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


# --- a local folder ---------------------------------------------------------------------


class Folder:
    """`PATH` is a link to `PATH.releases/ID`; deploying makes a release, then switches the link.

    A new release shares, by hard link, every file whose bytes equal the live release's at
    the same path, and copies the others from the site (never links them to the site: a
    later build or an edit there must not reach a release). So nothing ever writes into a
    complete release: a file shared by several releases is never changed in place, only
    unlinked when a release is pruned.

    The switch is one rename of a new link over the old one, so a request sees either the
    previous complete site or the new complete site. The previous release is kept.

    A release counts as complete only once marked so: `ID.complete` beside it, written
    after its copy (it holds the order in which releases were made, and the digests of its
    files for the next release to share them) and removed first when it is pruned. A kill
    in the middle of a copy or of a removal leaves an unmarked folder, which the next
    deploy removes and never counts as a release to keep.

    A rollback switches the link, the same way, to the newest complete release made before
    the live one (by the order in the marks), so a second rollback goes one further back.
    """

    def __init__(self, path: Path, keep: int = 5) -> None:
        self.path = path
        self.keep = keep
        self.releases = path.with_name(path.name + RELEASES_SUFFIX)

    def refuse_a_real_folder(self) -> None:
        path = self.path
        if path.is_symlink() or not path.exists():
            return
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()  # an empty folder serves nothing: a link can take its place
            return
        raise TargetRefused(
            f"{path} is a real folder, not a link to a release: Balise switches a link to "
            f"deploy atomically. Move it aside (mv {path} {path}.old) and deploy again"
        )

    def current(self) -> Path | None:
        if not self.path.is_symlink():
            return None
        return (self.path.parent / os.readlink(self.path)).resolve()

    def deployed_status(self) -> Mapping[str, Any] | None:
        try:
            return _json_object((self.path / "status.json").read_bytes())
        except OSError:
            return None

    def publish(
        self, site: Path, files: Mapping[str, FileDigest], message: str, release: str
    ) -> str:
        del message  # a folder keeps no log; the release name says what it is
        self.releases.mkdir(parents=True, exist_ok=True)
        previous = self.current()
        final = self.releases / release
        if self._order(final, previous) is None:
            self._copy(site, files, final, previous)
        self._switch(final)
        self._prune(final, previous)
        return str(final)

    def previous(self) -> Release | None:
        live = self.current()
        if live is None or not self.releases.is_dir():
            return None
        now = self._order(live, live)
        if now is None:
            return None
        older = []
        for entry in self.releases.iterdir():
            order = self._order(entry, live) if entry.name != live.name else None
            if order is not None and (order, entry.name) < (now, live.name):
                older.append((order, entry.name))
        if not older:
            return None
        release = self.releases / max(older)[1]
        try:
            status = _json_object((release / "status.json").read_bytes())
        except OSError:
            status = None
        return Release(release.name, status, read_stamp(release))

    def roll_back(self, release: Release, message: str) -> str:
        del message  # a folder keeps no log
        self._switch(self.releases / release.id)  # one rename: nothing to prune, nothing lost
        return str(self.path)

    def _marker(self, release: Path) -> Path:
        return release.with_name(release.name + COMPLETE_SUFFIX)

    def _order(self, release: Path, live: Path | None) -> int | None:
        """When a complete release was made (higher is newer); None if it is not complete."""
        if release.name.startswith(".") or release.is_symlink() or not release.is_dir():
            return None
        try:
            return _mark_order(self._marker(release).read_text(encoding="ascii"))
        except FileNotFoundError:
            pass
        except (OSError, ValueError):
            return 0  # marked, but its order is unreadable: the oldest
        # Unmarked: the live one (only complete releases are ever switched to), or one made
        # by an older Balise, complete if its files still match its build stamp.
        is_live = live is not None and release.resolve() == live.resolve()
        stamp = read_stamp(release)
        if not is_live and (stamp is None or stamp.get("digest") != tree_digest(release)):
            return None
        with suppress(OSError):
            self._mark(release, 0)
        return 0

    def _mark(
        self, release: Path, order: int, files: Mapping[str, FileDigest] | None = None
    ) -> None:
        marker = self._marker(release)
        temporary = marker.with_name(f".{marker.name}.tmp-{os.getpid()}")
        text = f"{order}\n" if files is None else f"{order}\n{json.dumps(record_entries(files))}\n"
        temporary.write_text(text, encoding="ascii")
        os.replace(temporary, marker)

    def _recorded(self, release: Path) -> dict[str, FileDigest] | None:
        """The digests its mark records of a release's files that are unchanged since; None
        when it records none (marked by an older Balise, or unreadable)."""
        try:
            with self._marker(release).open("rb") as opened:
                written = os.fstat(opened.fileno()).st_mtime_ns
                files = opened.read().partition(b"\n")[2]
                entries = json.loads(files) if files.strip() else None
        except (OSError, ValueError):
            return None
        return None if entries is None else trusted_entries(release, entries, written)

    def _shared(
        self, site: Path, files: Mapping[str, FileDigest], live: Path | None
    ) -> dict[str, FileDigest]:
        """The files of the site whose bytes are those of the live release's file at the
        same path, with what is known of that file (a hard link to it is the same inode)."""
        if live is None or not live.is_dir():
            return {}
        recorded = self._recorded(live)
        if recorded is not None:
            return {
                name: recorded[name]
                for name, entry in files.items()
                if name in recorded and recorded[name].sha256 == entry.sha256
            }
        shared = {}  # no digests recorded: the same size, then the same bytes
        for name in files:
            path, kept = site / name, live / name
            if (
                kept.is_file()
                and not kept.is_symlink()
                and not path.is_symlink()
                and kept.stat().st_size == path.stat().st_size
                and filecmp.cmp(kept, path, shallow=False)
            ):
                found = os.lstat(kept)
                shared[name] = FileDigest(
                    files[name].sha256, None, found.st_ino, found.st_size, found.st_mtime_ns
                )
        return shared

    def _copy(
        self, site: Path, files: Mapping[str, FileDigest], final: Path, live: Path | None
    ) -> None:
        """Make the release `final` of `site`: each file the live release has with the same
        bytes is hard-linked from it, the others are copied from the site; marked last."""
        partial = self.releases / f".partial-{final.name}-{os.getpid()}"
        made = [self._order(r, None) for r in self.releases.iterdir() if r.is_dir()]
        try:
            self._remove(final)  # an unmarked folder of that name: a copy killed before its mark
            shared = self._shared(site, files, live)
            made_now = _release_of(site, files, partial, live, shared)
            os.replace(partial, final)
            order = 1 + max((m for m in made if m is not None), default=0)
            self._mark(final, order, made_now)  # last
        except OSError as error:
            raise DeployFailed(f"could not copy the site into {final}: {error}") from error
        finally:
            shutil.rmtree(partial, ignore_errors=True)

    def _switch(self, final: Path) -> None:
        link = self.path.with_name(f".{self.path.name}.link-{os.getpid()}")
        try:
            with suppress(FileNotFoundError):
                link.unlink()
            os.symlink(os.path.relpath(final, self.path.parent), link)
            os.replace(link, self.path)
        except OSError as error:
            with suppress(OSError):
                link.unlink()
            raise DeployFailed(f"could not switch {self.path} to {final}: {error}") from error

    def _prune(self, current: Path, previous: Path | None) -> None:
        """Keep the live release, the `keep` newest complete ones (rollbacks walk back
        through them) and the one live before this deploy; remove incomplete folders first,
        then the rest."""
        entries = list(self.releases.iterdir())
        orders = {r.name: self._order(r, current) for r in entries if r.is_dir()}
        complete = {name: order for name, order in orders.items() if order is not None}
        markers = {name + COMPLETE_SUFFIX for name in complete}
        for entry in entries:  # half-copied or half-removed folders, stray marks
            if entry.name not in complete and entry.name not in markers:
                self._remove(entry)
        newest = sorted(complete, key=lambda name: (complete[name], name), reverse=True)
        keep = {current.name, *newest[: self.keep]}
        if previous is not None and previous.name in complete:
            keep.add(previous.name)
        for name in complete:
            if name not in keep:
                self._remove(self.releases / name)

    def _remove(self, entry: Path) -> None:
        """Unmark a release, then remove it: killed half-way, it is no release any more."""
        with suppress(OSError):
            self._marker(entry).unlink(missing_ok=True)
        if entry.is_symlink() or (entry.exists() and not entry.is_dir()):
            with suppress(OSError):
                entry.unlink()
        else:
            shutil.rmtree(entry, ignore_errors=True)


def _release_of(
    site: Path,
    files: Mapping[str, FileDigest],
    release: Path,
    live: Path | None,
    shared: Mapping[str, FileDigest],
) -> dict[str, FileDigest]:
    """Fill the new folder `release` with the files of `site` (the stamp too): a file of
    `shared` as a hard link to the live release's, any other as a copy (a link in the site
    as what it points to, a folder it points to copied whole). What is known of each file
    of the release, for its mark."""
    source, target = os.fspath(site), os.fspath(release)
    made: dict[str, FileDigest] = {}
    folders: set[str] = set()

    def folder_for(relative: str) -> None:
        parent = relative.rpartition("/")[0]
        if parent in folders:
            return
        if parent:
            folder_for(parent)
        os.mkdir(os.path.join(target, parent) if parent else target)
        folders.add(parent)

    folder_for("")
    for relative in [*files, STAMP_FILE]:
        origin, copy = os.path.join(source, relative), os.path.join(target, relative)
        if relative == STAMP_FILE and not os.path.lexists(origin):
            continue
        folder_for(relative)
        if live is not None and relative in shared:
            try:
                os.link(os.path.join(live, relative), copy)
                made[relative] = shared[relative]
                continue
            except OSError:
                pass  # another filesystem (EXDEV), no hard links there: a copy
        if os.path.isdir(origin):  # a link to a folder (a build makes none)
            shutil.copytree(origin, copy)
        else:
            shutil.copy2(origin, copy)
        if relative in files:
            found = os.lstat(copy)
            entry = files[relative]
            made[relative] = FileDigest(
                entry.sha256, entry.blob, found.st_ino, found.st_size, found.st_mtime_ns
            )
    for relative in sorted(folders, key=len, reverse=True):  # deepest first: mtimes stay
        shutil.copystat(os.path.join(source, relative), os.path.join(target, relative))
    return made


def _link_or_bytes(path: Path) -> bytes:
    """What git stores of a file: its bytes, or a link's target."""
    return os.fsencode(os.readlink(path)) if path.is_symlink() else path.read_bytes()


def _mark_order(text: str) -> int:
    """A mark's first line: the order in which its release was made."""
    return int(text.partition("\n")[0])


# --- a git branch -----------------------------------------------------------------------


def source_identity(repo: Path | None) -> dict[str, str]:
    """GIT_AUTHOR_*/GIT_COMMITTER_* from the status repository's `user.name`/`user.email`
    (git reads its own config, then the global one): the commit is the team's, not the
    machine's. What the environment sets already is left to it."""
    if repo is None:
        return {}
    identity = {}
    for key, variables in (("name", "NAME"), ("email", "EMAIL")):
        found = git(repo, "config", "--get", f"user.{key}")
        if found is None:
            return {}
        value = found.stdout.strip("\n")
        if found.returncode == 0 and value:
            for role in ("AUTHOR", "COMMITTER"):
                variable = f"GIT_{role}_{variables}"
                if variable not in os.environ:
                    identity[variable] = value
    return identity


_IDENTITY = {
    "GIT_AUTHOR_NAME": "Balise",
    "GIT_AUTHOR_EMAIL": "balise@localhost",
    "GIT_COMMITTER_NAME": "Balise",
    "GIT_COMMITTER_EMAIL": "balise@localhost",
}


def _reason(stderr: bytes) -> str:
    """The line of git's complaint that says what went wrong (its first fatal or error line)."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    for line in lines:
        if line.startswith(("fatal:", "error:", "remote:", "!")):
            return line
    return lines[0] if lines else "no output"


class GitRemote:
    """Commits the built site as the whole tree of one branch, on top of it, and pushes it.

    Like `mkdocs gh-deploy`: the branch holds only the site (plus `.nojekyll`, and the
    `CNAME` of its custom domain); a push that fails leaves the branch, and so the pages,
    as they were. A rollback is a new commit whose tree is an earlier deploy's: history is
    never rewritten.
    """

    def __init__(
        self,
        target: GitTarget,
        scratch: Path,
        identity: Mapping[str, str] | None = None,
        cname: str | None = None,
    ) -> None:
        self.target = target
        self.cname = cname
        self.git_dir = scratch / "deploy.git"
        self.index = scratch / "index"
        self.parent: str | None = None
        self.env = {**os.environ, **(identity or {}), "GIT_INDEX_FILE": str(self.index)}
        if not sys.stdin.isatty():
            self.env["GIT_TERMINAL_PROMPT"] = "0"  # never wait for a password nobody types

    def git(self, *args: str, work_tree: Path | None = None, data: bytes | None = None) -> bytes:
        command = ["git", "-c", "core.excludesFile=", "-c", "core.autocrlf=false"]
        command += ["--git-dir", str(self.git_dir)]
        if work_tree is not None:
            command += ["--work-tree", str(work_tree)]
        try:
            result = subprocess.run(
                [*command, *args],
                input=data,
                capture_output=True,
                env=self.env,
                timeout=NETWORK_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise DeployFailed(f"git {args[0]} took more than {NETWORK_TIMEOUT} s") from error
        except OSError as error:
            raise DeployFailed(f"git cannot be run: {error}") from error
        if result.returncode != 0:
            raise DeployFailed(f"git {args[0]} failed: {_reason(result.stderr)}")
        return result.stdout

    def fetch(self, *, history: bool = False) -> None:
        self.git("init", "--quiet", "--bare")
        # A partial clone: the branch's commits and trees, not its blobs (those of the files
        # a deploy reads, status.json and the stamp, are fetched when read). A server that
        # does not allow filters (uploadpack.allowFilter) sends everything, as before.
        for key, value in (
            ("remote.origin.url", self.target.url),
            ("remote.origin.promisor", "true"),
            ("remote.origin.partialclonefilter", "blob:none"),
            ("core.repositoryformatversion", "1"),
            ("extensions.partialClone", "origin"),
        ):
            self.git("config", key, value)
        try:
            self.git("var", "GIT_COMMITTER_IDENT")
            self.git("var", "GIT_AUTHOR_IDENT")
        except DeployFailed:  # no user.name/user.email configured anywhere: Balise's own
            for variable, value in _IDENTITY.items():
                self.env.setdefault(variable, value)
        ref = f"refs/heads/{self.target.branch}"
        try:
            heads = self.git("ls-remote", "--heads", "origin", ref)
            if heads.strip():
                depth = [] if history else ["--depth=1"]
                self.git(
                    "fetch", "--quiet", "--no-tags", "--filter=blob:none", *depth, "origin", ref
                )
        except DeployFailed as error:
            raise DeployFailed(f"cannot reach {self.target.url}: {error}") from error
        if heads.strip():
            self.parent = self.git("rev-parse", "FETCH_HEAD^{commit}").decode().strip()

    def deployed_status(self) -> Mapping[str, Any] | None:
        return None if self.parent is None else self._json(self.parent, "status.json")

    def _json(self, commit: str, name: str) -> Mapping[str, Any] | None:
        try:
            return _json_object(self.git("cat-file", "blob", f"{commit}:{name}"))
        except DeployFailed:
            return None

    def _keep_cname(self, site: Path | None) -> None:
        """The configured domain, else the site's own CNAME, else the branch's: a custom
        domain set once on GitHub Pages is not lost at the next deploy."""
        if self.cname:
            blob = self.git("hash-object", "-w", "--stdin", data=f"{self.cname}\n".encode())
        elif site is not None and (site / CNAME_FILE).is_file():
            return  # added with the site
        elif self.parent is not None:
            try:
                blob = self.git("rev-parse", f"{self.parent}:{CNAME_FILE}")
            except DeployFailed:
                return  # the branch has none
        else:
            return
        entry = f"100644,{blob.decode().strip()},{CNAME_FILE}"
        self.git("update-index", "--add", "--cacheinfo", entry)

    def previous(self) -> Release | None:
        if self.parent is None:
            return None
        log = self.git("log", "--first-parent", "--format=%H%x00%B%x01", self.parent).decode()
        history = []
        for record in log.split("\x01"):
            commit, nul, message = record.strip("\n").partition("\x00")
            if nul:
                history.append((commit.strip(), message))
        found = walk_back(history)
        if found is None:
            return None
        commit = found[1]
        return Release(commit, self._json(commit, "status.json"), self._json(commit, STAMP_FILE))

    def roll_back(self, release: Release, message: str) -> str:
        assert self.parent is not None  # `previous` found a release on the branch
        self.git("read-tree", f"{release.id}^{{tree}}")
        self._keep_cname(None)
        tree = self.git("write-tree").decode().strip()
        return self._commit_and_push(tree, message)

    def publish(
        self, site: Path, files: Mapping[str, FileDigest], message: str, release: str
    ) -> str:
        del release  # the commit is the release
        self._add_site(site, files)
        empty = self.git("hash-object", "-w", "--stdin", data=b"").decode().strip()
        # GitHub Pages would run Jekyll, which hides files starting with "_" (`_headers`).
        self.git("update-index", "--add", "--cacheinfo", f"100644,{empty},.nojekyll")
        self._keep_cname(site)
        tree = self.git("write-tree").decode().strip()
        if (
            self.parent
            and self.git("rev-parse", f"{self.parent}^{{tree}}").decode().strip() == tree
        ):
            return f"{self.target}: already up to date at {self.parent[:12]}, nothing pushed"
        return self._commit_and_push(tree, message)

    def _add_site(self, site: Path, files: Mapping[str, FileDigest]) -> None:
        """Put the site in the index as `git add --all --force .` would, writing only the
        blobs the branch's tree lacks: a file's blob id is computed from its bytes (or taken
        from `files`, what is known of them), and an unchanged file's blob is there."""
        entries = []
        for name, path in site_files(site, with_stamp=True).items():
            if ".git" in name.lower().split("/"):
                continue  # `git add` never adds a repository's own folder
            found = os.lstat(path)
            if S_ISLNK(found.st_mode):
                mode = "120000"
            else:
                mode = "100755" if found.st_mode & S_IXUSR else "100644"
            known = files.get(name)  # the stamp is not among the digests: it is small
            blob = known.blob if known is not None else None
            entries.append((mode, blob or git_blob(_link_or_bytes(path)), name, path))
        there = set()
        if self.parent is not None:
            listing = self.git("ls-tree", "-r", "-z", "--full-tree", f"{self.parent}^{{tree}}")
            for line in listing.split(b"\0"):
                meta, _, _ = line.partition(b"\t")
                if meta:
                    there.add(meta.split()[2].decode())
        missing = {blob: (mode, path) for mode, blob, _, path in entries if blob not in there}
        # One git for the files, one for each link (its blob is its target) or odd name.
        plain = [
            (blob, path)
            for blob, (mode, path) in missing.items()
            if mode != "120000" and "\n" not in str(path)
        ]
        alone = [(blob, path) for blob, (_, path) in missing.items() if (blob, path) not in plain]
        written = []
        if plain:
            paths = "".join(f"{path.absolute()}\n" for _, path in plain).encode()
            answer = self.git("hash-object", "-w", "--no-filters", "--stdin-paths", data=paths)
            written += answer.decode().split()
        for _, path in alone:
            data = _link_or_bytes(path)
            written.append(self.git("hash-object", "-w", "--stdin", data=data).decode().strip())
        if written != [blob for blob, _ in plain + alone]:
            raise DeployFailed(f"{site} changed while it was being deployed; deploy it again")
        index = b"".join(
            f"{mode} {blob}\t".encode() + os.fsencode(name) + b"\0"
            for mode, blob, name, _ in entries
        )
        self.git("update-index", "-z", "--index-info", data=index)

    def _commit_and_push(self, tree: str, message: str) -> str:
        parents = ["-p", self.parent] if self.parent else []
        commit = self.git("commit-tree", tree, *parents, data=message.encode()).decode().strip()
        refspec = f"{commit}:refs/heads/{self.target.branch}"
        try:
            self.git("push", "--quiet", self.target.url, refspec)
        except DeployFailed as error:
            raise DeployFailed(
                f"push to {self.target} refused or failed ({error}); the branch is unchanged. "
                "If someone else deployed meanwhile, run deploy again"
            ) from error
        return f"{self.target} at {commit[:12]}"

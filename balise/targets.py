"""Deploy targets: a local folder switched by one rename, a git branch pushed to a remote.

The I/O edge of `deploy`: it copies, links and runs git. Whether to go and what changed are
decided in `deploy`; a failure here leaves the target serving the previous complete site.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Protocol

from balise.deploy import FolderTarget, GitTarget, Target, TargetError, configured_targets
from balise.load import MKDOCS_FILE, parse_yaml, plain
from balise.output import locked

RELEASES_SUFFIX = ".releases"
NETWORK_TIMEOUT = 300  # seconds for one fetch or push; a hung remote must not hang the crisis


class DeployFailed(Exception):
    """The target could not be updated; it still serves what it served before (exit 3)."""


class TargetRefused(Exception):
    """The target is not something Balise may deploy to as it is (a usage error, exit 2)."""


def targets_from_config(root: Path) -> list[Target]:
    """The targets named in the repository's mkdocs.yml (`extra: balise: deploy:`)."""
    try:
        text = (root / MKDOCS_FILE).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    problems: list = []
    data = plain(parse_yaml(text, MKDOCS_FILE, 1, problems))
    if problems:
        raise TargetError(f"{MKDOCS_FILE} cannot be read: {problems[0]}")
    return configured_targets(data, root)


class Opened(Protocol):
    def deployed_status(self) -> Mapping[str, Any] | None: ...

    def publish(self, site: Path, message: str, release: str) -> str: ...


@contextmanager
def open_target(target: Target, on_wait: Callable[[], None] | None = None) -> Iterator[Opened]:
    """A target ready to be read (what it serves now) and published to."""
    if isinstance(target, FolderTarget):
        folder = Folder(target.path)
        folder.refuse_a_real_folder()
        with locked(target.path, on_wait):
            yield folder
    else:
        with tempfile.TemporaryDirectory(prefix="balise-deploy-") as scratch:
            remote = GitRemote(target, Path(scratch))
            remote.fetch()
            yield remote


def _json_object(data: bytes) -> Mapping[str, Any] | None:
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


# --- a local folder ---------------------------------------------------------------------


class Folder:
    """`PATH` is a link to `PATH.releases/ID`; deploying copies a release, then switches the link.

    The switch is one rename of a new link over the old one, so a request sees either the
    previous complete site or the new complete site. The previous release is kept.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
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

    def publish(self, site: Path, message: str, release: str) -> str:
        del message  # a folder keeps no log; the release name says what it is
        self.releases.mkdir(parents=True, exist_ok=True)
        previous = self.current()
        final = self.releases / release
        if not final.is_dir():
            self._copy(site, final)
        self._switch(final)
        self._prune(final, previous)
        return str(final)

    def _copy(self, site: Path, final: Path) -> None:
        partial = self.releases / f".partial-{final.name}-{os.getpid()}"
        try:
            shutil.copytree(site, partial, symlinks=False)
            os.replace(partial, final)  # a release folder exists only once complete
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
        """Keep the current release and the one before it (to roll back); remove the rest."""
        others = [r for r in self.releases.iterdir() if r.name != current.name]
        if previous is None or previous.name == current.name:
            # The same release again: the one before is the newest of the others.
            complete = [r for r in others if not r.name.startswith(".")]
            previous = max(complete, key=lambda r: r.stat().st_mtime_ns, default=None)
        for release in others:
            if previous is None or release.name != previous.name:
                shutil.rmtree(release, ignore_errors=True)


# --- a git branch -----------------------------------------------------------------------


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

    Like `mkdocs gh-deploy`: the branch holds only the site (plus `.nojekyll`); a push that
    fails leaves the branch, and so the pages, as they were.
    """

    def __init__(self, target: GitTarget, scratch: Path) -> None:
        self.target = target
        self.git_dir = scratch / "deploy.git"
        self.index = scratch / "index"
        self.parent: str | None = None
        self.env = {**os.environ, "GIT_INDEX_FILE": str(self.index)}
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

    def fetch(self) -> None:
        self.git("init", "--quiet", "--bare")
        try:
            self.git("var", "GIT_COMMITTER_IDENT")
        except DeployFailed:
            self.env.update(_IDENTITY)  # no user.name/user.email configured on this machine
        ref = f"refs/heads/{self.target.branch}"
        try:
            heads = self.git("ls-remote", "--heads", self.target.url, ref)
            if heads.strip():
                self.git("fetch", "--quiet", "--no-tags", "--depth=1", self.target.url, ref)
        except DeployFailed as error:
            raise DeployFailed(f"cannot reach {self.target.url}: {error}") from error
        if heads.strip():
            self.parent = self.git("rev-parse", "FETCH_HEAD^{commit}").decode().strip()

    def deployed_status(self) -> Mapping[str, Any] | None:
        if self.parent is None:
            return None
        try:
            return _json_object(self.git("cat-file", "blob", f"{self.parent}:status.json"))
        except DeployFailed:
            return None

    def publish(self, site: Path, message: str, release: str) -> str:
        del release  # the commit is the release
        self.git("add", "--all", "--force", ".", work_tree=site)
        empty = self.git("hash-object", "-w", "--stdin", data=b"").decode().strip()
        # GitHub Pages would run Jekyll, which hides files starting with "_" (`_headers`).
        self.git("update-index", "--add", "--cacheinfo", f"100644,{empty},.nojekyll")
        tree = self.git("write-tree").decode().strip()
        if (
            self.parent
            and self.git("rev-parse", f"{self.parent}^{{tree}}").decode().strip() == tree
        ):
            return f"{self.target}: already up to date at {self.parent[:12]}, nothing pushed"
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

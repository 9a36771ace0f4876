"""Writing a whole output tree atomically: build beside the target, then swap it in.

The only module (with the MkDocs runner) that writes into an output folder.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Callable, Container, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path, PurePosixPath


@contextmanager
def staging(out: Path) -> Iterator[Path]:
    """A scratch folder on the same filesystem as `out`, removed afterwards whatever happens."""
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class UnsafePath(ValueError):
    """An output path that would land outside its root: a bug (validation forbids such ids)."""


def inside(root: Path, relative: str) -> Path:
    """`root / relative`, refusing any path that is absolute, climbs with `..` or leaves root."""
    path = PurePosixPath(relative)
    if (
        not relative
        or "\\" in relative
        or "\0" in relative
        or path.is_absolute()
        or ".." in path.parts
    ):
        raise UnsafePath(f"refusing to write {relative!r}: it is not a path inside the output")
    target = root.joinpath(*path.parts)
    # A link already inside root could still lead out of it.
    if not target.resolve().is_relative_to(root.resolve()):
        raise UnsafePath(f"refusing to write {relative!r}: it leads outside the output")
    return target


def write_tree(root: Path, tree: Mapping[str, bytes], *, overwrite: bool = False) -> None:
    """Write `{relative path: bytes}` under root; an existing file is refused unless overwrite."""
    for relative in sorted(tree):
        target = inside(root, relative)
        if not overwrite and target.exists():
            raise FileExistsError(f"two outputs want {relative}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(tree[relative])  # read here: a lazy tree makes one file at a time


def read_files(root: Path, pattern: str, skip: Container[str] = ()) -> Iterator[bytes]:
    """The bytes of every file under root matching a glob pattern, in path order; `skip`
    names files (paths relative to root) not to read."""
    for path in sorted(root.rglob(pattern)):
        if path.is_file() and path.relative_to(root).as_posix() not in skip:
            yield path.read_bytes()


def replace_dir(new: Path, out: Path) -> None:
    """Put the complete folder `new` in place of `out` (which may not exist yet).

    Two renames in the same folder: `out` is never half-written, and the old tree is
    removed only once the new one is in place.
    """
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
    try:
        os.replace(new, out)
    except BaseException:
        if old is not None:
            os.replace(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def lock_path(out: Path) -> Path:
    """The lock file of an output folder: `.NAME.lock` beside it."""
    return out.with_name(f".{out.name}.lock")


@contextmanager
def locked(out: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the lock of `out` while building or deploying into it: one writer at a time.

    `on_wait` is called once if another process or thread holds it. The lock file is removed
    on release, so a waiter checks that the file it locked is still the one at the path.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    path = lock_path(out)
    waited = False
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait is not None and not waited:
                    waited = True
                    on_wait()
                fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                current = os.stat(path)
            except FileNotFoundError:
                current = None
            held = os.fstat(fd)
        except BaseException:
            os.close(fd)
            raise
        if current is not None and (current.st_ino, current.st_dev) == (held.st_ino, held.st_dev):
            break
        os.close(fd)  # the previous holder removed that file: lock the new one
    try:
        yield
    finally:
        with suppress(FileNotFoundError):
            os.unlink(path)
        os.close(fd)

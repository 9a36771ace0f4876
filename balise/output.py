"""Writing a whole output tree atomically: build beside the target, then swap it in.

The only module (with the MkDocs runner) that writes into an output folder.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import functools
import hashlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Container, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path, PurePosixPath

from balise.errors import Problem


def _staging_prefix(out: Path) -> str:
    return f".{out.name}.staging-"


def _old_prefix(out: Path) -> str:
    return f".{out.name}.old-"


@contextmanager
def staging(out: Path) -> Iterator[Path]:
    """A scratch folder on the same filesystem as `out`, removed afterwards whatever happens."""
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=_staging_prefix(out), dir=out.parent))
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


def write_tree(
    root: Path,
    tree: Mapping[str, bytes],
    *,
    overwrite: bool = False,
    carry: Mapping[str, tuple[Path, str]] | None = None,
) -> dict[str, str]:
    """Write `{relative path: bytes}` under root; an existing file is refused unless overwrite.

    `carry`: relative path -> (a file holding its bytes already, their sha256): that file is
    hard-linked in place and the tree's value never read (a lazy tree does not make it); where
    linking fails (another filesystem...), the bytes are written.
    Returns the sha256 (hex) of each file written: the build stamp need not read them back."""
    written = {}
    carry = carry or {}
    for relative in sorted(tree):
        target = inside(root, relative)
        if not overwrite and target.exists():
            raise FileExistsError(f"two outputs want {relative}")
        target.parent.mkdir(parents=True, exist_ok=True)
        if relative in carry:
            source, sha = carry[relative]
            with suppress(OSError):
                if overwrite:
                    with suppress(FileNotFoundError):
                        target.unlink()  # never write through a link: it may be published
                os.link(source, target)
                written[relative] = sha
                continue
        data = tree[relative]  # read here: a lazy tree makes one file at a time
        target.write_bytes(data)
        written[relative] = hashlib.sha256(data).hexdigest()
    return written


def read_files(root: Path, pattern: str, skip: Container[str] = ()) -> Iterator[bytes]:
    """The bytes of every file under root matching a glob pattern, in path order; `skip`
    names files (paths relative to root) not to read."""
    for path in sorted(root.rglob(pattern)):
        if path.is_file() and path.relative_to(root).as_posix() not in skip:
            yield path.read_bytes()


_AT_FDCWD = -100  # <fcntl.h>: paths relative to the working folder
_RENAME_EXCHANGE = 2  # <linux/fs.h>
# What renameat2 answers when the kernel, or the filesystem, has no atomic exchange.
_NO_EXCHANGE = frozenset({errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP})


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    """libc's renameat2 (glibc >= 2.28), or None on another system or an older libc."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    path, folder = ctypes.c_char_p, ctypes.c_int
    function.argtypes = (folder, path, folder, path, ctypes.c_uint)
    function.restype = ctypes.c_int
    return function


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one step (Linux renameat2 RENAME_EXCHANGE).

    False when this system or this filesystem cannot (nothing was changed); an OSError
    when it can but refused (permissions, a read-only filesystem...).
    """
    function = _renameat2()
    if function is None:
        return False
    if function(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in _NO_EXCHANGE:
        return False
    raise OSError(code, os.strerror(code), str(b), None, str(a))


def replace_dir(new: Path, out: Path) -> None:
    """Put the complete folder `new` in place of `out` (which may not exist yet).

    Where the system can exchange two paths atomically (Linux, most local filesystems),
    `out` names a complete tree at every instant, the old one then the new one, whenever
    the process is killed; the old tree (now at `new`) is removed afterwards. Elsewhere,
    two renames: for an instant `out` does not exist, and a kill right then leaves the old
    tree complete at `.NAME.old-PID` beside it, which `clear_leftovers` puts back.
    """
    if not os.path.lexists(out):
        os.rename(new, out)
        return
    if exchange(new, out):
        shutil.rmtree(new, ignore_errors=True)
        return
    old = out.with_name(f"{_old_prefix(out)}{os.getpid()}")
    os.replace(out, old)
    try:
        os.replace(new, out)
    except BaseException:
        os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def clear_leftovers(out: Path, marker: str) -> None:
    """Remove what killed builds left beside `out`: staging folders and replaced trees.

    Call it holding the lock of `out` (see `locked`): the builds that own such folders hold
    it, so none is running. If a build was killed between the two renames of the fallback
    swap (`out` is missing), its old tree, complete when it has `marker`, is put back first.
    """
    try:
        entries = list(os.scandir(out.parent))
    except FileNotFoundError:
        return
    staged = [e for e in entries if e.name.startswith(_staging_prefix(out))]
    old = [e for e in entries if e.name.startswith(_old_prefix(out))]
    if not os.path.lexists(out):
        complete = [e for e in old if not e.is_symlink() and Path(e.path, marker).is_file()]
        if complete:
            newest = max(complete, key=lambda e: e.stat().st_ctime_ns)
            os.rename(newest.path, out)
            old.remove(newest)
    for entry in [*staged, *old]:
        if entry.is_symlink() or not entry.is_dir(follow_symlinks=False):
            with suppress(OSError):
                os.unlink(entry.path)
        else:
            shutil.rmtree(entry.path, ignore_errors=True)


_REFUSALS = {
    errno.ENOSPC: (
        "the disk is full",
        "free some space on that disk, or build elsewhere with --out DIR, then build again",
    ),
    errno.EDQUOT: (
        "the disk quota is exceeded",
        "free some space under your quota, or build elsewhere with --out DIR",
    ),
    errno.EROFS: (
        "the filesystem is read-only",
        "build into a writable folder with --out DIR, or mount that one read-write",
    ),
    errno.EACCES: (
        "permission denied",
        "check the owner and permissions of that folder, or build elsewhere with --out DIR",
    ),
}
_REFUSALS[errno.EPERM] = _REFUSALS[errno.EACCES]


def write_problem(error: OSError, out: Path) -> Problem:
    """What a user reads when the disk refuses to write the site: which path, what to do."""
    reason, hint = _REFUSALS.get(
        error.errno or 0, (error.strerror or str(error), "fix that, then build again")
    )
    where = error.filename if error.filename is not None else out
    return Problem(str(out), 1, f"cannot write the site: {reason} ({os.fsdecode(where)})", hint)


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

"""Writing a whole output tree atomically: build beside the target, then swap it in.

The only module (with the MkDocs runner) that writes into an output folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def staging(out: Path) -> Iterator[Path]:
    """A scratch folder on the same filesystem as `out`, removed afterwards whatever happens."""
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def write_tree(root: Path, tree: Mapping[str, bytes], *, overwrite: bool = False) -> None:
    """Write `{relative path: bytes}` under root; an existing file is refused unless overwrite."""
    for relative, content in sorted(tree.items()):
        target = root / relative
        if not overwrite and target.exists():
            raise FileExistsError(f"two outputs want {relative}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


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

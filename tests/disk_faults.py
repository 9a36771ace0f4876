"""Injected disk faults: writes under a folder fail as on a full disk, a read-only filesystem
or a folder the build may not write to. Tests run as root here, where chmod stops nothing.

The faults sit at the layer every writer goes through: opening a file to write (Python's
open, os.open), creating a folder, a link, renaming into the folder, the output's exchange;
SQLite writes its files below Python, so a database it opens there is opened read-only.
"""

from __future__ import annotations

import builtins
import io
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

import balise.output

_WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def refuse_writes(
    monkeypatch: pytest.MonkeyPatch, under: Path, code: int, *, from_name: str = ""
) -> list[str]:
    """Every write under `under` fails with OSError(code) naming its path; with `from_name`,
    from the first write of a path ending with it on (a disk that fills up mid-build).
    Returns the paths refused, in order."""
    root = os.path.abspath(under)
    full = not from_name
    refused: list[str] = []

    def check(*paths: object) -> None:
        nonlocal full
        for path in paths:
            if not isinstance(path, str | bytes | os.PathLike):
                continue  # a file descriptor: opened (and checked) earlier
            name = os.path.abspath(os.fsdecode(path))
            if name == root or name.startswith(root + os.sep):
                full = full or name.endswith(from_name)
                if full:
                    refused.append(name)
                    raise OSError(code, os.strerror(code), name)

    def guarded(real: Callable[..., object], *, where: Callable[..., tuple[object, ...]]):
        def call(*args: object, **kwargs: object) -> object:
            check(*where(*args, **kwargs))
            return real(*args, **kwargs)

        return call

    def opened(file: object, mode: str = "r", *args: object, **kwargs: object) -> tuple:
        return (file,) if any(c in mode for c in "wax+") else ()

    def os_opened(path: object, flags: int, *args: object, **kwargs: object) -> tuple:
        return (path,) if flags & _WRITING else ()

    real_open = builtins.open
    patched_open = guarded(real_open, where=opened)
    monkeypatch.setattr(builtins, "open", patched_open)
    monkeypatch.setattr(io, "open", patched_open)  # pathlib's open, write_bytes, write_text
    monkeypatch.setattr(os, "open", guarded(os.open, where=os_opened))
    # Linux answers EEXIST before EROFS or ENOSPC for a folder that exists.
    made = guarded(os.mkdir, where=lambda path, *a, **k: () if os.path.lexists(path) else (path,))
    monkeypatch.setattr(os, "mkdir", made)
    for name in ("rename", "replace"):  # both folders change
        monkeypatch.setattr(os, name, guarded(getattr(os, name), where=lambda a, b, **k: (a, b)))
    for name in ("link", "symlink"):
        monkeypatch.setattr(os, name, guarded(getattr(os, name), where=lambda a, b, **k: (b,)))
    monkeypatch.setattr(
        balise.output, "exchange", guarded(balise.output.exchange, where=lambda a, b: (a, b))
    )
    real_connect = sqlite3.connect

    def connect(database: object, *args: object, **kwargs: object) -> sqlite3.Connection:
        # SQLite then refuses every write itself ("attempt to write a readonly database"),
        # as it does on a read-only filesystem; it still reads what the disk holds.
        if isinstance(database, str | os.PathLike) and not kwargs.get("uri"):
            try:
                check(database)
            except OSError:
                kwargs["uri"] = True
                database = f"file:{os.path.abspath(database)}?mode=ro"
        return real_connect(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
    return refused

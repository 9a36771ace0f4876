"""The build cache: results of pure, costly steps, kept between builds under content digests.

An I/O edge like `output`: it reads and writes only its own folder (`.balise-cache/`). Every key
digests all the inputs of a step plus Balise's own code and its libraries' versions, so an entry
is only ever found for the inputs that produced it: the cache saves time, never changes a byte.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

CACHE_DIR = ".balise-cache"
PACKAGE = Path(__file__).resolve().parent
# The libraries whose output ends up in the site: a new version means new bytes.
_LIBRARIES = ("mkdocs", "material", "markdown", "jinja2", "nh3", "yaml", "babel", "lxml.etree")


def digest(*parts: str | bytes) -> str:
    """One hex digest of several texts, unambiguous (each part is length-prefixed)."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


@functools.cache
def code_digest() -> str:
    """Balise's own files, Python's version and the libraries' versions, as one digest."""
    import importlib

    import feedgen.version

    parts: list[str | bytes] = [sys.version, feedgen.version.version_str]
    for name in _LIBRARIES:
        module = importlib.import_module(name)
        parts += [name, str(getattr(module, "__version__", ""))]
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            parts += [path.relative_to(PACKAGE).as_posix(), path.read_bytes()]
    return digest(*parts)[:16]


class Cache:
    """Tables of small JSON values and folders of blobs, by kind; memory-only without a folder.

    What a build uses (reads or writes) is kept when it closes; everything else is dropped,
    so the cache holds one build's worth of entries and never grows without bound.
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder / code_digest() if folder is not None else None
        self._parent = folder
        self._tables: dict[str, dict[str, Any]] = {}
        self._used: dict[str, dict[str, Any]] = {}
        self._changed: set[str] = set()
        self._transient: set[str] = set()  # kinds kept in memory for this build only
        self._blobs_used: dict[str, set[str]] = {}

    # --- tables -------------------------------------------------------------------------

    def load(self) -> None:
        """Read every table of the folder: the only read of tables, at the start of a build."""
        if self.folder is None:
            return
        with suppress(OSError):
            for entry in os.scandir(self.folder):
                if entry.name.endswith(".json") and entry.is_file():
                    with suppress(OSError, ValueError):
                        loaded = json.loads(Path(entry.path).read_text("utf-8"))
                        if isinstance(loaded, dict):
                            self._tables[entry.name.removesuffix(".json")] = loaded

    def _table(self, kind: str) -> dict[str, Any]:
        table = self._tables.get(kind)
        if table is None:
            table = self._tables[kind] = {}
        if kind not in self._used:
            self._used[kind] = {}
        return table

    def get(self, kind: str, key: str) -> Any | None:
        """The value stored under key, or None."""
        value = self._table(kind).get(key)
        if value is not None:
            self._used[kind][key] = value
        return value

    def put(self, kind: str, key: str, value: Any, *, persist: bool = True) -> None:
        """Store a value (not None) under key; JSON-serialisable when it persists."""
        if not persist:
            self._transient.add(kind)
        self._table(kind)[key] = value
        self._used[kind][key] = value
        self._changed.add(kind)

    # --- blobs --------------------------------------------------------------------------

    def blob(self, kind: str, key: str) -> Path | None:
        """The file holding the blob stored under key, or None (never in memory-only mode)."""
        if self.folder is None:
            return None
        path = self.folder / kind / key
        if not path.is_file():
            return None
        self._blobs_used.setdefault(kind, set()).add(key)
        return path

    def put_blob(self, kind: str, key: str, data: bytes) -> None:
        if self.folder is None:
            return
        folder = self.folder / kind
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(folder / key, data)
        self._blobs_used.setdefault(kind, set()).add(key)

    def blob_target(self, kind: str, key: str) -> Path | None:
        """Where to put the blob of key (for a caller that links or moves a file there)."""
        if self.folder is None:
            return None
        (self.folder / kind).mkdir(parents=True, exist_ok=True)
        self._blobs_used.setdefault(kind, set()).add(key)
        return self.folder / kind / key

    def blobs_in_use(self, kind: str) -> None:
        """Declare that `kind`'s blobs are used by this build: unused ones go at close."""
        self._blobs_used.setdefault(kind, set())

    # --- the end of a build ---------------------------------------------------------------

    def close(self) -> None:
        """Keep exactly what this build used; drop older code versions' folders."""
        if self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for kind, used in self._used.items():
                if kind in self._transient:
                    continue
                if kind in self._changed or len(used) != len(self._tables[kind]):
                    text = json.dumps(used, ensure_ascii=False, separators=(",", ":"))
                    _write_atomic(self.folder / f"{kind}.json", text.encode("utf-8"))
            for kind, keys in self._blobs_used.items():
                with suppress(OSError):
                    for entry in os.scandir(self.folder / kind):
                        if entry.name not in keys and not entry.name.startswith("."):
                            with suppress(OSError):
                                os.unlink(entry.path)
            assert self._parent is not None
            for entry in os.scandir(self._parent):
                if entry.is_dir() and entry.name != self.folder.name:
                    shutil.rmtree(entry.path, ignore_errors=True)
        except OSError:
            pass  # a cache that cannot be written only costs the next build time


def _write_atomic(path: Path, data: bytes) -> None:
    fd, temporary = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise


_active: ContextVar[Cache | None] = ContextVar("balise_cache", default=None)


@contextmanager
def session(folder: Path | None) -> Iterator[Cache]:
    """A cache for the steps run inside the block (memory-only when folder is None)."""
    cache = Cache(folder)
    cache.load()
    token = _active.set(cache)
    try:
        yield cache
    finally:
        _active.reset(token)
    cache.close()


def active() -> Cache | None:
    """The cache of the running build, if any."""
    return _active.get()


P = ParamSpec("P")
R = TypeVar("R")


def memoized(
    kind: str,
    *,
    persist: bool = True,
    encode: Callable[[Any], Any] = lambda value: value,
    decode: Callable[[Any], Any] = lambda value: value,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Cache a pure function of texts (or bytes) in the running build's cache, if any.

    `persist=False` keeps results for the build only (intermediate steps other cached steps
    share); `encode`/`decode` turn a result that is not text into JSON values and back.
    """

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            cache = _active.get()
            if cache is None or kwargs or not all(isinstance(a, str | bytes) for a in args):
                return function(*args, **kwargs)
            key = digest(*args)  # type: ignore[arg-type]
            found = cache.get(kind, key)
            if found is not None:
                return decode(found)
            result = function(*args, **kwargs)
            cache.put(kind, key, encode(result), persist=persist)
            return result

        def prime(result: R, *args: str | bytes) -> None:
            """Record what the function returns for args, found some cheaper way."""
            cache = _active.get()
            if cache is not None:
                cache.put(kind, digest(*args), encode(result), persist=persist)

        wrapper.prime = prime  # type: ignore[attr-defined]
        return wrapper

    return decorate

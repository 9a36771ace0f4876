"""The build cache: results of pure, costly steps, kept between builds under content digests.

An I/O edge like `output`: it reads and writes only its own folder (`.balise-cache/`). Every key
digests all the inputs of a step plus Balise's own code and its libraries' versions, so an entry
is only ever found for the inputs that produced it: the cache saves time, never changes a byte.
"""

from __future__ import annotations

import functools
import json
import os
import pickle
import shutil
import sqlite3
import sys
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Generic, TypeVar

from balise.digests import digest

CACHE_DIR = ".balise-cache"
TABLES = "tables.sqlite"
_PARALLEL_MIN = 64  # fewer calls: forking a worker costs more than it saves
_caches: weakref.WeakSet[Cache] = weakref.WeakSet()  # every cache of this process
PACKAGE = Path(__file__).resolve().parent
# The libraries whose output ends up in the site: a new version means new bytes.
# (lxml's package holds its version: `check` need not load lxml.etree to read it.)
_LIBRARIES = ("mkdocs", "material", "markdown", "jinja2", "nh3", "yaml", "babel", "lxml")


R = TypeVar("R")


def _same(value: Any) -> Any:
    return value


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
    """Tables of JSON values and folders of blobs, by kind; memory-only without a folder.

    Tables live in one SQLite file (read entry by entry, so memory follows what a build
    uses, not what the cache holds). When a build closes it, the entries it did not use
    (read or write) are dropped once they outnumber those it used: the cache holds at most
    two builds' worth of entries, and a build that changes little writes only what it put
    (no bookkeeping of each entry it read). Blobs no build uses are dropped at every close.
    """

    _BATCH = 2000  # entries written at a time

    def __init__(self, folder: Path | None, *, read_only: bool = False) -> None:
        self.folder = folder / code_digest() if folder is not None else None
        self._parent = folder
        self._memory: dict[str, dict[str, Any]] = {}  # memory-only and transient kinds
        self._transient: set[str] = set()  # kinds kept in memory for this build only
        self._db: sqlite3.Connection | None = None
        self._pending: list[tuple[str, str, str]] = []  # puts not yet written
        self._unwritten: dict[tuple[str, str], Any] = {}  # their values, until written
        self._used: set[tuple[str, str]] = set()  # what this build read or wrote
        self._blobs_used: dict[str, set[str]] = {}
        # Read-only (`check`): what earlier builds kept is read, nothing is written; what is
        # computed stays in memory for this process only.
        self._read_only = read_only
        self._reader = read_only  # never writes the folder at all, even at close
        self.trouble: str | None = None  # the first write that failed (a full disk...), if any
        self._inherited: sqlite3.Connection | None = None
        _caches.add(self)  # made read-only in a forked worker (parallel_map)

    # --- tables -------------------------------------------------------------------------

    def load(self) -> None:
        """Open the tables (at the start of a build; a damaged file is started afresh)."""
        if self.folder is None:
            return
        if self._reader:
            self._db = self._open_read_only(self.folder / TABLES)
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._db = self._open(self.folder / TABLES)
        except (OSError, sqlite3.Error) as error:
            with suppress(OSError):
                os.unlink(self.folder / TABLES)
            try:
                self._db = self._open(self.folder / TABLES)
            except (OSError, sqlite3.Error):
                self._db = None  # no cache this time: only slower
                self.failed(error, self.folder)

    def memo(
        self,
        kind: str,
        function: Callable[..., R],
        *,
        persist: bool = True,
        encode: Callable[[Any], Any] = _same,
        decode: Callable[[Any], Any] = _same,
    ) -> Memoized[R]:
        """`function` memoized in this cache under `kind` (see Memoized)."""
        return Memoized(self, kind, function, persist=persist, encode=encode, decode=decode)

    def _become_worker(self) -> None:
        """In a forked worker, this cache as it may use it: what the parent held in memory,
        the tables read through a connection of its own (one must not cross a fork), no
        writes (the parent records what the worker sends back)."""
        self._inherited = self._db  # the parent's: never used nor closed here
        self._db = None
        self._pending, self._used = [], set()
        self._read_only = True
        if self.folder is not None and self._inherited is not None:
            self._db = self._open_read_only(self.folder / TABLES)

    @staticmethod
    def _open_read_only(path: Path) -> sqlite3.Connection | None:
        """The tables, for reading only; None when there are none (or they cannot be read)."""
        if not path.is_file():
            return None  # (SQLite would create an empty file in its place)
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
            db.execute("SELECT 1 FROM entry LIMIT 1").fetchall()
        except sqlite3.Error:
            return None
        return db

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path, timeout=60, isolation_level=None)
        # Each build closes it in rollback mode (see close); on a disk that refuses writes
        # the switch fails and the tables are read as they are, never taken for damaged.
        with suppress(sqlite3.Error):
            db.execute("PRAGMA journal_mode=WAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS entry (kind TEXT, key TEXT, value TEXT, used INTEGER,"
            " PRIMARY KEY (kind, key)) WITHOUT ROWID"
        )
        # How many entries there are, kept as they are written: counting them would read
        # every page of the table (seconds, on a cold disk, at N = 10,000).
        db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER)")
        return db

    def get(self, kind: str, key: str) -> Any | None:
        """The value stored under key, or None."""
        found = self._memory.get(kind, {}).get(key)
        if found is not None or self._db is None or kind in self._transient:
            return found
        found = self._unwritten.get((kind, key))
        if found is not None:
            return found
        try:
            row = self._db.execute(
                "SELECT value FROM entry WHERE kind = ? AND key = ?", (kind, key)
            ).fetchone()
        except sqlite3.Error:
            return None
        if row is None:
            return None
        try:
            value = json.loads(row[0])
        except ValueError:
            return None
        self._used.add((kind, key))
        return value

    def get_many(self, kind: str, keys: Iterable[str]) -> dict[str, Any]:
        """The values stored under those keys, by key (keys not found are left out): one
        query for the whole kind, not one per key (the kind holds one build's worth)."""
        memory = self._memory.get(kind, {})
        found: dict[str, Any] = {}
        wanted: set[str] = set()
        for key in keys:
            value = memory.get(key)
            if value is None:
                value = self._unwritten.get((kind, key))
            if value is not None:
                found[key] = value
            else:
                wanted.add(key)
        if not wanted or self._db is None or kind in self._transient:
            return found
        try:
            rows = self._db.execute("SELECT key, value FROM entry WHERE kind = ?", (kind,))
            for key, text in rows:
                if key in wanted:
                    try:
                        found[key] = json.loads(text)
                    except ValueError:
                        continue  # a damaged entry: computed again
                    self._used.add((kind, key))
        except sqlite3.Error:
            pass  # a damaged table: what was not read is computed again
        return found

    def put(self, kind: str, key: str, value: Any, *, persist: bool = True) -> None:
        """Store a value (not None) under key; JSON-serialisable when it persists."""
        if not persist:
            self._transient.add(kind)
        if self._db is None or not persist or self._read_only:
            self._memory.setdefault(kind, {})[key] = value
            return
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        self._pending.append((kind, key, text))
        self._unwritten[(kind, key)] = value
        if len(self._pending) >= self._BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._db is None:
            return
        try:
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany(
                    "INSERT OR REPLACE INTO entry (kind, key, value, used) VALUES (?, ?, ?, 1)",
                    self._pending,
                )
                # (an entry put again is counted again: the count only ever runs ahead)
                self._db.execute(
                    "UPDATE meta SET value = value + ? WHERE name = 'rows'", (len(self._pending),)
                )
        except sqlite3.Error as error:  # not written: the next build computes it again
            self.failed(error, self.folder / TABLES if self.folder else None)
        self._used.update((kind, key) for kind, key, _ in self._pending)
        self._pending = []
        self._unwritten.clear()

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
        if self.folder is None or self.trouble is not None or self._read_only:
            return
        folder = self.folder / kind
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _write_atomic(folder / key, data)
        except OSError as error:
            self.failed(error, folder / key)
            return
        self._blobs_used.setdefault(kind, set()).add(key)

    def blob_target(self, kind: str, key: str) -> Path | None:
        """Where to put the blob of key (for a caller that links or moves a file there);
        None once a write into the cache failed. A caller whose write there fails says so
        with `failed`."""
        if self.folder is None or self.trouble is not None or self._read_only:
            return None
        try:
            (self.folder / kind).mkdir(parents=True, exist_ok=True)
        except OSError as error:
            self.failed(error, self.folder / kind)
            return None
        self._blobs_used.setdefault(kind, set()).add(key)
        return self.folder / kind / key

    def failed(self, error: OSError | sqlite3.Error, where: Path | None = None) -> None:
        """Note that a write into the cache failed: this build goes on without writing more
        blobs (a full disk only costs the next build time), and says so once."""
        if self.trouble is not None:
            return
        if isinstance(error, OSError):
            if where is None and error.filename is not None:
                where = Path(os.fsdecode(error.filename))
            reason = error.strerror or str(error)
        else:
            reason = str(error)
        self.trouble = f"{where}: {reason}" if where is not None else reason

    def blobs_in_use(self, kind: str) -> None:
        """Declare that `kind`'s blobs are used by this build: unused ones go at close."""
        self._blobs_used.setdefault(kind, set())

    # --- the end of a build ---------------------------------------------------------------

    def close(self) -> None:
        """Write what is pending; drop the entries this build did not use once they
        outnumber those it used, the blobs it did not use, and older code versions' folders."""
        if self.folder is None:
            return
        if self._reader:
            if self._db is not None:
                self._db.close()
                self._db = None
            return
        self._flush()
        if self._db is not None:
            try:
                rows = self._rows()
                if rows - len(self._used) > len(self._used):
                    self._keep_only(self._used)
                    rows = self._count()
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('rows', ?)", (rows,))
                # Back to one file between builds: `check` reads it without SQLite making
                # or removing the WAL files beside it (a reader closing last would).
                self._db.execute("PRAGMA journal_mode=DELETE")
            except sqlite3.Error:
                pass
            self._db.close()
            self._db = None
        try:
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

    def _rows(self) -> int:
        """How many entries the tables hold, or (after puts of keys already there) more."""
        assert self._db is not None
        found = self._db.execute("SELECT value FROM meta WHERE name = 'rows'").fetchone()
        if found is None or not isinstance(found[0], int) or found[0] < len(self._used):
            return self._count()  # tables of an older Balise, or a count that cannot be
        return int(found[0])

    def _count(self) -> int:
        assert self._db is not None
        (rows,) = self._db.execute("SELECT count(*) FROM entry").fetchone()
        return int(rows)

    def _keep_only(self, used: set[tuple[str, str]]) -> None:
        """Drop every entry of the tables but those `used` (the `used` column is not read:
        tables of an older Balise kept it up to date)."""
        assert self._db is not None
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "CREATE TEMP TABLE IF NOT EXISTS kept (kind TEXT, key TEXT,"
                " PRIMARY KEY (kind, key)) WITHOUT ROWID"
            )
            self._db.executemany("INSERT OR IGNORE INTO kept VALUES (?, ?)", used)
            self._db.execute(
                "DELETE FROM entry WHERE NOT EXISTS"
                " (SELECT 1 FROM kept WHERE kept.kind = entry.kind AND kept.key = entry.key)"
            )
            self._db.execute("DELETE FROM kept")


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


@contextmanager
def session(folder: Path | None) -> Iterator[Cache]:
    """One build's cache, open for the block (memory-only when folder is None); the build
    hands it to the steps that keep results."""
    cache = Cache(folder)
    cache.load()
    yield cache
    cache.close()  # not after a failure: what it holds may be half-made


@contextmanager
def reading(folder: Path | None) -> Iterator[Cache]:
    """The cache of earlier builds, read only (for `check`, the pre-commit hook): found
    entries save time, missing or damaged ones are computed, nothing is ever written."""
    cache = Cache(folder, read_only=True)
    cache.load()
    try:
        yield cache
    finally:
        cache.close()


class Memoized(Generic[R]):
    """A pure function of texts (or bytes), its results kept in one build's cache under `kind`.

    The build makes these at its edge (`Cache.memo`) and hands them to the steps that need
    them: the function itself knows nothing of the cache. `persist=False` keeps results for
    the build only (intermediate steps other memoized steps share); `encode`/`decode` turn a
    result that is not text into JSON values and back.
    """

    def __init__(
        self,
        store: Cache,
        kind: str,
        function: Callable[..., R],
        *,
        persist: bool = True,
        encode: Callable[[Any], Any] = _same,
        decode: Callable[[Any], Any] = _same,
    ) -> None:
        self.store = store
        self.kind = kind
        self.function = function
        self.persist = persist
        self.encode = encode
        self.decode = decode

    def __call__(self, *args: Any) -> R:
        if not all(isinstance(a, str | bytes) for a in args):
            return self.function(*args)
        key = digest(*args)
        found = self.store.get(self.kind, key)
        if found is not None:
            return self.decode(found)  # type: ignore[no-any-return]
        result = self.function(*args)
        self.store.put(self.kind, key, self.encode(result), persist=self.persist)
        return result

    def missing(self, *args: str | bytes) -> bool:
        """Not in the cache yet."""
        return self.store.get(self.kind, digest(*args)) is None

    def record(self, stored: Any, *args: str | bytes) -> None:
        """Keep a stored (encoded) value computed elsewhere (by a worker)."""
        self.store.put(self.kind, digest(*args), stored, persist=self.persist)

    def compute(self, *args: str | bytes) -> Any:
        """The stored (encoded) value for these arguments, computed (and kept) when missing."""
        return self.encode(self(*args))


# a memoized function and its arguments
Call = tuple["Memoized[Any]", tuple[str | bytes, ...]]


def prefetch(groups: Iterable[Iterable[Call]]) -> None:
    """Compute memoized functions for many arguments ahead, on two cores: what a build
    then asks for is found in the cache. A no-op without enough work.

    The calls of one group run in the same process: group calls that share intermediate
    results (the renderings of one body share its markdown), or each is computed twice.
    """
    seen: set[tuple[int, str, tuple[str | bytes, ...]]] = set()
    todo: list[list[tuple[Memoized[Any], tuple[str | bytes, ...]]]] = []
    for group in groups:
        calls = []
        for memo, args in group:
            if (id(memo.store), memo.kind, args) not in seen and memo.missing(*args):
                seen.add((id(memo.store), memo.kind, args))
                calls.append((memo, args))
        if calls:
            todo.append(calls)
    if sum(len(calls) for calls in todo) < _PARALLEL_MIN:
        return
    results = parallel_map(
        lambda calls: [memo.compute(*args) for memo, args in calls], todo, minimum=2
    )
    for calls, stored in zip(todo[1::2], results[1::2], strict=True):
        for (memo, args), value in zip(calls, stored, strict=True):
            memo.record(value, *args)  # the worker's; the parent's are recorded already


def parallel_map(
    function: Callable[[Any], Any], items: list[Any], *, minimum: int = _PARALLEL_MIN
) -> list[Any]:
    """[function(item) for item in items], on two cores when it pays (a forked worker).

    The worker computes every other item and sends the results back pickled through a pipe;
    if it fails, the parent computes them itself. `function` must be pure: the worker's
    other effects are lost, and it never touches the parent's cache database.
    """
    if (
        len(items) < minimum
        or (os.cpu_count() or 1) < 2
        or not hasattr(os, "fork")
        or threading.active_count() > 1  # forking a threaded process can deadlock the child
    ):
        return [function(item) for item in items]
    theirs = items[1::2]
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: compute, send, and leave without running anything else
        status = 1
        try:
            os.close(read_end)
            for store in list(_caches):
                store._become_worker()
            with os.fdopen(write_end, "wb") as stream:
                pickle.dump([function(item) for item in theirs], stream, protocol=5)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    mine = [function(item) for item in items[0::2]]
    with os.fdopen(read_end, "rb") as stream:
        data = stream.read()
    _, status = os.waitpid(pid, 0)
    sent = pickle.loads(data) if status == 0 and data else None  # our own child's pickle
    if sent is None or len(sent) != len(theirs):
        sent = [function(item) for item in theirs]
    results: list[Any] = [None] * len(items)
    results[0::2], results[1::2] = mine, sent
    return results

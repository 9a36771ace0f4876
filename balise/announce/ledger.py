"""The record of what was posted, `.balise/posted.json`: read it, change it, write it atomically.

The ledger is committed with the repository. It never talks to a network and never guesses:
an unreadable ledger is an error, because treating it as empty could post everything again.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from balise.errors import Problem
from balise.text import parse_iso_instant

LEDGER_DIR = ".balise"
LEDGER_FILE = f"{LEDGER_DIR}/posted.json"
FORMAT = 1

POSTED = "posted"  # sent; never send again
SKIPPED = "skipped"  # recorded as not to post (older than the first run); `--since` reopens it
ATTEMPTED = "attempted"  # a send began and did not finish: resend with the same `key`
FAILED = "failed"  # refused for good (a webhook's 4xx): not sent again; `--since` reopens it
RETRACTING = "retracting"  # `post --retract` began deleting it (or sending its correction)
RETRACTED = "retracted"  # deleted, or its correction sent, or withdrawn before it went out
STATUSES = (POSTED, SKIPPED, ATTEMPTED, FAILED, RETRACTING, RETRACTED)


class LedgerError(Exception):
    """The ledger file exists but cannot be trusted; carries the Problem to show."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


class LedgerBusy(Exception):
    """Another `post` holds the ledger."""


@dataclass(frozen=True)
class Entry:
    """What happened to one statement on one network."""

    status: str
    time: datetime
    remote_id: str | None = None
    url: str | None = None
    key: str | None = None  # idempotency key or record key, reused when a send is resumed
    note: str | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"status": self.status, "time": self.time.isoformat()}
        for name in ("remote_id", "url", "key", "note"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        return data


@dataclass(frozen=True)
class Ledger:
    """Every entry, by statement id then network; and each network's horizon.

    A network's horizon is set the first time `post` runs for it (NOW minus the window, or
    `--since`): statements published before it are not posted there unless asked.
    """

    first_run: datetime | None = None  # when `post` first ran on this repository
    since: Mapping[str, datetime] = field(default_factory=lambda: MappingProxyType({}))
    entries: Mapping[str, Mapping[str, Entry]] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def started(self) -> bool:
        return self.first_run is not None

    def horizon(self, network: str) -> datetime | None:
        return self.since.get(network)

    def entry(self, statement_id: str, network: str) -> Entry | None:
        return self.entries.get(statement_id, {}).get(network)

    def with_entry(self, statement_id: str, network: str, entry: Entry) -> Ledger:
        networks = dict(self.entries.get(statement_id, {}))
        networks[network] = entry
        entries = dict(self.entries)
        entries[statement_id] = MappingProxyType(networks)
        return replace(self, entries=MappingProxyType(entries))

    def starting(self, moment: datetime, horizons: Mapping[str, datetime]) -> Ledger:
        """Record the first run (if this is it) and the horizon of networks new to the ledger."""
        since = {**horizons, **self.since}
        return replace(self, first_run=self.first_run or moment, since=MappingProxyType(since))

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "first_run": self.first_run.isoformat() if self.first_run else None,
            "since": {
                network: moment.isoformat() for network, moment in sorted(self.since.items())
            },
            "statements": {
                statement_id: {network: e.as_json() for network, e in sorted(networks.items())}
                for statement_id, networks in sorted(self.entries.items())
            },
        }

    def dumps(self) -> str:
        return json.dumps(self.as_json(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


# --- reading --------------------------------------------------------------------------


def _instant(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{where} must be an ISO 8601 date, not {value!r}")
    moment = parse_iso_instant(value)
    if moment is None:
        raise ValueError(f"{where} is not an ISO 8601 date: {value!r}")
    if moment.tzinfo is None:
        raise ValueError(f"{where} has no UTC offset: {value!r}")
    return moment


def _optional_text(data: Mapping[str, Any], name: str, where: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{where}.{name} must be text, not {value!r}")
    return value


def _entry(data: Any, where: str) -> Entry:
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be an object")
    status = data.get("status")
    if status not in STATUSES:
        raise ValueError(f"{where}.status must be one of {', '.join(STATUSES)}, not {status!r}")
    return Entry(
        status=status,
        time=_instant(data.get("time"), f"{where}.time"),
        remote_id=_optional_text(data, "remote_id", where),
        url=_optional_text(data, "url", where),
        key=_optional_text(data, "key", where),
        note=_optional_text(data, "note", where),
    )


def parse_ledger(text: str) -> Ledger:
    """The ledger in `text`; ValueError naming what is wrong."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("the ledger must be a JSON object")
    if data.get("format", FORMAT) != FORMAT:
        raise ValueError(
            f"unknown ledger format {data.get('format')!r}: this Balise reads {FORMAT}"
        )
    first_run = data.get("first_run")
    since = data.get("since", {})
    if not isinstance(since, dict):
        raise ValueError('"since" must be an object: network -> date')
    statements = data.get("statements", {})
    if not isinstance(statements, dict):
        raise ValueError('"statements" must be an object')
    entries: dict[str, Mapping[str, Entry]] = {}
    for statement_id, networks in statements.items():
        if not isinstance(networks, dict):
            raise ValueError(f'statements["{statement_id}"] must be an object')
        entries[statement_id] = MappingProxyType(
            {
                network: _entry(entry, f'statements["{statement_id}"].{network}')
                for network, entry in networks.items()
            }
        )
    return Ledger(
        first_run=_instant(first_run, "first_run") if first_run is not None else None,
        since=MappingProxyType(
            {network: _instant(value, f"since.{network}") for network, value in since.items()}
        ),
        entries=MappingProxyType(entries),
    )


def read_ledger(root: Path) -> Ledger:
    """The repository's ledger; an empty one (first run) when the file does not exist."""
    path = root / LEDGER_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Ledger()
    except (OSError, UnicodeDecodeError) as error:
        raise LedgerError(Problem(LEDGER_FILE, 1, f"cannot read the ledger: {error}")) from None
    try:
        return parse_ledger(text)
    except json.JSONDecodeError as error:
        raise LedgerError(
            Problem(
                LEDGER_FILE,
                error.lineno,
                f"the ledger is not valid JSON: {error.msg}",
                "restore it from git; nothing is posted while it is broken",
            )
        ) from None
    except ValueError as error:
        raise LedgerError(
            Problem(
                LEDGER_FILE,
                1,
                f"the ledger is not usable: {error}",
                "restore it from git; nothing is posted while it is broken",
            )
        ) from None


def ledger_problems(root: Path) -> list[Problem]:
    """For `check`: the ledger's problem, if it has one."""
    try:
        read_ledger(root)
    except LedgerError as error:
        return [error.problem]
    return []


# --- writing --------------------------------------------------------------------------


def write_ledger(root: Path, ledger: Ledger) -> None:
    """Replace the ledger atomically: a reader (or a crash) sees the old file or the new one."""
    folder = root / LEDGER_DIR
    folder.mkdir(exist_ok=True)
    target = root / LEDGER_FILE
    descriptor, scratch = tempfile.mkstemp(prefix=".posted-", suffix=".json", dir=folder)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(ledger.dumps())
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(scratch, 0o644)
        os.replace(scratch, target)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    # The rename itself is durable only once the folder is synced (POSIX); Windows cannot.
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


@contextmanager
def ledger_lock(root: Path) -> Iterator[None]:
    """Hold the ledger for one `post` run; LedgerBusy when another run holds it."""
    folder = root / LEDGER_DIR
    folder.mkdir(exist_ok=True)
    try:
        import fcntl
    except ImportError:  # Windows: no advisory lock; one run at a time is the user's care
        yield
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LedgerBusy(
                f"another `post` is running on this repository ({LEDGER_DIR} is locked)"
            ) from None
        yield
    finally:
        os.close(handle)  # closing releases the lock

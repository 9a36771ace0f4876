"""The timeline: statements + NOW -> what is published, each status and since, the change each
statement made, incidents and their phases, and the one order of severity (`worst`).

Pure (CONTRACT §4): no files, no clock, no environment; NOW is always a parameter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from balise.model import Establishment, Incident, Phase, Repository, Statement, Status, sort_key


def severity_key(status: Status) -> tuple[int, bool]:
    """The one order of severity (CONTRACT §3): normal, maintenance, degraded, disrupted, down.

    Maintenance is as severe as normal for care, but saying "maintenance" tells more than
    "normal", so it ranks just above it.
    """
    return (status.severity, status is not Status.NORMAL)


def worst(statuses: Iterable[Status]) -> Status:
    """The most severe of `statuses` by `severity_key`; NORMAL when there is none."""
    return max(statuses, key=severity_key, default=Status.NORMAL)


@dataclass(frozen=True)
class Change:
    """What one statement did to one establishment it names: its status before and after."""

    establishment_id: str
    before: Status  # NORMAL when no earlier published statement named it
    after: Status


@dataclass(frozen=True)
class EstablishmentStatus:
    """The status of one establishment at NOW, when it began, and the statement that set it."""

    establishment: Establishment
    status: Status
    since: datetime
    statement: Statement | None  # None when no published statement ever named it


@dataclass(frozen=True)
class Region:
    """The establishments of one region at NOW, registry order; "" gathers those without one."""

    name: str
    members: tuple[EstablishmentStatus, ...]

    @property
    def status(self) -> Status:
        """The region's status: the worst of its establishments'."""
        return worst(member.status for member in self.members)


@dataclass(frozen=True)
class Snapshot:
    """Everything the timeline knows at NOW; renderers read statuses from here, never re-derive."""

    now: datetime
    published: tuple[Statement, ...]  # oldest first, model.sort_key order
    current: tuple[EstablishmentStatus, ...]  # registry order
    # establishment id -> published statements whose status names it (or `all`), oldest first
    history: Mapping[str, tuple[Statement, ...]] = field(hash=False)
    incidents: tuple[Incident, ...]  # active first, then newest update first
    # published statement id -> one Change per establishment it names, in its status order
    changes: Mapping[str, tuple[Change, ...]] = field(hash=False)

    def status_of(self, establishment_id: str) -> EstablishmentStatus:
        """The current status of one establishment; KeyError for an unknown id."""
        for current in self.current:
            if current.establishment.id == establishment_id:
                return current
        raise KeyError(establishment_id)

    @property
    def last_update(self) -> datetime | None:
        """The date of the newest published statement, None when nothing is published."""
        return self.published[-1].date if self.published else None

    @property
    def regions(self) -> tuple[Region, ...]:
        """The regions in the order their first establishment has in the registry."""
        members: dict[str, list[EstablishmentStatus]] = {}
        for current in self.current:
            members.setdefault(current.establishment.region or "", []).append(current)
        return tuple(Region(name, tuple(found)) for name, found in members.items())

    @property
    def active_incidents(self) -> tuple[Incident, ...]:
        return tuple(incident for incident in self.incidents if incident.active)


def published(statements: Iterable[Statement], now: datetime) -> tuple[Statement, ...]:
    """The statements published at NOW, oldest first (date, then path)."""
    return tuple(sorted((s for s in statements if s.is_published(now)), key=sort_key))


def snapshot(repository: Repository, now: datetime) -> Snapshot:
    """The whole state of the repository at NOW."""
    shown = published(repository.statements, now)
    registry_ids = [establishment.id for establishment in repository.establishments]
    history = _history(shown, registry_ids)
    default_since = shown[0].date if shown else now
    current = tuple(
        _status(establishment, history[establishment.id], default_since)
        for establishment in repository.establishments
    )
    changes = _changes(shown)
    return Snapshot(
        now=now,
        published=shown,
        current=current,
        history=MappingProxyType(history),
        incidents=_incidents(shown, registry_ids, changes),
        changes=MappingProxyType(changes),
    )


def _history(
    statements: tuple[Statement, ...], registry_ids: list[str]
) -> dict[str, tuple[Statement, ...]]:
    # Every registry id gets an entry, so callers need no default for a quiet establishment.
    naming: dict[str, list[Statement]] = {establishment_id: [] for establishment_id in registry_ids}
    for statement in statements:
        for establishment_id in statement.status_map:
            naming.setdefault(establishment_id, []).append(statement)
    return {establishment_id: tuple(found) for establishment_id, found in naming.items()}


def _status(
    establishment: Establishment, naming: tuple[Statement, ...], default_since: datetime
) -> EstablishmentStatus:
    """Replay the statements naming one establishment, oldest first."""
    status, since, setter = Status.NORMAL, default_since, None
    for statement in naming:
        new = statement.status_map[establishment.id]
        # Restating the current status keeps `since`; the first naming always starts a run.
        if setter is None or new is not status:
            since = statement.date
        status, setter = new, statement
    return EstablishmentStatus(establishment, status, since, setter)


def _changes(statements: tuple[Statement, ...]) -> dict[str, tuple[Change, ...]]:
    """Replay every published statement, oldest first, recording what each one changed."""
    latest: dict[str, Status] = {}
    changes: dict[str, tuple[Change, ...]] = {}
    for statement in statements:
        changes[statement.id] = tuple(
            Change(establishment_id, latest.get(establishment_id, Status.NORMAL), status)
            for establishment_id, status in statement.status
        )
        latest.update(statement.status)
    return changes


def _incidents(
    statements: tuple[Statement, ...],
    registry_ids: list[str],
    changes: Mapping[str, tuple[Change, ...]],
) -> tuple[Incident, ...]:
    threads: dict[str, list[Statement]] = {}
    for statement in statements:
        if statement.incident is not None:
            threads.setdefault(statement.incident, []).append(statement)
    incidents = [
        _incident(slug, tuple(thread), registry_ids, changes) for slug, thread in threads.items()
    ]
    # Last statements are distinct (paths are unique), so this order is total.
    incidents.sort(key=lambda i: (i.active, sort_key(i.statements[-1])), reverse=True)
    return tuple(incidents)


def _incident(
    slug: str,
    thread: tuple[Statement, ...],
    registry_ids: list[str],
    changes: Mapping[str, tuple[Change, ...]],
) -> Incident:
    named: set[str] = {establishment_id for s in thread for establishment_id in s.status_map}
    rank = {establishment_id: index for index, establishment_id in enumerate(registry_ids)}
    establishments = tuple(sorted(named, key=lambda e: (rank.get(e, len(rank)), e)))
    resolved_at = _resolved_at(thread)
    phases = _phases(thread, changes, resolved=resolved_at is not None)
    return Incident(
        id=slug,
        statements=thread,
        worst=worst(status for statement in thread for _, status in statement.status),
        establishments=establishments,
        resolved_at=resolved_at,
        phases=phases,
        monitoring_at=_monitoring_at(thread, phases),
    )


def _resolved_at(thread: tuple[Statement, ...]) -> datetime | None:
    if not any(statement.status for statement in thread):
        return thread[-1].date  # purely informational thread
    latest: dict[str, Status] = {}
    resolved_at: datetime | None = None
    for statement in thread:
        latest.update(statement.status)
        # An id not named yet is normal as far as the thread goes, so checking the ids named
        # so far is the same as checking every id the thread will ever name. Leading
        # information-only statements cannot resolve what the thread has not yet named.
        if latest and all(status is Status.NORMAL for status in latest.values()):
            if resolved_at is None:
                resolved_at = statement.date
        else:
            resolved_at = None
    return resolved_at


def _phases(
    thread: tuple[Statement, ...], changes: Mapping[str, tuple[Change, ...]], *, resolved: bool
) -> tuple[Phase, ...]:
    """The phase after each statement of the thread, oldest first."""
    latest: dict[str, Status] = {}
    phases: list[Phase] = []
    for statement in thread:
        latest.update(statement.status)
        if not latest:
            phase = Phase.INVESTIGATING  # the thread has not named anyone yet
        elif all(status is Status.NORMAL for status in latest.values()):
            phase = Phase.RESOLVED
        elif not statement.status:
            phase = phases[-1]  # information only: nothing changed
        elif _improves(changes[statement.id]):
            phase = Phase.MONITORING
        else:
            phase = Phase.IDENTIFIED
        phases.append(phase)
    if resolved:
        phases[-1] = Phase.RESOLVED  # an informational thread ends resolved too
    return tuple(phases)


def _improves(changes: tuple[Change, ...]) -> bool:
    """Lowers the severity of at least one establishment, and raises none.

    `before` is the status across every published statement, not only the thread's own: an
    incident improves when the establishment does, whoever last spoke of it.
    """
    pairs = [(change.before.severity, change.after.severity) for change in changes]
    return any(new < old for old, new in pairs) and all(new <= old for old, new in pairs)


def _monitoring_at(thread: tuple[Statement, ...], phases: tuple[Phase, ...]) -> datetime | None:
    """The start of the latest stretch of monitoring; a setback (or a restart) forgets it."""
    monitoring_at: datetime | None = None
    for statement, phase in zip(thread, phases, strict=True):
        if phase in (Phase.INVESTIGATING, Phase.IDENTIFIED):
            monitoring_at = None
        elif phase is Phase.MONITORING and monitoring_at is None:
            monitoring_at = statement.date
    return monitoring_at

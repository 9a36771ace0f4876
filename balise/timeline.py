"""The timeline: statements + NOW -> what is published, each status and since, the change each
statement made, incidents and their phases, and the one order of severity (`worst`).

Pure (CONTRACT §4): no files, no clock, no environment; NOW is always a parameter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from balise.model import (
    Establishment,
    Incident,
    MaintenanceState,
    Phase,
    Redirect,
    Repository,
    Service,
    Statement,
    Status,
    service_key,
    sort_key,
)


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
class ServiceStatus:
    """The status of one service of one establishment at NOW (CONTRACT §9)."""

    service: Service
    status: Status
    since: datetime
    statement: Statement | None  # None when no published statement ever set it
    redirect: Redirect | None = None  # where its patients go instead, while not normal


@dataclass(frozen=True)
class EstablishmentStatus:
    """The status of one establishment at NOW, when it began, and the statement that set it."""

    establishment: Establishment
    status: Status
    since: datetime
    statement: Statement | None  # None when no published statement ever named it
    services: tuple[ServiceStatus, ...] = ()  # the services it has, registry order
    redirect: Redirect | None = None  # where its patients go instead, while not normal

    @property
    def worst_service(self) -> ServiceStatus | None:
        """Its most severe service (the first of equals), None when it has none."""
        if not self.services:
            return None
        return max(self.services, key=lambda service: severity_key(service.status))


@dataclass(frozen=True)
class Maintenance:
    """A published maintenance window (CONTRACT §9) and where it stands at NOW."""

    statement: Statement
    state: MaintenanceState
    establishments: tuple[str, ...]  # the ids it sets, or sets a service of, registry order

    @property
    def start(self) -> datetime:
        assert self.statement.start is not None  # validation requires it
        return self.statement.start

    @property
    def end(self) -> datetime:
        assert self.statement.end is not None
        return self.statement.end


@dataclass(frozen=True)
class Withdrawal:
    """A published statement withdrawn (`withdrawn: REASON`): its permalink and its feed
    entries stay, saying so; for everything else it does not exist."""

    statement: Statement
    at: datetime  # when it was withdrawn (model.Statement.withdrawn_at)

    @property
    def reason(self) -> str:
        assert self.statement.withdrawn is not None
        return self.statement.withdrawn


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
    # published and not withdrawn: what the timeline is made of; oldest first, sort_key order
    published: tuple[Statement, ...]
    current: tuple[EstablishmentStatus, ...]  # registry order
    # establishment id -> published statements whose status names it (or `all`), oldest first
    history: Mapping[str, tuple[Statement, ...]] = field(hash=False)
    incidents: tuple[Incident, ...]  # active first, then newest update first
    # published statement id -> one Change per establishment it names, in its status order
    changes: Mapping[str, tuple[Change, ...]] = field(hash=False)
    # establishment id -> published statements that set it, one of its services, or concern
    # it (CONTRACT §9), oldest first: its page and its feed
    concerning: Mapping[str, tuple[Statement, ...]] = field(default_factory=dict, hash=False)
    maintenances: tuple[Maintenance, ...] = ()  # by start, then path
    # published but withdrawn: none of the above holds them (their pages and feed entries
    # say they were withdrawn), oldest first
    withdrawn: tuple[Withdrawal, ...] = ()

    @property
    def issued(self) -> tuple[Statement, ...]:
        """Every statement with a permalink at NOW: published ones, withdrawn or not, oldest
        first (sort_key order)."""
        if not self.withdrawn:
            return self.published
        return tuple(
            sorted((*self.published, *(w.statement for w in self.withdrawn)), key=sort_key)
        )

    def withdrawal(self, statement_id: str) -> Withdrawal | None:
        """The withdrawal of a published statement, None when it is not withdrawn."""
        return next((w for w in self.withdrawn if w.statement.id == statement_id), None)

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
    """The whole state of the repository at NOW.

    A withdrawn statement is left out here, once: every status, `since`, change, incident and
    list is what it would be without it; only `withdrawn` holds it.
    """
    issued = published(repository.statements, now)
    shown = tuple(s for s in issued if s.withdrawn is None)
    registry_ids = [establishment.id for establishment in repository.establishments]
    history = _history(shown, registry_ids)
    default_since = shown[0].date if shown else now
    replay = _replay(shown, now)
    services = {service.id: service for service in repository.services}

    def state(key: str) -> _State:
        return replay.states.get(key, _State(Status.NORMAL, default_since))

    current = tuple(
        EstablishmentStatus(
            establishment,
            (own := state(establishment.id)).status,
            own.since,
            own.setter,
            tuple(
                ServiceStatus(
                    services[sid],
                    (found := state(key)).status,
                    found.since,
                    found.setter,
                    found.redirect,
                )
                for sid in establishment.services
                for key in (service_key(establishment.id, sid),)
            ),
            own.redirect,
        )
        for establishment in repository.establishments
    )
    return Snapshot(
        now=now,
        published=shown,
        current=current,
        history=MappingProxyType(history),
        incidents=_incidents(shown, registry_ids, replay.all_changes),
        changes=MappingProxyType(replay.changes),
        concerning=MappingProxyType(_concerning(shown, registry_ids)),
        maintenances=_maintenances(shown, registry_ids, now),
        withdrawn=tuple(
            Withdrawal(s, s.withdrawn_at(now)) for s in issued if s.withdrawn is not None
        ),
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


def _concerning(
    statements: tuple[Statement, ...], registry_ids: list[str]
) -> dict[str, tuple[Statement, ...]]:
    # One pass over the statements (not one per establishment): what `Statement.names` says.
    naming: dict[str, list[Statement]] = {establishment_id: [] for establishment_id in registry_ids}
    for statement in statements:
        named = {key for key, _ in statement.status}
        named.update(statement.concerns)
        named.update(key.split("/", 1)[0] for key, _ in statement.service_status)
        for establishment_id in named:
            if establishment_id in naming:
                naming[establishment_id].append(statement)
    return {establishment_id: tuple(found) for establishment_id, found in naming.items()}


def _named(statement: Statement, registry_ids: list[str]) -> tuple[str, ...]:
    """The establishments a statement sets or sets a service of, registry order."""
    named = set(statement.status_map)
    named.update(key.split("/", 1)[0] for key, _ in statement.service_status)
    return tuple(establishment_id for establishment_id in registry_ids if establishment_id in named)


def _maintenances(
    statements: tuple[Statement, ...], registry_ids: list[str], now: datetime
) -> tuple[Maintenance, ...]:
    found = []
    for statement in statements:
        if not statement.is_maintenance or statement.start is None or statement.end is None:
            continue
        if now < statement.start:
            state = MaintenanceState.UPCOMING
        elif now < statement.end:
            state = MaintenanceState.ACTIVE
        else:
            state = MaintenanceState.COMPLETED
        found.append(Maintenance(statement, state, _named(statement, registry_ids)))
    found.sort(key=lambda m: (m.start, m.statement.path))
    return tuple(found)


@dataclass(frozen=True)
class _State:
    """One establishment's or service's status as the replay goes."""

    status: Status
    since: datetime
    setter: Statement | None = None
    redirect: Redirect | None = None
    redirect_setter: Statement | None = None


@dataclass(frozen=True)
class _Replay:
    states: dict[str, _State]  # establishment id or `ID/SERVICE` -> its state at NOW
    changes: dict[str, tuple[Change, ...]]  # statement id -> its establishments' changes
    # ... and its services' too (`establishment_id` is then `ID/SERVICE`): incident phases
    all_changes: dict[str, tuple[Change, ...]]


def _events(
    statements: tuple[Statement, ...], now: datetime
) -> list[tuple[datetime, int, str, Statement]]:
    """(instant, kind, path, statement) in the order they happen up to NOW: each statement
    takes effect at its date (a maintenance at its start) and a maintenance ends at its end;
    what takes effect at an instant comes before the ends then: a statement issued as a
    window ends takes the key from it, and a status it restates keeps its `since`."""
    events = []
    for statement in statements:
        if statement.effective <= now:
            events.append((statement.effective, 0, statement.path, statement))
        if statement.is_maintenance and statement.end is not None and statement.end <= now:
            events.append((statement.end, 1, statement.path, statement))
    events.sort(key=lambda event: event[:3])
    return events


def _replay(statements: tuple[Statement, ...], now: datetime) -> _Replay:
    """Every status, since, setter and redirect at NOW, and the change each statement made.

    Without maintenance windows the events are the statements in model.sort_key order.
    """
    states: dict[str, _State] = {}
    before_window: dict[str, dict[str, _State | None]] = {}  # statement id -> key -> state
    changes: dict[str, tuple[Change, ...]] = {}
    for moment, kind, _, statement in _events(statements, now):
        touched: list[str] = []
        if kind == 0:
            changes[statement.id] = _changes_of(statement, states)
            saved = before_window.setdefault(statement.id, {}) if statement.is_maintenance else None
            for key, status in (*statement.status, *statement.service_status):
                old = states.get(key)
                if saved is not None:
                    saved[key] = old
                # Restating the current status keeps `since`; the first naming starts a run.
                since = old.since if old and old.setter and old.status is status else moment
                states[key] = _State(
                    status,
                    since,
                    statement,
                    old.redirect if old else None,
                    old.redirect_setter if old else None,
                )
                touched.append(key)
            for key, redirect in statement.redirect:
                old = states.get(key)
                if old is None:
                    continue  # never named, so normal: there is nothing to redirect from
                if saved is not None and key not in saved:
                    saved[key] = old
                states[key] = _State(old.status, old.since, old.setter, redirect, statement)
                touched.append(key)
        else:
            # The window ends: what it still governs returns to its state before the start.
            for key in before_window.get(statement.id, {}):
                old = states[key]
                status, setter, since = old.status, old.setter, old.since
                if old.setter is statement:
                    prior = _before(statement, key, before_window, moment, "setter")
                    status = prior.status if prior else Status.NORMAL
                    setter = prior.setter if prior and prior.setter else statement
                    since = old.since if status is old.status else moment
                redirect, redirect_setter = old.redirect, old.redirect_setter
                if old.redirect_setter is statement:
                    prior = _before(statement, key, before_window, moment, "redirect_setter")
                    redirect = prior.redirect if prior else None
                    redirect_setter = prior.redirect_setter if prior else None
                states[key] = _State(status, since, setter, redirect, redirect_setter)
                touched.append(key)
        for key in touched:
            # A redirect holds while its establishment (or service) is not back to normal.
            found = states[key]
            if found.redirect is not None and found.status is Status.NORMAL:
                states[key] = _State(found.status, found.since, found.setter)
    for statement in statements:
        if statement.id not in changes:  # a window announced, not begun: what it will do
            changes[statement.id] = _changes_of(statement, states)
    return _Replay(
        states,
        {
            sid: tuple(c for c in found if "/" not in c.establishment_id)
            for sid, found in changes.items()
        },
        changes,
    )


def _before(
    window: Statement,
    key: str,
    before_window: Mapping[str, Mapping[str, _State | None]],
    moment: datetime,
    setter: str,
) -> _State | None:
    """The state a key had before `window` began, skipping the windows it had interrupted
    that have ended since: they no longer govern anything."""
    prior = before_window[window.id][key]
    while prior is not None:
        earlier = getattr(prior, setter)
        if earlier is None or earlier.id not in before_window or earlier.end is None:
            break
        if earlier.end > moment or key not in before_window[earlier.id]:
            break
        prior = before_window[earlier.id][key]
    return prior


def _changes_of(statement: Statement, states: Mapping[str, _State]) -> tuple[Change, ...]:
    """What the statement does to each establishment, then each service, it sets."""
    return tuple(
        Change(key, states[key].status if key in states else Status.NORMAL, status)
        for key, status in (*statement.status, *statement.service_status)
    )


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
    named.update(key.split("/", 1)[0] for s in thread for key, _ in s.service_status)
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
    if not any(statement.status or statement.service_status for statement in thread):
        return thread[-1].date  # purely informational thread
    latest: dict[str, Status] = {}
    resolved_at: datetime | None = None
    for statement in thread:
        latest.update(statement.status)
        latest.update(statement.service_status)  # services count as their establishments
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
        latest.update(statement.service_status)
        if not latest:
            phase = Phase.INVESTIGATING  # the thread has not named anyone yet
        elif all(status is Status.NORMAL for status in latest.values()):
            phase = Phase.RESOLVED
        elif not statement.status and not statement.service_status:
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

"""The domain: organisation, establishments, statements, statuses, as frozen values.

Pure data and small derived facts; nothing here reads files, the clock or the environment.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from zoneinfo import ZoneInfo

ID_PATTERN = r"[a-z0-9][a-z0-9-]*"
DEFAULT_TIMEZONE = "Europe/Paris"


def _fold(text: str) -> str:
    """Case- and accent-insensitive form used to match status aliases."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class Status(Enum):
    """The operating status of an establishment (CONTRACT §3), mildest first."""

    NORMAL = "normal"
    MAINTENANCE = "maintenance"
    DEGRADED = "degraded"
    DISRUPTED = "disrupted"
    DOWN = "down"

    @property
    def severity(self) -> int:
        """How much care is impaired: 0 for normal and maintenance, then 1 (degraded) to 3
        (down). `timeline.severity_key` orders statuses from it."""
        return _SEVERITY[self]

    @classmethod
    def parse(cls, text: str) -> Status | None:
        """The status a user wrote (English value or French alias), or None if unknown."""
        return _ALIASES.get(_fold(text))

    @classmethod
    def spellings(cls) -> tuple[str, ...]:
        """Every accepted spelling, for "did you mean" hints."""
        return tuple(_ALIASES)


_SEVERITY = {
    Status.NORMAL: 0,
    Status.MAINTENANCE: 0,
    Status.DEGRADED: 1,
    Status.DISRUPTED: 2,
    Status.DOWN: 3,
}
_ALIASES: dict[str, Status] = {
    _fold(alias): status
    for status, aliases in {
        Status.NORMAL: ("normal",),
        Status.DEGRADED: ("degraded", "dégradé", "degrade"),
        Status.DISRUPTED: ("disrupted", "perturbé", "perturbe"),
        Status.DOWN: ("down", "interrompu", "hors-service"),
        Status.MAINTENANCE: ("maintenance",),
    }.items()
    for alias in aliases
}


class StatementType(Enum):
    """What kind of statement: a routine update or a press release."""

    UPDATE = "update"
    PRESS_RELEASE = "press-release"
    MAINTENANCE = "maintenance"  # a planned window: `start` and `end` (CONTRACT §9)


@dataclass(frozen=True)
class PressContact:
    name: str
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class LegalNotice:
    """The facts of the « Mentions légales » page (French law, LCEN art. 6); None: not given."""

    publisher: str | None = None  # the publisher's name
    publisher_address: str | None = None
    director: str | None = None  # the publication director
    host: str | None = None  # the host's name
    host_address: str | None = None


@dataclass(frozen=True)
class Accessibility:
    """The facts of the « Déclaration d'accessibilité » (RGAA); None: not given."""

    compliance: str | None = None  # « totalement », « partiellement » or « non conforme »
    audit_date: str | None = None  # ISO 8601 day of the audit
    rgaa_version: str | None = None  # such as « 4.1 »
    contact: str | None = None  # an email address or a web address


@dataclass(frozen=True)
class Organisation:
    name: str
    url: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    press: PressContact | None = None
    hotline: str | None = None  # the crisis line, shown while an incident is active
    legal: LegalNotice = LegalNotice()
    accessibility: Accessibility = Accessibility()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Service:
    """A service the site reports on inside establishments (emergencies, surgery...)."""

    id: str
    name: str


@dataclass(frozen=True)
class Establishment:
    id: str
    name: str
    city: str
    region: str | None = None
    phone: str | None = None
    url: str | None = None
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, hash=False)
    services: tuple[str, ...] = ()  # the ids of the services it has, registry order

    def line_of(self, key: str) -> int:
        """The line of one of its keys in establishments.yml (1 when unknown)."""
        return self.lines.get(key, 1)


@dataclass(frozen=True)
class Site:
    """What the site needs from mkdocs.yml: its name and absolute base URL (ends with /)."""

    name: str
    url: str


def service_key(establishment_id: str, service_id: str) -> str:
    """The key of one service of one establishment, as a statement writes it: `ID/SERVICE`."""
    return f"{establishment_id}/{service_id}"


@dataclass(frozen=True)
class Redirect:
    """Where patients go instead: another establishment of the registry, or a text."""

    establishment: str | None  # an establishment id, or None for a text
    text: str | None = None  # the text as written (name, address, phone); None for an id


@dataclass(frozen=True)
class Statement:
    """One published-or-not update, as validated from `statements/**/*.md`."""

    id: str
    path: str  # relative to the repository, POSIX separators
    title: str
    date: datetime  # timezone-aware
    body: str  # markdown
    summary: str  # plain text, given or derived from the first paragraph
    status: tuple[tuple[str, Status], ...] = ()  # resolved per establishment, registry order
    sets_all: bool = False  # the front matter set a status for `all` establishments
    type: StatementType = StatementType.UPDATE
    incident: str | None = None
    draft: bool = False
    publish_at: datetime | None = None
    postable: bool = True  # False: `social: false`, never posted
    post_text: str | None = None  # `social: TEXT`: the post's words instead of the title
    updated: datetime | None = None  # last change (git commit time) when known
    date_without_time: bool = False  # "date" was written as a day only: read as 00:00
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, hash=False)
    # CONTRACT §9. Each service's status, resolved by specificity (ID/SERVICE, all/SERVICE,
    # ID, all), keyed `ID/SERVICE`, registry order; only the services the statement sets.
    service_status: tuple[tuple[str, Status], ...] = ()
    concerns: tuple[str, ...] = ()  # establishment ids it is about without setting them
    redirect: tuple[tuple[str, Redirect], ...] = ()  # `ID` or `ID/SERVICE` -> where to go
    next_update: datetime | None = None  # when the next statement is promised
    no_call: bool = False  # asks people not to call the establishments' switchboards
    start: datetime | None = None  # a maintenance window: its status takes effect here
    end: datetime | None = None  # ... and is undone here
    # `withdrawn: REASON`: still published (its permalink lives, saying why), but out of the
    # timeline (timeline.snapshot): it sets no status, moves no `since`, is in no incident
    withdrawn: str | None = None

    @property
    def is_maintenance(self) -> bool:
        return self.type is StatementType.MAINTENANCE

    @property
    def effective(self) -> datetime:
        """When its statuses take effect: the window's start for a maintenance, else the date."""
        return self.start if self.is_maintenance and self.start is not None else self.date

    def names(self, establishment_id: str) -> bool:
        """Whether it sets the establishment, one of its services, or concerns it."""
        prefix = establishment_id + "/"
        return (
            establishment_id in self.status_map
            or establishment_id in self.concerns
            or any(key.startswith(prefix) for key, _ in self.service_status)
        )

    @property
    def status_map(self) -> dict[str, Status]:
        return dict(self.status)

    @property
    def is_press_release(self) -> bool:
        return self.type is StatementType.PRESS_RELEASE

    def line_of(self, key: str) -> int:
        """The source line of a front-matter key (1 when unknown)."""
        return self.lines.get(key, 1)

    def is_published(self, now: datetime) -> bool:
        """CONTRACT §4: not a draft, embargo passed, and dated at or before NOW."""
        if self.draft or self.date > now:
            return False
        return self.publish_at is None or self.publish_at <= now

    @property
    def last_modified(self) -> datetime:
        return max(self.updated, self.date) if self.updated else self.date

    def withdrawn_at(self, now: datetime) -> datetime:
        """When it was withdrawn, as seen at NOW: its file's last change (the withdrawal is the
        newest edit of a withdrawn statement), never after NOW; NOW when git does not say."""
        return now if self.updated is None else min(self.last_modified, now)

    def last_modified_at(self, now: datetime) -> datetime:
        """The last change as seen at NOW: a commit after NOW (a replay) is not seen yet."""
        modified = self.last_modified
        return modified if modified <= now else self.date


@dataclass(frozen=True)
class Repository:
    """A whole validated status repository."""

    organisation: Organisation
    establishments: tuple[Establishment, ...]
    statements: tuple[Statement, ...]  # sorted by (date, path)
    site: Site
    services: tuple[Service, ...] = ()  # registry order

    def service(self, service_id: str) -> Service:
        for service in self.services:
            if service.id == service_id:
                return service
        raise KeyError(service_id)

    def establishment(self, establishment_id: str) -> Establishment:
        for establishment in self.establishments:
            if establishment.id == establishment_id:
                return establishment
        raise KeyError(establishment_id)


def sort_key(statement: Statement) -> tuple[datetime, str]:
    """CONTRACT §4 order: by date, equal dates by file path (last wins)."""
    return (statement.date, statement.path)


class MaintenanceState(Enum):
    """Where a maintenance window stands at NOW (CONTRACT §9)."""

    UPCOMING = "upcoming"  # before `start`
    ACTIVE = "active"  # from `start` to `end`
    COMPLETED = "completed"  # from `end`


class Phase(Enum):
    """Where an incident thread stands after one of its statements."""

    INVESTIGATING = "investigating"  # nobody named yet: the cause is being looked for
    IDENTIFIED = "identified"  # establishments are affected
    MONITORING = "monitoring"  # the last change was an improvement: it is being watched
    RESOLVED = "resolved"  # every establishment named is back to normal


@dataclass(frozen=True)
class Incident:
    """An `incident` thread as seen at NOW: its published statements, oldest first."""

    id: str
    statements: tuple[Statement, ...]
    worst: Status  # the most severe status the thread ever set (NORMAL when none)
    establishments: tuple[str, ...]  # ids the thread named, registry order
    resolved_at: datetime | None  # when every establishment it named was back to normal
    phases: tuple[Phase, ...]  # the phase after each statement, oldest first
    monitoring_at: datetime | None  # when the current stretch of monitoring began, if any

    @property
    def phase(self) -> Phase:
        return self.phases[-1]

    @property
    def title(self) -> str:
        return self.statements[0].title

    @property
    def started(self) -> datetime:
        return self.statements[0].date

    @property
    def updated(self) -> datetime:
        return self.statements[-1].date

    @property
    def active(self) -> bool:
        return self.resolved_at is None

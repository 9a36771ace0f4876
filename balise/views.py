"""What each page needs, computed from the model and the timeline: links, labels, French dates.

Pure: no HTML, no files. Renderers read these values and never re-derive a status.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from balise import french
from balise.model import (
    Establishment,
    Incident,
    MaintenanceState,
    PressContact,
    Redirect,
    Repository,
    Statement,
    Status,
    sort_key,
)
from balise.timeline import (
    EstablishmentStatus,
    Maintenance,
    ServiceStatus,
    Snapshot,
    Withdrawal,
    severity_key,
)

OVERVIEW = "index.html"
PRESS = "presse.html"
HISTORY = "historique.html"
HISTORY_MONTHS = "historique/"  # historique/AAAA-MM.html: one page per month of statements
ESTABLISHMENTS = "etablissements.html"  # beside the folder: no establishment id can take it
FOLLOW = "suivre.html"
LEGAL = "mentions-legales.html"
ACCESSIBILITY = "accessibilite.html"
ATOM = "application/atom+xml"
RSS = "application/rss+xml"


def establishment_path(establishment_id: str) -> str:
    return f"etablissements/{establishment_id}.html"


def statement_path(statement_id: str) -> str:
    return f"communiques/{statement_id}.html"


def incident_path(incident_id: str) -> str:
    return f"incidents/{incident_id}.html"


def tel_href(phone: str) -> str:
    """The `tel:` link of a phone number as validated: its digits, after the + of an
    international number ("+33 (0)2 99 ..." -> "tel:+33299...": the (0) is not dialled)."""
    international = phone.lstrip().startswith("+")
    if international:
        phone = phone.replace("(0)", "")
    return "tel:" + "+" * international + "".join(c for c in phone if c in "0123456789")


def redirect_text(repository: Repository, redirect: Redirect) -> str:
    """Where patients go, as people read it: the text, or the establishment's name and city."""
    if redirect.establishment is None:
        return redirect.text or ""
    establishment = repository.establishment(redirect.establishment)
    return f"{establishment.name}, {establishment.city}"


def history_month_path(month: str) -> str:
    """The page of one month of the history (`2024-10` -> `historique/2024-10.html`)."""
    return f"{HISTORY_MONTHS}{month}.html"


def feed_path(name: str, kind: str) -> str:
    """`feeds/NAME.atom` or `feeds/NAME.rss`; NAME is `all`, `press` or an establishment id."""
    return f"feeds/{name}.{kind}"


# Entries in one feed document: the head holds the newest, archives the older (RFC 5005).
FEED_PAGE_SIZE = 50


def feed_archive_path(name: str, kind: str, page: int) -> str:
    """`feeds/archives/NAME-PAGE.atom|rss`: page 1 holds the channel's oldest statements."""
    return f"feeds/archives/{name}-{page}.{kind}"


def badge_path(establishment_id: str) -> str:
    return f"badges/{establishment_id}.svg"


STATUS_JSON = "status.json"
STATUS_SCHEMA = "schema/status.json"
STATUSPAGE_SUMMARY = "api/v2/summary.json"
STATUSPAGE_STATUS = "api/v2/status.json"
STATUSPAGE_COMPONENTS = "api/v2/components.json"
STATUSPAGE_INCIDENTS = "api/v2/incidents.json"
STATUSPAGE_UNRESOLVED = "api/v2/incidents/unresolved.json"
STATUSPAGE_MAINTENANCES = "api/v2/scheduled-maintenances.json"
STATUSPAGE_UPCOMING = "api/v2/scheduled-maintenances/upcoming.json"
STATUSPAGE_ACTIVE = "api/v2/scheduled-maintenances/active.json"
MAINTENANCE_CALENDAR = "feeds/maintenance.ics"


@dataclass(frozen=True)
class StatusLabel:
    """A status as shown to people: symbol + French label + what it means (the SVG badges are
    render/badges.py's)."""

    status: Status
    label: str
    icon: str
    explanation: str

    @property
    def key(self) -> str:
        return self.status.value


def status_label(status: Status) -> StatusLabel:
    return StatusLabel(
        status, french.STATUS_LABELS[status], french.ICONS[status], french.EXPLANATIONS[status]
    )


LEGEND: tuple[StatusLabel, ...] = tuple(
    status_label(s)
    for s in (Status.NORMAL, Status.DEGRADED, Status.DISRUPTED, Status.DOWN, Status.MAINTENANCE)
)

# The order a worried reader scans in: what does not work first.
MOST_SEVERE_FIRST: tuple[Status, ...] = tuple(sorted(Status, key=severity_key, reverse=True))


@dataclass(frozen=True)
class Feed:
    title: str
    path: str
    media_type: str


def feeds_for(name: str, label: str) -> tuple[Feed, ...]:
    return (
        Feed(f"{label} (Atom)", feed_path(name, "atom"), ATOM),
        Feed(f"{label} (RSS)", feed_path(name, "rss"), RSS),
    )


GLOBAL_FEEDS = feeds_for("all", "Tous les communiqués")
PRESS_FEEDS = feeds_for("press", "Communiqués de presse")

# One sentence that tells a journalist what a feed is and why to use it.
FEEDS_EXPLAINED = (
    "Un flux Atom ou RSS s'ajoute à votre lecteur de flux ou à votre outil de veille : "
    "chaque nouveau communiqué y apparaît dès sa publication, sans revenir sur ce site."
)


@dataclass(frozen=True)
class Channel:
    """A stream of statements a reader can follow, published as one Atom and one RSS feed."""

    name: str  # `all`, `press` or an establishment id: the feed file name
    title: str
    explanation: str  # one sentence for a journalist
    page_path: str  # the HTML page the feed mirrors
    feeds: tuple[Feed, ...]  # Atom, then RSS
    # newest first, withdrawn ones too: their entries stay (same id), saying so
    statements: tuple[Statement, ...]
    withdrawals: tuple[Withdrawal, ...] = ()  # of those statements, oldest first

    def withdrawn_at(self, statement_id: str) -> datetime | None:
        """When one of its statements was withdrawn, None when it was not."""
        return next((w.at for w in self.withdrawals if w.statement.id == statement_id), None)


def channels(repository: Repository, snap: Snapshot) -> tuple[Channel, ...]:
    """Every feed of the site: all statements, press releases, then one per establishment.

    A withdrawn statement stays in the feeds it was in (the timeline left it out of the rest).
    """
    newest_first = tuple(reversed(snap.issued))
    withdrawals = snap.withdrawn
    found = [
        Channel(
            "all",
            "Tous les communiqués",
            "Chaque communiqué et point de situation, dès sa publication.",
            OVERVIEW,
            GLOBAL_FEEDS,
            newest_first,
            withdrawals,
        ),
        Channel(
            "press",
            "Communiqués de presse",
            "Les communiqués de presse officiels seulement.",
            PRESS,
            PRESS_FEEDS,
            tuple(s for s in newest_first if s.is_press_release),
            tuple(w for w in withdrawals if w.statement.is_press_release),
        ),
    ]
    for establishment in repository.establishments:
        concerning = snap.concerning.get(establishment.id, ())
        named = tuple(w for w in withdrawals if w.statement.names(establishment.id))
        if named:  # back in the places they had, as if never withdrawn
            concerning = tuple(sorted((*concerning, *(w.statement for w in named)), key=sort_key))
        found.append(
            Channel(
                establishment.id,
                establishment.name,
                f"Les annonces qui concernent {establishment.name} ({establishment.city}), "
                "y compris celles adressées à tous les établissements.",
                establishment_path(establishment.id),
                feeds_for(establishment.id, establishment.name),
                tuple(reversed(concerning)),
                named,
            )
        )
    return tuple(found)


# What a withdrawn statement's page, its entries in the lists and its feed entries say.
WITHDRAWN_TITLE = "Communiqué retiré"
WITHDRAWN_MARK = "Retiré"
WITHDRAWN_PREFIX = "[Retiré] "  # before its title, in the feeds and the page's <title>
WITHDRAWN_NOT_CURRENT = "Il ne décrit pas la situation actuelle"
WITHDRAWN_SEE = "voir la page d'accueil"


@dataclass(frozen=True)
class When:
    """One instant, ready to print: ISO for <time datetime>, long and short French forms."""

    iso: str
    long: str
    short: str


def when(moment: datetime, tz: ZoneInfo) -> When:
    return When(
        french.iso(moment, tz), french.long_datetime(moment, tz), french.short_datetime(moment, tz)
    )


@dataclass(frozen=True)
class Withdrawn:
    """Why and when a statement was withdrawn, as its page and the lists show it."""

    reason: str  # as written: the templates escape it
    at: When

    @property
    def stop(self) -> str:
        """The full stop after the reason, unless it ends a sentence itself."""
        return "" if self.reason.endswith((".", "!", "?", "…")) else "."

    @property
    def sentence(self) -> str:
        """« Ce communiqué a été retiré le … : RAISON. Il ne décrit pas la situation actuelle ;
        voir la page d'accueil. », the notice as plain text (feeds)."""
        return (
            f"Ce communiqué a été retiré le {self.at.long} : {self.reason}{self.stop} "
            f"{WITHDRAWN_NOT_CURRENT} ; {WITHDRAWN_SEE}."
        )


def withdrawn(withdrawal: Withdrawal, tz: ZoneInfo) -> Withdrawn:
    return Withdrawn(withdrawal.reason, when(withdrawal.at, tz))


@dataclass(frozen=True)
class ChangeLink:
    """A status a statement sets for one establishment."""

    establishment: Establishment
    path: str
    status_label: StatusLabel


@dataclass(frozen=True)
class StatementLink:
    id: str
    title: str
    summary: str
    path: str
    url: str
    date: When
    type_label: str
    is_press: bool
    changes: tuple[ChangeLink, ...]
    sets_all: bool
    incident: str | None
    # set when withdrawn: the lists mark it « Retiré » and show none of its statuses
    withdrawn: Withdrawn | None = None


@dataclass(frozen=True)
class IncidentLink:
    id: str
    title: str
    path: str
    active: bool
    started: When
    updated: When
    resolved: When | None
    worst: StatusLabel


@dataclass(frozen=True)
class RedirectLink:
    """Where patients go instead: a text, or another establishment (its page and phone)."""

    text: str
    path: str | None  # the other establishment's page, None for a text
    phone: str | None
    phone_href: str | None


@dataclass(frozen=True)
class ServiceLine:
    """One service of an establishment: its status, since when, where to go instead."""

    name: str
    status_label: StatusLabel
    since: When
    redirect: RedirectLink | None

    @property
    def normal(self) -> bool:
        return self.status_label.status is Status.NORMAL


@dataclass(frozen=True)
class MaintenanceLink:
    """A maintenance window that is upcoming or active, as its pages show it."""

    title: str
    path: str
    state: str  # upcoming, active
    state_label: str
    start: When
    end: When


@dataclass(frozen=True)
class Hotline:
    """The crisis line and the emergency rule, shown while an incident is active."""

    phone: str | None
    phone_href: str | None
    emergency: str


@dataclass(frozen=True)
class EstablishmentCard:
    establishment: Establishment
    path: str
    status_label: StatusLabel
    since: When
    statement: StatementLink | None
    phone_href: str | None
    services: tuple[ServiceLine, ...] = ()  # every service it has, registry order
    redirect: RedirectLink | None = None
    latest: StatementLink | None = None  # the newest statement that concerns it
    next_update: str | None = None  # « mardi 8 octobre vers 10 h », while promised
    no_call: str | None = None  # the request not to call its switchboard, when made
    maintenances: tuple[MaintenanceLink, ...] = ()  # upcoming and active, by start

    @property
    def not_normal(self) -> tuple[ServiceLine, ...]:
        return tuple(line for line in self.services if not line.normal)


@dataclass(frozen=True)
class RegionGroup:
    name: str
    cards: tuple[EstablishmentCard, ...]


@dataclass(frozen=True)
class StatusGroup:
    """The establishments that share one status: the overview's at-a-glance summary."""

    status_label: StatusLabel
    cards: tuple[EstablishmentCard, ...]  # registry order


def at_a_glance(cards: Iterable[EstablishmentCard]) -> tuple[StatusGroup, ...]:
    """One group per status in use, most severe first."""
    cards = tuple(cards)
    return tuple(
        StatusGroup(status_label(status), group)
        for status in MOST_SEVERE_FIRST
        if (group := tuple(c for c in cards if c.status_label.status is status))
    )


@dataclass(frozen=True)
class Poster:
    """What the printed front-desk poster of an establishment page adds to the screen page."""

    organisation_name: str
    url: str  # the page's absolute URL: where a reader of the paper finds the current state
    generated: When  # NOW: the time printed when the browser runs no script
    timezone: str  # IANA name, for the script that writes the moment of printing


@dataclass(frozen=True)
class Page:
    """Fields every page shares."""

    path: str
    title: str
    description: str
    feeds: tuple[Feed, ...]


@dataclass(frozen=True)
class OverviewPage(Page):
    organisation_name: str
    regions: tuple[RegionGroup, ...]
    counts: tuple[tuple[StatusLabel, int], ...]
    at_a_glance: tuple[StatusGroup, ...]  # most severe first
    last_update: When | None
    active_incidents: tuple[IncidentLink, ...]
    recent: tuple[StatementLink, ...]
    press: PressContact | None
    legend: tuple[StatusLabel, ...]
    hotline: Hotline | None = None  # while an incident is active
    next_update: str | None = None  # the active incidents' next promised point
    maintenances: tuple[MaintenanceLink, ...] = ()  # upcoming and active, by start


@dataclass(frozen=True)
class EstablishmentPage(Page):
    card: EstablishmentCard
    history: tuple[StatementLink, ...]  # newest first
    badge_path: str
    poster: Poster
    own_feeds: tuple[Feed, ...]  # this establishment's feeds (`feeds` adds the global ones)
    hotline: Hotline | None = None  # while an incident concerning it is active
    latest_body: str = ""  # the markdown of its latest statement: the poster prints it whole


@dataclass(frozen=True)
class StatementPage(Page):
    link: StatementLink
    body: str  # markdown, the only user markup that reaches a page
    incident: IncidentLink | None
    press: PressContact | None  # shown on press releases
    updated: When | None  # last correction, when later than the issue date

    @property
    def withdrawn(self) -> Withdrawn | None:
        """Why and when it was withdrawn: its page says so first, and asks not to be indexed."""
        return self.link.withdrawn


@dataclass(frozen=True)
class ThreadMention:
    """An establishment an incident named, as the latest point of the thread naming it left it.

    Not its current state, which is on its own page: so an incident page changes only when its
    own thread does, and the page of a closed incident never again."""

    establishment: Establishment
    path: str
    phone_href: str | None
    status_label: StatusLabel | None  # None: the thread set some of its services only
    services: tuple[tuple[str, StatusLabel], ...]  # (name, status) set apart, registry order
    point: StatementLink  # the thread's latest statement that set it


@dataclass(frozen=True)
class IncidentPage(Page):
    incident: IncidentLink
    affected: tuple[ThreadMention, ...]  # registry order
    thread: tuple[StatementLink, ...]  # newest first
    hotline: Hotline | None = None  # while the incident is active


@dataclass(frozen=True)
class ListPage(Page):
    statements: tuple[StatementLink, ...]  # newest first
    press: PressContact | None


@dataclass(frozen=True)
class MonthLink:
    """One month of the history: its page, and how many statements it holds."""

    month: str  # AAAA-MM, in the organisation's time zone
    label: str  # « octobre 2024 »
    path: str
    count: int


@dataclass(frozen=True)
class MonthPage(ListPage):
    """One month's statements. A closed month's view never changes: its page is carried
    over from the previous build, never rewritten."""

    month: MonthLink
    index: str  # the history index's path


@dataclass(frozen=True)
class HistoryPage(ListPage):
    """The history's index: the latest month's statements, then a link per month (the whole
    history on one page grew with every statement and was rewritten by each)."""

    months: tuple[MonthLink, ...] = ()  # newest first


@dataclass(frozen=True)
class EstablishmentsPage(Page):
    """The index of establishments, by region: what the navigation links instead of each one."""

    regions: tuple[RegionGroup, ...]


@dataclass(frozen=True)
class MachineLink:
    """A machine-readable file listed on the follow page."""

    title: str
    path: str
    explanation: str


@dataclass(frozen=True)
class BadgeLink:
    establishment: Establishment
    path: str  # the SVG
    page_path: str  # the establishment page
    url: str  # absolute, for the embed snippet
    page_url: str  # absolute URL of the establishment page


@dataclass(frozen=True)
class FollowPage(Page):
    """« Suivre » : every feed, the JSON files and the badges, explained for journalists."""

    explanation: str
    site_url: str
    channels: tuple[Channel, ...]
    machine: tuple[MachineLink, ...]
    badges: tuple[BadgeLink, ...]


MACHINE_LINKS: tuple[MachineLink, ...] = (
    MachineLink(
        "État complet (JSON Balise)",
        STATUS_JSON,
        "L'état de chaque établissement et tous les communiqués, en un seul fichier.",
    ),
    MachineLink(
        "Schéma du JSON Balise",
        STATUS_SCHEMA,
        "La description formelle (JSON Schema) du fichier précédent.",
    ),
    MachineLink(
        "Résumé au format Statuspage",
        STATUSPAGE_SUMMARY,
        "Pour les agrégateurs de pages de statut : état global, établissements, incidents.",
    ),
    MachineLink("État global (Statuspage)", STATUSPAGE_STATUS, "L'indicateur global seul."),
    MachineLink(
        "Établissements (Statuspage)",
        STATUSPAGE_COMPONENTS,
        "Chaque établissement comme composant, groupé par région.",
    ),
    MachineLink(
        "Incidents (Statuspage)", STATUSPAGE_INCIDENTS, "Tous les incidents et leurs points."
    ),
    MachineLink(
        "Incidents en cours (Statuspage)", STATUSPAGE_UNRESOLVED, "Les incidents non résolus."
    ),
)


@dataclass(frozen=True)
class Fact:
    """One line of a legal page: what it is, its value, or None when the repository lacks it."""

    label: str
    value: str | None
    href: str | None = None  # mailto: or a web address, for a contact


@dataclass(frozen=True)
class LegalPage(Page):
    """« Mentions légales » or « Déclaration d'accessibilité »: facts from establishments.yml."""

    kind: str  # "legal" or "accessibility"
    organisation_name: str
    facts: tuple[Fact, ...]
    missing: tuple[str, ...]  # the labels of the facts not given, for the warning shown
    recourse: str  # the Défenseur des droits (accessibility only; "" otherwise)


def _contact_href(contact: str | None) -> str | None:
    if not contact:
        return None
    if "@" in contact and "://" not in contact:
        return "mailto:" + contact
    return contact if contact.startswith(("https://", "http://")) else None


def legal_pages(repository: Repository) -> tuple[LegalPage, LegalPage]:
    """The two pages every French public-service site has, and what each lacks."""
    org = repository.organisation
    legal = tuple(Fact(label, getattr(org.legal, key)) for key, label in french.LEGAL_FACTS.items())
    access = tuple(
        Fact(
            label,
            (french.long_day(value) if key == "audit_date" and value else value),
            _contact_href(value) if key == "contact" else None,
        )
        for key, label in french.ACCESSIBILITY_FACTS.items()
        for value in (getattr(org.accessibility, key),)
    )
    return (
        LegalPage(
            path=LEGAL,
            title=french.LEGAL_TITLE,
            description=f"Mentions légales du site d'information de {org.name}.",
            feeds=GLOBAL_FEEDS,
            kind="legal",
            organisation_name=org.name,
            facts=legal,
            missing=tuple(f.label for f in legal if f.value is None),
            recourse="",
        ),
        LegalPage(
            path=ACCESSIBILITY,
            title=french.ACCESSIBILITY_TITLE,
            description=f"Déclaration d'accessibilité (RGAA) du site d'information de {org.name}.",
            feeds=GLOBAL_FEEDS,
            kind="accessibility",
            organisation_name=org.name,
            facts=access,
            missing=tuple(f.label for f in access if f.value is None),
            recourse=french.DEFENSEUR,
        ),
    )


@dataclass(frozen=True)
class SitePages:
    overview: OverviewPage
    establishments: tuple[EstablishmentPage, ...]
    statements: tuple[StatementPage, ...]
    incidents: tuple[IncidentPage, ...]
    press: ListPage
    history: ListPage
    follow: FollowPage
    legal: LegalPage | None = None
    accessibility: LegalPage | None = None
    directory: EstablishmentsPage | None = None
    months: tuple[MonthPage, ...] = ()  # the history, month by month (newest first)

    def all(self) -> Iterable[Page]:
        yield self.overview
        if self.directory is not None:
            yield self.directory
        yield from self.establishments
        yield from self.statements
        yield from self.incidents
        yield self.press
        yield self.history
        yield from self.months
        yield self.follow
        if self.legal is not None:
            yield self.legal
        if self.accessibility is not None:
            yield self.accessibility


class _Builder:
    """Shares the repository, snapshot and caches while the page values are made."""

    def __init__(self, repository: Repository, snap: Snapshot) -> None:
        self.repository = repository
        self.snap = snap
        self.tz = repository.organisation.tz
        self.by_id = {e.id: e for e in repository.establishments}
        self.withdrawals = {w.statement.id: w for w in snap.withdrawn}
        self._links: dict[str, StatementLink] = {}

    def url(self, path: str) -> str:
        return self.repository.site.url + path

    def statement_link(self, statement: Statement) -> StatementLink:
        link = self._links.get(statement.id)
        if link is None:
            path = statement_path(statement.id)
            withdrawal = self.withdrawals.get(statement.id)
            link = StatementLink(
                id=statement.id,
                title=statement.title,
                summary=statement.summary,
                path=path,
                url=self.url(path),
                date=when(statement.date, self.tz),
                type_label=french.TYPE_LABELS[statement.type],
                is_press=statement.is_press_release,
                changes=()
                if withdrawal is not None  # statuses it no longer sets
                else tuple(
                    ChangeLink(self.by_id[eid], establishment_path(eid), status_label(status))
                    for eid, status in statement.status
                ),
                sets_all=statement.sets_all,
                incident=statement.incident,
                withdrawn=withdrawn(withdrawal, self.tz) if withdrawal is not None else None,
            )
            self._links[statement.id] = link
        return link

    def incident_link(self, incident: Incident) -> IncidentLink:
        return IncidentLink(
            id=incident.id,
            title=incident.title,
            path=incident_path(incident.id),
            active=incident.active,
            started=when(incident.started, self.tz),
            updated=when(incident.updated, self.tz),
            resolved=when(incident.resolved_at, self.tz) if incident.resolved_at else None,
            worst=status_label(incident.worst),
        )

    def redirect_link(self, redirect: Redirect | None) -> RedirectLink | None:
        if redirect is None:
            return None
        text = redirect_text(self.repository, redirect)
        if redirect.establishment is None:
            return RedirectLink(text, None, None, None)
        other = self.by_id[redirect.establishment]
        return RedirectLink(
            text,
            establishment_path(other.id),
            other.phone,
            tel_href(other.phone) if other.phone else None,
        )

    def service_line(self, current: ServiceStatus) -> ServiceLine:
        return ServiceLine(
            current.service.name,
            status_label(current.status),
            when(current.since, self.tz),
            self.redirect_link(current.redirect),
        )

    def maintenance_link(self, maintenance: Maintenance) -> MaintenanceLink:
        state = maintenance.state.value
        return MaintenanceLink(
            maintenance.statement.title,
            statement_path(maintenance.statement.id),
            state,
            french.MAINTENANCE_STATES[state],
            when(maintenance.start, self.tz),
            when(maintenance.end, self.tz),
        )

    def next_update(self, statement: Statement | None) -> str | None:
        """The next point the newest statement of an active incident promises, while ahead."""
        if statement is None or statement.incident is None:
            return None
        incident = next((i for i in self.snap.incidents if i.id == statement.incident), None)
        if incident is None or not incident.active:
            return None
        promised = incident.statements[-1].next_update
        if promised is None or promised < self.snap.now:
            return None
        return french.around(promised, self.tz)

    def card(self, current: EstablishmentStatus) -> EstablishmentCard:
        establishment = current.establishment
        phone = establishment.phone
        concerning = self.snap.concerning.get(establishment.id, ())
        latest = concerning[-1] if concerning else None
        return EstablishmentCard(
            establishment=establishment,
            path=establishment_path(establishment.id),
            status_label=status_label(current.status),
            since=when(current.since, self.tz),
            statement=self.statement_link(current.statement) if current.statement else None,
            phone_href=tel_href(phone) if phone else None,
            services=tuple(self.service_line(s) for s in current.services),
            redirect=self.redirect_link(current.redirect),
            latest=self.statement_link(latest) if latest else None,
            next_update=self.next_update(latest),
            no_call=(
                french.NO_CALL
                if latest is not None and latest.no_call and not _all_normal(current)
                else None
            ),
            maintenances=tuple(
                self.maintenance_link(m)
                for m in self.snap.maintenances
                if m.state is not MaintenanceState.COMPLETED
                and establishment.id in m.establishments
            ),
        )

    def mentions(self, incident: Incident) -> tuple[ThreadMention, ...]:
        """What the thread last said of each establishment it named (see ThreadMention)."""
        status: dict[str, Status] = {}
        services: dict[str, dict[str, Status]] = {}
        point: dict[str, Statement] = {}
        for statement in incident.statements:
            for establishment_id, value in statement.status:
                status[establishment_id] = value
                point[establishment_id] = statement
            for key, value in statement.service_status:
                establishment_id, service_id = key.split("/", 1)
                services.setdefault(establishment_id, {})[service_id] = value
                point[establishment_id] = statement
        mentions = []
        for establishment_id in incident.establishments:
            establishment = self.by_id[establishment_id]
            own = status.get(establishment_id)
            set_apart = services.get(establishment_id, {})
            phone = establishment.phone
            mentions.append(
                ThreadMention(
                    establishment=establishment,
                    path=establishment_path(establishment_id),
                    phone_href=tel_href(phone) if phone else None,
                    status_label=status_label(own) if own is not None else None,
                    services=tuple(
                        (self.repository.service(service_id).name, status_label(value))
                        for service_id in establishment.services
                        if (value := set_apart.get(service_id)) is not None and value is not own
                    ),
                    point=self.statement_link(point[establishment_id]),
                )
            )
        return tuple(mentions)

    def hotline(self, active: bool) -> Hotline | None:
        if not active:
            return None
        phone = self.repository.organisation.hotline
        return Hotline(phone, tel_href(phone) if phone else None, french.EMERGENCY)

    def newest_first(self, statements: Iterable[Statement]) -> tuple[StatementLink, ...]:
        return tuple(self.statement_link(s) for s in reversed(tuple(statements)))


def _all_normal(current: EstablishmentStatus) -> bool:
    return current.status is Status.NORMAL and all(
        s.status is Status.NORMAL for s in current.services
    )


def site_pages(repository: Repository, snap: Snapshot) -> SitePages:
    """Every human page of the site, as values."""
    b = _Builder(repository, snap)
    org = repository.organisation
    cards = {c.establishment.id: b.card(c) for c in snap.current}
    incidents = {i.id: b.incident_link(i) for i in snap.incidents}

    counts = tuple(
        (legend, n)
        for legend in LEGEND
        if (n := sum(1 for c in cards.values() if c.status_label.status is legend.status))
    )
    summary = ", ".join(f"{n} en {shown.label.lower()}" for shown, n in counts)

    overview = OverviewPage(
        path=OVERVIEW,
        title="État des établissements",
        description=f"{org.name} : état de fonctionnement de chaque établissement ({summary}).",
        feeds=GLOBAL_FEEDS,
        organisation_name=org.name,
        regions=tuple(
            RegionGroup(region.name, tuple(cards[m.establishment.id] for m in region.members))
            for region in snap.regions
        ),
        counts=counts,
        at_a_glance=at_a_glance(cards.values()),
        last_update=when(snap.last_update, b.tz) if snap.last_update else None,
        active_incidents=tuple(incidents[i.id] for i in snap.active_incidents),
        recent=b.newest_first(snap.published[-5:]),
        press=org.press,
        legend=LEGEND,
        hotline=b.hotline(bool(snap.active_incidents)),
        next_update=next(
            (
                french.around(i.statements[-1].next_update, b.tz)
                for i in snap.active_incidents
                if i.statements[-1].next_update is not None
                and i.statements[-1].next_update >= snap.now
            ),
            None,
        ),
        maintenances=tuple(
            b.maintenance_link(m)
            for m in snap.maintenances
            if m.state is not MaintenanceState.COMPLETED
        ),
    )

    establishments = tuple(
        EstablishmentPage(
            path=card.path,
            title=card.establishment.name,
            description=(
                f"{card.establishment.name} ({card.establishment.city}) : "
                f"{card.status_label.label.lower()} depuis le {card.since.long}."
            ),
            feeds=GLOBAL_FEEDS + feeds_for(card.establishment.id, card.establishment.name),
            card=card,
            history=b.newest_first(snap.concerning.get(card.establishment.id, ())),
            badge_path=badge_path(card.establishment.id),
            poster=Poster(
                organisation_name=org.name,
                url=b.url(card.path),
                generated=when(snap.now, b.tz),
                timezone=org.timezone,
            ),
            own_feeds=feeds_for(card.establishment.id, card.establishment.name),
            hotline=b.hotline(
                any(card.establishment.id in i.establishments for i in snap.active_incidents)
            ),
            latest_body=latest[-1].body if latest else "",
        )
        for card in cards.values()
        for latest in (snap.concerning.get(card.establishment.id, ()),)
    )

    statements = tuple(
        StatementPage(
            path=link.path,
            title=s.title if link.withdrawn is None else WITHDRAWN_PREFIX + s.title,
            description=(
                s.summary
                if link.withdrawn is None
                else f"{WITHDRAWN_TITLE} : {link.withdrawn.reason}"
            ),
            feeds=GLOBAL_FEEDS,
            link=link,
            body=s.body,
            incident=incidents.get(s.incident) if s.incident else None,
            press=org.press if s.is_press_release else None,
            updated=when(modified, b.tz) if modified > s.date else None,
        )
        for s in snap.issued  # a withdrawn statement keeps its permalink, saying so
        for link in (b.statement_link(s),)
        for modified in (s.last_modified_at(snap.now),)
    )

    incident_pages = tuple(
        IncidentPage(
            path=incidents[i.id].path,
            title=i.title,
            description=f"Suivi de l'incident « {i.title} » : tous les points de situation.",
            feeds=GLOBAL_FEEDS,
            incident=incidents[i.id],
            affected=b.mentions(i),
            thread=b.newest_first(i.statements),
            hotline=b.hotline(i.active),
        )
        for i in snap.incidents
    )

    press = ListPage(
        path=PRESS,
        title="Espace presse",
        description=f"Communiqués de presse de {org.name} et contact presse.",
        feeds=GLOBAL_FEEDS + PRESS_FEEDS,
        # Withdrawn ones too, marked: a journalist who linked one finds it, and why.
        statements=b.newest_first(s for s in snap.issued if s.is_press_release),
        press=org.press,
    )
    by_month: dict[str, list[StatementLink]] = {}
    # Withdrawn ones too, marked « Retiré » (as on the press page)
    for link in b.newest_first(snap.issued):
        by_month.setdefault(link.date.iso[:7], []).append(link)  # local time: AAAA-MM
    month_links = tuple(
        MonthLink(m, french.long_month(m), history_month_path(m), len(links))
        for m, links in by_month.items()
    )
    months = tuple(
        MonthPage(
            path=month.path,
            title=f"Communiqués de {month.label}",
            description=f"Les communiqués et points de situation de {org.name} en {month.label}.",
            feeds=GLOBAL_FEEDS,
            statements=tuple(by_month[month.month]),
            press=None,
            month=month,
            index=HISTORY,
        )
        for month in month_links
    )
    history = HistoryPage(
        path=HISTORY,
        title="Tous les communiqués",
        description=f"Tous les communiqués et points de situation de {org.name}, mois par mois.",
        feeds=GLOBAL_FEEDS,
        statements=months[0].statements if months else (),
        press=None,
        months=month_links,
    )
    follow = FollowPage(
        path=FOLLOW,
        title="Suivre",
        description=f"Suivre {org.name} : flux Atom et RSS, API JSON et badges à intégrer.",
        feeds=GLOBAL_FEEDS + PRESS_FEEDS,
        explanation=FEEDS_EXPLAINED,
        site_url=repository.site.url,
        channels=channels(repository, snap),
        machine=MACHINE_LINKS,
        badges=tuple(
            BadgeLink(
                e,
                badge_path(e.id),
                establishment_path(e.id),
                b.url(badge_path(e.id)),
                b.url(establishment_path(e.id)),
            )
            for e in repository.establishments
        ),
    )
    return SitePages(
        overview,
        establishments,
        statements,
        incident_pages,
        press,
        history,
        follow,
        *legal_pages(repository),
        directory=EstablishmentsPage(
            path=ESTABLISHMENTS,
            title="Établissements",
            description=f"Les établissements de {org.name}, par région, et leur état.",
            feeds=GLOBAL_FEEDS,
            regions=overview.regions,
        ),
        months=months,
    )


# --- status.json records: the objects the JSON outputs and the webhooks share ------------


def redirect_record(repository: Repository, redirect: Redirect | None) -> dict[str, Any] | None:
    if redirect is None:
        return None
    return {
        "establishment": redirect.establishment,
        "text": redirect_text(repository, redirect),
    }


def establishment_record(repository: Repository, current: EstablishmentStatus) -> dict[str, Any]:
    """An establishment as status.json (and the webhooks) carry it: its status at the snapshot."""
    tz = repository.organisation.tz
    return {
        "id": current.establishment.id,
        "name": current.establishment.name,
        "city": current.establishment.city,
        "region": current.establishment.region,
        "status": current.status.value,
        "label": french.STATUS_LABELS[current.status],
        "since": french.iso(current.since, tz),
        "statement": current.statement.id if current.statement else None,
        "services": [
            {
                "id": service.service.id,
                "name": service.service.name,
                "status": service.status.value,
                "label": french.STATUS_LABELS[service.status],
                "since": french.iso(service.since, tz),
                "statement": service.statement.id if service.statement else None,
                "redirect": redirect_record(repository, service.redirect),
            }
            for service in current.services
        ],
        "redirect": redirect_record(repository, current.redirect),
    }


def statement_record(repository: Repository, statement: Statement) -> dict[str, Any]:
    """A statement as status.json (and the webhooks) carry it."""
    tz = repository.organisation.tz
    return {
        "id": statement.id,
        "title": statement.title,
        "date": french.iso(statement.date, tz),
        "type": statement.type.value,
        "incident": statement.incident,
        "status": {eid: status.value for eid, status in statement.status},
        "url": repository.site.url + statement_path(statement.id),
        "summary": statement.summary,
        "concerns": list(statement.concerns),
        "next_update": french.iso(statement.next_update, tz) if statement.next_update else None,
        "start": french.iso(statement.start, tz) if statement.start else None,
        "end": french.iso(statement.end, tz) if statement.end else None,
    }

"""Machine-readable status (CONTRACT §6): Balise's own `status.json` and its JSON Schema, and
the same facts in the shape of the Atlassian Statuspage public API v2 under `api/v2/`.

Built from the model and the snapshot with json.dumps; never by string concatenation.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from importlib import resources
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from balise import french, views
from balise.model import (
    Establishment,
    Incident,
    MaintenanceState,
    Phase,
    Repository,
    Statement,
    Status,
)
from balise.text import slugify
from balise.text.markdown import PURE_RENDERER, BodyRenderer
from balise.timeline import EstablishmentStatus, Maintenance, Snapshot, worst


def dump(document: Any, *, readable: bool = False) -> bytes:
    """Stable JSON: same input, same bytes. Compact, as Statuspage serves it: the data files
    are rewritten by every build and fetched by phones (a quarter smaller than indented);
    `readable` (indented) for documents people read, such as the schema."""
    if readable:
        return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()
    return (json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _organisation(repository: Repository) -> dict[str, Any]:
    org = repository.organisation
    press = org.press
    return {
        "name": org.name,
        "url": org.url,
        "timezone": org.timezone,
        "press": {"name": press.name, "email": press.email, "phone": press.phone}
        if press
        else None,
        "hotline": org.hotline,
    }


def _maintenance(repository: Repository, maintenance: Maintenance) -> dict[str, Any]:
    tz = repository.organisation.tz
    statement = maintenance.statement
    return {
        "id": statement.id,
        "title": statement.title,
        "start": french.iso(maintenance.start, tz),
        "end": french.iso(maintenance.end, tz),
        "state": maintenance.state.value,
        "establishments": list(maintenance.establishments),
        "url": repository.site.url + views.statement_path(statement.id),
    }


def status_document(repository: Repository, snap: Snapshot) -> dict[str, Any]:
    """The `status.json` document."""
    tz = repository.organisation.tz
    document = {
        "generated_at": french.iso(snap.now, tz),
        "organisation": _organisation(repository),
        "establishments": [
            views.establishment_record(repository, current) for current in snap.current
        ],
        "statements": [views.statement_record(repository, s) for s in reversed(snap.published)],
        "maintenances": [_maintenance(repository, m) for m in snap.maintenances],
    }
    if snap.withdrawn:
        # Absent when none is: a reader (or `deploy`) that held one learns it was withdrawn.
        document["withdrawn"] = [
            {
                "id": w.statement.id,
                "title": w.statement.title,
                "url": repository.site.url + views.statement_path(w.statement.id),
                "reason": w.reason,
                "withdrawn_at": french.iso(w.at, tz),
            }
            for w in reversed(snap.withdrawn)
        ]
    return document


def status_schema(repository: Repository) -> dict[str, Any]:
    """The JSON Schema of `status.json`, with its `$id` at this site."""
    source = resources.files("balise.render").joinpath("status.schema.json").read_text("utf-8")
    schema = json.loads(source)
    schema["$id"] = repository.site.url + views.STATUS_SCHEMA
    return schema


# --- Atlassian Statuspage public API v2 ---------------------------------------------------

# Component status (CONTRACT §3 "Statuspage equivalent").
COMPONENT_STATUS = {
    Status.NORMAL: "operational",
    Status.DEGRADED: "degraded_performance",
    Status.DISRUPTED: "partial_outage",
    Status.DOWN: "major_outage",
    Status.MAINTENANCE: "under_maintenance",
}
# Incident and incident update status, from the timeline's phase.
INCIDENT_STATUS = {
    Phase.INVESTIGATING: "investigating",
    Phase.IDENTIFIED: "identified",
    Phase.MONITORING: "monitoring",
    Phase.RESOLVED: "resolved",
}
# Incident impact and page indicator, from the worst status (timeline.worst).
IMPACT = {
    Status.NORMAL: "none",
    Status.MAINTENANCE: "maintenance",
    Status.DEGRADED: "minor",
    Status.DISRUPTED: "major",
    Status.DOWN: "critical",
}
# Scheduled maintenance status, from the window's state at NOW.
MAINTENANCE_STATUS = {
    MaintenanceState.UPCOMING: "scheduled",
    MaintenanceState.ACTIVE: "in_progress",
    MaintenanceState.COMPLETED: "completed",
}
# The bodies of the updates Statuspage writes itself when a window begins and ends.
MAINTENANCE_BODIES = {
    "in_progress": "La maintenance programmée est en cours.",
    "completed": "La maintenance programmée est terminée.",
}
INDICATOR_DESCRIPTION = {
    Status.NORMAL: "Tous les établissements fonctionnent normalement",
    Status.MAINTENANCE: "Maintenance programmée en cours",
    Status.DEGRADED: "Au moins un établissement en mode dégradé",
    Status.DISRUPTED: "Au moins un établissement à l'activité perturbée",
    Status.DOWN: "Au moins un établissement à l'activité interrompue",
}


def statuspage_time(moment: datetime, tz: ZoneInfo) -> str:
    """A time as Statuspage writes it, with milliseconds: 2024-10-06T17:30:00.000+02:00.

    Its clients parse times with `%Y-%m-%dT%H:%M:%S.%f%z`, which refuses a time without them.
    """
    return moment.astimezone(tz).isoformat(timespec="milliseconds")


def _statuspage_id(text: str) -> str:
    """A region's (or the site address's) slug as a Statuspage id, never empty.

    A character with no ASCII form (`’`, `€`) is dropped rather than made a separator, as
    the ids already published were made: a client keeps the ids it has seen.
    """
    folded = unicodedata.normalize("NFKD", text.casefold())
    return slugify("".join(c for c in folded if c.isascii())) or "x"


class _Statuspage:
    """Shares the repository, snapshot and derived times while the documents are made."""

    def __init__(self, repository: Repository, snap: Snapshot, bodies: BodyRenderer) -> None:
        self.repository = repository
        self.snap = snap
        self.plain_text = bodies.plain_text
        self.tz = repository.organisation.tz
        site = urlsplit(repository.site.url)
        self.page_id = _statuspage_id(site.netloc + site.path)
        self.created = snap.published[0].date if snap.published else snap.now
        self.group_ids = self._group_ids()

    def time(self, moment: datetime | None) -> str | None:
        return statuspage_time(moment, self.tz) if moment else None

    def _group_ids(self) -> dict[str, str]:
        """Region name -> component group id, unique beside the establishment ids."""
        taken = {e.id for e in self.repository.establishments}
        ids: dict[str, str] = {}
        for establishment in self.repository.establishments:
            region = establishment.region
            if region and region not in ids:
                candidate, n = f"region-{_statuspage_id(region)}", 1
                while candidate in taken:
                    n += 1
                    candidate = f"region-{_statuspage_id(region)}-{n}"
                taken.add(candidate)
                ids[region] = candidate
        return ids

    def page(self) -> dict[str, Any]:
        return {
            "id": self.page_id,
            "name": self.repository.organisation.name,
            "url": self.repository.site.url,
            "time_zone": self.repository.organisation.timezone,
            "updated_at": self.time(self.snap.last_update or self.snap.now),
        }

    def status(self) -> dict[str, str]:
        overall = worst(current.status for current in self.snap.current)
        return {"indicator": IMPACT[overall], "description": INDICATOR_DESCRIPTION[overall]}

    def _component_base(self, component_id: str, name: str) -> dict[str, Any]:
        return {
            "id": component_id,
            "name": name,
            "status": "operational",
            "created_at": self.time(self.created),
            "updated_at": self.time(self.created),
            "position": 0,
            "description": None,
            "showcase": True,
            "start_date": None,
            "group_id": None,
            "page_id": self.page_id,
            "group": False,
            "only_show_if_degraded": False,
        }

    def component(self, current: EstablishmentStatus, position: int) -> dict[str, Any]:
        establishment = current.establishment
        component = self._component_base(establishment.id, establishment.name)
        changed = current.statement.date if current.statement else self.created
        component.update(
            status=COMPONENT_STATUS[current.status],
            updated_at=self.time(changed),
            position=position,
            description=_description(establishment),
            group_id=self.group_ids.get(establishment.region or ""),
        )
        return component

    def components(self) -> list[dict[str, Any]]:
        """Groups (regions) and their establishments in display order, positions from 1."""
        found: list[dict[str, Any]] = []
        for region in self.snap.regions:
            members = region.members
            if region.name:
                group = self._component_base(self.group_ids[region.name], region.name)
                changed = [m.statement.date for m in members if m.statement]
                group.update(
                    status=COMPONENT_STATUS[region.status],
                    updated_at=self.time(max(changed, default=self.created)),
                    position=len(found) + 1,
                    showcase=False,
                    group=True,
                    components=[m.establishment.id for m in members],
                )
                found.append(group)
            for member in members:
                found.append(self.component(member, len(found) + 1))
        return found

    def incident(self, incident: Incident, components: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """One incident; `components` are the establishment components by id."""
        repository = self.repository
        updates = [
            self._update(incident, statement, phase)
            for statement, phase in zip(incident.statements, incident.phases, strict=True)
        ]
        updated = max(s.last_modified_at(self.snap.now) for s in incident.statements)
        return {
            "id": incident.id,
            "name": incident.title,
            "status": INCIDENT_STATUS[incident.phase],
            "created_at": self.time(incident.started),
            "updated_at": self.time(updated),
            "monitoring_at": self.time(incident.monitoring_at),
            "resolved_at": self.time(incident.resolved_at),
            "impact": IMPACT[incident.worst],
            "shortlink": repository.site.url + views.incident_path(incident.id),
            "started_at": self.time(incident.started),
            "page_id": self.page_id,
            "incident_updates": updates[::-1],  # newest first, as Statuspage lists them
            "components": [components[eid] for eid in incident.establishments],
        }

    def _update(self, incident: Incident, statement: Statement, phase: Phase) -> dict[str, Any]:
        affected = [
            {
                "code": change.establishment_id,
                "name": self.repository.establishment(change.establishment_id).name,
                "old_status": COMPONENT_STATUS[change.before],
                "new_status": COMPONENT_STATUS[change.after],
            }
            for change in self.snap.changes[statement.id]
        ]
        text = self.plain_text(statement.body)
        return {
            "id": statement.id,
            "status": INCIDENT_STATUS[phase],
            "body": f"{statement.title}\n\n{text}" if text else statement.title,
            "incident_id": incident.id,
            "created_at": self.time(statement.date),
            "updated_at": self.time(statement.last_modified_at(self.snap.now)),
            "display_at": self.time(statement.date),
            "affected_components": affected or None,
            "deliver_notifications": True,
            "custom_tweet": None,  # Statuspage's own tweets: Balise posts by itself
            "tweet_id": None,
        }

    def maintenance(
        self, maintenance: Maintenance, components: dict[str, dict[str, Any]]
    ) -> dict[str, Any]:
        """One scheduled maintenance; `components` are the establishment components by id."""
        statement = maintenance.statement
        state = maintenance.state
        text = self.plain_text(statement.body)
        announced = self.time(statement.date)
        updates = [
            self._maintenance_update(
                maintenance,
                statement.id,
                "scheduled",
                f"{statement.title}\n\n{text}" if text else statement.title,
                statement.date,
                statement.last_modified_at(self.snap.now),
            )
        ]
        if state is not MaintenanceState.UPCOMING:
            updates.append(
                self._maintenance_update(
                    maintenance,
                    f"{statement.id}-in-progress",
                    "in_progress",
                    MAINTENANCE_BODIES["in_progress"],
                    maintenance.start,
                    maintenance.start,
                )
            )
        if state is MaintenanceState.COMPLETED:
            updates.append(
                self._maintenance_update(
                    maintenance,
                    f"{statement.id}-completed",
                    "completed",
                    MAINTENANCE_BODIES["completed"],
                    maintenance.end,
                    maintenance.end,
                )
            )
        changed = [statement.last_modified_at(self.snap.now)]
        changed += [maintenance.start] if state is not MaintenanceState.UPCOMING else []
        changed += [maintenance.end] if state is MaintenanceState.COMPLETED else []
        return {
            "id": statement.id,
            "name": statement.title,
            "status": MAINTENANCE_STATUS[state],
            "created_at": announced,
            "updated_at": self.time(max(changed)),
            "monitoring_at": None,
            "resolved_at": self.time(maintenance.end)
            if state is MaintenanceState.COMPLETED
            else None,
            "impact": "maintenance",
            "shortlink": self.repository.site.url + views.statement_path(statement.id),
            "started_at": self.time(maintenance.start),
            "page_id": self.page_id,
            "incident_updates": updates[::-1],  # newest first
            "components": [components[eid] for eid in maintenance.establishments],
            "scheduled_for": self.time(maintenance.start),
            "scheduled_until": self.time(maintenance.end),
        }

    def _maintenance_update(
        self,
        maintenance: Maintenance,
        update_id: str,
        status: str,
        body: str,
        shown: datetime,
        updated: datetime,
    ) -> dict[str, Any]:
        return {
            "id": update_id,
            "status": status,
            "body": body,
            "incident_id": maintenance.statement.id,
            "created_at": self.time(shown),
            "updated_at": self.time(updated),
            "display_at": self.time(shown),
            "affected_components": None,
            "deliver_notifications": True,
            "custom_tweet": None,
            "tweet_id": None,
        }


def _description(establishment: Establishment) -> str:
    return ", ".join(part for part in (establishment.city, establishment.region) if part)


# The endpoints statuspage_documents makes (the tests check both say the same).
STATUSPAGE_ENDPOINTS = (
    views.STATUSPAGE_SUMMARY,
    views.STATUSPAGE_STATUS,
    views.STATUSPAGE_COMPONENTS,
    views.STATUSPAGE_INCIDENTS,
    views.STATUSPAGE_UNRESOLVED,
    views.STATUSPAGE_MAINTENANCES,
    views.STATUSPAGE_UPCOMING,
    views.STATUSPAGE_ACTIVE,
)
INCIDENTS_LISTED = 50  # Statuspage's incidents.json: "the 50 most recent incidents"


def statuspage_documents(
    repository: Repository, snap: Snapshot, bodies: BodyRenderer = PURE_RENDERER
) -> dict[str, dict[str, Any]]:
    """`{api/v2/...json: document}`: the Statuspage public API v2 endpoints Balise serves."""
    sp = _Statuspage(repository, snap, bodies)
    page, status, components = sp.page(), sp.status(), sp.components()
    by_id = {c["id"]: c for c in components if not c["group"]}
    # As Statuspage: the most recent incidents, every unresolved one among them (listed first).
    active = len(snap.active_incidents)
    listed = snap.incidents[: max(INCIDENTS_LISTED, active)]
    incidents = [sp.incident(incident, by_id) for incident in listed]
    unresolved = incidents[:active]
    # Maintenances: by start; the list of all, as Statuspage, the 50 most recent, newest first.
    windows = {m.statement.id: sp.maintenance(m, by_id) for m in snap.maintenances}
    upcoming = [
        windows[m.statement.id] for m in snap.maintenances if m.state is MaintenanceState.UPCOMING
    ]
    in_progress = [
        windows[m.statement.id] for m in snap.maintenances if m.state is MaintenanceState.ACTIVE
    ]
    recent = [windows[m.statement.id] for m in reversed(snap.maintenances)][:INCIDENTS_LISTED]
    return {
        views.STATUSPAGE_SUMMARY: {
            "page": page,
            "components": components,
            "incidents": unresolved,
            "scheduled_maintenances": in_progress + upcoming,
            "status": status,
        },
        views.STATUSPAGE_STATUS: {"page": page, "status": status},
        views.STATUSPAGE_COMPONENTS: {"page": page, "components": components},
        views.STATUSPAGE_INCIDENTS: {"page": page, "incidents": incidents},
        views.STATUSPAGE_UNRESOLVED: {"page": page, "incidents": unresolved},
        views.STATUSPAGE_MAINTENANCES: {"page": page, "scheduled_maintenances": recent},
        views.STATUSPAGE_UPCOMING: {"page": page, "scheduled_maintenances": upcoming},
        views.STATUSPAGE_ACTIVE: {"page": page, "scheduled_maintenances": in_progress},
    }


def render_api(
    repository: Repository, snap: Snapshot, bodies: BodyRenderer = PURE_RENDERER
) -> Mapping[str, bytes]:
    """`{output path: bytes}` for the machine-readable files: each document is made and
    dumped when its file is written, so one file's text is in memory at a time, not all."""
    statuspage: dict[str, dict[str, Any]] = {}
    dumped: set[str] = set()

    def statuspage_file(path: str) -> bytes:
        if not statuspage or path in dumped:  # the endpoints share parts: made together
            statuspage.update(statuspage_documents(repository, snap, bodies))
            dumped.clear()
        data = dump(statuspage[path])
        dumped.add(path)
        if dumped == set(statuspage):
            statuspage.clear()  # all written: what they share need not outlive them
        return data

    made: dict[str, Callable[[], bytes]] = {
        views.STATUS_JSON: lambda: dump(status_document(repository, snap)),
        views.STATUS_SCHEMA: lambda: dump(status_schema(repository), readable=True),
    }
    for path in STATUSPAGE_ENDPOINTS:
        made[path] = lambda path=path: statuspage_file(path)
    return _Made(made)


class _Made(Mapping[str, bytes]):
    """Files whose bytes are made when read."""

    def __init__(self, made: Mapping[str, Callable[[], bytes]]) -> None:
        self._made = made

    def __getitem__(self, path: str) -> bytes:
        return self._made[path]()

    def __iter__(self) -> Iterator[str]:
        return iter(self._made)

    def __len__(self) -> int:
        return len(self._made)

"""Machine-readable status (CONTRACT §6): Balise's own `status.json` and its JSON Schema, and
the same facts in the shape of the Atlassian Statuspage public API v2 under `api/v2/`.

Built from the model and the snapshot with json.dumps; never by string concatenation.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import datetime
from importlib import resources
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from balise import french, views
from balise.model import Establishment, Incident, Repository, Statement, Status
from balise.render.markup import plain_text
from balise.timeline import EstablishmentStatus, Snapshot


def dump(document: Any) -> bytes:
    """Stable, readable JSON: same input, same bytes."""
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()


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
    }


def _statement(repository: Repository, statement: Statement) -> dict[str, Any]:
    tz = repository.organisation.tz
    return {
        "id": statement.id,
        "title": statement.title,
        "date": french.iso(statement.date, tz),
        "type": statement.type.value,
        "incident": statement.incident,
        "status": {eid: status.value for eid, status in statement.status},
        "url": repository.site.url + views.statement_path(statement.id),
        "summary": statement.summary,
    }


def status_document(repository: Repository, snap: Snapshot) -> dict[str, Any]:
    """The `status.json` document."""
    tz = repository.organisation.tz
    return {
        "generated_at": french.iso(snap.now, tz),
        "organisation": _organisation(repository),
        "establishments": [
            {
                "id": current.establishment.id,
                "name": current.establishment.name,
                "city": current.establishment.city,
                "region": current.establishment.region,
                "status": current.status.value,
                "label": current.status.label,
                "since": french.iso(current.since, tz),
                "statement": current.statement.id if current.statement else None,
            }
            for current in snap.current
        ],
        "statements": [_statement(repository, s) for s in reversed(snap.published)],
    }


def status_schema(repository: Repository) -> dict[str, Any]:
    """The JSON Schema of `status.json`, with its `$id` at this site."""
    source = resources.files("balise.render").joinpath("status.schema.json").read_text("utf-8")
    schema = json.loads(source)
    schema["$id"] = repository.site.url + views.STATUS_SCHEMA
    return schema


# --- Atlassian Statuspage public API v2 ---------------------------------------------------

# Incident impact and page indicator, from the worst status (CONTRACT §3 order of severity).
IMPACT = {
    Status.NORMAL: "none",
    Status.MAINTENANCE: "maintenance",
    Status.DEGRADED: "minor",
    Status.DISRUPTED: "major",
    Status.DOWN: "critical",
}
INDICATOR_DESCRIPTION = {
    Status.NORMAL: "Tous les établissements fonctionnent normalement",
    Status.MAINTENANCE: "Maintenance programmée en cours",
    Status.DEGRADED: "Au moins un établissement en mode dégradé",
    Status.DISRUPTED: "Au moins un établissement à l'activité perturbée",
    Status.DOWN: "Au moins un établissement à l'activité interrompue",
}


def worst(statuses: list[Status]) -> Status:
    """The most severe status; maintenance beats normal (it says more), NORMAL when empty."""
    return max(
        statuses,
        key=lambda status: (status.severity, status is not Status.NORMAL),
        default=Status.NORMAL,
    )


def statuspage_time(moment: datetime, tz: ZoneInfo) -> str:
    """A time as Statuspage writes it, with milliseconds: 2024-10-06T17:30:00.000+02:00.

    Its clients parse times with `%Y-%m-%dT%H:%M:%S.%f%z`, which refuses a time without them.
    """
    return moment.astimezone(tz).isoformat(timespec="milliseconds")


def _slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(c if c.isascii() and c.isalnum() else "-" for c in folded if c.isascii())
    return "-".join(part for part in kept.split("-") if part) or "x"


class _Statuspage:
    """Shares the repository, snapshot and derived times while the documents are made."""

    def __init__(self, repository: Repository, snap: Snapshot) -> None:
        self.repository = repository
        self.snap = snap
        self.tz = repository.organisation.tz
        site = urlsplit(repository.site.url)
        self.page_id = _slug(site.netloc + site.path)
        self.created = snap.published[0].date if snap.published else snap.now
        self.group_ids = self._group_ids()
        # (establishment id, statement id) -> the status it had before that statement
        self.before: dict[tuple[str, str], Status] = {}
        for establishment_id, naming in snap.history.items():
            previous = Status.NORMAL
            for statement in naming:
                self.before[(establishment_id, statement.id)] = previous
                previous = statement.status_map[establishment_id]

    def time(self, moment: datetime | None) -> str | None:
        return statuspage_time(moment, self.tz) if moment else None

    def _group_ids(self) -> dict[str, str]:
        """Region name -> component group id, unique beside the establishment ids."""
        taken = {e.id for e in self.repository.establishments}
        ids: dict[str, str] = {}
        for establishment in self.repository.establishments:
            region = establishment.region
            if region and region not in ids:
                candidate, n = f"region-{_slug(region)}", 1
                while candidate in taken:
                    n += 1
                    candidate = f"region-{_slug(region)}-{n}"
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
        overall = worst([current.status for current in self.snap.current])
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
            status=current.status.statuspage,
            updated_at=self.time(changed),
            position=position,
            description=_description(establishment),
            group_id=self.group_ids.get(establishment.region or ""),
        )
        return component

    def components(self) -> list[dict[str, Any]]:
        """Groups (regions) and their establishments in display order, positions from 1."""
        by_region: dict[str, list[EstablishmentStatus]] = {}
        for current in self.snap.current:
            by_region.setdefault(current.establishment.region or "", []).append(current)
        found: list[dict[str, Any]] = []
        for region, members in by_region.items():
            if region:
                group = self._component_base(self.group_ids[region], region)
                changed = [m.statement.date for m in members if m.statement]
                group.update(
                    status=worst([m.status for m in members]).statuspage,
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

    def _update_statuses(self, incident: Incident) -> list[str]:
        """The Statuspage status after each statement of the thread, oldest first."""
        latest: dict[str, Status] = {}
        statuses: list[str] = []
        for statement in incident.statements:
            latest.update(statement.status)
            if not latest:
                status = "investigating"  # the thread has not named anyone yet
            elif all(s is Status.NORMAL for s in latest.values()):
                status = "resolved"
            elif not statement.status:
                status = statuses[-1]  # information only: nothing changed
            elif self._improves(statement):
                status = "monitoring"
            else:
                status = "identified"
            statuses.append(status)
        if incident.resolved_at is not None:
            statuses[-1] = "resolved"  # an informational thread ends resolved too
        return statuses

    def _improves(self, statement: Statement) -> bool:
        """Lowers the status of at least one establishment it names, and raises none."""
        changes = [
            (self.before[(eid, statement.id)].severity, status.severity)
            for eid, status in statement.status
        ]
        return any(new < old for old, new in changes) and all(new <= old for old, new in changes)

    def incident(self, incident: Incident, components: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """One incident; `components` are the establishment components by id."""
        repository = self.repository
        statuses = self._update_statuses(incident)
        updates = []
        monitoring_at: datetime | None = None
        for statement, status in zip(incident.statements, statuses, strict=True):
            if status in ("investigating", "identified"):
                monitoring_at = None
            elif status == "monitoring" and monitoring_at is None:
                monitoring_at = statement.date
            updates.append(self._update(incident, statement, status))
        updated = max(s.last_modified_at(self.snap.now) for s in incident.statements)
        return {
            "id": incident.id,
            "name": incident.title,
            "status": statuses[-1],
            "created_at": self.time(incident.started),
            "updated_at": self.time(updated),
            "monitoring_at": self.time(monitoring_at),
            "resolved_at": self.time(incident.resolved_at),
            "impact": IMPACT[incident.worst],
            "shortlink": repository.site.url + views.incident_path(incident.id),
            "started_at": self.time(incident.started),
            "page_id": self.page_id,
            "incident_updates": updates[::-1],  # newest first, as Statuspage lists them
            "components": [components[eid] for eid in incident.establishments],
        }

    def _update(self, incident: Incident, statement: Statement, status: str) -> dict[str, Any]:
        affected = [
            {
                "code": eid,
                "name": self.repository.establishment(eid).name,
                "old_status": self.before[(eid, statement.id)].statuspage,
                "new_status": new.statuspage,
            }
            for eid, new in statement.status
        ]
        text = plain_text(statement.body)
        return {
            "id": statement.id,
            "status": status,
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


def _description(establishment: Establishment) -> str:
    return ", ".join(part for part in (establishment.city, establishment.region) if part)


INCIDENTS_LISTED = 50  # Statuspage's incidents.json: "the 50 most recent incidents"


def statuspage_documents(repository: Repository, snap: Snapshot) -> dict[str, dict[str, Any]]:
    """`{api/v2/...json: document}`: the Statuspage public API v2 endpoints Balise serves."""
    sp = _Statuspage(repository, snap)
    page, status, components = sp.page(), sp.status(), sp.components()
    by_id = {c["id"]: c for c in components if not c["group"]}
    # As Statuspage: the most recent incidents, every unresolved one among them (listed first).
    active = len(snap.active_incidents)
    listed = snap.incidents[: max(INCIDENTS_LISTED, active)]
    incidents = [sp.incident(incident, by_id) for incident in listed]
    unresolved = incidents[:active]
    return {
        views.STATUSPAGE_SUMMARY: {
            "page": page,
            "components": components,
            "incidents": unresolved,
            "scheduled_maintenances": [],
            "status": status,
        },
        views.STATUSPAGE_STATUS: {"page": page, "status": status},
        views.STATUSPAGE_COMPONENTS: {"page": page, "components": components},
        views.STATUSPAGE_INCIDENTS: {"page": page, "incidents": incidents},
        views.STATUSPAGE_UNRESOLVED: {"page": page, "incidents": unresolved},
    }


def render_api(repository: Repository, snap: Snapshot) -> dict[str, bytes]:
    """`{output path: bytes}` for the machine-readable files."""
    documents: dict[str, Any] = {
        views.STATUS_JSON: status_document(repository, snap),
        views.STATUS_SCHEMA: status_schema(repository),
        **statuspage_documents(repository, snap),
    }
    return {path: dump(document) for path, document in documents.items()}

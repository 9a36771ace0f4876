"""CONTRACT §9 in the outputs: status.json and its schema, the Statuspage scheduled
maintenances, feeds/maintenance.ics, the feeds and the establishment pages, from
tests/data/patients (services, redirects, concerns, next update, two maintenance windows)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import feedparser
import icalendar
import jsonschema
import pytest
from bs4 import BeautifulSoup
from conftest import DATA

from balise.build import build
from balise.load import load_repository
from balise.model import Repository
from balise.render.api import status_document, status_schema, statuspage_documents
from balise.render.calendar import render_calendar
from balise.render.feeds import render_feeds
from balise.timeline import snapshot
from balise.validate import validate_repository

REPO = DATA / "patients"
SITE = "https://status.example.org/test/"
NOW = datetime.fromisoformat("2024-10-09T23:00:00+02:00")  # gamma in maintenance


@pytest.fixture(scope="module")
def repository() -> Repository:
    validated = validate_repository(load_repository(REPO))
    assert validated.repository is not None, validated.problems
    return validated.repository


def document(repository: Repository, now: datetime = NOW) -> dict:
    return json.loads(json.dumps(status_document(repository, snapshot(repository, now))))


# --- status.json --------------------------------------------------------------------------


def test_status_json_follows_its_schema(repository: Repository) -> None:
    schema = status_schema(repository)
    jsonschema.Draft202012Validator.check_schema(schema)
    for now in ("2024-10-07T21:00:00+02:00", NOW.isoformat(), "2024-10-11T00:00:00+02:00"):
        jsonschema.validate(document(repository, datetime.fromisoformat(now)), schema)


def test_status_json_organisation_has_the_hotline(repository: Repository) -> None:
    assert document(repository)["organisation"]["hotline"] == "+33 2 00 00 00 99"


def test_status_json_services_and_redirects(repository: Repository) -> None:
    alpha, beta, gamma = document(repository)["establishments"]
    assert (alpha["status"], alpha["statement"]) == ("down", "01-attaque")
    assert alpha["redirect"] == {"establishment": "beta", "text": "Clinique Beta, Nantes"}
    assert alpha["services"] == [
        {
            "id": "urgences",
            "name": "Urgences",
            "status": "disrupted",
            "label": "Activité perturbée",
            "since": "2024-10-08T07:30:00+02:00",
            "statement": "01-attaque",
            "redirect": {
                "establishment": None,
                "text": "CHU de Rennes, 2 rue Henri Le Guilloux, 02 99 28 43 21",
            },
        },
        {
            "id": "chirurgie",
            "name": "Chirurgie programmée",
            "status": "down",
            "label": "Activité interrompue",
            "since": "2024-10-08T07:30:00+02:00",  # down with alpha, then restated
            "statement": "02-chirurgie",
            "redirect": None,
        },
    ]
    # Beta's window is over: back to what it was before it, since its end.
    assert (beta["status"], beta["since"], beta["redirect"]) == (
        "normal",
        "2024-10-07T22:00:00+02:00",
        None,
    )
    assert [s["status"] for s in beta["services"]] == ["normal"]
    assert (gamma["status"], gamma["since"], gamma["services"]) == (
        "maintenance",
        "2024-10-09T22:00:00+02:00",
        [],
    )


def test_status_json_statements_and_maintenances(repository: Repository) -> None:
    found = document(repository)
    statements = {s["id"]: s for s in found["statements"]}
    assert statements["01-attaque"]["next_update"] == "2024-10-08T18:00:00+02:00"
    assert statements["01-attaque"]["status"] == {"alpha": "down"}
    assert statements["02-chirurgie"]["concerns"] == ["gamma"]
    assert statements["02-chirurgie"]["status"] == {}
    assert (
        statements["03-maintenance-gamma"]["start"],
        statements["03-maintenance-gamma"]["end"],
    ) == (
        "2024-10-09T22:00:00+02:00",
        "2024-10-10T02:00:00+02:00",
    )
    assert statements["01-attaque"]["start"] is None
    assert found["maintenances"] == [
        {
            "id": "04-maintenance-beta",
            "title": "Maintenance de l'imagerie à Beta",
            "start": "2024-10-07T20:00:00+02:00",
            "end": "2024-10-07T22:00:00+02:00",
            "state": "completed",
            "establishments": ["beta"],
            "url": SITE + "communiques/04-maintenance-beta.html",
        },
        {
            "id": "03-maintenance-gamma",
            "title": "Maintenance du réseau à Gamma",
            "start": "2024-10-09T22:00:00+02:00",
            "end": "2024-10-10T02:00:00+02:00",
            "state": "active",
            "establishments": ["gamma"],
            "url": SITE + "communiques/03-maintenance-gamma.html",
        },
    ]


def test_maintenance_states_follow_now(repository: Repository) -> None:
    def states(now: str) -> list[str]:
        return [
            m["state"] for m in document(repository, datetime.fromisoformat(now))["maintenances"]
        ]

    assert states("2024-10-08T10:00:00+02:00") == ["completed", "upcoming"]
    assert states("2024-10-10T02:00:00+02:00") == ["completed", "completed"]


# --- Statuspage ---------------------------------------------------------------------------

MAINTENANCE_FIELDS = {
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "monitoring_at",
    "resolved_at",
    "impact",
    "shortlink",
    "started_at",
    "page_id",
    "incident_updates",
    "components",
    "scheduled_for",
    "scheduled_until",
}
MILLISECONDS = "%Y-%m-%dT%H:%M:%S.%f%z"


def statuspage(repository: Repository, now: str) -> dict:
    return statuspage_documents(repository, snapshot(repository, datetime.fromisoformat(now)))


def test_scheduled_maintenances_in_the_statuspage_shape(repository: Repository) -> None:
    documents = statuspage(repository, "2024-10-08T10:00:00+02:00")
    every = documents["api/v2/scheduled-maintenances.json"]["scheduled_maintenances"]
    assert [(m["id"], m["status"]) for m in every] == [
        ("03-maintenance-gamma", "scheduled"),
        ("04-maintenance-beta", "completed"),
    ]
    for maintenance in every:
        assert set(maintenance) == MAINTENANCE_FIELDS
        assert maintenance["impact"] == "maintenance"
        for key in ("created_at", "updated_at", "scheduled_for", "scheduled_until"):
            datetime.strptime(maintenance[key], MILLISECONDS)
    gamma, beta = every
    assert gamma["scheduled_for"] == "2024-10-09T22:00:00.000+02:00"
    assert gamma["scheduled_until"] == "2024-10-10T02:00:00.000+02:00"
    assert gamma["shortlink"] == SITE + "communiques/03-maintenance-gamma.html"
    assert [c["id"] for c in gamma["components"]] == ["gamma"]
    assert [u["status"] for u in gamma["incident_updates"]] == ["scheduled"]
    assert [u["status"] for u in beta["incident_updates"]] == [
        "completed",
        "in_progress",
        "scheduled",
    ]
    assert beta["resolved_at"] == "2024-10-07T22:00:00.000+02:00"
    upcoming = documents["api/v2/scheduled-maintenances/upcoming.json"]
    assert [m["id"] for m in upcoming["scheduled_maintenances"]] == ["03-maintenance-gamma"]
    assert documents["api/v2/scheduled-maintenances/active.json"]["scheduled_maintenances"] == []
    summary = documents["api/v2/summary.json"]["scheduled_maintenances"]
    assert [m["id"] for m in summary] == ["03-maintenance-gamma"]


def test_active_maintenance_is_in_progress_and_in_the_summary(repository: Repository) -> None:
    documents = statuspage(repository, NOW.isoformat())
    active = documents["api/v2/scheduled-maintenances/active.json"]["scheduled_maintenances"]
    assert [(m["id"], m["status"]) for m in active] == [("03-maintenance-gamma", "in_progress")]
    assert documents["api/v2/scheduled-maintenances/upcoming.json"]["scheduled_maintenances"] == []
    summary = documents["api/v2/summary.json"]
    assert [m["id"] for m in summary["scheduled_maintenances"]] == ["03-maintenance-gamma"]
    # Services stay out of the Statuspage API: components are establishments and regions.
    assert {c["id"] for c in summary["components"]} == {"region-bretagne", "alpha", "beta", "gamma"}


# --- feeds/maintenance.ics ----------------------------------------------------------------


def test_maintenance_calendar_has_one_event_per_window(repository: Repository) -> None:
    files = render_calendar(repository, snapshot(repository, NOW))
    calendar = icalendar.Calendar.from_ical(files["feeds/maintenance.ics"])
    events = calendar.walk("VEVENT")
    assert [str(e["uid"]) for e in events] == [
        "04-maintenance-beta@status.example.org",
        "03-maintenance-gamma@status.example.org",
    ]
    gamma = events[1]
    assert gamma.decoded("dtstart") == datetime.fromisoformat("2024-10-09T22:00:00+02:00")
    assert gamma.decoded("dtend") == datetime.fromisoformat("2024-10-10T02:00:00+02:00")
    assert str(gamma["summary"]) == "Maintenance du réseau à Gamma"
    assert str(gamma["url"]) == SITE + "communiques/03-maintenance-gamma.html"
    assert gamma.decoded("dtstamp") == datetime.fromisoformat("2024-10-08T09:00:00+02:00")


def test_maintenance_calendar_bytes_depend_on_the_data_only(repository: Repository) -> None:
    one = render_calendar(repository, snapshot(repository, NOW))
    later = render_calendar(
        repository, snapshot(repository, datetime.fromisoformat("2025-01-01T00:00:00+01:00"))
    )
    assert one == later


# --- feeds --------------------------------------------------------------------------------


def test_feeds_hold_statements_naming_a_service_or_concerning_the_establishment(
    repository: Repository,
) -> None:
    feeds = render_feeds(repository, snapshot(repository, NOW))

    def ids(name: str) -> list[str]:
        parsed = feedparser.parse(feeds[f"feeds/{name}.atom"])
        return [e.link.rsplit("/", 1)[-1].removesuffix(".html") for e in parsed.entries]

    assert ids("alpha") == ["02-chirurgie", "01-attaque"]
    assert ids("gamma") == ["02-chirurgie", "03-maintenance-gamma"]
    assert ids("beta") == ["04-maintenance-beta"]
    entry = feedparser.parse(feeds["feeds/all.atom"]).entries[0]  # 02-chirurgie
    terms = [(t.term, t.scheme) for t in entry.tags]
    assert ("alpha", SITE + "etablissements/") in terms
    assert ("gamma", SITE + "etablissements/") in terms
    assert ("chirurgie", SITE + "services/") in terms


# --- the whole build ----------------------------------------------------------------------


def test_build_writes_the_new_files_and_lists_concerning_statements(tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = build(REPO, out, NOW, cache=tmp_path / "cache")
    assert not result.errors, result.problems
    for path in (
        "feeds/maintenance.ics",
        "api/v2/scheduled-maintenances.json",
        "api/v2/scheduled-maintenances/upcoming.json",
        "api/v2/scheduled-maintenances/active.json",
    ):
        assert (out / path).is_file(), path
    page = BeautifulSoup((out / "etablissements/gamma.html").read_text(), "html.parser")
    history = page.select_one(".balise-history")
    links = [a["href"] for a in history.select(".balise-statement-title a")]
    assert links == ["../communiques/02-chirurgie.html", "../communiques/03-maintenance-gamma.html"]
    status = json.loads((out / "status.json").read_text())
    jsonschema.validate(status, json.loads((out / "schema/status.json").read_text()))

"""status.json against its published schema, and the Statuspage-shaped api/v2 of the tiny site."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import DATA, TINY_NOW

from balise.build import build, check
from balise.model import Establishment, Organisation, Repository, Site, Statement, Status
from balise.render.api import COMPONENT_STATUS, statuspage_documents
from balise.timeline import snapshot

SITE = "https://status.example.org/test/"

# The Atlassian Statuspage public API v2 field sets (what aggregators read).
PAGE_FIELDS = {"id", "name", "url", "time_zone", "updated_at"}
STATUS_FIELDS = {"indicator", "description"}
COMPONENT_FIELDS = {
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "position",
    "description",
    "showcase",
    "start_date",
    "group_id",
    "page_id",
    "group",
    "only_show_if_degraded",
}
GROUP_FIELDS = COMPONENT_FIELDS | {"components"}
INCIDENT_FIELDS = {
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
}
UPDATE_FIELDS = {
    "id",
    "status",
    "body",
    "incident_id",
    "created_at",
    "updated_at",
    "display_at",
    "affected_components",
    "deliver_notifications",
    "custom_tweet",
    "tweet_id",
}
AFFECTED_FIELDS = {"code", "name", "old_status", "new_status"}
COMPONENT_STATUSES = {
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
}
INCIDENT_STATUSES = {"investigating", "identified", "monitoring", "resolved", "postmortem"}
IMPACTS = {"none", "minor", "major", "critical", "maintenance"}
ENDPOINTS = {
    "api/v2/summary.json": {"page", "components", "incidents", "scheduled_maintenances", "status"},
    "api/v2/status.json": {"page", "status"},
    "api/v2/components.json": {"page", "components"},
    "api/v2/incidents.json": {"page", "incidents"},
    "api/v2/incidents/unresolved.json": {"page", "incidents"},
}
WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}$")
# How Statuspage clients parse its times (real pages always write milliseconds).
STATUSPAGE_TIME = "%Y-%m-%dT%H:%M:%S.%f%z"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("api")
    shutil.copytree(DATA / "tiny", base / "repo")
    out = base / "site"
    outcome = build(base / "repo", out, TINY_NOW)
    assert outcome.ok, outcome.problems
    return out


def load(site: Path, path: str) -> Any:
    return json.loads((site / path).read_text(encoding="utf-8"))


def validator(site: Path) -> jsonschema.Draft202012Validator:
    schema = load(site, "schema/status.json")
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


# --- status.json and its schema ------------------------------------------------------------


def test_status_json_is_valid_against_the_published_schema(site: Path) -> None:
    schema = load(site, "schema/status.json")
    assert schema["$id"] == SITE + "schema/status.json"
    validator(site).validate(load(site, "status.json"))


@pytest.mark.parametrize(
    "break_it",
    [
        lambda d: d["establishments"][0].update(status="broken"),
        lambda d: d["establishments"][0].update(since="2024-10-05T08:00:00"),  # no offset
        lambda d: d["statements"][0].update(type="tweet"),
        lambda d: d["statements"][0].pop("summary"),
        lambda d: d.update(extra=1),
        lambda d: d["statements"][0]["status"].update(alpha="dégradé"),
    ],
)
def test_the_schema_rejects_what_the_contract_forbids(site: Path, break_it) -> None:
    document = load(site, "status.json")
    break_it(document)
    assert list(validator(site).iter_errors(document))


def test_status_json_keeps_tricky_text_exactly(site: Path) -> None:
    data = load(site, "status.json")
    beta = next(e for e in data["establishments"] if e["id"] == "beta")
    assert beta["name"] == 'Clinique <Beta> & "Co"'
    point = next(s for s in data["statements"] if s["id"] == "2024-10-06-point")
    assert point["title"] == 'Point <urgent> & "essentiel" : *pas* de markdown'
    assert point["summary"] == "Résumé avec <script>alert(1)</script> & des *étoiles*"


# --- Statuspage shape ----------------------------------------------------------------------


def walk(node: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, k)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item, key)
    else:
        yield key, node


@pytest.mark.parametrize(("path", "keys"), ENDPOINTS.items())
def test_every_endpoint_has_the_statuspage_field_set(site: Path, path: str, keys: set) -> None:
    document = load(site, path)
    assert set(document) == keys
    assert set(document["page"]) == PAGE_FIELDS
    if "status" in document:
        assert set(document["status"]) == STATUS_FIELDS
        assert document["status"]["indicator"] in IMPACTS
    for component in document.get("components", []):
        assert set(component) == (GROUP_FIELDS if component["group"] else COMPONENT_FIELDS)
        assert component["status"] in COMPONENT_STATUSES
    for incident in document.get("incidents", []):
        assert set(incident) == INCIDENT_FIELDS
        assert incident["status"] in INCIDENT_STATUSES
        assert incident["impact"] in IMPACTS
        for update in incident["incident_updates"]:
            assert set(update) == UPDATE_FIELDS
            assert update["status"] in INCIDENT_STATUSES
            for affected in update["affected_components"] or []:
                assert set(affected) == AFFECTED_FIELDS
        for component in incident["components"]:
            assert set(component) == COMPONENT_FIELDS
    for key, value in walk(document):
        if key.endswith("_at") and value is not None:
            assert WITH_OFFSET.match(value), (key, value)


def test_every_time_of_the_statuspage_api_parses_as_statuspage_clients_parse_it(
    site: Path,
) -> None:
    times = [
        (path.name, key, value)
        for path in sorted((site / "api/v2").rglob("*.json"))
        for key, value in walk(json.loads(path.read_text(encoding="utf-8")))
        if key.endswith("_at") and value is not None
    ]
    assert len(times) > 20
    for name, key, value in times:
        parsed = datetime.strptime(value, STATUSPAGE_TIME)
        assert parsed.utcoffset() == timedelta(hours=2), (name, key, value)
    updated = load(site, "api/v2/status.json")["page"]["updated_at"]
    assert datetime.strptime(updated, STATUSPAGE_TIME) == datetime.fromisoformat(
        "2024-10-07T10:00:00+02:00"
    )
    # Balise's own status.json keeps its seconds (CONTRACT §6 examples).
    assert load(site, "status.json")["generated_at"] == "2024-10-10T12:00:00+02:00"


def test_incident_updates_carry_statuspage_tweet_fields_as_null(site: Path) -> None:
    [incident] = load(site, "api/v2/incidents.json")["incidents"]
    for update in incident["incident_updates"]:
        assert update["custom_tweet"] is None
        assert update["tweet_id"] is None


def test_page_names_the_organisation_and_the_site(site: Path) -> None:
    page = load(site, "api/v2/summary.json")["page"]
    assert page == {
        "id": "status-example-org-test",
        "name": "Groupe Test & Fils",
        "url": SITE,
        "time_zone": "Europe/Paris",
        "updated_at": "2024-10-07T10:00:00.000+02:00",
    }


def test_components_are_establishments_grouped_by_region_with_mapped_statuses(
    site: Path,
) -> None:
    components = load(site, "api/v2/components.json")["components"]
    shape = [(c["id"], c["status"], c["group_id"], c["position"]) for c in components]
    assert shape == [
        ("region-bretagne", "major_outage", None, 1),
        ("alpha", "major_outage", "region-bretagne", 2),
        ("gamma", "degraded_performance", "region-bretagne", 3),
        ("region-pays-de-la-loire", "operational", None, 4),
        ("beta", "operational", "region-pays-de-la-loire", 5),
    ]
    groups = {c["id"]: c["components"] for c in components if c["group"]}
    assert groups == {"region-bretagne": ["alpha", "gamma"], "region-pays-de-la-loire": ["beta"]}
    beta = components[4]
    assert beta["name"] == 'Clinique <Beta> & "Co"'
    assert beta["updated_at"] == "2024-10-06T09:30:00.000+02:00"
    assert beta["description"] == "Nantes, Pays de la Loire"


def test_component_status_agrees_with_status_json(site: Path) -> None:
    ours = {e["id"]: e["status"] for e in load(site, "status.json")["establishments"]}
    theirs = {c["id"]: c["status"] for c in load(site, "api/v2/components.json")["components"]}
    for establishment_id, status in ours.items():
        assert theirs[establishment_id] == COMPONENT_STATUS[Status(status)]


def test_page_indicator_is_the_worst_current_status(site: Path) -> None:
    assert load(site, "api/v2/status.json")["status"] == {
        "indicator": "critical",
        "description": "Au moins un établissement à l'activité interrompue",
    }


def test_incident_thread_with_its_updates_newest_first(site: Path) -> None:
    [incident] = load(site, "api/v2/incidents.json")["incidents"]
    assert incident["id"] == "attaque"
    assert incident["name"] == "Cyberattaque à la clinique Alpha"
    assert incident["impact"] == "critical"  # alpha went down
    assert incident["status"] == "monitoring"  # the latest point brought beta back
    assert incident["monitoring_at"] == "2024-10-06T09:30:00.000+02:00"
    assert incident["resolved_at"] is None
    assert incident["started_at"] == incident["created_at"] == "2024-10-05T08:00:00.000+02:00"
    assert incident["shortlink"] == SITE + "incidents/attaque.html"
    assert (site / "incidents/attaque.html").is_file()
    updates = incident["incident_updates"]
    assert [(u["id"], u["status"]) for u in updates] == [
        ("2024-10-06-point", "monitoring"),
        ("2024-10-05-alerte", "identified"),
    ]
    assert updates[0]["body"] == (
        'Point <urgent> & "essentiel" : *pas* de markdown\n\nBeta revient à la normale.'
    )
    assert updates[0]["affected_components"] == [
        {
            "code": "beta",
            "name": 'Clinique <Beta> & "Co"',
            "old_status": "degraded_performance",
            "new_status": "operational",
        }
    ]
    assert [(c["id"], c["position"]) for c in incident["components"]] == [
        ("alpha", 2),
        ("beta", 5),
        ("gamma", 3),
    ]


def test_summary_and_unresolved_list_only_active_incidents(site: Path) -> None:
    assert [i["id"] for i in load(site, "api/v2/summary.json")["incidents"]] == ["attaque"]
    assert [i["id"] for i in load(site, "api/v2/incidents/unresolved.json")["incidents"]] == [
        "attaque"
    ]
    assert load(site, "api/v2/summary.json")["scheduled_maintenances"] == []


def test_once_everything_is_back_to_normal_the_indicator_is_none() -> None:
    repository = check(DATA / "tiny").repository
    assert repository is not None
    later = TINY_NOW.replace(month=11)  # the embargoed "all normal" statement is out
    documents = statuspage_documents(repository, snapshot(repository, later))
    assert documents["api/v2/status.json"]["status"] == {
        "indicator": "none",
        "description": "Tous les établissements fonctionnent normalement",
    }
    statuses = {c["status"] for c in documents["api/v2/components.json"]["components"]}
    assert statuses == {"operational"}


# --- the Statuspage incident status rule, on hand-made threads -----------------------------

T0 = datetime.fromisoformat("2024-10-05T08:00:00+02:00")


def thread(*statuses: dict[str, Status]) -> Repository:
    statements = tuple(
        Statement(
            id=f"s{n}",
            path=f"statements/s{n}.md",
            title=f"Point {n}",
            date=T0 + timedelta(hours=n),
            body=f"Texte {n}.",
            summary=f"Texte {n}.",
            status=tuple(sorted(status.items())),
            incident="panne",
        )
        for n, status in enumerate(statuses)
    )
    return Repository(
        organisation=Organisation(name="Groupe"),
        establishments=(Establishment("a", "A", "Rennes"), Establishment("b", "B", "Brest")),
        statements=statements,
        site=Site(name="Groupe", url="https://s.example.org/"),
    )


def incident_of(repository: Repository) -> dict[str, Any]:
    now = T0 + timedelta(days=1)
    [incident] = statuspage_documents(repository, snapshot(repository, now))[
        "api/v2/incidents.json"
    ]["incidents"]
    return incident


def test_update_statuses_follow_the_thread() -> None:
    incident = incident_of(
        thread(
            {},  # information before anyone is named
            {"a": Status.DOWN},
            {},  # information: nothing changes
            {"a": Status.DEGRADED},  # better
            {"a": Status.DEGRADED, "b": Status.DISRUPTED},  # worse for b
            {"a": Status.NORMAL, "b": Status.NORMAL},
        )
    )
    statuses = [u["status"] for u in reversed(incident["incident_updates"])]
    assert statuses == [
        "investigating",
        "identified",
        "identified",
        "monitoring",
        "identified",
        "resolved",
    ]
    assert incident["status"] == "resolved"
    assert incident["resolved_at"] == "2024-10-05T13:00:00.000+02:00"
    assert incident["monitoring_at"] is None  # monitoring was interrupted by a worsening
    assert incident["impact"] == "critical"


def test_impact_is_the_worst_status_the_thread_set() -> None:
    expected = {
        Status.DEGRADED: "minor",
        Status.DISRUPTED: "major",
        Status.DOWN: "critical",
        Status.MAINTENANCE: "maintenance",
    }
    for status, impact in expected.items():
        assert incident_of(thread({"a": status}))["impact"] == impact


def test_an_informational_thread_is_resolved_with_no_impact() -> None:
    incident = incident_of(thread({}, {}))
    assert incident["status"] == "resolved"
    assert incident["impact"] == "none"
    assert [u["status"] for u in incident["incident_updates"]] == ["resolved", "investigating"]
    assert all(u["affected_components"] is None for u in incident["incident_updates"])


def test_incidents_json_lists_the_50_most_recent_like_statuspage() -> None:
    [model] = thread({"a": Status.DEGRADED}).statements

    def said(n: int, slug: str, hours: float, status: dict[str, Status]) -> Statement:
        date = T0 + timedelta(hours=hours)
        return replace(model, id=f"s{n}", incident=slug, date=date, status=tuple(status.items()))

    statements = []
    for n in range(60):  # 60 threads, each resolved within the hour, oldest first
        statements.append(said(2 * n, f"panne-{n:02d}", n, {"a": Status.DEGRADED}))
        statements.append(said(2 * n + 1, f"panne-{n:02d}", n + 0.5, {"a": Status.NORMAL}))
    statements.append(said(200, "panne-00", 100, {"b": Status.DOWN}))  # the oldest, reopened
    repository = replace(thread(), statements=tuple(statements))
    documents = statuspage_documents(repository, snapshot(repository, T0 + timedelta(days=5)))
    listed = documents["api/v2/incidents.json"]["incidents"]
    assert len(listed) == 50
    assert [i["id"] for i in listed] == ["panne-00"] + [f"panne-{n:02d}" for n in range(59, 10, -1)]
    assert listed[0]["status"] != "resolved"
    assert documents["api/v2/incidents/unresolved.json"]["incidents"] == listed[:1]


def test_an_establishment_without_region_has_no_group() -> None:
    repository = thread({"a": Status.DEGRADED})
    documents = statuspage_documents(repository, snapshot(repository, T0 + timedelta(days=1)))
    components = documents["api/v2/components.json"]["components"]
    assert [(c["id"], c["group"], c["group_id"]) for c in components] == [
        ("a", False, None),
        ("b", False, None),
    ]
    assert documents["api/v2/status.json"]["status"]["indicator"] == "minor"


def test_region_and_page_ids_are_ascii_slugs_that_drop_what_has_no_ascii_form() -> None:
    # `’` is dropped, not a separator: the ids already published by earlier versions stay.
    regions = ("Provence-Alpes-Côte d’Azur", "Île-de-France", "Région n°1 €")
    establishments = [
        Establishment(f"e{n}", f"E{n}", "Ville", region=region) for n, region in enumerate(regions)
    ]
    establishments.append(Establishment("region-ile-de-france", "Homonyme", "Paris"))
    repository = replace(
        thread(),
        establishments=tuple(establishments),
        site=Site(name="Groupe", url="https://statut.hôpital.example/Crise/"),
    )
    documents = statuspage_documents(repository, snapshot(repository, T0))
    components = documents["api/v2/components.json"]["components"]
    assert [c["id"] for c in components if c["group"]] == [
        "region-provence-alpes-cote-dazur",
        "region-ile-de-france-2",  # an establishment already has the plain id
        "region-region-n1",  # `°` and `€` too
    ]
    assert documents["api/v2/summary.json"]["page"]["id"] == "statut-hopital-example-crise"


def test_render_api_makes_each_file_when_read_and_the_same_bytes_each_time() -> None:
    """The files are made lazily (one in memory at a time); every endpoint is there."""
    from balise.render.api import STATUSPAGE_ENDPOINTS, render_api

    repository = check(DATA / "tiny").repository
    assert repository is not None
    snap = snapshot(repository, TINY_NOW)
    files = render_api(repository, snap)
    assert set(statuspage_documents(repository, snap)) == set(STATUSPAGE_ENDPOINTS)
    assert set(files) == {"status.json", "schema/status.json", *STATUSPAGE_ENDPOINTS}
    first = {path: files[path] for path in files}
    assert {path: files[path] for path in reversed(list(files))} == first  # made again
    summary = json.loads(first["api/v2/summary.json"])
    assert summary["page"]["url"] == repository.site.url
    assert first["api/v2/summary.json"].endswith(b"}\n") and b"\n " not in first["status.json"]

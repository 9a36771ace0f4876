"""Tests for balise.model: statuses and their spellings, publication at NOW, derived facts.

Values only: no files, no clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from balise.model import (
    Establishment,
    Incident,
    Organisation,
    Phase,
    Repository,
    Site,
    Statement,
    StatementType,
    Status,
    sort_key,
)

NOW = datetime(2024, 10, 10, 12, 0, tzinfo=UTC)


def statement(**fields: object) -> Statement:
    values: dict[str, object] = {
        "id": "point",
        "path": "statements/point.md",
        "title": "Point",
        "date": NOW - timedelta(hours=1),
        "body": "Texte.",
        "summary": "Texte.",
    }
    values.update(fields)
    return Statement(**values)  # type: ignore[arg-type]


# --- statuses ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", list(Status))
def test_every_status_parses_from_its_english_value(status: Status) -> None:
    assert Status.parse(status.value) is status


@pytest.mark.parametrize(
    ("written", "status"),
    [
        ("dégradé", Status.DEGRADED),
        ("Degrade", Status.DEGRADED),
        ("  PERTURBÉ ", Status.DISRUPTED),
        ("perturbe", Status.DISRUPTED),
        ("interrompu", Status.DOWN),
        ("Hors-Service", Status.DOWN),
        ("Maintenance", Status.MAINTENANCE),
    ],
)
def test_french_aliases_ignore_case_accents_and_spaces(written: str, status: Status) -> None:
    assert Status.parse(written) is status


@pytest.mark.parametrize("written", ["ok", "panne", "", "hors service"])
def test_unknown_spelling_parses_to_none(written: str) -> None:
    assert Status.parse(written) is None


def test_spellings_list_every_accepted_form_once() -> None:
    spellings = Status.spellings()
    assert len(spellings) == len(set(spellings))
    assert {"normal", "degraded", "degrade", "interrompu", "hors-service"} <= set(spellings)
    assert all(Status.parse(spelling) is not None for spelling in spellings)


def test_severity_puts_maintenance_with_normal() -> None:
    assert [s.severity for s in Status] == [0, 0, 1, 2, 3]  # declared mildest first


# --- statements --------------------------------------------------------------------------


def test_statement_dated_before_now_is_published() -> None:
    assert statement().is_published(NOW)


def test_statement_dated_at_now_is_published() -> None:
    assert statement(date=NOW).is_published(NOW)


def test_statement_dated_after_now_is_not_published() -> None:
    assert not statement(date=NOW + timedelta(seconds=1)).is_published(NOW)


def test_draft_is_never_published() -> None:
    assert not statement(draft=True).is_published(NOW + timedelta(days=365))


def test_embargo_holds_until_now_reaches_it() -> None:
    held = statement(publish_at=NOW + timedelta(minutes=1))
    assert not held.is_published(NOW)
    assert held.is_published(NOW + timedelta(minutes=1))


def test_publication_compares_instants_not_wall_clocks() -> None:
    # 13:30 in Paris is 11:30 UTC: before NOW (12:00 UTC) although its wall clock is later.
    paris = datetime(2024, 10, 10, 13, 30, tzinfo=timezone(timedelta(hours=2)))
    assert statement(date=paris).is_published(NOW)


def test_status_map_and_press_release() -> None:
    s = statement(
        status=(("a", Status.DOWN), ("b", Status.NORMAL)), type=StatementType.PRESS_RELEASE
    )
    assert s.status_map == {"a": Status.DOWN, "b": Status.NORMAL}
    assert s.is_press_release
    assert not statement().is_press_release


def test_statement_is_posted_with_its_title_by_default() -> None:
    s = statement()
    assert (s.postable, s.post_text, s.sets_all) == (True, None, False)


def test_line_of_an_unknown_key_is_the_first_line() -> None:
    s = statement(lines={"title": 2})
    assert (s.line_of("title"), s.line_of("status")) == (2, 1)


def test_lines_take_no_part_in_equality() -> None:
    assert statement(lines={"title": 2}) == statement(lines={"title": 5})


def test_last_modified_is_the_later_of_date_and_commit() -> None:
    date = NOW - timedelta(hours=3)
    assert statement(date=date).last_modified == date
    assert statement(date=date, updated=NOW).last_modified == NOW
    assert statement(date=date, updated=date - timedelta(hours=1)).last_modified == date


def test_a_commit_after_now_is_not_seen_yet() -> None:
    date = NOW - timedelta(hours=3)
    later = statement(date=date, updated=NOW + timedelta(hours=1))
    assert later.last_modified_at(NOW) == date
    assert later.last_modified_at(NOW + timedelta(hours=1)) == NOW + timedelta(hours=1)


def test_sort_key_orders_by_date_then_path() -> None:
    first = statement(path="statements/b.md", date=NOW - timedelta(hours=2))
    tie_a = statement(path="statements/a.md")
    tie_b = statement(path="statements/b.md")
    assert sorted([tie_b, first, tie_a], key=sort_key) == [first, tie_a, tie_b]


# --- organisation, repository, incident ----------------------------------------------------


def test_organisation_timezone_defaults_to_paris() -> None:
    assert Organisation(name="Hospi").tz.key == "Europe/Paris"


def test_repository_finds_an_establishment_by_id() -> None:
    a = Establishment(id="a", name="Etab A", city="Rennes")
    repository = Repository(Organisation(name="Hospi"), (a,), (), Site("S", "https://s.test/"))
    assert repository.establishment("a") is a
    with pytest.raises(KeyError):
        repository.establishment("b")


def test_establishment_line_of_defaults_to_one() -> None:
    e = Establishment(id="a", name="A", city="Rennes", lines={"region": 7})
    assert (e.line_of("region"), e.line_of("phone")) == (7, 1)


def test_incident_reads_its_title_and_times_from_its_statements() -> None:
    first = statement(id="one", title="Panne", date=NOW - timedelta(hours=5))
    last = statement(id="two", title="Reprise", date=NOW - timedelta(hours=1))
    incident = Incident(
        id="panne",
        statements=(first, last),
        worst=Status.DOWN,
        establishments=("a",),
        resolved_at=None,
        phases=(Phase.IDENTIFIED, Phase.MONITORING),
        monitoring_at=last.date,
    )
    assert (incident.title, incident.started, incident.updated) == ("Panne", first.date, last.date)
    assert incident.active
    assert incident.phase is Phase.MONITORING

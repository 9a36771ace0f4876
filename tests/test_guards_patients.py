"""Tests for CONTRACT §9 in balise.guards: an establishment milder than one of its services,
and a promised next update that has passed; exact texts, with PATH:LINE."""

from __future__ import annotations

import dataclasses

from test_timeline_patients import DEGRADED, DOWN, NORMAL, at, repository, statement

from balise.guards import guard_warnings
from balise.model import Statement
from balise.timeline import snapshot


def warnings_at(now: float, *statements: Statement) -> list[str]:
    repo = repository(*statements)
    return [str(w) for w in guard_warnings(repo, snapshot(repo, at(now)), at(now))]


def with_lines(s: Statement, **lines: int) -> Statement:
    return dataclasses.replace(s, lines=lines)


def test_an_establishment_milder_than_its_worst_service_is_a_warning() -> None:
    s = with_lines(statement("one", 1, {"a/chir": DOWN, "a/urg": DEGRADED}), status=4)
    assert warnings_at(2, s) == [
        'statements/one.md:4: warning: "a" is normal but its service "chir" is down '
        "(set the establishment's own status too (a: down), or say why in the text)"
    ]


def test_an_establishment_as_severe_as_its_services_is_fine() -> None:
    assert warnings_at(2, statement("one", 1, {"a": DOWN, "a/urg": DEGRADED})) == []
    assert warnings_at(2, statement("one", 1, {"b/urg": NORMAL})) == []


def test_a_passed_next_update_without_a_later_statement_is_a_warning() -> None:
    promised = dataclasses.replace(
        statement("one", 1, incident="cyber"), next_update=at(5), lines={"next_update": 6}
    )
    assert warnings_at(4, promised) == []
    expected = [
        "statements/one.md:6: warning: the next update promised for 2024-10-14 15:00 has "
        'passed with no later statement of the incident "cyber" (publish a point de '
        'situation, even to say that nothing has changed, or move "next_update")'
    ]
    assert warnings_at(5, promised) == expected
    other_incident = statement("two", 6, incident="other")
    assert warnings_at(7, promised, other_incident) == expected
    follow_up = statement("three", 6, incident="cyber")
    assert warnings_at(7, promised, follow_up) == []


def test_a_passed_next_update_outside_an_incident_wants_any_later_statement() -> None:
    promised = dataclasses.replace(statement("one", 1), next_update=at(5))
    assert len(warnings_at(6, promised)) == 1
    assert warnings_at(6, promised, statement("two", 5.5)) == []

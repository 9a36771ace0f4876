"""Tests for balise.timeline: publication at NOW, status, since, history, changes, incidents,
their phases and the order of severity.

Values are built directly (no files); Hypothesis checks the timeline against a naive replay.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from balise.model import (
    Establishment,
    Organisation,
    Phase,
    Repository,
    Site,
    Statement,
    Status,
    sort_key,
)
from balise.timeline import (
    Change,
    EstablishmentStatus,
    Snapshot,
    published,
    severity_key,
    snapshot,
    worst,
)

BASE = datetime(2024, 10, 14, 8, 0, tzinfo=UTC)
PARIS_SUMMER = timezone(timedelta(hours=2))
IDS = ("a", "b", "c")
NORMAL, MAINTENANCE = Status.NORMAL, Status.MAINTENANCE
DEGRADED, DISRUPTED, DOWN = Status.DEGRADED, Status.DISRUPTED, Status.DOWN


def at(hours: float) -> datetime:
    return BASE + timedelta(hours=hours)


def statement(
    path: str,
    hours: float,
    status: dict[str, Status] | None = None,
    *,
    ids: tuple[str, ...] = IDS,
    incident: str | None = None,
    draft: bool = False,
    publish_at: datetime | None = None,
    date: datetime | None = None,
) -> Statement:
    """A statement as validate would build it: `all` expanded, explicit ids winning."""
    status = status or {}
    resolved = {i: status["all"] for i in ids} if "all" in status else {}
    resolved.update({k: v for k, v in status.items() if k != "all"})
    name = path.rsplit("/", 1)[-1].removesuffix(".md")
    return Statement(
        id=name,
        path=f"statements/{path}" if path.endswith(".md") else f"statements/{path}.md",
        title=f"Title {name}",
        date=date or at(hours),
        body="Body.",
        summary="Body.",
        status=tuple((i, resolved[i]) for i in ids if i in resolved)
        + tuple((i, s) for i, s in resolved.items() if i not in ids),
        sets_all="all" in status,
        incident=incident,
        draft=draft,
        publish_at=publish_at,
    )


def repository(*statements: Statement, ids: tuple[str, ...] = IDS) -> Repository:
    return Repository(
        organisation=Organisation(name="Hospi Test"),
        establishments=tuple(Establishment(id=i, name=f"Etab {i}", city="Rennes") for i in ids),
        statements=tuple(sorted(statements, key=sort_key)),
        site=Site(name="Test", url="https://status.example.org/"),
    )


def snap(*statements: Statement, now: float = 1000, ids: tuple[str, ...] = IDS) -> Snapshot:
    return snapshot(repository(*statements, ids=ids), at(now))


# --- publication -------------------------------------------------------------------------


def test_draft_and_embargo_and_future_are_ignored() -> None:
    shown = statement("shown", 1)
    draft = statement("draft", 2, draft=True)
    embargoed = statement("embargoed", 3, publish_at=at(20))
    future = statement("future", 30)
    assert published([shown, draft, embargoed, future], at(10)) == (shown,)


def test_date_and_embargo_at_now_are_published() -> None:
    s = statement("edge", 5, publish_at=at(5))
    assert published([s], at(5)) == (s,)


def test_embargo_lifts_once_now_passes_it() -> None:
    s = statement("embargoed", 1, {"a": DOWN}, publish_at=at(5))
    assert snap(s, now=4).status_of("a").status is NORMAL
    assert snap(s, now=5).status_of("a").status is DOWN


def test_published_is_sorted_by_date_then_path() -> None:
    late = statement("a-late", 3)
    tie_b = statement("b-tie", 2)
    tie_a = statement("a-tie", 2)
    assert published([late, tie_b, tie_a], at(10)) == (tie_a, tie_b, late)


def test_statuses_ignore_unpublished_statements() -> None:
    current = snap(
        statement("one", 1, {"a": DEGRADED}),
        statement("draft", 2, {"a": DOWN}, draft=True),
        statement("future", 2000, {"a": NORMAL}),
    ).status_of("a")
    assert (current.status, current.statement.id) == (DEGRADED, "one")


# --- status ------------------------------------------------------------------------------


def test_latest_statement_sets_status() -> None:
    current = snap(
        statement("one", 1, {"a": DOWN}), statement("two", 2, {"a": DEGRADED})
    ).status_of("a")
    assert current.status is DEGRADED
    assert current.statement.id == "two"
    assert current.since == at(2)


def test_equal_dates_last_path_wins() -> None:
    current = snap(
        statement("2024/z-second", 1, {"a": DOWN}), statement("2024/a-first", 1, {"a": NORMAL})
    ).status_of("a")
    assert current.status is DOWN
    assert current.statement.id == "z-second"


def test_comparison_is_by_instant_not_wall_clock() -> None:
    # 09:30+02:00 is 07:30 UTC: earlier than 08:00 UTC despite the larger wall-clock time.
    paris = statement(
        "paris", 0, {"a": DOWN}, date=datetime(2024, 10, 14, 9, 30, tzinfo=PARIS_SUMMER)
    )
    utc = statement("utc", 0, {"a": NORMAL})
    assert snap(paris, utc).status_of("a").statement.id == "utc"


def test_restating_status_keeps_since() -> None:
    current = snap(
        statement("one", 1, {"a": DOWN}),
        statement("two", 2, {"a": DOWN}),
        statement("three", 3, {"a": DOWN}),
    ).status_of("a")
    assert current.since == at(1)
    assert current.statement.id == "three"


def test_status_change_moves_since() -> None:
    current = snap(
        statement("one", 1, {"a": DOWN}),
        statement("two", 2, {"a": DEGRADED}),
        statement("three", 3, {"a": DEGRADED}),
    ).status_of("a")
    assert (current.status, current.since) == (DEGRADED, at(2))


def test_returning_to_an_earlier_status_starts_a_new_run() -> None:
    current = snap(
        statement("one", 1, {"a": DOWN}),
        statement("two", 2, {"a": DEGRADED}),
        statement("three", 3, {"a": DOWN}),
    ).status_of("a")
    assert (current.status, current.since) == (DOWN, at(3))


def test_statements_not_naming_it_do_not_break_the_run() -> None:
    current = snap(
        statement("one", 1, {"a": DOWN}),
        statement("other", 2, {"b": NORMAL}),
        statement("info", 3),
        statement("three", 4, {"a": DOWN}),
    ).status_of("a")
    assert current.since == at(1)


def test_explicit_override_beside_all() -> None:
    result = snap(statement("mixed", 1, {"all": DISRUPTED, "b": NORMAL}))
    assert [c.status for c in result.current] == [DISRUPTED, NORMAL, DISRUPTED]


def test_all_names_every_establishment() -> None:
    s = statement("everyone", 1, {"all": DEGRADED})
    result = snap(s)
    assert all(c.statement == s and c.status is DEGRADED for c in result.current)


def test_later_explicit_status_overrides_earlier_all() -> None:
    result = snap(statement("one", 1, {"all": DOWN}), statement("two", 2, {"a": NORMAL}))
    assert [c.status for c in result.current] == [NORMAL, DOWN, DOWN]


def test_never_named_is_normal_since_first_published() -> None:
    current = snap(
        statement("draft", 0, {"c": DOWN}, draft=True),
        statement("info", 1),
        statement("one", 2, {"a": DOWN}),
    ).status_of("c")
    assert current == EstablishmentStatus(current.establishment, NORMAL, at(1), None)


def test_no_statement_since_now() -> None:
    result = snap(statement("future", 2000, {"a": DOWN}), now=10)
    assert all(c.since == at(10) and c.status is NORMAL for c in result.current)
    assert all(c.statement is None for c in result.current)


def test_first_naming_as_normal_starts_the_run_there() -> None:
    current = snap(statement("info", 1), statement("ok", 2, {"a": NORMAL})).status_of("a")
    assert (current.status, current.since, current.statement.id) == (NORMAL, at(2), "ok")


def test_back_to_normal_moves_since() -> None:
    current = snap(statement("one", 1, {"a": DOWN}), statement("two", 2, {"a": NORMAL})).status_of(
        "a"
    )
    assert (current.status, current.since) == (NORMAL, at(2))


def test_current_follows_registry_order() -> None:
    result = snap(statement("one", 1, {"a": DOWN}), ids=("c", "a", "b"))
    assert [c.establishment.id for c in result.current] == ["c", "a", "b"]


def test_status_of_unknown_establishment_raises() -> None:
    with pytest.raises(KeyError):
        snap().status_of("nowhere")


def test_last_update_is_newest_published_date() -> None:
    assert snap(
        statement("one", 1), statement("two", 2), statement("late", 2000)
    ).last_update == at(2)


def test_last_update_is_none_when_nothing_is_published() -> None:
    assert snap().last_update is None


def test_snapshot_keeps_now() -> None:
    assert snap(now=7).now == at(7)


# --- history -----------------------------------------------------------------------------


def test_history_lists_statements_naming_it_oldest_first() -> None:
    one = statement("one", 1, {"a": DOWN})
    everyone = statement("everyone", 2, {"all": DEGRADED})
    other = statement("other", 3, {"b": NORMAL})
    info = statement("info", 4)
    result = snap(other, info, everyone, one)
    assert result.history["a"] == (one, everyone)
    assert result.history["b"] == (everyone, other)


def test_history_has_an_entry_for_every_establishment() -> None:
    result = snap(statement("one", 1, {"a": DOWN}))
    assert set(result.history) == set(IDS)
    assert result.history["c"] == ()


def test_history_leaves_out_unpublished_statements() -> None:
    result = snap(
        statement("draft", 1, {"a": DOWN}, draft=True), statement("late", 2000, {"a": DOWN})
    )
    assert result.history["a"] == ()


# --- incidents ---------------------------------------------------------------------------


def test_statements_without_incident_form_no_incident() -> None:
    assert snap(statement("one", 1, {"a": DOWN})).incidents == ()


def test_incident_groups_its_published_statements_oldest_first() -> None:
    one = statement("one", 1, {"a": DOWN}, incident="cyber")
    two = statement("two", 2, {"a": DEGRADED}, incident="cyber")
    (incident,) = snap(two, statement("draft", 3, incident="cyber", draft=True), one).incidents
    assert incident.id == "cyber"
    assert incident.statements == (one, two)


def test_incident_with_no_published_statement_is_left_out() -> None:
    assert snap(statement("draft", 1, {"a": DOWN}, incident="x", draft=True)).incidents == ()


def test_incident_resolved_when_all_back_to_normal() -> None:
    (incident,) = snap(
        statement("one", 1, {"a": DOWN, "b": DOWN}, incident="x"),
        statement("two", 2, {"a": NORMAL}, incident="x"),
        statement("three", 3, {"b": NORMAL}, incident="x"),
    ).incidents
    assert incident.resolved_at == at(3)
    assert not incident.active


def test_incident_active_while_one_establishment_is_not_normal() -> None:
    result = snap(
        statement("one", 1, {"a": DOWN, "b": DOWN}, incident="x"),
        statement("two", 2, {"a": NORMAL}, incident="x"),
    )
    (incident,) = result.incidents
    assert incident.resolved_at is None
    assert result.active_incidents == (incident,)


def test_incident_replays_only_its_own_statements() -> None:
    # `b` is back to normal on the site, but the thread never said so.
    result = snap(
        statement("one", 1, {"b": DOWN}, incident="x"),
        statement("unrelated", 2, {"b": NORMAL}),
    )
    assert result.status_of("b").status is NORMAL
    assert result.incidents[0].active


def test_incident_resolved_at_is_the_start_of_the_final_normal_stretch() -> None:
    (incident,) = snap(
        statement("one", 1, {"a": DOWN}, incident="x"),
        statement("two", 2, {"a": NORMAL}, incident="x"),
        statement("three", 3, {"a": DEGRADED}, incident="x"),
        statement("four", 4, {"a": NORMAL}, incident="x"),
        statement("five", 5, {"a": NORMAL}, incident="x"),
        statement("info", 6, incident="x"),
    ).incidents
    assert incident.resolved_at == at(4)


def test_incident_naming_a_new_establishment_reopens_it() -> None:
    (incident,) = snap(
        statement("one", 1, {"a": DOWN}, incident="x"),
        statement("two", 2, {"a": NORMAL}, incident="x"),
        statement("three", 3, {"b": DISRUPTED}, incident="x"),
    ).incidents
    assert incident.active


def test_leading_information_does_not_resolve_the_incident() -> None:
    (incident,) = snap(
        statement("info", 1, incident="x"), statement("ok", 2, {"a": NORMAL}, incident="x")
    ).incidents
    assert incident.resolved_at == at(2)


def test_maintenance_keeps_the_incident_active() -> None:
    (incident,) = snap(statement("works", 1, {"a": MAINTENANCE}, incident="x")).incidents
    assert incident.active


def test_informational_incident_is_resolved_at_its_last_statement() -> None:
    (incident,) = snap(
        statement("one", 1, incident="press"), statement("two", 2, incident="press")
    ).incidents
    assert incident.resolved_at == at(2)
    assert incident.worst is NORMAL
    assert incident.establishments == ()


def test_incident_resolution_ignores_future_statements() -> None:
    result = snap(
        statement("one", 1, {"a": DOWN}, incident="x"),
        statement("fixed", 20, {"a": NORMAL}, incident="x"),
        now=10,
    )
    assert result.incidents[0].active


def test_incident_worst_is_the_most_severe_status() -> None:
    (incident,) = snap(
        statement("one", 1, {"a": DEGRADED}, incident="x"),
        statement("two", 2, {"a": DOWN, "b": DISRUPTED}, incident="x"),
        statement("three", 3, {"all": NORMAL}, incident="x"),
    ).incidents
    assert incident.worst is DOWN


def test_incident_worst_prefers_maintenance_over_normal() -> None:
    (incident,) = snap(
        statement("one", 1, {"a": NORMAL}, incident="x"),
        statement("two", 2, {"a": MAINTENANCE}, incident="x"),
        statement("three", 3, {"a": NORMAL}, incident="x"),
    ).incidents
    assert incident.worst is MAINTENANCE


def test_incident_worst_is_normal_when_only_normal_is_set() -> None:
    (incident,) = snap(statement("one", 1, {"a": NORMAL}, incident="x")).incidents
    assert incident.worst is NORMAL


def test_incident_establishments_follow_registry_order() -> None:
    (incident,) = snap(
        statement("one", 1, {"b": DOWN}, incident="x"),
        statement("two", 2, {"c": DOWN, "a": DOWN}, incident="x"),
        ids=("c", "a", "b"),
    ).incidents
    assert incident.establishments == ("c", "a", "b")


def test_incidents_active_first_then_newest_update_first() -> None:
    result = snap(
        statement("old-active", 1, {"a": DOWN}, incident="old-active"),
        statement("new-resolved", 5, {"b": NORMAL}, incident="new-resolved"),
        statement("old-resolved", 2, {"c": NORMAL}, incident="old-resolved"),
        statement("new-active", 3, {"c": DOWN}, incident="new-active"),
        statement("old-active-2", 4, {"a": DOWN}, incident="old-active"),
    )
    assert [i.id for i in result.incidents] == [
        "old-active",
        "new-active",
        "new-resolved",
        "old-resolved",
    ]
    assert [i.id for i in result.active_incidents] == ["old-active", "new-active"]


# --- changes -----------------------------------------------------------------------------


def test_change_records_the_status_before_and_after() -> None:
    result = snap(
        statement("one", 1, {"a": DEGRADED}),
        statement("two", 2, {"a": DOWN, "b": DISRUPTED}),
    )
    assert result.changes["one"] == (Change("a", NORMAL, DEGRADED),)
    assert result.changes["two"] == (Change("a", DEGRADED, DOWN), Change("b", NORMAL, DISRUPTED))


def test_change_before_comes_from_any_earlier_statement_not_only_the_thread() -> None:
    result = snap(
        statement("outside", 1, {"a": DOWN}),
        statement("inside", 2, {"a": DEGRADED}, incident="x"),
    )
    assert result.changes["inside"] == (Change("a", DOWN, DEGRADED),)


def test_statement_without_status_changes_nothing() -> None:
    result = snap(statement("one", 1, {"a": DOWN}), statement("info", 2))
    assert result.changes["info"] == ()


def test_restating_a_status_is_a_change_from_it_to_itself() -> None:
    result = snap(statement("one", 1, {"a": DOWN}), statement("again", 2, {"a": DOWN}))
    assert result.changes["again"] == (Change("a", DOWN, DOWN),)


def test_changes_follow_the_order_of_statements_not_their_files() -> None:
    result = snap(
        statement("b-second", 1, {"a": DOWN}),
        statement("a-first", 1, {"a": DEGRADED}),  # same date: the path sorts it first
    )
    assert result.changes["a-first"] == (Change("a", NORMAL, DEGRADED),)
    assert result.changes["b-second"] == (Change("a", DEGRADED, DOWN),)


def test_unpublished_statements_have_no_change_and_do_not_count_as_before() -> None:
    result = snap(
        statement("draft", 1, {"a": DOWN}, draft=True),
        statement("one", 2, {"a": DEGRADED}),
        now=10,
    )
    assert "draft" not in result.changes
    assert result.changes["one"] == (Change("a", NORMAL, DEGRADED),)


# --- phases ------------------------------------------------------------------------------


def phases(*statements: Statement, now: float = 1000) -> list[Phase]:
    (incident,) = snap(*statements, now=now).incidents
    return list(incident.phases)


INVESTIGATING, IDENTIFIED = Phase.INVESTIGATING, Phase.IDENTIFIED
MONITORING, RESOLVED = Phase.MONITORING, Phase.RESOLVED


def test_phase_is_investigating_until_the_thread_names_someone() -> None:
    assert phases(
        statement("one", 1, incident="x"),
        statement("two", 2, {"a": DOWN}, incident="x"),
    ) == [INVESTIGATING, IDENTIFIED]


def test_phase_is_monitoring_after_an_improvement() -> None:
    assert phases(
        statement("one", 1, {"a": DOWN}, incident="x"),
        statement("two", 2, {"a": DEGRADED}, incident="x"),
    ) == [IDENTIFIED, MONITORING]


def test_phase_is_identified_when_one_improves_and_another_worsens() -> None:
    assert phases(
        statement("one", 1, {"a": DOWN, "b": DEGRADED}, incident="x"),
        statement("two", 2, {"a": DEGRADED, "b": DOWN}, incident="x"),
    ) == [IDENTIFIED, IDENTIFIED]


def test_phase_is_identified_when_a_status_is_restated() -> None:
    assert phases(
        statement("one", 1, {"a": DOWN}, incident="x"),
        statement("two", 2, {"a": DOWN}, incident="x"),
    ) == [IDENTIFIED, IDENTIFIED]


def test_phase_keeps_the_previous_one_after_information_only() -> None:
    assert phases(
        statement("one", 1, {"a": DOWN}, incident="x"),
        statement("two", 2, {"a": DEGRADED}, incident="x"),
        statement("info", 3, incident="x"),
    ) == [IDENTIFIED, MONITORING, MONITORING]


def test_phase_is_resolved_when_everyone_named_is_back_to_normal() -> None:
    assert phases(
        statement("one", 1, {"a": DOWN, "b": DOWN}, incident="x"),
        statement("two", 2, {"a": NORMAL}, incident="x"),
        statement("three", 3, {"b": NORMAL}, incident="x"),
    ) == [IDENTIFIED, MONITORING, RESOLVED]


def test_informational_thread_ends_resolved() -> None:
    assert phases(
        statement("one", 1, incident="x"),
        statement("two", 2, incident="x"),
    ) == [INVESTIGATING, RESOLVED]


def test_maintenance_back_to_normal_is_not_an_improvement() -> None:
    # Same severity: the change is neither better nor worse for care.
    assert phases(
        statement("one", 1, {"a": MAINTENANCE, "b": DOWN}, incident="x"),
        statement("two", 2, {"a": NORMAL}, incident="x"),
    ) == [IDENTIFIED, IDENTIFIED]


def test_improvement_is_judged_against_statements_outside_the_thread() -> None:
    assert phases(
        statement("outside", 1, {"a": DOWN}),
        statement("inside", 2, {"a": DEGRADED}, incident="x"),
    ) == [MONITORING]


def test_monitoring_at_is_the_start_of_the_latest_monitoring_stretch() -> None:
    (incident,) = snap(
        statement("one", 1, {"a": DOWN}, incident="x"),
        statement("two", 2, {"a": DISRUPTED}, incident="x"),
        statement("three", 3, {"a": DEGRADED}, incident="x"),
        statement("four", 4, {"a": NORMAL}, incident="x"),
    ).incidents
    assert incident.phases == (IDENTIFIED, MONITORING, MONITORING, RESOLVED)
    assert incident.monitoring_at == at(2)  # kept once resolved
    assert incident.phase is RESOLVED


def test_a_setback_forgets_monitoring_at() -> None:
    (incident,) = snap(
        statement("one", 1, {"a": DOWN}, incident="x"),
        statement("two", 2, {"a": DEGRADED}, incident="x"),
        statement("three", 3, {"a": DOWN}, incident="x"),
    ).incidents
    assert incident.phases == (IDENTIFIED, MONITORING, IDENTIFIED)
    assert incident.monitoring_at is None


# --- regions -----------------------------------------------------------------------------


def test_regions_keep_registry_order_and_take_the_worst_status() -> None:
    repo = repository(statement("one", 1, {"a": DEGRADED, "b": DOWN}))
    regions = {"a": "Ouest", "b": None, "c": "Ouest"}
    repo = dataclasses.replace(
        repo,
        establishments=tuple(
            dataclasses.replace(e, region=regions[e.id]) for e in repo.establishments
        ),
    )
    found = snapshot(repo, at(10)).regions
    assert [(r.name, [m.establishment.id for m in r.members]) for r in found] == [
        ("Ouest", ["a", "c"]),
        ("", ["b"]),
    ]
    assert [r.status for r in found] == [DEGRADED, DOWN]


# --- the order of severity ---------------------------------------------------------------


def test_severity_order_is_the_contract_order() -> None:
    assert sorted(Status, key=severity_key) == [NORMAL, MAINTENANCE, DEGRADED, DISRUPTED, DOWN]


def test_worst_of_nothing_is_normal() -> None:
    assert worst([]) is NORMAL


def test_worst_prefers_maintenance_over_normal() -> None:
    assert worst([NORMAL, MAINTENANCE, NORMAL]) is MAINTENANCE


def test_worst_is_the_most_severe() -> None:
    assert worst(iter([DEGRADED, DOWN, MAINTENANCE, DISRUPTED])) is DOWN


# --- properties --------------------------------------------------------------------------

STATUSES = list(Status)
OFFSETS = [UTC, PARIS_SUMMER, timezone(timedelta(hours=-5))]


@st.composite
def repositories(draw: st.DrawFn) -> tuple[Repository, datetime]:
    ids = tuple(draw(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, unique=True)))
    paths = draw(st.lists(st.text("xyz/", min_size=1, max_size=4), unique=True, max_size=12))
    statements = []
    for path in paths:
        # Few distinct instants and several offsets: many ties, and wall clocks that mislead.
        instant = at(draw(st.integers(0, 8)))
        date = instant.astimezone(draw(st.sampled_from(OFFSETS)))
        named = draw(st.dictionaries(st.sampled_from([*ids, "all"]), st.sampled_from(STATUSES)))
        embargo = draw(st.none() | st.integers(0, 10).map(at))
        statements.append(
            statement(
                path,
                0,
                named,
                ids=ids,
                date=date,
                draft=draw(st.integers(0, 4)) == 0,
                publish_at=embargo,
                incident=draw(st.none() | st.sampled_from(["p", "q"])),
            )
        )
    now = at(draw(st.integers(-1, 10)))
    return repository(*statements, ids=ids), now


def naive_status(repo: Repository, eid: str, now: datetime) -> tuple[Status, datetime, str | None]:
    """Written without the timeline: filter, pick the maximum, walk back over equal statuses."""
    visible = [s for s in repo.statements if not s.draft and s.date <= now]
    visible = [s for s in visible if s.publish_at is None or s.publish_at <= now]
    naming = [s for s in visible if eid in dict(s.status)]
    if not naming:
        return NORMAL, min((s.date for s in visible), default=now), None
    ordered = sorted(naming, key=lambda s: (s.date, s.path))
    last = ordered[-1]
    status = dict(last.status)[eid]
    start = len(ordered) - 1
    while start > 0 and dict(ordered[start - 1].status)[eid] is status:
        start -= 1
    return status, ordered[start].date, last.path


def naive_resolved_at(thread: tuple[Statement, ...]) -> datetime | None:
    """For each statement, is everything named so far normal? Take the earliest from which it
    stays true to the end."""
    if all(not s.status for s in thread):
        return thread[-1].date
    ok = []
    for i in range(len(thread)):
        latest: dict[str, Status] = {}
        for s in thread[: i + 1]:
            for eid, status in s.status:
                latest[eid] = status
        ok.append(bool(latest) and all(v is NORMAL for v in latest.values()))
    for i in range(len(thread)):
        if all(ok[i:]):
            return thread[i].date
    return None


@settings(deadline=None, max_examples=200)
@given(repositories())
def test_status_matches_a_naive_replay(case: tuple[Repository, datetime]) -> None:
    repo, now = case
    result = snapshot(repo, now)
    for current in result.current:
        status, since, path = naive_status(repo, current.establishment.id, now)
        assert current.status is status
        assert current.since == since
        assert (current.statement.path if current.statement else None) == path


@settings(deadline=None, max_examples=200)
@given(repositories(), st.randoms(use_true_random=False))
def test_snapshot_ignores_input_order(
    case: tuple[Repository, datetime], rng: random.Random
) -> None:
    repo, now = case
    shuffled = list(repo.statements)
    rng.shuffle(shuffled)
    mixed = Repository(repo.organisation, repo.establishments, tuple(shuffled), repo.site)
    assert snapshot(mixed, now) == snapshot(repo, now)


@settings(deadline=None, max_examples=200)
@given(repositories())
def test_since_is_a_published_date_or_the_default(case: tuple[Repository, datetime]) -> None:
    repo, now = case
    result = snapshot(repo, now)
    dates = {s.date for s in result.published}
    default = result.published[0].date if result.published else now
    for current in result.current:
        assert current.since <= now
        if current.statement is None:
            assert current.since == default
        else:
            assert current.since in dates
            assert current.since <= current.statement.date
            assert current.statement in result.history[current.establishment.id]


@settings(deadline=None, max_examples=200)
@given(repositories())
def test_incidents_match_a_naive_replay(case: tuple[Repository, datetime]) -> None:
    repo, now = case
    result = snapshot(repo, now)
    visible = published(repo.statements, now)
    slugs = {s.incident for s in visible if s.incident}
    assert {i.id for i in result.incidents} == slugs
    for incident in result.incidents:
        thread = tuple(s for s in visible if s.incident == incident.id)
        assert incident.statements == thread
        assert incident.resolved_at == naive_resolved_at(thread)
        # Status lists mildest first, so the worst is the last one the thread used.
        set_statuses = {status for s in thread for _, status in s.status}
        assert incident.worst is max(set_statuses or {NORMAL}, key=list(Status).index)
    actives = [i.active for i in result.incidents]
    assert actives == sorted(actives, reverse=True)


@st.composite
def unique_repositories(draw: st.DrawFn) -> tuple[Repository, datetime]:
    """As `repositories`, with the unique statement ids validation guarantees."""
    repo, now = draw(repositories())
    renamed = tuple(dataclasses.replace(s, id=f"s{i}") for i, s in enumerate(repo.statements))
    return dataclasses.replace(repo, statements=renamed), now


def naive_before(visible: list[Statement], statement: Statement, eid: str) -> Status:
    """The status an establishment had just before `statement`: from the latest earlier
    statement naming it, by (date, path); normal when none did."""
    earlier = [s for s in visible if eid in dict(s.status) and sort_key(s) < sort_key(statement)]
    return dict(max(earlier, key=sort_key).status)[eid] if earlier else NORMAL


@settings(deadline=None, max_examples=200)
@given(unique_repositories())
def test_changes_match_a_naive_replay(case: tuple[Repository, datetime]) -> None:
    repo, now = case
    result = snapshot(repo, now)
    visible = list(published(repo.statements, now))
    assert set(result.changes) == {s.id for s in visible}
    for s in visible:
        expected = tuple(
            Change(eid, naive_before(visible, s, eid), after) for eid, after in s.status
        )
        assert result.changes[s.id] == expected


def naive_phases(visible: list[Statement], thread: tuple[Statement, ...]) -> list[Phase]:
    """Written from the rules: nobody named yet, investigating; everyone named normal,
    resolved; information only, unchanged; some severity lower and none higher, monitoring;
    otherwise identified. A thread whose end is resolved (informational too) ends resolved."""
    found: list[Phase] = []
    for i, s in enumerate(thread):
        named = {eid: status for t in thread[: i + 1] for eid, status in t.status}
        severities = [
            (naive_before(visible, s, eid).severity, after.severity) for eid, after in s.status
        ]
        improves = any(after < before for before, after in severities) and all(
            after <= before for before, after in severities
        )
        if not named:
            found.append(Phase.INVESTIGATING)
        elif all(status is NORMAL for status in named.values()):
            found.append(Phase.RESOLVED)
        elif not s.status:
            found.append(found[-1])
        elif improves:
            found.append(Phase.MONITORING)
        else:
            found.append(Phase.IDENTIFIED)
    if naive_resolved_at(thread) is not None:
        found[-1] = Phase.RESOLVED
    return found


@settings(deadline=None, max_examples=200)
@given(unique_repositories())
def test_phases_match_a_naive_replay(case: tuple[Repository, datetime]) -> None:
    repo, now = case
    result = snapshot(repo, now)
    visible = list(published(repo.statements, now))
    for incident in result.incidents:
        assert list(incident.phases) == naive_phases(visible, incident.statements)


@settings(deadline=None, max_examples=200)
@given(unique_repositories())
def test_phase_properties(case: tuple[Repository, datetime]) -> None:
    repo, now = case
    for incident in snapshot(repo, now).incidents:
        assert len(incident.phases) == len(incident.statements)
        # Resolved at the end exactly when the incident is no longer active.
        assert (incident.phase is Phase.RESOLVED) == (not incident.active)
        # Investigating only while nothing is named, so only before the first status.
        first_named = next(
            (i for i, s in enumerate(incident.statements) if s.status), len(incident.statements)
        )
        for i, phase in enumerate(incident.phases):
            if phase is Phase.INVESTIGATING:
                assert i < first_named
        # monitoring_at: a monitoring statement not followed by a setback.
        if incident.monitoring_at is not None:
            pairs = list(zip(incident.statements, incident.phases, strict=True))
            starts = [i for i, (s, p) in enumerate(pairs) if p is Phase.MONITORING]
            start = max(i for i in starts if pairs[i][0].date == incident.monitoring_at)
            assert all(p in (Phase.MONITORING, Phase.RESOLVED) for _, p in pairs[start:]), (
                incident.phases
            )


@given(st.lists(st.sampled_from(STATUSES)))
def test_worst_is_first_in_the_most_severe_order(statuses: list[Status]) -> None:
    ranked = sorted(statuses, key=severity_key, reverse=True)
    assert worst(statuses) is (ranked[0] if ranked else NORMAL)
    assert all(severity_key(worst(statuses)) >= severity_key(s) for s in statuses)

"""Tests for CONTRACT §9 in balise.timeline: service statuses, redirects, statements that
concern an establishment, and maintenance windows; Hypothesis against a brute-force replay."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from balise.model import (
    Establishment,
    MaintenanceState,
    Organisation,
    Redirect,
    Repository,
    Service,
    Site,
    Statement,
    StatementType,
    Status,
    sort_key,
)
from balise.timeline import Snapshot, snapshot

BASE = datetime(2024, 10, 14, 8, 0, tzinfo=UTC)
NORMAL, MAINTENANCE = Status.NORMAL, Status.MAINTENANCE
DEGRADED, DISRUPTED, DOWN = Status.DEGRADED, Status.DISRUPTED, Status.DOWN
STATUSES = (NORMAL, MAINTENANCE, DEGRADED, DISRUPTED, DOWN)
# a has both services, b only "urg", c none.
HAS = {"a": ("urg", "chir"), "b": ("urg",), "c": ()}
IDS = tuple(HAS)
SERVICES = (Service("urg", "Urgences"), Service("chir", "Chirurgie"))


def at(hours: float) -> datetime:
    return BASE + timedelta(hours=hours)


def resolve(raw: dict[str, Status]) -> tuple[tuple, tuple]:
    """What validate makes of a raw `status` mapping: establishments, then services."""
    establishments = tuple(
        (e, raw[e] if e in raw else raw["all"]) for e in IDS if e in raw or "all" in raw
    )
    services = []
    for e in IDS:
        for s in HAS[e]:
            for key in (f"{e}/{s}", f"all/{s}", e, "all"):
                if key in raw:
                    services.append((f"{e}/{s}", raw[key]))
                    break
    return establishments, tuple(services)


def statement(
    name: str,
    hours: float,
    raw: dict[str, Status] | None = None,
    *,
    window: tuple[float, float] | None = None,
    redirect: dict[str, Redirect] | None = None,
    concerns: tuple[str, ...] = (),
    incident: str | None = None,
) -> Statement:
    establishments, services = resolve(raw or {})
    return Statement(
        id=name,
        path=f"statements/{name}.md",
        title=f"Title {name}",
        date=at(hours),
        body="Body.",
        summary="Body.",
        status=establishments,
        sets_all="all" in (raw or {}),
        type=StatementType.MAINTENANCE if window else StatementType.UPDATE,
        incident=incident,
        service_status=services,
        concerns=concerns,
        redirect=tuple((redirect or {}).items()),
        start=at(window[0]) if window else None,
        end=at(window[1]) if window else None,
    )


def repository(*statements: Statement) -> Repository:
    return Repository(
        organisation=Organisation(name="Hospi Test"),
        establishments=tuple(
            Establishment(id=e, name=f"Etab {e}", city="Rennes", services=HAS[e]) for e in IDS
        ),
        statements=tuple(sorted(statements, key=sort_key)),
        site=Site(name="Test", url="https://status.example.org/"),
        services=SERVICES,
    )


def snap(*statements: Statement, now: float = 1000) -> Snapshot:
    return snapshot(repository(*statements), at(now))


def service(snapshot_: Snapshot, key: str):
    establishment_id, service_id = key.split("/")
    current = snapshot_.status_of(establishment_id)
    return next(s for s in current.services if s.service.id == service_id)


# --- services -----------------------------------------------------------------------------


def test_a_service_never_named_is_normal_since_the_first_statement() -> None:
    found = service(snap(statement("one", 1, {"c": DOWN})), "a/urg")
    assert (found.status, found.since, found.statement) == (NORMAL, at(1), None)


def test_a_service_key_leaves_its_establishment_as_it_was() -> None:
    s = snap(statement("one", 1, {"a": DEGRADED}), statement("two", 2, {"a/chir": DOWN}))
    assert s.status_of("a").status is DEGRADED
    assert s.status_of("a").statement.id == "one"
    assert service(s, "a/chir").status is DOWN
    assert service(s, "a/urg").status is DEGRADED
    assert service(s, "a/urg").since == at(1)


def test_an_establishment_key_puts_its_services_back_to_normal() -> None:
    s = snap(
        statement("one", 1, {"a/chir": DOWN, "all/urg": DISRUPTED}),
        statement("two", 2, {"a": NORMAL}),
    )
    assert [(x.service.id, x.status) for x in s.status_of("a").services] == [
        ("urg", NORMAL),
        ("chir", NORMAL),
    ]
    assert service(s, "b/urg").status is DISRUPTED


def test_service_since_follows_the_run_rule() -> None:
    s = snap(
        statement("one", 1, {"a/urg": DOWN}),
        statement("two", 2, {"a": DOWN}),
        statement("three", 3, {"all/urg": DOWN}),
    )
    found = service(s, "a/urg")
    assert (found.status, found.since, found.statement.id) == (DOWN, at(1), "three")


def test_services_follow_registry_order() -> None:
    assert [x.service.id for x in snap().status_of("a").services] == ["urg", "chir"]
    assert snap().status_of("c").services == ()


def test_worst_service() -> None:
    s = snap(statement("one", 1, {"a/chir": DOWN, "a/urg": DEGRADED}))
    assert s.status_of("a").worst_service.service.id == "chir"
    assert s.status_of("c").worst_service is None


def test_a_thread_naming_only_a_service_is_active_until_it_is_normal() -> None:
    down = statement("one", 1, {"a/chir": DOWN}, incident="i")
    assert snap(down).incidents[0].active
    assert snap(down).incidents[0].establishments == ("a",)
    back = statement("two", 2, {"a/chir": NORMAL}, incident="i")
    assert snap(down, back).incidents[0].resolved_at == at(2)


# --- redirect -----------------------------------------------------------------------------


def test_redirect_holds_until_another_replaces_it() -> None:
    to_b, text = Redirect("b"), Redirect(None, "CHU de Rennes")
    one = statement("one", 1, {"a": DOWN}, redirect={"a": to_b})
    assert snap(one).status_of("a").redirect == to_b
    info = statement("two", 2)
    assert snap(one, info).status_of("a").redirect == to_b
    other = statement("three", 3, {"a": DOWN}, redirect={"a": text})
    assert snap(one, info, other).status_of("a").redirect == text


def test_redirect_ends_when_back_to_normal() -> None:
    one = statement("one", 1, {"a": DOWN, "a/urg": DOWN}, redirect={"a": Redirect("b")})
    one = dataclasses.replace(one, redirect=(*one.redirect, ("a/urg", Redirect("c"))))
    assert service(snap(one), "a/urg").redirect == Redirect("c")
    back = statement("two", 2, {"a": NORMAL})
    assert snap(one, back).status_of("a").redirect is None
    assert service(snap(one, back), "a/urg").redirect is None
    again = statement("three", 3, {"a": DOWN})
    assert snap(one, back, again).status_of("a").redirect is None


def test_service_redirect_ends_with_its_service_only() -> None:
    one = statement("one", 1, {"a": DOWN}, redirect={"a/urg": Redirect("b")})
    chir_back = statement("two", 2, {"a/chir": NORMAL})
    assert service(snap(one, chir_back), "a/urg").redirect == Redirect("b")


def test_redirect_of_an_establishment_running_normally_is_dropped() -> None:
    one = statement("one", 1, {"a": NORMAL}, redirect={"a": Redirect("b")})
    assert snap(one).status_of("a").redirect is None
    quiet = statement("one", 1, redirect={"a": Redirect("b")})
    assert snap(quiet).status_of("a").redirect is None
    assert snap(quiet).status_of("a").since == at(1)


# --- concerns -----------------------------------------------------------------------------


def test_concerning_holds_status_services_and_concerns() -> None:
    sets = statement("one", 1, {"a": DOWN})
    service_only = statement("two", 2, {"b/urg": DOWN})
    concerns = statement("three", 3, concerns=("c", "a"))
    s = snap(sets, service_only, concerns)
    assert [x.id for x in s.concerning["a"]] == ["one", "three"]
    assert [x.id for x in s.concerning["b"]] == ["two"]
    assert [x.id for x in s.concerning["c"]] == ["three"]
    assert [x.id for x in s.history["a"]] == ["one"]  # history: statuses set, as before
    assert s.status_of("c").status is NORMAL


# --- maintenance windows ------------------------------------------------------------------


def test_maintenance_takes_effect_at_start_and_undoes_at_end() -> None:
    before = statement("crisis", 1, {"a": DEGRADED})
    window = statement("window", 2, {"a": MAINTENANCE}, window=(10, 12))
    for now, expected, state in (
        (5, DEGRADED, MaintenanceState.UPCOMING),
        (10, MAINTENANCE, MaintenanceState.ACTIVE),
        (11, MAINTENANCE, MaintenanceState.ACTIVE),
        (12, DEGRADED, MaintenanceState.COMPLETED),
    ):
        s = snap(before, window, now=now)
        assert s.status_of("a").status is expected, now
        assert s.maintenances[0].state is state
    s = snap(before, window, now=11)
    assert s.status_of("a").since == at(10)
    assert s.status_of("a").statement.id == "window"
    s = snap(before, window, now=13)
    assert (s.status_of("a").since, s.status_of("a").statement.id) == (at(12), "crisis")


def test_maintenance_is_not_published_before_its_date() -> None:
    window = statement("window", 5, {"a": MAINTENANCE}, window=(10, 12))
    assert snap(window, now=4).maintenances == ()
    assert snap(window, now=5).maintenances[0].establishments == ("a",)


def test_a_statement_during_the_window_keeps_what_it_sets() -> None:
    window = statement("window", 2, {"a": MAINTENANCE, "b": MAINTENANCE}, window=(10, 12))
    during = statement("during", 11, {"a": DOWN})
    s = snap(window, during, now=20)
    assert s.status_of("a").status is DOWN
    assert s.status_of("b").status is NORMAL


def test_maintenance_of_a_service() -> None:
    window = statement("window", 2, {"a/chir": MAINTENANCE}, window=(10, 12))
    assert service(snap(window, now=11), "a/chir").status is MAINTENANCE
    assert snap(window, now=11).status_of("a").status is NORMAL
    assert service(snap(window, now=12), "a/chir").status is NORMAL


def test_nested_windows_return_to_what_was_before_both() -> None:
    crisis = statement("crisis", 0, {"a": DEGRADED})
    outer = statement("outer", 1, {"a": MAINTENANCE}, window=(2, 5))
    inner = statement("inner", 1, {"a": DISRUPTED}, window=(3, 8))
    assert snap(crisis, outer, inner, now=4).status_of("a").status is DISRUPTED
    assert snap(crisis, outer, inner, now=6).status_of("a").status is DISRUPTED
    assert snap(crisis, outer, inner, now=8).status_of("a").status is DEGRADED


def test_window_redirect_ends_with_the_window() -> None:
    window = statement(
        "window", 2, {"a": MAINTENANCE}, window=(10, 12), redirect={"a": Redirect("b")}
    )
    assert snap(window, now=5).status_of("a").redirect is None
    assert snap(window, now=11).status_of("a").redirect == Redirect("b")
    assert snap(window, now=12).status_of("a").redirect is None


def test_maintenances_are_ordered_by_start() -> None:
    late = statement("late", 1, {"a": MAINTENANCE}, window=(20, 22))
    early = statement("early", 2, {"b": MAINTENANCE}, window=(10, 12))
    assert [m.statement.id for m in snap(late, early).maintenances] == ["early", "late"]


def test_upcoming_window_change_is_what_it_will_do() -> None:
    crisis = statement("crisis", 1, {"a": DEGRADED})
    window = statement("window", 2, {"a": MAINTENANCE}, window=(10, 12))
    (change,) = snap(crisis, window, now=5).changes["window"]
    assert (change.before, change.after) == (DEGRADED, MAINTENANCE)


# --- properties against a brute-force replay ----------------------------------------------

KEYS = ("all", "a", "b", "c", "a/urg", "a/chir", "b/urg", "all/urg", "all/chir")
NAMED_KEYS = ("a", "b", "c", "a/urg", "a/chir", "b/urg")


@st.composite
def repositories(draw: st.DrawFn) -> tuple[Repository, datetime]:
    count = draw(st.integers(0, 7))
    statements = []
    for n in range(count):
        raw = draw(st.dictionaries(st.sampled_from(KEYS), st.sampled_from(STATUSES), max_size=4))
        hours = draw(st.integers(0, 12))
        window = None
        if draw(st.booleans()):
            start = draw(st.integers(0, 14))
            window = (start, start + draw(st.integers(1, 6)))
        statements.append(statement(f"s{n}", hours, raw, window=window))
    return repository(*statements), at(draw(st.integers(0, 22)))


def raw_value(s: Statement, key: str) -> Status | None:
    """The status a statement gives a key, from its resolved establishments and services."""
    return dict(s.status).get(key) if "/" not in key else dict(s.service_status).get(key)


def events(repo: Repository, now: datetime) -> list[tuple[datetime, int, str, Statement]]:
    """Effects (at date, or start) and ends, up to NOW; at one instant, effects first."""
    found = []
    for s in repo.statements:
        if s.date > now:
            continue
        effective = s.start if s.start is not None else s.date
        if effective <= now:
            found.append((effective, 0, s.path, s))
        if s.end is not None and s.end <= now:
            found.append((s.end, 1, s.path, s))
    return sorted(found, key=lambda e: e[:3])


def naive_status(prefix: list[tuple[datetime, int, str, Statement]], key: str) -> Status:
    """The latest effect naming the key wins, unless it is a window that has ended: then
    the state before it, found the same way."""
    effects = [e[3] for e in prefix if e[1] == 0 and raw_value(e[3], key) is not None]
    ended = {e[3].id for e in prefix if e[1] == 1}
    while effects and effects[-1].id in ended:
        effects.pop()
    return raw_value(effects[-1], key) if effects else NORMAL


def naive_since(repo: Repository, now: datetime, key: str) -> datetime:
    """The run rule over the points where the key may change: each statement taking effect
    that names it, and the ends of windows naming it, the ends of one instant counting as
    one point (two windows ending at once never show what was between them)."""
    found = events(repo, now)
    points: list[tuple[datetime, Status]] = []
    last_end: datetime | None = None
    for index, event in enumerate(found):
        if raw_value(event[3], key) is None:
            continue
        status = naive_status(found[: index + 1], key)
        if event[1] == 1 and last_end == event[0]:
            points[-1] = (event[0], status)
        else:
            points.append((event[0], status))
        last_end = event[0] if event[1] == 1 else None
    shown = sorted((s for s in repo.statements if s.date <= now), key=sort_key)
    if not points:
        return shown[0].date if shown else now
    since = points[-1][0]
    for instant, status in reversed(points):
        if status is not points[-1][1]:
            break
        since = instant
    return since


def current(s: Snapshot, key: str):
    return s.status_of(key) if "/" not in key else service(s, key)


@settings(deadline=None, max_examples=300)
@given(repositories())
def test_statuses_match_a_brute_force_replay(case: tuple[Repository, datetime]) -> None:
    repo, now = case
    s = snapshot(repo, now)
    for key in NAMED_KEYS:
        assert current(s, key).status is naive_status(events(repo, now), key), key


@settings(deadline=None, max_examples=300)
@given(repositories())
def test_since_matches_a_brute_force_replay(case: tuple[Repository, datetime]) -> None:
    repo, now = case
    s = snapshot(repo, now)
    for key in NAMED_KEYS:
        assert current(s, key).since == naive_since(repo, now, key), key


@settings(deadline=None, max_examples=200)
@given(repositories())
def test_maintenance_states_follow_now(case: tuple[Repository, datetime]) -> None:
    repo, now = case
    s = snapshot(repo, now)
    windows = [x for x in repo.statements if x.start is not None and x.date <= now]
    assert len(s.maintenances) == len(windows)
    for m in s.maintenances:
        expected = (
            MaintenanceState.UPCOMING
            if now < m.start
            else MaintenanceState.ACTIVE
            if now < m.end
            else MaintenanceState.COMPLETED
        )
        assert m.state is expected


@settings(deadline=None, max_examples=200)
@given(repositories())
def test_without_windows_services_are_the_latest_statement_naming_them(
    case: tuple[Repository, datetime],
) -> None:
    repo, now = case
    plain = dataclasses.replace(
        repo,
        statements=tuple(
            dataclasses.replace(x, type=StatementType.UPDATE, start=None, end=None)
            for x in repo.statements
        ),
    )
    s = snapshot(plain, now)
    shown = [x for x in plain.statements if x.date <= now]
    for key in NAMED_KEYS:
        naming = [x for x in shown if raw_value(x, key) is not None]
        expected = raw_value(naming[-1], key) if naming else NORMAL
        assert current(s, key).status is expected
        assert current(s, key).statement == (naming[-1] if naming else None)


REDIRECTS = (Redirect("b"), Redirect("c"), Redirect(None, "CHU de Rennes, 02 99 00 00 00"))


@st.composite
def redirecting_repositories(draw: st.DrawFn) -> tuple[Repository, datetime]:
    """Statements without windows that set statuses and redirects."""
    statements = []
    for n in range(draw(st.integers(0, 7))):
        raw = draw(st.dictionaries(st.sampled_from(KEYS), st.sampled_from(STATUSES), max_size=4))
        redirect = draw(
            st.dictionaries(st.sampled_from(NAMED_KEYS), st.sampled_from(REDIRECTS), max_size=2)
        )
        statements.append(statement(f"s{n}", draw(st.integers(0, 12)), raw, redirect=redirect))
    return repository(*statements), at(draw(st.integers(0, 14)))


def naive_redirect(repo: Repository, now: datetime, key: str) -> Redirect | None:
    """CONTRACT §9: a redirect holds from the statement that sets it until a later one sets
    another for the same key, or the key is back to normal (never named counts as normal)."""
    found = events(repo, now)
    redirect = None
    for index, (_, _, _, s) in enumerate(found):
        redirect = dict(s.redirect).get(key, redirect)
        if naive_status(found[: index + 1], key) is NORMAL:
            redirect = None
    return redirect


@settings(deadline=None, max_examples=300)
@given(redirecting_repositories())
def test_redirects_match_a_brute_force_replay(case: tuple[Repository, datetime]) -> None:
    repo, now = case
    s = snapshot(repo, now)
    for key in NAMED_KEYS:
        assert current(s, key).redirect == naive_redirect(repo, now, key), key

"""Planning what `post` sends: published only, never twice, no flood on a first run."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from announce_fakes import make_repository, statement

from balise.announce.ledger import ATTEMPTED, POSTED, SKIPPED, Entry, Ledger
from balise.announce.plan import plan, publication
from balise.build import check
from balise.timeline import snapshot

NOW = datetime.fromisoformat("2024-10-09T12:00:00+02:00")
ALL = ("x", "mastodon", "bluesky")


def repository(tmp_path: Path):
    root = make_repository(
        tmp_path,
        {
            "ancien": statement("Ancien", "2024-10-07T09:00:00+02:00"),
            "recent": statement("Récent", "2024-10-09T08:00:00+02:00"),
            "muet": statement("Muet", "2024-10-09T09:00:00+02:00", "social: false"),
            "brouillon": statement("Brouillon", "2024-10-09T09:30:00+02:00", "draft: true"),
            "embargo": statement(
                "Embargo", "2024-10-09T09:00:00+02:00", "publish_at: 2024-10-09T18:00:00+02:00"
            ),
            "leve": statement(
                "Embargo levé", "2024-10-06T09:00:00+02:00", "publish_at: 2024-10-09T11:00:00+02:00"
            ),
            "futur": statement("Futur", "2024-10-10T09:00:00+02:00"),
        },
    )
    outcome = check(root)
    assert outcome.repository is not None, outcome.problems
    return outcome.repository


def pairs(items) -> list[tuple[str, str]]:
    return [(p.statement.id, p.network) for p in items]


def test_first_run_posts_the_last_24_hours_and_records_older_ones(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    decided = plan(snapshot(repo, NOW), Ledger(), ALL, NOW)
    assert pairs(decided.pending) == [(s, n) for s in ("recent", "leve") for n in ALL]
    assert [(s.id, n) for s, n in decided.skipped] == [("ancien", n) for n in ALL]
    assert decided.since == {n: NOW - timedelta(hours=24) for n in ALL}
    assert decided.new == ALL


def test_drafts_embargoed_future_and_social_false_are_never_planned(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    early = datetime.fromisoformat("2024-01-01T00:00:00+00:00")
    decided = plan(snapshot(repo, NOW), Ledger(), ALL, NOW, since=early)
    planned = {p.statement.id for p in decided.pending}
    assert planned == {"ancien", "recent", "leve"}
    # once the embargo ends and the future comes, they are due
    later = datetime.fromisoformat("2024-10-10T12:00:00+02:00")
    planned = {p.statement.id for p in plan(snapshot(repo, later), Ledger(), ALL, later).pending}
    assert planned == {"embargo", "futur"}


def test_an_embargoed_statement_is_dated_by_its_publication(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    leve = next(s for s in repo.statements if s.id == "leve")
    assert publication(leve) == leve.publish_at


def test_the_window_is_configurable(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    decided = plan(snapshot(repo, NOW), Ledger(), ["x"], NOW, window=timedelta(hours=2))
    assert pairs(decided.pending) == [("leve", "x")]
    assert {s.id for s, _ in decided.skipped} == {"ancien", "recent"}


def test_posted_and_skipped_statements_are_not_planned_again(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    ledger = Ledger().starting(NOW, {n: NOW - timedelta(days=30) for n in ALL})
    ledger = ledger.with_entry("recent", "x", Entry(POSTED, NOW, "1", "u"))
    ledger = ledger.with_entry("ancien", "x", Entry(SKIPPED, NOW))
    decided = plan(snapshot(repo, NOW), ledger, ["x"], NOW)
    assert pairs(decided.pending) == [("leve", "x")]
    assert decided.skipped == ()


def test_since_reopens_statements_recorded_as_not_to_post(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    ledger = Ledger().starting(NOW, {"x": NOW})
    ledger = ledger.with_entry("ancien", "x", Entry(SKIPPED, NOW))
    ledger = ledger.with_entry("recent", "x", Entry(POSTED, NOW, "1", "u"))
    since = datetime.fromisoformat("2024-10-07T00:00:00+02:00")
    decided = plan(snapshot(repo, NOW), ledger, ["x"], NOW, since=since)
    assert pairs(decided.pending) == [("ancien", "x"), ("leve", "x")]  # never "recent" again


def test_an_interrupted_send_is_resumed_with_its_key(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    ledger = Ledger().starting(NOW, {"bluesky": NOW})  # horizon after it: still resumed
    ledger = ledger.with_entry("recent", "bluesky", Entry(ATTEMPTED, NOW, key="3kabc"))
    (pending,) = plan(snapshot(repo, NOW), ledger, ["bluesky"], NOW).pending
    assert (pending.statement.id, pending.resumed, pending.previous.key) == (
        "recent",
        True,
        "3kabc",
    )


def test_a_network_added_later_gets_its_own_first_run(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    month_ago = NOW - timedelta(days=30)
    ledger = Ledger().starting(month_ago, {"x": month_ago})
    decided = plan(snapshot(repo, NOW), ledger, ["x", "bluesky"], NOW)
    assert pairs(decided.pending) == [
        ("ancien", "x"),
        ("recent", "x"),
        ("recent", "bluesky"),
        ("leve", "x"),
        ("leve", "bluesky"),
    ]
    assert [(s.id, n) for s, n in decided.skipped] == [("ancien", "bluesky")]
    assert decided.new == ("bluesky",)


def test_a_withdrawn_statement_is_never_planned_on_any_channel(tmp_path: Path) -> None:
    root = make_repository(
        tmp_path,
        {
            "juste": statement("Juste", "2024-10-09T08:00:00+02:00"),
            "faux": statement(
                "Faux", "2024-10-09T09:00:00+02:00", 'withdrawn: "Mauvais établissement"'
            ),
        },
    )
    outcome = check(root)
    assert outcome.repository is not None, outcome.problems
    channels = (*ALL, "email", "webhook:1a2b3c4d")
    early = datetime.fromisoformat("2024-01-01T00:00:00+00:00")
    decided = plan(snapshot(outcome.repository, NOW), Ledger(), channels, NOW, since=early)
    assert {p.statement.id for p in decided.pending} == {"juste"}
    assert "faux" not in {s.id for s, _ in decided.skipped}

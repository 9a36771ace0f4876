"""Withdrawing a published statement (`withdrawn: "raison"`): out of the timeline, in one
place, while its permalink and its feed entries stay and say so.

Timeline and feeds are tested on values; one end-to-end build checks every output for leaks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from bs4 import BeautifulSoup
from conftest import DATA, TINY_NOW
from hypothesis import given, settings
from hypothesis import strategies as st

from balise import french
from balise.build import build
from balise.deploy import changes, describe
from balise.errors import Problem
from balise.load import RawFile, parse_yaml, split_front_matter
from balise.model import Establishment, Organisation, Repository, Site, Statement, Status, sort_key
from balise.render.api import status_document
from balise.render.feeds import render_feeds, render_feeds_plainly
from balise.timeline import Snapshot, snapshot
from balise.validate.statement import Context, statement

BASE = datetime(2024, 10, 14, 8, 0, tzinfo=UTC)
IDS = ("a", "b", "c")
REASON = "publié par erreur : il concernait un autre établissement"


def at(hours: float) -> datetime:
    return BASE + timedelta(hours=hours)


def made(
    name: str,
    hours: float,
    status: dict[str, Status] | None = None,
    *,
    incident: str | None = None,
    withdrawn: str | None = None,
    updated: datetime | None = None,
) -> Statement:
    return Statement(
        id=name,
        path=f"statements/{name}.md",
        title=f"Titre {name}",
        date=at(hours),
        body=f"Texte {name}.",
        summary=f"Texte {name}.",
        status=tuple((i, s) for i, s in (status or {}).items()),
        incident=incident,
        withdrawn=withdrawn,
        updated=updated,
    )


def repository(*statements: Statement) -> Repository:
    return Repository(
        organisation=Organisation(name="Hospi Test"),
        establishments=tuple(Establishment(id=i, name=f"Etab {i}", city="Rennes") for i in IDS),
        statements=tuple(sorted(statements, key=sort_key)),
        site=Site(name="Test", url="https://status.example.org/"),
    )


def snap(*statements: Statement, now: float = 1000) -> Snapshot:
    return snapshot(repository(*statements), at(now))


# --- the timeline ----------------------------------------------------------------------------


def test_a_withdrawn_statement_sets_nothing_and_the_status_falls_back() -> None:
    first = made("first", 1, {"a": Status.DEGRADED}, incident="x")
    wrong = made("wrong", 2, {"a": Status.DOWN}, incident="x", withdrawn=REASON)
    found = snap(first, wrong)
    current = found.status_of("a")
    assert (current.status, current.since, current.statement) == (Status.DEGRADED, at(1), first)
    assert found.published == (first,)
    assert [w.statement for w in found.withdrawn] == [wrong]
    assert found.withdrawn[0].reason == REASON
    assert found.issued == (first, wrong)
    assert "wrong" not in found.changes
    assert [s.id for s in found.history["a"]] == ["first"]
    assert [s.id for s in found.concerning["a"]] == ["first"]
    (incident,) = found.incidents
    assert incident.statements == (first,) and incident.worst is Status.DEGRADED
    assert found.last_update == at(1)


def test_withdrawing_the_statement_that_broke_a_run_keeps_the_since_of_the_run() -> None:
    start = made("start", 1, {"a": Status.DEGRADED})
    wrong = made("wrong", 2, {"a": Status.NORMAL}, withdrawn=REASON)
    again = made("again", 3, {"a": Status.DEGRADED})
    current = snap(start, wrong, again).status_of("a")
    assert (current.status, current.since) == (Status.DEGRADED, at(1))  # one unbroken run


def test_withdrawing_the_only_statement_of_an_incident_removes_the_incident() -> None:
    wrong = made("wrong", 2, {"b": Status.DOWN}, incident="fausse-alerte", withdrawn=REASON)
    found = snap(wrong)
    assert found.incidents == () and found.status_of("b").status is Status.NORMAL
    assert found.status_of("b").statement is None and found.published == ()


def test_a_withdrawn_draft_or_future_statement_is_not_issued_at_all() -> None:
    future = made("future", 2000, {"a": Status.DOWN}, withdrawn=REASON)
    found = snap(future)
    assert found.withdrawn == () and found.issued == ()


def test_the_withdrawal_is_the_last_commit_never_after_now_and_now_without_git() -> None:
    committed = made("w", 1, withdrawn=REASON, updated=at(5))
    assert snap(committed, now=10).withdrawn[0].at == at(5)
    assert snap(committed, now=3).withdrawn[0].at == at(3)  # a replay: not seen yet
    assert snap(made("w", 1, withdrawn=REASON), now=10).withdrawn[0].at == at(10)


_STATUSES = st.sampled_from(list(Status))
_STATEMENTS = st.lists(
    st.tuples(
        st.integers(0, 40),  # hours
        st.dictionaries(st.sampled_from(IDS), _STATUSES, max_size=3),
        st.sampled_from([None, "x", "y"]),
        st.booleans(),  # withdrawn
    ),
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(_STATEMENTS)
def test_withdrawing_is_the_timeline_without_the_statement(drawn: list) -> None:
    with_withdrawals = [
        made(f"s{n}", hours, status, incident=incident, withdrawn=REASON if gone else None)
        for n, (hours, status, incident, gone) in enumerate(drawn)
    ]
    kept = [s for s in with_withdrawals if s.withdrawn is None]
    found, without = snap(*with_withdrawals, now=30), snap(*kept, now=30)
    assert found.current == without.current
    assert found.published == without.published
    assert found.incidents == without.incidents
    assert dict(found.changes) == dict(without.changes)
    assert dict(found.concerning) == dict(without.concerning)
    assert dict(found.history) == dict(without.history)
    shown = {w.statement.id for w in found.withdrawn}
    assert shown == {s.id for s in with_withdrawals if s.withdrawn and s.date <= at(30)}
    # ... and so every output made from the timeline but pages and feeds:
    document = status_document(repository(*with_withdrawals), found)
    plain = status_document(repository(*kept), without)
    document.pop("withdrawn", None)
    assert document == plain


# --- validation ----------------------------------------------------------------------------


def problems_of(front: str) -> tuple[list[str], Statement | None]:
    text = f"---\ntitle: T\ndate: 2024-10-05T08:00:00+02:00\n{front}---\nTexte.\n"
    parts = split_front_matter(text)
    assert not isinstance(parts, str)
    head, head_line, body, body_line = parts
    met: list[Problem] = []
    data = parse_yaml(head, "statements/a.md", head_line, met)
    raw = RawFile("statements/a.md", data, body, body_line)
    checked = statement(raw, Context("Europe/Paris", ("alpha",)), met)
    return [str(p) for p in met], checked.statement


def test_withdrawn_is_the_reason_as_written() -> None:
    found, made_ = problems_of(f'withdrawn: "{REASON}"\n')
    assert found == [] and made_ is not None and made_.withdrawn == REASON
    found, made_ = problems_of("")
    assert found == [] and made_ is not None and made_.withdrawn is None


HINT = '(write withdrawn: "raison" (why it was withdrawn, one line), or remove the line)'


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("true", '"withdrawn" must be the reason, not "true"'),
        ("false", '"withdrawn" must be the reason, not "false"'),
        ('""', '"withdrawn" is empty'),
        ("", '"withdrawn" is empty'),
        ("[a, b]", '"withdrawn" must be the reason, not a list'),
        ('"deux\\nlignes"', '"withdrawn" must be a single line'),
    ],
)
def test_a_withdrawal_without_its_reason_is_an_error_at_its_line(
    written: str, message: str
) -> None:
    found, made_ = problems_of(f"status:\n  alpha: normal\nwithdrawn: {written}\n")
    assert found == [f"statements/a.md:6: {message} {HINT}"] and made_ is None


def test_a_reason_longer_than_a_summary_is_refused() -> None:
    found, _ = problems_of(f"withdrawn: {'x' * 281}\n")
    assert found == ['statements/a.md:4: "withdrawn" is longer than 280 characters (281)']


# --- feeds: the entry stays, says so, and reaches the head ---------------------------------


def sixty(*, withdrawn: dict[int, float]) -> Repository:
    """60 statements an hour apart naming `a`; `withdrawn`: number -> hour of the withdrawal."""
    return repository(
        *(
            made(
                f"s{n:02d}",
                n,
                {"a": Status.DEGRADED},
                withdrawn=REASON if n in withdrawn else None,
                updated=at(withdrawn[n]) if n in withdrawn else None,
            )
            for n in range(60)
        )
    )


def parsed(feeds: dict[str, bytes], path: str) -> feedparser.FeedParserDict:
    found = feedparser.parse(feeds[path])
    assert not found.bozo, found.bozo_exception
    return found


def entry(found: feedparser.FeedParserDict, name: str) -> feedparser.FeedParserDict:
    (one,) = [e for e in found.entries if e.id.endswith(f"/communiques/{name}.html")]
    return one


def test_a_withdrawn_entry_keeps_its_id_and_says_it_was_withdrawn() -> None:
    repo = sixty(withdrawn={55: 70})
    feeds = dict(render_feeds(repo, snapshot(repo, at(80))))
    for path in ("feeds/all.atom", "feeds/a.atom", "feeds/all.rss"):
        gone = entry(parsed(feeds, path), "s55")
        assert gone.id == "https://status.example.org/communiques/s55.html"
        assert gone.title == "[Retiré] Titre s55"
        assert "retiré le jeudi 17 octobre 2024 à 08:00" in gone.summary
        assert REASON in gone.summary and "Texte s55" not in gone.summary
        content = gone.content[0].value if "content" in gone else gone.summary
        assert "Communiqué retiré" in content and "Texte s55" not in content
        terms = {t.term for t in gone.get("tags", [])}
        statuses = {s.value for s in Status} | set(french.STATUS_LABELS.values())
        assert terms and not terms & statuses  # the places it named, no status it set
    atom = entry(parsed(feeds, "feeds/all.atom"), "s55")
    assert atom.updated_parsed[:5] == (2024, 10, 17, 6, 0)  # the withdrawal (UTC)
    assert atom.published_parsed[:5] == (2024, 10, 16, 15, 0)  # its date, unchanged


def test_an_old_statement_withdrawn_recently_is_in_the_head_and_stays_in_its_archive() -> None:
    # s03 is in archive page 1; withdrawn at hour 70, after the head's oldest entry (s10, hour
    # 10): a reader polling the head learns of it. s05, withdrawn at hour 6, before: it is not.
    repo = sixty(withdrawn={3: 70, 5: 6})
    feeds = dict(render_feeds(repo, snapshot(repo, at(80))))
    for kind in ("atom", "rss"):
        head = parsed(feeds, f"feeds/all.{kind}")
        archive = parsed(feeds, f"feeds/archives/all-1.{kind}")
        head_ids = [e.id.rsplit("/", 1)[1] for e in head.entries]
        assert head_ids == [f"s{n:02d}.html" for n in range(59, 9, -1)] + ["s03.html"]
        assert entry(head, "s03").title == entry(archive, "s03").title == "[Retiré] Titre s03"
        assert entry(archive, "s05").title == "[Retiré] Titre s05"
        archive_ids = [e.id.rsplit("/", 1)[1] for e in archive.entries]
        assert archive_ids == [f"s{n:02d}.html" for n in range(9, -1, -1)]  # in its place
    # The head is dated by its newest change: the withdrawal.
    assert parsed(feeds, "feeds/all.atom").feed.updated_parsed[:4] == (2024, 10, 17, 6)


def test_assembled_feeds_with_withdrawals_equal_feeds_built_whole() -> None:
    repo = sixty(withdrawn={3: 70, 5: 6, 58: 75})
    found = snapshot(repo, at(80))
    assert dict(render_feeds(repo, found)) == render_feeds_plainly(repo, found)


def test_the_same_sources_and_now_give_the_same_feeds_without_git() -> None:
    repo = repository(made("s", 1, {"a": Status.DOWN}, withdrawn=REASON))
    first = dict(render_feeds(repo, snapshot(repo, at(5))))
    assert first == dict(render_feeds(repo, snapshot(repo, at(5))))
    gone = entry(parsed(first, "feeds/all.atom"), "s")
    assert gone.updated_parsed[:4] == (2024, 10, 14, 13)  # NOW: git does not say


# --- end to end: every output of a build ----------------------------------------------------

WRONG = """---
title: Centre Gamma fermé
date: 2024-10-07T12:00:00+02:00
incident: attaque
status:
  gamma: interrompu
{withdrawn}---
Le centre Gamma est fermé : n'y allez pas.
"""
WRONG_PATH = "statements/2024/2024-10-07-gamma-ferme.md"
WRONG_ID = "2024-10-07-gamma-ferme"
# Hostile on purpose: shown verbatim, escaped everywhere.
E2E_REASON = "publié par erreur <b>& il concernait la clinique Alpha</b>"
WITHDRAWN_AT = "2024-10-08T09:15:00+02:00"  # the commit that withdrew it


def git(repo: Path, *args: str, when: str | None = None) -> None:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    if when:
        env.update(GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when)
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.org"]
    subprocess.run(["git", *identity, *args], cwd=repo, env=env, check=True, capture_output=True)


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """tiny with a wrong statement, built before and after its withdrawal (a git commit),
    and tiny without it at all."""
    root = tmp_path_factory.mktemp("withdrawn")
    repo = root / "repo"
    shutil.copytree(DATA / "tiny", repo)
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "Sources", when="2024-10-05T07:00:00+02:00")
    wrong = repo / WRONG_PATH
    wrong.write_text(WRONG.format(withdrawn=""), encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "Erreur", when="2024-10-07T12:00:00+02:00")
    before = root / "before"
    assert build(repo, before, TINY_NOW).ok
    reason = json.dumps(E2E_REASON, ensure_ascii=False)
    wrong.write_text(WRONG.format(withdrawn=f"withdrawn: {reason}\n"), encoding="utf-8")
    git(repo, "commit", "--quiet", "-am", "Retrait", when=WITHDRAWN_AT)
    after = root / "after"
    outcome = build(repo, after, TINY_NOW)
    assert outcome.ok, outcome.problems
    assert outcome.mkdocs_warnings == ()
    plain = root / "plain"
    assert build(DATA / "tiny", plain, TINY_NOW).ok
    return before, after, plain


def page(site: Path, path: str) -> BeautifulSoup:
    return BeautifulSoup((site / path).read_text(encoding="utf-8"), "html.parser")


def test_its_page_keeps_its_permalink_with_the_notice_and_noindex(sites: tuple) -> None:
    _, after, _ = sites
    found = page(after, f"communiques/{WRONG_ID}.html")
    notice = found.select_one(".balise-withdrawn")
    assert notice is not None
    text = " ".join(notice.get_text().split())
    assert text.startswith("Communiqué retiré")  # said in words, not by colour
    assert (
        f"Ce communiqué a été retiré le mardi 8 octobre 2024 à 09:15 : {E2E_REASON}. "
        "Il ne décrit pas la situation actuelle ; voir la page d'accueil."
    ) in text
    assert notice.find("a")["href"] == "../index.html"
    assert notice.find("time")["datetime"] == WITHDRAWN_AT
    assert "<b>&" not in str(notice)  # escaped: shown verbatim
    # The notice comes first, before the title and the text it withdraws.
    body = found.select_one(".md-content") or found
    assert str(body).index("balise-withdrawn") < str(body).index("Centre Gamma fermé</h1>")
    robots = found.find("meta", attrs={"name": "robots"})
    assert robots is not None and robots["content"] == "noindex"
    assert found.title.get_text().startswith("[Retiré] Centre Gamma fermé")
    assert not found.select(".balise-changes")  # the status it set is not shown as holding
    # Other statement pages are indexed as before.
    assert (
        page(after, "communiques/2024-10-05-alerte.html").find("meta", attrs={"name": "robots"})
        is None
    )


def test_it_leaves_the_search_index(sites: tuple) -> None:
    _, after, _ = sites
    index = json.loads((after / "search/search_index.json").read_text(encoding="utf-8"))
    assert not [d for d in index["docs"] if d["location"].startswith(f"communiques/{WRONG_ID}")]
    assert [d for d in index["docs"] if d["location"].startswith("communiques/2024-10-05-alerte")]


def test_status_json_and_the_api_are_as_without_it(sites: tuple) -> None:
    before, after, plain = sites
    status = json.loads((after / "status.json").read_text(encoding="utf-8"))
    old = json.loads((before / "status.json").read_text(encoding="utf-8"))
    without = json.loads((plain / "status.json").read_text(encoding="utf-8"))
    gamma = {e["id"]: e for e in status["establishments"]}["gamma"]
    assert {e["id"]: e for e in old["establishments"]}["gamma"]["status"] == "down"
    assert (gamma["status"], gamma["statement"]) == ("degraded", "2024-10-05-alerte")
    assert WRONG_ID not in [s["id"] for s in status["statements"]]
    assert status["withdrawn"] == [
        {
            "id": WRONG_ID,
            "title": "Centre Gamma fermé",
            "url": f"https://status.example.org/test/communiques/{WRONG_ID}.html",
            "reason": E2E_REASON,
            "withdrawn_at": WITHDRAWN_AT,
        }
    ]
    del status["withdrawn"]
    assert status == without
    for name in ("summary", "status", "components", "incidents", "incidents/unresolved"):
        path = f"api/v2/{name}.json"
        assert (after / path).read_bytes() == (plain / path).read_bytes(), path
        assert WRONG_ID.encode() in (before / path).read_bytes() or name in (
            "status",
            "components",
        ), path


@pytest.mark.parametrize(
    "path", ["index.html", "etablissements/gamma.html", "incidents/attaque.html"]
)
def test_the_pages_of_what_holds_are_as_without_it(sites: tuple, path: str) -> None:
    before, after, plain = sites
    assert WRONG_ID in (before / path).read_text(encoding="utf-8")
    text = (after / path).read_text(encoding="utf-8")
    assert WRONG_ID not in text and "Centre Gamma fermé" not in text
    main = page(after, path).select_one("article") or page(after, path)
    assert (
        main.get_text() == (page(plain, path).select_one("article") or page(plain, path)).get_text()
    )


@pytest.mark.parametrize("path", ["historique.html", "presse.html"])
def test_the_lists_of_everything_issued_mark_it_withdrawn(sites: tuple, path: str) -> None:
    _, after, _ = sites
    items = page(after, path).select("li.balise-statement")
    marked = [i for i in items if i.select_one(".balise-withdrawn-mark")]
    if path == "presse.html":  # it was no press release
        assert not marked
        return
    (item,) = marked
    assert item.select_one(".balise-withdrawn-mark").get_text() == "Retiré"
    assert item.find("a")["href"] == f"communiques/{WRONG_ID}.html"  # a journalist finds it
    assert "n'y allez pas" not in item.get_text()  # not its text: it is not current
    assert E2E_REASON in item.get_text() and not item.select(".balise-changes")


def test_its_feed_entries_stay_with_the_same_id_and_say_so(sites: tuple) -> None:
    before, after, _ = sites
    for name in ("all", "gamma"):
        for kind in ("atom", "rss"):
            old = entry(feedparser.parse((before / f"feeds/{name}.{kind}").read_bytes()), WRONG_ID)
            new = entry(feedparser.parse((after / f"feeds/{name}.{kind}").read_bytes()), WRONG_ID)
            assert new.id == old.id
            assert new.title == "[Retiré] Centre Gamma fermé"
            assert "n'y allez pas" not in new.summary
            if kind == "atom":
                assert new.updated == WITHDRAWN_AT and new.published == old.published
                assert new.updated != old.updated
    for name in ("alpha", "beta", "press"):
        assert WRONG_ID.encode() not in (after / f"feeds/{name}.atom").read_bytes()


def test_deploy_shows_a_withdrawal_as_a_change_and_a_deletion_as_gone(sites: tuple) -> None:
    before, after, plain = sites
    old = json.loads((before / "status.json").read_text(encoding="utf-8"))
    withdrawn = json.loads((after / "status.json").read_text(encoding="utf-8"))
    deleted = json.loads((plain / "status.json").read_text(encoding="utf-8"))
    assert f'  ~ statement {WRONG_ID} changed: "Centre Gamma fermé"' in describe(
        changes(old, withdrawn)
    )
    assert f'  - statement {WRONG_ID} withdrawn: "Centre Gamma fermé"' in describe(
        changes(old, deleted)
    )
    assert "  gamma (Centre Gamma): down -> degraded" in describe(changes(old, withdrawn))

"""Atom and RSS feeds of the tiny repository: parsed with feedparser, as a journalist's reader."""

from __future__ import annotations

import os
import shutil
import subprocess
import xml.etree.ElementTree as etree
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin

import feedparser
import pytest
from bs4 import BeautifulSoup
from conftest import DATA, TINY_NOW
from hypothesis import given, settings
from hypothesis import strategies as st

from balise.build import build
from balise.model import (
    Establishment,
    Organisation,
    PressContact,
    Repository,
    Site,
    Statement,
    StatementType,
    Status,
)
from balise.render.feeds import html_safe_text, render_feeds
from balise.timeline import snapshot

SITE = "https://status.example.org/test/"
ALERT = SITE + "communiques/2024-10-05-alerte.html"
POINT = SITE + "communiques/2024-10-06-point.html"
INFO = SITE + "communiques/2024-10-07-info.html"
TRICKY_TITLE = 'Point <urgent> & "essentiel" : *pas* de markdown'
TRICKY_SUMMARY = "Résumé avec <script>alert(1)</script> & des *étoiles*"
FEED_NAMES = ["all", "press", "alpha", "beta", "gamma"]
ATOM_NS = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def copy_tiny(target: Path) -> Path:
    """A copy outside the project's git work tree: no commit time leaks into the feeds."""
    shutil.copytree(DATA / "tiny", target)
    return target


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("feeds")
    out = base / "site"
    outcome = build(copy_tiny(base / "repo"), out, TINY_NOW)
    assert outcome.ok, outcome.problems
    return out


def parse(site: Path, name: str, kind: str) -> feedparser.FeedParserDict:
    parsed = feedparser.parse((site / "feeds" / f"{name}.{kind}").read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def ids(parsed: feedparser.FeedParserDict) -> list[str]:
    return [entry.id for entry in parsed.entries]


def entry(parsed: feedparser.FeedParserDict, entry_id: str) -> feedparser.FeedParserDict:
    return next(e for e in parsed.entries if e.id == entry_id)


def local_file(site: Path, url: str) -> Path:
    assert url.startswith(SITE), url
    return site / url.removeprefix(SITE).split("#")[0]


# --- which statements, in which order ------------------------------------------------------


@pytest.mark.parametrize("kind", ["atom", "rss"])
@pytest.mark.parametrize("name", FEED_NAMES)
def test_every_feed_of_the_contract_parses_cleanly(site: Path, name: str, kind: str) -> None:
    parsed = parse(site, name, kind)
    assert parsed.version == ("atom10" if kind == "atom" else "rss20")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("all", [INFO, POINT, ALERT]),
        ("press", [ALERT]),
        ("alpha", [ALERT]),  # named through `all` and explicitly
        ("beta", [POINT, ALERT]),
        ("gamma", [ALERT]),  # named through `all` only
    ],
)
@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_each_feed_lists_its_published_statements_newest_first(
    site: Path, name: str, expected: list[str], kind: str
) -> None:
    parsed = parse(site, name, kind)
    assert ids(parsed) == expected
    dates = [e.published_parsed for e in parsed.entries]
    assert dates == sorted(dates, reverse=True)


def test_drafts_and_embargoed_statements_never_reach_a_feed(site: Path) -> None:
    for path in (site / "feeds").iterdir():
        text = path.read_text(encoding="utf-8")
        assert "brouillon" not in text.lower(), path.name
        assert "embargo" not in text.lower(), path.name


# --- entries -------------------------------------------------------------------------------


def test_atom_entry_has_id_permalink_dates_with_offsets_author_and_body(site: Path) -> None:
    alert = entry(parse(site, "all", "atom"), ALERT)
    assert alert.link == ALERT
    assert alert.title == "Cyberattaque à la clinique Alpha"
    assert alert.published == "2024-10-05T08:00:00+02:00"
    assert alert.updated == "2024-10-05T08:00:00+02:00"  # no git: the statement date
    assert alert.summary == (
        "La clinique Alpha est à l'arrêt. Les autres établissements passent en mode dégradé."
    )
    assert alert.title_detail.type == "text/plain"
    assert alert.author_detail.name == "Service presse, Groupe Test & Fils"
    assert alert.author_detail.email == "presse@example.org"
    [content] = alert.content
    assert content.type == "text/html"
    body = BeautifulSoup(content.value, "html.parser")
    assert body.select_one("strong").get_text() == "à l'arrêt"
    assert [li.get_text() for li in body.select("li")] == [
        "Apportez vos documents papier.",
        "En cas d'urgence, appelez le 15.",
    ]


def test_atom_entry_has_one_category_per_establishment_named_and_per_status_set(
    site: Path,
) -> None:
    alert = entry(parse(site, "all", "atom"), ALERT)
    tags = [(t.term, t.label, t.scheme) for t in alert.tags]
    assert tags == [
        ("alpha", "Clinique Alpha", SITE + "etablissements/"),
        ("beta", 'Clinique <Beta> & "Co"', SITE + "etablissements/"),
        ("gamma", "Centre Gamma", SITE + "etablissements/"),
        ("down", "Activité interrompue", SITE + "schema/status.json"),
        ("degraded", "Mode dégradé", SITE + "schema/status.json"),
    ]
    info = entry(parse(site, "all", "atom"), INFO)
    assert info.get("tags", []) == []  # information only: it names nobody


def test_rss_item_has_permalink_guid_dates_author_categories_and_full_body(site: Path) -> None:
    parsed = parse(site, "all", "rss")
    alert = entry(parsed, ALERT)
    assert alert.link == ALERT
    channel = etree.parse(site / "feeds/all.rss").getroot().find("channel")
    guids = [item.find("guid") for item in channel.iter("item")]
    assert [(g.text, g.get("isPermaLink")) for g in guids][-1] == (ALERT, "true")
    assert alert.published == "Sat, 05 Oct 2024 08:00:00 +0200"
    assert alert.author == "presse@example.org (Service presse, Groupe Test & Fils)"
    assert [t.term for t in alert.tags] == [
        "Clinique Alpha",
        'Clinique <Beta> & "Co"',
        "Centre Gamma",
        "Activité interrompue",
        "Mode dégradé",
    ]
    assert alert.summary.startswith("La clinique Alpha est à l'arrêt.")
    body = BeautifulSoup(alert.content[0].value, "html.parser")
    assert body.select_one("strong").get_text() == "à l'arrêt"


@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_titles_and_summaries_keep_angle_brackets_ampersands_and_quotes_as_text(
    site: Path, kind: str
) -> None:
    point = entry(parse(site, "all", kind), POINT)
    assert point.title == TRICKY_TITLE
    # Summaries travel as escaped HTML (RSS descriptions are HTML): a reader shows the text.
    assert point.summary_detail.type == "text/html"
    shown = BeautifulSoup(point.summary, "html.parser")
    assert shown.find("script") is None
    assert shown.get_text() == TRICKY_SUMMARY
    raw = (site / "feeds" / f"all.{kind}").read_text(encoding="utf-8")
    assert "<urgent>" not in raw
    assert "<script>" not in raw
    assert "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;" in raw  # text in HTML in XML
    # The establishment name in a category label is escaped too.
    assert "<Beta>" not in raw


def test_entry_links_resolve_to_built_pages(site: Path) -> None:
    for name in FEED_NAMES:
        for kind in ("atom", "rss"):
            parsed = parse(site, name, kind)
            for item in parsed.entries:
                assert local_file(site, item.link).is_file(), item.link
            assert local_file(site, parsed.feed.link).is_file(), parsed.feed.link


# --- feed level ----------------------------------------------------------------------------


def test_atom_feed_is_french_with_self_and_site_links_author_and_updated_from_data(
    site: Path,
) -> None:
    root = etree.parse(site / "feeds/alpha.atom").getroot()
    assert root.get(XML_LANG) == "fr"
    parsed = parse(site, "alpha", "atom")
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links == {
        "self": SITE + "feeds/alpha.atom",
        "alternate": SITE + "etablissements/alpha.html",
    }
    assert parsed.feed.id == SITE + "feeds/alpha.atom"
    assert parsed.feed.title == "Groupe Test & Fils : Clinique Alpha"
    assert parsed.feed.author_detail.name == "Groupe Test & Fils"
    assert parsed.feed.updated == "2024-10-05T08:00:00+02:00"  # the newest entry, not NOW
    assert parse(site, "all", "atom").feed.updated == "2024-10-07T10:00:00+02:00"


def test_rss_channel_is_french_links_the_site_and_itself_and_dates_from_data(site: Path) -> None:
    root = etree.parse(site / "feeds/press.rss").getroot()
    channel = root.find("channel")
    assert channel is not None
    assert channel.findtext("language") == "fr"
    assert channel.findtext("link") == SITE + "presse.html"
    assert channel.find(ATOM_NS + "link").get("href") == SITE + "feeds/press.rss"
    assert channel.findtext("lastBuildDate") == "Sat, 05 Oct 2024 08:00:00 +0200"


def test_rss_channel_title_with_an_ampersand_stays_as_written(site: Path) -> None:
    # Read as text or as HTML, "Test & Fils" shows the same: nothing to escape.
    channel = etree.parse(site / "feeds/alpha.rss").getroot().find("channel")
    assert channel.findtext("title") == "Groupe Test & Fils : Clinique Alpha"


HOSTILE_ORGANISATION = 'Hospi <i onmouseover="alert(1)">Ouest</i> & Fils &copy'
HOSTILE_NAME = "Clinique <b onmouseover=alert(2)>Beta</b>"
HOSTILE_CITY = "Nantes <b onmouseover=alert(3)>"


def hostile_feeds() -> dict[str, bytes]:
    """Feeds of a registry whose organisation, establishment name and city hold markup."""
    statement = Statement(
        id="s",
        path="statements/s.md",
        title="Point",
        date=TINY_NOW,
        body="Texte.",
        summary="Texte.",
        status=(("beta", Status.DOWN),),
    )
    repository = Repository(
        organisation=Organisation(name=HOSTILE_ORGANISATION, url="https://o.example.org"),
        establishments=(Establishment(id="beta", name=HOSTILE_NAME, city=HOSTILE_CITY),),
        statements=(statement,),
        site=Site(name="Groupe", url="https://s.example.org/"),
    )
    return render_feeds(repository, snapshot(repository, TINY_NOW))


def shown(detail: feedparser.FeedParserDict) -> str:
    """What a reader shows of a text: HTML is parsed (and must hold no element), text is as is."""
    if detail.type == "text/html":
        html = BeautifulSoup(detail.value, "html.parser")
        assert html.find(True) is None, detail.value
        return html.get_text()
    assert detail.type == "text/plain"
    return detail.value


@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_channel_texts_with_markup_reach_a_reader_as_text_never_as_html(kind: str) -> None:
    feeds = hostile_feeds()
    parsed = feedparser.parse(feeds[f"feeds/beta.{kind}"])
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert shown(parsed.feed.title_detail) == f"{HOSTILE_ORGANISATION} : {HOSTILE_NAME}"
    assert shown(parsed.feed.subtitle_detail) == (
        f"Les annonces qui concernent {HOSTILE_NAME} ({HOSTILE_CITY}), "
        "y compris celles adressées à tous les établissements."
    )
    for name in ("all", "press", "beta"):
        xml = feeds[f"feeds/{name}.{kind}"]
        if kind == "atom":
            # Atom says it: its title, subtitle and author name are plain text.
            root = etree.fromstring(xml)
            assert root.findtext(f"{ATOM_NS}author/{ATOM_NS}name") == HOSTILE_ORGANISATION
            for tag in ("title", "subtitle"):
                assert root.find(ATOM_NS + tag).get("type") is None
        else:
            # Whatever feedparser repairs, a reader that takes the channel's texts as HTML
            # finds no element in them.
            channel = etree.fromstring(xml).find("channel")
            for tag in ("title", "description"):
                html = BeautifulSoup(channel.findtext(tag), "html.parser")
                assert html.find(True) is None, channel.findtext(tag)
            assert html_shown(channel.findtext("title")).startswith(HOSTILE_ORGANISATION + " : ")


def html_shown(html: str) -> str:
    return BeautifulSoup(html, "html.parser").get_text()


def test_html_safe_text_escapes_only_what_html_would_read_otherwise() -> None:
    assert html_safe_text("Test & Fils, R&D, a > b") == "Test & Fils, R&D, a > b"
    assert html_safe_text("a <b> &lt; &#60; &copy") == "a &lt;b> &amp;lt; &amp;#60; &amp;copy"


def test_rss_author_never_nests_parentheses() -> None:
    statement = Statement(
        id="s", path="statements/s.md", title="Point", date=TINY_NOW, body="T.", summary="T."
    )
    repository = Repository(
        organisation=Organisation(
            name="Hospi (Grand Ouest)",
            press=PressContact(name="Service (communication)", email="presse@example.org"),
        ),
        establishments=(),
        statements=(statement,),
        site=Site(name="Groupe", url="https://s.example.org/"),
    )
    feeds = render_feeds(repository, snapshot(repository, TINY_NOW))
    item = etree.fromstring(feeds["feeds/all.rss"]).find("channel/item")
    assert item.findtext("author") == (
        "presse@example.org (Service [communication], Hospi [Grand Ouest])"
    )
    parsed = feedparser.parse(feeds["feeds/all.rss"])
    assert parsed.entries[0].author_detail.name == "Service [communication], Hospi [Grand Ouest]"


def test_an_establishment_no_statement_names_has_an_empty_feed_dated_now() -> None:
    repository = Repository(
        organisation=Organisation(name="Groupe"),
        establishments=(),
        statements=(),
        site=Site(name="Groupe", url="https://s.example.org/"),
    )
    feeds = render_feeds(repository, snapshot(repository, TINY_NOW))
    assert sorted(feeds) == [
        "feeds/all.atom",
        "feeds/all.rss",
        "feeds/press.atom",
        "feeds/press.rss",
    ]
    parsed = feedparser.parse(feeds["feeds/all.atom"])
    assert not parsed.bozo
    assert parsed.entries == []
    assert parsed.feed.updated == "2024-10-10T12:00:00+02:00"


def test_control_characters_in_a_body_do_not_break_the_feeds() -> None:
    # YAML refuses control characters in the front matter; a markdown body may carry them.
    statement = Statement(
        id="brut",
        path="statements/brut.md",
        title="Texte brut",
        date=TINY_NOW,
        body="Saut\x0cde page et \x01octet\ufffe nul.",
        summary="Saut\x0cde page",
    )
    repository = Repository(
        organisation=Organisation(name="Groupe"),
        establishments=(),
        statements=(statement,),
        site=Site(name="Groupe", url="https://s.example.org/"),
    )
    feeds = render_feeds(repository, snapshot(repository, TINY_NOW))
    for kind in ("atom", "rss"):
        parsed = feedparser.parse(feeds[f"feeds/all.{kind}"])
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert "Saut" in parsed.entries[0].content[0].value


# --- the site links its feeds --------------------------------------------------------------


def alternates(page: Path) -> list[tuple[str, str]]:
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    return [(link["type"], link["href"]) for link in soup.select('link[rel="alternate"]')]


def test_every_html_page_announces_the_global_feeds_and_they_resolve(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 10
    for page in pages:
        found = alternates(page)
        page_url = SITE + page.relative_to(site).as_posix()
        resolved = {(kind, urljoin(page_url, href)) for kind, href in found}
        if page.name == "404.html":  # served at any depth: MkDocs writes root-relative links
            resolved = {(kind, "https://status.example.org" + href) for kind, href in found}
        assert ("application/atom+xml", SITE + "feeds/all.atom") in resolved, page
        assert ("application/rss+xml", SITE + "feeds/all.rss") in resolved, page
        for _, url in resolved:
            assert local_file(site, url).is_file(), (page, url)


def test_beside_every_linked_feed_is_the_sitemap_material_s_script_fetches(site: Path) -> None:
    """Material fetches sitemap.xml relative to each <link rel="alternate">: it must exist and
    be a sitemap (here, of the feeds)."""
    linked = set()
    for page in sorted(site.rglob("*.html")):
        page_url = SITE + page.relative_to(site).as_posix()
        if page.name != "404.html":
            linked |= {urljoin(page_url, href) for _, href in alternates(page)}
    sitemaps = {urljoin(url, "sitemap.xml") for url in linked}
    assert sitemaps == {SITE + "feeds/sitemap.xml"}
    root = etree.parse(site / "feeds/sitemap.xml").getroot()
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset"
    listed = {loc.text for loc in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")}
    assert listed == {
        SITE + f"feeds/{name}.{kind}" for name in FEED_NAMES for kind in ("atom", "rss")
    }
    assert linked <= listed


def test_establishment_pages_announce_their_own_feeds(site: Path) -> None:
    found = alternates(site / "etablissements/beta.html")
    assert ("application/atom+xml", "../feeds/beta.atom") in found
    assert ("application/rss+xml", "../feeds/beta.rss") in found
    assert ("application/atom+xml", "../feeds/alpha.atom") not in found


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("index.html", ["feeds/all.atom", "feeds/all.rss", "suivre.html"]),
        (
            "etablissements/gamma.html",
            ["../feeds/gamma.atom", "../feeds/gamma.rss", "../suivre.html"],
        ),
    ],
)
def test_overview_and_establishment_pages_link_their_feeds_visibly(
    site: Path, page: str, expected: list[str]
) -> None:
    soup = BeautifulSoup((site / page).read_text(encoding="utf-8"), "html.parser")
    follow = soup.select_one(".balise-follow")
    assert follow is not None
    icon = follow.select_one("svg")
    assert icon["aria-hidden"] == "true"  # decorative: the link text names the feed
    assert [a["href"] for a in follow.select("a")] == expected
    assert [a.get_text() for a in follow.select("a")][:2] == ["flux Atom", "flux RSS"]


def test_follow_page_explains_and_lists_every_feed_api_and_badge(site: Path) -> None:
    soup = BeautifulSoup((site / "suivre.html").read_text(encoding="utf-8"), "html.parser")
    lead = soup.select_one(".balise-lead").get_text()
    assert "flux" in lead and "lecteur" in lead
    hrefs = {a["href"] for a in soup.select(".balise-follow-page a")}
    for name in FEED_NAMES:
        assert f"feeds/{name}.atom" in hrefs and f"feeds/{name}.rss" in hrefs
    for path in [
        "status.json",
        "schema/status.json",
        "api/v2/summary.json",
        "api/v2/status.json",
        "api/v2/components.json",
        "api/v2/incidents.json",
        "api/v2/incidents/unresolved.json",
    ]:
        assert path in hrefs
    for href in hrefs:
        assert (site / href).is_file(), href
    assert [img["src"] for img in soup.select(".balise-badges img")] == [
        "badges/alpha.svg",
        "badges/beta.svg",
        "badges/gamma.svg",
    ]
    # The embed snippet is shown as text, escaped once for the page, valid once copied.
    snippet = soup.select(".balise-badges code")[1].get_text()
    embedded = BeautifulSoup(snippet, "html.parser").select_one("img")
    assert embedded["src"] == SITE + "badges/beta.svg"
    assert embedded["alt"] == 'État de fonctionnement : Clinique <Beta> & "Co"'
    nav = [a.get_text(strip=True) for a in soup.select("nav a")]
    assert "Suivre" in nav


# --- stability across builds ---------------------------------------------------------------


def test_ids_stay_when_a_body_is_corrected_and_relative_links_become_absolute(
    tmp_path: Path,
) -> None:
    repo = copy_tiny(tmp_path / "repo")
    assert build(repo, tmp_path / "first", TINY_NOW).ok
    alert_file = repo / "statements/2024/2024-10-05-alerte.md"
    alert_file.write_text(
        alert_file.read_text(encoding="utf-8")
        + "\nCorrection : voir [la clinique Alpha](../etablissements/alpha.md).\n",
        encoding="utf-8",
    )
    assert build(repo, tmp_path / "second", TINY_NOW).ok
    for name in FEED_NAMES:
        for kind in ("atom", "rss"):
            assert ids(parse(tmp_path / "first", name, kind)) == ids(
                parse(tmp_path / "second", name, kind)
            )
    corrected = entry(parse(tmp_path / "second", "all", "atom"), ALERT)
    link = BeautifulSoup(corrected.content[0].value, "html.parser").select_one("a")
    assert link["href"] == SITE + "etablissements/alpha.html"
    assert local_file(tmp_path / "second", link["href"]).is_file()


def git(repo: Path, *args: str, when: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.org",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.org",
        "GIT_AUTHOR_DATE": when,
        "GIT_COMMITTER_DATE": when,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_updated_is_the_last_commit_of_the_statement_in_a_git_repository(
    tmp_path: Path,
) -> None:
    repo = copy_tiny(tmp_path / "repo")
    git(repo, "init", "-q", when="2024-10-05T07:00:00+02:00")
    git(repo, "add", "-A", when="2024-10-05T07:00:00+02:00")
    git(repo, "commit", "-q", "-m", "first", when="2024-10-05T07:00:00+02:00")
    point = repo / "statements/2024/2024-10-06-point.md"
    point.write_text(point.read_text(encoding="utf-8") + "\nPrécision.\n", encoding="utf-8")
    git(repo, "commit", "-q", "-am", "correction", when="2024-10-08T15:45:00+02:00")
    # A correction after NOW does not exist yet for a site built as of NOW.
    info = repo / "statements/2024/2024-10-07-info.md"
    info.write_text(info.read_text(encoding="utf-8") + "\nPlus tard.\n", encoding="utf-8")
    git(repo, "commit", "-q", "-am", "later", when="2024-11-01T09:00:00+01:00")

    out = tmp_path / "site"
    assert build(repo, out, TINY_NOW).ok
    parsed = parse(out, "all", "atom")
    updated = {e.id: e.updated for e in parsed.entries}
    assert updated == {
        INFO: "2024-10-07T10:00:00+02:00",
        POINT: "2024-10-08T15:45:00+02:00",  # the correction, in the organisation's zone
        ALERT: "2024-10-05T08:00:00+02:00",  # committed before its date: the date
    }
    assert entry(parsed, POINT).published == "2024-10-06T09:30:00+02:00"
    assert parsed.feed.updated == "2024-10-08T15:45:00+02:00"
    assert datetime.fromisoformat(parsed.feed.updated) <= TINY_NOW


TEXT = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Co", "Cn")),
        min_size=1,
        max_size=60,
    )
    .map(lambda t: " ".join(t.split()))
    .filter(bool)
)


@settings(max_examples=60, deadline=None)
@given(title=TEXT, summary=TEXT)
def test_any_title_and_summary_reach_a_reader_unchanged(title: str, summary: str) -> None:
    statement = Statement(
        id="s",
        path="statements/s.md",
        title=title,
        date=TINY_NOW,
        body="Texte.",
        summary=summary,
    )
    repository = Repository(
        organisation=Organisation(name="Groupe"),
        establishments=(),
        statements=(statement,),
        site=Site(name="Groupe", url="https://s.example.org/"),
    )
    feeds = render_feeds(repository, snapshot(repository, TINY_NOW))
    for kind, title_path, summary_path in [
        ("atom", f"{ATOM_NS}entry/{ATOM_NS}title", f"{ATOM_NS}entry/{ATOM_NS}summary"),
        ("rss", "channel/item/title", "channel/item/description"),
    ]:
        xml = feeds[f"feeds/all.{kind}"]
        parsed = feedparser.parse(xml)
        assert not parsed.bozo, parsed.get("bozo_exception")
        # Exact text through a strict XML parser: feedparser "repairs" text that looks like
        # double-encoded UTF-8 (« Â¡ » becomes « ¡ »), which is its heuristic, not our output.
        root = etree.fromstring(xml)
        assert root.findtext(title_path) == title
        shown = BeautifulSoup(root.findtext(summary_path) or "", "html.parser").get_text()
        assert shown == summary


# --- paging and archiving (RFC 5005) -------------------------------------------------------

HISTORY = "{http://purl.org/syndication/history/1.0}archive"
PAGED_SITE = "https://s.example.org/"


def paged_feeds(count: int) -> dict[str, bytes]:
    """Feeds of `count` statements an hour apart (the same dates whatever the count), all
    naming alpha, every other a press release."""
    statements = tuple(
        Statement(
            id=f"s{number:03}",
            path=f"statements/s{number:03}.md",
            title=f"Point {number}",
            date=TINY_NOW - timedelta(hours=1000 - number),
            body=f"Texte {number}.",
            summary=f"Texte {number}.",
            status=(("alpha", Status.DEGRADED),),
            type=StatementType.PRESS_RELEASE if number % 2 else StatementType.UPDATE,
        )
        for number in range(count)
    )
    repository = Repository(
        organisation=Organisation(name="Groupe"),
        establishments=(Establishment(id="alpha", name="Clinique Alpha", city="Nantes"),),
        statements=statements,
        site=Site(name="Groupe", url=PAGED_SITE),
    )
    return render_feeds(repository, snapshot(repository, TINY_NOW))


def links(xml: bytes) -> dict[str, str]:
    """rel -> path of a feed document's links (Atom <link>; RSS <atom:link>, and its <link>
    as the alternate)."""
    root = etree.fromstring(xml)
    holder = root if root.tag == ATOM_NS + "feed" else root.find("channel")
    found = {link.get("rel"): link.get("href") for link in holder.findall(ATOM_NS + "link")}
    if holder.tag == "channel":
        found["alternate"] = holder.findtext("link")
    return {rel: href.removeprefix(PAGED_SITE) for rel, href in found.items()}


def is_archive(xml: bytes) -> bool:
    root = etree.fromstring(xml)
    holder = root if root.tag == ATOM_NS + "feed" else root.find("channel")
    return holder.find(HISTORY) is not None


def entry_ids(xml: bytes) -> list[str]:
    parsed = feedparser.parse(xml)
    assert not parsed.bozo, parsed.get("bozo_exception")
    permalinks = [e.id.removeprefix(PAGED_SITE + "communiques/") for e in parsed.entries]
    return [permalink.removesuffix(".html") for permalink in permalinks]


def walk(feeds: dict[str, bytes], head: str) -> list[str]:
    """What a reader of RFC 5005 does: the head, then prev-archive until there is none; it
    checks each archive's links on the way."""
    seen = entry_ids(feeds[head])
    assert len(seen) <= 50
    assert not is_archive(feeds[head])
    newer, path = head, links(feeds[head]).get("prev-archive")
    while path is not None:
        xml = feeds[path]
        assert is_archive(xml), path
        found = links(xml)
        assert found["self"] == path
        assert found["current"] == head
        assert found.get("next-archive", head) == newer  # the newest archive has none
        assert found["alternate"].endswith(".html")
        seen += entry_ids(xml)
        newer, path = path, found.get("prev-archive")
    return seen


@pytest.mark.parametrize("kind", ["atom", "rss"])
@pytest.mark.parametrize(("name", "size"), [("all", 130), ("press", 65), ("alpha", 130)])
def test_a_feed_holds_the_newest_50_and_its_archives_every_other_once(
    name: str, size: int, kind: str
) -> None:
    feeds = paged_feeds(130)
    head = feeds[f"feeds/{name}.{kind}"]
    assert len(entry_ids(head)) == 50
    assert links(head)["prev-archive"].startswith(f"feeds/archives/{name}-")
    everything = walk(feeds, f"feeds/{name}.{kind}")
    numbers = [int(sid.removeprefix("s")) for sid in everything]
    assert len(numbers) == size == len(set(numbers))
    assert numbers == sorted(numbers, reverse=True)  # newest first across the documents


@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_archive_pages_are_cut_from_the_oldest_statement(kind: str) -> None:
    feeds = paged_feeds(130)
    assert entry_ids(feeds[f"feeds/archives/all-1.{kind}"]) == [
        f"s{number:03}" for number in range(49, -1, -1)
    ]
    assert len(entry_ids(feeds[f"feeds/archives/all-2.{kind}"])) == 30
    assert f"feeds/archives/all-3.{kind}" not in feeds
    assert links(feeds[f"feeds/all.{kind}"])["prev-archive"] == f"feeds/archives/all-2.{kind}"


def test_full_archives_keep_their_bytes_as_statements_arrive() -> None:
    # 150: archives 1 and 2 full, 3 empty (so 2 has a next-archive already); 151: 3 grows.
    before, after = paged_feeds(150), paged_feeds(151)
    for kind in ("atom", "rss"):
        assert entry_ids(before[f"feeds/archives/all-3.{kind}"]) == []
        assert entry_ids(after[f"feeds/archives/all-3.{kind}"]) == ["s100"]
        for page in (1, 2):
            path = f"feeds/archives/all-{page}.{kind}"
            assert before[path] == after[path], path
        assert before[f"feeds/all.{kind}"] != after[f"feeds/all.{kind}"]
        assert f"feeds/archives/all-4.{kind}" not in after
        assert walk(after, f"feeds/all.{kind}") == [f"s{n:03}" for n in range(150, -1, -1)]


def test_a_feed_of_50_statements_is_one_document() -> None:
    feeds = paged_feeds(50)
    assert not any(path.startswith("feeds/archives/") for path in feeds)
    for kind in ("atom", "rss"):
        assert len(entry_ids(feeds[f"feeds/all.{kind}"])) == 50
        assert "prev-archive" not in links(feeds[f"feeds/all.{kind}"])


@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_archives_parse_cleanly_and_keep_the_channel_link_to_the_page(kind: str) -> None:
    feeds = paged_feeds(130)
    for path, xml in feeds.items():
        if path.endswith(f".{kind}"):
            parsed = feedparser.parse(xml)
            assert not parsed.bozo, (path, parsed.get("bozo_exception"))
            assert parsed.version == ("atom10" if kind == "atom" else "rss20")
    if kind == "rss":
        channel = etree.fromstring(feeds["feeds/archives/alpha-1.rss"]).find("channel")
        assert channel.findtext("link") == PAGED_SITE + "etablissements/alpha.html"

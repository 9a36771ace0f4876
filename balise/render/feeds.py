"""Atom and RSS 2.0 feeds with feedgen: every statement, press releases, one per establishment.

Statements come from views.channels; every date comes from the data, never the clock.
"""

from __future__ import annotations

import html
import posixpath
from collections.abc import Sequence
from datetime import datetime

from feedgen.feed import FeedGenerator

from balise import french, views
from balise.digests import Store
from balise.model import Repository, Statement
from balise.text.markdown import PURE_RENDERER, BodyRenderer
from balise.timeline import Snapshot

GENERATOR = "Balise"


class _Entries:
    """What every feed says about a statement, computed once per build."""

    def __init__(self, repository: Repository, snap: Snapshot, bodies: BodyRenderer) -> None:
        self.repository = repository
        self._feed_html = bodies.feed_html
        self.now = snap.now
        self.tz = repository.organisation.tz
        self._bodies: dict[str, str] = {}

    def permalink(self, statement: Statement) -> str:
        return self.repository.site.url + views.statement_path(statement.id)

    def body(self, statement: Statement) -> str:
        if statement.id not in self._bodies:
            html_body = self._feed_html(statement.body, self.permalink(statement))
            self._bodies[statement.id] = xml_text(html_body)
        return self._bodies[statement.id]

    def published(self, statement: Statement) -> datetime:
        return statement.date.astimezone(self.tz)

    def updated(self, statement: Statement) -> datetime:
        return statement.last_modified_at(self.now).astimezone(self.tz)

    def author(self) -> dict[str, str]:
        org = self.repository.organisation
        if org.press is None:
            return _without_none({"name": org.name, "uri": org.url})
        # RSS writes `email (name)`, and readers (newsboat) cut a name holding parentheses
        # of its own: "Service (Hospi)" would show as "Hospi)".
        name = _without_parentheses(f"{org.press.name}, {org.name}")
        return _without_none({"name": name, "email": org.press.email, "uri": org.url})

    def categories(self, statement: Statement) -> list[dict[str, str]]:
        site = self.repository.site.url
        named = [
            {
                "term": establishment_id,
                "label": self.repository.establishment(establishment_id).name,
                "scheme": site + "etablissements/",
            }
            for establishment_id in self._named(statement)
        ]
        services = [
            {
                "term": service_id,
                "label": self.repository.service(service_id).name,
                "scheme": site + "services/",
            }
            for service_id in dict.fromkeys(
                key.split("/", 1)[1] for key, _ in statement.service_status
            )
        ]
        statuses = dict.fromkeys(status for _, status in statement.status)
        return (
            named
            + services
            + [
                {
                    "term": status.value,
                    "label": french.STATUS_LABELS[status],
                    "scheme": site + views.STATUS_SCHEMA,
                }
                for status in statuses
            ]
        )

    def _named(self, statement: Statement) -> list[str]:
        """The establishments it sets, then those it sets a service of or concerns."""
        named = dict.fromkeys(establishment_id for establishment_id, _ in statement.status)
        others = {key.split("/", 1)[0] for key, _ in statement.service_status}
        others.update(statement.concerns)
        for establishment in self.repository.establishments:
            if establishment.id in others:
                named.setdefault(establishment.id, None)
        return list(named)


def xml_text(text: str) -> str:
    """Text without the characters XML 1.0 cannot carry (YAML refuses them; a body may not)."""
    return "".join(c for c in text if _allowed_in_xml(c))


def _allowed_in_xml(c: str) -> bool:
    return c in "\t\n\r" or " " <= c <= "\ud7ff" or "\ue000" <= c <= "\ufffd" or c >= "\U00010000"


def html_safe_text(text: str) -> str:
    """Text that a reader shows the same whether it takes it as plain text or as HTML.

    Only what HTML would read otherwise is escaped: every `<`, and an `&` that starts a
    character reference (`&lt;`, `&#60;`, `&copy`); "Test & Fils" stays as it is.
    """
    parts = text.split("&")
    kept = [parts[0]]
    for part in parts[1:]:
        reference = "&" + part
        kept.append(("&amp;" + part) if html.unescape(reference) != reference else reference)
    return "".join(kept).replace("<", "&lt;")


def _without_parentheses(name: str) -> str:
    """The name with its parentheses as brackets: "Service (presse)" -> "Service [presse]"."""
    return name.translate(str.maketrans("()", "[]"))


def _without_none(fields: dict[str, str | None]) -> dict[str, str]:
    return {key: value for key, value in fields.items() if value}


def _feed(
    entries: _Entries,
    channel: views.Channel,
    feed: views.Feed,
    only: Sequence[Statement] | None = None,
) -> FeedGenerator:
    """The channel's feed; with `only`, just those entries (the feed's own fields unchanged)."""
    repository = entries.repository
    org = repository.organisation
    site = repository.site.url
    fg = FeedGenerator()
    fg.id(site + feed.path)
    title = f"{org.name} : {channel.title}"
    if feed.media_type == views.RSS:
        # RSS never says whether a channel's texts are HTML: readers take <description> as
        # HTML (escaped once, as an item's) and <title> as HTML when it looks like it.
        fg.title(html_safe_text(title))
        fg.description(html.escape(channel.explanation, quote=False))
    else:
        fg.title(title)  # Atom text constructs are plain text (type="text")
        fg.subtitle(channel.explanation)
    fg.author(_without_none({"name": org.name, "uri": org.url}))
    fg.link(href=site + feed.path, rel="self", type=feed.media_type)
    # RSS keeps the last link added as the channel link: the page the feed mirrors.
    fg.link(href=site + channel.page_path, rel="alternate", type="text/html")
    fg.language("fr")
    fg.generator(GENERATOR)
    statements = channel.statements  # newest first
    fg.updated(max((entries.updated(s) for s in statements), default=entries.now))
    if statements:
        fg.pubDate(entries.published(statements[0]))
    for statement in statements if only is None else only:
        _add_entry(fg, entries, statement)
    return fg


def _add_entry(fg: FeedGenerator, entries: _Entries, statement: Statement) -> None:
    permalink = entries.permalink(statement)
    entry = fg.add_entry(order="append")
    entry.guid(permalink, permalink=True)  # the Atom id too: stable across corrections
    entry.title(xml_text(statement.title))
    entry.link(href=permalink)
    entry.published(entries.published(statement))
    entry.updated(entries.updated(statement))
    entry.author(entries.author())
    # RSS descriptions are HTML: the plain-text summary is escaped once for both formats.
    entry.summary(xml_text(html.escape(statement.summary, quote=False)), type="html")
    entry.content(entries.body(statement), type="html")
    for category in entries.categories(statement):
        entry.category(category)


def entry_inputs(entries: _Entries, statement: Statement) -> tuple[object, ...]:
    """Everything _add_entry reads: an entry's cached XML is reused only when all are equal."""
    return (
        statement,
        entries.permalink(statement),
        entries.published(statement),
        entries.updated(statement),
        entries.author(),
        entries.categories(statement),
    )


def serialize(fg: FeedGenerator, feed: views.Feed) -> bytes:
    return fg.atom_str(pretty=True) if feed.media_type == views.ATOM else fg.rss_str(pretty=True)


def render_feeds(
    repository: Repository,
    snap: Snapshot,
    bodies: BodyRenderer = PURE_RENDERER,
    store: Store | None = None,
) -> dict[str, bytes]:
    """`{feeds/NAME.atom|rss: bytes}` for every channel of views.channels.

    Each entry is serialised once and shared by the feeds that hold it (feed_entries), and
    kept in `store` (the build's cache) for the next build.
    """
    from balise.render.feed_entries import assemble

    entries = _Entries(repository, snap, bodies)
    return assemble(
        views.channels(repository, snap),
        lambda channel, feed, only: serialize(_feed(entries, channel, feed, only), feed),
        lambda statement: entry_inputs(entries, statement),
        store,
    )


def render_feeds_plainly(
    repository: Repository, snap: Snapshot, bodies: BodyRenderer = PURE_RENDERER
) -> dict[str, bytes]:
    """The same feeds, each built whole by feedgen: the reference render_feeds must equal."""
    entries = _Entries(repository, snap, bodies)
    return {
        feed.path: serialize(_feed(entries, channel, feed), feed)
        for channel in views.channels(repository, snap)
        for feed in channel.feeds
    }


# Material's script takes every `<link rel="alternate">` of a page for another version of the
# site and fetches `sitemap.xml` beside its URL (integrations/alternate: it selects
# `link[rel=alternate]`, whatever the type or hreflang). Each page links its feeds so, for
# feed readers that match `rel="alternate"` exactly: the sitemap is answered, not changed.
FEEDS_SITEMAP = "sitemap.xml"


def render_feeds_sitemaps(repository: Repository, snap: Snapshot) -> dict[str, bytes]:
    """`feeds/sitemap.xml`: a sitemap of the feeds, beside them, so that no page load meets a
    404 there."""
    folders: dict[str, list[str]] = {}
    for channel in views.channels(repository, snap):
        for feed in channel.feeds:
            url = repository.site.url + feed.path
            folders.setdefault(posixpath.dirname(feed.path), []).append(url)
    return {
        posixpath.join(folder, FEEDS_SITEMAP): _sitemap(urls) for folder, urls in folders.items()
    }


def _sitemap(urls: Sequence[str]) -> bytes:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>']
    lines.append('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">')
    lines += [f"  <url><loc>{html.escape(url, quote=False)}</loc></url>" for url in urls]
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode("utf-8")

"""Atom and RSS 2.0 feeds with feedgen: every statement, press releases, one per establishment.

Statements come from views.channels, paged by feed_pages (RFC 5005); every date comes from
the data, never the clock.
"""

from __future__ import annotations

import html
import posixpath
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from balise import french, views
from balise.digests import Store
from balise.model import Repository, Statement
from balise.render.feed_pages import Document, documents
from balise.text.markdown import PURE_RENDERER, BodyRenderer
from balise.timeline import Snapshot

if TYPE_CHECKING:
    from balise.render.feed_entries import FeedFiles

GENERATOR = "Balise"
HISTORY = "http://purl.org/syndication/history/1.0"  # RFC 5005's namespace
ATOM = "http://www.w3.org/2005/Atom"


class _Entries:
    """What every feed says about a statement, computed once per build."""

    def __init__(self, repository: Repository, snap: Snapshot, bodies: BodyRenderer) -> None:
        self.repository = repository
        self._feed_html = bodies.feed_html
        self.now = snap.now
        self.tz = repository.organisation.tz
        self._bodies: dict[str, str] = {}
        self._withdrawn = {w.statement.id: views.withdrawn(w, self.tz) for w in snap.withdrawn}
        self._withdrawn_at = {w.statement.id: w.at for w in snap.withdrawn}

    def permalink(self, statement: Statement) -> str:
        return self.repository.site.url + views.statement_path(statement.id)

    def title(self, statement: Statement) -> str:
        prefix = views.WITHDRAWN_PREFIX if statement.id in self._withdrawn else ""
        return xml_text(prefix + statement.title)

    def summary(self, statement: Statement) -> str:
        """Escaped once as HTML: RSS descriptions are HTML, and a `<` stays a character."""
        notice = self._withdrawn.get(statement.id)
        shown = statement.summary if notice is None else notice.sentence
        return xml_text(html.escape(shown, quote=False))

    def body(self, statement: Statement) -> str:
        if statement.id not in self._bodies:
            notice = self._withdrawn.get(statement.id)
            if notice is not None:
                html_body = self._withdrawn_html(notice)
            else:
                html_body = self._feed_html(statement.body, self.permalink(statement))
            self._bodies[statement.id] = xml_text(html_body)
        return self._bodies[statement.id]

    def _withdrawn_html(self, notice: views.Withdrawn) -> str:
        """A withdrawn entry's content: the notice alone. Its text was wrong, and a reader
        shows an entry without the page around it (or re-posts it): the title says which one
        it was, and its page still holds the text for whoever needs it."""
        home = html.escape(self.repository.site.url + views.OVERVIEW)
        reason = html.escape(notice.reason, quote=False)
        return (
            f"<p><strong>{views.WITHDRAWN_TITLE}.</strong> Ce communiqué a été retiré le "
            f"{html.escape(notice.at.long)} : {reason}{notice.stop} "
            f'{views.WITHDRAWN_NOT_CURRENT} ; <a href="{home}">{views.WITHDRAWN_SEE}</a>.</p>'
        )

    def published(self, statement: Statement) -> datetime:
        return statement.date.astimezone(self.tz)

    def updated(self, statement: Statement) -> datetime:
        """Its last change; for a withdrawn one, the withdrawal: readers that showed it see
        the entry (same id) updated, and take the newest one (RFC 5005 §4 for archives)."""
        withdrawn_at = self._withdrawn_at.get(statement.id)
        moment = withdrawn_at or statement.last_modified_at(self.now)
        return moment.astimezone(self.tz)

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
        # A withdrawn statement sets no status: an aggregator filtering on one must not see it.
        statuses = (
            {}
            if statement.id in self._withdrawn
            else dict.fromkeys(status for _, status in statement.status)
        )
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


class _History(BaseExtension):
    """RFC 5005 in a feedgen feed: `fh:archive` in an archive document, and in RSS the paging
    links as `atom:link` (feedgen writes only the self link there; Atom gets them all)."""

    def __init__(self) -> None:
        self.archive = False
        self.links: list[tuple[str, str, str]] = []  # (rel, href, type)

    def extend_ns(self) -> dict[str, str]:
        return {"fh": HISTORY} if self.archive else {}

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        if self.archive:
            etree.SubElement(feed, f"{{{HISTORY}}}archive")
        return feed

    def extend_rss(self, feed: etree._Element) -> etree._Element:
        channel = feed[0]
        for rel, href, media_type in self.links:
            etree.SubElement(channel, f"{{{ATOM}}}link", href=href, rel=rel, type=media_type)
        if self.archive:
            etree.SubElement(channel, f"{{{HISTORY}}}archive")
        return feed


def _paging_links(document: Document, site: str) -> list[tuple[str, str, str]]:
    """The head links its newest archive; an archive links the head and its neighbours."""
    rels = [("current", document.feed.path)] if document.is_archive else []
    rels += [("prev-archive", document.prev_archive), ("next-archive", document.next_archive)]
    return [(rel, site + path, document.feed.media_type) for rel, path in rels if path]


def _feed(
    entries: _Entries,
    document: Document,
    only: Sequence[Statement] | None = None,
) -> FeedGenerator:
    """The document's feed; with `only`, just those entries (its own fields unchanged)."""
    channel, feed = document.channel, document.feed
    repository = entries.repository
    org = repository.organisation
    site = repository.site.url
    fg = FeedGenerator()
    paging = _paging_links(document, site)
    if paging:
        fg.register_extension("history", _History, None)
        fg.history.archive = document.is_archive
        fg.history.links = paging
    fg.id(site + document.path)
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
    fg.link(href=site + document.path, rel="self", type=feed.media_type)
    for rel, href, media_type in paging:
        fg.link(href=href, rel=rel, type=media_type)
    # RSS keeps the last link added as the channel link: the page the feed mirrors.
    fg.link(href=site + channel.page_path, rel="alternate", type="text/html")
    fg.language("fr")
    fg.generator(GENERATOR)
    statements = document.statements  # newest first
    # Its own entries' dates: an archive's bytes do not change as newer statements arrive.
    # The empty last archive (after full ones) is dated by the archive as a whole.
    dated = statements or channel.statements[views.FEED_PAGE_SIZE :]
    fg.updated(max((entries.updated(s) for s in dated), default=entries.now))
    if statements:
        fg.pubDate(entries.published(statements[0]))
    for statement in statements if only is None else only:
        _add_entry(fg, entries, statement)
    return fg


def _add_entry(fg: FeedGenerator, entries: _Entries, statement: Statement) -> None:
    permalink = entries.permalink(statement)
    entry = fg.add_entry(order="append")
    entry.guid(permalink, permalink=True)  # the Atom id too: stable across corrections
    entry.title(entries.title(statement))
    entry.link(href=permalink)
    entry.published(entries.published(statement))
    entry.updated(entries.updated(statement))
    entry.author(entries.author())
    # RSS descriptions are HTML: the plain-text summary is escaped once for both formats.
    entry.summary(entries.summary(statement), type="html")
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


def document_inputs(entries: _Entries, document: Document) -> tuple[object, ...]:
    """Everything _feed reads of a document but its entries (whose own inputs feed_entries
    digests): an earlier build's bytes for it are taken only when all of these are equal."""
    channel, repository = document.channel, entries.repository
    dated = document.statements or channel.statements[views.FEED_PAGE_SIZE :]
    return (
        document.path,
        document.feed,
        document.page,
        document.pages,
        channel.name,
        channel.title,
        channel.explanation,
        channel.page_path,
        repository.organisation.name,
        repository.organisation.url,
        repository.site.url,
        GENERATOR,
        max((entries.updated(s) for s in dated), default=entries.now),
        entries.published(document.statements[0]) if document.statements else None,
    )


def serialize(fg: FeedGenerator, feed: views.Feed) -> bytes:
    return fg.atom_str(pretty=True) if feed.media_type == views.ATOM else fg.rss_str(pretty=True)


def render_feeds(
    repository: Repository,
    snap: Snapshot,
    bodies: BodyRenderer = PURE_RENDERER,
    store: Store | None = None,
) -> FeedFiles:
    """`{feeds/NAME.atom|rss: bytes}` for every channel of views.channels, and its archives
    (`feeds/archives/NAME-PAGE.atom|rss`, feed_pages).

    Each entry is serialised once and shared by the feeds that hold it (feed_entries), and
    kept in `store` (the build's cache) for the next build, as is the digest of each
    document's bytes (`FeedFiles.expected`: the build carries an unchanged one over).
    """
    from balise.render.feed_entries import assemble

    entries = _Entries(repository, snap, bodies)
    return assemble(
        _documents(repository, snap),
        lambda document, only: serialize(_feed(entries, document, only), document.feed),
        lambda statement: entry_inputs(entries, statement),
        store,
        lambda document: document_inputs(entries, document),
    )


def render_feeds_plainly(
    repository: Repository, snap: Snapshot, bodies: BodyRenderer = PURE_RENDERER
) -> dict[str, bytes]:
    """The same feeds, each built whole by feedgen: the reference render_feeds must equal."""
    entries = _Entries(repository, snap, bodies)
    return {
        document.path: serialize(_feed(entries, document), document.feed)
        for document in _documents(repository, snap)
    }


def _documents(repository: Repository, snap: Snapshot) -> tuple[Document, ...]:
    return tuple(d for channel in views.channels(repository, snap) for d in documents(channel))


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

"""The renderings of statement bodies a build keeps in its cache, and their prefetch on two cores.

The build's edge: it binds text's pure functions (and validation's summary) to the build's
cache and hands the memoized callables down; no module below imports the cache for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from balise import cache
from balise.load import RawFile, RawMap, statement_record
from balise.text import markdown
from balise.text.markdown import BodyRenderer, Removed
from balise.text.plain import plain_text
from balise.validate import summarize


@dataclass(frozen=True)
class Renderings:
    """The body renderings of one build, memoized in its cache. Steps that share work share
    it through the memo: one markdown rendering per body feeds its page HTML and its removed
    markup; the page HTML feeds the feeds, the JSON and the summary."""

    unsafe_html: cache.Memoized[str]  # for this build only: never published
    page_html: cache.Memoized[str]  # for this build only: the page sources are cached
    removed: cache.Memoized[tuple[Removed, ...]]
    summary: cache.Memoized[str]
    feed_html: cache.Memoized[str]
    plain_text: cache.Memoized[str]
    statement: cache.Memoized[Any]  # the reader cache: a statement file's text -> its record

    @classmethod
    def of(cls, store: cache.Cache) -> Renderings:
        unsafe = store.memo("unsafe-html", markdown.unsafe_html, persist=False)
        page = store.memo("body-html", lambda body: markdown.sanitize(unsafe(body)), persist=False)
        return cls(
            unsafe_html=unsafe,
            page_html=page,
            removed=store.memo(
                "removed-markup",
                lambda body: markdown.removed_from(body, unsafe(body)),
                encode=lambda found: [[r.what, r.offset] for r in found],
                decode=lambda stored: tuple(Removed(what, offset) for what, offset in stored),
            ),
            summary=store.memo("summary", lambda body: summarize(body, page)),
            feed_html=store.memo(
                "feed-body", lambda body, base: markdown.with_absolute_links(page(body), base)
            ),
            plain_text=store.memo("plain-text", lambda body: plain_text(page(body))),
            statement=store.memo("statement", statement_record),
        )

    def statement_records(self, texts: Sequence[tuple[str, str]]) -> list[Any]:
        """The records of statement files, from the reader cache; those it has not seen are
        read ahead on two cores (YAML is slow to read)."""
        cache.prefetch([(self.statement, item)] for item in texts)
        return [self.statement(*item) for item in texts]

    def bodies(self) -> BodyRenderer:
        """What the renderers take: the page, feed and JSON renderings, memoized."""
        return BodyRenderer(self.page_html, self.feed_html, self.plain_text)

    def prefetch(self, statements: Iterable[RawFile]) -> None:
        """Summaries, removed markup, page and JSON renderings of new bodies, in parallel
        (each body's in one process: they share its markdown rendering)."""
        groups: list[list[cache.Call]] = []
        for statement in statements:
            body = (statement.body,)
            if not self.removed.missing(*body):
                continue  # seen by an earlier build: what it needs is cached, or not needed
            calls: list[cache.Call] = [
                (self.removed, body),
                (self.page_html, body),
                (self.plain_text, body),
            ]
            if not isinstance(statement.data, RawMap) or statement.data.get("summary") is None:
                calls.append((self.summary, body))
            groups.append(calls)
        cache.prefetch(groups)

"""RFC 5005 paging of a channel's feed: which statements each feed document holds, how they link.

Pure: a channel in, its documents out; no XML here (feeds writes it, feed_entries assembles it).
"""

from __future__ import annotations

from dataclasses import dataclass

from balise import views
from balise.model import Statement


@dataclass(frozen=True)
class Document:
    """One feed file: a channel's head (the subscription document) or one of its archives."""

    channel: views.Channel
    feed: views.Feed
    path: str
    statements: tuple[Statement, ...]  # newest first
    page: int | None  # None: the head; 1: the archive of the oldest statements
    pages: int  # how many archive documents the channel has

    @property
    def is_archive(self) -> bool:
        return self.page is not None

    @property
    def prev_archive(self) -> str | None:
        """The next older archive: the newest one from the head, none from page 1."""
        older = self.pages if self.page is None else self.page - 1
        return self._archive(older) if older >= 1 else None

    @property
    def next_archive(self) -> str | None:
        """The next newer archive (archives only): none from the newest."""
        if self.page is None or self.page >= self.pages:
            return None
        return self._archive(self.page + 1)

    def _archive(self, page: int) -> str:
        return views.feed_archive_path(self.channel.name, _kind(self.feed), page)


def _kind(feed: views.Feed) -> str:
    return feed.path.rsplit(".", 1)[1]


def archive_pages(statements: tuple[Statement, ...]) -> list[tuple[Statement, ...]]:
    """The statements older than the head, oldest page first, each page newest first.

    Pages are cut from the oldest end, so a full page keeps its statements as new ones
    arrive; only the last page grows. When the older statements fill whole pages, the last
    is empty: a full page always has a newer one to link to, and is never rewritten for it.
    """
    older = statements[views.FEED_PAGE_SIZE :]
    if not older:
        return []
    oldest_first = older[::-1]
    size = views.FEED_PAGE_SIZE
    return [
        tuple(reversed(oldest_first[start : start + size]))
        for start in range(0, (len(older) // size + 1) * size, size)
    ]


def head_statements(channel: views.Channel) -> tuple[Statement, ...]:
    """The head's statements: the newest FEED_PAGE_SIZE, newest first, then the older ones
    withdrawn since the oldest of them was issued, newest first.

    A reader polling the head only must learn of a withdrawal, even of an old statement: an
    entry (same id) in several documents of a feed is current where it was updated last
    (RFC 5005 §4), so the withdrawn entry is in the head as well as in its archive page,
    which keeps it in its place.
    """
    head = channel.statements[: views.FEED_PAGE_SIZE]
    if not head or not channel.withdrawals:
        return head
    oldest = head[-1].date
    recent = tuple(
        statement
        for statement in channel.statements[views.FEED_PAGE_SIZE :]
        if (at := channel.withdrawn_at(statement.id)) is not None and at > oldest
    )
    return head + recent


def documents(channel: views.Channel) -> tuple[Document, ...]:
    """Every feed document of the channel: per format, the head, then archives 1, 2, …"""
    pages = archive_pages(channel.statements)
    head = head_statements(channel)
    found: list[Document] = []
    for feed in channel.feeds:
        found.append(Document(channel, feed, feed.path, head, None, len(pages)))
        for number, held in enumerate(pages, start=1):
            path = views.feed_archive_path(channel.name, _kind(feed), number)
            found.append(Document(channel, feed, path, held, number, len(pages)))
    return tuple(found)

"""What `post` would send at NOW: pending posts and statements to record as not to post.

Pure: a snapshot, the ledger, NOW and the window in; decisions out. Nothing is sent or written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType

from balise.announce.ledger import (
    ATTEMPTED,
    FAILED,
    POSTED,
    RETRACTED,
    RETRACTING,
    SKIPPED,
    Entry,
    Ledger,
)
from balise.model import Statement, sort_key
from balise.timeline import Snapshot

DEFAULT_WINDOW = timedelta(hours=24)


def publication(statement: Statement) -> datetime:
    """When the public could first see the statement: its date, or the end of its embargo."""
    if statement.publish_at is not None and statement.publish_at > statement.date:
        return statement.publish_at
    return statement.date


@dataclass(frozen=True)
class Pending:
    """One post to send: a statement on a network, and what an earlier run left of it."""

    statement: Statement
    network: str
    previous: Entry | None = None

    @property
    def resumed(self) -> bool:
        """An earlier send began and did not finish: it may have reached the network."""
        return self.previous is not None and self.previous.status == ATTEMPTED


@dataclass(frozen=True)
class Plan:
    pending: tuple[Pending, ...]  # by publication, oldest first; networks in the order asked
    skipped: tuple[tuple[Statement, str], ...]  # to record as not to post (before the horizon)
    since: Mapping[str, datetime]  # per network: statements published before it are not posted
    new: tuple[str, ...]  # networks the ledger has no horizon for yet (their first run)

    def skipped_on(self, network: str) -> int:
        return sum(1 for _, n in self.skipped if n == network)


def plan(
    snapshot: Snapshot,
    ledger: Ledger,
    networks: Sequence[str],
    now: datetime,
    *,
    since: datetime | None = None,
    window: timedelta = DEFAULT_WINDOW,
) -> Plan:
    """Decide, for every published statement and network, whether a post is due.

    Only published statements count (drafts, embargoed and future ones never do), never a
    `social: false` one, never one already posted. Without `since`, a network's horizon is
    the one its first run set (NOW minus the window); a statement published before it is
    recorded as not to post. An explicit `since` replaces the horizon for this run and
    reopens statements recorded as not to post.
    """
    horizons: dict[str, datetime] = {}
    for network in networks:
        horizons[network] = since or ledger.horizon(network) or now - window
    new = tuple(network for network in networks if ledger.horizon(network) is None)
    pending: list[Pending] = []
    skipped: list[tuple[Statement, str]] = []
    # In the order the public saw them: an embargo lifted today comes after yesterday's news.
    ordered = sorted(snapshot.published, key=lambda s: (publication(s), sort_key(s)))
    # A withdrawn statement is never posted: the timeline leaves it out of `published`.
    for statement in ordered:
        if not statement.postable:
            continue
        published = publication(statement)
        for network in networks:
            entry = ledger.entry(statement.id, network)
            status = entry.status if entry is not None else None
            if status in (POSTED, RETRACTING, RETRACTED):
                continue  # sent, or taken back: never again
            if status in (SKIPPED, FAILED) and since is None:
                continue
            if status == ATTEMPTED:
                # It was due when it was tried; only an explicit later --since holds it back.
                if since is None or published >= since:
                    pending.append(Pending(statement, network, entry))
                continue
            if published < horizons[network]:
                if entry is None:
                    skipped.append((statement, network))
                continue
            pending.append(Pending(statement, network, entry))
    return Plan(tuple(pending), tuple(skipped), MappingProxyType(horizons), new)

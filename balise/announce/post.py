"""Sending pending posts on every channel: the loop that records each step in the ledger
before moving on.

The order of writes is the guarantee: "attempted" (with its key) before a send, "posted" right
after it; a crash, a kill or a second run therefore never sends a post twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jinja2

from balise.announce import NETWORKS, channel_of
from balise.announce.channels import channel
from balise.announce.compose import Post, Templates, post_problems
from balise.announce.ledger import (
    ATTEMPTED,
    FAILED,
    POSTED,
    SKIPPED,
    Entry,
    Ledger,
    ledger_problems,
    read_ledger,
    write_ledger,
)
from balise.announce.network import Network, PostFailed, redact
from balise.announce.plan import DEFAULT_WINDOW, Pending, Plan, plan
from balise.errors import Problem
from balise.model import Repository
from balise.templating import TEMPLATES_DIR, environment, template_problem
from balise.timeline import snapshot


@dataclass(frozen=True)
class Outbox:
    """What `social` shows and `post` sends: the plan and the composed post of each pending."""

    plan: Plan
    posts: Mapping[tuple[str, str], Post]
    ledger: Ledger

    def post(self, pending: Pending) -> Post:
        return self.posts[(pending.statement.id, pending.network)]


def post_environment(root: Path) -> jinja2.Environment:
    """The posts' templates (plain text): the repository's `templates/` first, then ours."""
    return environment(root / TEMPLATES_DIR, html=False)


def post_templates(root: Path) -> Templates:
    """Plain text for every channel, HTML (escaped) for an email's HTML part."""
    return Templates(post_environment(root), environment(root / TEMPLATES_DIR, html=True))


def outbox(
    root: Path,
    repository: Repository,
    networks: Sequence[str],
    now: datetime,
    *,
    since: datetime | None = None,
    window: timedelta = DEFAULT_WINDOW,
) -> Outbox:
    """Read the ledger, plan at NOW and compose every pending post (LedgerError if unreadable).

    `networks` are destinations: a channel (`x`, `email`), or one URL of a channel
    (`webhook:1a2b3c4d`), which all share the channel's post.
    """
    ledger = read_ledger(root)
    snap = snapshot(repository, now)
    decided = plan(snap, ledger, networks, now, since=since, window=window)
    templates = post_templates(root)
    composed: dict[tuple[str, str], Post] = {}
    posts = {}
    for p in decided.pending:
        key = (p.statement.id, channel_of(p.network))
        if key not in composed:
            composed[key] = channel(key[1]).compose(p.statement, repository, snap, templates)
        posts[(p.statement.id, p.network)] = composed[key]
    return Outbox(decided, posts, ledger)


def social_problems(root: Path, repository: Repository) -> list[Problem]:
    """For `check`: posts that cannot fit, broken post templates, an unreadable ledger."""
    problems = ledger_problems(root)
    try:
        problems.extend(post_problems(repository, post_environment(root)))
    except Exception as error:  # a repository's template may fail in any way
        problem = template_problem(root, error, "post template error")
        if problem is None:
            raise
        problems.append(problem)
    return problems


# --- sending --------------------------------------------------------------------------


@dataclass(frozen=True)
class PostResult:
    """One pending post after the run: sent (with where), failed (with why) or not tried."""

    pending: Pending
    post: Post
    sent: Entry | None = None
    failure: str | None = None


@dataclass(frozen=True)
class SendReport:
    outcomes: tuple[PostResult, ...]
    skipped: int  # statements x networks recorded as not to post by this run

    @property
    def failed(self) -> tuple[PostResult, ...]:
        return tuple(o for o in self.outcomes if o.sent is None)

    @property
    def ok(self) -> bool:
        return not self.failed


def _now() -> datetime:
    return datetime.now(UTC)


def send(
    root: Path,
    box: Outbox,
    clients: Mapping[str, Network],
    *,
    wall_clock: Callable[[], datetime] = _now,
    report: Callable[[PostResult], None] = lambda outcome: None,
    secrets: Iterable[str] = (),
) -> SendReport:
    """Send every pending post of `box`, writing the ledger after every single step.

    A network that fails is not tried again in this run (its later posts stay pending) and
    the others go on. The caller holds the ledger lock. What a network answers is redacted
    (`secrets`, every client's credentials, anything shaped like a token) before it is
    reported or recorded.
    """
    hidden = (*secrets, *(s for client in clients.values() for s in client.secrets()))
    ledger = box.ledger
    moment = wall_clock()
    if not ledger.started or box.plan.new or box.plan.skipped:
        new = {network: box.plan.since[network] for network in box.plan.new}
        ledger = ledger.starting(moment, new)
        for statement, network in box.plan.skipped:
            note = f"published before {box.plan.since[network].isoformat()}: not posted"
            ledger = ledger.with_entry(statement.id, network, Entry(SKIPPED, moment, note=note))
        write_ledger(root, ledger)

    outcomes: list[PostResult] = []
    broken: dict[str, str] = {}
    for pending in box.plan.pending:
        post = box.post(pending)
        network = pending.network
        if network in broken:
            outcome = PostResult(pending, post, failure=f"not tried: {broken[network]}")
            outcomes.append(outcome)
            report(outcome)
            continue
        if not post.fits:  # `check` prevents it for `social` texts; never let a network cut
            limit = post.limit
            outcome = PostResult(
                pending,
                post,
                failure=f"too long for {limit.name}: {post.length} of {limit.maximum} {limit.unit}",
            )
            outcomes.append(outcome)
            report(outcome)
            continue
        client = clients[network]
        previous = pending.previous
        key = previous.key if pending.resumed and previous and previous.key else None
        key = key or client.key(post, wall_clock())
        ledger = ledger.with_entry(
            pending.statement.id, network, Entry(ATTEMPTED, wall_clock(), key=key)
        )
        write_ledger(root, ledger)
        try:
            sent = client.send(post, key, resumed=pending.resumed)
        except PostFailed as failure:
            message = redact(str(failure), hidden)
            broken[network] = f"{network} failed earlier in this run"
            # Still "attempted" (it may have reached the network: the next run resumes it with
            # the same key), now with the reason, for whoever reads the ledger; "failed" when
            # the channel says trying again cannot help.
            status = FAILED if failure.final else ATTEMPTED
            failed = Entry(status, wall_clock(), key=key, note=message)
            ledger = ledger.with_entry(pending.statement.id, network, failed)
            write_ledger(root, ledger)
            outcome = PostResult(pending, post, failure=message)
        else:
            url = redact(sent.url, hidden) if sent.url else None
            note = redact(sent.note, hidden) if sent.note else None
            entry = Entry(POSTED, wall_clock(), sent.remote_id, url, key, note)
            ledger = ledger.with_entry(pending.statement.id, network, entry)
            write_ledger(root, ledger)
            outcome = PostResult(pending, post, sent=entry)
        outcomes.append(outcome)
        report(outcome)
    return SendReport(tuple(outcomes), len(box.plan.skipped))


__all__ = [
    "NETWORKS",
    "Outbox",
    "PostResult",
    "SendReport",
    "outbox",
    "send",
    "social_problems",
]

"""Sending pending posts on every channel: the loop that records each step in the ledger
before moving on.

The order of writes is the guarantee: "attempted" (with its key) before a send, "posted" right
after it; a crash, a kill or a second run therefore never sends a post twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
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
    RETRACTED,
    RETRACTING,
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


# --- taking back: post --retract ID ------------------------------------------------------

DELETE, CORRECT, RECORD = "delete", "correct", "record"


@dataclass(frozen=True)
class Retraction:
    """What `post --retract` does on one destination: delete the post, send a correction
    (a channel that cannot take a message back), or record that it is never to be posted."""

    destination: str
    action: str  # DELETE, CORRECT or RECORD
    entry: Entry | None  # what the ledger holds (None: nothing was ever tried there)
    correction: Post | None = None


@dataclass(frozen=True)
class RetractBox:
    statement_id: str
    ledger: Ledger
    retractions: tuple[Retraction, ...]


def retractions(
    root: Path,
    repository: Repository,
    statement_id: str,
    destinations: Sequence[str],
    now: datetime,
) -> RetractBox:
    """Plan the retraction of a statement on `destinations` and on every destination of those
    channels the ledger says it went to (LedgerError if the ledger is unreadable).

    Posted (or a retraction begun): deleted, or corrected once. Never confirmed sent, or never
    tried: recorded as retracted, so that it is never posted. Already retracted: nothing.
    """
    ledger = read_ledger(root)
    channels = {channel_of(d) for d in destinations}
    recorded = ledger.entries.get(statement_id, {})
    every = dict.fromkeys([*destinations, *(d for d in recorded if channel_of(d) in channels)])
    statement = next((s for s in repository.statements if s.id == statement_id), None)
    reason = statement.withdrawn if statement is not None else None
    snap = snapshot(repository, now)
    templates = post_templates(root)
    corrections: dict[str, Post] = {}
    planned: list[Retraction] = []
    for destination in every:
        entry = recorded.get(destination)
        status = entry.status if entry is not None else None
        if status == RETRACTED:
            continue
        if status not in (POSTED, RETRACTING):
            planned.append(Retraction(destination, RECORD, entry))
            continue
        module = channel(channel_of(destination))
        if module.DELETES:
            planned.append(Retraction(destination, DELETE, entry))
            continue
        name = channel_of(destination)
        if name not in corrections:
            corrections[name] = module.correction(  # type: ignore[attr-defined]
                statement, statement_id, repository, snap, templates, reason
            )
        planned.append(Retraction(destination, CORRECT, entry, corrections[name]))
    return RetractBox(statement_id, ledger, tuple(planned))


@dataclass(frozen=True)
class RetractResult:
    retraction: Retraction
    done: Entry | None = None
    failure: str | None = None


def retract(
    root: Path,
    box: RetractBox,
    clients: Mapping[str, Network],
    *,
    wall_clock: Callable[[], datetime] = _now,
    report: Callable[[RetractResult], None] = lambda outcome: None,
    secrets: Iterable[str] = (),
) -> tuple[RetractResult, ...]:
    """Carry out `box`, writing the ledger before and after every deletion or correction, as
    `send` does: "retracting" (keeping the post's id, and the correction's key) before,
    "retracted" after. A failure stays "retracting", for the next run; nothing is deleted or
    corrected twice."""
    hidden = (*secrets, *(s for client in clients.values() for s in client.secrets()))
    ledger = box.ledger
    outcomes: list[RetractResult] = []
    for item in box.retractions:
        previous = item.entry
        if item.action == RECORD:
            was = f" (it was {previous.status}: check by hand)" if previous else ""
            done = Entry(RETRACTED, wall_clock(), note=f"withdrawn before it went out{was}")
            ledger = ledger.with_entry(box.statement_id, item.destination, done)
            write_ledger(root, ledger)
            outcome = RetractResult(item, done)
            outcomes.append(outcome)
            report(outcome)
            continue
        assert previous is not None
        client = clients.get(item.destination)
        if client is None:  # e.g. a webhook URL no longer in the settings
            outcome = RetractResult(item, failure="not set up in this run: its settings are gone")
            outcomes.append(outcome)
            report(outcome)
            continue
        key, resumed = previous.key, False
        if item.action == CORRECT:
            assert item.correction is not None
            resumed = previous.status == RETRACTING
            key = previous.key if resumed and previous.key else None
            key = key or client.key(item.correction, wall_clock())
        begun = Entry(RETRACTING, wall_clock(), previous.remote_id, previous.url, key)
        ledger = ledger.with_entry(box.statement_id, item.destination, begun)
        write_ledger(root, ledger)
        try:
            if item.action == DELETE:
                if not previous.remote_id:
                    raise PostFailed("the ledger holds no id to delete", transient=False)
                sent = client.delete(previous.remote_id)  # type: ignore[attr-defined]
            else:
                sent = client.send(item.correction, key or "", resumed=resumed)
        except PostFailed as failure:
            message = redact(str(failure), hidden)
            failed = replace(begun, time=wall_clock(), note=message)
            ledger = ledger.with_entry(box.statement_id, item.destination, failed)
            write_ledger(root, ledger)
            outcome = RetractResult(item, failure=message)
        else:
            what = "correction sent" if item.action == CORRECT else "deleted"
            note = redact(sent.note, hidden) if sent.note else what
            done = Entry(RETRACTED, wall_clock(), previous.remote_id, None, key, note)
            ledger = ledger.with_entry(box.statement_id, item.destination, done)
            write_ledger(root, ledger)
            outcome = RetractResult(item, done)
        outcomes.append(outcome)
        report(outcome)
    return tuple(outcomes)


__all__ = [
    "NETWORKS",
    "Outbox",
    "PostResult",
    "SendReport",
    "outbox",
    "retract",
    "retractions",
    "send",
    "social_problems",
]

"""The `social` and `post` commands: their options, credentials from the environment, printing.

The decisions (what is due, what the post says) live in balise.announce; nothing is decided here.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from balise.announce import CHANNELS, channel_of
from balise.cli_exit import EXIT_INVALID, EXIT_NETWORK, EXIT_OK, EXIT_USAGE, UsageError
from balise.errors import report
from balise.load import ESTABLISHMENTS_FILE
from balise.text import parse_iso_instant

TIMEOUT = 30.0  # seconds for one HTTP request
SLEEP: Callable[[float], None] = time.sleep  # tests replace it: no test ever sleeps


def parse_networks(values: Sequence[str] | None) -> tuple[str, ...]:
    """`--network x,email --network webhook` -> the channels, in the usual order."""
    if not values:
        return tuple(CHANNELS)
    asked: set[str] = set()
    for value in values:
        for name in value.split(","):
            name = name.strip().lower()
            if not name:
                continue
            if name not in CHANNELS:
                raise UsageError(f"unknown network {name!r}: choose among {', '.join(CHANNELS)}")
            asked.add(name)
    if not asked:
        raise UsageError("--network needs at least one of " + ", ".join(CHANNELS))
    return tuple(name for name in CHANNELS if name in asked)


def parse_since(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = parse_iso_instant(text)
    if moment is None:
        raise UsageError(f"--since {text!r} is not an ISO 8601 date")
    if moment.tzinfo is None:
        raise UsageError(f"--since {text!r} needs an offset, e.g. {text}+02:00")
    return moment


def parse_window(hours: float) -> timedelta:
    if not hours > 0:
        raise UsageError(f"--window must be a positive number of hours, not {hours}")
    return timedelta(hours=hours)


def _options(args: argparse.Namespace, now: Callable[[], datetime]) -> dict:
    """Every option parsed (UsageError, exit 2, before anything is read or written); `now`
    parses NOW (`--now`, CONTRACT §4), in its turn among the others."""
    return {
        "networks": parse_networks(args.network),
        "now": now(),
        "since": parse_since(args.since),
        "window": parse_window(args.window),
    }


def _outbox(args: argparse.Namespace, options: dict):
    """Check the sources, then read the ledger and compose: the Outbox, or an exit code."""
    from balise.announce.ledger import LedgerError
    from balise.announce.post import outbox, social_problems
    from balise.build import check

    networks, now = options["networks"], options["now"]
    since, window = options["since"], options["window"]
    checked = check(args.repo)
    if checked.repository is not None:  # posts that cannot fit, the ledger (CONTRACT §8)
        checked = checked.adding(social_problems(args.repo, checked.repository))
    if not checked.ok or checked.repository is None:
        print(report(checked.problems), file=sys.stderr)
        print("The sources have problems: nothing is posted until they are fixed.", file=sys.stderr)
        return EXIT_INVALID
    try:
        return outbox(args.repo, checked.repository, networks, now, since=since, window=window)
    except LedgerError as error:
        print(error.problem, file=sys.stderr)
        return EXIT_INVALID


@dataclass(frozen=True)
class Channels:
    """The destinations this run plans for (id -> name in messages), the settings read for
    them, and what is off or missing, from the channels asked and the environment."""

    destinations: dict[str, str]
    settings: dict[str, object]
    off: tuple[str, ...]  # one line per channel left off for want of settings
    missing: tuple[str, ...]  # variables `post` needs and does not have


def _channels(asked: Sequence[str], explicit: bool, environ: Mapping[str, str]) -> Channels:
    """Read the settings of the optional channels (email, webhook); a social network's
    credentials are read only once it has something to send (see _clients).

    An optional channel whose variables are all unset is off, unless named by --network; one
    set in part is missing what it lacks (an error for `post`, a note for `social`). A
    setting that cannot be used is a usage error (UsageError), before anything is sent.
    """
    from balise.announce.channels import channel
    from balise.announce.network import BadSetting, MissingCredentials

    destinations: dict[str, str] = {}
    settings: dict[str, object] = {}
    off: list[str] = []
    missing: list[str] = []
    for name in asked:
        module = channel(name)
        if not module.OPTIONAL:
            destinations.update(module.destinations(None))
            continue
        if not explicit and not any(environ.get(v, "").strip() for v in module.ENVIRONMENT):
            off.append(f"{CHANNELS[name]}: off ({', '.join(module.ENVIRONMENT)} not set).")
            continue
        try:
            settings[name] = module.credentials(environ)
        except MissingCredentials as error:
            missing.extend(error.names)
            off.append(f"{CHANNELS[name]}: off ({', '.join(error.names)} not set).")
            continue
        except BadSetting as error:
            raise UsageError(str(error)) from None
        destinations.update(module.destinations(settings[name]))
    return Channels(destinations, settings, tuple(off), tuple(missing))


def _skipped_lines(box, labels: Mapping[str, str]) -> list[str]:
    lines = []
    for destination, label in labels.items():
        count = box.plan.skipped_on(destination)
        if count:
            since = box.plan.since[destination].isoformat()
            s = "s" if count > 1 else ""
            lines.append(
                f"{label}: {count} statement{s} published before {since} "
                f"recorded as not to post (use --since to post {'them' if s else 'it'})."
            )
    return lines


def preview(args: argparse.Namespace, now: Callable[[], datetime]) -> int:
    """`social`: print every pending post exactly as it would go out; send nothing."""
    from balise.announce.channels import channel

    options = _options(args, now)
    found = _channels(options["networks"], bool(args.network), os.environ)
    if args.retract:
        return _preview_retract(args, options, found)
    box = _outbox(args, {**options, "networks": tuple(found.destinations)})
    if isinstance(box, int):
        return box
    for pending in box.plan.pending:
        post = box.post(pending)
        name = channel_of(pending.network)
        facts = [found.destinations[pending.network], pending.statement.id]
        facts += channel(name).facts(post, found.settings.get(name))
        if pending.resumed:
            facts.append("resuming an interrupted send")
            if pending.previous is not None and pending.previous.note:
                facts.append(f"last try: {pending.previous.note}")
        if not post.fits:
            facts.append("TOO LONG")
        print(" · ".join(facts))
        if post.subject is not None:
            print(f"    Subject: {post.subject}")
        for line in post.text.splitlines():
            print(f"    {line}" if line else "")
        print()
    count = len(box.plan.pending)
    print(f"{count} post{'s' if count != 1 else ''} to send." if count else "Nothing to post.")
    for line in _skipped_lines(box, found.destinations):
        print(line.replace("recorded as", "would be recorded as"))
    for line in found.off:
        print(line)
    return EXIT_OK


def _clients(due: Sequence[str], found: Channels, environ: Mapping[str, str]):
    """One client per due destination, or the exit code after saying which variables are
    missing (those of the due social networks, and of the optional channels set in part)."""
    from balise.announce.channels import channel
    from balise.announce.network import MissingCredentials

    names = tuple(dict.fromkeys(channel_of(destination) for destination in due))
    settings, missing = dict(found.settings), list(found.missing)
    for name in names:
        if name in settings:
            continue
        try:
            settings[name] = channel(name).credentials(environ)
        except MissingCredentials as error:
            missing.extend(error.names)
    if missing:
        s = "s" if len(missing) > 1 else ""
        print(
            f"Missing environment variable{s}: {', '.join(dict.fromkeys(missing))}. "
            "Nothing was posted. Set them (see README, Announcements), or choose the "
            "channels to post to with --network.",
            file=sys.stderr,
        )
        return EXIT_USAGE

    def pause(seconds: float) -> None:
        SLEEP(seconds)

    clients = {}
    for name in names:
        made = channel(name).clients(settings[name], timeout=TIMEOUT, sleep=pause)
        clients.update({d: client for d, client in made.items() if d in due})
    return clients


def post(args: argparse.Namespace, now: Callable[[], datetime]) -> int:
    """`post`: send pending posts, record each one at once, exit 3 if any channel failed."""
    from balise.announce.ledger import LedgerBusy, ledger_lock
    from balise.announce.network import credential_values
    from balise.announce.post import PostResult, send

    options = _options(args, now)
    found = _channels(options["networks"], bool(args.network), os.environ)
    options["networks"] = tuple(found.destinations)
    if not (args.repo / ESTABLISHMENTS_FILE).exists():
        return _outbox(args, options)  # not a status repository: report it, create nothing
    if args.retract:
        return _post_retract(args, options, found)
    try:
        with ledger_lock(args.repo):
            box = _outbox(args, options)
            if isinstance(box, int):
                return box
            due = tuple(dict.fromkeys(pending.network for pending in box.plan.pending))
            clients = _clients(due, found, os.environ) if due or found.missing else {}
            if isinstance(clients, int):
                return clients

            def show(outcome: PostResult) -> None:
                name = found.destinations[outcome.pending.network]
                statement = outcome.pending.statement.id
                if outcome.sent is not None:
                    where = outcome.sent.url or outcome.sent.note or "sent"
                    print(f"sent    {name} · {statement} · {where}")
                else:
                    print(f"FAILED  {name} · {statement}: {outcome.failure}", file=sys.stderr)

            result = send(
                args.repo,
                box,
                clients,
                wall_clock=lambda: datetime.now(UTC),
                report=show,
                secrets=credential_values(os.environ),
            )
    except LedgerBusy as error:
        print(f"{error}; nothing was posted by this run.", file=sys.stderr)
        return EXIT_NETWORK
    for line in _skipped_lines(box, found.destinations):
        print(line)
    for line in found.off:
        print(line)
    sent = len(result.outcomes) - len(result.failed)
    if result.failed:
        failed = len(result.failed)
        print(
            f"{sent} sent, {failed} not sent: they stay pending; run post again "
            "(nothing already sent will be sent twice).",
            file=sys.stderr,
        )
        return EXIT_NETWORK
    print(f"{sent} post{'s' if sent != 1 else ''} sent." if sent else "Nothing to post.")
    return EXIT_OK


# --- post --retract ID ----------------------------------------------------------------


def _retract_box(args: argparse.Namespace, options: dict, found: Channels):
    """Check the sources, read the ledger, plan the retraction: the RetractBox or an exit."""
    from balise.announce.ledger import LedgerError
    from balise.announce.post import retractions
    from balise.build import check

    checked = check(args.repo)
    if not checked.ok or checked.repository is None:
        print(report(checked.problems), file=sys.stderr)
        print("The sources have problems: nothing is retracted until they are fixed.",
              file=sys.stderr)  # fmt: skip
        return EXIT_INVALID
    try:
        box = retractions(
            args.repo, checked.repository, args.retract, tuple(found.destinations), options["now"]
        )
    except LedgerError as error:
        print(error.problem, file=sys.stderr)
        return EXIT_INVALID
    known = any(s.id == args.retract for s in checked.repository.statements)
    if not known and args.retract not in box.ledger.entries:
        raise UsageError(f"no statement {args.retract!r} in the repository or the ledger")
    return box


def _label(found: Channels, destination: str) -> str:
    return found.destinations.get(destination, destination)


def _preview_retract(args: argparse.Namespace, options: dict, found: Channels) -> int:
    """`social --retract ID`: what `post --retract ID` would delete, correct or record."""
    from balise.announce.channels import channel
    from balise.announce.post import CORRECT, DELETE

    box = _retract_box(args, options, found)
    if isinstance(box, int):
        return box
    for item in box.retractions:
        label = _label(found, item.destination)
        if item.action == DELETE:
            where = (item.entry.url or item.entry.remote_id) if item.entry else None
            print(f"{label} · {box.statement_id} · would delete {where}")
        elif item.action == CORRECT and item.correction is not None:
            name = channel_of(item.destination)
            facts = channel(name).facts(item.correction, found.settings.get(name))
            print(" · ".join([label, box.statement_id, "would send a correction", *facts]))
            if item.correction.subject is not None:
                print(f"    Subject: {item.correction.subject}")
            for line in item.correction.text.splitlines():
                print(f"    {line}" if line else "")
        else:
            print(f"{label} · {box.statement_id} · would record as withdrawn: never posted")
    count = len(box.retractions)
    print(f"{count} to take back." if count else "Nothing to take back.")
    for line in found.off:
        print(line)
    return EXIT_OK


def _post_retract(args: argparse.Namespace, options: dict, found: Channels) -> int:
    """`post --retract ID`: delete, correct, record; exit 3 if any of it failed."""
    from balise.announce.ledger import LedgerBusy, ledger_lock
    from balise.announce.network import credential_values
    from balise.announce.post import RECORD, RetractResult, retract

    try:
        with ledger_lock(args.repo):
            box = _retract_box(args, options, found)
            if isinstance(box, int):
                return box
            due = tuple(
                item.destination
                for item in box.retractions
                if item.action != RECORD and item.destination in found.destinations
            )
            clients = _clients(due, found, os.environ) if due or found.missing else {}
            if isinstance(clients, int):
                return clients

            def show(outcome: RetractResult) -> None:
                label = _label(found, outcome.retraction.destination)
                if outcome.done is not None:
                    print(f"{'taken back':<11} {label} · {box.statement_id} · {outcome.done.note}")
                else:
                    print(f"FAILED      {label} · {box.statement_id}: {outcome.failure}",
                          file=sys.stderr)  # fmt: skip

            outcomes = retract(
                args.repo,
                box,
                clients,
                wall_clock=lambda: datetime.now(UTC),
                report=show,
                secrets=credential_values(os.environ),
            )
    except LedgerBusy as error:
        print(f"{error}; nothing was retracted by this run.", file=sys.stderr)
        return EXIT_NETWORK
    failed = sum(1 for outcome in outcomes if outcome.done is None)
    if failed:
        print(
            f"{len(outcomes) - failed} taken back, {failed} not: run post --retract "
            f"{box.statement_id} again (nothing is deleted or corrected twice).",
            file=sys.stderr,
        )
        return EXIT_NETWORK
    print(f"{len(outcomes)} taken back." if outcomes else "Nothing to take back.")
    return EXIT_OK

"""The command line: arguments, NOW, exit codes and printing. No logic of its own.

Exit codes: 0 success, 1 invalid sources, 2 usage error, 3 network or posting failure.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from balise.cli_exit import EXIT_INVALID, EXIT_OK, UsageError
from balise.errors import report
from balise.text import parse_iso_instant

CACHE_DIR = ".balise-cache"  # balise.cache.CACHE_DIR, without importing the build here
NO_CACHE_HELP = "rebuild everything, without reading or writing REPO/.balise-cache"
STRICT_HELP = "also fail on warnings (a date far in the future, a status without text, ...)"


def parse_now(text: str | None) -> datetime:
    """NOW: `--now ISO`, else SOURCE_DATE_EPOCH, else the clock (CONTRACT §4)."""
    if text:
        moment = parse_iso_instant(text)
        if moment is None:
            raise UsageError(f"--now {text!r} is not an ISO 8601 date")
        if moment.tzinfo is None:
            raise UsageError(f"--now {text!r} needs an offset, e.g. {text}+02:00")
        return moment
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), UTC)
        except ValueError:
            raise UsageError(f"SOURCE_DATE_EPOCH={epoch!r} is not a whole number") from None
    return datetime.now(UTC)


def _print_problems(problems) -> None:
    if problems:
        print(report(problems), file=sys.stderr)


def _summary(outcome, action: str) -> None:
    errors = len(outcome.errors)
    warnings = len(outcome.problems) - errors
    if errors:
        s = "s" if errors > 1 else ""
        warned = outcome.strict and any(p.warning for p in outcome.problems)
        note = " (--strict: warnings count)" if warned else ""
        print(f"{errors} problem{s} found{note}: {action}.", file=sys.stderr)
    elif warnings:
        s = "s" if warnings > 1 else ""
        print(f"{warnings} warning{s}.", file=sys.stderr)


def cmd_check(args: argparse.Namespace) -> int:
    from balise.announce.post import social_problems
    from balise.build import check

    outcome = check(
        args.repo,
        parse_now(args.now),
        strict=args.strict,
        wall_clock=datetime.now(UTC),
        cache=args.repo / CACHE_DIR,  # read only: what builds kept saves time
    )
    if outcome.repository is not None:  # posts that cannot fit, the ledger (CONTRACT §8)
        outcome = outcome.adding(social_problems(args.repo, outcome.repository))
    _print_problems(outcome.problems)
    _summary(outcome, "fix them and run check again")
    if outcome.ok and outcome.repository is not None:
        repo = outcome.repository
        print(
            f"OK: {len(repo.establishments)} establishments, {len(repo.statements)} statements.",
            file=sys.stderr,
        )
    return EXIT_OK if outcome.ok else EXIT_INVALID


def cmd_build(args: argparse.Namespace) -> int:
    from balise.build import build

    out = args.out if args.out is not None else args.repo / "site"
    outcome = build(
        args.repo,
        out,
        parse_now(args.now),
        strict=args.strict,
        on_wait=lambda: print(f"Waiting for another build into {out} to finish…", file=sys.stderr),
        cache=None if args.no_cache else args.repo / CACHE_DIR,
        wall_clock=datetime.now(UTC),
    )
    _print_problems(outcome.problems)
    for warning in outcome.mkdocs_warnings:
        print(f"mkdocs: {warning}", file=sys.stderr)
    for note in outcome.notes:
        print(f"note: {note}", file=sys.stderr)
    _summary(outcome, f"nothing was published, {out} is unchanged")
    if not outcome.ok:
        return EXIT_INVALID
    print(f"Built {out}", file=sys.stderr)
    return EXIT_OK


def cmd_deploy(args: argparse.Namespace) -> int:
    from balise.cli_deploy import deploy

    try:
        return deploy(args)
    except ValueError as error:  # a deploy target that cannot be understood
        raise UsageError(str(error)) from None


def cmd_new(args: argparse.Namespace) -> int:
    from balise.newstatement import write_new_statement

    result = write_new_statement(
        args.repo,
        title=args.title,
        statuses=args.status or [],
        type_=args.type,
        incident=args.incident,
        now=parse_now(args.now),
    )
    if result.problems:
        _print_problems(result.problems)
        return EXIT_INVALID
    print(result.path)
    print(
        "Write the statement's text in that file: check refuses the placeholder until then.",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from balise.serve import serve

    parse_now(args.now)  # a bad --now is a usage error before anything starts
    return serve(
        args.repo,
        args.out,
        args.host,
        args.port,
        lambda: parse_now(args.now),
        wall_clock=lambda: datetime.now(UTC),  # judges future dates, as in check and build
    )


def cmd_social(args: argparse.Namespace) -> int:
    from balise.cli_social import preview

    return preview(args, lambda: parse_now(args.now))


def cmd_post(args: argparse.Namespace) -> int:
    from balise.cli_social import post

    return post(args, lambda: parse_now(args.now))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="publish.py",
        description="Balise: statements -> status site, feeds, JSON and social posts.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--repo",
        type=Path,
        default=Path("."),
        help="the status repository (default: the current folder)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser(
        "check", parents=[common], help="validate every source; print every problem"
    )
    check.add_argument("--now", help="judge dates as at this instant (ISO 8601 with offset)")
    check.add_argument("--strict", action="store_true", help=STRICT_HELP)
    check.set_defaults(run=cmd_check)

    build = commands.add_parser(
        "build", parents=[common], help="check, then build the whole site atomically"
    )
    build.add_argument("--out", type=Path, help="output folder (default: REPO/site)")
    build.add_argument("--now", help="the instant to build for (ISO 8601 with offset)")
    build.add_argument("--strict", action="store_true", help=STRICT_HELP)
    build.add_argument("--no-cache", action="store_true", help=NO_CACHE_HELP)
    build.set_defaults(run=cmd_build)

    new = commands.add_parser(
        "new", parents=[common], help="write a new statement file and print its path"
    )
    new.add_argument("--title", required=True, help="the statement's title")
    new.add_argument(
        "--status",
        action="append",
        metavar="ID=VALUE",
        help="a status to set, e.g. la-sagesse=dégradé or all=normal (repeatable)",
    )
    new.add_argument("--type", choices=["update", "press-release"], default="update")
    new.add_argument("--incident", help="the incident thread (a slug)")
    new.add_argument("--now", help="date the statement at this instant instead of now")
    new.set_defaults(run=cmd_new)

    serve = commands.add_parser(
        "serve", parents=[common], help="live preview that rebuilds when a source changes"
    )
    serve.add_argument("--out", type=Path, help="output folder (default: a temporary folder)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--now", help="preview the site as at this instant")
    serve.set_defaults(run=cmd_serve)

    deploy = commands.add_parser(
        "deploy",
        parents=[common],
        help="publish the built site to a folder or a git branch, showing what changes",
    )
    deploy.add_argument("--site", type=Path, help="the built site (default: REPO/site)")
    deploy.add_argument(
        "--to",
        action="append",
        metavar="TARGET",
        help="folder:PATH or git:URL#BRANCH (repeatable; default: extra.balise.deploy "
        "in mkdocs.yml)",
    )
    deploy.add_argument(
        "--force",
        action="store_true",
        help="deploy even a site built from uncommitted or unchecked sources",
    )
    deploy.add_argument(
        "--dry-run", action="store_true", help="show what would change, publish nothing"
    )
    deploy.add_argument(
        "--strict",
        action="store_true",
        help="also refuse a site whose NOW is more than a day from the clock (built with --now)",
    )
    deploy.add_argument(
        "--rollback",
        action="store_true",
        help="serve again the release deployed before the one each target serves "
        "(again: one further back); the sources are not touched",
    )
    deploy.add_argument(
        "--keep",
        type=int,
        metavar="N",
        help="complete releases a folder target keeps to roll back through "
        "(default: extra.balise.keep in mkdocs.yml, else 5)",
    )
    deploy.set_defaults(run=cmd_deploy)

    social = commands.add_parser(
        "social", parents=[common], help="show the posts that `post` would send (dry run)"
    )
    post = commands.add_parser(
        "post",
        parents=[common],
        help="send pending posts (credentials from BALISE_* variables); never twice",
    )
    for command, run in ((social, cmd_social), (post, cmd_post)):
        command.add_argument(
            "--network",
            action="append",
            metavar="x,mastodon,bluesky,email,webhook",
            help="the channels, comma-separated or repeated (default: the three networks, "
            "and email and webhook when their settings are set)",
        )
        command.add_argument(
            "--retract",
            metavar="ID",
            help="take back a statement's posts: delete them, or send a correction by email "
            "and webhook, once (with social: show what would be done)",
        )
        command.add_argument("--now", help="the instant to post as of (ISO 8601 with offset)")
        command.add_argument(
            "--since",
            metavar="ISO",
            help="post statements published since this instant, even those recorded as "
            "not to post (default: the first run's horizon)",
        )
        command.add_argument(
            "--window",
            type=float,
            default=24.0,
            metavar="HOURS",
            help="on a network's first run, statements published more than HOURS before "
            "NOW are recorded as not to post instead of flooding it (default: 24)",
        )
        command.set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        code = args.run(args)
    except UsageError as error:
        parser.error(str(error))  # exits 2
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)

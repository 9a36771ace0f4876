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

from balise.errors import report

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_NETWORK = 0, 1, 2, 3


class UsageError(Exception):
    """A command-line value is wrong (exit 2)."""


def parse_now(text: str | None) -> datetime:
    """NOW: `--now ISO`, else SOURCE_DATE_EPOCH, else the clock (CONTRACT §4)."""
    if text:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"--now {text!r} is not an ISO 8601 date") from None
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
        print(f"{errors} problem{s} found: {action}.", file=sys.stderr)
    elif warnings:
        s = "s" if warnings > 1 else ""
        print(f"{warnings} warning{s}.", file=sys.stderr)


def cmd_check(args: argparse.Namespace) -> int:
    from balise.build import check

    outcome = check(args.repo)
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
    outcome = build(args.repo, out, parse_now(args.now))
    _print_problems(outcome.problems)
    for warning in outcome.mkdocs_warnings:
        print(f"mkdocs: {warning}", file=sys.stderr)
    _summary(outcome, f"nothing was published, {out} is unchanged")
    if not outcome.ok:
        return EXIT_INVALID
    print(f"Built {out}", file=sys.stderr)
    return EXIT_OK


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
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from balise.serve import serve

    parse_now(args.now)  # a bad --now is a usage error before anything starts
    return serve(args.repo, args.out, args.host, args.port, lambda: parse_now(args.now))


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
    check.set_defaults(run=cmd_check)

    build = commands.add_parser(
        "build", parents=[common], help="check, then build the whole site atomically"
    )
    build.add_argument("--out", type=Path, help="output folder (default: REPO/site)")
    build.add_argument("--now", help="the instant to build for (ISO 8601 with offset)")
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

"""`publish.py deploy`: check the stamp, show what changes, then publish to every target.

Printing and exit codes only; the decisions are in `deploy`, the copying and pushing in `targets`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from balise.cli_exit import EXIT_INVALID, EXIT_NETWORK, EXIT_OK, EXIT_USAGE
from balise.deploy import (
    TARGET_FORMS,
    DeploySettings,
    GitTarget,
    Target,
    changes,
    commit_message,
    describe,
    far_from_clock,
    parse_target,
    refusals,
    release_name,
    rollback_message,
    served,
    valid_keep,
)
from balise.stamp import digest_of, read_stamp, site_digests, source_state
from balise.targets import (
    DeployFailed,
    TargetRefused,
    open_target,
    settings_from_config,
    targets_from_config,
)

NEXT_AFTER_ROLLBACK = (
    "The sources are unchanged: fix or withdraw the statement, commit, build, then deploy "
    "(until then, a deploy of the current site publishes it again)."
)


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def wall_clock() -> datetime:
    """The time a site's NOW is compared with (tests replace it: none reads the clock)."""
    return datetime.now(UTC)


def _targets(args: argparse.Namespace, root: Path) -> list[Target]:
    chosen = [parse_target(t, Path.cwd()) for t in args.to] if args.to else None
    if chosen is None:
        chosen = targets_from_config(root)
    if not chosen:
        raise ValueError(
            f"no deploy target: pass --to {TARGET_FORMS}, "
            "or set extra: balise: deploy: in mkdocs.yml"
        )
    return chosen


def deploy(args: argparse.Namespace) -> int:
    """Deploy the built site; ValueError (a bad target) is a usage error for the caller."""
    root: Path = args.repo
    settings = settings_from_config(root)
    if args.keep is not None:
        if not valid_keep(args.keep):
            raise ValueError("--keep must be 2 or more (the live release and one before it)")
        settings = replace(settings, keep=args.keep)
    if args.rollback:
        _refuse_with_rollback(args)
        return roll_back(args, _targets(args, root), settings)
    site: Path = args.site if args.site is not None else root / "site"
    try:
        new = json.loads((site / "status.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        _say(f"{site} is not a built Balise site (no readable status.json): run build first.")
        return EXIT_INVALID
    chosen = _targets(args, root)

    stamp = read_stamp(site)
    # Only the files written since the last deploy read them are read (a git branch also
    # needs each file's blob id); every target is given what is known of them.
    files = site_digests(site, blobs=any(isinstance(t, GitTarget) for t in chosen))
    digest = digest_of(files)
    state = source_state(root)
    reasons = refusals(stamp, digest, state.files if state.clean is not None else None)
    doubt = far_from_clock(stamp, wall_clock())
    if doubt and args.strict:
        reasons.append(f"{doubt} (--strict)")
    for reason in reasons:
        _say(f"{'warning' if args.force else 'refusing to deploy'}: {reason}")
    if doubt and not args.strict:
        _say(f"warning: {doubt}")
    if reasons and not args.force:
        _say("Nothing was deployed (--force deploys anyway).")
        return EXIT_INVALID
    built_from = ((stamp or {}).get("source") or {}).get("commit")
    head = state.commit
    if built_from and head and built_from != head:
        _say(f"note: the site was built from {built_from[:12]}; the sources are now at {head[:12]}")

    def deploy_to(target: Target) -> None:
        waiting = f"Waiting for another deploy to {target} to finish…"
        with open_target(
            target, lambda text=waiting: _say(text), repo=root, settings=settings
        ) as opened:
            found = changes(opened.deployed_status(), new)
            _say(f"{'Would deploy' if args.dry_run else 'Deploying'} {site} to {target}:")
            for line in describe(found):
                _say(line)
            if args.dry_run:
                return
            message = commit_message(new, found, stamp)
            where = opened.publish(site, files, message, release_name(stamp, digest))
            _say(f"Deployed: {where}")

    return _each_target(chosen, "deploy to", deploy_to)


# What makes no sense with --rollback: it serves a release the target already holds (not a
# built site, so no --site), and walks back past no check (no --force, no --strict).
_NOT_WITH_ROLLBACK = (
    ("site", "--site", "it serves a release the target already holds, not a built site"),
    ("force", "--force", "it publishes no new site, so there is no check to override"),
    ("strict", "--strict", "it publishes no new site, so there is no NOW to check"),
)


def _refuse_with_rollback(args: argparse.Namespace) -> None:
    """A usage error (ValueError, exit 2) for an option that means nothing with --rollback."""
    given = [
        (option, why)
        for name, option, why in _NOT_WITH_ROLLBACK
        if getattr(args, name) not in (None, False)
    ]
    if given:
        options = ", ".join(option for option, _ in given)
        reasons = "; ".join(f"{option}: {why}" for option, why in given)
        raise ValueError(f"--rollback cannot be used with {options} ({reasons})")


def _each_target(chosen: list[Target], what: str, act: Callable[[Target], None]) -> int:
    """`act` on each target in turn; a target refused or failed is said, and the others go
    on. The exit code: 2 when one was refused, 3 when one could not be updated."""
    code = EXIT_OK
    for target in chosen:
        try:
            act(target)
        except TargetRefused as error:
            _say(f"{what} {target} refused: {error}")
            code = max(code, EXIT_USAGE)
        except DeployFailed as error:
            _say(f"{what} {target} FAILED: {error}")
            _say(getattr(error, "aftermath", f"{target} still serves the site it served before."))
            code = EXIT_NETWORK
    return code


def roll_back(args: argparse.Namespace, chosen: list[Target], settings: DeploySettings) -> int:
    """Serve the release deployed before the one each target serves; the sources stay."""

    def roll_back_one(target: Target) -> None:
        waiting = f"Waiting for another deploy to {target} to finish…"
        with open_target(
            target,
            lambda text=waiting: _say(text),
            repo=args.repo,
            settings=settings,
            history=True,
        ) as opened:
            release = opened.previous()
            if release is None:
                raise TargetRefused(
                    "it keeps no complete release deployed before the one it serves: "
                    "nothing to roll back to"
                )
            found = changes(opened.deployed_status(), release.status or {})
            verb = "Would roll back" if args.dry_run else "Rolling back"
            _say(f"{verb} {target} to {served(release)}:")
            for line in describe(found):
                _say(line)
            if args.dry_run:
                return
            where = opened.roll_back(release, rollback_message(release, found))
            _say(f"Rolled back: {where} now serves {served(release)}")

    code = _each_target(chosen, "rollback of", roll_back_one)
    if code == EXIT_OK and not args.dry_run:
        _say(NEXT_AFTER_ROLLBACK)
    return code

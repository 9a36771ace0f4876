"""Planning a deploy: where to (targets), whether the site may go (stamp), what changes (diff).

Pure: values in, values out. The copying and pushing live in `targets`; printing in `cli`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from balise.object_store import S3Target, parse_s3_target
from balise.text import parse_iso_instant

DEFAULT_BRANCH = "gh-pages"
# A site built for a NOW further than this from the clock shows another moment's statuses.
CLOCK_TOLERANCE = timedelta(days=1)
LISTED_FILES = 5  # uncommitted files named in a refusal; the others are counted
TARGET_FORMS = "folder:PATH, git:URL#BRANCH or s3://BUCKET/PREFIX"


class TargetError(ValueError):
    """A deploy target that cannot be understood (a usage error)."""


class DeployFailed(Exception):
    """The target could not be updated; it still serves what it served before (exit 3)."""


class TargetRefused(Exception):
    """The target is not something Balise may deploy to as it is (a usage error, exit 2)."""


@dataclass(frozen=True)
class FolderTarget:
    """A local folder served by a web server: a link switched from release to release."""

    path: Path

    def __str__(self) -> str:
        return f"folder:{self.path}"


@dataclass(frozen=True)
class GitTarget:
    """A branch of a git remote served as pages (GitHub Pages, GitLab Pages, a bare repo)."""

    url: str
    branch: str = DEFAULT_BRANCH

    def __str__(self) -> str:
        return f"git:{self.url}#{self.branch}"


Target = FolderTarget | GitTarget | S3Target


def parse_target(text: str, base: Path) -> Target:
    """`folder:PATH` (relative to base), `git:URL#BRANCH` (branch default gh-pages) or
    `s3://BUCKET/PREFIX` (object storage, see `object_store`)."""
    kind, colon, rest = text.strip().partition(":")
    if kind == "s3":
        s3 = parse_s3_target(text.strip())
        if s3 is None:
            raise TargetError(f"deploy target {text!r} is not {TARGET_FORMS}")
        return s3
    if not colon or not rest.strip():
        raise TargetError(f"deploy target {text!r} is not {TARGET_FORMS}")
    rest = rest.strip()
    if kind == "folder":
        return FolderTarget(base / Path(rest).expanduser())
    if kind == "git":
        url, hash_sign, branch = rest.rpartition("#")
        if not hash_sign:
            url, branch = rest, DEFAULT_BRANCH
        if not url or url.startswith("-") or not branch or branch.startswith("-") or " " in branch:
            raise TargetError(f"deploy target {text!r} is not {TARGET_FORMS}")
        return GitTarget(url, branch)
    raise TargetError(f"deploy target {text!r} is not {TARGET_FORMS}")


def configured_targets(mkdocs: Any, root: Path) -> list[Target]:
    """The targets of `extra: balise: deploy:` in mkdocs.yml: one string or a list of them."""
    extra = mkdocs.get("extra") if isinstance(mkdocs, Mapping) else None
    balise = extra.get("balise") if isinstance(extra, Mapping) else None
    value = balise.get("deploy") if isinstance(balise, Mapping) else None
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) for v in values):
        raise TargetError(f"mkdocs.yml: extra.balise.deploy must be {TARGET_FORMS} (or a list)")
    return [parse_target(v, root) for v in values]


# --- may this site go? ------------------------------------------------------------------


def refusals(
    stamp: Mapping[str, Any] | None, digest: str, uncommitted: Sequence[str] | None = None
) -> list[str]:
    """Why a built site must not be deployed without --force; [] when it may go.

    `uncommitted`: the source files git reports uncommitted now (the stamp, published with
    the site, only counts them), or None when unknown.
    """
    if stamp is None:
        return [
            "the site has no build stamp (.balise-build.json): it was not made by "
            "`publish.py build`, so nothing says it was checked; build it first"
        ]
    reasons = []
    if not stamp.get("checked"):
        reasons.append("the site was built from sources that were not checked")
    if stamp.get("digest") != digest:
        reasons.append("the site was changed after it was built; build it again")
    source = stamp.get("source") if isinstance(stamp.get("source"), Mapping) else {}
    clean = source.get("clean")
    if clean is None:
        reasons.append(
            "the site was built from a folder that is not a git repository: "
            "nothing records which statements it publishes"
        )
    elif not clean:
        changed = source.get("changed") or 0
        files = _files(changed) if changed else "sources"
        todo = "commit them, build again, then deploy"
        if uncommitted:
            names = _names(uncommitted)
            files += f": {names}" if len(uncommitted) == changed else f"; uncommitted now: {names}"
        elif uncommitted is not None:
            files, todo = f"{files}, committed since", "build again, then deploy"
        reasons.append(f"the site was built from uncommitted changes ({files}): {todo}")
    return reasons


def _files(count: int) -> str:
    return f"{count} source file{'s' if count != 1 else ''}"


def _names(paths: Sequence[str]) -> str:
    listed = ", ".join(paths[:LISTED_FILES])
    more = len(paths) - LISTED_FILES
    return f"{listed} and {more} more" if more > 0 else listed


def far_from_clock(stamp: Mapping[str, Any] | None, wall_clock: datetime) -> str | None:
    """A warning when the site was built for a NOW (`--now`, SOURCE_DATE_EPOCH or the clock
    of an old build) more than CLOCK_TOLERANCE from the wall clock; None when it is near."""
    built = parse_iso_instant(str((stamp or {}).get("built_at")))
    if built is None or built.tzinfo is None:
        return None  # no stamp or no NOW in it (`refusals` says so), or no offset to compare
    gap = wall_clock - built
    if abs(gap) <= CLOCK_TOLERANCE:
        return None
    side = "before" if gap > timedelta(0) else "after"
    return (
        f"the site shows the statuses at {built.isoformat()} (its NOW), {_span(abs(gap))} "
        f"{side} the clock ({wall_clock.astimezone(built.tzinfo).isoformat(timespec='seconds')}): "
        "build it again without --now to publish the current ones"
    )


def _span(gap: timedelta) -> str:
    hours = int(gap.total_seconds() // 3600)
    if hours < 48:
        return f"{hours} hours"
    if gap.days < 60:
        return f"{gap.days} days"
    return f"about {round(gap.days / 30.44)} months"


# --- what changes -----------------------------------------------------------------------


@dataclass(frozen=True)
class StatusChange:
    establishment: str  # id
    name: str
    before: str | None  # canonical status, None when the establishment is new
    after: str | None  # None when it left the registry


@dataclass(frozen=True)
class StatementRef:
    id: str
    title: str


@dataclass(frozen=True)
class Changes:
    """What the public will see change, from the deployed status.json to the new one."""

    first: bool  # nothing deployed yet (or the deployed site has no status.json)
    added: tuple[StatementRef, ...]
    removed: tuple[StatementRef, ...]
    edited: tuple[StatementRef, ...]
    statuses: tuple[StatusChange, ...]

    @property
    def empty(self) -> bool:
        return not (self.first or self.added or self.removed or self.edited or self.statuses)


def _statements(data: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    listed = data.get("statements") if isinstance(data, Mapping) else None
    return {str(s.get("id")): s for s in (listed or []) if isinstance(s, Mapping) and "id" in s}


def _establishments(data: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    listed = data.get("establishments") if isinstance(data, Mapping) else None
    return {str(e.get("id")): e for e in (listed or []) if isinstance(e, Mapping) and "id" in e}


def _ref(statement: Mapping[str, Any]) -> StatementRef:
    return StatementRef(str(statement.get("id")), str(statement.get("title", "")))


_COMPARED = ("title", "date", "type", "incident", "status", "summary")


def changes(deployed: Mapping[str, Any] | None, new: Mapping[str, Any]) -> Changes:
    """Compare two status.json documents (the deployed one may be missing)."""
    old_statements, new_statements = _statements(deployed), _statements(new)
    old_places, new_places = _establishments(deployed), _establishments(new)
    # A statement withdrawn (`withdrawn:`) leaves `statements` but keeps its page: changed.
    withdrawn = {str(w.get("id")) for w in new.get("withdrawn") or () if isinstance(w, Mapping)}
    added = tuple(_ref(s) for i, s in new_statements.items() if i not in old_statements)
    removed = tuple(
        _ref(s) for i, s in old_statements.items() if i not in new_statements and i not in withdrawn
    )
    edited = tuple(
        _ref(s)
        for i, s in new_statements.items()
        if i in old_statements and any(s.get(k) != old_statements[i].get(k) for k in _COMPARED)
    ) + tuple(_ref(s) for i, s in old_statements.items() if i in withdrawn)
    statuses = []
    for establishment_id in [*new_places, *(i for i in old_places if i not in new_places)]:
        before = old_places.get(establishment_id, {}).get("status")
        after = new_places.get(establishment_id, {}).get("status")
        if before != after:
            place = new_places.get(establishment_id) or old_places[establishment_id]
            statuses.append(
                StatusChange(establishment_id, str(place.get("name", "")), before, after)
            )
    return Changes(deployed is None, added, removed, edited, tuple(statuses))


def describe(found: Changes) -> list[str]:
    """The lines printed before publishing, so the person deploying sees what will change."""
    lines = []
    if found.first:
        count = len(found.added)
        lines.append(f"first deploy to this target: {count} statement{'s' if count != 1 else ''}")
    else:
        lines += [f'  + statement {s.id}: "{s.title}"' for s in found.added]
    lines += [f'  ~ statement {s.id} changed: "{s.title}"' for s in found.edited]
    for gone in found.removed:
        lines.append(f'  - statement {gone.id} withdrawn: "{gone.title}"')
        # A file renamed (to fix its name) changes the statement's id, hence its permalink.
        for twin in (s for s in found.added if s.title == gone.title):
            lines.append(
                f"    renamed as {twin.id}? Its permalink changed: write `id: {gone.id}` in its"
                " front matter to keep the old one (and not post it again)"
            )
    for change in found.statuses:
        before = change.before or "(new)"
        after = change.after or "(removed)"
        lines.append(f"  {change.establishment} ({change.name}): {before} -> {after}")
    if found.empty:
        lines.append("no change in statements or statuses since the last deploy")
    return lines


def newest_statement(new: Mapping[str, Any]) -> StatementRef | None:
    """status.json lists statements newest first."""
    listed = new.get("statements")
    if isinstance(listed, Sequence) and listed and isinstance(listed[0], Mapping):
        return _ref(listed[0])
    return None


def commit_message(new: Mapping[str, Any], found: Changes, stamp: Mapping[str, Any] | None) -> str:
    """The commit of a git deploy: its subject names the newest statement."""
    newest = newest_statement(new)
    subject = f'Publish {newest.id}: "{newest.title}"' if newest else "Publish the status site"
    body = [line.strip() for line in describe(found)]
    source = (stamp or {}).get("source") or {}
    if source.get("commit"):
        body.append(f"Built from {source['commit']} at {(stamp or {}).get('built_at')}.")
    return subject + "\n\n" + "\n".join(body) + "\n"


def release_name(stamp: Mapping[str, Any] | None, digest: str) -> str:
    """A folder name for one release: sortable by build time, unique by content."""
    built = str((stamp or {}).get("built_at") or "unstamped")
    compact = "".join(c for c in built if c.isalnum())[:15]
    return f"{compact}-{digest.removeprefix('sha256:')[:12]}"


# --- settings and rolling back ----------------------------------------------------------

DEFAULT_KEEP = 5  # complete releases a folder target keeps: rollbacks walk back through them
ROLLBACK_TRAILER = "Restores: "  # in a rollback commit: the deploy commit whose tree it serves


@dataclass(frozen=True)
class DeploySettings:
    """`extra: balise:` keys beside `deploy`: how many releases a folder keeps (`keep`), the
    custom domain a git branch serves (`cname`, else the branch's own `CNAME` is kept)."""

    keep: int = DEFAULT_KEEP
    cname: str | None = None


def configured_settings(mkdocs: Any) -> DeploySettings:
    extra = mkdocs.get("extra") if isinstance(mkdocs, Mapping) else None
    balise = extra.get("balise") if isinstance(extra, Mapping) else None
    balise = balise if isinstance(balise, Mapping) else {}
    keep = balise.get("keep", DEFAULT_KEEP)
    if not valid_keep(keep):
        raise TargetError(f"mkdocs.yml: extra.balise.keep must be 2 or more, not {keep!r}")
    cname = balise.get("cname")
    if cname is not None and (not isinstance(cname, str) or not _is_domain(cname)):
        raise TargetError(f"mkdocs.yml: extra.balise.cname must be a domain name, not {cname!r}")
    return DeploySettings(keep, cname.strip() if cname else None)


def valid_keep(keep: object) -> bool:
    """At least the live release and one to roll back to (and to survive a killed prune)."""
    return isinstance(keep, int) and not isinstance(keep, bool) and keep >= 2


def _is_domain(text: str) -> bool:
    name = text.strip()
    return bool(name) and all(c.isalnum() or c in "-." for c in name) and "." in name


@dataclass(frozen=True)
class Release:
    """One complete release a target kept: its id (a folder's name, a commit) and what it serves."""

    id: str
    status: Mapping[str, Any] | None
    stamp: Mapping[str, Any] | None


def served(release: Release) -> str:
    """Which release a target serves, in words: its newest statement and its build time."""
    newest = newest_statement(release.status or {})
    statement = f'newest statement {newest.id} "{newest.title}"' if newest else "no statement"
    built = (release.stamp or {}).get("built_at") or "an unknown time"
    return f"release {release.id}: {statement}, built at {built}"


def restored_commit(message: str) -> str | None:
    """The deploy commit a rollback commit restores (its trailer), None for a deploy commit."""
    for line in reversed(message.strip().splitlines()):
        if line.startswith(ROLLBACK_TRAILER):
            return line.removeprefix(ROLLBACK_TRAILER).strip() or None
    return None


def walk_back(history: Sequence[tuple[str, str]]) -> tuple[str, str] | None:
    """A branch's first-parent history (commit, message), newest first -> (the deploy commit
    it serves now, the one deployed before it), or None when there is none before it.

    A rollback commit serves the deploy commit it names; rollback commits themselves are
    never gone back to, so a second rollback goes one deploy further back."""
    if not history:
        return None
    deploys = [commit for commit, message in history if restored_commit(message) is None]
    now = restored_commit(history[0][1]) or history[0][0]
    if now not in deploys:
        return None  # it names a commit outside this history (rewritten by hand)
    index = deploys.index(now)
    return (now, deploys[index + 1]) if index + 1 < len(deploys) else None


def rollback_message(release: Release, found: Changes) -> str:
    """The commit of a git rollback: it names the release it serves again, and the trailer
    that lets the next rollback go one further back."""
    newest = newest_statement(release.status or {})
    about = f': "{newest.title}" ({newest.id})' if newest else ""
    body = [line.strip() for line in describe(found)]
    body.append(f"Serves again {served(release)}.")
    return (
        f"Roll back to {release.id[:12]}{about}\n\n"
        + "\n".join(body)
        + (f"\n\n{ROLLBACK_TRAILER}{release.id}\n")
    )

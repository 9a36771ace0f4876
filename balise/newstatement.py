"""`publish.py new`: a new statement file with a valid front matter, dated NOW.

Writes one file, then checks it with the same validation as `check`; a bad one is removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml

from balise.errors import Problem
from balise.load import load_repository
from balise.text import slugify
from balise.validate import PLACEHOLDER, PLACEHOLDER_MESSAGE, validate_repository

BODY = PLACEHOLDER + "\n"  # `check` refuses it: the file is to be edited before it is published


@dataclass(frozen=True)
class NewStatement:
    path: Path | None
    problems: tuple[Problem, ...] = ()


SLUG_LIMIT = 60  # characters of the title's slug in the file name (the statement's id)


def statement_slug(title: str) -> str:
    """The id part a title gives: its first whole words as a slug, or `communique`."""
    return slugify(title, SLUG_LIMIT) or "communique"


def front_matter(
    title: str, date: str, statuses: dict[str, str], type_: str, incident: str | None
) -> str:
    meta: dict[str, object] = {"title": title, "date": date}
    if type_ != "update":
        meta["type"] = type_
    if incident:
        meta["incident"] = incident
    if statuses:
        meta["status"] = statuses
    return yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=10_000)


def _parse_statuses(pairs: list[str]) -> tuple[dict[str, str], list[Problem]]:
    statuses: dict[str, str] = {}
    problems = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            problems.append(
                Problem("--status", 1, f"{pair!r} must be ID=VALUE, e.g. la-sagesse=degraded")
            )
        else:
            statuses[key.strip()] = value.strip()
    return statuses, problems


def write_new_statement(
    root: Path,
    *,
    title: str,
    statuses: list[str],
    type_: str,
    incident: str | None,
    now: datetime,
) -> NewStatement:
    """Write `statements/YYYY-MM/YYYY-MM-DD-slug.md` and validate it."""
    status_map, problems = _parse_statuses(statuses)
    if problems:
        return NewStatement(None, tuple(problems))
    raw = load_repository(root)
    tz = validate_repository(raw).repository
    zone = tz.organisation.tz if tz else None
    local = now.astimezone(zone) if zone else now
    date = local.replace(second=0, microsecond=0).isoformat()

    folder = root / "statements" / local.strftime("%Y-%m")
    stem = f"{local:%Y-%m-%d}-{statement_slug(title)}"
    path = folder / f"{stem}.md"
    n = 2
    while path.exists():
        path = folder / f"{stem}-{n}.md"
        n += 1
    folder.mkdir(parents=True, exist_ok=True)
    text = f"---\n{front_matter(title, date, status_map, type_, incident)}---\n\n{BODY}"
    path.write_text(text, encoding="utf-8")

    relative = path.relative_to(root).as_posix()
    validated = validate_repository(load_repository(root))
    mine = tuple(
        p
        for p in validated.problems
        if p.path == relative and not p.message.endswith(PLACEHOLDER_MESSAGE)
    )
    if mine:
        path.unlink()
        return NewStatement(None, mine)
    return NewStatement(path, ())

"""Guard rails: things that are valid but probably a mistake, as warning Problems.

Pure: a repository and its snapshot at NOW in, warnings out. `--strict` turns them into failures.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from balise import french
from balise.errors import Problem
from balise.model import Repository, Statement
from balise.text.markdown import Removed, removed_markup
from balise.timeline import Snapshot, severity_key

REGISTRY_FILE = "establishments.yml"  # load.ESTABLISHMENTS_FILE: the core reads no files
FUTURE_MARGIN = timedelta(days=1)  # a statement dated later than this is probably a typo
STALE_AFTER = timedelta(hours=24)  # during an incident, the public expects news at least daily


def guard_warnings(
    repository: Repository,
    snap: Snapshot,
    clock: datetime | None = None,
    *,
    removed: Callable[[str], tuple[Removed, ...]] = removed_markup,
) -> tuple[Problem, ...]:
    """Every warning for the repository at the snapshot's NOW; drafts are not judged.

    A date is judged "in the future" against `clock`, the real time of the check, when given:
    replaying a past NOW (`--now`) makes later statements unpublished, not mistaken.
    `removed` finds what the sanitizer takes out of a body (the build passes its memo).
    """
    tz = repository.organisation.tz
    found: list[Problem] = []
    for statement in repository.statements:
        if statement.draft:
            continue
        found.extend(_future_date(statement, clock or snap.now, tz))
        found.extend(_date_without_time(statement, tz))
        found.extend(_status_without_text(statement))
        found.extend(_removed_markup(statement, removed))
    found.extend(_stale_establishments(snap, tz))
    found.extend(_milder_than_a_service(repository, snap))
    found.extend(_next_update_passed(snap, tz))
    found.extend(_incident_near_misses(repository))
    found.extend(_region_near_misses(repository))
    return tuple(sorted(found))


def legal_warnings(repository: Repository) -> tuple[Problem, ...]:
    """The mandatory pages of a French public-service site lack facts: say which, once each.

    Apart from guard_warnings: it judges the registry alone, whatever NOW and the statements."""
    org = repository.organisation
    found = []
    for key, title, facts, given in (
        ("legal", french.LEGAL_TITLE, french.LEGAL_FACTS, org.legal),
        (
            "accessibility",
            french.ACCESSIBILITY_TITLE,
            french.ACCESSIBILITY_FACTS,
            org.accessibility,
        ),
    ):
        missing = [name for name in facts if getattr(given, name) is None]
        if missing:
            found.append(
                Problem(
                    REGISTRY_FILE,
                    1,
                    f"the page « {title} » lacks {', '.join(missing)}; it says so to its readers",
                    f'add them under "organisation: {key}:" (see the README)',
                    warning=True,
                )
            )
    return tuple(found)


def _warning(statement: Statement, key: str, message: str, hint: str = "") -> Problem:
    return Problem(statement.path, statement.line_of(key), message, hint, warning=True)


def _local(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _future_date(statement: Statement, now: datetime, tz: ZoneInfo) -> list[Problem]:
    if statement.date <= now + FUTURE_MARGIN:
        return []
    return [
        _warning(
            statement,
            "date",
            f'"date" is more than a day in the future ({_local(statement.date, tz)})',
            "check the year, month and day: it will not be published before that date; "
            'to hold a statement back on purpose, use "publish_at"',
        )
    ]


def _date_without_time(statement: Statement, tz: ZoneInfo) -> list[Problem]:
    if not statement.date_without_time:
        return []
    day = statement.date.date()
    example = datetime.combine(day, time(9, 30), tz).isoformat()
    return [
        _warning(
            statement,
            "date",
            f'"date" has no time: it is read as midnight ({_local(statement.date, tz)})',
            f"write when it was issued, such as {example} or {day.isoformat()} 09:30",
        )
    ]


def _status_without_text(statement: Statement) -> list[Problem]:
    if not statement.status or statement.body.strip():
        return []
    return [
        _warning(
            statement,
            "status",
            "sets a status but has no text",
            "say below the front matter what it means for patients: what to do, whom to call",
        )
    ]


def _removed_markup(
    statement: Statement, removed_from: Callable[[str], tuple[Removed, ...]]
) -> list[Problem]:
    body_line = statement.lines.get("body")
    problems = []
    for removed in removed_from(statement.body):
        line = body_line + statement.body.count("\n", 0, removed.offset) if body_line else 1
        problems.append(
            Problem(
                statement.path,
                line,
                f"{removed.what} is removed from the published page",
                "a statement is markdown: HTML is kept only for simple text, lists, tables "
                "and http(s), mailto or tel links",
                warning=True,
            )
        )
    return problems


def _duration(elapsed: timedelta) -> str:
    hours = int(elapsed.total_seconds() // 3600)
    return f"{hours} hours" if hours < 48 else f"{hours // 24} days"


def _names(ids: list[str]) -> str:
    quoted = [f'"{i}"' for i in ids]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _stale_establishments(snap: Snapshot, tz: ZoneInfo) -> list[Problem]:
    """Establishments not back to normal in an active incident, silent for over a day.

    One warning per statement that last spoke of them: a statement for `all` that nobody
    followed up is one thing to fix, not nine.
    """
    silent: dict[Statement, tuple[str, list[str]]] = {}
    seen: set[str] = set()
    for incident in snap.active_incidents:
        for establishment_id in incident.establishments:
            naming = snap.history.get(establishment_id, ())
            if establishment_id in seen or not naming:
                continue
            seen.add(establishment_id)
            if snap.status_of(establishment_id).status.severity == 0:
                continue
            last = naming[-1]
            if snap.now - last.date > STALE_AFTER:
                silent.setdefault(last, (incident.id, []))[1].append(establishment_id)
    return [
        _warning(
            last,
            "status",
            f"no statement about {_names(ids)} for {_duration(snap.now - last.date)} "
            f'while the incident "{incident_id}" is active (last: {_local(last.date, tz)})',
            "publish a point de situation, even to say that nothing has changed",
        )
        for last, (incident_id, ids) in silent.items()
    ]


def _milder_than_a_service(repository: Repository, snap: Snapshot) -> list[Problem]:
    """An establishment shown milder than one of its services (CONTRACT §9): its card, the
    overview and the Statuspage components would understate what patients meet."""
    found = []
    for current in snap.current:
        worst = current.worst_service
        if worst is None or worst.statement is None:
            continue
        if severity_key(current.status) >= severity_key(worst.status):
            continue
        establishment_id = current.establishment.id
        found.append(
            _warning(
                worst.statement,
                "status",
                f'"{establishment_id}" is {current.status.value} but its service '
                f'"{worst.service.id}" is {worst.status.value}',
                f"set the establishment's own status too ({establishment_id}: "
                f"{worst.status.value}), or say why in the text",
            )
        )
    return found


def _next_update_passed(snap: Snapshot, tz: ZoneInfo) -> list[Problem]:
    """A promised next update that has passed with nothing later in its incident (or, for a
    statement outside any incident, nothing later at all)."""
    found = []
    for index, statement in enumerate(snap.published):
        promised = statement.next_update
        if promised is None or promised > snap.now:
            continue
        later = snap.published[index + 1 :]
        if any(s.incident == statement.incident for s in later):
            continue
        where = f' of the incident "{statement.incident}"' if statement.incident else ""
        found.append(
            _warning(
                statement,
                "next_update",
                f"the next update promised for {_local(promised, tz)} has passed with no later "
                f"statement{where}",
                "publish a point de situation, even to say that nothing has changed, or move "
                '"next_update"',
            )
        )
    return found


# --- near misses: one incident or region written two ways ------------------------------


def _one_edit_apart(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance 1: one character added, removed, changed or swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    same, shortest = 0, min(len(a), len(b))
    while same < shortest and a[same] == b[same]:
        same += 1
    if len(a) == len(b):
        rest = same + 1
        swapped = a[same:rest] == b[rest : rest + 1] and a[rest : rest + 1] == b[same:rest]
        return a[rest:] == b[rest:] or (swapped and a[rest + 1 :] == b[rest + 1 :])
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return longer[same + 1 :] == shorter[same:]


def _plain(name: str) -> str:
    """Without case, accents, spaces or punctuation: "Île-de-France" -> "iledefrance"."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in decomposed if c.isalnum())


_PARTS = re.compile(r"\d+|[^\W\d_]+|[\W_]+")


def _label(part: str) -> bool:
    return part.isdigit() or (len(part) == 1 and part.isalpha())


def _parts(name: str) -> list[str]:
    return _PARTS.findall(name.casefold())


def _numbered(parts_a: list[str], parts_b: list[str]) -> bool:
    """Whether two names (as `_parts`) are members of a series: the same words, and where they
    differ, numbers or one-letter labels (`panne-2024-1`, `panne-2024-2`, `panne-2024-10`;
    `site-a`, `site-b`). But `-3` beside `-03` is the same number written twice."""
    if len(parts_a) != len(parts_b):
        return False
    differing = [(x, y) for x, y in zip(parts_a, parts_b, strict=True) if x != y]
    return bool(differing) and all(
        _label(x) and _label(y) and not (x.isdigit() and y.isdigit() and int(x) == int(y))
        for x, y in differing
    )


def near_misses(names: Sequence[str]) -> dict[str, str]:
    """Each name that is probably another one mistyped -> that other one.

    `names` holds one entry per use, oldest first. Two names are a near miss when they are
    one edit apart or equal but for case, accents and punctuation, and are not two members of
    a numbered series. Of the two, the rarer one (then the newer) is the mistake.
    """
    uses: dict[str, int] = {}
    for name in names:
        uses[name] = uses.get(name, 0) + 1
    # Most used first, then oldest: the first candidate ranked before a name is the one it was
    # probably meant to be.
    ranked = sorted(uses, key=lambda name: -uses[name])  # stable: oldest first among equals
    # Names one edit apart share a spelling with one character deleted (or none); names equal
    # but for case and punctuation share their plain form. So only those pairs are compared,
    # not every pair: a long crisis may hold thousands of incidents.
    plain = [_plain(name) for name in ranked]
    keys = [
        {name[:i] + name[i + 1 :] for i in range(len(name))} | {name, "\0" + plain[rank]}
        for rank, name in enumerate(ranked)
    ]
    buckets: dict[str, list[int]] = {}
    for rank, names_keys in enumerate(keys):
        for key in names_keys:
            buckets.setdefault(key, []).append(rank)
    parts = [_parts(name) for name in ranked]
    found: dict[str, str] = {}
    for rank, name in enumerate(ranked):
        for other in sorted({r for key in keys[rank] for r in buckets[key] if r < rank}):
            if not (_one_edit_apart(name, ranked[other]) or plain[rank] == plain[other]):
                continue
            if not _numbered(parts[rank], parts[other]):
                found[name] = ranked[other]
                break
    return found


def _uses(count: int, what: str) -> str:
    return f"{count} {what}{'s' if count > 1 else ''}"


def _incident_near_misses(repository: Repository) -> list[Problem]:
    # by date; a withdrawn statement is in no thread (timeline.snapshot), so it makes none
    statements = [
        s for s in repository.statements if not s.draft and not s.withdrawn and s.incident
    ]
    slugs = [s.incident for s in statements if s.incident]
    mistaken = near_misses(slugs)
    return [
        _warning(
            statement,
            "incident",
            f'incident "{statement.incident}" is almost the same as "{existing}" '
            f"({_uses(slugs.count(existing), 'statement')}): they make two incident threads",
            f'did you mean "{existing}"? statements share a thread only under the same slug',
        )
        for statement in statements
        if (existing := mistaken.get(statement.incident or "")) is not None
    ]


def _region_near_misses(repository: Repository) -> list[Problem]:
    regions = [e.region for e in repository.establishments if e.region]
    mistaken = near_misses(regions)
    return [
        Problem(
            REGISTRY_FILE,
            establishment.line_of("region"),
            f'region "{establishment.region}" is almost the same as "{existing}" '
            f"({_uses(regions.count(existing), 'establishment')}): the site shows two regions",
            f'did you mean "{existing}"?',
            warning=True,
        )
        for establishment in repository.establishments
        if (existing := mistaken.get(establishment.region or "")) is not None
    ]

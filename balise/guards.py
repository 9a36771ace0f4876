"""Guard rails: things that are valid but probably a mistake, as warning Problems.

Pure: a repository and its snapshot at NOW in, warnings out. `--strict` turns them into failures.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from balise.errors import Problem
from balise.model import Repository, Statement
from balise.render.markdown import removed_markup
from balise.timeline import Snapshot

FUTURE_MARGIN = timedelta(days=1)  # a statement dated later than this is probably a typo
STALE_AFTER = timedelta(hours=24)  # during an incident, the public expects news at least daily


def warnings(
    repository: Repository, snap: Snapshot, clock: datetime | None = None
) -> tuple[Problem, ...]:
    """Every warning for the repository at the snapshot's NOW; drafts are not judged.

    A date is judged "in the future" against `clock`, the real time of the check, when given:
    replaying a past NOW (`--now`) makes later statements unpublished, not mistaken.
    """
    tz = repository.organisation.tz
    found: list[Problem] = []
    for statement in repository.statements:
        if statement.draft:
            continue
        found.extend(_future_date(statement, clock or snap.now, tz))
        found.extend(_date_without_time(statement, tz))
        found.extend(_status_without_text(statement))
        found.extend(_removed_markup(statement))
    found.extend(_stale_establishments(snap, tz))
    return tuple(sorted(found))


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


def _removed_markup(statement: Statement) -> list[Problem]:
    body_line = statement.lines.get("body")
    problems = []
    for removed in removed_markup(statement.body):
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

"""A statement's front matter, each key declared once (type, parser, default, README text),
and the checks of its body. Pure: it judges the raw file load.py read, and touches nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from balise.errors import Problem, did_you_mean
from balise.load import BOOL_TAG, RawFile, RawMap, RawNode, RawScalar
from balise.model import Statement, StatementType, Status
from balise.text import collapse, slugify
from balise.validate.dates import instant, without_time
from balise.validate.nodes import (
    ID,
    Field,
    Report,
    boolean_text,
    check_tag,
    fold,
    is_empty,
    is_empty_untagged,
    is_null,
    kind,
    mapping,
    never,
    required_text,
    slug,
    text,
)
from balise.validate.registry import ALL
from balise.validate.schema import Key, read
from balise.validate.summary import MAX_SUMMARY, summarize

MAX_TITLE = 200


@dataclass(frozen=True)
class Context:
    """What judging statements needs from the rest of the repository."""

    zone: str
    ids: tuple[str, ...] | None  # None: the registry is broken, do not judge ids
    updated: Mapping[str, datetime] = field(default_factory=dict)
    summarize: Callable[[str], str] = summarize  # body -> default summary (the build's memo)


@dataclass(frozen=True)
class StatementFile:
    """What the front matter's readers may need besides a key's node."""

    path: str
    body: str
    zone: str
    ids: tuple[str, ...] | None
    summarize: Callable[[str], str] = summarize


@dataclass(frozen=True)
class Checked:
    """One statement judged: its id (for duplicates, even when the rest is wrong)."""

    id: str | None
    id_line: int
    statement: Statement | None


# --- the keys' readers ------------------------------------------------------------------


def _title(field: Field[StatementFile], node: RawNode) -> str | None:
    written = required_text(field, node)
    if written is None:
        return None
    if "\n" in written:
        field.report(node.line, '"title" must be a single line')
        return None
    if len(written) > MAX_TITLE:
        field.report(node.line, f'"title" is longer than {MAX_TITLE} characters ({len(written)})')
        return None
    return written


def _date(field: Field[StatementFile], node: RawNode) -> datetime | None:
    return instant(field, node, field.context.zone, required=True)


def _publish_at(field: Field[StatementFile], node: RawNode) -> datetime | None:
    return instant(field, node, field.context.zone)


_STATUS_CHOICES = "use one of: " + ", ".join(status.value for status in Status)


def _status_value(report: Report, where: str, node: RawNode) -> Status | None:
    if not check_tag(Field(report, "status", None), node):
        return None
    if not isinstance(node, RawScalar):
        report(node.line, f'status of "{where}" must be a single value, not {kind(node)}')
        return None
    if is_empty(node):
        report(node.line, f'status of "{where}" is empty', _STATUS_CHOICES)
        return None
    status = Status.parse(node.text)
    if status is None:
        written = node.text.strip()
        hint = did_you_mean(fold(written), Status.spellings()) or _STATUS_CHOICES
        report(node.line, f'unknown status "{written}"', hint)
    return status


def _statuses(
    field: Field[StatementFile], node: RawNode
) -> tuple[tuple[tuple[str, Status], ...], bool] | None:
    """(each establishment's status, in registry order; whether `all` was written)."""
    found = mapping(field, node, "of establishment ids to statuses")
    if found is None:
        return None
    report, ids = field.report, field.context.ids
    explicit: dict[str, Status] = {}
    everyone: Status | None = None
    sets_all = False
    ok = True
    for key, value in found.entries:
        if not isinstance(key, RawScalar) or is_empty(key):
            report(key.line, f"each status needs an establishment id or all, not {kind(key)}")
            ok = False
            continue
        name = key.text.strip()
        status = _status_value(report, name, value)
        if name == ALL:
            sets_all = True
            everyone = status
        elif ids is not None and name not in ids:
            hint = did_you_mean(name, (*ids, ALL)) or "see the ids in establishments.yml"
            report(key.line, f'unknown establishment "{name}"', hint)
            ok = False
        elif status is not None:
            explicit[name] = status
        if status is None:
            ok = False
    if not ok:
        return None
    if ids is None:
        return (), sets_all  # the registry is broken and reported; nothing to resolve
    resolved = tuple(
        (establishment_id, explicit.get(establishment_id, everyone))
        for establishment_id in ids
        if establishment_id in explicit or everyone is not None
    )
    return resolved, sets_all  # type: ignore[return-value]


def _statement_type(field: Field[StatementFile], node: RawNode) -> StatementType | None:
    written = text(field, node)
    if written is None:
        return None
    try:
        return StatementType(written)
    except ValueError:
        choices = [kind.value for kind in StatementType]
        hint = did_you_mean(written, choices) or 'use "update" or "press-release"'
        field.report(node.line, f'unknown type "{written}"', hint)
        return None


def _summary(field: Field[StatementFile], node: RawNode) -> str | None:
    written = text(field, node)
    if written is None:
        return None
    written = collapse(written)
    if len(written) > MAX_SUMMARY:
        field.report(
            node.line, f'"summary" is longer than {MAX_SUMMARY} characters ({len(written)})'
        )
        return None
    return written


def _body_summary(field: Field[StatementFile]) -> str:
    return field.context.summarize(field.context.body)


def _draft(field: Field[StatementFile], node: RawNode) -> bool | None:
    if not check_tag(field, node):
        return None
    value = boolean_text(node) if isinstance(node, RawScalar) else None
    if value is None:
        shown = f'"{node.text.strip()}"' if isinstance(node, RawScalar) else kind(node)
        field.report(node.line, f'"draft" must be true or false, not {shown}')
    return value


def _social(field: Field[StatementFile], node: RawNode) -> bool | str | None:
    if not check_tag(field, node):
        return None
    if not isinstance(node, RawScalar):
        field.report(node.line, f'"social" must be false or the text of the post, not {kind(node)}')
        return None
    value = boolean_text(node)
    if value is not None:
        return value
    if node.tag == BOOL_TAG:
        field.report(
            node.line,
            f'"social" must be false, true or the text of the post, not "{node.text.strip()}"',
            "write false to never post this statement, or put the text in quotes",
        )
        return None
    written = node.text.strip()
    if not written:
        field.report(
            node.line,
            '"social" is empty',
            "write false to never post this statement, or the text of the post",
        )
        return None
    return written


def _id_from_file_name(field: Field[StatementFile]) -> str | None:
    stem = PurePosixPath(field.context.path).name.removesuffix(".md")
    if ID.fullmatch(stem):
        return stem
    slug_ = slugify(stem)
    rename = f'rename the file to "{slug_}.md"' if slug_ else "rename the file"
    field.report(1, f'file name "{stem}.md" is not a valid id', f'{rename} or add an "id:" key')
    return None


# --- the schema -------------------------------------------------------------------------

# The front-matter schema, declared once: validation and the README's table both read it.
STATEMENT_KEYS: tuple[Key[StatementFile], ...] = (
    Key("title", str, _title, "one line, at most 200 characters", required=True),
    Key(
        "date",
        datetime,
        _date,
        "when it was issued, ISO 8601. With an offset it is exact; without one it is read in "
        "the organisation's timezone, and a local time that does not exist or exists twice "
        "(daylight-saving change) is an error",
        required=True,
    ),
    Key(
        "status",
        tuple,
        _statuses,
        "a mapping from establishment id to a status; `all` sets every establishment, "
        "explicit ids beside `all` win. Without `status` the statement changes nothing "
        "(pure information)",
        default=((), False),
    ),
    Key(
        "type",
        StatementType,
        _statement_type,
        "`update` (default) or `press-release`; press releases also form the press page and "
        "the press feeds",
        default=StatementType.UPDATE,
        unset=is_empty_untagged,
    ),
    Key(
        "incident",
        str,
        slug,
        "a slug `[a-z0-9][a-z0-9-]*` grouping statements into one incident thread",
    ),
    Key(
        "summary",
        str,
        _summary,
        "plain text, at most 280 characters; default: the first paragraph of the body as plain "
        "text",
        derive=_body_summary,
        unset=is_empty_untagged,
    ),
    Key("draft", bool, _draft, "`true`: never published, never posted", default=False),
    Key(
        "publish_at",
        datetime,
        _publish_at,
        "embargo: the statement does not exist for the site, the feeds or social posting before "
        "this instant",
        unset=is_empty_untagged,
    ),
    Key(
        "social",
        bool | str,
        _social,
        "`false`: never posted; a string: the post text instead of the generated one",
        default=True,
        unset=is_null,
    ),
    Key(
        "id",
        str,
        slug,
        "default: the file name without `.md`; `[a-z0-9][a-z0-9-]*`, unique across the repository",
        derive=_id_from_file_name,
        unset=never,
    ),
)


# --- the body ---------------------------------------------------------------------------

# The body `publish.py new` writes. A statement still holding it was never written: publishing
# it would tell the public to "write the text here".
PLACEHOLDER = (
    "Rédigez ici le texte du communiqué : ce qui change pour les patients, ce qu'ils doivent faire."
)
PLACEHOLDER_MESSAGE = 'still holds the placeholder text that "publish.py new" writes'
# Its first words, however re-wrapped or re-cased, accents optional.
_PLACEHOLDER = re.compile(r"r[ée]digez\s+ici\s+le\s+texte\s+du\s+communiqu[ée]", re.IGNORECASE)


def _placeholder(
    report: Report, title: str | None, title_line: int, body: str, body_line: int
) -> None:
    if title is not None and _PLACEHOLDER.search(title):
        report(title_line, f'"title" {PLACEHOLDER_MESSAGE}', "write the statement's own title")
    found = _PLACEHOLDER.search(body)
    if found:
        report(
            body_line + body.count("\n", 0, found.start()),
            f"the text {PLACEHOLDER_MESSAGE}",
            "replace it with what changes for patients and what they should do, or set "
            '"draft: true" until it is written',
        )


# C0 controls other than tab and newlines, DEL and C1 controls: invisible in an editor, and
# invalid in XML, so a body holding one would break the feeds.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _body(report: Report, body: str, body_line: int) -> None:
    for offset, line in enumerate(body.split("\n")):
        if match := _CONTROL.search(line):
            code = f"U+{ord(match.group()):04X}"
            report(
                body_line + offset,
                f"the text holds an invisible control character ({code})",
                "delete it; it often comes from copying text out of a PDF or a word processor",
            )


# --- a statement, and the ids of all --------------------------------------------------------


def statement(raw: RawFile, context: Context, problems: list[Problem]) -> Checked:
    """One statement file judged by its schema: the Statement, or None and its problems."""
    report = Report(raw.path, problems)
    data = raw.data if raw.data is not None else RawMap((), 1)
    if not isinstance(data, RawMap):
        report(data.line, f'the front matter must be "key: value" lines, not {kind(data)}')
        return Checked(None, 1, None)
    before = len(problems)
    file = StatementFile(raw.path, raw.body, context.zone, context.ids, context.summarize)
    found = read(report, data, STATEMENT_KEYS, file)
    values: Mapping[str, Any] = found.values
    id_node = found.node("id")
    id_line = id_node.line if id_node is not None else 1
    _body(report, raw.body, raw.body_line)
    if values.get("draft") is False:  # a draft may keep it while it is being written
        title_line = found.written["title"][0] if "title" in found.written else 1
        _placeholder(report, values.get("title"), title_line, raw.body, raw.body_line)
    if len(problems) > before:
        return Checked(values.get("id"), id_line, None)
    return Checked(
        values["id"],
        id_line,
        Statement(
            id=values["id"],
            path=raw.path,
            title=values["title"],
            date=values["date"],
            body=raw.body,
            summary=values["summary"],
            status=values["status"][0],
            sets_all=values["status"][1],
            type=values["type"],
            incident=values.get("incident"),
            draft=values["draft"],
            publish_at=values.get("publish_at"),
            postable=values["social"] is not False,
            post_text=values["social"] if isinstance(values["social"], str) else None,
            updated=context.updated.get(raw.path),
            date_without_time=without_time(found.node("date")),
            lines={
                **{name: line for name, (line, _) in found.written.items()},
                "body": raw.body_line,
            },
        ),
    )


def duplicate_ids(checked: list[tuple[str, Checked]], problems: list[Problem]) -> None:
    """Two statements with one id: both are reported, each pointing at the other."""
    places: dict[str, list[tuple[str, int]]] = {}
    for path, result in checked:
        if result.id is not None:
            places.setdefault(result.id, []).append((path, result.id_line))
    for statement_id, where in places.items():
        if len(where) < 2:
            continue
        for path, line in where:
            others = ", ".join(f"{p}:{n}" for p, n in where if (p, n) != (path, line))
            problems.append(Problem(path, line, f'duplicate id "{statement_id}"', f"also {others}"))

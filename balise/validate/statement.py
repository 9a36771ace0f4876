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
from balise.model import Redirect, Statement, StatementType, Status, service_key
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
    list_items,
    mapping,
    never,
    required_text,
    slug,
    text,
)
from balise.validate.registry import ALL
from balise.validate.schema import Key, Read, read
from balise.validate.summary import MAX_SUMMARY, summarize

MAX_TITLE = 200


@dataclass(frozen=True)
class Context:
    """What judging statements needs from the rest of the repository."""

    zone: str
    ids: tuple[str, ...] | None  # None: the registry is broken, do not judge ids
    updated: Mapping[str, datetime] = field(default_factory=dict)
    summarize: Callable[[str], str] = summarize  # body -> default summary (the build's memo)
    services: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # id -> its services
    service_ids: tuple[str, ...] | None = ()  # every service of the registry; None: unknown


@dataclass(frozen=True)
class StatementFile:
    """What the front matter's readers may need besides a key's node."""

    path: str
    body: str
    zone: str
    ids: tuple[str, ...] | None
    summarize: Callable[[str], str] = summarize
    services: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    service_ids: tuple[str, ...] | None = ()


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


_instant = _publish_at  # next_update, start, end: an instant read as `date` is


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


def _target(
    report: Report, file: StatementFile, key: RawNode, what: str, *, everyone: bool
) -> tuple[str, str | None] | None:
    """The (establishment id or `all`, service id or None) a key names: `ID`, `all`,
    `ID/SERVICE` or `all/SERVICE` (`all` only where `everyone`); None once reported."""
    forms = "an establishment id, ID/SERVICE" + (", all or all/SERVICE" if everyone else "")
    if not isinstance(key, RawScalar) or is_empty(key):
        report(key.line, f"each {what} needs {forms}, not {kind(key)}")
        return None
    name = key.text.strip()
    parts = [part.strip() for part in name.split("/")]
    if len(parts) > 2 or not all(parts):
        report(key.line, f'"{name}" is not a key of {what}', f"write {forms}")
        return None
    establishment_id, service_id = parts[0], parts[1] if len(parts) == 2 else None
    ids = file.ids
    if establishment_id == ALL and not everyone:
        report(key.line, f'{what} cannot name "{ALL}"', "name each establishment")
        return None
    if establishment_id != ALL and ids is not None and establishment_id not in ids:
        choices = (*ids, ALL) if everyone else ids
        hint = did_you_mean(establishment_id, choices) or "see the ids in establishments.yml"
        report(key.line, f'unknown establishment "{establishment_id}"', hint)
        return None
    if service_id is None or ids is None or file.service_ids is None:
        return establishment_id, service_id
    if service_id not in file.service_ids:
        hint = did_you_mean(service_id, file.service_ids) or (
            "see the services in establishments.yml"
            if file.service_ids
            else 'establishments.yml lists no "services"'
        )
        report(key.line, f'unknown service "{service_id}"', hint)
        return None
    if establishment_id != ALL and service_id not in file.services.get(establishment_id, ()):
        has = file.services.get(establishment_id, ())
        hint = did_you_mean(service_id, has) or (
            f"its services: {', '.join(has)}"
            if has
            else "add the service to its services in establishments.yml"
        )
        report(key.line, f'establishment "{establishment_id}" has no service "{service_id}"', hint)
        return None
    return establishment_id, service_id


Statuses = tuple[tuple[tuple[str, Status], ...], bool, tuple[tuple[str, Status], ...]]


def _statuses(field: Field[StatementFile], node: RawNode) -> Statuses | None:
    """(each establishment's status, in registry order; whether `all` was written; each
    service's status, `ID/SERVICE` in registry order, the most specific key winning)."""
    found = mapping(field, node, "of establishment ids to statuses")
    if found is None:
        return None
    report, file = field.report, field.context
    ids = file.ids
    explicit: dict[str, Status] = {}
    everyone: Status | None = None
    per_service: dict[tuple[str, str], Status] = {}  # (establishment or all, service)
    sets_all = False
    ok = True
    for key, value in found.entries:
        target = _target(report, file, key, "status", everyone=True)
        where = key.text.strip() if isinstance(key, RawScalar) else ""
        status = _status_value(report, where, value) if isinstance(key, RawScalar) else None
        if target is None or status is None:
            ok = False
            continue
        establishment_id, service_id = target
        if service_id is not None:
            per_service[(establishment_id, service_id)] = status
        elif establishment_id == ALL:
            sets_all = True
            everyone = status
        else:
            explicit[establishment_id] = status
    if not ok:
        return None
    if ids is None:
        return (), sets_all, ()  # the registry is broken and reported; nothing to resolve
    resolved = tuple(
        (establishment_id, explicit.get(establishment_id, everyone))
        for establishment_id in ids
        if establishment_id in explicit or everyone is not None
    )
    services: list[tuple[str, Status]] = []
    for establishment_id in ids:
        for service_id in file.services.get(establishment_id, ()):
            # CONTRACT §9: ID/SERVICE, then all/SERVICE, then ID, then all.
            for chosen in (
                per_service.get((establishment_id, service_id)),
                per_service.get((ALL, service_id)),
                explicit.get(establishment_id),
                everyone,
            ):
                if chosen is not None:
                    services.append((service_key(establishment_id, service_id), chosen))
                    break
    return resolved, sets_all, tuple(services)  # type: ignore[return-value]


def _concerns(field: Field[StatementFile], node: RawNode) -> tuple[str, ...] | None:
    items = list_items(field, node, "establishment ids", "[la-sagesse, jules-verne]")
    if items is None:
        return None
    ids = field.context.ids
    found: list[str] = []
    ok = True
    for item in items:
        written = slug(field, item)
        if written is None:
            ok = False
        elif written == ALL:
            field.report(item.line, '"concerns" cannot name "all"', "name each establishment")
            ok = False
        elif ids is not None and written not in ids:
            hint = did_you_mean(written, ids) or "see the ids in establishments.yml"
            field.report(item.line, f'unknown establishment "{written}"', hint)
            ok = False
        elif written not in found:
            found.append(written)
    return tuple(found) if ok else None


# A redirect written as an id: lowercase letters, digits and hyphens, with a letter and no
# space. Anything else (a name, an address, a phone number such as "15") is a text.
_LOOKS_LIKE_ID = re.compile(r"(?=.*[a-z])[a-z0-9][a-z0-9-]*")


def _redirects(
    field: Field[StatementFile], node: RawNode
) -> tuple[tuple[str, Redirect], ...] | None:
    found = mapping(field, node, "from establishment ids (or ID/SERVICE) to where patients go")
    if found is None:
        return None
    report, file = field.report, field.context
    redirects: dict[str, Redirect] = {}
    ok = True
    for key, value in found.entries:
        target = _target(report, file, key, "redirect", everyone=False)
        written = text(Field(report, "redirect", None), value, required=True)
        if target is None or written is None:
            ok = False
            continue
        establishment_id, service_id = target
        name = establishment_id if service_id is None else service_key(*target)
        written = collapse(written)
        if file.ids is not None and written in file.ids:
            if written == establishment_id:
                report(
                    value.line,
                    f'the redirect of "{name}" points to itself',
                    "name another establishment, or write where patients go as a text",
                )
                ok = False
                continue
            redirects[name] = Redirect(written)
        elif file.ids is not None and _LOOKS_LIKE_ID.fullmatch(written):
            hint = did_you_mean(written, file.ids) or (
                "write the id of an establishment of establishments.yml, or a text "
                "(name, address, phone) with a space in it"
            )
            report(value.line, f'unknown establishment "{written}"', hint)
            ok = False
        else:
            redirects[name] = Redirect(None, written)
    return tuple(redirects.items()) if ok else None


def _statement_type(field: Field[StatementFile], node: RawNode) -> StatementType | None:
    written = text(field, node)
    if written is None:
        return None
    try:
        return StatementType(written)
    except ValueError:
        choices = [kind.value for kind in StatementType]
        hint = did_you_mean(written, choices) or 'use "update", "press-release" or "maintenance"'
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


def _boolean(name: str) -> Callable[[Field[StatementFile], RawNode], bool | None]:
    def parse(field: Field[StatementFile], node: RawNode) -> bool | None:
        if not check_tag(field, node):
            return None
        value = boolean_text(node) if isinstance(node, RawScalar) else None
        if value is None:
            shown = f'"{node.text.strip()}"' if isinstance(node, RawScalar) else kind(node)
            field.report(node.line, f'"{name}" must be true or false, not {shown}')
        return value

    return parse


_draft = _boolean("draft")


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


_WITHDRAWN_HINT = 'write withdrawn: "raison" (why it was withdrawn, one line), or remove the line'


def _withdrawn(field: Field[StatementFile], node: RawNode) -> str | None:
    """The reason, one line: a withdrawal always says why (`true` says nothing)."""
    if not check_tag(field, node):
        return None
    if not isinstance(node, RawScalar):
        message = f'"withdrawn" must be the reason, not {kind(node)}'
        field.report(node.line, message, _WITHDRAWN_HINT)
        return None
    written = node.text.strip()
    if node.tag == BOOL_TAG:
        field.report(node.line, f'"withdrawn" must be the reason, not "{written}"', _WITHDRAWN_HINT)
        return None
    if not written:
        field.report(node.line, '"withdrawn" is empty', _WITHDRAWN_HINT)
        return None
    if "\n" in written:
        field.report(node.line, '"withdrawn" must be a single line', _WITHDRAWN_HINT)
        return None
    if len(written) > MAX_SUMMARY:
        field.report(
            node.line, f'"withdrawn" is longer than {MAX_SUMMARY} characters ({len(written)})'
        )
        return None
    return collapse(written)


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
        "explicit ids beside `all` win. A key may also be `ID/SERVICE` (one service of one "
        "establishment, which must have it) or `all/SERVICE` (that service wherever an "
        "establishment has it); for a service the most specific key wins: `ID/SERVICE`, then "
        "`all/SERVICE`, then `ID`, then `all`. Without `status` the statement changes nothing "
        "(pure information)",
        default=((), False, ()),
    ),
    Key(
        "type",
        StatementType,
        _statement_type,
        "`update` (default), `press-release` or `maintenance`; press releases also form the "
        "press page and the press feeds; a maintenance is a planned window with `start` and "
        "`end`",
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
    Key(
        "concerns",
        tuple,
        _concerns,
        "a list of establishment ids the statement is about without changing their status: it "
        "is listed on their pages and is in their feeds",
        default=(),
    ),
    Key(
        "redirect",
        tuple,
        _redirects,
        "a mapping from `ID` or `ID/SERVICE` to where patients go instead: the id of another "
        "establishment of the registry, or a text (name, address, phone). A value written as "
        "an id (lowercase letters, digits and hyphens, at least one letter, no space) must be "
        "one; anything else is a text. It holds until a later statement sets another for the "
        "same key or the establishment (or service) is back to `normal`",
        default=(),
    ),
    Key(
        "next_update",
        datetime,
        _instant,
        "when the next statement is promised, ISO 8601 like `date`, not before it",
        unset=is_empty_untagged,
    ),
    Key(
        "start",
        datetime,
        _instant,
        "for `type: maintenance` (required there): when the window begins and its `status` "
        "takes effect, ISO 8601 like `date`",
        unset=is_empty_untagged,
    ),
    Key(
        "end",
        datetime,
        _instant,
        "for `type: maintenance` (required there): when the window ends, after `start`; each "
        "establishment or service it still governs returns to the status it had before it",
        unset=is_empty_untagged,
    ),
    Key(
        "no_call",
        bool,
        _boolean("no_call"),
        "`true`: the pages of the establishments it sets or concerns ask people not to call "
        "their switchboard (the number stays shown, with the crisis line), as long as it is "
        "their latest statement and they are not back to `normal`",
        default=False,
    ),
    Key(
        "withdrawn",
        str,
        _withdrawn,
        'the reason it was withdrawn, one line (`withdrawn: "raison"`): its page keeps its '
        "permalink with a notice saying when and why, and its feed entries say so; it leaves "
        "the overview, the statuses (each falls back to the previous statement), the "
        "establishment and incident pages, `status.json`'s statements and the API, and is "
        "never posted",
        unset=never,  # `withdrawn:` alone is a withdrawal without its reason: an error
    ),
)


def _windows(report: Report, found: Read) -> None:
    """The checks between keys: a maintenance's window, a next update after the date."""
    values, written = found.values, found.written
    maintenance = values.get("type") is StatementType.MAINTENANCE
    type_line = written["type"][0] if "type" in written else 1
    for name in ("start", "end"):
        if maintenance and name not in written:
            report(
                type_line,
                f'"{name}" is required for type: maintenance',
                "add start: and end:, such as start: 2024-11-05T22:00:00+01:00",
            )
        elif not maintenance and name in written and "type" not in _failed(found):
            report(
                written[name][0],
                f'"{name}" is only for type: maintenance',
                'add "type: maintenance", or remove it',
            )
    start, end = values.get("start"), values.get("end")
    if maintenance and start is not None and end is not None and start >= end:
        report(
            written["end"][0],
            f'"end" ({_written(found, "end")}) must be after "start" ({_written(found, "start")})',
        )
    date, next_update = values.get("date"), values.get("next_update")
    if date is not None and next_update is not None and next_update < date:
        report(
            written["next_update"][0],
            f'"next_update" ({_written(found, "next_update")}) is before "date" '
            f"({_written(found, 'date')})",
            "the next update is promised after this statement",
        )


def _failed(found: Read) -> set[str]:
    """The keys written but not read (their problem is reported)."""
    return {name for name in found.written if name not in found.values}


def _written(found: Read, name: str) -> str:
    node = found.node(name)
    return node.text.strip() if isinstance(node, RawScalar) else ""


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
    file = StatementFile(
        raw.path,
        raw.body,
        context.zone,
        context.ids,
        summarize=context.summarize,
        services=context.services,
        service_ids=context.service_ids,
    )
    found = read(report, data, STATEMENT_KEYS, file)
    _windows(report, found)
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
            service_status=values["status"][2],
            concerns=values["concerns"],
            redirect=values["redirect"],
            next_update=values.get("next_update"),
            no_call=values["no_call"],
            start=values.get("start"),
            end=values.get("end"),
            withdrawn=values.get("withdrawn"),
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

"""Raw records -> the typed Repository, or every Problem in every file (not just the first).

Pure: no file access, no clock, no environment; it only judges what load.py read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import PurePosixPath
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from balise.cache import memoized
from balise.errors import Problem, did_you_mean
from balise.load import (
    BOOL_TAG,
    ESTABLISHMENTS_FILE,
    MAP_TAG,
    MKDOCS_FILE,
    SEQ_TAG,
    YAML_TAG,
    RawFile,
    RawList,
    RawMap,
    RawNode,
    RawRepository,
    RawScalar,
)
from balise.model import (
    DEFAULT_TIMEZONE,
    ID_PATTERN,
    Establishment,
    Organisation,
    PressContact,
    Repository,
    Site,
    Statement,
    StatementType,
    Status,
    sort_key,
)
from balise.render.markdown import page_body_html
from balise.validate_site import site_problems

MAX_TITLE = 200
MAX_SUMMARY = 280
ALL = "all"

_SCALAR_TAGS = frozenset(
    YAML_TAG + name for name in ("str", "int", "float", "bool", "null", "timestamp")
)
_ID = re.compile(ID_PATTERN)
# A plain address: no space, markup, quote or scheme (`mailto:`, `javascript:`) can pass.
_EMAIL = re.compile(r"[\w.%+-]+@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}")
# A phone number as written in France and elsewhere: digits (or a group in parentheses such
# as the trunk prefix of "+33 (0)2 ...") separated by spaces, dots or dashes, an optional
# leading +; from 2 digits (15, 3114) to 15 (the longest international number).
_PHONE_SPACE = "[ \u00a0\u202f]*"
_PHONE_UNIT = r"(?:\([0-9]+\)|[0-9])"
_PHONE = re.compile(
    rf"\+?{_PHONE_SPACE}{_PHONE_UNIT}(?:{_PHONE_SPACE}[.-]?{_PHONE_SPACE}{_PHONE_UNIT})*"
)
_PHONE_DIGITS = range(2, 16)
_INSTANT = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"(?:[Tt ]+(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?"
    r"[ \t]*(?:(?P<utc>[Zz])|(?P<sign>[+-])(?P<off_h>\d{2})(?::?(?P<off_m>\d{2}))?)?)?"
)
_DATE_EXAMPLE = "write it like 2024-10-05T08:00:00+02:00 or 2024-10-05 08:00"


@dataclass(frozen=True)
class Key:
    """One key of a YAML schema: its name, whether it is required, and what it means."""

    name: str
    required: bool
    meaning: str


# The front-matter schema, declared once: validation and documentation both read it.
STATEMENT_KEYS: tuple[Key, ...] = (
    Key("title", True, "one line, at most 200 characters"),
    Key(
        "date",
        True,
        "when it was issued, ISO 8601. With an offset it is exact; without one it is read in "
        "the organisation's timezone, and a local time that does not exist or exists twice "
        "(daylight-saving change) is an error",
    ),
    Key(
        "status",
        False,
        "a mapping from establishment id to a status; `all` sets every establishment, "
        "explicit ids beside `all` win. Without `status` the statement changes nothing "
        "(pure information)",
    ),
    Key(
        "type",
        False,
        "`update` (default) or `press-release`; press releases also form the press page and "
        "the press feeds",
    ),
    Key(
        "incident",
        False,
        "a slug `[a-z0-9][a-z0-9-]*` grouping statements into one incident thread",
    ),
    Key(
        "summary",
        False,
        "plain text, at most 280 characters; default: the first paragraph of the body as plain "
        "text",
    ),
    Key("draft", False, "`true`: never published, never posted"),
    Key(
        "publish_at",
        False,
        "embargo: the statement does not exist for the site, the feeds or social posting before "
        "this instant",
    ),
    Key(
        "social",
        False,
        "`false`: never posted; a string: the post text instead of the generated one",
    ),
    Key(
        "id",
        False,
        "default: the file name without `.md`; `[a-z0-9][a-z0-9-]*`, unique across the repository",
    ),
)


def keys_table(keys: tuple[Key, ...]) -> str:
    """The markdown table of a schema, as the README shows it (a test keeps them equal)."""
    rows = ["| key | required | meaning |", "| --- | --- | --- |"]
    rows += [f"| `{k.name}` | {'yes' if k.required else 'no'} | {k.meaning} |" for k in keys]
    return "\n".join(rows)


REGISTRY_KEYS: tuple[Key, ...] = (
    Key("organisation", True, "the organisation: name, url, timezone, press"),
    Key("establishments", True, "the establishments, in display order"),
)
ORGANISATION_KEYS: tuple[Key, ...] = (
    Key("name", True, "the organisation's name"),
    Key("url", False, "its web site"),
    Key("timezone", False, "an IANA timezone such as Europe/Paris (the default)"),
    Key("press", False, "the press contact shown on every statement: name, email, phone"),
)
PRESS_KEYS: tuple[Key, ...] = (
    Key("name", True, "who answers the press"),
    Key("email", False, "their email address"),
    Key("phone", False, "their phone number"),
)
ESTABLISHMENT_KEYS: tuple[Key, ...] = (
    Key("id", True, "a slug `[a-z0-9][a-z0-9-]*`, unique"),
    Key("name", True, "the establishment's name"),
    Key("city", True, "its city"),
    Key("region", False, "its region; the site groups establishments by region"),
    Key("phone", False, "its phone number"),
    Key("url", False, "its web site"),
)


@dataclass(frozen=True)
class Validated:
    """The outcome: a Repository when nothing but warnings was found, and every Problem."""

    repository: Repository | None
    problems: tuple[Problem, ...]


# --- reporting and generic readers ------------------------------------------------------


@dataclass
class _Report:
    """Collects the problems of one file."""

    path: str
    problems: list[Problem]

    def __call__(self, line: int, message: str, hint: str = "") -> None:
        self.problems.append(Problem(self.path, line, message, hint))


def _kind(node: RawNode) -> str:
    if isinstance(node, RawScalar):
        return "text"
    return "a mapping" if isinstance(node, RawMap) else "a list"


def _odd_tag(node: RawNode) -> str | None:
    """The tag as written when Balise cannot read it (`!ENV`, `!!python/...`), else None."""
    if isinstance(node, RawScalar):
        known = node.tag in _SCALAR_TAGS
    else:
        known = node.tag == (MAP_TAG if isinstance(node, RawMap) else SEQ_TAG)
    if known:
        return None
    return "!!" + node.tag.removeprefix(YAML_TAG) if node.tag.startswith(YAML_TAG) else node.tag


def _check_tag(report: _Report, name: str, node: RawNode) -> bool:
    tag = _odd_tag(node)
    if tag is None:
        return True
    report(
        node.line,
        f'"{name}" has the YAML tag {tag}, which Balise cannot read',
        "write the value itself",
    )
    return False


def _is_empty(node: RawNode) -> bool:
    return isinstance(node, RawScalar) and (node.is_null or not node.text.strip())


def _fields(report: _Report, node: RawMap, keys: tuple[Key, ...]) -> dict[str, tuple[int, RawNode]]:
    """name -> (key line, value) for known keys; reports unknown and missing required keys."""
    names = [key.name for key in keys]
    found: dict[str, tuple[int, RawNode]] = {}
    for key, value in node.entries:
        if not isinstance(key, RawScalar) or key.is_null:
            report(key.line, f'a key must be a name such as "{names[0]}", not {_kind(key)}')
            continue
        if key.text not in names:
            report(key.line, f'unknown key "{key.text}"', did_you_mean(key.text, names))
            continue
        found[key.text] = (key.line, value)
    for key in keys:
        if key.required and key.name not in found:
            report(node.line, f'"{key.name}" is required')
    return found


def _text(
    report: _Report, name: str, node: RawNode | None, *, required: bool = False
) -> str | None:
    """The raw text of a scalar (YAML's 1.1 guesses ignored); None when absent or wrong."""
    if node is None or not _check_tag(report, name, node):
        return None
    if not isinstance(node, RawScalar):
        report(node.line, f'"{name}" must be text, not {_kind(node)}')
        return None
    if _is_empty(node):
        if required:
            report(node.line, f'"{name}" is empty')
        return None
    return node.text.strip()


def _mapping(report: _Report, name: str, node: RawNode, what: str) -> RawMap | None:
    if not _check_tag(report, name, node):
        return None
    if isinstance(node, RawMap):
        return node
    if _is_empty(node):
        report(node.line, f'"{name}" is empty')
    else:
        report(node.line, f'"{name}" must be a mapping {what}, not {_kind(node)}')
    return None


def slugify(text: str) -> str:
    """A valid id close to `text` ("Panne Réseau" -> "panne-reseau"), for hints."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def _slug_hint(text: str) -> str:
    slug = slugify(text)
    example = f', such as "{slug}"' if slug else ""
    return f"use lowercase letters, digits and hyphens{example}"


def _slug(report: _Report, name: str, node: RawNode | None) -> str | None:
    text = _text(report, name, node, required=True)
    if text is None or node is None:
        return None
    if not _ID.fullmatch(text):
        report(node.line, f'{name} "{text}" is not a valid slug', _slug_hint(text))
        return None
    return text


def _web_address(report: _Report, name: str, node: RawNode | None) -> str | None:
    text = _text(report, name, node)
    if text is None or node is None:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        report(
            node.line,
            f'"{name}" must be a full web address, not "{text}"',
            "start it with https://",
        )
        return None
    return text


def _phone(report: _Report, name: str, node: RawNode | None) -> str | None:
    text = _text(report, name, node)
    if text is None or node is None:
        return None
    digits = sum(c in "0123456789" for c in text)
    if not _PHONE.fullmatch(text) or digits not in _PHONE_DIGITS:
        report(
            node.line,
            f'"{name}" is not a phone number: "{text}"',
            "write 2 to 15 digits, grouped with spaces, dots or dashes, with an optional "
            'leading +, such as "+33 2 99 00 00 00", "02 99 00 00 00" or "15"',
        )
        return None
    return text


def _email(report: _Report, name: str, node: RawNode | None) -> str | None:
    text = _text(report, name, node)
    if text is None or node is None:
        return None
    if not _EMAIL.fullmatch(text):
        report(
            node.line,
            f'"{name}" is not an email address: "{text}"',
            "write the address alone, such as presse@example.org",
        )
        return None
    return text


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# --- dates ------------------------------------------------------------------------------


def _offset(offset: timedelta | None) -> str:
    minutes = int((offset or timedelta()).total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def _local(instant: datetime, tz: ZoneInfo) -> datetime:
    """The instant with the fixed offset `tz` has then (+02:00 in a Paris summer).

    A fixed offset, not the ZoneInfo itself: two ZoneInfo datetimes in the hour repeated in
    autumn compare by wall time (PEP 495), which would misorder statements issued then.
    """
    return instant.astimezone(timezone(instant.astimezone(tz).utcoffset() or timedelta()))


def parse_instant(text: str, zone: str, key: str = "date") -> datetime | tuple[str, str]:
    """An aware datetime (with `zone`'s offset then), or (message, hint) saying what is wrong.

    ISO 8601 with an offset is exact; without one (a bare date means 00:00) it is local time
    in `zone`, and a local time that does not exist or exists twice is refused.
    """
    text = text.strip()
    match = _INSTANT.fullmatch(text)
    if not match:
        return f'{key} "{text}" is not an ISO 8601 date', _DATE_EXAMPLE
    try:
        return _resolve(match, ZoneInfo(zone), zone, f'{key} "{text}"')
    except (ValueError, OverflowError) as error:
        return f'{key} "{text}" is not a real date or time', str(error)


def _resolve(
    match: re.Match[str], tz: ZoneInfo, zone: str, what: str
) -> datetime | tuple[str, str]:
    fraction = (match["fraction"] or "").ljust(6, "0")[:6]
    naive = datetime(
        int(match["year"]),
        int(match["month"]),
        int(match["day"]),
        int(match["hour"] or 0),
        int(match["minute"] or 0),
        int(match["second"] or 0),
        int(fraction),
    )
    if match["utc"]:
        return _local(naive.replace(tzinfo=UTC), tz)
    if match["sign"]:
        hours, minutes = int(match["off_h"]), int(match["off_m"] or 0)
        if hours > 23 or minutes > 59:
            raise ValueError("the offset must be between -23:59 and +23:59")
        offset = timedelta(hours=hours, minutes=minutes)
        sign = -1 if match["sign"] == "-" else 1
        return _local(naive.replace(tzinfo=timezone(sign * offset)), tz)
    early = naive.replace(tzinfo=tz, fold=0)
    late = naive.replace(tzinfo=tz, fold=1)
    if early.utcoffset() == late.utcoffset():
        return _local(early, tz)
    if early.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        return (
            f"{what} does not exist in {zone} (daylight-saving change): "
            f"write another time or add an offset such as {_offset(early.utcoffset())}",
            "",
        )
    return (
        f"{what} is ambiguous in {zone} (daylight-saving change): add an offset "
        f"such as {_offset(early.utcoffset())} or {_offset(late.utcoffset())}",
        "",
    )


def _instant(
    report: _Report, key: str, node: RawNode | None, zone: str, *, required: bool = False
) -> datetime | None:
    if node is not None and not isinstance(node, RawScalar) and _check_tag(report, key, node):
        report(
            node.line,
            f'"{key}" must be a date such as 2024-10-05T08:00:00+02:00, not {_kind(node)}',
        )
        return None
    text = _text(report, key, node, required=required)
    if text is None or node is None:
        return None
    result = parse_instant(text, zone, key)
    if isinstance(result, tuple):
        report(node.line, *result)
        return None
    return result


def _without_time(node: RawNode | None) -> bool:
    """Whether a (valid) date was written as a day only, `2025-03-12`, which means 00:00."""
    if not isinstance(node, RawScalar):
        return False
    match = _INSTANT.fullmatch(node.text.strip())
    return match is not None and match["hour"] is None


# --- summaries --------------------------------------------------------------------------


class _TextExtractor(HTMLParser):
    """Plain text of rendered markdown: each paragraph's text, and all non-heading text."""

    _SKIPPED = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self.everything: list[str] = []
        self._skip = 0
        self._paragraph: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIPPED:
            self._skip += 1
        elif tag == "p" and self._paragraph is None:
            self._paragraph = []
        elif tag == "br":
            self.handle_data(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIPPED:
            self._skip = max(0, self._skip - 1)
        elif tag == "p" and self._paragraph is not None:
            self.paragraphs.append("".join(self._paragraph))
            self._paragraph = None
        self.everything.append(" ")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.everything.append(data)
        if self._paragraph is not None:
            self._paragraph.append(data)


def _collapse(text: str) -> str:
    return " ".join(text.split())


def shorten(text: str, limit: int = MAX_SUMMARY) -> str:
    """`text` itself when short enough, else cut at a word boundary and ended with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if text[limit - 1] != " " and " " in cut:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:.-–—") + "…"


@memoized("summary")  # one markdown rendering per body and build; none when unchanged
def summarize(body: str) -> str:
    """The first paragraph of a markdown body as plain text (at most 280 characters), as the
    published body shows it (the same rendering: no second markdown pass)."""
    extractor = _TextExtractor()
    extractor.feed(page_body_html(body))
    extractor.close()
    for paragraph in extractor.paragraphs:
        text = _collapse(paragraph)
        if text:
            return shorten(text)
    return shorten(_collapse("".join(extractor.everything)))


# --- establishments.yml -----------------------------------------------------------------


@dataclass(frozen=True)
class _Registry:
    organisation: Organisation | None
    establishments: tuple[Establishment, ...] | None
    ids: tuple[str, ...] | None  # every id written, even in broken entries; None: unknown
    zone: str = DEFAULT_TIMEZONE


def _zone(report: _Report, node: RawNode | None) -> str | None:
    text = _text(report, "timezone", node)
    if text is None or node is None:
        return None
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        hint = did_you_mean(text, available_timezones()) or "use a name such as Europe/Paris"
        report(node.line, f'unknown timezone "{text}"', hint)
        return None
    return text


def _press(report: _Report, node: RawNode) -> PressContact | None:
    mapping = _mapping(report, "press", node, "with name, email and phone")
    if mapping is None:
        return None
    fields = _fields(report, mapping, PRESS_KEYS)
    name = _text(report, "name", _value(fields, "name"), required=True)
    phone = _phone(report, "phone", _value(fields, "phone"))
    email = _email(report, "email", _value(fields, "email"))
    return PressContact(name, email, phone) if name else None


def _value(fields: Mapping[str, tuple[int, RawNode]], name: str) -> RawNode | None:
    entry = fields.get(name)
    return entry[1] if entry else None


def _organisation(report: _Report, node: RawNode) -> tuple[Organisation | None, str]:
    mapping = _mapping(report, "organisation", node, "with name, url, timezone and press")
    if mapping is None:
        return None, DEFAULT_TIMEZONE
    fields = _fields(report, mapping, ORGANISATION_KEYS)
    before = len(report.problems)
    name = _text(report, "name", _value(fields, "name"), required=True)
    url = _web_address(report, "url", _value(fields, "url"))
    zone = _zone(report, _value(fields, "timezone"))
    press_node = _value(fields, "press")
    press = None
    if press_node is not None and not _is_empty(press_node):
        press = _press(report, press_node)
    if name is None or len(report.problems) > before:
        return None, zone or DEFAULT_TIMEZONE
    return Organisation(name, url, zone or DEFAULT_TIMEZONE, press), zone or DEFAULT_TIMEZONE


def _establishment(report: _Report, node: RawNode, ids: list[str]) -> Establishment | None:
    if not isinstance(node, RawMap):
        report(
            node.line,
            f"each establishment must be a mapping with id, name and city, not {_kind(node)}",
        )
        return None
    fields = _fields(report, node, ESTABLISHMENT_KEYS)
    before = len(report.problems)
    raw_id = _value(fields, "id")
    if isinstance(raw_id, RawScalar) and not _is_empty(raw_id):
        ids.append(raw_id.text.strip())
    establishment_id = _slug(report, "id", raw_id)
    if establishment_id == ALL and raw_id is not None:
        report(raw_id.line, 'id "all" is reserved: in a statement it means every establishment')
    values = {
        name: _text(report, name, _value(fields, name), required=name in ("name", "city"))
        for name in ("name", "city", "region")
    }
    phone = _phone(report, "phone", _value(fields, "phone"))
    url = _web_address(report, "url", _value(fields, "url"))
    if len(report.problems) > before or not (establishment_id and values["name"]):
        return None
    return Establishment(
        id=establishment_id,
        name=values["name"] or "",
        city=values["city"] or "",
        region=values["region"],
        phone=phone,
        url=url,
        lines={name: line for name, (line, _) in fields.items()},
    )


def _registry(raw: RawFile | None, problems: list[Problem]) -> _Registry:
    if raw is None:
        return _Registry(None, None, None)
    report = _Report(ESTABLISHMENTS_FILE, problems)
    data = raw.data if raw.data is not None else RawMap((), 1)
    if not isinstance(data, RawMap):
        report(
            data.line,
            f'establishments.yml must hold "organisation" and "establishments", not {_kind(data)}',
        )
        return _Registry(None, None, None)
    fields = _fields(report, data, REGISTRY_KEYS)
    organisation, zone = None, DEFAULT_TIMEZONE
    if "organisation" in fields:
        organisation, zone = _organisation(report, fields["organisation"][1])
    listing = _value(fields, "establishments")
    if listing is None:
        return _Registry(organisation, None, None, zone)
    if not _check_tag(report, "establishments", listing):
        return _Registry(organisation, None, None, zone)
    if _is_empty(listing) or (isinstance(listing, RawList) and not listing.items):
        report(listing.line, '"establishments" must list at least one establishment')
        return _Registry(organisation, None, None, zone)
    if not isinstance(listing, RawList):
        report(
            listing.line,
            f'"establishments" must be a list (one "- id: ..." entry each), not {_kind(listing)}',
        )
        return _Registry(organisation, None, None, zone)
    before = len(problems)
    ids: list[str] = []
    establishments = [_establishment(report, item, ids) for item in listing.items]
    _duplicate_establishments(report, listing)
    complete = len(problems) == before and all(establishments)
    return _Registry(
        organisation,
        tuple(e for e in establishments if e) if complete else None,
        tuple(dict.fromkeys(ids)),
        zone,
    )


def _duplicate_establishments(report: _Report, listing: RawList) -> None:
    first: dict[str, int] = {}
    for item in listing.items:
        node = item.get("id") if isinstance(item, RawMap) else None
        if not isinstance(node, RawScalar) or not _ID.fullmatch(node.text.strip()):
            continue
        establishment_id = node.text.strip()
        if establishment_id in first:
            line = first[establishment_id]
            report(node.line, f'duplicate id "{establishment_id}"', f"also line {line}")
            report(line, f'duplicate id "{establishment_id}"', f"also line {node.line}")
        else:
            first[establishment_id] = node.line


# --- mkdocs.yml -------------------------------------------------------------------------


def _site(raw: RawFile | None, problems: list[Problem]) -> Site | None:
    if raw is None:
        return None
    report = _Report(MKDOCS_FILE, problems)
    data = raw.data if raw.data is not None else RawMap((), 1)
    if not isinstance(data, RawMap):
        report(data.line, f"mkdocs.yml must be a mapping of settings, not {_kind(data)}")
        return None
    problems.extend(site_problems(data))  # markup the theme would print, what Balise cannot check
    name_node = data.get("site_name")
    url_node = data.get("site_url")
    if name_node is None:
        report(
            data.line,
            '"site_name" is required',
            'add a line such as "site_name: État des services"',
        )
    name = _text(report, "site_name", name_node, required=True)
    if url_node is None or _is_empty(url_node):
        report(
            url_node.line if url_node else data.line,
            '"site_url" is required: feeds and social posts need absolute permalinks',
            'add a line such as "site_url: https://status.example.org/"',
        )
        return None
    url = _text(report, "site_url", url_node, required=True)
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        report(
            url_node.line,
            f'"site_url" must be an absolute http(s) address, not "{url}"',
            "feeds and social posts need absolute permalinks, such as https://status.example.org/",
        )
        return None
    if name is None:
        return None
    return Site(name, url if url.endswith("/") else url + "/")


# --- statements -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    zone: str
    ids: tuple[str, ...] | None  # None: the registry is broken, do not judge ids
    updated: Mapping[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class _Checked:
    id: str | None
    id_line: int
    statement: Statement | None


_STATUS_CHOICES = "use one of: " + ", ".join(status.value for status in Status)


def _status_value(report: _Report, where: str, node: RawNode) -> Status | None:
    if not _check_tag(report, "status", node):
        return None
    if not isinstance(node, RawScalar):
        report(node.line, f'status of "{where}" must be a single value, not {_kind(node)}')
        return None
    if _is_empty(node):
        report(node.line, f'status of "{where}" is empty', _STATUS_CHOICES)
        return None
    status = Status.parse(node.text)
    if status is None:
        text = node.text.strip()
        hint = did_you_mean(_fold(text), Status.spellings()) or _STATUS_CHOICES
        report(node.line, f'unknown status "{text}"', hint)
    return status


def _statuses(
    report: _Report, node: RawNode | None, context: _Context
) -> tuple[tuple[tuple[str, Status], ...], bool] | None:
    if node is None or _is_empty(node):
        return (), False
    mapping = _mapping(report, "status", node, "of establishment ids to statuses")
    if mapping is None:
        return None
    explicit: dict[str, Status] = {}
    everyone: Status | None = None
    names_all = False
    ok = True
    for key, value in mapping.entries:
        if not isinstance(key, RawScalar) or _is_empty(key):
            report(key.line, f"each status needs an establishment id or all, not {_kind(key)}")
            ok = False
            continue
        name = key.text.strip()
        status = _status_value(report, name, value)
        if name == ALL:
            names_all = True
            everyone = status
        elif context.ids is not None and name not in context.ids:
            hint = did_you_mean(name, (*context.ids, ALL)) or "see the ids in establishments.yml"
            report(key.line, f'unknown establishment "{name}"', hint)
            ok = False
        elif status is not None:
            explicit[name] = status
        if status is None:
            ok = False
    if not ok:
        return None
    if context.ids is None:
        return (), names_all  # the registry is broken and reported; nothing to resolve
    resolved = tuple(
        (establishment_id, explicit.get(establishment_id, everyone))
        for establishment_id in context.ids
        if establishment_id in explicit or everyone is not None
    )
    return resolved, names_all  # type: ignore[return-value]


def _statement_type(report: _Report, node: RawNode | None) -> StatementType | None:
    text = _text(report, "type", node)
    if text is None or node is None:
        return StatementType.UPDATE
    try:
        return StatementType(text)
    except ValueError:
        choices = [kind.value for kind in StatementType]
        hint = did_you_mean(text, choices) or 'use "update" or "press-release"'
        report(node.line, f'unknown type "{text}"', hint)
        return None


def _boolean_text(node: RawScalar) -> bool | None:
    folded = node.text.strip().casefold()
    return {"true": True, "false": False}.get(folded)


def _draft(report: _Report, node: RawNode | None) -> bool | None:
    if node is None or _is_empty(node):
        return False
    if not _check_tag(report, "draft", node):
        return None
    value = _boolean_text(node) if isinstance(node, RawScalar) else None
    if value is None:
        shown = f'"{node.text.strip()}"' if isinstance(node, RawScalar) else _kind(node)
        report(node.line, f'"draft" must be true or false, not {shown}')
    return value


def _social(report: _Report, node: RawNode | None) -> bool | str | None:
    if node is None or (isinstance(node, RawScalar) and node.is_null):
        return True
    if not _check_tag(report, "social", node):
        return None
    if not isinstance(node, RawScalar):
        report(node.line, f'"social" must be false or the text of the post, not {_kind(node)}')
        return None
    value = _boolean_text(node)
    if value is not None:
        return value
    if node.tag == BOOL_TAG:
        report(
            node.line,
            f'"social" must be false, true or the text of the post, not "{node.text.strip()}"',
            "write false to never post this statement, or put the text in quotes",
        )
        return None
    text = node.text.strip()
    if not text:
        report(
            node.line,
            '"social" is empty',
            "write false to never post this statement, or the text of the post",
        )
        return None
    return text


def _title(report: _Report, node: RawNode | None) -> str | None:
    text = _text(report, "title", node, required=True)
    if text is None or node is None:
        return None
    if "\n" in text:
        report(node.line, '"title" must be a single line')
        return None
    if len(text) > MAX_TITLE:
        report(node.line, f'"title" is longer than {MAX_TITLE} characters ({len(text)})')
        return None
    return text


def _summary(report: _Report, node: RawNode | None, body: str) -> str | None:
    text = _text(report, "summary", node)
    if text is None:
        return None if node is not None and not _is_empty(node) else summarize(body)
    text = _collapse(text)
    if len(text) > MAX_SUMMARY and node is not None:
        report(node.line, f'"summary" is longer than {MAX_SUMMARY} characters ({len(text)})')
        return None
    return text


def _statement_id(report: _Report, path: str, node: RawNode | None) -> tuple[str | None, int]:
    if node is not None:
        return _slug(report, "id", node), node.line
    stem = PurePosixPath(path).name.removesuffix(".md")
    if _ID.fullmatch(stem):
        return stem, 1
    slug = slugify(stem)
    rename = f'rename the file to "{slug}.md"' if slug else "rename the file"
    report(1, f'file name "{stem}.md" is not a valid id', f'{rename} or add an "id:" key')
    return None, 1


# The body `publish.py new` writes. A statement still holding it was never written: publishing
# it would tell the public to "write the text here".
PLACEHOLDER = (
    "Rédigez ici le texte du communiqué : ce qui change pour les patients, ce qu'ils doivent faire."
)
PLACEHOLDER_MESSAGE = 'still holds the placeholder text that "publish.py new" writes'
# Its first words, however re-wrapped or re-cased, accents optional.
_PLACEHOLDER = re.compile(r"r[ée]digez\s+ici\s+le\s+texte\s+du\s+communiqu[ée]", re.IGNORECASE)


def _placeholder(
    report: _Report, title: str | None, title_line: int, body: str, body_line: int
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


def _body(report: _Report, body: str, body_line: int) -> None:
    for offset, line in enumerate(body.split("\n")):
        if match := _CONTROL.search(line):
            code = f"U+{ord(match.group()):04X}"
            report(
                body_line + offset,
                f"the text holds an invisible control character ({code})",
                "delete it; it often comes from copying text out of a PDF or a word processor",
            )


def _statement(raw: RawFile, context: _Context, problems: list[Problem]) -> _Checked:
    report = _Report(raw.path, problems)
    data = raw.data if raw.data is not None else RawMap((), 1)
    if not isinstance(data, RawMap):
        report(data.line, f'the front matter must be "key: value" lines, not {_kind(data)}')
        return _Checked(None, 1, None)
    before = len(problems)
    fields = _fields(report, data, STATEMENT_KEYS)
    statement_id, id_line = _statement_id(report, raw.path, _value(fields, "id"))
    title = _title(report, _value(fields, "title"))
    date = _instant(report, "date", _value(fields, "date"), context.zone, required=True)
    publish_at = _instant(report, "publish_at", _value(fields, "publish_at"), context.zone)
    statuses = _statuses(report, _value(fields, "status"), context)
    kind = _statement_type(report, _value(fields, "type"))
    incident_node = _value(fields, "incident")
    incident = None
    if incident_node is not None and not _is_empty(incident_node):
        incident = _slug(report, "incident", incident_node)
    summary = _summary(report, _value(fields, "summary"), raw.body)
    draft = _draft(report, _value(fields, "draft"))
    social = _social(report, _value(fields, "social"))
    _body(report, raw.body, raw.body_line)
    if draft is False:  # a draft may keep it while it is being written
        title_line = fields["title"][0] if "title" in fields else 1
        _placeholder(report, title, title_line, raw.body, raw.body_line)
    if len(problems) > before:
        return _Checked(statement_id, id_line, None)
    assert statement_id and title and date and statuses is not None and kind
    assert summary is not None and draft is not None and social is not None
    return _Checked(
        statement_id,
        id_line,
        Statement(
            id=statement_id,
            path=raw.path,
            title=title,
            date=date,
            body=raw.body,
            summary=summary,
            status=statuses[0],
            sets_all=statuses[1],
            type=kind,
            incident=incident,
            draft=draft,
            publish_at=publish_at,
            postable=social is not False,
            post_text=social if isinstance(social, str) else None,
            updated=context.updated.get(raw.path),
            date_without_time=_without_time(_value(fields, "date")),
            lines={**{name: line for name, (line, _) in fields.items()}, "body": raw.body_line},
        ),
    )


def _duplicate_ids(checked: list[tuple[str, _Checked]], problems: list[Problem]) -> None:
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


# --- the repository ---------------------------------------------------------------------


def validate_repository(raw: RawRepository) -> Validated:
    """Judge a whole raw repository: the Repository, or None and every problem found."""
    problems: list[Problem] = list(raw.problems)
    registry = _registry(raw.establishments, problems)
    site = _site(raw.mkdocs, problems)
    context = _Context(registry.zone, registry.ids, raw.updated)
    checked = [(file.path, _statement(file, context, problems)) for file in raw.statements]
    _duplicate_ids(checked, problems)
    unique = tuple(sorted(set(problems)))
    statements = [result.statement for _, result in checked if result.statement is not None]
    repository = None
    if (
        not any(not problem.warning for problem in unique)
        and registry.organisation is not None
        and registry.establishments is not None
        and site is not None
    ):
        repository = Repository(
            organisation=registry.organisation,
            establishments=registry.establishments,
            statements=tuple(sorted(statements, key=sort_key)),
            site=site,
        )
    return Validated(repository, unique)


__all__ = [
    "ESTABLISHMENT_KEYS",
    "ORGANISATION_KEYS",
    "PLACEHOLDER",
    "PLACEHOLDER_MESSAGE",
    "PRESS_KEYS",
    "REGISTRY_KEYS",
    "STATEMENT_KEYS",
    "Key",
    "Validated",
    "parse_instant",
    "shorten",
    "slugify",
    "summarize",
    "validate_repository",
]

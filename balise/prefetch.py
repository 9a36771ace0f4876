"""The build cache's reader and the renderings of statement bodies it keeps, prefetched on
two cores.

The build's edge: it binds text's pure functions (and validation's summary) to the build's
cache and hands the memoized callables down; no module below imports the cache for them. The
reader cache is here too: each statement file judged once per text, registry and code (its
validated record and what the sanitizer removes from its body), read back in one query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from typing import Any

from balise import cache
from balise.digests import digest
from balise.errors import Problem
from balise.load import RawFile, RawMap, RawSources, StatementText, parse_statement
from balise.model import Redirect, Statement, StatementType, Status
from balise.text import markdown
from balise.text.markdown import BodyRenderer, Removed
from balise.text.plain import plain_text
from balise.validate import (
    Checked,
    Judged,
    Validated,
    judge_sources,
    judge_statement,
    judged_against,
    summarize,
    validate_judged,
)

JUDGED = "judged-statement"  # the reader cache's kind: one entry per statement file


@dataclass(frozen=True)
class Renderings:
    """The body renderings of one build, memoized in its cache. Steps that share work share
    it through the memo: one markdown rendering per body feeds its page HTML and its removed
    markup; the page HTML feeds the feeds, the JSON and the summary."""

    unsafe_html: cache.Memoized[str]  # for this build only: never published
    page_html: cache.Memoized[str]  # for this build only: the page sources are cached
    removed: cache.Memoized[tuple[Removed, ...]]
    summary: cache.Memoized[str]
    feed_html: cache.Memoized[str]
    plain_text: cache.Memoized[str]

    @classmethod
    def of(cls, store: cache.Cache) -> Renderings:
        unsafe = store.memo("unsafe-html", markdown.unsafe_html, persist=False)
        page = store.memo("body-html", lambda body: markdown.sanitize(unsafe(body)), persist=False)
        return cls(
            unsafe_html=unsafe,
            page_html=page,
            removed=store.memo(
                "removed-markup",
                lambda body: markdown.removed_from(body, unsafe(body)),
                encode=lambda found: [[r.what, r.offset] for r in found],
                decode=lambda stored: tuple(Removed(what, offset) for what, offset in stored),
            ),
            summary=store.memo("summary", lambda body: summarize(body, page)),
            feed_html=store.memo(
                "feed-body", lambda body, base: markdown.with_absolute_links(page(body), base)
            ),
            plain_text=store.memo("plain-text", lambda body: plain_text(page(body))),
        )

    def validate(self, sources: RawSources) -> Reading:
        """The sources validated. Each statement file an earlier build judged (the same text,
        registry and code) is read back from the reader cache; the others are read (on two
        cores: YAML is slow), their bodies rendered ahead, then judged, and kept (unless the
        cache is read only). The rules between files are judged every time."""
        store = self.summary.store
        judging = judge_sources(
            sources.establishments, sources.mkdocs, sources.updated, summarize=self.summary
        )
        against = judged_against(judging.context)
        readable = [file for file in sources.statements if file.text is not None]
        keys = [digest(file.path, file.text or "", against) for file in readable]
        kept = store.get_many(JUDGED, keys)
        judged: dict[str, Judged] = {}
        removed: dict[str, tuple[Removed, ...]] = {}
        new: list[tuple[StatementText, str]] = []
        for file, key in zip(readable, keys, strict=True):
            entry = kept.get(key)
            text = file.text or ""
            read = None if entry is None else _decode_entry(entry, file.path, text, sources.updated)
            if read is None:
                new.append((file, key))
                continue
            judged[file.path], found = read
            checked = judged[file.path].checked
            if found is not None and checked is not None and checked.statement is not None:
                removed[checked.statement.body] = found
        parsed = cache.parallel_map(
            lambda file: parse_statement(file.text or "", file.path), [file for file, _ in new]
        )
        self.prefetch(raw for raw, _ in parsed if raw is not None)
        for (file, key), (raw, met) in zip(new, parsed, strict=True):
            one = judge_statement(file.path, raw, met, judging.context)
            statement = one.checked.statement if one.checked is not None else None
            found = None
            if statement is not None and not statement.draft:  # guards judge no draft
                found = removed[statement.body] = self.removed(statement.body)
            judged[file.path] = one
            entry = _encode_entry(one, file.text or "", found)
            if entry is not None:
                store.put(JUDGED, key, entry)
        problems = [*sources.problems, *(p for file in sources.statements for p in file.problems)]
        validated = validate_judged(problems, judging, [judged[file.path] for file in readable])
        return Reading(validated, _Removed(removed, self.removed))

    def bodies(self) -> BodyRenderer:
        """What the renderers take: the page, feed and JSON renderings, memoized."""
        return BodyRenderer(self.page_html, self.feed_html, self.plain_text)

    def prefetch(self, statements: Iterable[RawFile]) -> None:
        """Summaries, removed markup, page and JSON renderings of new bodies, in parallel
        (each body's in one process: they share its markdown rendering)."""
        groups: list[list[cache.Call]] = []
        for statement in statements:
            body = (statement.body,)
            if not self.removed.missing(*body):
                continue  # seen by an earlier build: what it needs is cached, or not needed
            calls: list[cache.Call] = [
                (self.removed, body),
                (self.page_html, body),
                (self.plain_text, body),
            ]
            if not isinstance(statement.data, RawMap) or statement.data.get("summary") is None:
                calls.append((self.summary, body))
            groups.append(calls)
        cache.prefetch(groups)


@dataclass(frozen=True)
class Reading:
    """The sources validated, and what the sanitizer removes from a body (from the reader
    cache for the bodies it holds, else the memo)."""

    validated: Validated
    removed: Callable[[str], tuple[Removed, ...]]


@dataclass(frozen=True)
class _Removed:
    known: Mapping[str, tuple[Removed, ...]]
    compute: Callable[[str], tuple[Removed, ...]]

    def __call__(self, body: str) -> tuple[Removed, ...]:
        found = self.known.get(body)
        return found if found is not None else self.compute(body)


# --- the reader cache's entries -----------------------------------------------------------
# One statement file judged: [checked or None, problems, removed markup or None], where
# checked is [id, id line, the Statement's fields or None]. JSON values, decoded field by
# field: no pickle (a cache folder is no place for code), no generic walk (2,000 per check).


class _NotKept(Exception):
    """A value the entry cannot hold exactly: the statement is judged every time."""


def _instant(value: datetime | None) -> str | None:
    if value is None:
        return None
    if type(value.tzinfo) is not timezone:  # validation gives fixed offsets; others may not
        raise _NotKept(value)
    return value.isoformat()


def _read_instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _same(value: Any) -> Any:
    return value


def _statuses(pairs: tuple[tuple[str, Status], ...]) -> list[list[str]]:
    return [[key, status.value] for key, status in pairs]


_STATUS = {status.value: status for status in Status}
_TYPE = {kind.value: kind for kind in StatementType}

# Every field of Statement but `updated` (git's, set when read back), with its codec.
_FIELDS: tuple[tuple[str, Callable[[Any], Any], Callable[[Any], Any]], ...] = (
    ("id", _same, _same),
    ("path", _same, _same),
    ("title", _same, _same),
    ("date", _instant, _read_instant),
    ("body", _same, _same),
    ("summary", _same, _same),
    ("status", _statuses, lambda pairs: tuple((key, _STATUS[value]) for key, value in pairs)),
    ("sets_all", _same, _same),
    ("type", lambda kind: kind.value, _TYPE.__getitem__),
    ("incident", _same, _same),
    ("draft", _same, _same),
    ("publish_at", _instant, _read_instant),
    ("postable", _same, _same),
    ("post_text", _same, _same),
    ("date_without_time", _same, _same),
    ("lines", dict, dict),
    ("service_status", _statuses, lambda pairs: tuple((k, _STATUS[v]) for k, v in pairs)),
    ("concerns", list, tuple),
    (
        "redirect",
        lambda pairs: [[key, to.establishment, to.text] for key, to in pairs],
        lambda pairs: tuple((key, Redirect(to, text)) for key, to, text in pairs),
    ),
    ("next_update", _instant, _read_instant),
    ("no_call", _same, _same),
    ("start", _instant, _read_instant),
    ("end", _instant, _read_instant),
    ("withdrawn", _same, _same),
)
_KNOWN = {name for name, _, _ in _FIELDS} | {"updated"}


_BODY = [name for name, _, _ in _FIELDS].index("body")


def _encode_statement(statement: Statement, text: str) -> list[Any]:
    unknown = {f.name for f in fields(Statement)} - _KNOWN
    if unknown:  # a field the entry would lose: a warm check would differ from a cold one
        raise TypeError(f"prefetch._FIELDS does not encode Statement.{', '.join(sorted(unknown))}")
    values = [encode(getattr(statement, name)) for name, encode, _ in _FIELDS]
    if text.endswith(statement.body):  # the body is the file's end: kept as where it starts
        values[_BODY] = len(text) - len(statement.body)
    return values


def _decode_statement(values: list[Any], text: str, updated: datetime | None) -> Statement:
    if len(values) != len(_FIELDS):
        raise ValueError("an entry of another shape")
    found = {name: decode(value) for (name, _, decode), value in zip(_FIELDS, values, strict=True)}
    if type(found["body"]) is int:
        found["body"] = text[found["body"] :]
    return Statement(**found, updated=updated)


def _encode_entry(judged: Judged, text: str, removed: tuple[Removed, ...] | None) -> Any:
    try:
        checked = judged.checked
        if checked is not None:
            statement = checked.statement
            encoded = None if statement is None else _encode_statement(statement, text)
            checked_value: Any = [checked.id, checked.id_line, encoded]
        else:
            checked_value = None
    except _NotKept:
        return None  # not kept: judged again next time
    problems = [[p.path, p.line, p.message, p.hint, p.warning] for p in judged.problems]
    found = None if removed is None else [[r.what, r.offset] for r in removed]
    return [checked_value, problems, found]


def _decode_entry(
    entry: Any, path: str, text: str, updated: Mapping[str, datetime]
) -> tuple[Judged, tuple[Removed, ...] | None] | None:
    """The entry of the file at `path` holding `text`, read back; None when it is damaged
    (the statement is judged again)."""
    try:
        checked_value, problems, found = entry
        checked = None
        if checked_value is not None:
            statement_id, id_line, values = checked_value
            statement = (
                None if values is None else _decode_statement(values, text, updated.get(path))
            )
            if statement is not None and statement.path != path:
                return None
            checked = Checked(statement_id, id_line, statement)
        met = tuple(Problem(*problem) for problem in problems)
        removed = None if found is None else tuple(Removed(what, at) for what, at in found)
    except (TypeError, ValueError, KeyError, AttributeError):
        return None
    return Judged(path, checked, met), removed

"""The declared schema: one `Key` per YAML key (type, parser, default, README text) and the
one loop that reads a mapping by its keys. It knows no particular file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import UnionType
from typing import Any, Generic

from balise.errors import did_you_mean
from balise.load import RawMap, RawNode, RawScalar
from balise.validate.nodes import C, Field, Report, is_empty, kind


@dataclass(frozen=True)
class Key(Generic[C]):
    """One key of a YAML schema, declared once: validation and the README both read it.

    `parse` reads a written value and returns it, or None once it has reported why it cannot;
    a key that is absent, or written as `unset` says (an optional key's empty value), takes
    `default`, or what `derive` makes of the file (an id from the file name).
    """

    name: str
    type: type | UnionType  # what `parse` returns
    parse: Callable[[Field[C], RawNode], Any]
    meaning: str  # the README's text
    required: bool = False
    default: Any = None
    derive: Callable[[Field[C]], Any] | None = None
    unset: Callable[[RawNode], bool] = is_empty
    why: str = ""  # said when a required key is missing
    example: str = ""  # the hint when a required key is missing


def keys_table(keys: tuple[Key[Any], ...]) -> str:
    """The markdown table of a schema, as the README shows it (a test keeps them equal)."""
    rows = ["| key | required | meaning |", "| --- | --- | --- |"]
    rows += [f"| `{k.name}` | {'yes' if k.required else 'no'} | {k.meaning} |" for k in keys]
    return "\n".join(rows)


@dataclass(frozen=True)
class Read:
    """A mapping read by its keys."""

    values: Mapping[str, Any]  # each key read well, or unset (its default); not those in error
    written: Mapping[str, tuple[int, RawNode]]  # each known key written: its line and value
    complete: bool  # nothing was reported while reading it

    def node(self, name: str) -> RawNode | None:
        """The value node of a written key, or None."""
        entry = self.written.get(name)
        return entry[1] if entry else None


def read(
    report: Report,
    data: RawMap,
    keys: tuple[Key[C], ...],
    context: C,
    *,
    others: bool = False,
) -> Read:
    """Every key of `data` read by its declaration; unknown keys (unless `others` may be
    there, as in mkdocs.yml) and missing required ones are reported."""
    before = len(report.problems)
    written = _written(report, data, keys, others)
    values: dict[str, Any] = {}
    for key in keys:
        field = Field(report, key.name, context)
        entry = written.get(key.name)
        node = entry[1] if entry else None
        if node is None or (not key.required and key.unset(node)):
            value = key.derive(field) if key.derive else key.default
        else:
            value = key.parse(field, node)
        if value is not None:
            assert isinstance(value, key.type), (key.name, value)  # a parser's bug, not input's
            values[key.name] = value
    return Read(values, written, len(report.problems) == before)


def _written(
    report: Report, data: RawMap, keys: tuple[Key[C], ...], others: bool
) -> dict[str, tuple[int, RawNode]]:
    """name -> (key line, value) for known keys; reports unknown and missing required keys."""
    names = [key.name for key in keys]
    found: dict[str, tuple[int, RawNode]] = {}
    for key, value in data.entries:
        known = isinstance(key, RawScalar) and not key.is_null and key.text in names
        if others and not known:
            continue
        if not isinstance(key, RawScalar) or key.is_null:
            report(key.line, f'a key must be a name such as "{names[0]}", not {kind(key)}')
            continue
        if key.text not in names:
            report(key.line, f'unknown key "{key.text}"', did_you_mean(key.text, names))
            continue
        found[key.text] = (key.line, value)
    for key in keys:
        if key.required and key.name not in found:
            message = f'"{key.name}" is required' + (f": {key.why}" if key.why else "")
            report(data.line, message, key.example)
    return found

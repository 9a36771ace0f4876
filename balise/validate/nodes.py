"""Generic readers of YAML nodes: text, mapping, slug, web address, phone, email, and the
Report they tell what is wrong. Pure: they judge raw nodes and know no file's schema.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from balise.errors import Problem
from balise.load import MAP_TAG, SEQ_TAG, YAML_TAG, RawList, RawMap, RawNode, RawScalar
from balise.model import ID_PATTERN
from balise.text import slugify

C = TypeVar("C")

SCALAR_TAGS = frozenset(
    YAML_TAG + name for name in ("str", "int", "float", "bool", "null", "timestamp")
)
ID = re.compile(ID_PATTERN)
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


@dataclass
class Report:
    """Collects the problems of one file."""

    path: str
    problems: list[Problem]

    def __call__(self, line: int, message: str, hint: str = "") -> None:
        self.problems.append(Problem(self.path, line, message, hint))


@dataclass(frozen=True)
class Field(Generic[C]):
    """A key being read: where its problems go, its name in messages, and what the file's
    readers may need besides the node (its timezone, its establishments, its body...)."""

    report: Report
    name: str
    context: C


# --- what a node is -----------------------------------------------------------------------


def kind(node: RawNode) -> str:
    """The node's kind as messages name it."""
    if isinstance(node, RawScalar):
        return "text"
    return "a mapping" if isinstance(node, RawMap) else "a list"


def odd_tag(node: RawNode) -> str | None:
    """The tag as written when Balise cannot read it (`!ENV`, `!!python/...`), else None."""
    if isinstance(node, RawScalar):
        known = node.tag in SCALAR_TAGS
    else:
        known = node.tag == (MAP_TAG if isinstance(node, RawMap) else SEQ_TAG)
    if known:
        return None
    return "!!" + node.tag.removeprefix(YAML_TAG) if node.tag.startswith(YAML_TAG) else node.tag


def is_empty(node: RawNode) -> bool:
    """Null or blank text: a key written without a value."""
    return isinstance(node, RawScalar) and (node.is_null or not node.text.strip())


def is_empty_untagged(node: RawNode) -> bool:
    """Empty, and with no tag Balise cannot read (`!ENV` alone is an error, not unset)."""
    return is_empty(node) and odd_tag(node) is None


def is_null(node: RawNode) -> bool:
    """YAML's null (`key:` or `key: null`), but not the empty text `""`."""
    return isinstance(node, RawScalar) and node.is_null


def never(node: RawNode) -> bool:
    """For keys whose every written value is read (an empty one is an error)."""
    return False


def fold(text: str) -> str:
    """Trimmed, casefolded and without accents, for comparing what people write."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def boolean_text(node: RawScalar) -> bool | None:
    """true or false, in any case; None for anything else."""
    folded = node.text.strip().casefold()
    return {"true": True, "false": False}.get(folded)


# --- readers: the value, or None once the problem is reported ------------------------------


def check_tag(field: Field[C], node: RawNode) -> bool:
    """Whether Balise can read the node's tag (else the problem is reported)."""
    tag = odd_tag(node)
    if tag is None:
        return True
    field.report(
        node.line,
        f'"{field.name}" has the YAML tag {tag}, which Balise cannot read',
        "write the value itself",
    )
    return False


def text(field: Field[C], node: RawNode | None, *, required: bool = False) -> str | None:
    """The raw text of a scalar (YAML's 1.1 guesses ignored); None when absent or wrong."""
    if node is None or not check_tag(field, node):
        return None
    if not isinstance(node, RawScalar):
        field.report(node.line, f'"{field.name}" must be text, not {kind(node)}')
        return None
    if is_empty(node):
        if required:
            field.report(node.line, f'"{field.name}" is empty')
        return None
    return node.text.strip()


def required_text(field: Field[C], node: RawNode) -> str | None:
    """Text that must be written: an empty value is reported."""
    return text(field, node, required=True)


def mapping(field: Field[C], node: RawNode, what: str) -> RawMap | None:
    """The node when it is a mapping (`what` says of what, in the message), else None."""
    if not check_tag(field, node):
        return None
    if isinstance(node, RawMap):
        return node
    if is_empty(node):
        field.report(node.line, f'"{field.name}" is empty')
    else:
        field.report(node.line, f'"{field.name}" must be a mapping {what}, not {kind(node)}')
    return None


def slug_hint(written: str) -> str:
    """How to write a valid id, with one close to what was written."""
    slug = slugify(written)
    example = f', such as "{slug}"' if slug else ""
    return f"use lowercase letters, digits and hyphens{example}"


def slug(field: Field[C], node: RawNode | None) -> str | None:
    """An id `[a-z0-9][a-z0-9-]*`."""
    written = text(field, node, required=True)
    if written is None or node is None:
        return None
    if not ID.fullmatch(written):
        field.report(node.line, f'{field.name} "{written}" is not a valid slug', slug_hint(written))
        return None
    return written


def list_items(
    field: Field[C], node: RawNode, what: str, example: str
) -> tuple[RawNode, ...] | None:
    """The items of a list (`what`: of what, for the message), or None when it is not one."""
    if not check_tag(field, node):
        return None
    if not isinstance(node, RawList):
        field.report(
            node.line,
            f'"{field.name}" must be a list of {what}, not {kind(node)}',
            f"write {field.name}: {example}",
        )
        return None
    return node.items


def web_address(field: Field[C], node: RawNode | None) -> str | None:
    """A full http(s) address."""
    written = text(field, node)
    if written is None or node is None:
        return None
    parts = urlsplit(written)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        field.report(
            node.line,
            f'"{field.name}" must be a full web address, not "{written}"',
            "start it with https://",
        )
        return None
    return written


def phone(field: Field[C], node: RawNode | None) -> str | None:
    """A phone number: 2 to 15 digits, grouped as people write them."""
    written = text(field, node)
    if written is None or node is None:
        return None
    digits = sum(c in "0123456789" for c in written)
    if not _PHONE.fullmatch(written) or digits not in _PHONE_DIGITS:
        field.report(
            node.line,
            f'"{field.name}" is not a phone number: "{written}"',
            "write 2 to 15 digits, grouped with spaces, dots or dashes, with an optional "
            'leading +, such as "+33 2 99 00 00 00", "02 99 00 00 00" or "15"',
        )
        return None
    return written


def email(field: Field[C], node: RawNode | None) -> str | None:
    """An email address, alone."""
    written = text(field, node)
    if written is None or node is None:
        return None
    if not _EMAIL.fullmatch(written):
        field.report(
            node.line,
            f'"{field.name}" is not an email address: "{written}"',
            "write the address alone, such as presse@example.org",
        )
        return None
    return written

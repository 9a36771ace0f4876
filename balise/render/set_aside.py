"""What Markdown copies unchanged from a page's raw HTML: the parts Balise's plugin sets aside.

Balise's page sources are HTML its templates wrote; Python-Markdown (and MkDocs, which reads
every page's raw HTML once more for its `id`s) would only parse those blocks to copy them as
they are. These pure functions find, in a page's markdown, the inside of each HTML block that
Markdown is certain to copy byte for byte, so that the plugin hands Markdown a placeholder
instead. Nothing here imports MkDocs or Markdown; what they do is restated, and the tests
compare pages rendered with and without setting aside.
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

# Block-level elements (markdown.util.BLOCK_LEVEL_ELEMENTS) that hold others: one at a line
# start opens a raw HTML block, or sits in one, and Markdown copies what it holds.
_HOLDERS = (
    "article|aside|blockquote|details|div|dl|fieldset|figure|footer|form|header|li|main|nav"
    "|ol|section|table|ul"
)
# A page is read in segments cut before each line that starts such an element with
# attributes (as Balise's templates write them; a statement's body, bare `<ul>` and `<li>`,
# is not cut up): a list's items are segments, each read once however many pages list it.
_CUT = re.compile(r"\n(?=<(?:" + _HOLDERS + r")\s)")
_ATTRIBUTES = r'(?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*+(?:="[^"<>]*+")?)*+'
_START = re.compile(r"<(" + _HOLDERS + r")" + _ATTRIBUTES + r"\s*+>\n")
# Markup that every HTML parser reads alike and that changes no parser's state: text, and
# simple tags whose attributes are double-quoted, no script, style, comment or event handler.
_SIMPLE_TAG = (
    r"<(?!(?:script|style|textarea|title|xmp|iframe|noembed|noframes|noscript|plaintext)"
    r"[\s/>])/?[a-zA-Z][a-zA-Z0-9-]*+(?:\s+(?!on|style)[a-zA-Z_:][-a-zA-Z0-9_:.]*+"
    r'(?:="[^"<>]*+")?)*+\s*+/?>'
)
_INERT = re.compile(r"(?:[^<]++|" + _SIMPLE_TAG + r")*+", re.IGNORECASE)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^<>]*?(/?)>")
_TAG_NAME = re.compile(r"<(/?[a-zA-Z][a-zA-Z0-9-]*)")  # enough when no tag ends in "/>"
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param"}
    | {"source", "track", "wbr"}
)
# What Markdown's whitespace pass changes (tabs, carriage returns, its own markers), a line of
# spaces (emptied), a character reference it would write back otherwise (`&amp` gains a `;`).
_REWRITTEN_CHARACTERS = ("\t", "\r", "\x02", "\x03", "```", "~~~")
_SPACES_LINE = re.compile(r"\n +\n")
_LOOSE_REFERENCE = re.compile(r"&(?!(?:[a-zA-Z][a-zA-Z0-9]*|#[0-9]+|#[xX][0-9a-fA-F]+);)[#a-zA-Z]")
_ANCHOR = re.compile(r"\s(?:id|name)(?=[\s=/>])", re.IGNORECASE)
_ATTRIBUTE = re.compile(r'\s+([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:="([^"<>]*)")?')


def inert(text: str) -> bool:
    """Whether `text` is text and simple tags only (see _SIMPLE_TAG)."""
    return _INERT.fullmatch(text) is not None


def _copied_as_is(text: str) -> bool:
    """Whether Markdown's passes leave inert `text` (a segment: it starts a line) as it is."""
    return (
        not any(c in text for c in _REWRITTEN_CHARACTERS)
        and _SPACES_LINE.search(text) is None
        and not text.startswith(" ")  # perhaps a line of spaces: never in Balise's templates
        and ("&" not in text or _LOOSE_REFERENCE.search(text) is None)
    )


def anchor_ids(text: str) -> frozenset[str | None]:
    """The anchors MkDocs collects from inert HTML (`id` of any tag, `name` of an `a`), as its
    HTML parser reads them (names lower-cased, values unescaped, None for a bare attribute)."""
    found: set[str | None] = set()
    for match in _ANCHOR.finditer(text):
        start = text.rfind("<", 0, match.start())
        end = text.find(">", match.start())
        if start < 0 or text.find(">", start) != end:
            continue  # in text, not in a tag
        tag = _TAG_NAME.match(text, start)
        if tag is None or tag.group(1).startswith("/"):
            continue
        for attribute in _ATTRIBUTE.finditer(text, tag.end(), end):
            name, value = attribute.group(1).lower(), attribute.group(2)
            if name == "id" or (name == "name" and tag.group(1).lower() == "a"):
                found.add(None if value is None else html.unescape(value))
    return frozenset(found)


@dataclass(frozen=True)
class Reading:
    """One inert segment of a page: whether Markdown copies it as is, the elements it closes
    that it did not open (innermost first, with where their end tags are) and those it leaves
    open (outermost first), where the element its first tag opens ends (-1: not in it)."""

    as_is: bool
    closes: tuple[str, ...]
    closes_at: tuple[int, ...]
    opens: tuple[str, ...]
    first_end: int
    ids: frozenset[str | None]


def read(text: str) -> Reading | None:
    """How Markdown reads a segment; None when it is not inert (a comment, a script, an odd
    tag: the parser's state after it is unknown) or misnests its own elements."""
    if not inert(text):
        return None
    # Self-closing tags need the whole tag read; without them the name is enough.
    if "/>" in text:
        tags = [c + n.lower() + s for c, n, s in _TAG.findall(text)]
    else:
        tags = _TAG_NAME.findall(text)
        if not all(map(str.islower, tags)):
            tags = [t.lower() for t in tags]
    closes: list[str] = []
    closed: list[int] = []  # the indexes, in tags, of those closes
    stack: list[str] = []
    first = -1  # the index of the end tag of the element the first tag opens
    for index, tag in enumerate(tags):
        if tag[0] == "/":
            name = tag[1:]
            if name in _VOID:
                return None  # `</br>`: parsers disagree
            if stack:
                if stack.pop() != name:
                    return None
                if not stack and first < 0 and tags[0][0] != "/" and text.startswith("<" + tags[0]):
                    first = index
            else:
                closes.append(name)
                closed.append(index)
        elif tag not in _VOID and tag[-1] != "/":
            stack.append(tag)
    at = _tag_positions(text, tags, [first, *closed]) if first >= 0 or closed else {}
    ids = anchor_ids(text) if _ANCHOR.search(text) else frozenset()
    return Reading(
        _copied_as_is(text),
        tuple(closes),
        tuple(at[i] for i in closed),
        tuple(stack),
        at.get(first, -1),
        ids,
    )


def _tag_positions(text: str, tags: list[str], wanted: list[int]) -> dict[int, int]:
    """Where the tags of the given indexes start (every `<` of inert text starts a tag)."""
    if wanted == [len(tags) - 1]:
        return {wanted[0]: text.rfind("<")}  # a block alone in its segment: its last tag
    positions = [m.start() for m in re.finditer("<", text)]
    return {i: positions[i] for i in wanted if i >= 0}


@dataclass(frozen=True)
class Part:
    """The inside of one HTML block, `markdown[begin:end]`, that Markdown copies unchanged."""

    begin: int
    end: int
    ids: frozenset[str | None]  # the anchors MkDocs would have collected from it


def parts_copied(
    markdown: str, reading: Callable[[str], Reading | None] = read, minimum: int = 64
) -> list[Part]:
    """The insides of the HTML blocks that start a line (their start tag alone on it) which
    Markdown would copy unchanged, outermost first, none inside another, in order.

    Read segment by segment (see _CUT) from the page's start, tracking the open elements: the
    reading stops at the first segment that is not inert (after it, the parser's state is not
    known). A block that holds a part Markdown rewrites is not set aside; the blocks inside it
    may be. `reading` is `read` or a memo of it.
    """
    cuts = [0, *(m.end() for m in _CUT.finditer(markdown)), len(markdown)]
    stack: list[str] = []
    parts: list[Part] = []
    begin = depth = -1  # the block being read: where its inside begins, its stack height
    ids: set[str | None] = set()
    for start, end in itertools.pairwise(cuts):
        segment = markdown[start:end]
        found = reading(segment)
        if found is None:
            break
        level = len(stack)
        first = False
        if begin < 0:
            opening = _START.match(segment)
            if opening is not None:
                begin, depth, first, ids = start + opening.end(), level, True, set()
        if begin >= 0:
            if not found.as_is:
                begin = -1  # not this block; perhaps one inside it
            else:
                ids |= found.ids
        for name in found.closes:
            if not stack or stack.pop() != name:
                return parts  # misnested across segments: stop here
        stack.extend(found.opens)
        # The block ends in its first segment, or in one that closes down to its height.
        close = -1
        if begin >= 0 and first:
            close = found.first_end
        elif begin >= 0 and level - len(found.closes) <= depth:
            close = found.closes_at[level - depth - 1]
        if close >= 0:
            if start + close - begin >= minimum:
                parts.append(Part(begin, start + close, frozenset(ids)))
            begin = -1
    return parts


def copied_unchanged(text: str) -> bool:
    """Whether Markdown, inside a raw HTML block, would copy `text` as it is (and leave the
    parser as it found it)."""
    found = read(text)
    return found is not None and found.as_is and not found.closes and not found.opens

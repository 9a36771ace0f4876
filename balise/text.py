"""Pure text work every layer may use: slugs, ISO instants, rendered HTML -> plain text.

Core: values in, values out; it imports nothing of Balise's (no render, cache or load).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from html.parser import HTMLParser

# --- slugs ------------------------------------------------------------------------------

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str, limit: int | None = None) -> str:
    """`Point d'étape n°2 — Été` -> `point-d-etape-n-2-ete`: lowercase ASCII words joined by
    hyphens (accents dropped, every other character a separator); "" when nothing is left.

    With `limit`, at most that many characters, cut between words, never inside one: a slug
    often becomes a permanent URL (`…-retour-au-fonctionneme` would stay online for good);
    only a first word longer than the limit is cut, as it must be.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c))
    slug = _NOT_SLUG.sub("-", ascii_text).strip("-")
    if limit is not None and len(slug) > limit:
        words = slug[: limit + 1].split("-")[:-1]  # the last one is cut (or empty: a hyphen)
        slug = "-".join(words) if words else slug[:limit]
    return slug


# --- instants ---------------------------------------------------------------------------


def parse_iso_instant(text: str) -> datetime | None:
    """An ISO 8601 date and time as the command line and the ledger write it (a final `Z`
    is UTC), naive when written without an offset; None when it is not one."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


# --- plain text of rendered markdown ----------------------------------------------------


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


def collapse(text: str) -> str:
    """Every run of whitespace as one space, none at the ends."""
    return " ".join(text.split())


def shorten(text: str, limit: int) -> str:
    """`text` itself when short enough, else cut at a word boundary and ended with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if text[limit - 1] != " " and " " in cut:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:.-–—") + "…"


def first_paragraph(html: str, limit: int) -> str:
    """The first paragraph of rendered markdown as plain text, shortened to `limit`
    characters; without a paragraph, all its text but headings, scripts and styles."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    for paragraph in extractor.paragraphs:
        text = collapse(paragraph)
        if text:
            return shorten(text, limit)
    return shorten(collapse("".join(extractor.everything)), limit)

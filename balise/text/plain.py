"""Rendered HTML -> plain text: the one extractor, read as lines (the JSON's bodies) or as the
first paragraph (validation's default summary).

Pure: HTML text in, plain text out; it renders no markdown and carries no cache (the build
memoizes it at its edge, prefetch.py).
"""

from __future__ import annotations

from html.parser import HTMLParser

from balise.text import collapse, shorten

# Elements that start and end a line of plain text.
_BLOCKS = frozenset(
    {"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "br", "hr"}
)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_HIDDEN = frozenset({"script", "style"})  # their content is code, never text


class _Extractor(HTMLParser):
    """The text of HTML, read once for both uses: its lines (one per block, list items as
    `- …`, table cells joined by ` | `), its paragraphs, and all its text but headings."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.paragraphs: list[str] = []
        self.prose: list[str] = []  # all text but headings, a space at each end tag
        self._hidden = 0  # inside script or style
        self._heading = 0  # inside a heading (or script or style): not prose
        self._paragraph: list[str] | None = None

    def _break(self) -> None:
        if self.lines[-1].strip():
            self.lines.append("")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self._break()
        if tag == "li":
            self.lines[-1] = "- "
        elif tag in ("td", "th") and self.lines[-1].strip():
            self.lines[-1] += " | "
        if tag in _HIDDEN:
            self._hidden += 1
        if tag in _HEADINGS or tag in _HIDDEN:
            self._heading += 1
        elif tag == "p" and self._paragraph is None:
            self._paragraph = []
        elif tag == "br":  # a line break in a paragraph: a space in its prose
            self._add_prose(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self._break()
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        if tag in _HEADINGS or tag in _HIDDEN:
            self._heading = max(0, self._heading - 1)
        elif tag == "p" and self._paragraph is not None:
            self.paragraphs.append("".join(self._paragraph))
            self._paragraph = None
        self.prose.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            # Whitespace is collapsed line by line at the end; here it must only not be lost.
            self.lines[-1] += data.replace("\n", " ")
        self._add_prose(data)

    def _add_prose(self, data: str) -> None:
        if self._heading:
            return
        self.prose.append(data)
        if self._paragraph is not None:
            self._paragraph.append(data)


def _extract(html: str) -> _Extractor:
    extractor = _Extractor()
    extractor.feed(html)
    extractor.close()
    return extractor


def plain_text(html: str) -> str:
    """Rendered HTML as plain text: one line per paragraph, heading or list item (`- …`),
    whitespace collapsed, markup, scripts and styles dropped."""
    lines = _extract(html).lines
    return "\n".join(collapse(line) for line in lines if line.strip())


def first_paragraph(html: str, limit: int) -> str:
    """The first paragraph of rendered HTML as plain text, shortened to `limit` characters;
    without a paragraph, all its text but headings, scripts and styles."""
    extractor = _extract(html)
    for paragraph in extractor.paragraphs:
        text = collapse(paragraph)
        if text:
            return shorten(text, limit)
    return shorten(collapse("".join(extractor.prose)), limit)

"""A statement body away from its page: HTML with absolute links (feeds), plain text (JSON).

Both start from render.markdown.page_body_html, the one sanitized rendering; links are
rewritten by the HTML sanitizer's parser (nh3), never by regex.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit, urlunsplit

import nh3

from balise.cache import memoized
from balise.render import markdown as statement_markdown


def absolute_url(href: str, base_url: str) -> str:
    """A link written in a statement, as a reader outside the site must follow it.

    Relative links are resolved against the statement's permalink (where the site shows the
    body); a link to a `.md` source becomes its `.html` page, as MkDocs does on the site.
    """
    parts = urlsplit(href)
    if parts.scheme or parts.netloc:
        return href
    return urljoin(base_url, urlunsplit(statement_markdown.to_page(parts)))


@memoized("feed-body")
def feed_body_html(body: str, base_url: str) -> str:
    """The sanitized body HTML, with every relative link made absolute against `base_url`."""
    return nh3.clean(
        statement_markdown.page_body_html(body),
        tags=set(statement_markdown.ALLOWED_TAGS),
        attributes={
            tag: set(names) for tag, names in statement_markdown.ALLOWED_ATTRIBUTES.items()
        },
        url_schemes=set(statement_markdown.URL_SCHEMES),
        link_rel=statement_markdown.LINK_REL,
        url_relative=lambda url: absolute_url(url, base_url),
    )


_BLOCKS = frozenset(
    {"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "br", "hr"}
)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]

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

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self._break()

    def handle_data(self, data: str) -> None:
        # Whitespace is collapsed line by line at the end; here it must only not be lost.
        self.lines[-1] += data.replace("\n", " ")


@memoized("plain-text")
def plain_text(body: str) -> str:
    """The body as plain text: one line per paragraph or list item, markup dropped."""
    parser = _Text()
    parser.feed(statement_markdown.page_body_html(body))
    parser.close()
    return "\n".join(" ".join(line.split()) for line in parser.lines if line.strip())

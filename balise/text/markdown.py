"""A statement's body: markdown -> HTML, sanitized with nh3 to a small set of safe tags; its
links, as the page and as readers outside the site follow them; what the sanitizer removes.

Pure: the one place a body becomes HTML (pages, feeds, JSON, summaries); it never reads files,
never trusts markup and carries no cache (the build memoizes these functions, prefetch.py).
"""

from __future__ import annotations

import posixpath
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit
from xml.etree.ElementTree import Element

import markdown
import nh3
from markdown.treeprocessors import Treeprocessor

from balise.text.plain import plain_text

# What a statement may contain: text structure, links, lists, tables, quotes, code.
# No images, media, forms, frames, scripts, styles or classes: a statement is short text,
# the site loads nothing from another host, and the CSP allows no inline style or script.
ALLOWED_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "code",
        "dd",
        "del",
        "dl",
        "dt",
        "em",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "ins",
        "kbd",
        "li",
        "mark",
        "ol",
        "p",
        "pre",
        "q",
        "s",
        "small",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title", "hreflang"},
    "abbr": {"title"},
    "ol": {"start", "reversed"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan", "scope"},
}
# Relative links (to other pages of the site) are kept too.
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
LINK_REL = "noopener noreferrer"
_DROPPED_WITH_CONTENT = frozenset({"script", "style"})


class _DemoteH1(Treeprocessor):
    """The page title is the only h1: a `# Heading` in a body becomes an h2."""

    def run(self, root: Element) -> None:
        for element in root.iter("h1"):
            element.tag = "h2"


_converters = threading.local()  # one Markdown per thread (serve builds in another thread)


def _markdown() -> markdown.Markdown:
    """This thread's converter, reset: making one costs more than most conversions."""
    converter: markdown.Markdown | None = getattr(_converters, "body", None)
    if converter is None:
        converter = _converters.body = _new_markdown()
    return converter.reset()


def _new_markdown() -> markdown.Markdown:
    converter = markdown.Markdown(
        extensions=["tables", "sane_lists", "fenced_code"],
        # `align` attributes, not `style`: the site's CSP allows no inline style.
        extension_configs={"tables": {"use_align_attribute": True}},
        output_format="html",
    )
    converter.treeprocessors.register(_DemoteH1(converter), "balise-demote-h1", 0)
    return converter


def unsafe_html(body: str) -> str:
    """The body as Python-Markdown renders it, raw HTML included: never publish this."""
    return _markdown().convert(body)


def to_page(parts: SplitResult) -> SplitResult:
    """A link to a markdown source (`autre.md#x`), to its page (`autre.html#x`); any other
    link as it is. The one `.md` -> `.html` rewriter: for links on the site and in feeds.

    MkDocs does this for the markdown it renders; a body is rendered here, so it is done here.
    """
    if not parts.path.endswith(".md"):
        return parts
    folder, name = posixpath.split(parts.path)
    page = "index.html" if name in ("index.md", "README.md") else name[:-3] + ".html"
    return parts._replace(path=posixpath.join(folder, page))


def page_link(href: str) -> str:
    """A relative link to a markdown source (`autre.md#x`) points to its page (`autre.html#x`)."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path.endswith(".md"):
        return href
    return urlunsplit(to_page(parts))


def sanitize(html: str) -> str:
    """Keep only the allowed tags, attributes and link schemes; drop scripts with their text."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(_DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
        url_relative=page_link,
    )


def page_body_html(body: str) -> str:
    """A statement's body as safe HTML, as its page shows it (links relative to the page);
    the feeds, the JSON and the summary start from it."""
    return sanitize(unsafe_html(body))


def absolute_url(href: str, base_url: str) -> str:
    """A link written in a statement, as a reader outside the site must follow it.

    Relative links are resolved against the statement's permalink (where the site shows the
    body); a link to a `.md` source becomes its `.html` page, as MkDocs does on the site.
    """
    parts = urlsplit(href)
    if parts.scheme or parts.netloc:
        return href
    return urljoin(base_url, urlunsplit(to_page(parts)))


def with_absolute_links(html: str, base_url: str) -> str:
    """Sanitized body HTML with every relative link made absolute against `base_url`, by the
    sanitizer's parser (nh3), never by regex; the sanitizer's rules hold again."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        url_relative=lambda url: absolute_url(url, base_url),
    )


def feed_body_html(body: str, base_url: str) -> str:
    """A statement's body as the feeds carry it: the page's safe HTML, links absolute."""
    return with_absolute_links(page_body_html(body), base_url)


@dataclass(frozen=True)
class Removed:
    """Markup the sanitizer takes out of a body: what it is, and where it starts in the body."""

    what: str  # e.g. `<script>`, `onclick="…"`, `href="javascript:…"`
    offset: int  # index in the markdown body of the first occurrence (0 when not found)


# Inside a tag, before the attribute looked for: names and values, a quoted value skipped
# whole (it may hold ">"), never past the next "<" (so that a search stays linear).
_IN_TAG = r"""(?:[^<>"']|"[^<"]*"|'[^<']*')*?"""


def _tag(tag: str) -> str:
    return rf"<{re.escape(tag)}(?=[\s/>])"


def _attribute(tag: str, name: str) -> str:
    return rf"<{re.escape(tag)}\s{_IN_TAG}(?<![\w-])(?P<at>{re.escape(name)})(?=\s*=|[\s/>])"


class _Inspector(HTMLParser):
    """What the sanitizer removes from rendered HTML, with where the source writes each."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        # (description, patterns of the markdown source that write it, a fallback pattern)
        self.found: list[tuple[str, tuple[str, ...], str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            image = (r"!\[",) if tag == "img" else ()  # ![text](src)
            self.found.append((f"<{tag}>", (_tag(tag), *image), None))
            return
        allowed = ALLOWED_ATTRIBUTES.get(tag, set())
        for name, value in attrs:
            if name not in allowed:
                fence: tuple[str, ...] = ()  # ```python: Python-Markdown's class="language-…"
                if tag == "code" and name == "class" and (value or "").startswith("language-"):
                    language = re.escape((value or "").removeprefix("language-"))
                    fence = (rf"^[ \t]*(?:`{{3,}}|~{{3,}})[ \t]*\{{?\.?{language}(?![\w-])",)
                word = rf"(?<![\w-]){re.escape(name)}(?![\w-])"
                self.found.append((f'{name}="…" on <{tag}>', (_attribute(tag, name), *fence), word))
            elif name == "href" and value and not _safe_url(value):
                scheme = urlsplit(value.strip()).scheme or value.strip()[:20]
                link = re.escape(scheme) + ":"
                self.found.append(
                    (
                        f'a "{scheme}:" link',
                        (
                            rf"(?<![\w-])href\s*=\s*[\"']?\s*(?P<at>{link})",  # <a href=...>
                            rf"\]\(\s*<?\s*(?P<at>{link})",  # [text](scheme:...)
                            rf"<(?P<at>{link})",  # <scheme:...>
                        ),
                        link,
                    )
                )

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def _safe_url(url: str) -> bool:
    scheme = urlsplit(url.strip()).scheme.lower()
    return not scheme or scheme in URL_SCHEMES


def _where(body: str, patterns: tuple[str, ...], fallback: str | None) -> int:
    """Where the source first writes it: the first match of the precise patterns, else of the
    fallback (0 when none matches).

    A search of the markdown, not of the HTML: the HTML carries no source position, and a bare
    name ("background") would find the word anywhere, or the same attribute on another tag.
    """
    for tier in (patterns, (fallback,) if fallback else ()):
        starts = [
            match.start("at") if "at" in match.groupdict() else match.start()
            for pattern in tier
            if (match := re.search(pattern, body, re.IGNORECASE | re.MULTILINE))
        ]
        if starts:
            return min(starts)
    return 0


def removed_markup(body: str) -> tuple[Removed, ...]:
    """Each kind of markup `page_body_html` removes from this body, first occurrence first."""
    return removed_from(body, unsafe_html(body))


def removed_from(body: str, rendered: str) -> tuple[Removed, ...]:
    """`removed_markup(body)`, from the body's `rendered = unsafe_html(body)` (made once for
    the page too)."""
    inspector = _Inspector()
    inspector.feed(rendered)
    inspector.close()
    seen: dict[str, Removed] = {}
    for what, patterns, fallback in inspector.found:
        if what not in seen:
            seen[what] = Removed(what, _where(body, patterns, fallback))
    return tuple(sorted(seen.values(), key=lambda r: (r.offset, r.what)))


def body_text(body: str) -> str:
    """A statement's body as plain text (the JSON's): its page's HTML, read as lines."""
    return plain_text(page_body_html(body))


@dataclass(frozen=True)
class BodyRenderer:
    """How the outputs turn a statement's body into HTML and text: these pure functions by
    default; the build hands down the same ones memoized in its cache (prefetch.Renderings)."""

    page_html: Callable[[str], str] = page_body_html  # (body): links relative to the page
    feed_html: Callable[[str, str], str] = feed_body_html  # (body, permalink): links absolute
    plain_text: Callable[[str], str] = body_text  # (body)


PURE_RENDERER = BodyRenderer()  # each rendering computed when asked (tests, `check`)

"""What a built page or stylesheet would load from another host: the site's last line of defence.

Pure: text in, URLs out. The CSP already forbids other hosts, but GitHub or GitLab Pages cannot
send it, so whatever a theme override, a plugin or a setting adds is refused before publishing.
"""

from __future__ import annotations

import html
import re

from balise.urls import foreign_host

# Elements whose URL attributes the browser fetches as it renders the page.
_LOADING = re.compile(
    r"<(script|link|img|image|source|iframe|frame|video|audio|track|embed|object|input|use)\b"
    r"((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>",
    re.IGNORECASE,
)
_ATTRIBUTE = re.compile(
    r"""([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""", re.IGNORECASE
)
_URL_ATTRIBUTES = frozenset({"src", "href", "xlink:href", "data", "poster", "srcset"})
# A <link> fetches for these relations only (a canonical or alternate link is not loaded).
_LOADED_RELATIONS = frozenset(
    {
        "stylesheet",
        "icon",
        "shortcut",
        "apple-touch-icon",
        "mask-icon",
        "manifest",
        "preload",
        "modulepreload",
        "prefetch",
        "prerender",
        "preconnect",
        "dns-prefetch",
    }
)
# In CSS (a stylesheet, a <style> element, a style attribute): url(...) and @import "...".
_CSS_URL = re.compile(
    r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))\s*\)|@import\s+(?:"([^"]*)"|'([^']*)')""",
    re.IGNORECASE,
)
_STYLE_ELEMENT = re.compile(r"<style\b[^>]*>(.*?)</style", re.IGNORECASE | re.DOTALL)
_STYLE_ATTRIBUTE = re.compile(r"""\sstyle\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)


def _srcset_urls(value: str) -> list[str]:
    return [candidate.split()[0] for candidate in value.split(",") if candidate.split()]


def css_urls(css: str) -> list[str]:
    """Every URL a piece of CSS fetches (url(...) and @import)."""
    return [
        next(group for group in match.groups() if group is not None)
        for match in _CSS_URL.finditer(css)
    ]


def page_urls(page: str) -> list[str]:
    """Every URL an HTML page makes the browser fetch as it renders (elements and CSS)."""
    found: list[str] = []
    for element in _LOADING.finditer(page):
        tag = element.group(1).lower()
        attributes = {
            name.lower(): html.unescape(next((v for v in values if v), ""))
            for name, *values in _ATTRIBUTE.findall(element.group(2))
        }
        if tag == "link":
            relations = set(attributes.get("rel", "").lower().split())
            if not relations & _LOADED_RELATIONS:
                continue
        if tag == "input" and attributes.get("type", "").lower() != "image":
            continue
        for name, value in attributes.items():  # in the page's order, for stable messages
            if name in _URL_ATTRIBUTES:
                found.extend(_srcset_urls(value) if name == "srcset" else [value])
    for style in _STYLE_ELEMENT.findall(page):
        found.extend(css_urls(style))
    for match in _STYLE_ATTRIBUTE.finditer(page):
        found.extend(css_urls(html.unescape(match.group(1) or match.group(2) or "")))
    return found


def foreign_loads(text: str, own_host: str, *, css: bool = False) -> list[str]:
    """The URLs on other hosts that a page (or, with `css`, a stylesheet) would load."""
    urls = css_urls(text) if css else page_urls(text)
    return [url for url in urls if foreign_host(url, own_host) is not None]

"""Security headers for static hosts: `_headers` (Netlify, Cloudflare Pages) and an nginx snippet.

Pure: the built pages in, two files out. The CSP allows this site only, plus the theme's
inline scripts by their sha256 hash; it never allows 'unsafe-inline' or another host, nor an
inline script that the theme's own templates do not write (see ThemeScripts).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser

HEADERS_FILE = "_headers"
NGINX_FILE = "_nginx-headers.conf"

# A <script> with one of these types (or none) runs, so the CSP must allow its text.
_EXECUTABLE_TYPES = frozenset(
    {"", "text/javascript", "application/javascript", "module", "text/ecmascript"}
)

# Public data other sites may read from a browser (status widgets, newsroom dashboards).
SHARED_DATA = ("/status.json", "/api/*", "/feeds/*")


@dataclass
class InlineCode:
    """What a page runs or styles inline: script texts, event-handler and style attributes."""

    scripts: list[str] = field(default_factory=list)
    handlers: list[str] = field(default_factory=list)  # e.g. `onclick on <a>`
    styles: list[str] = field(default_factory=list)  # `<style>` elements and style="" attributes


class _Finder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.found = InlineCode()
        self._script: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        for name, _ in attrs:
            if name.startswith("on"):
                self.found.handlers.append(f"{name} on <{tag}>")
        if "style" in names:
            self.found.styles.append(f"style on <{tag}>")
        if tag == "style":
            self.found.styles.append("<style>")
        if tag == "script" and "src" not in names:
            kind = (names.get("type") or "").strip().lower()
            if kind in _EXECUTABLE_TYPES:
                self._script = []

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.found.scripts.append("".join(self._script))
            self._script = None


def inline_code(page: bytes | str) -> InlineCode:
    """The inline scripts, handlers and styles of one HTML page."""
    finder = _Finder()
    finder.feed(page.decode("utf-8") if isinstance(page, bytes) else page)
    finder.close()
    return finder.found


# A script element as a regular expression sees it; `inline_scripts` checks that this
# cannot differ from what a parser reads, and asks the parser when it might.
_SCRIPT_ELEMENT = re.compile(r"<script\b([^>]*)>(.*?)</script(?=[\s/>])", re.IGNORECASE | re.DOTALL)
_AMBIGUOUS = re.compile(r"<script|<!--", re.IGNORECASE)


def inline_scripts(page: bytes | str) -> list[str]:
    """`inline_code(page).scripts`, at a fraction of its cost on a big page.

    Every script element the parser finds is also found by the expression, whose extra
    matches (`<script` inside an attribute, a comment or a title) can only add scripts
    that never run. They cannot hide a real one: that would put its `<script` inside
    a match, as would a comment opened in a script; and a quote in a start tag could
    hold a `>`. In those cases, and only then, the whole page goes to the parser.
    """
    text = page.decode("utf-8") if isinstance(page, bytes) else page
    scripts: list[str] = []
    for match in _SCRIPT_ELEMENT.finditer(text):
        attributes, content = match.group(1), match.group(2)
        if (
            _AMBIGUOUS.search(content)
            or "<" in attributes
            or ((attributes.count('"') % 2) or (attributes.count("'") % 2))
        ):
            return inline_code(text).scripts
        element = f"<script{attributes}>{content}</script>"
        scripts += inline_code(element).scripts  # its type and src, as a parser reads them
    return scripts


# What a template value may put in a theme script: it must fill a JS string literal ("…")
# and hold no character that could end that string or the script element.
_STRING_FILLING = r'[^"\\<>\x00-\x20\x7f]*'
_TEMPLATE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_TEMPLATE_VALUE = re.compile(r"\{\{.*?\}\}", re.DOTALL)


@dataclass(frozen=True)
class ThemeScripts:
    """The inline scripts a theme's templates write, as patterns: only these get a hash.

    A script injected through configuration or content (mkdocs.yml, a page) is never one of
    them, so the CSP never allows it, whatever its text.
    """

    patterns: tuple[re.Pattern[str], ...] = ()

    def allows(self, script: str) -> bool:
        return any(pattern.fullmatch(script) for pattern in self.patterns)


def theme_scripts(templates: Iterable[str]) -> ThemeScripts:
    """The ThemeScripts of these template texts: each `<script>` element they hold, its
    `{{ value }}`s free to be any text that stays within their JS string literal.

    A script whose values do not each fill a whole string literal, or that holds template
    logic (`{% %}`), is left out: a page that writes it then fails the browser tests."""
    patterns = []
    for template in templates:
        for script in _TEMPLATE_SCRIPT.findall(template):
            parts = _TEMPLATE_VALUE.split(script)
            if "{%" in script or "{#" in script:
                continue
            if not all(a.endswith('"') and b.startswith('"') for a, b in itertools.pairwise(parts)):
                continue
            patterns.append(re.compile(_STRING_FILLING.join(re.escape(p) for p in parts)))
    return ThemeScripts(tuple(patterns))


def script_hash(script: str) -> str:
    """The CSP source that allows exactly this inline script: 'sha256-…'."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def content_security_policy(script_hashes: Iterable[str]) -> str:
    """The site's CSP: same origin only; inline scripts only by hash; no inline style."""
    scripts = " ".join(["'self'", *sorted(set(script_hashes))])
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self'",
            # The theme's CSS draws its icons from data: URIs (mask-image).
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "worker-src 'self'",
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def security_headers(csp: str) -> list[tuple[str, str]]:
    """Every header the site should be served with, in order."""
    return [
        ("Content-Security-Policy", csp),
        ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
    ]


def script_sources(page: bytes | str, theme: ThemeScripts) -> list[str]:
    """The CSP sources that allow the page's inline scripts that the theme wrote (others,
    whatever put them there, get none: the browser refuses to run them)."""
    return [script_hash(s) for s in inline_scripts(page) if theme.allows(s)]


def render_headers(
    pages: Iterable[bytes | str], theme: ThemeScripts, also: Iterable[str] = ()
) -> dict[str, bytes]:
    """`_headers` and the nginx snippet, with the hashes of the theme's inline scripts in the
    pages (and `also`: the CSP sources of pages already read, e.g. by the build's plugin)."""
    hashes = {source for page in pages for source in script_sources(page, theme)} | set(also)
    headers = security_headers(content_security_policy(hashes))
    netlify = ["# Balise: security headers (generated at build time; do not edit)", "/*"]
    netlify += [f"  {name}: {value}" for name, value in headers]
    for path in SHARED_DATA:
        netlify += [path, "  Access-Control-Allow-Origin: *"]
    nginx = [
        "# Balise: security headers, generated at build time with the hashes of the theme's",
        "# inline scripts. Include it in the server block that serves the site, e.g.",
        "#   include /srv/statut/public/_nginx-headers.conf;",
        "# then `nginx -s reload` whenever Balise or mkdocs-material is upgraded.",
        *(f'add_header {name} "{value}" always;' for name, value in headers),
    ]
    return {
        HEADERS_FILE: ("\n".join(netlify) + "\n").encode(),
        NGINX_FILE: ("\n".join(nginx) + "\n").encode(),
    }


def parse_headers_file(text: str) -> dict[str, dict[str, str]]:
    """A `_headers` file as {path pattern: {header: value}} (for tests and `deploy` checks)."""
    rules: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            current = rules.setdefault(line.strip(), {})
        elif current is not None:
            name, _, value = line.strip().partition(":")
            current[name.strip()] = value.strip()
    return rules

"""Response headers for static hosts: `_headers` (Netlify, Cloudflare Pages), an nginx snippet,
and the one freshness policy (`cache_control`) that they and the object-storage target share.

Pure: the built pages and paths in, two files out. The CSP allows this site only, plus the
theme's inline scripts by their sha256 hash; it never allows 'unsafe-inline' or another host,
nor an inline script that the theme's own templates do not write (see ThemeScripts).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from html.parser import HTMLParser

HEADERS_FILE = "_headers"
NGINX_FILE = "_nginx-headers.conf"

# A <script> with one of these types (or none) runs, so the CSP must allow its text.
_EXECUTABLE_TYPES = frozenset(
    {"", "text/javascript", "application/javascript", "module", "text/ecmascript"}
)

# Public data other sites may read from a browser (status widgets, newsroom dashboards).
SHARED_DATA = ("/status.json", "/api/*", "/feeds/*")


# --- freshness: one Cache-Control per kind of file ------------------------------------------


class Freshness(Enum):
    """How long a cache (a browser, a CDN, a proxy) may serve a file without asking again."""

    # Pages, status.json, the feeds, the API, badges, the search index: what a statement
    # changes. A cache serves its copy for 60 s, then revalidates it (ETag / Last-Modified,
    # a 304 when unchanged); the Age header counts the time spent in caches upstream, so a
    # deploy reaches every reader within a minute. Only when the origin is down or answers
    # an error may a cache keep serving its last copy (a day): the crowd still reads a
    # status page, the last one published, rather than an error.
    CURRENT = "public, max-age=60, stale-if-error=86400"
    # The theme's and Balise's files whose name does not change with their content
    # (balise.css, the favicon, lunr's language files): they change only when Balise or
    # mkdocs-material is upgraded, and an hour of the old file after that is cosmetic.
    STATIC = "public, max-age=3600"
    # Material's fingerprinted bundles (`bundle.HASH.min.js`, `main.HASH.min.css`…): a new
    # content is a new name, so a copy is never stale.
    FINGERPRINTED = "public, max-age=31536000, immutable"


# mkdocs-material names its bundles NAME.HASH.min.js|css (HASH: 8 hex digits), with their
# source maps; nothing else it or Balise writes carries its content in its name. Written so
# that Python and nginx (PCRE) read it alike.
FINGERPRINTED_PATH = (
    r"assets/(?:javascripts|stylesheets)/(?:[^/]+/)*[^/.]+\.[0-9a-f]{8}\.min\.(?:js|css)(?:\.map)?"
)
_FINGERPRINTED = re.compile(FINGERPRINTED_PATH)
STATIC_FOLDER = "assets/"


def freshness(path: str) -> Freshness:
    """The freshness of a built file, by its path relative to the site (`index.html`)."""
    if _FINGERPRINTED.fullmatch(path):
        return Freshness.FINGERPRINTED
    if path.startswith(STATIC_FOLDER):
        return Freshness.STATIC
    return Freshness.CURRENT


def cache_control(path: str) -> str:
    """The `Cache-Control` value a built file is served with, on every host Balise configures."""
    return freshness(path).value


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
        scripts += _element_scripts(f"<script{attributes}>{content}</script>")
    return scripts


@functools.lru_cache(maxsize=512)
def _element_scripts(element: str) -> tuple[str, ...]:
    """One script element's inline scripts, its type and src read as a parser reads them.
    Pages share their theme's few scripts: each is parsed once per build, not once a page."""
    return tuple(inline_code(element).scripts)


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


def freshness_rules(paths: Iterable[str]) -> list[tuple[str, Freshness]]:
    """`_headers` rules giving each of these built files its freshness, none overlapping.

    Netlify and Cloudflare Pages disagree on a header that two matching rules set (one keeps
    the more specific, the other joins both values), so no path matches two of these rules:
    a folder whose files all share one freshness is one rule (`/feeds/*`); otherwise its
    files are listed one by one and its sub-folders looked at in turn. The root's own files
    (the pages at the top) are always listed one by one, `index.html` also as `/`.
    """
    rules: list[tuple[str, Freshness]] = []

    def visit(folder: str, under: list[str]) -> None:
        kinds = {freshness(path) for path in under}
        if folder and len(kinds) == 1:
            rules.append((f"/{folder}/*", kinds.pop()))
            return
        prefix = f"{folder}/" if folder else ""
        folders: dict[str, list[str]] = {}
        for path in under:
            head, slash, _ = path.removeprefix(prefix).partition("/")
            if slash:
                folders.setdefault(prefix + head, []).append(path)
                continue
            if path == "index.html":
                rules.append(("/", freshness(path)))
            rules.append((f"/{path}", freshness(path)))
        for sub in sorted(folders):
            visit(sub, folders[sub])

    visit("", sorted(set(paths)))
    return rules


@dataclass(frozen=True)
class _Location:
    """One `location` of the nginx snippet: which files, how fresh, shared or not."""

    match: str
    freshness: Freshness
    shared: bool = False  # Access-Control-Allow-Origin: *
    types: tuple[tuple[str, str], ...] = ()  # replaces nginx's mime.types in this location


_FEED_TYPES = (
    ("application/atom+xml", "atom"),
    ("application/rss+xml", "rss"),
    ("text/calendar", "ics"),  # not in Debian's mime.types
    ("application/xml", "xml"),
)
# The same choice as `freshness`, as nginx picks a location: `=` first, then the regex,
# then the longest prefix.
NGINX_LOCATIONS = (
    _Location("/", Freshness.CURRENT),
    _Location(f"/{STATIC_FOLDER}", Freshness.STATIC),
    _Location(f'~ "^/{FINGERPRINTED_PATH}$"', Freshness.FINGERPRINTED),
    _Location("= /status.json", Freshness.CURRENT, shared=True),
    _Location("/api/", Freshness.CURRENT, shared=True),
    _Location("/feeds/", Freshness.CURRENT, shared=True, types=_FEED_TYPES),
)
# Text types nginx labels `; charset=utf-8`, as the object-storage target does.
_CHARSET_TYPES = (
    "text/css text/plain text/xml text/calendar application/javascript application/json "
    "application/xml application/atom+xml application/rss+xml image/svg+xml"
)


def _nginx_location(location: _Location, headers: list[tuple[str, str]]) -> list[str]:
    # nginx drops every add_header of the server block in a location that has its own, so
    # each location repeats them all: a CORS header must never cost the security headers.
    lines = [f"location {location.match} {{"]
    if location.types:
        lines += ["    types {", *(f"        {t} {ext};" for t, ext in location.types), "    }"]
    lines += ["    charset utf-8;", f"    charset_types {_CHARSET_TYPES};"]
    lines.append(f'    add_header Cache-Control "{location.freshness.value}" always;')
    lines += [f'    add_header {name} "{value}" always;' for name, value in headers]
    if location.shared:
        lines.append('    add_header Access-Control-Allow-Origin "*" always;')
    return [*lines, "}"]


def render_headers(
    pages: Iterable[bytes | str],
    theme: ThemeScripts,
    also: Iterable[str] = (),
    paths: Iterable[str] = (),
) -> dict[str, bytes]:
    """`_headers` and the nginx snippet, with the hashes of the theme's inline scripts in the
    pages (and `also`: the CSP sources of pages already read, e.g. by the build's plugin),
    and the `Cache-Control` of each of the built files `paths` (relative to the site)."""
    hashes = {source for page in pages for source in script_sources(page, theme)} | set(also)
    headers = security_headers(content_security_policy(hashes))
    paths = {*paths, HEADERS_FILE, NGINX_FILE} if paths else set()
    blocks: dict[str, list[tuple[str, str]]] = {"/*": headers}
    for path in SHARED_DATA:
        blocks[path] = [("Access-Control-Allow-Origin", "*")]
    for pattern, fresh in freshness_rules(paths):
        blocks.setdefault(pattern, []).append(("Cache-Control", fresh.value))
    netlify = [
        "# Balise: security headers on every path, then how long caches may serve each file",
        "# (generated at build time; do not edit)",
    ]
    for pattern, values in blocks.items():
        netlify += [pattern, *(f"  {name}: {value}" for name, value in values)]
    nginx = [
        "# Balise: security and cache headers, generated at build time with the hashes of the",
        "# theme's inline scripts. Include it in the server block that serves the site (its",
        "# root), which must not have locations of its own for these paths, e.g.",
        "#   include /srv/statut/public/_nginx-headers.conf;",
        "# then `nginx -s reload` whenever Balise or mkdocs-material is upgraded.",
    ]
    for location in NGINX_LOCATIONS:
        nginx += _nginx_location(location, headers)
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

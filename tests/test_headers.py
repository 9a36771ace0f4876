"""Security headers: the emitted CSP allows every inline script of every built page, and no
other host; `_headers` and the nginx snippet carry the same headers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import DATA, ROOT, TINY_NOW
from hypothesis import given
from hypothesis import strategies as st

from balise.build import build
from balise.render.headers import (
    HEADERS_FILE,
    NGINX_FILE,
    cache_control,
    freshness_rules,
    inline_code,
    inline_scripts,
    parse_headers_file,
    render_headers,
    script_hash,
    theme_scripts,
)
from balise.render.mkdocs_site import material_scripts

REQUIRED = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


@pytest.fixture(scope="module", params=["tiny", "demo"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = DATA / "tiny" if request.param == "tiny" else ROOT
    if not (source / "statements").is_dir():
        pytest.skip(f"{source} has no statements yet")
    out = tmp_path_factory.mktemp(f"headers-{request.param}") / "site"
    outcome = build(source, out, TINY_NOW)
    assert outcome.ok, outcome.errors
    return out


def csp_of(site: Path) -> dict[str, list[str]]:
    rules = parse_headers_file((site / HEADERS_FILE).read_text())
    policy = rules["/*"]["Content-Security-Policy"]
    directives = {}
    for directive in policy.split(";"):
        name, *sources = directive.split()
        directives[name] = sources
    return directives


def allowed(csp: dict[str, list[str]], script: str) -> bool:
    """Would a browser run this inline script under this CSP?"""
    sources = csp.get("script-src", csp.get("default-src", []))
    return "'unsafe-inline'" in sources or script_hash(script) in sources


def test_every_inline_script_of_every_page_is_allowed_by_the_csp(site: Path) -> None:
    csp = csp_of(site)
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 5
    seen = 0
    for page in pages:
        found = inline_code(page.read_bytes())
        for script in found.scripts:
            seen += 1
            assert allowed(csp, script), (page, script[:80])
        assert found.handlers == [], page  # onclick="" needs 'unsafe-hashes': none allowed
        assert found.styles == [], page  # style-src 'self': no inline style may be needed
    assert seen >= len(pages)  # Material inlines scripts in every page: they were checked


def test_the_csp_allows_no_other_host_and_nothing_unsafe(site: Path) -> None:
    csp = csp_of(site)
    assert csp["default-src"] == ["'self'"]
    for name, sources in csp.items():
        for source in sources:
            assert source in ("'self'", "'none'", "data:") or source.startswith("'sha256-"), (
                name,
                source,
            )
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["style-src"] == ["'self'"]


def test_no_script_or_style_is_loaded_from_another_host(site: Path) -> None:
    for page in sorted(site.rglob("*.html")):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for element in soup.select("script[src], link[rel=stylesheet]"):
            url = element.get("src") or element.get("href")
            assert not re.match(r"(https?:)?//", url), (page, url)


def nginx_locations(snippet: str) -> dict[str, dict[str, str]]:
    """The generated nginx snippet as {location argument: {header: value}}."""
    found: dict[str, dict[str, str]] = {}
    for match, body in re.findall(r"^location (.+?) \{\n(.*?)^\}", snippet, re.M | re.S):
        found[match] = dict(re.findall(r'add_header (\S+) "(.*)" always;', body))
    return found


def test_headers_file_and_nginx_snippet_carry_the_same_headers(site: Path) -> None:
    rules = parse_headers_file((site / HEADERS_FILE).read_text())
    everywhere = rules["/*"]
    for name, value in REQUIRED.items():
        assert everywhere[name] == value
    assert "Cache-Control" not in everywhere  # one rule per file kind, see below
    for data in ("/status.json", "/api/*", "/feeds/*"):
        assert rules[data]["Access-Control-Allow-Origin"] == "*"
    locations = nginx_locations((site / NGINX_FILE).read_text())
    assert len(locations) == 6
    for match, headers in locations.items():
        # nginx drops the server's add_header in a location that sets one: each repeats all.
        assert {k: v for k, v in headers.items() if k in everywhere} == everywhere, match
        shared = match in ("= /status.json", "/api/", "/feeds/")
        assert ("Access-Control-Allow-Origin" in headers) == shared, match


def pattern_matches(pattern: str, path: str) -> bool:
    """Does a `_headers` path pattern match this site path (a splat matches anything)?"""
    url = "/" if path == "index.html" and pattern == "/" else f"/{path}"
    return re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), url) is not None


def test_every_built_file_matches_exactly_one_cache_control_rule(site: Path) -> None:
    rules = parse_headers_file((site / HEADERS_FILE).read_text())
    freshness_rules = {p: h["Cache-Control"] for p, h in rules.items() if "Cache-Control" in h}
    files = [f.relative_to(site).as_posix() for f in site.rglob("*") if f.is_file()]
    for path in files:
        matching = [p for p in freshness_rules if pattern_matches(p, path) and p != "/"]
        # Netlify and Cloudflare differ when two rules set one header: never let them.
        assert len(matching) == 1, (path, matching)
        assert freshness_rules[matching[0]] == cache_control(path), path
    assert freshness_rules["/"] == cache_control("index.html")
    assert len(rules) < 100  # Cloudflare Pages reads at most 100 rules


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("index.html", "public, max-age=60, stale-if-error=86400"),
        ("communiques/2024-10-08-cyberattaque.html", "public, max-age=60, stale-if-error=86400"),
        ("status.json", "public, max-age=60, stale-if-error=86400"),
        ("api/v2/summary.json", "public, max-age=60, stale-if-error=86400"),
        ("feeds/all.atom", "public, max-age=60, stale-if-error=86400"),
        ("feeds/archives/all-1.rss", "public, max-age=60, stale-if-error=86400"),
        ("badges/la-sagesse.svg", "public, max-age=60, stale-if-error=86400"),
        ("assets/javascripts/bundle.a5f9d56c.min.js", "public, max-age=31536000, immutable"),
        ("assets/javascripts/bundle.a5f9d56c.min.js.map", "public, max-age=31536000, immutable"),
        (
            "assets/javascripts/workers/search.a7633da7.min.js",
            "public, max-age=31536000, immutable",
        ),
        ("assets/stylesheets/main.57a0d79d.min.css", "public, max-age=31536000, immutable"),
        ("assets/stylesheets/palette.fb2fffe2.min.css", "public, max-age=31536000, immutable"),
        ("assets/javascripts/lunr/min/lunr.fr.min.js", "public, max-age=3600"),
        ("assets/javascripts/lunr/tinyseg.js", "public, max-age=3600"),
        ("assets/balise.css", "public, max-age=3600"),
        ("assets/images/favicon.png", "public, max-age=3600"),
        ("assets/stylesheets/main.min.css", "public, max-age=3600"),  # no hash in its name
        ("communiques/bundle.a5f9d56c.min.js", "public, max-age=60, stale-if-error=86400"),
    ],
)
def test_cache_control_by_kind_of_file(path: str, expected: str) -> None:
    assert cache_control(path) == expected


@given(st.lists(st.from_regex(r"[a-z]{1,3}(/[a-z]{1,3}){0,3}(\.html|\.js)?", fullmatch=True)))
def test_freshness_rules_never_overlap(paths: list[str]) -> None:
    rules = freshness_rules(paths)
    for path in set(paths):
        matching = [p for p, _ in rules if pattern_matches(p, path) and p != "/"]
        assert len(matching) == 1, (path, rules)


def test_a_script_outside_the_csp_would_be_caught() -> None:
    theme = theme_scripts(["<script>var a=1</script>"])
    pages = [b"<html><head><script>var a=1</script></head></html>"]
    files = render_headers(pages, theme)
    policy = parse_headers_file(files[HEADERS_FILE].decode())["/*"]["Content-Security-Policy"]
    assert script_hash("var a=1") in policy
    assert script_hash("var a=2") not in policy


def test_only_scripts_the_theme_s_templates_write_are_hashed() -> None:
    theme = theme_scripts(
        ['{# a partial #}\n<script>scope=new URL("{{ base_url }}",location)</script>']
    )
    pages = [
        '<script>scope=new URL("../..",location)</script>',
        '<script>scope=new URL("/status/",location)</script>',
        "<script>alert(1)</script>",  # e.g. from a site_name or a page template
        '<script>scope=new URL("",alert(1),"",location)</script>',  # breaks out of the string
        '<script>scope=new URL("x\\",location)</script>',
    ]
    files = render_headers(pages, theme)
    policy = parse_headers_file(files[HEADERS_FILE].decode())["/*"]["Content-Security-Policy"]
    script_src = next(d.split()[1:] for d in policy.split(";") if d.split()[0] == "script-src")
    allowed = {source for source in script_src if source.startswith("'sha256-")}
    assert allowed == {
        script_hash('scope=new URL("../..",location)'),
        script_hash('scope=new URL("/status/",location)'),
    }


def test_a_template_value_outside_a_string_literal_allows_no_script() -> None:
    theme = theme_scripts(
        ["<script>var n={{ count }};</script>", "<script>{% if x %}a(){% endif %}</script>"]
    )
    assert theme.patterns == ()
    assert not theme.allows("var n=1;")


def test_the_csp_lists_only_hashes_of_material_s_own_scripts(site: Path) -> None:
    theme = material_scripts()
    written = set()
    for page in sorted(site.rglob("*.html")):
        written |= {
            script_hash(s) for s in inline_code(page.read_bytes()).scripts if theme.allows(s)
        }
    listed = {s for s in csp_of(site)["script-src"] if s.startswith("'sha256-")}
    assert listed == written and listed


def test_a_script_injected_by_a_page_template_is_never_allowed(tiny: Path, tmp_path: Path) -> None:
    notice = tiny / "templates/pages/notice.html"
    notice.parent.mkdir(parents=True)
    notice.write_text("<p>Avis</p>\n<script>alert(document.domain)</script>\n")
    out = tmp_path / "site"
    assert build(tiny, out, TINY_NOW).ok
    assert "<script>alert(document.domain)</script>" in (out / "index.html").read_text()
    csp = csp_of(out)
    assert script_hash("alert(document.domain)") not in csp["script-src"]
    assert len([s for s in csp["script-src"] if s.startswith("'sha256-")]) >= 2  # the theme's


def test_inline_code_finds_executable_scripts_only() -> None:
    page = (
        '<script>one()</script><script type="module">two()</script>'
        '<script type="application/json">{"not": "run"}</script>'
        '<script src="x.js"></script><a onclick="x()" style="color:red">a</a><style>p{}</style>'
    )
    found = inline_code(page)
    assert found.scripts == ["one()", "two()"]
    assert found.handlers == ["onclick on <a>"]
    assert found.styles == ["style on <a>", "<style>"]


def test_script_hash_is_the_csp_sha256_of_the_text() -> None:
    assert script_hash("") == "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"


def test_the_fast_script_scan_reads_every_built_page_as_the_parser_does(site: Path) -> None:
    for page in sorted(site.rglob("*.html")):
        text = page.read_text("utf-8")
        assert inline_scripts(text) == inline_code(text).scripts, page


# Pieces of markup that could mislead a scan by regular expression: scripts in attributes,
# comments and titles, `>` in quoted attributes, comments and nested `<script` in scripts.
_PIECES = [
    "<script>a()</script>",
    "<SCRIPT>b()</SCRIPT >",
    '<script type="module">c()</script>',
    '<script type="application/json">{"d": 1}</script>',
    '<script src="e.js"></script>',
    '<script data-x="a>b">f()</script>',
    "<script data-x='<script>'>g()</script>",
    '<a title="<script>">h</a>',
    "<!-- <script>i()</script> -->",
    "<!--",
    "-->",
    "<script>if (a <!-- b) j()</script>",
    "<script>var s = '<script>';</script>",
    "<title><script>k()</script></title>",
    "<p>text &lt;script&gt;</p>",
    "</script>",
    "<script>",
    "\n",
]


@given(st.lists(st.sampled_from(_PIECES), max_size=8))
def test_the_fast_script_scan_never_misses_a_script_the_parser_finds(pieces: list[str]) -> None:
    page = "".join(pieces)
    fast, parsed = inline_scripts(page), inline_code(page).scripts
    # Extra scripts (never run) may only widen the CSP; a missed one would break the page.
    assert set(parsed) <= set(fast)
    if "<!--" not in page and "title" not in page and "<a " not in page:
        assert fast == parsed

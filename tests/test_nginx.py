"""The nginx configuration Balise writes, proven by Debian's nginx: `_nginx-headers.conf`
included in a server block as the README says passes `nginx -t`, and every file of the demo
comes back over loopback with the security headers, its Cache-Control, and CORS on the data.

Skipped when nginx is not installed, unless BALISE_REQUIRE_BROWSER=1 (CI installs it): then
it fails.
"""

from __future__ import annotations

import gzip
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, TINY_NOW

from balise.build import build
from balise.render.headers import HEADERS_FILE, cache_control, parse_headers_file

sys.path.insert(0, str(ROOT / "bench"))
import nginx  # the same server block as the load benchmark

CORS = "Access-Control-Allow-Origin"
SHARED = ("status.json", "api/", "feeds/")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if nginx.NGINX is None:
        reason = "nginx is not installed (apt-get install nginx)"
        if os.environ.get("BALISE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"BALISE_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("nginx-demo") / "site"
    outcome = build(ROOT, out, TINY_NOW)
    assert outcome.ok, outcome.errors
    return out


@pytest.fixture(scope="module")
def url(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with nginx.serving(site, tmp_path_factory.mktemp("nginx")) as base:
        yield base


def fetch(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


def test_nginx_accepts_the_configuration(site: Path, tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx.config(site, tmp_path, nginx.free_port()), encoding="utf-8")
    said = nginx.check(conf, tmp_path)
    assert "syntax is ok" in said and "test is successful" in said


def test_every_file_has_the_security_headers_and_its_cache_control(url: str, site: Path) -> None:
    security = parse_headers_file((site / HEADERS_FILE).read_text())["/*"]
    files = sorted(f.relative_to(site).as_posix() for f in site.rglob("*") if f.is_file())
    assert len(files) > 100
    for path in files:
        status, headers, body = fetch(f"{url}/{path}")
        assert status == 200, path
        assert body == (site / path).read_bytes(), path
        for name, value in security.items():
            assert headers.get(name) == value, (path, name)
        assert headers["Cache-Control"] == cache_control(path), path
        assert (headers.get(CORS) == "*") == path.startswith(SHARED), path


@pytest.mark.parametrize(
    ("path", "content_type", "fresh"),
    [
        ("", "text/html; charset=utf-8", "public, max-age=60, stale-if-error=86400"),
        ("index.html", "text/html; charset=utf-8", "public, max-age=60, stale-if-error=86400"),
        ("status.json", "application/json; charset=utf-8", "public, max-age=60"),
        ("api/v2/summary.json", "application/json; charset=utf-8", "public, max-age=60"),
        ("feeds/all.atom", "application/atom+xml; charset=utf-8", "public, max-age=60"),
        ("feeds/all.rss", "application/rss+xml; charset=utf-8", "public, max-age=60"),
        ("feeds/maintenance.ics", "text/calendar; charset=utf-8", "public, max-age=60"),
        ("assets/balise.css", "text/css; charset=utf-8", "public, max-age=3600"),
    ],
)
def test_a_page_an_asset_status_json_and_a_feed(
    url: str, path: str, content_type: str, fresh: str
) -> None:
    status, headers, _ = fetch(f"{url}/{path}")
    assert status == 200
    assert headers["Content-Type"] == content_type
    assert headers["Cache-Control"].startswith(fresh)
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in headers["Content-Security-Policy"]


def test_a_fingerprinted_bundle_is_immutable_with_the_security_headers(
    url: str, site: Path
) -> None:
    bundle = next(site.glob("assets/javascripts/bundle.*.min.js")).relative_to(site)
    status, headers, _ = fetch(f"{url}/{bundle.as_posix()}")
    assert status == 200
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert headers["X-Frame-Options"] == "DENY"
    assert CORS not in headers


def test_the_api_location_keeps_the_security_headers_beside_cors(url: str) -> None:
    status, headers, _ = fetch(f"{url}/api/v2/status.json")
    assert status == 200
    assert headers[CORS] == "*"
    for name in ("Content-Security-Policy", "Strict-Transport-Security", "X-Frame-Options"):
        assert name in headers, name


def test_a_missing_page_gets_the_404_page_with_the_headers(url: str) -> None:
    status, headers, body = fetch(f"{url}/communiques/nope.html")
    assert status == 404
    assert b"<html" in body
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == cache_control("communiques/nope.html")


def test_revalidation_answers_304_for_an_unchanged_page(url: str) -> None:
    _, first, _ = fetch(f"{url}/index.html")
    status, again, body = fetch(f"{url}/index.html", **{"If-None-Match": first["ETag"]})
    assert status == 304 and body == b""
    assert again["Cache-Control"] == cache_control("index.html")
    status, _, _ = fetch(f"{url}/index.html", **{"If-Modified-Since": first["Last-Modified"]})
    assert status == 304


def test_with_gzip_on_a_page_is_compressed_and_keeps_its_headers(
    site: Path, tmp_path: Path
) -> None:
    with nginx.serving(site, tmp_path, gzip=True) as base:
        status, headers, body = fetch(f"{base}/index.html", **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == (site / "index.html").read_bytes()
    assert headers["Cache-Control"] == cache_control("index.html")

"""Browser fixtures: the demo built once at a fixed NOW, served on 127.0.0.1, and Chromium.

Chromium is Debian's (/usr/bin/chromium), never a downloaded browser; axe-core comes from
the npm package (node_modules). Without them the browser tests are skipped, unless
BALISE_REQUIRE_BROWSER=1 (CI), where a missing piece is a failure.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from balise.build import build

ROOT = Path(__file__).resolve().parent.parent.parent
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
DEMO_NOW = datetime.fromisoformat("2024-10-10T12:00:00+02:00")  # in the middle of the crisis
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} is missing: apt-get install chromium"
    if not AXE.is_file():
        return f"{AXE.relative_to(ROOT)} is missing: run npm ci at the project root"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing: pip install -e '.[test]'"
    return None


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("BALISE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"BALISE_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="package")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo repository built once, at DEMO_NOW."""
    out = tmp_path_factory.mktemp("browser-demo") / "site"
    outcome = build(ROOT, out, DEMO_NOW)
    assert outcome.ok, outcome.errors
    return out


@pytest.fixture(scope="package")
def base_url(demo_site: Path) -> Iterator[str]:
    """The demo site over HTTP on 127.0.0.1 and a free port, in a thread."""
    handler = functools.partial(_QuietHandler, directory=str(demo_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    """Debian's Chromium, headless, under Playwright."""
    reason = _missing()
    if reason:
        _skip_or_fail(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="package")
def artifacts() -> Path:
    """test-artifacts/ at the project root (git-ignored): screenshots and PDFs to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


class Visit:
    """A browser context on the demo that refuses, and records, every request to another
    origin; `pages` opens pages in it."""

    def __init__(self, browser: object, base_url: str, **options: object) -> None:
        self.base_url = base_url
        self.foreign: list[str] = []
        self.local: list[str] = []
        self.context = browser.new_context(
            viewport=PHONE, locale="fr-FR", timezone_id="Europe/Paris", **options
        )
        self.context.set_default_timeout(15_000)
        self.context.route("**/*", self._route)
        self.context.on("request", self._seen)

    def _seen(self, request: object) -> None:
        (self.local if self._is_local(request.url) else self.foreign).append(request.url)

    def _is_local(self, url: str) -> bool:
        return url.startswith(self.base_url) or url.startswith(("data:", "blob:", "about:"))

    def _route(self, route: object) -> None:
        if self._is_local(route.request.url):
            route.continue_()
        else:
            route.abort()

    def open(self, path: str, wait_until: str = "load") -> object:
        """A new page on `path`; wait_until="networkidle" also waits for what scripts fetch."""
        page = self.context.new_page()
        page.goto(self.base_url + path, wait_until=wait_until)
        return page

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser: object, base_url: str) -> Iterator[object]:
    """`visit(**context_options)` -> a Visit; every one is closed after the test."""
    opened: list[Visit] = []

    def make(**options: object) -> Visit:
        opened.append(Visit(browser, base_url, **options))
        return opened[-1]

    yield make
    for v in opened:
        v.close()

"""The demo served with the security headers Balise emits (`_headers`): Chromium reports no
Content-Security-Policy violation, the theme's inline scripts run, and search still works."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from balise.render.headers import HEADERS_FILE, parse_headers_file

from .conftest import PHONE


class _WithHeaders(http.server.SimpleHTTPRequestHandler):
    headers_for_all: ClassVar[dict[str, str]] = {}

    def end_headers(self) -> None:
        for name, value in self.headers_for_all.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def strict_url(demo_site: Path) -> Iterator[str]:
    """The demo over HTTP with every header `_headers` sets for `/*`."""
    rules = parse_headers_file((demo_site / HEADERS_FILE).read_text())
    handler_class = type("Handler", (_WithHeaders,), {"headers_for_all": rules["/*"]})
    handler = functools.partial(handler_class, directory=str(demo_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def strict_page(browser: object, strict_url: str) -> Iterator[tuple[object, list[str]]]:
    context = browser.new_context(viewport=PHONE, locale="fr-FR")
    context.set_default_timeout(15_000)
    messages: list[str] = []
    page = context.new_page()
    page.on("console", lambda message: messages.append(message.text))
    page.on("pageerror", lambda error: messages.append(f"page error: {error}"))
    try:
        yield page, messages
    finally:
        context.close()


def violations(messages: list[str]) -> list[str]:
    return [m for m in messages if "Content Security Policy" in m or "page error" in m]


@pytest.mark.parametrize(
    "path", ["index.html", "presse.html", "historique.html", "404.html", "suivre.html"]
)
def test_pages_run_under_the_emitted_csp_without_a_violation(
    strict_page: tuple[object, list[str]], strict_url: str, demo_site: Path, path: str
) -> None:
    if not (demo_site / path).exists():
        pytest.skip(f"{path} is not built")
    page, messages = strict_page
    response = page.goto(strict_url + path, wait_until="networkidle")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    # The theme's inline head script ran: it defines the storage scope Material relies on.
    assert page.evaluate("typeof __md_scope") == "object"
    assert violations(messages) == []


def test_statement_and_establishment_pages_run_under_the_csp(
    strict_page: tuple[object, list[str]], strict_url: str, demo_site: Path
) -> None:
    page, messages = strict_page
    for folder in ("communiques", "etablissements", "incidents"):
        first = sorted((demo_site / folder).glob("*.html"))[0]
        page.goto(strict_url + f"{folder}/{first.name}", wait_until="networkidle")
        assert page.evaluate("typeof __md_scope") == "object"
    assert violations(messages) == []


def test_search_works_under_the_csp(strict_page: tuple[object, list[str]], strict_url: str) -> None:
    page, messages = strict_page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(strict_url + "index.html", wait_until="networkidle")
    search = page.locator("input.md-search__input")
    search.click()
    search.press_sequentially("Sagesse")  # Material reads key events, not a filled value
    results = page.locator(".md-search-result__item")
    results.first.wait_for(state="visible")
    assert results.count() > 0
    assert violations(messages) == []


def test_search_finds_a_statement_by_a_word_of_its_body(
    strict_page: tuple[object, list[str]], strict_url: str
) -> None:
    page, messages = strict_page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(strict_url + "index.html", wait_until="networkidle")
    search = page.locator("input.md-search__input")
    search.click()
    search.press_sequentially("mutuelle")  # only in the body of the patients' instructions
    result = page.locator(".md-search-result__item a").first
    result.wait_for(state="visible")
    assert "communiques/2024-10-06-consignes-patients.html" in (result.get_attribute("href") or "")
    assert violations(messages) == []

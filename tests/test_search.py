"""The search index Balise writes from its views, in Material's format, and the search box."""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import DATA, TINY_NOW

from balise.build import build, check
from balise.render.search import SEARCH_INDEX, render_search
from balise.text.markdown import body_text
from balise.timeline import snapshot
from balise.views import site_pages

SETTINGS = {"lang": ["fr"], "separator": "[\\s\\-]+", "pipeline": ["stopWordFilter"]}


def tiny_pages():
    repository = check(DATA / "tiny").repository
    assert repository is not None
    return site_pages(repository, snapshot(repository, TINY_NOW))


def index_of(pages) -> dict:
    return json.loads(render_search(pages, SETTINGS, body_text)[SEARCH_INDEX])


def test_one_document_per_page_and_lists_are_not_indexed() -> None:
    pages = tiny_pages()
    docs = index_of(pages)["docs"]
    assert [d["location"] for d in docs] == [p.path for p in pages.all()]
    history = next(d for d in docs if d["location"] == pages.history.path)
    assert history["text"] == f"<p>{html.escape(pages.history.description, quote=False)}</p>"


def test_a_statement_is_found_by_its_body_and_its_title_is_escaped_once() -> None:
    pages = tiny_pages()
    docs = {d["location"]: d for d in index_of(pages)["docs"]}
    for page in pages.statements:
        doc = docs[page.path]
        assert html.unescape(doc["title"]) == page.title  # shown as HTML: escaped
        assert "<" not in doc["title"]
        words = body_text(page.body).split()
        assert not words or html.escape(words[-1], quote=False) in doc["text"]
        assert "<script" not in doc["text"]


def test_the_index_carries_the_search_settings_material_resolved(tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert build(DATA / "tiny", out, TINY_NOW).ok
    index = json.loads((out / SEARCH_INDEX).read_text())
    assert index["config"]["lang"] == ["fr"]
    assert set(index["config"]) == {"lang", "separator", "pipeline", "fields"}
    page = BeautifulSoup((out / "index.html").read_text(), "html.parser")
    assert page.select_one("input.md-search__input") is not None


@pytest.mark.parametrize(
    "plugins", ["plugins: []\n", "plugins:\n  - search:\n      enabled: false\n"]
)
def test_without_search_there_is_no_index_nor_search_box(tmp_path: Path, plugins: str) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(DATA / "tiny", repo)
    (repo / "mkdocs.yml").write_text((repo / "mkdocs.yml").read_text() + plugins)
    out = tmp_path / "site"
    outcome = build(repo, out, TINY_NOW)
    assert outcome.ok, outcome.problems
    assert not (out / SEARCH_INDEX).exists()
    page = BeautifulSoup((out / "index.html").read_text(), "html.parser")
    assert page.select_one("input.md-search__input") is None

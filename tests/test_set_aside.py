"""What Balise's plugin hands Markdown instead of its own HTML, and the front matter it writes:
Markdown and MkDocs must not notice (same HTML, same anchors, same meta)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from balise.render.pages import front_matter
from balise.render.set_aside import copied_unchanged, parts_copied

try:
    from yaml import CSafeLoader as Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as Loader  # type: ignore[assignment]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any, Any]:
    """An MkDocs configuration and one page file (docs/ stays empty: sources are given)."""
    from mkdocs.config import load_config
    from mkdocs.structure.files import File, Files

    folder = tmp_path_factory.mktemp("site")
    (folder / "docs").mkdir()
    config = load_config(
        config_file=None,
        docs_dir=str(folder / "docs"),
        site_dir=str(folder / "site"),
        markdown_extensions=["toc", "tables", "sane_lists"],
    )
    file = File("page.md", None, config.site_dir, False)
    return config, file, Files([file])


def mkdocs_render(site: tuple[Any, Any, Any], text: str) -> tuple[str, set[str | None]]:
    """A page's HTML and anchors, as MkDocs renders its markdown (Page.render)."""
    from mkdocs.structure.pages import Page

    config, file, files = site
    page = Page(None, file, config)
    page.markdown = text
    logging.getLogger("mkdocs").setLevel(logging.ERROR)
    page.render(config, files)
    return page.content or "", set(page.present_anchor_ids or ())


def same_render(site: tuple[Any, Any, Any], text: str) -> None:
    """The page set aside renders, once its parts are put back, as the page itself."""
    plain, plain_anchors = mkdocs_render(site, text)
    reduced, aside = set_aside(text)
    html, anchors = mkdocs_render(site, reduced)
    for placeholder, part in aside:
        assert html.count(placeholder) == 1
        html = html.replace(placeholder, part)
    assert html == plain
    assert anchors | anchors_of(text) == plain_anchors


def set_aside(text: str) -> tuple[str, list[tuple[str, str]]]:
    parts = parts_copied(text, minimum=1)
    pieces, aside, position = [], [], 0
    for number, part in enumerate(parts):
        placeholder = f"<!--balise-aside-{number}-->"
        aside.append((placeholder, text[part.begin : part.end]))
        pieces += [text[position : part.begin], placeholder]
        position = part.end
    return "".join([*pieces, text[position:]]), aside


def anchors_of(text: str) -> set[str | None]:
    return {i for part in parts_copied(text, minimum=1) for i in part.ids}


PAGES = {
    "whole body": '<div class="balise-x">\n<h2 id="t">Titre</h2>\n'
    '<p>Un <a href="a.html">lien</a>.</p>\n</div>\n',
    "three blocks": (
        '<div class="a">\n<p>Un</p>\n</div>\n\n<div class="b">\n<ul>\n<li>x</li>\n</ul>\n</div>\n\n'
        '<div class="c">\n<aside aria-labelledby="p">\n<h2 id="p">Presse</h2>\n</aside>\n</div>'
    ),
    "list items": (
        '<ol class="balise-statements" reversed>\n'
        + '<li class="balise-statement">\n<p class="m">Un &amp; deux &#39;x&#39;</p>\n</li>\n' * 5
        + "</ol>\n"
    ),
    "markdown around": "# Titre\n\nDu *texte* [lien](a.md).\n\n"
    '<div class="b">\n<p>HTML</p>\n</div>\n\nEt **fin**.\n',
    "tab inside": '<div class="o">\n<div class="i">\n<p>a</p>\n</div>\n<pre>\tcode</pre>\n</div>\n',
    "line of spaces": '<div class="o">\n<p>a</p>\n   \n<p>b</p>\n</div>\n',
    "loose reference": '<div class="o">\n<p>a &amp b &#39 c</p>\n</div>\n',
    "comment": '<div class="o">\n<!-- <div class="x">\n<p>a</p>\n</div> -->\n</div>\n',
    "script": '<div class="o">\n<script>\n<div class="x">\n</div>\n</script>\n</div>\n',
    "misnested": '<div class="o">\n<p><b>a</p></b>\n</div>\n',
    "void end tag": '<div class="o">\n<p>a</br></p>\n</div>\n',
    "bare and odd ids": '<div class="o">\n<p id>a</p><a name="n&amp;m">b</a>'
    '<span name="s" ID="Up">c</span>\n</div>\n',
    "self-closing": '<div class="o">\n<svg><path d="M1 2"/></svg>\n<p>a<br/>b</p>\n</div>\n',
    "block ends mid-segment": '<div class="o">\n<p>a</p>\n</div>\n<p>tail <em>x</em></p>\n',
    "nested fallback": (
        '<div class="o">\n<p class="x">\ta</p>\n<section class="s">\n'
        + '<li class="i">\n<p>item</p>\n</li>\n' * 3
        + "</section>\n</div>\n"
    ),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_markdown_and_mkdocs_see_no_difference(site: tuple[Any, Any, Any], name: str) -> None:
    same_render(site, PAGES[name])


def test_balise_s_blocks_are_set_aside_whole_and_rewritten_ones_are_not() -> None:
    assert (
        set_aside(PAGES["whole body"])[0] == '<div class="balise-x">\n<!--balise-aside-0--></div>\n'
    )
    assert len(set_aside(PAGES["three blocks"])[1]) == 3
    for name in ("tab inside", "line of spaces", "loose reference", "comment", "script"):
        assert all("\t" not in part and "<!--" not in part for _, part in set_aside(PAGES[name])[1])
    # A block Markdown rewrites is kept; the blocks inside it are set aside.
    assert [part.count("<li") for _, part in set_aside(PAGES["nested fallback"])[1]] == [3]
    assert not copied_unchanged("<p>a\tb</p>") and copied_unchanged("<p>a <b>b</b></p>\n")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                '<div class="a">\n',
                "</div>\n",
                "<p>t</p>\n",
                '<li class="x">\n',
                "</li>\n",
                '<ul class="u">\n',
                "</ul>\n",
                "\n",
                "texte *md*\n",
                "\t\n",
                '<h2 id="h">',
                "</h2>\n",
            ]
        ),
        max_size=14,
    )
)
def test_any_sequence_of_blocks_renders_alike(
    site: tuple[Any, Any, Any], pieces: list[str]
) -> None:
    same_render(site, "".join(pieces))


@given(
    st.text(),
    st.text(),
    st.lists(st.fixed_dictionaries({"title": st.text(), "href": st.text()}), max_size=3),
)
def test_front_matter_reads_back_as_the_same_meta(
    title: str, description: str, feeds: list
) -> None:
    meta = {"title": title, "description": description, "balise_feeds": feeds, "hide": ["toc"]}
    text = front_matter(meta)
    assert text.startswith("---\n") and text.endswith("\n---\n") and text.count("\n") == 3
    assert yaml.load(text.removeprefix("---\n").removesuffix("---\n"), Loader) == meta
    # MkDocs' own reading of a page's front matter
    from mkdocs.utils import meta as mkdocs_meta

    assert mkdocs_meta.get_data(text + "\nCorps.\n") == ("Corps.\n", meta)

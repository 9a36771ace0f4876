"""A statement body as HTML: markdown rendered, then sanitized with nh3 to a small safe set."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit, urlunsplit

import pytest
from bs4 import BeautifulSoup
from hypothesis import given
from hypothesis import strategies as st

from balise.text.markdown import (
    Removed,
    _new_markdown,
    absolute_url,
    page_body_html,
    page_link,
    removed_markup,
    to_page,
    unsafe_html,
)


def soup(body: str) -> BeautifulSoup:
    return BeautifulSoup(page_body_html(body), "html.parser")


def test_markdown_structure_is_kept() -> None:
    page = soup(
        "## Consignes\n\n- **Venez** à l'heure\n- *Apportez* vos documents\n\n"
        "1. un\n2. deux\n\n> Citation\n\n```\ncode <b>\n```\n\n---\n\nFin `x`\n"
    )
    assert page.select_one("h2").get_text() == "Consignes"
    assert [li.get_text() for li in page.select("ul li")] == [
        "Venez à l'heure",
        "Apportez vos documents",
    ]
    assert page.select_one("ol") and page.select_one("blockquote p").get_text() == "Citation"
    assert page.select_one("pre code").get_text() == "code <b>\n"
    assert page.select_one("hr") is not None and page.select_one("p code").get_text() == "x"


def test_a_level_one_heading_becomes_level_two() -> None:
    assert page_body_html("# Titre\n\nTexte") == "<h2>Titre</h2>\n<p>Texte</p>"


def test_table_alignment_uses_attributes_not_inline_style() -> None:
    page = soup("| a | b |\n|:--|--:|\n| 1 | 2 |\n")
    assert [c.get("align") for c in page.select("th, td")] == ["left", "right", "left", "right"]
    assert not page.select("[style]")


@pytest.mark.parametrize(
    ("href", "kept"),
    [
        ("https://www.example.org/a?b=c", True),
        ("http://example.org", True),
        ("mailto:presse@example.org", True),
        ("tel:+33200000000", True),
        ("../etablissements/alpha.html", True),
        ("#consignes", True),
        ("javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        ("data:text/html;base64,PHNjcmlwdD4=", False),
        ("vbscript:msgbox(1)", False),
        ("file:///etc/passwd", False),
    ],
)
def test_only_safe_link_schemes_are_kept(href: str, kept: bool) -> None:
    link = soup(f'<a href="{href}">lien</a>').select_one("a")
    assert (link.get("href") == href) is kept
    assert link.get_text() == "lien"
    assert link["rel"] == ["noopener", "noreferrer"]


def test_links_to_markdown_sources_point_to_their_pages() -> None:
    assert page_link("2024-10-06-point.md") == "2024-10-06-point.html"
    assert page_link("../communiques/x.md#suite") == "../communiques/x.html#suite"
    assert page_link("https://example.org/x.md") == "https://example.org/x.md"
    link = soup("[voir](2024-10-06-point.md)").select_one("a")
    assert link["href"] == "2024-10-06-point.html"


@pytest.mark.parametrize(
    ("href", "page"),
    [
        ("x.md", "x.html"),
        ("../communiques/README.md#a", "../communiques/index.html#a"),
        ("index.md?q=1", "index.html?q=1"),
        ("x.html", "x.html"),
        ("x.md/", "x.md/"),
    ],
)
def test_one_rewriter_gives_pages_and_feeds_the_same_page(href: str, page: str) -> None:
    assert urlunsplit(to_page(urlsplit(href))) == page
    assert page_link(href) == page
    base = "https://status.example.org/communiques/2024-10-05-alerte.html"
    assert absolute_url(href, base) == urljoin(base, page)


def test_scripts_styles_and_their_content_are_dropped() -> None:
    html = page_body_html(
        "A<script>alert('x')</script>B<style>body{display:none}</style>C\n\n"
        "<noscript>n</noscript><!-- commentaire -->"
    )
    assert "alert" not in html and "display" not in html and "commentaire" not in html
    assert "<script" not in html and "<style" not in html


@pytest.mark.parametrize(
    "markup",
    [
        '<img src="x" onerror="alert(1)">',
        '<iframe src="https://evil.example"></iframe>',
        '<form action="https://evil.example"><input name="p"></form>',
        '<svg onload="alert(1)"><circle/></svg>',
        '<object data="x.swf"></object>',
        '<embed src="x.swf">',
        '<meta http-equiv="refresh" content="0;url=https://evil.example">',
        '<link rel="stylesheet" href="https://evil.example/x.css">',
        '<base href="https://evil.example/">',
    ],
)
def test_dangerous_elements_are_removed(markup: str) -> None:
    page = soup(f"Texte\n\n{markup}\n")
    assert not page.find_all(["img", "iframe", "form", "input", "svg", "object", "embed"])
    assert not page.find_all(["meta", "link", "base"])


def test_event_handlers_styles_and_classes_are_removed_from_allowed_tags() -> None:
    page = soup('<p onclick="x()" style="color:red" class="md-button" id="x">p</p>')
    assert page.select_one("p").attrs == {}


def test_removed_markup_says_what_goes_and_where() -> None:
    body = "Bonjour.\n\n<script>x</script>\n\n[a](javascript:y) <b onclick='z'>b</b>\n"
    assert removed_markup(body) == (
        Removed("<script>", body.index("<script>")),
        Removed('a "javascript:" link', body.index("javascript:")),
        Removed('onclick="…" on <b>', body.index("onclick")),
    )
    assert removed_markup("**Rien** à signaler, [lien](https://example.org).") == ()


def test_removed_markup_is_found_where_the_source_writes_it_not_at_a_lookalike() -> None:
    body = (
        "Le background, la classe et javascript: des mots.\n\n- une <ul> en texte\n\n"
        '<table background="a.png"><tr><td title="a>b"\n background="b.png">x</td></tr></table>'
        "\n\nDu <u>souligné</u>, [a](javascript:x) et <a href='JavaScript:y'>b</a>.\n\n"
        "```python\nprint(1)\n```\n"
    )
    found = {r.what: r.offset for r in removed_markup(body)}
    assert found == {
        'background="…" on <table>': body.index('background="a.png"'),
        'title="…" on <td>': body.index('title="a>b"'),
        'background="…" on <td>': body.index('background="b.png"'),
        "<u>": body.index("<u>"),
        'a "javascript:" link': body.index("javascript:x"),
        'class="…" on <code>': body.index("```python"),
    }


# Bodies that leave state in a Markdown converter: footnotes, abbreviations, references.
_STATEFUL = [
    "Texte[^1].\n\n[^1]: Une note.\n",
    "*[ARS]: Agence régionale de santé\n\nL'ARS suit la crise.\n",
    "Voir [le site][ref].\n\n[ref]: https://example.org/\n",
    "Voir [le site][ref].\n",
    "Un paragraphe, ARS.\n",
    "| a | b |\n| - | - |\n| 1 | 2 |\n",
    "```\ncode\n```\n",
]


@given(st.lists(st.sampled_from(_STATEFUL), min_size=1, max_size=6))
def test_reused_converters_render_each_body_as_fresh_ones(bodies: list[str]) -> None:
    """Converters are reused (reset) for speed: nothing may leak from one body to the next."""
    for body in bodies:
        assert unsafe_html(body) == _new_markdown().convert(body)

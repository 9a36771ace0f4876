"""A statement body outside its page: absolute links for feeds, plain text for JSON."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from balise.text.markdown import absolute_url, body_text, feed_body_html

PERMALINK = "https://status.example.org/test/communiques/2024-10-05-alerte.html"


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("../etablissements/alpha.md", "https://status.example.org/test/etablissements/alpha.html"),
        (
            "../etablissements/alpha.html#tel",
            "https://status.example.org/test/etablissements/alpha.html#tel",
        ),
        (
            "2024-10-06-point.md",
            "https://status.example.org/test/communiques/2024-10-06-point.html",
        ),
        ("../index.md", "https://status.example.org/test/index.html"),
        ("#suite", PERMALINK + "#suite"),
        ("/ailleurs.html", "https://status.example.org/ailleurs.html"),
        ("https://www.example.org/a?b=1&c=2", "https://www.example.org/a?b=1&c=2"),
        ("mailto:presse@example.org", "mailto:presse@example.org"),
        ("tel:+33200000000", "tel:+33200000000"),
    ],
)
def test_absolute_url(href: str, expected: str) -> None:
    assert absolute_url(href, PERMALINK) == expected


def test_feed_body_html_makes_links_absolute_and_keeps_the_sanitizer_s_rules() -> None:
    body = (
        "Voir [Alpha](../etablissements/alpha.md) & [le site](https://www.example.org/).\n\n"
        "<script>alert(1)</script>\n\n- un\n- deux\n"
    )
    soup = BeautifulSoup(feed_body_html(body, PERMALINK), "html.parser")
    assert [a["href"] for a in soup.select("a")] == [
        "https://status.example.org/test/etablissements/alpha.html",
        "https://www.example.org/",
    ]
    assert soup.find("script") is None
    assert "alert(1)" not in soup.get_text()
    assert [li.get_text() for li in soup.select("li")] == ["un", "deux"]


def test_body_text_keeps_words_paragraphs_and_list_items() -> None:
    body = (
        "La clinique **Alpha** est\nà l'arrêt & <b>fermée</b>.\n\n"
        "- Apportez vos *papiers*.\n- Appelez le 15.\n"
    )
    assert body_text(body) == (
        "La clinique Alpha est à l'arrêt & fermée.\n- Apportez vos papiers.\n- Appelez le 15."
    )


def test_body_text_drops_scripts_with_their_content() -> None:
    assert body_text("Avant.\n\n<script>alert(1)</script>\n\nAprès.") == "Avant.\nAprès."

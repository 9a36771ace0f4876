"""Tests for balise.render.origins and balise.urls: what a built page would load from elsewhere."""

from __future__ import annotations

import pytest

from balise.render.origins import css_urls, foreign_loads, page_urls
from balise.urls import browser_url, foreign_host

OWN = "statut.example.org"


def test_loading_elements_and_css_are_found_and_links_that_load_nothing_are_not() -> None:
    page = (
        '<img srcset="a.png 1x, https://img.example.net/b.png 2x" src="a.png">'
        '<link rel="alternate" type="application/atom+xml" href="https://x.example.net/f">'
        '<link rel="canonical" href="https://x.example.net/">'
        "<link rel='preload icon' href='https://icons.example.net/i.svg'>"
        '<input type="image" src="//buttons.example.net/b.png"><input src="//no.example.net/">'
        '<p style="background: url(&quot;https://bg.example.net/p.png&quot;)">'
        "<style>p { background: url( 'data:image/png;base64,AA' ) }</style>"
    )
    assert page_urls(page) == [
        "a.png",
        "https://img.example.net/b.png",
        "a.png",
        "https://icons.example.net/i.svg",
        "//buttons.example.net/b.png",
        "data:image/png;base64,AA",
        "https://bg.example.net/p.png",
    ]
    assert foreign_loads(page, OWN) == [
        "https://img.example.net/b.png",
        "https://icons.example.net/i.svg",
        "//buttons.example.net/b.png",
        "https://bg.example.net/p.png",
    ]


def test_css_imports_and_urls_are_found() -> None:
    css = '@import "https://fonts.example.net/a.css"; b { src: url(../fonts/x.woff2) }'
    assert css_urls(css) == ["https://fonts.example.net/a.css", "../fonts/x.woff2"]
    assert foreign_loads(css, OWN, css=True) == ["https://fonts.example.net/a.css"]


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("assets/x.js", None),
        ("/x.js", None),
        ("https://statut.example.org/x.js", None),
        ("HTTPS://STATUT.example.org./x.js", None),
        ("data:text/css,p{}", None),
        ("//cdn.example.net/x.js", "cdn.example.net"),
        ("\\\\cdn.example.net/x.js", "cdn.example.net"),
        (" https://c\tdn.example.net/x.js", "cdn.example.net"),
        ("https://cdn%2eexample.net/x.js", "cdn.example.net"),
        ("https://ｃｄｎ.example.net/x.js", "cdn.example.net"),
    ],
)
def test_a_url_reaches_another_host_as_the_browser_reads_it(url: str, host: str | None) -> None:
    assert foreign_host(url, OWN) == host


def test_browser_url_folds_the_host_only() -> None:
    assert browser_url("https://GitHub%2Ecom\\Org/Repo") == "https://github.com/Org/Repo"

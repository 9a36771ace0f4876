"""balise/theme: the status colours pass WCAG 2.1 AA in both schemes; the script loads nothing;
the "not found" page is French.

The ratios are computed from balise.css itself, so that a colour edit that breaks
contrast fails here before axe-core sees it in the browser tests.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import DATA, TINY_NOW

from balise.build import build

THEME = Path(__file__).resolve().parent.parent / "balise" / "theme" / "assets"
STATUSES = ("normal", "maintenance", "degraded", "disrupted", "down")
AA = 4.5

# Material's page backgrounds: white, and slate's hsl(225deg 15% 14%).
PAGE = {"light": "#ffffff", "dark": "#1e2129"}
# Material's link colour (indigo primary) where Balise does not set its own.
MATERIAL_LINK = {"light": "#4051b5", "dark": "#5488e8"}


def _variables(block: str) -> dict[str, str]:
    return dict(re.findall(r"--(balise-[a-z-]+):\s*(#[0-9a-fA-F]{6})\s*;", block))


def scheme_colours() -> dict[str, dict[str, str]]:
    css = (THEME / "balise.css").read_text(encoding="utf-8")
    light = _variables(re.search(r":root\s*\{(.*?)\}", css, re.S).group(1))
    slate = re.search(r'\[data-md-color-scheme="slate"\]\s*\{(.*?)\}', css, re.S).group(1)
    return {"light": light, "dark": {**light, **_variables(slate)}}


def luminance(colour: str) -> float:
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(colour[i : i + 2], 16) / 255) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_of_a_known_pair() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("status", STATUSES)
def test_status_label_passes_aa_on_its_tint_and_on_the_page(scheme: str, status: str) -> None:
    colours = scheme_colours()[scheme]
    text, tint = colours[f"balise-{status}"], colours[f"balise-{status}-bg"]
    assert contrast(text, tint) >= AA, (scheme, status, contrast(text, tint))
    assert contrast(text, PAGE[scheme]) >= AA, (scheme, status, contrast(text, PAGE[scheme]))


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_muted_text_passes_aa_on_the_page(scheme: str) -> None:
    muted = scheme_colours()[scheme]["balise-muted"]
    assert contrast(muted, PAGE[scheme]) >= AA


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_links_and_text_in_the_incident_banner_pass_aa(scheme: str) -> None:
    colours = scheme_colours()[scheme]
    banner = colours["balise-down-bg"]
    link = colours["balise-link"] if scheme == "dark" else MATERIAL_LINK["light"]
    assert contrast(link, banner) >= AA
    assert contrast(colours["balise-down"], banner) >= AA


def test_the_script_loads_nothing_and_writes_no_markup() -> None:
    script = (THEME / "balise.js").read_text(encoding="utf-8")
    for forbidden in (
        "http:",
        "https:",
        "fetch(",
        "XMLHttpRequest",
        "import(",
        "innerHTML",
        "eval(",
    ):
        assert forbidden not in script, forbidden


def test_the_not_found_page_is_french_and_leads_back_to_the_overview(tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert build(DATA / "tiny", out, TINY_NOW).ok
    page = BeautifulSoup((out / "404.html").read_text(encoding="utf-8"), "html.parser")
    assert page.html["lang"] == "fr"
    assert page.title.get_text() == "Page introuvable - Groupe Test"
    content = page.select_one("article.md-content__inner")
    assert content.h1.get_text() == "Page introuvable"
    assert "Not found" not in page.get_text()
    back = content.find("a", string="Retour à l'état des établissements")
    # Served for a missing path at any depth: the link starts at the site's root.
    assert back["href"] == "/test/index.html"
    assert (out / "index.html").is_file()

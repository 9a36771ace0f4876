"""Status badges: one accessible SVG per establishment, text and colour, safe to embed."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as etree
from pathlib import Path

import pytest
from conftest import DATA, TINY_NOW

from balise.build import build
from balise.model import Status
from balise.render.badges import COLOURS, NAME_COLOUR, TEXT_COLOUR

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("badges")
    shutil.copytree(DATA / "tiny", base / "repo")
    out = base / "site"
    assert build(base / "repo", out, TINY_NOW).ok
    return out


def badge(site: Path, establishment_id: str) -> etree.Element:
    return etree.parse(site / f"badges/{establishment_id}.svg").getroot()


def texts(root: etree.Element) -> list[str]:
    return [t.text or "" for t in root.iter(SVG + "text")]


def fills(root: etree.Element) -> list[str]:
    return [r.get("fill", "") for r in root.iter(SVG + "rect")]


def test_every_establishment_has_a_badge(site: Path) -> None:
    assert sorted(p.name for p in (site / "badges").iterdir()) == [
        "alpha.svg",
        "beta.svg",
        "gamma.svg",
    ]


@pytest.mark.parametrize(
    ("establishment_id", "text", "status"),
    [
        ("alpha", "✕ Activité interrompue", Status.DOWN),
        ("beta", "✓ Fonctionnement normal", Status.NORMAL),
        ("gamma", "⚠\ufe0e Mode dégradé", Status.DEGRADED),
    ],
)
def test_badge_says_the_status_in_words_and_colour(
    site: Path, establishment_id: str, text: str, status: Status
) -> None:
    root = badge(site, establishment_id)
    assert texts(root)[1] == text
    assert fills(root) == [NAME_COLOUR, COLOURS[status]]


def test_badge_is_an_accessible_image_with_name_status_and_since(site: Path) -> None:
    root = badge(site, "alpha")
    assert root.tag == SVG + "svg"
    assert root.get("role") == "img"
    label = "Clinique Alpha : Activité interrompue depuis le samedi 5 octobre 2024 à 08:00"
    assert root.get("aria-label") == label
    assert root.findtext(SVG + "title") == label
    assert texts(root)[0] == "Clinique Alpha"
    assert int(root.get("width")) > 100 and root.get("height") == "20"


def test_badge_escapes_the_establishment_name(site: Path) -> None:
    raw = (site / "badges/beta.svg").read_text(encoding="utf-8")
    assert "<Beta>" not in raw
    root = badge(site, "beta")
    assert texts(root)[0] == 'Clinique <Beta> & "Co"'
    assert root.get("aria-label").startswith('Clinique <Beta> & "Co" : Fonctionnement normal')


def test_badge_loads_nothing_from_another_host(site: Path) -> None:
    for path in (site / "badges").iterdir():
        raw = path.read_text(encoding="utf-8")
        assert raw.count("http") == 1  # the SVG namespace only
        assert "<image" not in raw and "@import" not in raw and "href" not in raw


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


@pytest.mark.parametrize("background", [NAME_COLOUR, *COLOURS.values()])
def test_badge_text_contrast_meets_wcag_aa(background: str) -> None:
    light, dark = sorted([_luminance(TEXT_COLOUR), _luminance(background)], reverse=True)
    assert (light + 0.05) / (dark + 0.05) >= 4.5

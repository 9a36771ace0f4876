"""Tests for balise.validate_site: what mkdocs.yml may not hold, with the exact messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TINY_NOW, tree_bytes

from balise.build import build
from balise.cli import main
from balise.errors import Problem
from balise.load import RawMap, parse_yaml
from balise.validate_site import site_problems

BASE = "site_name: Statut\nsite_url: https://status.example.org/\n"
MARKUP_HINT = "(write plain text, with « » for quotes and no < or >)"


def problems(text: str) -> list[str]:
    met: list[Problem] = []
    data = parse_yaml(text, "mkdocs.yml", 1, met)
    assert met == [] and isinstance(data, RawMap)
    return [str(p) for p in site_problems(data)]


def run(args: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    return int(exit_info.value.code), capsys.readouterr().err


# --- markup the theme would print (it escapes nothing) -----------------------------------


def test_a_script_in_site_name_or_copyright_is_refused_by_check_and_build(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "site"
    assert build(tiny, out, TINY_NOW).ok
    before = tree_bytes(out)
    config = tiny / "mkdocs.yml"
    config.write_text(
        'site_name: "Statut <script>alert(1)</script>"\n'
        "site_url: https://status.example.org/test/\n"
        "copyright: <script>alert(2)</script> Hospi\n"
    )
    code, err = run(["check", "--repo", str(tiny), "--now", TINY_NOW.isoformat()], capsys)
    assert code == 1
    assert err.splitlines()[:2] == [
        f'mkdocs.yml:1: "site_name" holds markup ("<"): the theme writes it into every page '
        f"as HTML, unescaped {MARKUP_HINT}",
        f'mkdocs.yml:3: "copyright" holds markup ("<"): the theme writes it into every page '
        f"as HTML, unescaped {MARKUP_HINT}",
    ]
    build_args = ["build", "--repo", str(tiny), "--out", str(out), "--now", TINY_NOW.isoformat()]
    code, err = run(build_args, capsys)
    assert code == 1 and err.startswith('mkdocs.yml:1: "site_name" holds markup')
    assert "Traceback" not in err
    assert tree_bytes(out) == before  # nothing published


def test_a_quote_that_would_leave_an_attribute_is_refused() -> None:
    text = BASE + "site_description: 'x\" onmouseover=\"alert(1)'\n"
    assert problems(text) == [
        'mkdocs.yml:3: "site_description" holds markup (\'"\'): the theme writes it into '
        f"every page as HTML, unescaped {MARKUP_HINT}"
    ]


def test_markup_anywhere_in_theme_and_extra_is_refused_at_its_line() -> None:
    text = BASE + (
        "theme:\n"
        "  name: material\n"
        "  palette:\n"
        "    - toggle:\n"
        "        name: <b>sombre</b>\n"
        "extra:\n"
        "  social:\n"
        "    - link: https://example.org/\n"
        '      name: "Nous suivre <img src=x>"\n'
    )
    assert [line.split(" holds")[0] for line in problems(text)] == [
        'mkdocs.yml:7: "theme.palette.toggle.name"',
        'mkdocs.yml:11: "extra.social.name"',
    ]


def test_plain_french_text_and_balise_s_own_settings_pass() -> None:
    text = (
        "site_name: L'État des établissements · Hospi & Co\n"
        "site_url: https://status.example.org/\n"
        "copyright: « Hospi Grand Ouest » — service communication\n"
        "extra:\n"
        "  balise:\n"
        '    deploy: "folder:/srv/statut"\n'
        "markdown_extensions:\n"
        "  - toc:\n"
        '      permalink: "&para;"\n'
        "  - x:\n"
        "      f: !!python/name:a.b\n"
    )
    assert problems(text) == []


def test_a_value_from_the_environment_cannot_be_checked() -> None:
    assert problems(BASE + "copyright: !ENV COPYRIGHT\n") == [
        'mkdocs.yml:3: "copyright" has the YAML tag !ENV, which Balise cannot read '
        "(write the value itself)"
    ]


def test_inherited_settings_are_refused() -> None:
    assert problems("INHERIT: base.yml\n" + BASE) == [
        'mkdocs.yml:1: "INHERIT" is not supported: Balise checks the settings of mkdocs.yml '
        "alone (copy the inherited settings into mkdocs.yml)"
    ]

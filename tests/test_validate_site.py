"""Tests for balise.validate.site: what mkdocs.yml may not hold, with the exact messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import TINY_NOW, tree_bytes

from balise.build import build
from balise.cli import main
from balise.errors import Problem
from balise.load import RawMap, parse_yaml
from balise.validate.site import site_problems

BASE = "site_name: Statut\nsite_url: https://status.example.org/\n"
MARKUP_HINT = "(write plain text, with « » for quotes and no < or >)"


def problems(text: str) -> list[str]:
    met: list[Problem] = []
    data = parse_yaml(text, "mkdocs.yml", 1, met)
    assert met == [] and isinstance(data, RawMap)
    return [str(p) for p in sorted(site_problems(data))]


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


# --- nothing from another host, Material only --------------------------------------------

NO_OTHER_HOST = "a Balise site loads nothing from another host"
LOCAL_HINT = "(copy the file into theme.custom_dir and name its path there, e.g. assets/x.js)"


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.example.org/x.js",
        "http://cdn.example.org/x.js",
        "//cdn.example.org/x.js",
        "\\\\cdn.example.org/x.js",
        " /\t/cdn.example.org/x.js",
        "HTTPS://cdn.example.org/x.js",
    ],
)
def test_extra_javascript_on_another_host_is_refused(url: str) -> None:
    text = BASE + f"extra_javascript:\n  - assets/ok.js\n  - {json.dumps(url)}\n"
    assert problems(text) == [
        f'mkdocs.yml:5: "extra_javascript" must name a file of the site, not the URL '
        f'"{url.strip()}": {NO_OTHER_HOST} {LOCAL_HINT}'
    ]


def test_every_setting_that_names_a_file_to_load_must_name_a_local_one() -> None:
    text = BASE + (
        "extra_css:\n"
        "  - https://cdn.example.org/x.css\n"
        "extra_javascript:\n"
        "  - path: https://cdn.example.org/m.js\n"
        "    type: module\n"
        "theme:\n"
        "  name: material\n"
        "  logo: https://example.org/logo.png\n"
        "  favicon: //example.org/favicon.ico\n"
        "extra:\n"
        "  polyfills:\n"
        "    - https://polyfill.example.org/v3.js\n"
    )
    assert [line.split(" must name")[0] for line in problems(text)] == [
        'mkdocs.yml:4: "extra_css"',
        'mkdocs.yml:6: "extra_javascript"',
        'mkdocs.yml:10: "theme.logo"',
        'mkdocs.yml:11: "theme.favicon"',
        'mkdocs.yml:14: "extra.polyfills"',
    ]


def test_settings_that_make_material_fetch_from_other_hosts_are_refused() -> None:
    text = BASE + (
        "repo_url: https://github.com/example/statut\n"
        "theme:\n"
        "  name: material\n"
        "  font:\n"
        "    text: Roboto\n"
        "extra:\n"
        "  analytics:\n"
        "    provider: google\n"
        "    property: G-XXXXXXXXXX\n"
        "  alternate:\n"
        "    - name: English\n"
        "      link: https://en.example.org/\n"
    )
    assert problems(text) == [
        'mkdocs.yml:3: "repo_url" makes every page fetch the repository\'s facts from '
        f"api.github.com: {NO_OTHER_HOST} (remove it; a page template can link the repository)",
        'mkdocs.yml:6: "theme.font" makes every page load Google Fonts from '
        f"fonts.googleapis.com: {NO_OTHER_HOST} "
        "(write font: false, or remove the line: Balise sets it to false)",
        'mkdocs.yml:9: "extra.analytics" makes every page load an analytics script from '
        f"another host (Google Analytics): {NO_OTHER_HOST} (remove it)",
        'mkdocs.yml:14: "extra.alternate.link" points at "https://en.example.org/", from '
        f"which every page would fetch sitemap.xml: {NO_OTHER_HOST} "
        "(link another language of this site by its path, e.g. /en/)",
    ]


def test_local_files_a_false_font_and_a_repository_elsewhere_pass() -> None:
    text = BASE + (
        "repo_url: https://git.example.org/statut\n"
        "extra_css: [assets/extra.css]\n"
        "extra_javascript:\n"
        "  - path: assets/m.js\n"
        "    type: module\n"
        "theme:\n"
        "  name: material\n"
        "  font: false\n"
        "  logo: assets/logo.svg\n"
        "extra:\n"
        "  alternate:\n"
        "    - name: Français\n"
        "      link: /fr/\n"
        "  social:\n"
        "    - icon: fontawesome/brands/mastodon\n"
        "      link: https://social.example.org/@hospi\n"
    )
    assert problems(text) == []


THEME_HINT = (
    "(Balise's pages are made for Material, and the plain MkDocs and readthedocs themes "
    "load from other hosts; without the line Balise uses Material)"
)


@pytest.mark.parametrize(
    ("theme", "line", "shown"),
    [
        ("theme: readthedocs\n", 3, '"readthedocs"'),
        ("theme:\n  name: mkdocs\n  locale: fr\n", 4, '"mkdocs"'),
        ("theme:\n  name: [material]\n", 4, "a list"),
    ],
)
def test_a_theme_other_than_material_is_refused(theme: str, line: int, shown: str) -> None:
    assert problems(BASE + theme) == [
        f'mkdocs.yml:{line}: the theme must be "material" (mkdocs-material), not {shown} '
        + THEME_HINT
    ]


def test_a_theme_without_a_name_is_material() -> None:
    assert problems(BASE + "theme:\n  custom_dir: overrides\n") == []
    assert problems(BASE + "theme: material\n") == []


def test_a_minimal_mkdocs_yml_builds_with_material_in_french_without_fonts(
    tiny: Path, tmp_path: Path
) -> None:
    (tiny / "mkdocs.yml").write_text("site_name: Groupe Test\nsite_url: https://s.example.org/\n")
    out = tmp_path / "site"
    outcome = build(tiny, out, TINY_NOW)
    assert outcome.ok, outcome.errors
    text = (out / "index.html").read_text("utf-8")
    page = BeautifulSoup(text, "html.parser")
    assert page.html["lang"] == "fr"
    assert "mkdocs-material" in page.find("meta", attrs={"name": "generator"})["content"]
    assert page.select_one("header.md-header") is not None  # Material's markup
    for element in page.select("script[src], link[rel=stylesheet], link[rel=icon]"):
        url = element.get("src") or element.get("href")
        assert not url.startswith(("http:", "https:", "//")), url
    assert "fonts.googleapis.com" not in text and "highlight" not in text


def test_a_repository_with_another_theme_is_refused_by_check(
    tiny: Path, capsys: pytest.CaptureFixture
) -> None:
    config = tiny / "mkdocs.yml"
    config.write_text(config.read_text().replace("name: material", "name: readthedocs"))
    code, err = run(["check", "--repo", str(tiny), "--now", TINY_NOW.isoformat()], capsys)
    assert code == 1
    assert err.startswith(
        'mkdocs.yml:4: the theme must be "material" (mkdocs-material), not "readthedocs"'
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://github%2ecom/x/y",  # the host percent-encoded
        "https://github.com\\\\x\\\\y",  # backslashes, read as slashes
        "https://git\\thub.com/x/y",  # a tab, dropped
        "https://ｇｉｔｈｕｂ.com/x/y",  # fullwidth letters, folded by IDNA
        "https://GitHub.COM/x/y",
    ],
)
def test_a_disguised_github_repo_url_is_read_as_the_browser_reads_it(url: str) -> None:
    assert problems(BASE + f'repo_url: "{url}"\n') == [
        'mkdocs.yml:3: "repo_url" makes every page fetch the repository\'s facts from '
        f"api.github.com: {NO_OTHER_HOST} (remove it; a page template can link the repository)",
    ]


def test_plugins_other_than_search_are_refused_at_their_line() -> None:
    listed = BASE + "plugins:\n  - search:\n      lang: fr\n  - offline\n  - social:\n      x: 1\n"
    mapped = BASE + "plugins:\n  search: {}\n  privacy: {}\n"
    refused = (
        "is not supported: Balise builds its site with Material's search plugin only (others "
        "may load from other hosts, need the network to build, or change the pages Balise "
        "makes) (remove it)"
    )
    assert problems(listed) == [
        f'mkdocs.yml:6: the plugin "offline" {refused}',
        f'mkdocs.yml:7: the plugin "social" {refused}',
    ]
    assert problems(mapped) == [f'mkdocs.yml:5: the plugin "privacy" {refused}']
    assert problems(BASE + "plugins:\n  - search\n") == []

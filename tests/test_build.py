"""End-to-end builds of the tiny repository: pages, status.json, atomicity, reproducibility."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import DATA, TINY_NOW, tree_bytes

from balise.build import build
from balise.stamp import RECORD_SUFFIX  # the digests beside a site: no leftover


def beside(folder: Path) -> list[str]:
    """What a folder holds, sorted, but the digests a build records beside its site."""
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(RECORD_SUFFIX))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny") / "site"
    outcome = build(DATA / "tiny", out, TINY_NOW)
    assert outcome.ok, outcome.problems
    assert outcome.mkdocs_warnings == ()
    return out


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def test_every_page_of_the_contract_is_built(site: Path) -> None:
    for page in [
        "index.html",
        "presse.html",
        "historique.html",
        "etablissements/alpha.html",
        "etablissements/beta.html",
        "etablissements/gamma.html",
        "communiques/2024-10-05-alerte.html",
        "communiques/2024-10-06-point.html",
        "communiques/2024-10-07-info.html",
        "incidents/attaque.html",
        "status.json",
    ]:
        assert (site / page).is_file(), page


def test_draft_and_embargoed_statements_are_not_published(site: Path) -> None:
    assert not (site / "communiques/2024-10-08-brouillon.html").exists()
    assert not (site / "communiques/2024-10-09-embargo.html").exists()
    everything = "".join(p.read_text() for p in site.rglob("*.html"))
    assert "Brouillon jamais publié" not in everything
    assert "Sous embargo" not in everything


def test_overview_shows_each_establishment_with_label_and_icon_grouped_by_region(
    site: Path,
) -> None:
    page = soup(site / "index.html")
    regions = [h.get_text() for h in page.select(".balise-region h2")]
    assert regions == ["Bretagne", "Pays de la Loire"]
    cards = {
        c.select_one(".balise-card-title").get_text(): c.select_one(".balise-status").get_text()
        for c in page.select(".balise-card")
    }
    assert cards == {
        "Clinique Alpha": "✕ Activité interrompue",
        "Centre Gamma": "⚠\ufe0e Mode dégradé",
        'Clinique <Beta> & "Co"': "✓ Fonctionnement normal",
    }
    assert page.select_one(".balise-updated").get_text() == (
        "Dernière mise à jour : lundi 7 octobre 2024 à 10:00"
    )
    banner = page.select_one(".balise-incident a")
    assert banner.get_text() == "Cyberattaque à la clinique Alpha"
    assert banner["href"] == "incidents/attaque.html"


def test_statement_page_has_french_date_permalink_body_and_press_contact(site: Path) -> None:
    page = soup(site / "communiques/2024-10-05-alerte.html")
    assert page.select_one("h1").get_text() == "Cyberattaque à la clinique Alpha"
    assert page.select_one(".balise-meta").get_text() == (
        "Communiqué de presse · samedi 5 octobre 2024 à 08:00"
    )
    permalink = page.select_one(".balise-permalink a")["href"]
    assert permalink == "https://status.example.org/test/communiques/2024-10-05-alerte.html"
    assert page.select_one("strong").get_text() == "à l'arrêt"
    assert "presse@example.org" in page.select_one(".balise-press").get_text()
    changes = [li.get_text(" ", strip=True) for li in page.select(".balise-changes li")]
    assert changes[0] == "Clinique Alpha : ✕ Activité interrompue"


def test_titles_and_summaries_are_escaped_everywhere(site: Path) -> None:
    title = 'Point <urgent> & "essentiel" : *pas* de markdown'
    page = soup(site / "communiques/2024-10-06-point.html")
    assert page.select_one("h1").get_text() == title
    assert page.title.get_text().startswith(title)
    description = page.select_one('meta[name="description"]')["content"]
    assert description == "Résumé avec <script>alert(1)</script> & des *étoiles*"
    raw = (site / "communiques/2024-10-06-point.html").read_text()
    assert "<urgent>" not in raw and "<script>alert(1)" not in raw
    history = soup(site / "historique.html")
    assert title in [a.get_text() for a in history.select(".balise-statement-title a")]


def test_the_navigation_lists_section_pages_only(site: Path) -> None:
    nav = soup(site / "index.html").select_one("nav.md-nav--primary")
    links = [a["href"] for a in nav.select("a[href]")]
    assert not any(link.startswith(("communiques/", "incidents/")) for link in links)
    assert "etablissements/alpha.html" not in links
    assert "etablissements.html" in links
    index = soup(site / "etablissements.html")
    listed = [a["href"] for a in index.select(".balise-directory a[href]")]
    assert "etablissements/alpha.html" in listed


def test_no_page_loads_anything_from_another_host(site: Path) -> None:
    for html in site.rglob("*.html"):
        page = soup(html)
        for tag, attr in (("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src")):
            for element in page.find_all(tag):
                url = element.get(attr) or ""
                if tag == "link" and element.get("rel") in (["canonical"], ["alternate"]):
                    continue
                assert not re.match(r"(https?:)?//", url), (html, url)
        assert "fonts.googleapis" not in html.read_text()


def test_status_json_matches_the_contract(site: Path) -> None:
    data = json.loads((site / "status.json").read_text())
    assert data["generated_at"] == "2024-10-10T12:00:00+02:00"
    assert [e["id"] for e in data["establishments"]] == ["alpha", "beta", "gamma"]
    assert data["establishments"][0] == {
        "id": "alpha",
        "name": "Clinique Alpha",
        "city": "Rennes",
        "region": "Bretagne",
        "status": "down",
        "label": "Activité interrompue",
        "since": "2024-10-05T08:00:00+02:00",
        "statement": "2024-10-05-alerte",
        "services": [],  # CONTRACT §9: keys added, none removed
        "redirect": None,
    }
    assert [s["id"] for s in data["statements"]] == [
        "2024-10-07-info",
        "2024-10-06-point",
        "2024-10-05-alerte",
    ]
    alert = data["statements"][2]
    assert alert["status"] == {"alpha": "down", "beta": "degraded", "gamma": "degraded"}
    assert alert["type"] == "press-release"
    assert alert["url"] == "https://status.example.org/test/communiques/2024-10-05-alerte.html"


def test_same_sources_and_now_give_byte_identical_sites(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    assert build(DATA / "tiny", first, TINY_NOW).ok
    assert build(DATA / "tiny", second, TINY_NOW).ok
    assert tree_bytes(first) == tree_bytes(second)


def test_a_failed_build_leaves_the_previous_site_byte_for_byte(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert build(tiny, out, TINY_NOW).ok
    before = tree_bytes(out)
    (tiny / "statements/2024/2024-10-06-point.md").write_text(
        "---\ntitle: Cassé\ndate: 2024-10-06T09:00:00+02:00\nstatus:\n  alpha: inconnu\n---\n"
    )
    outcome = build(tiny, out, TINY_NOW)
    assert not outcome.ok
    assert tree_bytes(out) == before
    assert sorted(
        p.name for p in tmp_path.iterdir() if not p.name.endswith(RECORD_SUFFIX)
    ) == sorted([tiny.name, "site"])


def test_a_crash_mid_build_leaves_the_previous_site(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    assert build(tiny, out, TINY_NOW).ok
    before = tree_bytes(out)

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("balise.build.write_tree", explode)
    with pytest.raises(RuntimeError):
        build(tiny, out, TINY_NOW)
    assert tree_bytes(out) == before
    assert sorted(
        p.name for p in tmp_path.iterdir() if not p.name.endswith(RECORD_SUFFIX)
    ) == sorted([tiny.name, "site"])


def test_refuses_to_replace_a_folder_that_is_not_a_site(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.txt").write_text("do not delete")
    outcome = build(tiny, out, TINY_NOW)
    assert not outcome.ok
    assert "not a Balise site" in str(outcome.errors[0])
    assert (out / "thesis.txt").read_text() == "do not delete"


def test_refuses_to_build_over_the_repository(tiny: Path) -> None:
    outcome = build(tiny, tiny, TINY_NOW)
    assert not outcome.ok
    assert (tiny / "establishments.yml").exists()


def test_now_moves_the_status(tmp_path: Path) -> None:
    out = tmp_path / "site"
    later = TINY_NOW.replace(month=11)
    assert build(DATA / "tiny", out, later).ok
    data = json.loads((out / "status.json").read_text())
    assert {e["status"] for e in data["establishments"]} == {"normal"}
    assert (out / "communiques/2024-10-09-embargo.html").exists()


# --- template overrides: check finds what build would hit, at the template's own line ----


def _override(repo: Path, name: str, text: str) -> None:
    path = repo / "templates" / "pages" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _check_and_build(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> tuple[list[str], list[str]]:
    """stderr lines of `check` and of `build` (both must exit 1 and publish nothing)."""
    from balise.cli import main

    out = tmp_path / "site"
    now = ["--now", TINY_NOW.isoformat()]
    printed = []
    for args in (
        ["check", "--repo", str(repo), *now],
        ["build", "--repo", str(repo), "--out", str(out), *now],
    ):
        with pytest.raises(SystemExit) as exit_info:
            main(args)
        assert exit_info.value.code == 1
        err = capsys.readouterr().err
        assert "Traceback" not in err
        printed.append(
            [line for line in err.splitlines() if line.startswith(("templates/", "(balise)"))]
        )
    assert not out.exists()
    return printed[0], printed[1]


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "statement.md",
            "# {{ page.title }}\n\n{% if page.statement %}\n{{ body_html }\n",
            "templates/pages/statement.md:4: template error: unexpected '}'",
        ),
        (
            "overview.md",
            "Bonjour\n\n{{ page.title | majuscules }}\n",
            "templates/pages/overview.md:3: template error: No filter named 'majuscules'.",
        ),
        (
            "notice.html",
            "<p>Avis\n{% for x in %}</p>\n",
            "templates/pages/notice.html:2: template error: "
            "Expected an expression, got 'end of statement block'",
        ),
    ],
)
def test_a_template_that_does_not_compile_fails_check_as_build_does(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture, name: str, text: str, expected: str
) -> None:
    _override(tiny, name, text)
    checked, built = _check_and_build(tiny, tmp_path, capsys)
    assert checked == [expected]
    assert built == [expected]


def test_an_error_in_an_included_template_is_reported_at_its_own_line(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    _override(tiny, "notice.html", "<p>Avis</p>\n<p>{{ page.no_such_value }}</p>\n")
    checked, built = _check_and_build(tiny, tmp_path, capsys)
    expected = [
        "templates/pages/notice.html:2: template error: "
        "'balise.views.OverviewPage object' has no attribute 'no_such_value'"
    ]
    assert checked == expected
    assert built == expected


def test_a_failure_only_some_pages_meet_is_reported_by_check_as_build_does(
    tiny: Path, tmp_path: Path
) -> None:
    from balise.build import check
    from balise.timeline import snapshot
    from balise.views import site_pages

    repository = check(tiny, TINY_NOW).repository
    first = site_pages(repository, snapshot(repository, TINY_NOW)).statements[0].path
    source = (Path(__file__).parent.parent / "balise/templates/pages/statement.md").read_text()
    failing = f"{{% if page.path != {first!r} %}}\n{{{{ 1 // 0 }}}}\n{{% endif %}}\n"
    _override(tiny, "statement.md", failing + source)
    expected = [
        "templates/pages/statement.md:2: template error: integer division or modulo by zero"
    ]
    assert [str(p) for p in check(tiny, TINY_NOW).errors] == expected  # once, for every page
    outcome = build(tiny, tmp_path / "site", TINY_NOW)
    assert [str(p) for p in outcome.errors] == expected


def test_a_theme_override_that_loads_from_another_host_is_refused_before_publishing(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "site"
    assert build(tiny, out, TINY_NOW).ok
    before = tree_bytes(out)
    (tiny / "overrides").mkdir()
    (tiny / "overrides" / "main.html").write_text(
        '{% extends "base.html" %}\n{% block extrahead %}{{ super() }}'
        '<script src="https://cdn.example.net/x.js"></script>'
        "<link rel=stylesheet href=//fonts.example.net/f.css>"
        "<style>@import 'HTTPS://fonts.example.net/g.css';</style>"
        '<link rel="canonical" href="https://elsewhere.example.net/">'  # not loaded
        '<img src="https://status.example.org/test/logo.png" alt="">'  # the site's own host
        "{% endblock %}\n"
    )
    config = tiny / "mkdocs.yml"
    config.write_text(config.read_text().replace("theme:\n", "theme:\n  custom_dir: overrides\n"))
    outcome = build(tiny, out, TINY_NOW)
    hint = "(remove what adds it: a file of theme.custom_dir, a plugin or hook of mkdocs.yml)"
    assert [str(p) for p in outcome.errors] == [
        f"mkdocs.yml:1: the built site would load {url!r} from another host (first in "
        f"404.html): a Balise site loads nothing from another host {hint}"
        for url in (
            "https://cdn.example.net/x.js",
            "//fonts.example.net/f.css",
            "HTTPS://fonts.example.net/g.css",
        )
    ]
    assert tree_bytes(out) == before


def test_a_hook_that_fails_is_a_problem_of_mkdocs_yml_not_a_traceback(
    tiny: Path, tmp_path: Path
) -> None:
    (tiny / "hooks.py").write_text("def on_page_markdown(markdown, **kw):\n    raise KeyError(1)\n")
    config = tiny / "mkdocs.yml"
    config.write_text(config.read_text() + "hooks:\n  - hooks.py\n")
    outcome = build(tiny, tmp_path / "site", TINY_NOW)
    assert "mkdocs.yml:1: MkDocs stopped in hooks.py:2: KeyError: 1" in [
        str(p) for p in outcome.errors
    ]
    assert not (tmp_path / "site").exists()

"""The pages a patient reads, checked in the HTML (no browser): at a glance, French dates,
status never by colour alone, the front-desk poster. tests/browser checks them in Chromium.
"""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import DATA, ROOT, TINY_NOW

from balise.build import build, check
from balise.french import STATUS_LABELS
from balise.model import Status
from balise.timeline import snapshot
from balise.views import MOST_SEVERE_FIRST, site_pages, tel_href

FRENCH_LONG = re.compile(
    r"^(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche) (1er|\d{1,2}) [a-zéû]+ \d{4}"
    r"( à \d{2}:\d{2})?$"
)
FRENCH_SHORT = re.compile(r"^(1er|\d{1,2}) [a-zéû]+\.? \d{4}, \d{2}:\d{2}$")

DEMO_NOW = datetime.fromisoformat("2024-10-07T12:00:00+02:00")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("patient") / "site"
    outcome = build(DATA / "tiny", out, TINY_NOW)
    assert outcome.ok, outcome.problems
    return out


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def test_at_a_glance_groups_establishments_by_status_most_severe_first() -> None:
    repository = check(DATA / "tiny").repository
    overview = site_pages(repository, snapshot(repository, TINY_NOW)).overview
    groups = [
        (g.status_label.status, [c.establishment.id for c in g.cards]) for g in overview.at_a_glance
    ]
    assert groups == [
        (Status.DOWN, ["alpha"]),
        (Status.DEGRADED, ["gamma"]),
        (Status.NORMAL, ["beta"]),
    ]
    assert set(MOST_SEVERE_FIRST) == set(Status)


def test_overview_summary_links_each_establishment_under_its_status(site: Path) -> None:
    page = soup(site / "index.html")
    glance = page.select_one("section.balise-glance")
    assert glance.h2.get_text() == "En bref"
    groups = [
        (
            g.select_one(".balise-status").get_text(),
            [(a.get_text(), a["href"]) for a in g.select(".balise-glance-names a")],
        )
        for g in glance.select(".balise-glance-group")
    ]
    assert groups == [
        ("✕ Activité interrompue", [("Clinique Alpha", "etablissements/alpha.html")]),
        ("⚠\ufe0e Mode dégradé", [("Centre Gamma", "etablissements/gamma.html")]),
        ("✓ Fonctionnement normal", [('Clinique <Beta> & "Co"', "etablissements/beta.html")]),
    ]
    assert glance.select_one(".balise-glance-help a")["href"] == "#balise-legend-title"


def test_incident_banner_comes_before_the_summary_and_links_its_thread(site: Path) -> None:
    page = soup(site / "index.html")
    banner = page.select_one("section.balise-incident")
    heading = banner.find("h2")
    assert heading.get_text(" ", strip=True).endswith("Incident en cours")
    assert banner["aria-labelledby"] == heading["id"]
    assert banner.a["href"] == "incidents/attaque.html"
    order = [
        s.get("class")[0] for s in page.select("section.balise-incident, section.balise-glance")
    ]
    assert order == ["balise-incident", "balise-glance"]


def test_every_status_shows_a_symbol_and_a_label_not_only_a_colour(site: Path) -> None:
    for html in site.rglob("*.html"):
        for status in soup(html).select(".balise-status"):
            icon = status.select_one(".balise-icon")
            assert icon is not None and icon["aria-hidden"] == "true", html
            assert icon.get_text().strip(), html
            label = status.get_text().replace(icon.get_text(), "").strip()
            assert label in set(STATUS_LABELS.values()), (html, label)


def test_the_legend_explains_each_status_once(site: Path) -> None:
    page = soup(site / "index.html")
    legends = page.select(".balise-legend")
    assert len(legends) == 1
    labels = [dt.get_text().split(" ", 1)[1] for dt in legends[0].select("dt")]
    assert sorted(labels) == sorted(STATUS_LABELS[s] for s in Status)
    assert all(dd.get_text().strip() for dd in legends[0].select("dd"))


def test_each_card_calls_by_a_tel_link(site: Path) -> None:
    alpha = soup(site / "index.html").select_one("li.balise-card.balise-card--down")
    assert alpha.select_one(".balise-phone a")["href"] == "tel:+33200000001"
    assert alpha.select_one(".balise-phone a").get_text() == "Appeler le +33 2 00 00 00 01"


def test_every_tel_link_holds_only_digits_and_a_leading_plus(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(DATA / "tiny", repo)
    registry = repo / "establishments.yml"
    registry.write_text(
        registry.read_text(encoding="utf-8")
        .replace('"+33 2 00 00 00 01"', '"+33 (0)2 99 00 00 01"')
        .replace('"+33 1 00 00 00 00"', '"02.99.00.00.00"'),
        encoding="utf-8",
    )
    outcome = build(repo, tmp_path / "site", TINY_NOW)
    assert outcome.ok, outcome.problems
    links = {
        (a.get_text(), a["href"])
        for html in (tmp_path / "site").rglob("*.html")
        for a in soup(html).select('a[href^="tel:"]')
    }
    assert links == {
        ("Appeler le +33 (0)2 99 00 00 01", "tel:+33299000001"),  # the (0) is not dialled
        ("02.99.00.00.00", "tel:0299000000"),  # the press contact
    }


def test_tel_href_keeps_digits_and_the_plus_of_an_international_number() -> None:
    assert tel_href("+33 2 99 00 00 00") == "tel:+33299000000"
    assert tel_href("+33\u00a0(0)2\u00a099-00-00-00") == "tel:+33299000000"
    assert tel_href("(02) 99 00 00 00") == "tel:0299000000"
    assert tel_href("15") == "tel:15"


def test_every_date_on_every_page_is_french(site: Path) -> None:
    seen = 0
    for html in site.rglob("*.html"):
        for time in soup(html).find_all("time"):
            text = time.get_text()
            if not text:  # the poster's print time: the script writes it when printing
                continue
            seen += 1
            assert FRENCH_LONG.match(text) or FRENCH_SHORT.match(text), (html, text)
            assert re.match(
                r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$", time["datetime"]
            )
    assert seen > 20


def test_establishment_page_is_also_its_front_desk_poster(site: Path) -> None:
    page = soup(site / "etablissements/alpha.html")
    poster = page.select_one(".balise-poster")
    link = poster.select_one("a[data-balise-print]")
    assert link.get_text() == "Imprimer l'affiche"
    assert link["href"] == "#balise-print-help"  # without a script: how to print
    assert poster.select_one("#balise-print-help").get_text().startswith("Pour poser cette page")
    assert poster.select_one(".balise-poster-url").get_text() == (
        "https://status.example.org/test/etablissements/alpha.html"
    )
    foot = poster.select_one(".balise-poster-foot").get_text(" ", strip=True)
    assert "Page générée le jeudi 10 octobre 2024 à 12:00" in foot
    printed = poster.select_one(".balise-printed")
    assert printed.has_attr("hidden") and printed["data-balise-timezone"] == "Europe/Paris"
    last = poster.select_one(".balise-current .balise-last")
    assert last.a["href"] == "../communiques/2024-10-05-alerte.html"
    assert last.select_one(".balise-last-summary").get_text().startswith("La clinique Alpha")


def test_no_page_holds_an_empty_time_element(site: Path) -> None:
    """An empty <time> without datetime is invalid HTML: the poster's "printed on" line gets
    its <time> from balise.js, at print time."""
    for html in sorted(site.rglob("*.html")):
        for time in soup(html).find_all("time"):
            assert time.has_attr("datetime") or time.get_text(strip=True), (html, time)
    printed = soup(site / "etablissements/alpha.html").select_one(".balise-printed")
    assert printed.get_text() == "Affiche imprimée le " and printed.find("time") is None


def test_every_page_loads_the_balise_script_as_a_local_file(site: Path) -> None:
    assert (site / "assets/balise.js").is_file()
    for html in (site / "index.html", site / "etablissements/alpha.html"):
        sources = [s["src"] for s in soup(html).find_all("script", src=True)]
        assert any(src.endswith("assets/balise.js") for src in sources), html
        assert not any("//" in src for src in sources), html


def test_search_dialog_has_an_accessible_name(site: Path) -> None:
    dialog = soup(site / "index.html").select_one('.md-search[role="dialog"]')
    assert dialog["aria-label"]


def test_an_establishment_history_shows_what_each_statement_said_of_it(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Its own status each time, not the whole group's over and over (a long history on a
    phone): the others are counted."""
    out = tmp_path_factory.mktemp("demo-history") / "site"
    assert build(ROOT, out, DEMO_NOW).ok
    page = soup(out / "etablissements/jules-verne.html")
    items = page.select(".balise-history .balise-statement")
    assert items
    for item in items:
        names = [a.get_text() for a in item.select(".balise-changes li a")]
        assert names in ([], ["Clinique Jules Verne"]), names
    cyberattack = next(i for i in items if "victime d’une cyberattaque" in i.get_text())
    changes = [li.get_text(" ", strip=True) for li in cyberattack.select(".balise-changes li")]
    assert changes == ["Clinique Jules Verne : ⚠︎ Mode dégradé", "et 8 autres établissements"]
    # A statement's own page still lists every establishment it set.
    statement = soup(out / "communiques/2024-10-05-communique-cyberattaque.html")
    assert len(statement.select(".balise-changes li")) == 9


# --- CONTRACT §9: services, where to go, next update, crisis line, maintenance -------------

PATIENTS_NOW = datetime.fromisoformat("2024-10-08T13:00:00+02:00")


@pytest.fixture(scope="module")
def patients_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("patients") / "site"
    outcome = build(DATA / "patients", out, PATIENTS_NOW)
    assert outcome.ok, outcome.problems
    return out


def _card(page: BeautifulSoup, name: str) -> BeautifulSoup:
    return next(c for c in page.select(".balise-card") if name in c.h3.get_text())


def test_overview_card_lists_services_not_normal_with_symbol_and_label(
    patients_site: Path,
) -> None:
    alpha = _card(soup(patients_site / "index.html"), "Clinique Alpha")
    services = [li.get_text(" ", strip=True) for li in alpha.select(".balise-services li")]
    assert services[0].startswith("Urgences : ◐ Activité perturbée")
    assert "Allez à : CHU de Rennes" in services[0]
    assert services[1] == "Chirurgie programmée : ✕ Activité interrompue"


def test_overview_card_links_the_redirect_establishment_and_the_latest_statement(
    patients_site: Path,
) -> None:
    alpha = _card(soup(patients_site / "index.html"), "Clinique Alpha")
    redirect = alpha.select_one("p.balise-redirect")
    assert redirect.a["href"] == "etablissements/beta.html"
    assert "Clinique Beta, Nantes" in redirect.get_text()
    assert alpha.select_one(".balise-latest a")["href"] == "communiques/02-chirurgie.html"


def test_crisis_line_and_emergency_rule_while_an_incident_is_active(patients_site: Path) -> None:
    hotline = soup(patients_site / "index.html").select_one(".balise-incident .balise-hotline")
    assert "En cas d'urgence vitale, appelez le 15." in hotline.get_text()
    assert hotline.a["href"] == "tel:+33200000099"
    page = soup(patients_site / "etablissements/alpha.html")
    assert page.select_one(".balise-current .balise-hotline") is not None


def test_establishment_page_lists_every_service_with_status_and_since(
    patients_site: Path,
) -> None:
    page = soup(patients_site / "etablissements/alpha.html")
    rows = page.select(".balise-current ul.balise-services--all > li")
    assert [r.select_one(".balise-service-name").get_text() for r in rows] == [
        "Urgences",
        "Chirurgie programmée",
    ]
    for row in rows:
        assert row.select_one(".balise-status .balise-icon").get_text()
        assert FRENCH_SHORT.match(row.select_one(".balise-service-since time").get_text())


def test_upcoming_maintenance_on_the_overview_and_the_establishment_page(
    patients_site: Path,
) -> None:
    overview = soup(patients_site / "index.html").select_one(".balise-maintenances")
    assert [li.a.get_text() for li in overview.select("li")] == ["Maintenance du réseau à Gamma"]
    assert "Maintenance prévue" in overview.get_text()
    gamma = soup(patients_site / "etablissements/gamma.html")
    assert "Maintenance prévue" in gamma.select_one(".balise-maintenance").get_text()


def test_next_update_reads_as_a_french_approximate_time() -> None:
    from zoneinfo import ZoneInfo

    from balise.french import around

    paris = ZoneInfo("Europe/Paris")
    moment = datetime.fromisoformat("2024-10-08T10:00:00+02:00")
    assert around(moment, paris) == "mardi 8 octobre vers 10 h"
    assert around(moment.replace(minute=30), paris) == "mardi 8 octobre vers 10 h 30"
    assert around(datetime.fromisoformat("2024-11-01T09:05:00+01:00"), paris) == (
        "vendredi 1er novembre vers 9 h 05"
    )


def test_demo_shows_next_update_no_call_and_the_surgery_redirect(tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert build(ROOT, out, datetime.fromisoformat("2024-10-10T12:00:00+02:00")).ok
    overview = soup(out / "index.html")
    assert "Prochain point : vendredi 11 octobre vers 16 h" in overview.get_text()
    sagesse = soup(out / "etablissements/la-sagesse.html").select_one(".balise-current")
    assert "CHU de Rennes" in sagesse.select_one(".balise-redirect").get_text()
    early = tmp_path / "early"
    assert build(ROOT, early, DEMO_NOW).ok
    page = soup(early / "etablissements/la-sagesse.html")
    assert "ne pas appeler" in page.select_one(".balise-no-call").get_text()
    after = tmp_path / "after"
    assert build(ROOT, after, datetime.fromisoformat("2024-12-01T12:00:00+01:00")).ok
    overview = soup(after / "index.html")
    assert overview.select_one(".balise-hotline") is None  # no incident is active
    assert "Maintenance prévue" in overview.select_one(".balise-maintenances").get_text()


def test_every_page_footer_links_the_legal_pages(patients_site: Path) -> None:
    for path in ("index.html", "etablissements/alpha.html", "communiques/01-attaque.html"):
        links = soup(patients_site / path).select(".balise-footer-links a")
        assert [a.get_text() for a in links] == ["Mentions légales", "Déclaration d'accessibilité"]


def test_accessibility_statement_gives_status_audit_rgaa_contact_and_recourse(
    patients_site: Path,
) -> None:
    page = soup(patients_site / "accessibilite.html")
    facts = dict(
        zip(
            [dt.get_text() for dt in page.select(".balise-facts dt")],
            [dd.get_text() for dd in page.select(".balise-facts dd")],
            strict=True,
        )
    )
    assert facts == {
        "État de conformité": "partiellement conforme",
        "Date de l'audit": "1er septembre 2024",
        "Version du RGAA": "4.1",
        "Contact": "accessibilite@example.org",
    }
    assert "Défenseur des droits" in page.get_text()
    assert page.select_one(".balise-legal-missing") is None


def test_missing_legal_facts_are_a_warning_and_said_on_the_page(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(DATA / "patients", root)
    registry = root / "establishments.yml"
    text = registry.read_text(encoding="utf-8")
    registry.write_text(text.replace("    director: Camille Essai\n", ""), encoding="utf-8")
    outcome = build(root, tmp_path / "site", PATIENTS_NOW)
    assert outcome.ok
    assert [str(p) for p in outcome.problems if "Mentions" in str(p)] == [
        "establishments.yml:1: warning: the page « Mentions légales » lacks director; it says "
        'so to its readers (add them under "organisation: legal:" (see the README))'
    ]
    page = soup(tmp_path / "site" / "mentions-legales.html")
    assert "Directeur ou directrice de la publication" in (
        page.select_one(".balise-legal-missing").get_text()
    )

"""CONTRACT §9 in Chromium: on a phone's first screen a patient sees whether the service they
need works and where to go if not; the front-desk poster carries services and redirect on
one A4 sheet. Screenshots land in test-artifacts/ for a person to look at."""

from __future__ import annotations

import re

from .conftest import PHONE
from .test_site import expect, pdf_pages

SAGESSE = "Clinique mutualiste La Sagesse"
SURGERY = "Chirurgie programmée"
REDIRECT = "CHU de Rennes (Pontchaillou)"


def on_first_screen(element: object) -> bool:
    box = element.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]


def test_the_first_phone_screen_shows_a_service_status_and_where_to_go(visit, artifacts) -> None:
    page = visit().open("index.html")
    page.screenshot(path=artifacts / "overview-services-phone.png")
    group = page.locator(".balise-glance-names > li").filter(
        has=page.get_by_role("link", name=SAGESSE, exact=True)
    )
    surgery = group.locator(".balise-services li").filter(has_text=SURGERY)
    expect(surgery).to_be_visible()
    expect(surgery.locator(".balise-status")).to_have_text(re.compile(r"^◐ Activité perturbée$"))
    redirect = surgery.locator(".balise-redirect")
    expect(redirect).to_contain_text(REDIRECT)
    for element in (surgery.locator(".balise-status"), redirect):
        assert on_first_screen(element), element
    # The emergency rule and the crisis line, on the same screen, while the incident lasts.
    hotline = page.locator(".balise-incident .balise-hotline")
    expect(hotline).to_contain_text("En cas d'urgence vitale, appelez le 15.")
    expect(hotline.locator("a[href^='tel:']")).to_be_visible()
    assert on_first_screen(hotline)
    expect(page.locator(".balise-incident .balise-next")).to_have_text(
        "Prochain point : vendredi 11 octobre vers 16 h"
    )


def test_the_establishment_page_on_a_phone_lists_every_service_and_the_redirect(
    visit, artifacts
) -> None:
    page = visit().open("etablissements/la-sagesse.html")
    page.screenshot(path=artifacts / "establishment-services-phone.png", full_page=True)
    services = page.locator(".balise-current ul.balise-services--all > li")
    expect(services).to_have_count(4)
    for row in services.all():
        expect(row.locator(".balise-status")).to_be_visible()
        expect(row.locator(".balise-service-since time")).to_be_visible()
    surgery = services.filter(has_text=SURGERY)
    assert on_first_screen(surgery.locator(".balise-status"))
    expect(surgery.locator(".balise-redirect")).to_contain_text(REDIRECT)


def test_the_poster_prints_services_redirect_and_the_latest_statement_on_one_a4_sheet(
    visit, artifacts
) -> None:
    page = visit().open("etablissements/la-sagesse.html")
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf_pages(pdf) == 1, f"the poster takes {pdf_pages(pdf)} pages"
    (artifacts / "poster-la-sagesse-services.pdf").write_bytes(pdf)
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    page.screenshot(path=artifacts / "poster-la-sagesse-services.png", full_page=True)
    current = page.locator(".balise-current")
    expect(current.locator("ul.balise-services--all > li")).to_have_count(4)
    expect(current.locator(".balise-redirect")).to_contain_text(REDIRECT)
    expect(current.locator(".balise-hotline")).to_be_visible()
    expect(current.locator(".balise-next")).to_be_visible()
    body = current.locator(".balise-poster-body")
    expect(body).to_be_visible()
    expect(body).to_contain_text("Chirurgie programmée : elle reste très réduite")
    expect(page.locator(".balise-footer-links")).to_be_hidden()


def test_every_page_footer_links_the_legal_pages(visit, artifacts) -> None:
    v = visit()
    for path in ("index.html", "etablissements/la-sagesse.html", "accessibilite.html"):
        page = v.open(path)
        footer = page.get_by_role("navigation", name="Informations légales")
        expect(footer.get_by_role("link", name="Mentions légales")).to_be_visible()
        expect(footer.get_by_role("link", name="Déclaration d'accessibilité")).to_be_visible()
        page.close()
    page = v.open("accessibilite.html")
    page.screenshot(path=artifacts / "accessibility-statement-phone.png", full_page=True)
    expect(page.get_by_text("Défenseur des droits", exact=False)).to_be_visible()

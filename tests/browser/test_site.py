"""The demo site as a worried patient meets it: a phone, Chromium, sometimes no JavaScript,
sometimes a screen reader, sometimes a printer at the front desk."""

from __future__ import annotations

import gzip
import importlib.util
import itertools
import json
import re
import sys
from pathlib import Path

import pytest

from .conftest import AXE, PHONE, ROOT

FRENCH_DATETIME = re.compile(
    r"^(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche) (1er|[12]?\d|3[01]) "
    r"(janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre)"
    r" \d{4} à \d{2}:\d{2}$"
)


def expect(locator: object) -> object:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def establishments(site: Path) -> list[dict]:
    return json.loads((site / "status.json").read_text(encoding="utf-8"))["establishments"]


def card(page: object, name: str) -> object:
    """The overview card of one establishment, found by its heading, as a screen reader would."""
    heading = page.get_by_role("heading", name=name, exact=True)
    return page.locator("li.balise-card").filter(has=heading)


def page_weight_module() -> object:
    spec = importlib.util.spec_from_file_location("page_weight", ROOT / "bench/page_weight.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


# --- At a glance -------------------------------------------------------------------------


def test_each_establishment_status_is_visible_on_the_overview(visit, demo_site) -> None:
    page = visit().open("index.html")
    for e in establishments(demo_site):
        one = card(page, e["name"])
        # The card's own status (its services' statuses are inside, in a list).
        expect(one.locator(":scope > .balise-status")).to_be_visible()
        expect(one.locator(":scope > .balise-status")).to_contain_text(e["label"])
        expect(one.locator(".balise-explanation")).to_be_visible()
        expect(one.locator("a[href^='tel:']")).to_be_visible()
        group = page.locator(".balise-glance-group").filter(
            has=page.get_by_role("link", name=e["name"], exact=True)
        )
        expect(group.locator(".balise-glance-status")).to_contain_text(e["label"])


def test_the_first_phone_screen_shows_the_incident_and_who_works_how(
    visit, demo_site, artifacts
) -> None:
    page = visit().open("index.html")
    page.screenshot(path=artifacts / "overview-phone.png")
    page.screenshot(path=artifacts / "overview-phone-full.png", full_page=True)
    banner = page.locator(".balise-incident")
    expect(banner).to_be_visible()
    # Every status in use and the establishments of the most severe one; since the services
    # and where to go (CONTRACT §9) are there too, the milder groups' names may run below.
    on_first_screen = [
        banner,
        *page.locator(".balise-glance-status").all(),
        *page.locator(".balise-glance-group").first.locator(".balise-glance-names > li > a").all(),
    ]
    assert len(on_first_screen) > 1
    for element in on_first_screen:
        box = element.bounding_box()
        assert box is not None and box["y"] + box["height"] <= PHONE["height"], element
    # Most severe first: the order of the summary follows the severity of the statuses.
    order = ["down", "disrupted", "degraded", "maintenance", "normal"]
    keys = [
        next(c for c in classes.split() if c.startswith("balise-card--")).split("--")[1]
        for classes in page.locator(".balise-glance-group").evaluate_all(
            "groups => groups.map(g => g.className)"
        )
    ]
    assert keys == sorted(keys, key=order.index)
    assert set(keys) == {e["status"] for e in establishments(demo_site)}


def test_the_overview_reads_in_the_dark_scheme_too(visit, artifacts) -> None:
    page = visit(color_scheme="dark").open("index.html")
    assert page.locator("body").get_attribute("data-md-color-scheme") == "slate"
    page.screenshot(path=artifacts / "overview-phone-dark.png")


def test_headings_and_landmarks_let_a_screen_reader_find_its_way(visit) -> None:
    page = visit().open("index.html")
    for role in ("banner", "main", "contentinfo"):
        expect(page.get_by_role(role)).to_have_count(1)
    assert page.get_by_role("navigation").count() >= 1
    assert page.locator("html").get_attribute("lang") == "fr"
    main = page.get_by_role("main")
    levels = main.locator("h1, h2, h3, h4, h5, h6").evaluate_all(
        "hs => hs.map(h => [Number(h.tagName[1]), h.textContent.trim()])"
    )
    assert [text for level, text in levels if level == 1] == ["État des établissements"]
    assert levels[0][0] == 1
    for (before, _), (after, text) in itertools.pairwise(levels):
        assert after <= before + 1, f"heading level skipped before {text!r}"
    h2 = [text for level, text in levels if level == 2]
    for expected in ("Incident en cours", "En bref", "Bretagne", "Pays de la Loire"):
        assert any(expected in text for text in h2), (expected, h2)


# --- Works for everyone --------------------------------------------------------------------


def test_no_request_leaves_the_local_origin(visit, demo_site, base_url) -> None:
    v = visit()
    first = establishments(demo_site)[0]["id"]
    for path in ("index.html", f"etablissements/{first}.html", "historique.html", "presse.html"):
        v.open(path, wait_until="networkidle")
    assert v.foreign == []
    assert any(url.endswith(".css") for url in v.local)
    assert all(url.startswith(base_url) for url in v.local if url.startswith("http"))


@pytest.mark.parametrize("kind", ["overview", "establishment", "statement", "404"])
def test_a_page_load_meets_no_4xx_and_no_console_error(visit, demo_site, kind) -> None:
    """Material's script reads each <link rel="alternate"> (the feeds) as another version of
    the site and fetches sitemap.xml beside it: feeds/sitemap.xml must be there."""
    data = json.loads((demo_site / "status.json").read_text(encoding="utf-8"))
    path = {
        "overview": "index.html",
        "establishment": f"etablissements/{data['establishments'][0]['id']}.html",
        "statement": f"communiques/{data['statements'][0]['id']}.html",
        "404": "404.html",
    }[kind]
    v = visit()
    page = v.context.new_page()
    failed: list[str] = []
    errors: list[str] = []
    page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    response = page.goto(v.base_url + path, wait_until="networkidle")
    assert response.status == 200
    assert page.evaluate("typeof __md_scope") == "object"  # Material's scripts ran
    assert any("sitemap.xml" in url for url in v.local)  # Material fetched what it wanted
    assert failed == []
    assert errors == []
    feeds = page.locator('link[rel="alternate"][type="application/atom+xml"]')
    assert feeds.count() >= 1  # still discoverable by feed readers


def test_the_site_works_without_javascript(visit, demo_site, artifacts) -> None:
    v = visit(java_script_enabled=False)
    page = v.open("index.html")
    page.screenshot(path=artifacts / "overview-phone-nojs.png")
    everyone = establishments(demo_site)
    for e in everyone:
        expect(card(page, e["name"]).locator(":scope > .balise-status")).to_contain_text(e["label"])
        expect(card(page, e["name"]).locator("a[href^='tel:']")).to_be_visible()
    expect(page.locator(".balise-incident a").first).to_be_visible()
    # Links are plain links: follow one to the establishment page.
    target = everyone[0]
    card(page, target["name"]).get_by_role("link", name=target["name"], exact=True).click()
    page.wait_for_url(f"**/etablissements/{target['id']}.html")
    expect(page.locator(".balise-current > .balise-status")).to_contain_text(target["label"])
    # Without a script, « Imprimer l'affiche » says how to print.
    help_text = page.locator("#balise-print-help")
    expect(help_text).to_be_hidden()
    page.get_by_role("link", name="Imprimer l'affiche").click()
    expect(help_text).to_be_visible()
    page.emulate_media(media="print")
    expect(page.get_by_text("Page générée le jeudi 10 octobre 2024 à 12:00")).to_be_visible()
    expect(page.locator(".balise-printed")).to_be_hidden()
    assert v.foreign == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(
    "kind", ["overview", "establishment", "statement", "incident", "press", "history", "follow"]
)
def test_axe_finds_no_serious_or_critical_violation(visit, demo_site, kind, scheme) -> None:
    data = json.loads((demo_site / "status.json").read_text(encoding="utf-8"))
    incident = next((s["incident"] for s in data["statements"] if s["incident"]), None)
    path = {
        "overview": "index.html",
        "establishment": f"etablissements/{data['establishments'][0]['id']}.html",
        "statement": f"communiques/{data['statements'][0]['id']}.html",
        "incident": f"incidents/{incident}.html",
        "press": "presse.html",
        "history": "historique.html",
        "follow": "suivre.html",
    }[kind]
    if not (demo_site / path).is_file():
        pytest.skip(f"the demo has no {path}")
    page = visit(color_scheme=scheme).open(path)
    expected_scheme = "slate" if scheme == "dark" else "default"
    assert page.locator("body").get_attribute("data-md-color-scheme") == expected_scheme
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    report = "\n".join(
        f"{v['impact']} {v['id']}: {v['help']}\n"
        + "\n".join(f"    {n['target']}: {n['failureSummary']}" for n in v["nodes"][:5])
        for v in serious
    )
    assert not serious, f"{path} ({scheme}):\n{report}"


# --- Paper mode ----------------------------------------------------------------------------


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def test_each_establishment_page_prints_as_a_one_sheet_a4_poster(
    visit, demo_site, artifacts
) -> None:
    v = visit()
    for e in establishments(demo_site):
        page = v.open(f"etablissements/{e['id']}.html")
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf_pages(pdf) == 1, f"{e['id']}: the poster takes {pdf_pages(pdf)} pages"
        page.close()
    # Look closely at the one with the most to say: what prints, and what does not.
    worst = establishments(demo_site)[0]
    page = v.open(f"etablissements/{worst['id']}.html")
    page.pdf(path=artifacts / f"poster-{worst['id']}.pdf", format="A4", print_background=True)
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    page.screenshot(path=artifacts / f"poster-{worst['id']}-print.png", full_page=True)
    current = page.locator(".balise-current")
    for shown in (
        page.get_by_role("heading", level=1, name=worst["name"]),
        current.locator(":scope > .balise-status"),
        current.locator(":scope > .balise-since"),
        current.locator(".balise-explanation"),
        current.locator(".balise-phone"),
        current.locator(".balise-last"),
        page.locator(".balise-poster-url"),
        page.get_by_text("Page générée le jeudi 10 octobre 2024 à 12:00"),
        page.locator(".balise-printed"),
    ):
        expect(shown).to_be_visible()
    expect(current.locator(":scope > .balise-status")).to_contain_text(worst["label"])
    expect(page.locator(".balise-poster-url")).to_have_text(
        re.compile(rf"^https?://.+/etablissements/{worst['id']}\.html$")
    )
    assert FRENCH_DATETIME.match(page.locator(".balise-printed time").inner_text())
    for hidden in (".md-header", ".md-footer", ".md-sidebar--primary", ".balise-history"):
        expect(page.locator(hidden).first).to_be_hidden()
    expect(page.get_by_role("link", name="Imprimer l'affiche")).to_be_hidden()


def test_the_poster_prints_black_on_white_from_the_dark_scheme(visit, demo_site) -> None:
    first = establishments(demo_site)[0]["id"]
    page = visit(color_scheme="dark").open(f"etablissements/{first}.html")
    assert page.locator("body").get_attribute("data-md-color-scheme") == "slate"
    assert pdf_pages(page.pdf(format="A4", print_background=True)) == 1
    page.emulate_media(media="print")
    colours = page.evaluate(
        """() => {
            const style = (selector) => getComputedStyle(document.querySelector(selector));
            return [style("html").colorScheme, style("body").backgroundColor, style("h1").color];
        }"""
    )
    assert colours == ["light", "rgb(255, 255, 255)", "rgb(0, 0, 0)"]


def test_the_print_link_opens_the_print_dialog(visit, demo_site) -> None:
    v = visit()
    v.context.add_init_script("window.print = () => { window.baliseAskedToPrint = true; };")
    first = establishments(demo_site)[0]["id"]
    page = v.open(f"etablissements/{first}.html")
    page.get_by_role("link", name="Imprimer l'affiche").click()
    assert page.evaluate("window.baliseAskedToPrint === true")
    assert "#" not in page.url  # the script took the click; the no-script fallback did not run


# --- Light ---------------------------------------------------------------------------------


def test_the_overview_loads_less_than_150_kb_compressed(visit, demo_site, base_url) -> None:
    v = visit()
    fetched: dict[str, bytes] = {}

    def keep(response: object) -> None:
        if response.ok and response.url.startswith(base_url):
            fetched[response.url.removeprefix(base_url)] = response.body()

    v.context.on("response", keep)
    v.open("index.html", wait_until="networkidle")
    page_weight = page_weight_module()
    measured = page_weight.page_weight(demo_site)
    listed = {r.path for r in measured.resources}
    assert set(fetched) <= listed, "the benchmark misses files the browser fetched"
    compressed = sum(len(gzip.compress(body, 9)) for body in fetched.values())
    assert compressed <= page_weight.BUDGET_KB * 1024, f"{compressed / 1024:.1f} KB"
    assert measured.under(), page_weight.report(measured)

"""Tests for balise.views: paths, status labels, and the page values built from a snapshot.

Values only: a repository built in memory, no files, no templates.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from conftest import DATA

from balise import views
from balise.model import (
    Establishment,
    Organisation,
    PressContact,
    Repository,
    Service,
    Site,
    Statement,
    StatementType,
    Status,
)
from balise.render.pages import render_page
from balise.render.templates import page_environment
from balise.timeline import snapshot, worst

NOW = datetime(2024, 10, 10, 10, 0, tzinfo=UTC)
SITE = "https://status.example.org/"


def at(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


def statement(sid: str, hours_ago: float, status: dict[str, Status], **fields: object) -> Statement:
    return Statement(
        id=sid,
        path=f"statements/{sid}.md",
        title=f"Titre {sid}",
        date=at(hours_ago),
        body="Texte.",
        summary=f"Résumé {sid}.",
        status=tuple(status.items()),
        **fields,  # type: ignore[arg-type]
    )


ESTABLISHMENTS = (
    Establishment(id="alpha", name="Hôpital Alpha", city="Rennes", region="Bretagne"),
    Establishment(id="beta", name="Clinique Beta", city="Nantes", region="Pays de la Loire"),
    Establishment(id="gamma", name="Centre Gamma", city="Brest", region="Bretagne", phone="15"),
)
STATEMENTS = (
    statement("alerte", 30, {"alpha": Status.DOWN, "beta": Status.DEGRADED}, incident="panne"),
    statement(
        "communique",
        20,
        {"alpha": Status.DOWN, "beta": Status.DEGRADED, "gamma": Status.DEGRADED},
        type=StatementType.PRESS_RELEASE,
        sets_all=True,
    ),
    statement("reprise", 2, {"beta": Status.NORMAL}, incident="panne", updated=at(1)),
)
REPOSITORY = Repository(
    organisation=Organisation(name="Hospi", press=PressContact(name="Service presse")),
    establishments=ESTABLISHMENTS,
    statements=STATEMENTS,
    site=Site(name="Hospi", url=SITE),
)
PAGES = views.site_pages(REPOSITORY, snapshot(REPOSITORY, NOW))


def test_paths_of_each_output() -> None:
    assert views.establishment_path("alpha") == "etablissements/alpha.html"
    assert views.statement_path("alerte") == "communiques/alerte.html"
    assert views.incident_path("panne") == "incidents/panne.html"
    assert views.feed_path("all", "atom") == "feeds/all.atom"
    assert views.badge_path("alpha") == "badges/alpha.svg"


def test_status_label_holds_the_french_words_and_symbol() -> None:
    shown = views.status_label(Status.DEGRADED)
    assert (shown.key, shown.label, shown.icon) == ("degraded", "Mode dégradé", "⚠\ufe0e")
    assert shown.explanation.startswith("Les soins continuent")


def test_legend_lists_every_status_once_mildest_first_maintenance_last() -> None:
    assert [s.status for s in views.LEGEND] == [
        Status.NORMAL,
        Status.DEGRADED,
        Status.DISRUPTED,
        Status.DOWN,
        Status.MAINTENANCE,
    ]


def test_most_severe_first_agrees_with_worst() -> None:
    assert views.MOST_SEVERE_FIRST[0] is worst(Status)
    for i, status in enumerate(views.MOST_SEVERE_FIRST):
        assert worst(views.MOST_SEVERE_FIRST[i:]) is status


def test_feeds_for_gives_atom_then_rss() -> None:
    atom, rss = views.feeds_for("alpha", "Hôpital Alpha")
    assert (atom.title, atom.path, atom.media_type) == (
        "Hôpital Alpha (Atom)",
        "feeds/alpha.atom",
        views.ATOM,
    )
    assert (rss.path, rss.media_type) == ("feeds/alpha.rss", views.RSS)


def test_when_prints_an_instant_three_ways() -> None:
    shown = views.when(datetime(2024, 10, 5, 6, 0, tzinfo=UTC), REPOSITORY.organisation.tz)
    assert shown == views.When(
        "2024-10-05T08:00:00+02:00", "samedi 5 octobre 2024 à 08:00", "5 oct. 2024, 08:00"
    )


def test_overview_describes_the_count_of_each_status() -> None:
    overview = PAGES.overview
    assert overview.description == (
        "Hospi : état de fonctionnement de chaque établissement "
        "(1 en fonctionnement normal, 1 en mode dégradé, 1 en activité interrompue)."
    )
    assert [(shown.status, n) for shown, n in overview.counts] == [
        (Status.NORMAL, 1),
        (Status.DEGRADED, 1),
        (Status.DOWN, 1),
    ]


def test_overview_groups_cards_by_region_in_registry_order() -> None:
    regions = [(r.name, [c.establishment.id for c in r.cards]) for r in PAGES.overview.regions]
    assert regions == [("Bretagne", ["alpha", "gamma"]), ("Pays de la Loire", ["beta"])]


def test_at_a_glance_is_most_severe_first() -> None:
    groups = [(g.status_label.status, len(g.cards)) for g in PAGES.overview.at_a_glance]
    assert groups == [(Status.DOWN, 1), (Status.DEGRADED, 1), (Status.NORMAL, 1)]


def test_overview_lists_recent_statements_newest_first_and_the_active_incident() -> None:
    assert [link.id for link in PAGES.overview.recent] == ["reprise", "communique", "alerte"]
    assert [i.id for i in PAGES.overview.active_incidents] == ["panne"]


def test_establishment_page_says_its_status_since_when() -> None:
    alpha = next(p for p in PAGES.establishments if p.card.establishment.id == "alpha")
    assert alpha.description == (
        "Hôpital Alpha (Rennes) : activité interrompue depuis le mercredi 9 octobre 2024 à 06:00."
    )
    assert alpha.card.statement is not None and alpha.card.statement.id == "communique"
    assert [link.id for link in alpha.history] == ["communique", "alerte"]
    assert alpha.badge_path == "badges/alpha.svg"


def test_card_calls_by_a_tel_link_only_when_there_is_a_phone() -> None:
    cards = {p.card.establishment.id: p.card for p in PAGES.establishments}
    assert cards["gamma"].phone_href == "tel:15"
    assert cards["alpha"].phone_href is None


def test_statement_link_shows_each_status_it_set() -> None:
    page = next(p for p in PAGES.statements if p.link.id == "communique")
    link = page.link
    assert link.type_label == "Communiqué de presse" and link.is_press
    assert link.sets_all
    assert [(c.establishment.id, c.path, c.status_label.status) for c in link.changes] == [
        ("alpha", "etablissements/alpha.html", Status.DOWN),
        ("beta", "etablissements/beta.html", Status.DEGRADED),
        ("gamma", "etablissements/gamma.html", Status.DEGRADED),
    ]
    assert link.url == SITE + "communiques/communique.html"
    assert page.press is REPOSITORY.organisation.press


def test_statement_page_shows_a_correction_only_when_later_than_the_date() -> None:
    pages = {p.link.id: p for p in PAGES.statements}
    assert pages["alerte"].updated is None
    assert pages["reprise"].updated is not None
    assert pages["reprise"].updated.iso == "2024-10-10T11:00:00+02:00"
    assert pages["reprise"].link.type_label == "Point de situation"
    assert pages["reprise"].press is None


def test_incident_page_shows_its_worst_status_and_thread_newest_first() -> None:
    (page,) = PAGES.incidents
    assert page.incident.worst.status is Status.DOWN
    assert page.incident.active and page.incident.resolved is None
    assert [link.id for link in page.thread] == ["reprise", "alerte"]
    assert [mention.establishment.id for mention in page.affected] == ["alpha", "beta"]
    # what the thread last said of each: beta's return (reprise), alpha's outage (alerte),
    # not the press release outside the thread that also set them
    said = {m.establishment.id: (m.status_label.status, m.point.id) for m in page.affected}
    assert said == {"alpha": (Status.DOWN, "alerte"), "beta": (Status.NORMAL, "reprise")}
    assert page.hotline is not None  # active: the emergency rule is shown


def test_incident_page_does_not_change_with_statements_outside_its_thread() -> None:
    """Its page is the thread's record: a later statement elsewhere leaves it as it was."""
    later = statement("ailleurs", 1, {"alpha": Status.NORMAL, "beta": Status.DOWN})
    repository = replace(REPOSITORY, statements=(*STATEMENTS, later))
    (after,) = views.site_pages(repository, snapshot(repository, NOW)).incidents
    assert after == PAGES.incidents[0]
    # while the overview's cards follow the new statement
    cards = views.site_pages(repository, snapshot(repository, NOW)).overview
    assert cards != PAGES.overview


def test_incident_page_names_the_services_its_thread_set_apart() -> None:
    services = (Service("urgences", "Urgences"), Service("imagerie", "Imagerie"))
    alpha = replace(ESTABLISHMENTS[0], services=("urgences", "imagerie"))
    thread = (
        statement(
            "coupure",
            3,
            {"alpha": Status.DEGRADED},
            incident="reseau",
            service_status=(("alpha/urgences", Status.DEGRADED), ("alpha/imagerie", Status.DOWN)),
        ),
    )
    repository = replace(
        REPOSITORY,
        establishments=(alpha, *ESTABLISHMENTS[1:]),
        services=services,
        statements=thread,
    )
    (page,) = views.site_pages(repository, snapshot(repository, NOW)).incidents
    (mention,) = page.affected
    assert mention.status_label.status is Status.DEGRADED
    # the service whose status differs from the establishment's, with its name
    assert [(name, label.status) for name, label in mention.services] == [("Imagerie", Status.DOWN)]


def test_press_page_lists_only_press_releases() -> None:
    assert [link.id for link in PAGES.press.statements] == ["communique"]
    assert [link.id for link in PAGES.history.statements] == ["reprise", "communique", "alerte"]


def test_channels_are_all_press_then_one_per_establishment() -> None:
    channels = PAGES.follow.channels
    assert [c.name for c in channels] == ["all", "press", "alpha", "beta", "gamma"]
    gamma = channels[-1]
    assert [s.id for s in gamma.statements] == ["communique"]
    assert gamma.page_path == "etablissements/gamma.html"
    assert [f.path for f in gamma.feeds] == ["feeds/gamma.atom", "feeds/gamma.rss"]


def test_follow_page_links_every_svg_badge() -> None:
    badges = PAGES.follow.badges
    first = badges[0]
    assert (first.path, first.url, first.page_url) == (
        "badges/alpha.svg",
        SITE + "badges/alpha.svg",
        SITE + "etablissements/alpha.html",
    )
    assert len(badges) == len(ESTABLISHMENTS)


def test_every_page_has_a_distinct_path() -> None:
    paths = [page.path for page in PAGES.all()]
    # + the establishments' index, legal pages, history index, one month of history
    assert len(paths) == len(set(paths)) == 3 + 3 + 1 + 4 + 2 + 1 + 1


def months_repository(*statements: Statement) -> Repository:
    return Repository(
        organisation=Organisation(name="Hospi"),
        establishments=ESTABLISHMENTS,
        statements=statements,
        site=Site(name="Hospi", url=SITE),
    )


def test_the_history_is_split_by_month_in_local_time() -> None:
    late = statement("fin-septembre", 0, {"alpha": Status.DOWN})
    first = statement("debut-octobre", 0, {"alpha": Status.NORMAL})
    old = statement("aout", 0, {"beta": Status.DEGRADED})
    repository = months_repository(
        replace(old, date=datetime(2024, 8, 15, 8, 0, tzinfo=UTC)),
        replace(late, date=datetime(2024, 9, 30, 21, 0, tzinfo=UTC)),  # 23:00 in Paris
        replace(first, date=datetime(2024, 9, 30, 22, 30, tzinfo=UTC)),  # 00:30 on 1 Oct
    )
    pages = views.site_pages(repository, snapshot(repository, NOW))
    assert [m.month for m in pages.history.months] == ["2024-10", "2024-09", "2024-08"]
    assert pages.history.months[0].label == "octobre 2024"
    assert [m.path for m in pages.months] == [
        "historique/2024-10.html",
        "historique/2024-09.html",
        "historique/2024-08.html",
    ]
    assert [[s.id for s in m.statements] for m in pages.months] == [
        ["debut-octobre"],
        ["fin-septembre"],
        ["aout"],
    ]
    assert [s.id for s in pages.history.statements] == ["debut-octobre"]  # the latest month
    assert [m.count for m in pages.history.months] == [1, 1, 1]
    assert set(pages.months) <= set(pages.all())


def test_a_new_statement_leaves_closed_months_pages_as_they_were() -> None:
    env = page_environment(DATA / "tiny")
    old = replace(STATEMENTS[0], date=datetime(2024, 9, 1, 8, 0, tzinfo=UTC))
    before = months_repository(old, STATEMENTS[2])
    after = months_repository(old, STATEMENTS[1], STATEMENTS[2])
    pages = [views.site_pages(r, snapshot(r, NOW)) for r in (before, after)]
    closed = [{m.path: render_page(m, env) for m in p.months[1:]} for p in pages]
    assert closed[0] == closed[1] and list(closed[0]) == ["historique/2024-09.html"]
    assert render_page(pages[0].months[0], env) != render_page(pages[1].months[0], env)

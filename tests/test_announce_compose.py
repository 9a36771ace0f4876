"""Composing posts: counting as each network counts, the French status line, fitting, facets."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from announce_fakes import make_repository, statement
from hypothesis import given, settings
from hypothesis import strategies as st

from balise.announce.compose import (
    LIMITS,
    bluesky_length,
    compose,
    link_facets,
    mastodon_length,
    post_problems,
    short_name,
    status_line,
    without_markdown,
    x_length,
)
from balise.announce.post import social_problems
from balise.build import check
from balise.model import Repository, Statement, Status
from balise.templating import environment

NETWORKS = ("x", "mastodon", "bluesky")
LINK = "https://status.example.org/communiques/2024-10-08-cyberattaque.html"


def load(root: Path) -> Repository:
    outcome = check(root)
    assert outcome.repository is not None, outcome.problems
    return outcome.repository


def social_check(root: Path) -> list[str]:
    """What `check` reports about posts (the check of the sources alone knows nothing of them)."""
    return [str(p) for p in social_problems(root, load(root))]


def env(root: Path):
    return environment(root / "templates", html=False)


def one(tmp_path: Path, *front: str, title: str = "Cyberattaque", social_ok: bool = True):
    root = make_repository(tmp_path, {"s": statement(title, "2024-10-08T07:30:00+02:00", *front)})
    repository = load(root) if social_ok else None
    return root, repository


# --- counting: X (twitter-text v3 conformance, WeightedTweetsWithDiscountedEmojiCounterTest)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # cases from twitter-text's conformance/validate.yml (v3 configuration)
        ("H\U0001f431\u263a\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466", 7),
        ("\U0001f637\U0001f47e\U0001f621\U0001f525\U0001f4a9", 10),
        ("\U0001f64b\U0001f3fd\U0001f468\u200d\U0001f3a4", 4),
        ("A\u0301B", 2),  # 'Á' decomposed: normalised into 1 character
        ("https://www.twitter.com/aloha " * 10, 240),
        ("randomurlrandomurlrandomurlrandomurlrandomurlrandomurlrandomurls.com", 68),
        ("Test https://test.com test https://test.com test.com test", 86),
        # the rules themselves
        ("https://status.example.org/communiques/un-tres-long-identifiant-de-communique.html", 23),
        ("sante.fr", 23),  # X links a bare domain too
        ("😷", 2),
        ("日本語", 6),
        ("Établissement à l'arrêt", 23),  # accented Latin counts 1
        ("é" * 280, 280),
    ],
)
def test_x_weighted_length_follows_twitter_text(text: str, expected: int) -> None:
    assert x_length(text) == expected


def test_mastodon_counts_each_link_as_23_and_graphemes() -> None:
    assert mastodon_length("Voir " + LINK) == 5 + 23
    assert mastodon_length("Voir sante.fr") == len("Voir sante.fr")  # no scheme, no link
    assert mastodon_length("👩\u200d👩\u200d👧 é") == 3
    assert mastodon_length("Écrire à @presse@social.example.org") == len("Écrire à @presse")


def test_bluesky_counts_graphemes_and_the_link_in_full() -> None:
    assert bluesky_length("Voir " + LINK) == 5 + len(LINK)
    assert bluesky_length("e\u0301👩\u200d👩\u200d👧") == 2


def test_bluesky_facet_byte_offsets_after_accented_text() -> None:
    text = f"Hôpital fermé — « état » 😷\n{LINK}"
    (facet,) = link_facets(text, LINK)
    raw = text.encode("utf-8")
    assert raw[facet.byte_start : facet.byte_end].decode("utf-8") == LINK
    assert facet.byte_start == len("Hôpital fermé — « état » 😷\n".encode())
    assert facet.byte_start > text.index(LINK)  # bytes, not characters
    assert facet.as_record() == {
        "index": {"byteStart": facet.byte_start, "byteEnd": facet.byte_end},
        "features": [{"$type": "app.bsky.richtext.facet#link", "uri": LINK}],
    }


def test_every_http_link_of_a_social_text_gets_a_facet() -> None:
    text = f"Infos sur https://sante.fr/alerte et ici : {LINK}"
    facets = link_facets(text, LINK)
    assert [f.uri for f in facets] == ["https://sante.fr/alerte", LINK]


# --- plain text -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("*pas* de **markdown**", "pas de markdown"),
        ("__gras__ et _italique_", "gras et italique"),
        ("[le site](https://example.org) et `code`", "le site et code"),
        ("## Titre", "Titre"),
        (r"\*étoiles\* gardées", "*étoiles* gardées"),
        ("snake_case_name et 2*3*4", "snake_case_name et 2*3*4"),
        ('Point <urgent> & "essentiel"', 'Point <urgent> & "essentiel"'),
        ("  espaces   en   trop  ", "espaces en trop"),
    ],
)
def test_without_markdown_removes_markdown_markup_only(written: str, shown: str) -> None:
    assert without_markdown(written) == shown


# --- the status line ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("Clinique mutualiste La Sagesse", "La Sagesse"),
        ("Clinique mutualiste de l'Estuaire", "Estuaire"),
        ("Clinique Jules Verne", "Jules Verne"),
        ("Centre hospitalier de Saint-Nazaire", "Saint-Nazaire"),
        ("Polyclinique de l’Atlantique", "Atlantique"),
        ("Hôpital privé du Confluent", "Confluent"),
        ("Maternité Atlantique", "Maternité Atlantique"),
        ("Clinique", "Clinique"),
    ],
)
def test_short_name_drops_the_kind_of_establishment(name: str, short: str) -> None:
    assert short_name(name) == short


def test_status_line_names_each_establishment_worst_first(tmp_path: Path) -> None:
    _, repo = one(tmp_path, "status:", "  estuaire: dégradé", "  la-sagesse: interrompu")
    assert status_line(repo.statements[0], repo) == (
        "La Sagesse : activité interrompue · Estuaire : mode dégradé"
    )


def test_status_line_groups_establishments_sharing_a_status(tmp_path: Path) -> None:
    _, repo = one(
        tmp_path, "status:", "  estuaire: dégradé", "  jules-verne: degraded", "  iroise: normal"
    )
    assert status_line(repo.statements[0], repo) == (
        "Estuaire, Jules Verne : mode dégradé · Iroise : fonctionnement normal"
    )


def test_status_line_for_all_and_for_all_with_exceptions(tmp_path: Path) -> None:
    root = make_repository(
        tmp_path,
        {
            "a": statement("Tous", "2024-10-08T07:30:00+02:00", "status:", "  all: dégradé"),
            "b": statement(
                "Sauf un",
                "2024-10-08T08:30:00+02:00",
                "status:",
                "  all: dégradé",
                "  la-sagesse: interrompu",
            ),
        },
    )
    repo = load(root)
    every, but_one = repo.statements
    assert status_line(every, repo) == "Tous les établissements : mode dégradé"
    assert status_line(but_one, repo) == (
        "La Sagesse : activité interrompue · Autres établissements : mode dégradé"
    )
    assert status_line(but_one, repo, counted=True) == (
        "1 établissement : activité interrompue · 5 établissements : mode dégradé"
    )


def test_status_line_counts_when_many_establishments_are_named(tmp_path: Path) -> None:
    ids = ["la-sagesse", "estuaire", "jules-verne", "broceliande", "atlantique"]
    _, repo = one(tmp_path, "status:", *(f"  {i}: perturbé" for i in ids))
    assert status_line(repo.statements[0], repo) == "5 établissements : activité perturbée"


def test_a_statement_without_status_has_no_status_line(tmp_path: Path) -> None:
    root, repo = one(tmp_path)
    assert status_line(repo.statements[0], repo) == ""
    post = compose(repo.statements[0], repo, "x", env(root))
    assert post.text == "Cyberattaque\nhttps://status.example.org/communiques/s.html"


# --- composing ------------------------------------------------------------------------


def test_the_post_of_a_tiny_statement_is_title_statuses_link(tiny: Path) -> None:
    repo = load(tiny)
    first = repo.statements[0]
    link = "https://status.example.org/test/communiques/2024-10-05-alerte.html"
    expected = (
        "Cyberattaque à la clinique Alpha\n"
        "Alpha : activité interrompue · Autres établissements : mode dégradé\n" + link
    )
    for network in NETWORKS:
        post = compose(first, repo, network, env(tiny))
        assert post.text == expected
        assert post.link == link
        assert post.fits
    assert compose(first, repo, "x", env(tiny)).length == 32 + 1 + 67 + 1 + 23
    assert compose(first, repo, "mastodon", env(tiny)).length == 32 + 1 + 67 + 1 + 23
    bluesky = compose(first, repo, "bluesky", env(tiny))
    assert bluesky.length == len(expected)
    (facet,) = bluesky.facets
    assert expected.encode()[facet.byte_start : facet.byte_end].decode() == link


def test_posts_show_the_title_as_written_never_the_body(tiny: Path) -> None:
    repo = load(tiny)
    for s in repo.statements:
        for network in NETWORKS:
            text = compose(s, repo, network, env(tiny)).text
            assert text.startswith(s.post_text if s.post_text is not None else s.title)
            assert "Apportez vos documents" not in text  # never the body
    point = next(s for s in repo.statements if s.id == "2024-10-06-point")
    assert compose(point, repo, "x", env(tiny)).text.startswith(
        'Point <urgent> & "essentiel" : *pas* de markdown\n'  # plain text, not markdown
    )


@pytest.mark.parametrize(
    "title",
    ["Le __class__ de Python", "2*3*4 lits, *pas* **moins**", "[Info] `15` ## # > - _a_ ~~b~~"],
)
def test_a_title_is_plain_text_and_reaches_every_post_verbatim(tmp_path: Path, title: str) -> None:
    root, repo = one(tmp_path, "status:", "  la-sagesse: dégradé", title=title)
    [s] = repo.statements
    for network in NETWORKS:
        assert compose(s, repo, network, env(root)).text.split("\n")[0] == title


def test_an_establishment_name_is_plain_text_in_posts(tmp_path: Path) -> None:
    _, repo = one(tmp_path, "status:", "  la-sagesse: dégradé")
    sagesse = replace(repo.establishments[0], name="Clinique __Sagesse__ *Rennes*")
    repo = replace(repo, establishments=(sagesse, *repo.establishments[1:]))
    assert status_line(repo.statements[0], repo) == "__Sagesse__ *Rennes* : mode dégradé"


def test_the_social_text_replaces_the_title(tmp_path: Path) -> None:
    root, repo = one(
        tmp_path,
        'social: "Urgences **ouvertes** à La Sagesse : venez avec vos papiers."',
        "status:",
        "  la-sagesse: dégradé",
    )
    post = compose(repo.statements[0], repo, "mastodon", env(root))
    assert post.text == (
        "Urgences ouvertes à La Sagesse : venez avec vos papiers.\n"
        "La Sagesse : mode dégradé\n"
        "https://status.example.org/communiques/s.html"
    )


def test_a_long_title_is_cut_at_a_word_to_fit_x_and_keeps_the_link(tmp_path: Path) -> None:
    title = " ".join(["Perturbations"] * 14)  # 195 characters
    statuses = [
        "  la-sagesse: interrompu",
        "  estuaire: perturbé",
        "  jules-verne: dégradé",
        "  broceliande: maintenance",
    ]
    root, repo = one(tmp_path, "status:", *statuses, title=title)
    post = compose(repo.statements[0], repo, "x", env(root))
    assert post.fits and post.length <= 280
    assert post.text.endswith("\nhttps://status.example.org/communiques/s.html")
    assert "…" in post.text.splitlines()[0]
    assert "title shortened" in post.adjustments
    assert "activité interrompue" in post.text
    # Mastodon has room for everything
    assert compose(repo.statements[0], repo, "mastodon", env(root)).adjustments == ()


def test_cjk_and_emoji_titles_are_cut_by_weight_on_x(tmp_path: Path) -> None:
    title = "紧急 " * 66  # 198 characters, weight 2 for each ideograph
    root, repo = one(tmp_path, title=title.strip())
    post = compose(repo.statements[0], repo, "x", env(root))
    assert post.fits and post.length == x_length(post.text) <= 280
    assert compose(repo.statements[0], repo, "bluesky", env(root)).adjustments == ()


def test_a_title_without_spaces_is_cut_between_graphemes(tmp_path: Path) -> None:
    title = "紧急通知" * 50  # 200 ideographs, weight 400 on X, no word boundary
    root, repo = one(tmp_path, "status:", "  estuaire: dégradé", title=title)
    post = compose(repo.statements[0], repo, "x", env(root))
    assert post.fits and 270 <= post.length <= 280
    assert post.text.splitlines()[0].endswith("…")
    assert post.text.splitlines()[1] == "Estuaire : mode dégradé"  # shorter than a count
    assert post.adjustments == ("title shortened",)


def test_a_repository_template_overrides_the_post(tmp_path: Path) -> None:
    root, repo = one(tmp_path, "status:", "  estuaire: dégradé")
    (root / "templates" / "posts").mkdir(parents=True)
    (root / "templates" / "posts" / "x.txt").write_text(
        "[{{ organisation }}] {{ text }}\n{{ statuses }}\n\n{{ link }}\n", encoding="utf-8"
    )
    x = compose(repo.statements[0], repo, "x", env(root))
    assert x.text == (
        "[Hospi Test] Cyberattaque\nEstuaire : mode dégradé\n\n"
        "https://status.example.org/communiques/s.html"
    )
    assert not compose(repo.statements[0], repo, "mastodon", env(root)).text.startswith("[")


# --- check ----------------------------------------------------------------------------


def test_a_social_text_too_long_is_a_check_error_at_its_line(tmp_path: Path) -> None:
    long_text = "Très " * 60  # 300 characters: too long for X and Bluesky, fine for Mastodon
    root = make_repository(
        tmp_path,
        {
            "trop-long": statement(
                "Titre",
                "2024-10-08T07:30:00+02:00",
                "status:",
                "  estuaire: dégradé",
                f"social: {long_text.strip()}",
            )
        },
    )
    assert check(root).ok  # the site can be built; `check` and `post` refuse the post
    messages = social_check(root)
    assert any(
        m.startswith('statements/trop-long.md:6: "social" is too long for X') for m in messages
    )
    assert any("too long for Bluesky" in m for m in messages)
    assert not any("Mastodon" in m for m in messages)


def test_social_false_and_fitting_texts_pass_check(tmp_path: Path) -> None:
    root = make_repository(
        tmp_path,
        {
            "a": statement("A", "2024-10-08T07:30:00+02:00", "social: false"),
            "b": statement("B", "2024-10-08T08:30:00+02:00", "social: Un texte court."),
        },
    )
    assert check(root).ok
    assert social_check(root) == []
    assert post_problems(load(root), env(root)) == []


def test_a_broken_post_template_is_a_check_error(tmp_path: Path) -> None:
    root, _ = one(tmp_path)
    (root / "templates" / "posts").mkdir(parents=True)
    (root / "templates" / "posts" / "post.txt").write_text("{{ text }\n", encoding="utf-8")
    problems = social_check(root)
    assert any(p.startswith("templates/posts/post.txt:1: post template error") for p in problems)


def test_a_post_template_failing_at_render_time_is_reported_at_its_line(tmp_path: Path) -> None:
    root, _ = one(tmp_path)
    (root / "templates" / "posts").mkdir(parents=True)
    (root / "templates" / "posts" / "post.txt").write_text("{{ text }}\n{{ nope }}\n")
    assert social_check(root) == [
        "templates/posts/post.txt:2: post template error: 'nope' is undefined"
    ]


# --- property: a title always fits ------------------------------------------------------

_TITLES = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=200
).filter(lambda t: t.strip() and without_markdown(t).strip())


@pytest.fixture(scope="module")
def empty_repository(tmp_path_factory) -> tuple[Path, Repository]:
    root = make_repository(tmp_path_factory.mktemp("property"), {})
    return root, load(root)


@settings(max_examples=60, deadline=None)
@given(title=_TITLES)
def test_any_title_gives_a_post_that_fits_every_network(empty_repository, title: str) -> None:
    root, repo = empty_repository
    s = Statement(
        id="s",
        path="statements/s.md",
        title=title.strip(),
        date=datetime.fromisoformat("2024-10-08T07:30:00+02:00"),
        body="",
        summary="",
        status=tuple((e.id, Status.DOWN) for e in repo.establishments[:3]),
    )
    repo = replace(repo, statements=(s,))
    for network in NETWORKS:
        post = compose(s, repo, network, env(root))
        assert post.fits, (network, post.length, post.text)
        assert post.text.endswith(post.link)
        assert post.length <= LIMITS[network].maximum


# --- services in the status line (CONTRACT §9) --------------------------------------------

PATIENTS = Path(__file__).parent / "data" / "patients"
DEMO = Path(__file__).parent.parent


def _statement(repository: Repository, statement_id: str) -> Statement:
    return next(s for s in repository.statements if s.id == statement_id)


def test_status_line_names_a_service_set_apart_from_its_establishment() -> None:
    repository = load(PATIENTS)
    line = status_line(_statement(repository, "01-attaque"), repository)
    assert line == "Alpha : activité interrompue · Urgences (Alpha) : activité perturbée"


def test_status_line_of_services_alone() -> None:
    repository = load(PATIENTS)
    line = status_line(_statement(repository, "02-chirurgie"), repository)
    assert line == "Chirurgie programmée (Alpha) : activité interrompue"


def test_status_line_groups_services_of_one_establishment_and_counts_them_when_compact() -> None:
    repository = load(DEMO)
    reprise = _statement(repository, "2024-10-08-la-sagesse-reprise-partielle")
    assert status_line(reprise, repository) == (
        "La Sagesse : activité perturbée · "
        "Soins non programmés, Maternité (La Sagesse) : mode dégradé"
    )
    assert status_line(reprise, repository, counted=True) == (
        "1 établissement : activité perturbée · 2 services : mode dégradé"
    )


@pytest.mark.parametrize("network", NETWORKS)
def test_posts_with_services_fit_every_network(network: str) -> None:
    repository = load(DEMO)
    for found in repository.statements:
        assert compose(found, repository, network, env(DEMO)).fits

"""Tests for balise.text and balise.text.plain: slugs, ISO instants, rendered HTML as plain
text (lines and first paragraph, one extractor), with values."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from balise.model import ID_PATTERN
from balise.text import collapse, parse_iso_instant, shorten, slugify
from balise.text.plain import first_paragraph, plain_text


def test_slugify_drops_accents_and_separates_words_by_one_hyphen() -> None:
    assert slugify("Point d'étape n°2 — Été") == "point-d-etape-n-2-ete"
    assert slugify("Point d’étape") == slugify("Point d'étape") == "point-d-etape"
    assert slugify("  Straße  ") == "strasse"


def test_slugify_is_empty_when_nothing_is_left() -> None:
    assert slugify("!!! ?") == ""
    assert slugify("« » —", limit=10) == ""


def test_slugify_makes_the_ids_of_hosts_and_regions() -> None:
    # what render/api.py's page and group ids need (with its fallback "x" for "")
    assert slugify("status.example.org/") == "status-example-org"
    assert slugify("Pays de la Loire") == "pays-de-la-loire"
    assert slugify("Provence-Alpes-Côte d'Azur") == "provence-alpes-cote-d-azur"


def test_slugify_with_a_limit_cuts_between_words() -> None:
    assert slugify("un deux trois", limit=9) == "un-deux"
    assert slugify("un deux trois", limit=7) == "un-deux"
    assert slugify("anticonstitutionnellement", limit=10) == "anticonsti"
    assert slugify("un deux", limit=None) == "un-deux"


@given(st.text(max_size=80), st.integers(min_value=1, max_value=40))
def test_a_slug_is_an_id_and_a_limited_one_a_prefix_of_whole_words(text: str, limit: int) -> None:
    full = slugify(text)
    cut = slugify(text, limit)
    assert full == "" or re.fullmatch(ID_PATTERN, full)
    assert len(cut) <= limit and full.startswith(cut)
    if cut and len(cut) < len(full) and "-" in cut:
        assert full[len(cut)] == "-"


def test_parse_iso_instant_reads_offsets_and_a_final_z() -> None:
    assert parse_iso_instant("2024-10-05T08:00:00+02:00") == datetime(
        2024, 10, 5, 8, tzinfo=timezone(timedelta(hours=2))
    )
    assert parse_iso_instant("2024-10-05T06:00:00Z") == datetime(2024, 10, 5, 6, tzinfo=UTC)
    assert parse_iso_instant("2024-10-05 08:00") == datetime(2024, 10, 5, 8)  # naive: caller says


def test_parse_iso_instant_is_none_for_anything_else() -> None:
    assert parse_iso_instant("5 octobre 2024") is None
    assert parse_iso_instant("2024-02-30") is None
    assert parse_iso_instant("") is None


def test_first_paragraph_skips_headings_and_collapses_whitespace() -> None:
    html = "<h2>Titre</h2>\n<p>Les   urgences\nsont <strong>ouvertes</strong>.</p><p>Suite.</p>"
    assert first_paragraph(html, 280) == "Les urgences sont ouvertes."


def test_first_paragraph_without_a_paragraph_is_all_the_text() -> None:
    assert first_paragraph("<ul><li>un</li><li>deux</li></ul>", 280) == "un deux"
    assert first_paragraph("<h1>Titre</h1><script>x()</script>", 280) == ""


def test_first_paragraph_is_shortened_at_a_word() -> None:
    assert first_paragraph("<p>un deux trois quatre</p>", 10) == "un deux…"


def test_first_paragraph_reads_a_line_break_as_a_space() -> None:
    assert first_paragraph("<p>un<br>deux</p>", 280) == "un deux"


def test_plain_text_is_one_line_per_block_headings_included() -> None:
    html = "<h2>Titre</h2>\n<p>Les   urgences\nsont <strong>ouvertes</strong>.</p><p>un<br>deux</p>"
    assert plain_text(html) == "Titre\nLes urgences sont ouvertes.\nun\ndeux"


def test_plain_text_marks_list_items_and_joins_table_cells() -> None:
    assert plain_text("<ul><li>un</li><li>deux</li></ul>") == "- un\n- deux"
    table = "<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>"
    assert plain_text(table) == "a | b\n1 | 2"


def test_plain_text_drops_markup_scripts_and_styles_keeps_characters() -> None:
    html = "<p>a &amp; &lt;b&gt;</p><script>x()</script><style>p {}</style><p>c</p>"
    assert plain_text(html) == "a & <b>\nc"


def test_shorten_and_collapse() -> None:
    assert shorten("court", 10) == "court"
    assert shorten("un, deux trois", 8) == "un…"
    assert collapse("  a \n\t b  ") == "a b"

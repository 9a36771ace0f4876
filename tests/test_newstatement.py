"""`publish.py new`: the file it writes, its permanent id, and what `check` then says of it."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from balise.model import ID_PATTERN
from balise.newstatement import slugify, write_new_statement

NOW = datetime.fromisoformat("2024-10-11T09:15:00+02:00")
LONG_TITLE = "Point de situation : reprise des consultations et retour au fonctionnement normal"


def test_a_long_title_gives_an_id_cut_between_words(tiny: Path) -> None:
    result = write_new_statement(
        tiny, title=LONG_TITLE, statuses=[], type_="update", incident=None, now=NOW
    )
    assert result.problems == ()
    assert result.path is not None
    assert result.path.name == (
        "2024-10-11-point-de-situation-reprise-des-consultations-et-retour-au.md"
    )


def test_slugify_never_cuts_a_word() -> None:
    assert slugify(LONG_TITLE) == "point-de-situation-reprise-des-consultations-et-retour-au"
    assert slugify("Reprise à l'Estuaire !") == "reprise-a-l-estuaire"
    assert slugify("x" * 59 + " y") == "x" * 59  # "-y" would pass the limit
    assert slugify("x" * 58 + " y") == "x" * 58 + "-y"  # exactly the limit
    assert slugify("!!!") == "communique"


def test_a_first_word_longer_than_the_limit_is_the_only_cut_word() -> None:
    assert slugify("a" * 70 + " b") == "a" * 60


_words = st.lists(
    st.text("abcdefghijklmnopqrstuvwxyzéèàçœ0123456789", min_size=1, max_size=14),
    max_size=14,
).map(lambda words: " ".join(words))
_titles = st.one_of(st.text(max_size=120), _words, _words.map(lambda t: f"« {t} » !"))


@given(_titles, st.integers(min_value=10, max_value=80))
def test_the_id_is_as_many_whole_words_of_the_slug_as_fit(title: str, limit: int) -> None:
    slug = slugify(title, limit)
    full = slugify(title, limit=10_000)
    assert slug and len(slug) <= limit and re.fullmatch(ID_PATTERN, slug)
    words = full.split("-")
    if len(words[0]) > limit:
        assert slug == words[0][:limit]
        return
    kept = slug.split("-")
    assert kept == words[: len(kept)]  # a prefix made of whole words
    if len(kept) < len(words):  # and the longest one: the next word would not fit
        assert len(slug) + 1 + len(words[len(kept)]) > limit

"""`publish.py new`: the file it writes, its permanent id, and what `check` then says of it."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balise.cli import main
from balise.model import ID_PATTERN
from balise.newstatement import SLUG_LIMIT, statement_slug, write_new_statement
from balise.text import slugify
from balise.validate import PLACEHOLDER

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
    assert (
        slugify(LONG_TITLE, SLUG_LIMIT)
        == "point-de-situation-reprise-des-consultations-et-retour-au"
    )
    assert slugify("Reprise à l'Estuaire !", SLUG_LIMIT) == "reprise-a-l-estuaire"
    assert slugify("x" * 59 + " y", SLUG_LIMIT) == "x" * 59  # "-y" would pass the limit
    assert slugify("x" * 58 + " y", SLUG_LIMIT) == "x" * 58 + "-y"  # exactly the limit
    assert statement_slug("!!!") == "communique"


def test_a_first_word_longer_than_the_limit_is_the_only_cut_word() -> None:
    assert slugify("a" * 70 + " b", SLUG_LIMIT) == "a" * 60


_words = st.lists(
    st.text("abcdefghijklmnopqrstuvwxyzéèàçœ0123456789", min_size=1, max_size=14),
    max_size=14,
).map(lambda words: " ".join(words))
_titles = st.one_of(st.text(max_size=120), _words, _words.map(lambda t: f"« {t} » !"))


@given(_titles, st.integers(min_value=10, max_value=80))
def test_the_id_is_as_many_whole_words_of_the_slug_as_fit(title: str, limit: int) -> None:
    slug = slugify(title, limit) or "communique"
    full = slugify(title, limit=10_000) or "communique"
    assert slug and len(slug) <= limit and re.fullmatch(ID_PATTERN, slug)
    words = full.split("-")
    if len(words[0]) > limit:
        assert slug == words[0][:limit]
        return
    kept = slug.split("-")
    assert kept == words[: len(kept)]  # a prefix made of whole words
    if len(kept) < len(words):  # and the longest one: the next word would not fit
        assert len(slug) + 1 + len(words[len(kept)]) > limit


def publish(*args: str) -> int:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    return exited.value.code


PLACEHOLDER_ERROR = (
    'the text still holds the placeholder text that "publish.py new" writes (replace it with '
    'what changes for patients and what they should do, or set "draft: true" until it is '
    "written)"
)


def test_the_placeholder_new_writes_cannot_be_checked_built_or_published(
    tiny: Path, tmp_path: Path, capsys
) -> None:
    now = "2024-10-10T09:15:00+02:00"
    args = ("--repo", str(tiny), "--title", "Reprise des consultations", "--now", now)
    assert publish("new", *args, "--status", "all=normal", "--incident", "attaque") == 0
    out, err = capsys.readouterr()
    path = Path(out.strip())
    relative = path.relative_to(tiny).as_posix()
    assert relative == "statements/2024-10/2024-10-10-reprise-des-consultations.md"
    assert "check refuses the placeholder until then" in err

    assert publish("check", "--repo", str(tiny), "--strict", "--now", now) == 1
    assert f"{relative}:9: {PLACEHOLDER_ERROR}\n" in capsys.readouterr().err
    site = tmp_path / "site"
    assert publish("build", "--repo", str(tiny), "--out", str(site), "--now", now) == 1
    assert PLACEHOLDER_ERROR in capsys.readouterr().err and not site.exists()

    # re-wrapped, still the placeholder
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("le texte du", "le\ntexte  du"), encoding="utf-8")
    assert publish("check", "--repo", str(tiny), "--now", now) == 1
    assert f"{relative}:9: {PLACEHOLDER_ERROR}\n" in capsys.readouterr().err

    path.write_text(text.replace(PLACEHOLDER, "Les consultations reprennent."), encoding="utf-8")
    assert publish("check", "--repo", str(tiny), "--strict", "--now", now) == 0


def test_a_draft_may_keep_the_placeholder_but_not_a_title(tiny: Path, capsys) -> None:
    path = tiny / "statements/2024/a-ecrire.md"
    path.write_text(
        f"---\ntitle: Point\ndate: 2024-10-08T10:00:00+02:00\ndraft: true\n---\n{PLACEHOLDER}\n",
        encoding="utf-8",
    )
    assert publish("check", "--repo", str(tiny)) == 0
    capsys.readouterr()
    path.write_text(
        f"---\ntitle: {PLACEHOLDER[:34]}\ndate: 2024-10-08T10:00:00+02:00\n---\nTexte.\n",
        encoding="utf-8",
    )
    assert publish("check", "--repo", str(tiny)) == 1
    assert (
        'statements/2024/a-ecrire.md:2: "title" still holds the placeholder text that '
        '"publish.py new" writes (write the statement\'s own title)'
    ) in capsys.readouterr().err

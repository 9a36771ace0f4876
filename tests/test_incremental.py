"""Incremental builds: with a warm cache, the site is byte for byte the one a cold build makes."""

from __future__ import annotations

import errno
import os
import re
import shutil
import sqlite3
import sys
from contextlib import closing
from datetime import datetime
from pathlib import Path

import pytest
from conftest import DATA, ROOT, TINY_NOW, tree_bytes
from disk_faults import refuse_writes

from balise import cache
from balise.build import build, check
from balise.cli import main
from balise.render import sources
from balise.render.feeds import render_feeds, render_feeds_plainly
from balise.timeline import snapshot

sys.path.insert(0, str(ROOT / "bench"))
import corpus  # the benchmark's generator: a realistic repository in a second

DEMO_NOW = datetime.fromisoformat("2024-10-07T12:00:00+02:00")
NEW_STATEMENT = """\
---
title: "Point de situation : la messagerie refonctionne"
date: 2024-10-06T18:00:00+02:00
incident: attaque
status:
  beta: dégradé
---
La messagerie refonctionne à la [clinique Beta](2024-10-05-alerte.md).

- Les rendez-vous sont maintenus.
"""


def cold_and_warm(repo: Path, tmp_path: Path, now: datetime, change) -> tuple[Path, Path]:
    """Build with a cache, apply `change`, build again with it and once more without."""
    warm, cold = tmp_path / "warm", tmp_path / "cold"
    store = repo / cache.CACHE_DIR
    first = build(repo, warm, now, cache=store)
    assert first.ok, first.problems
    change(repo)
    again = build(repo, warm, now, cache=store)
    reference = build(repo, cold, now)
    assert again.ok and reference.ok, (again.problems, reference.problems)
    assert again.problems == reference.problems
    assert again.mkdocs_warnings == reference.mkdocs_warnings
    return warm, cold


def assert_same_site(left: Path, right: Path) -> None:
    a, b = tree_bytes(left), tree_bytes(right)
    assert sorted(a) == sorted(b)
    assert [path for path in a if a[path] != b[path]] == []


def add_statement(repo: Path) -> None:
    (repo / "statements/2024/2024-10-06-messagerie.md").write_text(NEW_STATEMENT)


def test_adding_a_statement_rebuilds_to_the_bytes_of_a_cold_build(
    tiny: Path, tmp_path: Path
) -> None:
    warm, cold = cold_and_warm(tiny, tmp_path, TINY_NOW, add_statement)
    assert_same_site(warm, cold)
    assert (warm / "communiques/2024-10-06-messagerie.html").is_file()


def test_unchanged_pages_are_not_rendered_again(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warm build renders the pages a change touches, and no other: the rest of the site
    comes from the cache, byte for byte what a cold build makes."""
    rendered: list[str] = []
    render_page = sources.render_page

    def recorded(page, env, *bodies) -> bytes:
        rendered.append(page.path)
        return render_page(page, env, *bodies)

    monkeypatch.setattr(sources, "render_page", recorded)
    store = tiny / cache.CACHE_DIR
    assert build(tiny, tmp_path / "warm", TINY_NOW, cache=store).ok
    assert "communiques/2024-10-07-info.html" in rendered
    add_statement(tiny)
    rendered.clear()
    assert build(tiny, tmp_path / "warm", TINY_NOW, cache=store).ok
    assert "communiques/2024-10-06-messagerie.html" in rendered  # the new statement's page
    assert "communiques/2024-10-07-info.html" not in rendered  # untouched by the change
    assert build(tiny, tmp_path / "cold", TINY_NOW).ok
    assert_same_site(tmp_path / "warm", tmp_path / "cold")


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda repo: (repo / "statements/2024/2024-10-07-info.md").unlink(), id="removal"
        ),
        pytest.param(
            lambda repo: _replace(repo / "establishments.yml", "Clinique Alpha", "Clinique Alfa"),
            id="registry",
        ),
        pytest.param(
            lambda repo: _replace(repo / "mkdocs.yml", "Groupe Test", "Groupe Essai"), id="mkdocs"
        ),
        pytest.param(
            lambda repo: _write(repo / "templates/pages/notice.html", "<p>Essai</p>\n"),
            id="template",
        ),
        pytest.param(
            lambda repo: _replace(
                repo / "statements/2024/2024-10-05-alerte.md", "Alpha", "Alpha (Rennes)"
            ),
            id="edit",
        ),
    ],
)
def test_any_change_of_the_sources_rebuilds_to_the_bytes_of_a_cold_build(
    tiny: Path, tmp_path: Path, change
) -> None:
    warm, cold = cold_and_warm(tiny, tmp_path, TINY_NOW, change)
    assert_same_site(warm, cold)


def test_a_later_now_rebuilds_to_the_bytes_of_a_cold_build(tiny: Path, tmp_path: Path) -> None:
    store = tiny / cache.CACHE_DIR
    assert build(tiny, tmp_path / "warm", TINY_NOW, cache=store).ok
    later = datetime.fromisoformat("2024-10-20T12:00:00+02:00")
    assert build(tiny, tmp_path / "warm", later, cache=store).ok
    assert build(tiny, tmp_path / "cold", later).ok
    assert_same_site(tmp_path / "warm", tmp_path / "cold")


def test_a_published_page_edited_in_place_is_not_restored(tiny: Path, tmp_path: Path) -> None:
    def vandalise(repo: Path) -> None:
        page = tmp_path / "warm/communiques/2024-10-07-info.html"
        with page.open("ab") as stream:  # in place: the cache's copy is the same file
            stream.write(b"<!-- edited -->")

    warm, cold = cold_and_warm(tiny, tmp_path, TINY_NOW, vandalise)
    assert_same_site(warm, cold)


def test_a_damaged_cache_only_costs_time(tiny: Path, tmp_path: Path) -> None:
    def damage(repo: Path) -> None:
        for table in (repo / cache.CACHE_DIR).rglob(cache.TABLES + "*"):
            table.write_bytes(b"not a database" * 100)

    warm, cold = cold_and_warm(tiny, tmp_path, TINY_NOW, damage)
    assert_same_site(warm, cold)


def test_the_demo_with_its_template_override_rebuilds_identically(tmp_path: Path) -> None:
    repo = tmp_path / "demo"
    repo.mkdir()
    for name in ("establishments.yml", "mkdocs.yml", "statements", "templates"):
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, repo / name)

    def follow_up(repo: Path) -> None:
        (repo / "statements/2024-10/2024-10-07-point.md").write_text(
            "---\ntitle: Point du 7 octobre\ndate: 2024-10-07T09:00:00+02:00\n"
            "status:\n  la-sagesse: interrompu\n---\nToujours en mode dégradé.\n"
        )

    warm, cold = cold_and_warm(repo, tmp_path, DEMO_NOW, follow_up)
    assert_same_site(warm, cold)


def test_the_cache_keeps_only_what_the_last_build_used(tiny: Path, tmp_path: Path) -> None:
    store = tiny / cache.CACHE_DIR
    assert build(tiny, tmp_path / "site", TINY_NOW, cache=store).ok
    pages = len(list(store.rglob("pages/*")))
    (tiny / "statements/2024/2024-10-07-info.md").unlink()
    assert build(tiny, tmp_path / "site", TINY_NOW, cache=store).ok
    assert len(list(store.rglob("pages/*"))) < pages
    assert len([p for p in store.iterdir() if p.is_dir()]) == 1  # one code version


def test_without_a_cache_nothing_is_written_in_the_repository(tiny: Path, tmp_path: Path) -> None:
    assert build(tiny, tmp_path / "site", TINY_NOW).ok
    assert not (tiny / cache.CACHE_DIR).exists()


def test_the_cache_folder_is_ignored_by_git() -> None:
    assert ".balise-cache/" in (ROOT / ".gitignore").read_text().splitlines()


@pytest.mark.parametrize(
    ("repo", "now"),
    [(DATA / "tiny", TINY_NOW), (ROOT, DEMO_NOW)],
    ids=["tiny", "demo"],
)
def test_feeds_assembled_from_entries_equal_feedgen_whole_feeds(repo: Path, now: datetime) -> None:
    repository = check(repo).repository
    assert repository is not None
    snap = snapshot(repository, now)
    with cache.session(None) as store:
        assert render_feeds(repository, snap, store=store) == render_feeds_plainly(repository, snap)


def test_feeds_of_a_large_generated_repository_equal_feedgen_whole_feeds(tmp_path: Path) -> None:
    repo = corpus.generate(tmp_path / "repo", statements=60, establishment_count=6).root
    repository = check(repo).repository
    assert repository is not None
    snap = snapshot(repository, datetime.fromisoformat(corpus.NOW))
    with cache.session(None) as store:
        assert render_feeds(repository, snap, store=store) == render_feeds_plainly(repository, snap)


def test_a_generated_repository_rebuilds_on_two_cores_to_the_bytes_of_a_cold_build(
    tmp_path: Path,
) -> None:
    """Enough statements for the cache to prefetch on a forked worker (cache._PARALLEL_MIN)."""
    repo = corpus.generate(tmp_path / "repo", statements=120, establishment_count=8).root
    assert len(list(repo.rglob("statements/**/*.md"))) > cache._PARALLEL_MIN
    now = datetime.fromisoformat(corpus.NOW)
    warm, cold = cold_and_warm(repo, tmp_path, now, corpus.add_statement)
    assert_same_site(warm, cold)


EDGE_CASES = {
    "code-with-tab": "```\nun\tdeux\n```\n\nFin.\n",
    "fence-in-code": "    ```\n    pas une clôture\n\nTexte.\n",
    "raw-html": 'Avant <span id="ancre" onclick="x()">ici</span>.\n\n<!-- note -->\n',
    "headings": "# Titre\n\n## Sous-titre\n\n" + "Un long paragraphe. " * 80 + "\n",
    "spaces": "Ligne\n   \nAutre ligne " + "avec du texte " * 100 + "\n",
}


def test_parts_set_aside_from_markdown_change_no_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Big lists and bodies skip Markdown's parsing; the site must not notice."""
    from balise.render.mkdocs_plugin import BalisePlugin

    repo = corpus.generate(tmp_path / "repo", statements=80, establishment_count=6).root
    for name, body in EDGE_CASES.items():
        (repo / f"statements/2023-06/2023-06-15-{name}.md").write_text(
            f'---\ntitle: "Cas {name}"\ndate: 2023-06-15T10:00:00+02:00\n'
            f"status:\n  etab-001: dégradé\n---\n{body}"
        )
    now = datetime.fromisoformat(corpus.NOW)
    assert build(repo, tmp_path / "aside", now).ok
    monkeypatch.setattr(BalisePlugin, "SET_ASIDE", False)
    assert build(repo, tmp_path / "plain", now).ok
    assert_same_site(tmp_path / "aside", tmp_path / "plain")


def test_balise_s_plugin_changes_no_byte_of_what_mkdocs_and_material_make(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parts set aside, search entries kept as text, the index written by Balise: the site
    (search index included) is the one MkDocs and Material make when Balise stays out."""
    from balise.render import mkdocs_plugin

    repo = corpus.generate(tmp_path / "repo", statements=80, establishment_count=6).root
    now = datetime.fromisoformat(corpus.NOW)
    assert build(repo, tmp_path / "balise", now, cache=repo / cache.CACHE_DIR).ok
    monkeypatch.setattr(mkdocs_plugin, "SAFE_PLUGINS", ())  # every plugin unknown: hands off
    assert build(repo, tmp_path / "material", now).ok
    index = "search/search_index.json"
    assert (tmp_path / "balise" / index).read_bytes() == (
        tmp_path / "material" / index
    ).read_bytes()
    assert_same_site(tmp_path / "balise", tmp_path / "material")


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


# --- a cache that cannot be written only costs time -------------------------------------------


def cli_build(capsys: pytest.CaptureFixture[str], repo: Path, out: Path) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["build", "--repo", str(repo), "--out", str(out), "--now", TINY_NOW.isoformat()])
    return int(exit_info.value.code), capsys.readouterr().err


def entries(tables: Path) -> list[tuple[object, ...]]:
    """The cache database's rows, read as any SQLite client reads them."""
    with closing(sqlite3.connect(tables)) as db:
        return db.execute("SELECT * FROM entry ORDER BY kind, key").fetchall()


NOTE_END = "the site is complete, only the next build takes longer (--no-cache skips the cache)"


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_a_cache_folder_that_cannot_be_made_only_costs_time(
    tiny: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    code: int,
) -> None:
    assert build(tiny, tmp_path / "cold", TINY_NOW).ok
    store = tiny / cache.CACHE_DIR
    refuse_writes(monkeypatch, store, code)
    status, err = cli_build(capsys, tiny, tmp_path / "site")
    monkeypatch.undo()
    assert status == 0, err
    folder = store / cache.code_digest()
    assert (
        f"note: the build cache could not be written ({folder}: {os.strerror(code)}): {NOTE_END}"
        in err.splitlines()
    )
    assert "Traceback" not in err and f"Built {tmp_path / 'site'}" in err
    assert_same_site(tmp_path / "site", tmp_path / "cold")


def test_a_disk_that_fills_up_under_a_warm_cache_only_costs_time(
    tiny: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = tiny / cache.CACHE_DIR
    assert build(tiny, tmp_path / "site", TINY_NOW, cache=store).ok
    add_statement(tiny)  # new pages to write into the cache
    assert build(tiny, tmp_path / "cold", TINY_NOW).ok
    tables = store / cache.code_digest() / cache.TABLES
    held = entries(tables)
    refuse_writes(monkeypatch, store, errno.ENOSPC)  # its page files and its database
    status, err = cli_build(capsys, tiny, tmp_path / "site")
    monkeypatch.undo()
    assert status == 0, err
    assert entries(tables) == held  # nothing written, nothing half-written
    (note,) = [line for line in err.splitlines() if line.startswith("note:")]
    pages = re.escape(str(store / cache.code_digest() / "pages"))
    assert re.fullmatch(
        rf"note: the build cache could not be written \({pages}/\w+: No space left on device\):"
        rf" {re.escape(NOTE_END)}",
        note,
    )
    assert "Traceback" not in err
    assert_same_site(tmp_path / "site", tmp_path / "cold")
    # What the cache holds is still only right: the next build, on a free disk, is the same.
    assert build(tiny, tmp_path / "site", TINY_NOW, cache=store).ok
    assert_same_site(tmp_path / "site", tmp_path / "cold")


def test_an_edited_page_template_rebuilds_to_the_bytes_of_a_cold_build(
    tiny: Path, tmp_path: Path
) -> None:
    """Compiled templates are kept in the cache: an edited one is compiled again."""
    _write(tiny / "templates/pages/notice.html", "<p>Essai</p>\n")
    edit = lambda repo: _write(repo / "templates/pages/notice.html", "<p>Autre essai</p>\n")  # noqa: E731
    warm, cold = cold_and_warm(tiny, tmp_path, TINY_NOW, edit)
    assert_same_site(warm, cold)
    assert "Autre essai" in (warm / "index.html").read_text()


def test_an_edited_theme_override_rebuilds_to_the_bytes_of_a_cold_build(
    tiny: Path, tmp_path: Path
) -> None:
    config = tiny / "mkdocs.yml"
    config.write_text(config.read_text().replace("theme:\n", "theme:\n  custom_dir: overrides\n"))
    main = '{% extends "base.html" %}\n{% block announce %}ANNOUNCE{% endblock %}\n'
    _write(tiny / "overrides/main.html", main.replace("ANNOUNCE", "Première annonce"))
    edit = lambda repo: _write(  # noqa: E731
        repo / "overrides/main.html", main.replace("ANNOUNCE", "Seconde annonce")
    )
    warm, cold = cold_and_warm(tiny, tmp_path, TINY_NOW, edit)
    assert_same_site(warm, cold)
    assert "Seconde annonce" in (warm / "index.html").read_text()

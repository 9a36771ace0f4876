"""`check` (the pre-commit hook) reads the build cache and never writes it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from conftest import ROOT, TINY_NOW, tree_bytes

from balise import cache, prefetch
from balise.build import build, check


def state(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file of a folder: its bytes and modification time."""
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def problems(repo: Path, **options: object) -> list[str]:
    outcome = check(repo, TINY_NOW, wall_clock=TINY_NOW, **options)  # type: ignore[arg-type]
    assert outcome.repository is not None
    return [str(p) for p in outcome.problems]


def test_check_reads_the_cache_a_build_left_and_leaves_it_as_it_was(
    tiny: Path, tmp_path: Path
) -> None:
    store = tiny / cache.CACHE_DIR
    assert build(tiny, tmp_path / "site", TINY_NOW, cache=store).ok
    edited = sorted((tiny / "statements").rglob("*.md"))[0]  # one the cache has not seen
    edited.write_text(edited.read_text() + "\nUn paragraphe de plus, pas encore construit.\n")
    before = state(store)
    assert problems(tiny, cache=store) == problems(tiny)
    assert state(store) == before


def test_check_without_a_cache_does_not_make_one(tiny: Path) -> None:
    store = tiny / cache.CACHE_DIR
    assert problems(tiny, cache=store) == problems(tiny)
    assert not store.exists()


def test_a_damaged_cache_does_not_change_what_check_finds(tiny: Path, tmp_path: Path) -> None:
    store = tiny / cache.CACHE_DIR
    assert build(tiny, tmp_path / "site", TINY_NOW, cache=store).ok
    for table in store.rglob(cache.TABLES):
        table.write_bytes(b"not a database")
    before = state(store)
    assert problems(tiny, cache=store) == problems(tiny)
    assert state(store) == before


def test_the_check_command_leaves_the_cache_untouched(tiny: Path, tmp_path: Path) -> None:
    store = tiny / cache.CACHE_DIR
    assert build(tiny, tmp_path / "site", TINY_NOW, cache=store).ok
    before = state(store)
    command = [sys.executable, str(ROOT / "publish.py"), "check", "--repo", str(tiny)]
    done = subprocess.run(
        [*command, "--now", TINY_NOW.isoformat()],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert state(store) == before


# --- the reader cache: a statement file judged once per text, registry and code ----------

PLACEHOLDER_BODY = (
    "Rédigez ici le texte du communiqué : ce qui change pour les patients, ce qu'ils doivent faire."
)
BAD_STATEMENTS = {
    "invalid YAML": "---\ntitle: Un titre: deux points\ndate: 2024-10-06\n---\nTexte.\n",
    "no front matter": "Juste du texte.\n",
    "unclosed front matter": "---\ntitle: Ouvert\ndate: 2024-10-06T10:00:00+02:00\n",
    "unknown establishment": (
        "---\ntitle: Delta\ndate: 2024-10-06T10:00:00+02:00\nstatus:\n  delta: down\n---\nTexte.\n"
    ),
    "unknown status": (
        "---\ntitle: Alpha\ndate: 2024-10-06T10:00:00+02:00\nstatus:\n  alpha: cassé\n---\nTexte.\n"
    ),
    "duplicate id": (
        "---\ntitle: Doublon\ndate: 2024-10-06T10:00:00+02:00\nid: 2024-10-07-info\n---\nTexte.\n"
    ),
    "placeholder": f"---\ntitle: Modèle\ndate: 2024-10-06T10:00+02:00\n---\n{PLACEHOLDER_BODY}\n",
    "control character": "---\ntitle: Contrôle\ndate: 2024-10-06T10:00+02:00\n---\nUn \x07 bip.\n",
    "removed markup (a warning)": (
        "---\ntitle: Script\ndate: 2024-10-06T10:00:00+02:00\n---\nTexte <script>x()</script>.\n"
    ),
    "a day without time (a warning)": "---\ntitle: Jour\ndate: 2024-10-06\n---\nTexte.\n",
}


def outcome(repo: Path, **options: object) -> tuple[list[str], str]:
    """What check finds: its problems, and the repository in full (repr shows every field,
    the offsets of dates and the source lines that equality leaves out)."""
    found = check(repo, TINY_NOW, wall_clock=TINY_NOW, **options)  # type: ignore[arg-type]
    return [str(p) for p in found.problems], repr(found.repository)


def built_then_checked(repo: Path, site: Path) -> tuple[list[str], str]:
    """Build (whatever it finds), then check with the cache the build left, which the check
    must leave as it was."""
    store = repo / cache.CACHE_DIR
    build(repo, site, TINY_NOW, cache=store)
    before = state(store)
    found = outcome(repo, cache=store)
    assert state(store) == before
    return found


@pytest.mark.parametrize("kind", sorted(BAD_STATEMENTS))
def test_a_check_after_a_build_finds_what_a_check_without_cache_finds(
    tiny: Path, tmp_path: Path, kind: str
) -> None:
    (tiny / "statements/2024/2024-10-06-nouveau.md").write_text(BAD_STATEMENTS[kind])
    cached = built_then_checked(tiny, tmp_path / "site")
    assert cached == outcome(tiny)
    assert any("2024-10-06-nouveau.md" in problem for problem in cached[0])


def test_every_bad_statement_at_once_is_judged_alike_from_the_cache(
    tiny: Path, tmp_path: Path
) -> None:
    for number, text in enumerate(BAD_STATEMENTS.values()):
        (tiny / f"statements/2024/2024-10-06-mauvais-{number}.md").write_text(text)
    cached = built_then_checked(tiny, tmp_path / "site")
    assert cached == outcome(tiny)
    for number, kind in enumerate(BAD_STATEMENTS):  # warnings: not judged beside errors
        named = any(f"mauvais-{number}.md" in problem for problem in cached[0])
        assert named or kind.endswith("(a warning)"), kind


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


REGISTRY_CHANGES = {
    # statements naming "beta" now name an establishment the registry lacks
    "an establishment renamed": lambda repo: _replace(
        repo / "establishments.yml", "- id: beta", "- id: bêta-2"
    ),
    # "2024-10-06 09:30" is read in the organisation's timezone: every date's offset moves
    "the timezone": lambda repo: _replace(
        repo / "establishments.yml",
        "organisation:\n",
        "organisation:\n  timezone: America/Cayenne\n",
    ),
    "a broken registry": lambda repo: (repo / "establishments.yml").write_text(
        "establishments: [\n"
    ),
}


@pytest.mark.parametrize("change", sorted(REGISTRY_CHANGES))
def test_a_registry_changed_after_the_build_is_not_judged_from_the_cache(
    tiny: Path, tmp_path: Path, change: str
) -> None:
    before = built_then_checked(tiny, tmp_path / "site")
    REGISTRY_CHANGES[change](tiny)
    store = tiny / cache.CACHE_DIR
    kept = state(store)
    after = outcome(tiny, cache=store)
    assert state(store) == kept
    assert after == outcome(tiny)
    assert after != before


def test_a_renamed_establishment_is_reported_in_the_statements_the_build_had_judged(
    tiny: Path, tmp_path: Path
) -> None:
    assert built_then_checked(tiny, tmp_path / "site")[1] != "None"  # valid, and cached
    REGISTRY_CHANGES["an establishment renamed"](tiny)
    problems, repository = outcome(tiny, cache=tiny / cache.CACHE_DIR)
    assert repository == "None"
    assert any('unknown establishment "beta"' in problem for problem in problems)


def test_after_a_timezone_change_a_warm_build_is_byte_for_byte_a_cold_one(
    tiny: Path, tmp_path: Path
) -> None:
    store = tiny / cache.CACHE_DIR
    assert build(tiny, tmp_path / "warm", TINY_NOW, cache=store).ok
    REGISTRY_CHANGES["the timezone"](tiny)
    assert build(tiny, tmp_path / "warm", TINY_NOW, cache=store).ok
    assert build(tiny, tmp_path / "cold", TINY_NOW).ok
    assert tree_bytes(tmp_path / "warm") == tree_bytes(tmp_path / "cold")


@pytest.mark.parametrize(
    "damage", ["{not json", "[]", "[1, 2, 3]", "[[null, 1, [1]], [], null]", '"text"']
)
def test_a_damaged_entry_of_the_reader_cache_is_judged_again(
    tiny: Path, tmp_path: Path, damage: str
) -> None:
    (tiny / "statements/2024/2024-10-06-nouveau.md").write_text(BAD_STATEMENTS["unknown status"])
    store = tiny / cache.CACHE_DIR
    build(tiny, tmp_path / "site", TINY_NOW, cache=store)
    tables = list(store.rglob(cache.TABLES))
    assert tables
    for table in tables:
        with closing(sqlite3.connect(table)) as db, db:
            db.execute("UPDATE entry SET value = ? WHERE kind = ?", (damage, prefetch.JUDGED))
    assert outcome(tiny, cache=store) == outcome(tiny)
    # and a build on that cache makes the site a build without one makes
    assert not build(tiny, tmp_path / "site", TINY_NOW, cache=store).ok
    (tiny / "statements/2024/2024-10-06-nouveau.md").unlink()
    assert build(tiny, tmp_path / "warm", TINY_NOW, cache=store).ok
    assert build(tiny, tmp_path / "cold", TINY_NOW).ok
    assert tree_bytes(tmp_path / "warm") == tree_bytes(tmp_path / "cold")


def test_a_check_after_a_build_reads_no_statement_again(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The point of the reader cache: what a build judged, `check` does not parse again."""
    store = tiny / cache.CACHE_DIR
    assert build(tiny, tmp_path / "site", TINY_NOW, cache=store).ok
    expected = outcome(tiny)

    def parse(text: str, path: str) -> None:
        raise AssertionError(f"{path} was parsed again")

    monkeypatch.setattr(prefetch, "parse_statement", parse)
    assert outcome(tiny, cache=store) == expected


def test_the_check_command_imports_none_of_the_build_s_renderers(tiny: Path) -> None:
    """`check` is the pre-commit hook: it loads what it uses, not the build's renderers."""
    probe = (
        "import sys\n"
        "from balise.cli import main\n"
        "try:\n"
        f"    main(['check', '--repo', {str(tiny)!r}, '--now', {TINY_NOW.isoformat()!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    loaded = set(done.stdout.split())
    assert "balise.build" in loaded
    for module in (
        "balise.render.feeds",
        "balise.render.api",
        "balise.render.calendar",
        "balise.render.mkdocs_site",
        "feedgen.feed",
        "icalendar",
        "mkdocs.commands",
        "lxml.etree",
    ):
        assert module not in loaded, module


def _git(repo: Path, *args: str, date: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)


def test_a_statement_committed_after_the_build_has_its_new_commit_time(
    tiny: Path, tmp_path: Path
) -> None:
    """The reader cache keeps a statement without its git time: a commit that changes no
    byte (the edit was built before it was committed) changes what check reads."""
    _git(tiny, "init", "-q", date="2024-10-08T08:00:00+00:00")
    _git(tiny, "add", ".", date="2024-10-08T08:00:00+00:00")
    _git(tiny, "commit", "-qm", "one", date="2024-10-08T08:00:00+00:00")
    edited = tiny / "statements/2024/2024-10-07-info.md"
    edited.write_text(edited.read_text() + "\nMis à jour.\n")
    before = built_then_checked(tiny, tmp_path / "site")
    assert before == outcome(tiny)
    _git(tiny, "commit", "-qam", "two", date="2024-10-09T09:30:00+00:00")
    after = outcome(tiny, cache=tiny / cache.CACHE_DIR)
    assert after == outcome(tiny)
    assert after != before
    assert "2024, 10, 9, 9, 30" in after[1]

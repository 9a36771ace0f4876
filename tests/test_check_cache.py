"""`check` (the pre-commit hook) reads the build cache and never writes it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, TINY_NOW

from balise import cache
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

"""The build cache's tables: what a build did not use is dropped once it outnumbers what it used."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from balise.cache import TABLES, Cache


def keys(cache_folder: Path) -> set[str]:
    store = Cache(cache_folder)
    assert store.folder is not None
    with closing(sqlite3.connect(store.folder / TABLES)) as db:
        return {key for (key,) in db.execute("SELECT key FROM entry")}


def a_build(cache_folder: Path, *, reads: list[str], writes: list[str]) -> list[object]:
    store = Cache(cache_folder)
    store.load()
    found = [store.get("kind", key) for key in reads]
    for key in writes:
        store.put("kind", key, {"value": key})
    store.close()
    return found


def test_a_build_that_changes_little_keeps_the_few_entries_it_replaced(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    a_build(folder, reads=[], writes=[f"k{i}" for i in range(10)])
    found = a_build(folder, reads=[f"k{i}" for i in range(9)], writes=["new"])
    assert found == [{"value": f"k{i}"} for i in range(9)]
    assert keys(folder) == {*(f"k{i}" for i in range(10)), "new"}  # k9 is stale, kept for now


def test_entries_no_build_used_are_dropped_once_they_outnumber_those_used(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    a_build(folder, reads=[], writes=[f"k{i}" for i in range(10)])
    a_build(folder, reads=["k0", "k1"], writes=["new"])
    assert keys(folder) == {"k0", "k1", "new"}  # 7 unused > 3 used: exactly what was used
    assert a_build(folder, reads=["k0", "k5", "new"], writes=[]) == [
        {"value": "k0"},
        None,
        {"value": "new"},
    ]


def test_the_cache_never_holds_more_than_two_builds_worth(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    live = [f"k{i}" for i in range(10)]
    a_build(folder, reads=[], writes=live)
    sizes = []
    for build in range(30):  # each build replaces one of its ten entries by a new one
        live = [*live[1:], f"new-{build}"]
        assert a_build(folder, reads=live[:-1], writes=live[-1:]) == [
            {"value": key} for key in live[:-1]
        ]
        sizes.append(len(keys(folder)))
        assert set(live) <= keys(folder)
    assert max(sizes) <= 2 * 10 and min(sizes) == 10  # swept when the stale ones outnumbered


def test_the_entries_are_counted_as_written_not_read_again(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    a_build(folder, reads=[], writes=[f"k{i}" for i in range(10)])
    store = Cache(folder)
    assert store.folder is not None
    with closing(sqlite3.connect(store.folder / TABLES)) as db:
        assert db.execute("SELECT value FROM meta WHERE name = 'rows'").fetchone() == (10,)
        db.execute("UPDATE meta SET value = 'damaged' WHERE name = 'rows'")
        db.commit()
    a_build(folder, reads=["k0"], writes=["new"])  # counted again: 11 rows, 9 unused > 2
    assert keys(folder) == {"k0", "new"}
    with closing(sqlite3.connect(store.folder / TABLES)) as db:
        assert db.execute("SELECT value FROM meta WHERE name = 'rows'").fetchone() == (2,)

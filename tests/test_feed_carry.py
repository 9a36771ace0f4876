"""Feed documents an earlier build made from the same inputs are carried over, not made again.

A full archive never changes (RFC 5005): after one more statement its file in the new site is
the previous site's file (same inode), while whatever changes a document's own fields (the
site's URL, the organisation, a feed's title) makes it again, byte for byte a cold build.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import pytest
from conftest import ROOT, tree_bytes

from balise import cache
from balise.build import build

sys.path.insert(0, str(ROOT / "bench"))
import corpus  # the benchmark's generator

NOW = datetime.fromisoformat(corpus.NOW)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    # 130 statements: the `all` feeds hold 50, a full archive of 50 and a growing one of 30
    return corpus.generate(tmp_path / "repo", statements=130, establishment_count=4).root


def _inodes(site: Path) -> dict[str, int]:
    return {
        p.relative_to(site).as_posix(): p.stat().st_ino
        for p in (site / "feeds").rglob("*")
        if p.is_file()
    }


def _same_as_cold(repo: Path, warm: Path, tmp_path: Path) -> None:
    cold = tmp_path / "cold"
    assert build(repo, cold, NOW).ok
    left, right = tree_bytes(warm), tree_bytes(cold)
    assert sorted(left) == sorted(right)
    assert [path for path in left if left[path] != right[path]] == []


def test_one_more_statement_carries_the_full_archives_over(repo: Path, tmp_path: Path) -> None:
    site, store = tmp_path / "site", repo / cache.CACHE_DIR
    assert build(repo, site, NOW, cache=store).ok
    before = _inodes(site)
    full = "feeds/archives/all-1.atom"
    assert full in before and "feeds/archives/all-1.rss" in before
    corpus.add_statement(repo)
    assert build(repo, site, NOW, cache=store).ok
    after = _inodes(site)
    assert after[full] == before[full]  # the previous site's file, linked in
    assert after["feeds/archives/all-1.rss"] == before["feeds/archives/all-1.rss"]
    # the head holds the new one; the growing archive, the head's oldest before
    assert after["feeds/all.atom"] != before["feeds/all.atom"]
    assert after["feeds/archives/all-2.atom"] != before["feeds/archives/all-2.atom"]
    _same_as_cold(repo, site, tmp_path)


@pytest.mark.parametrize(
    ("file", "old", "new", "archive"),
    [
        pytest.param(
            "mkdocs.yml", "site_url: https://", "site_url: https://neuf.", "all-1", id="site-url"
        ),
        # the establishment's feed title, a field of its documents
        pytest.param(
            "establishments.yml", "Clinique Rennes 1", "Clinic Rennes", "etab-001-1", id="registry"
        ),
        pytest.param(
            "establishments.yml", "name: Groupe", "name: Réseau", "all-1", id="organisation"
        ),
    ],
)
def test_a_change_of_a_document_s_own_fields_makes_it_again(
    repo: Path, tmp_path: Path, file: str, old: str, new: str, archive: str
) -> None:
    site, store = tmp_path / "site", repo / cache.CACHE_DIR
    assert build(repo, site, NOW, cache=store).ok
    made = site / f"feeds/archives/{archive}.atom"
    before = made.read_bytes()
    path = repo / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    assert build(repo, site, NOW, cache=store).ok
    assert made.read_bytes() != before
    _same_as_cold(repo, site, tmp_path)


def test_an_archive_edited_in_the_published_site_is_made_again(repo: Path, tmp_path: Path) -> None:
    """The previous site's file is carried only while it is as its build recorded it."""
    site, store = tmp_path / "site", repo / cache.CACHE_DIR
    assert build(repo, site, NOW, cache=store).ok
    archive = site / "feeds/archives/all-1.atom"
    original = archive.read_bytes()
    archive.write_bytes(original.replace(b"</feed>", b"<!-- vandal --></feed>"))
    assert build(repo, site, NOW, cache=store).ok
    assert (site / "feeds/archives/all-1.atom").read_bytes() == original

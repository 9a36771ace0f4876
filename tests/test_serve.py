"""The live preview: serves the built site and rebuilds when a statement changes."""

from __future__ import annotations

import urllib.request
from pathlib import Path

from bs4 import BeautifulSoup
from conftest import TINY_NOW

from balise.serve import Preview, fingerprint


def fetch(url: str) -> str:
    """The page's text, as a reader sees it."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return BeautifulSoup(response.read().decode(), "html.parser").get_text()


def test_fingerprint_changes_when_a_statement_is_edited_or_added(tiny: Path) -> None:
    before = fingerprint(tiny)
    (tiny / "statements/2024/new.md").write_text("---\ntitle: x\ndate: 2024-10-05\n---\n")
    assert fingerprint(tiny) != before


def test_preview_serves_and_picks_up_statement_edits(tiny: Path, tmp_path: Path) -> None:
    preview = Preview(tiny, tmp_path / "site", "127.0.0.1", 0, lambda: TINY_NOW)
    preview.start()
    try:
        assert "Numéro d'information" in fetch(preview.url + "historique.html")
        assert preview.poll() is None  # nothing changed, nothing rebuilt
        info = tiny / "statements/2024/2024-10-07-info.md"
        info.write_text(info.read_text().replace("Numéro d'information", "Numéro vert ouvert"))
        outcome = preview.poll()
        assert outcome is not None and outcome.ok
        assert "Numéro vert ouvert" in fetch(preview.url + "historique.html")

        info.write_text("---\ntitle: [cassé\n---\n")
        outcome = preview.poll()
        assert outcome is not None and not outcome.ok
        # the last good build is still online
        assert "Numéro vert ouvert" in fetch(preview.url + "historique.html")
    finally:
        preview.stop()

"""The live preview: serves the built site and rebuilds when a statement changes."""

from __future__ import annotations

import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from bs4 import BeautifulSoup
from conftest import TINY_NOW

from balise.build import check
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


def test_preview_judges_future_dates_by_the_clock_as_check_and_build_do(
    tiny: Path, tmp_path: Path
) -> None:
    # After --now but before the clock: not yet published in the preview, not a mistake.
    statements = tiny / "statements/2024"
    (statements / "2024-10-20-plus-tard.md").write_text(
        "---\ntitle: Plus tard\ndate: 2024-10-20T10:00:00+02:00\n---\nTexte.\n"
    )
    # More than a day after the clock: a typo in the year, whatever --now says.
    (statements / "2025-10-20-faute.md").write_text(
        "---\ntitle: Faute\ndate: 2025-10-20T10:00:00+02:00\n---\nTexte.\n"
    )
    clock = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    preview = Preview(
        tiny, tmp_path / "site", "127.0.0.1", 0, lambda: TINY_NOW, wall_clock=lambda: clock
    )
    preview.start()
    try:
        warned = [str(p) for p in preview.last.problems if p.warning]
    finally:
        preview.stop()
    checked = check(tiny, TINY_NOW, wall_clock=clock)
    assert warned == [str(p) for p in checked.problems if p.warning]
    assert [w for w in warned if "in the future" in w] == [
        'statements/2024/2025-10-20-faute.md:3: warning: "date" is more than a day in the '
        "future (2025-10-20 10:00) (check the year, month and day: it will not be published "
        'before that date; to hold a statement back on purpose, use "publish_at")'
    ]

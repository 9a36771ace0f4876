"""The ledger `.balise/posted.json`: round trip, atomic replacement, refusal of a broken file."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import pytest

from balise.announce import ledger as ledger_module
from balise.announce.ledger import (
    ATTEMPTED,
    LEDGER_FILE,
    POSTED,
    SKIPPED,
    Entry,
    Ledger,
    LedgerBusy,
    LedgerError,
    ledger_lock,
    ledger_problems,
    read_ledger,
    write_ledger,
)

T0 = datetime.fromisoformat("2024-10-09T10:00:00+02:00")
T1 = datetime.fromisoformat("2024-10-09T10:05:00+02:00")


def sample() -> Ledger:
    ledger = Ledger().starting(T0, {"x": T0, "mastodon": T0})
    ledger = ledger.with_entry(
        "alerte", "x", Entry(POSTED, T1, "1846", "https://x.com/i/web/status/1846", "k1")
    )
    ledger = ledger.with_entry("alerte", "mastodon", Entry(ATTEMPTED, T1, key="balise-k"))
    return ledger.with_entry("vieux", "x", Entry(SKIPPED, T0, note="published before"))


def test_a_missing_ledger_is_an_empty_first_run(tmp_path: Path) -> None:
    ledger = read_ledger(tmp_path)
    assert ledger == Ledger()
    assert not ledger.started
    assert ledger.entry("alerte", "x") is None


def test_write_then_read_gives_the_same_ledger(tmp_path: Path) -> None:
    write_ledger(tmp_path, sample())
    assert read_ledger(tmp_path) == sample()


def test_the_file_is_stable_readable_json(tmp_path: Path) -> None:
    write_ledger(tmp_path, sample())
    text = (tmp_path / LEDGER_FILE).read_text(encoding="utf-8")
    assert text.endswith("}\n")
    data = json.loads(text)
    assert data["format"] == 1
    assert data["first_run"] == "2024-10-09T10:00:00+02:00"
    assert data["since"] == {"mastodon": T0.isoformat(), "x": T0.isoformat()}
    assert data["statements"]["alerte"]["x"] == {
        "status": "posted",
        "time": "2024-10-09T10:05:00+02:00",
        "remote_id": "1846",
        "url": "https://x.com/i/web/status/1846",
        "key": "k1",
    }
    write_ledger(tmp_path, read_ledger(tmp_path))
    assert (tmp_path / LEDGER_FILE).read_text(encoding="utf-8") == text  # byte-stable


def test_starting_keeps_the_first_run_and_existing_horizons(tmp_path: Path) -> None:
    ledger = sample().starting(T1, {"x": T1, "bluesky": T1})
    assert ledger.first_run == T0
    assert ledger.horizon("x") == T0
    assert ledger.horizon("bluesky") == T1


def test_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    for _ in range(3):
        write_ledger(tmp_path, sample())
    assert sorted(p.name for p in (tmp_path / ".balise").iterdir()) == ["posted.json"]


def test_a_failed_write_keeps_the_previous_ledger(tmp_path: Path, monkeypatch) -> None:
    write_ledger(tmp_path, sample())
    before = (tmp_path / LEDGER_FILE).read_bytes()

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(ledger_module.os, "replace", crash)
    with pytest.raises(OSError):
        write_ledger(tmp_path, Ledger())
    assert (tmp_path / LEDGER_FILE).read_bytes() == before
    assert sorted(p.name for p in (tmp_path / ".balise").iterdir()) == ["posted.json"]


def test_the_new_content_is_synced_before_the_rename(tmp_path: Path, monkeypatch) -> None:
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(
        ledger_module.os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))
    )
    monkeypatch.setattr(
        ledger_module.os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b))
    )
    write_ledger(tmp_path, sample())
    assert calls[:2] == ["fsync", "replace"]


@pytest.mark.parametrize(
    ("content", "line", "words"),
    [
        ('{\n  "statements": {\n    "a": \n}', 4, "not valid JSON"),
        ("[]", 1, "must be a JSON object"),
        (
            '{"statements": {"a": {"x": {"status": "sent", "time": "2024-10-09T10:00:00Z"}}}}',
            1,
            "status must be one of",
        ),
        (
            '{"statements": {"a": {"x": {"status": "posted", "time": "hier"}}}}',
            1,
            "not an ISO 8601 date",
        ),
        ('{"format": 7}', 1, "unknown ledger format"),
    ],
)
def test_a_broken_ledger_is_refused_with_its_line(
    tmp_path: Path, content: str, line: int, words: str
) -> None:
    (tmp_path / ".balise").mkdir()
    (tmp_path / LEDGER_FILE).write_text(content, encoding="utf-8")
    with pytest.raises(LedgerError) as caught:
        read_ledger(tmp_path)
    problem = caught.value.problem
    assert (problem.path, problem.line) == (LEDGER_FILE, line)
    assert words in problem.message
    assert ledger_problems(tmp_path) == [problem]


def test_only_one_post_run_holds_the_ledger(tmp_path: Path) -> None:
    with ledger_lock(tmp_path), pytest.raises(LedgerBusy), ledger_lock(tmp_path):
        pass
    with ledger_lock(tmp_path):  # released
        pass

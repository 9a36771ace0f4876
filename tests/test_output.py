"""The output folder: one writer at a time (a lock beside it), whole-tree swaps, safe paths."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import ROOT, TINY_NOW

import balise.render.mkdocs_site
from balise.build import build
from balise.output import lock_path, locked, write_tree
from balise.stamp import STAMP_FILE

SAFETY = 120  # seconds: only a broken lock waits this long; a passing test never does


def test_a_second_build_waits_for_the_lock_then_completes(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    waiting = threading.Event()
    outcomes = []
    with locked(out):
        worker = threading.Thread(
            target=lambda: outcomes.append(build(tiny, out, TINY_NOW, on_wait=waiting.set))
        )
        worker.start()
        assert waiting.wait(SAFETY), "the second build never found the lock held"
        assert not out.exists()  # it waits: nothing is written while the lock is held
    worker.join(SAFETY)
    assert outcomes and outcomes[0].ok
    assert (out / "index.html").is_file()
    assert not lock_path(out).exists()  # released and removed


def test_concurrent_builds_into_one_folder_never_interleave(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    events: list[str] = []
    real = balise.render.mkdocs_site.build_site

    def recorded(*args, **kwargs):
        name = threading.current_thread().name
        events.append(f"start {name}")
        try:
            return real(*args, **kwargs)
        finally:
            events.append(f"end {name}")

    monkeypatch.setattr(balise.render.mkdocs_site, "build_site", recorded)
    start = threading.Barrier(3)
    results: dict[str, bool] = {}

    def one(name: str, hours: int) -> None:
        start.wait(SAFETY)
        results[name] = build(tiny, out, TINY_NOW + timedelta(hours=hours)).ok

    threads = [threading.Thread(target=one, args=(f"b{i}", i), name=f"b{i}") for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(SAFETY)
    assert results == {"b0": True, "b1": True, "b2": True}
    assert len(events) == 6
    for first, second in zip(events[::2], events[1::2], strict=True):
        assert first.startswith("start") and second == first.replace("start", "end"), events
    # The folder holds one complete build, and nothing is left beside it.
    stamp = json.loads((out / STAMP_FILE).read_text())
    status = json.loads((out / "status.json").read_text())
    assert stamp["built_at"] == status["generated_at"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([tiny.name, "site"])


def test_builds_in_separate_processes_are_serialised(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    commands = [
        [
            sys.executable,
            str(ROOT / "publish.py"),
            "build",
            "--repo",
            str(tiny),
            "--out",
            str(out),
            "--now",
            (TINY_NOW + timedelta(hours=hours)).isoformat(),
        ]
        for hours in (0, 1)
    ]
    with locked(out):  # both start while the lock is held: both must wait, then take turns
        running = [subprocess.Popen(c, stderr=subprocess.PIPE, text=True) for c in commands]
        for process in running:
            assert wait_for_line(process, "Waiting for another build into")
    errors = [p.communicate(timeout=SAFETY)[1] for p in running]
    assert [p.returncode for p in running] == [0, 0], errors
    status = json.loads((out / "status.json").read_text())
    assert status["generated_at"] == json.loads((out / STAMP_FILE).read_text())["built_at"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([tiny.name, "site"])


def wait_for_line(process: subprocess.Popen, text: str) -> bool:
    """Read the process's stderr until a line holds `text` (False if it ends first)."""
    assert process.stderr is not None
    return any(text in line for line in process.stderr)


def test_the_lock_is_released_when_the_build_fails(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("balise.build.write_tree", explode)
    with pytest.raises(RuntimeError):
        build(tiny, out, TINY_NOW)
    monkeypatch.undo()
    assert not lock_path(out).exists()
    with locked(out, on_wait=lambda: pytest.fail("the failed build kept the lock")):
        pass


def test_write_tree_writes_nested_files(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a/b/c.html": b"x", "d.json": b"{}"})
    assert (tmp_path / "a/b/c.html").read_bytes() == b"x"
    with pytest.raises(FileExistsError, match=r"two outputs want d\.json"):
        write_tree(tmp_path, {"d.json": b"[]"})

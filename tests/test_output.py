"""The output folder: one writer at a time (a lock beside it), whole-tree swaps, safe paths."""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import DATA, ROOT, TINY_NOW, tree_bytes
from disk_faults import refuse_writes

import balise.build
import balise.output
import balise.render.mkdocs_site
from balise.build import SITE_MARKER, build
from balise.cli import main
from balise.output import clear_leftovers, lock_path, locked, replace_dir, write_tree
from balise.stamp import RECORD_SUFFIX, STAMP_FILE

SAFETY = 120  # seconds: only a broken lock waits this long; a passing test never does


def beside(folder: Path) -> list[str]:
    """What a folder holds, sorted, but the digests a build records beside its site."""
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(RECORD_SUFFIX))


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
    assert sorted(
        p.name for p in tmp_path.iterdir() if not p.name.endswith(RECORD_SUFFIX)
    ) == sorted([tiny.name, "site"])


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
    assert sorted(
        p.name for p in tmp_path.iterdir() if not p.name.endswith(RECORD_SUFFIX)
    ) == sorted([tiny.name, "site"])


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


# --- the swap: a complete site at every instant, whenever the build is killed ---------------


class Killed(BaseException):
    """The build killed at that instant: nothing after it runs, not even cleanup handlers."""


@pytest.fixture(scope="module")
def two_sites(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two complete builds of tiny, an hour apart: the site served, and the one replacing it."""
    folder = tmp_path_factory.mktemp("sites")
    old, new = folder / "old", folder / "new"
    assert build(DATA / "tiny", old, TINY_NOW).ok
    assert build(DATA / "tiny", new, TINY_NOW + timedelta(hours=1)).ok
    return old, new


def swap_calls(
    monkeypatch: pytest.MonkeyPatch,
    *,
    exchange: str,
    kill_at: int | None = None,
    fail_at: int | None = None,
    watch: Callable[[], None] = lambda: None,
) -> list[str]:
    """Route the system calls of the swap (renameat2, rename, replace, rmtree) through a
    recorder that runs `watch` before and after each. The call numbered `kill_at` kills the
    build (it and every later call raise Killed); the one numbered `fail_at` raises ENOSPC.

    `exchange`: "yes" (the real renameat2), "refused" (the filesystem answers EINVAL) or
    "absent" (another system, or a libc without renameat2).
    """
    calls: list[str] = []
    dead = False

    def recorded(name: str, real: Callable[..., object]) -> Callable[..., object]:
        def call(*args: object, **kwargs: object) -> object:
            nonlocal dead
            if dead:
                raise Killed(name)
            watch()
            calls.append(name)
            if len(calls) - 1 == kill_at:
                dead = True
                raise Killed(name)
            if len(calls) - 1 == fail_at:
                raise OSError(errno.ENOSPC, "No space left on device", str(args[0]))
            result = real(*args, **kwargs)
            watch()
            return result

        return call

    def refused(*args: object) -> int:
        ctypes.set_errno(errno.EINVAL)
        return -1

    real = balise.output._renameat2()
    assert real is not None, "this test needs Linux and glibc >= 2.28"
    renameat2 = {"yes": recorded("renameat2", real), "refused": recorded("renameat2", refused)}
    monkeypatch.setattr(balise.output, "_renameat2", lambda: renameat2.get(exchange))
    for module, name in ((os, "rename"), (os, "replace"), (shutil, "rmtree")):
        monkeypatch.setattr(module, name, recorded(name, getattr(module, name)))
    return calls


def staged(new: Path, out: Path) -> Path:
    """A copy of `new` where a build stages it, beside `out`."""
    target = out.parent / f".{out.name}.staging-test" / "site"
    shutil.copytree(new, target)
    return target


@pytest.mark.parametrize("kill_at", [0, 1])
def test_with_an_atomic_exchange_the_site_is_complete_at_every_step(
    two_sites: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kill_at: int
) -> None:
    old, new = (tree_bytes(site) for site in two_sites)
    out = tmp_path / "site"
    shutil.copytree(two_sites[0], out)
    source = staged(two_sites[1], out)
    seen: list[bool] = []

    def complete() -> None:
        served = tree_bytes(out)
        assert served in (old, new), "site/ is missing or mixed"
        seen.append(served == new)

    with monkeypatch.context() as patch:
        calls = swap_calls(patch, exchange="yes", watch=complete)
        replace_dir(source, out)
    assert calls == ["renameat2", "rmtree"]
    assert seen[0] is False and seen[-1] is True  # it did go from the old site to the new

    shutil.rmtree(out)
    shutil.copytree(two_sites[0], out)
    source = staged(two_sites[1], out)
    with monkeypatch.context() as patch:
        swap_calls(patch, exchange="yes", kill_at=kill_at, watch=complete)
        with pytest.raises(Killed):
            replace_dir(source, out)
    assert tree_bytes(out) == (old if kill_at == 0 else new)
    clear_leftovers(out, SITE_MARKER)  # what the next build does first, under the lock
    assert tree_bytes(out) == (old if kill_at == 0 else new)
    assert beside(tmp_path) == ["site"]


@pytest.mark.parametrize("kill_at", [0, 1, 2, 3])
def test_without_an_exchange_a_killed_swap_loses_nothing(
    two_sites: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kill_at: int
) -> None:
    old, new = (tree_bytes(site) for site in two_sites)
    out = tmp_path / "site"
    shutil.copytree(two_sites[0], out)
    source = staged(two_sites[1], out)
    with monkeypatch.context() as patch:
        calls = swap_calls(patch, exchange="refused", kill_at=kill_at)
        with pytest.raises(Killed):
            replace_dir(source, out)
    assert calls == ["renameat2", "replace", "replace", "rmtree"][: kill_at + 1]
    if kill_at == 2:  # killed between the two renames: the old site is complete beside it
        assert not out.exists()
        (aside,) = tmp_path.glob(".site.old-*")
        assert tree_bytes(aside) == old
    else:
        assert tree_bytes(out) == (new if kill_at == 3 else old)
    clear_leftovers(out, SITE_MARKER)
    assert tree_bytes(out) == (new if kill_at == 3 else old)
    assert beside(tmp_path) == ["site"]


@pytest.mark.parametrize("exchange", ["refused", "absent"])
def test_without_an_exchange_two_renames_replace_the_site(
    two_sites: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: str
) -> None:
    out = tmp_path / "site"
    shutil.copytree(two_sites[0], out)
    with monkeypatch.context() as patch:
        calls = swap_calls(patch, exchange=exchange)
        replace_dir(staged(two_sites[1], out), out)
    assert [c for c in calls if c != "renameat2"] == ["replace", "replace", "rmtree"]
    assert tree_bytes(out) == tree_bytes(two_sites[1])


@pytest.mark.parametrize(("exchange", "fail_at"), [("yes", 0), ("refused", 1), ("refused", 2)])
def test_a_swap_that_fails_leaves_the_previous_site(
    two_sites: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    exchange: str,
    fail_at: int,
) -> None:
    out = tmp_path / "site"
    shutil.copytree(two_sites[0], out)
    with monkeypatch.context() as patch:
        swap_calls(patch, exchange=exchange, fail_at=fail_at)
        with pytest.raises(OSError, match="No space left"):
            replace_dir(staged(two_sites[1], out), out)
    assert tree_bytes(out) == tree_bytes(two_sites[0])


def test_the_first_site_is_renamed_into_place(two_sites: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "site"
    replace_dir(staged(two_sites[1], out), out)
    assert tree_bytes(out) == tree_bytes(two_sites[1])


def test_a_build_killed_at_the_swap_leaves_a_site_and_the_next_build_clears_up(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    assert build(tiny, out, TINY_NOW).ok
    before = tree_bytes(out)
    real = balise.build.replace_dir

    def killed_after_the_exchange(new: Path, target: Path) -> None:
        # Dead from the call after renameat2 on: the staging folder is not removed either.
        swap_calls(monkeypatch, exchange="yes", kill_at=1)
        real(new, target)

    monkeypatch.setattr(balise.build, "replace_dir", killed_after_the_exchange)
    with pytest.raises(Killed):
        build(tiny, out, TINY_NOW + timedelta(hours=1))
    monkeypatch.undo()
    status = json.loads((out / "status.json").read_text())
    assert status["generated_at"] == (TINY_NOW + timedelta(hours=1)).isoformat()
    assert tree_bytes(out) != before
    # A kill runs no cleanup: the staging folder holding the old site is still there.
    (left,) = tmp_path.glob(".site.staging-*")
    assert tree_bytes(left / "site") == before

    assert build(tiny, out, TINY_NOW + timedelta(hours=2)).ok
    assert sorted(
        p.name for p in tmp_path.iterdir() if not p.name.endswith(RECORD_SUFFIX)
    ) == sorted([tiny.name, "site"])


def test_the_next_build_removes_what_killed_builds_left_and_nothing_else(
    tiny: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    assert build(tiny, out, TINY_NOW).ok
    write_tree(tmp_path / ".site.staging-a1b2c3", {"site/index.html": b"half", "docs/x": b""})
    write_tree(tmp_path / ".site.old-4242", {"status.json": b"{}"})
    (tmp_path / ".site.staging-file").write_bytes(b"")
    write_tree(tmp_path / ".public.staging-9", {"index.html": b"another output's"})
    assert build(tiny, out, TINY_NOW + timedelta(hours=1)).ok
    assert sorted(
        p.name for p in tmp_path.iterdir() if not p.name.endswith(RECORD_SUFFIX)
    ) == sorted([tiny.name, "site", ".public.staging-9"])


def test_a_site_left_aside_by_a_killed_swap_is_put_back_before_building(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    assert build(tiny, out, TINY_NOW).ok
    before = tree_bytes(out)
    out.rename(tmp_path / ".site.old-4242")  # the fallback swap, killed between its renames
    monkeypatch.setattr("balise.build.write_tree", lambda *a, **k: pytest.fail("disk full"))
    with pytest.raises(pytest.fail.Exception):
        build(tiny, out, TINY_NOW + timedelta(hours=1))
    assert tree_bytes(out) == before


# --- a disk that refuses: one message, the previous site untouched ----------------------------


def cli_build(capsys: pytest.CaptureFixture[str], repo: Path, out: Path) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["build", "--repo", str(repo), "--out", str(out), "--now", TINY_NOW.isoformat()])
    return int(exit_info.value.code), capsys.readouterr().err


REFUSED = {
    errno.ENOSPC: "the disk is full ({path}) (free some space on that disk, or build elsewhere "
    "with --out DIR, then build again)",
    errno.EROFS: "the filesystem is read-only ({path}) (build into a writable folder with "
    "--out DIR, or mount that one read-write)",
    errno.EACCES: "permission denied ({path}) (check the owner and permissions of that folder, "
    "or build elsewhere with --out DIR)",
}


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_an_output_folder_that_refuses_writes_is_one_message_and_the_site_stays(
    tiny: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    code: int,
) -> None:
    out = tmp_path / "public" / "site"
    assert build(tiny, out, TINY_NOW - timedelta(hours=1)).ok
    before = tree_bytes(out)
    refused = refuse_writes(monkeypatch, out.parent, code)
    status, err = cli_build(capsys, tiny, out)
    assert status == 1
    assert refused[0] == str(lock_path(out))  # the first write: the lock beside the site
    lines = err.splitlines()  # the problem (sorted first: an absolute path), tiny's warnings
    assert lines[0] == (
        f"{out}:1: cannot write the site: " + REFUSED[code].format(path=lock_path(out))
    )
    assert lines[-1] == f"1 problem found: nothing was published, {out} is unchanged."
    assert [line for line in lines if "cannot" in line] == lines[:1]
    assert "Traceback" not in err
    monkeypatch.undo()
    assert tree_bytes(out) == before
    assert beside(out.parent) == ["site"]


@pytest.mark.parametrize(
    "first",
    [
        "/site/assets/stylesheets",  # MkDocs copying the theme
        "/site/index.html",  # MkDocs writing the pages
        "/site/feeds/all.atom",  # Balise's own outputs
        "/site/.balise-build.json",  # the stamp, written last
    ],
)
def test_a_disk_full_in_the_middle_of_a_build_is_one_message_and_the_site_stays(
    tiny: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    first: str,
) -> None:
    out = tmp_path / "public" / "site"
    assert build(tiny, out, TINY_NOW - timedelta(hours=1)).ok
    before = tree_bytes(out)
    refused = refuse_writes(monkeypatch, out.parent, errno.ENOSPC, from_name=first)
    status, err = cli_build(capsys, tiny, out)
    assert status == 1 and refused[0].endswith(first), refused
    staging = re.escape(str(out.parent / ".site.staging-"))
    lines = err.splitlines()
    assert re.fullmatch(
        rf"{re.escape(str(out))}:1: cannot write the site: the disk is full \({staging}\w+/\S+\)"
        r" \(free some space on that disk, or build elsewhere with --out DIR, then build again\)",
        lines[0],
    ), err
    assert lines[-1] == f"1 problem found: nothing was published, {out} is unchanged."
    assert "Traceback" not in err
    monkeypatch.undo()
    assert tree_bytes(out) == before
    assert beside(out.parent) == ["site"]


def test_a_site_folder_that_cannot_be_swapped_is_one_message_and_stays(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    assert build(tiny, out, TINY_NOW - timedelta(hours=1)).ok
    before = tree_bytes(out)
    refuse_writes(monkeypatch, out, errno.EACCES)  # site/ itself: only the swap writes there
    status, err = cli_build(capsys, tiny, out)
    assert status == 1
    assert err.splitlines()[0] == (
        f"{out}:1: cannot write the site: " + REFUSED[errno.EACCES].format(path=out)
    )
    assert "Traceback" not in err
    monkeypatch.undo()
    assert tree_bytes(out) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder anyway")
def test_a_real_read_only_folder_is_one_message(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "public" / "site"
    assert build(tiny, out, TINY_NOW - timedelta(hours=1)).ok
    before = tree_bytes(out)
    out.parent.chmod(0o555)
    try:
        status, err = cli_build(capsys, tiny, out)
    finally:
        out.parent.chmod(0o755)
    assert status == 1
    assert err.splitlines()[0] == (
        f"{out}:1: cannot write the site: " + REFUSED[errno.EACCES].format(path=lock_path(out))
    )
    assert tree_bytes(out) == before

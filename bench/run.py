"""Balise's benchmark: full build, one-statement rebuild, check, deploys, and two yardsticks.

Each build, check and deploy runs in a fresh subprocess (as `publish.py` does in CI), so that
its time, CPU and peak memory (os.wait4's rusage) are its own. For each N: the floor and the
theme floor, the full build, a first deploy to a folder and to a bare git repository, one
more statement committed and rebuilt (what it changed in the site, in bytes and files), the
pre-commit `check` with the cache the build left, and the deploys of that change. Prints
the tables; run it from anywhere:

    python3 bench/run.py              # N = 500, 2,000 and 10,000 at E = 40 (several minutes)
    python3 bench/run.py --quick      # N = 200 and 500: a smoke test of the benchmark itself
    python3 bench/run.py --repeat 3   # each N three times: medians, and min to max
    python3 bench/run.py --closing    # incident threads that end, as real ones do
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402  (bench/ is not a package: a script beside its helpers)

CACHE = ".balise-cache"
# As on the team's machines, Python keeps the bytecode it compiles (some sandboxes and CI
# images set PYTHONDONTWRITEBYTECODE, which makes every run compile Balise again: ~0.1 s).
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


@dataclass(frozen=True)
class Run:
    """One subprocess: wall and CPU seconds, peak resident memory, and what it wrote."""

    wall: float
    cpu: float
    peak_mib: float
    out_mib: float
    files: int


def measure(command: list[str], out: Path | None) -> Run:
    """Run `command` to completion; its own rusage, not that of earlier children."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV
    )
    stderr = process.stderr.read() if process.stderr else b""
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(command)} failed:\n{stderr.decode(errors='replace')}")
    size, files = 0, 0
    for path in out.rglob("*") if out is not None else ():
        if path.is_file():
            size += path.stat().st_size
            files += 1
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, size / 2**20, files)


def snapshot_code(work: Path) -> Path:
    """A copy of Balise's code as it is now: every build of the run uses the same code."""
    code = work / "code"
    shutil.rmtree(code, ignore_errors=True)
    skip = shutil.ignore_patterns("__pycache__")
    shutil.copytree(PROJECT / "balise", code / "balise", ignore=skip)
    shutil.copy(PROJECT / "publish.py", code / "publish.py")
    return code


CODE = PROJECT  # replaced by the snapshot in main()


def balise(repo: Path, out: Path, *, cache: bool = True) -> list[str]:
    publish = str(CODE / "publish.py")
    command = [sys.executable, publish, "build", "--repo", str(repo), "--out", str(out)]
    command += ["--now", corpus.NOW]
    return command if cache else [*command, "--no-cache"]


def check(repo: Path) -> list[str]:
    """The pre-commit hook: `publish.py check`, with the cache the last build left."""
    return [sys.executable, str(CODE / "publish.py"), "check", "--repo", str(repo)]


def deploy(repo: Path, site: Path, target: str) -> list[str]:
    command = [sys.executable, str(CODE / "publish.py"), "deploy", "--repo", str(repo)]
    return [*command, "--site", str(site), "--to", target]


def bare_remote(path: Path) -> str:
    """A bare repository serving a branch as GitHub does: it allows partial fetches."""
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run(["git", "init", "--quiet", "--bare", str(path)], check=True)
    subprocess.run(
        ["git", "--git-dir", str(path), "config", "uploadpack.allowFilter", "true"], check=True
    )
    return f"git:{path}#gh-pages"


def contents(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every file's size and digest, by relative path."""
    found = {}
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found[path.relative_to(root).as_posix()] = (len(data), hashlib.sha256(data).digest())
    return found


def changed_bytes(before: dict[str, tuple[int, bytes]], after: Path) -> tuple[float, int]:
    """MiB and number of the files of `after` added or whose bytes changed since `before`."""
    now = contents(after)
    changed = [size for name, (size, sha) in now.items() if before.get(name) != (size, sha)]
    return sum(changed) / 2**20, len(changed)


def floor(repo: Path, out: Path) -> list[str]:
    return [sys.executable, str(HERE / "floor.py"), str(repo), str(out)]


def theme_floor(repo: Path, out: Path) -> list[str]:
    return [sys.executable, str(HERE / "theme_floor.py"), str(repo), str(out)]


def same_tree(left: Path, right: Path) -> bool:
    """Byte for byte: the same relative paths, the same bytes."""
    names = {p.relative_to(left) for p in left.rglob("*") if p.is_file()}
    if names != {p.relative_to(right) for p in right.rglob("*") if p.is_file()}:
        return False
    return all(filecmp.cmp(left / n, right / n, shallow=False) for n in names)


def commit(repo: Path, path: str) -> None:
    """Commit the new statement, as the communication team does before the rebuild."""
    git = ["git", "-C", str(repo)]
    subprocess.run([*git, "add", path], check=True)
    subprocess.run(
        [
            *git,
            "-c",
            "user.name=Bench",
            "-c",
            "user.email=bench@example.org",
            "commit",
            "-q",
            "-m",
            "One more statement",
            "--date",
            "2023-12-31T23:40:00+01:00",
        ],
        check=True,
        env={**os.environ, "GIT_COMMITTER_DATE": "2023-12-31T23:40:00+01:00"},
    )


@dataclass(frozen=True)
class Row:
    n: int
    floor: Run
    theme: Run  # MkDocs + Material alone on the same statements (bench/theme_floor.py)
    full: Run
    incremental: Run
    identical: bool | None  # the incremental build equals a cold one (None: not verified)
    changed_mib: float  # what the one-statement rebuild added or changed in the site
    changed_files: int
    check: Run  # `publish.py check` after the rebuild
    folder_first: Run
    folder_change: Run
    git_first: Run
    git_change: Run


def bench_size(n: int, establishments: int, work: Path, verify: bool, closing: bool) -> Row:
    repo = work / f"repo-{n}"
    corpus.generate(repo, n, establishments, git=True, closing=closing)
    floor_out = work / f"floor-{n}"
    shutil.rmtree(floor_out, ignore_errors=True)
    floor_run = measure(floor(repo, floor_out), floor_out)
    theme_out = work / f"theme-{n}"
    shutil.rmtree(theme_out, ignore_errors=True)
    shutil.rmtree(work / f"theme-{n}-docs", ignore_errors=True)
    theme_run = measure(theme_floor(repo, theme_out), theme_out)
    out = work / f"site-{n}"
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(repo / CACHE, ignore_errors=True)
    full = measure(balise(repo, out), out)  # cold: no cache yet (it fills it)
    public = work / f"public-{n}"
    if public.is_symlink():
        public.unlink()
    shutil.rmtree(public.with_name(public.name + ".releases"), ignore_errors=True)
    remote = bare_remote(work / f"remote-{n}.git")
    folder_first = measure(deploy(repo, out, f"folder:{public}"), None)
    git_first = measure(deploy(repo, out, remote), None)
    before = contents(out)
    commit(repo, corpus.add_statement(repo))
    incremental = measure(balise(repo, out), out)  # warm: the cache of the full build
    changed_mib, changed_files = changed_bytes(before, out)
    checked = measure(check(repo), None)
    folder_change = measure(deploy(repo, out, f"folder:{public}"), None)
    git_change = measure(deploy(repo, out, remote), None)
    identical = None
    if verify:
        cold = work / f"cold-{n}"
        shutil.rmtree(cold, ignore_errors=True)
        measure(balise(repo, cold, cache=False), cold)
        identical = same_tree(out, cold)
        shutil.rmtree(cold, ignore_errors=True)
    return Row(
        n,
        floor_run,
        theme_run,
        full,
        incremental,
        identical,
        changed_mib,
        changed_files,
        checked,
        folder_first,
        folder_change,
        git_first,
        git_change,
    )


def median_row(rows: list[Row]) -> Row:
    """One row of medians (of each run's wall seconds) from repeated runs at one N."""

    def run(pick) -> Run:
        runs = [pick(r) for r in rows]
        return Run(
            statistics.median(r.wall for r in runs),
            statistics.median(r.cpu for r in runs),
            statistics.median(r.peak_mib for r in runs),
            statistics.median(r.out_mib for r in runs),
            runs[0].files,
        )

    first = rows[0]
    return Row(
        first.n,
        run(lambda r: r.floor),
        run(lambda r: r.theme),
        run(lambda r: r.full),
        run(lambda r: r.incremental),
        None if any(r.identical is None for r in rows) else all(r.identical for r in rows),
        statistics.median(r.changed_mib for r in rows),
        first.changed_files,
        run(lambda r: r.check),
        run(lambda r: r.folder_first),
        run(lambda r: r.folder_change),
        run(lambda r: r.git_first),
        run(lambda r: r.git_change),
    )


def spread(runs: dict[int, list[Row]]) -> str:
    """With --repeat: min, median and max of the figures the targets compare, per N."""
    figures = {
        "floor": lambda r: r.floor.wall,
        "full build": lambda r: r.full.wall,
        "rebuild": lambda r: r.incremental.wall,
        "check": lambda r: r.check.wall,
        "folder deploy ratio": lambda r: r.folder_change.wall / r.folder_first.wall,
        "git deploy ratio": lambda r: r.git_change.wall / r.git_first.wall,
    }
    lines = ["| N | runs | " + " | ".join(figures) + " |"]
    lines.append("| ---: | ---: | " + " | ".join(["---:"] * len(figures)) + " |")
    for n, repeated in runs.items():
        cells = []
        for pick in figures.values():
            values = sorted(pick(r) for r in repeated)
            cells.append(f"{values[0]:.2f} / {statistics.median(values):.2f} / {values[-1]:.2f}")
        lines.append(f"| {n:,} | {len(repeated)} | " + " | ".join(cells) + " |")
    return "Spread over the runs (min / median / max):\n\n" + "\n".join(lines)


def table(rows: list[Row], establishments: int) -> str:
    head = (
        f"| N (E = {establishments}) | floor | theme floor | full build | full / floor "
        "| full / theme floor | one-statement rebuild | rebuild / floor | full per statement "
        "| peak memory | output | rebuild = cold build |"
    )
    lines = [head, "| " + " | ".join(["---:"] * 11 + [":---:"]) + " |"]
    for r in rows:
        same = {True: "yes", False: "**no**", None: "not checked"}[r.identical]
        lines.append(
            f"| {r.n:,} | {r.floor.wall:.1f} s | {r.theme.wall:.1f} s | {r.full.wall:.1f} s "
            f"| {r.full.wall / r.floor.wall:.2f}× | {r.full.wall / r.theme.wall:.2f}× "
            f"| {r.incremental.wall:.2f} s "
            f"| {r.incremental.wall / r.floor.wall:.2f}× | {1000 * r.full.wall / r.n:.1f} ms "
            f"| {r.full.peak_mib:,.0f} MiB | {r.full.out_mib:,.0f} MiB, {r.full.files:,} files "
            f"| {same} |"
        )
    lines.append("")
    lines.append("CPU seconds (user + system), the same runs:")
    lines.append("")
    lines.append(
        "| N | floor | full build | full / floor | rebuild | rebuild / floor | floor peak |"
    )
    lines.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        lines.append(
            f"| {r.n:,} | {r.floor.cpu:.1f} s | {r.full.cpu:.1f} s "
            f"| {r.full.cpu / r.floor.cpu:.2f}× | {r.incremental.cpu:.2f} s "
            f"| {r.incremental.cpu / r.floor.cpu:.2f}× | {r.floor.peak_mib:,.0f} MiB |"
        )
    lines.append("")
    lines.append("Proportional to the change, the same runs (wall seconds; ratios within one run):")
    lines.append("")
    lines.append(
        "| N | rebuild changed | check | check / floor | check / theme floor "
        "| folder: first deploy | one-statement deploy | ratio (CPU) "
        "| git: first deploy | one-statement deploy | ratio (CPU) |"
    )
    lines.append("| " + " | ".join(["---:"] * 11) + " |")
    for r in rows:
        lines.append(
            f"| {r.n:,} | {r.changed_mib:.2f} MiB, {r.changed_files:,} files "
            f"| {r.check.wall:.2f} s | {r.check.wall / r.floor.wall:.2f}× "
            f"| {r.check.wall / r.theme.wall:.2f}× "
            f"| {r.folder_first.wall:.2f} s | {r.folder_change.wall:.2f} s "
            f"| {r.folder_change.wall / r.folder_first.wall:.2f}× "
            f"({r.folder_change.cpu / r.folder_first.cpu:.2f}×) "
            f"| {r.git_first.wall:.2f} s | {r.git_change.wall:.2f} s "
            f"| {r.git_change.wall / r.git_first.wall:.2f}× "
            f"({r.git_change.cpu / r.git_first.cpu:.2f}×) |"
        )
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        growth = (last.full.wall / last.n) / (first.full.wall / first.n)
        floor_growth = (last.floor.wall / last.n) / (first.floor.wall / first.n)
        lines.append("")
        lines.append(
            f"Time per statement at N = {last.n:,} / at N = {first.n:,}: "
            f"{growth:.2f}× for the full build, {floor_growth:.2f}× for the floor."
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 200 and 500 only")
    parser.add_argument("--sizes", help="comma-separated N, e.g. 500,2000")
    parser.add_argument("-e", "--establishments", type=int, default=40)
    parser.add_argument("--work", type=Path, help="where to write (default: a temporary folder)")
    parser.add_argument(
        "--verify-all",
        action="store_true",
        help="check the rebuild against a cold build at every N (default: up to 2,000)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="run each N K times: medians, then the spread"
    )
    parser.add_argument(
        "--closing",
        action="store_true",
        help="incident threads end back to normal, as real ones do (default: random statuses, "
        "nearly every thread still open: the worst case for the API and the overview)",
    )
    args = parser.parse_args()
    sizes = [200, 500] if args.quick else [500, 2000, 10_000]
    if args.sizes:
        sizes = [int(n) for n in args.sizes.split(",")]
    work = args.work or Path(tempfile.mkdtemp(prefix="balise-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    global CODE
    CODE = snapshot_code(work)  # other edits of the tree during the run do not reach it
    print(f"Benchmark in {work} ({os.cpu_count()} CPUs); one line per N as it completes.")
    if args.closing:
        print("Corpus: every incident thread ends with its establishments back to normal.")
    runs: dict[int, list[Row]] = {}
    for n in sizes:
        for _ in range(max(1, args.repeat)):
            row = bench_size(
                n, args.establishments, work, args.verify_all or n <= 2000, args.closing
            )
            runs.setdefault(n, []).append(row)
            print(
                f"N={n}: floor {row.floor.wall:.1f} s, theme floor {row.theme.wall:.1f} s, "
                f"full {row.full.wall:.1f} s, rebuild {row.incremental.wall:.2f} s "
                f"({row.changed_mib:.2f} MiB changed), check {row.check.wall:.2f} s, deploys "
                f"folder {row.folder_first.wall:.2f} -> {row.folder_change.wall:.2f} s, "
                f"git {row.git_first.wall:.2f} -> {row.git_change.wall:.2f} s, "
                f"peak {row.full.peak_mib:.0f} MiB",
                flush=True,
            )
    print()
    print(table([median_row(repeated) for repeated in runs.values()], args.establishments))
    if args.repeat > 1:
        print()
        print(spread(runs))
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

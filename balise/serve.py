"""`publish.py serve`: build, serve the site on localhost, rebuild when a source changes.

A preview for the comms team; the previous good build keeps being served after a bad edit.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from balise.build import BuildResult, build
from balise.cache import CACHE_DIR
from balise.errors import report

WATCHED = ("establishments.yml", "mkdocs.yml", "statements", "templates")


def fingerprint(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Path, size and mtime of every watched source: a change in any of them means rebuild."""
    entries = []
    for name in WATCHED:
        top = root / name
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        for path in files:
            try:
                stat = path.stat()
            except OSError:
                continue
            entries.append((path.as_posix(), stat.st_size, stat.st_mtime_ns))
    return tuple(entries)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per request drowns the rebuild messages


class Preview:
    """A local server over `out` plus a rebuild whenever the sources' fingerprint changes."""

    def __init__(
        self,
        root: Path,
        out: Path,
        host: str,
        port: int,
        now: Callable[[], datetime],
        *,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        # `now` is the publication instant previewed (NOW, `--now`); `wall_clock` the real time,
        # which judges whether a date is in the future, as `check` and `build` do.
        self.root, self.out, self.now, self.wall_clock = root, out, now, wall_clock
        self.seen = fingerprint(root)
        self.last = self.rebuild()
        out.mkdir(parents=True, exist_ok=True)
        # The handler resolves `directory` on every request, so the atomic swap of `out` is seen.
        handler = functools.partial(_QuietHandler, directory=str(out))
        self.server = http.server.ThreadingHTTPServer((host, port), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def rebuild(self) -> BuildResult:
        started = time.monotonic()
        # The build cache makes a rebuild after one edit a matter of the pages it changes.
        outcome = build(
            self.root,
            self.out,
            self.now(),
            cache=self.root / CACHE_DIR,
            wall_clock=self.wall_clock(),
        )
        if outcome.problems:
            print(report(outcome.problems), file=sys.stderr)
        if outcome.ok:
            print(f"Rebuilt in {time.monotonic() - started:.1f} s", file=sys.stderr)
        else:
            print("Not rebuilt: the preview still shows the last good build.", file=sys.stderr)
        return outcome

    def poll(self) -> BuildResult | None:
        """Rebuild if a source changed since the last look; the outcome, or None if unchanged."""
        current = fingerprint(self.root)
        if current == self.seen:
            return None
        self.seen = current
        self.last = self.rebuild()
        return self.last


def serve(
    root: Path,
    out: Path | None,
    host: str,
    port: int,
    now: Callable[[], datetime],
    *,
    wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> int:
    scratch = None
    if out is None:
        scratch = Path(tempfile.mkdtemp(prefix="balise-serve-"))
        out = scratch / "site"
    preview = Preview(root, out, host, port, now, wall_clock=wall_clock)
    preview.start()
    print(f"Serving on {preview.url} (Ctrl+C to stop)", file=sys.stderr)
    try:
        while True:
            time.sleep(1)
            preview.poll()
    except KeyboardInterrupt:
        return 0
    finally:
        preview.stop()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

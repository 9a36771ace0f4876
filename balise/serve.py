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
from pathlib import Path

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


def _rebuild(root: Path, out: Path, now_text: str | None) -> None:
    from balise.build import build
    from balise.cli import parse_now

    started = time.monotonic()
    outcome = build(root, out, parse_now(now_text))
    if outcome.problems:
        print(report(outcome.problems), file=sys.stderr)
    if outcome.ok:
        print(f"Rebuilt in {time.monotonic() - started:.1f} s", file=sys.stderr)
    else:
        print("Not rebuilt: the preview still shows the last good build.", file=sys.stderr)


def serve(root: Path, out: Path | None, host: str, port: int, now_text: str | None) -> int:
    scratch = None
    if out is None:
        scratch = Path(tempfile.mkdtemp(prefix="balise-serve-"))
        out = scratch / "site"
    _rebuild(root, out, now_text)
    out.mkdir(parents=True, exist_ok=True)
    # The handler resolves `directory` on every request, so the atomic swap of `out` is seen.
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"Serving on http://{host}:{server.server_port}/ (Ctrl+C to stop)", file=sys.stderr)
    seen = fingerprint(root)
    try:
        while True:
            time.sleep(1)
            current = fingerprint(root)
            if current != seen:
                seen = current
                _rebuild(root, out, now_text)
    except KeyboardInterrupt:
        return 0
    finally:
        server.shutdown()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

"""The load figure: the demo served by nginx with Balise's `_nginx-headers.conf` on 127.0.0.1,
driven by wrk (Debian's `wrk`) for a bounded time; prints requests per second and latency
percentiles for index.html and status.json, with and without gzip.

usage: python3 bench/load.py [--seconds 20] [--connections 400] [--threads 2] [--runs 1]
A benchmark, not a test: it prints figures. It never talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))

import nginx

from balise.build import build

ROOT = Path(__file__).parent.parent
NOW = datetime.fromisoformat("2024-10-07T12:00:00+02:00")  # the demo mid-crisis
PATHS = ("index.html", "status.json")
_LATENCY = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_ERRORS = re.compile(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)")
_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, seconds: int, connections: int, threads: int, gzip: bool) -> dict[str, str]:
    """One wrk run: requests/s, latency percentiles in ms, and any errors it reports."""
    command = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s",
    ]  # fmt: skip
    if gzip:
        command += ["-H", "Accept-Encoding: gzip"]
    done = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 60, check=True
    )
    out = done.stdout
    figures = {"rps": _RATE.search(out).group(1)}
    for percent, value, unit in _LATENCY.findall(out):
        figures[f"p{percent}"] = f"{float(value) * _UNIT[unit]:.2f}"
    errors = [m.group(0) for m in _ERRORS.finditer(out)]
    figures["errors"] = "; ".join(errors) or "none"
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=400)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="nginx worker processes")
    parser.add_argument("--runs", type=int, default=1, help="repeat each case to see the variance")
    args = parser.parse_args()
    if shutil.which("wrk") is None or nginx.NGINX is None:
        print("needs Debian's nginx and wrk: apt-get install nginx wrk", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="balise-load-") as scratch:
        site = Path(scratch) / "site"
        outcome = build(ROOT, site, NOW)
        if not outcome.ok:
            print(outcome.errors, file=sys.stderr)
            return 1
        print(
            f"wrk {args.seconds} s, {args.connections} connections, {args.threads} threads; "
            f"nginx {args.workers} workers; 127.0.0.1; latency in ms"
        )
        print("| file | gzip | run | requests/s | p50 | p75 | p90 | p99 | errors |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        for compress in (False, True):
            work = Path(scratch) / f"nginx-{'gzip' if compress else 'plain'}"
            with nginx.serving(site, work, gzip=compress, workers=args.workers) as base:
                for path in PATHS:
                    for run in range(1, args.runs + 1):
                        f = wrk(
                            f"{base}/{path}", args.seconds, args.connections, args.threads, compress
                        )
                        print(
                            f"| {path} | {'on' if compress else 'off'} | {run} | {f['rps']} | "
                            f"{f.get('p50')} | {f.get('p75')} | {f.get('p90')} | {f.get('p99')} "
                            f"| {f['errors']} |",
                            flush=True,
                        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

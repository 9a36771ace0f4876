"""Serve a built site with Debian's nginx on 127.0.0.1, as the README says to: the site's own
`_nginx-headers.conf` included in the server block. Used by tests/test_nginx.py and load.py.

It runs nginx as the current user, with every path (pid, logs, temp folders) in a work folder
of its own and `daemon off`, and stops it on leaving: it never touches the system's nginx.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
MIME_TYPES = Path("/etc/nginx/mime.types")
# What a host serving the crowd compresses (nginx compresses text/html always when gzip is on).
GZIP_TYPES = (
    "text/css text/plain text/xml text/calendar application/javascript application/json "
    "application/xml application/atom+xml application/rss+xml image/svg+xml"
)


class NginxFailed(RuntimeError):
    """nginx refused the configuration or did not start; the message holds what it said."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def config(site: Path, work: Path, port: int, *, gzip: bool = False, workers: int = 1) -> str:
    """An nginx.conf serving `site` on 127.0.0.1:port, everything it writes under `work`."""
    temp = "\n".join(
        f"    {name}_temp_path {work / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root, nginx would run its workers as `nobody`, who cannot read a private tmp folder.
    user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""
    compress = f"    gzip on;\n    gzip_types {GZIP_TYPES};\n" if gzip else "    gzip off;\n"
    return f"""{user}daemon off;
worker_processes {workers};
pid {work / "nginx.pid"};
error_log {work / "error.log"} warn;
events {{
    worker_connections 4096;
}}
http {{
    include {MIME_TYPES};
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
{temp}
{compress}    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        root {site};
        error_page 404 /404.html;
        include {site / "_nginx-headers.conf"};
    }}
}}
"""


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    assert NGINX is not None
    return subprocess.run(
        [NGINX, *args], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
    )


def check(conf: Path, work: Path) -> str:
    """`nginx -t` on this configuration: what it said; NginxFailed when it refuses it."""
    done = _run("-t", "-p", str(work), "-e", str(work / "error.log"), "-c", str(conf))
    if done.returncode != 0:
        raise NginxFailed(done.stderr.strip())
    return done.stderr


@contextmanager
def serving(site: Path, work: Path, *, gzip: bool = False, workers: int = 1) -> Iterator[str]:
    """The site over HTTP at the URL yielded, until the block ends (nginx is then stopped)."""
    if NGINX is None:
        raise NginxFailed("nginx is not installed (apt-get install nginx)")
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = work / "nginx.conf"
    conf.write_text(config(site, work, port, gzip=gzip, workers=workers), encoding="utf-8")
    check(conf, work)
    process = subprocess.Popen(
        [NGINX, "-p", str(work), "-e", str(work / "error.log"), "-c", str(conf)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(port, process, work)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()  # SIGTERM: nginx's fast shutdown, workers included
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


def _wait_for(port: int, process: subprocess.Popen[str], work: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (work / "error.log").read_text(errors="replace") if work.exists() else ""
            raise NginxFailed(f"nginx exited ({process.returncode}): {log.strip()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)  # nginx binds within milliseconds of starting
    raise NginxFailed("nginx did not listen within 10 s")

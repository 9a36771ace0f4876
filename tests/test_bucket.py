"""Deploy to object storage: a real S3 API (moto's server) on 127.0.0.1, behind a small proxy
that counts every request and can refuse writes, so that the tests see what went over the wire.

Nothing leaves the machine; the credentials are fake, and one of them must never be printed.
"""

from __future__ import annotations

import gzip
import http.client
import http.server
import logging
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from conftest import DATA, ROOT, TINY_NOW, tree_bytes
from moto.server import ThreadedMotoServer

import balise.cli_deploy
from balise.build import build
from balise.cli import main
from balise.object_store import (
    MANIFEST,
    Stage,
    content_type,
    stage,
)
from balise.render.headers import cache_control
from balise.stamp import STAMP_FILE

SECRET = "balise-fake-secret-9f3c2a7e"  # AWS_SECRET_ACCESS_KEY: never in any output
IDENTITY = ["-c", "user.name=Équipe com", "-c", "user.email=com@example.org"]
NEW_STATEMENT = (
    "---\ntitle: Reprise à Gamma\ndate: 2024-10-10T09:00:00+02:00\nincident: attaque\n"
    "status:\n  gamma: normal\n---\nLe centre Gamma fonctionne normalement.\n"
)
DEMO_STATEMENT = (
    "---\ntitle: Point de situation du 12 octobre\ndate: 2024-10-12T10:00:00+02:00\n"
    "incident: cyberattaque-2024-10\nstatus:\n  la-sagesse: disrupted\n---\n"
    "La clinique reprend une partie de ses consultations.\n"
)


# --- a real S3 API on loopback, seen through a counting proxy -------------------------------


@dataclass
class Wire:
    """Every request the proxy passed on (method, key, status), and writes it refuses."""

    requests: list[tuple[str, str, int]] = field(default_factory=list)
    refuse_puts_after: int | None = None  # answer 503 to every object PUT beyond this many
    echo_secret: bool = False  # answer every request with an error quoting the secret
    admitted: int = 0  # object PUTs let through while refuse_puts_after is set
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()

    def keys(self, method: str, status: int | None = 200) -> list[str]:
        with self.lock:
            return [k for m, k, s in self.requests if m == method and status in (None, s)]


class _Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream: tuple[str, int]
    wire: Wire

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int, code: str, message: str) -> None:
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>"
        ).encode()
        self._answer(
            status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))], body
        )

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        key = self.path.split("?")[0].split("/", 2)[-1] if self.path.count("/") >= 2 else ""
        wire = self.wire
        with wire.lock:  # admitted here, so that parallel PUTs cannot all slip through
            refuse = False
            if self.command == "PUT" and key and wire.refuse_puts_after is not None:
                refuse = wire.admitted >= wire.refuse_puts_after
                wire.admitted += not refuse
            echo = wire.echo_secret
        if echo:
            wire.requests.append((self.command, key, 400))
            return self._error(400, "InvalidRequest", f"bad signature for secret {SECRET}")
        if refuse:
            with wire.lock:
                wire.requests.append((self.command, key, 503))
            return self._error(503, "ServiceUnavailable", "please slow down")
        headers = {
            k: v for k, v in self.headers.items() if k.lower() not in ("expect", "connection")
        }
        upstream = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
            kept = [
                (k, v)
                for k, v in answer.getheaders()
                if k.lower() not in ("transfer-encoding", "connection", "content-length")
            ]
            size = answer.getheader("Content-Length") if self.command == "HEAD" else None
            kept.append(("Content-Length", size or str(len(data))))
            with wire.lock:
                wire.requests.append((self.command, key, answer.status))
            self._answer(answer.status, kept, data)
        finally:
            upstream.close()

    do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = _forward


@pytest.fixture(scope="module")
def moto() -> Iterator[tuple[str, int]]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        yield server.get_host_and_port()
    finally:
        server.stop()


@pytest.fixture
def wire(moto: tuple[str, int]) -> Iterator[tuple[Wire, str]]:
    recorded = Wire()
    handler = type("Proxy", (_Proxy,), {"upstream": moto, "wire": recorded})
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorded, f"http://127.0.0.1:{proxy.server_port}"
    finally:
        proxy.shutdown()
        proxy.server_close()
        thread.join()


@pytest.fixture
def s3(
    wire: tuple[Wire, str],
    moto: tuple[str, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[S3]:
    recorded, endpoint = wire
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "balise-test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(balise.cli_deploy, "wall_clock", lambda: TINY_NOW + timedelta(hours=3))
    direct = boto3.client("s3", endpoint_url=f"http://{moto[0]}:{moto[1]}")
    bucket = f"statut-{uuid.uuid4().hex[:12]}"
    direct.create_bucket(Bucket=bucket)
    yield S3(direct, bucket, recorded)


@dataclass
class S3:
    """The bucket as the tests read it, straight from the server (not through the proxy)."""

    client: object
    bucket: str
    wire: Wire
    prefix: str = "public/"

    @property
    def target(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def objects(self) -> dict[str, bytes]:
        """Every object under the prefix, by site path, decompressed as a browser would."""
        found = {}
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                path = item["Key"].removeprefix(self.prefix)
                found[path] = self.body(path)
        return found

    def head(self, path: str) -> dict:
        return self.client.head_object(Bucket=self.bucket, Key=self.prefix + path)

    def body(self, path: str) -> bytes:
        answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + path)
        data = answer["Body"].read()
        return gzip.decompress(data) if answer.get("ContentEncoding") == "gzip" else data

    def put_foreign(self, path: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + path, Body=b"not Balise's")


# --- status repositories --------------------------------------------------------------------


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *IDENTITY, *args], cwd=cwd, capture_output=True, check=True)


def committed_copy(source: Path, target: Path) -> Path:
    for name in ("establishments.yml", "mkdocs.yml", "statements", "templates"):
        if (source / name).is_dir():
            shutil.copytree(source / name, target / name)
        elif (source / name).exists():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, target / name)
    git("init", "--quiet", "--initial-branch=main", cwd=target)
    git("add", "-A", cwd=target)
    git("commit", "--quiet", "-m", "Sources", cwd=target)
    return target


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """tiny, committed, built into repo/site."""
    target = committed_copy(DATA / "tiny", tmp_path / "repo")
    assert build(target, target / "site", TINY_NOW).ok
    return target


def add_statement(repo: Path, relative: str, text: str, now: object) -> None:
    (repo / relative).write_text(text, encoding="utf-8")
    git("add", "-A", cwd=repo)
    git("commit", "--quiet", "-m", "New statement", cwd=repo)
    assert build(repo, repo / "site", now).ok


def deploy(capsys: pytest.CaptureFixture[str], repo: Path, *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["deploy", "--repo", str(repo), *args])
    out, err = capsys.readouterr()
    assert SECRET not in out and SECRET not in err
    return int(exit_info.value.code), err


def files_of(site: Path) -> set[str]:
    return {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}


# --- the tests ------------------------------------------------------------------------------


def test_the_demo_deploys_then_one_new_statement_uploads_only_what_changed(
    s3: S3, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = committed_copy(ROOT, tmp_path / "demo")
    now = TINY_NOW + timedelta(days=2)  # the new statement below is then published
    assert build(demo, demo / "site", now).ok
    code, err = deploy(capsys, demo, "--to", s3.target)
    assert code == 0, err
    first = tree_bytes(demo / "site")
    assert s3.objects() == {**first, MANIFEST: s3.body(MANIFEST)}
    assert sorted(s3.wire.keys("PUT")) == sorted(s3.prefix + p for p in [*first, MANIFEST])
    assert f"{len(first)} objects written, 0 deleted, 0 unchanged" in err

    s3.wire.clear()
    add_statement(demo, "statements/2024-10/2024-10-12-point.md", DEMO_STATEMENT, now)
    second = tree_bytes(demo / "site")
    changed = {p for p in second if first.get(p) != second[p]}
    assert 5 < len(changed) < len(second) / 2  # the statement's page, lists, feeds, API...
    code, err = deploy(capsys, demo, "--to", s3.target)
    assert code == 0, err
    written = {k.removeprefix(s3.prefix) for k in s3.wire.keys("PUT")}
    assert written == changed | {MANIFEST}
    assert s3.wire.keys("DELETE", None) == []
    assert s3.objects() == {**second, MANIFEST: s3.body(MANIFEST)}
    assert '+ statement 2024-10-12-point: "Point de situation du 12 octobre"' in err
    assert (
        f"{len(changed)} objects written, 0 deleted, {len(second) - len(changed)} unchanged" in err
    )


def test_each_object_carries_its_type_cache_control_and_encoding(
    s3: S3, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = deploy(capsys, repo, "--to", s3.target)
    assert code == 0, err
    site = repo / "site"
    bundle = next(site.glob("assets/javascripts/bundle.*.min.js")).relative_to(site).as_posix()
    expected = {
        "index.html": ("text/html; charset=utf-8", "gzip"),
        "status.json": ("application/json; charset=utf-8", None),
        "api/v2/summary.json": ("application/json; charset=utf-8", None),
        "feeds/all.atom": ("application/atom+xml; charset=utf-8", None),
        "feeds/all.rss": ("application/rss+xml; charset=utf-8", None),
        "feeds/maintenance.ics": ("text/calendar; charset=utf-8", None),
        bundle: ("text/javascript; charset=utf-8", "gzip"),
        "assets/balise.css": ("text/css; charset=utf-8", "gzip"),
        "assets/images/favicon.png": ("image/png", None),
    }
    for path, (kind, encoding) in expected.items():
        head = s3.head(path)
        assert head["ContentType"] == kind, path
        assert head.get("ContentEncoding") == encoding, path
        assert head["CacheControl"] == cache_control(path), path
        assert head["Metadata"]["balise-digest"].startswith("sha256:"), path
    assert s3.head(bundle)["CacheControl"] == "public, max-age=31536000, immutable"
    assert s3.head("index.html")["CacheControl"] == "public, max-age=60, stale-if-error=86400"
    for path in files_of(site):  # every file, whatever its kind
        assert s3.head(path)["CacheControl"] == cache_control(path), path
        assert s3.head(path)["ContentType"] == content_type(path), path


def test_uploads_go_stage_by_stage_and_deletes_come_after_them(
    s3: S3, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "statements/2024/2024-10-10-gamma.md").write_text(NEW_STATEMENT)
    git("add", "-A", cwd=repo)
    git("commit", "--quiet", "-m", "Gamma", cwd=repo)
    assert build(repo, repo / "site", TINY_NOW + timedelta(hours=1)).ok
    code, err = deploy(capsys, repo, "--to", s3.target)
    assert code == 0, err
    s3.wire.clear()
    (repo / "statements/2024/2024-10-10-gamma.md").unlink()  # withdrawn
    git("add", "-A", cwd=repo)
    git("commit", "--quiet", "-m", "Withdraw", cwd=repo)
    assert build(repo, repo / "site", TINY_NOW + timedelta(hours=1)).ok
    code, err = deploy(capsys, repo, "--to", s3.target)
    assert code == 0, err
    assert "- statement 2024-10-10-gamma withdrawn" in err
    with s3.wire.lock:
        writes = [
            (m, k.removeprefix(s3.prefix)) for m, k, _ in s3.wire.requests if m in ("PUT", "DELETE")
        ]
    methods = [m for m, _ in writes]
    assert "DELETE" in methods
    assert methods.index("DELETE") > max(
        i for i, m in enumerate(methods) if m == "PUT" and writes[i][1] != MANIFEST
    )
    assert writes[-1] == ("PUT", MANIFEST)  # the record of what is there, last
    deleted = {k for m, k in writes if m == "DELETE"}
    assert "communiques/2024-10-10-gamma.html" in deleted
    stages = [stage(k) for m, k in writes if m == "PUT" and k != MANIFEST]
    assert stages == sorted(stages)  # LINKED, then LISTS, INDEX, STATUS, FEEDS, API, RECORD
    order = [k for m, k in writes if m == "PUT"]
    assert order.index("index.html") < order.index("status.json")
    assert stage("index.html")[0] is Stage.INDEX
    assert not (
        s3.client.list_objects_v2(
            Bucket=s3.bucket, Prefix=s3.prefix + "communiques/2024-10-10-gamma"
        )
    )["KeyCount"]


def test_a_failure_in_the_middle_of_an_upload_then_a_rerun_completes_it(
    s3: S3, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s3.wire.refuse_puts_after = 10
    code, err = deploy(capsys, repo, "--to", s3.target)
    assert code == 3
    assert "FAILED" in err and ("503" in err or "ServiceUnavailable" in err)
    assert "run deploy again to complete it" in err
    assert "still serves the site it served before" not in err
    first_run = set(s3.wire.keys("PUT"))
    assert len(first_run) == 10
    assert all(stage(k.removeprefix(s3.prefix))[0] is Stage.LINKED for k in first_run)
    assert s3.prefix + "index.html" not in first_run  # the entry points wait for the rest

    s3.wire.refuse_puts_after = None
    s3.wire.clear()
    code, err = deploy(capsys, repo, "--to", s3.target)
    assert code == 0, err
    site = tree_bytes(repo / "site")
    rerun = set(s3.wire.keys("PUT"))
    assert rerun.isdisjoint(first_run)  # what the failed run wrote is not written again
    assert len(rerun) == len(site) + 1 - 10
    assert s3.objects() == {**site, MANIFEST: s3.body(MANIFEST)}


def test_a_failure_before_any_write_leaves_the_target_as_it_was(
    s3: S3, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s3.wire.refuse_puts_after = 0
    code, err = deploy(capsys, repo, "--to", s3.target)
    assert code == 3
    assert f"{s3.target} still serves the site it served before." in err
    assert s3.objects() == {}


def test_a_second_deploy_of_the_same_site_writes_nothing(
    s3: S3, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deploy(capsys, repo, "--to", s3.target)[0] == 0
    s3.wire.clear()
    code, err = deploy(capsys, repo, "--to", s3.target)
    assert code == 0
    assert "already up to date" in err
    assert s3.wire.keys("PUT", None) == [] and s3.wire.keys("DELETE", None) == []
    # The manifest settles every object: no object is read one by one (only the bucket).
    assert [k for k in s3.wire.keys("HEAD", None) if k] == []


def test_dry_run_shows_the_changes_and_writes_nothing(
    s3: S3, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = deploy(capsys, repo, "--to", s3.target, "--dry-run")
    assert code == 0
    assert f"Would deploy {repo / 'site'} to {s3.target}:" in err and "first deploy" in err
    assert s3.wire.keys("PUT", None) == [] and s3.wire.keys("DELETE", None) == []
    assert s3.objects() == {}


def test_an_unstamped_or_altered_site_is_refused_before_any_request(
    s3: S3, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "site/index.html").write_text("<p>modifié à la main</p>")
    code, err = deploy(capsys, repo, "--to", s3.target)
    assert code == 1 and "the site was changed after it was built" in err
    (repo / "site" / STAMP_FILE).unlink()
    code, err = deploy(capsys, repo, "--to", s3.target)
    assert code == 1 and "the site has no build stamp" in err
    assert s3.wire.requests == []


def test_a_site_built_from_uncommitted_sources_is_refused(
    s3: S3, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "statements/2024/2024-10-10-gamma.md").write_text(NEW_STATEMENT)
    assert build(repo, repo / "site", TINY_NOW).ok
    code, err = deploy(capsys, repo, "--to", s3.target)
    assert code == 1 and "uncommitted changes" in err
    assert s3.wire.requests == []


def test_objects_balise_did_not_put_there_are_left_alone(
    s3: S3, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s3.put_foreign("robots.txt")
    s3.put_foreign("old/page.html")
    assert deploy(capsys, repo, "--to", s3.target)[0] == 0
    objects = s3.objects()
    assert objects["robots.txt"] == b"not Balise's"
    assert objects["old/page.html"] == b"not Balise's"
    assert s3.wire.keys("DELETE", None) == []


def test_the_server_s_errors_never_print_the_secret(
    s3: S3, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s3.wire.echo_secret = True
    code, err = deploy(capsys, repo, "--to", s3.target)  # asserts the secret is not printed
    assert code == 3
    assert "FAILED" in err


def test_a_missing_bucket_is_refused(
    s3: S3, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = deploy(capsys, repo, "--to", f"s3://no-such-bucket-{s3.bucket}/x")
    assert code == 2
    assert "the bucket does not exist" in err


def test_rollback_is_not_supported_on_an_s3_target(
    s3: S3, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deploy(capsys, repo, "--to", s3.target)[0] == 0
    code, err = deploy(capsys, repo, "--to", s3.target, "--rollback")
    assert code == 2
    assert "an s3:// target keeps no earlier release to roll back to" in err


def test_without_boto3_the_message_says_what_to_install(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # `import boto3` raises ImportError
    monkeypatch.setattr(balise.cli_deploy, "wall_clock", lambda: TINY_NOW + timedelta(hours=3))
    code, err = deploy(capsys, repo, "--to", "s3://statut/public")
    assert code == 2
    assert "deploying to s3:// needs boto3: pip install 'balise[s3]'" in err

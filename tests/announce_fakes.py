"""Test doubles for every channel, at the wire: small repositories, a Mastodon and a Bluesky
PDS on local pytest-httpserver servers, X behind `responses`, a real SMTP server (aiosmtpd)
with STARTTLS or TLS and a self-signed certificate, and webhook receivers on loopback.

Every fake records the requests it received so that tests assert the exact payloads.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import socket
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, quote

import responses
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

TINY = Path(__file__).parent / "data" / "tiny"
X_TWEETS = "https://api.twitter.com/2/tweets"
LOCAL = re.compile(r"http://(localhost|127\.0\.0\.1)(:\d+)?/")

MASTODON_TOKEN = "mastodon-SECRET-token-0123456789"
BLUESKY_PASSWORD = "bsky-SECRET-app-pass-abcd"
X_SECRETS = {
    "BALISE_X_API_KEY": "x-SECRET-api-key",
    "BALISE_X_API_SECRET": "x-SECRET-api-secret",
    "BALISE_X_ACCESS_TOKEN": "x-SECRET-access-token",
    "BALISE_X_ACCESS_SECRET": "x-SECRET-access-secret",
}
DID = "did:plc:balisetest"
HANDLE = "hospi.test"


# A `fail` answer (instead of an HTTP code): close the connection without answering.
DROP = "drop"


def dropped(request: Request) -> Response:
    """Shut the connection down before any answer: the client sees it closed, no status."""
    request.environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
    return Response(status=500)  # never reaches the client


def failure_response(answer: int | tuple[int, dict], default: dict) -> Response:
    """An error answer: `code` (with the fake's usual body) or `(code, body)` to echo things."""
    code, body = answer if isinstance(answer, tuple) else (answer, default)
    return Response(json.dumps(body), status=code, content_type="application/json")


def copy_tiny(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(TINY, root)
    return root


REGISTRY = """\
organisation:
  name: Hospi Test
establishments:
  - id: la-sagesse
    name: Clinique mutualiste La Sagesse
    city: Rennes
  - id: estuaire
    name: Clinique mutualiste de l'Estuaire
    city: Saint-Nazaire
  - id: jules-verne
    name: Clinique Jules Verne
    city: Nantes
  - id: brocéliande
    name: Polyclinique de Brocéliande
    city: Rennes
  - id: atlantique
    name: Centre hospitalier de l'Atlantique
    city: Nantes
  - id: iroise
    name: Hôpital privé de l'Iroise
    city: Brest
"""
REGISTRY = REGISTRY.replace("brocéliande", "broceliande")
MKDOCS = "site_name: Hospi Test\nsite_url: https://status.example.org/\n"


def make_repository(root: Path, statements: dict[str, str]) -> Path:
    """A status repository with the registry above and these statement files (name -> text)."""
    (root / "statements").mkdir(parents=True, exist_ok=True)
    (root / "establishments.yml").write_text(REGISTRY, encoding="utf-8")
    (root / "mkdocs.yml").write_text(MKDOCS, encoding="utf-8")
    for name, text in statements.items():
        (root / "statements" / f"{name}.md").write_text(text, encoding="utf-8")
    return root


def statement(title: str, date: str, *front: str, body: str = "Texte.") -> str:
    """The text of a statement file; `front` are extra front-matter lines."""
    lines = ["---", f"title: {json.dumps(title, ensure_ascii=False)}", f"date: {date}", *front]
    return "\n".join([*lines, "---", body, ""])


# --- Mastodon -------------------------------------------------------------------------


class FakeMastodon:
    """POST /api/v1/statuses, honouring Idempotency-Key like Mastodon does."""

    def __init__(self, server: HTTPServer, fail: Callable[[str, int], int | None] | None = None):
        self.server = server
        self.fail = fail or (lambda text, attempt: None)  # (status text, attempt no.) -> HTTP code
        self.requests: list[dict] = []
        self.statuses: list[dict] = []
        self._by_key: dict[str, dict] = {}
        self.deleted: list[str] = []
        self.delete_fail = lambda attempt: None  # attempt no. -> an HTTP code, or None
        server.expect_request("/api/v1/statuses", method="POST").respond_with_handler(self.handle)
        server.expect_request(
            re.compile(r"/api/v1/statuses/\d+"), method="DELETE"
        ).respond_with_handler(self.delete)

    def delete(self, request: Request) -> Response:
        status_id = request.path.rsplit("/", 1)[1]
        code = self.delete_fail(len(self.deleted) + 1)
        if code:
            return failure_response(code, {"error": f"failure {code}"})
        found = [s for s in self.statuses if s["id"] == status_id]
        if not found:
            return failure_response(404, {"error": "Record not found"})
        self.statuses.remove(found[0])
        self.deleted.append(status_id)
        return Response(json.dumps(found[0]), content_type="application/json")

    @property
    def url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def handle(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
        entry = {"form": form, "headers": dict(request.headers)}
        self.requests.append(entry)
        attempt = sum(1 for r in self.requests if r["form"].get("status") == form.get("status"))
        code = self.fail(form.get("status", ""), attempt)
        if code == DROP:
            return dropped(request)
        if code:
            status = code[0] if isinstance(code, tuple) else code
            auth = request.headers.get("Authorization")
            return failure_response(code, {"error": f"failure {status}; Authorization was {auth}"})
        key = request.headers.get("Idempotency-Key")
        if key and key in self._by_key:
            return Response(json.dumps(self._by_key[key]), content_type="application/json")
        number = 1000 + len(self.statuses) + 1
        status = {
            "id": str(number),
            "uri": f"https://social.example.org/users/hospi/statuses/{number}",
            "url": f"https://social.example.org/@hospi/{number}",
            "content": form.get("status", ""),
            "created_at": "2024-10-09T10:00:00.000Z",
            "visibility": "public",
            "language": form.get("language"),
        }
        self.statuses.append(status)
        if key:
            self._by_key[key] = status
        return Response(json.dumps(status), content_type="application/json")


# --- Bluesky --------------------------------------------------------------------------


def _jwt(payload: dict) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}.c2ln"


class FakeBluesky:
    """A PDS: createSession, createRecord, getRecord, for one account."""

    def __init__(self, server: HTTPServer, fail: Callable[[str, int], int | None] | None = None):
        self.server = server
        self.fail = fail or (lambda text, attempt: None)
        self.sessions: list[dict] = []
        self.creates: list[dict] = []
        self.gets: list[dict] = []
        self.records: dict[str, dict] = {}
        # The session token the PDS hands out (what a leaky error would echo).
        self.token = _jwt({"sub": DID, "exp": 4102444800, "iat": 0, "scope": "com.atproto.appPass"})
        self.session = {
            "accessJwt": self.token,
            "refreshJwt": self.token,
            "handle": HANDLE,
            "did": DID,
        }
        xrpc = "/xrpc/"
        server.expect_request(f"{xrpc}com.atproto.server.createSession").respond_with_handler(
            self.create_session
        )
        server.expect_request(f"{xrpc}com.atproto.repo.createRecord").respond_with_handler(
            self.create_record
        )
        server.expect_request(f"{xrpc}com.atproto.repo.getRecord").respond_with_handler(
            self.get_record
        )
        self.deleted: list[str] = []
        server.expect_request(f"{xrpc}com.atproto.repo.deleteRecord").respond_with_handler(
            self.delete_record
        )

    def delete_record(self, request: Request) -> Response:
        rkey = json.loads(request.get_data())["rkey"]
        self.records.pop(rkey, None)  # deleting is idempotent on a PDS
        self.deleted.append(rkey)
        return Response(json.dumps({}), content_type="application/json")

    @property
    def url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def create_session(self, request: Request) -> Response:
        self.sessions.append(json.loads(request.get_data()))
        return Response(json.dumps(self.session), content_type="application/json")

    def create_record(self, request: Request) -> Response:
        data = json.loads(request.get_data())
        self.creates.append({"json": data, "headers": dict(request.headers)})
        text = data["record"]["text"]
        attempt = sum(1 for c in self.creates if c["json"]["record"]["text"] == text)
        code = self.fail(text, attempt)
        if code == DROP:
            return dropped(request)
        if code:
            status = code[0] if isinstance(code, tuple) else code
            return failure_response(
                code, {"error": "InternalServerError", "message": f"failure {status}"}
            )
        rkey = data.get("rkey") or f"3auto{len(self.records)}"
        uri = f"at://{DID}/app.bsky.feed.post/{rkey}"
        self.records[rkey] = {"uri": uri, "cid": "bafyreicid", "value": data["record"]}
        return Response(
            json.dumps({"uri": uri, "cid": "bafyreicid"}), content_type="application/json"
        )

    def get_record(self, request: Request) -> Response:
        self.gets.append(dict(request.args))
        record = self.records.get(request.args.get("rkey", ""))
        if record is None:
            body = {"error": "RecordNotFound", "message": "Could not locate record"}
            return Response(json.dumps(body), status=400, content_type="application/json")
        return Response(json.dumps(record), content_type="application/json")


# --- X --------------------------------------------------------------------------------


class FakeX:
    """POST https://api.twitter.com/2/tweets behind `responses`; local servers pass through."""

    def __init__(self, mock: responses.RequestsMock, fail=None):
        self.fail = fail or (lambda text, attempt: None)  # -> HTTP code, or an exception
        self.requests: list[dict] = []
        self.tweets: list[dict] = []
        self.deleted: list[str] = []
        mock.add_passthru(LOCAL)
        mock.add_callback(responses.POST, X_TWEETS, callback=self.handle)
        mock.add_callback(responses.DELETE, re.compile(X_TWEETS + r"/\d+"), callback=self.delete)

    def delete(self, request):
        tweet_id = request.url.rsplit("/", 1)[1]
        self.deleted.append(tweet_id)
        self.tweets = [t for t in self.tweets if t["id"] != tweet_id]
        return (200, {}, json.dumps({"data": {"deleted": True}}))

    def handle(self, request):
        body = json.loads(request.body)
        self.requests.append({"json": body, "headers": dict(request.headers)})
        attempt = sum(1 for r in self.requests if r["json"].get("text") == body.get("text"))
        failure = self.fail(body.get("text", ""), attempt)
        if isinstance(failure, BaseException):
            raise failure
        if isinstance(failure, tuple):  # (code, body): a body that echoes things
            return (failure[0], {}, json.dumps(failure[1]))
        if failure == 403:
            detail = "You are not allowed to create a Tweet with duplicate content."
            body = {"detail": detail, "title": "Forbidden", "status": 403, "type": "about:blank"}
            return (403, {}, json.dumps(body))
        if failure:
            auth = request.headers.get("Authorization")
            detail = f"failure {failure}; Authorization was {auth}"
            return (failure, {}, json.dumps({"title": "Error", "detail": detail}))
        tweet_id = str(1846000000000000000 + len(self.tweets) + 1)
        self.tweets.append({"id": tweet_id, "text": body["text"]})
        return (201, {}, json.dumps({"data": {"id": tweet_id, "text": body["text"]}}))


def environment(mastodon: FakeMastodon, bluesky: FakeBluesky) -> dict[str, str]:
    """Every BALISE_* variable, pointing Mastodon and Bluesky at the local fakes."""
    return {
        **X_SECRETS,
        "BALISE_MASTODON_URL": mastodon.url,
        "BALISE_MASTODON_TOKEN": MASTODON_TOKEN,
        "BALISE_BLUESKY_HANDLE": HANDLE,
        "BALISE_BLUESKY_APP_PASSWORD": BLUESKY_PASSWORD,
        "BALISE_BLUESKY_URL": bluesky.url,
    }


def all_secrets() -> list[str]:
    return [MASTODON_TOKEN, BLUESKY_PASSWORD, *X_SECRETS.values()]


# --- SMTP -----------------------------------------------------------------------------

SMTP_USER = "hospi"
SMTP_PASSWORD = "smtp-SECRET-pass/word"
EMAIL_FROM = "Hospi Test <presse@hospi.test>"
EMAIL_TO = ("journaliste@journal.test", "redaction@radio.test", "ars@sante.test")


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1, and its key (PEM files in `folder`)."""
    import ipaddress
    from datetime import UTC, datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime(2020, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2100, 1, 1, tzinfo=UTC))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class FakeSMTP:
    """A real SMTP server on loopback (aiosmtpd): STARTTLS (`tls="starttls"`), TLS from the
    first byte (`tls="implicit"`) or none; AUTH for one user; records what it accepts.

    `fail(attempt)` -> an SMTP reply such as "451 4.3.0 try later" for that DATA, or None.
    """

    def __init__(self, certificate: tuple[Path, Path] | None, *, tls: str = "starttls",
                 auth: bool = True, fail=None) -> None:  # fmt: skip
        import ssl

        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.messages: list[dict] = []
        self.logins: list[tuple[str, str]] = []
        self.attempts = 0
        self.fail = fail or (lambda attempt: None)
        self.port = free_port()
        context = None
        if certificate is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*map(str, certificate))

        def authenticate(server, session, envelope, mechanism, data):
            login = (data.login.decode(), data.password.decode())
            self.logins.append(login)
            return AuthResult(success=login == (SMTP_USER, SMTP_PASSWORD), handled=False)

        options: dict = {}
        if auth:
            # auth_require_tls=False: the server would take a password in clear; Balise must not.
            options.update(authenticator=authenticate, auth_require_tls=False)
        if tls == "implicit":
            options.update(ssl_context=context)
        elif tls == "starttls":
            options.update(tls_context=context, require_starttls=True)
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes
        from email.policy import default

        self.attempts += 1
        reply = self.fail(self.attempts)
        if reply:
            return reply
        raw = envelope.original_content or envelope.content
        self.messages.append(
            {
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "raw": raw,
                "message": message_from_bytes(raw, policy=default),
                # STARTTLS sets session.ssl; TLS from the start shows on the transport.
                "tls": session.ssl is not None
                or server.transport.get_extra_info("ssl_object") is not None,
                "authenticated": bool(session.authenticated),
            }
        )
        return "250 2.0.0 Ok: queued"

    def url(self, scheme: str = "smtp") -> str:
        return f"{scheme}://{SMTP_USER}:{quote(SMTP_PASSWORD, safe='')}@localhost:{self.port}"


def email_environment(smtp: FakeSMTP, scheme: str = "smtp") -> dict[str, str]:
    return {
        "BALISE_SMTP_URL": smtp.url(scheme),
        "BALISE_EMAIL_FROM": EMAIL_FROM,
        "BALISE_EMAIL_TO": ", ".join(EMAIL_TO),
    }


# --- webhooks -------------------------------------------------------------------------

WEBHOOK_SECRET = "whsec-SECRET-0123456789"


class FakeWebhook:
    """An incoming-webhook receiver at /hooks/NAME; `fail(attempt)` -> an HTTP code, DROP, or
    (code, headers) for that attempt, or None to accept."""

    def __init__(self, server: HTTPServer, name: str = "newsroom", fail=None) -> None:
        self.server = server
        self.path = f"/hooks/{name}"
        self.fail = fail or (lambda attempt: None)
        self.requests: list[dict] = []
        self.accepted: list[dict] = []
        server.expect_request(self.path, method="POST").respond_with_handler(self.handle)

    @property
    def url(self) -> str:
        return self.server.url_for(self.path)

    def handle(self, request: Request) -> Response:
        raw = request.get_data()
        entry = {"raw": raw, "headers": dict(request.headers), "json": json.loads(raw)}
        self.requests.append(entry)
        answer = self.fail(len(self.requests))
        if answer == DROP:
            return dropped(request)
        if isinstance(answer, tuple):
            return Response("slow down", status=answer[0], headers=answer[1])
        if answer:
            echoed = request.headers.get("Authorization", "")
            return Response(f"refused {answer}; authorization was {echoed}", status=answer)
        self.accepted.append(entry)
        return Response("ok", status=200)


# --- fixtures (import them into a test module to use them) ------------------------------

import pytest  # noqa: E402


@pytest.fixture
def second_server():
    """A second local HTTP server (the `httpserver` fixture is the first)."""
    server = HTTPServer()
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def x_mock():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def smtp_server(certificate):
    """A STARTTLS SMTP server with AUTH, stopped after the test."""
    server = FakeSMTP(certificate)
    yield server
    server.stop()

"""The webhook channel against HTTP servers on loopback: the exact body (status.json's own
objects), headers and signature, one POST per URL, 4xx final, 5xx/429/timeouts retried, a kill
between sending and recording, no URL or secret in what is printed or recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from announce_fakes import WEBHOOK_SECRET, FakeWebhook, second_server  # noqa: F401

from balise import __version__
from balise.announce import webhook
from balise.announce.ledger import ATTEMPTED, FAILED, POSTED, read_ledger
from balise.announce.network import BadSetting
from balise.announce.post import outbox, send
from balise.build import check
from balise.render.api import status_document
from balise.timeline import snapshot

NOW = datetime.fromisoformat("2024-10-09T12:00:00+02:00")
SINCE = datetime.fromisoformat("2024-10-01T00:00:00+02:00")
CLOCK = datetime(2024, 10, 9, 10, 0, 0, tzinfo=UTC)
ALERTE = "https://status.example.org/test/communiques/2024-10-05-alerte.html"


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def verified(body: bytes, header: str, secret: str) -> bool:
    """The receiver's check, as the README shows it."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


def clients(urls, secret=WEBHOOK_SECRET, sleeps=None, timeout=30.0):
    env = {"BALISE_WEBHOOK_URLS": ",".join(urls)}
    if secret:
        env["BALISE_WEBHOOK_SECRET"] = secret
    settings = webhook.credentials(env)
    sleep = sleeps if sleeps is not None else Sleeps()
    return webhook.clients(settings, timeout=timeout, sleep=sleep)


def run(root: Path, by_destination, *, since=SINCE):
    repository = check(root).repository
    assert repository is not None
    box = outbox(root, repository, tuple(by_destination), NOW, since=since)
    return send(root, box, by_destination, wall_clock=lambda: CLOCK)


def test_each_statement_is_posted_with_status_json_objects_and_a_signature(
    tiny: Path, httpserver
) -> None:
    hook = FakeWebhook(httpserver)
    report = run(tiny, clients([hook.url]))
    assert report.ok and len(hook.accepted) == 3
    first = hook.accepted[0]
    repository = check(tiny).repository
    status = status_document(repository, snapshot(repository, NOW))
    alerte = next(s for s in status["statements"] if s["id"] == "2024-10-05-alerte")
    assert first["json"] == {
        "text": (
            "Cyberattaque à la clinique Alpha\n"
            "Alpha : activité interrompue · Autres établissements : mode dégradé\n" + ALERTE
        ),
        "statement": alerte,  # exactly status.json's object
        "establishments": status["establishments"],  # `all`: every one, as status.json has it
    }
    point = hook.accepted[1]["json"]
    assert [e["id"] for e in point["establishments"]] == ["beta"]
    headers = first["headers"]
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == f"Balise/{__version__} (status announcements)"
    assert verified(first["raw"], headers["X-Balise-Signature"], WEBHOOK_SECRET)
    assert not verified(first["raw"], headers["X-Balise-Signature"], "another secret")
    assert headers["X-Balise-Delivery"].startswith("balise-2024-10-05-alerte-")
    destination = webhook.destination(hook.url)
    entry = read_ledger(tiny).entry("2024-10-05-alerte", destination)
    assert entry.status == POSTED and entry.note == f"Webhook {destination[8:]} answered HTTP 200"


def test_without_a_secret_nothing_is_signed(tiny: Path, httpserver) -> None:
    hook = FakeWebhook(httpserver)
    assert run(tiny, clients([hook.url], secret=None)).ok
    assert "X-Balise-Signature" not in hook.accepted[0]["headers"]


def test_one_post_per_url_and_a_failing_url_spares_the_others(
    tiny: Path,
    httpserver,
    second_server,  # noqa: F811
) -> None:
    good = FakeWebhook(httpserver, "chat")
    bad = FakeWebhook(second_server, "ars", fail=lambda attempt: 503)
    sleeps = Sleeps()
    report = run(tiny, clients([good.url, bad.url], sleeps=sleeps))
    assert len(good.accepted) == 3 and bad.accepted == []
    assert len(bad.requests) == 4  # 1 + 3 retries, then the URL is left for this run
    assert sleeps == [2.0, 4.0, 8.0]
    skipped = f"not tried: {webhook.destination(bad.url)} failed earlier in this run"
    assert [o.failure for o in report.failed][1:] == [skipped] * 2
    bad.fail = lambda attempt: None
    report = run(tiny, clients([good.url, bad.url]), since=None)
    assert report.ok and len(report.outcomes) == 3
    assert len(good.accepted) == 3 and len(bad.accepted) == 3  # nothing twice


def test_a_4xx_is_recorded_as_failed_and_never_retried(tiny: Path, httpserver) -> None:
    hook = FakeWebhook(httpserver, fail=lambda attempt: 410)
    sleeps = Sleeps()
    report = run(tiny, clients([hook.url], sleeps=sleeps))
    destination = webhook.destination(hook.url)
    assert report.failed[0].failure == (
        f"Webhook {destination[8:]} answered HTTP 410: refused 410; authorization was"
    )
    assert len(hook.requests) == 1 and sleeps == []
    assert read_ledger(tiny).entry("2024-10-05-alerte", destination).status == FAILED
    hook.fail = lambda attempt: None
    run(tiny, clients([hook.url]), since=None)
    assert [r["json"]["statement"]["id"] for r in hook.accepted] == [
        "2024-10-06-point",
        "2024-10-07-info",
    ]  # the refused one is not sent again (`--since` would reopen it)


def test_a_429_waits_as_asked_then_sends(tiny: Path, httpserver) -> None:
    hook = FakeWebhook(httpserver, fail=lambda n: (429, {"Retry-After": "7"}) if n == 1 else None)
    sleeps = Sleeps()
    assert run(tiny, clients([hook.url], sleeps=sleeps)).ok
    assert sleeps == [7.0] and len(hook.accepted) == 3


def test_a_receiver_that_never_answers_times_out_and_stays_pending(tiny: Path) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/hook"
        sleeps = Sleeps()
        report = run(tiny, clients([url], sleeps=sleeps, timeout=0.05))
    destination = webhook.destination(url)
    assert report.failed[0].failure == (
        f"no answer from Webhook {destination[8:]} (timeout after 0.05 s) "
        "(gave up after 4 attempts)"
    )
    assert read_ledger(tiny).entry("2024-10-05-alerte", destination).status == ATTEMPTED


class Killed(BaseException):
    """Stands for SIGKILL or a power cut: nothing after it runs."""


def test_a_kill_after_the_receiver_answered_resends_with_the_same_delivery_id(
    tiny: Path, httpserver
) -> None:
    hook = FakeWebhook(httpserver)
    (destination, real), *_ = clients([hook.url]).items()

    class DiesAfterSending:
        network = "webhook"

        def key(self, post, attempted_at):
            return real.key(post, attempted_at)

        def secrets(self):
            return real.secrets()

        def send(self, post, key, *, resumed=False):
            real.send(post, key, resumed=resumed)
            raise Killed

    with pytest.raises(Killed):
        run(tiny, {destination: DiesAfterSending()})
    assert read_ledger(tiny).entry("2024-10-05-alerte", destination).status == ATTEMPTED
    assert run(tiny, {destination: real}, since=None).ok
    deliveries = [r["headers"]["X-Balise-Delivery"] for r in hook.accepted]
    assert len(deliveries) == 4 and deliveries[0] == deliveries[1]  # a receiver can drop it
    assert len(set(deliveries)) == 3
    assert run(tiny, {destination: real}, since=None).outcomes == ()


def test_no_url_password_or_secret_is_reported_or_recorded(tiny: Path, httpserver) -> None:
    hook = FakeWebhook(httpserver, fail=lambda attempt: 401)  # echoes the Authorization header
    url = hook.url.replace("http://", "http://newsroom:hook-SECRET-pw@")
    report = run(tiny, clients([url]))
    assert hook.requests[0]["headers"]["Authorization"].startswith("Basic ")
    failure = report.failed[0].failure
    assert "refused 401; authorization was Basic [secret]" in failure
    assert hook.requests[0]["headers"]["Authorization"][6:] not in failure
    ledger = (tiny / ".balise/posted.json").read_text(encoding="utf-8")
    for secret in ("hook-SECRET-pw", url, hook.url, "/hooks/newsroom", WEBHOOK_SECRET):
        assert secret not in failure + ledger


def test_settings_name_a_bad_url_by_its_position_only() -> None:
    with pytest.raises(BadSetting) as caught:
        webhook.credentials({"BALISE_WEBHOOK_URLS": "https://a.test/x, ftp://u:pw@b.test/"})
    assert str(caught.value) == (
        "the 2nd address of BALISE_WEBHOOK_URLS is not an http:// or https:// URL"
    )
    settings = webhook.credentials({"BALISE_WEBHOOK_URLS": " https://a.test/x ,https://a.test/x"})
    assert settings.urls == ("https://a.test/x",) and settings.secret is None
    destination = webhook.destination("https://a.test/x")
    assert webhook.destinations(settings) == {destination: f"Webhook {destination[8:]}"}
    assert destination == "webhook:" + hashlib.sha256(b"https://a.test/x").hexdigest()[:8]

"""The email channel against a real SMTP server on loopback (aiosmtpd): what arrives (parts,
headers, recipients), STARTTLS and TLS with a self-signed certificate, no password in clear,
failures and retries, a kill between sending and recording.
"""

from __future__ import annotations

import ssl
from datetime import UTC, datetime
from pathlib import Path

import pytest
from announce_fakes import (  # noqa: F401  (fixtures)
    EMAIL_FROM,
    EMAIL_TO,
    SMTP_PASSWORD,
    SMTP_USER,
    FakeSMTP,
    certificate,
    email_environment,
    smtp_server,
)
from bs4 import BeautifulSoup

from balise.announce import email
from balise.announce.ledger import ATTEMPTED, POSTED, read_ledger
from balise.announce.network import BadSetting, MissingCredentials
from balise.announce.post import outbox, send
from balise.build import check

NOW = datetime.fromisoformat("2024-10-09T12:00:00+02:00")
SINCE = datetime.fromisoformat("2024-10-01T00:00:00+02:00")
CLOCK = datetime(2024, 10, 9, 10, 0, 0, tzinfo=UTC)
ALERTE = "https://status.example.org/test/communiques/2024-10-05-alerte.html"


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def trusting(certificate) -> ssl.SSLContext:  # noqa: F811
    context = ssl.create_default_context()
    context.load_verify_locations(str(certificate[0]))
    return context


def client(smtp: FakeSMTP, certificate, sleeps=None, scheme="smtp", **env):  # noqa: F811
    settings = email.credentials({**email_environment(smtp, scheme), **env})
    sleep = sleeps if sleeps is not None else Sleeps()
    return email.EmailClient(settings, sleep=sleep, context=trusting(certificate))


def run(root: Path, clients_by_network, *, since=SINCE):
    repository = check(root).repository
    assert repository is not None
    box = outbox(root, repository, ("email",), NOW, since=since)
    return send(root, box, clients_by_network, wall_clock=lambda: CLOCK)


# --- settings -------------------------------------------------------------------------


def test_settings_come_from_the_three_variables_and_hide_the_password() -> None:
    settings = email.credentials(
        {
            "BALISE_SMTP_URL": "smtp://alerte%40hospi:p%40ss@mail.example.org",
            "BALISE_EMAIL_FROM": "Hospi <presse@hospi.test>",
            "BALISE_EMAIL_TO": "a@journal.test, Rédaction <b@radio.test>,a@journal.test",
        }
    )
    assert (settings.host, settings.port, settings.tls) == ("mail.example.org", 587, False)
    assert (settings.user, settings.password) == ("alerte@hospi", "p@ss")
    assert settings.recipients == ("a@journal.test", "b@radio.test")
    assert "p@ss" not in repr(settings)
    tls = email.credentials(
        {
            "BALISE_SMTP_URL": "smtps://mail.example.org",
            "BALISE_EMAIL_FROM": "presse@hospi.test",
            "BALISE_EMAIL_TO": "a@journal.test",
        }
    )
    assert (tls.port, tls.tls, tls.user) == (465, True, None)


def test_missing_or_unusable_settings_are_named_never_quoted() -> None:
    with pytest.raises(MissingCredentials) as caught:
        email.credentials({"BALISE_SMTP_URL": "smtp://h"})
    assert caught.value.names == ("BALISE_EMAIL_FROM", "BALISE_EMAIL_TO")
    env = {"BALISE_EMAIL_FROM": "p@h.test", "BALISE_EMAIL_TO": "a@h.test"}
    with pytest.raises(BadSetting) as caught:
        email.credentials({**env, "BALISE_SMTP_URL": "imap://u:hunter22@h"})
    assert "smtp://" in str(caught.value) and "hunter22" not in str(caught.value)
    with pytest.raises(BadSetting, match="BALISE_EMAIL_TO"):
        email.credentials({**env, "BALISE_SMTP_URL": "smtp://h", "BALISE_EMAIL_TO": "nobody"})


# --- what arrives ---------------------------------------------------------------------


def test_one_message_per_statement_reaches_every_recipient_in_bcc_over_starttls(
    tiny: Path,
    smtp_server,  # noqa: F811
    certificate,  # noqa: F811
) -> None:
    report = run(tiny, {"email": client(smtp_server, certificate)})
    assert report.ok and len(report.outcomes) == 3
    assert len(smtp_server.messages) == 3  # one per published statement, not per recipient
    first = smtp_server.messages[0]
    assert first["tls"] and first["authenticated"]
    assert smtp_server.logins == [(SMTP_USER, SMTP_PASSWORD)] * 3
    assert first["from"] == "presse@hospi.test"
    assert first["to"] == list(EMAIL_TO)
    message = first["message"]
    assert message["Bcc"] is None  # recipients are in the envelope only: nobody sees the others
    assert message["To"] == EMAIL_FROM and message["From"] == EMAIL_FROM
    assert message["Subject"] == "Cyberattaque à la clinique Alpha"
    assert message["Message-ID"] == "<2024-10-05-alerte@status.example.org>"
    assert message["Date"] == "Sat, 05 Oct 2024 08:00:00 +0200"  # RFC 5322, French offset
    assert message["List-Unsubscribe"].startswith("<mailto:presse@example.org?subject=")
    assert message["Content-Language"] == "fr"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text.startswith("Cyberattaque à la clinique Alpha\n\nAlpha : activité interrompue")
    assert "La clinique Alpha est à l'arrêt." in text  # the body, markup removed
    assert f"Lire le communiqué en ligne : {ALERTE}" in text
    assert "Contact presse : Service presse · presse@example.org · +33 1 00 00 00 00" in text
    html = BeautifulSoup(message.get_body(("html",)).get_content(), "html.parser")
    assert html.find("html")["lang"] == "fr"
    assert [s.get_text() for s in html.find_all("strong")][1] == "à l'arrêt"  # the body, as HTML
    assert html.find("a", href=ALERTE) is not None
    assert html.find("a", href="mailto:presse@example.org") is not None

    entry = read_ledger(tiny).entry("2024-10-05-alerte", "email")
    assert entry.status == POSTED and entry.remote_id == message["Message-ID"]
    assert entry.note == "accepted by the SMTP server for 3 recipients"
    ledger = (tiny / ".balise/posted.json").read_text(encoding="utf-8")
    for setting in (SMTP_PASSWORD, SMTP_USER, *EMAIL_TO, "presse@hospi.test"):
        assert setting not in ledger


def test_markup_in_a_title_is_escaped_in_the_html_part(
    tiny: Path,
    smtp_server,  # noqa: F811
    certificate,  # noqa: F811
) -> None:
    run(tiny, {"email": client(smtp_server, certificate)})
    point = smtp_server.messages[1]["message"]
    assert point["Subject"] == 'Point <urgent> & "essentiel" : *pas* de markdown'
    html = point.get_body(("html",)).get_content()
    assert "<urgent>" not in html and "&lt;urgent&gt;" in html
    assert BeautifulSoup(html, "html.parser").find("h1").get_text() == point["Subject"]


def test_tls_from_the_start_with_smtps(tiny: Path, certificate) -> None:  # noqa: F811
    server = FakeSMTP(certificate, tls="implicit")
    try:
        report = run(tiny, {"email": client(server, certificate, scheme="smtps")})
    finally:
        server.stop()
    assert report.ok and len(server.messages) == 3 and server.messages[0]["tls"]


def test_a_certificate_that_does_not_verify_is_a_failure_not_a_send(
    tiny: Path,
    smtp_server,  # noqa: F811
    certificate,  # noqa: F811
) -> None:
    settings = email.credentials(email_environment(smtp_server))
    untrusting = email.EmailClient(settings, sleep=Sleeps())  # the system's authorities only
    report = run(tiny, {"email": untrusting})
    assert not report.ok
    assert report.failed[0].failure.startswith("no secure connection to the SMTP server")
    assert smtp_server.messages == [] and smtp_server.logins == []


def test_the_password_is_never_sent_in_clear(tiny: Path) -> None:
    server = FakeSMTP(None, tls="none")  # offers AUTH but no STARTTLS
    try:
        settings = email.credentials(email_environment(server))
        report = run(tiny, {"email": email.EmailClient(settings, sleep=Sleeps())})
    finally:
        server.stop()
    assert not report.ok
    assert "does not offer STARTTLS" in report.failed[0].failure
    assert server.logins == [] and server.messages == []


def test_a_relay_without_a_password_may_go_without_tls(tiny: Path) -> None:
    server = FakeSMTP(None, tls="none", auth=False)
    try:
        env = {**email_environment(server), "BALISE_SMTP_URL": f"smtp://localhost:{server.port}"}
        report = run(tiny, {"email": email.EmailClient(email.credentials(env), sleep=Sleeps())})
    finally:
        server.stop()
    assert report.ok and len(server.messages) == 3 and not server.messages[0]["tls"]


# --- failures -------------------------------------------------------------------------


def test_a_temporary_refusal_is_retried_with_backoff(
    tiny: Path,
    certificate,  # noqa: F811
) -> None:
    server = FakeSMTP(certificate, fail=lambda n: "451 4.3.0 try again later" if n <= 2 else None)
    sleeps = Sleeps()
    try:
        report = run(tiny, {"email": client(server, certificate, sleeps)})
    finally:
        server.stop()
    assert report.ok and len(server.messages) == 3
    assert sleeps == [2.0, 4.0]
    ids = [m["message"]["Message-ID"] for m in server.messages]
    assert len(set(ids)) == 3


def test_a_permanent_refusal_is_not_retried_and_stays_pending(
    tiny: Path,
    certificate,  # noqa: F811
) -> None:
    reply = f"554 5.7.1 rejected for {EMAIL_TO[0]}"  # a reply that quotes a setting
    server = FakeSMTP(certificate, fail=lambda n: reply if n == 1 else None)
    sleeps = Sleeps()
    try:
        report = run(tiny, {"email": client(server, certificate, sleeps)})
        assert report.failed[0].failure == (
            "the SMTP server answered 554: 5.7.1 rejected for [secret]"
        )
        assert sleeps == [] and server.messages == []
        assert read_ledger(tiny).entry("2024-10-05-alerte", "email").status == ATTEMPTED
        report = run(tiny, {"email": client(server, certificate, sleeps)}, since=None)
    finally:
        server.stop()
    assert report.ok and len(server.messages) == 3  # the next run sends what is pending


def test_a_wrong_password_fails_without_showing_it(
    tiny: Path,
    smtp_server,  # noqa: F811
    certificate,  # noqa: F811
) -> None:
    env = email_environment(smtp_server)
    env["BALISE_SMTP_URL"] = env["BALISE_SMTP_URL"].replace("SECRET", "WRONG")
    settings = email.credentials(env)
    failing = email.EmailClient(settings, sleep=Sleeps(), context=trusting(certificate))
    report = run(tiny, {"email": failing})
    failure = report.failed[0].failure
    assert failure.startswith("the SMTP server answered 535")
    assert "check the user and password of BALISE_SMTP_URL" in failure
    assert "WRONG" not in failure and smtp_server.messages == []


def test_no_server_listening_is_transient(tiny: Path, certificate) -> None:  # noqa: F811
    server = FakeSMTP(certificate)
    server.stop()  # the port is closed now
    sleeps = Sleeps()
    report = run(tiny, {"email": client(server, certificate, sleeps)})
    assert report.failed[0].failure == (
        "no answer from the SMTP server (ConnectionRefusedError) (gave up after 4 attempts)"
    )
    assert sleeps == [2.0, 4.0, 8.0]


class Killed(BaseException):
    """Stands for SIGKILL or a power cut: nothing after it runs."""


def test_a_kill_after_the_server_accepted_resends_the_same_recognisable_message(
    tiny: Path,
    smtp_server,  # noqa: F811
    certificate,  # noqa: F811
) -> None:
    real = client(smtp_server, certificate)

    class DiesAfterSending:
        network = "email"

        def key(self, post, attempted_at):
            return real.key(post, attempted_at)

        def secrets(self):
            return real.secrets()

        def send(self, post, key, *, resumed=False):
            real.send(post, key, resumed=resumed)
            raise Killed  # the server has the message; the ledger does not know

    with pytest.raises(Killed):
        run(tiny, {"email": DiesAfterSending()})
    entry = read_ledger(tiny).entry("2024-10-05-alerte", "email")
    assert entry.status == ATTEMPTED
    assert entry.key == "<2024-10-05-alerte@status.example.org>"  # recorded before sending

    report = run(tiny, {"email": real}, since=None)
    assert report.ok
    ids = [m["message"]["Message-ID"] for m in smtp_server.messages]
    # The interrupted one went again with the same Message-ID (mail clients show one), and
    # the others once each.
    assert ids.count("<2024-10-05-alerte@status.example.org>") == 2
    assert len(ids) == 4 and len(set(ids)) == 3
    assert smtp_server.messages[0]["raw"] == smtp_server.messages[1]["raw"]
    assert run(tiny, {"email": real}, since=None).outcomes == ()

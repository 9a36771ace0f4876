"""`python publish.py social` and `post` as a comms officer runs them: what is printed, exit codes.

Runs in-process against the local fakes (X intercepted by `responses`); nothing sleeps.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from announce_fakes import (  # noqa: F401  (fixtures)
    BLUESKY_PASSWORD,
    DROP,
    EMAIL_TO,
    MASTODON_TOKEN,
    SMTP_PASSWORD,
    FakeBluesky,
    FakeMastodon,
    FakeWebhook,
    FakeX,
    all_secrets,
    certificate,
    email_environment,
    environment,
    second_server,
    smtp_server,
    x_mock,
)
from conftest import ROOT

import balise.cli_social
from balise.announce import webhook
from balise.cli import main

NOW = "2024-10-09T12:00:00+02:00"
SINCE = "2024-10-01T00:00:00+02:00"


def publish(*args: str) -> int:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    return exited.value.code


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    waits: list[float] = []
    monkeypatch.setattr(balise.cli_social, "SLEEP", waits.append)
    return waits


@pytest.fixture
def fakes(httpserver, second_server, x_mock, monkeypatch, sleeps):  # noqa: F811
    fake_mastodon, fake_bluesky = FakeMastodon(httpserver), FakeBluesky(second_server)
    for name in [n for n in os.environ if n.startswith("BALISE_")]:
        monkeypatch.delenv(name)
    for name, value in environment(fake_mastodon, fake_bluesky).items():
        monkeypatch.setenv(name, value)
    return fake_mastodon, fake_bluesky, FakeX(x_mock)


@pytest.fixture
def no_credentials(monkeypatch):
    for name in [n for n in os.environ if n.startswith("BALISE_")]:
        monkeypatch.delenv(name)


# --- social: the dry run --------------------------------------------------------------


def test_social_shows_each_post_with_its_length_and_sends_nothing(
    tiny: Path,
    capsys,
    x_mock,  # noqa: F811
    no_credentials,
) -> None:
    code = publish("social", "--repo", str(tiny), "--now", NOW, "--since", SINCE)
    out = capsys.readouterr().out
    assert code == 0
    assert "X · 2024-10-05-alerte · 124/280 weighted characters\n" in out
    assert "Mastodon · 2024-10-05-alerte · 124/500 characters\n" in out
    assert "Bluesky · 2024-10-05-alerte · 167/300 graphemes\n" in out
    assert (
        "    Cyberattaque à la clinique Alpha\n"
        "    Alpha : activité interrompue · Autres établissements : mode dégradé\n"
        "    https://status.example.org/test/communiques/2024-10-05-alerte.html\n"
    ) in out
    assert "9 posts to send." in out
    assert "Brouillon" not in out and "Sous embargo" not in out
    assert not (tiny / ".balise").exists()
    assert len(x_mock.calls) == 0


def test_social_on_a_first_run_says_older_statements_will_not_be_posted(
    tiny: Path, capsys, no_credentials
) -> None:
    assert publish("social", "--repo", str(tiny), "--now", NOW, "--network", "x") == 0
    out = capsys.readouterr().out
    assert "Nothing to post." in out
    assert (
        "X: 3 statements published before 2024-10-08T12:00:00+02:00 would be recorded "
        "as not to post (use --since to post them)."
    ) in out
    assert "Mastodon" not in out


def test_social_with_a_wider_window(tiny: Path, capsys, no_credentials) -> None:
    code = publish("social", "--repo", str(tiny), "--now", NOW, "--window", "80", "--network", "x")
    assert code == 0
    out = capsys.readouterr().out
    assert "2 posts to send." in out and "X: 1 statement published before" in out


# --- post -----------------------------------------------------------------------------


def test_post_sends_once_and_a_second_run_sends_nothing(tiny: Path, fakes, capsys) -> None:
    fake_mastodon, fake_bluesky, fake_x = fakes
    assert publish("post", "--repo", str(tiny), "--now", NOW, "--since", SINCE) == 0
    out = capsys.readouterr().out
    first_tweet = fake_x.tweets[0]["id"]
    assert f"sent    X · 2024-10-05-alerte · https://x.com/i/web/status/{first_tweet}\n" in out
    assert "sent    Mastodon · 2024-10-05-alerte · https://social.example.org/@hospi/1001\n" in out
    assert "9 posts sent." in out
    ledger = json.loads((tiny / ".balise/posted.json").read_text(encoding="utf-8"))
    assert ledger["statements"]["2024-10-07-info"]["bluesky"]["status"] == "posted"

    assert publish("post", "--repo", str(tiny), "--now", NOW) == 0
    assert "Nothing to post." in capsys.readouterr().out
    assert (len(fake_x.requests), len(fake_mastodon.requests), len(fake_bluesky.creates)) == (
        3,
        3,
        3,
    )


def test_post_needs_only_the_variables_of_the_chosen_networks(
    tiny: Path, fakes, capsys, monkeypatch
) -> None:
    fake_mastodon, _, fake_x = fakes
    for name in ("BALISE_X_API_KEY", "BALISE_BLUESKY_HANDLE"):
        monkeypatch.delenv(name)
    args = ("post", "--repo", str(tiny), "--now", NOW, "--since", SINCE)
    assert publish(*args, "--network", "mastodon") == 0
    assert len(fake_mastodon.statuses) == 3 and fake_x.tweets == []


def test_missing_credentials_are_named_and_nothing_is_posted(
    tiny: Path, capsys, no_credentials
) -> None:
    code = publish("post", "--repo", str(tiny), "--now", NOW, "--since", SINCE)
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(
        "Missing environment variables: BALISE_X_API_KEY, BALISE_X_API_SECRET, "
        "BALISE_X_ACCESS_TOKEN, BALISE_X_ACCESS_SECRET, BALISE_MASTODON_URL, "
        "BALISE_MASTODON_TOKEN, BALISE_BLUESKY_HANDLE, BALISE_BLUESKY_APP_PASSWORD. "
        "Nothing was posted."
    )
    assert not (tiny / ".balise/posted.json").exists()


def test_missing_credentials_from_the_real_command_line_give_no_traceback(tiny: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BALISE_")}
    result = subprocess.run(
        [sys.executable, str(ROOT / "publish.py"), "post", "--repo", str(tiny), "--now", NOW,
         "--since", SINCE, "--network", "bluesky"],
        capture_output=True, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 2
    assert "BALISE_BLUESKY_HANDLE, BALISE_BLUESKY_APP_PASSWORD" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_network_failure_exits_3_leaves_it_pending_and_posts_elsewhere(
    tiny: Path, fakes, capsys, sleeps
) -> None:
    fake_mastodon, fake_bluesky, fake_x = fakes
    fake_mastodon.fail = lambda text, attempt: 503
    assert publish("post", "--repo", str(tiny), "--now", NOW, "--since", SINCE) == 3
    captured = capsys.readouterr()
    assert ("FAILED  Mastodon · 2024-10-05-alerte: Mastodon answered HTTP 503") in captured.err
    assert "(gave up after 4 attempts)" in captured.err
    assert "6 sent, 3 not sent: they stay pending; run post again" in captured.err
    assert sleeps == [2.0, 4.0, 8.0]
    assert len(fake_x.tweets) == 3 and len(fake_bluesky.records) == 3
    for secret in all_secrets():
        assert secret not in captured.out + captured.err

    fake_mastodon.fail = lambda text, attempt: None
    assert publish("post", "--repo", str(tiny), "--now", NOW) == 0
    assert "3 posts sent." in capsys.readouterr().out
    assert len(fake_mastodon.statuses) == 3 and len(fake_x.tweets) == 3


def reset_by_peer(text: str, attempt: int):
    return requests.ConnectionError(ConnectionResetError(104, "Connection reset by peer"))


def dropped_mid_answer(text: str, attempt: int):
    return requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead")


@pytest.mark.parametrize(
    ("network", "name", "fail", "reason"),
    [
        ("bluesky", "Bluesky", lambda t, a: DROP, "no answer from Bluesky (RemoteProtocolError)"),
        ("mastodon", "Mastodon", lambda t, a: DROP, "no answer from Mastodon (network error)"),
        ("x", "X", reset_by_peer, "no answer from X: ConnectionError"),
        ("x", "X", dropped_mid_answer, "no answer from X: ChunkedEncodingError"),
        (
            "x",
            "X",
            lambda t, a: requests.ReadTimeout("read timed out"),
            "no answer from X: ReadTimeout",
        ),
    ],
)
def test_a_connection_dropped_without_an_answer_fails_with_its_reason_and_is_retried(
    tiny: Path, fakes, capsys, sleeps, network, name, fail, reason
) -> None:
    fake = dict(zip(("mastodon", "bluesky", "x"), fakes, strict=True))[network]
    fake.fail = fail
    args = ("--repo", str(tiny), "--now", NOW, "--network", network)
    assert publish("post", *args, "--since", SINCE) == 3
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    reason = f"{reason} (gave up after 4 attempts)"
    assert f"FAILED  {name} · 2024-10-05-alerte: {reason}\n" in captured.err
    assert sleeps == [2.0, 4.0, 8.0]
    ledger = json.loads((tiny / ".balise/posted.json").read_text(encoding="utf-8"))
    entry = ledger["statements"]["2024-10-05-alerte"][network]
    assert (entry["status"], entry["note"]) == ("attempted", reason)  # the reason is kept

    assert publish("social", *args) == 0
    heading = capsys.readouterr().out.splitlines()[0]  # the dry run says why it is pending
    assert heading.startswith(f"{name} · 2024-10-05-alerte · ")
    assert heading.endswith(f" · resuming an interrupted send · last try: {reason}")

    fake.fail = lambda text, attempt: None
    assert publish("post", *args) == 0
    assert "3 posts sent." in capsys.readouterr().out
    sent = {
        "mastodon": lambda: fake.statuses,
        "bluesky": lambda: fake.records,
        "x": lambda: fake.tweets,
    }
    assert len(sent[network]()) == 3  # each statement once: nothing was sent twice


def test_a_token_echoed_by_a_failing_server_is_never_printed(tiny: Path, fakes, capsys) -> None:
    fake_mastodon, _, _ = fakes
    fake_mastodon.fail = lambda text, attempt: 401  # the error body contains the bearer token
    args = ("post", "--repo", str(tiny), "--now", NOW, "--since", SINCE, "--network", "mastodon")
    assert publish(*args) == 3
    captured = capsys.readouterr()
    assert "Mastodon answered HTTP 401" in captured.err
    assert "[secret]" in captured.err
    for secret in all_secrets():
        assert secret not in captured.out + captured.err


def test_no_token_or_password_a_server_echoes_is_printed_or_recorded(
    tiny: Path, fakes, capsys
) -> None:
    fake_mastodon, fake_bluesky, fake_x = fakes
    token = fake_bluesky.token  # the session's accessJwt and refreshJwt
    fake_bluesky.fail = lambda text, attempt: (
        400,
        {"error": "ExpiredToken", "message": f"token {token} for password {BLUESKY_PASSWORD}"},
    )
    fake_mastodon.fail = lambda text, attempt: (
        422,
        {"error": f"access_token={MASTODON_TOKEN}; session: {{'accessJwt': '{token}'}}"},
    )
    fake_x.fail = lambda text, attempt: 401  # the body echoes the OAuth Authorization header
    assert publish("post", "--repo", str(tiny), "--now", NOW, "--since", SINCE) == 3
    captured = capsys.readouterr()
    assert (
        "FAILED  Bluesky · 2024-10-05-alerte: Bluesky answered HTTP 400: "
        "token [secret] for password [secret]\n"
    ) in captured.err
    assert (
        "FAILED  Mastodon · 2024-10-05-alerte: Mastodon answered HTTP 422: "
        "access_token=[secret]; session: {'accessJwt': '[secret]'}\n"
    ) in captured.err
    assert (
        "FAILED  X · 2024-10-05-alerte: X answered HTTP 401: failure 401; "
        "Authorization was OAuth [secret]\n"
    ) in captured.err
    ledger = (tiny / ".balise/posted.json").read_text(encoding="utf-8")
    for secret in (*all_secrets(), token, "oauth_signature"):
        assert secret not in captured.out + captured.err + ledger, secret


def test_unknown_network_is_a_usage_error(tiny: Path, capsys) -> None:
    assert publish("post", "--repo", str(tiny), "--network", "x,myspace") == 2
    assert "unknown network 'myspace'" in capsys.readouterr().err
    assert not (tiny / ".balise").exists()


def test_post_refuses_invalid_sources(tiny: Path, capsys, fakes) -> None:
    (tiny / "statements/2024/bad.md").write_text("---\ntitle: x\n---\n", encoding="utf-8")
    assert publish("post", "--repo", str(tiny), "--now", NOW, "--since", SINCE) == 1
    assert "nothing is posted until they are fixed" in capsys.readouterr().err
    assert fakes[2].requests == []


def test_post_refuses_a_broken_ledger(tiny: Path, capsys, fakes) -> None:
    (tiny / ".balise").mkdir()
    (tiny / ".balise/posted.json").write_text("{not json", encoding="utf-8")
    assert publish("post", "--repo", str(tiny), "--now", NOW) == 1
    assert capsys.readouterr().err.startswith(".balise/posted.json:1: the ledger is not valid JSON")
    assert fakes[2].requests == []


def test_check_reports_a_social_text_too_long_at_its_line(tiny: Path, capsys) -> None:
    path = tiny / "statements/2024/2024-10-07-info.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("---\nUn", f"social: {'long ' * 70}\n---\nUn"), encoding="utf-8")
    assert publish("check", "--repo", str(tiny)) == 1
    err = capsys.readouterr().err
    assert 'statements/2024/2024-10-07-info.md:4: "social" is too long for X' in err


def test_the_readme_documents_social_posting() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in (
        "BALISE_X_API_KEY",
        "BALISE_X_API_SECRET",
        "BALISE_X_ACCESS_TOKEN",
        "BALISE_X_ACCESS_SECRET",
        "BALISE_MASTODON_URL",
        "BALISE_MASTODON_TOKEN",
        "BALISE_BLUESKY_HANDLE",
        "BALISE_BLUESKY_APP_PASSWORD",
        "BALISE_BLUESKY_URL",
        ".balise/posted.json",
        "--since",
        "--window",
        "BALISE_SMTP_URL",
        "BALISE_EMAIL_FROM",
        "BALISE_EMAIL_TO",
        "BALISE_WEBHOOK_URLS",
        "BALISE_WEBHOOK_SECRET",
        "X-Balise-Signature",
        "hmac.compare_digest",
        "--retract",
        "## Announcements",
    ):
        assert name in readme, name
    assert "## Social posting" not in readme
    assert ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()


# --- email and webhook ----------------------------------------------------------------


def test_social_says_each_channel_without_settings_is_off(tiny: Path, capsys, no_credentials):
    assert publish("social", "--repo", str(tiny), "--now", NOW, "--since", SINCE) == 0
    out = capsys.readouterr().out
    assert "E-mail: off (BALISE_SMTP_URL, BALISE_EMAIL_FROM, BALISE_EMAIL_TO not set).\n" in out
    assert "Webhook: off (BALISE_WEBHOOK_URLS not set).\n" in out


def test_the_demo_dry_run_shows_an_email_and_a_webhook_for_each_recent_statement(
    capsys, monkeypatch, no_credentials
) -> None:
    monkeypatch.setenv("BALISE_SMTP_URL", "smtp://hospi:pw-SECRET-1@mail.example.org")
    monkeypatch.setenv("BALISE_EMAIL_FROM", "Presse <presse@example.org>")
    monkeypatch.setenv("BALISE_EMAIL_TO", "a@journal.test, b@radio.test")
    monkeypatch.setenv("BALISE_WEBHOOK_URLS", "https://hooks.example.org/T0/B0/SECRET-path")
    monkeypatch.setenv("BALISE_WEBHOOK_SECRET", "whsec-SECRET-2")
    now = "2024-10-09T18:00:00+02:00"
    args = ("social", "--repo", str(ROOT), "--now", now, "--window", "36")
    assert publish(*args, "--network", "email,webhook") == 0
    out = capsys.readouterr().out
    recent = ["2024-10-08-la-sagesse-reprise-partielle", "2024-10-09-communique-demande-de-rancon"]
    hook = "Webhook " + hashlib.sha256(b"https://hooks.example.org/T0/B0/SECRET-path").hexdigest()
    for statement_id in recent:
        assert re.search(
            rf"^E-mail · {statement_id} · 2 recipients \(Bcc\) · \d+ bytes$", out, re.M
        )
        assert re.search(rf"^{hook[:16]} · {statement_id} · \d+ bytes of JSON · signed$", out, re.M)
    assert "    Subject: La Sagesse : reprise partielle" in out
    assert "4 posts to send." in out
    for secret in ("pw-SECRET-1", "whsec-SECRET-2", "SECRET-path", "a@journal.test"):
        assert secret not in out


def test_post_sends_email_and_webhooks_once_and_exits_3_when_one_fails(
    tiny: Path,
    capsys,
    monkeypatch,
    no_credentials,
    smtp_server,  # noqa: F811
    certificate,  # noqa: F811
    httpserver,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # trust the test's certificate
    for name, value in email_environment(smtp_server).items():
        monkeypatch.setenv(name, value)
    hook = FakeWebhook(httpserver, fail=lambda attempt: 500)
    monkeypatch.setenv("BALISE_WEBHOOK_URLS", hook.url)
    args = ("post", "--repo", str(tiny), "--now", NOW, "--network", "email,webhook")
    assert publish(*args, "--since", SINCE) == 3
    captured = capsys.readouterr()
    assert (
        "sent    E-mail · 2024-10-05-alerte · accepted by the SMTP server for 3 recipients\n"
        in (captured.out)
    )
    label = "Webhook " + webhook.destination(hook.url)[8:]
    assert f"FAILED  {label} · 2024-10-05-alerte: {label} answered HTTP 500" in captured.err
    assert len(smtp_server.messages) == 3
    for secret in (SMTP_PASSWORD, hook.url, *EMAIL_TO):
        assert secret not in captured.out + captured.err

    hook.fail = lambda attempt: None
    assert publish(*args) == 0
    assert "3 posts sent." in capsys.readouterr().out
    assert len(smtp_server.messages) == 3 and len(hook.accepted) == 3  # nothing twice


def test_an_email_setting_set_in_part_is_named_and_nothing_is_sent(
    tiny: Path, capsys, monkeypatch, no_credentials
) -> None:
    monkeypatch.setenv("BALISE_SMTP_URL", "smtp://mail.example.org")
    args = ("post", "--repo", str(tiny), "--now", NOW, "--since", SINCE, "--network", "mastodon")
    assert publish(*args[:-2]) == 2
    err = capsys.readouterr().err
    assert "BALISE_EMAIL_FROM, BALISE_EMAIL_TO" in err and "Nothing was posted." in err
    assert not (tiny / ".balise/posted.json").exists()


def test_an_unusable_setting_is_a_usage_error_that_never_quotes_it(
    tiny: Path, capsys, monkeypatch, no_credentials
) -> None:
    monkeypatch.setenv("BALISE_WEBHOOK_URLS", "ftp://user:pw-SECRET@example.org/")
    assert publish("social", "--repo", str(tiny), "--now", NOW) == 2
    err = capsys.readouterr().err
    assert "the 1st address of BALISE_WEBHOOK_URLS is not an http:// or https:// URL" in err
    assert "pw-SECRET" not in err

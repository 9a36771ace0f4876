"""`post --retract ID` as the team runs it, against the local fakes: posts deleted on every
network the ledger names, a correction sent once by email and webhook, a failure retried on the
next run, a withdrawn statement never posted again, and the dry run `social --retract ID`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from announce_fakes import (  # noqa: F401  (fixtures)
    FakeBluesky,
    FakeMastodon,
    FakeWebhook,
    FakeX,
    certificate,
    email_environment,
    environment,
    second_server,
    smtp_server,
    x_mock,
)

import balise.cli_social
from balise.announce import webhook
from balise.cli import main

NOW = "2024-10-09T12:00:00+02:00"
SINCE = "2024-10-01T00:00:00+02:00"
ALERTE = "2024-10-05-alerte"


def publish(*args: str) -> int:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    return exited.value.code


@pytest.fixture
def channels(httpserver, second_server, x_mock, smtp_server, certificate, monkeypatch):  # noqa: F811
    monkeypatch.setattr(balise.cli_social, "SLEEP", lambda seconds: None)
    fake_mastodon, fake_bluesky = FakeMastodon(httpserver), FakeBluesky(second_server)
    hook = FakeWebhook(httpserver)
    for name in [n for n in os.environ if n.startswith("BALISE_")]:
        monkeypatch.delenv(name)
    env = {
        **environment(fake_mastodon, fake_bluesky),
        **email_environment(smtp_server),
        "BALISE_WEBHOOK_URLS": hook.url,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    return {
        "mastodon": fake_mastodon,
        "bluesky": fake_bluesky,
        "x": FakeX(x_mock),
        "email": smtp_server,
        "webhook": hook,
    }


def ledger(root: Path) -> dict:
    return json.loads((root / ".balise/posted.json").read_text(encoding="utf-8"))["statements"]


def test_retract_deletes_everywhere_corrects_once_and_never_twice(
    tiny: Path, channels, capsys
) -> None:
    assert publish("post", "--repo", str(tiny), "--now", NOW, "--since", SINCE) == 0
    capsys.readouterr()
    tweet = ledger(tiny)[ALERTE]["x"]["remote_id"]

    assert publish("social", "--repo", str(tiny), "--now", NOW, "--retract", ALERTE) == 0
    out = capsys.readouterr().out
    assert f"X · {ALERTE} · would delete https://x.com/i/web/status/{tweet}\n" in out
    assert f"Mastodon · {ALERTE} · would delete https://social.example.org/@hospi/1001\n" in out
    assert f"E-mail · {ALERTE} · would send a correction · 3 recipients (Bcc)" in out
    assert "    Subject: Correctif : Cyberattaque à la clinique Alpha\n" in out
    assert (
        "    Correctif : le communiqué « Cyberattaque à la clinique Alpha » du "
        "samedi 5 octobre 2024 a été retiré.\n"
    ) in out
    assert "5 to take back." in out
    assert channels["x"].deleted == [] and channels["mastodon"].deleted == []

    assert publish("post", "--repo", str(tiny), "--now", NOW, "--retract", ALERTE) == 0
    assert "5 taken back." in capsys.readouterr().out
    assert channels["x"].deleted == [tweet]
    assert channels["mastodon"].deleted == ["1001"]
    assert len(channels["bluesky"].deleted) == 1
    correction = channels["email"].messages[-1]["message"]
    assert correction["Subject"] == "Correctif : Cyberattaque à la clinique Alpha"
    assert correction["In-Reply-To"] == "<2024-10-05-alerte@status.example.org>"
    assert correction["Message-ID"] == "<2024-10-05-alerte.correctif@status.example.org>"
    sent = channels["webhook"].accepted[-1]["json"]
    assert sent["text"].startswith("Correctif : le communiqué « Cyberattaque")
    assert sent["statement"]["id"] == ALERTE
    entries = ledger(tiny)[ALERTE]
    assert {entry["status"] for entry in entries.values()} == {"retracted"}

    messages, hooks = len(channels["email"].messages), len(channels["webhook"].accepted)
    assert publish("post", "--repo", str(tiny), "--now", NOW, "--retract", ALERTE) == 0
    assert "Nothing to take back." in capsys.readouterr().out
    assert channels["x"].deleted == [tweet]  # never deleted twice, corrected once
    assert (len(channels["email"].messages), len(channels["webhook"].accepted)) == (
        messages,
        hooks,
    )


def test_a_retract_that_fails_on_one_network_completes_on_the_next_run(
    tiny: Path, channels, capsys
) -> None:
    args = ("--repo", str(tiny), "--now", NOW, "--network", "mastodon,x")
    assert publish("post", *args, "--since", SINCE) == 0
    channels["mastodon"].delete_fail = lambda attempt: 503
    assert publish("post", *args, "--retract", ALERTE) == 3
    captured = capsys.readouterr()
    assert f"FAILED      Mastodon · {ALERTE}: Mastodon answered HTTP 503" in captured.err
    assert "1 taken back, 1 not: run post --retract 2024-10-05-alerte again" in captured.err
    entries = ledger(tiny)[ALERTE]
    assert entries["mastodon"]["status"] == "retracting"
    assert entries["mastodon"]["remote_id"] == "1001"  # kept, to delete on the next run
    assert entries["x"]["status"] == "retracted"

    channels["mastodon"].delete_fail = lambda attempt: None
    assert publish("post", *args, "--retract", ALERTE) == 0
    assert "1 taken back." in capsys.readouterr().out
    assert channels["mastodon"].deleted == ["1001"] and len(channels["x"].deleted) == 1
    assert ledger(tiny)[ALERTE]["mastodon"]["status"] == "retracted"


def test_a_retracted_statement_is_never_posted_again(tiny: Path, channels, capsys) -> None:
    args = ("--repo", str(tiny), "--now", NOW, "--network", "mastodon,webhook")
    assert publish("post", *args, "--retract", ALERTE) == 0  # before it was ever posted
    assert "2 taken back." in capsys.readouterr().out
    assert channels["mastodon"].requests == [] and channels["webhook"].requests == []
    destination = webhook.destination(channels["webhook"].url)
    assert ledger(tiny)[ALERTE][destination]["note"] == "withdrawn before it went out"

    assert publish("post", *args, "--since", SINCE) == 0
    posted = [r["form"]["status"] for r in channels["mastodon"].requests]
    assert len(posted) == 2 and not any("Cyberattaque" in text for text in posted)
    assert ALERTE not in {r["json"]["statement"]["id"] for r in channels["webhook"].accepted}


def test_retracting_an_unknown_statement_is_a_usage_error(tiny: Path, channels, capsys) -> None:
    assert publish("post", "--repo", str(tiny), "--now", NOW, "--retract", "nope") == 2
    assert "no statement 'nope' in the repository or the ledger" in capsys.readouterr().err

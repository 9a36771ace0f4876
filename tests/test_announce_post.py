"""Sending, end to end against local servers: exact payloads, retries, a crash mid-run, no resend.

Mastodon and Bluesky run on pytest-httpserver; X (tweepy's fixed host) is intercepted with
`responses`. Nothing reaches the internet and nothing sleeps: the backoff's sleep is recorded.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from announce_fakes import (  # noqa: F401  (fixtures)
    BLUESKY_PASSWORD,
    DID,
    HANDLE,
    MASTODON_TOKEN,
    FakeBluesky,
    FakeMastodon,
    FakeX,
    all_secrets,
    environment,
    make_repository,
    second_server,
    statement,
    x_mock,
)

from balise.announce import bluesky, mastodon, x
from balise.announce.bluesky import tid
from balise.announce.ledger import ATTEMPTED, POSTED, SKIPPED, read_ledger
from balise.announce.network import (
    Backoff,
    MissingCredentials,
    PostFailed,
    credential_values,
    redact,
    with_retries,
)
from balise.announce.post import outbox, send
from balise.build import check

NOW = datetime.fromisoformat("2024-10-09T12:00:00+02:00")
SINCE = datetime.fromisoformat("2024-10-01T00:00:00+02:00")
CLOCK = datetime(2024, 10, 9, 10, 0, 0, tzinfo=UTC)
ALERTE = "https://status.example.org/test/communiques/2024-10-05-alerte.html"
ALERTE_TEXT = (
    "Cyberattaque à la clinique Alpha\n"
    "Alpha : activité interrompue · Autres établissements : mode dégradé\n" + ALERTE
)


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def fakes(httpserver, second_server, x_mock):  # noqa: F811
    return FakeMastodon(httpserver), FakeBluesky(second_server), FakeX(x_mock)


def clients(fakes, sleeps, env=None):
    fake_mastodon, fake_bluesky, _ = fakes
    env = env or environment(fake_mastodon, fake_bluesky)
    return {
        "x": x.XClient(x.credentials(env), sleep=sleeps, wall_clock=lambda: 0.0),
        "mastodon": mastodon.MastodonClient(mastodon.credentials(env), sleep=sleeps),
        "bluesky": bluesky.BlueskyClient(
            bluesky.credentials(env), sleep=sleeps, wall_clock=lambda: CLOCK
        ),
    }


def run(root: Path, clients_by_network, *, since=SINCE, networks=("x", "mastodon", "bluesky")):
    repository = check(root).repository
    assert repository is not None
    box = outbox(root, repository, networks, NOW, since=since)
    return send(root, box, clients_by_network, wall_clock=lambda: CLOCK)


# --- exact payloads -------------------------------------------------------------------


def test_each_network_receives_the_exact_post(tiny: Path, fakes, sleeps) -> None:
    fake_mastodon, fake_bluesky, fake_x = fakes
    report = run(tiny, clients(fakes, sleeps))
    assert report.ok and len(report.outcomes) == 9  # 3 published statements x 3 networks

    # X: API v2, JSON {"text": ...}, OAuth 1.0a user context
    first = fake_x.requests[0]
    assert first["json"] == {"text": ALERTE_TEXT}
    assert first["headers"]["Authorization"].startswith("OAuth ")
    assert 'oauth_consumer_key="x-SECRET-api-key"' in first["headers"]["Authorization"]
    assert 'oauth_token="x-SECRET-access-token"' in first["headers"]["Authorization"]

    # Mastodon: form fields, bearer token, idempotency key
    first = fake_mastodon.requests[0]
    assert first["form"] == {"status": ALERTE_TEXT, "language": "fr", "sensitive": "0"}
    assert first["headers"]["Authorization"] == f"Bearer {MASTODON_TOKEN}"
    assert first["headers"]["Idempotency-Key"].startswith("balise-2024-10-05-alerte-")

    # Bluesky: one session, then com.atproto.repo.createRecord with the link facet
    assert fake_bluesky.sessions == [
        {"identifier": HANDLE, "password": "bsky-SECRET-app-pass-abcd"}
    ]
    create = fake_bluesky.creates[0]
    assert create["headers"]["Authorization"].startswith("Bearer ")
    start = len("Cyberattaque à la clinique Alpha\nAlpha : activité interrompue · ".encode())
    start += len("Autres établissements : mode dégradé\n".encode())
    assert create["json"] == {
        "repo": DID,
        "collection": "app.bsky.feed.post",
        "rkey": create["json"]["rkey"],
        "validate": True,
        "record": {
            "$type": "app.bsky.feed.post",
            "text": ALERTE_TEXT,
            "createdAt": "2024-10-09T10:00:00.000Z",
            "langs": ["fr"],
            "facets": [
                {
                    "$type": "app.bsky.richtext.facet",
                    "index": {
                        "$type": "app.bsky.richtext.facet#byteSlice",
                        "byteStart": start,
                        "byteEnd": start + len(ALERTE),
                    },
                    "features": [{"$type": "app.bsky.richtext.facet#link", "uri": ALERTE}],
                }
            ],
        },
    }
    raw = ALERTE_TEXT.encode()
    assert raw[start : start + len(ALERTE)].decode() == ALERTE
    assert sleeps == []


def test_the_ledger_records_id_url_and_time_of_each_post(tiny: Path, fakes, sleeps) -> None:
    _, fake_bluesky, fake_x = fakes
    run(tiny, clients(fakes, sleeps))
    ledger = read_ledger(tiny)
    entry = ledger.entry("2024-10-05-alerte", "x")
    assert entry.status == POSTED
    assert entry.remote_id == fake_x.tweets[0]["id"]
    assert entry.url == f"https://x.com/i/web/status/{fake_x.tweets[0]['id']}"
    assert entry.time == CLOCK
    entry = ledger.entry("2024-10-05-alerte", "mastodon")
    assert (entry.remote_id, entry.url) == ("1001", "https://social.example.org/@hospi/1001")
    entry = ledger.entry("2024-10-05-alerte", "bluesky")
    rkey = fake_bluesky.creates[0]["json"]["rkey"]
    assert entry.remote_id == f"at://{DID}/app.bsky.feed.post/{rkey}"
    assert entry.url == f"https://bsky.app/profile/{HANDLE}/post/{rkey}"
    assert ledger.since == {n: SINCE for n in ("x", "mastodon", "bluesky")}


def test_a_second_run_sends_nothing(tiny: Path, fakes, sleeps) -> None:
    fake_mastodon, fake_bluesky, fake_x = fakes
    run(tiny, clients(fakes, sleeps))
    counts = (len(fake_x.requests), len(fake_mastodon.requests), len(fake_bluesky.creates))
    before = (tiny / ".balise/posted.json").read_bytes()
    report = run(tiny, clients(fakes, sleeps), since=None)
    assert report.outcomes == ()
    after = (len(fake_x.requests), len(fake_mastodon.requests), len(fake_bluesky.creates))
    assert after == counts == (3, 3, 3)
    assert (tiny / ".balise/posted.json").read_bytes() == before


def test_drafts_embargoed_and_future_statements_are_never_sent(tiny: Path, fakes, sleeps) -> None:
    fake_mastodon, _, _ = fakes
    run(tiny, clients(fakes, sleeps), networks=("mastodon",))
    sent = "\n".join(r["form"]["status"] for r in fake_mastodon.requests)
    assert "Brouillon" not in sent and "Sous embargo" not in sent
    assert len(fake_mastodon.statuses) == 3


def test_first_run_records_older_statements_instead_of_flooding(tiny: Path, fakes, sleeps) -> None:
    fake_mastodon, _, _ = fakes
    report = run(tiny, clients(fakes, sleeps), since=None, networks=("mastodon",))
    assert report.outcomes == () and report.skipped == 3  # all older than 24 h at NOW
    assert fake_mastodon.requests == []
    ledger = read_ledger(tiny)
    assert ledger.entry("2024-10-05-alerte", "mastodon").status == SKIPPED
    assert ledger.first_run == CLOCK


# --- retries --------------------------------------------------------------------------


@pytest.mark.parametrize("code", [429, 500, 503])
def test_mastodon_retries_a_transient_failure_with_backoff(tiny: Path, httpserver, sleeps, code):
    fake = FakeMastodon(httpserver, fail=lambda text, attempt: code if attempt <= 2 else None)
    client = mastodon.MastodonClient(mastodon.credentials(environment(fake, fake)), sleep=sleeps)
    report = run(tiny, {"mastodon": client}, networks=("mastodon",))
    assert report.ok
    assert sleeps == [2.0, 4.0] + [2.0, 4.0] * 2  # each of the 3 posts failed twice
    assert len(fake.statuses) == 3
    keys = {r["headers"]["Idempotency-Key"] for r in fake.requests[:3]}
    assert len(keys) == 1  # the same key on every attempt of one post


def test_x_retries_429_then_sends(tiny: Path, fakes, sleeps) -> None:
    _, _, fake_x = fakes
    fake_x.fail = lambda text, attempt: 429 if attempt == 1 else None
    report = run(tiny, clients(fakes, sleeps), networks=("x",))
    assert report.ok and len(fake_x.tweets) == 3
    assert sleeps == [2.0, 2.0, 2.0]


def test_bluesky_retries_429_then_sends(tiny: Path, fakes, sleeps) -> None:
    _, fake_bluesky, _ = fakes
    fake_bluesky.fail = lambda text, attempt: 429 if attempt == 1 else None
    report = run(tiny, clients(fakes, sleeps), networks=("bluesky",))
    assert report.ok and len(fake_bluesky.records) == 3
    assert sleeps == [2.0, 2.0, 2.0]


def test_a_permanent_failure_is_not_retried(tiny: Path, fakes, sleeps) -> None:
    fake_mastodon, _, _ = fakes
    fake_mastodon.fail = lambda text, attempt: 422
    report = run(tiny, clients(fakes, sleeps), networks=("mastodon",))
    assert not report.ok
    assert len(fake_mastodon.requests) == 1  # the network is not tried again in this run
    assert sleeps == []
    assert "Mastodon answered HTTP 422" in report.failed[0].failure
    entry = read_ledger(tiny).entry("2024-10-05-alerte", "mastodon")
    assert entry.status == ATTEMPTED and entry.note == report.failed[0].failure
    assert entry.key == fake_mastodon.requests[0]["headers"]["Idempotency-Key"]


def test_with_retries_gives_up_and_says_so() -> None:
    calls: list[int] = []
    waits: list[float] = []

    def attempt(number: int):
        calls.append(number)
        raise PostFailed("HTTP 503", transient=True)

    with pytest.raises(PostFailed, match=r"HTTP 503 \(gave up after 4 attempts\)"):
        with_retries(attempt, Backoff(), waits.append)
    assert calls == [1, 2, 3, 4] and waits == [2.0, 4.0, 8.0]


def test_a_long_retry_after_is_left_for_the_next_run() -> None:
    waits: list[float] = []

    def attempt(number: int):
        raise PostFailed("HTTP 429", transient=True, retry_after=900)

    with pytest.raises(PostFailed, match="asks to wait 900 s"):
        with_retries(attempt, Backoff(), waits.append)
    assert waits == []


# --- a crash mid-run ------------------------------------------------------------------


def test_a_failing_second_post_leaves_it_pending_and_spares_other_networks(
    tiny: Path, fakes, sleeps
) -> None:
    fake_mastodon, fake_bluesky, fake_x = fakes
    second = "Point <urgent>"
    fake_mastodon.fail = lambda text, attempt: 500 if text.startswith(second) else None
    report = run(tiny, clients(fakes, sleeps))
    assert not report.ok
    failed = [(o.pending.statement.id, o.pending.network) for o in report.failed]
    assert failed == [("2024-10-06-point", "mastodon"), ("2024-10-07-info", "mastodon")]
    assert "gave up after 4 attempts" in report.failed[0].failure
    assert report.failed[1].failure.startswith("not tried")
    assert len(fake_x.tweets) == 3 and len(fake_bluesky.records) == 3
    assert len(fake_mastodon.statuses) == 1

    ledger = read_ledger(tiny)
    assert ledger.entry("2024-10-05-alerte", "mastodon").status == POSTED
    interrupted = ledger.entry("2024-10-06-point", "mastodon")
    assert interrupted.status == ATTEMPTED
    assert interrupted.note == report.failed[0].failure  # why it is still pending
    assert ledger.entry("2024-10-07-info", "mastodon") is None

    # the next run sends only what is missing, with the same idempotency key
    fake_mastodon.fail = lambda text, attempt: None
    requests_before = len(fake_mastodon.requests)
    report = run(tiny, clients(fakes, sleeps), since=None)
    assert report.ok
    assert [(o.pending.statement.id, o.pending.network) for o in report.outcomes] == [
        ("2024-10-06-point", "mastodon"),
        ("2024-10-07-info", "mastodon"),
    ]
    retried = fake_mastodon.requests[requests_before]
    assert retried["headers"]["Idempotency-Key"] == interrupted.key
    assert len(fake_x.tweets) == 3 and len(fake_bluesky.records) == 3
    assert len(fake_mastodon.statuses) == 3
    # and a third run has nothing left to do
    assert run(tiny, clients(fakes, sleeps), since=None).outcomes == ()


class Killed(BaseException):
    """Stands for SIGKILL or a power cut: nothing after it runs."""


def test_a_kill_during_the_second_send_never_leads_to_a_double_post(
    tiny: Path, fakes, sleeps
) -> None:
    _, fake_bluesky, _ = fakes
    real = clients(fakes, sleeps)
    sent: list[str] = []

    class DiesAfterSending:
        """Sends the second post, then dies before Balise hears back."""

        network = "bluesky"

        def __init__(self, client):
            self.client = client

        def key(self, post, attempted_at):
            return self.client.key(post, attempted_at)

        def secrets(self):
            return self.client.secrets()

        def send(self, post, key, *, resumed=False):
            result = self.client.send(post, key, resumed=resumed)
            sent.append(post.statement_id)
            if len(sent) == 2:
                raise Killed
            return result

    with pytest.raises(Killed):
        run(tiny, {**real, "bluesky": DiesAfterSending(real["bluesky"])}, networks=("bluesky",))
    ledger = read_ledger(tiny)
    assert ledger.entry("2024-10-05-alerte", "bluesky").status == POSTED
    assert ledger.entry("2024-10-06-point", "bluesky").status == ATTEMPTED
    assert len(fake_bluesky.records) == 2

    report = run(tiny, clients(fakes, sleeps), since=None, networks=("bluesky",))
    assert report.ok
    assert len(fake_bluesky.records) == 3  # the killed one was found, not posted again
    resumed = read_ledger(tiny).entry("2024-10-06-point", "bluesky")
    assert resumed.status == POSTED
    assert resumed.note == "found the post an earlier attempt sent"
    assert fake_bluesky.gets[0]["rkey"] == resumed.key


def test_x_after_an_unanswered_send_takes_duplicate_refusal_as_sent(
    tiny: Path, fakes, sleeps
) -> None:
    _, _, fake_x = fakes

    def fail(text: str, attempt: int):
        if attempt == 1:
            return requests.ReadTimeout("read timed out")
        return 403 if attempt == 2 else None  # X saw the first one: duplicate content

    fake_x.fail = fail
    report = run(tiny, clients(fakes, sleeps), networks=("x",))
    assert report.ok
    entry = read_ledger(tiny).entry("2024-10-05-alerte", "x")
    assert entry.status == POSTED and entry.remote_id is None
    assert "duplicate" in entry.note
    assert sleeps == [2.0, 2.0, 2.0]


def test_x_duplicate_refusal_on_a_first_attempt_is_a_failure(tiny: Path, fakes, sleeps) -> None:
    _, _, fake_x = fakes
    fake_x.fail = lambda text, attempt: 403
    report = run(tiny, clients(fakes, sleeps), networks=("x",))
    assert not report.ok
    assert "duplicate content" in report.failed[0].failure


# --- credentials ----------------------------------------------------------------------


def test_missing_credentials_name_every_variable() -> None:
    with pytest.raises(MissingCredentials) as caught:
        x.credentials({"BALISE_X_API_KEY": "k", "BALISE_X_ACCESS_TOKEN": " "})
    assert caught.value.names == (
        "BALISE_X_API_SECRET",
        "BALISE_X_ACCESS_TOKEN",
        "BALISE_X_ACCESS_SECRET",
    )
    with pytest.raises(MissingCredentials):
        mastodon.credentials({"BALISE_MASTODON_URL": "https://m.example"})
    creds = bluesky.credentials(
        {"BALISE_BLUESKY_HANDLE": "@hospi.test", "BALISE_BLUESKY_APP_PASSWORD": "pw-SECRET"}
    )
    assert (creds.handle, creds.url) == ("hospi.test", "https://bsky.social")
    assert "pw-SECRET" not in repr(creds)


def test_secrets_never_appear_in_a_failure(tiny: Path, fakes, sleeps) -> None:
    fake_mastodon, _, _ = fakes
    fake_mastodon.fail = lambda text, attempt: 401  # the body echoes the Authorization header
    report = run(tiny, clients(fakes, sleeps), networks=("mastodon",))
    message = report.failed[0].failure
    assert "401" in message and MASTODON_TOKEN not in message


@pytest.mark.parametrize(
    ("echoed", "shown"),
    [
        ("session eyJhbGciOi.eyJzdWIiOiJk.c2ln refused", "session [secret] refused"),
        (
            "{'accessJwt': 'opaque-1', 'refreshJwt': \"opaque-2\", 'did': 'did:plc:x'}",
            "{'accessJwt': '[secret]', 'refreshJwt': \"[secret]\", 'did': 'did:plc:x'}",
        ),
        (
            '{"access_token": "abc123", "password": "hunter2", "token": "t0k3n"}',
            '{"access_token": "[secret]", "password": "[secret]", "token": "[secret]"}',
        ),
        ("Authorization was Bearer abcdef0123", "Authorization was Bearer [secret]"),
        (
            'Authorization: OAuth oauth_consumer_key="k", oauth_signature="s%2F", oauth_token="t"',
            "Authorization: OAuth [secret]",
        ),
        ("GET /cb?access_token=xyz&page=2", "GET /cb?access_token=[secret]&page=2"),
        ("password=hunter2 appPassword: p4ss", "password=[secret] appPassword: [secret]"),
        ("smtp://user:pa55@mail.example.org", "smtp://[secret]@mail.example.org"),
        ("the-known-value-1234 again", "[secret] again"),
        (
            "Mastodon answered HTTP 422: Text is too long",
            "Mastodon answered HTTP 422: Text is too long",
        ),
    ],
)
def test_redact_hides_credentials_and_anything_shaped_like_one(echoed: str, shown: str) -> None:
    assert redact(echoed, ["the-known-value-1234"]) == shown


@pytest.mark.parametrize(
    "echoed",
    [
        "my-SECRET/tok+en=9",
        "my-SECRET\\/tok+en=9",  # JSON with its slashes escaped (PHP, some encoders)
        "MY-SECRET/TOK+EN=9",
        "my-SECRET%2Ftok%2Ben%3D9",
        "bXktU0VDUkVUL3Rvaytlbj05",  # base64
        "bXktU0VDUkVUL3Rvaytlbj05".replace("+", "-"),  # URL-safe base64
    ],
)
def test_redact_hides_a_secret_in_the_forms_a_server_may_echo_it(echoed: str) -> None:
    assert redact(f"refused: {echoed}!", ["my-SECRET/tok+en=9"]) == "refused: [secret]!"


def test_credential_values_are_every_secret_variable_the_networks_read(
    httpserver,
    second_server,  # noqa: F811
) -> None:
    env = environment(FakeMastodon(httpserver), FakeBluesky(second_server))
    values = credential_values({**env, "HOME": "/root", "BALISE_WEBHOOK_SECRET": "whsec-1"})
    assert sorted(values) == sorted([*all_secrets(), "whsec-1"])
    # handles and instance addresses are not secret: messages may name them
    assert HANDLE not in values and env["BALISE_MASTODON_URL"] not in values


def test_a_session_token_echoed_by_bluesky_is_never_reported_or_recorded(
    tiny: Path, fakes, sleeps
) -> None:
    _, fake_bluesky, _ = fakes
    token = fake_bluesky.token
    echoed = f"session {token} refused for password {BLUESKY_PASSWORD}"
    fake_bluesky.fail = lambda text, attempt: (400, {"error": "InvalidToken", "message": echoed})
    report = run(tiny, clients(fakes, sleeps), networks=("bluesky",))
    assert report.failed[0].failure == (
        "Bluesky answered HTTP 400: session [secret] refused for password [secret]"
    )
    ledger = (tiny / ".balise/posted.json").read_text(encoding="utf-8")
    for secret in (token, BLUESKY_PASSWORD):
        assert secret not in ledger
        assert all(secret not in (o.failure or "") for o in report.outcomes)


def test_a_session_bluesky_answers_unreadably_is_reported_without_its_tokens(
    tiny: Path, fakes, sleeps
) -> None:
    _, fake_bluesky, _ = fakes
    del fake_bluesky.session["did"]  # the client's model refuses it, quoting what it got
    report = run(tiny, clients(fakes, sleeps), networks=("bluesky",))
    failure = report.failed[0].failure
    assert failure.startswith("Bluesky client error: 1 validation error for Response did ")
    assert "'accessJwt': '[secret]'" in failure and "\n" not in failure
    assert fake_bluesky.token not in failure
    assert fake_bluesky.token not in (tiny / ".balise/posted.json").read_text(encoding="utf-8")


def test_a_bluesky_address_without_https_is_a_failure_not_a_traceback(tiny: Path) -> None:
    env = {
        "BALISE_BLUESKY_HANDLE": HANDLE,
        "BALISE_BLUESKY_APP_PASSWORD": BLUESKY_PASSWORD,
        "BALISE_BLUESKY_URL": "bsky.social",
    }
    client = bluesky.BlueskyClient(bluesky.credentials(env), sleep=Sleeps())
    repository = check(tiny).repository
    assert repository is not None
    post = next(iter(outbox(tiny, repository, ("bluesky",), NOW, since=SINCE).posts.values()))
    with pytest.raises(PostFailed) as caught:
        client.send(post, "3kabc")
    assert str(caught.value) == (
        "cannot reach Bluesky at 'bsky.social' (check BALISE_BLUESKY_URL: https://...)"
    )
    assert not caught.value.transient


def test_tid_is_a_valid_sortable_record_key() -> None:
    early = tid(datetime(2024, 10, 9, 10, 0, tzinfo=UTC), 5)
    later = tid(datetime(2024, 10, 9, 10, 0, 1, tzinfo=UTC), 0)
    assert len(early) == 13 and early[0] in "234567abcdefghij"
    assert early < later
    assert json.dumps(early) == f'"{early}"'


def test_a_post_that_cannot_fit_is_never_sent(tmp_path: Path, fakes, sleeps) -> None:
    root = make_repository(tmp_path, {"s": statement("Titre", "2024-10-09T08:00:00+02:00")})
    long_url = "https://status.example.org/" + "tres-long/" * 31
    (root / "mkdocs.yml").write_text(f"site_name: T\nsite_url: {long_url}\n", encoding="utf-8")
    _, fake_bluesky, fake_x = fakes
    report = run(root, clients(fakes, sleeps), networks=("x", "bluesky"))
    assert [o.pending.network for o in report.failed] == ["bluesky"]
    assert report.failed[0].failure.startswith("too long for Bluesky: ")
    assert fake_bluesky.creates == [] and len(fake_x.tweets) == 1
    assert read_ledger(root).entry("s", "bluesky") is None  # still pending, nothing attempted

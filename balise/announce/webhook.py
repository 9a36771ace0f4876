"""The webhook channel (CONTRACT §10): one JSON `POST` per statement and URL, signed with an
HMAC-SHA256 when a secret is set; its `text` makes it readable by Slack- and Mattermost-style
incoming webhooks as they are.

compose() and body() are pure; WebhookClient is the only part that talks to the outside.
Each URL is its own destination (`webhook:` and 8 hex digits of the URL's SHA-256): what
`post` prints and records never holds a URL, which may carry a password or be the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import unquote, urlsplit

from balise import __version__
from balise.announce import CHANNELS
from balise.announce import compose as posts
from balise.announce.compose import Post, Templates
from balise.announce.network import (
    DEFAULT_BACKOFF,
    Backoff,
    BadSetting,
    PostFailed,
    Sent,
    content_key,
    read_credentials,
    with_retries,
)
from balise.model import Repository, Statement
from balise.timeline import Snapshot
from balise.views import establishment_record, statement_record

ENVIRONMENT = ("BALISE_WEBHOOK_URLS",)
SECRET_VARIABLE = "BALISE_WEBHOOK_SECRET"
OPTIONAL = True  # on only when its settings are present
DELETES = False  # a request cannot be taken back: `post --retract` sends a correction
SIGNATURE_HEADER = "X-Balise-Signature"
DELIVERY_HEADER = "X-Balise-Delivery"  # the same on every attempt: a receiver may drop repeats
USER_AGENT = f"Balise/{__version__} (status announcements)"


@dataclass(frozen=True)
class WebhookSettings:
    urls: tuple[str, ...] = field(repr=False)
    secret: str | None = field(default=None, repr=False)


def _ordinal(number: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(number, f"{number}th")


def credentials(environ: Mapping[str, str]) -> WebhookSettings:
    """The URLs (comma-separated) and the optional secret; BadSetting names a URL by its
    position only (a URL may hold a password)."""
    values = read_credentials(environ, ENVIRONMENT)
    urls = [url.strip() for url in values["BALISE_WEBHOOK_URLS"].split(",") if url.strip()]
    for number, url in enumerate(urls, 1):
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise BadSetting(
                f"the {_ordinal(number)} address of BALISE_WEBHOOK_URLS is not an http:// or "
                "https:// URL"
            )
    if not urls:
        raise BadSetting("BALISE_WEBHOOK_URLS holds no address (comma-separated URLs)")
    secret = environ.get(SECRET_VARIABLE, "").strip() or None
    return WebhookSettings(tuple(dict.fromkeys(urls)), secret)


def destination(url: str) -> str:
    """`webhook:1a2b3c4d`: how the ledger and the output name a URL without showing it."""
    return f"webhook:{hashlib.sha256(url.encode()).hexdigest()[:8]}"


# --- composing ------------------------------------------------------------------------


def compose(
    statement: Statement, repository: Repository, snap: Snapshot, templates: Templates
) -> Post:
    """`{"text", "statement", "establishments"}`: the statement and the establishments it
    names as status.json has them at NOW (views' records, the same code), and the text of a
    post (template `posts/webhook.txt`, else `posts/post.txt`)."""
    text = posts.compose(statement, repository, "webhook", templates.text).text
    named = [
        establishment_record(repository, current)
        for current in snap.current
        if statement.names(current.establishment.id)
    ]
    document = {
        "text": text,
        "statement": statement_record(repository, statement),
        "establishments": named,
    }
    return Post(
        statement.id,
        "webhook",
        text,
        len(text),
        None,
        posts.permalink(statement, repository),
        document=document,
    )


def correction(
    statement: Statement | None,
    statement_id: str,
    repository: Repository,
    snap: Snapshot,
    templates: Templates,
    reason: str | None,
) -> Post:
    """The correction `post --retract` sends once: the same shape, `withdrawn` added."""
    text = posts.correction_text(statement, statement_id, repository, reason)
    document = {
        "text": text,
        "statement": statement_record(repository, statement)
        if statement is not None
        else {"id": statement_id},
        "establishments": [
            establishment_record(repository, current)
            for current in snap.current
            if statement is not None and statement.names(current.establishment.id)
        ],
        "withdrawn": reason or "",
    }
    link = posts.permalink(statement, repository) if statement is not None else ""
    return Post(statement_id, "webhook", text, len(text), None, link, document=document)


def body(post: Post) -> bytes:
    """The exact bytes POSTed (and signed)."""
    return json.dumps(post.document, ensure_ascii=False).encode()


def signature(payload: bytes, secret: str) -> str:
    """The `X-Balise-Signature` value: `sha256=` and the HMAC-SHA256 of the body, in hex."""
    return "sha256=" + hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


# --- sending --------------------------------------------------------------------------


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: our own backoff decides


class WebhookClient:
    network = "webhook"

    def __init__(
        self,
        url: str,
        secret: str | None = None,
        *,
        timeout: float = 30.0,
        backoff: Backoff = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._url = url
        self._secret = secret
        self._timeout = timeout
        self._backoff = backoff
        self._sleep = sleep
        self.label = f"{CHANNELS['webhook']} {destination(url).split(':')[1]}"

    def secrets(self) -> tuple[str, ...]:
        parts = urlsplit(self._url)
        values = [self._secret or "", self._url, unquote(parts.password or "")]
        return tuple(value for value in values if value)

    def key(self, post: Post, attempted_at: datetime) -> str:
        return content_key(post)

    def send(self, post: Post, key: str, *, resumed: bool = False) -> Sent:
        import httpx

        payload = body(post)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            DELIVERY_HEADER: key,
        }
        if self._secret:
            headers[SIGNATURE_HEADER] = signature(payload, self._secret)

        def attempt(number: int) -> Sent:
            try:
                # httpx sends a URL's user:password as Basic authentication, follows no redirect.
                response = httpx.post(
                    self._url, content=payload, headers=headers, timeout=self._timeout
                )
            except httpx.TimeoutException:
                raise PostFailed(
                    f"no answer from {self.label} (timeout after {self._timeout:g} s)",
                    transient=True,
                ) from None
            except httpx.TransportError as error:
                raise PostFailed(
                    f"no answer from {self.label} ({type(error).__name__})", transient=True
                ) from None
            code = response.status_code
            if 200 <= code < 300:
                return Sent(None, None, f"{self.label} answered HTTP {code}")
            what = " ".join(response.text.split())[:200]
            detail = f"{self.label} answered HTTP {code}" + (f": {what}" if what else "")
            if code == 429:
                wait = _retry_after(response.headers.get("Retry-After"))
                raise PostFailed(detail, transient=True, retry_after=wait)
            if code >= 500:
                raise PostFailed(detail, transient=True)
            # Any other answer (4xx, a redirect) will not change by itself: not sent again.
            raise PostFailed(detail, transient=False, final=True)

        return with_retries(attempt, self._backoff, self._sleep, self.secrets())


# --- the channel (balise.announce.channels.Channel) ----------------------------------------


def destinations(settings: WebhookSettings | None) -> dict[str, str]:
    if settings is None:
        return {}
    return {
        destination(url): f"{CHANNELS['webhook']} {destination(url).split(':')[1]}"
        for url in settings.urls
    }


def clients(
    settings: WebhookSettings, *, timeout: float, sleep: Callable[[float], None]
) -> dict[str, WebhookClient]:
    return {
        destination(url): WebhookClient(url, settings.secret, timeout=timeout, sleep=sleep)
        for url in settings.urls
    }


def facts(post: Post, settings: WebhookSettings | None) -> list[str]:
    signed = "signed" if settings is not None and settings.secret else "not signed"
    return [f"{len(body(post))} bytes of JSON", signed]

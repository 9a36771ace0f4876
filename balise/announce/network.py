"""What every network client shares: credentials from the environment, the result of a send,
failures (transient or not), retries with backoff, and keeping secrets out of messages.

No client lives here; each channel module (x.py, mastodon.py, bluesky.py, email.py,
webhook.py) holds one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from urllib.parse import quote

from balise.announce.compose import Post


@dataclass(frozen=True)
class Sent:
    """A post the network accepted: its id and address there."""

    remote_id: str | None
    url: str | None
    note: str | None = None


class PostFailed(Exception):
    """A send did not succeed. `transient` failures (429, 5xx, timeouts) are worth retrying;
    a `final` one (a webhook's 4xx) is recorded as failed and not tried again by later runs."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        retry_after: float | None = None,
        final: bool = False,
    ):
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after
        self.final = final


class MissingCredentials(Exception):
    """Environment variables a network needs and does not have."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = tuple(names)
        super().__init__(", ".join(self.names))


class BadSetting(Exception):
    """A setting that is present but cannot be used; the message never quotes its value."""


def read_credentials(environ: Mapping[str, str], names: Iterable[str]) -> dict[str, str]:
    """The values of `names`; MissingCredentials naming every one that is unset or empty."""
    values = {name: environ.get(name, "").strip() for name in names}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise MissingCredentials(missing)
    return values


REDACTED = "[secret]"

# Environment variables whose values are credentials: every network's keys, tokens, secrets
# and passwords (BALISE_X_API_KEY, BALISE_MASTODON_TOKEN, BALISE_BLUESKY_APP_PASSWORD, ...).
# Handles and instance URLs are not secret; a password inside a URL is caught below anyway.
_CREDENTIAL_VARIABLE = re.compile(r"BALISE_\w*(KEY|SECRET|TOKEN|PASSWORD)")


def credential_values(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The value of every credential variable set in `environ`, to keep out of any message."""
    return tuple(
        value.strip()
        for name, value in sorted(environ.items())
        if _CREDENTIAL_VARIABLE.fullmatch(name) and value.strip()
    )


# What a server may echo that is shaped like a credential, whatever its value: fields named
# like tokens or passwords (JSON, Python reprs, forms, query strings), Authorization values
# and JSON Web Tokens (Bluesky's accessJwt and refreshJwt are JWTs).
_FIELD = (
    r"(?:access|refresh|id|auth|session|bearer|oauth|csrf)?[_-]?(?:jwt|token)(?:[_-]?secret)?"
    r"|(?:app|user)?[_-]?(?:password|passwd|passphrase)"
    r"|(?:client|api|consumer|access|app|private)?[_-]?secret"
    r"|(?:client|api|consumer|access|app|private)[_-]?key"
    r"|oauth_[a-z_]+|authorization|proxy-authorization|cookie|set-cookie"
)
_NAME = rf"(?<!\w)(?:{_FIELD})(?![\w-])[\"']?\s*[:=]\s*"
_QUOTED_FIELD = re.compile(
    rf"(?P<name>{_NAME})(?P<quote>[\"'])(?:\\.|(?!(?P=quote))[^\\])*(?P=quote)", re.IGNORECASE
)
_SCHEME = r"Bearer|Basic|Digest|DPoP|OAuth"
_AUTH_SCHEME = re.compile(
    rf"\b({_SCHEME})\s+(?:\w+=\"[^\"]*\"(?:\s*,\s*\w+=\"[^\"]*\")*|[\w.~+/=-]{{6,}})",
    re.IGNORECASE,
)
_BARE_FIELD = re.compile(
    rf"({_NAME})(?!\[secret\])(?!(?:{_SCHEME})\s+\[secret\])[^\s\"',;&)}}\]]+", re.IGNORECASE
)
_JWT = re.compile(r"\beyJ[\w-]{4,}\.[\w-]{4,}(?:\.[\w-]*)?")
_URL_USERINFO = re.compile(r"(?<=://)[^/\s@:]+:[^/\s@]+@")


def _written_forms(secret: str) -> set[str]:
    """The ways a server may echo a secret: as is, JSON-escaped (`\\/` too), percent-encoded,
    in base64 (standard or URL-safe, padded or not). Matched whatever the letter case."""
    escaped = json.dumps(secret)[1:-1]
    encoded = secret.encode()
    forms = {secret, escaped, escaped.replace("/", "\\/"), quote(secret, safe="")}
    for b64 in (base64.b64encode(encoded), base64.urlsafe_b64encode(encoded)):
        forms |= {b64.decode(), b64.decode().rstrip("=")}
    return {form for form in forms if len(form) >= 4}


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every secret value and everything shaped like a credential replaced, so
    that no message (printed or written to the ledger) can leak one, whatever a server echoes.
    """
    forms = {form for s in secrets if s and len(s) >= 4 for form in _written_forms(s)}
    for form in sorted(forms, key=len, reverse=True):
        text = re.sub(re.escape(form), REDACTED, text, flags=re.IGNORECASE)
    text = _QUOTED_FIELD.sub(rf"\g<name>\g<quote>{REDACTED}\g<quote>", text)
    text = _AUTH_SCHEME.sub(rf"\1 {REDACTED}", text)
    text = _BARE_FIELD.sub(rf"\1{REDACTED}", text)
    text = _JWT.sub(REDACTED, text)
    return _URL_USERINFO.sub(f"{REDACTED}@", text)


def content_key(post: Post) -> str:
    """A stable idempotency key for a post's content on its network."""
    digest = hashlib.sha256(f"{post.statement_id}\n{post.network}\n{post.text}".encode())
    return f"balise-{post.statement_id[:40]}-{digest.hexdigest()[:24]}"


@dataclass(frozen=True)
class Backoff:
    """Attempts and the waits between them: 2 s, 4 s, 8 s by default."""

    attempts: int = 4
    first: float = 2.0
    factor: float = 2.0
    longest: float = 60.0  # a network asking to wait longer is left for the next run

    def delay(self, failed_attempts: int) -> float:
        return min(self.first * self.factor ** (failed_attempts - 1), self.longest)


DEFAULT_BACKOFF = Backoff()


def with_retries(
    attempt: Callable[[int], Sent],
    backoff: Backoff,
    sleep: Callable[[float], None],
    secrets: Iterable[str] = (),
) -> Sent:
    """Call `attempt(1)`, `attempt(2)`... until it succeeds, fails for good or runs out.

    The failure it ends with is redacted (`secrets`, and whatever looks like a credential):
    it is printed and recorded in the ledger."""
    try:
        return _retried(attempt, backoff, sleep)
    except PostFailed as failure:
        raise PostFailed(
            redact(str(failure), secrets), transient=failure.transient, final=failure.final
        ) from None


def _retried(
    attempt: Callable[[int], Sent], backoff: Backoff, sleep: Callable[[float], None]
) -> Sent:
    number = 1
    while True:
        try:
            return attempt(number)
        except PostFailed as failure:
            if not failure.transient:
                raise
            if number >= backoff.attempts:
                raise PostFailed(
                    f"{failure} (gave up after {number} attempts)", transient=True
                ) from None
            delay = backoff.delay(number)
            if failure.retry_after is not None:
                if failure.retry_after > backoff.longest:
                    raise PostFailed(
                        f"{failure} (the network asks to wait {failure.retry_after:.0f} s)",
                        transient=True,
                    ) from None
                delay = max(delay, failure.retry_after)
            sleep(delay)
            number += 1


class Network(Protocol):
    """A client for one network, as `post` uses it."""

    network: str

    def key(self, post: Post, attempted_at: datetime) -> str:
        """The key that makes a resumed send safe (idempotency key or record key), made at
        `attempted_at`, the wall-clock time of the first attempt (not the NOW published)."""
        ...

    def send(self, post: Post, key: str, *, resumed: bool = False) -> Sent:
        """Send one post (with retries); PostFailed when it did not go out."""
        ...

    def secrets(self) -> tuple[str, ...]:
        """Credential values that must never appear in a message."""
        ...

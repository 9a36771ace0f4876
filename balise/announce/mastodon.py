"""The Mastodon client: Mastodon.py's `status_post` with an idempotency key, retried on 429/5xx.

The key is stored in the ledger before sending, so a resumed send cannot create a second status.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from balise.announce import CHANNELS
from balise.announce import compose as posts
from balise.announce.compose import Post, Templates
from balise.announce.network import (
    DEFAULT_BACKOFF,
    Backoff,
    PostFailed,
    Sent,
    content_key,
    read_credentials,
    with_retries,
)
from balise.model import Repository, Statement
from balise.timeline import Snapshot

ENVIRONMENT = ("BALISE_MASTODON_URL", "BALISE_MASTODON_TOKEN")
LANGUAGE = "fr"


@dataclass(frozen=True)
class MastodonCredentials:
    url: str  # the instance, e.g. https://social.example.org
    token: str = field(repr=False)


def credentials(environ: Mapping[str, str]) -> MastodonCredentials:
    """Credentials from BALISE_MASTODON_URL and BALISE_MASTODON_TOKEN."""
    values = read_credentials(environ, ENVIRONMENT)
    return MastodonCredentials(values["BALISE_MASTODON_URL"], values["BALISE_MASTODON_TOKEN"])


class MastodonClient:
    network = "mastodon"

    def __init__(
        self,
        creds: MastodonCredentials,
        *,
        timeout: float = 30.0,
        backoff: Backoff = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from mastodon import Mastodon

        self._creds = creds
        self._backoff = backoff
        self._sleep = sleep
        self._api = Mastodon(
            access_token=creds.token,
            api_base_url=creds.url,
            request_timeout=timeout,
            ratelimit_method="throw",  # never sleep inside Mastodon.py: our backoff decides
            version_check_mode="none",  # no instance lookup before the post
        )

    def secrets(self) -> tuple[str, ...]:
        return (self._creds.token,)

    def key(self, post: Post, attempted_at: datetime) -> str:
        return content_key(post)

    def send(self, post: Post, key: str, *, resumed: bool = False) -> Sent:
        from mastodon import errors

        def attempt(number: int) -> Sent:
            try:
                status = self._api.status_post(post.text, language=LANGUAGE, idempotency_key=key)
            except errors.MastodonRatelimitError:
                raise PostFailed(
                    "Mastodon answered HTTP 429: too many requests", transient=True
                ) from None
            except errors.MastodonServerError as error:
                raise PostFailed(_detail(error), transient=True) from None
            except errors.MastodonNetworkError as error:
                kind = "timeout" if isinstance(error, errors.MastodonReadTimeout) else "network"
                raise PostFailed(
                    f"no answer from Mastodon ({kind} error)", transient=True
                ) from None
            except errors.MastodonError as error:
                raise PostFailed(_detail(error), transient=False) from None
            return Sent(str(status["id"]), status.get("url") or status.get("uri"))

        return with_retries(attempt, self._backoff, self._sleep, self.secrets())

    def delete(self, remote_id: str) -> Sent:
        """Delete a status (`post --retract`); one already gone counts as deleted."""
        from mastodon import errors

        def attempt(number: int) -> Sent:
            try:
                self._api.status_delete(remote_id)
            except errors.MastodonNotFoundError:
                return Sent(remote_id, None, "already deleted on Mastodon")
            except errors.MastodonRatelimitError:
                raise PostFailed(
                    "Mastodon answered HTTP 429: too many requests", transient=True
                ) from None
            except (errors.MastodonServerError, errors.MastodonNetworkError) as error:
                raise PostFailed(_detail(error), transient=True) from None
            except errors.MastodonError as error:
                raise PostFailed(_detail(error), transient=False) from None
            return Sent(remote_id, None, "deleted on Mastodon")

        return with_retries(attempt, self._backoff, self._sleep, self.secrets())


def _detail(error: Exception) -> str:
    # Mastodon.py's API errors carry (message, status code, reason, server's error text).
    args = [a for a in error.args if a is not None]
    if len(args) >= 3 and isinstance(args[1], int):
        detail = f"Mastodon answered HTTP {args[1]}"
        extra = args[3] if len(args) > 3 else args[2]
        return f"{detail}: {extra}" if extra else detail
    return f"Mastodon error: {error}"


# --- the channel (balise.announce.channels.Channel) ----------------------------------------

OPTIONAL = False  # asked for, it needs its credentials
DELETES = True  # `post --retract` deletes the post (client.delete)


def destinations(settings: object | None) -> dict[str, str]:
    return {"mastodon": CHANNELS["mastodon"]}


def compose(
    statement: Statement, repository: Repository, snap: Snapshot, templates: Templates
) -> Post:
    return posts.compose(statement, repository, "mastodon", templates.text)


def clients(
    creds: MastodonCredentials, *, timeout: float, sleep: Callable[[float], None]
) -> dict[str, MastodonClient]:
    return {"mastodon": MastodonClient(creds, timeout=timeout, sleep=sleep)}


def facts(post: Post, settings: object | None) -> list[str]:
    return posts.limited_facts(post)

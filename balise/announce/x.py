"""The X client: tweepy's API v2 `create_tweet` with OAuth 1.0a user context, retried on 429/5xx.

tweepy always talks to https://api.twitter.com; tests intercept it at the HTTP layer.
"""

from __future__ import annotations

import functools
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

ENVIRONMENT = (
    "BALISE_X_API_KEY",
    "BALISE_X_API_SECRET",
    "BALISE_X_ACCESS_TOKEN",
    "BALISE_X_ACCESS_SECRET",
)
STATUS_URL = "https://x.com/i/web/status/{id}"


@dataclass(frozen=True)
class XCredentials:
    api_key: str = field(repr=False)
    api_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    access_secret: str = field(repr=False)


def credentials(environ: Mapping[str, str]) -> XCredentials:
    """Credentials from BALISE_X_*; MissingCredentials names the unset ones."""
    values = read_credentials(environ, ENVIRONMENT)
    return XCredentials(*(values[name] for name in ENVIRONMENT))


def _detail(error: Exception) -> str:
    messages = getattr(error, "api_messages", None) or []
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", "?")
    reason = "; ".join(messages) or getattr(response, "reason", "") or ""
    return f"X answered HTTP {status}" + (f": {reason}" if reason else "")


def _is_duplicate(error: Exception) -> bool:
    return any("duplicate" in message.lower() for message in getattr(error, "api_messages", []))


class XClient:
    network = "x"

    def __init__(
        self,
        creds: XCredentials,
        *,
        timeout: float = 30.0,
        backoff: Backoff = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        import tweepy

        self._creds = creds
        self._backoff = backoff
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._client = tweepy.Client(
            consumer_key=creds.api_key,
            consumer_secret=creds.api_secret,
            access_token=creds.access_token,
            access_token_secret=creds.access_secret,
            wait_on_rate_limit=False,  # waiting is ours to decide, with an injectable sleep
        )
        # tweepy sets no timeout: a hung connection would hang the whole run.
        session = self._client.session
        session.request = functools.partial(session.request, timeout=timeout)

    def secrets(self) -> tuple[str, ...]:
        c = self._creds
        return (c.api_key, c.api_secret, c.access_token, c.access_secret)

    def key(self, post: Post, attempted_at: datetime) -> str:
        return content_key(post)

    def send(self, post: Post, key: str, *, resumed: bool = False) -> Sent:
        import requests
        import tweepy

        # After an interrupted or unanswered attempt the tweet may exist. X refuses a tweet
        # identical to a recent one, so resending is safe: that refusal means "already sent".
        uncertain = resumed

        def attempt(number: int) -> Sent:
            nonlocal uncertain
            try:
                response = self._client.create_tweet(text=post.text, user_auth=True)
            except tweepy.TooManyRequests as error:
                reset = getattr(error, "reset_time", None)
                wait = max(0.0, reset - self._wall_clock()) if reset else None
                raise PostFailed(_detail(error), transient=True, retry_after=wait) from None
            except tweepy.TwitterServerError as error:
                uncertain = True
                raise PostFailed(_detail(error), transient=True) from None
            except tweepy.Forbidden as error:
                if uncertain and _is_duplicate(error):
                    return Sent(None, None, "X refused a duplicate: an earlier attempt went out")
                raise PostFailed(_detail(error), transient=False) from None
            except tweepy.HTTPException as error:
                raise PostFailed(_detail(error), transient=False) from None
            except (requests.ConnectTimeout, requests.exceptions.SSLError) as error:
                raise PostFailed(
                    f"cannot reach X: {type(error).__name__}", transient=True
                ) from None
            except requests.RequestException as error:
                # Timeouts, resets, a connection dropped mid-answer (ChunkedEncodingError): the
                # tweet may exist, and tweepy lets all of them through.
                uncertain = True
                raise PostFailed(
                    f"no answer from X: {type(error).__name__}", transient=True
                ) from None
            except tweepy.TweepyException as error:
                raise PostFailed(f"X client error: {error}", transient=False) from None
            tweet_id = str(response.data["id"])
            return Sent(tweet_id, STATUS_URL.format(id=tweet_id))

        return with_retries(attempt, self._backoff, self._sleep, self.secrets())

    def delete(self, remote_id: str) -> Sent:
        """Delete a tweet (`post --retract`); one already gone counts as deleted."""
        import requests
        import tweepy

        def attempt(number: int) -> Sent:
            try:
                self._client.delete_tweet(remote_id, user_auth=True)
            except tweepy.NotFound:
                return Sent(remote_id, None, "already deleted on X")
            except tweepy.TooManyRequests as error:
                raise PostFailed(_detail(error), transient=True) from None
            except tweepy.TwitterServerError as error:
                raise PostFailed(_detail(error), transient=True) from None
            except tweepy.HTTPException as error:
                raise PostFailed(_detail(error), transient=False) from None
            except requests.RequestException as error:
                raise PostFailed(
                    f"no answer from X: {type(error).__name__}", transient=True
                ) from None
            return Sent(remote_id, None, "deleted on X")

        return with_retries(attempt, self._backoff, self._sleep, self.secrets())


# --- the channel (balise.announce.channels.Channel) ----------------------------------------

OPTIONAL = False  # asked for, it needs its credentials
DELETES = True  # `post --retract` deletes the post (client.delete)


def destinations(settings: object | None) -> dict[str, str]:
    return {"x": CHANNELS["x"]}


def compose(
    statement: Statement, repository: Repository, snap: Snapshot, templates: Templates
) -> Post:
    return posts.compose(statement, repository, "x", templates.text)


def clients(
    creds: XCredentials, *, timeout: float, sleep: Callable[[float], None]
) -> dict[str, XClient]:
    return {"x": XClient(creds, timeout=timeout, sleep=sleep)}


def facts(post: Post, settings: object | None) -> list[str]:
    return posts.limited_facts(post)

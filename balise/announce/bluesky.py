"""The Bluesky client: atproto's createSession and createRecord, the permalink as a link facet.

Each post gets its record key (a TID) before it is sent and the ledger keeps it, so a resumed
send first asks the PDS whether that record exists instead of creating a second one.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from balise.announce import CHANNELS
from balise.announce import compose as posts
from balise.announce.compose import Post, Templates
from balise.announce.network import (
    DEFAULT_BACKOFF,
    Backoff,
    PostFailed,
    Sent,
    read_credentials,
    with_retries,
)
from balise.model import Repository, Statement
from balise.timeline import Snapshot

ENVIRONMENT = ("BALISE_BLUESKY_HANDLE", "BALISE_BLUESKY_APP_PASSWORD")
URL_VARIABLE = "BALISE_BLUESKY_URL"
DEFAULT_URL = "https://bsky.social"
POST_URL = "https://bsky.app/profile/{handle}/post/{rkey}"
LANGUAGES = ["fr"]
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class BlueskyCredentials:
    handle: str
    app_password: str = field(repr=False)
    url: str = DEFAULT_URL  # the PDS (or entryway) that creates the session


def credentials(environ: Mapping[str, str]) -> BlueskyCredentials:
    """Credentials from BALISE_BLUESKY_HANDLE, _APP_PASSWORD and the optional _URL."""
    values = read_credentials(environ, ENVIRONMENT)
    url = environ.get(URL_VARIABLE, "").strip() or DEFAULT_URL
    return BlueskyCredentials(
        values["BALISE_BLUESKY_HANDLE"].removeprefix("@"),
        values["BALISE_BLUESKY_APP_PASSWORD"],
        url,
    )


def tid(moment: datetime, clock_id: int) -> str:
    """An AT Protocol TID: 53 bits of microseconds since 1970, 10 bits of clock id, base32."""
    micros = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // _MICROSECOND
    value = (micros << 10) | (clock_id & 0x3FF)
    digits = []
    for _ in range(13):
        digits.append(_TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(digits))


_MICROSECOND = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _detail(error: Exception) -> str:
    response = getattr(error, "response", None)
    if response is None:
        return f"no answer from Bluesky ({type(error).__name__})"
    content = response.content
    what = getattr(content, "message", None) or getattr(content, "error", None) or ""
    return f"Bluesky answered HTTP {response.status_code}" + (f": {what}" if what else "")


class BlueskyClient:
    network = "bluesky"

    def __init__(
        self,
        creds: BlueskyCredentials,
        *,
        timeout: float = 30.0,
        backoff: Backoff = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        from atproto import Client
        from atproto_client.request import Request

        self._creds = creds
        self._backoff = backoff
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._client = Client(base_url=creds.url, request=Request(timeout=timeout))
        self._account: dict[str, str] = {}
        self._client.on_session_change(
            lambda event, session: self._account.update(did=session.did, handle=session.handle)
        )

    def secrets(self) -> tuple[str, ...]:
        return (self._creds.app_password,)

    def key(self, post: Post, attempted_at: datetime) -> str:
        clock_id = int.from_bytes(hashlib.sha256(post.statement_id.encode()).digest()[:2], "big")
        return tid(self._wall_clock(), clock_id)

    def _login(self) -> None:
        if not self._account:
            self._client.login(
                self._creds.handle, self._creds.app_password, fetch_bsky_profile=False
            )

    def _existing(self, rkey: str) -> Sent | None:
        from atproto_client.exceptions import BadRequestError

        try:
            record = self._client.app.bsky.feed.post.get(self._account["did"], rkey)
        except BadRequestError as error:
            content = error.response.content if error.response is not None else None
            if getattr(content, "error", None) == "RecordNotFound":
                return None
            raise
        return Sent(record.uri, self._url(rkey), "found the post an earlier attempt sent")

    def _url(self, rkey: str) -> str:
        return POST_URL.format(handle=self._account.get("handle", self._creds.handle), rkey=rkey)

    def send(self, post: Post, key: str, *, resumed: bool = False) -> Sent:
        import httpx
        from atproto import models
        from atproto_client import exceptions

        uncertain = resumed

        def attempt(number: int) -> Sent:
            nonlocal uncertain
            try:
                self._login()
                if uncertain:
                    existing = self._existing(key)
                    if existing is not None:
                        return existing
                record = models.AppBskyFeedPost.Record(
                    created_at=_iso(self._wall_clock()),
                    text=post.text,
                    langs=LANGUAGES,
                    facets=[
                        models.AppBskyRichtextFacet.Main(
                            index=models.AppBskyRichtextFacet.ByteSlice(
                                byte_start=facet.byte_start, byte_end=facet.byte_end
                            ),
                            features=[models.AppBskyRichtextFacet.Link(uri=facet.uri)],
                        )
                        for facet in post.facets
                    ]
                    or None,
                )
                created = self._client.app.bsky.feed.post.create(
                    self._account["did"], record, rkey=key
                )
            except exceptions.RateLimitExceededError as error:
                retry_after = error.retry_after
                if retry_after is None and error.reset_at is not None:
                    retry_after = max(0.0, (error.reset_at - datetime.now(UTC)).total_seconds())
                raise PostFailed(_detail(error), transient=True, retry_after=retry_after) from None
            except exceptions.UnauthorizedError as error:
                raise PostFailed(
                    f"{_detail(error)} (check BALISE_BLUESKY_HANDLE and "
                    "BALISE_BLUESKY_APP_PASSWORD)",
                    transient=False,
                ) from None
            except exceptions.BadRequestError as error:
                raise PostFailed(_detail(error), transient=False) from None
            except exceptions.NetworkError as error:  # transport failures, timeouts, 409/413/502
                status = error.response.status_code if error.response is not None else None
                if status in (409, 413):
                    raise PostFailed(_detail(error), transient=False) from None
                uncertain = True
                raise PostFailed(_detail(error), transient=True) from None
            except exceptions.RequestException as error:
                status = error.response.status_code if error.response is not None else 0
                if status >= 500:
                    uncertain = True
                    raise PostFailed(_detail(error), transient=True) from None
                raise PostFailed(_detail(error), transient=False) from None
            except httpx.UnsupportedProtocol:
                raise PostFailed(
                    f"cannot reach Bluesky at {self._creds.url!r} (check {URL_VARIABLE}: "
                    "https://...)",
                    transient=False,
                ) from None
            except httpx.TransportError as error:
                # atproto wraps only timeouts and network errors: a connection closed without
                # an answer (RemoteProtocolError) comes through as is. The record may exist.
                uncertain = True
                raise PostFailed(
                    f"no answer from Bluesky ({type(error).__name__})", transient=True
                ) from None
            except exceptions.AtProtocolError as error:  # e.g. an answer it cannot read
                detail = " ".join(str(error).split())  # pydantic's report spans lines
                raise PostFailed(f"Bluesky client error: {detail}", transient=False) from None
            return Sent(created.uri, self._url(key))

        return with_retries(attempt, self._backoff, self._sleep, self.secrets())

    def delete(self, remote_id: str) -> Sent:
        """Delete a post by its AT URI (`post --retract`); deleting is idempotent on a PDS."""
        import httpx
        from atproto_client import exceptions

        def attempt(number: int) -> Sent:
            try:
                self._login()
                self._client.delete_post(remote_id)
            except exceptions.RateLimitExceededError as error:
                raise PostFailed(_detail(error), transient=True) from None
            except exceptions.UnauthorizedError as error:
                raise PostFailed(_detail(error), transient=False) from None
            except exceptions.BadRequestError as error:
                raise PostFailed(_detail(error), transient=False) from None
            except exceptions.NetworkError as error:
                raise PostFailed(_detail(error), transient=True) from None
            except exceptions.RequestException as error:
                status = error.response.status_code if error.response is not None else 0
                raise PostFailed(_detail(error), transient=status >= 500) from None
            except httpx.TransportError as error:
                raise PostFailed(
                    f"no answer from Bluesky ({type(error).__name__})", transient=True
                ) from None
            return Sent(remote_id, None, "deleted on Bluesky")

        return with_retries(attempt, self._backoff, self._sleep, self.secrets())


# --- the channel (balise.announce.channels.Channel) ----------------------------------------

OPTIONAL = False  # asked for, it needs its credentials
DELETES = True  # `post --retract` deletes the post (client.delete)


def destinations(settings: object | None) -> dict[str, str]:
    return {"bluesky": CHANNELS["bluesky"]}


def compose(
    statement: Statement, repository: Repository, snap: Snapshot, templates: Templates
) -> Post:
    return posts.compose(statement, repository, "bluesky", templates.text)


def clients(
    creds: BlueskyCredentials, *, timeout: float, sleep: Callable[[float], None]
) -> dict[str, BlueskyClient]:
    return {"bluesky": BlueskyClient(creds, timeout=timeout, sleep=sleep)}


def facts(post: Post, settings: object | None) -> list[str]:
    return posts.limited_facts(post)

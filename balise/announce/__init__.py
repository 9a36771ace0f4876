"""Outgoing announcements (CONTRACT §8, §10): compose, record and send one post per statement
and channel (the social networks, email, webhooks).

compose, plan and ledger are pure or file-only; only the channel modules talk to the outside.
"""

from __future__ import annotations

# Every channel, in the order a statement goes out, with its name in messages. Adding a
# channel is one module of this package (see channels.Channel) and one line here.
CHANNELS: dict[str, str] = {
    "x": "X",
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
    "email": "E-mail",
    "webhook": "Webhook",
}
NETWORKS: tuple[str, ...] = ("x", "mastodon", "bluesky")  # the social networks (CONTRACT §8)


def channel_of(destination: str) -> str:
    """The channel of a destination: `x`, or `webhook` for `webhook:1a2b3c4d` (one per URL)."""
    return destination.split(":", 1)[0]

"""Outgoing announcements (CONTRACT §8, §10): compose, record and send one post per statement
and channel (the social networks, email, webhooks).

compose, plan and ledger are pure or file-only; only the network modules talk to the outside.
"""

from __future__ import annotations

NETWORKS: tuple[str, ...] = ("x", "mastodon", "bluesky")
NETWORK_NAMES: dict[str, str] = {"x": "X", "mastodon": "Mastodon", "bluesky": "Bluesky"}

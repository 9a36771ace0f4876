"""What a channel module provides, and finding the module of a channel by its name.

Knows no channel by name: the list is balise.announce.CHANNELS. Imports a module only when
asked, so that nothing heavier than the standard library loads before it is needed.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Protocol

from balise.announce import CHANNELS
from balise.announce.compose import Post, Templates
from balise.announce.network import Network
from balise.model import Repository, Statement
from balise.timeline import Snapshot


class Channel(Protocol):
    """A module of this package: balise.announce.x, .email, ..."""

    OPTIONAL: bool  # on only when its settings are present (email, webhook)
    DELETES: bool  # `post --retract` deletes its posts (client.delete), else sends correction()
    ENVIRONMENT: tuple[str, ...]  # the variables it needs

    def credentials(self, environ: Mapping[str, str]) -> Any:
        """Its settings from the environment; MissingCredentials or BadSetting."""
        ...

    def destinations(self, settings: Any | None) -> dict[str, str]:
        """Destination id -> its name in messages: one per channel, or one per URL. Never a
        secret or an address: both reach the output and the ledger."""
        ...

    def compose(
        self, statement: Statement, repository: Repository, snap: Snapshot, templates: Templates
    ) -> Post:
        """The post of one statement, exactly as it goes out."""
        ...

    def clients(self, settings: Any, *, timeout: float, sleep: Any) -> dict[str, Network]:
        """One client per destination."""
        ...

    def facts(self, post: Post, settings: Any | None) -> list[str]:
        """What the dry run says of a post beside its text: length, recipients, size."""
        ...


def channel(name: str) -> Channel:
    """The module of a channel of CHANNELS (KeyError for any other name)."""
    if name not in CHANNELS:
        raise KeyError(name)
    module: Any = importlib.import_module(f"balise.announce.{name}")
    return module

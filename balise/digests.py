"""Content digests, and the store of kept results the build hands to the steps that keep some.

Values only: a hash function and an interface. The store itself is the build's cache
(cache.py, at the edge); a step receives it from the build and never imports the cache.
"""

from __future__ import annotations

import hashlib
from typing import Any, Protocol


def digest(*parts: str | bytes) -> str:
    """One hex digest of several texts, unambiguous (each part is length-prefixed)."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


class Store(Protocol):
    """JSON values kept by kind and key (between builds, unless `persist` is false)."""

    def get(self, kind: str, key: str) -> Any | None: ...

    def put(self, kind: str, key: str, value: Any, *, persist: bool = True) -> None: ...

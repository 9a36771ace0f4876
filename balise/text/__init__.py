"""Pure text work every layer may use: slugs, ISO instants, whitespace and shortening here;
markdown -> sanitized HTML in text.markdown, HTML -> plain text in text.plain.

Core: values in, values out; it imports nothing of Balise's (no render, cache or load), and
carries no cache: the build memoizes what it needs at its edge (prefetch.py).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

# --- slugs ------------------------------------------------------------------------------

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str, limit: int | None = None) -> str:
    """`Point d'étape n°2 — Été` -> `point-d-etape-n-2-ete`: lowercase ASCII words joined by
    hyphens (accents dropped, every other character a separator); "" when nothing is left.

    With `limit`, at most that many characters, cut between words, never inside one: a slug
    often becomes a permanent URL (`…-retour-au-fonctionneme` would stay online for good);
    only a first word longer than the limit is cut, as it must be.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c))
    slug = _NOT_SLUG.sub("-", ascii_text).strip("-")
    if limit is not None and len(slug) > limit:
        words = slug[: limit + 1].split("-")[:-1]  # the last one is cut (or empty: a hyphen)
        slug = "-".join(words) if words else slug[:limit]
    return slug


# --- instants ---------------------------------------------------------------------------


def parse_iso_instant(text: str) -> datetime | None:
    """An ISO 8601 date and time as the command line and the ledger write it (a final `Z`
    is UTC), naive when written without an offset; None when it is not one."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


# --- words ---------------------------------------------------------------------------


def collapse(text: str) -> str:
    """Every run of whitespace as one space, none at the ends."""
    return " ".join(text.split())


def shorten(text: str, limit: int) -> str:
    """`text` itself when short enough, else cut at a word boundary and ended with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if text[limit - 1] != " " and " " in cut:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:.-–—") + "…"

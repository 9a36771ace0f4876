"""Work a build will need, done ahead on two cores: the renderings of new bodies.

It only fills the build cache; what is not prefetched is computed on demand, the same.
"""

from __future__ import annotations

from collections.abc import Iterable

from balise import cache
from balise.load import RawFile, RawMap
from balise.render.markdown import page_body_html, removed_markup
from balise.render.markup import plain_text
from balise.validate import summarize


def bodies(statements: Iterable[RawFile]) -> None:
    """Summaries, removed markup, page and JSON renderings of new bodies, in parallel (each
    body's in one process: they share its markdown rendering)."""
    groups: list[list[cache.Call]] = []
    store = cache.active()
    for statement in statements:
        body = (statement.body,)
        if store is not None and not removed_markup.memo.missing(store, *body):  # type: ignore[attr-defined]
            continue  # seen by an earlier build: what it needs is cached, or not needed
        calls: list[cache.Call] = [
            (removed_markup, body),
            (page_body_html, body),
            (plain_text, body),
        ]
        if not isinstance(statement.data, RawMap) or statement.data.get("summary") is None:
            calls.append((summarize, body))
        groups.append(calls)
    cache.prefetch(groups)

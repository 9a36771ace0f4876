"""Work a build will need, done ahead on two cores: markdown of new bodies, scripts of pages.

It only fills the build cache; what is not prefetched is computed on demand, the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from balise import cache
from balise.load import RawFile, RawMap
from balise.render.headers import _script_sources
from balise.render.markdown import body_html, removed_markup
from balise.render.markup import plain_text
from balise.validate import summarize


def bodies(statements: Iterable[RawFile]) -> None:
    """Summaries, removed markup, page and JSON renderings of new bodies, in parallel."""
    calls: list[tuple[Callable[..., Any], tuple[str, ...]]] = []
    store = cache.active()
    for statement in statements:
        body = (statement.body,)
        if store is not None and not removed_markup.memo.missing(store, *body):  # type: ignore[attr-defined]
            continue  # seen by an earlier build: what it needs is cached, or not needed
        calls += [(removed_markup, body), (body_html, body), (plain_text, body)]
        if not isinstance(statement.data, RawMap) or statement.data.get("summary") is None:
            calls.append((summarize, body))
    cache.prefetch(calls)


def page_scripts(pages: list[Path]) -> None:
    """The inline scripts of built pages, for the security headers, on two cores (each
    worker reads the pages it parses: no page is held twice in memory)."""
    store = cache.active()
    if store is None:
        return
    memo = _script_sources.memo  # type: ignore[attr-defined]

    def scripts(path: Path) -> tuple[str, Any]:
        page = path.read_bytes()
        key = memo.key(page)
        found = memo.stored(cache.active(), key)
        return key, None if found is not None else memo.compute(page)

    for key, computed in cache.parallel_map(scripts, pages)[1::2]:
        if computed is not None:  # the worker's; the parent's are recorded already
            memo.record_key(store, key, computed)

"""The site's search index, from the page views: Material's `search/search_index.json` format.

Pure: views -> {path: bytes}. One document per statement, establishment and incident, and one
per section page (its title and description): list pages only repeat statements' text, so
their lists are not indexed. Material's search worker reads `config` (lunr's languages, the
separator, the pipeline, the fields' boosts) and `docs` (`location`, `title`, `text`, where
`text` is HTML it shows in the results).
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from balise.views import (
    EstablishmentPage,
    IncidentPage,
    Page,
    SitePages,
    StatementLink,
    StatementPage,
)

SEARCH_INDEX = "search/search_index.json"
# Material's search settings that its worker reads (the rest configures its plugin only).
SETTINGS = ("lang", "separator", "pipeline", "fields")


def _paragraphs(*texts: str) -> str:
    """Plain texts as escaped HTML paragraphs (blank lines split a text into paragraphs)."""
    parts = (p.strip() for text in texts for p in text.split("\n\n"))
    return "".join(f"<p>{html.escape(' '.join(p.split()), quote=False)}</p>" for p in parts if p)


def _changes(link: StatementLink) -> str:
    return " ; ".join(f"{c.establishment.name} : {c.status_label.label}" for c in link.changes)


def _document(page: Page, plain_text: Callable[[str], str]) -> dict[str, str]:
    if isinstance(page, StatementPage):
        link = page.link
        head = f"{link.type_label}, {link.date.long}. {_changes(link)}"
        text = _paragraphs(head, plain_text(page.body))
    elif isinstance(page, EstablishmentPage):
        card = page.card
        services = "; ".join(f"{s.name} : {s.status_label.label}" for s in card.not_normal)
        text = _paragraphs(
            f"{card.establishment.city}. {card.status_label.label} depuis le {card.since.long}.",
            services,
        )
    elif isinstance(page, IncidentPage):
        incident = page.incident
        names = ", ".join(c.establishment.name for c in page.affected)
        text = _paragraphs(
            f"{incident.worst.label}, depuis le {incident.started.long}, "
            f"dernier point le {incident.updated.long}. {names}"
        )
    else:  # a section page: its lists repeat the statements, indexed on their own pages
        text = _paragraphs(page.description)
    # Material's worker shows titles and texts as HTML: escaped, as its own parser does.
    return {"location": page.path, "title": html.escape(page.title, quote=False), "text": text}


def _documents(pages: SitePages, plain_text: Callable[[str], str]) -> Iterator[dict[str, str]]:
    for page in pages.all():
        if isinstance(page, StatementPage) and page.withdrawn is not None:
            continue  # its link still works, saying so; the site's search drops it
        yield _document(page, plain_text)


def render_search(
    pages: SitePages, settings: Mapping[str, Any], plain_text: Callable[[str], str]
) -> dict[str, bytes]:
    """`{SEARCH_INDEX: bytes}`: Material's index of these pages, with its search settings
    (`settings`, as mkdocs.yml's search plugin resolved them); `plain_text(body)` is a
    statement body's text (the build's memo of text.markdown.body_text)."""
    index = {
        "config": {key: settings[key] for key in SETTINGS if key in settings},
        "docs": list(_documents(pages, plain_text)),
    }
    data = json.dumps(index, ensure_ascii=False, separators=(",", ":"), default=str)
    return {SEARCH_INDEX: data.encode("utf-8")}

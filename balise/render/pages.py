"""The human pages as MkDocs sources: one generated markdown file per page, plus the nav.

Balise-made text sits in HTML blocks escaped by Jinja; only a statement's body is markdown.
"""

from __future__ import annotations

import functools
import html
import json
import posixpath
import re
from typing import Any

import jinja2
from markupsafe import Markup

from balise.text.markdown import PURE_RENDERER, BodyRenderer
from balise.views import (
    EstablishmentPage,
    EstablishmentsPage,
    FollowPage,
    HistoryPage,
    IncidentPage,
    LegalPage,
    ListPage,
    MonthPage,
    OverviewPage,
    Page,
    SitePages,
    StatementPage,
)

# Only the section pages are in the navigation: establishment, statement and incident pages
# are listed from other pages. In the nav, every page would carry the whole list (40
# establishments were half of a statement page's bytes and of its template time).
NOT_IN_NAV = "/communiques/\n/incidents/\n/etablissements/\n/historique/\n"

_TEMPLATES: dict[type, tuple[str, list[str]]] = {
    OverviewPage: ("pages/overview.md", ["navigation", "toc"]),
    EstablishmentPage: ("pages/establishment.md", ["toc"]),
    EstablishmentsPage: ("pages/establishments.md", ["toc"]),
    StatementPage: ("pages/statement.md", []),
    IncidentPage: ("pages/incident.md", ["toc"]),
    ListPage: ("pages/list.md", ["toc"]),
    HistoryPage: ("pages/history.md", ["toc"]),
    MonthPage: ("pages/month.md", ["toc"]),
    FollowPage: ("pages/follow.md", []),
    LegalPage: ("pages/legal.md", ["navigation", "toc"]),
}


# What JSON leaves raw that a YAML reader refuses (non-printable characters) or reads as a
# line break inside a quoted string: written as \uXXXX escapes, which YAML reads alike.
_NOT_YAML_RAW = re.compile(r"[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def front_matter(meta: dict[str, Any]) -> str:
    """A page's front matter: its meta as JSON, one line that YAML (MkDocs' reader) reads as
    the same values, at a small fraction of the cost of writing YAML."""
    text = json.dumps(meta, ensure_ascii=False)
    text = _NOT_YAML_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return f"---\n{text}\n---\n"


def source_path(page_path: str) -> str:
    """The markdown source of an output page: `communiques/x.html` -> `communiques/x.md`."""
    return page_path.removesuffix(".html") + ".md"


def relative(from_page: str, to_path: str) -> str:
    """A link from one output page to another output path, relative (works from disk too)."""
    if "://" in to_path or to_path.startswith(("mailto:", "tel:", "#")):
        return to_path
    return _relpath(to_path, posixpath.dirname(from_page) or ".")


@functools.lru_cache(maxsize=1 << 16)  # a page links the same few folders thousands of times
def _relpath(path: str, start: str) -> str:
    return posixpath.relpath(path, start)


def render_page(page: Page, env: jinja2.Environment, bodies: BodyRenderer = PURE_RENDERER) -> bytes:
    """One page's markdown source: front matter for MkDocs, then the rendered template."""
    template_name, hide = _TEMPLATES[type(page)]
    # Material prints page.meta.title and description without escaping: escape them here.
    meta: dict[str, Any] = {
        "title": html.escape(page.title),
        "description": html.escape(page.description),
        "balise_feeds": [
            {"title": html.escape(f.title), "href": f.path, "type": f.media_type}
            for f in page.feeds
        ],
    }
    if hide:
        meta["hide"] = hide
    if isinstance(page, StatementPage) and page.withdrawn is not None:
        # Search engines drop a withdrawn statement (the site's own index leaves it out:
        # render/search.py); its link still works.
        meta["balise_robots"] = "noindex"
    # A statement's body is rendered and sanitized here (text/markdown.py), not by MkDocs:
    # the template inserts it as an HTML block that MkDocs passes through untouched.
    body_markup = None
    if isinstance(page, StatementPage):
        body_markup = Markup(bodies.page_html(page.body))
    elif isinstance(page, EstablishmentPage) and page.latest_body:
        body_markup = Markup(bodies.page_html(page.latest_body))  # the poster prints it whole
    body = env.get_template(template_name).render(
        page=page, rel=lambda target: relative(page.path, target), body_html=body_markup
    )
    return f"{front_matter(meta)}\n{body}".encode()


def render_pages(
    pages: SitePages, env: jinja2.Environment, bodies: BodyRenderer = PURE_RENDERER
) -> dict[str, bytes]:
    """`{source path: markdown bytes}` for every human page."""
    return {source_path(page.path): render_page(page, env, bodies) for page in pages.all()}


def navigation(pages: SitePages) -> list[Any]:
    """The MkDocs nav: the section pages only (overview, establishments' index, press,
    history, follow), never one establishment or statement. Titles are escaped HTML."""
    directory = (
        [] if pages.directory is None else [{"Établissements": source_path(pages.directory.path)}]
    )
    return [
        {"Accueil": source_path(pages.overview.path)},
        *directory,
        {"Espace presse": source_path(pages.press.path)},
        {"Tous les communiqués": source_path(pages.history.path)},
        {"Suivre": source_path(pages.follow.path)},
    ]

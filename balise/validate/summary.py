"""A statement's default summary: the first paragraph of its published body, as plain text.

The one module of validation that renders markdown (and uses the build cache), until the
markdown rendering moves below validation, beside text.first_paragraph; nothing else here.
"""

from __future__ import annotations

from balise.cache import memoized
from balise.render.markdown import page_body_html
from balise.text import first_paragraph

MAX_SUMMARY = 280


@memoized("summary")  # one markdown rendering per body and build; none when unchanged
def summarize(body: str) -> str:
    """The first paragraph of a markdown body as plain text (at most 280 characters), as the
    published body shows it (the same rendering: no second markdown pass)."""
    return first_paragraph(page_body_html(body), MAX_SUMMARY)

"""A statement's default summary: the first paragraph of its published body, as plain text.

Pure: the body's rendering comes from text.markdown (the same one its page shows), the text
from text.plain; no cache here (the build passes `validate_repository` a memoized one).
"""

from __future__ import annotations

from collections.abc import Callable

from balise.text.markdown import page_body_html
from balise.text.plain import first_paragraph

MAX_SUMMARY = 280


def summarize(body: str, page_html: Callable[[str], str] = page_body_html) -> str:
    """The first paragraph of a markdown body as plain text (at most 280 characters), as the
    published body shows it (`page_html`, the same rendering: no second markdown pass)."""
    return first_paragraph(page_html(body), MAX_SUMMARY)

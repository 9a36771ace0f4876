"""The Jinja environments for pages and posts: a repository's `templates/` first, then ours.

Template files are read lazily by Jinja's loaders; nothing else here touches the disk.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from balise.views import tel_href

PACKAGE_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def environment(repository_templates: Path | None, *, html: bool) -> jinja2.Environment:
    """Pages (`html=True`, every value HTML-escaped) or posts (plain text)."""
    loaders: list[jinja2.BaseLoader] = []
    if repository_templates is not None and repository_templates.is_dir():
        loaders.append(jinja2.FileSystemLoader(str(repository_templates)))
    loaders.append(jinja2.FileSystemLoader(str(PACKAGE_TEMPLATES)))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=html,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["tel"] = tel_href  # `{{ phone|tel }}`: the phone number's tel: link
    return env

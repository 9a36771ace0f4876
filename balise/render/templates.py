"""The page templates: the pages' Jinja environment (HTML-escaped), and the check that a
repository's page templates compile and render one page of each kind.

Page specifics only; the environment and the template-error converter are balise.templating's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jinja2

from balise.errors import Problem
from balise.render.pages import render_page
from balise.templating import TEMPLATES_DIR, compile_problems, environment, template_problem
from balise.views import SitePages


def page_environment(root: Path) -> jinja2.Environment:
    """The pages' templates: the repository's `templates/` first, then Balise's own."""
    return environment(root / TEMPLATES_DIR, html=True)


def page_template_problems(root: Path, pages: Callable[[], SitePages]) -> list[Problem]:
    """The repository's page templates: each must compile, and every page must render with
    them, as the build will render it (an error may hit only some pages). Only a repository
    that overrides page templates pays for it."""
    if not (root / TEMPLATES_DIR / "pages").is_dir():
        return []
    env = page_environment(root)
    problems = compile_problems(root, "pages", env)
    if problems:
        return problems
    site = pages()
    every = [site.overview, *site.establishments, *site.statements, *site.incidents]
    found: dict[tuple[str, int], Problem] = {}
    for page in [*every, site.press, site.history, site.follow]:
        try:
            render_page(page, env)
        except Exception as error:  # a template may fail in any way; a bug is let through
            problem = template_problem(root, error)
            if problem is None:
                raise
            found.setdefault((problem.path, problem.line), problem)
    return list(found.values())

"""The pipeline, end to end: sources -> checked repository -> snapshot -> outputs -> site/.

Holds the order of the steps; the steps themselves live in their own modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import jinja2

from balise.errors import Problem
from balise.load import load_repository
from balise.model import Repository
from balise.output import replace_dir, staging, write_tree
from balise.render import merge
from balise.render.api import render_api
from balise.render.pages import navigation, render_pages
from balise.render.templates import environment
from balise.timeline import snapshot
from balise.validate import validate_repository
from balise.views import site_pages

SITE_MARKER = "status.json"  # every Balise build has it; a folder without it is not ours to replace


@dataclass(frozen=True)
class Outcome:
    """What a check or build found: problems (errors and warnings) and, when built, where."""

    problems: tuple[Problem, ...]
    repository: Repository | None = None
    out: Path | None = None
    mkdocs_warnings: tuple[str, ...] = ()

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if not p.warning)

    @property
    def ok(self) -> bool:
        return not self.errors


def check(root: Path) -> Outcome:
    """Load and validate every source; nothing is written."""
    validated = validate_repository(load_repository(root))
    return Outcome(validated.problems, validated.repository)


def _out_problem(root: Path, out: Path) -> Problem | None:
    """Refuse an output folder whose replacement would destroy something that is not a site."""
    out, root = out.resolve(), root.resolve()
    if out == root or out in root.parents:
        return Problem(str(out), 1, "the output folder must not contain the repository")
    if out.exists() and (
        not out.is_dir() or (any(out.iterdir()) and not (out / SITE_MARKER).exists())
    ):
        return Problem(
            str(out), 1, "refusing to replace this folder: it is not a Balise site (no status.json)"
        )
    return None


def build(root: Path, out: Path, now: datetime) -> Outcome:
    """Check, then build the whole site into `out`, replacing it only once complete."""
    checked = check(root)
    if not checked.ok or checked.repository is None:
        return checked
    problem = _out_problem(root, out)
    if problem:
        return Outcome((*checked.problems, problem), checked.repository)
    repository = checked.repository
    snap = snapshot(repository, now)
    pages = site_pages(repository, snap)
    try:
        sources = render_pages(pages, environment(root / "templates", html=True))
    except jinja2.TemplateError as error:
        return Outcome((*checked.problems, _template_problem(root, error)), repository)
    outputs = merge(render_api(repository, snap))

    from balise.render.mkdocs_site import build_site

    with staging(out) as scratch:
        site_dir, warnings = build_site(
            root / "mkdocs.yml", sources, navigation(pages), scratch, now
        )
        write_tree(site_dir, outputs)
        replace_dir(site_dir, out)
    return Outcome(checked.problems, repository, out, tuple(warnings))


def _template_problem(root: Path, error: jinja2.TemplateError) -> Problem:
    name = getattr(error, "name", None) or getattr(error, "filename", None) or "templates"
    line = getattr(error, "lineno", None) or 1
    path = f"templates/{name}" if (root / "templates" / str(name)).exists() else f"(balise)/{name}"
    return Problem(path, line, f"template error: {error.message or error}")

"""Jinja templates, for every output that uses them (pages, posts): the environment, with a
repository's `templates/` before ours, and the one converter of a template error to a Problem.

Neither a renderer nor an announcement: it knows no page and no network. Template files are
read lazily by Jinja's loaders; nothing else here touches the disk.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from balise.errors import Problem
from balise.views import tel_href

PACKAGE_TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATES_DIR = "templates"


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


def _shown(root: Path, filename: str) -> str | None:
    """A template file as the user knows it: `templates/…` in the repository, or Balise's
    own as `(balise)/…`; None for any other file."""
    file = Path(filename).resolve()
    for folder, prefix in ((root / TEMPLATES_DIR, TEMPLATES_DIR), (PACKAGE_TEMPLATES, "(balise)")):
        if file.is_relative_to(folder.resolve()):
            return f"{prefix}/{file.relative_to(folder.resolve()).as_posix()}"
    return None


def _where(root: Path, error: BaseException) -> tuple[str, int] | None:
    """The template file and line where the error happened (the innermost template, for an
    error in an included one), or None when no template is to blame."""
    if isinstance(error, jinja2.TemplateSyntaxError) and error.filename:
        shown = _shown(root, error.filename)
        if shown is not None:
            return shown, error.lineno or 1
    # At render time Jinja puts a frame per template in the traceback, with its file and line.
    found = None
    traceback = error.__traceback__
    while traceback is not None:
        shown = _shown(root, traceback.tb_frame.f_code.co_filename)
        if shown is not None:
            found = (shown, traceback.tb_lineno)
        traceback = traceback.tb_next
    return found


def template_problem(
    root: Path, error: BaseException, what: str = "template error"
) -> Problem | None:
    """The error as a Problem at its template's file and line, or None when it does not come
    from a template (a bug in Balise, to let through)."""
    where = _where(root, error)
    if where is None and not isinstance(error, jinja2.TemplateError):
        return None
    message = error.message if isinstance(error, jinja2.TemplateError) else None
    path, line = where or (TEMPLATES_DIR, 1)
    return Problem(path, line, f"{what}: {message or error}")


def compile_problems(root: Path, folder: str, env: jinja2.Environment) -> list[Problem]:
    """Every template of the repository's `templates/FOLDER/` that does not compile (a syntax
    error, an unknown filter or test): what rendering only some pages could miss."""
    problems: list[Problem] = []
    base = root / TEMPLATES_DIR
    for file in sorted((base / folder).rglob("*")):
        name = file.relative_to(base).as_posix()
        if not file.is_file() or file.name.startswith(".") or file.name.endswith("~"):
            continue
        try:
            env.get_template(name)
        except UnicodeDecodeError:
            problems.append(Problem(f"{TEMPLATES_DIR}/{name}", 1, "template is not UTF-8 text"))
        except jinja2.TemplateError as error:
            problem = template_problem(root, error)
            if problem is not None:
                problems.append(problem)
    return problems

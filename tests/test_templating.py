"""Jinja templates for pages and posts: the repository's before Balise's, and template errors
as Problems at the template's own file and line."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from balise.errors import Problem
from balise.templating import compile_problems, environment, template_problem


def write(root: Path, name: str, text: str) -> None:
    path = root / "templates" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_a_repository_template_replaces_balise_s_own(tmp_path: Path) -> None:
    write(tmp_path, "posts/post.txt", "mine: {{ text }}")
    env = environment(tmp_path / "templates", html=False)
    assert env.get_template("posts/post.txt").render(text="<b>") == "mine: <b>"
    assert (
        environment(None, html=False)
        .get_template("posts/post.txt")
        .filename.endswith("balise/templates/posts/post.txt")
    )


def test_pages_escape_html_and_posts_do_not() -> None:
    page = environment(None, html=True).from_string("{{ text }}")
    post = environment(None, html=False).from_string("{{ text }}")
    assert page.render(text="<b>&") == "&lt;b&gt;&amp;"
    assert post.render(text="<b>&") == "<b>&"


def test_an_undefined_value_is_an_error_and_phones_have_a_tel_filter() -> None:
    env = environment(None, html=False)
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ nope }}").render()
    assert env.from_string("{{ p|tel }}").render(p="+33 (0)2 99 00 00 00") == "tel:+33299000000"


def test_a_syntax_error_is_a_problem_at_the_template_s_line(tmp_path: Path) -> None:
    write(tmp_path, "pages/overview.md", "# Titre\n\n{{ page.title }\n")
    env = environment(tmp_path / "templates", html=True)
    with pytest.raises(jinja2.TemplateSyntaxError) as raised:
        env.get_template("pages/overview.md")
    problem = template_problem(tmp_path, raised.value)
    assert problem is not None
    assert (problem.path, problem.line) == ("templates/pages/overview.md", 3)
    assert problem.message.startswith("template error: unexpected '}'")


def test_a_render_error_is_a_problem_at_the_line_that_failed(tmp_path: Path) -> None:
    write(tmp_path, "posts/post.txt", "{{ text }}\n{{ nope }}\n")
    env = environment(tmp_path / "templates", html=False)
    with pytest.raises(jinja2.UndefinedError) as raised:
        env.get_template("posts/post.txt").render(text="x")
    assert template_problem(tmp_path, raised.value, "post template error") == Problem(
        "templates/posts/post.txt", 2, "post template error: 'nope' is undefined"
    )


def test_an_error_from_no_template_is_not_a_problem(tmp_path: Path) -> None:
    assert template_problem(tmp_path, ZeroDivisionError("a bug")) is None


def test_compile_problems_lists_every_template_that_does_not_compile(tmp_path: Path) -> None:
    write(tmp_path, "pages/a.md", "{% if %}\n")
    write(tmp_path, "pages/b.md", "{{ x|nofilter }}\n")
    write(tmp_path, "pages/fine.md", "{{ x }}\n")
    (tmp_path / "templates/pages/c.md").write_bytes(b"\xff\xfe")
    env = environment(tmp_path / "templates", html=True)
    found = compile_problems(tmp_path, "pages", env)
    assert [(p.path, p.line) for p in found] == [
        ("templates/pages/a.md", 1),
        ("templates/pages/b.md", 1),
        ("templates/pages/c.md", 1),
    ]
    assert found[2].message == "template is not UTF-8 text"

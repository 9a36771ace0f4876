"""Compiled templates kept in the build cache: reused when nothing they depend on changed."""

from __future__ import annotations

import errno
from pathlib import Path

import jinja2
import pytest

from balise.render.compiled_templates import keep_compiled, settings_digest


def an_env(templates: Path, cache: Path, **settings: object) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)), **settings)
    keep_compiled(env, cache, lambda error, where: pytest.fail(f"{where}: {error}"))
    return env


def never_compiles(env: jinja2.Environment, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(env, "compile", lambda *args, **kwargs: pytest.fail("compiled"))


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "page.html").write_text("{% for x in items %}<li>{{ x }}</li>{% endfor %}")
    return folder


def test_a_second_build_reads_what_the_first_compiled(
    templates: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = an_env(templates, tmp_path / "cache").get_template("page.html").render(items=[1, 2])
    second = an_env(templates, tmp_path / "cache")
    never_compiles(second, monkeypatch)
    assert second.get_template("page.html").render(items=[1, 2]) == first == "<li>1</li><li>2</li>"


def test_an_edited_template_is_compiled_again(templates: Path, tmp_path: Path) -> None:
    an_env(templates, tmp_path / "cache").get_template("page.html").render(items=[1])
    (templates / "page.html").write_text("{% for x in items %}[{{ x }}]{% endfor %}")
    assert (
        an_env(templates, tmp_path / "cache").get_template("page.html").render(items=[1]) == "[1]"
    )


def test_other_settings_compile_apart(templates: Path, tmp_path: Path) -> None:
    (templates / "page.html").write_text("{% if x %}\n  yes\n{% endif %}\n")
    plain = an_env(templates, tmp_path / "cache").get_template("page.html").render(x=1)
    trimmed = an_env(templates, tmp_path / "cache", trim_blocks=True, lstrip_blocks=True)
    assert (plain, trimmed.get_template("page.html").render(x=1)) == ("\n  yes\n", "  yes\n")
    escaping = an_env(templates, tmp_path / "cache", autoescape=True)
    (templates / "page.html").write_text("{{ x }}")
    assert escaping.get_template("page.html").render(x="<b>") == "&lt;b&gt;"
    assert an_env(templates, tmp_path / "cache").get_template("page.html").render(x="<b>") == "<b>"
    assert len(list((tmp_path / "cache").iterdir())) == 3


def test_settings_read_by_a_function_are_not_cached(templates: Path, tmp_path: Path) -> None:
    env = an_env(templates, tmp_path / "cache", autoescape=jinja2.select_autoescape())
    assert settings_digest(env) is None and env.bytecode_cache is None
    assert not (tmp_path / "cache").exists()


def test_a_damaged_compiled_template_is_compiled_again(templates: Path, tmp_path: Path) -> None:
    an_env(templates, tmp_path / "cache").get_template("page.html")
    (kept,) = (tmp_path / "cache").glob("*/*")
    for damage in (b"", kept.read_bytes()[:20], b"\x00" * 64):
        kept.write_bytes(damage)
        env = an_env(templates, tmp_path / "cache")
        assert env.get_template("page.html").render(items=[3]) == "<li>3</li>"


def test_a_cache_that_cannot_be_written_only_costs_a_compilation(
    templates: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    cache.write_text("not a folder")  # nothing can be made under it
    failures: list[tuple[int | None, Path]] = []
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)))
    keep_compiled(env, cache, lambda error, where: failures.append((error.errno, where)))
    assert env.get_template("page.html").render(items=[4]) == "<li>4</li>"
    assert failures and failures[0][0] in (errno.ENOTDIR, errno.EEXIST)


def test_a_full_disk_under_the_cache_is_said_and_skipped(
    templates: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: object, **kwargs: object) -> object:
        raise OSError(errno.ENOSPC, "No space left on device")

    failures: list[int | None] = []
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)))
    keep_compiled(env, tmp_path / "cache", lambda error, where: failures.append(error.errno))
    monkeypatch.setattr(jinja2.bccache.tempfile, "NamedTemporaryFile", full)
    assert env.get_template("page.html").render(items=[5]) == "<li>5</li>"
    assert failures == [errno.ENOSPC]

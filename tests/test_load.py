"""Tests for balise.load: raw records with file lines, and loading problems as values."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from conftest import TINY_NOW, tree_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from balise.build import build
from balise.cli import main
from balise.load import (
    MAX_FILE_BYTES,
    PermissiveLoader,
    RawList,
    RawMap,
    RawScalar,
    as_data,
    git_times,
    load_repository,
    parse_git_log,
    split_front_matter,
)

ESTABLISHMENTS = """\
organisation:
  name: Hospi Grand Ouest
establishments:
  - id: la-sagesse
    name: Clinique La Sagesse
    city: Rennes
"""
MKDOCS = "site_name: État des services\nsite_url: https://status.example.org/\n"


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write a repository: establishments.yml, mkdocs.yml and statements/, plus `files`."""
    defaults: dict[str, str | bytes] = {"establishments.yml": ESTABLISHMENTS, "mkdocs.yml": MKDOCS}
    (root / "statements").mkdir(parents=True, exist_ok=True)  # a repository has one
    for name, content in {**defaults, **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def messages(root: Path) -> list[str]:
    return [str(problem) for problem in load_repository(root).problems]


def only_statement(root: Path):
    statements = load_repository(root).statements
    assert len(statements) == 1
    return statements[0]


# --- positions --------------------------------------------------------------------------


def test_front_matter_keys_and_values_carry_file_lines(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "statements/a.md": (
                "---\ntitle: Panne\ndate: 2024-10-05\nstatus:\n  all: down\n---\nBody\n"
            )
        },
    )
    data = only_statement(tmp_path).data
    assert isinstance(data, RawMap)
    lines = {key.text: (key.line, value.line) for key, value in data.entries}
    assert lines == {"title": (2, 2), "date": (3, 3), "status": (4, 5)}
    status = data.get("status")
    assert isinstance(status, RawMap)
    key, value = status.entries[0]
    assert (key.text, key.line, value.text, value.line) == ("all", 5, "down", 5)


def test_body_is_kept_as_written_with_its_first_line(tmp_path: Path) -> None:
    write(tmp_path, {"statements/a.md": "---\ntitle: T\n---\n\n# Titre\n\nTexte *gras*.\n"})
    statement = only_statement(tmp_path)
    assert statement.body == "\n# Titre\n\nTexte *gras*.\n"
    assert statement.body_line == 4


def test_scalars_keep_raw_text_and_yaml_tag(tmp_path: Path) -> None:
    write(tmp_path, {"statements/a.md": "---\na: 10:30\nb: no\nc: '10:30'\nd: 2024-10-05\n---\n"})
    data = only_statement(tmp_path).data
    assert isinstance(data, RawMap)
    scalars = {key.text: (value.text, value.tag.rsplit(":", 1)[1]) for key, value in data.entries}
    assert scalars == {
        "a": ("10:30", "int"),
        "b": ("no", "bool"),
        "c": ("10:30", "str"),
        "d": ("2024-10-05", "timestamp"),
    }


def test_empty_value_sits_on_its_key_line(tmp_path: Path) -> None:
    write(tmp_path, {"statements/a.md": "---\ntitle:\n\n\ndate: x\n---\n"})
    data = only_statement(tmp_path).data
    assert isinstance(data, RawMap)
    value = data.get("title")
    assert isinstance(value, RawScalar)
    assert (value.is_null, value.line) == (True, 2)


def test_crlf_and_bom_do_not_shift_lines(tmp_path: Path) -> None:
    text = "\ufeff---\r\ntitle: T\r\ndate: D\r\n---\r\nBody\r\n"
    write(tmp_path, {"statements/a.md": text.encode("utf-8")})
    statement = only_statement(tmp_path)
    assert as_data(statement.data) == {"title": "T", "date": "D"}
    assert isinstance(statement.data, RawMap)
    assert statement.data.entries[1][0].line == 3
    assert statement.body == "Body\n"


def test_empty_front_matter_is_an_empty_document(tmp_path: Path) -> None:
    write(tmp_path, {"statements/a.md": "---\n---\nBody\n"})
    statement = only_statement(tmp_path)
    assert statement.data is None
    assert load_repository(tmp_path).problems == ()


def test_merge_keys_fill_in_without_overriding(tmp_path: Path) -> None:
    text = "base: &base {name: A, city: B}\nitem:\n  <<: *base\n  name: C\n"
    write(tmp_path, {"establishments.yml": text})
    raw = load_repository(tmp_path)
    assert raw.problems == ()
    assert raw.establishments is not None
    assert as_data(raw.establishments.data)["item"] == {"name": "C", "city": "B"}


def test_lists_are_raw_lists(tmp_path: Path) -> None:
    write(tmp_path, {"statements/a.md": "---\ntitle: [a, b]\n---\n"})
    data = only_statement(tmp_path).data
    assert isinstance(data, RawMap)
    assert isinstance(data.get("title"), RawList)
    assert as_data(data) == {"title": ["a", "b"]}


# --- which files ------------------------------------------------------------------------


def test_statements_are_found_recursively_and_sorted_by_path(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "statements/b.md": "---\n---\n",
            "statements/2024/10/z.md": "---\n---\n",
            "statements/a.md": "---\n---\n",
            "statements/notes.txt": "not a statement",
            "statements/.#a.md": "editor lock file",
            "statements/.hidden/c.md": "---\n---\n",
        },
    )
    paths = [statement.path for statement in load_repository(tmp_path).statements]
    assert paths == ["statements/2024/10/z.md", "statements/a.md", "statements/b.md"]


def test_an_empty_statements_folder_is_fine(tmp_path: Path) -> None:
    write(tmp_path, {})
    raw = load_repository(tmp_path)
    assert (raw.statements, raw.problems) == ((), ())


MISSING_STATEMENTS = (
    "statements:1: the folder of statements is missing (is --repo the right folder? A status "
    "repository keeps one markdown file per statement in the folder statements/; to start "
    "without any, create it with an empty statements/.gitkeep and commit that)"
)


def test_a_missing_statements_folder_is_a_problem(tmp_path: Path) -> None:
    write(tmp_path, {})
    (tmp_path / "statements").rmdir()
    assert messages(tmp_path) == [MISSING_STATEMENTS]


def test_a_statements_file_instead_of_the_folder_is_a_problem(tmp_path: Path) -> None:
    write(tmp_path, {})
    (tmp_path / "statements").rmdir()
    (tmp_path / "statements").write_text("---\ntitle: T\n---\n")
    assert messages(tmp_path) == [
        "statements:1: is a file, not the folder of statements (is --repo the right folder? "
        "A status repository keeps one markdown file per statement in the folder statements/)"
    ]


def test_missing_establishments_and_mkdocs_are_problems(tmp_path: Path) -> None:
    assert messages(tmp_path) == [
        "establishments.yml:1: file not found (a status repository has establishments.yml at "
        "its root; is --repo the right folder?)",
        "mkdocs.yml:1: file not found (a status repository has mkdocs.yml at its root, with "
        "site_name and site_url)",
        MISSING_STATEMENTS,
    ]


def test_symlink_outside_repository_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("---\ntitle: x\n---\n")
    repo = write(tmp_path / "repo", {"statements/a.md": "---\n---\n"})
    (repo / "statements" / "leak.md").symlink_to(outside / "secret.md")
    (repo / "statements" / "folder").symlink_to(outside)
    raw = load_repository(repo)
    assert [s.path for s in raw.statements] == ["statements/a.md"]
    assert [str(p) for p in raw.problems] == [
        "statements/folder:1: is a link to a file outside the repository "
        "(copy the file into the repository instead)",
        "statements/leak.md:1: is a link to a file outside the repository "
        "(copy the file into the repository instead)",
    ]


def test_symlink_inside_repository_is_read_under_its_own_path(tmp_path: Path) -> None:
    repo = write(tmp_path, {"drafts/real.md": "---\ntitle: T\n---\n"})
    (repo / "statements" / "link.md").symlink_to(repo / "drafts" / "real.md")
    statement = only_statement(repo)
    assert statement.path == "statements/link.md"
    assert as_data(statement.data) == {"title": "T"}


def test_symlink_loop_does_not_hang(tmp_path: Path) -> None:
    repo = write(tmp_path, {"statements/a.md": "---\n---\n"})
    (repo / "statements" / "loop").symlink_to(repo / "statements")
    assert [s.path for s in load_repository(repo).statements] == ["statements/a.md"]


# --- loading problems -------------------------------------------------------------------


def test_not_utf8_names_the_line_of_the_bad_byte(tmp_path: Path) -> None:
    write(tmp_path, {"statements/a.md": "---\ntitle: Été\n---\n".encode("latin-1")})
    assert messages(tmp_path) == [
        "statements/a.md:2: file is not UTF-8 text (byte 0xC9 on this line) "
        "(save it as UTF-8 in your editor)"
    ]
    assert load_repository(tmp_path).statements == ()


def test_binary_file_is_refused(tmp_path: Path) -> None:
    write(tmp_path, {"statements/a.md": b"\x89PNG\r\n\x1a\n\x00\x00"})
    assert messages(tmp_path) == [
        "statements/a.md:1: file is binary, not text (it contains NUL bytes)"
    ]


def test_file_over_one_megabyte_is_refused(tmp_path: Path) -> None:
    write(tmp_path, {"statements/a.md": "---\ntitle: T\n---\n" + "x" * MAX_FILE_BYTES})
    assert messages(tmp_path) == [
        "statements/a.md:1: file is larger than 1 MB "
        "(link to large documents instead of copying them in)"
    ]


def test_missing_front_matter_is_reported(tmp_path: Path) -> None:
    write(tmp_path, {"statements/a.md": "title: T\n"})
    assert messages(tmp_path) == [
        'statements/a.md:1: no front matter (a statement starts with a line "---", then '
        '"title:" and "date:", then a line "---")'
    ]


def test_unclosed_front_matter_is_reported(tmp_path: Path) -> None:
    write(tmp_path, {"statements/a.md": "---\ntitle: T\ndate: 2024-10-05\n\nBody\n"})
    assert messages(tmp_path) == [
        'statements/a.md:1: front matter is not closed (add a line "---" after the last key)'
    ]


def test_malformed_yaml_gives_the_yaml_error_line_in_the_file(tmp_path: Path) -> None:
    write(tmp_path, {"statements/a.md": "---\ntitle: T\ndate: 2024-10-05\nsummary: a: b\n---\n"})
    assert messages(tmp_path) == [
        "statements/a.md:4: invalid YAML: mapping values are not allowed here "
        '(a value containing ": " must be put in quotes)'
    ]
    assert load_repository(tmp_path).statements == ()


def test_tab_indentation_gets_a_hint(tmp_path: Path) -> None:
    write(tmp_path, {"statements/a.md": "---\nstatus:\n\tall: down\n---\n"})
    assert messages(tmp_path) == [
        "statements/a.md:3: invalid YAML: found character '\\t' that cannot start any token "
        "(indent with spaces, not tabs)"
    ]


def test_control_character_in_yaml_is_reported_on_its_line(tmp_path: Path) -> None:
    write(tmp_path, {"statements/a.md": "---\ntitle: T\nsummary: a\x07b\n---\n"})
    assert messages(tmp_path) == [
        "statements/a.md:3: invalid YAML: the control character #x07 is not allowed "
        "(remove it or put the text in quotes)"
    ]


CONTROL_HINT = 'delete it: between double quotes, an escape such as "\\e" or "\\x07" writes one'
SURROGATE_HINT = 'write the character itself, or one escape for it such as "\\U0001F600"'


@pytest.mark.parametrize(
    ("escaped", "code"),
    [
        (r"a\e[2J\e]0;pwn\aB", "U+001B"),  # clear the screen, retitle the terminal, ring
        (r"x\x07", "U+0007"),
        (r"fin\r", "U+000D"),
        (r"\x7f", "U+007F"),
        (r"\x9b31m", "U+009B"),  # the C1 form of the escape sequence introducer
        (r"\N", "U+0085"),
        (r"\0", "U+0000"),
        (r"\L", "U+2028"),  # a line separator: a one-line title would not be one
        (r"\P", "U+2029"),
    ],
)
def test_yaml_escapes_cannot_write_control_characters(
    tmp_path: Path, escaped: str, code: str
) -> None:
    write(tmp_path, {"statements/a.md": f'---\ndate: 2024\ntitle: "{escaped}"\n---\n'})
    assert messages(tmp_path) == [
        f'statements/a.md:3: "title" holds an invisible control character ({code}) ({CONTROL_HINT})'
    ]
    assert "\ufffd" in only_statement(tmp_path).data.get("title").text


@pytest.mark.parametrize(
    ("text", "code"), [("Urgences \u202eeetrevuo", "U+202E"), ("a\u2066b", "U+2066")]
)
def test_characters_that_reorder_text_are_refused_raw_or_escaped(
    tmp_path: Path, text: str, code: str
) -> None:
    # A right-to-left override can make "ouverte" read as its opposite on a page or a post.
    escaped = text.encode("unicode_escape").decode()
    for written in (text, escaped):
        write(tmp_path, {"statements/a.md": f'---\ndate: 2024\ntitle: "{written}"\n---\n'})
        assert messages(tmp_path) == [
            f'statements/a.md:3: "title" holds an invisible character that reorders text '
            f"({code}) ({CONTROL_HINT})"
        ]


@pytest.mark.parametrize("escaped", [r"x\ud800y", r"\udfff", r"\ude00\ud83d"])
def test_yaml_escapes_cannot_write_half_a_character(tmp_path: Path, escaped: str) -> None:
    write(tmp_path, {"statements/a.md": f'---\nsocial: "{escaped}"\n---\n'})
    [message] = messages(tmp_path)
    assert message.startswith('statements/a.md:2: "social" holds half a character (U+D')
    assert message.endswith(f", a lone UTF-16 surrogate) ({SURROGATE_HINT})")
    only_statement(tmp_path).data.get("social").text.encode("utf-8")  # no surrogate left


def test_an_escaped_surrogate_pair_is_the_character_it_writes(tmp_path: Path) -> None:
    write(tmp_path, {"statements/a.md": '---\ntitle: "Merci \\ud83d\\ude4f"\n---\n'})
    assert messages(tmp_path) == []
    assert only_statement(tmp_path).data.get("title").text == "Merci 🙏"


def test_escaped_tabs_and_newlines_are_text(tmp_path: Path) -> None:
    write(tmp_path, {"statements/a.md": '---\nsummary: "a\\tb\\nc"\n---\n'})
    assert messages(tmp_path) == []
    assert only_statement(tmp_path).data.get("summary").text == "a\tb\nc"


def test_every_yaml_file_and_key_is_checked_for_escaped_controls(tmp_path: Path) -> None:
    registry = ESTABLISHMENTS.replace("city: Rennes", 'city: "Rennes\\e[8m"')
    write(
        tmp_path,
        {
            "establishments.yml": registry,
            "mkdocs.yml": MKDOCS + 'copyright: "\\x1b]0;pwn\\x07"\n',
            "statements/a.md": '---\n"ti\\x08tle": T\nstatus:\n  - "\\udbff"\n---\n',
        },
    )
    assert messages(tmp_path) == [
        f'establishments.yml:6: "city" holds an invisible control character (U+001B) '
        f"({CONTROL_HINT})",
        f'mkdocs.yml:3: "copyright" holds an invisible control character (U+001B) ({CONTROL_HINT})',
        f"statements/a.md:2: the text holds an invisible control character (U+0008) "
        f"({CONTROL_HINT})",
        'statements/a.md:4: "status" holds half a character (U+DBFF, a lone UTF-16 surrogate) '
        f"({SURROGATE_HINT})",
    ]


def test_malformed_establishments_yml_is_reported(tmp_path: Path) -> None:
    write(tmp_path, {"establishments.yml": "organisation:\n  name: [unclosed\n"})
    raw = load_repository(tmp_path)
    assert raw.establishments is None
    assert [str(p) for p in raw.problems] == [
        "establishments.yml:3: invalid YAML: expected ',' or ']', but got '<stream end>'"
    ]


def test_duplicate_key_is_reported_and_first_kept(tmp_path: Path) -> None:
    write(tmp_path, {"statements/a.md": "---\ntitle: A\ndate: D\ntitle: B\n---\n"})
    assert messages(tmp_path) == [
        'statements/a.md:4: duplicate key "title" (also line 2; keep only one)'
    ]
    assert as_data(only_statement(tmp_path).data) == {"title": "A", "date": "D"}


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    nested = "a: " + "[" * 30 + "]" * 30 + "\n"
    write(tmp_path, {"statements/a.md": "---\n" + nested + "---\n"})
    assert messages(tmp_path) == ["statements/a.md:2: YAML is nested more than 20 levels deep"]


def test_extremely_deep_nesting_does_not_crash(tmp_path: Path) -> None:
    nested = "a: " + "[" * 100_000 + "]" * 100_000 + "\n"
    write(tmp_path, {"statements/a.md": "---\n" + nested + "---\n"})
    assert messages(tmp_path) == ["statements/a.md:2: YAML is nested more than 20 levels deep"]


def test_huge_yaml_document_is_refused(tmp_path: Path) -> None:
    many = "a: [" + "x, " * 10_001 + "]\n"
    write(tmp_path, {"statements/a.md": "---\n" + many + "---\n"})
    assert messages(tmp_path) == ["statements/a.md:2: YAML holds more than 10,000 values"]


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 8):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 10)}]")
    write(tmp_path, {"statements/a.md": "---\n" + "\n".join(lines) + "\n---\n"})
    assert messages(tmp_path) == [
        "statements/a.md:2: YAML aliases expand to more than 10,000 values"
    ]


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    write(tmp_path, {"statements/a.md": "---\na: &x [*x]\n---\n"})
    assert messages(tmp_path) == ["statements/a.md:2: YAML is nested more than 20 levels deep"]


def test_a_bad_file_does_not_hide_the_others(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "statements/a.md": "no front matter\n",
            "statements/b.md": "---\ntitle: B\n---\n",
            "statements/c.md": b"\xff\n",
        },
    )
    raw = load_repository(tmp_path)
    assert [s.path for s in raw.statements] == ["statements/b.md"]
    assert [(p.path, p.line) for p in raw.problems] == [
        ("statements/a.md", 1),
        ("statements/c.md", 1),
    ]


# --- mkdocs.yml -------------------------------------------------------------------------


def test_mkdocs_custom_tags_do_not_fail(tmp_path: Path) -> None:
    text = (
        "site_name: S\nsite_url: https://x.org/\n"
        "markdown_extensions:\n  - pymdownx.emoji:\n"
        "      emoji_index: !!python/name:material.extensions.emoji.twemoji\n"
        "extra:\n  key: !ENV [API_KEY, none]\n"
    )
    write(tmp_path, {"mkdocs.yml": text})
    raw = load_repository(tmp_path)
    assert raw.problems == ()
    assert raw.mkdocs is not None
    assert as_data(raw.mkdocs.data)["site_url"] == "https://x.org/"


def test_permissive_loader_reads_unknown_tags_as_none() -> None:
    loaded = yaml.load("a: !ENV [X]\nb: !!python/name:os.system\nc: 1\n", Loader=PermissiveLoader)
    assert loaded == {"a": None, "b": None, "c": 1}


# --- front matter splitting -------------------------------------------------------------


def test_split_front_matter_reports_lines() -> None:
    assert split_front_matter("---\na: 1\n---\nbody") == ("a: 1", 2, "body", 4)
    assert split_front_matter("----  \na: 1\n-----\n") == ("a: 1", 2, "", 4)
    assert split_front_matter("text") == "no front matter"
    assert split_front_matter("---\na: 1\n") == "front matter is not closed"


# --- git --------------------------------------------------------------------------------


def test_parse_git_log_keeps_the_newest_time_per_path() -> None:
    output = (
        "1700000200\0\nstatements/a.md\0statements/b c.md\0"
        "1700000100\0\nstatements/a.md\0statements/d.md\0"
    )
    assert parse_git_log(output) == {
        "statements/a.md": datetime.fromtimestamp(1700000200, UTC),
        "statements/b c.md": datetime.fromtimestamp(1700000200, UTC),
        "statements/d.md": datetime.fromtimestamp(1700000100, UTC),
    }


def _git(root: Path, *args: str, date: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    subprocess.run(["git", "-C", str(root), *args], check=True, env=env, capture_output=True)


def test_git_times_are_the_last_commit_of_each_statement(tmp_path: Path) -> None:
    repo = write(tmp_path / "outer" / "repo", {"statements/2024/é a.md": "---\n---\n"})
    write(repo, {"statements/b.md": "---\n---\n"})
    _git(tmp_path / "outer", "init", "-q", date="2024-10-05T08:00:00+00:00")
    _git(tmp_path / "outer", "add", ".", date="2024-10-05T08:00:00+00:00")
    _git(tmp_path / "outer", "commit", "-qm", "one", date="2024-10-05T08:00:00+00:00")
    (repo / "statements" / "b.md").write_text("---\ntitle: B\n---\n")
    _git(tmp_path / "outer", "commit", "-qam", "two", date="2024-10-06T09:30:00+02:00")
    assert load_repository(repo).updated == {
        "statements/2024/é a.md": datetime(2024, 10, 5, 8, 0, tzinfo=UTC),
        "statements/b.md": datetime(2024, 10, 6, 7, 30, tzinfo=UTC),
    }


def test_git_times_are_empty_outside_a_git_repository(tmp_path: Path) -> None:
    assert git_times(tmp_path) == {}


def test_git_times_are_empty_when_git_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert git_times(tmp_path) == {}


# --- properties -------------------------------------------------------------------------


@settings(
    max_examples=75, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(front=st.text(max_size=200))
def test_loading_random_front_matter_never_raises(tmp_path: Path, front: str) -> None:
    write(tmp_path, {"statements/a.md": f"---\n{front}\n---\nBody\n"})
    raw = load_repository(tmp_path)
    assert len(raw.statements) + len(raw.problems) >= 1


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.binary(max_size=300))
def test_loading_random_bytes_never_raises(tmp_path: Path, content: bytes) -> None:
    write(tmp_path, {"statements/a.md": content, "establishments.yml": content})
    load_repository(tmp_path)


@pytest.mark.parametrize("kind", ["missing", "a file"])
def test_check_and_build_refuse_a_repository_without_its_statements_folder(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    out = tmp_path / "site"
    assert build(tiny, out, TINY_NOW).ok
    before = tree_bytes(out)
    shutil.rmtree(tiny / "statements")  # a wrong --repo, a clone that lost it
    if kind == "a file":
        (tiny / "statements").write_text("")
    expected = (
        MISSING_STATEMENTS
        if kind == "missing"
        else "statements:1: is a file, not the folder of statements (is --repo the right "
        "folder? A status repository keeps one markdown file per statement in the folder "
        "statements/)"
    )
    for command in (["check"], ["build", "--out", str(out)]):
        with pytest.raises(SystemExit) as exit_info:
            main([*command, "--repo", str(tiny), "--now", TINY_NOW.isoformat()])
        assert exit_info.value.code == 1
        assert capsys.readouterr().err.splitlines()[0] == expected
    assert tree_bytes(out) == before  # not replaced by an empty site

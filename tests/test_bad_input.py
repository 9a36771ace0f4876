"""CONTRACT §7: each kind of bad input is refused with PATH:LINE, exit 1, and no publication."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TINY_NOW, tree_bytes

from balise.build import build
from balise.cli import main

BAD = "statements/2024/bad.md"
GOOD_HEAD = "---\ntitle: Point\ndate: 2024-10-06T09:00:00+02:00\n"

CASES = [
    (
        "malformed yaml",
        "---\ntitle: [Point\ndate: 2024-10-06T09:00:00+02:00\n---\nCorps.\n",
        "statements/2024/bad.md:3: invalid YAML",
    ),
    (
        "missing key",
        "---\ndate: 2024-10-06T09:00:00+02:00\n---\nCorps.\n",
        'statements/2024/bad.md:2: "title" is required',
    ),
    (
        "wrong type",
        "---\ntitle:\n  - une\n  - liste\ndate: 2024-10-06T09:00:00+02:00\n---\n",
        'statements/2024/bad.md:3: "title" must be text, not a list',
    ),
    (
        "unknown key",
        GOOD_HEAD + "sumary: Un résumé\n---\n",
        'statements/2024/bad.md:4: unknown key "sumary" (did you mean "summary"?)',
    ),
    (
        "unknown establishment",
        GOOD_HEAD + "status:\n  alpah: normal\n---\n",
        'statements/2024/bad.md:5: unknown establishment "alpah" (did you mean "alpha"?)',
    ),
    (
        "unknown status",
        GOOD_HEAD + "status:\n  alpha: dégardé\n---\n",
        'statements/2024/bad.md:5: unknown status "dégardé" (did you mean',
    ),
    (
        "duplicate id",
        GOOD_HEAD + "id: 2024-10-07-info\n---\n",
        'statements/2024/bad.md:4: duplicate id "2024-10-07-info"',
    ),
    (
        "impossible date",
        "---\ntitle: Point\ndate: 2024-02-30T09:00:00+01:00\n---\n",
        'statements/2024/bad.md:3: date "2024-02-30T09:00:00+01:00" is not a real date or time',
    ),
    (
        "ambiguous date",
        "---\ntitle: Point\ndate: 2024-10-27 02:30\n---\n",
        'statements/2024/bad.md:3: date "2024-10-27 02:30" is ambiguous in Europe/Paris',
    ),
    (
        "nonexistent date",
        "---\ntitle: Point\ndate: 2024-03-31 02:30\n---\n",
        'statements/2024/bad.md:3: date "2024-03-31 02:30" does not exist in Europe/Paris',
    ),
    (
        "not utf-8",
        "---\ntitle: Clinique \xe9t\xe9\ndate: 2024-10-06T09:00:00+02:00\n---\n".encode("latin-1"),
        "statements/2024/bad.md:2: file is not UTF-8 text",
    ),
    (
        "unclosed front matter",
        "---\ntitle: Point\ndate: 2024-10-06T09:00:00+02:00\nCorps sans fin de front matter.\n",
        "statements/2024/bad.md:1: front matter is not closed",
    ),
]


@pytest.mark.parametrize(("content", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_and_the_previous_site_is_untouched(
    tiny: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
    content: str | bytes,
    message: str,
) -> None:
    out = tmp_path / "site"
    assert build(tiny, out, TINY_NOW).ok
    before = tree_bytes(out)
    target = tiny / BAD
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content, encoding="utf-8")

    with pytest.raises(SystemExit) as exit_info:
        main(["build", "--repo", str(tiny), "--out", str(out), "--now", TINY_NOW.isoformat()])

    assert exit_info.value.code == 1
    stderr = capsys.readouterr().err
    assert message in stderr
    assert "Traceback" not in stderr
    assert "nothing was published" in stderr
    assert tree_bytes(out) == before


def test_every_problem_is_reported_not_just_the_first(
    tiny: Path, capsys: pytest.CaptureFixture
) -> None:
    (tiny / "statements/2024/a.md").write_text("---\ntitle: A\n---\n")
    (tiny / "statements/2024/b.md").write_text(GOOD_HEAD + "status:\n  omega: normal\n---\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--repo", str(tiny)])
    assert exit_info.value.code == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == 'statements/2024/a.md:2: "date" is required'
    assert lines[1].startswith('statements/2024/b.md:5: unknown establishment "omega"')
    assert lines[-1] == "2 problems found: fix them and run check again."


def test_a_control_character_in_the_body_is_refused_at_its_line(
    tiny: Path, capsys: pytest.CaptureFixture
) -> None:
    (tiny / BAD).write_text(GOOD_HEAD + "---\nPremière ligne.\nSaut de page\x0cici.\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--repo", str(tiny)])
    assert exit_info.value.code == 1
    assert capsys.readouterr().err.startswith(
        "statements/2024/bad.md:6: the text holds an invisible control character (U+000C)"
    )


@pytest.mark.parametrize(
    ("front", "message"),
    [
        (
            'social: "x\\ud800y"\n',
            'statements/2024/bad.md:4: "social" holds half a character (U+D800, '
            "a lone UTF-16 surrogate)",
        ),
        (
            'summary: "a\\e[2J\\e]0;pwn\\aB"\n',
            'statements/2024/bad.md:4: "summary" holds an invisible control character (U+001B)',
        ),
    ],
)
@pytest.mark.parametrize("command", ["check", "build", "social"])
def test_yaml_escapes_for_what_raw_text_refuses_are_refused_everywhere(
    tiny: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
    front: str,
    message: str,
    command: str,
) -> None:
    out = tmp_path / "site"
    assert build(tiny, out, TINY_NOW).ok
    before = tree_bytes(out)
    (tiny / BAD).write_text(GOOD_HEAD + front + "---\nCorps.\n", encoding="utf-8")
    options = ["--out", str(out)] if command == "build" else []
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--repo", str(tiny), "--now", TINY_NOW.isoformat(), *options])
    assert exit_info.value.code == 1
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Traceback" not in captured.err
    assert "\x1b" not in captured.out + captured.err
    assert tree_bytes(out) == before


def test_a_configuration_mkdocs_refuses_is_reported_not_swallowed(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "site"
    assert build(tiny, out, TINY_NOW).ok
    before = tree_bytes(out)
    config = tiny / "mkdocs.yml"
    config.write_text(config.read_text() + "markdown_extensions:\n  - no_such_extension\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["build", "--repo", str(tiny), "--out", str(out), "--now", TINY_NOW.isoformat()])
    assert exit_info.value.code == 1
    assert (
        "mkdocs.yml:1: Config value 'markdown_extensions': Failed to load extension "
        "'no_such_extension'." in capsys.readouterr().err
    )
    assert tree_bytes(out) == before

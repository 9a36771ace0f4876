"""The command line as a user runs it: exit codes, messages, help, README coverage."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from balise.cli import _parser, main
from balise.validate import PLACEHOLDER


def run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, str(ROOT / "publish.py"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


def commands() -> list[str]:
    subparsers = next(a for a in _parser()._actions if a.dest == "command")
    return list(subparsers.choices)


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    subparsers = next(a for a in _parser()._actions if a.dest == "command")
    helps = {c.dest: c.help for c in subparsers._choices_actions}
    for command in commands():
        assert helps.get(command), f"{command} has no help text"
        assert f"python publish.py {command}" in readme, f"{command} missing from README"


def test_check_on_a_valid_repository_exits_0(tiny: Path) -> None:
    result = run("check", "--repo", str(tiny))
    assert result.returncode == 0, result.stderr
    assert "OK: 3 establishments, 5 statements." in result.stderr


def test_check_prints_path_line_message_and_exits_1(tiny: Path) -> None:
    (tiny / "statements/2024/bad.md").write_text(
        "---\ntitle: Mauvais\ndate: 2024-10-06T09:00:00+02:00\nstatus:\n  alpah: normal\n---\n"
    )
    result = run("check", "--repo", str(tiny))
    assert result.returncode == 1
    assert re.search(r"^statements/2024/bad\.md:5: .*alpah", result.stderr, re.M)
    assert "Traceback" not in result.stderr


def test_build_with_now_and_python_m_balise(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "balise",
            "build",
            "--repo",
            str(tiny),
            "--out",
            str(out),
            "--now",
            "2024-10-10T12:00:00+02:00",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "status.json").read_text())["generated_at"] == (
        "2024-10-10T12:00:00+02:00"
    )


def test_build_defaults_to_site_in_the_repository(tiny: Path) -> None:
    result = run("build", "--now", "2024-10-10T12:00:00+02:00", cwd=tiny)
    assert result.returncode == 0, result.stderr
    assert (tiny / "site/index.html").is_file()


def test_source_date_epoch_sets_now(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run(
        "build", "--repo", str(tiny), "--out", str(out), env={"SOURCE_DATE_EPOCH": "1728554400"}
    )
    assert result.returncode == 0, result.stderr
    generated = json.loads((out / "status.json").read_text())["generated_at"]
    assert generated == "2024-10-10T12:00:00+02:00"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["build", "--now", "demain"], "--now 'demain' is not an ISO 8601 date"),
        (["build", "--now", "2024-10-10T12:00"], "needs an offset"),
        (["frobnicate"], "invalid choice"),
        (["new"], "the following arguments are required: --title"),
    ],
)
def test_usage_errors_exit_2(tiny: Path, args: list[str], message: str) -> None:
    result = run(*args, "--repo", str(tiny)) if args[0] != "frobnicate" else run(*args)
    assert result.returncode == 2
    assert message in result.stderr


def test_new_writes_a_valid_statement_that_check_accepts(tiny: Path) -> None:
    result = run(
        "new",
        "--repo",
        str(tiny),
        "--title",
        "Reprise à l'Estuaire : consultations",
        "--status",
        "alpha=dégradé",
        "--status",
        "all=normal",
        "--type",
        "press-release",
        "--incident",
        "attaque",
        "--now",
        "2024-10-11T09:15:42+02:00",
    )
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path == tiny / "statements/2024-10/2024-10-11-reprise-a-l-estuaire-consultations.md"
    text = path.read_text()
    assert text.startswith("---\ntitle: 'Reprise à l''Estuaire : consultations'\n")
    assert "date: '2024-10-11T09:15:00+02:00'" in text
    path.write_text(text.replace(PLACEHOLDER, "Les consultations reprennent."))  # written
    assert run("check", "--repo", str(tiny)).returncode == 0


def test_new_refuses_an_unknown_establishment_and_writes_nothing(tiny: Path) -> None:
    result = run(
        "new",
        "--repo",
        str(tiny),
        "--title",
        "X",
        "--status",
        "alpah=normal",
        "--now",
        "2024-10-11T09:15:00+02:00",
    )
    assert result.returncode == 1
    assert "alpah" in result.stderr
    assert not (tiny / "statements/2024-10").exists() or not any(
        (tiny / "statements/2024-10").iterdir()
    )


def test_main_exits_with_the_command_code(tiny: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--repo", str(tiny)])
    assert exit_info.value.code == 0


def test_readme_statement_table_is_the_validation_schema() -> None:
    from balise.validate import STATEMENT_KEYS, keys_table

    assert keys_table(STATEMENT_KEYS) in (ROOT / "README.md").read_text()


def test_a_damaged_ledger_does_not_stop_build_and_check_still_reports_it(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Building the site never depends on what was posted (CONTRACT §8 is `check`'s and
    `post`'s business): the ledger is not even read by `build`."""
    (tiny / ".balise").mkdir()
    (tiny / ".balise/posted.json").write_text("{not json", encoding="utf-8")
    out = tmp_path / "site"
    with pytest.raises(SystemExit) as built:
        main(["build", "--repo", str(tiny), "--out", str(out), "--now", "2024-10-10T12:00+02:00"])
    err = capsys.readouterr().err
    assert built.value.code == 0, err
    assert "posted.json" not in err
    assert (out / "status.json").is_file()
    with pytest.raises(SystemExit) as checked:
        main(["check", "--repo", str(tiny)])
    err = capsys.readouterr().err
    assert checked.value.code == 1
    assert err.startswith(".balise/posted.json:1: the ledger is not valid JSON")
    assert "1 problem found: fix them and run check again." in err

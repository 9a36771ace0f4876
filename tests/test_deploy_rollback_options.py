"""`deploy --rollback` refuses, as a usage error, the options that mean nothing with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from balise.cli import main


def run(capsys: pytest.CaptureFixture[str], repo: Path, *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["deploy", "--repo", str(repo), *args])
    return int(exit_info.value.code), capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--site", "elsewhere"], "--site"),
        (["--force"], "--force"),
        (["--strict"], "--strict"),
        (["--force", "--strict"], "--force, --strict"),
    ],
)
def test_rollback_refuses_options_that_mean_nothing_with_it(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], named: str
) -> None:
    public = tmp_path / "public"
    code, err = run(capsys, tiny, "--rollback", "--to", f"folder:{public}", *options)
    assert code == 2
    assert f"error: --rollback cannot be used with {named} (" in err
    assert "Traceback" not in err
    assert not public.exists()  # refused before any target is opened


def test_rollback_says_why_each_option_is_refused(
    tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, err = run(capsys, tiny, "--rollback", "--site", "x", "--force", "--to", "folder:p")
    assert "--site: it serves a release the target already holds, not a built site" in err
    assert "--force: it publishes no new site, so there is no check to override" in err


def test_rollback_with_dry_run_and_keep_is_not_refused(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    public = tmp_path / "public"
    code, err = run(
        capsys, tiny, "--rollback", "--dry-run", "--keep", "3", "--to", f"folder:{public}"
    )
    assert "cannot be used with" not in err
    assert code == 2 and "nothing to roll back to" in err  # the target holds no release

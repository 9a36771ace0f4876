"""Deploy: targets, the build stamp, what changed, a local folder and a git branch, half-deploys.

Every remote is a local bare repository and every folder is under tmp_path: nothing leaves
the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import DATA, TINY_NOW, tree_bytes

import balise.cli_deploy
import balise.targets
from balise.build import build
from balise.cli import main
from balise.deploy import (
    Changes,
    DeploySettings,
    FolderTarget,
    GitTarget,
    Release,
    StatementRef,
    StatusChange,
    TargetError,
    changes,
    commit_message,
    configured_settings,
    configured_targets,
    describe,
    far_from_clock,
    parse_target,
    refusals,
    release_name,
    restored_commit,
    rollback_message,
    walk_back,
)
from balise.stamp import STAMP_FILE, read_stamp, tree_digest

IDENTITY = ["-c", "user.name=Équipe com", "-c", "user.email=com@example.org"]
NEW_STATEMENT = (
    "---\ntitle: Reprise à Gamma\ndate: 2024-10-10T09:00:00+02:00\nincident: attaque\n"
    "status:\n  gamma: normal\n---\nLe centre Gamma fonctionne normalement.\n"
)


DEPLOYED_AT = TINY_NOW + timedelta(hours=3)  # the clock of every deploy, unless a test says


@pytest.fixture(autouse=True)
def machine(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A machine of our own: HOME with its global git identity (the real machine's config
    does not matter), and a clock three hours after the builds' NOW."""
    home = tmp_path_factory.mktemp("home")
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Poste de garde\n\temail = poste@machine.example\n"
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for variable in ("XDG_CONFIG_HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM"):
        monkeypatch.delenv(variable, raising=False)
    for role in ("AUTHOR", "COMMITTER"):
        for part in ("NAME", "EMAIL", "DATE"):
            monkeypatch.delenv(f"GIT_{role}_{part}", raising=False)
    monkeypatch.setattr(balise.cli_deploy, "wall_clock", lambda: DEPLOYED_AT)
    return home


def git(*args: str, cwd: Path | None = None) -> str:
    result = subprocess.run(
        ["git", *IDENTITY, *args], cwd=cwd, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of tiny, committed in its own git repository, built into repo/site."""
    target = tmp_path / "repo"
    shutil.copytree(DATA / "tiny", target)
    git("init", "--quiet", "--initial-branch=main", cwd=target)
    git("add", "-A", cwd=target)
    git("commit", "--quiet", "-m", "Sources", cwd=target)
    assert build(target, target / "site", TINY_NOW).ok
    return target


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    path = tmp_path / "remote.git"
    git("init", "--quiet", "--bare", str(path))
    return path


def add_statement(repo: Path, name: str = "2024-10-10-gamma.md", *, commit: bool = True) -> None:
    (repo / "statements/2024" / name).write_text(NEW_STATEMENT)
    if commit:
        git("add", "-A", cwd=repo)
        git("commit", "--quiet", "-m", "Reprise", cwd=repo)
    assert build(repo, repo / "site", TINY_NOW + timedelta(hours=1)).ok


def deploy(capsys: pytest.CaptureFixture[str], repo: Path, *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["deploy", "--repo", str(repo), *args])
    return int(exit_info.value.code), capsys.readouterr().err


# --- targets ------------------------------------------------------------------------------


def test_targets_are_folders_or_git_branches(tmp_path: Path) -> None:
    assert parse_target("folder:public", tmp_path) == FolderTarget(tmp_path / "public")
    assert parse_target("folder:/srv/statut", tmp_path) == FolderTarget(Path("/srv/statut"))
    assert parse_target("git:/srv/git/statut.git#main", tmp_path) == GitTarget(
        "/srv/git/statut.git", "main"
    )
    assert parse_target("git:git@github.com:hgo/statut.git", tmp_path) == GitTarget(
        "git@github.com:hgo/statut.git", "gh-pages"
    )
    assert str(GitTarget("https://gitlab.example/hgo/statut.git", "pages")) == (
        "git:https://gitlab.example/hgo/statut.git#pages"
    )


@pytest.mark.parametrize(
    "text", ["ftp:x", "folder:", "git:", "git:#main", "git:--upload-pack=evil#x", "public"]
)
def test_a_target_that_is_not_understood_is_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(
        TargetError, match="is not folder:PATH, git:URL#BRANCH or s3://BUCKET/PREFIX"
    ):
        parse_target(text, tmp_path)


def test_targets_come_from_extra_balise_deploy_in_mkdocs_yml(tmp_path: Path) -> None:
    config = {"extra": {"balise": {"deploy": ["folder:../public", "git:/r.git#pages"]}}}
    assert configured_targets(config, tmp_path) == [
        FolderTarget(tmp_path / "../public"),
        GitTarget("/r.git", "pages"),
    ]
    assert configured_targets({"extra": {"balise": {"deploy": "folder:x"}}}, tmp_path) == [
        FolderTarget(tmp_path / "x")
    ]
    assert configured_targets({"site_name": "x"}, tmp_path) == []
    with pytest.raises(TargetError, match=r"extra\.balise\.deploy must be"):
        configured_targets({"extra": {"balise": {"deploy": {"a": 1}}}}, tmp_path)


# --- the stamp ----------------------------------------------------------------------------


def test_the_stamp_records_a_clean_committed_build(repo: Path) -> None:
    stamp = read_stamp(repo / "site")
    assert stamp is not None
    assert stamp["source"] == {
        "commit": git("rev-parse", "HEAD", cwd=repo),
        "clean": True,
        "changed": 0,
    }
    assert stamp["checked"] is True and stamp["built_at"] == TINY_NOW.isoformat()
    assert stamp["digest"] == tree_digest(repo / "site")


# --- may it go? -----------------------------------------------------------------------------


def test_refusals_say_why_a_site_must_not_go() -> None:
    clean = {"checked": True, "digest": "d", "source": {"commit": "c", "clean": True}}
    assert refusals(clean, "d") == []
    assert refusals(None, "d") == [
        "the site has no build stamp (.balise-build.json): it was not made by "
        "`publish.py build`, so nothing says it was checked; build it first"
    ]
    assert refusals(clean, "other") == ["the site was changed after it was built; build it again"]
    dirty = {**clean, "source": {"commit": "c", "clean": False, "changed": 2}}
    assert refusals(dirty, "d") == [
        "the site was built from uncommitted changes (2 source files): "
        "commit them, build again, then deploy"
    ]
    no_git = {**clean, "source": {"commit": None, "clean": None}}
    assert refusals(no_git, "d") == [
        "the site was built from a folder that is not a git repository: "
        "nothing records which statements it publishes"
    ]


# --- what changed ---------------------------------------------------------------------------


def status(statements: list[tuple[str, str, str]], places: dict[str, str]) -> dict:
    return {
        "statements": [{"id": i, "title": t, "summary": s} for i, t, s in statements],
        "establishments": [{"id": e, "name": e.title(), "status": v} for e, v in places.items()],
    }


def test_changes_name_added_edited_withdrawn_statements_and_status_moves() -> None:
    before = status([("b", "B", "x"), ("a", "A", "x")], {"alpha": "down", "beta": "normal"})
    after = status(
        [("c", "C", "x"), ("b", "B", "corrigé")], {"alpha": "degraded", "beta": "normal"}
    )
    found = changes(before, after)
    assert found == Changes(
        first=False,
        added=(StatementRef("c", "C"),),
        removed=(StatementRef("a", "A"),),
        edited=(StatementRef("b", "B"),),
        statuses=(StatusChange("alpha", "Alpha", "down", "degraded"),),
    )
    assert describe(found) == [
        '  + statement c: "C"',
        '  ~ statement b changed: "B"',
        '  - statement a withdrawn: "A"',
        "  alpha (Alpha): down -> degraded",
    ]
    assert describe(changes(after, after)) == [
        "no change in statements or statuses since the last deploy"
    ]
    assert describe(changes(None, after))[0] == "first deploy to this target: 2 statements"


def test_a_renamed_statement_is_pointed_out_with_the_id_that_keeps_its_permalink() -> None:
    before = status([("2024-10-05-alerte", "Cyberattaque", "x")], {})
    after = status([("2024-10-05-alerte-rennes", "Cyberattaque", "x")], {})
    assert describe(changes(before, after)) == [
        '  + statement 2024-10-05-alerte-rennes: "Cyberattaque"',
        '  - statement 2024-10-05-alerte withdrawn: "Cyberattaque"',
        "    renamed as 2024-10-05-alerte-rennes? Its permalink changed: write"
        " `id: 2024-10-05-alerte` in its front matter to keep the old one (and not post it again)",
    ]


def test_the_commit_message_names_the_newest_statement() -> None:
    after = status([("c", "Reprise à Gamma", "x"), ("b", "B", "x")], {"alpha": "normal"})
    stamp = {"source": {"commit": "abc123"}, "built_at": "2024-10-10T13:00:00+02:00"}
    message = commit_message(after, changes(None, after), stamp)
    assert message.splitlines()[0] == 'Publish c: "Reprise à Gamma"'
    assert "Built from abc123 at 2024-10-10T13:00:00+02:00." in message
    assert commit_message({"statements": []}, changes(None, {}), None).startswith(
        "Publish the status site\n"
    )


def test_release_names_sort_by_build_time_and_differ_by_content() -> None:
    stamp = {"built_at": "2024-10-10T12:00:00+02:00"}
    assert release_name(stamp, "sha256:0123456789abcdef") == "20241010T120000-0123456789ab"
    assert release_name(None, "sha256:ff") == "unstamped-ff"


# --- a local folder ---------------------------------------------------------------------------


def release_folders(releases: Path) -> list[str]:
    """The releases of a folder target, checking that each is marked complete, and only they."""
    names = sorted(p.name for p in releases.iterdir())
    folders = [name for name in names if (releases / name).is_dir()]
    assert names == sorted([*folders, *(f"{name}.complete" for name in folders)])
    return folders


def test_deploy_to_a_folder_switches_a_link_and_keeps_the_previous_release(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    public = tmp_path / "public"
    code, err = deploy(capsys, repo, "--to", f"folder:{public}", "--keep", "2")
    assert code == 0, err
    assert public.is_symlink()
    first = public.resolve()
    assert tree_bytes(public) == tree_bytes(repo / "site")
    assert "first deploy to this target: 3 statements" in err

    add_statement(repo)
    code, err = deploy(capsys, repo, "--to", f"folder:{public}", "--keep", "2")
    assert code == 0, err
    assert '  + statement 2024-10-10-gamma: "Reprise à Gamma"' in err
    assert "  gamma (Centre Gamma): degraded -> normal" in err
    assert err.index("+ statement") < err.index("Deployed:")  # shown before publishing
    assert public.resolve() != first and first.is_dir()  # the previous release is kept
    assert json.loads((public / "status.json").read_text())["statements"][0]["id"] == (
        "2024-10-10-gamma"
    )

    second = public.resolve()
    (repo / "statements/2024/2024-10-10-gamma.md").write_text(NEW_STATEMENT + "Suite.\n")
    git("commit", "--quiet", "-am", "Suite", cwd=repo)
    assert build(repo, repo / "site", TINY_NOW + timedelta(hours=2)).ok
    assert deploy(capsys, repo, "--to", f"folder:{public}", "--keep", "2")[0] == 0
    releases = sorted([second.name, public.resolve().name])  # older ones pruned
    assert release_folders(tmp_path / "public.releases") == releases
    assert not first.exists()
    code, err = deploy(
        capsys, repo, "--to", f"folder:{public}", "--keep", "2"
    )  # the same site again
    assert code == 0 and "no change in statements or statuses" in err
    assert release_folders(tmp_path / "public.releases") == releases


def test_a_failure_in_the_middle_of_a_folder_deploy_leaves_the_previous_site(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    public = tmp_path / "public"
    assert deploy(capsys, repo, "--to", f"folder:{public}", "--keep", "2")[0] == 0
    served = tree_bytes(public)
    link = os.readlink(public)
    add_statement(repo)

    real_link, real_copy, copied = os.link, shutil.copy2, []

    def failing(real):
        def once_ten_are_made(source, destination, *args, **kwargs):
            if len(copied) == 10:  # a file shared with the previous release or copied: both fail
                raise OSError(28, "No space left on device")
            copied.append(source)
            return real(source, destination, *args, **kwargs)

        return once_ten_are_made

    monkeypatch.setattr(balise.targets.os, "link", failing(real_link))
    monkeypatch.setattr(balise.targets.shutil, "copy2", failing(real_copy))
    code, err = deploy(capsys, repo, "--to", f"folder:{public}", "--keep", "2")
    assert code == 3
    assert "No space left on device" in err
    assert f"folder:{public} still serves the site it served before." in err
    assert copied  # it did fail in the middle of the copy
    assert os.readlink(public) == link
    assert tree_bytes(public) == served
    assert release_folders(tmp_path / "public.releases") == [Path(link).name]  # no half copy
    assert not any(p.name.startswith(".public") for p in tmp_path.iterdir())  # lock released


def test_a_failure_at_the_switch_leaves_the_previous_site(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    public = tmp_path / "public"
    assert deploy(capsys, repo, "--to", f"folder:{public}", "--keep", "2")[0] == 0
    served, link = tree_bytes(public), os.readlink(public)
    add_statement(repo)

    def no_rename(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(balise.targets.os, "replace", no_rename)
    code, err = deploy(capsys, repo, "--to", f"folder:{public}", "--keep", "2")
    assert code == 3, err
    assert os.readlink(public) == link and tree_bytes(public) == served
    assert not any(p.name.startswith(".public.link") for p in tmp_path.iterdir())


class Killed(BaseException):
    """The deploy killed at that instant: nothing after it runs."""


def three_releases(repo: Path, public: Path, capsys: pytest.CaptureFixture[str]) -> list[Path]:
    """Deploy two sites, then build a third: the releases so far, oldest first."""
    assert deploy(capsys, repo, "--to", f"folder:{public}", "--keep", "2")[0] == 0
    first = public.resolve()
    add_statement(repo)
    assert deploy(capsys, repo, "--to", f"folder:{public}", "--keep", "2")[0] == 0
    second = public.resolve()
    (repo / "statements/2024/2024-10-10-gamma.md").write_text(NEW_STATEMENT + "Suite.\n")
    git("commit", "--quiet", "-am", "Suite", cwd=repo)
    assert build(repo, repo / "site", TINY_NOW + timedelta(hours=2)).ok
    return [first, second]


def killed_deploy(repo: Path, public: Path) -> None:
    with pytest.raises(Killed):
        main(["deploy", "--repo", str(repo), "--to", f"folder:{public}", "--keep", "2"])


@pytest.mark.parametrize("when", ["before removing a file", "half-way through"])
def test_a_deploy_killed_while_pruning_then_run_again_keeps_the_newest_complete_release(
    repo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    when: str,
) -> None:
    public = tmp_path / "public"
    first, second = three_releases(repo, public, capsys)
    kept = tree_bytes(second)
    real_rmtree = shutil.rmtree

    def killed_removing_the_oldest(path, *args, **kwargs):
        if Path(path).name != first.name:
            return real_rmtree(path, *args, **kwargs)
        if when == "half-way through":
            for page in sorted(Path(path).glob("*.html"))[:3]:
                page.unlink()
        raise Killed

    monkeypatch.setattr(balise.targets.shutil, "rmtree", killed_removing_the_oldest)
    killed_deploy(repo, public)
    monkeypatch.undo()
    third = public.resolve()  # the switch came before the pruning
    assert third not in (first, second) and tree_bytes(public) == tree_bytes(repo / "site")
    capsys.readouterr()

    code, err = deploy(
        capsys, repo, "--to", f"folder:{public}", "--keep", "2"
    )  # run again: the same site
    assert code == 0, err
    assert public.resolve() == third
    assert release_folders(tmp_path / "public.releases") == sorted([second.name, third.name])
    assert tree_bytes(second) == kept  # the newest complete release but the live one


def test_a_release_killed_before_it_is_marked_complete_is_copied_again(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    public = tmp_path / "public"
    first, second = three_releases(repo, public, capsys)

    real_replace = os.replace

    def killed_renaming_the_mark(source, destination, *args, **kwargs):
        if str(destination).endswith(balise.targets.COMPLETE_SUFFIX):
            raise Killed  # the copy is in place, its mark not yet
        return real_replace(source, destination, *args, **kwargs)

    monkeypatch.setattr(balise.targets.os, "replace", killed_renaming_the_mark)
    killed_deploy(repo, public)  # copied, not yet marked complete
    monkeypatch.undo()
    assert public.resolve() == second  # never switched to an unmarked release
    releases = tmp_path / "public.releases"
    (unmarked,) = [
        p for p in releases.iterdir() if p.is_dir() and p.name not in (first.name, second.name)
    ]
    assert not (releases / f"{unmarked.name}.complete").exists()
    unmarked.joinpath("index.html").unlink()  # a kill in the copy could leave it short

    code, err = deploy(capsys, repo, "--to", f"folder:{public}", "--keep", "2")
    assert code == 0, err
    assert tree_bytes(public) == tree_bytes(repo / "site")
    assert release_folders(releases) == sorted([second.name, unmarked.name])
    assert not list(releases.glob(".*"))  # the kill's half-written mark is gone too


def test_releases_deployed_before_the_marks_count_when_their_files_match_their_stamp(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    public = tmp_path / "public"
    first, second = three_releases(repo, public, capsys)
    for mark in (tmp_path / "public.releases").glob("*.complete"):
        mark.unlink()  # as an older Balise left them
    kept = tree_bytes(first)
    second.joinpath("index.html").unlink()  # the newer one lost a file: not complete
    assert deploy(capsys, repo, "--to", f"folder:{public}", "--keep", "2")[0] == 0
    releases = release_folders(tmp_path / "public.releases")
    assert releases == sorted([first.name, public.resolve().name])
    assert tree_bytes(first) == kept


def test_a_real_folder_is_not_replaced(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    public = tmp_path / "public"
    public.mkdir()
    (public / "index.html").write_text("ancien site")
    code, err = deploy(capsys, repo, "--to", f"folder:{public}")
    assert code == 2
    assert f"{public} is a real folder, not a link to a release" in err
    assert (public / "index.html").read_text() == "ancien site"
    public.joinpath("index.html").unlink()  # an empty folder serves nothing: it may go
    assert deploy(capsys, repo, "--to", f"folder:{public}")[0] == 0
    assert public.is_symlink()


# --- a git branch -------------------------------------------------------------------------------


def branch_log(remote: Path, branch: str = "gh-pages") -> list[str]:
    return git("--git-dir", str(remote), "log", "--format=%s", branch).splitlines()


def test_deploy_to_a_git_branch_commits_the_site_naming_the_newest_statement(
    repo: Path, remote: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = deploy(capsys, repo, "--to", f"git:{remote}#gh-pages")
    assert code == 0, err
    assert branch_log(remote) == ['Publish 2024-10-07-info: "Numéro d\'information"']
    files = git("--git-dir", str(remote), "ls-tree", "--name-only", "gh-pages").splitlines()
    assert {".nojekyll", "index.html", "status.json", "_headers", STAMP_FILE} <= set(files)
    published = git("--git-dir", str(remote), "show", "gh-pages:status.json")
    assert published == (repo / "site/status.json").read_text().strip()

    add_statement(repo)
    code, err = deploy(capsys, repo, "--to", f"git:{remote}#gh-pages")
    assert code == 0, err
    assert '  + statement 2024-10-10-gamma: "Reprise à Gamma"' in err
    assert branch_log(remote) == [
        'Publish 2024-10-10-gamma: "Reprise à Gamma"',
        'Publish 2024-10-07-info: "Numéro d\'information"',
    ]
    body = git("--git-dir", str(remote), "log", "-1", "--format=%b", "gh-pages")
    assert (
        "+ statement 2024-10-10-gamma" in body
        and "gamma (Centre Gamma): degraded -> normal" in body
    )

    code, err = deploy(capsys, repo, "--to", f"git:{remote}#gh-pages")
    assert code == 0 and "already up to date" in err
    assert len(branch_log(remote)) == 2


def test_a_refused_push_leaves_the_branch_serving_the_previous_site(
    repo: Path, remote: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deploy(capsys, repo, "--to", f"git:{remote}")[0] == 0
    before = git("--git-dir", str(remote), "rev-parse", "gh-pages")
    hook = remote / "hooks/pre-receive"
    hook.write_text("#!/bin/sh\necho 'quota exceeded' >&2\nexit 1\n")
    hook.chmod(0o755)
    add_statement(repo)
    code, err = deploy(capsys, repo, "--to", f"git:{remote}")
    assert code == 3
    assert "the branch is unchanged" in err
    assert f"git:{remote}#gh-pages still serves the site it served before." in err
    assert git("--git-dir", str(remote), "rev-parse", "gh-pages") == before


def test_an_unreachable_remote_is_a_network_failure(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = deploy(capsys, repo, "--to", f"git:{tmp_path / 'nowhere.git'}")
    assert code == 3
    assert "cannot reach" in err and "does not appear to be a git repository" in err


# --- refusing a doubtful site ---------------------------------------------------------------


def test_a_site_built_from_uncommitted_changes_is_refused_unless_forced(
    repo: Path, remote: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_statement(repo, commit=False)
    code, err = deploy(capsys, repo, "--to", f"git:{remote}")
    assert code == 1
    assert err.splitlines() == [
        "refusing to deploy: the site was built from uncommitted changes (1 source file: "
        "statements/2024/2024-10-10-gamma.md): commit them, build again, then deploy",
        "Nothing was deployed (--force deploys anyway).",
    ]
    assert git("--git-dir", str(remote), "branch", "--list") == ""
    code, err = deploy(capsys, repo, "--to", f"git:{remote}", "--force")
    assert code == 0, err
    assert err.startswith("warning: the site was built from uncommitted changes")


def test_an_unstamped_or_edited_site_is_refused(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    public = tmp_path / "public"
    (repo / "site/index.html").write_text("<p>modifié à la main</p>")
    code, err = deploy(capsys, repo, "--to", f"folder:{public}")
    assert code == 1
    assert "the site was changed after it was built; build it again" in err
    (repo / "site" / STAMP_FILE).unlink()
    code, err = deploy(capsys, repo, "--to", f"folder:{public}")
    assert code == 1 and "the site has no build stamp" in err
    assert not public.exists()


def test_deploy_needs_a_built_site_and_a_target(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = deploy(capsys, repo, "--site", str(tmp_path / "nothing"), "--to", "folder:x")
    assert code == 1 and "is not a built Balise site" in err
    code, err = deploy(capsys, repo)
    assert code == 2 and "no deploy target" in err


def test_dry_run_shows_the_changes_and_publishes_nothing(
    repo: Path, remote: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = deploy(capsys, repo, "--to", f"git:{remote}", "--dry-run")
    assert code == 0 and "Would deploy" in err and "first deploy" in err
    assert git("--git-dir", str(remote), "branch", "--list") == ""


def test_the_target_can_be_set_in_mkdocs_yml_which_mkdocs_still_accepts(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = repo / "mkdocs.yml"
    config.write_text(config.read_text() + "extra:\n  balise:\n    deploy: folder:../public\n")
    git("commit", "--quiet", "-am", "Deploy target", cwd=repo)
    outcome = build(repo, repo / "site", TINY_NOW)
    assert outcome.ok and outcome.mkdocs_warnings == ()
    code, err = deploy(capsys, repo)
    assert code == 0, err
    assert (tmp_path / "public/index.html").is_file()


# --- a site built for another moment ------------------------------------------------------------


def test_far_from_clock_says_how_far_beyond_a_day() -> None:
    stamp = {"built_at": "2024-10-10T12:00:00+02:00"}
    at = datetime(2024, 10, 10, 10, 0, tzinfo=UTC)  # 12:00 in Paris
    assert far_from_clock(stamp, at + timedelta(hours=24)) is None
    assert far_from_clock(stamp, at - timedelta(hours=24)) is None
    assert far_from_clock(stamp, at + timedelta(hours=25)) == (
        "the site shows the statuses at 2024-10-10T12:00:00+02:00 (its NOW), 25 hours before "
        "the clock (2024-10-11T13:00:00+02:00): build it again without --now to publish the "
        "current ones"
    )
    assert "3 days after the clock" in str(far_from_clock(stamp, at - timedelta(days=3)))
    assert "about 20 months before" in str(far_from_clock(stamp, at + timedelta(days=608)))
    assert far_from_clock(None, at) is None and far_from_clock({"built_at": "x"}, at) is None


FAR = (
    "the site shows the statuses at 2024-10-10T12:00:00+02:00 (its NOW), about 20 months "
    "before the clock (2026-06-10T12:00:00+02:00): build it again without --now to publish "
    "the current ones"
)


def test_a_site_built_for_another_moment_warns_and_strict_refuses_it(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(balise.cli_deploy, "wall_clock", lambda: TINY_NOW + timedelta(days=608))
    public = tmp_path / "public"
    code, err = deploy(capsys, repo, "--to", f"folder:{public}", "--strict")
    assert code == 1
    assert err.splitlines() == [
        f"refusing to deploy: {FAR} (--strict)",
        "Nothing was deployed (--force deploys anyway).",
    ]
    assert not public.exists()
    code, err = deploy(capsys, repo, "--to", f"folder:{public}")
    assert code == 0, err
    assert err.splitlines()[0] == f"warning: {FAR}"
    assert err.index("warning:") < err.index("Deploying")
    code, err = deploy(capsys, repo, "--to", f"folder:{public}", "--strict", "--force")
    assert code == 0 and err.startswith(f"warning: {FAR} (--strict)"), err


def test_a_site_built_within_a_day_of_the_clock_goes_without_a_word(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(balise.cli_deploy, "wall_clock", lambda: TINY_NOW + timedelta(hours=23))
    code, err = deploy(capsys, repo, "--to", f"folder:{tmp_path / 'public'}", "--strict")
    assert code == 0 and "warning" not in err, err


# --- whose name the deploy commit carries --------------------------------------------------------


def last_commit_identity(remote: Path) -> str:
    return git("--git-dir", str(remote), "log", "-1", "--format=%an <%ae> / %cn <%ce>", "gh-pages")


def test_the_deploy_commit_carries_the_status_repository_identity(
    repo: Path, remote: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git("config", "user.name", "Cellule de crise HGO", cwd=repo)
    git("config", "user.email", "crise@hgo.example", cwd=repo)
    assert deploy(capsys, repo, "--to", f"git:{remote}")[0] == 0
    assert last_commit_identity(remote) == (
        "Cellule de crise HGO <crise@hgo.example> / Cellule de crise HGO <crise@hgo.example>"
    )


def test_without_one_the_deploy_commit_carries_the_global_identity(
    repo: Path, remote: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deploy(capsys, repo, "--to", f"git:{remote}")[0] == 0
    assert last_commit_identity(remote) == (
        "Poste de garde <poste@machine.example> / Poste de garde <poste@machine.example>"
    )


def test_without_any_identity_the_deploy_commit_is_balise_s(
    repo: Path, remote: Path, capsys: pytest.CaptureFixture[str], machine: Path
) -> None:
    (machine / ".gitconfig").write_text("[user]\n\tuseConfigOnly = true\n")
    assert deploy(capsys, repo, "--to", f"git:{remote}")[0] == 0
    assert last_commit_identity(remote) == "Balise <balise@localhost> / Balise <balise@localhost>"


# --- naming the uncommitted files ------------------------------------------------------------


def test_refusals_name_the_uncommitted_files() -> None:
    dirty = {"checked": True, "digest": "d", "source": {"commit": "c", "clean": False}}
    one = {**dirty, "source": {**dirty["source"], "changed": 1}}
    assert refusals(one, "d", ["statements/a.md"]) == [
        "the site was built from uncommitted changes (1 source file: statements/a.md): "
        "commit them, build again, then deploy"
    ]
    seven = [f"statements/{n}.md" for n in "abcdefg"]
    assert refusals({**dirty, "source": {**dirty["source"], "changed": 7}}, "d", seven) == [
        "the site was built from uncommitted changes (7 source files: statements/a.md, "
        "statements/b.md, statements/c.md, statements/d.md, statements/e.md and 2 more): "
        "commit them, build again, then deploy"
    ]
    assert refusals(one, "d", ["mkdocs.yml", "statements/b.md"]) == [
        "the site was built from uncommitted changes (1 source file; uncommitted now: "
        "mkdocs.yml, statements/b.md): commit them, build again, then deploy"
    ]
    assert refusals(one, "d", []) == [
        "the site was built from uncommitted changes (1 source file, committed since): "
        "build again, then deploy"
    ]


# --- rolling back ------------------------------------------------------------------------------


def test_walk_back_goes_one_deploy_further_back_skipping_rollback_commits() -> None:
    history = [("c3", "Publish 3"), ("c2", "Publish 2"), ("c1", "Publish 1")]
    assert walk_back(history) == ("c3", "c2")
    rolled = [("r1", "Roll back to c2\n\nRestores: c2\n"), *history]
    assert walk_back(rolled) == ("c2", "c1")
    assert walk_back([("r2", "Roll back\n\nRestores: c1\n"), *rolled]) is None
    assert walk_back([("c1", "Publish 1")]) is None and walk_back([]) is None
    assert restored_commit(rollback_message(Release("c2", None, None), changes(None, {}))) == "c2"


def test_keep_and_cname_are_settings_beside_the_targets() -> None:
    assert configured_settings({}) == DeploySettings(5, None)
    config = {"extra": {"balise": {"keep": 3, "cname": "statut.hgo.example"}}}
    assert configured_settings(config) == DeploySettings(3, "statut.hgo.example")
    for wrong in ({"keep": 1}, {"keep": "5"}, {"cname": "not a domain"}):
        with pytest.raises(TargetError, match=r"extra\.balise"):
            configured_settings({"extra": {"balise": wrong}})


def rollback(capsys: pytest.CaptureFixture[str], repo: Path, *args: str) -> tuple[int, str]:
    return deploy(capsys, repo, "--rollback", *args)


def test_a_folder_rolls_back_one_release_then_one_further_back(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    public = tmp_path / "public"
    first, second = three_releases(repo, public, capsys)
    assert deploy(capsys, repo, "--to", f"folder:{public}")[0] == 0
    third = public.resolve()
    sources = tree_bytes(repo)

    code, err = rollback(capsys, repo, "--to", f"folder:{public}", "--dry-run")
    assert code == 0 and public.resolve() == third
    assert f"Would roll back folder:{public} to release {second.name}" in err

    code, err = rollback(capsys, repo, "--to", f"folder:{public}")
    assert code == 0, err
    assert public.resolve() == second and tree_bytes(public) == tree_bytes(second)
    assert (
        f'now serves release {second.name}: newest statement 2024-10-10-gamma "Reprise à Gamma", '
        f"built at {(TINY_NOW + timedelta(hours=1)).isoformat()}"
    ) in err
    assert "  ~ statement 2024-10-10-gamma changed" in err
    assert "fix or withdraw the statement, commit, build, then deploy" in err

    code, err = rollback(capsys, repo, "--to", f"folder:{public}")  # one further back
    assert code == 0, err
    assert public.resolve() == first
    assert f"now serves release {first.name}" in err
    assert "  - statement 2024-10-10-gamma withdrawn" in err

    code, err = rollback(capsys, repo, "--to", f"folder:{public}")
    assert code == 2 and "nothing to roll back to" in err
    assert public.resolve() == first
    assert tree_bytes(repo) == sources  # rolling back never touches the sources

    assert deploy(capsys, repo, "--to", f"folder:{public}")[0] == 0  # the fixed site again
    assert public.resolve() == third
    assert release_folders(tmp_path / "public.releases") == sorted(
        [first.name, second.name, third.name]
    )  # all three kept (5 by default)


def test_pruning_keeps_the_releases_a_rollback_walks_back_to(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    public = tmp_path / "public"
    first, second = three_releases(repo, public, capsys)
    assert deploy(capsys, repo, "--to", f"folder:{public}", "--keep", "3")[0] == 0
    third = public.resolve()
    (repo / "statements/2024/2024-10-10-gamma.md").write_text(NEW_STATEMENT + "Fin.\n")
    git("commit", "--quiet", "-am", "Fin", cwd=repo)
    assert build(repo, repo / "site", TINY_NOW + timedelta(hours=4)).ok
    assert deploy(capsys, repo, "--to", f"folder:{public}", "--keep", "3")[0] == 0
    assert not first.exists()  # the three newest are kept
    assert rollback(capsys, repo, "--to", f"folder:{public}")[0] == 0
    assert public.resolve() == third
    assert rollback(capsys, repo, "--to", f"folder:{public}")[0] == 0
    assert public.resolve() == second
    code, err = deploy(capsys, repo, "--to", f"folder:{public}", "--keep", "1")
    assert code == 2 and "--keep must be 2 or more" in err


def test_a_rollback_killed_mid_way_leaves_one_complete_release_served(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    public = tmp_path / "public"
    first, second = three_releases(repo, public, capsys)
    served_before = tree_bytes(public)
    real_replace = os.replace

    def killed_at_the_switch(source, destination, *args, **kwargs):
        if Path(destination) == public:
            raise Killed  # the new link is made, not yet renamed over the old one
        return real_replace(source, destination, *args, **kwargs)

    monkeypatch.setattr(balise.targets.os, "replace", killed_at_the_switch)
    with pytest.raises(Killed):
        main(["deploy", "--repo", str(repo), "--rollback", "--to", f"folder:{public}"])
    monkeypatch.undo()
    assert public.resolve() == second and tree_bytes(public) == served_before
    capsys.readouterr()

    code, err = rollback(capsys, repo, "--to", f"folder:{public}")  # run again
    assert code == 0, err
    assert public.resolve() == first and tree_bytes(public) == tree_bytes(first)
    assert not any(p.name.startswith(".public.link") for p in tmp_path.iterdir())


def test_a_git_branch_rolls_back_with_a_new_commit_of_the_previous_tree(
    repo: Path, remote: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    to = f"git:{remote}#gh-pages"
    assert deploy(capsys, repo, "--to", to)[0] == 0
    add_statement(repo)
    assert deploy(capsys, repo, "--to", to)[0] == 0
    (repo / "statements/2024/2024-10-10-gamma.md").write_text(NEW_STATEMENT + "Suite.\n")
    git("commit", "--quiet", "-am", "Suite", cwd=repo)
    assert build(repo, repo / "site", TINY_NOW + timedelta(hours=2)).ok
    assert deploy(capsys, repo, "--to", to)[0] == 0
    deployed = git("--git-dir", str(remote), "rev-list", "gh-pages").splitlines()
    tree = {c: git("--git-dir", str(remote), "rev-parse", f"{c}^{{tree}}") for c in deployed}

    code, err = rollback(capsys, repo, "--to", to)
    assert code == 0, err
    assert f"now serves release {deployed[1]}: newest statement 2024-10-10-gamma" in err
    head = git("--git-dir", str(remote), "rev-parse", "gh-pages")
    assert git("--git-dir", str(remote), "rev-parse", "gh-pages^") == deployed[0]  # on top
    assert git("--git-dir", str(remote), "rev-parse", "gh-pages^{tree}") == tree[deployed[1]]
    message = git("--git-dir", str(remote), "log", "-1", "--format=%B", "gh-pages")
    assert message.startswith(f'Roll back to {deployed[1][:12]}: "Reprise à Gamma"')
    assert f"Restores: {deployed[1]}" in message

    code, err = rollback(capsys, repo, "--to", to)  # one further back
    assert code == 0, err
    assert git("--git-dir", str(remote), "rev-parse", "gh-pages^{tree}") == tree[deployed[2]]
    assert git("--git-dir", str(remote), "rev-parse", "gh-pages^") == head
    assert len(branch_log(remote)) == 5  # history is never rewritten

    code, err = rollback(capsys, repo, "--to", to)
    assert code == 2 and "nothing to roll back to" in err
    assert len(branch_log(remote)) == 5


def test_a_git_rollback_whose_push_fails_leaves_the_branch(
    repo: Path, remote: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deploy(capsys, repo, "--to", f"git:{remote}")[0] == 0
    add_statement(repo)
    assert deploy(capsys, repo, "--to", f"git:{remote}")[0] == 0
    before = git("--git-dir", str(remote), "rev-parse", "gh-pages")
    hook = remote / "hooks/pre-receive"
    hook.write_text("#!/bin/sh\nexit 1\n")
    hook.chmod(0o755)
    code, err = rollback(capsys, repo, "--to", f"git:{remote}")
    assert code == 3 and "still serves the site it served before" in err
    assert git("--git-dir", str(remote), "rev-parse", "gh-pages") == before


# --- a custom domain on git pages --------------------------------------------------------------


def set_branch_cname(remote: Path, tmp_path: Path, domain: str) -> None:
    """Someone sets the custom domain in GitHub's settings: a commit adding CNAME."""
    clone = tmp_path / "clone"
    git("clone", "--quiet", "--branch", "gh-pages", str(remote), str(clone))
    (clone / "CNAME").write_text(domain + "\n")
    git("add", "CNAME", cwd=clone)
    git("commit", "--quiet", "-m", "Create CNAME", cwd=clone)
    git("push", "--quiet", "origin", "gh-pages", cwd=clone)


def branch_file(remote: Path, name: str) -> str:
    return git("--git-dir", str(remote), "show", f"gh-pages:{name}")


def test_a_git_deploy_keeps_the_branch_s_cname(
    repo: Path, remote: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deploy(capsys, repo, "--to", f"git:{remote}")[0] == 0
    set_branch_cname(remote, tmp_path, "statut.hgo.example")
    add_statement(repo)
    assert deploy(capsys, repo, "--to", f"git:{remote}")[0] == 0
    assert branch_file(remote, "CNAME") == "statut.hgo.example"
    assert branch_log(remote)[0] == 'Publish 2024-10-10-gamma: "Reprise à Gamma"'
    code, err = rollback(capsys, repo, "--to", f"git:{remote}")
    assert code == 0, err
    assert branch_file(remote, "CNAME") == "statut.hgo.example"  # kept by a rollback too


def test_a_git_deploy_writes_the_configured_cname(
    repo: Path, remote: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deploy(capsys, repo, "--to", f"git:{remote}")[0] == 0
    set_branch_cname(remote, tmp_path, "ancien.hgo.example")
    mkdocs = repo / "mkdocs.yml"
    mkdocs.write_text(mkdocs.read_text() + "\nextra:\n  balise:\n    cname: statut.hgo.example\n")
    assert deploy(capsys, repo, "--to", f"git:{remote}", "--force")[0] == 0
    assert branch_file(remote, "CNAME") == "statut.hgo.example"


def test_a_git_deploy_without_any_cname_adds_none(
    repo: Path, remote: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deploy(capsys, repo, "--to", f"git:{remote}")[0] == 0
    files = git("--git-dir", str(remote), "ls-tree", "--name-only", "gh-pages").splitlines()
    assert "CNAME" not in files

"""The build stamp: its bytes and how it reads back (values), the tree digest, and what git
says of the sources (a small git repository in tmp_path, on a machine of its own)."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from balise.stamp import STAMP_FILE, SourceState, read_stamp, source_state, stamp, tree_digest

NOW = datetime.fromisoformat("2024-10-10T12:00:00+02:00")
STATEMENT = "---\ntitle: Point\ndate: 2024-10-10T09:00:00+02:00\n---\nTexte.\n"


@pytest.fixture(autouse=True)
def machine(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A HOME of our own, so that the real machine's git configuration does not matter."""
    home = tmp_path_factory.mktemp("home")
    (home / ".gitconfig").write_text("[user]\n\tname = Poste\n\temail = poste@machine.example\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for variable in ("XDG_CONFIG_HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_DIR"):
        monkeypatch.delenv(variable, raising=False)
    return home


def git(*args: str, cwd: Path) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


SOURCES = {
    "establishments.yml": "organisation:\n  name: Groupe\n",
    "mkdocs.yml": "site_name: Statut\n",
    "statements/2024/2024-10-07-info.md": STATEMENT,
    "templates/post.txt.j2": "{{ title }}\n",
    "README.md": "Le dépôt du site de statut.\n",
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A status repository with its sources committed."""
    root = tmp_path / "repo"
    write(root, SOURCES)
    git("init", "--quiet", "--initial-branch=main", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "--quiet", "-m", "Sources", cwd=root)
    return root


# --- the stamp's bytes --------------------------------------------------------------------


def test_the_stamp_is_indented_json_of_the_build_and_its_sources() -> None:
    state = SourceState("abc123", False, 1, ("statements/2024/brouillon-réunion.md",))
    data = stamp(state, NOW, "sha256:00ff", strict=True, warnings=2)
    assert data.decode() == (
        "{\n"
        '  "built_at": "2024-10-10T12:00:00+02:00",\n'
        '  "checked": true,\n'
        '  "strict": true,\n'
        '  "warnings": 2,\n'
        '  "source": {\n'
        '    "commit": "abc123",\n'
        '    "clean": false,\n'
        '    "changed": 1\n'
        "  },\n"
        '  "digest": "sha256:00ff"\n'
        "}\n"
    )


def test_the_stamp_never_names_the_changed_files() -> None:
    # It is published with the site: a draft's file name can say too much.
    state = SourceState("abc123", False, 1, ("statements/licenciements.md",))
    assert b"licenciements" not in stamp(state, NOW, "sha256:0", strict=False, warnings=0)


def test_a_stamp_outside_git_says_it_cannot_tell() -> None:
    data = json.loads(stamp(SourceState(None, None), NOW, "sha256:0", strict=False, warnings=0))
    assert data["source"] == {"commit": None, "clean": None, "changed": 0}
    assert data["strict"] is False and data["warnings"] == 0


def test_a_stamp_reads_back_as_it_was_written(tmp_path: Path) -> None:
    state = SourceState("abc123", True)
    (tmp_path / STAMP_FILE).write_bytes(stamp(state, NOW, "sha256:1", strict=False, warnings=0))
    assert read_stamp(tmp_path) == {
        "built_at": "2024-10-10T12:00:00+02:00",
        "checked": True,
        "strict": False,
        "warnings": 0,
        "source": {"commit": "abc123", "clean": True, "changed": 0},
        "digest": "sha256:1",
    }


@pytest.mark.parametrize(
    "content", [None, b"", b"{not json", b"[1, 2]", b'"stamp"', b"\xff\xfe{}", b"null"]
)
def test_a_missing_or_unreadable_stamp_is_none(tmp_path: Path, content: bytes | None) -> None:
    if content is not None:
        (tmp_path / STAMP_FILE).write_bytes(content)
    assert read_stamp(tmp_path) is None


def test_a_stamp_that_is_a_folder_is_none(tmp_path: Path) -> None:
    (tmp_path / STAMP_FILE).mkdir()
    assert read_stamp(tmp_path) is None


# --- the digest of a built site -------------------------------------------------------------


def site(root: Path, files: dict[str, str]) -> Path:
    write(root, files)
    return root


PAGES = {"index.html": "<p>Accueil</p>", "feeds/all.atom": "<feed/>", "a/b/c.html": "c"}


def test_the_same_files_give_the_same_digest_wherever_they_are(tmp_path: Path) -> None:
    digest = tree_digest(site(tmp_path / "one", PAGES))
    assert digest == tree_digest(site(tmp_path / "two", PAGES))
    assert digest.startswith("sha256:") and len(digest) == len("sha256:") + 64


@pytest.mark.parametrize(
    "edit",
    [
        {"index.html": "<p>Accueil.</p>"},  # a byte of a page
        {"robots.txt": ""},  # one more file, even empty
    ],
)
def test_any_edit_changes_the_digest(tmp_path: Path, edit: dict[str, str]) -> None:
    assert tree_digest(site(tmp_path / "a", PAGES)) != tree_digest(
        site(tmp_path / "b", PAGES | edit)
    )


def test_a_renamed_or_removed_file_changes_the_digest(tmp_path: Path) -> None:
    digest = tree_digest(site(tmp_path / "site", PAGES))
    (tmp_path / "site/a/b/c.html").rename(tmp_path / "site/a/c.html")
    renamed = tree_digest(tmp_path / "site")
    (tmp_path / "site/a/c.html").unlink()
    assert len({digest, renamed, tree_digest(tmp_path / "site")}) == 3


def test_the_stamp_itself_is_not_in_the_digest(tmp_path: Path) -> None:
    digest = tree_digest(site(tmp_path / "site", PAGES))
    (tmp_path / "site" / STAMP_FILE).write_text("{}")
    assert tree_digest(tmp_path / "site") == digest
    (tmp_path / "site/a" / STAMP_FILE).write_text("{}")  # only the site's own stamp
    assert tree_digest(tmp_path / "site") != digest


def test_a_link_to_a_file_counts_by_the_bytes_it_serves(tmp_path: Path) -> None:
    behind = tmp_path / "behind.html"
    behind.write_text("<p>Accueil</p>")
    linked = site(tmp_path / "linked", {k: v for k, v in PAGES.items() if k != "index.html"})
    (linked / "index.html").symlink_to(behind)
    assert tree_digest(linked) == tree_digest(site(tmp_path / "copied", PAGES))
    behind.write_text("<p>Autre chose</p>")
    assert tree_digest(linked) != tree_digest(tmp_path / "copied")


def test_a_link_to_nothing_counts_by_where_it_points(tmp_path: Path) -> None:
    digests = []
    for target in ("absent.html", "ailleurs.html"):
        root = site(tmp_path / target, PAGES)
        (root / "latest.html").symlink_to(tmp_path / target / "nowhere" / target)
        digests.append(tree_digest(root))
    assert len({*digests, tree_digest(site(tmp_path / "plain", PAGES))}) == 3


# --- what git says of the sources -----------------------------------------------------------


def test_a_clean_committed_repository_names_its_commit(repo: Path) -> None:
    assert source_state(repo) == SourceState(git("rev-parse", "HEAD", cwd=repo), True, 0, ())


def test_a_folder_outside_git_cannot_say_what_it_publishes(tmp_path: Path) -> None:
    write(tmp_path / "repo", SOURCES)
    assert source_state(tmp_path / "repo") == SourceState(None, None)


def test_a_repository_with_nothing_committed_is_not_clean(tmp_path: Path) -> None:
    write(tmp_path / "repo", SOURCES)
    git("init", "--quiet", cwd=tmp_path / "repo")
    assert source_state(tmp_path / "repo") == SourceState(None, False)


def test_without_git_nothing_can_be_told(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))  # no git to run
    assert source_state(repo) == SourceState(None, None)


def test_uncommitted_or_untracked_sources_make_the_tree_dirty(repo: Path) -> None:
    (repo / "README.md").write_text("not a source")  # outside the sources: still clean
    assert source_state(repo).clean is True
    (repo / "statements/2024/2024-10-07-info.md").write_text(STATEMENT + "Suite.\n")
    (repo / "statements/2024/nouveau.md").write_text(STATEMENT)
    state = source_state(repo)
    assert (state.clean, state.changed) == (False, 2)


def test_files_outside_the_sources_leave_the_repository_clean(repo: Path) -> None:
    write(repo, {"README.md": "Modifié.\n", "notes.txt": "à faire\n", "site/index.html": "x"})
    assert source_state(repo).clean is True


def test_ignored_files_leave_the_repository_clean(repo: Path) -> None:
    write(repo, {".gitignore": "*.swp\n"})
    git("add", ".gitignore", cwd=repo)
    git("commit", "--quiet", "-m", "Ignore", cwd=repo)
    write(repo, {"statements/2024/.2024-10-07-info.md.swp": "x"})
    assert source_state(repo).clean is True


def test_every_kind_of_change_to_a_source_is_named_from_the_repository(repo: Path) -> None:
    head = git("rev-parse", "HEAD", cwd=repo)
    write(repo, {"mkdocs.yml": "site_name: Statut 2\n"})  # modified
    write(repo, {"statements/2024/point de 10 h.md": STATEMENT})  # untracked, with spaces
    write(repo, {"templates/réunion.txt.j2": "x"})  # staged, not ASCII
    git("add", "templates", cwd=repo)
    (repo / "establishments.yml").unlink()  # deleted
    git("mv", "statements/2024/2024-10-07-info.md", "statements/2024/info.md", cwd=repo)
    state = source_state(repo)
    assert (state.commit, state.clean, state.changed) == (head, False, 5)
    assert sorted(state.files) == [
        "establishments.yml",
        "mkdocs.yml",
        "statements/2024/info.md",  # a rename is one change, named by its new path
        "statements/2024/point de 10 h.md",
        "templates/réunion.txt.j2",
    ]


def test_source_state_names_the_files_from_the_repository_even_inside_another(
    tmp_path: Path,
) -> None:
    outer = tmp_path / "outer"
    write(outer / "statut", SOURCES)
    git("init", "--quiet", str(outer), cwd=tmp_path)
    git("add", "-A", cwd=outer)
    git("commit", "--quiet", "-m", "Sources", cwd=outer)
    repo = outer / "statut"
    (repo / "statements/2024/point de 10 h.md").write_text(STATEMENT)
    (repo / "mkdocs.yml").write_text((repo / "mkdocs.yml").read_text() + "\n")
    git("mv", "statements/2024/2024-10-07-info.md", "statements/2024/info.md", cwd=repo)
    (repo / "notes.txt").write_text("not a source")
    state = source_state(repo)
    assert (state.clean, state.changed) == (False, 3)
    assert sorted(state.files) == [
        "mkdocs.yml",
        "statements/2024/info.md",
        "statements/2024/point de 10 h.md",
    ]


def test_the_enclosing_repository_s_own_changes_are_not_ours(tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    write(outer / "statut", SOURCES)
    write(outer, {"other/establishments.yml": "not ours\n"})
    git("init", "--quiet", cwd=outer)
    git("add", "-A", cwd=outer)
    git("commit", "--quiet", "-m", "Sources", cwd=outer)
    write(outer, {"other/establishments.yml": "changed, but not ours\n"})
    write(outer / "statut", {"statements/nouveau.md": STATEMENT})
    state = source_state(outer / "statut")
    assert (state.clean, state.changed, state.files) == (False, 1, ("statements/nouveau.md",))


def test_a_source_changed_then_committed_is_clean_again(repo: Path) -> None:
    write(repo, {"statements/2024/nouveau.md": STATEMENT})
    assert source_state(repo).clean is False
    git("add", "-A", cwd=repo)
    git("commit", "--quiet", "-m", "Nouveau", cwd=repo)
    state = source_state(repo)
    assert state == SourceState(git("rev-parse", "HEAD", cwd=repo), True)

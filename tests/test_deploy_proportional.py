"""Deploys proportional to the change: a folder release shares the unchanged files of the live
one by hard link, a git deploy writes only the blobs that changed, and the digests recorded
beside a site spare reading it again, without ever vouching for an edited file.

The repositories, remotes and helpers are test_deploy's; everything stays under tmp_path.
"""

# ruff: noqa: F811  (test_deploy's fixtures, imported for pytest, are the tests' parameters)
from __future__ import annotations

import errno
import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import TINY_NOW, tree_bytes
from test_deploy import (  # noqa: F401  (the fixtures: pytest finds them by name)
    NEW_STATEMENT,
    add_statement,
    deploy,
    git,
    machine,
    remote,
    repo,
)

import balise.targets
from balise.build import build
from balise.stamp import (
    STAMP_FILE,
    FileDigest,
    combined_digest,
    record_digests,
    record_path,
    recorded_digests,
    site_digest,
    site_digests,
    tree_digest,
)


def inodes(root: Path) -> dict[str, os.stat_result]:
    return {
        p.relative_to(root).as_posix(): p.stat() for p in sorted(root.rglob("*")) if p.is_file()
    }


def two_releases(
    repo: Path, public: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, Path, dict[str, bytes]]:
    """Deploy tiny, then tiny with one more statement: both releases and the first's bytes."""
    assert deploy(capsys, repo, "--to", f"folder:{public}")[0] == 0
    first = public.resolve()
    before = tree_bytes(first)
    add_statement(repo)
    code, err = deploy(capsys, repo, "--to", f"folder:{public}")
    assert code == 0, err
    return first, public.resolve(), before


# --- a folder shares what did not change -------------------------------------------------


def test_a_folder_release_hard_links_the_files_that_did_not_change(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second, before = two_releases(repo, tmp_path / "public", capsys)
    old, new = inodes(first), inodes(second)
    after = tree_bytes(second)
    assert after == tree_bytes(repo / "site")  # the release is the new site, byte for byte
    unchanged = [name for name in after if before.get(name) == after[name]]
    changed = [name for name in after if before.get(name) != after[name]]
    assert len(unchanged) > 10 and "status.json" in changed and "index.html" in changed
    for name in unchanged:
        assert new[name].st_ino == old[name].st_ino and new[name].st_nlink >= 2, name
    for name in changed:
        assert name not in old or new[name].st_ino != old[name].st_ino, name
    assert tree_bytes(first) == before  # the previous release is untouched


def test_a_release_never_shares_a_file_with_the_site_it_was_made_from(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second, _ = two_releases(repo, tmp_path / "public", capsys)
    site = {(s.st_dev, s.st_ino) for s in inodes(repo / "site").values()}
    for release in (first, second):
        assert not site & {(s.st_dev, s.st_ino) for s in inodes(release).values()}
    # A build writing into the site afterwards (even in place) reaches no release.
    served = tree_bytes(second)
    with (repo / "site/status.json").open("r+b") as opened:
        opened.write(b"{}")
    assert tree_bytes(second) == served


def test_a_file_edited_by_hand_in_the_live_release_is_not_shared_with_the_next(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    public = tmp_path / "public"
    assert deploy(capsys, repo, "--to", f"folder:{public}")[0] == 0
    first = public.resolve()
    page = first / "etablissements/alpha.html"
    edited = page.read_bytes().replace(b"</body>", b"<p>ajout</p></body>")
    page.write_bytes(edited)  # in place: its inode and its digest in the mark stay
    add_statement(repo)
    assert deploy(capsys, repo, "--to", f"folder:{public}")[0] == 0
    assert tree_bytes(public) == tree_bytes(repo / "site")
    assert (public / "etablissements/alpha.html").stat().st_ino != page.stat().st_ino
    assert page.read_bytes() == edited


def test_across_filesystems_every_file_is_copied(
    repo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    public = tmp_path / "public"
    assert deploy(capsys, repo, "--to", f"folder:{public}")[0] == 0
    first = public.resolve()
    add_statement(repo)
    tried = []

    def no_links(source, destination, **kwargs):
        tried.append(source)
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(balise.targets.os, "link", no_links)
    code, err = deploy(capsys, repo, "--to", f"folder:{public}")
    assert code == 0, err
    assert tried and tree_bytes(public) == tree_bytes(repo / "site")
    old, new = inodes(first), inodes(public.resolve())
    assert all(new[name].st_ino != old[name].st_ino for name in new if name in old)


def test_a_live_release_marked_by_an_older_balise_is_compared_byte_for_byte(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    public = tmp_path / "public"
    assert deploy(capsys, repo, "--to", f"folder:{public}")[0] == 0
    first = public.resolve()
    mark = first.with_name(first.name + balise.targets.COMPLETE_SUFFIX)
    mark.write_text("1\n", encoding="ascii")  # its order only, no digests
    add_statement(repo)
    assert deploy(capsys, repo, "--to", f"folder:{public}")[0] == 0
    old, new = inodes(first), inodes(public.resolve())
    shared = [name for name in new if name in old and new[name].st_ino == old[name].st_ino]
    assert len(shared) > 10
    assert tree_bytes(public) == tree_bytes(repo / "site")


def test_rollback_then_deploy_shares_with_the_release_served(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    public = tmp_path / "public"
    first, second, before = two_releases(repo, public, capsys)
    kept = tree_bytes(second)
    assert deploy(capsys, repo, "--rollback", "--to", f"folder:{public}")[0] == 0
    assert public.resolve() == first
    (repo / "statements/2024/2024-10-10-gamma.md").write_text(NEW_STATEMENT + "Suite.\n")
    git("commit", "--quiet", "-am", "Suite", cwd=repo)
    assert build(repo, repo / "site", TINY_NOW + timedelta(hours=2)).ok
    assert deploy(capsys, repo, "--to", f"folder:{public}")[0] == 0
    third = public.resolve()
    assert tree_bytes(third) == tree_bytes(repo / "site")
    old, new = inodes(first), inodes(third)
    after = tree_bytes(third)
    for name in (n for n in after if before.get(n) == after[n]):
        assert new[name].st_ino == old[name].st_ino, name  # shared with the one served
    assert tree_bytes(first) == before and tree_bytes(second) == kept


# --- the site's digests -------------------------------------------------------------------


def test_the_digest_from_the_record_is_the_digest_of_the_files(repo: Path) -> None:
    site = repo / "site"
    assert site_digest(site) == tree_digest(site)  # hashed, then recorded
    assert record_path(site).is_file()
    assert site_digest(site) == tree_digest(site)  # from the record
    assert recorded_digests(site).keys() == site_digests(site).keys()
    assert STAMP_FILE not in site_digests(site)


def test_a_build_records_the_digest_of_every_file_it_wrote(repo: Path, monkeypatch) -> None:
    site = repo / "site"
    recorded = recorded_digests(site)  # the build's record: no deploy has hashed it yet
    assert recorded.keys() == site_digests(site).keys()
    assert combined_digest(recorded) == tree_digest(site)
    # so a deploy's check of the site reads no file back
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail(f"read {self}"))
    assert site_digest(site) == combined_digest(recorded)


def test_a_file_edited_after_its_digest_was_recorded_is_read_again(repo: Path) -> None:
    site = repo / "site"
    clean = site_digest(site)
    page = site / "index.html"
    data = page.read_bytes()
    page.write_bytes(data.replace(b"<html", b"<HTML", 1))  # the same size
    assert len(page.read_bytes()) == len(data)
    assert site_digest(site) == tree_digest(site) != clean
    page.write_bytes(data)
    assert site_digest(site) == clean


def test_an_edited_site_is_refused_even_after_a_deploy_recorded_its_digests(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    public = tmp_path / "public"
    assert deploy(capsys, repo, "--to", f"folder:{public}")[0] == 0
    page = repo / "site/index.html"
    data = page.read_bytes()
    page.write_bytes(data.replace(b"<html", b"<HTML", 1))
    code, err = deploy(capsys, repo, "--to", f"folder:{public}")
    assert code == 1 and "the site was changed after it was built" in err
    replaced = repo / "site/status.json"  # replaced by another file: another inode
    page.write_bytes(data)
    text = replaced.read_bytes()
    replaced.unlink()
    replaced.write_bytes(text.replace(b"{", b" {", 1))
    code, err = deploy(capsys, repo, "--to", f"folder:{public}")
    assert code == 1 and "the site was changed after it was built" in err


def test_a_file_written_in_the_tick_of_its_record_is_not_trusted(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    page = site / "page.html"
    page.write_bytes(b"avant")
    later = os.stat(page).st_mtime_ns + 3600 * 10**9  # not older than the record to come
    os.utime(page, ns=(later, later))
    record_digests(site, {"page.html": "00" * 32})
    assert recorded_digests(site) == {}  # a write in the same tick would not move its mtime
    os.utime(page, ns=(later - 7200 * 10**9,) * 2)
    record_digests(site, {"page.html": "00" * 32})
    assert recorded_digests(site) == {"page.html": "00" * 32}


def test_a_build_learns_the_digests_of_files_it_carried_over_by_hard_link(
    tmp_path: Path,
) -> None:
    old, new = tmp_path / "site", tmp_path / "staging"
    old.mkdir()
    new.mkdir()
    for name in ("a.html", "b.html"):
        (old / name).write_text(name)
    record_digests(old, site_digests(old))  # as a build records what it wrote
    os.link(old / "a.html", new / "a.html")  # carried over
    (new / "b.html").write_text("b, again")  # written anew
    carried = recorded_digests(new, record_of=old)
    assert set(carried) == {"a.html"}
    assert tree_digest(new, known=carried) == tree_digest(new)
    entry = site_digests(old)["a.html"]
    assert isinstance(entry, FileDigest)
    assert combined_digest({"a.html": entry.sha256, "b.html": site_digests(new)["b.html"].sha256})


def test_an_unwritable_place_for_the_record_only_costs_a_hashing(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = repo / "site"
    record_path(site).unlink(missing_ok=True)  # the build's own record

    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(Path, "write_text", refuse)
    assert site_digest(site) == tree_digest(site)
    assert not record_path(site).exists()


# --- a git branch writes only what changed ------------------------------------------------


def full_add_tree(site: Path, tmp_path: Path, cname: str | None = None) -> str:
    """The tree a deploy made before, re-adding the whole site: `git add --all --force .`,
    then `.nojekyll` (and a CNAME)."""
    scratch = tmp_path / f"full-{len(list(tmp_path.glob('full-*')))}"
    git("init", "--quiet", "--bare", str(scratch))
    env = {**os.environ, "GIT_INDEX_FILE": str(scratch / "index")}

    def run(*args: str, data: bytes | None = None) -> str:
        command = ["git", "-c", "core.excludesFile=", "-c", "core.autocrlf=false"]
        command += ["--git-dir", str(scratch), "--work-tree", str(site), *args]
        done = subprocess.run(command, input=data, capture_output=True, env=env, check=True)
        return done.stdout.decode().strip()

    run("add", "--all", "--force", ".")
    empty = run("hash-object", "-w", "--stdin", data=b"")
    run("update-index", "--add", "--cacheinfo", f"100644,{empty},.nojekyll")
    if cname:
        blob = run("hash-object", "-w", "--stdin", data=f"{cname}\n".encode())
        run("update-index", "--add", "--cacheinfo", f"100644,{blob},CNAME")
    return run("write-tree")


def branch_tree(remote: Path) -> str:
    return git("--git-dir", str(remote), "rev-parse", "gh-pages^{tree}")


@pytest.mark.parametrize("filters", [True, False], ids=["partial fetch", "server without filters"])
def test_a_git_deploy_writes_the_tree_a_whole_re_add_would(
    repo: Path,
    remote: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    filters: bool,
) -> None:
    git("--git-dir", str(remote), "config", "uploadpack.allowFilter", str(filters).lower())
    site = repo / "site"
    assert deploy(capsys, repo, "--to", f"git:{remote}")[0] == 0
    assert branch_tree(remote) == full_add_tree(site, tmp_path)

    add_statement(repo)  # some files change, some are new
    script = site / "outils/relance.sh"  # an executable file and a link keep their modes
    script.parent.mkdir()
    script.write_text("#!/bin/sh\necho relance\n")
    script.chmod(0o755)
    (site / "accueil.html").symlink_to("index.html")
    code, err = deploy(capsys, repo, "--to", f"git:{remote}", "--force")
    assert code == 0, err
    assert branch_tree(remote) == full_add_tree(site, tmp_path)
    listing = git("--git-dir", str(remote), "ls-tree", "-r", "gh-pages")
    assert "100755 blob" in next(line for line in listing.splitlines() if "relance" in line)
    assert "120000 blob" in next(line for line in listing.splitlines() if "accueil" in line)

    (site / "accueil.html").unlink()  # a file gone from the site leaves the branch
    code, err = deploy(capsys, repo, "--to", f"git:{remote}", "--force")
    assert code == 0, err
    assert branch_tree(remote) == full_add_tree(site, tmp_path)
    assert "accueil.html" not in git("--git-dir", str(remote), "ls-tree", "-r", "gh-pages")
    # What the branch serves can be read back whole: every blob reached the remote.
    git("--git-dir", str(remote), "fsck", "--no-dangling", "--connectivity-only")


def test_a_git_deploy_with_a_configured_cname_writes_the_tree_a_whole_re_add_would(
    repo: Path, remote: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mkdocs = repo / "mkdocs.yml"
    mkdocs.write_text(mkdocs.read_text() + "\nextra:\n  balise:\n    cname: statut.hgo.example\n")
    git("commit", "--quiet", "-am", "Domain", cwd=repo)
    assert build(repo, repo / "site", TINY_NOW).ok
    assert deploy(capsys, repo, "--to", f"git:{remote}")[0] == 0
    assert branch_tree(remote) == full_add_tree(repo / "site", tmp_path, "statut.hgo.example")


def test_a_git_deploy_of_a_site_edited_since_its_digests_were_recorded_uses_its_bytes(
    repo: Path, remote: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = repo / "site"
    assert deploy(capsys, repo, "--to", f"git:{remote}")[0] == 0
    page = site / "index.html"
    page.write_bytes(page.read_bytes().replace(b"<html", b"<HTML", 1))
    assert deploy(capsys, repo, "--to", f"git:{remote}", "--force")[0] == 0
    assert branch_tree(remote) == full_add_tree(site, tmp_path)
    assert "<HTML" in git("--git-dir", str(remote), "show", "gh-pages:index.html")

"""Hostile and broken input, end to end: refused quickly with a clear message, or made harmless.

Links out of the repository, huge and binary files, YAML bombs, paths out of the output,
raw HTML and script in every text that reaches a page, a feed or the JSON; and Hypothesis
fuzzing of the whole check (load, validate, guards) on random YAML, markdown and bytes.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import feedparser
import pytest
import yaml
from bs4 import BeautifulSoup
from conftest import DATA, TINY_NOW, tree_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from balise.build import build, check
from balise.cli import main
from balise.errors import Problem
from balise.output import UnsafePath, write_tree
from balise.render.pages import render_pages
from balise.templating import environment
from balise.text.markdown import page_body_html, removed_markup
from balise.timeline import snapshot
from balise.validate import STATEMENT_KEYS
from balise.views import site_pages

HEAD = "---\ntitle: Point\ndate: 2024-10-06T09:00:00+02:00\n"


def problems_of(repo: Path) -> list[str]:
    return [str(p) for p in check(repo).problems]


def refused_with(repo: Path, message: str) -> None:
    """check fails with an error whose `PATH:LINE: message (hint)` contains this text."""
    outcome = check(repo)
    assert not outcome.ok
    assert any(message in str(p) for p in outcome.errors), outcome.problems


# --- files that must never be read ------------------------------------------------------


def test_a_statement_linking_outside_the_repository_is_refused(tiny: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text(HEAD + "---\nMot de passe du serveur.\n")
    (tiny / "statements/2024/lien.md").symlink_to(secret)
    refused_with(
        tiny,
        "statements/2024/lien.md:1: is a link to a file outside the repository "
        "(copy the file into the repository instead)",
    )


def test_a_folder_linking_outside_the_repository_is_refused(tiny: Path, tmp_path: Path) -> None:
    outside = tmp_path / "ailleurs"
    outside.mkdir()
    (outside / "x.md").write_text(HEAD + "---\nTexte.\n")
    (tiny / "statements/ailleurs").symlink_to(outside, target_is_directory=True)
    refused_with(tiny, "statements/ailleurs:1: is a link to a file outside the repository")


def test_the_statements_folder_itself_linking_outside_is_refused(
    tiny: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "dehors"
    shutil.move(tiny / "statements", outside)
    (tiny / "statements").symlink_to(outside, target_is_directory=True)
    refused_with(tiny, "statements:1: is a link to a folder outside the repository")


def test_links_to_etc_passwd_are_refused_and_never_published(tiny: Path, tmp_path: Path) -> None:
    (tiny / "statements/2024/passwd.md").symlink_to("/etc/passwd")
    out = tmp_path / "site"
    outcome = build(tiny, out, TINY_NOW)
    assert not outcome.ok
    assert "statements/2024/passwd.md:1: is a link to a file outside the repository" in [
        f"{p.path}:{p.line}: {p.message}" for p in outcome.errors
    ]
    assert not out.exists()


def test_a_50_mb_statement_is_refused_without_being_read(tiny: Path) -> None:
    big = tiny / "statements/2024/enorme.md"
    with big.open("w") as stream:
        stream.write(HEAD + "---\n")
        line = "Texte " * 15 + "\n"
        stream.write(line * (50_000_000 // len(line)))
    assert big.stat().st_size >= 50_000_000
    refused_with(
        tiny,
        "statements/2024/enorme.md:1: file is larger than 1 MB",
    )


def test_a_binary_file_is_refused(tiny: Path) -> None:
    (tiny / "statements/2024/image.md").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(300))
    refused_with(tiny, "statements/2024/image.md:1: file is binary, not text (it contains NUL")


def test_a_binary_registry_is_refused(tiny: Path) -> None:
    (tiny / "establishments.yml").write_bytes(b"organisation:\0\x01\x02")
    refused_with(tiny, "establishments.yml:1: file is binary, not text")


# --- YAML bombs ---------------------------------------------------------------------------


def billion_laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        refs = ",".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def test_a_yaml_alias_bomb_in_a_statement_is_refused(tiny: Path) -> None:
    (tiny / "statements/2024/bombe.md").write_text(
        "---\ntitle: Bombe\ndate: 2024-10-06T09:00:00+02:00\n" + billion_laughs() + "---\n"
    )
    refused_with(tiny, "statements/2024/bombe.md")
    assert any(
        "YAML aliases expand to more than 10,000 values" in p
        for p in problems_of(tiny)
        if p.startswith("statements/2024/bombe.md")
    )


def test_a_yaml_alias_bomb_in_the_registry_is_refused(tiny: Path) -> None:
    registry = (tiny / "establishments.yml").read_text()
    (tiny / "establishments.yml").write_text(registry + billion_laughs())
    refused_with(tiny, "establishments.yml")
    assert any("YAML aliases expand to more than" in p for p in problems_of(tiny))


def test_deeply_nested_yaml_is_refused(tiny: Path) -> None:
    nested = "[" * 5000 + "]" * 5000
    (tiny / "statements/2024/profond.md").write_text(HEAD + f"summary: {nested}\n---\n")
    refused_with(tiny, "statements/2024/profond.md:4: YAML is nested more than 20 levels deep")


def test_a_huge_flat_yaml_document_is_refused(tiny: Path) -> None:
    values = ", ".join(str(n) for n in range(20_000))
    (tiny / "statements/2024/liste.md").write_text(HEAD + f"summary: [{values}]\n---\n")
    refused_with(tiny, "statements/2024/liste.md")
    assert any("more than 10,000 values" in p for p in problems_of(tiny))


def test_hostile_input_is_refused_from_the_command_line_and_nothing_is_published(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "site"
    assert build(tiny, out, TINY_NOW).ok
    before = tree_bytes(out)
    (tiny / "statements/2024/bombe.md").write_text(HEAD + billion_laughs() + "---\n")
    (tiny / "statements/2024/passwd.md").symlink_to("/etc/passwd")
    with pytest.raises(SystemExit) as exit_info:
        main(["build", "--repo", str(tiny), "--out", str(out), "--now", TINY_NOW.isoformat()])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "statements/2024/bombe.md" in err and "statements/2024/passwd.md:1:" in err
    assert "Traceback" not in err
    assert tree_bytes(out) == before


# --- paths out of the output ----------------------------------------------------------


@pytest.mark.parametrize(
    "relative",
    ["../evil.html", "communiques/../../evil.html", "/etc/cron.d/evil", "a\\..\\b", "", "x\0y"],
)
def test_write_tree_refuses_paths_outside_its_root(tmp_path: Path, relative: str) -> None:
    root = tmp_path / "out"
    root.mkdir()
    with pytest.raises(UnsafePath):
        write_tree(root, {relative: b"pwned"})
    assert not (tmp_path / "evil.html").exists()


def test_write_tree_refuses_to_follow_a_link_out_of_its_root(tmp_path: Path) -> None:
    root, outside = tmp_path / "out", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "communiques").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafePath, match="leads outside the output"):
        write_tree(root, {"communiques/x.html": b"pwned"})
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("value", ["../../etc/passwd", "..", "a/b", "Majuscule", "-tiret"])
def test_ids_and_incident_slugs_that_are_not_slugs_are_refused(tiny: Path, value: str) -> None:
    (tiny / "statements/2024/x.md").write_text(HEAD + f'id: "{value}"\nincident: "{value}"\n---\n')
    errors = [p for p in check(tiny).errors if p.path == "statements/2024/x.md"]
    assert {p.line for p in errors} == {4, 5}


def test_an_id_that_escaped_validation_still_cannot_leave_the_output(
    tmp_path: Path,
) -> None:
    """Defence in depth: even a statement built around validation cannot write outside."""
    repository = check(DATA / "tiny").repository
    assert repository is not None
    first = repository.statements[0]
    hostile = type(first)(**{**first.__dict__, "id": "../../../evil", "draft": False})
    repository = type(repository)(
        repository.organisation, repository.establishments, (hostile,), repository.site
    )
    pages = site_pages(repository, snapshot(repository, TINY_NOW))
    sources = render_pages(pages, environment(None, html=True))
    docs = tmp_path / "docs"
    docs.mkdir()
    with pytest.raises(UnsafePath):
        write_tree(docs, sources)
    assert not (tmp_path.parent / "evil.md").exists()


# --- raw HTML and escaping ---------------------------------------------------------------

HOSTILE_TITLE = "</title><script>alert('titre')</script> & <b>gras</b>"
HOSTILE_SUMMARY = "\"><img src=x onerror=alert('résumé')> ' & <svg onload=alert(1)>"
HOSTILE_BODY = """\
Texte <script>alert('corps')</script> **en gras**.

<img src="x" onerror="alert('img')">
<iframe src="https://evil.example"></iframe>
<a href="javascript:alert('a')" onclick="alert('click')">cliquez</a>
<a href="data:text/html,<script>alert(1)</script>">data</a>
<p style="background:url(https://evil.example/x.png)">stylé</p>
<form action="https://evil.example"><input name="mdp"></form>

[lien piégé](javascript:alert('md')) et [page](2024-10-06-point.md) et [site](https://example.org)
et [appel](tel:+33200000000) et [courriel](mailto:presse@example.org).

> Une citation.

| Service | État |
|:--|--:|
| Urgences | <span onmouseover="alert(1)">ouvertes</span> |
"""


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("hostile")
    repo = base / "repo"
    shutil.copytree(DATA / "tiny", repo)
    registry = (repo / "establishments.yml").read_text()
    registry = registry.replace(
        "name: Centre Gamma", "name: \"Centre <script>alert('nom')</script> Gamma\""
    )
    (repo / "establishments.yml").write_text(registry)
    front = {
        "title": HOSTILE_TITLE,
        "date": "2024-10-07T11:00:00+02:00",
        "summary": HOSTILE_SUMMARY,
        "status": {"gamma": "perturbé"},
        "incident": "attaque",
    }
    (repo / "statements/2024/piege.md").write_text(
        "---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\n" + HOSTILE_BODY
    )
    out = base / "site"
    outcome = build(repo, out, TINY_NOW)
    assert outcome.ok, outcome.errors
    return out


def _html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_no_hostile_script_element_or_handler_reaches_any_page(hostile_site: Path) -> None:
    for path in _html_pages(hostile_site):
        page = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        for script in page.find_all("script"):
            assert "alert" not in (script.string or ""), (path, script)
        for element in page.find_all(True):
            for name, value in element.attrs.items():
                assert not name.startswith("on"), (path, element)
                text = " ".join(value) if isinstance(value, list) else str(value)
                if name in ("href", "src", "action"):
                    assert not text.strip().lower().startswith(("javascript:", "data:")), path
        for tag in ("iframe", "form", "input", "img", "svg", "object", "embed"):
            assert not page.select(f".balise-body {tag}"), (path, tag)


def test_the_body_keeps_safe_markup_and_drops_the_rest(hostile_site: Path) -> None:
    page = BeautifulSoup(
        (hostile_site / "communiques/piege.html").read_text(encoding="utf-8"), "html.parser"
    )
    body = page.select_one(".balise-body")
    assert body.select_one("strong").get_text() == "en gras"
    assert body.select_one("blockquote p").get_text() == "Une citation."
    assert [th.get("align") for th in body.select("th")] == ["left", "right"]
    links = {a.get_text(): a.get("href") for a in body.select("a")}
    assert links["page"] == "2024-10-06-point.html"
    assert links["site"] == "https://example.org"
    assert links["appel"] == "tel:+33200000000"
    assert links["courriel"] == "mailto:presse@example.org"
    assert links["lien piégé"] is None and links["cliquez"] is None
    assert all("noopener" in a["rel"] for a in body.select("a"))
    assert not body.select("[style]")


def test_hostile_titles_are_text_in_title_headings_and_meta(hostile_site: Path) -> None:
    page = BeautifulSoup(
        (hostile_site / "communiques/piege.html").read_text(encoding="utf-8"), "html.parser"
    )
    assert page.title.get_text().startswith(HOSTILE_TITLE)
    assert page.select_one("h1").get_text() == HOSTILE_TITLE
    assert page.select_one('meta[name="description"]')["content"] == HOSTILE_SUMMARY
    names = [h.get_text() for h in page.select(".balise-changes a")]
    assert "Centre <script>alert('nom')</script> Gamma" in names
    raw = (hostile_site / "communiques/piege.html").read_text(encoding="utf-8")
    assert "<script>alert(" not in raw and "<svg onload" not in raw and "<b>gras" not in raw


def test_hostile_texts_reach_the_json_as_the_same_text(hostile_site: Path) -> None:
    data = json.loads((hostile_site / "status.json").read_text(encoding="utf-8"))
    mine = next(s for s in data["statements"] if s["id"] == "piege")
    assert mine["title"] == HOSTILE_TITLE
    assert mine["summary"] == HOSTILE_SUMMARY


def test_hostile_texts_reach_the_feeds_escaped(hostile_site: Path) -> None:
    feed_path = hostile_site / "feeds/all.atom"
    if not feed_path.exists():
        pytest.skip("the feeds are not built yet")
    feed = feedparser.parse(feed_path.read_bytes())
    assert not feed.bozo, feed.bozo_exception
    entry = next(e for e in feed.entries if e.link.endswith("communiques/piege.html"))
    assert entry.title == HOSTILE_TITLE
    content = BeautifulSoup(entry.content[0].value, "html.parser")
    assert not content.find_all(["script", "img", "iframe", "form"])
    assert all(not a.get("href", "").startswith("javascript:") for a in content.find_all("a"))
    assert "<script>" not in feed_path.read_text(encoding="utf-8")


# --- fuzzing: the whole check only ever returns Problems -------------------------------

_TEXT = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=30)
_SCALARS = st.one_of(
    _TEXT,
    st.integers(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
    st.sampled_from(
        ["2024-10-06T09:00:00+02:00", "2024-10-27 02:30", "dégradé", "all", "alpha", "true"]
    ),
)
_YAML_VALUES = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(_TEXT, st.sampled_from(["all", "alpha", "beta"])), children),
    ),
    max_leaves=12,
)
_FRONT_MATTER = st.dictionaries(
    st.one_of(st.sampled_from([k.name for k in STATEMENT_KEYS]), _TEXT), _YAML_VALUES, max_size=8
)
_BODY = st.lists(
    st.sampled_from([*"<>![]()&#;:/ -*_`|\n\tabcé=\"'", "<script>", "javascript:", "onclick="]),
    max_size=120,
).map("".join)

_YAML_TRICKS = ["&a ", "*a", "&b ", "*b", "<<: *a", "!!python/name:os.system ", "!ENV ", "? "]
_FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _only_problems(repo: Path) -> None:
    outcome = check(repo, TINY_NOW, strict=True)
    assert all(isinstance(p, Problem) for p in outcome.problems)
    assert all(p.path and p.line >= 1 and p.message for p in outcome.problems)


@pytest.fixture(scope="module")
def fuzz_repo() -> Path:
    with tempfile.TemporaryDirectory(prefix="balise-fuzz-") as scratch:
        repo = Path(scratch) / "repo"
        shutil.copytree(DATA / "tiny", repo)
        yield repo


@_FUZZ
@given(front=_FRONT_MATTER, body=_BODY)
def test_random_front_matter_and_body_only_yield_problems(
    fuzz_repo: Path, front: dict, body: str
) -> None:
    text = yaml.safe_dump(front, allow_unicode=True)
    (fuzz_repo / "statements/fuzz.md").write_text(f"---\n{text}---\n{body}", encoding="utf-8")
    _only_problems(fuzz_repo)


@_FUZZ
@given(
    anchors=st.lists(
        st.sampled_from(_YAML_TRICKS),
        max_size=6,
    ),
    words=st.lists(_TEXT, max_size=6),
)
def test_random_anchors_aliases_and_tags_only_yield_problems(
    fuzz_repo: Path, anchors: list[str], words: list[str]
) -> None:
    lines = [f"k{i}: {a}{w!r}" for i, (a, w) in enumerate(zip(anchors, words, strict=False))]
    front = "title: T\ndate: 2024-10-06T09:00:00+02:00\n" + "\n".join(lines)
    (fuzz_repo / "statements/fuzz.md").write_text(f"---\n{front}\n---\nCorps\n")
    _only_problems(fuzz_repo)


@_FUZZ
@given(
    which=st.sampled_from(["statements/fuzz.md", "establishments.yml", "mkdocs.yml"]),
    content=st.binary(max_size=400),
)
def test_random_bytes_in_any_source_only_yield_problems(
    fuzz_repo: Path, which: str, content: bytes
) -> None:
    saved = {name: (fuzz_repo / name).read_bytes() for name in ("establishments.yml", "mkdocs.yml")}
    try:
        (fuzz_repo / which).write_bytes(content)
        _only_problems(fuzz_repo)
    finally:
        for name, data in saved.items():
            (fuzz_repo / name).write_bytes(data)


@settings(max_examples=200, deadline=None)
@given(body=_BODY)
def test_body_html_never_raises_and_never_lets_a_script_through(body: str) -> None:
    html = page_body_html(body)
    page = BeautifulSoup(html, "html.parser")
    assert not page.find_all(["script", "style", "iframe", "img"])
    for element in page.find_all(True):
        assert not any(name.startswith("on") for name in element.attrs)
        assert not (element.get("href") or "").lower().startswith("javascript:")
    removed_markup(body)


def test_fuzz_files_do_not_leak_into_the_shared_test_data() -> None:
    assert not (DATA / "tiny/statements/fuzz.md").exists()
    assert os.listdir(DATA / "tiny/statements") == ["2024"]

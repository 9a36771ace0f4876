"""The demo repository at the project root builds a site a person would trust."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import ROOT

from balise.build import build, check


def quick_start() -> list[str]:
    """The two commands of the README's Quick start block."""
    readme = (ROOT / "README.md").read_text()
    section = re.split(r"^#+ .*quick ?start.*$", readme, maxsplit=1, flags=re.I | re.M)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def demo_now() -> datetime:
    words = shlex.split(quick_start()[0])
    return datetime.fromisoformat(words[words.index("--now") + 1])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "site"
    outcome = build(ROOT, out, demo_now())
    assert outcome.ok, outcome.problems
    assert outcome.mkdocs_warnings == ()
    return out


def test_quick_start_has_exactly_two_commands_and_ci_runs_the_second() -> None:
    commands = quick_start()
    assert len(commands) == 2
    assert "publish.py build" in commands[0]
    assert commands[1] in (ROOT / ".ci/run").read_text()


def test_quick_start_installs_nothing_outside_the_project_venv() -> None:
    # Debian's and Ubuntu's python3 refuse `pip install` outside a virtual environment
    # (PEP 668): each command makes the project's .venv, then uses only its pip and python.
    for command in quick_start():
        steps = [step.strip() for step in command.split("&&")]
        assert steps[0] == "python3 -m venv .venv"
        for step in steps[1:]:
            program = shlex.split(step)[0]
            assert program in {".venv/bin/pip", ".venv/bin/python", "npm"}, step
    assert ".venv/" in (ROOT / ".gitignore").read_text().splitlines()


@pytest.mark.skipif(
    not (ROOT / ".venv" / "bin" / "python").exists(), reason="no .venv: Quick start not run"
)
def test_publish_py_run_by_a_bare_python_uses_the_project_venv(tmp_path: Path) -> None:
    # As after the Quick start, `python3 publish.py ...` run by an interpreter without
    # Balise's libraries (a bare environment here, Debian's python3 for a user) still works.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", tmp_path / "bare"], check=True)
    bare = tmp_path / "bare" / "bin" / "python"
    assert subprocess.run([bare, "-c", "import mkdocs"], capture_output=True).returncode == 1
    run = subprocess.run(
        [bare, ROOT / "publish.py", "check", "--repo", ROOT], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert "OK: 9 establishments" in run.stderr


def test_demo_sources_are_valid() -> None:
    outcome = check(ROOT)
    assert outcome.ok, outcome.problems
    assert len(outcome.repository.establishments) == 9


def test_demo_overview_shows_the_crisis(demo: Path) -> None:
    data = json.loads((demo / "status.json").read_text())
    statuses = {e["id"]: e["status"] for e in data["establishments"]}
    assert statuses.pop("la-sagesse") == "down"
    assert set(statuses.values()) == {"degraded"} and len(statuses) == 8
    page = BeautifulSoup((demo / "index.html").read_text(), "html.parser")
    assert len(page.select(".balise-card")) == 9
    assert [h.get_text() for h in page.select(".balise-region h2")] == [
        "Bretagne",
        "Pays de la Loire",
    ]
    assert page.select_one(".balise-incident a")["href"] == "incidents/cyberattaque-2024-10.html"
    assert "Site de démonstration" in page.select_one(".balise-notice").get_text()


def test_demo_after_the_crisis_is_back_to_normal_and_never_shows_the_draft(
    tmp_path: Path,
) -> None:
    out = tmp_path / "site"
    assert build(ROOT, out, datetime.fromisoformat("2024-12-01T12:00:00+01:00")).ok
    data = json.loads((out / "status.json").read_text())
    assert {e["status"] for e in data["establishments"]} == {"normal"}
    ids = [s["id"] for s in data["statements"]]
    assert "2024-11-05-remerciements-equipes" not in ids
    # The planned maintenance announced after the crisis (its window is still ahead).
    assert ids[:2] == [
        "2024-11-25-la-sagesse-maintenance-informatique",
        "2024-11-15-communique-fin-incident",
    ]
    assert [m["state"] for m in data["maintenances"]] == ["upcoming"]
    incident = BeautifulSoup(
        (out / "incidents/cyberattaque-2024-10.html").read_text(), "html.parser"
    )
    assert incident.select_one(".balise-meta").get_text() == "Incident terminé"
    assert not (out / "communiques/2024-11-05-remerciements-equipes.html").exists()


def test_every_internal_link_of_the_demo_resolves(demo: Path) -> None:
    for html in demo.rglob("*.html"):
        page = BeautifulSoup(html.read_text(), "html.parser")
        for a in page.select("a[href]"):
            href = a["href"].split("#")[0]
            if not href or re.match(r"^[a-z]+:", href):
                continue
            base = demo if href.startswith("/") else html.parent  # 404.html links from the root
            assert (base / href.lstrip("/")).resolve().exists(), (html, href)

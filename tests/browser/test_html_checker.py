"""The demo's pages as the Nu Html Checker (vnu, the W3C validator) reads them: no error.

vnu comes from the npm package vnu-jar (package-lock.json) and runs on Java. Without them
the test is skipped with the reason, unless BALISE_REQUIRE_BROWSER=1 (CI): then it fails.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from .conftest import ROOT, _skip_or_fail

VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def _material_s_own(message: dict) -> bool:
    """Errors in markup that Material writes outside every block a theme can override, so
    Balise cannot change it without copying Material's base.html. Exactly these:

    - base.html's drawer and search toggles, `<input class="md-toggle" type="checkbox"
      autocomplete="off">`: `autocomplete` is not allowed on a checkbox, but Material sets it
      so that Firefox does not restore an open drawer or search on going back.
    """
    return message.get("message", "").startswith(
        "Attribute “autocomplete” is only allowed when the input type is"
    ) and 'class="md-toggle"' in message.get("extract", "")


def _vnu(pages: list[Path]) -> list[dict]:
    java = shutil.which("java")
    if java is None:
        _skip_or_fail("java is missing: apt-get install default-jre-headless")
    if not VNU.is_file():
        _skip_or_fail(f"{VNU.relative_to(ROOT)} is missing: run npm ci at the project root")
    run = subprocess.run(
        [java, "-jar", str(VNU), "--errors-only", "--format", "json", "--stdout", *map(str, pages)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.stdout, run.stderr
    return json.loads(run.stdout)["messages"]


def test_the_nu_html_checker_finds_no_error_in_any_page_balise_makes(demo_site: Path) -> None:
    data = json.loads((demo_site / "status.json").read_text(encoding="utf-8"))
    incident = next(s["incident"] for s in data["statements"] if s["incident"])
    kinds = {
        "overview": "index.html",
        "establishment": f"etablissements/{data['establishments'][0]['id']}.html",
        "statement": f"communiques/{data['statements'][0]['id']}.html",
        "incident": f"incidents/{incident}.html",
        "press": "presse.html",
        "history": "historique.html",
        "follow": "suivre.html",
        "not found": "404.html",
    }
    pages = sorted(demo_site.rglob("*.html"))
    assert {demo_site / path for path in kinds.values()} <= set(pages)
    messages = _vnu(pages)
    assert len([m for m in messages if _material_s_own(m)]) == 2 * len(pages)  # filter is exact
    errors = [
        f"{m.get('url', '?').rsplit(demo_site.name + '/', 1)[-1]}:{m.get('lastLine', '?')}: "
        f"{m.get('message')} [{m.get('extract', '').strip()[:80]}]"
        for m in messages
        if not _material_s_own(m)
    ]
    assert errors == []

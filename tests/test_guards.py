"""Guard rails: each warning with its exact text, --strict on check and build, pre-commit."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from conftest import DATA, ROOT, TINY_NOW, tree_bytes
from hypothesis import given
from hypothesis import strategies as st

from balise.build import build, check
from balise.cli import main
from balise.guards import _numbered, _one_edit_apart, _parts, _plain, guard_warnings, near_misses
from balise.timeline import snapshot

HEAD = "---\ntitle: Point\ndate: 2024-10-10T09:00:00+02:00\n"  # 3 hours before NOW
STALE_HINT = "(publish a point de situation, even to say that nothing has changed)"


def warning_texts(repo: Path, now: datetime = TINY_NOW) -> list[str]:
    return [str(p) for p in check(repo, now).problems if p.warning]


def mine(repo: Path, path: str, now: datetime = TINY_NOW) -> list[str]:
    return [w for w in warning_texts(repo, now) if w.startswith(path)]


def write(repo: Path, name: str, text: str) -> str:
    (repo / "statements/2024" / name).write_text(text)
    return f"statements/2024/{name}"


# --- each warning -------------------------------------------------------------------------


def test_a_date_more_than_a_day_in_the_future_is_a_warning(tiny: Path) -> None:
    path = write(tiny, "futur.md", "---\ntitle: Point\ndate: 2024-10-12T09:00:00+02:00\n---\nX\n")
    assert mine(tiny, path) == [
        f'{path}:3: warning: "date" is more than a day in the future (2024-10-12 09:00) '
        "(check the year, month and day: it will not be published before that date; "
        'to hold a statement back on purpose, use "publish_at")'
    ]


def test_a_date_less_than_a_day_ahead_is_fine(tiny: Path) -> None:
    path = write(tiny, "bientot.md", "---\ntitle: Point\ndate: 2024-10-11T12:00:00+02:00\n---\nX\n")
    assert mine(tiny, path) == []


def test_a_typo_in_the_year_is_caught(tiny: Path) -> None:
    path = write(tiny, "annee.md", "---\ntitle: Point\ndate: 2025-10-09 09:00\n---\nX\n")
    assert mine(tiny, path)[0].startswith(
        f'{path}:3: warning: "date" is more than a day in the future (2025-10-09 09:00)'
    )


def test_replaying_a_past_now_judges_future_dates_against_the_real_clock(tiny: Path) -> None:
    path = write(tiny, "futur.md", "---\ntitle: Point\ndate: 2024-10-12T09:00:00+02:00\n---\nX\n")
    clock = datetime.fromisoformat("2026-11-29T12:00:00+01:00")
    found = [str(p) for p in check(tiny, TINY_NOW, wall_clock=clock).problems if p.warning]
    assert not [w for w in found if w.startswith(path)]


def test_a_status_change_without_text_is_a_warning(tiny: Path) -> None:
    path = write(tiny, "muet.md", HEAD + "status:\n  beta: dégradé\n---\n  \n\n")
    assert mine(tiny, path) == [
        f"{path}:4: warning: sets a status but has no text (say below the front matter what "
        "it means for patients: what to do, whom to call)"
    ]


def test_information_without_a_status_needs_no_text(tiny: Path) -> None:
    path = write(tiny, "info.md", HEAD + "---\n")
    assert mine(tiny, path) == []


def test_an_establishment_without_news_during_an_active_incident_is_a_warning(
    tiny: Path,
) -> None:
    path = "statements/2024/2024-10-05-alerte.md"
    assert mine(tiny, path) == [
        f'{path}:6: warning: no statement about "alpha" and "gamma" for 5 days while the '
        f'incident "attaque" is active (last: 2024-10-05 08:00) {STALE_HINT}'
    ]


def test_staleness_is_counted_in_hours_under_two_days(tiny: Path) -> None:
    now = datetime.fromisoformat("2024-10-06T14:00:00+02:00")
    texts = mine(tiny, "statements/2024/2024-10-05-alerte.md", now)
    assert [t.split(" while")[0].split("warning: ")[1] for t in texts] == [
        'no statement about "alpha" and "gamma" for 30 hours'
    ]


def test_no_staleness_warning_within_a_day_or_once_back_to_normal(tiny: Path) -> None:
    assert (
        mine(
            tiny,
            "statements/2024/2024-10-05-alerte.md",
            datetime.fromisoformat("2024-10-05T20:00:00+02:00"),
        )
        == []
    )
    write(
        tiny,
        "fin.md",
        "---\ntitle: Fin\ndate: 2024-10-08T09:00:00+02:00\nincident: attaque\n"
        "status:\n  all: normal\n---\nTout est rétabli.\n",
    )
    assert [w for w in warning_texts(tiny) if "no statement about" in w] == []


def test_raw_html_that_the_sanitizer_removes_is_a_warning(tiny: Path) -> None:
    path = write(tiny, "html.md", HEAD + "---\nBonjour.\n\n<script>alert(1)</script>\n<b>ok</b>\n")
    texts = [t.split(": ", 1)[1] for t in mine(tiny, path)]
    assert texts == [
        "warning: <script> is removed from the published page (a statement is markdown: HTML is "
        "kept only for simple text, lists, tables and http(s), mailto or tel links)"
    ]


def test_removed_markup_names_the_body_line_when_validation_records_it(tiny: Path) -> None:
    repository = check(DATA / "tiny").repository
    assert repository is not None
    statement = repository.statements[-1]
    body = "Bonjour.\n\nUn [lien](javascript:alert(1)).\n"
    with_html = type(statement)(**{**statement.__dict__, "body": body, "lines": {"body": 7}})
    repository = type(repository)(
        repository.organisation, repository.establishments, (with_html,), repository.site
    )
    found = guard_warnings(repository, snapshot(repository, TINY_NOW))
    assert [(p.line, p.message) for p in found] == [
        (9, 'a "javascript:" link is removed from the published page')
    ]


def test_removed_markup_names_the_source_line_of_the_tag_deep_in_a_table(tiny: Path) -> None:
    rows = "".join(f"<tr><td>{n}</td><td>Consultations {n}</td></tr>\n" for n in range(30))
    body = (
        "Le contexte (background) de la panne, puis le tableau des services.\n\n"
        + "".join(f"Paragraphe {n}.\n\n" for n in range(6))
        + '<table background="fond.png">\n'
        + rows
        + '<tr><td>Urgences</td><td\n    background="alerte.png">ouvertes</td></tr>\n'
        + "</table>\n"
    )
    text = HEAD + "---\n" + body
    path = write(tiny, "tableau.md", text)
    lines = text.split("\n")
    table = lines.index('<table background="fond.png">') + 1
    cell = lines.index('    background="alerte.png">ouvertes</td></tr>') + 1
    assert (table, cell) == (19, 51)
    hint = (
        "(a statement is markdown: HTML is kept only for simple text, lists, tables and "
        "http(s), mailto or tel links)"
    )
    assert mine(tiny, path) == [
        f'{path}:{table}: warning: background="…" on <table> is removed from the published '
        f"page {hint}",
        f'{path}:{cell}: warning: background="…" on <td> is removed from the published page {hint}',
    ]


def test_a_date_without_a_time_is_a_warning_showing_the_form_with_a_time(tiny: Path) -> None:
    path = write(tiny, "jour.md", "---\ntitle: Point\ndate: 2024-10-09\n---\nX\n")
    assert mine(tiny, path) == [
        f'{path}:3: warning: "date" has no time: it is read as midnight (2024-10-09 00:00) '
        "(write when it was issued, such as 2024-10-09T09:30:00+02:00 or 2024-10-09 09:30)"
    ]
    # the example carries that day's offset, winter time included
    write(tiny, "jour.md", "---\ntitle: Point\ndate: 2024-01-09\n---\nX\n")
    assert "such as 2024-01-09T09:30:00+01:00 or 2024-01-09 09:30" in mine(tiny, path)[0]


def test_midnight_written_out_is_no_warning(tiny: Path) -> None:
    path = write(tiny, "minuit.md", "---\ntitle: Point\ndate: 2024-10-09T00:00:00+02:00\n---\nX\n")
    assert mine(tiny, path) == []
    path = write(tiny, "minuit2.md", "---\ntitle: Point\ndate: 2024-10-09 00:00\n---\nX\n")
    assert mine(tiny, path) == []


RANSOM_NOW = datetime.fromisoformat("2025-03-20T12:00:00+01:00")


def incident_statement(day: int, slug: str) -> str:
    return (
        f"---\ntitle: Point {day}\ndate: 2025-03-{day:02d}T09:00:00+01:00\nincident: {slug}\n"
        "status:\n  alpha: normal\n---\nX\n"
    )


def test_a_new_incident_slug_one_edit_from_an_existing_one_is_a_warning(tiny: Path) -> None:
    write(tiny, "r1.md", incident_statement(11, "rancongiciel-2025-03"))
    write(tiny, "r2.md", incident_statement(12, "rancongiciel-2025-03"))
    path = write(tiny, "r3.md", incident_statement(13, "rancongiciel-2025-3"))
    assert mine(tiny, path, RANSOM_NOW) == [
        f'{path}:4: warning: incident "rancongiciel-2025-3" is almost the same as '
        '"rancongiciel-2025-03" (2 statements): they make two incident threads (did you mean '
        '"rancongiciel-2025-03"? statements share a thread only under the same slug)'
    ]
    assert mine(tiny, "statements/2024/r1.md", RANSOM_NOW) == []  # the existing one is fine
    assert run_main("check", "--repo", str(tiny), "--now", RANSOM_NOW.isoformat(), "--strict") == 1


@pytest.mark.parametrize(
    "slugs",
    [
        ["panne-2024-1", "panne-2024-2", "panne-2024-10"],  # a numbered series
        ["vague-1-site-a", "vague-1-site-b"],  # one-letter words
        ["attaque", "cyberattaque-2024-10"],  # far apart
    ],
)
def test_numbered_or_distant_incidents_are_not_flagged(tiny: Path, slugs: list[str]) -> None:
    for n, slug in enumerate(slugs):
        write(tiny, f"s{n}.md", incident_statement(11 + n, slug))
    assert [w for w in warning_texts(tiny, RANSOM_NOW) if "almost the same" in w] == []


def test_a_region_one_edit_from_another_is_a_warning_at_its_line(tiny: Path) -> None:
    registry = tiny / "establishments.yml"
    text = registry.read_text().replace("Bretagne", "Occitanie")
    registry.write_text(text.replace("Pays de la Loire", "Occitannie"))
    assert [w for w in warning_texts(tiny) if w.startswith("establishments.yml")] == [
        'establishments.yml:28: warning: region "Occitannie" is almost the same as "Occitanie" '
        '(2 establishments): the site shows two regions (did you mean "Occitanie"?)'
    ]


def test_region_warnings_name_the_registry_file_load_reads() -> None:
    from balise.guards import REGISTRY_FILE
    from balise.load import ESTABLISHMENTS_FILE

    assert REGISTRY_FILE == ESTABLISHMENTS_FILE


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (
            ["rancongiciel-2025-03", "rancongiciel-2025-3"],
            {"rancongiciel-2025-3": "rancongiciel-2025-03"},
        ),
        (["panne-reseau", "panne-reseua"], {"panne-reseua": "panne-reseau"}),  # swapped letters
        (["Occitannie", "Occitanie", "Occitanie"], {"Occitannie": "Occitanie"}),  # the rarer
        (["Bretagne", "bretagne"], {"bretagne": "Bretagne"}),
        (["Pays de la Loire", "Pays-de-la-Loire"], {"Pays-de-la-Loire": "Pays de la Loire"}),
        (["Île-de-France", "Ile-de-France"], {"Ile-de-France": "Île-de-France"}),
        (["panne-2024-1", "panne-2024-2", "panne-2024-10", "panne-2024-11"], {}),
        (["zone-a", "zone-b", "zone-2", "zone-3"], {}),
        (["Bretagne", "Normandie"], {}),
    ],
)
def test_near_misses(names: list[str], expected: dict[str, str]) -> None:
    assert near_misses(names) == expected


def _osa_distance(a: str, b: str) -> int:
    rows = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[-1][-1]


@given(st.text("abc-1", max_size=7), st.text("abc-1", max_size=7))
def test_one_edit_apart_is_a_damerau_levenshtein_distance_of_one(a: str, b: str) -> None:
    assert _one_edit_apart(a, b) == (_osa_distance(a, b) == 1)


def _every_pair_near_misses(names: list[str]) -> dict[str, str]:
    """near_misses the slow way: every pair compared."""
    uses = {name: names.count(name) for name in names}
    ranked = sorted(uses, key=lambda name: -uses[name])
    found: dict[str, str] = {}
    for position, name in enumerate(ranked):
        for other in ranked[:position]:
            close = _one_edit_apart(name, other) or _plain(name) == _plain(other)
            if close and not _numbered(_parts(name), _parts(other)):
                found[name] = other
                break
    return found


@given(st.lists(st.text("ab-1É", min_size=1, max_size=5), max_size=12))
def test_near_misses_compares_every_close_pair(names: list[str]) -> None:
    assert near_misses(names) == _every_pair_near_misses(names)


def test_drafts_are_not_judged(tiny: Path) -> None:
    path = write(
        tiny,
        "brouillon2.md",
        "---\ntitle: B\ndate: 2030-01-01T00:00:00+01:00\ndraft: true\nstatus:\n  all: down\n---\n",
    )
    assert mine(tiny, path) == []


def test_check_without_now_adds_no_warning(tiny: Path) -> None:
    write(tiny, "futur.md", "---\ntitle: Point\ndate: 2099-10-12T09:00:00+02:00\n---\nX\n")
    assert [p for p in check(tiny).problems if p.warning] == []


# --- --strict ------------------------------------------------------------------------------


def run_main(*args: str) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    return int(exit_info.value.code)


def test_check_reports_warnings_but_passes_without_strict(
    tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main("check", "--repo", str(tiny), "--now", TINY_NOW.isoformat()) == 0
    err = capsys.readouterr().err
    assert "statements/2024/2024-10-05-alerte.md:6: warning: no statement about" in err
    assert "1 warning." in err


def test_check_strict_fails_on_warnings(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run_main("check", "--strict", "--repo", str(tiny), "--now", TINY_NOW.isoformat())
    assert code == 1
    err = capsys.readouterr().err
    assert "1 problem found (--strict: warnings count): fix them and run check again." in err


def test_build_strict_refuses_and_leaves_the_site_untouched(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "site"
    assert build(tiny, out, TINY_NOW).ok
    before = tree_bytes(out)
    write(tiny, "muet.md", HEAD + "status:\n  beta: dégradé\n---\n")
    code = run_main(
        "build", "--strict", "--repo", str(tiny), "--out", str(out), "--now", TINY_NOW.isoformat()
    )
    assert code == 1
    assert "statements/2024/muet.md:4: warning: sets a status but has no text" in (
        capsys.readouterr().err
    )
    assert tree_bytes(out) == before


def test_build_strict_succeeds_when_there_is_no_warning(tiny: Path, tmp_path: Path) -> None:
    after = datetime.fromisoformat("2024-10-20T12:00:00+02:00")  # incident over, all said
    outcome = build(tiny, tmp_path / "site", after, strict=True)
    assert outcome.ok, outcome.problems
    assert outcome.problems == ()


# --- the pre-commit hooks ---------------------------------------------------------------


def hooks() -> list[dict]:
    return yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())


def test_the_pre_commit_hooks_run_check_on_the_repository() -> None:
    found = {hook["id"]: hook for hook in hooks()}
    assert set(found) == {"balise-check", "balise-check-strict"}
    for hook in found.values():
        assert hook["language"] == "python"
        assert hook["pass_filenames"] is False  # check judges the whole repository
        assert hook["entry"].split()[:2] == ["balise", "check"]
    assert found["balise-check-strict"]["entry"] == "balise check --strict"


@pytest.mark.parametrize("hook_id", ["balise-check", "balise-check-strict"])
def test_a_pre_commit_hook_refuses_a_typo(tiny: Path, hook_id: str) -> None:
    entry = next(h for h in hooks() if h["id"] == hook_id)["entry"].split()
    command = [sys.executable, "-m", "balise", *entry[1:], "--now", TINY_NOW.isoformat()]
    ok = subprocess.run(command, cwd=tiny, capture_output=True, text=True)
    assert ok.returncode == (1 if "--strict" in entry else 0), ok.stderr
    write(tiny, "typo.md", HEAD + "status:\n  alpah: normal\n---\nX\n")
    typo = subprocess.run(command, cwd=tiny, capture_output=True, text=True)
    assert typo.returncode == 1
    assert 'statements/2024/typo.md:5: unknown establishment "alpah"' in typo.stderr


def test_the_hooks_watch_every_source_that_check_reads() -> None:
    import re

    pattern = re.compile(hooks()[0]["files"])
    for path in ("statements/2024-10/a.md", "establishments.yml", "mkdocs.yml", "templates/x"):
        assert pattern.search(path), path
    assert not pattern.search("README.md")

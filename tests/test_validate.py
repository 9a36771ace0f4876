"""Tests for balise.validate: typed records from raw ones, and the exact problem texts."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import UnionType
from zoneinfo import ZoneInfo

import pytest
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from balise.build import check as build_check
from balise.errors import Problem
from balise.load import (
    RawFile,
    RawMap,
    RawNode,
    RawRepository,
    load_repository,
    parse_yaml,
    split_front_matter,
)
from balise.model import Statement, StatementType, Status
from balise.text.markdown import page_body_html
from balise.validate import (
    ESTABLISHMENT_KEYS,
    ORGANISATION_KEYS,
    PRESS_KEYS,
    REGISTRY_KEYS,
    SITE_KEYS,
    STATEMENT_KEYS,
    Key,
    Validated,
    dates,
    nodes,
    parse_instant,
    shorten,
    slugify,
    summarize,
    validate_repository,
)
from balise.validate.nodes import Field, Report
from balise.validate.schema import Read, keys_table, read

PARIS = ZoneInfo("Europe/Paris")

ESTABLISHMENTS = """\
organisation:
  name: Hospi Grand Ouest
  url: https://www.example.org
  press:
    name: Service communication
    email: presse@example.org
    phone: "+33 2 00 00 00 00"
establishments:
  - id: la-sagesse
    name: Clinique La Sagesse
    city: Rennes
    region: Bretagne
  - id: jules-verne
    name: Clinique Jules Verne
    city: Nantes
    region: Pays de la Loire
  - id: saint-gregoire
    name: Hôpital privé Saint-Grégoire
    city: Saint-Grégoire
"""
MKDOCS = "site_name: État des services\nsite_url: https://status.example.org\n"
DATE = "2024-10-05T08:00:00+02:00"


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    defaults: dict[str, str | bytes] = {"establishments.yml": ESTABLISHMENTS, "mkdocs.yml": MKDOCS}
    (root / "statements").mkdir(parents=True, exist_ok=True)  # a repository has one
    for name, content in {**defaults, **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def raw_repository(files: Mapping[str, str]) -> RawRepository:
    """What load_repository reads from these text files, built in memory: the validator is
    pure, so its tests need no disk (those of reading files are in test_load)."""
    texts = {"establishments.yml": ESTABLISHMENTS, "mkdocs.yml": MKDOCS, **files}
    met: list[Problem] = []

    def yaml_file(name: str) -> RawFile | None:
        before = len(met)
        data = parse_yaml(texts[name], name, 1, met)
        if data is None and any(p.path == name for p in met[before:]):
            return None
        return RawFile(name, data)

    statements = []
    for path in sorted(name for name in texts if name.startswith("statements/")):
        parts = split_front_matter(texts[path])
        assert not isinstance(parts, str), "a statement without front matter: use check_on_disk"
        front, front_line, body, body_line = parts
        before = len(met)
        data = parse_yaml(front, path, front_line, met)
        if data is not None or len(met) == before:
            statements.append(RawFile(path, data, body, body_line))
    return RawRepository(
        yaml_file("establishments.yml"), yaml_file("mkdocs.yml"), tuple(statements), {}, tuple(met)
    )


def statement_text(front: str, body: str = "Texte.\n") -> str:
    return f"---\n{front}---\n{body}"


def check(files: dict[str, str]) -> Validated:
    return validate_repository(raw_repository(files))


def check_on_disk(root: Path, files: dict[str, str | bytes]) -> Validated:
    return validate_repository(load_repository(write(root, files)))


def problems(files: dict[str, str]) -> list[str]:
    return [str(problem) for problem in check(files).problems]


def problems_of(front: str, body: str = "Texte.\n") -> list[str]:
    return problems({"statements/a.md": statement_text(front, body)})


def valid(front: str, body: str = "Texte.\n", name: str = "a") -> Statement:
    validated = check({f"statements/{name}.md": statement_text(front, body)})
    assert [str(p) for p in validated.problems] == []
    assert validated.repository is not None
    (statement,) = validated.repository.statements
    return statement


# --- a valid repository -----------------------------------------------------------------


def test_valid_repository_yields_typed_records() -> None:
    validated = check(
        {
            "statements/2024/panne.md": statement_text(
                f"title: Panne informatique\ndate: {DATE}\nstatus:\n  la-sagesse: dégradé\n"
                "type: press-release\nincident: panne-si\n",
                "Les urgences fonctionnent en **mode dégradé**.\n\nSuite.\n",
            )
        },
    )
    assert validated.problems == ()
    repository = validated.repository
    assert repository is not None
    assert repository.organisation.name == "Hospi Grand Ouest"
    assert repository.organisation.timezone == "Europe/Paris"
    assert repository.organisation.press is not None
    assert repository.organisation.press.phone == "+33 2 00 00 00 00"
    assert [e.id for e in repository.establishments] == [
        "la-sagesse",
        "jules-verne",
        "saint-gregoire",
    ]
    assert repository.site.url == "https://status.example.org/"
    (statement,) = repository.statements
    assert statement == Statement(
        id="panne",
        path="statements/2024/panne.md",
        title="Panne informatique",
        date=datetime(2024, 10, 5, 6, 0, tzinfo=UTC),
        body="Les urgences fonctionnent en **mode dégradé**.\n\nSuite.\n",
        summary="Les urgences fonctionnent en mode dégradé.",
        status=(("la-sagesse", Status.DEGRADED),),
        type=StatementType.PRESS_RELEASE,
        incident="panne-si",
    )
    assert statement.lines == {
        "title": 2,
        "date": 3,
        "status": 4,
        "type": 6,
        "incident": 7,
        "body": 9,
    }


def test_statements_are_sorted_by_date_then_path() -> None:
    validated = check(
        {
            "statements/c.md": statement_text("title: C\ndate: 2024-10-05 09:00\n"),
            "statements/b.md": statement_text("title: B\ndate: 2024-10-05 08:00\n"),
            "statements/a.md": statement_text("title: A\ndate: 2024-10-05 09:00\n"),
        },
    )
    assert validated.repository is not None
    assert [s.id for s in validated.repository.statements] == ["b", "a", "c"]


def test_no_statements_at_all_is_valid() -> None:
    validated = check({})
    assert validated.problems == ()
    assert validated.repository is not None
    assert validated.repository.statements == ()


def test_any_problem_means_no_repository() -> None:
    validated = check({"statements/a.md": statement_text(f"date: {DATE}\n")})
    assert validated.repository is None


def test_updated_is_the_git_time_of_the_file() -> None:
    raw = raw_repository({"statements/a.md": statement_text(f"title: T\ndate: {DATE}\n")})
    commit = datetime(2024, 10, 6, 12, 0, tzinfo=UTC)
    validated = validate_repository(dataclasses.replace(raw, updated={"statements/a.md": commit}))
    assert validated.repository is not None
    assert validated.repository.statements[0].updated == commit


def test_validation_needs_no_files() -> None:
    raw = raw_repository({})
    assert validate_repository(raw).repository is not None
    empty = RawRepository(establishments=None, mkdocs=None, statements=())
    assert validate_repository(empty) == Validated(None, ())


# --- every problem ----------------------------------------------------------------------


def test_every_problem_is_reported_not_just_the_first() -> None:
    assert problems(
        {
            "statements/a.md": statement_text(
                "titel: Panne\ndate: 2024-13-01\nstatus:\n  jules-vern: dégardé\ndraft: oui\n"
            ),
            "statements/b.md": statement_text("title: [a]\ndate: demain\n"),
        },
    ) == [
        'statements/a.md:2: "title" is required',
        'statements/a.md:2: unknown key "titel" (did you mean "title"?)',
        'statements/a.md:3: date "2024-13-01" is not a real date or time (month must be in 1..12)',
        'statements/a.md:5: unknown establishment "jules-vern" (did you mean "jules-verne"?)',
        'statements/a.md:5: unknown status "dégardé" (did you mean "degrade"?)',
        'statements/a.md:6: "draft" must be true or false, not "oui"',
        'statements/b.md:2: "title" must be text, not a list',
        'statements/b.md:3: date "demain" is not an ISO 8601 date '
        "(write it like 2024-10-05T08:00:00+02:00 or 2024-10-05 08:00)",
    ]


def test_loading_problems_are_part_of_the_result(tmp_path: Path) -> None:
    validated = check_on_disk(tmp_path, {"statements/a.md": "no front matter"})
    assert [str(problem) for problem in validated.problems] == [
        'statements/a.md:1: no front matter (a statement starts with a line "---", then '
        '"title:" and "date:", then a line "---")'
    ]


# --- keys -------------------------------------------------------------------------------


def test_unknown_key_suggests_closest() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\nincidnet: panne\n") == [
        'statements/a.md:4: unknown key "incidnet" (did you mean "incident"?)'
    ]


def test_unknown_key_without_close_match_has_no_hint() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\nsignature: moi\n") == [
        'statements/a.md:4: unknown key "signature"'
    ]


def test_missing_required_keys_point_at_the_mapping() -> None:
    assert problems_of("incident: x\n") == [
        'statements/a.md:2: "date" is required',
        'statements/a.md:2: "title" is required',
    ]


def test_empty_front_matter_lacks_title_and_date() -> None:
    assert problems({"statements/a.md": "---\n---\n"}) == [
        'statements/a.md:1: "date" is required',
        'statements/a.md:1: "title" is required',
    ]


def test_front_matter_that_is_a_list_is_refused() -> None:
    assert problems_of("- title\n- date\n") == [
        'statements/a.md:2: the front matter must be "key: value" lines, not a list'
    ]


def test_statement_keys_table_is_the_contract_list() -> None:
    assert [key.name for key in STATEMENT_KEYS] == [
        "title",
        "date",
        "status",
        "type",
        "incident",
        "summary",
        "draft",
        "publish_at",
        "social",
        "id",
        "concerns",
        "redirect",
        "next_update",
        "start",
        "end",
        "no_call",
        "withdrawn",
    ]
    assert [key.name for key in STATEMENT_KEYS if key.required] == ["title", "date"]


# --- title ------------------------------------------------------------------------------


def test_unquoted_time_title_keeps_raw_text() -> None:
    assert valid(f"title: 10:30\ndate: {DATE}\n").title == "10:30"


@pytest.mark.parametrize("title", ["no", "on", "1e3", "0x1F", "2024-10-05", "~ test"])
def test_yaml_guesses_never_corrupt_a_title(title: str) -> None:
    assert valid(f"title: {title}\ndate: {DATE}\n").title == title


def test_title_that_is_a_list_is_refused() -> None:
    assert problems_of(f"title:\n  - a\n  - b\ndate: {DATE}\n") == [
        'statements/a.md:3: "title" must be text, not a list'
    ]


def test_empty_title_is_refused() -> None:
    assert problems_of(f"title:\ndate: {DATE}\n") == ['statements/a.md:2: "title" is empty']
    assert problems_of(f"title: '  '\ndate: {DATE}\n") == ['statements/a.md:2: "title" is empty']


def test_title_longer_than_200_characters_is_refused() -> None:
    assert problems_of(f"title: {'x' * 213}\ndate: {DATE}\n") == [
        'statements/a.md:2: "title" is longer than 200 characters (213)'
    ]
    assert len(valid(f"title: {'é' * 200}\ndate: {DATE}\n").title) == 200


def test_title_on_several_lines_is_refused() -> None:
    assert problems_of(f"title: |\n  Ligne un\n  Ligne deux\ndate: {DATE}\n") == [
        'statements/a.md:2: "title" must be a single line'
    ]


def test_title_with_unknown_tag_is_refused() -> None:
    assert problems_of(f"title: !ENV TITLE\ndate: {DATE}\n") == [
        'statements/a.md:2: "title" has the YAML tag !ENV, which Balise cannot read '
        "(write the value itself)"
    ]


# --- dates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-10-05T08:00:00+02:00", datetime(2024, 10, 5, 6, 0, tzinfo=UTC)),
        ("2024-10-05 08:00:00 +02:00", datetime(2024, 10, 5, 6, 0, tzinfo=UTC)),
        ("2024-10-05T08:00+0200", datetime(2024, 10, 5, 6, 0, tzinfo=UTC)),
        ("2024-10-05T06:00:00Z", datetime(2024, 10, 5, 6, 0, tzinfo=UTC)),
        ("2024-10-05 08:00", datetime(2024, 10, 5, 6, 0, tzinfo=UTC)),
        ("2024-10-05T08:00", datetime(2024, 10, 5, 6, 0, tzinfo=UTC)),
        ("2024-10-05T08:00:30.5", datetime(2024, 10, 5, 6, 0, 30, 500000, tzinfo=UTC)),
        ("2024-10-05", datetime(2024, 10, 4, 22, 0, tzinfo=UTC)),
        ("2024-01-15 08:00", datetime(2024, 1, 15, 7, 0, tzinfo=UTC)),
        ("'2024-10-05 08:00:00-04:00'", datetime(2024, 10, 5, 12, 0, tzinfo=UTC)),
    ],
)
def test_dates_in_iso_8601_are_read(text: str, expected: datetime) -> None:
    date = valid(f"title: T\ndate: {text}\n").date
    assert date == expected
    assert date.utcoffset() == expected.astimezone(PARIS).utcoffset()


def test_naive_date_in_dst_gap_is_rejected() -> None:
    assert problems_of("title: T\ndate: 2024-03-31 02:30\n") == [
        'statements/a.md:3: date "2024-03-31 02:30" does not exist in Europe/Paris '
        "(daylight-saving change): write another time or add an offset such as +01:00"
    ]


def test_naive_date_in_dst_overlap_is_ambiguous() -> None:
    assert problems_of("title: T\ndate: 2024-10-27 02:30\n") == [
        'statements/a.md:3: date "2024-10-27 02:30" is ambiguous in Europe/Paris '
        "(daylight-saving change): add an offset such as +02:00 or +01:00"
    ]


def test_offset_settles_an_ambiguous_local_time() -> None:
    date = valid("title: T\ndate: 2024-10-27 02:30+01:00\n").date
    assert date == datetime(2024, 10, 27, 1, 30, tzinfo=UTC)
    assert date.isoformat() == "2024-10-27T02:30:00+01:00"


def test_dates_in_the_repeated_hour_keep_their_real_order() -> None:
    validated = check(
        {
            "statements/a.md": statement_text("title: A\ndate: 2024-10-27 02:15+01:00\n"),
            "statements/b.md": statement_text("title: B\ndate: 2024-10-27 02:45+02:00\n"),
        },
    )
    assert validated.repository is not None
    first, second = validated.repository.statements
    assert (first.id, second.id) == ("b", "a")
    assert first.date < second.date


def test_naive_date_is_read_in_the_organisation_timezone() -> None:
    registry = ESTABLISHMENTS.replace(
        "  url: https://www.example.org\n", "  timezone: America/Cayenne\n"
    )
    validated = check(
        {
            "establishments.yml": registry,
            "statements/a.md": statement_text("title: T\ndate: 2024-10-05 08:00\n"),
        },
    )
    assert validated.repository is not None
    assert validated.repository.statements[0].date == datetime(2024, 10, 5, 11, 0, tzinfo=UTC)


def test_impossible_calendar_date_is_refused() -> None:
    assert problems_of("title: T\ndate: 2024-02-30\n") == [
        'statements/a.md:3: date "2024-02-30" is not a real date or time '
        "(day is out of range for month)"
    ]


def test_date_that_is_not_iso_is_refused() -> None:
    assert problems_of("title: T\ndate: 5 octobre 2024\n") == [
        'statements/a.md:3: date "5 octobre 2024" is not an ISO 8601 date '
        "(write it like 2024-10-05T08:00:00+02:00 or 2024-10-05 08:00)"
    ]


def test_date_that_is_a_mapping_is_refused() -> None:
    assert problems_of("title: T\ndate:\n  day: 5\n") == [
        'statements/a.md:4: "date" must be a date such as 2024-10-05T08:00:00+02:00, not a mapping'
    ]


def test_publish_at_is_an_instant_with_its_own_name_in_messages() -> None:
    statement = valid(f"title: T\ndate: {DATE}\npublish_at: 2024-10-05 10:00\n")
    assert statement.publish_at == datetime(2024, 10, 5, 8, 0, tzinfo=UTC)
    assert problems_of(f"title: T\ndate: {DATE}\npublish_at: 2024-03-31 02:00\n") == [
        'statements/a.md:4: publish_at "2024-03-31 02:00" does not exist in Europe/Paris '
        "(daylight-saving change): write another time or add an offset such as +01:00"
    ]


def test_empty_publish_at_means_no_embargo() -> None:
    assert valid(f"title: T\ndate: {DATE}\npublish_at:\n").publish_at is None


def test_parse_instant_returns_message_and_hint() -> None:
    assert parse_instant("2024-10-05 08:00:99", "Europe/Paris") == (
        'date "2024-10-05 08:00:99" is not a real date or time',
        "second must be in 0..59",
    )
    assert parse_instant("2024-10-05T08:00+25:00", "Europe/Paris", "--now") == (
        '--now "2024-10-05T08:00+25:00" is not a real date or time',
        "the offset must be between -23:59 and +23:59",
    )
    assert parse_instant("0001-01-01 00:00", "Europe/Paris") == (
        'date "0001-01-01 00:00" is not a real date or time',
        "date value out of range",
    )


# --- status -----------------------------------------------------------------------------


def test_explicit_id_beside_all_wins() -> None:
    statement = valid(f"title: T\ndate: {DATE}\nstatus:\n  jules-verne: normal\n  all: down\n")
    assert statement.status == (
        ("la-sagesse", Status.DOWN),
        ("jules-verne", Status.NORMAL),
        ("saint-gregoire", Status.DOWN),
    )
    assert statement.sets_all is True


def test_explicit_statuses_come_in_registry_order() -> None:
    statement = valid(
        f"title: T\ndate: {DATE}\nstatus:\n  saint-gregoire: maintenance\n  la-sagesse: down\n",
    )
    assert statement.status == (
        ("la-sagesse", Status.DOWN),
        ("saint-gregoire", Status.MAINTENANCE),
    )
    assert statement.sets_all is False


@pytest.mark.parametrize(
    ("written", "status"),
    [
        ("Dégradé", Status.DEGRADED),
        ("DEGRADE", Status.DEGRADED),
        ("perturbé", Status.DISRUPTED),
        ("Hors-Service", Status.DOWN),
        ("interrompu", Status.DOWN),
        ("maintenance", Status.MAINTENANCE),
        ("normal", Status.NORMAL),
    ],
)
def test_french_status_aliases_are_accepted(written: str, status: Status) -> None:
    statement = valid(f"title: T\ndate: {DATE}\nstatus:\n  la-sagesse: {written}\n")
    assert statement.status == (("la-sagesse", status),)


@pytest.mark.parametrize("written", ["status:\n", "status: {}\n", "status: ~\n"])
def test_empty_status_changes_nothing(written: str) -> None:
    statement = valid(f"title: T\ndate: {DATE}\n{written}")
    assert (statement.status, statement.sets_all) == ((), False)


def test_unknown_establishment_suggests_closest() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\nstatus:\n  jules-vern: down\n") == [
        'statements/a.md:5: unknown establishment "jules-vern" (did you mean "jules-verne"?)'
    ]


def test_unknown_establishment_without_close_match_points_at_registry() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\nstatus:\n  chu-brest: down\n") == [
        'statements/a.md:5: unknown establishment "chu-brest" (see the ids in establishments.yml)'
    ]


def test_unknown_status_suggests_closest_spelling() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\nstatus:\n  all: dégardé\n") == [
        'statements/a.md:5: unknown status "dégardé" (did you mean "degrade"?)'
    ]


def test_unknown_status_without_close_match_lists_the_values() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\nstatus:\n  all: fermé\n") == [
        'statements/a.md:5: unknown status "fermé" '
        "(use one of: normal, maintenance, degraded, disrupted, down)"
    ]


def test_empty_status_value_is_refused() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\nstatus:\n  la-sagesse:\n") == [
        'statements/a.md:5: status of "la-sagesse" is empty '
        "(use one of: normal, maintenance, degraded, disrupted, down)"
    ]


def test_status_as_text_is_refused() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\nstatus: down\n") == [
        'statements/a.md:4: "status" must be a mapping of establishment ids to statuses, not text'
    ]


def test_status_value_as_list_is_refused() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\nstatus:\n  all: [down]\n") == [
        'statements/a.md:5: status of "all" must be a single value, not a list'
    ]


def test_duplicate_establishment_in_status_is_reported() -> None:
    front = f"title: T\ndate: {DATE}\nstatus:\n  all: down\n  all: normal\n"
    assert problems_of(front) == [
        'statements/a.md:6: duplicate key "all" (also line 5; keep only one)'
    ]


# --- type, incident, id -----------------------------------------------------------------


def test_type_defaults_to_update() -> None:
    assert valid(f"title: T\ndate: {DATE}\n").type is StatementType.UPDATE


def test_unknown_type_suggests_closest() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\ntype: press release\n") == [
        'statements/a.md:4: unknown type "press release" (did you mean "press-release"?)'
    ]
    assert problems_of(f"title: T\ndate: {DATE}\ntype: communiqué\n") == [
        'statements/a.md:4: unknown type "communiqué" '
        '(use "update", "press-release" or "maintenance")'
    ]


def test_incident_must_be_a_slug() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\nincident: Panne Réseau\n") == [
        'statements/a.md:4: incident "Panne Réseau" is not a valid slug '
        '(use lowercase letters, digits and hyphens, such as "panne-reseau")'
    ]


def test_id_defaults_to_the_file_name() -> None:
    statement = valid(f"title: T\ndate: {DATE}\n", name="2024-10-05-panne")
    assert statement.id == "2024-10-05-panne"


def test_file_name_that_is_not_an_id_asks_to_rename_or_add_id() -> None:
    files = {"statements/Point Été.md": statement_text(f"title: T\ndate: {DATE}\n")}
    assert problems(files) == [
        'statements/Point Été.md:1: file name "Point Été.md" is not a valid id '
        '(rename the file to "point-ete.md" or add an "id:" key)'
    ]


def test_explicit_id_rescues_a_bad_file_name() -> None:
    statement = valid(f"title: T\ndate: {DATE}\nid: point-1\n", name="Point 1")
    assert statement.id == "point-1"


def test_explicit_id_must_be_a_slug() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\nid: _x\n") == [
        'statements/a.md:4: id "_x" is not a valid slug '
        '(use lowercase letters, digits and hyphens, such as "x")'
    ]


def test_duplicate_id_is_reported_at_both_places() -> None:
    files = {
        "statements/a.md": statement_text(f"title: A\ndate: {DATE}\n"),
        "statements/2024/b.md": statement_text(f"title: B\ndate: {DATE}\nid: a\n"),
    }
    assert problems(files) == [
        'statements/2024/b.md:4: duplicate id "a" (also statements/a.md:1)',
        'statements/a.md:1: duplicate id "a" (also statements/2024/b.md:4)',
    ]


def test_same_file_name_in_two_folders_is_a_duplicate_id() -> None:
    files = {
        "statements/2023/point.md": statement_text(f"title: A\ndate: {DATE}\n"),
        "statements/2024/point.md": statement_text(f"title: B\ndate: {DATE}\n"),
    }
    assert problems(files) == [
        'statements/2023/point.md:1: duplicate id "point" (also statements/2024/point.md:1)',
        'statements/2024/point.md:1: duplicate id "point" (also statements/2023/point.md:1)',
    ]


# --- summary ----------------------------------------------------------------------------


def test_summary_defaults_to_first_paragraph_as_plain_text() -> None:
    body = "# Point de situation\n\nLes *urgences* &amp; la [maternité](https://x.org)\nrouvrent.\n\nSuite.\n"
    statement = valid(f"title: T\ndate: {DATE}\n", body)
    assert statement.summary == "Les urgences & la maternité rouvrent."
    assert statement.body == body


def test_summary_of_empty_body_is_empty() -> None:
    assert valid(f"title: T\ndate: {DATE}\n", "").summary == ""


def test_long_first_paragraph_is_cut_at_a_word() -> None:
    body = "mot " * 100
    summary = valid(f"title: T\ndate: {DATE}\n", body).summary
    assert len(summary) <= 280
    assert summary.endswith("mot…")


def test_given_summary_wins_and_is_collapsed() -> None:
    statement = valid(f"title: T\ndate: {DATE}\nsummary: >\n  Deux\n\n  lignes.\n")
    assert statement.summary == "Deux lignes."


def test_summary_longer_than_280_characters_is_refused() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\nsummary: {'x' * 301}\n") == [
        'statements/a.md:4: "summary" is longer than 280 characters (301)'
    ]


def test_summarize_skips_headings_code_and_scripts() -> None:
    assert summarize("## Titre\n\n<script>alert(1)</script>\n\nTexte &lt;b&gt;.\n") == (
        "Texte <b>."
    )
    assert summarize("```\ncode\n\nmore\n```\n\nAprès le code.\n") == "Après le code."
    assert summarize("- un\n- deux\n") == "un deux"


def test_the_summary_is_the_first_paragraph_the_published_body_shows() -> None:
    # Markup the sanitizer drops is not in the page, so not in the summary either.
    assert summarize('<p onclick="x()">Cliquez</p>\n\nSuite.\n') == "Cliquez"
    assert summarize("<style>p {}</style>\n\nTexte.\n") == "Texte."
    # No footnotes on the page: `[^1]` is a reference link there, and so here.
    assert summarize("Texte[^1].\n\n[^1]: Note.\n") == "Texte^1."
    assert "^1" in BeautifulSoup(page_body_html("Texte[^1].\n\n[^1]: Note.\n"), "html.parser").text


def test_shorten_keeps_short_text_and_cuts_long_text_at_a_word() -> None:
    assert shorten("court", 10) == "court"
    assert shorten("un deux trois quatre", 10) == "un deux…"
    assert shorten("anticonstitutionnellement", 10) == "anticonst…"


def test_slugify_makes_ids_from_french_text() -> None:
    assert slugify("Point d'étape n°2 — Été") == "point-d-etape-n-2-ete"


# --- draft, social ----------------------------------------------------------------------


@pytest.mark.parametrize(("written", "draft"), [("true", True), ("false", False), ("True", True)])
def test_draft_is_a_boolean(written: str, draft: bool) -> None:
    assert valid(f"title: T\ndate: {DATE}\ndraft: {written}\n").draft is draft


def test_draft_as_french_word_is_refused() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\ndraft: oui\n") == [
        'statements/a.md:4: "draft" must be true or false, not "oui"'
    ]


@pytest.mark.parametrize(
    ("written", "social"),
    [
        ("false", (False, None)),
        ("true", (True, None)),
        ("", (True, None)),
        ("'Urgences rouvertes'", (True, "Urgences rouvertes")),
    ],
)
def test_social_is_false_true_or_text(written: str, social: tuple[bool, str | None]) -> None:
    statement = valid(f"title: T\ndate: {DATE}\nsocial: {written}\n")
    assert (statement.postable, statement.post_text) == social


def test_social_yes_no_words_are_refused() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\nsocial: no\n") == [
        'statements/a.md:4: "social" must be false, true or the text of the post, not "no" '
        "(write false to never post this statement, or put the text in quotes)"
    ]


def test_social_empty_text_is_refused() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\nsocial: ''\n") == [
        'statements/a.md:4: "social" is empty '
        "(write false to never post this statement, or the text of the post)"
    ]


# --- establishments.yml -----------------------------------------------------------------


def test_unquoted_phone_keeps_its_raw_text() -> None:
    registry = ESTABLISHMENTS.replace(
        "    city: Nantes\n", "    city: Nantes\n    phone: 0240000000\n"
    )
    validated = check({"establishments.yml": registry})
    assert validated.repository is not None
    assert validated.repository.establishment("jules-verne").phone == "0240000000"


@pytest.mark.parametrize(
    "phone",
    [
        "+33 2 99 00 00 00",
        "02 99 00 00 00",
        "02.99.00.00.00",
        "02-99-00-00-00",
        "+33 (0)2 99 00 00 00",
        "(02) 99 00 00 00",
        "+33\u00a02\u00a099\u00a000\u00a000\u00a000",
        "15",
        "3114",
    ],
)
def test_phone_numbers_as_people_write_them_are_accepted(phone: str) -> None:
    registry = ESTABLISHMENTS.replace('"+33 2 00 00 00 00"', f'"{phone}"').replace(
        "    city: Nantes\n", f'    city: Nantes\n    phone: "{phone}"\n'
    )
    validated = check({"establishments.yml": registry})
    assert validated.problems == ()
    assert validated.repository.organisation.press.phone == phone
    assert validated.repository.establishment("jules-verne").phone == phone


@pytest.mark.parametrize(
    "phone",
    [
        *("javascript:alert(1)", "tel:2", "2", "+", "appelez le 15", "1+2"),
        *("02 99 00 00 00 / 01", "0٢٩٩", "1234567890123456", "<b>02</b>", "02..99"),
    ],
)
def test_a_phone_that_is_not_a_number_is_refused_at_its_line(phone: str) -> None:
    registry = ESTABLISHMENTS.replace(
        "    city: Nantes\n", f'    city: Nantes\n    phone: "{phone}"\n'
    )
    assert problems({"establishments.yml": registry}) == [
        f'establishments.yml:16: "phone" is not a phone number: "{phone}" (write 2 to 15 '
        "digits, grouped with spaces, dots or dashes, with an optional leading +, such as "
        '"+33 2 99 00 00 00", "02 99 00 00 00" or "15")'
    ]


def test_a_press_phone_and_email_are_checked_too() -> None:
    registry = ESTABLISHMENTS.replace(
        "presse@example.org", "javascript:alert(1)//@example.org"
    ).replace('"+33 2 00 00 00 00"', "tel:2")
    assert problems({"establishments.yml": registry}) == [
        'establishments.yml:6: "email" is not an email address: '
        '"javascript:alert(1)//@example.org" (write the address alone, such as '
        "presse@example.org)",
        'establishments.yml:7: "phone" is not a phone number: "tel:2" (write 2 to 15 digits, '
        "grouped with spaces, dots or dashes, with an optional leading +, such as "
        '"+33 2 99 00 00 00", "02 99 00 00 00" or "15")',
    ]


@pytest.mark.parametrize(
    "email",
    [
        *("mailto:presse@example.org", "presse@example.org?cc=x@y.org", 'a"b@example.org'),
        *("<b>a</b>@example.org", "pr esse@example.org", "presse@example", "presse@.org"),
    ],
)
def test_an_email_with_a_scheme_markup_or_space_is_refused(email: str) -> None:
    registry = ESTABLISHMENTS.replace("presse@example.org", email)
    assert problems({"establishments.yml": registry}) == [
        f'establishments.yml:6: "email" is not an email address: "{email}" '
        "(write the address alone, such as presse@example.org)"
    ]


@pytest.mark.parametrize("email", ["presse@example.org", "prénom.nom+crise@hôpital-ouest.fr"])
def test_plain_email_addresses_are_accepted(email: str) -> None:
    registry = ESTABLISHMENTS.replace("presse@example.org", email)
    validated = check({"establishments.yml": registry})
    assert validated.problems == ()
    assert validated.repository.organisation.press.email == email


def test_registry_problems_are_all_reported() -> None:
    registry = """\
organisation:
  nom: Hospi
  timezone: Europe/Pariss
  url: www.example.org
  press:
    email: presse
establishments:
  - id: La Sagesse
    name: Clinique
    ville: Rennes
  - id: all
    name: Tous
    city: Partout
  - id: jv
    name: [a]
    city: Nantes
  - id: jv
    name: JV
    city: Nantes
  - just text
"""
    assert problems({"establishments.yml": registry}) == [
        'establishments.yml:2: "name" is required',
        'establishments.yml:2: unknown key "nom"',
        'establishments.yml:3: unknown timezone "Europe/Pariss" (did you mean "Europe/Paris"?)',
        'establishments.yml:4: "url" must be a full web address, not "www.example.org" '
        "(start it with https://)",
        'establishments.yml:6: "email" is not an email address: "presse" '
        "(write the address alone, such as presse@example.org)",
        'establishments.yml:6: "name" is required',
        'establishments.yml:8: "city" is required',
        'establishments.yml:8: id "La Sagesse" is not a valid slug '
        '(use lowercase letters, digits and hyphens, such as "la-sagesse")',
        'establishments.yml:10: unknown key "ville"',
        'establishments.yml:11: id "all" is reserved: in a statement it means every establishment',
        'establishments.yml:14: duplicate id "jv" (also line 17)',
        'establishments.yml:15: "name" must be text, not a list',
        'establishments.yml:17: duplicate id "jv" (also line 14)',
        "establishments.yml:20: each establishment must be a mapping with id, name and city, "
        "not text",
    ]


def test_registry_without_establishments_is_refused() -> None:
    registry = "organisation:\n  name: Hospi\nestablishments: []\n"
    assert problems({"establishments.yml": registry}) == [
        'establishments.yml:3: "establishments" must list at least one establishment'
    ]
    registry = "organisation:\n  name: Hospi\nestablishments:\n  la-sagesse: x\n"
    assert problems({"establishments.yml": registry}) == [
        'establishments.yml:4: "establishments" must be a list (one "- id: ..." entry each), '
        "not a mapping"
    ]


def test_empty_organisation_is_reported_as_empty() -> None:
    registry = "organisation:\nestablishments:\n  - {id: a, name: A, city: C}\n"
    assert problems({"establishments.yml": registry}) == [
        'establishments.yml:1: "organisation" is empty'
    ]


def test_empty_registry_needs_organisation_and_establishments() -> None:
    assert problems({"establishments.yml": "# rien\n"}) == [
        'establishments.yml:1: "establishments" is required',
        'establishments.yml:1: "organisation" is required',
    ]


def test_broken_registry_does_not_cause_unknown_establishment_noise() -> None:
    files = {
        "establishments.yml": "organisation: [x\n",
        "statements/a.md": statement_text(f"title: T\ndate: {DATE}\nstatus:\n  la-sagesse: down\n"),
    }
    assert problems(files) == [
        "establishments.yml:2: invalid YAML: expected ',' or ']', but got '<stream end>'"
    ]


def test_statement_can_name_an_establishment_whose_entry_is_broken() -> None:
    registry = ESTABLISHMENTS.replace("    city: Nantes\n", "")
    files = {
        "establishments.yml": registry,
        "statements/a.md": statement_text(
            f"title: T\ndate: {DATE}\nstatus:\n  jules-verne: down\n"
        ),
    }
    assert problems(files) == ['establishments.yml:13: "city" is required']


# --- mkdocs.yml -------------------------------------------------------------------------


def test_site_url_gets_a_trailing_slash() -> None:
    validated = check({"mkdocs.yml": "site_name: S\nsite_url: https://x.org/status\n"})
    assert validated.repository is not None
    assert validated.repository.site.url == "https://x.org/status/"


def test_site_url_is_required_and_explained() -> None:
    assert problems({"mkdocs.yml": "site_name: S\ntheme: material\n"}) == [
        'mkdocs.yml:1: "site_url" is required: feeds and social posts need absolute '
        'permalinks (add a line such as "site_url: https://status.example.org/")'
    ]


def test_relative_site_url_is_refused() -> None:
    assert problems({"mkdocs.yml": "site_name: S\nsite_url: /status/\n"}) == [
        'mkdocs.yml:2: "site_url" must be an absolute http(s) address, not "/status/" '
        "(feeds and social posts need absolute permalinks, such as https://status.example.org/)"
    ]


def test_site_name_is_required() -> None:
    assert problems({"mkdocs.yml": "site_url: https://x.org/\n"}) == [
        'mkdocs.yml:1: "site_name" is required (add a line such as "site_name: État des services")'
    ]


def test_site_url_from_environment_tag_is_refused() -> None:
    assert problems({"mkdocs.yml": "site_name: S\nsite_url: !ENV SITE_URL\n"}) == [
        'mkdocs.yml:2: "site_url" has the YAML tag !ENV, which Balise cannot read '
        "(write the value itself)"
    ]


def test_mkdocs_extras_with_python_tags_are_ignored() -> None:
    text = MKDOCS + "markdown_extensions:\n  - x:\n      f: !!python/name:a.b\n"
    assert check({"mkdocs.yml": text}).repository is not None


def test_missing_mkdocs_yml_is_a_problem(tmp_path: Path) -> None:
    write(tmp_path, {})
    (tmp_path / "mkdocs.yml").unlink()
    assert [str(p) for p in validate_repository(load_repository(tmp_path)).problems] == [
        "mkdocs.yml:1: file not found "
        "(a status repository has mkdocs.yml at its root, with site_name and site_url)"
    ]


# --- properties -------------------------------------------------------------------------


@settings(
    max_examples=75, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(front=st.text(max_size=200), body=st.text(max_size=100))
def test_random_front_matter_only_yields_problems(front: str, body: str) -> None:
    validated = check({"statements/a.md": f"---\n{front}\n---\n{body}"})
    assert (validated.repository is None) == any(not p.warning for p in validated.problems)


_KEYS = st.sampled_from([key.name for key in STATEMENT_KEYS] + ["all", "la-sagesse", "x"])
_VALUES = st.one_of(
    st.sampled_from(["", "~", "true", "no", "10:30", "2024-10-27 02:30", "[a]", "{a: b}", "down"]),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=20),
)


@settings(
    max_examples=75, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(entries=st.lists(st.tuples(_KEYS, _VALUES), max_size=8))
def test_random_key_value_front_matter_only_yields_problems(entries: list[tuple[str, str]]) -> None:
    front = "".join(f"{key}: {value}\n" for key, value in entries)
    validated = check({"statements/a.md": statement_text(front)})
    assert (validated.repository is None) == any(not p.warning for p in validated.problems)


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.binary(max_size=200))
def test_random_bytes_only_yield_problems(tmp_path: Path, content: bytes) -> None:
    validated = check_on_disk(tmp_path, {"statements/a.md": content, "mkdocs.yml": content})
    assert validated.repository is None or validated.problems == ()


@settings(max_examples=100, deadline=None)
@given(body=st.text(alphabet="<>![]&#;/ -*_`\nabcpé=\"'", max_size=80))
def test_summarize_never_raises_and_stays_short(body: str) -> None:
    summary = summarize(body)
    assert len(summary) <= 280
    assert "\n" not in summary


# Any character at all, surrogates and controls included, as YAML would let a user write it.
_ANY_CHARACTER = st.one_of(
    st.characters(),
    st.integers(0, 0x9F).map(chr),
    st.integers(0xD800, 0xDFFF).map(chr),
)
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _escaped(text: str) -> str:
    """`text` as a YAML double-quoted scalar, every character outside [a-z ] as an escape."""
    return '"' + "".join(c if c in "abcz " else f"\\U{ord(c):08x}" for c in text) + '"'


def _texts(value: object) -> list[str]:
    """Every string inside a validated value: dataclass fields, tuples, mappings."""
    if isinstance(value, str):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [t for f in dataclasses.fields(value) for t in _texts(getattr(value, f.name))]
    if isinstance(value, tuple | list):
        return [t for item in value for t in _texts(item)]
    if isinstance(value, Mapping):
        return [t for item in value.items() for t in _texts(item)]
    return []


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=st.lists(st.text(_ANY_CHARACTER, max_size=12), min_size=6, max_size=6),
    key=st.sampled_from(["incident", "type", "id", "la-sagesse"]),
)
def test_no_validated_text_holds_a_surrogate_or_a_control_character(
    tmp_path: Path, values: list[str], key: str
) -> None:
    title, summary, social, name, city, site_name = map(_escaped, values)
    front = f"title: T {title}\ndate: {DATE}\nsummary: {summary}\nsocial: {social}\n"
    front += f"{key}: {title}\n" if key != "la-sagesse" else f"status:\n  {key}: {title}\n"
    registry = ESTABLISHMENTS.replace("Clinique La Sagesse", name).replace("Rennes", city)
    files = {
        "statements/a.md": statement_text(front),
        "establishments.yml": registry,
        "mkdocs.yml": MKDOCS + f"site_description: {site_name}\n",
    }
    outcome = build_check(write(tmp_path, files), datetime(2024, 10, 6, tzinfo=UTC))
    for problem in outcome.problems:
        assert not _FORBIDDEN.search(str(problem)), problem
    for text in _texts(outcome.repository):
        assert not _FORBIDDEN.search(text), text


_INSTANTS = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
_OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@settings(max_examples=100, deadline=None)
@given(instant=_INSTANTS, offset=_OFFSETS, separator=st.sampled_from(["T", " "]))
def test_valid_date_with_offset_round_trips(
    instant: datetime, offset: timezone, separator: str
) -> None:
    text = instant.astimezone(offset).isoformat(sep=separator)
    assert parse_instant(text, "Europe/Paris") == instant


@settings(max_examples=100, deadline=None)
@given(local=st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1)))
def test_valid_local_date_round_trips_or_is_refused(local: datetime) -> None:
    result = parse_instant(local.isoformat(sep=" "), "Europe/Paris")
    if isinstance(result, tuple):
        early = local.replace(tzinfo=PARIS, fold=0)
        assert early.utcoffset() != local.replace(tzinfo=PARIS, fold=1).utcoffset()
    else:
        assert result.replace(tzinfo=None) == local
        assert result.utcoffset() == local.replace(tzinfo=PARIS).utcoffset()


@settings(max_examples=100, deadline=None)
@given(
    local=st.datetimes(),
    suffix=st.sampled_from(["", "Z", "+14:00", "-12:00", "+23:59"]),
    zone=st.sampled_from(["Europe/Paris", "Pacific/Kiritimati", "America/Adak", "UTC"]),
)
def test_parse_instant_never_raises_even_at_the_ends_of_time(
    local: datetime, suffix: str, zone: str
) -> None:
    result = parse_instant(local.isoformat() + suffix, zone)
    assert isinstance(result, datetime | tuple)


# --- the parts, with values: node readers, the declared schema and its loop ---------------


def node(yaml_text: str) -> RawNode:
    met: list[Problem] = []
    found = parse_yaml(yaml_text, "x.yml", 1, met)
    assert met == [] and found is not None
    return found


def read_value(reader, yaml_text: str, name: str = "k") -> tuple[object, list[str]]:
    """A node reader's value for `k: ...`, and the problems it reported."""
    met: list[Problem] = []
    mapping = node(yaml_text)
    assert isinstance(mapping, RawMap)
    value = reader(Field(Report("x.yml", met), name, None), mapping.get(name))
    return value, [str(p) for p in met]


def test_text_reader_keeps_the_raw_text_and_refuses_lists_and_tags() -> None:
    assert read_value(nodes.text, "k: 10:30\n") == ("10:30", [])
    assert read_value(nodes.text, "k: ''\n") == (None, [])
    assert read_value(nodes.required_text, "k: ''\n") == (None, ['x.yml:1: "k" is empty'])
    assert read_value(nodes.text, "k: [a]\n") == (None, ['x.yml:1: "k" must be text, not a list'])
    assert read_value(nodes.text, "k: !ENV X\n") == (
        None,
        ['x.yml:1: "k" has the YAML tag !ENV, which Balise cannot read (write the value itself)'],
    )


def test_slug_reader_suggests_a_valid_id() -> None:
    assert read_value(nodes.slug, "id: panne-si\n", "id") == ("panne-si", [])
    assert read_value(nodes.slug, "id: Panne Réseau\n", "id") == (
        None,
        [
            'x.yml:1: id "Panne Réseau" is not a valid slug '
            '(use lowercase letters, digits and hyphens, such as "panne-reseau")'
        ],
    )


@pytest.mark.parametrize("written", ["15", "+33 2 99 00 00 00", "02.99.00.00.00", "+33 (0)2 99"])
def test_phone_reader_accepts_numbers_as_people_write_them(written: str) -> None:
    assert read_value(nodes.phone, f'k: "{written}"\n') == (written, [])


@pytest.mark.parametrize("written", ["1", "appelez-nous", "+33 2 99 00 00 00 00 00 00 00"])
def test_phone_reader_refuses_what_is_not_a_number(written: str) -> None:
    value, met = read_value(nodes.phone, f'k: "{written}"\n')
    assert value is None and met[0].startswith(f'x.yml:1: "k" is not a phone number: "{written}"')


def test_email_and_web_address_readers() -> None:
    assert read_value(nodes.email, "k: presse@example.org\n") == ("presse@example.org", [])
    assert read_value(nodes.email, "k: mailto:presse@example.org\n")[0] is None
    assert read_value(nodes.web_address, "k: https://example.org\n") == ("https://example.org", [])
    assert read_value(nodes.web_address, "k: example.org\n") == (
        None,
        ['x.yml:1: "k" must be a full web address, not "example.org" (start it with https://)'],
    )


def test_instant_reader_reads_in_the_zone_and_names_its_key() -> None:
    def paris(field: Field[None], found: RawNode | None) -> datetime | None:
        return dates.instant(field, found, "Europe/Paris")

    value, met = read_value(paris, "publish_at: 2024-10-05 10:00\n", "publish_at")
    assert value == datetime(2024, 10, 5, 10, tzinfo=PARIS) and met == []
    value, met = read_value(paris, "publish_at: 2024-03-31 02:00\n", "publish_at")
    assert value is None and met[0].startswith('x.yml:1: publish_at "2024-03-31 02:00" does not')


# A schema of two keys, as a new file's would be declared: the loop does the rest.
_COLOUR = Key("colour", str, nodes.required_text, "a colour", required=True, example="add one")
_SIZE = Key("size", int, lambda field, found: int(found.text), "a size", default=1)


def read_schema(yaml_text: str) -> tuple[Read, list[str]]:
    met: list[Problem] = []
    mapping = node(yaml_text)
    assert isinstance(mapping, RawMap)
    return read(Report("x.yml", met), mapping, (_COLOUR, _SIZE), None), [str(p) for p in met]


def test_the_loop_reads_each_declared_key_and_applies_defaults() -> None:
    found, met = read_schema("colour: bleu\n")
    assert met == [] and found.complete
    assert found.values == {"colour": "bleu", "size": 1}
    assert found.written == {"colour": (1, found.node("colour"))}
    found, met = read_schema("colour: bleu\nsize:\n")  # an empty optional key is unset
    assert found.values == {"colour": "bleu", "size": 1}
    assert read_schema("size: 3\ncolour: vert\n")[0].values == {"colour": "vert", "size": 3}


def test_the_loop_reports_unknown_and_missing_keys() -> None:
    found, met = read_schema("size: 3\ncoulour: bleu\n")
    assert not found.complete and found.values == {"size": 3}
    assert met == [
        'x.yml:2: unknown key "coulour" (did you mean "colour"?)',
        'x.yml:1: "colour" is required (add one)',
    ]


def test_the_loop_leaves_other_keys_alone_when_they_may_be_there() -> None:
    met: list[Problem] = []
    mapping = node("theme: material\ncolour: rouge\n")
    assert isinstance(mapping, RawMap)
    found = read(Report("x.yml", met), mapping, (_COLOUR, _SIZE), None, others=True)
    assert met == [] and found.values == {"colour": "rouge", "size": 1}


def test_keys_table_is_one_row_per_declared_key() -> None:
    assert keys_table((_COLOUR, _SIZE)) == (
        "| key | required | meaning |\n| --- | --- | --- |\n"
        "| `colour` | yes | a colour |\n| `size` | no | a size |"
    )


def test_every_schema_declares_a_parser_a_type_and_a_meaning() -> None:
    schemas = (
        STATEMENT_KEYS,
        REGISTRY_KEYS,
        ORGANISATION_KEYS,
        PRESS_KEYS,
        ESTABLISHMENT_KEYS,
        SITE_KEYS,
    )
    for keys in schemas:
        assert len({key.name for key in keys}) == len(keys)
        for key in keys:
            assert callable(key.parse) and key.meaning and isinstance(key.type, type | UnionType)
            assert not (key.required and (key.default is not None or key.derive)), key.name

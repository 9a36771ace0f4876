"""Tests for balise.validate: typed records from raw ones, and the exact problem texts."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from balise.build import check as build_check
from balise.load import RawRepository, load_repository
from balise.model import Statement, StatementType, Status
from balise.render.markdown import page_body_html
from balise.validate import (
    STATEMENT_KEYS,
    Validated,
    parse_instant,
    shorten,
    slugify,
    summarize,
    validate_repository,
)

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


def statement_text(front: str, body: str = "Texte.\n") -> str:
    return f"---\n{front}---\n{body}"


def check(root: Path, files: dict[str, str | bytes]) -> Validated:
    return validate_repository(load_repository(write(root, files)))


def problems(root: Path, files: dict[str, str | bytes]) -> list[str]:
    return [str(problem) for problem in check(root, files).problems]


def problems_of(root: Path, front: str, body: str = "Texte.\n") -> list[str]:
    return problems(root, {"statements/a.md": statement_text(front, body)})


def valid(root: Path, front: str, body: str = "Texte.\n", name: str = "a") -> Statement:
    validated = check(root, {f"statements/{name}.md": statement_text(front, body)})
    assert [str(p) for p in validated.problems] == []
    assert validated.repository is not None
    (statement,) = validated.repository.statements
    return statement


# --- a valid repository -----------------------------------------------------------------


def test_valid_repository_yields_typed_records(tmp_path: Path) -> None:
    validated = check(
        tmp_path,
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


def test_statements_are_sorted_by_date_then_path(tmp_path: Path) -> None:
    validated = check(
        tmp_path,
        {
            "statements/c.md": statement_text("title: C\ndate: 2024-10-05 09:00\n"),
            "statements/b.md": statement_text("title: B\ndate: 2024-10-05 08:00\n"),
            "statements/a.md": statement_text("title: A\ndate: 2024-10-05 09:00\n"),
        },
    )
    assert validated.repository is not None
    assert [s.id for s in validated.repository.statements] == ["b", "a", "c"]


def test_no_statements_at_all_is_valid(tmp_path: Path) -> None:
    validated = check(tmp_path, {})
    assert validated.problems == ()
    assert validated.repository is not None
    assert validated.repository.statements == ()


def test_any_problem_means_no_repository(tmp_path: Path) -> None:
    validated = check(tmp_path, {"statements/a.md": statement_text(f"date: {DATE}\n")})
    assert validated.repository is None


def test_updated_is_the_git_time_of_the_file(tmp_path: Path) -> None:
    raw = load_repository(
        write(tmp_path, {"statements/a.md": statement_text(f"title: T\ndate: {DATE}\n")})
    )
    commit = datetime(2024, 10, 6, 12, 0, tzinfo=UTC)
    validated = validate_repository(dataclasses.replace(raw, updated={"statements/a.md": commit}))
    assert validated.repository is not None
    assert validated.repository.statements[0].updated == commit


def test_validation_needs_no_files(tmp_path: Path) -> None:
    raw = load_repository(write(tmp_path, {}))
    assert validate_repository(raw).repository is not None
    empty = RawRepository(establishments=None, mkdocs=None, statements=())
    assert validate_repository(empty) == Validated(None, ())


# --- every problem ----------------------------------------------------------------------


def test_every_problem_is_reported_not_just_the_first(tmp_path: Path) -> None:
    assert problems(
        tmp_path,
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
    assert problems(tmp_path, {"statements/a.md": "no front matter"}) == [
        'statements/a.md:1: no front matter (a statement starts with a line "---", then '
        '"title:" and "date:", then a line "---")'
    ]


# --- keys -------------------------------------------------------------------------------


def test_unknown_key_suggests_closest(tmp_path: Path) -> None:
    assert problems_of(tmp_path, f"title: T\ndate: {DATE}\nincidnet: panne\n") == [
        'statements/a.md:4: unknown key "incidnet" (did you mean "incident"?)'
    ]


def test_unknown_key_without_close_match_has_no_hint(tmp_path: Path) -> None:
    assert problems_of(tmp_path, f"title: T\ndate: {DATE}\nsignature: moi\n") == [
        'statements/a.md:4: unknown key "signature"'
    ]


def test_missing_required_keys_point_at_the_mapping(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "incident: x\n") == [
        'statements/a.md:2: "date" is required',
        'statements/a.md:2: "title" is required',
    ]


def test_empty_front_matter_lacks_title_and_date(tmp_path: Path) -> None:
    assert problems(tmp_path, {"statements/a.md": "---\n---\n"}) == [
        'statements/a.md:1: "date" is required',
        'statements/a.md:1: "title" is required',
    ]


def test_front_matter_that_is_a_list_is_refused(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "- title\n- date\n") == [
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
    ]
    assert [key.name for key in STATEMENT_KEYS if key.required] == ["title", "date"]


# --- title ------------------------------------------------------------------------------


def test_unquoted_time_title_keeps_raw_text(tmp_path: Path) -> None:
    assert valid(tmp_path, f"title: 10:30\ndate: {DATE}\n").title == "10:30"


@pytest.mark.parametrize("title", ["no", "on", "1e3", "0x1F", "2024-10-05", "~ test"])
def test_yaml_guesses_never_corrupt_a_title(tmp_path: Path, title: str) -> None:
    assert valid(tmp_path, f"title: {title}\ndate: {DATE}\n").title == title


def test_title_that_is_a_list_is_refused(tmp_path: Path) -> None:
    assert problems_of(tmp_path, f"title:\n  - a\n  - b\ndate: {DATE}\n") == [
        'statements/a.md:3: "title" must be text, not a list'
    ]


def test_empty_title_is_refused(tmp_path: Path) -> None:
    assert problems_of(tmp_path, f"title:\ndate: {DATE}\n") == [
        'statements/a.md:2: "title" is empty'
    ]
    assert problems_of(tmp_path, f"title: '  '\ndate: {DATE}\n") == [
        'statements/a.md:2: "title" is empty'
    ]


def test_title_longer_than_200_characters_is_refused(tmp_path: Path) -> None:
    assert problems_of(tmp_path, f"title: {'x' * 213}\ndate: {DATE}\n") == [
        'statements/a.md:2: "title" is longer than 200 characters (213)'
    ]
    assert len(valid(tmp_path, f"title: {'é' * 200}\ndate: {DATE}\n").title) == 200


def test_title_on_several_lines_is_refused(tmp_path: Path) -> None:
    assert problems_of(tmp_path, f"title: |\n  Ligne un\n  Ligne deux\ndate: {DATE}\n") == [
        'statements/a.md:2: "title" must be a single line'
    ]


def test_title_with_unknown_tag_is_refused(tmp_path: Path) -> None:
    assert problems_of(tmp_path, f"title: !ENV TITLE\ndate: {DATE}\n") == [
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
def test_dates_in_iso_8601_are_read(tmp_path: Path, text: str, expected: datetime) -> None:
    date = valid(tmp_path, f"title: T\ndate: {text}\n").date
    assert date == expected
    assert date.utcoffset() == expected.astimezone(PARIS).utcoffset()


def test_naive_date_in_dst_gap_is_rejected(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "title: T\ndate: 2024-03-31 02:30\n") == [
        'statements/a.md:3: date "2024-03-31 02:30" does not exist in Europe/Paris '
        "(daylight-saving change): write another time or add an offset such as +01:00"
    ]


def test_naive_date_in_dst_overlap_is_ambiguous(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "title: T\ndate: 2024-10-27 02:30\n") == [
        'statements/a.md:3: date "2024-10-27 02:30" is ambiguous in Europe/Paris '
        "(daylight-saving change): add an offset such as +02:00 or +01:00"
    ]


def test_offset_settles_an_ambiguous_local_time(tmp_path: Path) -> None:
    date = valid(tmp_path, "title: T\ndate: 2024-10-27 02:30+01:00\n").date
    assert date == datetime(2024, 10, 27, 1, 30, tzinfo=UTC)
    assert date.isoformat() == "2024-10-27T02:30:00+01:00"


def test_dates_in_the_repeated_hour_keep_their_real_order(tmp_path: Path) -> None:
    validated = check(
        tmp_path,
        {
            "statements/a.md": statement_text("title: A\ndate: 2024-10-27 02:15+01:00\n"),
            "statements/b.md": statement_text("title: B\ndate: 2024-10-27 02:45+02:00\n"),
        },
    )
    assert validated.repository is not None
    first, second = validated.repository.statements
    assert (first.id, second.id) == ("b", "a")
    assert first.date < second.date


def test_naive_date_is_read_in_the_organisation_timezone(tmp_path: Path) -> None:
    registry = ESTABLISHMENTS.replace(
        "  url: https://www.example.org\n", "  timezone: America/Cayenne\n"
    )
    validated = check(
        tmp_path,
        {
            "establishments.yml": registry,
            "statements/a.md": statement_text("title: T\ndate: 2024-10-05 08:00\n"),
        },
    )
    assert validated.repository is not None
    assert validated.repository.statements[0].date == datetime(2024, 10, 5, 11, 0, tzinfo=UTC)


def test_impossible_calendar_date_is_refused(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "title: T\ndate: 2024-02-30\n") == [
        'statements/a.md:3: date "2024-02-30" is not a real date or time '
        "(day is out of range for month)"
    ]


def test_date_that_is_not_iso_is_refused(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "title: T\ndate: 5 octobre 2024\n") == [
        'statements/a.md:3: date "5 octobre 2024" is not an ISO 8601 date '
        "(write it like 2024-10-05T08:00:00+02:00 or 2024-10-05 08:00)"
    ]


def test_date_that_is_a_mapping_is_refused(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "title: T\ndate:\n  day: 5\n") == [
        'statements/a.md:4: "date" must be a date such as 2024-10-05T08:00:00+02:00, not a mapping'
    ]


def test_publish_at_is_an_instant_with_its_own_name_in_messages(tmp_path: Path) -> None:
    statement = valid(tmp_path, f"title: T\ndate: {DATE}\npublish_at: 2024-10-05 10:00\n")
    assert statement.publish_at == datetime(2024, 10, 5, 8, 0, tzinfo=UTC)
    assert problems_of(tmp_path, f"title: T\ndate: {DATE}\npublish_at: 2024-03-31 02:00\n") == [
        'statements/a.md:4: publish_at "2024-03-31 02:00" does not exist in Europe/Paris '
        "(daylight-saving change): write another time or add an offset such as +01:00"
    ]


def test_empty_publish_at_means_no_embargo(tmp_path: Path) -> None:
    assert valid(tmp_path, f"title: T\ndate: {DATE}\npublish_at:\n").publish_at is None


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


def test_explicit_id_beside_all_wins(tmp_path: Path) -> None:
    statement = valid(
        tmp_path, f"title: T\ndate: {DATE}\nstatus:\n  jules-verne: normal\n  all: down\n"
    )
    assert statement.status == (
        ("la-sagesse", Status.DOWN),
        ("jules-verne", Status.NORMAL),
        ("saint-gregoire", Status.DOWN),
    )
    assert statement.sets_all is True


def test_explicit_statuses_come_in_registry_order(tmp_path: Path) -> None:
    statement = valid(
        tmp_path,
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
def test_french_status_aliases_are_accepted(tmp_path: Path, written: str, status: Status) -> None:
    statement = valid(tmp_path, f"title: T\ndate: {DATE}\nstatus:\n  la-sagesse: {written}\n")
    assert statement.status == (("la-sagesse", status),)


@pytest.mark.parametrize("written", ["status:\n", "status: {}\n", "status: ~\n"])
def test_empty_status_changes_nothing(tmp_path: Path, written: str) -> None:
    statement = valid(tmp_path, f"title: T\ndate: {DATE}\n{written}")
    assert (statement.status, statement.sets_all) == ((), False)


def test_unknown_establishment_suggests_closest(tmp_path: Path) -> None:
    assert problems_of(tmp_path, f"title: T\ndate: {DATE}\nstatus:\n  jules-vern: down\n") == [
        'statements/a.md:5: unknown establishment "jules-vern" (did you mean "jules-verne"?)'
    ]


def test_unknown_establishment_without_close_match_points_at_registry(tmp_path: Path) -> None:
    assert problems_of(tmp_path, f"title: T\ndate: {DATE}\nstatus:\n  chu-brest: down\n") == [
        'statements/a.md:5: unknown establishment "chu-brest" (see the ids in establishments.yml)'
    ]


def test_unknown_status_suggests_closest_spelling(tmp_path: Path) -> None:
    assert problems_of(tmp_path, f"title: T\ndate: {DATE}\nstatus:\n  all: dégardé\n") == [
        'statements/a.md:5: unknown status "dégardé" (did you mean "degrade"?)'
    ]


def test_unknown_status_without_close_match_lists_the_values(tmp_path: Path) -> None:
    assert problems_of(tmp_path, f"title: T\ndate: {DATE}\nstatus:\n  all: fermé\n") == [
        'statements/a.md:5: unknown status "fermé" '
        "(use one of: normal, maintenance, degraded, disrupted, down)"
    ]


def test_empty_status_value_is_refused(tmp_path: Path) -> None:
    assert problems_of(tmp_path, f"title: T\ndate: {DATE}\nstatus:\n  la-sagesse:\n") == [
        'statements/a.md:5: status of "la-sagesse" is empty '
        "(use one of: normal, maintenance, degraded, disrupted, down)"
    ]


def test_status_as_text_is_refused(tmp_path: Path) -> None:
    assert problems_of(tmp_path, f"title: T\ndate: {DATE}\nstatus: down\n") == [
        'statements/a.md:4: "status" must be a mapping of establishment ids to statuses, not text'
    ]


def test_status_value_as_list_is_refused(tmp_path: Path) -> None:
    assert problems_of(tmp_path, f"title: T\ndate: {DATE}\nstatus:\n  all: [down]\n") == [
        'statements/a.md:5: status of "all" must be a single value, not a list'
    ]


def test_duplicate_establishment_in_status_is_reported(tmp_path: Path) -> None:
    front = f"title: T\ndate: {DATE}\nstatus:\n  all: down\n  all: normal\n"
    assert problems_of(tmp_path, front) == [
        'statements/a.md:6: duplicate key "all" (also line 5; keep only one)'
    ]


# --- type, incident, id -----------------------------------------------------------------


def test_type_defaults_to_update(tmp_path: Path) -> None:
    assert valid(tmp_path, f"title: T\ndate: {DATE}\n").type is StatementType.UPDATE


def test_unknown_type_suggests_closest(tmp_path: Path) -> None:
    assert problems_of(tmp_path, f"title: T\ndate: {DATE}\ntype: press release\n") == [
        'statements/a.md:4: unknown type "press release" (did you mean "press-release"?)'
    ]
    assert problems_of(tmp_path, f"title: T\ndate: {DATE}\ntype: communiqué\n") == [
        'statements/a.md:4: unknown type "communiqué" (use "update" or "press-release")'
    ]


def test_incident_must_be_a_slug(tmp_path: Path) -> None:
    assert problems_of(tmp_path, f"title: T\ndate: {DATE}\nincident: Panne Réseau\n") == [
        'statements/a.md:4: incident "Panne Réseau" is not a valid slug '
        '(use lowercase letters, digits and hyphens, such as "panne-reseau")'
    ]


def test_id_defaults_to_the_file_name(tmp_path: Path) -> None:
    statement = valid(tmp_path, f"title: T\ndate: {DATE}\n", name="2024-10-05-panne")
    assert statement.id == "2024-10-05-panne"


def test_file_name_that_is_not_an_id_asks_to_rename_or_add_id(tmp_path: Path) -> None:
    files = {"statements/Point Été.md": statement_text(f"title: T\ndate: {DATE}\n")}
    assert problems(tmp_path, files) == [
        'statements/Point Été.md:1: file name "Point Été.md" is not a valid id '
        '(rename the file to "point-ete.md" or add an "id:" key)'
    ]


def test_explicit_id_rescues_a_bad_file_name(tmp_path: Path) -> None:
    statement = valid(tmp_path, f"title: T\ndate: {DATE}\nid: point-1\n", name="Point 1")
    assert statement.id == "point-1"


def test_explicit_id_must_be_a_slug(tmp_path: Path) -> None:
    assert problems_of(tmp_path, f"title: T\ndate: {DATE}\nid: _x\n") == [
        'statements/a.md:4: id "_x" is not a valid slug '
        '(use lowercase letters, digits and hyphens, such as "x")'
    ]


def test_duplicate_id_is_reported_at_both_places(tmp_path: Path) -> None:
    files = {
        "statements/a.md": statement_text(f"title: A\ndate: {DATE}\n"),
        "statements/2024/b.md": statement_text(f"title: B\ndate: {DATE}\nid: a\n"),
    }
    assert problems(tmp_path, files) == [
        'statements/2024/b.md:4: duplicate id "a" (also statements/a.md:1)',
        'statements/a.md:1: duplicate id "a" (also statements/2024/b.md:4)',
    ]


def test_same_file_name_in_two_folders_is_a_duplicate_id(tmp_path: Path) -> None:
    files = {
        "statements/2023/point.md": statement_text(f"title: A\ndate: {DATE}\n"),
        "statements/2024/point.md": statement_text(f"title: B\ndate: {DATE}\n"),
    }
    assert problems(tmp_path, files) == [
        'statements/2023/point.md:1: duplicate id "point" (also statements/2024/point.md:1)',
        'statements/2024/point.md:1: duplicate id "point" (also statements/2023/point.md:1)',
    ]


# --- summary ----------------------------------------------------------------------------


def test_summary_defaults_to_first_paragraph_as_plain_text(tmp_path: Path) -> None:
    body = "# Point de situation\n\nLes *urgences* &amp; la [maternité](https://x.org)\nrouvrent.\n\nSuite.\n"
    statement = valid(tmp_path, f"title: T\ndate: {DATE}\n", body)
    assert statement.summary == "Les urgences & la maternité rouvrent."
    assert statement.body == body


def test_summary_of_empty_body_is_empty(tmp_path: Path) -> None:
    assert valid(tmp_path, f"title: T\ndate: {DATE}\n", "").summary == ""


def test_long_first_paragraph_is_cut_at_a_word(tmp_path: Path) -> None:
    body = "mot " * 100
    summary = valid(tmp_path, f"title: T\ndate: {DATE}\n", body).summary
    assert len(summary) <= 280
    assert summary.endswith("mot…")


def test_given_summary_wins_and_is_collapsed(tmp_path: Path) -> None:
    statement = valid(tmp_path, f"title: T\ndate: {DATE}\nsummary: >\n  Deux\n\n  lignes.\n")
    assert statement.summary == "Deux lignes."


def test_summary_longer_than_280_characters_is_refused(tmp_path: Path) -> None:
    assert problems_of(tmp_path, f"title: T\ndate: {DATE}\nsummary: {'x' * 301}\n") == [
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
def test_draft_is_a_boolean(tmp_path: Path, written: str, draft: bool) -> None:
    assert valid(tmp_path, f"title: T\ndate: {DATE}\ndraft: {written}\n").draft is draft


def test_draft_as_french_word_is_refused(tmp_path: Path) -> None:
    assert problems_of(tmp_path, f"title: T\ndate: {DATE}\ndraft: oui\n") == [
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
def test_social_is_false_true_or_text(
    tmp_path: Path, written: str, social: tuple[bool, str | None]
) -> None:
    statement = valid(tmp_path, f"title: T\ndate: {DATE}\nsocial: {written}\n")
    assert (statement.postable, statement.post_text) == social


def test_social_yes_no_words_are_refused(tmp_path: Path) -> None:
    assert problems_of(tmp_path, f"title: T\ndate: {DATE}\nsocial: no\n") == [
        'statements/a.md:4: "social" must be false, true or the text of the post, not "no" '
        "(write false to never post this statement, or put the text in quotes)"
    ]


def test_social_empty_text_is_refused(tmp_path: Path) -> None:
    assert problems_of(tmp_path, f"title: T\ndate: {DATE}\nsocial: ''\n") == [
        'statements/a.md:4: "social" is empty '
        "(write false to never post this statement, or the text of the post)"
    ]


# --- establishments.yml -----------------------------------------------------------------


def test_unquoted_phone_keeps_its_raw_text(tmp_path: Path) -> None:
    registry = ESTABLISHMENTS.replace(
        "    city: Nantes\n", "    city: Nantes\n    phone: 0240000000\n"
    )
    validated = check(tmp_path, {"establishments.yml": registry})
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
def test_phone_numbers_as_people_write_them_are_accepted(tmp_path: Path, phone: str) -> None:
    registry = ESTABLISHMENTS.replace('"+33 2 00 00 00 00"', f'"{phone}"').replace(
        "    city: Nantes\n", f'    city: Nantes\n    phone: "{phone}"\n'
    )
    validated = check(tmp_path, {"establishments.yml": registry})
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
def test_a_phone_that_is_not_a_number_is_refused_at_its_line(tmp_path: Path, phone: str) -> None:
    registry = ESTABLISHMENTS.replace(
        "    city: Nantes\n", f'    city: Nantes\n    phone: "{phone}"\n'
    )
    assert problems(tmp_path, {"establishments.yml": registry}) == [
        f'establishments.yml:16: "phone" is not a phone number: "{phone}" (write 2 to 15 '
        "digits, grouped with spaces, dots or dashes, with an optional leading +, such as "
        '"+33 2 99 00 00 00", "02 99 00 00 00" or "15")'
    ]


def test_a_press_phone_and_email_are_checked_too(tmp_path: Path) -> None:
    registry = ESTABLISHMENTS.replace(
        "presse@example.org", "javascript:alert(1)//@example.org"
    ).replace('"+33 2 00 00 00 00"', "tel:2")
    assert problems(tmp_path, {"establishments.yml": registry}) == [
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
def test_an_email_with_a_scheme_markup_or_space_is_refused(tmp_path: Path, email: str) -> None:
    registry = ESTABLISHMENTS.replace("presse@example.org", email)
    assert problems(tmp_path, {"establishments.yml": registry}) == [
        f'establishments.yml:6: "email" is not an email address: "{email}" '
        "(write the address alone, such as presse@example.org)"
    ]


@pytest.mark.parametrize("email", ["presse@example.org", "prénom.nom+crise@hôpital-ouest.fr"])
def test_plain_email_addresses_are_accepted(tmp_path: Path, email: str) -> None:
    registry = ESTABLISHMENTS.replace("presse@example.org", email)
    validated = check(tmp_path, {"establishments.yml": registry})
    assert validated.problems == ()
    assert validated.repository.organisation.press.email == email


def test_registry_problems_are_all_reported(tmp_path: Path) -> None:
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
    assert problems(tmp_path, {"establishments.yml": registry}) == [
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


def test_registry_without_establishments_is_refused(tmp_path: Path) -> None:
    registry = "organisation:\n  name: Hospi\nestablishments: []\n"
    assert problems(tmp_path, {"establishments.yml": registry}) == [
        'establishments.yml:3: "establishments" must list at least one establishment'
    ]
    registry = "organisation:\n  name: Hospi\nestablishments:\n  la-sagesse: x\n"
    assert problems(tmp_path, {"establishments.yml": registry}) == [
        'establishments.yml:4: "establishments" must be a list (one "- id: ..." entry each), '
        "not a mapping"
    ]


def test_empty_organisation_is_reported_as_empty(tmp_path: Path) -> None:
    registry = "organisation:\nestablishments:\n  - {id: a, name: A, city: C}\n"
    assert problems(tmp_path, {"establishments.yml": registry}) == [
        'establishments.yml:1: "organisation" is empty'
    ]


def test_empty_registry_needs_organisation_and_establishments(tmp_path: Path) -> None:
    assert problems(tmp_path, {"establishments.yml": "# rien\n"}) == [
        'establishments.yml:1: "establishments" is required',
        'establishments.yml:1: "organisation" is required',
    ]


def test_broken_registry_does_not_cause_unknown_establishment_noise(tmp_path: Path) -> None:
    files = {
        "establishments.yml": "organisation: [x\n",
        "statements/a.md": statement_text(f"title: T\ndate: {DATE}\nstatus:\n  la-sagesse: down\n"),
    }
    assert problems(tmp_path, files) == [
        "establishments.yml:2: invalid YAML: expected ',' or ']', but got '<stream end>'"
    ]


def test_statement_can_name_an_establishment_whose_entry_is_broken(tmp_path: Path) -> None:
    registry = ESTABLISHMENTS.replace("    city: Nantes\n", "")
    files = {
        "establishments.yml": registry,
        "statements/a.md": statement_text(
            f"title: T\ndate: {DATE}\nstatus:\n  jules-verne: down\n"
        ),
    }
    assert problems(tmp_path, files) == ['establishments.yml:13: "city" is required']


# --- mkdocs.yml -------------------------------------------------------------------------


def test_site_url_gets_a_trailing_slash(tmp_path: Path) -> None:
    validated = check(tmp_path, {"mkdocs.yml": "site_name: S\nsite_url: https://x.org/status\n"})
    assert validated.repository is not None
    assert validated.repository.site.url == "https://x.org/status/"


def test_site_url_is_required_and_explained(tmp_path: Path) -> None:
    assert problems(tmp_path, {"mkdocs.yml": "site_name: S\ntheme: material\n"}) == [
        'mkdocs.yml:1: "site_url" is required: feeds and social posts need absolute '
        'permalinks (add a line such as "site_url: https://status.example.org/")'
    ]


def test_relative_site_url_is_refused(tmp_path: Path) -> None:
    assert problems(tmp_path, {"mkdocs.yml": "site_name: S\nsite_url: /status/\n"}) == [
        'mkdocs.yml:2: "site_url" must be an absolute http(s) address, not "/status/" '
        "(feeds and social posts need absolute permalinks, such as https://status.example.org/)"
    ]


def test_site_name_is_required(tmp_path: Path) -> None:
    assert problems(tmp_path, {"mkdocs.yml": "site_url: https://x.org/\n"}) == [
        'mkdocs.yml:1: "site_name" is required (add a line such as "site_name: État des services")'
    ]


def test_site_url_from_environment_tag_is_refused(tmp_path: Path) -> None:
    assert problems(tmp_path, {"mkdocs.yml": "site_name: S\nsite_url: !ENV SITE_URL\n"}) == [
        'mkdocs.yml:2: "site_url" has the YAML tag !ENV, which Balise cannot read '
        "(write the value itself)"
    ]


def test_mkdocs_extras_with_python_tags_are_ignored(tmp_path: Path) -> None:
    text = MKDOCS + "markdown_extensions:\n  - x:\n      f: !!python/name:a.b\n"
    assert check(tmp_path, {"mkdocs.yml": text}).repository is not None


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
def test_random_front_matter_only_yields_problems(tmp_path: Path, front: str, body: str) -> None:
    validated = check(tmp_path, {"statements/a.md": f"---\n{front}\n---\n{body}"})
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
def test_random_key_value_front_matter_only_yields_problems(
    tmp_path: Path, entries: list[tuple[str, str]]
) -> None:
    front = "".join(f"{key}: {value}\n" for key, value in entries)
    validated = check(tmp_path, {"statements/a.md": statement_text(front)})
    assert (validated.repository is None) == any(not p.warning for p in validated.problems)


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.binary(max_size=200))
def test_random_bytes_only_yield_problems(tmp_path: Path, content: bytes) -> None:
    validated = check(tmp_path, {"statements/a.md": content, "mkdocs.yml": content})
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

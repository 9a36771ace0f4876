"""Tests for balise.french: every label, symbol and explanation, and French dates.

Values only: no files, no clock.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from hypothesis import given, settings
from hypothesis import strategies as st

from balise import french
from balise.model import StatementType, Status

PARIS = ZoneInfo("Europe/Paris")


def test_status_labels_are_the_contract_ones() -> None:
    assert french.STATUS_LABELS == {
        Status.NORMAL: "Fonctionnement normal",
        Status.DEGRADED: "Mode dégradé",
        Status.DISRUPTED: "Activité perturbée",
        Status.DOWN: "Activité interrompue",
        Status.MAINTENANCE: "Maintenance programmée",
    }


def test_statement_type_labels() -> None:
    assert french.TYPE_LABELS == {
        StatementType.UPDATE: "Point de situation",
        StatementType.PRESS_RELEASE: "Communiqué de presse",
        StatementType.MAINTENANCE: "Maintenance programmée",
    }


@pytest.mark.parametrize("status", list(Status))
def test_every_status_has_a_distinct_symbol_and_an_explanation(status: Status) -> None:
    assert french.ICONS[status].strip()
    assert french.EXPLANATIONS[status].endswith(".")
    assert len(set(french.ICONS.values())) == len(Status)


def test_down_tells_whom_to_call() -> None:
    assert "appelez le 15" in french.EXPLANATIONS[Status.DOWN]


def test_long_datetime_is_in_the_organisation_timezone() -> None:
    moment = datetime(2024, 10, 5, 6, 0, tzinfo=UTC)
    assert french.long_datetime(moment, PARIS) == "samedi 5 octobre 2024 à 08:00"


def test_first_of_the_month_reads_1er() -> None:
    moment = datetime(2024, 10, 31, 23, 30, tzinfo=UTC)  # already 1 November in Paris
    assert french.long_datetime(moment, PARIS) == "vendredi 1er novembre 2024 à 00:30"
    assert french.long_date(moment, PARIS) == "vendredi 1er novembre 2024"
    assert french.short_datetime(moment, PARIS) == "1er nov. 2024, 00:30"


def test_long_date_has_no_time() -> None:
    assert (
        french.long_date(datetime(2024, 10, 5, 6, 0, tzinfo=UTC), PARIS) == "samedi 5 octobre 2024"
    )


def test_short_datetime_abbreviates_the_month() -> None:
    moment = datetime(2024, 10, 5, 6, 0, tzinfo=UTC)
    assert french.short_datetime(moment, PARIS) == "5 oct. 2024, 08:00"


def test_iso_has_seconds_and_the_local_offset() -> None:
    assert french.iso(datetime(2024, 10, 5, 6, 0, 0, 999, tzinfo=UTC), PARIS) == (
        "2024-10-05T08:00:00+02:00"
    )
    assert french.iso(datetime(2024, 12, 5, 6, 0, tzinfo=UTC), PARIS) == "2024-12-05T07:00:00+01:00"


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2100, 12, 31), timezones=st.just(UTC)
    ),
    zone=st.sampled_from(["Europe/Paris", "America/Cayenne", "Indian/Reunion", "Pacific/Noumea"]),
)
def test_dates_read_as_babel_formats_them(moment: datetime, zone: str) -> None:
    """The fast forms print what babel's own patterns print, in every zone, across DST."""
    tz = ZoneInfo(zone)
    day = moment.astimezone(tz).day
    first = "1er" if day == 1 else str(day)
    weekday = format_datetime(moment, "EEEE", tzinfo=tz, locale=french.LOCALE)
    assert french.long_datetime(moment, tz) == (
        f"{weekday} {first} "
        + format_datetime(moment, "MMMM y 'à' HH:mm", tzinfo=tz, locale=french.LOCALE)
    )
    assert french.long_date(moment, tz) == (
        f"{weekday} {first} " + format_datetime(moment, "MMMM y", tzinfo=tz, locale=french.LOCALE)
    )
    assert french.short_datetime(moment, tz) == (
        f"{first} " + format_datetime(moment, "MMM y, HH:mm", tzinfo=tz, locale=french.LOCALE)
    )
    month = format_datetime(moment, "MMMM", tzinfo=tz, locale=french.LOCALE)
    assert french.around(moment, tz).startswith(f"{weekday} {first} {month} vers ")

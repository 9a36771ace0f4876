"""Dates as statements write them: ISO 8601 instants, read in the organisation's timezone
when they have no offset, and the daylight-saving rules that refuse a local time. Pure.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from balise.load import RawNode, RawScalar
from balise.validate.nodes import Field, check_tag, kind, text

_INSTANT = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"(?:[Tt ]+(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?"
    r"[ \t]*(?:(?P<utc>[Zz])|(?P<sign>[+-])(?P<off_h>\d{2})(?::?(?P<off_m>\d{2}))?)?)?"
)
_DATE_EXAMPLE = "write it like 2024-10-05T08:00:00+02:00 or 2024-10-05 08:00"


def _offset(offset: timedelta | None) -> str:
    minutes = int((offset or timedelta()).total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def _local(instant: datetime, tz: ZoneInfo) -> datetime:
    """The instant with the fixed offset `tz` has then (+02:00 in a Paris summer).

    A fixed offset, not the ZoneInfo itself: two ZoneInfo datetimes in the hour repeated in
    autumn compare by wall time (PEP 495), which would misorder statements issued then.
    """
    return instant.astimezone(timezone(instant.astimezone(tz).utcoffset() or timedelta()))


def parse_instant(text: str, zone: str, key: str = "date") -> datetime | tuple[str, str]:
    """An aware datetime (with `zone`'s offset then), or (message, hint) saying what is wrong.

    ISO 8601 with an offset is exact; without one (a bare date means 00:00) it is local time
    in `zone`, and a local time that does not exist or exists twice is refused.
    """
    text = text.strip()
    match = _INSTANT.fullmatch(text)
    if not match:
        return f'{key} "{text}" is not an ISO 8601 date', _DATE_EXAMPLE
    try:
        return _resolve(match, ZoneInfo(zone), zone, f'{key} "{text}"')
    except (ValueError, OverflowError) as error:
        return f'{key} "{text}" is not a real date or time', str(error)


def _resolve(
    match: re.Match[str], tz: ZoneInfo, zone: str, what: str
) -> datetime | tuple[str, str]:
    fraction = (match["fraction"] or "").ljust(6, "0")[:6]
    naive = datetime(
        int(match["year"]),
        int(match["month"]),
        int(match["day"]),
        int(match["hour"] or 0),
        int(match["minute"] or 0),
        int(match["second"] or 0),
        int(fraction),
    )
    if match["utc"]:
        return _local(naive.replace(tzinfo=UTC), tz)
    if match["sign"]:
        hours, minutes = int(match["off_h"]), int(match["off_m"] or 0)
        if hours > 23 or minutes > 59:
            raise ValueError("the offset must be between -23:59 and +23:59")
        offset = timedelta(hours=hours, minutes=minutes)
        sign = -1 if match["sign"] == "-" else 1
        return _local(naive.replace(tzinfo=timezone(sign * offset)), tz)
    early = naive.replace(tzinfo=tz, fold=0)
    late = naive.replace(tzinfo=tz, fold=1)
    if early.utcoffset() == late.utcoffset():
        return _local(early, tz)
    if early.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        return (
            f"{what} does not exist in {zone} (daylight-saving change): "
            f"write another time or add an offset such as {_offset(early.utcoffset())}",
            "",
        )
    return (
        f"{what} is ambiguous in {zone} (daylight-saving change): add an offset "
        f"such as {_offset(early.utcoffset())} or {_offset(late.utcoffset())}",
        "",
    )


def instant(
    field: Field[Any], node: RawNode | None, zone: str, *, required: bool = False
) -> datetime | None:
    """The node as an instant read in `zone`; None when absent or wrong (then reported)."""
    if node is not None and not isinstance(node, RawScalar) and check_tag(field, node):
        field.report(
            node.line,
            f'"{field.name}" must be a date such as 2024-10-05T08:00:00+02:00, not {kind(node)}',
        )
        return None
    written = text(field, node, required=required)
    if written is None or node is None:
        return None
    result = parse_instant(written, zone, field.name)
    if isinstance(result, tuple):
        field.report(node.line, *result)
        return None
    return result


def without_time(node: RawNode | None) -> bool:
    """Whether a (valid) date was written as a day only, `2025-03-12`, which means 00:00."""
    if not isinstance(node, RawScalar):
        return False
    match = _INSTANT.fullmatch(node.text.strip())
    return match is not None and match["hour"] is None

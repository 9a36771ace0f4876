"""establishments.yml: the organisation (name, url, timezone, press contact) and its
establishments, each key declared once. Pure: it judges the raw nodes load.py read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from balise.errors import Problem, did_you_mean
from balise.load import ESTABLISHMENTS_FILE, RawFile, RawList, RawMap, RawNode, RawScalar
from balise.model import (
    DEFAULT_TIMEZONE,
    Accessibility,
    Establishment,
    LegalNotice,
    Organisation,
    PressContact,
    Service,
)
from balise.validate.nodes import (
    ID,
    Field,
    Report,
    check_tag,
    email,
    is_empty,
    is_empty_untagged,
    kind,
    list_items,
    mapping,
    phone,
    required_text,
    slug,
    text,
    web_address,
)
from balise.validate.schema import Key, read

ALL = "all"  # in a statement, every establishment: no establishment may take it as its id


@dataclass(frozen=True)
class Registry:
    """What establishments.yml holds, as far as it could be read."""

    organisation: Organisation | None
    establishments: tuple[Establishment, ...] | None
    ids: tuple[str, ...] | None  # every id written, even in broken entries; None: unknown
    zone: str = DEFAULT_TIMEZONE
    services: tuple[Service, ...] = ()  # CONTRACT §9, registry order


@dataclass(frozen=True)
class _Organisation:
    organisation: Organisation | None  # None: something in it is wrong (and reported)
    zone: str  # read even when the rest is wrong: statements' dates need it


@dataclass(frozen=True)
class _Listing:
    establishments: tuple[Establishment, ...] | None  # None: one of them is wrong
    ids: tuple[str, ...]


def _zone(field: Field[Any], node: RawNode) -> str | None:
    written = text(field, node)
    if written is None:
        return None
    try:
        ZoneInfo(written)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        hint = did_you_mean(written, available_timezones()) or "use a name such as Europe/Paris"
        field.report(node.line, f'unknown timezone "{written}"', hint)
        return None
    return written


PRESS_KEYS: tuple[Key[None], ...] = (
    Key("name", str, required_text, "who answers the press", required=True),
    Key("email", str, email, "their email address", unset=is_empty_untagged),
    Key("phone", str, phone, "their phone number", unset=is_empty_untagged),
)


def _press(field: Field[Any], node: RawNode) -> PressContact | None:
    found = mapping(field, node, "with name, email and phone")
    if found is None:
        return None
    press = read(field.report, found, PRESS_KEYS, None)
    values = press.values
    if "name" not in values:
        return None
    return PressContact(values["name"], values.get("email"), values.get("phone"))


LEGAL_KEYS: tuple[Key[None], ...] = (
    Key("publisher", str, required_text, "the publisher's name (éditeur)", unset=is_empty_untagged),
    Key("publisher_address", str, required_text, "its postal address", unset=is_empty_untagged),
    Key(
        "director",
        str,
        required_text,
        "the publication director (directeur de la publication)",
        unset=is_empty_untagged,
    ),
    Key("host", str, required_text, "the host's name (hébergeur)", unset=is_empty_untagged),
    Key("host_address", str, required_text, "the host's postal address", unset=is_empty_untagged),
)

COMPLIANCE = ("totalement conforme", "partiellement conforme", "non conforme")


def _compliance(field: Field[Any], node: RawNode) -> str | None:
    written = text(field, node)
    if written is None:
        return None
    if written not in COMPLIANCE:
        shown = ", ".join(f'"{c}"' for c in COMPLIANCE)
        field.report(node.line, f'"compliance" must be one of {shown}, not "{written}"')
        return None
    return written


def _day(field: Field[Any], node: RawNode) -> str | None:
    written = text(field, node)
    if written is None:
        return None
    try:
        return date.fromisoformat(written).isoformat()
    except ValueError:
        field.report(node.line, f'"{written}" is not a day (write it 2024-09-30)')
        return None


ACCESSIBILITY_KEYS: tuple[Key[None], ...] = (
    Key(
        "compliance",
        str,
        _compliance,
        "`totalement conforme`, `partiellement conforme` or `non conforme` (RGAA)",
        unset=is_empty_untagged,
    ),
    Key(
        "audit_date", str, _day, "the day of the audit, such as 2024-09-30", unset=is_empty_untagged
    ),
    Key(
        "rgaa_version",
        str,
        required_text,
        "the RGAA version audited, such as 4.1",
        unset=is_empty_untagged,
    ),
    Key(
        "contact",
        str,
        required_text,
        "where to report an accessibility problem: an email or web address",
        unset=is_empty_untagged,
    ),
)


def _legal(field: Field[Any], node: RawNode) -> LegalNotice | None:
    found = mapping(field, node, "with publisher, publisher_address, director, host, host_address")
    if found is None:
        return None
    return LegalNotice(**read(field.report, found, LEGAL_KEYS, None).values)


def _accessibility(field: Field[Any], node: RawNode) -> Accessibility | None:
    found = mapping(field, node, "with compliance, audit_date, rgaa_version and contact")
    if found is None:
        return None
    return Accessibility(**read(field.report, found, ACCESSIBILITY_KEYS, None).values)


ORGANISATION_KEYS: tuple[Key[None], ...] = (
    Key("name", str, required_text, "the organisation's name", required=True),
    Key("url", str, web_address, "its web site", unset=is_empty_untagged),
    Key(
        "timezone",
        str,
        _zone,
        "an IANA timezone such as Europe/Paris (the default)",
        default=DEFAULT_TIMEZONE,
        unset=is_empty_untagged,
    ),
    Key(
        "press",
        PressContact,
        _press,
        "the press contact shown on every statement: name, email, phone",
    ),
    Key(
        "hotline",
        str,
        phone,
        "the crisis line, shown while an incident is active",
        unset=is_empty_untagged,
    ),
    Key(
        "legal",
        LegalNotice,
        _legal,
        "the « Mentions légales » page: publisher, publisher_address, director, host, "
        "host_address (a warning names what is missing)",
    ),
    Key(
        "accessibility",
        Accessibility,
        _accessibility,
        "the « Déclaration d'accessibilité » page (RGAA): compliance, audit_date, rgaa_version, "
        "contact (a warning names what is missing)",
    ),
)


def _organisation(field: Field[Any], node: RawNode) -> _Organisation:
    found = mapping(field, node, "with name, url, timezone and press")
    if found is None:
        return _Organisation(None, DEFAULT_TIMEZONE)
    organisation = read(field.report, found, ORGANISATION_KEYS, None)
    values = organisation.values
    zone = values.get("timezone", DEFAULT_TIMEZONE)
    if not organisation.complete:
        return _Organisation(None, zone)
    return _Organisation(
        Organisation(
            values["name"],
            values.get("url"),
            zone,
            values.get("press"),
            values.get("hotline"),
            values.get("legal") or LegalNotice(),
            values.get("accessibility") or Accessibility(),
        ),
        zone,
    )


def _service_ids(field: Field[Any], node: RawNode) -> tuple[tuple[str, int], ...] | None:
    """Each service id with its line: whether it exists is judged once all is read."""
    items = list_items(field, node, "service ids", "[urgences, chirurgie]")
    if items is None:
        return None
    found: dict[str, int] = {}
    for item in items:
        written = slug(field, item)
        if written is None:
            return None
        if written in found:
            field.report(
                item.line, f'service "{written}" is listed twice', f"also line {found[written]}"
            )
            return None
        found[written] = item.line
    return tuple(found.items())


ESTABLISHMENT_KEYS: tuple[Key[None], ...] = (
    Key("id", str, slug, "a slug `[a-z0-9][a-z0-9-]*`, unique", required=True),
    Key("name", str, required_text, "the establishment's name", required=True),
    Key("city", str, required_text, "its city", required=True),
    Key(
        "region",
        str,
        text,
        "its region; the site groups establishments by region",
        unset=is_empty_untagged,
    ),
    Key("phone", str, phone, "its phone number", unset=is_empty_untagged),
    Key("url", str, web_address, "its web site", unset=is_empty_untagged),
    Key(
        "services",
        tuple,
        _service_ids,
        "the ids of the services it has (see `services`); default: none",
        default=(),
    ),
)


def _establishment(report: Report, node: RawNode, ids: list[str]) -> Establishment | None:
    if not isinstance(node, RawMap):
        report(
            node.line,
            f"each establishment must be a mapping with id, name and city, not {kind(node)}",
        )
        return None
    found = read(report, node, ESTABLISHMENT_KEYS, None)
    raw_id = found.node("id")
    if isinstance(raw_id, RawScalar) and not is_empty(raw_id):
        ids.append(raw_id.text.strip())
    values = found.values
    if values.get("id") == ALL and raw_id is not None:
        report(raw_id.line, 'id "all" is reserved: in a statement it means every establishment')
        return None
    if not found.complete:
        return None
    return Establishment(
        id=values["id"],
        name=values["name"],
        city=values["city"],
        region=values.get("region"),
        phone=values.get("phone"),
        url=values.get("url"),
        lines={
            **{name: line for name, (line, _) in found.written.items()},
            **{f"services/{sid}": line for sid, line in values["services"]},
        },
        services=tuple(sid for sid, _ in values["services"]),
    )


def _establishments(field: Field[Any], node: RawNode) -> _Listing | None:
    if not check_tag(field, node):
        return None
    if is_empty(node) or (isinstance(node, RawList) and not node.items):
        field.report(node.line, '"establishments" must list at least one establishment')
        return None
    if not isinstance(node, RawList):
        field.report(
            node.line,
            f'"establishments" must be a list (one "- id: ..." entry each), not {kind(node)}',
        )
        return None
    problems = field.report.problems
    before = len(problems)
    ids: list[str] = []
    establishments = [_establishment(field.report, item, ids) for item in node.items]
    _duplicate_establishments(field.report, node)
    complete = len(problems) == before and all(establishments)
    return _Listing(
        tuple(e for e in establishments if e) if complete else None,
        tuple(dict.fromkeys(ids)),
    )


def _duplicate_establishments(report: Report, listing: RawList) -> None:
    first: dict[str, int] = {}
    for item in listing.items:
        node = item.get("id") if isinstance(item, RawMap) else None
        if not isinstance(node, RawScalar) or not ID.fullmatch(node.text.strip()):
            continue
        establishment_id = node.text.strip()
        if establishment_id in first:
            line = first[establishment_id]
            report(node.line, f'duplicate id "{establishment_id}"', f"also line {line}")
            report(line, f'duplicate id "{establishment_id}"', f"also line {node.line}")
        else:
            first[establishment_id] = node.line


SERVICE_KEYS: tuple[Key[None], ...] = (
    Key("id", str, slug, "a slug `[a-z0-9][a-z0-9-]*`, unique among services", required=True),
    Key("name", str, required_text, "the service's name, as the site shows it", required=True),
)


def _services(field: Field[Any], node: RawNode) -> tuple[Service, ...] | None:
    if not check_tag(field, node):
        return None
    if is_empty(node):
        return ()
    if not isinstance(node, RawList):
        field.report(
            node.line,
            f'"services" must be a list (one "- id: ..." entry each), not {kind(node)}',
        )
        return None
    report = field.report
    before = len(report.problems)
    services: list[Service] = []
    first: dict[str, int] = {}
    for item in node.items:
        if not isinstance(item, RawMap):
            report(item.line, f"each service must be a mapping with id and name, not {kind(item)}")
            continue
        found = read(report, item, SERVICE_KEYS, None)
        if not found.complete:
            continue
        service = Service(found.values["id"], found.values["name"])
        line = found.written["id"][0]
        if service.id in first:
            report(line, f'duplicate service id "{service.id}"', f"also line {first[service.id]}")
            report(first[service.id], f'duplicate service id "{service.id}"', f"also line {line}")
            continue
        first[service.id] = line
        services.append(service)
    return tuple(services) if len(report.problems) == before else None


def _unknown_services(
    report: Report, establishments: tuple[Establishment, ...], services: tuple[Service, ...]
) -> bool:
    """Whether every service an establishment lists is a service of the registry."""
    known = [service.id for service in services]
    ok = True
    for establishment in establishments:
        for service_id in establishment.services:
            if service_id not in known:
                hint = did_you_mean(service_id, known) or (
                    'add it to the top-level "services"'
                    if known
                    else 'list the services in a top-level "services" first'
                )
                line = establishment.line_of(f"services/{service_id}")
                report(line, f'unknown service "{service_id}"', hint)
                ok = False
    return ok


REGISTRY_KEYS: tuple[Key[None], ...] = (
    Key(
        "organisation",
        _Organisation,
        _organisation,
        "the organisation: name, url, timezone, press",
        required=True,
    ),
    Key(
        "establishments",
        _Listing,
        _establishments,
        "the establishments, in display order",
        required=True,
    ),
    Key(
        "services",
        tuple,
        _services,
        "the services the site reports on inside establishments (id, name), in display order",
        default=(),
    ),
)


def registry(raw: RawFile | None, problems: list[Problem]) -> Registry:
    """establishments.yml read by its schema (what could be read, when not all of it)."""
    if raw is None:
        return Registry(None, None, None)
    report = Report(ESTABLISHMENTS_FILE, problems)
    data = raw.data if raw.data is not None else RawMap((), 1)
    if not isinstance(data, RawMap):
        report(
            data.line,
            f'establishments.yml must hold "organisation" and "establishments", not {kind(data)}',
        )
        return Registry(None, None, None)
    values = read(report, data, REGISTRY_KEYS, None).values
    organisation = values.get("organisation", _Organisation(None, DEFAULT_TIMEZONE))
    listing = values.get("establishments")
    if listing is None:
        return Registry(organisation.organisation, None, None, organisation.zone)
    services = values.get("services")
    establishments = listing.establishments
    if establishments is not None and (
        services is None or not _unknown_services(report, establishments, services)
    ):
        establishments = None
    return Registry(
        organisation.organisation,
        establishments,
        listing.ids,
        organisation.zone,
        services or (),
    )

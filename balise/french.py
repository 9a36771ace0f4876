"""French wording the outputs need: status and statement type labels, explanations, symbols,
dates in the organisation's timezone.

Pure functions of values; babel does the calendar work. No HTML, no files.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, get_day_names, get_month_names

from balise.model import StatementType, Status

LOCALE = "fr_FR"

# CONTRACT §3: the French label of each status on the site.
STATUS_LABELS: dict[Status, str] = {
    Status.NORMAL: "Fonctionnement normal",
    Status.DEGRADED: "Mode dégradé",
    Status.DISRUPTED: "Activité perturbée",
    Status.DOWN: "Activité interrompue",
    Status.MAINTENANCE: "Maintenance programmée",
}

TYPE_LABELS: dict[StatementType, str] = {
    StatementType.UPDATE: "Point de situation",
    StatementType.PRESS_RELEASE: "Communiqué de presse",
    StatementType.MAINTENANCE: "Maintenance programmée",
}

# What each status means for a patient, in one or two plain sentences.
EXPLANATIONS: dict[Status, str] = {
    Status.NORMAL: "Soins, consultations et examens sont assurés normalement.",
    Status.MAINTENANCE: (
        "Une intervention programmée peut ralentir certains services ; les soins sont assurés."
    ),
    Status.DEGRADED: (
        "Les soins continuent, avec des délais possibles. Venez avec vos documents papier : "
        "carte Vitale, ordonnances, résultats d'examens."
    ),
    Status.DISRUPTED: (
        "Une partie des activités est reportée. Si votre rendez-vous change, "
        "l'établissement vous prévient par téléphone ou SMS."
    ),
    Status.DOWN: (
        "L'activité est interrompue, sauf urgences. En cas d'urgence vitale, appelez le 15."
    ),
}

# A text symbol beside every label, so that status is never told by colour alone.
# U+FE0E asks for the text (not emoji) presentation.
ICONS: dict[Status, str] = {
    Status.NORMAL: "✓",
    Status.MAINTENANCE: "⚙\ufe0e",
    Status.DEGRADED: "⚠\ufe0e",
    Status.DISRUPTED: "◐",
    Status.DOWN: "✕",
}


@functools.cache
def _names() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Babel's French month names (wide, abbreviated) and weekday names (wide, Monday first).

    A page set prints thousands of dates: formatting them from these names, rather than with
    babel's pattern engine each time, makes the same text (tests compare both) ten times
    faster."""
    wide = get_month_names("wide", locale=LOCALE)
    short = get_month_names("abbreviated", locale=LOCALE)
    days = get_day_names("wide", locale=LOCALE)
    months = range(1, 13)
    return (
        tuple(wide[m] for m in months),
        tuple(short[m] for m in months),
        tuple(days[d] for d in range(7)),
    )


def _day(local: datetime | date) -> str:
    return "1er" if local.day == 1 else str(local.day)


def long_datetime(moment: datetime, tz: ZoneInfo) -> str:
    """« samedi 5 octobre 2024 à 08:00 » (« 1er » on the first of the month)."""
    local = moment.astimezone(tz)
    months, _, days = _names()
    day = f"{days[local.weekday()]} {_day(local)} {months[local.month - 1]} {local.year}"
    return f"{day} à {local:%H:%M}"


def long_date(moment: datetime, tz: ZoneInfo) -> str:
    """« samedi 5 octobre 2024 »."""
    local = moment.astimezone(tz)
    months, _, days = _names()
    return f"{days[local.weekday()]} {_day(local)} {months[local.month - 1]} {local.year}"


def long_day(day: str) -> str:
    """« 30 septembre 2024 » (« 1er octobre 2024 ») for an ISO day."""
    moment = date.fromisoformat(day)
    rest = format_date(moment, "MMMM y", locale=LOCALE)
    return f"{'1er' if moment.day == 1 else moment.day} {rest}"


def long_month(month: str) -> str:
    """« octobre 2024 » for an ISO month (`2024-10`)."""
    return format_date(date.fromisoformat(f"{month}-01"), "MMMM y", locale=LOCALE)


def short_datetime(moment: datetime, tz: ZoneInfo) -> str:
    """« 5 oct. 2024, 08:00 », for lists."""
    local = moment.astimezone(tz)
    _, months, _ = _names()
    return f"{_day(local)} {months[local.month - 1]} {local.year}, {local:%H:%M}"


def iso(moment: datetime, tz: ZoneInfo) -> str:
    """ISO 8601 with the local offset, seconds precision: 2024-10-05T08:00:00+02:00."""
    return moment.astimezone(tz).isoformat(timespec="seconds")


# CONTRACT §9: what every page says while an incident is active.
EMERGENCY = "En cas d'urgence vitale, appelez le 15."
HOTLINE = "Ligne d'information"
NO_CALL = (
    "Merci de ne pas appeler l'établissement : son standard doit rester libre pour les patients "
    "pris en charge. Les patients concernés sont contactés par téléphone ou SMS."
)
MAINTENANCE_STATES: dict[str, str] = {
    "upcoming": "Maintenance prévue",
    "active": "Maintenance en cours",
    "completed": "Maintenance terminée",
}


def around(moment: datetime, tz: ZoneInfo) -> str:
    """« mardi 8 octobre vers 10 h » (« vers 10 h 30 »): a promised time, not an exact one."""
    local = moment.astimezone(tz)
    months, _, days = _names()
    hour = f"{local.hour} h" + (f" {local.minute:02d}" if local.minute else "")
    return f"{days[local.weekday()]} {_day(local)} {months[local.month - 1]} vers {hour}"


# The pages a French public-service site must have, and the facts each needs.
LEGAL_TITLE = "Mentions légales"
ACCESSIBILITY_TITLE = "Déclaration d'accessibilité"
LEGAL_FACTS: dict[str, str] = {
    "publisher": "Éditeur",
    "publisher_address": "Adresse de l'éditeur",
    "director": "Directeur ou directrice de la publication",
    "host": "Hébergeur",
    "host_address": "Adresse de l'hébergeur",
}
ACCESSIBILITY_FACTS: dict[str, str] = {
    "compliance": "État de conformité",
    "audit_date": "Date de l'audit",
    "rgaa_version": "Version du RGAA",
    "contact": "Contact",
}
MISSING = "à compléter"
DEFENSEUR = (
    "Si vous signalez un défaut d'accessibilité et n'obtenez pas de réponse satisfaisante, "
    "vous pouvez saisir le Défenseur des droits : par le formulaire en ligne "
    "(https://formulaire.defenseurdesdroits.fr/), par téléphone au 09 69 39 00 00, "
    "auprès de l'un de ses délégués, ou par courrier gratuit, sans affranchissement : "
    "Défenseur des droits, Libre réponse 71120, 75342 Paris CEDEX 07."
)

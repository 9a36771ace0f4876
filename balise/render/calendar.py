"""The maintenance calendar (CONTRACT §9): `feeds/maintenance.ics`, an iCalendar (RFC 5545)
with one VEVENT per published maintenance window, made with the icalendar library.

Every value comes from the data (DTSTAMP too, never the clock): same sources, same bytes.
"""

from __future__ import annotations

from datetime import UTC
from urllib.parse import urlsplit

from icalendar import Calendar, Event

from balise import views
from balise.model import Repository
from balise.timeline import Snapshot

PRODUCT = "-//Balise//Maintenances programmées//FR"


def render_calendar(repository: Repository, snap: Snapshot) -> dict[str, bytes]:
    """`{feeds/maintenance.ics: bytes}`, present even without any window, so that a calendar
    subscribed to before the first one keeps working."""
    site = repository.site.url
    host = urlsplit(site).netloc or "balise.invalid"
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    name = f"{repository.organisation.name} : maintenances programmées"
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("url", site + views.MAINTENANCE_CALENDAR)
    for maintenance in snap.maintenances:
        statement = maintenance.statement
        permalink = site + views.statement_path(statement.id)
        event = Event()
        # The statement id is the permalink's: a stable UID, whatever is corrected later.
        event.add("uid", f"{statement.id}@{host}")
        event.add("dtstamp", statement.last_modified_at(snap.now).astimezone(UTC))
        event.add("dtstart", maintenance.start.astimezone(UTC))
        event.add("dtend", maintenance.end.astimezone(UTC))
        event.add("summary", statement.title)
        event.add("description", statement.summary)
        event.add("url", permalink)
        event.add("status", "CONFIRMED")
        event.add("transp", "TRANSPARENT")  # the reader's own time is not taken by it
        calendar.add_component(event)
    return {views.MAINTENANCE_CALENDAR: calendar.to_ical()}

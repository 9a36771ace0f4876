"""Status badges: one small SVG per establishment (name, symbol, French label) to embed elsewhere.

Built as an element tree and serialised by ElementTree, so every text and attribute is escaped.
"""

from __future__ import annotations

import xml.etree.ElementTree as etree
from zoneinfo import ZoneInfo

from balise import french, views
from balise.model import Repository, Status
from balise.timeline import EstablishmentStatus, Snapshot

# The site's light palette (theme/assets/balise.css): white text on each reaches WCAG AA.
COLOURS = {
    Status.NORMAL: "#1b6e3a",
    Status.MAINTENANCE: "#35538f",
    Status.DEGRADED: "#8a4b00",
    Status.DISRUPTED: "#a3311a",
    Status.DOWN: "#9b1024",
}
NAME_COLOUR = "#3d3d3d"
TEXT_COLOUR = "#ffffff"
HEIGHT = 20
FONT_SIZE = 11
CHAR_WIDTH = 6.6  # average advance at 11px in Verdana/DejaVu Sans; textLength fixes the rest
PADDING = 6


def _text_width(text: str) -> int:
    return round(len(text) * CHAR_WIDTH)


def _part(parent: etree.Element, x: int, text: str, fill: str) -> int:
    """One coloured box with centred text starting at x; returns its width."""
    width = _text_width(text) + 2 * PADDING
    etree.SubElement(parent, "rect", x=str(x), width=str(width), height=str(HEIGHT), fill=fill)
    label = etree.SubElement(
        parent,
        "text",
        x=str(x + width / 2),
        y="14",
        textLength=str(_text_width(text)),
        lengthAdjust="spacingAndGlyphs",
    )
    label.text = text
    return width


def badge_svg(current: EstablishmentStatus, tz: ZoneInfo) -> bytes:
    """The badge of one establishment: its name, then the status symbol and label."""
    shown = views.status_label(current.status)
    name = current.establishment.name
    status_text = f"{shown.icon} {shown.label}"
    since = french.long_datetime(current.since, tz)
    description = f"{name} : {shown.label} depuis le {since}"

    svg = etree.Element(
        "svg",
        xmlns="http://www.w3.org/2000/svg",
        role="img",
        height=str(HEIGHT),
    )
    svg.set("aria-label", description)
    title = etree.SubElement(svg, "title")
    title.text = description
    group = etree.SubElement(
        svg,
        "g",
        fill=TEXT_COLOUR,
        stroke="none",
        # Generic families only: a badge loads nothing from another host.
        attrib={
            "font-family": "Verdana,DejaVu Sans,Geneva,sans-serif",
            "font-size": str(FONT_SIZE),
            "text-anchor": "middle",
        },
    )
    left = _part(group, 0, name, NAME_COLOUR)
    right = _part(group, left, status_text, COLOURS[current.status])
    # Text over boxes: move the rects first so every label is painted on top.
    rects = [child for child in group if child.tag == "rect"]
    texts = [child for child in group if child.tag == "text"]
    group[:] = rects + texts
    svg.set("width", str(left + right))
    svg.set("viewBox", f"0 0 {left + right} {HEIGHT}")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{etree.tostring(svg, "unicode")}\n'.encode()


def render_badges(repository: Repository, snap: Snapshot) -> dict[str, bytes]:
    """`{badges/ID.svg: bytes}` for every establishment of the registry."""
    tz = repository.organisation.tz
    return {
        views.badge_path(current.establishment.id): badge_svg(current, tz)
        for current in snap.current
    }

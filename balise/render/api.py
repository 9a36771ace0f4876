"""Machine-readable status: Balise's own `status.json` (CONTRACT §6).

Built from the model and the snapshot with json.dumps; never by string concatenation.
"""

from __future__ import annotations

import json
from typing import Any

from balise import french, views
from balise.model import Repository, Statement
from balise.timeline import Snapshot


def dump(document: Any) -> bytes:
    """Stable, readable JSON: same input, same bytes."""
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()


def _organisation(repository: Repository) -> dict[str, Any]:
    org = repository.organisation
    press = org.press
    return {
        "name": org.name,
        "url": org.url,
        "timezone": org.timezone,
        "press": {"name": press.name, "email": press.email, "phone": press.phone}
        if press
        else None,
    }


def _statement(repository: Repository, statement: Statement) -> dict[str, Any]:
    tz = repository.organisation.tz
    return {
        "id": statement.id,
        "title": statement.title,
        "date": french.iso(statement.date, tz),
        "type": statement.type.value,
        "incident": statement.incident,
        "status": {eid: status.value for eid, status in statement.status},
        "url": repository.site.url + views.statement_path(statement.id),
        "summary": statement.summary,
    }


def status_document(repository: Repository, snap: Snapshot) -> dict[str, Any]:
    """The `status.json` document."""
    tz = repository.organisation.tz
    return {
        "generated_at": french.iso(snap.now, tz),
        "organisation": _organisation(repository),
        "establishments": [
            {
                "id": current.establishment.id,
                "name": current.establishment.name,
                "city": current.establishment.city,
                "region": current.establishment.region,
                "status": current.status.value,
                "label": current.status.label,
                "since": french.iso(current.since, tz),
                "statement": current.statement.id if current.statement else None,
            }
            for current in snap.current
        ],
        "statements": [_statement(repository, s) for s in reversed(snap.published)],
    }


def render_api(repository: Repository, snap: Snapshot) -> dict[str, bytes]:
    """`{output path: bytes}` for the machine-readable files."""
    return {"status.json": dump(status_document(repository, snap))}

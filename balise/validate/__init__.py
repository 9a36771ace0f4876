"""Raw records -> the typed Repository, or every Problem in every file (not just the first).

Pure: no file access, no clock, no environment; it only judges what load.py read. Each file's
schema is declared key by key (schema.Key) in registry, statement and site.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from balise.errors import Problem
from balise.load import RawRepository
from balise.model import Repository, sort_key
from balise.text import shorten, slugify
from balise.validate.dates import parse_instant
from balise.validate.registry import (
    ALL,
    ESTABLISHMENT_KEYS,
    ORGANISATION_KEYS,
    PRESS_KEYS,
    REGISTRY_KEYS,
    SERVICE_KEYS,
    registry,
)
from balise.validate.schema import Key, keys_table
from balise.validate.site import SITE_KEYS, site, site_problems
from balise.validate.statement import (
    MAX_TITLE,
    PLACEHOLDER,
    PLACEHOLDER_MESSAGE,
    STATEMENT_KEYS,
    Context,
    duplicate_ids,
    statement,
)
from balise.validate.summary import MAX_SUMMARY, summarize


@dataclass(frozen=True)
class Validated:
    """The outcome: a Repository when nothing but warnings was found, and every Problem."""

    repository: Repository | None
    problems: tuple[Problem, ...]


def validate_repository(
    raw: RawRepository, *, summarize: Callable[[str], str] = summarize
) -> Validated:
    """Judge a whole raw repository: the Repository, or None and every problem found.

    `summarize` makes a statement's default summary from its body: the pure function, or the
    build's memo of it (the build owns the cache; validation never imports it).
    """
    problems: list[Problem] = list(raw.problems)
    found = registry(raw.establishments, problems)
    built_site = site(raw.mkdocs, problems)
    services = {e.id: e.services for e in found.establishments or ()}
    # Services are judged only when the registry was read whole.
    service_ids = (
        tuple(service.id for service in found.services)
        if found.establishments is not None
        else None
    )
    context = Context(found.zone, found.ids, raw.updated, summarize, services, service_ids)
    checked = [(file.path, statement(file, context, problems)) for file in raw.statements]
    duplicate_ids(checked, problems)
    unique = tuple(sorted(set(problems)))
    statements = [result.statement for _, result in checked if result.statement is not None]
    repository = None
    if (
        not any(not problem.warning for problem in unique)
        and found.organisation is not None
        and found.establishments is not None
        and built_site is not None
    ):
        repository = Repository(
            organisation=found.organisation,
            establishments=found.establishments,
            statements=tuple(sorted(statements, key=sort_key)),
            site=built_site,
            services=found.services,
        )
    return Validated(repository, unique)


__all__ = [
    "ALL",
    "ESTABLISHMENT_KEYS",
    "MAX_SUMMARY",
    "MAX_TITLE",
    "ORGANISATION_KEYS",
    "PLACEHOLDER",
    "PLACEHOLDER_MESSAGE",
    "PRESS_KEYS",
    "REGISTRY_KEYS",
    "SERVICE_KEYS",
    "SITE_KEYS",
    "STATEMENT_KEYS",
    "Key",
    "Validated",
    "keys_table",
    "parse_instant",
    "shorten",
    "site_problems",
    "slugify",
    "summarize",
    "validate_repository",
]

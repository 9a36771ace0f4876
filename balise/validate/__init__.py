"""Raw records -> the typed Repository, or every Problem in every file (not just the first).

Pure: no file access, no clock, no environment; it only judges what load.py read. Each file's
schema is declared key by key (schema.Key) in registry, statement and site.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from balise.errors import Problem
from balise.load import RawFile, RawRepository
from balise.model import Repository, Site, sort_key
from balise.text import shorten, slugify
from balise.validate.dates import parse_instant
from balise.validate.registry import (
    ALL,
    ESTABLISHMENT_KEYS,
    ORGANISATION_KEYS,
    PRESS_KEYS,
    REGISTRY_KEYS,
    SERVICE_KEYS,
    Registry,
    registry,
)
from balise.validate.schema import Key, keys_table
from balise.validate.site import SITE_KEYS, site, site_problems
from balise.validate.statement import (
    MAX_TITLE,
    PLACEHOLDER,
    PLACEHOLDER_MESSAGE,
    STATEMENT_KEYS,
    Checked,
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


@dataclass(frozen=True)
class Sources:
    """The registry and mkdocs.yml judged: what each statement is then judged against."""

    registry: Registry
    site: Site | None
    context: Context
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class Judged:
    """One statement file judged alone, by its schema against the registry: its outcome and
    its problems. The rules between files (duplicate ids) are judged over all of them."""

    path: str
    checked: Checked | None  # None: its front matter could not be read
    problems: tuple[Problem, ...]


def judge_sources(
    establishments: RawFile | None,
    mkdocs: RawFile | None,
    updated: Mapping[str, datetime],
    *,
    summarize: Callable[[str], str] = summarize,
) -> Sources:
    """establishments.yml and mkdocs.yml judged, and the context statements are judged in."""
    problems: list[Problem] = []
    found = registry(establishments, problems)
    built_site = site(mkdocs, problems)
    services = {e.id: e.services for e in found.establishments or ()}
    # Services are judged only when the registry was read whole.
    service_ids = (
        tuple(service.id for service in found.services)
        if found.establishments is not None
        else None
    )
    context = Context(found.zone, found.ids, updated, summarize, services, service_ids)
    return Sources(found, built_site, context, tuple(problems))


def judge_statement(
    path: str, raw: RawFile | None, met: Iterable[Problem], context: Context
) -> Judged:
    """One statement file judged alone; `met`: the problems met reading it (`raw` is None
    when they leave nothing to judge)."""
    problems = list(met)
    checked = statement(raw, context, problems) if raw is not None else None
    return Judged(path, checked, tuple(problems))


def judged_against(context: Context) -> str:
    """What judging a statement reads besides its own file, as one text: a statement judged
    against the same text is judged the same (for the build's reader cache). Not `updated`,
    which only sets the Statement's field of that name, nor `summarize`, a pure function of
    the body (Balise's own code)."""
    services = [(key, list(value)) for key, value in context.services.items()]
    ids = None if context.ids is None else list(context.ids)
    service_ids = None if context.service_ids is None else list(context.service_ids)
    return json.dumps([context.zone, ids, services, service_ids], ensure_ascii=False)


def validate_judged(
    problems: Iterable[Problem], sources: Sources, judged: Iterable[Judged]
) -> Validated:
    """The rules between files over statements judged one by one, and the Repository (or
    None) with every problem: those met reading the files, then the judges'."""
    found = [*problems, *sources.problems]
    checked: list[tuple[str, Checked]] = []
    for one in judged:
        found.extend(one.problems)
        if one.checked is not None:
            checked.append((one.path, one.checked))
    duplicate_ids(checked, found)
    unique = tuple(sorted(set(found)))
    statements = [result.statement for _, result in checked if result.statement is not None]
    repository = None
    registry_ = sources.registry
    if (
        not any(not problem.warning for problem in unique)
        and registry_.organisation is not None
        and registry_.establishments is not None
        and sources.site is not None
    ):
        repository = Repository(
            organisation=registry_.organisation,
            establishments=registry_.establishments,
            statements=tuple(sorted(statements, key=sort_key)),
            site=sources.site,
            services=registry_.services,
        )
    return Validated(repository, unique)


def validate_repository(
    raw: RawRepository, *, summarize: Callable[[str], str] = summarize
) -> Validated:
    """Judge a whole raw repository: the Repository, or None and every problem found.

    `summarize` makes a statement's default summary from its body: the pure function, or the
    build's memo of it (the build owns the cache; validation never imports it).
    """
    sources = judge_sources(raw.establishments, raw.mkdocs, raw.updated, summarize=summarize)
    judged = [judge_statement(file.path, file, (), sources.context) for file in raw.statements]
    return validate_judged(raw.problems, sources, judged)


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
    "Checked",
    "Context",
    "Judged",
    "Key",
    "Sources",
    "Validated",
    "judge_sources",
    "judge_statement",
    "judged_against",
    "keys_table",
    "parse_instant",
    "shorten",
    "site_problems",
    "slugify",
    "summarize",
    "validate_judged",
    "validate_repository",
]

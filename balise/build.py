"""The pipeline, end to end: sources -> checked repository -> snapshot -> outputs -> site/.

Holds the order of the steps; the steps themselves live in their own modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from balise import cache as build_cache
from balise.errors import Problem
from balise.guards import guard_warnings, legal_warnings
from balise.load import MKDOCS_FILE, load_repository, read_sources
from balise.model import Repository
from balise.output import (
    clear_leftovers,
    locked,
    read_files,
    replace_dir,
    staging,
    write_problem,
    write_tree,
)
from balise.prefetch import Renderings
from balise.render.templates import page_template_problems
from balise.stamp import (
    STAMP_FILE,
    combined_digest,
    file_digests,
    record_digests,
    recorded,
    recorded_digests,
    source_state,
    stamp,
)
from balise.text.markdown import Removed, removed_markup
from balise.timeline import snapshot
from balise.validate import validate_repository
from balise.views import site_pages

# The renderers are imported by the build that uses them (in `_build`), not by `check` (the
# pre-commit hook): it loads no feed, calendar or MkDocs library.

SITE_MARKER = "status.json"  # every Balise build has it; a folder without it is not ours to replace


@dataclass(frozen=True)
class BuildResult:
    """What a check or build found: problems (errors and warnings) and, when built, where."""

    problems: tuple[Problem, ...]
    repository: Repository | None = None
    out: Path | None = None
    mkdocs_warnings: tuple[str, ...] = ()
    strict: bool = False  # --strict: warnings count as errors
    notes: tuple[str, ...] = ()  # what the user should know that is no problem of the sources

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if self.strict or not p.warning)

    @property
    def ok(self) -> bool:
        return not self.errors

    def adding(self, problems: Iterable[Problem]) -> BuildResult:
        """The same, with more problems (those not already found), after the others."""
        known = set(self.problems)
        more = tuple(p for p in dict.fromkeys(problems) if p not in known)
        return replace(self, problems=(*self.problems, *more))


def check(
    root: Path,
    now: datetime | None = None,
    *,
    strict: bool = False,
    wall_clock: datetime | None = None,
    renderings: Renderings | None = None,
    cache: Path | None = None,
) -> BuildResult:
    """Load and validate every source; with NOW, add the guard-rail warnings. Writes nothing.

    `now` is the publication instant (NOW, CONTRACT §4); `wall_clock` the real time of the
    check, which judges whether a date is in the future (NOW when not given). `renderings`:
    a build's memoized body renderings (without, each is computed as needed). `cache`: the
    build cache folder, read (never written) for the records and renderings builds kept.
    """
    if renderings is None and cache is not None:
        with build_cache.reading(cache) as kept:
            return check(
                root, now, strict=strict, wall_clock=wall_clock, renderings=Renderings.of(kept)
            )
    removed: Callable[[str], tuple[Removed, ...]] = removed_markup
    if renderings is None:
        validated = validate_repository(load_repository(root))
    else:  # the reader cache: files judged by an earlier build are read back
        reading = renderings.validate(read_sources(root))
        validated, removed = reading.validated, reading.removed
    problems = validated.problems
    if validated.repository is not None:
        problems = tuple(sorted(set(problems)))
    if validated.repository is not None and now is not None:
        repository = validated.repository
        snap = snapshot(repository, now)
        problems = (
            *problems,
            *guard_warnings(repository, snap, wall_clock, removed=removed),
            *legal_warnings(repository),
        )
        problems = (*problems, *page_template_problems(root, lambda: site_pages(repository, snap)))
    return BuildResult(problems, validated.repository, strict=strict)


def carried_over(previous: Path, expected: Mapping[str, str]) -> dict[str, tuple[Path, str]]:
    """Of the files whose bytes are known by their sha256 (path -> digest), those the
    previous site holds, unchanged since its build recorded them: path -> (its file, digest)."""
    if not expected:
        return {}
    kept = recorded(previous)
    return {
        path: (previous / path, sha)
        for path, sha in expected.items()
        if (entry := kept.get(path)) is not None and entry.sha256 == sha
    }


def _foreign_loads(
    site_dir: Path,
    repository: Repository,
    digests: Mapping[str, str],
    built: dict[str, Path],
    scan: Callable[[str, str, str], list[str]],
) -> list[Problem]:
    """What the built pages and stylesheets would load from another host (a theme.custom_dir
    override, a plugin...): refused, since hosts that cannot send the CSP would let it load.
    `digests`: the sha256 of every file of the site. `scan(sha256, own host, "html" or "css")`
    is the build's memo of origins.foreign_loads over the file holding those bytes (put in
    `built` first): a warm build reads and scans only the files whose bytes are new."""
    own = urlsplit(repository.site.url).hostname or ""
    found: dict[str, str] = {}  # URL -> the first file loading it
    for kind in ("html", "css"):
        for relative in sorted(r for r in digests if r.endswith(f".{kind}")):
            sha = digests[relative]
            built.setdefault(sha, site_dir / relative)
            for url in scan(sha, own, kind):
                found.setdefault(url, relative)
    return [
        Problem(
            MKDOCS_FILE,
            1,
            f"the built site would load {url!r} from another host (first in {page}): "
            "a Balise site loads nothing from another host",
            "remove what adds it: a file of theme.custom_dir, a plugin or hook of mkdocs.yml",
        )
        for url, page in found.items()
    ]


def _out_problem(root: Path, out: Path) -> Problem | None:
    """Refuse an output folder whose replacement would destroy something that is not a site."""
    out, root = out.resolve(), root.resolve()
    if out == root or out in root.parents:
        return Problem(str(out), 1, "the output folder must not contain the repository")
    if out.exists() and (
        not out.is_dir() or (any(out.iterdir()) and not (out / SITE_MARKER).exists())
    ):
        return Problem(
            str(out), 1, "refusing to replace this folder: it is not a Balise site (no status.json)"
        )
    return None


def build(
    root: Path,
    out: Path,
    now: datetime,
    *,
    strict: bool = False,
    on_wait: Callable[[], None] | None = None,
    cache: Path | None = None,
    wall_clock: datetime | None = None,
) -> BuildResult:
    """Check, then build the whole site into `out`, replacing it only once complete.

    Builds into the same `out` wait for each other (`on_wait` is called when one must wait).
    With a `cache` folder, what did not change since the last build is not computed again;
    the site is byte for byte the one a build without cache makes.
    """
    with build_cache.session(cache) as used:
        outcome = _build(
            root, out, now, strict=strict, on_wait=on_wait, wall_clock=wall_clock, cache=used
        )
    if used.trouble is not None:
        note = (
            f"the build cache could not be written ({used.trouble}): the site is complete, "
            "only the next build takes longer (--no-cache skips the cache)"
        )
        outcome = replace(outcome, notes=(*outcome.notes, note))
    return outcome


def _build(
    root: Path,
    out: Path,
    now: datetime,
    *,
    strict: bool,
    on_wait: Callable[[], None] | None,
    wall_clock: datetime | None,
    cache: build_cache.Cache,
) -> BuildResult:
    """The build, its cache open: the cache is handed to each step that keeps results (the
    body renderings' memos, page sources, feed entries, MkDocs' pages); none imports it."""
    from balise.render import merge
    from balise.render.api import render_api
    from balise.render.badges import render_badges
    from balise.render.calendar import render_calendar
    from balise.render.compiled_templates import keep_compiled
    from balise.render.feeds import render_feeds, render_feeds_sitemaps
    from balise.render.headers import render_headers
    from balise.render.origins import foreign_loads
    from balise.render.pages import navigation
    from balise.render.search import render_search
    from balise.render.sitemap import render_sitemap
    from balise.render.sources import PageSources, templates_digest
    from balise.render.templates import page_environment
    from balise.templating import template_problem

    renderings = Renderings.of(cache)
    holding: dict[str, Path] = {}  # sha256 -> a built file holding those bytes
    scan = cache.memo(
        "foreign-loads",
        lambda sha, own, kind: foreign_loads(
            holding[sha].read_text("utf-8", errors="replace"), own, css=kind == "css"
        ),
    )
    out = out.absolute()  # MkDocs reads relative folders from mkdocs.yml's folder, not ours
    checked = check(root, now, strict=strict, wall_clock=wall_clock, renderings=renderings)
    if not checked.ok or checked.repository is None:
        return checked
    problem = _out_problem(root, out)
    if problem:
        return BuildResult((*checked.problems, problem), checked.repository)
    repository = checked.repository
    snap = snapshot(repository, now)
    pages = site_pages(repository, snap)
    bodies = renderings.bodies()
    try:
        env = page_environment(root)
        if cache.folder is not None:
            keep_compiled(env, cache.folder, cache.failed)
        sources = PageSources(
            pages,
            env,
            templates_digest(root / "templates"),
            bodies,
            cache,
            build_cache.parallel_map,
        )
        sources.render_unknown()  # what no earlier build rendered; the rest only if needed
    except Exception as error:  # a repository's template may fail in any way
        problem = template_problem(root, error)
        if problem is None:
            raise
        return BuildResult((*checked.problems, problem), repository)
    feeds = render_feeds(repository, snap, bodies, cache)
    outputs = merge(
        render_api(repository, snap, bodies),
        feeds,
        render_feeds_sitemaps(repository, snap),
        render_calendar(repository, snap),
        render_badges(repository, snap),
    )

    from balise.render.mkdocs_site import SiteConfigError, build_site, material_scripts

    state = source_state(root)
    warned = len(checked.problems) - len(checked.errors)
    # Concurrent builds into one folder are serialised, never interleaved.
    try:
        with locked(out, on_wait):
            clear_leftovers(out, SITE_MARKER)  # of killed builds: no other build is running
            problem = _out_problem(root, out)  # again: another build may have run meanwhile
            if problem:
                return BuildResult((*checked.problems, problem), repository)
            with staging(out) as scratch:
                try:
                    site = build_site(
                        root / "mkdocs.yml", sources, navigation(pages), scratch, now, cache
                    )
                except SiteConfigError as error:
                    refused = tuple(Problem("mkdocs.yml", 1, message) for message in error.messages)
                    return BuildResult((*checked.problems, *refused), repository)
                site_dir, warnings, scripts = site.site_dir, site.warnings, site.scripts
                # The sha256 of what Balise writes, and of what it carried over unchanged from
                # the last build (same inode): the stamp reads back only what MkDocs wrote.
                known = recorded_digests(site_dir, record_of=out)
                # A feed document made of the same inputs as in the last build: that site's
                # file (still as recorded) is linked in, and the document never made again.
                carry = carried_over(out, feeds.expected())
                written = write_tree(site_dir, outputs, carry=carry)
                feeds.remember(written)
                known |= written
                if site.search is not None:
                    search = render_search(pages, site.search, bodies.plain_text)
                    known |= write_tree(site_dir, search)
                if site.sitemap is not None:  # MkDocs' lacks the pages carried from the cache
                    known |= write_tree(site_dir, render_sitemap(site.sitemap, now))
                known = file_digests(site_dir, known)  # reads only what MkDocs wrote
                foreign = _foreign_loads(site_dir, repository, known, holding, scan)
                if foreign:
                    return BuildResult((*checked.problems, *foreign), repository)
                # The CSP allows the theme's inline scripts by hash: those of the built pages
                # (MkDocs' pages already read by Balise's plugin; the others, such as 404.html)
                # that Material's own templates write, never a script from configuration or content.
                others = read_files(site_dir, "*.html", skip=scripts)
                also = {source for sources in scripts.values() for source in sources}
                files = [
                    f.relative_to(site_dir).as_posix() for f in site_dir.rglob("*") if f.is_file()
                ]
                served = [*files, STAMP_FILE]  # every file gets its Cache-Control
                headers = render_headers(others, material_scripts(), also=also, paths=served)
                digests = known | write_tree(site_dir, headers)
                built = stamp(state, now, combined_digest(digests), strict=strict, warnings=warned)
                write_tree(site_dir, {STAMP_FILE: built})
                replace_dir(site_dir, out)
            # For `deploy` and the next build: what each file holds, with its stat now.
            record_digests(out, digests)
    except OSError as error:  # a full disk, a read-only or forbidden folder: the old site stays
        return BuildResult((*checked.problems, write_problem(error, out)), repository)
    return BuildResult(checked.problems, repository, out, tuple(warnings), strict=strict)

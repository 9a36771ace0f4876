"""Runs MkDocs (with mkdocs-material) on Balise's generated sources, into a scratch folder.

An I/O edge like `output`: it writes the sources and the built site, and nothing else.
"""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from balise.render.headers import ThemeScripts, theme_scripts
from balise.render.pages import NOT_IN_NAV
from balise.views import GLOBAL_FEEDS

if TYPE_CHECKING:  # the plugin is imported when a site is built: it imports MkDocs
    from balise.render.mkdocs_plugin import BuildCache

# Material prints a banner about MkDocs 2 on import; it is noise in Balise's output.
os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")

THEME_DIR = Path(__file__).resolve().parent.parent / "theme"
BALISE_CSS = "assets/balise.css"
BALISE_JS = "assets/balise.js"  # progressive enhancement only: pages work without it


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _quiet_mkdocs() -> Iterator[_Collect]:
    """MkDocs logs progress at INFO; keep its warnings to report them, drop the rest."""
    logger = logging.getLogger("mkdocs")
    collect = _Collect()
    saved = (logger.level, logger.propagate)
    logger.addHandler(collect)
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    try:
        yield collect
    finally:
        logger.removeHandler(collect)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


@contextmanager
def _source_date_epoch(now: datetime) -> Iterator[None]:
    """MkDocs dates the sitemap from SOURCE_DATE_EPOCH: pin it to NOW for reproducible bytes."""
    saved = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(int(now.timestamp()))
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = saved


def _theme(config_file: Path) -> dict[str, Any]:
    """mkdocs.yml's theme, as MkDocs reads it, with what Balise supplies: Material (a minimal
    mkdocs.yml has no theme, and MkDocs' own loads from a CDN), French, no Google Fonts."""
    from mkdocs.exceptions import ConfigurationError
    from mkdocs.utils.yaml import yaml_load

    try:
        with config_file.open("rb") as stream:
            settings = yaml_load(stream)
    except (OSError, ConfigurationError):
        settings = {}  # load_config reports it
    given = settings.get("theme") if isinstance(settings, dict) else None
    if isinstance(given, str):
        given = {"name": given}
    theme = dict(given) if isinstance(given, dict) else {}
    theme["name"] = theme.get("name") or "material"  # validate.site refuses any other
    theme["language"] = "fr"
    theme["font"] = False  # no Google Fonts: the site loads nothing from another host
    return theme


def material_scripts() -> ThemeScripts:
    """The inline scripts mkdocs-material's own templates write (partials/javascripts), read
    from the installed package: never from a repository's theme overrides."""
    from mkdocs.utils import get_theme_dir

    folder = Path(get_theme_dir("material")) / "partials" / "javascripts"
    return theme_scripts(path.read_text("utf-8") for path in sorted(folder.glob("*.html")))


class SiteConfigError(Exception):
    """MkDocs refused the configuration (mkdocs.yml): bad input, reported with its messages."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages or ["MkDocs could not build the site"]
        super().__init__("; ".join(self.messages))


def _foreign_culprit(error: BaseException) -> str | None:
    """The file outside Balise where the error was raised (a hook, a theme's code, a library
    mkdocs.yml asks for), or None when Balise's own code raised it."""
    balise = Path(__file__).resolve().parent.parent
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    if frame is None:
        return None
    where = Path(frame.tb_frame.f_code.co_filename).resolve()
    if where.is_relative_to(balise):
        return None
    return f"{where.name}:{frame.tb_lineno}"


@dataclass(frozen=True)
class BuiltSite:
    """What MkDocs made: the folder, its warnings, the CSP sources of the inline scripts of
    each page it knows (by output path; the others must be read), and Material's search
    settings when the site has search (Balise then writes the index: render/search.py), and
    when pages were carried from the cache (MkDocs' sitemap lacks them), the canonical URLs
    of every page in MkDocs' order (for render/sitemap.py)."""

    site_dir: Path
    warnings: list[str]
    scripts: dict[str, list[str]]
    search: dict[str, Any] | None
    sitemap: tuple[str, ...] | None = None


def build_site(
    config_file: Path,
    sources: Mapping[str, bytes],
    nav: list[Any],
    scratch: Path,
    now: datetime,
    cache: BuildCache | None = None,
) -> BuiltSite:
    """Build the sources into scratch/site (see BuiltSite).

    The sources reach MkDocs from memory through Balise's plugin (scratch/docs stays empty),
    which also carries from the build cache (`cache`, the build's) the pages outside the
    navigation whose inputs have not changed.
    """
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    from balise.render.mkdocs_plugin import BalisePlugin

    docs_dir = scratch / "docs"
    site_dir = scratch / "site"
    docs_dir.mkdir(parents=True)
    plugin = BalisePlugin(sources, cache, material_scripts())

    with _quiet_mkdocs() as collected, _source_date_epoch(now), plugin.running(scratch):
        try:
            config = load_config(
                config_file=str(config_file),
                docs_dir=str(docs_dir),
                site_dir=str(site_dir),
                # Permalinks are files: they work from any host and from disk.
                use_directory_urls=False,
                nav=nav,
                not_in_nav=NOT_IN_NAV,
                theme=_theme(config_file),
            )
        except MkDocsException as error:  # Abort is also a SystemExit: never let it out
            raise SiteConfigError([*collected.messages, str(error)]) from None
        theme = config.theme
        theme.dirs.insert(1 if theme.custom_dir else 0, str(THEME_DIR))
        if BALISE_CSS not in config.extra_css:
            config.extra_css.append(BALISE_CSS)
        if BALISE_JS not in [str(script) for script in config.extra_javascript]:
            config.extra_javascript.append(BALISE_JS)
        config.extra.setdefault("generator", False)
        # Pages without Balise meta (404) still announce the global feeds.
        config.extra["balise_feeds"] = [
            {"title": html.escape(f.title), "href": f.path, "type": f.media_type}
            for f in GLOBAL_FEEDS
        ]
        config.plugins["balise"] = plugin
        try:
            build(config)
        except MkDocsException as error:
            raise SiteConfigError([*collected.messages, str(error)]) from None
        except OSError:
            raise  # a disk that refuses a write: the build reports it as such
        except Exception as error:
            culprit = _foreign_culprit(error)
            if culprit is None:
                raise  # Balise's own code failed: a bug, with its traceback
            raise SiteConfigError(
                [
                    *collected.messages,
                    f"MkDocs stopped in {culprit}: {type(error).__name__}: {error}",
                ]
            ) from None
    return BuiltSite(
        site_dir,
        collected.messages,
        plugin.script_sources,
        plugin.search_settings,
        plugin.sitemap if plugin.carried else None,
    )

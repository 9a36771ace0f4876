"""Balise's MkDocs plugin: sources from memory, and unchanged pages restored from the cache.

MkDocs' own events only (no patching). A page whose inputs (its source, the configuration,
the navigation, the theme) have a cached output is neither rendered nor templated: its file
and search entries are the cached ones, and it costs a file link instead of milliseconds.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import jinja2
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files, InclusionLevel, file_sort_key, set_exclusions
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page
from mkdocs.utils import meta as markdown_meta

from balise import cache as build_cache
from balise.render.sources import PageSources

RESTORED_TEMPLATE = "balise-restored.html"  # renders nothing: the output comes from the cache
PAGES = "pages"  # blobs: whole output pages, by output key
RECORDS = "page-records"  # what else a page left behind: search entries, anchors, warnings
# Plugins whose effect on a page is known (it depends on the page's own inputs only). Any other
# plugin (blog, tags, git dates...) may make a page depend on others: pages are then all built.
SAFE_PLUGINS = ("material.plugins.search.plugin.SearchPlugin",)
# Keys of a page's meta that other pages show (Material's navigation: icon, subtitle, status).
_OWN_META = ("title", "description", "balise_feeds", "hide", "template", "search")


def _plain(value: Any, depth: int = 0) -> Any:
    """A configuration value as JSON-able data, to digest it; unknown objects by their repr."""
    if depth > 12 or value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, depth + 1) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(repr(v) for v in value)
    if hasattr(value, "_vars") and hasattr(value, "dirs"):  # mkdocs.theme.Theme
        return {
            "name": value.name,
            "dirs": list(value.dirs),
            "static": sorted(value.static_templates),
            "vars": _plain(dict(value._vars), depth + 1),
        }
    text = repr(value)
    return type(value).__qualname__ if " at 0x" in text else text


def _folder_digest(folder: str | None) -> str:
    parts: list[str | bytes] = []
    if folder and os.path.isdir(folder):
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                parts += [path.relative_to(folder).as_posix(), path.read_bytes()]
    return build_cache.digest(*parts)


class _Replay(logging.Handler):
    """Collects the warnings MkDocs logs while it works on one page, to replay them later."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.bucket: list[list[Any]] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.bucket is not None and not getattr(record, "balise_replay", False):
            self.bucket.append([record.levelno, record.getMessage()])


_replay_log = logging.getLogger("mkdocs.plugins.balise")


def _replay(messages: list[list[Any]]) -> None:
    for level, message in messages:
        _replay_log.log(level, message, extra={"balise_replay": True})


class _CachedSearchIndex:
    """Material's search index, fed cached entries for restored pages (the rest delegated)."""

    def __init__(self, index: Any, plugin: BalisePlugin) -> None:
        self._index = index
        self._plugin = plugin

    def add_entry_from_context(self, page: Page) -> None:
        record = self._plugin.restored.get(page.file.src_uri)
        if record is not None:
            self._index.entries.extend(record["search"])
            return
        before = len(self._index.entries)
        self._index.add_entry_from_context(page)
        self._plugin.search_entries[page.file.src_uri] = self._index.entries[before:]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._index, name)


class BalisePlugin(BasePlugin):
    """Registered by build_site as `config.plugins["balise"]`; one instance per build."""

    def __init__(self, sources: Mapping[str, bytes], cache: build_cache.Cache | None) -> None:
        super().__init__()
        self.sources = sources
        self.cache = cache
        self.caching = (
            cache is not None and cache.folder is not None and isinstance(sources, PageSources)
        )
        self.replay = _Replay()
        self.keys: dict[str, str] = {}  # source path -> output key
        self.restored: dict[str, dict[str, Any]] = {}  # source path -> cached record
        self.blobs: dict[str, Path] = {}  # source path -> cached output of a restored page
        self.search_entries: dict[str, list[Any]] = {}
        self.read_warnings: dict[str, list[list[Any]]] = {}
        self.build_warnings: dict[str, list[list[Any]]] = {}
        self._order: list[str] = []  # every source, in MkDocs' order
        self._next = 0  # the first source whose reading warnings are not yet replayed
        self._search: Any = None
        self._files: Files | None = None

    @contextmanager
    def replaying(self) -> Iterator[None]:
        """While MkDocs builds: note the warnings each page causes, to replay when restored."""
        logger = logging.getLogger("mkdocs")
        logger.addHandler(self.replay)
        try:
            yield
        finally:
            logger.removeHandler(self.replay)

    # --- configuration ----------------------------------------------------------------

    @event_priority(-100)  # after every other plugin's on_config (search makes its index there)
    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        for plugin in config.plugins.values():
            if plugin is self:
                continue
            kind = f"{type(plugin).__module__}.{type(plugin).__qualname__}"
            if kind not in SAFE_PLUGINS:
                self.caching = False
            elif getattr(plugin, "search_index", None) is not None:
                self._search = plugin
        if self.caching and self._search is not None:
            self._search.search_index = _CachedSearchIndex(self._search.search_index, self)
        if self.caching:
            settings = {
                k: v for k, v in config.items() if k not in ("docs_dir", "site_dir", "plugins")
            }
            plugins = [
                [name, type(p).__module__, type(p).__qualname__, _plain(dict(p.config))]
                for name, p in config.plugins.items()
                if p is not self
            ]
            self.settings = build_cache.digest(
                json.dumps(_plain(settings), sort_keys=True, default=repr),
                json.dumps(plugins, sort_keys=True, default=repr),
                _folder_digest(config.theme.custom_dir),
            )
        return config

    # --- files: the sources, and which pages are restored --------------------------------

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        pages = [
            File(path, None, config.site_dir, config.use_directory_urls) for path in self.sources
        ]
        pages.sort(key=file_sort_key)  # the order MkDocs gives files it finds in docs_dir
        set_exclusions(pages, config)
        self._order = [f.src_uri for f in pages]
        everything = self._files = Files([*pages, *files])
        if self.caching:
            self._choose_restored(pages, everything)
        return everything

    def _choose_restored(self, pages: list[File], everything: Files) -> None:
        assert self.cache is not None and isinstance(self.sources, PageSources)
        facts = {f.src_uri: self.sources.facts(f.src_uri) for f in pages}
        shown: list[Any] = []  # what every page shows of the pages in the navigation
        for f in pages:
            if not f.inclusion.is_not_in_nav():
                meta = markdown_meta.get_data(str(facts[f.src_uri][2]))[1]
                shown.append([f.src_uri, {k: v for k, v in meta.items() if k not in _OWN_META}])
        context = build_cache.digest(self.settings, json.dumps(shown, default=repr))
        listing = build_cache.digest(*(f.src_uri for f in everything))
        self.cache.blobs_in_use(PAGES)
        for f in pages:
            source, links, front = facts[f.src_uri]
            key = build_cache.digest(context, f.src_uri, str(source), listing if links else "")
            self.keys[f.src_uri] = key
            record = self.cache.get(RECORDS, key)
            blob = self.cache.blob(PAGES, key)
            if record is None or blob is None or (self._search and record["search"] is None):
                continue
            stat = blob.stat()
            if [stat.st_size, stat.st_mtime_ns] != record["stat"]:
                continue  # the cached file was changed in place (through a published copy)
            self.restored[f.src_uri] = {**record, "front": front}
            self.blobs[f.src_uri] = blob

    def on_nav(self, nav: Navigation, *, config: MkDocsConfig, files: Files) -> Navigation:
        # Restored pages outside the navigation are not read nor rendered (they come back in
        # on_env for the sitemap and the page loop); pages in it are read for their titles.
        for path in self.restored:
            f = files.get_file_from_path(path)
            if f is not None and f.inclusion.is_not_in_nav():
                f.inclusion = InclusionLevel.EXCLUDED
        return nav

    # --- reading and rendering ----------------------------------------------------------

    def _replay_reading_until(self, path: str | None) -> None:
        while self._next < len(self._order) and self._order[self._next] != path:
            done = self._order[self._next]
            if done in self.restored:
                _replay(self.restored[done]["read_warnings"])
            self._next += 1
        if path is not None:
            self._next += 1

    def on_pre_page(self, page: Page, *, config: MkDocsConfig, files: Files) -> Page:
        self._replay_reading_until(page.file.src_uri)
        self.replay.bucket = self.read_warnings.setdefault(page.file.src_uri, [])
        return page

    def on_page_read_source(self, *, page: Page, config: MkDocsConfig) -> str | None:
        path = page.file.src_uri
        if path in self.restored:
            return str(self.restored[path]["front"])  # its meta, for the navigation; no body
        if path not in self.sources:
            return None
        text = self.sources[path].decode("utf-8")
        if isinstance(self.sources, PageSources):
            self.sources.release(path)
        return text

    def on_page_markdown(
        self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str:
        return "" if page.file.src_uri in self.restored else markdown

    def on_page_content(self, html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        self.replay.bucket = None
        return html

    def on_env(
        self, env: jinja2.Environment, *, config: MkDocsConfig, files: Files
    ) -> jinja2.Environment:
        self._replay_reading_until(None)
        env.auto_reload = False  # no template changes during a build: spare a stat per use
        env.loader = jinja2.ChoiceLoader([jinja2.DictLoader({RESTORED_TEMPLATE: ""}), env.loader])
        for path, record in self.restored.items():
            f = files.get_file_from_path(path)
            assert f is not None
            if f.inclusion is InclusionLevel.EXCLUDED:
                f.inclusion = InclusionLevel.NOT_IN_NAV
                Page(None, f, config)
            page = f.page
            assert page is not None
            page.content = ""
            page.meta["template"] = RESTORED_TEMPLATE
            page.present_anchor_ids = set(record["anchors"])
            page.links_to_anchors = {
                target: links
                for target_path, links in record["links"].items()
                if (target := files.get_file_from_path(target_path)) is not None
            }
        return env

    # --- writing ------------------------------------------------------------------------

    @event_priority(100)  # before the search plugin indexes the page
    def on_page_context(
        self, context: Any, *, page: Page, config: MkDocsConfig, nav: Navigation
    ) -> Any:
        if page.file.src_uri not in self.restored:
            self.replay.bucket = self.build_warnings.setdefault(page.file.src_uri, [])
        return context

    @event_priority(-100)
    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str:
        self.replay.bucket = None
        path = page.file.src_uri
        record = self.restored.get(path)
        if record is None:
            return output
        _replay(record["build_warnings"])
        _link(self.blobs[path], Path(page.file.abs_dest_path))
        return ""  # nothing for MkDocs to write: the cached file is in place

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        if not self.caching or self.cache is None or self._files is None:
            return
        for path, key in self.keys.items():
            f = self._files.get_file_from_path(path)
            if path in self.restored or f is None or f.page is None:
                continue
            output = Path(f.abs_dest_path)
            if not output.is_file():
                continue
            blob = self.cache.blob_target(PAGES, key)
            if blob is None:
                continue
            _link(output, blob)
            stat = blob.stat()
            page = f.page
            entries = self.search_entries.get(path) if self._search is not None else []
            self.cache.put(
                RECORDS,
                key,
                {
                    "search": None if entries is None else _json_values(entries),
                    "anchors": sorted(page.present_anchor_ids or ()),
                    "links": {
                        target.src_uri: links
                        for target, links in (page.links_to_anchors or {}).items()
                    },
                    "read_warnings": self.read_warnings.get(path, []),
                    "build_warnings": self.build_warnings.get(path, []),
                    "stat": [stat.st_size, stat.st_mtime_ns],
                },
            )


def _json_values(value: Any) -> Any:
    """As the search plugin writes it (`default=str`), so that a cached entry reads back equal."""
    return json.loads(json.dumps(value, default=str))


def _link(source: Path, target: Path) -> None:
    """`target` becomes the same file as `source` (a copy across filesystems), never in place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with suppress(FileNotFoundError):
        os.unlink(target)  # never write through an old link: it may be a published file
    try:
        os.link(source, target)
    except OSError:
        temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        shutil.copyfile(source, temporary)
        os.replace(temporary, target)

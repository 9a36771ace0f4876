"""Balise's MkDocs plugin: sources from memory, and unchanged pages carried from the cache.

MkDocs' own events only (no patching). A page outside the navigation whose inputs (its
source, the configuration, the navigation, the theme) have a cached output is taken out of
MkDocs' files (on_files): MkDocs never sees it, and its cached bytes are linked in place.
Material's search plugin is switched off (Balise writes the search index from its views:
render/search.py); a stand-in registered under its name keeps the theme's search box.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, BinaryIO, Protocol, TypeVar
from urllib.parse import urljoin

import jinja2
from mkdocs.config import config_options
from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files, file_sort_key, set_exclusions
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page
from mkdocs.utils import meta as markdown_meta

from balise.digests import digest
from balise.render.compiled_templates import keep_compiled
from balise.render.headers import ThemeScripts, script_sources
from balise.render.set_aside import parts_copied, read
from balise.render.sources import PageSources


class BuildCache(Protocol):
    """What the build hands the plugin: its cache (records, page blobs, memos)."""

    folder: Path | None

    def get(self, kind: str, key: str) -> Any | None: ...
    def put(self, kind: str, key: str, value: Any, *, persist: bool = True) -> None: ...
    def blob(self, kind: str, key: str) -> Path | None: ...
    def blob_target(self, kind: str, key: str) -> Path | None: ...
    def blobs_in_use(self, kind: str) -> None: ...
    def failed(self, error: Exception, where: Path | None = None) -> None: ...


SEARCH_PLUGIN = "material/search"  # the name Material's templates look for
SEARCH_SETTINGS = ("lang", "separator", "pipeline", "fields")  # what its index carries


class _SearchShown(Config):
    enabled = config_options.Type(bool, default=True)


PAGES = "pages"  # blobs: whole output pages, by output key
RECORDS = "page-records"  # what else a page left behind: its scripts' CSP sources, its stat
# Plugins whose effect on a page is known (it depends on the page's own inputs only). Any other
# plugin (blog, tags, git dates...) may make a page depend on others: pages are then all built.
SAFE_PLUGINS = ("material.plugins.search.plugin.SearchPlugin",)
# Keys of a page's meta that other pages show (Material's navigation: icon, subtitle, status).
_OWN_META = ("title", "description", "balise_feeds", "hide", "template", "search")


R = TypeVar("R")


def remembered(function: Callable[[str], R]) -> Callable[[str], R]:
    """`function` memoised by a digest of its text argument: what is kept for a text is its
    16-byte digest and the result, not the text (at N = 10,000 the segments of every page
    would be kept whole: about 190 MiB)."""
    found: dict[bytes, R] = {}

    def call(text: str) -> R:
        key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        try:
            return found[key]
        except KeyError:
            result = found[key] = function(text)
            return result

    return call


# Markdown extensions whose preprocessors leave raw HTML alone (see _set_aside).
_PLAIN_EXTENSIONS = frozenset({"toc", "tables", "fenced_code", "sane_lists"})


def _as_json_data(value: Any, depth: int = 0) -> Any:
    """A configuration value as JSON-able data, to digest it; unknown objects by their repr."""
    if depth > 12 or value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Mapping):
        return {str(k): _as_json_data(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_as_json_data(v, depth + 1) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(repr(v) for v in value)
    if hasattr(value, "_vars") and hasattr(value, "dirs"):  # mkdocs.theme.Theme
        return {
            "name": value.name,
            "dirs": list(value.dirs),
            "static": sorted(value.static_templates),
            "vars": _as_json_data(dict(value._vars), depth + 1),
        }
    text = repr(value)
    return type(value).__qualname__ if " at 0x" in text else text


def _folder_digest(folder: str | None) -> str:
    parts: list[str | bytes] = []
    if folder and os.path.isdir(folder):
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                parts += [path.relative_to(folder).as_posix(), path.read_bytes()]
    return digest(*parts)


class _Replay(logging.Handler):
    """Collects the warnings MkDocs logs while it works on one page: a page that caused any
    is never carried from the cache (it would not say them again), always built."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.bucket: list[list[Any]] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.bucket is not None and not getattr(record, "balise_replay", False):
            self.bucket.append([record.levelno, record.getMessage()])


class SearchStandIn(BasePlugin):
    """Registered as `material/search` once Balise writes the search index: its only use is
    the `config.enabled` Material's templates read to show the search box. No events."""

    def __init__(self) -> None:
        super().__init__()
        self.config = _SearchShown()
        self.config.load_dict({})
        self.config.validate()


class BalisePlugin(BasePlugin):
    """Registered by build_site as `config.plugins["balise"]`; one instance per build."""

    SET_ASIDE = True  # tests switch it off to compare with MkDocs' own rendering

    def __init__(
        self,
        sources: Mapping[str, bytes],
        cache: BuildCache | None,
        theme: ThemeScripts | None = None,
    ) -> None:
        super().__init__()
        self.sources = sources
        self.cache = cache
        # How Markdown reads each segment of a page (set_aside.read), for this build: the same
        # list item, the same card, is on several pages.
        self._read = remembered(read)
        self.theme = theme or ThemeScripts()  # the inline scripts the CSP may allow
        self.caching = (
            cache is not None and cache.folder is not None and isinstance(sources, PageSources)
        )
        self.replay = _Replay()
        self.keys: dict[str, str] = {}  # source path -> output key (pages outside the nav)
        self.carried: dict[str, Path] = {}  # output path -> the cached output put there
        self.sitemap: tuple[str, ...] = ()  # every page's canonical URL, in MkDocs' order
        self.script_sources: dict[str, list[str]] = {}  # output path -> its scripts' CSP sources
        self.warned: dict[str, list[list[Any]]] = {}  # page -> the warnings it caused
        # Material's search settings, when its search plugin is on: Balise writes the index.
        self.search_settings: dict[str, Any] | None = None
        self._files: Files | None = None
        self._lists: dict[str, list[tuple[str, str]]] = {}  # page -> (placeholder, its part)
        self._original: dict[str, str] = {}  # page -> its markdown, when parts were set aside
        self._anchors: dict[str, frozenset[str | None]] = {}  # page -> ids in its parts aside
        # page -> (placeholder, the part or where it is in the spill file)
        self._aside: dict[str, list[tuple[str, str | tuple[int, int]]]] = {}
        self._spill: BinaryIO | None = None
        self.setting_aside = self.SET_ASIDE
        self.safe = True  # every plugin's effect on a page is known (see SAFE_PLUGINS)

    @contextmanager
    def running(self, scratch: Path) -> Iterator[None]:
        """While MkDocs builds: note the warnings each page causes (to replay when restored),
        and keep big parts set aside in a scratch file rather than in memory."""
        logger = logging.getLogger("mkdocs")
        logger.addHandler(self.replay)
        try:
            with (scratch / "set-aside").open("w+b") as self._spill:
                yield
        finally:
            self._spill = None
            logger.removeHandler(self.replay)
            # What only the build needed: MkDocs' files (and their pages), each page's
            # markdown and parts. The rest of the build (feeds, API, search) goes on without
            # them, even if something of MkDocs' keeps this plugin alive.
            self._files = None
            self._read = remembered(read)
            for held in (self._lists, self._original, self._anchors, self._aside):
                held.clear()

    # --- configuration ----------------------------------------------------------------

    @event_priority(-100)  # after every other plugin's on_config (search resolves its own)
    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        for plugin in config.plugins.values():
            kind = f"{type(plugin).__module__}.{type(plugin).__qualname__}"
            if plugin is not self and kind not in SAFE_PLUGINS:
                self.safe = self.caching = self.setting_aside = False
        self._take_over_search(config)
        extensions = {
            str(e).removeprefix("markdown.extensions.") for e in config.markdown_extensions
        }
        self.setting_aside = self.setting_aside and extensions <= _PLAIN_EXTENSIONS
        if self.caching:
            settings = {
                k: v for k, v in config.items() if k not in ("docs_dir", "site_dir", "plugins")
            }
            plugins = [
                [name, type(p).__module__, type(p).__qualname__, _as_json_data(dict(p.config))]
                for name, p in config.plugins.items()
                if p is not self
            ]
            self.settings = digest(
                json.dumps(_as_json_data(settings), sort_keys=True, default=repr),
                json.dumps(plugins, sort_keys=True, default=repr),
                _folder_digest(config.theme.custom_dir),
            )
        return config

    def _take_over_search(self, config: MkDocsConfig) -> None:
        """Balise indexes its own views (render/search.py) instead of Material parsing every
        page: Material's search plugin is switched off by its documented `enabled` option,
        and `material/search` names a stand-in whose `config.enabled` keeps the theme's
        search box (Material's header shows it when that name is among the plugins)."""
        material = config.plugins.get(SEARCH_PLUGIN)
        if material is None or not material.config.get("enabled", True):
            return
        self.search_settings = {key: material.config.get(key) for key in SEARCH_SETTINGS}
        material.config.enabled = False
        config.plugins[SEARCH_PLUGIN] = SearchStandIn()

    # --- files: the sources, and which pages are restored --------------------------------

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        pages = [
            File(path, None, config.site_dir, config.use_directory_urls) for path in self.sources
        ]
        pages.sort(key=file_sort_key)  # the order MkDocs gives files it finds in docs_dir
        set_exclusions(pages, config)
        everything = self._files = Files([*pages, *files])
        # The sitemap's order and URLs, as MkDocs' sitemap template writes them (carried pages
        # included): urljoin(site_url, url), as a Page's canonical_url.
        self.sitemap = tuple(
            urljoin(config.site_url or "", f.url) for f in everything.documentation_pages()
        )
        if self.caching and config.site_url:
            self._carry_unchanged(pages, everything, config)
        return everything

    def _carry_unchanged(self, pages: list[File], everything: Files, config: MkDocsConfig) -> None:
        """Take out of MkDocs' files every page outside the navigation whose output is known
        (its inputs have a cached output): MkDocs neither reads nor renders it; on_post_build
        puts the cached bytes in place. Section pages (the navigation) are always built."""
        assert self.cache is not None and isinstance(self.sources, PageSources)
        facts = {f.src_uri: self.sources.facts(f.src_uri) for f in pages}
        if any(links for _, links, _ in facts.values()):
            return  # a markdown link (a repository's template) may check any page: build all
        shown: list[Any] = []  # what every page shows of the pages in the navigation
        for f in pages:
            if not f.inclusion.is_not_in_nav():
                meta = markdown_meta.get_data(str(facts[f.src_uri][2]))[1]
                shown.append([f.src_uri, {k: v for k, v in meta.items() if k not in _OWN_META}])
        context = digest(self.settings, json.dumps(shown, default=repr))
        self.cache.blobs_in_use(PAGES)
        for f in pages:
            if not f.inclusion.is_not_in_nav() or not f.inclusion.is_included():
                continue
            key = self.keys[f.src_uri] = digest(context, f.src_uri, str(facts[f.src_uri][0]))
            record = self.cache.get(RECORDS, key)
            blob = self.cache.blob(PAGES, key)
            if record is None or blob is None:
                continue
            stat = blob.stat()
            if [stat.st_size, stat.st_mtime_ns] != record["stat"]:
                continue  # the cached file was changed in place (through a published copy)
            self.carried[f.dest_uri] = blob
            self.script_sources[f.dest_uri] = record["scripts"]
            everything.remove(f)

    # --- reading and rendering ----------------------------------------------------------

    def on_pre_page(self, page: Page, *, config: MkDocsConfig, files: Files) -> Page:
        self.replay.bucket = self.warned.setdefault(page.file.src_uri, [])
        return page

    def on_page_read_source(self, *, page: Page, config: MkDocsConfig) -> str | None:
        path = page.file.src_uri
        if path not in self.sources:
            return None
        text = self.sources[path].decode("utf-8")
        if isinstance(self.sources, PageSources):
            self.sources.release(path)
        return text

    def on_page_markdown(
        self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str:
        if not self.setting_aside or "```" in markdown or "~~~" in markdown:
            return markdown
        return self._set_aside(page.file.src_uri, markdown)

    def _set_aside(self, path: str, markdown: str) -> str:
        """Replace the inside of each HTML block that Markdown would only parse to copy it
        unchanged (set_aside.parts_copied: every block of Balise's own templates) by a
        comment; on_page_content puts them back, and the `id`s MkDocs would have read in them.
        """
        parts = parts_copied(markdown, self._read)
        if not parts:
            return markdown
        pieces: list[str] = []
        aside: list[tuple[str, str]] = []
        anchors: set[str | None] = set()
        position = 0
        for number, part in enumerate(parts):
            placeholder = f"<!--balise-aside-{number}-->"
            aside.append((placeholder, markdown[part.begin : part.end]))
            pieces += [markdown[position : part.begin], placeholder]
            position = part.end
            anchors |= part.ids
        self._lists[path] = aside
        self._anchors[path] = frozenset(anchors)
        self._original[path] = markdown
        return "".join([*pieces, markdown[position:]])

    def on_page_content(self, html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        self.replay.bucket = None
        path = page.file.src_uri
        if self.safe and "title" in page.meta:
            page.markdown = ""  # read and rendered: MkDocs needs it no more (nor the title)
        lists = self._lists.pop(path, None)
        if lists is None:
            return html
        original = self._original.pop(path)
        anchors = self._anchors.pop(path)
        if all(html.count(placeholder) == 1 for placeholder, _ in lists):
            # MkDocs reads the ids of a page's raw HTML (links to anchors are checked with them)
            page.present_anchor_ids = (page.present_anchor_ids or set()) | anchors
            # Put back when the page is written (on_page_context); until then, on disk.
            self._aside[path] = [(placeholder, self._store(inner)) for placeholder, inner in lists]
            return html
        page.markdown = original  # never seen; render the page the ordinary way
        page.render(config, files)
        assert page.content is not None
        return page.content

    def _store(self, text: str, spill_above: int = 65536) -> str | tuple[int, int]:
        """Keep a part set aside: small ones in memory, big ones in the scratch file."""
        if self._spill is None or len(text) <= spill_above:
            return text
        data = text.encode("utf-8")
        offset = self._spill.seek(0, os.SEEK_END)
        self._spill.write(data)
        return (offset, len(data))

    def _load(self, stored: str | tuple[int, int]) -> str:
        if isinstance(stored, str):
            return stored
        assert self._spill is not None
        self._spill.flush()
        offset, length = stored
        return os.pread(self._spill.fileno(), length, offset).decode("utf-8")

    def _put_back(self, page: Page) -> None:
        parts = self._aside.pop(page.file.src_uri, None)
        if not parts:
            return
        content = page.content or ""
        for placeholder, stored in parts:
            content = content.replace(placeholder, self._load(stored))
        page.content = content

    def on_env(
        self, env: jinja2.Environment, *, config: MkDocsConfig, files: Files
    ) -> jinja2.Environment:
        env.auto_reload = False  # no template changes during a build: spare a stat per use
        if self.cache is not None and self.cache.folder is not None:
            keep_compiled(env, self.cache.folder, self.cache.failed)  # the theme's templates
        return env

    # --- writing ------------------------------------------------------------------------

    def on_post_template(
        self, output_content: str, *, template_name: str, config: MkDocsConfig
    ) -> str:
        if template_name == "sitemap.xml" and self.carried:
            return ""  # it would lack the carried pages: the build writes it (render/sitemap.py)
        return output_content

    @event_priority(100)  # before any other plugin reads the page
    def on_page_context(
        self, context: Any, *, page: Page, config: MkDocsConfig, nav: Navigation
    ) -> Any:
        self.replay.bucket = self.warned.setdefault(page.file.src_uri, [])
        self._put_back(page)
        return context

    @event_priority(-100)
    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str:
        self.replay.bucket = None
        if self.safe:  # no other plugin may change the page after this
            self.script_sources[page.file.dest_uri] = script_sources(output, self.theme)
            page.content = ""  # written: MkDocs needs it no more
        return output

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        for dest_uri, blob in self.carried.items():
            _link(blob, Path(config.site_dir, dest_uri))
        if not self.caching or self.cache is None or self._files is None:
            return
        for path, key in self.keys.items():
            f = self._files.get_file_from_path(path)
            if f is None or f.page is None or self.warned.get(path):
                continue  # carried, or warned: a carried page would not say it again
            output = Path(f.abs_dest_path)
            if not output.is_file() or f.dest_uri not in self.script_sources:
                continue
            blob = self.cache.blob_target(PAGES, key)
            if blob is None:
                continue
            try:
                _link(output, blob)
                stat = blob.stat()
            except OSError as error:  # a full disk under the cache: the site is complete
                self.cache.failed(error, blob)
                continue
            scripts = self.script_sources[f.dest_uri]
            self.cache.put(
                RECORDS, key, {"scripts": scripts, "stat": [stat.st_size, stat.st_mtime_ns]}
            )


def _link(source: Path, target: Path) -> None:
    """`target` becomes the same file as `source` (a copy across filesystems), never in place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with suppress(FileNotFoundError):
        os.unlink(target)  # never write through an old link: it may be a published file
    try:
        os.link(source, target)
    except OSError:
        temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        try:
            shutil.copyfile(source, temporary)
            os.replace(temporary, target)
        except BaseException:
            with suppress(OSError):
                os.unlink(temporary)
            raise

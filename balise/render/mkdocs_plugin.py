"""Balise's MkDocs plugin: sources from memory, and unchanged pages restored from the cache.

MkDocs' own events only (no patching). A page whose inputs (its source, the configuration,
the navigation, the theme) have a cached output is neither rendered nor templated: its file
and search entries are the cached ones, and it costs a file link instead of milliseconds.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import jinja2
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files, InclusionLevel, file_sort_key, set_exclusions
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page
from mkdocs.utils import meta as markdown_meta

from balise.digests import digest
from balise.render.headers import ThemeScripts, script_sources
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
    def memo(self, kind: str, function: Callable[..., Any]) -> Callable[..., Any]: ...


RESTORED_TEMPLATE = "balise-restored.html"  # renders nothing: the output comes from the cache
PAGES = "pages"  # blobs: whole output pages, by output key
RECORDS = "page-records"  # what else a page left behind: anchors, warnings, its file's stat
SEARCH = "page-search"  # a page's search index entries, as the index's JSON text
# Plugins whose effect on a page is known (it depends on the page's own inputs only). Any other
# plugin (blog, tags, git dates...) may make a page depend on others: pages are then all built.
SAFE_PLUGINS = ("material.plugins.search.plugin.SearchPlugin",)
# Keys of a page's meta that other pages show (Material's navigation: icon, subtitle, status).
_OWN_META = ("title", "description", "balise_feeds", "hide", "template", "search")


# Markdown extensions whose preprocessors leave raw HTML alone (see _set_aside).
_PLAIN_EXTENSIONS = frozenset({"toc", "tables", "fenced_code", "sane_lists"})
# What Balise's templates write in quantity: lists of statements (history, establishment and
# incident pages) and a statement's body, each between a start tag and its end tag.
# (Each at a line start, checked apart: a pattern that starts with its literal is searched
# for fast, one that starts with `^` or a look-behind is tried at every character.)
_ASIDE = re.compile(r'<(?:ol class="balise-statements"[^<>\n]*|div class="balise-body")>\n')
_ASIDE_END = {"<ol": "</ol>", "<di": "</div>"}
_ASIDE_MIN = 1024  # below, setting a part aside costs more than it saves
# Markup that every HTML parser reads alike and that changes no parser's state: text, and
# simple tags whose attributes are double-quoted, no script, style, comment or event handler.
_SIMPLE_TAG = (
    r"<(?!(?:script|style|textarea|title|xmp|iframe|noembed|noframes|noscript|plaintext)"
    r'[\s/>])/?[a-zA-Z][a-zA-Z0-9-]*(?:\s+(?!on|style)[a-zA-Z_:][-a-zA-Z0-9_:.]*(?:="[^"<>]*")?)*'
    r"\s*/?>"
)
_INERT = re.compile(r"(?:[^<]+|" + _SIMPLE_TAG + r")*", re.IGNORECASE)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^<>]*?(/?)>")
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param"}
    | {"source", "track", "wbr"}
)
_ANCHOR = re.compile(r"\s(?:id|name)\s*=", re.IGNORECASE)


def inert(html: str) -> bool:
    """Whether `html` is text and simple tags only (see _SIMPLE_TAG)."""
    return _INERT.fullmatch(html) is not None


def _well_nested(html: str) -> bool:
    """Every element closed, in order (void elements aside)."""
    stack: list[str] = []
    for closing, name, self_closing in _TAG.findall(html):
        name = name.lower()
        if name in _VOID or self_closing:
            continue
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return False
    return not stack


def copied_unchanged(html: str) -> bool:
    """Whether Markdown, inside a raw HTML block, would copy `html` into the page as it is.

    It copies text and tags as they are, after normalising whitespace (tabs, lines of
    spaces) and finding code fences; MkDocs collects `id`s from it: none must be there.
    """
    return (
        not any(c in html for c in "\t\r\x02\x03")
        and "```" not in html
        and "~~~" not in html
        and re.search(r"(?:^|\n) +\n", html) is None
        and _ANCHOR.search(html) is None
        and inert(html)
        and _well_nested(html)
    )


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


# A statement in a list: one `<li>` line group, as Balise's templates write it.
_ITEM_START = re.compile(r'<li class="balise-statement[ "]')  # at a line start: see _ASIDE
_EMPTY = re.compile(r"<(p|li|ol|ul|code|pre|sub|sup)\b[^<>]*>\s*</\1>", re.IGNORECASE)
_ATTRIBUTES = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)\s[^<>]*>")


def _line_start(text: str, position: int) -> bool:
    return position == 0 or text[position - 1] == "\n"


@dataclass(frozen=True)
class _Readings:
    """How the plugin reads parts of pages: the pure functions, or the build's memos of them."""

    copied_unchanged: Callable[[str], bool]
    item_read_alike: Callable[[str], bool]
    search_text: Callable[[str], list[str]]

    @classmethod
    def of(cls, cache: BuildCache | None) -> _Readings:
        if cache is None:
            return cls(
                copied_unchanged, lambda i: _item_read_alike(i, copied_unchanged), _search_text
            )
        copied = cache.memo("copied-unchanged", copied_unchanged)
        return cls(
            copied,
            cache.memo("item-read-alike", lambda item: _item_read_alike(item, copied)),
            cache.memo("search-text", _search_text),
        )


def _items(inner: str, readings: _Readings) -> list[str] | None:
    """A list's items, each with its line end, when all are read alike wherever they are."""
    starts = [m.start() for m in _ITEM_START.finditer(inner) if _line_start(inner, m.start())]
    if not starts or starts[0] != 0:
        return None
    items = [inner[a:b] for a, b in zip(starts, [*starts[1:], len(inner)], strict=True)]
    return items if all(readings.item_read_alike(item) for item in items) else None


def _offsets(items: list[str]) -> list[int]:
    starts, position = [], 0
    for item in items:
        starts.append(position)
        position += len(item)
    return starts


def _items_at(inner: str, starts: list[int]) -> list[str]:
    return [inner[a:b] for a, b in zip(starts, [*starts[1:], len(inner)], strict=True)]


def _item_read_alike(item: str, copied: Callable[[str], bool]) -> bool:
    """An item that Markdown copies unchanged, and that the search index reads the same
    wherever it is: no heading, no empty element, nothing excluded from search."""
    return (
        item.endswith("</li>\n")
        and copied(item)
        and _EMPTY.search(item) is None
        and re.search(r"<(?:h[1-6]|pre)\b|data-search|linenodiv|headerlink", item, re.I) is None
    )


def _search_text(item: str) -> list[str]:
    """What Material's search parser adds to a section's text for one item of a list.

    Its parser keeps text and a few tags, never attributes (checked by _items), so the item
    is read alone, after whitespace, as it would be read in place.
    """
    from material.plugins.search.plugin import Element, Parser, Section

    parser = Parser()
    parser.context = [Element("div"), Element("ol")]
    parser.section = Section(Element("hx"))
    parser.section.text = [" "]
    parser.data = [parser.section]
    parser.feed(item)
    parser.close()
    return parser.section.text[1:]


def _search_sections(
    content: str, lists: list[tuple[str, list[str]]], search_text: Callable[[str], list[str]]
) -> Any:
    """Material's search parser over the content; the lists' items from _search_text."""
    from material.plugins.search.plugin import Parser

    parser = Parser()
    position = 0
    for inner, items in lists:
        start = content.find(inner, position)
        if start < 0:
            continue
        parser.feed(content[position:start])
        section = parser.section
        ready = (
            section is not None
            and section.text
            and section.text[-1].isspace()
            and section.el not in parser.context
            and section.depth <= len(parser.context)
            and "pre" not in parser.context
            and not parser.skip.intersection(parser.context)
        )
        if ready:
            for item in items:
                section.text.extend(search_text(_ATTRIBUTES.sub(r"<\1>", item)))
        else:
            parser.feed(inner)
        position = start + len(inner)
    parser.feed(content[position:])
    parser.close()
    return parser.data


@dataclass(frozen=True)
class _StoredEntries:
    """A page's search entries: their JSON text, or where it is in the spill file."""

    stored: str | tuple[int, int]


class _CachedSearchIndex:
    """Material's search index, fed cached entries for restored pages (the rest delegated)."""

    def __init__(self, index: Any, plugin: BalisePlugin) -> None:
        self._index = index
        self._plugin = plugin

    def add_entry_from_context(self, page: Page) -> None:
        stored = self._plugin.restored_search.get(page.file.src_uri)
        if stored is not None:  # written as it is by _write_index (never parsed again)
            self._index.entries.append(_StoredEntries(stored))
            return
        before = len(self._index.entries)
        lists = self._plugin.lists_in_content.pop(page.file.src_uri, None)
        search = page.meta.get("search") or {}
        if lists and not search.get("exclude"):
            # As SearchIndex.add_entry_from_context, with the lists read item by item.
            readings = self._plugin.readings
            for section in _search_sections(page.content or "", lists, readings.search_text):
                if not section.is_excluded():
                    self._index.create_entry_for_section(section, page.toc, page.url, page)
        else:
            self._index.add_entry_from_context(page)
        # Kept as the JSON text _write_index writes, in the scratch file: not as thousands
        # of dictionaries in memory until the end of the build.
        text = ",".join(_index_json(entry).decode() for entry in self._index.entries[before:])
        del self._index.entries[before:]
        stored = self._plugin._store(text, spill_above=0)
        self._index.entries.append(_StoredEntries(stored))
        self._plugin.search_entries[page.file.src_uri] = stored

    def __getattr__(self, name: str) -> Any:
        return getattr(self._index, name)


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
        self.readings = _Readings.of(cache)
        self.theme = theme or ThemeScripts()  # the inline scripts the CSP may allow
        self.caching = (
            cache is not None and cache.folder is not None and isinstance(sources, PageSources)
        )
        self.replay = _Replay()
        self.keys: dict[str, str] = {}  # source path -> output key
        self.restored: dict[str, dict[str, Any]] = {}  # source path -> cached record
        self.blobs: dict[str, Path] = {}  # source path -> cached output of a restored page
        self.search_entries: dict[str, str | tuple[int, int]] = {}  # page -> as _store keeps it
        self.restored_search: dict[str, str | tuple[int, int]] = {}  # page -> its entries' JSON
        self.script_sources: dict[str, list[str]] = {}  # output path -> its scripts' CSP sources
        self.read_warnings: dict[str, list[list[Any]]] = {}
        self.build_warnings: dict[str, list[list[Any]]] = {}
        self._order: list[str] = []  # every source, in MkDocs' order
        self._next = 0  # the first source whose reading warnings are not yet replayed
        self._search: Any = None
        self._files: Files | None = None
        # page -> (placeholder, what it stands for, the items of a list of statements)
        self._lists: dict[str, list[tuple[str, str, list[str] | None]]] = {}
        self._original: dict[str, str] = {}  # page -> its markdown, when lists were set aside
        self.lists_in_content: dict[str, list[tuple[str, list[str]]]] = {}  # page -> lists
        # page -> (placeholder, the part or where it is in the spill file, its items' starts)
        self._aside: dict[str, list[tuple[str, str | tuple[int, int], list[int] | None]]] = {}
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

    # --- configuration ----------------------------------------------------------------

    @event_priority(-100)  # after every other plugin's on_config (search makes its index there)
    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        for plugin in config.plugins.values():
            if plugin is self:
                continue
            kind = f"{type(plugin).__module__}.{type(plugin).__qualname__}"
            if kind not in SAFE_PLUGINS:
                self.safe = self.caching = self.setting_aside = False
            elif getattr(plugin, "search_index", None) is not None:
                self._search = plugin
        extensions = {
            str(e).removeprefix("markdown.extensions.") for e in config.markdown_extensions
        }
        self.setting_aside = self.setting_aside and extensions <= _PLAIN_EXTENSIONS
        if self.safe and self._search is not None:
            self._search.search_index = _CachedSearchIndex(self._search.search_index, self)
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
        context = digest(self.settings, json.dumps(shown, default=repr))
        listing = digest(*(f.src_uri for f in everything))
        self.cache.blobs_in_use(PAGES)
        for f in pages:
            source, links, front = facts[f.src_uri]
            key = digest(context, f.src_uri, str(source), listing if links else "")
            self.keys[f.src_uri] = key
            record = self.cache.get(RECORDS, key)
            blob = self.cache.blob(PAGES, key)
            if record is None or blob is None or (self._search and not record["indexed"]):
                continue
            stat = blob.stat()
            if [stat.st_size, stat.st_mtime_ns] != record["stat"]:
                continue  # the cached file was changed in place (through a published copy)
            if self._search is not None:
                entries = self.cache.get(SEARCH, key)
                if entries is None:
                    continue
                # Out of memory until the index is written: in the scratch file when long.
                self.restored_search[f.src_uri] = self._store(entries)
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

    def _read_scripts(self) -> None:
        """The CSP sources of restored pages' inline scripts, as the cache recorded them
        (those of the pages built now were read in on_post_page)."""
        if not self.safe or self._files is None:
            return
        for f in self._files.documentation_pages():
            if f.src_uri in self.restored:
                self.script_sources[f.dest_uri] = self.restored[f.src_uri]["scripts"]

    def _write_search_index(self, config: MkDocsConfig) -> None:
        search = self._search
        if (
            not self.safe
            or search is None
            or not search.config.enabled
            or search.is_dirty
            or search.search_index_prev is not None
        ):
            return
        _write_index(
            search.search_index._index,
            Path(config.site_dir, "search/search_index.json"),
            self._load,
        )
        search.config.enabled = False  # written: its own on_post_build has nothing left to do

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
        if page.file.src_uri in self.restored:
            return ""
        if not self.setting_aside or "```" in markdown or "~~~" in markdown:
            return markdown
        return self._set_aside(page.file.src_uri, markdown)

    def _set_aside(self, path: str, markdown: str) -> str:
        """Replace each big list's items, each body, by a comment: Markdown and MkDocs would
        only parse them to copy them unchanged (see copied_unchanged); on_page_content puts
        them back. A list whose items are all plain is also read item by item for search."""
        parts: list[str] = []
        position = 0
        for start in _ASIDE.finditer(markdown):
            if not _line_start(markdown, start.start()):
                continue
            begin = start.end()
            opening = start.group()[:3]
            end = markdown.find(_ASIDE_END[opening], begin)
            if begin < position or end < 0 or end - begin < _ASIDE_MIN:
                continue
            inner = markdown[begin:end]
            if opening in inner:
                continue  # nested: the end found is not this element's
            items = _items(inner, self.readings) if opening == "<ol" else None
            if items is None and not self.readings.copied_unchanged(inner):
                continue
            placeholder = f"<!--balise-aside-{len(self._lists.get(path, ()))}-->"
            self._lists.setdefault(path, []).append((placeholder, inner, items))
            parts += [markdown[position:begin], placeholder]
            position = end
        if not parts:
            return markdown
        self._original[path] = markdown
        return "".join([*parts, markdown[position:]])

    def on_page_content(self, html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        self.replay.bucket = None
        path = page.file.src_uri
        if self.safe and "title" in page.meta:
            page.markdown = ""  # read and rendered: MkDocs needs it no more (nor the title)
        lists = self._lists.pop(path, None)
        if lists is None:
            return html
        original = self._original.pop(path)
        if all(html.count(placeholder) == 1 for placeholder, _, _ in lists):
            # Put back when the page is written (on_page_context); until then, on disk.
            self._aside[path] = [
                (placeholder, self._store(inner), None if items is None else _offsets(items))
                for placeholder, inner, items in lists
            ]
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
        lists = []
        for placeholder, stored, offsets in parts:
            inner = self._load(stored)
            content = content.replace(placeholder, inner)
            if offsets is not None:
                lists.append((inner, _items_at(inner, offsets)))
        page.content = content
        self.lists_in_content[page.file.src_uri] = lists

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
            self._put_back(page)
        return context

    @event_priority(-100)
    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str:
        self.replay.bucket = None
        path = page.file.src_uri
        record = self.restored.get(path)
        if record is None:
            if self.safe:  # no other plugin may change the page after this
                self.script_sources[page.file.dest_uri] = script_sources(output, self.theme)
                page.content = ""  # indexed and written: MkDocs needs it no more
            return output
        _replay(record["build_warnings"])
        _link(self.blobs[path], Path(page.file.abs_dest_path))
        return ""  # nothing for MkDocs to write: the cached file is in place

    @event_priority(50)  # before the search plugin writes its index
    def on_post_build(self, *, config: MkDocsConfig) -> None:
        self._write_search_index(config)
        self._read_scripts()
        if not self.caching or self.cache is None or self._files is None:
            return
        for path, key in self.keys.items():
            f = self._files.get_file_from_path(path)
            if path in self.restored or f is None or f.page is None:
                continue
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
            page = f.page
            entries = self.search_entries.get(path) if self._search is not None else ""
            if entries is not None and self._search is not None:
                self.cache.put(SEARCH, key, self._load(entries))
            self.cache.put(
                RECORDS,
                key,
                {
                    "indexed": entries is not None,
                    "scripts": self.script_sources[f.dest_uri],
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


def _write_index(index: Any, path: Path, load: Callable[[str | tuple[int, int]], str]) -> None:
    """Material's search_index.json, entry by entry: its bytes, without the whole text in
    memory twice (SearchIndex.generate_search_index makes a string, then its bytes), and
    restored pages' entries as they were written."""
    settings = {key: index.config[key] for key in ("lang", "separator", "pipeline", "fields")}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as stream:
        stream.write(b'{"config":' + _index_json(settings) + b',"docs":[')
        first = True
        for entry in index.entries:
            text = load(entry.stored).encode() if isinstance(entry, _StoredEntries) else None
            if text == b"":
                continue  # a page without entries
            stream.write(b"" if first else b",")
            stream.write(_index_json(entry) if text is None else text)
            first = False
        stream.write(b"]}")


def _index_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=str).encode("utf-8")


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

"""The pages' markdown sources, rendered when MkDocs needs them, each with a digest.

A page whose view value and templates are those of a previous build has the same source: its
digest comes from the store the build hands over (its cache) without rendering, and MkDocs may
then restore its output.
"""

from __future__ import annotations

import io
import pickle
import re
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import jinja2

from balise.digests import Store, digest
from balise.model import Statement
from balise.render.pages import render_page, source_path
from balise.text.markdown import PURE_RENDERER, BodyRenderer
from balise.views import EstablishmentCard, IncidentLink, Page, SitePages, StatementLink

_KIND = "page-source"  # view key -> what _facts gives
_COMPRESS_ABOVE = 1 << 18
# MkDocs' own front-matter pattern (mkdocs.utils.meta.YAML_RE), on bytes.
_FRONT = re.compile(rb"^-{3}[ \t]*\n(.*?\n)(?:\.{3}|-{3})[ \t]*\n", re.DOTALL)


def templates_digest(repository_templates: Path) -> str:
    """The repository's template overrides (Balise's own are in the cache's code digest)."""
    parts: list[str | bytes] = []
    if repository_templates.is_dir():
        for path in sorted(repository_templates.rglob("*")):
            if path.is_file():
                parts += [path.relative_to(repository_templates).as_posix(), path.read_bytes()]
    return digest(*parts)


def has_links(source: bytes) -> bool:
    """Whether MkDocs may rewrite or check a link in this markdown (so it depends on the files).

    Balise writes its links as HTML, which MkDocs leaves alone; markdown links (`[x](y)`,
    `[x]: y`) come only from a repository's own templates.
    """
    return b"](" in source or b"]:" in source


def _facts(text: bytes) -> list[object]:
    """What the cache keeps of a source: its digest, whether it has links, its front matter."""
    front = _FRONT.match(text)
    return [digest(text), has_links(text), front.group(0).decode() if front else ""]


# [function(item) for item in items], perhaps on several cores (the build's parallel_map)
MapItems = Callable[[Callable[[str], bytes], list[str]], list[bytes]]


def _one_by_one(function: Callable[[str], bytes], items: list[str]) -> list[bytes]:
    return [function(item) for item in items]


# Values many pages share: pickled once, then referred to by their digest.
_SHARED = (StatementLink, EstablishmentCard, IncidentLink, Statement)


class Fingerprints:
    """Digests of view values; a value many pages share (a statement's link) is pickled
    once and then stands in the pages' pickles as its digest."""

    def __init__(self) -> None:
        self._known: dict[int, tuple[object, str]] = {}  # id -> (the value, kept alive; digest)

    def digest(self, value: object) -> str:
        buffer = io.BytesIO()
        _Pickler(buffer, self, value).dump(value)
        return digest(buffer.getvalue())

    def reference(self, value: object) -> str:
        found = self._known.get(id(value))
        if found is None:
            found = self._known[id(value)] = (value, self.digest(value))
        return found[1]


def _shared(digest: str) -> str:
    """What a shared value is in the pickle of a value holding it: its digest. (Never
    called: a fingerprint is hashed, not read back.)"""
    return digest


class _Pickler(pickle.Pickler):
    """Pickles `top` in place and each shared value it holds as its digest. Pickle asks
    `reducer_override` only of values that are not plain (strings, numbers, lists, dicts...):
    Python runs for those few, not for every string."""

    def __init__(self, buffer: io.BytesIO, fingerprints: Fingerprints, top: object) -> None:
        super().__init__(buffer, protocol=5)
        self._fingerprints = fingerprints
        self._top = top

    def reducer_override(self, obj: object) -> object:
        if type(obj) in _SHARED and obj is not self._top:
            return _shared, (self._fingerprints.reference(obj),)
        return NotImplemented


class PageSources(Mapping[str, bytes]):
    """`{source path: markdown bytes}` for every human page, rendered on first access."""

    def __init__(
        self,
        pages: SitePages,
        env: jinja2.Environment,
        templates: str,
        bodies: BodyRenderer = PURE_RENDERER,
        store: Store | None = None,
        map_items: MapItems = _one_by_one,
    ) -> None:
        """`store` keeps what each rendered source is (from one build to the next);
        `map_items` renders the unknown pages (on two cores, in a build)."""
        self._pages: dict[str, Page] = {source_path(p.path): p for p in pages.all()}
        self._env = env
        self._bodies = bodies
        self._store = store
        self._map = map_items
        self._templates = templates
        self._texts: dict[str, bytes] = {}
        self._compressed: set[str] = set()
        self._keys: dict[str, str | None] = {}
        self._fingerprints = Fingerprints()

    def __getitem__(self, path: str) -> bytes:
        held = self._texts.get(path)
        if held is not None:
            return zlib.decompress(held) if path in self._compressed else held
        text = render_page(self._pages[path], self._env, self._bodies)
        self._hold(path, text)
        return text

    def __iter__(self) -> Iterator[str]:
        return iter(self._pages)

    def __len__(self) -> int:
        return len(self._pages)

    def _key(self, path: str) -> str | None:
        if path not in self._keys:
            try:
                view = self._fingerprints.digest(self._pages[path])
            except (pickle.PicklingError, TypeError, AttributeError):
                self._keys[path] = None  # not a plain value: never cached, always rendered
            else:
                self._keys[path] = digest(self._templates, view)
        return self._keys[path]

    def known(self, path: str) -> list[object] | None:
        """[digest, has markdown links, front matter] of a source rendered by some build."""
        key = self._key(path)
        if key is None or self._store is None:
            return None
        return self._store.get(_KIND, key)

    def facts(self, path: str) -> list[object]:
        """[digest, has markdown links, front matter], rendering the page only when unknown."""
        return self.known(path) or _facts(self[path])

    def render_unknown(self) -> None:
        """Render every page no previous build rendered (on two cores): template errors
        surface here, before MkDocs runs."""
        unknown = [path for path in self._pages if self.known(path) is None]
        rendered = self._map(
            lambda path: render_page(self._pages[path], self._env, self._bodies), unknown
        )
        for path, text in zip(unknown, rendered, strict=True):
            self._hold(path, text)

    def _hold(self, path: str, text: bytes) -> None:
        key = self._key(path)
        if key is not None and self._store is not None:
            self._store.put(_KIND, key, _facts(text))
        if len(text) > _COMPRESS_ABOVE:  # a long list: kept small until MkDocs reads it
            self._texts[path] = zlib.compress(text, 1)
            self._compressed.add(path)
        else:
            self._texts[path] = text

    def release(self, path: str) -> None:
        """Forget a rendered source once MkDocs holds it (keeps one copy in memory, not two)."""
        self._texts.pop(path, None)
        self._compressed.discard(path)

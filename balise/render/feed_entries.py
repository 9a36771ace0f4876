"""Feeds put together from entries serialised once: feedgen's bytes, in N entries, not E×N.

An entry's XML does not depend on the feed around it (feedgen indents by depth only), so each
statement's entry is serialised once per format, kept in the store the build hands over (its
cache) under the digest of its inputs, and every feed document (a head or an archive,
feed_pages) is its own head, the entries it holds, and its tail.

A document's inputs (its own fields and its entries' keys) are digested too: the store keeps
the sha256 of the bytes they made (`remember`), so a build knows the bytes of an unchanged
document without making it (`expected`), and carries the previous site's file over instead.
"""

from __future__ import annotations

import io
import pickle
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from balise import views
from balise.digests import Store, digest
from balise.model import Statement
from balise.render.feed_pages import Document

_KIND = "feed-entry"
_DOCUMENT_KIND = "feed-document"  # a document's inputs -> the sha256 (hex) of its bytes
_TAGS = {views.ATOM: b"entry", views.RSS: b"item"}

# (feed document, only these entries) -> the serialised document
Serialize = Callable[[Document, Sequence[Statement] | None], bytes]


def split(xml: bytes, tag: bytes) -> tuple[bytes, list[bytes], bytes]:
    """(head, each entry's lines, tail) of a serialised feed; its text never holds a raw `<`."""
    start, end = b"<" + tag + b">", b"</" + tag + b">\n"
    chunks: list[bytes] = []
    found = xml.find(start)
    if found < 0:
        return xml, [], b""
    head_end = xml.rfind(b"\n", 0, found) + 1
    position = head_end
    while found >= 0:
        stop = xml.index(end, found) + len(end)
        chunks.append(xml[position:stop])
        position = stop
        found = xml.find(start, stop)
        if found >= 0 and xml.rfind(b"\n", 0, found) + 1 != position:
            raise ValueError("feed entries are not consecutive lines")
    return xml[:head_end], chunks, xml[position:]


def _key(inputs: tuple[object, ...]) -> str | None:
    """The digest of equal inputs, whichever objects hold them: pickled without its memo
    (`fast`), a string met twice is written twice, so a statement read back from the reader
    cache (new string objects) digests as the one just parsed (shared ones). The inputs are
    values (frozen dataclasses, tuples): no cycle for the memo to break."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=5)
    pickler.fast = True
    try:
        pickler.dump(inputs)
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
        return None
    return digest(buffer.getvalue())


def _entries(
    document: Document,
    found: dict[tuple[str, str], bytes],
    serialize: Serialize,
    inputs_keys: Mapping[str, str | None],
    store: Store | None,
) -> None:
    """Put in `found` ((media type, statement id) -> its entry) the entries of the document's
    statements it lacks: from the store, or serialised now (all of them in one call) and kept.
    `inputs_keys`: statement id -> the digest of its entry's inputs (None: not digestible)."""
    media_type = document.feed.media_type
    missing: list[tuple[Statement, str | None]] = []
    for statement in document.statements:
        if (media_type, statement.id) in found:
            continue
        own = inputs_keys[statement.id]
        key = None if own is None else digest(media_type, own)
        cached = store.get(_KIND, key) if store is not None and key is not None else None
        if cached is None:
            missing.append((statement, key))
        else:
            found[(media_type, statement.id)] = cached.encode("utf-8")
    if not missing:
        return
    _, chunks, _ = split(serialize(document, [s for s, _ in missing]), _TAGS[media_type])
    if len(chunks) != len(missing):
        raise ValueError("a serialised feed does not hold one entry per statement")
    for (statement, key), chunk in zip(missing, chunks, strict=True):
        found[(media_type, statement.id)] = chunk
        if store is not None and key is not None:
            store.put(_KIND, key, chunk.decode("utf-8"))


def assemble(
    documents: Iterable[Document],
    serialize: Serialize,
    inputs: Callable[[Statement], tuple[object, ...]],
    store: Store | None = None,
    document_inputs: Callable[[Document], tuple[object, ...]] | None = None,
) -> FeedFiles:
    """`{feed path: bytes}` for every document, equal to serialising each whole.

    `serialize` builds one document (with only some entries when asked); `inputs` gives everything
    an entry is made of (feeds.entry_inputs), the key of its XML kept in `store`;
    `document_inputs` everything a document is made of but its entries (feeds.document_inputs).
    """
    return FeedFiles(tuple(documents), serialize, inputs, store, document_inputs)


class FeedFiles(Mapping[str, bytes]):
    """The feed documents, each put together when read: one in memory at a time, not all."""

    def __init__(
        self,
        documents: tuple[Document, ...],
        serialize: Serialize,
        inputs: Callable[[Statement], tuple[object, ...]],
        store: Store | None = None,
        document_inputs: Callable[[Document], tuple[object, ...]] | None = None,
    ) -> None:
        self._documents = documents
        self._serialize = serialize
        self._inputs = inputs
        self._store = store
        self._document_inputs = document_inputs
        self._feeds = {document.path: document for document in documents}
        self._entries: dict[tuple[str, str], bytes] = {}  # of the documents made so far
        # How many documents not made yet hold each entry: at none, it is let go (at N =
        # 10,000 the entries of every feed were 80 MB at the build's peak).
        self._unread = set(self._feeds)
        self._uses: Counter[tuple[str, str]] = Counter(
            (d.feed.media_type, s.id) for d in documents for s in d.statements
        )
        self._inputs_keys: dict[str, str | None] | None = None
        self._document_keys: dict[str, str] | None = None

    def _entry_keys(self) -> dict[str, str | None]:
        """Statement id -> the digest of its entry's inputs, once per build."""
        if self._inputs_keys is None:
            keys: dict[str, str | None] = {}
            for document in self._documents:
                for statement in document.statements:
                    if statement.id not in keys:
                        keys[statement.id] = _key(self._inputs(statement))
            self._inputs_keys = keys
        return self._inputs_keys

    def _keys(self) -> dict[str, str]:
        """Document path -> the digest of all it is made of (documents that have one)."""
        if self._document_keys is None:
            keys: dict[str, str] = {}
            if self._document_inputs is not None:
                entry_keys = self._entry_keys()
                for document in self._documents:
                    own = _key(self._document_inputs(document))
                    held = [entry_keys[s.id] for s in document.statements]
                    if own is not None and None not in held:
                        keys[document.path] = digest(own, *(k for k in held if k is not None))
            self._document_keys = keys
        return self._document_keys

    def expected(self) -> dict[str, str]:
        """Document path -> the sha256 (hex) of its bytes, for the documents an earlier build
        made from the same inputs (see `remember`): known without making them."""
        if self._store is None:
            return {}
        found = {}
        for path, key in self._keys().items():
            sha = self._store.get(_DOCUMENT_KIND, key)
            if isinstance(sha, str):
                found[path] = sha
        return found

    def remember(self, written: Mapping[str, str]) -> None:
        """Keep the sha256 (hex) of the documents written (path -> digest of their bytes)."""
        if self._store is None:
            return
        keys = self._keys()
        for path, sha in written.items():
            if path in keys:
                self._store.put(_DOCUMENT_KIND, keys[path], sha)

    def __iter__(self) -> Iterator[str]:
        return iter(self._feeds)

    def __len__(self) -> int:
        return len(self._feeds)

    def __getitem__(self, path: str) -> bytes:
        made = self._make(path)
        if path in self._unread:
            self._unread.discard(path)
            document = self._feeds[path]
            for statement in document.statements:
                entry = (document.feed.media_type, statement.id)
                self._uses[entry] -= 1
                if self._uses[entry] <= 0:
                    self._entries.pop(entry, None)
        return made

    def _make(self, path: str) -> bytes:
        document = self._feeds[path]
        serialize = self._serialize
        statements = document.statements
        if not statements:
            return serialize(document, None)
        entries = self._entries
        _entries(document, entries, serialize, self._entry_keys(), self._store)
        media_type = document.feed.media_type
        # The document's own fields with one entry; the entries themselves from `entries`.
        head, first, tail = split(serialize(document, statements[:1]), _TAGS[media_type])
        if len(first) != 1 or first[0] != entries[(media_type, statements[0].id)]:
            return serialize(document, None)  # never seen; but never wrong
        return head + b"".join(entries[(media_type, s.id)] for s in statements) + tail

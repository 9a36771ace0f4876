"""Renderers: each turns views into output files held in memory as `{path: bytes}`.

No renderer reads sources or writes to disk; `output` writes the merged result once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping


class OutputCollision(Exception):
    """Two renderers produced the same path: a bug, never bad input."""


def merge(*trees: Mapping[str, bytes]) -> Mapping[str, bytes]:
    """One tree from many; a path produced twice is refused (like Pelican's writer).

    Contents are read from the trees only when asked: a renderer may make each file when
    it is written (the feeds do), rather than every file at once.
    """
    return _Merged(trees)


class _Merged(Mapping[str, bytes]):
    def __init__(self, trees: Iterable[Mapping[str, bytes]]) -> None:
        self._where: dict[str, Mapping[str, bytes]] = {}
        for tree in trees:
            for path in tree:
                if path in self._where:
                    raise OutputCollision(path)
                self._where[path] = tree

    def __getitem__(self, path: str) -> bytes:
        return self._where[path][path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)

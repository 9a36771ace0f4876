"""Renderers: each turns views into output files held in memory as `{path: bytes}`.

No renderer reads sources or writes to disk; `output` writes the merged result once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class OutputCollision(Exception):
    """Two renderers produced the same path: a bug, never bad input."""


def merge(*trees: Mapping[str, bytes]) -> dict[str, bytes]:
    """One tree from many; a path produced twice is refused (like Pelican's writer)."""
    merged: dict[str, bytes] = {}
    for tree in trees:
        for path, content in tree.items():
            if path in merged:
                raise OutputCollision(path)
            merged[path] = content
    return merged


def without(tree: Mapping[str, bytes], paths: Iterable[str]) -> dict[str, bytes]:
    drop = set(paths)
    return {p: c for p, c in tree.items() if p not in drop}

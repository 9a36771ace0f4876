"""Shared fixtures: small status repositories copied into tmp folders, and a fixed NOW."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
TINY_NOW = datetime.fromisoformat("2024-10-10T12:00:00+02:00")


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A writable copy of tests/data/tiny."""
    target = tmp_path / "repo"
    shutil.copytree(DATA / "tiny", target)
    return target


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under root, by relative path: to compare whole builds byte for byte."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}

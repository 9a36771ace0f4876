#!/usr/bin/env python3
"""Balise's entry point: `python publish.py COMMAND --repo DIR` (see README)."""

import os
import sys
from importlib.util import find_spec
from pathlib import Path

# Run by an interpreter that lacks Balise's libraries (e.g. Debian's own python3, which
# refuses installs: PEP 668), use the project's virtual environment of the Quick start.
_VENV_PYTHON = Path(__file__).resolve().parent / ".venv" / "bin" / "python"
if (
    find_spec("mkdocs") is None
    and _VENV_PYTHON.exists()
    and Path(sys.prefix).resolve() != _VENV_PYTHON.parent.parent.resolve()
):
    os.execv(_VENV_PYTHON, [str(_VENV_PYTHON), __file__, *sys.argv[1:]])

from balise.cli import main  # noqa: E402

if __name__ == "__main__":
    main()

"""Problems found in a status repository, as values: path, line, message, hint.

Nothing here raises for bad input; callers collect Problems and report them together.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the sources, located at `path:line` (path relative to the repo)."""

    path: str
    line: int
    message: str
    hint: str = ""
    warning: bool = False

    def __str__(self) -> str:
        text = f"{self.path}:{self.line}: {'warning: ' if self.warning else ''}{self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A hint naming the closest known choice, or "" when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f'did you mean "{close[0]}"?' if close else ""


def report(problems: Iterable[Problem]) -> str:
    """The error report the user reads: one `PATH:LINE: message` per line, sorted."""
    return "\n".join(str(p) for p in sorted(set(problems)))

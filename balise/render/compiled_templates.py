"""Compiled Jinja templates kept in the build cache, so that a warm build does not compile
Material's and Balise's templates again (about 0.3 s a build).

Jinja's own bytecode cache (`jinja2.FileSystemBytecodeCache`) keys a compiled template by
its name and file and checks its source's checksum; what else compiling depends on is the
environment's settings, so each environment gets the folder of a digest of them. Balise's and
its libraries' versions are in the cache folder's own name (`cache.code_digest`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jinja2

from balise.digests import digest

# What Jinja reads of an environment when it compiles a template (lexer, parser, code
# generator); the rest (filters, globals, tests, undefined, loader) is looked up at run time.
_COMPILE_SETTINGS = (
    "block_start_string",
    "block_end_string",
    "variable_start_string",
    "variable_end_string",
    "comment_start_string",
    "comment_end_string",
    "line_statement_prefix",
    "line_comment_prefix",
    "trim_blocks",
    "lstrip_blocks",
    "newline_sequence",
    "keep_trailing_newline",
    "optimized",
    "is_async",
    "newstyle_gettext",  # set by the i18n extension, read when it compiles `trans`
)


def settings_digest(env: jinja2.Environment) -> str | None:
    """A digest of what compiling a template depends on in `env`; None when it depends on
    a function (an `autoescape` chosen by name, a `finalize`): such templates are compiled."""
    autoescape = env.autoescape
    if callable(autoescape) or env.finalize is not None:
        return None
    parts = [repr(getattr(env, name, None)) for name in _COMPILE_SETTINGS]
    parts += [repr(autoescape), *sorted(env.extensions)]
    for kind in (type(env), env.code_generator_class, env.context_class):
        parts.append(f"{kind.__module__}.{kind.__qualname__}")
    return digest(*parts)[:16]


class _Kept(jinja2.FileSystemBytecodeCache):
    """Jinja's bytecode cache, where a file that cannot be read only costs a compilation
    and one that cannot be written is said once (`on_failure`) and skipped."""

    def __init__(self, folder: Path, on_failure: Callable[[OSError, Path], None]) -> None:
        super().__init__(str(folder))
        self._folder = folder
        self._on_failure = on_failure

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # damaged (truncated, not Jinja's): compiled again
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError as error:
            self._on_failure(error, self._folder)


def keep_compiled(
    env: jinja2.Environment, cache_folder: Path, on_failure: Callable[[OSError, Path], None]
) -> None:
    """Let `env` keep its compiled templates under `cache_folder` (`templates-DIGEST/`)."""
    settings = settings_digest(env)
    if settings is None:
        return
    folder = cache_folder / f"templates-{settings}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        on_failure(error, folder)
        return
    env.bytecode_cache = _Kept(folder, on_failure)

"""Files -> raw records with source lines: registry, statements, mkdocs.yml, git times.

The only reader of the repository's files; it interprets nothing and never raises for bad input.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import yaml

from balise.errors import Problem

ESTABLISHMENTS_FILE = "establishments.yml"
MKDOCS_FILE = "mkdocs.yml"
STATEMENTS_DIR = "statements"

MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 20
MAX_NODES = 10_000

YAML_TAG = "tag:yaml.org,2002:"
STR_TAG = YAML_TAG + "str"
NULL_TAG = YAML_TAG + "null"
BOOL_TAG = YAML_TAG + "bool"
SEQ_TAG = YAML_TAG + "seq"
MAP_TAG = YAML_TAG + "map"
_MERGE_TAG = YAML_TAG + "merge"

# python-frontmatter's boundary: a line of three or more dashes.
_BOUNDARY = re.compile(r"-{3,}[ \t]*")

# What no text value may hold, though YAML escapes in quotes can write it ("\e", "\x07",
# "\ud800") where the reader refuses it as raw text: C0 controls other than tab and newline,
# DEL, C1 controls, lone halves of UTF-16 pairs (which no file, page or feed can encode), the
# line and paragraph separators (a one-line title would not be one), and bidirectional controls.
_FORBIDDEN = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
# Of those, the ones that reorder text (a status could read backwards: "Trojan source").
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_SURROGATE_PAIR = re.compile(r"[\ud800-\udbff][\udc00-\udfff]")


# --- raw records ------------------------------------------------------------------------


@dataclass(frozen=True)
class RawScalar:
    """A YAML scalar as written: its raw text, YAML's resolved tag, and its 1-based file line."""

    text: str
    line: int
    tag: str = STR_TAG

    @property
    def is_null(self) -> bool:
        return self.tag == NULL_TAG


@dataclass(frozen=True)
class RawList:
    """A YAML sequence and the file line where it starts."""

    items: tuple[RawNode, ...]
    line: int
    tag: str = SEQ_TAG


@dataclass(frozen=True)
class RawMap:
    """A YAML mapping in file order (duplicate keys already dropped and reported)."""

    entries: tuple[tuple[RawNode, RawNode], ...]
    line: int
    tag: str = MAP_TAG

    def get(self, key: str) -> RawNode | None:
        """The value of a text key, or None when absent."""
        for name, value in self.entries:
            if isinstance(name, RawScalar) and name.text == key:
                return value
        return None


RawNode = RawScalar | RawList | RawMap


@dataclass(frozen=True)
class RawFile:
    """One YAML file or statement: its YAML document (None when empty) and markdown body."""

    path: str  # relative to the repository, POSIX separators
    data: RawNode | None
    body: str = ""
    body_line: int = 1  # file line where the body starts


@dataclass(frozen=True)
class RawRepository:
    """Everything read from a repository; files that could not be read are None or left out."""

    establishments: RawFile | None
    mkdocs: RawFile | None
    statements: tuple[RawFile, ...]  # sorted by path; unreadable statements are left out
    updated: Mapping[str, datetime] = field(default_factory=dict)  # path -> last commit (UTC)
    problems: tuple[Problem, ...] = ()


# --- YAML -------------------------------------------------------------------------------


class _TooComplex(Exception):
    """Internal: the YAML is nested too deeply or its aliases expand too far."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class PermissiveLoader(yaml.SafeLoader):
    """A SafeLoader that reads unknown tags (mkdocs' !ENV, !!python/name:...) as None."""


PermissiveLoader.add_multi_constructor("", lambda loader, suffix, node: None)


class _BoundedLoader(PermissiveLoader):
    """Composes nodes only: refuses, before recursing, a document too deep or too large."""

    def __init__(self, text: str, first_line: int) -> None:
        super().__init__(text)
        self.first_line = first_line
        self.depth = 0
        self.composed = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        line = self.peek_event().start_mark.line + self.first_line
        self.composed += 1
        if self.composed > MAX_NODES:
            raise _TooComplex(line, f"YAML holds more than {MAX_NODES:,} values")
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _TooComplex(line, f"YAML is nested more than {MAX_DEPTH} levels deep")
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _Converter:
    """Turns PyYAML nodes into raw nodes with file lines, bounded in depth and size."""

    def __init__(self, path: str, first_line: int, problems: list[Problem]) -> None:
        self.path = path
        self.first_line = first_line
        self.problems = problems
        self.count = 0

    def line(self, node: yaml.Node) -> int:
        return node.start_mark.line + self.first_line

    def convert(self, node: yaml.Node, depth: int = 1, key: str | None = None) -> RawNode:
        """The raw node; `key` names the mapping key it is the value of, for messages."""
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooComplex(
                self.line(node), f"YAML aliases expand to more than {MAX_NODES:,} values"
            )
        if depth > MAX_DEPTH:
            raise _TooComplex(self.line(node), f"YAML is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, yaml.ScalarNode):
            return RawScalar(self.text(node, key), self.line(node), node.tag)
        if isinstance(node, yaml.SequenceNode):
            items = tuple(self.convert(item, depth + 1, key) for item in node.value)
            return RawList(items, self.line(node), node.tag)
        return self.mapping(node, depth)

    def text(self, node: yaml.ScalarNode, key: str | None) -> str:
        """The scalar's text, every character allowed; else a problem, and U+FFFD for each."""
        text = node.value
        if not _FORBIDDEN.search(text):
            return text
        # "\ud83d\ude00", as JSON writes an emoji, is one character, not two halves.
        text = _SURROGATE_PAIR.sub(
            lambda pair: pair[0].encode("utf-16", "surrogatepass").decode("utf-16"), text
        )
        found = _FORBIDDEN.search(text)
        if found is None:
            return text
        code = f"U+{ord(found[0]):04X}"
        what = "the text" if key is None else f'"{key}"'
        if "\ud800" <= found[0] <= "\udfff":
            message = f"{what} holds half a character ({code}, a lone UTF-16 surrogate)"
            hint = 'write the character itself, or one escape for it such as "\\U0001F600"'
        else:
            message = f"{what} holds an invisible control character ({code})"
            if _BIDI.match(found[0]):
                message = f"{what} holds an invisible character that reorders text ({code})"
            hint = 'delete it: between double quotes, an escape such as "\\e" or "\\x07" writes one'
        self.problems.append(Problem(self.path, self.line(node), message, hint))
        return _FORBIDDEN.sub("\ufffd", text)

    def mapping(self, node: yaml.MappingNode, depth: int) -> RawMap:
        entries: list[tuple[RawNode, RawNode]] = []
        seen: dict[str, int] = {}
        merged: list[tuple[RawNode, RawNode]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.extend(self.merged_entries(value_node, depth))
                continue
            key = self.convert(key_node, depth + 1)
            name = key.text if isinstance(key, RawScalar) else None
            value = self.convert(value_node, depth + 1, name)
            if isinstance(value, RawScalar) and value.is_null and value.text == "":
                # An empty value's mark may sit on the next line; the key's line is the truth.
                value = RawScalar("", key.line, value.tag)
            if isinstance(key, RawScalar):
                if key.text in seen:
                    self.problems.append(
                        Problem(
                            self.path,
                            key.line,
                            f'duplicate key "{key.text}"',
                            f"also line {seen[key.text]}; keep only one",
                        )
                    )
                    continue
                seen[key.text] = key.line
            entries.append((key, value))
        # Merged keys (`<<: *base`) fill in only what the mapping does not set itself.
        for key, value in merged:
            if isinstance(key, RawScalar) and key.text not in seen:
                seen[key.text] = key.line
                entries.append((key, value))
        return RawMap(tuple(entries), self.line(node), node.tag)

    def merged_entries(self, node: yaml.Node, depth: int) -> list[tuple[RawNode, RawNode]]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        entries: list[tuple[RawNode, RawNode]] = []
        for source in sources:
            converted = self.convert(source, depth + 1)
            if isinstance(converted, RawMap):
                entries.extend(converted.entries)
            else:
                self.problems.append(
                    Problem(self.path, converted.line, '"<<" can only merge a mapping')
                )
        return entries


_YAML_HINTS = {
    "mapping values are not allowed here": 'a value containing ": " must be put in quotes',
    "found character '\\t' that cannot start any token": "indent with spaces, not tabs",
}


def parse_yaml(text: str, path: str, first_line: int, problems: list[Problem]) -> RawNode | None:
    """The YAML document in `text` (None when empty or invalid; problems are recorded).

    `first_line` is the file line of the text's first line, so raw lines point into the file.
    """
    before = len(problems)
    loader: _BoundedLoader | None = None
    try:
        loader = _BoundedLoader(text, first_line)  # its reader already checks characters
        node = loader.get_single_node()
    except _TooComplex as error:
        problems.append(Problem(path, error.line, error.message))
        return None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + first_line if mark else first_line
        detail = (error.problem or error.context or "unreadable").strip()
        hint = _YAML_HINTS.get(detail, "")
        problems.append(Problem(path, line, f"invalid YAML: {detail}", hint))
        return None
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, max(error.position, 0)) + first_line
        problems.append(
            Problem(
                path,
                line,
                f"invalid YAML: the control character #x{error.character:02x} is not allowed",
                "remove it or put the text in quotes",
            )
        )
        return None
    except yaml.YAMLError as error:
        problems.append(Problem(path, first_line, f"invalid YAML: {error}"))
        return None
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        return None
    try:
        converted = _Converter(path, first_line, problems).convert(node)
    except _TooComplex as error:
        del problems[before:]
        problems.append(Problem(path, error.line, error.message))
        return None
    return converted


# --- files ------------------------------------------------------------------------------


def _read_bytes(file: Path) -> bytes | None:
    """The first MAX_FILE_BYTES + 1 bytes of a regular file; None for anything else (a FIFO,
    a device: opened without waiting, and never read)."""
    try:
        fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        if not stat.S_ISREG(os.stat(file).st_mode):  # a socket cannot be opened
            return None
        raise
    try:
        size = os.fstat(fd)
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(size.st_mode):
        os.close(fd)
        return None
    with os.fdopen(fd, "rb") as stream:
        # A read the size of the file (not of the limit: a megabyte buffer per file is slow),
        # then on to the limit if it grew meanwhile.
        want = min(size.st_size, MAX_FILE_BYTES) + 1
        data = stream.read(want)
        if len(data) == want and want <= MAX_FILE_BYTES:
            data += stream.read(MAX_FILE_BYTES + 1 - want)
        return data


def _read_text(file: Path, path: str, problems: list[Problem]) -> str | None:
    """The file's text, or None with a problem when it is not a small UTF-8 text file."""
    try:
        data = _read_bytes(file)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        problems.append(Problem(path, 1, f"file cannot be read ({reason})"))
        return None
    if data is None:
        problems.append(Problem(path, 1, "is not a regular file"))
        return None
    if len(data) > MAX_FILE_BYTES:
        problems.append(
            Problem(
                path,
                1,
                "file is larger than 1 MB",
                "link to large documents instead of copying them in",
            )
        )
        return None
    if b"\0" in data:
        problems.append(Problem(path, 1, "file is binary, not text (it contains NUL bytes)"))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start]
        problems.append(
            Problem(
                path,
                line,
                f"file is not UTF-8 text (byte 0x{byte:02X} on this line)",
                "save it as UTF-8 in your editor",
            )
        )
        return None
    text = text.removeprefix("\ufeff")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _read_yaml_file(root: Path, name: str, problems: list[Problem], hint: str) -> RawFile | None:
    file = root / name
    if not file.exists() and not file.is_symlink():
        problems.append(Problem(name, 1, "file not found", hint))
        return None
    text = _read_text(file, name, problems)
    if text is None:
        return None
    before = len(problems)
    data = parse_yaml(text, name, 1, problems)
    if data is None and any(p.path == name for p in problems[before:]):
        return None
    return RawFile(name, data)


def split_front_matter(text: str) -> tuple[str, int, str, int] | str:
    """(front matter, its first line, body, its first line), or a message saying what is wrong.

    Like python-frontmatter's YAMLHandler, but it tracks lines and refuses an unclosed
    front matter instead of silently reading it as empty.
    """
    lines = text.split("\n")
    if not _BOUNDARY.fullmatch(lines[0]):
        return "no front matter"
    for index in range(1, len(lines)):
        if _BOUNDARY.fullmatch(lines[index]):
            front = "\n".join(lines[1:index])
            body = "\n".join(lines[index + 1 :])
            return front, 2, body, index + 2
    return "front matter is not closed"


_FRONT_MATTER_HINTS = {
    "no front matter": 'a statement starts with a line "---", then "title:" and "date:", '
    'then a line "---"',
    "front matter is not closed": 'add a line "---" after the last key',
}


def _encode_node(node: RawNode | None) -> Any:
    if node is None:
        return None
    if isinstance(node, RawScalar):
        return ["s", node.text, node.line, node.tag]
    if isinstance(node, RawList):
        return ["l", [_encode_node(item) for item in node.items], node.line, node.tag]
    entries = [[_encode_node(k), _encode_node(v)] for k, v in node.entries]
    return ["m", entries, node.line, node.tag]


def _decode_node(data: Any) -> Any:
    if data is None:
        return None
    kind, value, line, tag = data
    if kind == "s":
        return RawScalar(value, line, tag)
    if kind == "l":
        return RawList(tuple(_decode_node(item) for item in value), line, tag)
    entries = tuple((_decode_node(k), _decode_node(v)) for k, v in value)
    return RawMap(entries, line, tag)


def _encode_parsed(parsed: tuple[RawFile | None, list[Problem]]) -> Any:
    found, problems = parsed
    raw = None if found is None else [_encode_node(found.data), found.body, found.body_line]
    return [raw, [[p.path, p.line, p.message, p.hint, p.warning] for p in problems]]


def parse_statement(text: str, path: str) -> tuple[RawFile | None, list[Problem]]:
    """The statement in `text` (None when its front matter cannot be read) and the problems
    met reading it."""
    problems: list[Problem] = []
    parts = split_front_matter(text)
    if isinstance(parts, str):
        problems.append(Problem(path, 1, parts, _FRONT_MATTER_HINTS[parts]))
        return None, problems
    front, front_line, body, body_line = parts
    data = parse_yaml(front, path, front_line, problems)
    found = None if data is None and problems else RawFile(path, data, body, body_line)
    return found, problems


def statement_record(text: str, path: str) -> Any:
    """`parse_statement` as JSON values (what a build may keep in a cache: the YAML parser is
    slow, and a statement rarely changes)."""
    return _encode_parsed(parse_statement(text, path))


StatementRecords = Callable[[Sequence[tuple[str, str]]], Sequence[Any]]


def statement_records(texts: Sequence[tuple[str, str]]) -> list[Any]:
    """`statement_record` of each (text, path), one after the other: what a reading without
    a build's reader cache does."""
    return [statement_record(text, path) for text, path in texts]


def _decode_statement(record: Any, path: str) -> tuple[RawFile | None, list[Problem]]:
    raw, problems = record
    found = None
    if raw is not None:
        data, body, body_line = raw
        found = RawFile(path, _decode_node(data), body, body_line)
    return found, [Problem(*p) for p in problems]


_NO_FOLDER = (
    "is --repo the right folder? A status repository keeps one markdown file per statement"
    " in the folder statements/"
)


def _statement_files(root: Path, problems: list[Problem]) -> list[tuple[str, Path]]:
    """Every `statements/**/*.md` as (relative path, file), refusing links out of the repo."""
    real_root = root.resolve()
    found: list[tuple[str, Path]] = []
    visited: set[Path] = set()

    def walk(directory: Path, relative: str) -> None:
        real = directory.resolve()
        if real in visited:
            return
        visited.add(real)
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except OSError as error:
            problems.append(Problem(relative, 1, f"folder cannot be read ({error.strerror})"))
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue  # editor lock files, .DS_Store and the like
            child = f"{relative}/{entry.name}"
            try:
                visit(entry, child)
            except OSError as error:
                problems.append(Problem(child, 1, f"cannot be read ({error.strerror})"))

    def visit(entry: os.DirEntry[str], child: str) -> None:
        path = Path(entry.path)
        is_markdown = entry.name.endswith(".md")
        if entry.is_symlink():
            try:
                target = path.resolve(strict=True)
            except (OSError, RuntimeError):
                if is_markdown:
                    problems.append(Problem(child, 1, "is a broken link"))
                return
            if not target.is_relative_to(real_root):
                if is_markdown or target.is_dir():
                    problems.append(
                        Problem(
                            child,
                            1,
                            "is a link to a file outside the repository",
                            "copy the file into the repository instead",
                        )
                    )
                return
        if entry.is_dir():
            walk(path, child)
        elif is_markdown:
            found.append((child, path))

    statements = root / STATEMENTS_DIR
    try:
        if statements.is_symlink():
            target = statements.resolve(strict=True)
            if not target.is_relative_to(real_root):
                problems.append(
                    Problem(STATEMENTS_DIR, 1, "is a link to a folder outside the repository")
                )
                return []
        if statements.is_dir():
            walk(statements, STATEMENTS_DIR)
        elif statements.exists():
            problems.append(
                Problem(STATEMENTS_DIR, 1, "is a file, not the folder of statements", _NO_FOLDER)
            )
        else:  # a wrong --repo, a clone without it: an empty site would replace a full one
            problems.append(
                Problem(
                    STATEMENTS_DIR,
                    1,
                    "the folder of statements is missing",
                    f"{_NO_FOLDER}; to start without any, create it with an empty"
                    " statements/.gitkeep and commit that",
                )
            )
    except (OSError, RuntimeError) as error:
        reason = getattr(error, "strerror", None) or "a link loop"
        problems.append(Problem(STATEMENTS_DIR, 1, f"folder cannot be read ({reason})"))
    return sorted(found)


# --- git --------------------------------------------------------------------------------


def git_times(root: Path) -> dict[str, datetime]:
    """Path -> newest commit time (aware UTC) of each statement file; {} without git."""
    return _git_times(_start_git_log(root))


_GitLog = tuple[subprocess.Popen[bytes], IO[bytes]]


def _start_git_log(root: Path) -> _GitLog | None:
    """`git log` of the statements, started: it runs while the files are read. It writes into
    a temporary file (a full pipe would stop it). None outside a work tree, or without git."""
    try:
        folder = root.resolve()
        if not any((parent / ".git").exists() for parent in (folder, *folder.parents)):
            return None  # not a work tree: spare a subprocess
        output = tempfile.TemporaryFile()  # noqa: SIM115 (closed by _git_times)
    except OSError:
        return None
    try:
        process = subprocess.Popen(
            [
                "git",
                "-C",
                str(root),
                "log",
                "-z",
                "--format=%ct",
                "--name-only",
                "--relative",
                "--",
                STATEMENTS_DIR,
            ],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        output.close()
        return None
    return process, output


def _git_times(started: _GitLog | None) -> dict[str, datetime]:
    """What the `git log` started says; {} when it fails."""
    if started is None:
        return {}
    process, output = started
    with output:
        try:
            returncode = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return {}
        if returncode != 0:
            return {}
        try:
            output.seek(0)
            data = output.read()
        except OSError:
            return {}
    return parse_git_log(data.decode("utf-8", errors="replace"))


def parse_git_log(output: str) -> dict[str, datetime]:
    """Parse `git log -z --format=%ct --name-only`: newest first, so the first time wins."""
    times: dict[str, datetime] = {}
    current: datetime | None = None
    for token in output.split("\0"):
        token = token.strip("\n")
        if token.isdigit():
            current = datetime.fromtimestamp(int(token), UTC)
        elif token.startswith(STATEMENTS_DIR + "/") and current is not None:
            times.setdefault(token, current)
    return times


# --- the repository ---------------------------------------------------------------------


@dataclass(frozen=True)
class StatementText:
    """One statement file's text as read; None when it cannot be read (its problems say why)."""

    path: str
    text: str | None
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class RawSources:
    """A repository's files as read: its YAML files parsed, its statements' texts not yet."""

    establishments: RawFile | None
    mkdocs: RawFile | None
    statements: tuple[StatementText, ...]  # sorted by path
    updated: Mapping[str, datetime] = field(default_factory=dict)  # path -> last commit (UTC)
    problems: tuple[Problem, ...] = ()  # of the YAML files and of the statements' folders


def read_sources(root: Path) -> RawSources:
    """Read a status repository's files; every problem met is recorded, none is raised."""
    root = Path(root)
    git_log = _start_git_log(root)
    problems: list[Problem] = []
    establishments = _read_yaml_file(
        root,
        ESTABLISHMENTS_FILE,
        problems,
        "a status repository has establishments.yml at its root; is --repo the right folder?",
    )
    mkdocs = _read_yaml_file(
        root,
        MKDOCS_FILE,
        problems,
        "a status repository has mkdocs.yml at its root, with site_name and site_url",
    )
    texts: list[StatementText] = []
    for path, file in _statement_files(root, problems):
        unreadable: list[Problem] = []
        text = _read_text(file, path, unreadable)
        texts.append(StatementText(path, text, tuple(unreadable)))
    updated = _git_times(git_log)
    return RawSources(establishments, mkdocs, tuple(texts), updated, tuple(problems))


def load_repository(root: Path, records: StatementRecords = statement_records) -> RawRepository:
    """Read a whole status repository; every problem met is recorded, none is raised.

    `records` reads the statements' texts (a build passes its reader cache's, which reads
    those it has not seen on two cores)."""
    sources = read_sources(root)
    problems = list(sources.problems)
    readable = [(file.text, file.path) for file in sources.statements if file.text is not None]
    read = iter(records(readable))
    statements = []
    for file in sources.statements:
        problems.extend(file.problems)
        if file.text is None:
            continue
        statement, met = _decode_statement(next(read), file.path)
        problems.extend(met)
        if statement is not None:
            statements.append(statement)
    return RawRepository(
        establishments=sources.establishments,
        mkdocs=sources.mkdocs,
        statements=tuple(statements),
        updated=sources.updated,
        problems=tuple(problems),
    )


def as_data(node: RawNode | None) -> Any:
    """The node as plain Python data of strings, lists and dicts (for debugging and tests)."""
    if node is None:
        return None
    if isinstance(node, RawScalar):
        return None if node.is_null else node.text
    if isinstance(node, RawList):
        return [as_data(item) for item in node.items]
    return {
        key.text if isinstance(key, RawScalar) else repr(as_data(key)): as_data(value)
        for key, value in node.entries
    }

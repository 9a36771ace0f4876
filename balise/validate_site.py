"""mkdocs.yml settings Balise refuses: text that the theme would print as markup, and what
Balise cannot check. Pure: it judges the raw nodes load.py read, and touches nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from balise.errors import Problem
from balise.load import MAP_TAG, MKDOCS_FILE, SEQ_TAG, YAML_TAG, RawList, RawMap, RawNode, RawScalar

# Settings that MkDocs' theme writes into every page as they are: its templates escape
# nothing (Material prints `copyright` as HTML on purpose), so markup there would run there.
PRINTED = (
    "site_name",
    "site_url",
    "site_description",
    "site_author",
    "copyright",
    "repo_name",
    "repo_url",
    "edit_uri",
)
# Sections the theme reads: every text in them, at any depth (`extra.balise` is Balise's own).
PRINTED_SECTIONS = ("theme", "extra", "extra_css", "extra_javascript")
_OWN = ("extra.balise",)
_CHECKED_ELSEWHERE = ("site_name", "site_url")  # their YAML tags: see validate._site
# What could open an element or leave a (double-quoted) attribute or a script's string.
_MARKUP = re.compile(r'[<>"]')
_PLAIN_TAGS = frozenset(YAML_TAG + n for n in ("str", "int", "float", "bool", "null", "timestamp"))


def _texts(name: str, node: RawNode) -> Iterator[tuple[str, RawNode]]:
    """(dotted name, node) for the node and every node below it, list items under their list."""
    if name in _OWN:
        return
    yield name, node
    if isinstance(node, RawMap):
        for key, value in node.entries:
            if isinstance(key, RawScalar):
                yield from _texts(f"{name}.{key.text}", value)
    elif isinstance(node, RawList):
        for item in node.items:
            yield from _texts(name, item)


def _odd_tag(node: RawNode) -> str | None:
    """The tag as written when Balise cannot read its value (`!ENV`), else None."""
    if isinstance(node, RawScalar):
        plain = node.tag in _PLAIN_TAGS
    else:
        plain = node.tag == (MAP_TAG if isinstance(node, RawMap) else SEQ_TAG)
    if plain:
        return None
    return "!!" + node.tag.removeprefix(YAML_TAG) if node.tag.startswith(YAML_TAG) else node.tag


def site_problems(data: RawMap) -> list[Problem]:
    """What Balise refuses in mkdocs.yml's settings (beyond site_name and site_url's own form)."""
    problems: list[Problem] = []

    def report(line: int, message: str, hint: str = "") -> None:
        problems.append(Problem(MKDOCS_FILE, line, message, hint))

    for key, value in data.entries:
        if not isinstance(key, RawScalar):
            continue
        if key.text == "INHERIT":
            report(
                key.line,
                '"INHERIT" is not supported: Balise checks the settings of mkdocs.yml alone',
                "copy the inherited settings into mkdocs.yml",
            )
        if key.text not in PRINTED and key.text not in PRINTED_SECTIONS:
            continue
        for name, node in _texts(key.text, value):
            tag = _odd_tag(node)
            if tag is not None and name not in _CHECKED_ELSEWHERE:
                report(
                    node.line,
                    f'"{name}" has the YAML tag {tag}, which Balise cannot read',
                    "write the value itself",
                )
            found = _MARKUP.search(node.text) if isinstance(node, RawScalar) else None
            if found:
                shown = "'\"'" if found.group() == '"' else f'"{found.group()}"'
                report(
                    node.line,
                    f'"{name}" holds markup ({shown}): the theme writes it into every page '
                    "as HTML, unescaped",
                    "write plain text, with « » for quotes and no < or >",
                )
    return problems

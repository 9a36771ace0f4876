"""mkdocs.yml: site_name and site_url, Balise's own `extra.balise` settings (declared keys),
and the settings Balise refuses: text
that the theme would print as markup, anything that makes a page load from another host,
another theme than Material, what Balise cannot check. Pure: it judges the raw nodes load.py
read, and touches nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

from balise.errors import Problem
from balise.load import MKDOCS_FILE, YAML_TAG, RawFile, RawList, RawMap, RawNode, RawScalar
from balise.model import Site
from balise.urls import browser_url
from balise.validate.nodes import (
    Field,
    Report,
    check_tag,
    is_empty,
    kind,
    list_items,
    never,
    odd_tag,
    required_text,
    text,
)
from balise.validate.schema import Key, read

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
_CHECKED_ELSEWHERE = ("site_name", "site_url")  # their YAML tags: see SITE_KEYS
# What could open an element or leave a (double-quoted) attribute or a script's string.
_MARKUP = re.compile(r'[<>"]')

THEME = "material"
PLUGINS = ("search", "material/search")  # what mkdocs.yml may list under plugins
# Settings naming files the pages load: each must be a file of the site, never a URL.
_LOADED = ("extra_css", "extra_javascript", "theme.logo", "theme.favicon", "extra.polyfills")
_LOCAL_HINT = "copy the file into theme.custom_dir and name its path there, e.g. assets/x.js"
# A scheme, or `//`: what a browser reads as another origin (it drops tabs and newlines
# anywhere in a URL, and reads `\` as `/`).
_ABSOLUTE = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)")
# Material's JavaScript fetches facts about a repository on these from their APIs
# (components/source/facts: the same patterns).
_FETCHED_REPOSITORIES = (
    (re.compile(r"^.+github\.com/([^/]+)/?([^/]+)?", re.IGNORECASE), "api.github.com"),
    (re.compile(r"^.+?([^/]*gitlab[^/]+)/(.+?)/?$", re.IGNORECASE), "GitLab's API"),
)
_FALSE = frozenset({"false", "no", "off"})  # YAML 1.1 booleans, as PyYAML reads them
_NO_OTHER_HOST = "a Balise site loads nothing from another host"


def _key_line(mapping: RawMap, name: str) -> int:
    """The line of a key (a mapping's value starts on the line after it)."""
    for key, _ in mapping.entries:
        if isinstance(key, RawScalar) and key.text == name:
            return key.line
    return mapping.line


def _false(node: RawNode) -> bool:
    return isinstance(node, RawScalar) and node.text.strip().lower() in _FALSE


def _theme_problems(node: RawNode, report: Callable[..., None]) -> None:
    """Material only (Balise's pages are made for it; the others load from other hosts)."""
    name = node.get("name") if isinstance(node, RawMap) else node
    if name is None or is_empty(name):
        return  # Balise supplies material
    if not isinstance(name, RawScalar) or name.text.strip() != THEME:
        shown = f'"{name.text.strip()}"' if isinstance(name, RawScalar) else kind(name)
        report(
            name.line,
            f'the theme must be "{THEME}" (mkdocs-material), not {shown}',
            "Balise's pages are made for Material, and the plain MkDocs and readthedocs themes "
            "load from other hosts; without the line Balise uses Material",
        )
    font = node.get("font") if isinstance(node, RawMap) else None
    if font is not None and not _false(font) and not is_empty(font):
        report(
            _key_line(node, "font") if isinstance(node, RawMap) else font.line,
            '"theme.font" makes every page load Google Fonts from fonts.googleapis.com: '
            + _NO_OTHER_HOST,
            "write font: false, or remove the line: Balise sets it to false",
        )


def _loaded(node: RawNode) -> Iterator[RawScalar]:
    """The file names of a setting that names files to load (a text, a list, `path:`)."""
    items = node.items if isinstance(node, RawList) else (node,)
    for item in items:
        path = item.get("path") if isinstance(item, RawMap) else item
        if isinstance(path, RawScalar) and not path.is_null:
            yield path


def _host_problems(data: RawMap, report: Callable[..., None]) -> None:
    """Settings that make the pages load something from another host."""
    theme = data.get("theme")
    extra = data.get("extra")
    found: dict[str, RawNode | None] = {
        "extra_css": data.get("extra_css"),
        "extra_javascript": data.get("extra_javascript"),
        "theme.logo": theme.get("logo") if isinstance(theme, RawMap) else None,
        "theme.favicon": theme.get("favicon") if isinstance(theme, RawMap) else None,
        "extra.polyfills": extra.get("polyfills") if isinstance(extra, RawMap) else None,
    }
    for name in _LOADED:
        node = found[name]
        for path in _loaded(node) if node is not None else ():
            if _ABSOLUTE.match(browser_url(path.text)):
                report(
                    path.line,
                    f'"{name}" must name a file of the site, not the URL "{path.text.strip()}": '
                    + _NO_OTHER_HOST,
                    _LOCAL_HINT,
                )
    if isinstance(extra, RawMap):
        analytics = extra.get("analytics")
        if analytics is not None and not is_empty(analytics) and not _false(analytics):
            report(
                _key_line(extra, "analytics"),
                '"extra.analytics" makes every page load an analytics script from another '
                "host (Google Analytics): " + _NO_OTHER_HOST,
                "remove it",
            )
        alternate = extra.get("alternate")
        for item in alternate.items if isinstance(alternate, RawList) else ():
            link = item.get("link") if isinstance(item, RawMap) else None
            if isinstance(link, RawScalar) and _ABSOLUTE.match(browser_url(link.text)):
                report(
                    link.line,
                    f'"extra.alternate.link" points at "{link.text.strip()}", from which every '
                    "page would fetch sitemap.xml: " + _NO_OTHER_HOST,
                    "link another language of this site by its path, e.g. /en/",
                )
    repo_url = data.get("repo_url")
    if isinstance(repo_url, RawScalar):
        for pattern, api in _FETCHED_REPOSITORIES:
            # Material matches the link as the browser resolved it.
            if pattern.match(browser_url(repo_url.text)):
                report(
                    repo_url.line,
                    f'"repo_url" makes every page fetch the repository\'s facts from {api}: '
                    + _NO_OTHER_HOST,
                    "remove it; a page template can link the repository",
                )
                break


def _plugin_problems(node: RawNode, report: Callable[..., None]) -> None:
    """Plugins other than Material's search: Balise makes the pages, and the others load from
    other hosts (offline), need the network to build (social, privacy) or rewrite pages."""
    if isinstance(node, RawList):
        named = [
            item.entries[0][0] if isinstance(item, RawMap) and item.entries else item
            for item in node.items
        ]
    elif isinstance(node, RawMap):
        named = [key for key, _ in node.entries]
    else:
        return  # MkDocs reports a plugins setting of another shape
    for name in named:
        if isinstance(name, RawScalar) and name.text.strip() not in PLUGINS:
            report(
                name.line,
                f'the plugin "{name.text.strip()}" is not supported: Balise builds its site with '
                "Material's search plugin only (others may load from other hosts, need the "
                "network to build, or change the pages Balise makes)",
                "remove it",
            )


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
            tag = odd_tag(node)
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
    theme = data.get("theme")
    if theme is not None:
        _theme_problems(theme, report)
    plugins = data.get("plugins")
    if plugins is not None:
        _plugin_problems(plugins, report)
    _host_problems(data, report)
    return problems


# --- site_name and site_url -------------------------------------------------------------

_URL_WHY = "feeds and social posts need absolute permalinks"
_URL_EXAMPLE = 'add a line such as "site_url: https://status.example.org/"'


def _site_url(field: Field[None], node: RawNode) -> str | None:
    if is_empty(node):  # as if it were missing: the line to add is the hint
        field.report(node.line, f'"{field.name}" is required: {_URL_WHY}', _URL_EXAMPLE)
        return None
    url = text(field, node, required=True)
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        field.report(
            node.line,
            f'"site_url" must be an absolute http(s) address, not "{url}"',
            "feeds and social posts need absolute permalinks, such as https://status.example.org/",
        )
        return None
    return url if url.endswith("/") else url + "/"


# Balise's own keys of mkdocs.yml; every other setting is MkDocs' (judged by site_problems).
SITE_KEYS: tuple[Key[None], ...] = (
    Key(
        "site_name",
        str,
        required_text,
        "the site's name, in every page's title",
        required=True,
        example='add a line such as "site_name: État des services"',
    ),
    Key(
        "site_url",
        str,
        _site_url,
        "the site's absolute http(s) address, the base of every permalink",
        required=True,
        why=_URL_WHY,
        example=_URL_EXAMPLE,
    ),
)


# --- extra.balise: what deploy reads (MkDocs ignores Balise's keys under extra) -------------

BALISE_SECTION = "extra.balise"
_TARGET_KINDS = ("folder:", "git:")
_TARGET_HINT = "write folder:PATH or git:URL#BRANCH, or a list of them"
MIN_KEEP = 2  # the live release and one to roll back to (deploy.valid_keep)
_INT_TAG = YAML_TAG + "int"
# A host name (RFC 1123): dot-separated labels of letters, digits and inner hyphens, at
# most 63 characters each and 253 in all, at least two of them (GitHub Pages' CNAME file).
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.IGNORECASE)


def _dotted(field: Field[str]) -> str:
    return f"{field.context}.{field.name}"


def _deploy_targets(field: Field[str], node: RawNode) -> tuple[str, ...] | None:
    """One target or a list of them; deploy reads each whole (`folder:` or `git:` here)."""
    if isinstance(node, RawList):
        items: tuple[RawNode, ...] | None = list_items(
            field, node, "targets", "[folder:../public, git:URL#gh-pages]"
        )
    else:
        items = (node,)
    if items is None:
        return None
    found: list[str] = []
    for item in items:
        written = text(Field(field.report, _dotted(field), None), item, required=True)
        if written is None:
            return None
        if not written.startswith(_TARGET_KINDS) or not written.split(":", 1)[1].strip():
            field.report(
                item.line, f'"{_dotted(field)}" is not a deploy target: "{written}"', _TARGET_HINT
            )
            return None
        found.append(written)
    return tuple(found)


def _keep(field: Field[str], node: RawNode) -> int | None:
    if not check_tag(field, node):
        return None
    written = node.text.strip() if isinstance(node, RawScalar) else None
    if written is None or node.tag != _INT_TAG or not written.isdecimal():
        shown = kind(node) if written is None else f'"{written}"' if written else "empty"
        field.report(
            node.line,
            f'"{_dotted(field)}" must be a whole number, {MIN_KEEP} or more, not {shown}',
            "write it without quotes, such as keep: 5",
        )
        return None
    if int(written) < MIN_KEEP:
        field.report(
            node.line,
            f'"{_dotted(field)}" must be {MIN_KEEP} or more, not {written}',
            "a folder keeps the live release and at least one to roll back to",
        )
        return None
    return int(written)


def _cname(field: Field[str], node: RawNode) -> str | None:
    written = text(Field(field.report, _dotted(field), None), node)
    if written is None:
        return None
    labels = written.removesuffix(".").split(".")
    if len(written) > 253 or len(labels) < 2 or not all(map(_LABEL.fullmatch, labels)):
        field.report(
            node.line,
            f'"{_dotted(field)}" must be a host name, not "{written}"',
            "write the domain alone, without https:// or a path, such as statut.hgo.example",
        )
        return None
    return written


# The keys of `extra: balise:`, read by deploy; check judges them and the README shows them.
BALISE_KEYS: tuple[Key[str], ...] = (
    Key(
        "deploy",
        tuple,
        _deploy_targets,
        "where `deploy` publishes without `--to`: `folder:PATH` (relative to the repository) "
        "or `git:URL#BRANCH` (branch default `gh-pages`), or a list of them",
    ),
    Key(
        "keep",
        int,
        _keep,
        f"the complete releases a folder target keeps to roll back through, a whole number, "
        f"{MIN_KEEP} or more (default 5; `--keep N` wins)",
        unset=never,  # deploy refuses `keep:` without a value: so does check
    ),
    Key(
        "cname",
        str,
        _cname,
        "the custom domain a git target serves, a host name such as `statut.hgo.example`: "
        "written as the branch's `CNAME` file (default: the branch's own `CNAME` is kept)",
    ),
)


def _balise_settings(data: RawMap, report: Report) -> None:
    """`extra.balise` judged by BALISE_KEYS (deploy reads the values itself)."""
    extra = data.get("extra")
    section = extra.get("balise") if isinstance(extra, RawMap) else None
    if section is None or is_empty(section):
        return
    if not isinstance(section, RawMap):
        report(
            section.line,
            f'"{BALISE_SECTION}" must be a mapping of settings, not {kind(section)}',
            "write deploy:, keep: and cname: indented under it",
        )
        return
    read(report, section, BALISE_KEYS, BALISE_SECTION)


def site(raw: RawFile | None, problems: list[Problem]) -> Site | None:
    """mkdocs.yml judged: the Site, or None (and its problems) when it cannot be built."""
    if raw is None:
        return None
    report = Report(MKDOCS_FILE, problems)
    data = raw.data if raw.data is not None else RawMap((), 1)
    if not isinstance(data, RawMap):
        report(data.line, f"mkdocs.yml must be a mapping of settings, not {kind(data)}")
        return None
    problems.extend(site_problems(data))  # markup the theme would print, what Balise cannot check
    values = read(report, data, SITE_KEYS, None, others=True).values
    _balise_settings(data, report)
    if "site_name" not in values or "site_url" not in values:
        return None
    return Site(values["site_name"], values["site_url"])

"""The overview's weight on the wire: its HTML, every CSS and JS it loads, compressed.

A benchmark that prints figures (gzip -9, and brotli when the module is installed) and
whether the page stays under its budget; it times nothing. Run from the project root:

    python3 bench/page_weight.py                 # builds the demo at a fixed NOW
    python3 bench/page_weight.py --site site/    # measures a site already built

The list of files is what a browser fetches for the page: the files the HTML references
(found with an HTML parser) plus the ones Material's script fetches right after load (the
search worker named in the page's `__config`, the search index and the lunr language
files it imports, and `sitemap.xml` beside each `<link rel="alternate">`: Balise's feeds).
tests/browser checks this list against what Chromium really fetches.
"""

from __future__ import annotations

import argparse
import gzip
import json
import posixpath
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_KB = 150
DEMO_NOW = "2024-10-10T12:00:00+02:00"  # in the middle of the demo's crisis

try:  # optional: brotli is what most CDNs serve, but gzip is the figure the budget uses
    import brotli  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the machine
    brotli = None


@dataclass(frozen=True)
class Resource:
    path: str  # relative to the site root
    kind: str  # html, css, js, json, xml, image
    how: str  # "page" (referenced by the HTML) or "script" (fetched by the theme's script)
    raw: int
    gzip: int
    brotli: int | None


@dataclass(frozen=True)
class Weight:
    page: str
    resources: tuple[Resource, ...]

    @property
    def raw(self) -> int:
        return sum(r.raw for r in self.resources)

    @property
    def gzip(self) -> int:
        return sum(r.gzip for r in self.resources)

    @property
    def brotli(self) -> int | None:
        sizes = [r.brotli for r in self.resources]
        return None if None in sizes else sum(s for s in sizes if s is not None)

    def under(self, budget_kb: int = BUDGET_KB) -> bool:
        return self.gzip <= budget_kb * 1024


class _References(HTMLParser):
    """Collects what a page makes the browser fetch: styles, scripts, icons, images."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []  # (url, kind)
        self.alternates: list[str] = []  # <link rel="alternate"> hrefs
        self.lang = ""
        self._in_config = False
        self.config_text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        rel = a.get("rel", "").lower().split()
        if tag == "html":
            self.lang = a.get("lang", "")
        elif tag == "link" and "stylesheet" in rel and a.get("href"):
            self.found.append((a["href"], "css"))
        elif tag == "link" and rel == ["alternate"] and a.get("href"):
            self.alternates.append(a["href"])
        elif tag == "link" and "icon" in rel and a.get("href"):
            self.found.append((a["href"], "image"))
        elif tag == "script" and a.get("src"):
            self.found.append((a["src"], "js"))
        elif tag == "script" and a.get("id") == "__config":
            self._in_config = True
        elif tag == "img" and a.get("src"):
            self.found.append((a["src"], "image"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_config = False

    def handle_data(self, data: str) -> None:
        if self._in_config:
            self.config_text += data


def _local(page: str, url: str) -> str | None:
    """The site path of a same-site URL, None for another host (Balise pages have none)."""
    if "//" in url or url.startswith(("data:", "#")):
        return None
    url = url.split("#", 1)[0].split("?", 1)[0]
    return posixpath.normpath(posixpath.join(posixpath.dirname(page), url))


def _measure(site: Path, path: str, kind: str, how: str) -> Resource:
    data = (site / path).read_bytes()
    return Resource(
        path,
        kind,
        how,
        len(data),
        len(gzip.compress(data, compresslevel=9, mtime=0)),
        len(brotli.compress(data, quality=11)) if brotli else None,
    )


def _script_fetches(site: Path, parser: _References) -> list[tuple[str, str]]:
    """What Material's script fetches on load: search worker, index, lunr language files."""
    if not parser.config_text.strip():
        return []
    config = json.loads(parser.config_text)
    fetched: list[tuple[str, str]] = []
    worker = config.get("search")
    if not worker:
        return fetched
    base = config.get("base", ".")
    fetched.append((posixpath.normpath(posixpath.join(base, worker)), "js"))
    index = posixpath.normpath(posixpath.join(base, "search/search_index.json"))
    if (site / index).is_file():
        fetched.append((index, "json"))
        langs = json.loads((site / index).read_text(encoding="utf-8"))["config"]["lang"]
        lunr = posixpath.join(posixpath.dirname(worker), "..", "lunr", "min")
        names = ["lunr.stemmer.support", *(f"lunr.{lang}" for lang in langs if lang != "en")]
        if len(langs) > 1:
            names.append("lunr.multi")
        for name in names:
            path = posixpath.normpath(posixpath.join(base, lunr, f"{name}.min.js"))
            if (site / path).is_file():
                fetched.append((path, "js"))
    return fetched


def page_weight(site: Path, page: str = "index.html") -> Weight:
    """The page and everything it loads, each measured raw and compressed."""
    parser = _References()
    parser.feed((site / page).read_text(encoding="utf-8"))
    resources = [_measure(site, page, "html", "page")]
    seen = {page}
    wanted = [(p, kind, "page") for url, kind in parser.found if (p := _local(page, url))]
    wanted += [(p, kind, "script") for p, kind in _script_fetches(site, parser)]
    # Material takes each alternate link for another version of the site: it fetches the
    # sitemap.xml beside it (integrations/alternate).
    for url in parser.alternates:
        if (p := _local(page, url)) is not None:
            wanted.append((posixpath.join(posixpath.dirname(p), "sitemap.xml"), "xml", "script"))
    for path, kind, how in wanted:
        if path not in seen and (site / path).is_file():
            seen.add(path)
            resources.append(_measure(site, path, kind, how))
    return Weight(page, tuple(resources))


def _kb(size: int | None) -> str:
    return "—" if size is None else f"{size / 1024:.1f}"


def report(weight: Weight, budget_kb: int = BUDGET_KB) -> str:
    """The table the command prints."""
    width = max(len(r.path) for r in weight.resources)
    lines = [
        f"{weight.page}: HTML + CSS + JS it loads (KB, 1 KB = 1024 bytes)",
        f"{'file':<{width}}  {'kind':<5}  {'loaded by':<9}  {'raw':>7}  {'gzip -9':>7}"
        f"  {'brotli':>7}",
    ]
    for r in weight.resources:
        lines.append(
            f"{r.path:<{width}}  {r.kind:<5}  {r.how:<9}  {_kb(r.raw):>7}  {_kb(r.gzip):>7}"
            f"  {_kb(r.brotli):>7}"
        )
    lines.append(
        f"{'total':<{width}}  {'':<5}  {'':<9}  {_kb(weight.raw):>7}  {_kb(weight.gzip):>7}"
        f"  {_kb(weight.brotli):>7}"
    )
    verdict = "under" if weight.under(budget_kb) else "OVER"
    lines.append(f"budget: {budget_kb} KB compressed (gzip -9): {verdict} budget")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, help="a built site (default: build the demo)")
    parser.add_argument("--repo", type=Path, default=ROOT, help="the repository to build")
    parser.add_argument("--now", default=DEMO_NOW, help="NOW for the build (ISO 8601)")
    parser.add_argument("--page", default="index.html", help="the page to weigh")
    parser.add_argument("--budget-kb", type=int, default=BUDGET_KB)
    args = parser.parse_args(argv)
    if args.site is not None:
        weight = page_weight(args.site, args.page)
    else:
        sys.path.insert(0, str(ROOT))
        from balise.build import build

        with tempfile.TemporaryDirectory() as scratch:
            out = Path(scratch) / "site"
            outcome = build(args.repo, out, datetime.fromisoformat(args.now))
            if not outcome.ok:
                for problem in outcome.errors:
                    print(problem, file=sys.stderr)
                return 1
            weight = page_weight(out, args.page)
    print(report(weight, args.budget_kb))
    return 0 if weight.under(args.budget_kb) else 1


if __name__ == "__main__":
    sys.exit(main())

"""The floor: the least work any Python generator must do for a status repository.

Reads every statement with python-frontmatter, renders its markdown with Python-Markdown,
writes one plain HTML page per statement and per establishment, an index, and one Atom feed
with feedgen. No validation, no theme, no search, no other feed: a yardstick, not a site.
"""

from __future__ import annotations

import argparse
import html
from datetime import datetime
from pathlib import Path

import frontmatter
import markdown
import yaml
from feedgen.feed import FeedGenerator

PAGE = (
    '<!doctype html>\n<html lang="fr"><head><meta charset="utf-8"><title>{title}</title></head>'
    "<body>\n{body}\n</body></html>\n"
)


def _date(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def build(root: Path, out: Path) -> int:
    """Build the floor site of `root` into `out`; return the number of statements."""
    registry = yaml.safe_load((root / "establishments.yml").read_text(encoding="utf-8"))
    site_url = "https://statut.example.org/"
    converter = markdown.Markdown(extensions=["tables", "sane_lists"])
    statements = []
    for file in sorted((root / "statements").rglob("*.md")):
        post = frontmatter.load(file)
        converter.reset()
        statements.append(
            {
                "id": file.stem,
                "title": str(post["title"]),
                "date": _date(post["date"]),
                "status": {str(k): str(v) for k, v in (post.get("status") or {}).items()},
                "html": converter.convert(post.content),
            }
        )
    statements.sort(key=lambda s: s["date"])
    (out / "communiques").mkdir(parents=True, exist_ok=True)
    (out / "etablissements").mkdir(parents=True, exist_ok=True)
    for s in statements:
        page = f"<h1>{html.escape(s['title'])}</h1>\n{s['html']}"
        (out / "communiques" / f"{s['id']}.html").write_text(
            PAGE.format(title=html.escape(s["title"]), body=page), encoding="utf-8"
        )
    index = []
    for e in registry["establishments"]:
        naming = [s for s in statements if e["id"] in s["status"] or "all" in s["status"]]
        status = naming[-1]["status"] if naming else {}
        current = status.get(e["id"], status.get("all", "normal"))
        items = "\n".join(
            f'<li><a href="../communiques/{s["id"]}.html">{html.escape(s["title"])}</a></li>'
            for s in reversed(naming)
        )
        body = f"<h1>{html.escape(e['name'])}</h1>\n<p>{current}</p>\n<ul>\n{items}\n</ul>"
        (out / "etablissements" / f"{e['id']}.html").write_text(
            PAGE.format(title=html.escape(e["name"]), body=body), encoding="utf-8"
        )
        index.append(
            f'<li><a href="etablissements/{e["id"]}.html">{html.escape(e["name"])}</a>'
            f" : {current}</li>"
        )
    (out / "index.html").write_text(
        PAGE.format(title="État", body="<ul>\n" + "\n".join(index) + "\n</ul>"), encoding="utf-8"
    )
    fg = FeedGenerator()
    fg.id(site_url + "feeds/all.atom")
    fg.title("Tous les communiqués")
    fg.link(href=site_url, rel="alternate")
    fg.language("fr")
    for s in reversed(statements):
        url = f"{site_url}communiques/{s['id']}.html"
        entry = fg.add_entry(order="append")
        entry.id(url)
        entry.title(s["title"])
        entry.link(href=url)
        entry.published(s["date"])
        entry.updated(s["date"])
        entry.content(s["html"], type="html")
    (out / "feeds").mkdir(exist_ok=True)
    (out / "feeds" / "all.atom").write_bytes(fg.atom_str(pretty=True))
    return len(statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="the status repository")
    parser.add_argument("out", type=Path, help="the output folder (must not exist)")
    args = parser.parse_args()
    args.out.mkdir(parents=True)
    count = build(args.root, args.out)
    print(f"floor: {count} statements into {args.out}")


if __name__ == "__main__":
    main()

"""The theme floor: what MkDocs and mkdocs-material alone cost on the same statements.

Writes one markdown page per statement (its title and body), one per establishment (its
statements as a list of links) and an index, statements out of the navigation, then runs
`mkdocs build` with the Material theme in French and its search plugin: the least work any
generator built on MkDocs + Material (as Balise is, by its contract) must do. No validation,
no feeds, no JSON, no cache.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

import frontmatter
import yaml

CONFIG = """\
site_name: Theme floor
site_url: https://statut.example.org/
docs_dir: {docs}
site_dir: {site}
theme:
  name: material
  language: fr
  font: false
plugins:
  - search
not_in_nav: |
  /communiques/
nav:
  - index.md
"""


def write_docs(root: Path, docs: Path) -> int:
    """The markdown pages of `root`'s statements and establishments; the statement count."""
    registry = yaml.safe_load((root / "establishments.yml").read_text(encoding="utf-8"))
    (docs / "communiques").mkdir(parents=True)
    (docs / "etablissements").mkdir()
    naming: dict[str, list[tuple[str, str]]] = {}
    count = 0
    for file in sorted((root / "statements").rglob("*.md")):
        post = frontmatter.load(file)
        title = str(post["title"])
        (docs / "communiques" / f"{file.stem}.md").write_text(
            f"# {title}\n\n{post.content}\n", encoding="utf-8"
        )
        for establishment in post.get("status") or {}:
            naming.setdefault(str(establishment), []).append((file.stem, title))
        count += 1
    index = []
    for e in registry["establishments"]:
        named = naming.get(e["id"], []) + naming.get("all", [])
        items = "\n".join(f"- [{t}](../communiques/{s}.md)" for s, t in sorted(named))
        (docs / "etablissements" / f"{e['id']}.md").write_text(
            f"# {e['name']}\n\n{items}\n", encoding="utf-8"
        )
        index.append(f"- [{e['name']}](etablissements/{e['id']}.md)")
    (docs / "index.md").write_text("# État\n\n" + "\n".join(index) + "\n", encoding="utf-8")
    return count


def build(root: Path, out: Path) -> int:
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    out = out.absolute()
    work = out.parent / f"{out.name}-docs"
    count = write_docs(root, work / "docs")
    config_file = work / "mkdocs.yml"
    config_file.write_text(CONFIG.format(docs=work / "docs", site=out), encoding="utf-8")
    logging.getLogger("mkdocs").setLevel(logging.ERROR)
    mkdocs_build(load_config(str(config_file)))
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="the status repository")
    parser.add_argument("out", type=Path, help="the output folder (must not exist)")
    args = parser.parse_args()
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    count = build(args.root, args.out)
    print(f"theme floor: {count} statements into {args.out}")


if __name__ == "__main__":
    main()

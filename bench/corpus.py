"""A synthetic status repository for benchmarks: E establishments, N statements over a year.

Deterministic (seeded): the same arguments write the same bytes. Writes files only under the
target folder; with `git=True` it also commits the statements, one commit per day, as a
communication team would, so that the build pays for reading a real git history.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

# The year the corpus covers, and the NOW it is built at (after the last statement).
YEAR = 2023
NOW = "2024-01-01T12:00:00+01:00"
PARIS_WINTER = timezone(timedelta(hours=1))
PARIS_SUMMER = timezone(timedelta(hours=2))

REGIONS = (
    "Bretagne",
    "Pays de la Loire",
    "Normandie",
    "Centre-Val de Loire",
    "Nouvelle-Aquitaine",
    "Île-de-France",
)
KINDS = ("Clinique", "Centre hospitalier", "Polyclinique", "Hôpital privé", "Centre de santé")
CITIES = (
    "Rennes",
    "Brest",
    "Quimper",
    "Lorient",
    "Vannes",
    "Saint-Brieuc",
    "Nantes",
    "Angers",
    "Le Mans",
    "Laval",
    "La Roche-sur-Yon",
    "Caen",
    "Rouen",
    "Cherbourg",
    "Tours",
    "Orléans",
    "Blois",
    "Poitiers",
    "La Rochelle",
    "Bordeaux",
    "Limoges",
    "Versailles",
    "Créteil",
    "Saint-Malo",
)
STATUSES = ("normal", "dégradé", "perturbé", "interrompu", "maintenance")
# Most statements restore or keep things running; fewer take an establishment down.
STATUS_WEIGHTS = (45, 25, 15, 8, 7)
_VOCABULARY = (
    "patients équipes accueil consultations urgences rendez-vous service soins dossier "
    "informatique réseau messagerie téléphone standard laboratoire imagerie pharmacie "
    "bloc opératoire hospitalisation sortie admission famille visite personnel direction "
    "sécurité sauvegarde reprise progressive activité programmée délais attente papier "
    "prescription résultats examens médecins infirmiers agence régionale santé cellule "
    "crise prévention mesure précaution information mise à jour point situation journée"
)
WORDS = tuple(_VOCABULARY.split(" "))


@dataclass(frozen=True)
class Establishment:
    id: str
    name: str
    city: str
    region: str


def establishments(count: int) -> list[Establishment]:
    """`count` establishments spread over a few regions, in registry order."""
    found = []
    for index in range(count):
        city = CITIES[index % len(CITIES)]
        kind = KINDS[index % len(KINDS)]
        found.append(
            Establishment(
                id=f"etab-{index + 1:03d}",
                name=f"{kind} {city} {index + 1}",
                city=city,
                region=REGIONS[index % len(REGIONS)],
            )
        )
    return found


def registry_yaml(found: list[Establishment]) -> str:
    lines = [
        "# A synthetic registry for Balise's benchmark.",
        "organisation:",
        "  name: Groupe Hospitalier Synthétique",
        "  url: https://www.example.org",
        "  timezone: Europe/Paris",
        "  press:",
        "    name: Service communication",
        "    email: presse@example.org",
        '    phone: "+33 2 00 00 00 00"',
        "establishments:",
    ]
    for index, e in enumerate(found):
        lines += [
            f"  - id: {e.id}",
            f"    name: {e.name}",
            f"    city: {e.city}",
            f"    region: {e.region}",
            f'    phone: "+33 2 00 00 {index // 100:02d} {index % 100:02d}"',
        ]
    return "\n".join(lines) + "\n"


MKDOCS_YAML = """\
# A synthetic site for Balise's benchmark, configured like the demo.
site_name: Groupe Hospitalier Synthétique · État des établissements
site_url: https://statut.example.org/
site_description: État de fonctionnement des établissements du groupe.
copyright: Groupe Hospitalier Synthétique · Service communication

theme:
  name: material
  language: fr
  font: false
  palette:
    - media: "(prefers-color-scheme: light)"
      scheme: default
      primary: indigo
      toggle:
        icon: material/weather-night
        name: Passer en mode sombre
    - media: "(prefers-color-scheme: dark)"
      scheme: slate
      primary: indigo
      toggle:
        icon: material/weather-sunny
        name: Passer en mode clair

plugins:
  - search:
      lang: fr

markdown_extensions:
  - tables
  - sane_lists
  - toc:
      permalink: false
"""


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng, rng.randint(8, 16)) for _ in range(rng.randint(2, 4)))


def body(rng: random.Random) -> str:
    """Three paragraphs and a list, with some emphasis: a typical statement."""
    items = [
        f"- **{rng.choice(WORDS).capitalize()}** : {_sentence(rng, rng.randint(6, 12))}"
        for _ in range(rng.randint(2, 4))
    ]
    return "\n\n".join([_paragraph(rng), _paragraph(rng), "\n".join(items), _paragraph(rng)]) + "\n"


def _offset(moment: datetime) -> timezone:
    # Close enough to Paris for a synthetic corpus: summer time from April to October.
    return PARIS_SUMMER if 4 <= moment.month <= 10 else PARIS_WINTER


def statement_text(
    rng: random.Random,
    found: list[Establishment],
    date: datetime,
    incident: str | None,
    closing: set[str] | None = None,
) -> tuple[str, bool, set[str]]:
    """A statement file's text, whether it is a press release, and the ids it names.

    `closing`: the ids its incident thread named, all set back to normal by this statement
    (the last of the thread). The same random draws either way: the rest of the corpus does
    not change with it."""
    press = rng.random() < 0.10
    title = _sentence(rng, rng.randint(4, 9)).rstrip(".")
    lines = ["---", f'title: "{title}"', f"date: {date.isoformat()}"]
    if press:
        lines.append("type: press-release")
    if incident:
        lines.append(f"incident: {incident}")
    shape = rng.random()
    status: list[str] = []
    ids: set[str] = set()
    if shape < 0.08:
        status = [f"  all: {rng.choices(STATUSES, STATUS_WEIGHTS)[0]}"]
        ids = {e.id for e in found}
    elif shape < 0.92:
        named = rng.sample(found, rng.randint(1, 3))
        status = [f"  {e.id}: {rng.choices(STATUSES, STATUS_WEIGHTS)[0]}" for e in named]
        ids = {e.id for e in named}
    # else: pure information, no status
    if closing:
        status = [f"  {e.id}: normal" for e in found if e.id in closing]
        ids = set(closing)
    if status:
        lines += ["status:", *status]
    lines.append("---")
    return "\n".join(lines) + "\n" + body(rng), press, ids


@dataclass(frozen=True)
class Corpus:
    root: Path
    establishments: int
    statements: int
    files: tuple[str, ...]  # statement paths, date order


def _dates(rng: random.Random, count: int) -> list[datetime]:
    start = datetime(YEAR, 1, 1, 6, 0)
    span = int(timedelta(days=364, hours=17).total_seconds())
    seconds = sorted(rng.randrange(span) // 60 * 60 for _ in range(count))
    dates = []
    for s in seconds:
        naive = start + timedelta(seconds=s)
        dates.append(naive.replace(tzinfo=_offset(naive)))
    return dates


def generate(
    root: Path,
    statements: int,
    establishment_count: int = 40,
    seed: int = 1,
    git: bool = False,
    closing: bool = False,
) -> Corpus:
    """Write a whole status repository into `root` (replaced when it exists).

    `closing`: each incident thread ends as a real one does, its last statement setting every
    establishment it named back to normal (the thread still running at the end stays open).
    Without, statuses are random throughout and almost every thread is still open at the end:
    the worst case for what lists the open incidents (the overview, the Statuspage API)."""
    if root.exists():
        shutil.rmtree(root)
    (root / "statements").mkdir(parents=True)
    rng = random.Random(f"{seed}-{statements}-{establishment_count}")
    found = establishments(establishment_count)
    (root / "establishments.yml").write_text(registry_yaml(found), encoding="utf-8")
    (root / "mkdocs.yml").write_text(MKDOCS_YAML, encoding="utf-8")
    (root / ".gitignore").write_text("site/\n.balise-cache/\n", encoding="utf-8")
    files: list[str] = []
    incident: str | None = None
    incident_left = 0
    named: set[str] = set()  # what the current incident thread has named so far
    for index, date in enumerate(_dates(rng, statements)):
        if incident_left == 0:
            # Statements come in incident threads of a few points, with quiet news between.
            incident = f"incident-{index:05d}" if rng.random() < 0.6 else None
            incident_left = rng.randint(3, 15)
            named = set()
        incident_left -= 1
        last = closing and incident is not None and incident_left == 0 and bool(named)
        text, _, ids = statement_text(rng, found, date, incident, named if last else None)
        named |= ids
        path = f"statements/{date:%Y-%m}/{date:%Y-%m-%d}-point-{index:05d}.md"
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
        files.append(path)
    if git:
        _commit_by_day(root, files)
    return Corpus(root, establishment_count, statements, tuple(files))


def _commit_by_day(root: Path, files: list[str]) -> None:
    """One commit per day of statements, fast (git fast-import), dated at that day's 20:00."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    days: dict[str, list[str]] = {}
    for path in files:
        days.setdefault(Path(path).name[:10], []).append(path)
    stream: list[bytes] = []
    first = True
    for mark, (day, paths) in enumerate(sorted(days.items()), start=1):
        when = int(datetime.fromisoformat(f"{day}T20:00:00+01:00").timestamp())
        message = f"Statements of {day}".encode()
        stream.append(b"commit refs/heads/main\n")
        stream.append(b"mark :%d\n" % mark)
        stream.append(b"committer Bench <bench@example.org> %d +0100\n" % when)
        stream.append(b"data %d\n%s\n" % (len(message), message))
        if first:
            stream += [_inline(root, name) for name in ("establishments.yml", "mkdocs.yml")]
            stream.append(_inline(root, ".gitignore"))
            first = False
        stream += [_inline(root, path) for path in paths]
    subprocess.run(
        ["git", "-C", str(root), "fast-import", "--quiet"], input=b"".join(stream), check=True
    )
    subprocess.run(["git", "-C", str(root), "checkout", "-q", "-f", "main"], check=True)


def _inline(root: Path, path: str) -> bytes:
    data = (root / path).read_bytes()
    return b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data)


NEW_STATEMENT = "statements/2023-12/2023-12-31-point-nouveau.md"


def add_statement(root: Path, seed: int = 1) -> str:
    """Write one more statement, the newest: an update naming one establishment."""
    rng = random.Random(f"new-{seed}")
    text = "\n".join(
        [
            "---",
            'title: "Point de situation : reprise de la messagerie"',
            "date: 2023-12-31T23:30:00+01:00",
            "status:",
            f"  etab-001: {rng.choice(('normal', 'dégradé'))}",
            "---",
            body(rng),
        ]
    )
    (root / NEW_STATEMENT).parent.mkdir(parents=True, exist_ok=True)
    (root / NEW_STATEMENT).write_text(text, encoding="utf-8")
    return NEW_STATEMENT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="folder to write (replaced when it exists)")
    parser.add_argument("-n", "--statements", type=int, default=500)
    parser.add_argument("-e", "--establishments", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--git", action="store_true", help="commit the statements, one per day")
    parser.add_argument(
        "--closing", action="store_true", help="each incident thread ends back to normal"
    )
    args = parser.parse_args()
    corpus = generate(
        args.root, args.statements, args.establishments, args.seed, args.git, args.closing
    )
    print(f"{corpus.root}: {corpus.establishments} establishments, {corpus.statements} statements")
    print(f"build it with: python3 publish.py build --repo {corpus.root} --now {NOW}")


if __name__ == "__main__":
    main()

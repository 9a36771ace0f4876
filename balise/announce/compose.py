"""Posts as values: statement + repository + channel -> the exact text, its counted length, facets.

Pure: no network, no clock, no ledger. Templates come from the Jinja environment passed in.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import grapheme
import jinja2

from balise import french
from balise.announce import CHANNELS, NETWORKS
from balise.errors import Problem
from balise.model import Repository, Statement, Status
from balise.timeline import severity_key
from balise.views import statement_path

TEMPLATE = "posts/post.txt"  # a repository may add posts/x.txt, posts/mastodon.txt, ...
MAX_LISTED = 4  # more establishments named than this: a count per status instead of names
URL_WEIGHT = 23  # X and Mastodon count every link as 23 characters
ELLIPSIS = "…"


@dataclass(frozen=True)
class Limit:
    """How a network counts a post and how much it accepts."""

    network: str
    maximum: int
    unit: str

    @property
    def name(self) -> str:
        return CHANNELS[self.network]


LIMITS: dict[str, Limit] = {
    "x": Limit("x", 280, "weighted characters"),
    "mastodon": Limit("mastodon", 500, "characters"),
    "bluesky": Limit("bluesky", 300, "graphemes"),
}


@dataclass(frozen=True)
class Facet:
    """A Bluesky link facet: UTF-8 byte offsets into the text (end exclusive) and the target."""

    byte_start: int
    byte_end: int
    uri: str

    def as_record(self) -> dict:
        """The `app.bsky.richtext.facet` JSON form."""
        return {
            "index": {"byteStart": self.byte_start, "byteEnd": self.byte_end},
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": self.uri}],
        }


@dataclass(frozen=True)
class Templates:
    """The posts' Jinja environments: plain text (every channel) and HTML (email)."""

    text: jinja2.Environment
    html: jinja2.Environment


@dataclass(frozen=True)
class Post:
    """One post for one channel, exactly as it would be sent."""

    statement_id: str
    network: str  # the channel
    text: str  # the post; an email's plain-text part; a webhook's `text`
    length: int  # as the network counts it
    limit: Limit | None  # None: a channel without a length limit (email, webhook)
    link: str
    facets: tuple[Facet, ...] = ()
    adjustments: tuple[str, ...] = ()  # what was shortened to fit, for the preview
    subject: str | None = None  # an email's Subject
    html: str | None = None  # an email's HTML part
    headers: tuple[tuple[str, str], ...] = ()  # an email's own headers (Message-ID, Date...)
    document: Mapping[str, Any] | None = None  # a webhook's JSON body

    @property
    def fits(self) -> bool:
        return self.length > 0 and (self.limit is None or self.length <= self.limit.maximum)


def limited_facts(post: Post) -> list[str]:
    """What the dry run says of a social network's post: its counted length against the limit."""
    limit = post.limit
    assert limit is not None
    return [f"{post.length}/{limit.maximum} {limit.unit}", *post.adjustments]


# --- counting -------------------------------------------------------------------------


def _web_links(text: str) -> list[tuple[int, int, str]]:
    """(start, end, url) of every http(s) link, as twitter-text finds them (str indices)."""
    from twitter_text import extract_urls_with_indices  # 0.6 s to import: only when counting

    found = []
    for url in extract_urls_with_indices(text):
        start, end = url["indices"]
        if url["url"].lower().startswith(("http://", "https://")):
            found.append((start, end, url["url"]))
    return found


def x_length(text: str) -> int:
    """X's weighted length (twitter-text v3 rules: links 23, CJK and emoji 2, Latin 1)."""
    from twitter_text import parse_tweet

    return parse_tweet(text).weightedLength


_MASTODON_ACCOUNT = re.compile(r"(^|[^/\w])@(([a-z0-9_]+)@[a-z0-9.\-]+[a-z0-9]+)", re.IGNORECASE)


def mastodon_length(text: str) -> int:
    """Mastodon's count: graphemes, every http(s) link as 23, `@user@host` as `@user`."""
    pieces, last = [], 0
    for start, end, _ in _web_links(text):
        pieces.append(text[last:start])
        pieces.append("x" * URL_WEIGHT)
        last = end
    pieces.append(text[last:])
    countable = _MASTODON_ACCOUNT.sub(r"\1@\3", "".join(pieces))
    return grapheme.length(countable)


def bluesky_length(text: str) -> int:
    """Bluesky's count: graphemes, links included at their full length."""
    return grapheme.length(text)


COUNTERS = {"x": x_length, "mastodon": mastodon_length, "bluesky": bluesky_length}


def count(network: str, text: str) -> int:
    """The length as the network counts it; graphemes for a channel without a limit."""
    return COUNTERS.get(network, grapheme.length)(text)


def link_facets(text: str, link: str) -> tuple[Facet, ...]:
    """Link facets for the permalink and every other http(s) link, at UTF-8 byte offsets."""
    spans: dict[int, tuple[int, str]] = {}
    start = text.find(link) if link else -1
    while start >= 0:
        spans[start] = (start + len(link), link)
        start = text.find(link, start + len(link))
    for begin, end, url in _web_links(text):
        if not any(b <= begin < e for b, (e, _) in spans.items()):
            spans[begin] = (end, url)

    def offset(index: int) -> int:
        return len(text[:index].encode("utf-8"))

    return tuple(Facet(offset(b), offset(e), uri) for b, (e, uri) in sorted(spans.items()))


# --- plain text -----------------------------------------------------------------------

# Markers only, not text.markdown then text.plain: a `social` text is written for the post,
# and rendering it as markdown would change it (its line breaks joined, `<urgent>` dropped as
# markup, `2*3*4` read as emphasis, `1. ` and `- ` turned into list items).
_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>~|])")
_IMAGE_OR_LINK = re.compile(r"!?\[([^\]]*)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)")
_CODE = re.compile(r"`+([^`]+?)`+")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_EM_STAR = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*]*?[^\s*])\*(?![\w*])")
_EM_UNDERSCORE = re.compile(r"(?<![\w_])_(?=[^\s_])([^_]*?[^\s_])_(?![\w_])")
_LINE_MARK = re.compile(r"^[ \t]{0,3}(?:#{1,6}[ \t]+|>[ \t]?|[-*+][ \t]+)", re.MULTILINE)
_PROTECT = "\ue000"  # a private-use character holds escaped markers while emphasis is removed


def without_markdown(text: str) -> str:
    """Text with markdown markup removed (emphasis, code, links, headings): posts show no markup.

    Line breaks are kept (a `social` text may use them); spaces within a line are collapsed.
    """
    protected: list[str] = []

    def protect(match: re.Match[str]) -> str:
        protected.append(match.group(1))
        return f"{_PROTECT}{len(protected) - 1}{_PROTECT}"

    text = _ESCAPED.sub(protect, text)
    text = _IMAGE_OR_LINK.sub(r"\1", text)
    text = _CODE.sub(r"\1", text)
    for pattern in (_STRONG, _STRIKE):
        text = pattern.sub(lambda m: m.group(m.lastindex or 1), text)
    text = _EM_STAR.sub(r"\1", text)
    text = _EM_UNDERSCORE.sub(r"\1", text)
    text = _LINE_MARK.sub("", text)
    text = re.sub(f"{_PROTECT}(\\d+){_PROTECT}", lambda m: protected[int(m.group(1))], text)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# --- the status line ------------------------------------------------------------------

_NAME_PREFIXES = (
    "clinique mutualiste",
    "polyclinique",
    "clinique",
    "centre hospitalier",
    "centre",
    "hôpital privé",
    "hôpital",
)
_NAME_LINKS = ("de l'", "de l’", "de la ", "du ", "des ", "de ", "d'", "d’")


@functools.lru_cache(maxsize=1024)
def short_name(name: str) -> str:
    """The name people use in a hurry: « Clinique mutualiste de l'Estuaire » -> « Estuaire ».

    Drops one leading kind of establishment (clinique, centre, hôpital...) and the article
    after it; keeps the whole name when nothing would be left. A name is plain text, as written.
    """
    folded = name.casefold()
    for prefix in _NAME_PREFIXES:
        if folded.startswith(prefix + " "):
            rest = name[len(prefix) + 1 :].lstrip()
            for link in _NAME_LINKS:
                if rest.casefold().startswith(link) and len(rest) > len(link):
                    rest = rest[len(link) :].lstrip()
                    break
            return rest[:1].upper() + rest[1:] if rest else name
    return name


def status_phrase(status: Status) -> str:
    """« mode dégradé »: the site's label with its first letter lowercased."""
    label = french.STATUS_LABELS[status]
    return label[:1].lower() + label[1:]


def _establishments(count: int) -> str:
    return f"{count} établissement" + ("s" if count > 1 else "")


def status_line(statement: Statement, repository: Repository, *, counted: bool = False) -> str:
    """The statuses a statement sets, compactly: « La Sagesse : activité interrompue · ... ».

    Establishments sharing a status are grouped, worst status first. With `counted` (or when
    more than MAX_LISTED establishments would be named) each group is a count, not names.
    `all` reads « Tous les établissements » (or « autres établissements » beside exceptions).
    """
    if not statement.status and not statement.service_status:
        return ""
    names = {e.id: short_name(e.name) for e in repository.establishments}
    groups: dict[Status, list[str]] = {}
    for establishment_id, status in statement.status:
        groups.setdefault(status, []).append(establishment_id)
    common: Status | None = None
    if statement.sets_all:
        # The status given to `all` is the one most establishments got; explicit ids are the rest.
        common = max(groups, key=lambda s: (len(groups[s]), s.severity))
    explicit = [(s, ids) for s, ids in groups.items() if s is not common]
    explicit.sort(key=lambda group: severity_key(group[0]), reverse=True)
    listed = sum(len(ids) for _, ids in explicit)
    counted = counted or listed > MAX_LISTED
    parts = []
    for status, ids in explicit:
        who = _establishments(len(ids)) if counted else ", ".join(names.get(i, i) for i in ids)
        parts.append(f"{who} : {status_phrase(status)}")
    if common is not None:
        if not explicit:
            who = "Tous les établissements"
        elif counted:
            who = _establishments(len(groups[common]))
        else:
            who = "Autres établissements"
        parts.append(f"{who} : {status_phrase(common)}")
    parts.extend(_service_parts(statement, repository, names, counted=counted))
    return " · ".join(parts)


def _service_parts(
    statement: Statement, repository: Repository, names: dict[str, str], *, counted: bool
) -> list[str]:
    """The services a statement sets apart from their establishment (CONTRACT §9), grouped by
    status, worst first: « Maternité, Consultations (La Sagesse) : mode dégradé »."""
    own = statement.status_map
    service_names = {service.id: service.name for service in repository.services}
    groups: dict[Status, dict[str, list[str]]] = {}
    for key, status in statement.service_status:
        establishment_id, service_id = key.split("/", 1)
        if own.get(establishment_id) is status:
            continue  # told by its establishment's part already
        where = groups.setdefault(status, {}).setdefault(establishment_id, [])
        where.append(service_names.get(service_id, service_id))
    ordered = sorted(groups.items(), key=lambda group: severity_key(group[0]), reverse=True)
    listed = sum(len(found) for _, by in ordered for found in by.values())
    parts = []
    for status, by_establishment in ordered:
        if counted or listed > MAX_LISTED:
            n = sum(len(found) for found in by_establishment.values())
            who = f"{n} service" + ("s" if n > 1 else "")
        else:
            who = ", ".join(
                f"{', '.join(found)} ({names.get(eid, eid)})"
                for eid, found in by_establishment.items()
            )
        parts.append(f"{who} : {status_phrase(status)}")
    return parts


def correction_text(
    statement: Statement | None, statement_id: str, repository: Repository, reason: str | None
) -> str:
    """What a channel that cannot take a message back sends instead (`post --retract`):
    « Correctif : le communiqué « TITRE » du DATE a été retiré. RAISON. » and the permalink."""
    if statement is None:  # its file is gone: the ledger knows only its id
        return f"Correctif : le communiqué {statement_id} a été retiré."
    date = french.long_date(statement.date, repository.organisation.tz)
    words = f"Correctif : le communiqué « {statement.title} » du {date} a été retiré."
    if reason:
        words += " " + reason.strip().rstrip(".") + "."
    return f"{words}\n{permalink(statement, repository)}"


# --- composing and fitting ------------------------------------------------------------


def permalink(statement: Statement, repository: Repository) -> str:
    return repository.site.url + statement_path(statement.id)


def headline(statement: Statement) -> tuple[str, bool]:
    """The post's own words and whether they are the author's `social` text (never shortened).

    A title is plain text (CONTRACT §3): it goes out as written, `__init__` and `*` included;
    only a `social` text loses the markdown markup an author may put in it.
    """
    if statement.post_text is not None:
        return without_markdown(statement.post_text), True
    return statement.title, False


def _render(
    template: jinja2.Template,
    *,
    text: str,
    statuses: str,
    link: str,
    network: str,
    statement: Statement,
    repository: Repository,
    **extra: Any,
) -> str:
    rendered = template.render(
        text=text,
        statuses=statuses,
        link=link,
        network=network,
        network_name=CHANNELS[network],
        is_press_release=statement.is_press_release,
        type_label=french.TYPE_LABELS[statement.type],
        organisation=repository.organisation.name,
        **extra,
    )
    lines = [line.rstrip() for line in rendered.splitlines()]
    return unicodedata.normalize("NFC", re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip())


def _cuts(text: str) -> list[str]:
    """Shorter forms of `text`, longest first, ended with « … »: at each word boundary, then,
    within the first word (a sentence without spaces, as in Chinese), at each grapheme."""
    cuts = []
    words = text.split(" ")
    for end in range(len(words) - 1, 0, -1):
        kept = " ".join(words[:end]).rstrip(" ,;:.-–—·")
        if kept:
            cuts.append(kept + ELLIPSIS)
    first = words[0]
    for end in range(grapheme.length(first) - 1, 0, -1):
        cuts.append(grapheme.slice(first, 0, end) + ELLIPSIS)
    return cuts


def compose(
    statement: Statement, repository: Repository, network: str, env: jinja2.Environment
) -> Post:
    """The post for one network, shortened as little as needed to fit its limit.

    In order: every status named; statuses as counts; then a title (never a `social` text) cut
    at a word with the statuses counted; then without the status line. A `social` text that
    does not fit even alone with the link is returned as it is, over the limit (a check error).
    """
    limit = LIMITS.get(network)
    template = env.select_template([f"posts/{network}.txt", TEMPLATE])
    link = permalink(statement, repository)
    text, authored = headline(statement)
    full = status_line(statement, repository)

    def attempt(words: str, statuses: str, adjustments: tuple[str, ...]) -> Post:
        body = _render(
            template,
            text=words,
            statuses=statuses,
            link=link,
            network=network,
            statement=statement,
            repository=repository,
        )
        facets = link_facets(body, link) if network == "bluesky" else ()
        return Post(
            statement.id, network, body, count(network, body), limit, link, facets, adjustments
        )

    post = attempt(text, full, ())
    if post.fits or limit is None:
        return post
    counted = status_line(statement, repository, counted=True)
    if len(counted) >= len(full):  # a count is no shorter than one or two short names
        counted = full
    compact = ("statuses counted",) if counted != full else ()
    if compact:
        post = attempt(text, counted, compact)
        if post.fits:
            return post
    if not authored and counted:
        # Keep the statuses while at least half of the title survives: facts before words.
        cuts = [cut for cut in _cuts(text) if len(cut) * 2 >= len(text)]
        post = _longest_fitting(
            cuts, lambda cut: attempt(cut, counted, ("title shortened", *compact))
        )
        if post is not None:
            return post
    bare = attempt(text, "", ("statuses left out",) if full else ())
    if bare.fits or authored:
        return bare  # over the limit only for a `social` text too long even alone
    left_out = ("title shortened", "statuses left out") if full else ("title shortened",)
    post = _longest_fitting(_cuts(text), lambda cut: attempt(cut, "", left_out))
    return post if post is not None else bare


def _longest_fitting(cuts: Sequence[str], attempt: Callable[[str], Post]) -> Post | None:
    """The post of the longest cut that fits (cuts longest first), by bisection."""
    low, high, best = 0, len(cuts), None
    while low < high:
        middle = (low + high) // 2
        post = attempt(cuts[middle])
        if post.fits:
            best, high = post, middle
        else:
            low = middle + 1
    return best


def _to_check(statements: Sequence[Statement]) -> list[Statement]:
    """Every statement with a `social` text; of the others, one of each shape and the longest id.

    A title is cut until its post fits, so a title post can only fail through its template:
    a sample of each shape finds that without rendering them all.
    """
    chosen: dict[str, Statement] = {}
    shapes: set[tuple[object, ...]] = set()
    longest: Statement | None = None
    for statement in statements:
        if not statement.postable:
            continue
        shape = (statement.type, bool(statement.status), statement.sets_all)
        if statement.post_text is not None or shape not in shapes:
            chosen[statement.path] = statement
            shapes.add(shape)
        if longest is None or len(statement.id) > len(longest.id):
            longest = statement
    if longest is not None:
        chosen[longest.path] = longest
    return [chosen[path] for path in sorted(chosen)]


def _draft(
    statement: Statement, repository: Repository, network: str, env: jinja2.Environment
) -> str:
    """The post before any fitting: enough to find a template error without counting."""
    template = env.select_template([f"posts/{network}.txt", TEMPLATE])
    return _render(
        template,
        text=headline(statement)[0],
        statuses=status_line(statement, repository),
        link=permalink(statement, repository),
        network=network,
        statement=statement,
        repository=repository,
    )


def post_problems(repository: Repository, env: jinja2.Environment) -> list[Problem]:
    """Check errors: a `social` text too long for a network (jinja2 errors propagate).

    Posts from titles always fit (the title is cut), so they are only rendered, one of each
    shape, to find template errors; `social` texts are composed and counted.
    """
    problems: list[Problem] = []
    for statement in _to_check(repository.statements):
        for network in NETWORKS:
            if statement.post_text is None:
                _draft(statement, repository, network, env)
                continue
            post = compose(statement, repository, network, env)
            if post.fits:
                continue
            limit = post.limit
            problems.append(
                Problem(
                    statement.path,
                    statement.line_of("social"),
                    f'"social" is too long for {limit.name}: the post would count '
                    f"{post.length} {limit.unit}, the limit is {limit.maximum}",
                    "shorten the text (the link to the statement is added to it), "
                    "or write social: false",
                )
            )
    return problems


__all__ = [
    "LIMITS",
    "NETWORKS",
    "Facet",
    "Limit",
    "Post",
    "Templates",
    "compose",
    "correction_text",
    "count",
    "post_problems",
    "short_name",
    "status_line",
    "without_markdown",
]

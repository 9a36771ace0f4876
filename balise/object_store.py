"""Deploying to object storage (S3 and compatible): the target, each object's bytes and headers,
and the plan of an upload (what to put, in which order, what to delete).

Pure: values in, values out. The requests to the bucket live in `bucket`; whether the site may
go and what the public will see change are decided in `deploy`, like for the other targets.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum

from balise.render.headers import HEADERS_FILE, NGINX_FILE, cache_control

SCHEME = "s3://"
# What Balise last deployed under the prefix: {path: digest}. Written last, read first, so
# that an unchanged object costs no request; never served as part of the site.
MANIFEST = ".balise-objects.json"
DIGEST_METADATA = "balise-digest"  # x-amz-meta-balise-digest: the digest of the object
STAMP = ".balise-build.json"  # the build stamp (balise.stamp.STAMP_FILE), uploaded last
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


@dataclass(frozen=True)
class S3Target:
    """A bucket, and the prefix under which the site's files are its objects' keys."""

    bucket: str
    prefix: str = ""  # "" (the whole bucket) or "some/path/"

    def __str__(self) -> str:
        return f"{SCHEME}{self.bucket}/{self.prefix}"

    def key(self, path: str) -> str:
        return self.prefix + path


def parse_s3_target(text: str) -> S3Target | None:
    """`s3://BUCKET/PREFIX` as a target; None when the text is not of that form."""
    if not text.startswith(SCHEME):
        return None
    bucket, _, prefix = text.removeprefix(SCHEME).partition("/")
    prefix = prefix.strip("/")
    parts = prefix.split("/") if prefix else []
    if (
        not _BUCKET_NAME.fullmatch(bucket)
        or ".." in bucket
        or any(part in ("", ".", "..") for part in parts)
        or any(c.isspace() or c == "\\" for c in prefix)
    ):
        return None
    return S3Target(bucket, f"{prefix}/" if prefix else "")


# --- each object ----------------------------------------------------------------------------

_TYPES = {
    "html": "text/html",
    "css": "text/css",
    "js": "text/javascript",
    "json": "application/json",
    "map": "application/json",
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "xml": "application/xml",
    "ics": "text/calendar",
    "svg": "image/svg+xml",
    "txt": "text/plain",
    "conf": "text/plain",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "ico": "image/x-icon",
    "woff": "font/woff",
    "woff2": "font/woff2",
    "webmanifest": "application/manifest+json",
    "gz": "application/gzip",
}
_TEXT = frozenset(
    {"application/json", "application/xml", "application/atom+xml", "application/rss+xml"}
    | {"image/svg+xml", "application/manifest+json"}
)
# Read by programs (aggregators, feed readers, scripts with urllib) that may not decode a
# Content-Encoding: stored as they are. A CDN may still compress them on the way.
_READ_BY_PROGRAMS = ("status.json", "api/", "feeds/", STAMP)


def content_type(path: str) -> str:
    """The Content-Type of a built file, `; charset=utf-8` for text (every text Balise writes)."""
    name = path.rsplit("/", 1)[-1]
    # `_headers`, `CNAME`: plain text; `.balise-build.json`: JSON
    extension = name.rsplit(".", 1)[-1].lower() if "." in name.lstrip(".") else "txt"
    kind = _TYPES.get(extension, "application/octet-stream")
    if kind.startswith("text/") or kind in _TEXT:
        return f"{kind}; charset=utf-8"
    return kind


def is_compressed(path: str) -> bool:
    """Whether the object holds gzip bytes (Content-Encoding: gzip): text read by browsers."""
    kind = content_type(path)
    return "charset=" in kind and not path.startswith(_READ_BY_PROGRAMS)


@dataclass(frozen=True)
class SiteObject:
    """One file of the site as an object: its headers and its digest (its bytes are read
    again, and compressed, only if it is put: a big site never sits whole in memory)."""

    path: str
    content_type: str
    cache_control: str
    content_encoding: str | None
    digest: str  # of the file's bytes and of these headers: a change to either is a change


def site_object(path: str, content: bytes) -> SiteObject:
    """The object of a built file."""
    kind, fresh = content_type(path), cache_control(path)
    encoding = "gzip" if is_compressed(path) else None
    digest = hashlib.sha256(content)
    digest.update(f"\0{kind}\0{fresh}\0{encoding or ''}".encode())
    return SiteObject(path, kind, fresh, encoding, "sha256:" + digest.hexdigest())


def object_body(obj: SiteObject, content: bytes) -> bytes:
    """The bytes stored for a file: compressed the same way every time, when it is."""
    if obj.content_encoding == "gzip":
        return gzip.compress(content, compresslevel=9, mtime=0)
    return content


# --- the order of an upload -----------------------------------------------------------------


class Stage(IntEnum):
    """Objects are put stage by stage, so that no page already published links to an object
    that is not there yet: what the others link to first, the entry points last."""

    LINKED = 1  # assets, badges, statement pages: what the list pages link to
    LISTS = 2  # establishment, incident, history, press pages; the search index, sitemaps
    INDEX = 3  # index.html
    STATUS = 4  # status.json
    FEEDS = 5  # feed archives, then the feeds that link to them
    API = 6  # the Statuspage API
    RECORD = 7  # the build stamp and the headers files: what was deployed, last


def stage(path: str) -> tuple[Stage, int]:
    """The stage of a file, and its rank within it (lower first)."""
    if path == "index.html":
        return Stage.INDEX, 0
    if path == "status.json":
        return Stage.STATUS, 0
    if path.startswith("feeds/"):
        return Stage.FEEDS, 0 if path.startswith("feeds/archives/") else 1
    if path.startswith("api/"):
        return Stage.API, 0
    if path in (STAMP, HEADERS_FILE, NGINX_FILE):
        return Stage.RECORD, 0
    if path.startswith(("assets/", "badges/", "communiques/", "schema/")):
        return Stage.LINKED, 0
    return Stage.LISTS, 0


@dataclass(frozen=True)
class Deployed:
    """What the bucket holds under the prefix, as far as a deploy needs to know it."""

    listed: frozenset[str]  # the path of every object under the prefix
    digests: Mapping[str, str]  # path -> the digest Balise recorded (its metadata)


def to_inspect(
    objects: Iterable[SiteObject], listed: Sequence[str], manifest: Mapping[str, str]
) -> list[str]:
    """The listed paths whose metadata a deploy must read (one HEAD each), because the
    manifest does not settle them: a file of the site whose recorded digest is not the one
    wanted (it may be up to date all the same, put by a deploy that failed half-way), and
    an object not in the site nor in the manifest (deleted only if Balise put it there)."""
    wanted = {o.path: o.digest for o in objects}

    def unsettled(path: str) -> bool:
        if path in wanted:
            return manifest.get(path) != wanted[path]
        return path not in manifest and path != MANIFEST

    return sorted(filter(unsettled, listed))


@dataclass(frozen=True)
class UploadPlan:
    puts: tuple[SiteObject, ...]  # in upload order
    deletes: tuple[str, ...]  # paths, deleted after every put
    unchanged: int
    manifest: bytes  # written last: what the bucket then holds

    @property
    def empty(self) -> bool:
        return not self.puts and not self.deletes


def plan_upload(objects: Sequence[SiteObject], deployed: Deployed) -> UploadPlan:
    """What to put (changed or missing objects, stage by stage), what to delete (objects
    Balise put there that the site no longer has; any other object is left alone)."""
    puts, unchanged = [], 0
    for obj in objects:
        if obj.path in deployed.listed and deployed.digests.get(obj.path) == obj.digest:
            unchanged += 1
        else:
            puts.append(obj)
    puts.sort(key=lambda o: (stage(o.path), o.path))
    paths = {o.path for o in objects}
    deletes = tuple(
        sorted(
            path
            for path in deployed.listed
            if path not in paths and path != MANIFEST and path in deployed.digests
        )
    )
    record = {"objects": {o.path: o.digest for o in sorted(objects, key=lambda o: o.path)}}
    manifest = (json.dumps(record, indent=1, sort_keys=True) + "\n").encode()
    return UploadPlan(tuple(puts), deletes, unchanged, manifest)


def read_manifest(data: bytes | None) -> dict[str, str]:
    """The {path: digest} of a manifest object; {} when missing or unreadable."""
    try:
        objects = json.loads(data or b"").get("objects")
    except (ValueError, AttributeError):
        return {}
    if not isinstance(objects, dict):
        return {}
    return {str(k): str(v) for k, v in objects.items() if isinstance(v, str)}


def summary(plan: UploadPlan) -> str:
    """One line: how many objects a deploy writes, deletes and leaves as they are."""
    return (
        f"{len(plan.puts)} object{'s' if len(plan.puts) != 1 else ''} written, "
        f"{len(plan.deletes)} deleted, {plan.unchanged} unchanged"
    )

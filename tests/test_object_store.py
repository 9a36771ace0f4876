"""The plan of an s3:// deploy, pure: targets, each object's headers, the order of the puts,
what is deleted (only what Balise put there)."""

from __future__ import annotations

import gzip

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balise.object_store import (
    MANIFEST,
    Deployed,
    S3Target,
    object_body,
    parse_s3_target,
    plan_upload,
    read_manifest,
    site_object,
    stage,
    to_inspect,
)
from balise.stamp import STAMP_FILE


def test_s3_targets_name_a_bucket_and_a_prefix() -> None:
    assert parse_s3_target("s3://statut/public") == S3Target("statut", "public/")
    assert parse_s3_target("s3://statut/a/b/") == S3Target("statut", "a/b/")
    assert parse_s3_target("s3://statut") == S3Target("statut", "")
    assert str(S3Target("statut", "public/")) == "s3://statut/public/"


@pytest.mark.parametrize(
    "text", ["s3://", "s3://UPPER/x", "s3://a/x", "s3://statut/../x", "s3://statut/a b", "s3:/x"]
)
def test_a_malformed_s3_target_is_not_one(text: str) -> None:
    assert parse_s3_target(text) is None


def test_browser_text_is_compressed_data_for_programs_is_not() -> None:
    page = site_object("index.html", b"<p>x</p>")
    assert (page.content_type, page.content_encoding) == ("text/html; charset=utf-8", "gzip")
    assert gzip.decompress(object_body(page, b"<p>x</p>")) == b"<p>x</p>"
    assert object_body(page, b"<p>x</p>") == object_body(page, b"<p>x</p>")  # no timestamp
    for path in ("status.json", "api/v2/summary.json", "feeds/all.atom"):
        assert site_object(path, b"{}").content_encoding is None, path
    assert site_object("assets/images/favicon.png", b"").content_type == "image/png"


def test_the_digest_changes_with_the_bytes_and_with_the_headers() -> None:
    a = site_object("index.html", b"a")
    assert site_object("index.html", b"a").digest == a.digest
    assert site_object("index.html", b"b").digest != a.digest
    assert site_object("communiques/x.html", b"a").digest == a.digest  # same headers
    assert site_object("assets/x.html", b"a").digest != a.digest  # another Cache-Control


def test_only_missing_or_changed_objects_are_put_and_only_balise_s_are_deleted() -> None:
    objects = [site_object(p, p.encode()) for p in ("index.html", "a.html", "status.json")]
    digests = {o.path: o.digest for o in objects}
    digests["a.html"] = "sha256:old"
    digests["gone.html"] = "sha256:x"
    listed = frozenset({"index.html", "a.html", "gone.html", "foreign.txt", MANIFEST})
    plan = plan_upload(objects, Deployed(listed, digests))
    assert [o.path for o in plan.puts] == ["a.html", "status.json"]
    assert plan.deletes == ("gone.html",)
    assert plan.unchanged == 1
    assert read_manifest(plan.manifest) == {o.path: o.digest for o in objects}


def test_the_manifest_settles_objects_and_the_rest_is_inspected() -> None:
    objects = [site_object(p, b"x") for p in ("index.html", "a.html")]
    manifest = {"index.html": objects[0].digest, "a.html": "sha256:old", "gone.html": "d"}
    listed = ["index.html", "a.html", "gone.html", "foreign.txt", MANIFEST]
    assert to_inspect(objects, listed, manifest) == ["a.html", "foreign.txt"]


PATHS = st.sampled_from(
    [
        "index.html", "status.json", "feeds/all.atom", "feeds/archives/all-1.atom",
        "api/v2/summary.json", "communiques/a.html", "etablissements/b.html",
        "assets/balise.css", "badges/b.svg", "historique.html", ".balise-build.json",
    ]
)  # fmt: skip


@given(st.sets(PATHS))
def test_puts_go_from_what_is_linked_to_the_entry_points(paths: set[str]) -> None:
    plan = plan_upload([site_object(p, b"x") for p in paths], Deployed(frozenset(), {}))
    order = [o.path for o in plan.puts]
    assert sorted(order) == sorted(paths)
    ranks = [stage(p) for p in order]
    assert ranks == sorted(ranks)
    if {"communiques/a.html", "etablissements/b.html", "index.html"} <= paths:
        assert order.index("communiques/a.html") < order.index("etablissements/b.html")
        assert order.index("etablissements/b.html") < order.index("index.html")
    if {"feeds/archives/all-1.atom", "feeds/all.atom"} <= paths:
        assert order.index("feeds/archives/all-1.atom") < order.index("feeds/all.atom")


_PATHS = st.sampled_from(
    [
        "index.html",
        "status.json",
        "feeds/all.atom",
        "feeds/archives/2024.atom",
        "api/v2/summary.json",
        "communiques/a.html",
        "etablissements/alpha.html",
        "assets/javascripts/bundle.0123abcd.min.js",
        "badges/alpha.svg",
        STAMP_FILE,
        "_headers",
        "search/search_index.json",
    ]
)


@given(
    site=st.dictionaries(_PATHS, st.binary(max_size=4), max_size=12),
    before=st.dictionaries(_PATHS, st.binary(max_size=4), max_size=12),
    foreign=st.sets(st.sampled_from(["robots.txt", "old/page.html"])),
)
def test_a_plan_puts_what_changed_stage_by_stage_and_deletes_only_balise_s_objects(
    site: dict[str, bytes], before: dict[str, bytes], foreign: set[str]
) -> None:
    objects = [site_object(p, c) for p, c in sorted(site.items())]
    previous = {p: site_object(p, c).digest for p, c in before.items()}
    deployed = Deployed(frozenset(previous) | frozenset(foreign), previous)
    plan = plan_upload(objects, deployed)
    put = {o.path for o in plan.puts}
    assert put == {p for p in site if previous.get(p) != site_object(p, site[p]).digest}
    assert plan.unchanged == len(site) - len(put)
    assert set(plan.deletes) == set(before) - set(site)  # never a foreign object
    order = [stage(o.path) for o in plan.puts]
    assert order == sorted(order)
    if "index.html" in put:  # the entry point comes after every page it may link to
        assert all(stage(p) < stage("index.html") for p in put if p.startswith("communiques/"))
    assert read_manifest(plan.manifest) == {o.path: o.digest for o in objects}

"""sitemap.xml and sitemap.xml.gz, the bytes MkDocs' own sitemap template writes.

Pure: page URLs + NOW -> {path: bytes}. The build writes it when MkDocs did not see every page
(pages carried from the cache are not in its files); MkDocs dates every page with its build
date (SOURCE_DATE_EPOCH, pinned to NOW: the day of NOW in UTC).
"""

from __future__ import annotations

import gzip
import html
import io
from collections.abc import Iterable
from datetime import UTC, datetime


def render_sitemap(urls: Iterable[str], now: datetime) -> dict[str, bytes]:
    """`{"sitemap.xml", "sitemap.xml.gz"}` listing `urls` (canonical, in MkDocs' order)."""
    day = datetime.fromtimestamp(int(now.timestamp()), UTC).strftime("%Y-%m-%d")
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    for url in urls:
        lines += [
            "    <url>",
            f"         <loc>{html.escape(url)}</loc>",
            f"         <lastmod>{day}</lastmod>",
            "    </url>",
        ]
    text = "\n".join(lines) + "\n</urlset>"
    data = text.encode("utf-8")
    packed = io.BytesIO()
    # As MkDocs: the header names sitemap.xml and is dated at the pages' (UTC) day.
    mtime = int(datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp())
    with gzip.GzipFile(fileobj=packed, filename="sitemap.xml.gz", mode="wb", mtime=mtime) as gz:
        gz.write(data)
    return {"sitemap.xml": data, "sitemap.xml.gz": packed.getvalue()}

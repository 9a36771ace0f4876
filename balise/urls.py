"""URLs as a browser reads them, and whether one reaches another host.

Pure text work shared by validation (mkdocs.yml settings) and the built-site check.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote, urlsplit

_C0_AND_SPACE = "".join(chr(code) for code in range(0x21))
_WITH_HOST = re.compile(r"(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)


def browser_url(text: str) -> str:
    """The URL as a browser reads it: tabs and newlines dropped, `\\` as `/`, no leading or
    trailing control or space, the host percent-decoded and folded (NFKC, case) as IDNA does."""
    url = re.sub(r"[\t\n\r]", "", text).strip(_C0_AND_SPACE).replace("\\", "/")
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.netloc:
        return url
    host = unicodedata.normalize("NFKC", unquote(parts.netloc)).casefold()
    return parts._replace(netloc=host).geturl()


def foreign_host(url: str, own_host: str) -> str | None:
    """The other host a URL reaches, or None for a URL of this site (relative, same host,
    or without a host, such as `data:`)."""
    read = browser_url(url)
    if not _WITH_HOST.match(read):
        return None
    try:
        host = (urlsplit(read).hostname or "").rstrip(".")
    except ValueError:
        return "?"
    return host if host and host != own_host.casefold() else None

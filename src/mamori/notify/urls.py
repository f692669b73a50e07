"""Outgoing URLs of notifications: http(s) only, no user information, a host, a bounded length."""

from __future__ import annotations

from urllib.parse import urlsplit

from mamori.errors import InputError
from mamori.i18n import _

MAX_URL = 2048


def check_url(url: str, https_only: bool = False) -> str:
    """``url`` when it is an absolute http(s) URL with a host (https when ``https_only``), else an
    InputError that does not repeat the URL (its path or query may hold a secret)."""
    url = url.strip()
    if len(url) > MAX_URL or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in url):
        raise InputError(None, _("not a usable URL (too long or with spaces or control characters)"))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InputError(None, _("not a usable URL")) from None
    allowed = ("https",) if https_only else ("http", "https")
    if parts.scheme.lower() not in allowed:
        raise InputError(
            None,
            _("the URL must start with {schemes}").format(schemes=" or ".join(f"{s}://" for s in allowed)),
        )
    if not parts.hostname or "@" in parts.netloc:
        raise InputError(None, _("the URL must name a host and no user or password"))
    del port
    return url

"""Typed references: NVD and CVE 5 tags mapped onto the OSV reference types."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from mamori.display import visible
from mamori.model.vulnerability import REFERENCE_TYPES, Reference

WEB_SCHEMES = ("http", "https")
_SPACE = re.compile(r"\s")
# the usual reference: http(s), a host of letters, digits, dots and hyphens (no user, port or brackets),
# then printable ASCII (no space): what the checks below accept, decided without splitting it
_PLAIN_WEB_URL = re.compile(r"https?://[A-Za-z0-9.\-]+(?:[/?#][!-~]*)?")

_TAG_TYPES = {
    "patch": "FIX",
    "vendor-advisory": "ADVISORY",
    "third-party-advisory": "ADVISORY",
    "us-government-resource": "ADVISORY",
    "government-resource": "ADVISORY",
    "exploit": "EVIDENCE",
    "issue-tracking": "REPORT",
    "mailing-list": "DISCUSSION",
    "technical-description": "ARTICLE",
    "release-notes": "PACKAGE",
    "product": "PACKAGE",
    "broken-link": "WEB",
    "permissions-required": "WEB",
    "mitigation": "ADVISORY",
    "signature": "DETECTION",
    "confirm": "ADVISORY",
    "bid": "ADVISORY",
    "cert-vn": "ADVISORY",
    "misc": "WEB",
}

# The first tag that maps decides; advisory and fix outrank the rest.
_RANK = {"FIX": 0, "ADVISORY": 1, "EVIDENCE": 2, "REPORT": 3, "ARTICLE": 4, "DISCUSSION": 5, "PACKAGE": 6}


def normalise_tag(tag: str) -> str:
    t = tag.strip().lower().replace(" ", "-").replace("_", "-")
    return t.removeprefix("x-refsource-")


@lru_cache(maxsize=4096)
def _type_of(tags: tuple[str, ...]) -> str:
    kinds = []
    for tag in tags:
        if tag in REFERENCE_TYPES:
            kinds.append(tag)
            continue
        mapped = _TAG_TYPES.get(normalise_tag(tag))
        if mapped:
            kinds.append(mapped)
    return min(kinds, key=lambda k: _RANK.get(k, 9)) if kinds else "WEB"


def typed_reference(url: str, tags: list[str] | None, source: str) -> Reference:
    """A reference whose type comes from its tags (OSV types pass through unchanged)."""
    tags = [t for t in (tags or []) if isinstance(t, str)]
    return Reference(url=url, type=_type_of(tuple(tags)), tags=tags, source=source)


def better_type(old: str, new: str) -> str:
    return new if _RANK.get(new, 9) < _RANK.get(old, 9) else old


def joined_source(old: str, new: str) -> str:
    if not new or new in old.split(","):
        return old
    return f"{old},{new}" if old else new


def dedupe(references: list[Reference]) -> list[Reference]:
    """One reference per URL; tags are united, the more specific type wins."""
    seen: dict[str, Reference] = {}
    for ref in references:
        old = seen.get(ref.url)
        if old is None:
            seen[ref.url] = Reference(ref.url, ref.type, list(ref.tags), ref.source)
            continue
        old.tags.extend(t for t in ref.tags if t not in old.tags)
        old.type = better_type(old.type, ref.type)
        old.source = joined_source(old.source, ref.source)
    return list(seen.values())


def dedupe_data(references: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """:func:`dedupe` on references as stored (JSON data), for merging stored records."""
    seen: dict[str, dict[str, Any]] = {}
    for ref in references:
        old = seen.get(ref["url"])
        if old is None:
            seen[ref["url"]] = {**ref, "tags": list(ref["tags"])}
            continue
        old["tags"].extend(t for t in ref["tags"] if t not in old["tags"])
        old["type"] = better_type(old["type"], ref["type"])
        old["source"] = joined_source(old["source"], ref["source"])
    return list(seen.values())


def web_url(value: object) -> str | None:
    """``value`` when it is an absolute http(s) URL with a host and nothing a browser or terminal would
    read otherwise (no whitespace, control or bidi characters); else None.

    Every URL mamori writes into a report or a VEX document goes through this: a ``javascript:``,
    ``data:`` or ``file:`` reference, or a malformed one, from an advisory or a VEX file is never a link.
    """
    if not isinstance(value, str):
        return None
    return _remembered_web_url(value) if len(value) <= _REMEMBERED else _web_url(value)


_REMEMBERED = 2048  # longer strings are checked each time, never kept


@lru_cache(maxsize=1 << 16)
def _remembered_web_url(value: str) -> str | None:
    """:func:`web_url` memoised: a scan's findings repeat their advisories' references."""
    return _web_url(value)


def _web_url(value: str) -> str | None:
    if _PLAIN_WEB_URL.fullmatch(value):
        return value
    return _checked_web_url(value)


def _checked_web_url(value: str) -> str | None:
    """:func:`web_url` by its full checks."""
    if not value or visible(value) != value or _SPACE.search(value):
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (a port that is not a number raises)
    except ValueError:
        return None
    if parts.scheme.lower() not in WEB_SCHEMES or not parts.hostname:
        return None
    return value


def web_urls(values: list[str]) -> list[str]:
    """The :func:`web_url` ones of ``values``, in order."""
    return [v for v in values if web_url(v) is not None]

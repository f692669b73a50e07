"""Version strings → univers version objects, memoised (advisories repeat the same bounds a lot)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from packaging import version as packaging_version
from univers.utils import remove_spaces
from univers.versions import PypiVersion, Version

from mamori.match.ecosystems import VersionClass

# OSV's "introduced: 0" and CVE 5's "version: 0" (or unspecified …) mean "from the first version on".
OPEN_START = frozenset({"0", "", "*", "-", "unspecified", "n/a", "all"})


@lru_cache(maxsize=1 << 18)
def parse(cls: VersionClass, text: str) -> Version | None:
    """``text`` under the rules of ``cls``; None when those rules refuse it."""
    try:
        return _pypi(text.strip()) if cls is PypiVersion else cls(text.strip())
    except Exception:  # univers raises InvalidVersion, ValueError, TypeError … depending on the class
        return None


def _pypi(text: str) -> PypiVersion:
    """``PypiVersion(text)`` with its version parsed once: univers parses it twice (to check it, then to
    keep it). The same object: the attributes univers sets, in its order, from the same functions."""
    normalized = remove_spaces(text).lstrip("vV")  # Version.normalize
    value = packaging_version.Version(normalized)  # PypiVersion.build_value; refuses what is_valid refuses
    found = object.__new__(PypiVersion)
    fields = found.__dict__  # a frozen attrs class: set as its __init__ sets them
    fields["string"] = text
    fields["normalized_string"] = normalized
    fields["value"] = value
    return found


def parse_installed(cls: VersionClass, text: str) -> Version | None:
    """An installed version; a leading ``v`` (Go, git tags) is accepted where the rules refuse it.

    A string without a single digit is no version whatever the rules accept (the generic rules
    accept anything), so it is refused.
    """
    if not any(ch.isdigit() for ch in text):
        return None
    found = parse(cls, text)
    if found is None and text[:1] in ("v", "V") and text[1:2].isdigit():
        found = parse(cls, text[1:])
    return found


def order_key(version: Version) -> Any:
    """What ``version`` is compared by, for comparing versions of one scheme faster than univers does.

    univers compares two versions of one class by their ``value`` alone (attrs-generated methods
    on ``(value,)``). A PyPI ``value`` is a ``packaging`` Version, which compares by its ``_key``
    tuple: that tuple is the key, so comparing keys gives what comparing the versions gives,
    without two Python calls per comparison. Other schemes keep the univers object as their key.
    Keys of different schemes must not be compared (univers refuses; the keys may not).
    """
    if type(version) is PypiVersion:
        key = getattr(version.value, "_key", None)
        if key is not None:
            return key
    return version


@lru_cache(maxsize=1 << 18)
def installed_key(cls: VersionClass, text: str) -> Any:
    """:func:`order_key` of :func:`parse_installed`; None when the version is refused."""
    found = parse_installed(cls, text)
    return None if found is None else order_key(found)


def scheme_name(cls: VersionClass) -> str:
    """``PypiVersion`` → ``pypi`` (for messages)."""
    name = cls.__name__.removesuffix("Version")
    return name.lower() or "generic"


def nearest(fixes: list[tuple[Version, str]]) -> str | None:
    """The lowest of the candidate fixes (their first when schemes differ and cannot be ordered)."""
    if not fixes:
        return None
    try:
        return min(fixes, key=lambda f: f[0])[1]
    except TypeError:
        return fixes[0][1]

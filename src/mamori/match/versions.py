"""Version strings → univers version objects, memoised (advisories repeat the same bounds a lot)."""

from __future__ import annotations

from functools import lru_cache

from univers.versions import Version

from mamori.match.ecosystems import VersionClass

# OSV's "introduced: 0" and CVE 5's "version: 0" (or unspecified …) mean "from the first version on".
OPEN_START = frozenset({"0", "", "*", "-", "unspecified", "n/a", "all"})


@lru_cache(maxsize=1 << 18)
def parse(cls: VersionClass, text: str) -> Version | None:
    """``text`` under the rules of ``cls``; None when those rules refuse it."""
    try:
        return cls(text.strip())
    except Exception:  # univers raises InvalidVersion, ValueError, TypeError … depending on the class
        return None


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

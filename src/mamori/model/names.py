"""How package names and ecosystems are compared in the knowledge base (shared with the matcher)."""

from __future__ import annotations

import re

_PEP503 = re.compile(r"[-_.]+")
# Registries whose names compare case-insensitively.
_CASE_INSENSITIVE = {"npm", "nuget", "packagist", "hex", "pub", "hackage", "cran", "swifturl"}
# CVE 5 ``collectionURL`` → OSV ecosystem name.
_COLLECTIONS = {
    "pypi.org": "PyPI",
    "pypi.python.org": "PyPI",
    "registry.npmjs.org": "npm",
    "www.npmjs.com": "npm",
    "npmjs.com": "npm",
    "repo.maven.apache.org": "Maven",
    "repo1.maven.org": "Maven",
    "search.maven.org": "Maven",
    "crates.io": "crates.io",
    "rubygems.org": "RubyGems",
    "pkg.go.dev": "Go",
    "proxy.golang.org": "Go",
    "www.nuget.org": "NuGet",
    "nuget.org": "NuGet",
    "packagist.org": "Packagist",
    "hex.pm": "Hex",
    "pub.dev": "Pub",
}


def split_ecosystem(ecosystem: str) -> tuple[str, str]:
    """``Debian:11`` → (Debian, 11); ``PyPI`` → (PyPI, "")."""
    base, _, variant = ecosystem.partition(":")
    return base.strip(), variant.strip()


def normalise_name(ecosystem: str, name: str) -> str:
    """PEP 503 for PyPI, ``-``/``_`` folded for crates.io, lower case where the registry ignores case."""
    base = split_ecosystem(ecosystem)[0].lower()
    if base == "pypi":
        return _PEP503.sub("-", name).lower()
    if base == "crates.io":
        return name.replace("_", "-").lower()
    if base in _CASE_INSENSITIVE:
        return name.lower()
    return name


def ecosystem_for_collection(url: str | None) -> str | None:
    """The OSV ecosystem of a CVE 5 ``collectionURL`` (None when unknown)."""
    if not url:
        return None
    host = re.sub(r"^[a-z]+://", "", url.strip().lower()).split("/", 1)[0]
    return _COLLECTIONS.get(host)

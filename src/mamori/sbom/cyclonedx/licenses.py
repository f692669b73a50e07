"""CycloneDX licence entries ↔ one SPDX licence expression, normalised with license-expression.

Reading: a CycloneDX ``licenses`` array holds ``{license: {id | name}}`` entries or one
``{expression}``. Each entry becomes an SPDX expression:

- ``id`` → the SPDX id as license-expression spells it (``mit`` → ``MIT``, deprecated ``GPL-2.0`` →
  ``GPL-2.0-only``, ``LGPL-2.1+`` → ``LGPL-2.1-or-later``);
- ``name`` → the SPDX expression it already is when every part is a known SPDX id
  (``"(MIT OR Apache-2.0)"``, ``"Apache-2.0"``), otherwise ``LicenseRef-<name>`` with every character
  an SPDX idstring cannot hold replaced by ``-`` (``"Public Domain"`` → ``LicenseRef-Public-Domain``);
- ``expression`` → parsed and re-rendered; a syntax error is refused, unknown licence keys become
  ``LicenseRef-<key>``.

Several entries are joined with AND. CycloneDX does not say how several entries relate (the schema
only calls them "a list of SPDX licenses and/or named licenses"); producers such as the Maven plugin
list every licence a POM names, which is sometimes a choice and sometimes cumulative. AND is the
reading that never understates the obligations, and it is also what SPDX converters do; a producer
that means a choice can say so with an ``expression``. Identical entries are listed once.

Everything is cached (``lru_cache``): an SBOM of 50,000 components has a few hundred distinct
licence entries at most.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

_IDSTRING = re.compile(r"(?:DocumentRef-[A-Za-z0-9.\-]+:)?[A-Za-z0-9.\-]+\+?")
_NOT_IDCHAR = re.compile(r"[^A-Za-z0-9.\-]+")
_REF_PREFIXES = ("LicenseRef-", "DocumentRef-")


class LicenceError(ValueError):
    """A licence entry that cannot be turned into an SPDX expression."""


@lru_cache(maxsize=1)
def _licensing():  # -> license_expression.Licensing
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


def licence_ref(name: str) -> str:
    """``LicenseRef-<name>`` with the name reduced to SPDX idstring characters."""
    if name.startswith(_REF_PREFIXES) and _IDSTRING.fullmatch(name):
        return name
    cleaned = _NOT_IDCHAR.sub("-", name).strip("-")
    if not cleaned:  # e.g. a name written only in Japanese: keep it distinct and stable
        cleaned = "unnamed-" + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return "LicenseRef-" + cleaned


def _parse(text: str):  # -> license_expression.LicenseExpression | None
    try:
        return _licensing().parse(text, validate=False, strict=False)
    except Exception as exc:  # license-expression raises several types on odd input
        raise LicenceError(
            f"invalid SPDX licence expression {text!r}: {' '.join(str(exc).split())}"
        ) from None


@lru_cache(maxsize=8192)
def normalise_expression(text: str) -> str:
    """An SPDX expression re-rendered canonically; unknown keys become LicenseRef-…"""
    stripped = text.strip()
    if not stripped:
        raise LicenceError("empty SPDX licence expression")
    parsed = _parse(stripped)
    if parsed is None:
        raise LicenceError(f"invalid SPDX licence expression {text!r}")
    licensing = _licensing()
    unknown = set(licensing.unknown_license_keys(parsed))
    if unknown:
        # the parser made fresh symbol objects for unknown keys: renaming them changes only this tree
        for symbol in licensing.license_symbols(parsed, unique=False, decompose=True):
            if symbol.key in unknown:
                symbol.key = licence_ref(symbol.key)
    return str(parsed)


@lru_cache(maxsize=8192)
def from_id(value: str) -> str:
    """A CycloneDX ``license.id``."""
    stripped = value.strip()
    if not _IDSTRING.fullmatch(stripped):
        return from_name(stripped)
    return normalise_expression(stripped)


@lru_cache(maxsize=8192)
def from_name(value: str) -> str | None:
    """A CycloneDX ``license.name``: an SPDX expression when it is one made of known ids, else a LicenseRef."""
    name = value.strip()
    if not name:
        return None
    if name.startswith(_REF_PREFIXES) and _IDSTRING.fullmatch(name):
        return name
    try:
        parsed = _parse(name)
    except LicenceError:
        parsed = None
    if parsed is not None:
        licensing = _licensing()
        keys = [s.key for s in licensing.license_symbols(parsed, unique=False, decompose=True)]
        if keys and not licensing.unknown_license_keys(parsed) and all(_IDSTRING.fullmatch(k) for k in keys):
            return str(parsed)
    return licence_ref(name)


@lru_cache(maxsize=8192)
def combine(entries: tuple[tuple[str, str], ...]) -> str | None:
    """One expression for a list of ``(kind, value)`` entries, kind being id, name or expression.

    Raises LicenceError for an expression that does not parse.
    """
    parts: list[str] = []
    for kind, value in entries:
        if kind == "expression":
            expr: str | None = normalise_expression(value)
        elif kind == "id":
            expr = from_id(value)
        else:
            expr = from_name(value)
        if expr and expr not in parts:
            parts.append(expr)
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return normalise_expression(" AND ".join(f"({p})" if " " in p else p for p in parts))


def is_cyclonedx_id(value: str) -> bool:
    """Whether the CycloneDX schemas enumerate ``value`` as an SPDX id for ``license.id``."""
    from cyclonedx.spdx import is_supported_id

    return is_supported_id(value)


@lru_cache(maxsize=8192)
def to_entry(expression: str) -> tuple[str, str]:
    """How to write one expression: ("id", X) for an SPDX id the schema knows, ("name", X) for a
    single LicenseRef, ("expression", X) for anything compound (or an id newer than the schema)."""
    expr = expression.strip()
    if _IDSTRING.fullmatch(expr):
        if expr.startswith(_REF_PREFIXES):
            return ("name", expr)
        if is_cyclonedx_id(expr):
            return ("id", expr)
    return ("expression", expr)

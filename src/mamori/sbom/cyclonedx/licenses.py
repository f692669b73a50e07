"""CycloneDX licence entries ↔ one SPDX licence expression (the normalising is mamori.sbom.licenses).

Reading: a CycloneDX ``licenses`` array holds ``{license: {id | name}}`` entries or one
``{expression}``. Each entry becomes an SPDX expression:

- ``id`` → the SPDX id as license-expression spells it (``mit`` → ``MIT``, deprecated ``GPL-2.0`` →
  ``GPL-2.0-only``, ``LGPL-2.1+`` → ``LGPL-2.1-or-later``); an id that is no idstring is read as a name;
- ``name`` → the SPDX expression it already is when every part is a listed SPDX id
  (``"(MIT OR Apache-2.0)"``, ``"Apache-2.0"``), otherwise one LicenseRef for the whole name
  (``"Public Domain"`` → ``LicenseRef-Public-Domain``);
- ``expression`` → parsed and re-rendered; a syntax error is refused, unknown licence keys become
  LicenseRefs.

Several entries are joined with AND. CycloneDX does not say how several entries relate (the schema
only calls them "a list of SPDX licenses and/or named licenses"); producers such as the Maven plugin
list every licence a POM names, which is sometimes a choice and sometimes cumulative. AND is the
reading that never understates the obligations, and it is also what SPDX converters do; a producer
that means a choice can say so with an ``expression``. Identical entries are listed once.

Writing (:func:`to_entry`): one SPDX id the schema enumerates → ``id``, one LicenseRef → ``name``,
anything else → ``expression``.
"""

from __future__ import annotations

from functools import lru_cache

from mamori.sbom.licenses import (
    IDSTRING,
    LicenceError,
    expression_for_name,
    is_licence_ref,
    licence_ref,
    normalise_expression,
)

__all__ = [
    "LicenceError",
    "combine",
    "from_id",
    "from_name",
    "is_cyclonedx_id",
    "licence_ref",
    "normalise_expression",
    "to_entry",
]


@lru_cache(maxsize=8192)
def from_id(value: str) -> str | None:
    """A CycloneDX ``license.id``."""
    stripped = value.strip()
    if not IDSTRING.fullmatch(stripped):
        return from_name(stripped)
    return normalise_expression(stripped)


def from_name(value: str) -> str | None:
    """A CycloneDX ``license.name``: an SPDX expression when it is one made of listed ids, else a LicenseRef."""
    return expression_for_name(value)


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
    if IDSTRING.fullmatch(expr):
        if is_licence_ref(expr):
            return ("name", expr)
        if is_cyclonedx_id(expr):
            return ("id", expr)
    return ("expression", expr)

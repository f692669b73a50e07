"""One licence normaliser for every SBOM format: text → SPDX licence expression, with license-expression.

Every reader turns licence text into an SPDX expression here and every writer that needs a
``LicenseRef-`` gets it here, so the same licence reads the same from CycloneDX, SPDX and spreadsheets.
What only one format has lives in a thin layer over this module: ``cyclonedx/licenses.py`` (id, name
and expression entries), ``spdx/licenses.py`` (extracted licensing info declarations) and
``spreadsheet/licenses.py`` (free-text cells and the alias list).

Rules:

- **Licence list.** license-expression's SPDX licensing *without* its ``LicenseRef-…`` aliases: that
  licensing maps ``LicenseRef-Apache`` to ``Apache-2.0``, but a document may define its own
  ``LicenseRef-Apache`` with another text. Ids get their canonical case and deprecated spellings their
  current id (``gpl-2.0+`` → ``GPL-2.0-or-later``); LicenseRefs stay what the document says.
- **Unknown keys.** A licence key not on the list becomes a LicenseRef; a ``WITH`` clause whose
  exception is not on the list, or whose licence is not, becomes one LicenseRef for the whole clause
  (SPDX allows only listed exceptions after WITH).
- **LicenseRef spelling** (:func:`licence_ref`, the one rule of the project): a valid ``LicenseRef-x``
  (or ``DocumentRef-d:LicenseRef-x``) is kept; otherwise every run of characters other than ASCII
  letters, digits and ``.`` becomes one ``-`` (``"Public Domain"`` → ``LicenseRef-Public-Domain``).
  A name that is not all ASCII (``独自ライセンス``, ``GPL互換``) loses characters that way, so it gets the
  first 12 hex digits of the SHA-256 of its text appended (``LicenseRef-GPL-3f2a…``), or
  ``LicenseRef-unnamed-<digits>`` when no ASCII letter or digit remains: distinct names stay distinct
  and the same name always gives the same ref.

Results are cached (``lru_cache``): an SBOM of 50,000 components has a few hundred distinct licences.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache, lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # license-expression is imported on use: an SBOM without licences never loads it
    from license_expression import LicenseExpression, Licensing

NOASSERTION = "NOASSERTION"
NONE = "NONE"
# an SPDX idstring, optionally with a DocumentRef prefix and an "or later" plus
IDSTRING = re.compile(r"(?:DocumentRef-[A-Za-z0-9.\-]+:)?[A-Za-z0-9.\-]+\+?")
LICENSE_REF = re.compile(r"(?:DocumentRef-[A-Za-z0-9.\-]+:)?LicenseRef-[A-Za-z0-9.\-]+")
# LicenseRefs inside an expression (not the tail of a DocumentRef-…:LicenseRef-…)
REFS_IN_EXPRESSION = re.compile(r"(?<![\w:.-])LicenseRef-[A-Za-z0-9.\-]+")
_NOT_REF_CHARS = re.compile(r"[^A-Za-z0-9.]+")
_DIGEST_DIGITS = 12


class LicenceError(ValueError):
    """Licence text that is not an SPDX expression (raised by the strict functions only).

    ``text`` is the offending licence text and ``detail`` the parser's own words, when known.
    """

    def __init__(self, message: str, text: str | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        self.text = text
        self.detail = detail


@cache
def spdx_licensing() -> Licensing:
    """license-expression's SPDX licensing as it comes (spdx-tools validates with it); built once, it is slow."""
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


@cache
def licensing() -> Licensing:
    """The SPDX licence list with canonical ids and their plain aliases, but no LicenseRef aliases."""
    from license_expression import LicenseSymbol, Licensing

    symbols = [
        LicenseSymbol(
            key,
            aliases=tuple(a for a in sym.aliases if not a.lower().startswith("licenseref-")),
            is_exception=sym.is_exception,
        )
        for key, sym in spdx_licensing().known_symbols.items()
    ]
    return Licensing(symbols)


def is_listed(key: str) -> bool:
    """Whether ``key`` is an id (or exception) of the SPDX licence list, in its canonical spelling."""
    return key in licensing().known_symbols and not key.startswith("LicenseRef-")


def is_licence_ref(text: str) -> bool:
    """``LicenseRef-x`` or ``DocumentRef-d:LicenseRef-x`` with only idstring characters."""
    return LICENSE_REF.fullmatch(text) is not None


@lru_cache(maxsize=8192)
def licence_ref(name: str) -> str:
    """The LicenseRef for a licence name (see the module docstring for the rule)."""
    text = " ".join(name.split())
    if is_licence_ref(text):
        return text
    cleaned = _NOT_REF_CHARS.sub("-", text.removeprefix("LicenseRef-")).strip("-.")
    if cleaned and text.isascii():
        return f"LicenseRef-{cleaned}"
    import hashlib  # on use (a licence name that is not ASCII): loading OpenSSL's hashes costs a few ms

    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:_DIGEST_DIGITS]
    return f"LicenseRef-{cleaned or 'unnamed'}-{digest}"


def parse(text: str) -> LicenseExpression:
    """Parse an expression without judging its keys; LicenceError when it is not one."""
    stripped = " ".join(text.split())
    if not stripped:
        raise LicenceError("empty SPDX licence expression", text, "empty")
    try:
        parsed = licensing().parse(stripped, validate=False, strict=False)
    except Exception as exc:  # license-expression raises several types on odd input
        detail = " ".join(str(exc).split())
        raise LicenceError(f"invalid SPDX licence expression {text!r}: {detail}", text, detail) from None
    if parsed is None:
        raise LicenceError(f"invalid SPDX licence expression {text!r}", text, "no expression")
    return parsed


def render(
    node: object,
    unknown: Callable[[str], str] = licence_ref,
    *,
    alias: Callable[[str], str | None] | None = None,
    top: bool = True,
) -> str:
    """Canonical text of a parsed expression; ``unknown`` names every key (or WITH clause) not on the list.

    ``alias`` may first map a key that is not on the list to a listed id (a spreadsheet's ``GPLv2``).
    ``unknown`` receives what is left as written (``Foo-1.0``, ``LicenseRef-x``, or ``GPL-2.0-only WITH
    Foo-exception`` for a clause) and returns what to write instead.
    """
    from license_expression import AND, OR, LicenseSymbol, LicenseWithExceptionSymbol

    if isinstance(node, LicenseWithExceptionSymbol):
        lic, exc = str(node.license_symbol.key), str(node.exception_symbol.key)
        known = lic if is_listed(lic) else (alias(lic) if alias else None)
        if known and is_listed(known) and is_listed(exc):
            return f"{known} WITH {exc}"
        return unknown(f"{lic} WITH {exc}")
    if isinstance(node, LicenseSymbol):
        key = str(node.key)
        if is_listed(key):
            return key
        return (alias(key) if alias else None) or unknown(key)
    if isinstance(node, AND | OR):
        joiner = " AND " if isinstance(node, AND) else " OR "
        body = joiner.join(render(arg, unknown, alias=alias, top=False) for arg in node.args)
        return body if top else f"({body})"
    return unknown(str(node))


@lru_cache(maxsize=8192)
def normalise_expression(text: str) -> str:
    """An SPDX expression re-rendered canonically, unknown keys as LicenseRefs; LicenceError when not one."""
    return render(parse(text))


@lru_cache(maxsize=8192)
def normalise(text: str) -> str:
    """Like :func:`normalise_expression`, but text that is no expression is returned as it is (whitespace folded).

    For readers of formats whose licence fields are meant to be SPDX expressions but may not be, so that
    a writer can still name the original text.
    """
    try:
        return normalise_expression(text)
    except LicenceError:
        return " ".join(text.split())


@lru_cache(maxsize=8192)
def expression_for_name(name: str) -> str | None:
    """A licence *name*: the SPDX expression it is when made only of listed ids, else one LicenseRef for it all.

    ``"(MIT OR Apache-2.0)"`` → ``MIT OR Apache-2.0``; ``"Apache License, Version 2.0"`` →
    ``LicenseRef-Apache-License-Version-2.0``; blank → None.
    """
    text = " ".join(name.split())
    if not text:
        return None
    if is_licence_ref(text):
        return text
    try:
        parsed = parse(text)
    except LicenceError:
        return licence_ref(text)
    listed = True

    def mark(key: str) -> str:
        nonlocal listed
        listed = False
        return key

    rendered = render(parsed, mark)
    return rendered if listed else licence_ref(text)


def equivalent(a: str, b: str) -> bool:
    """Whether two expressions mean the same licences (order and case aside); LicenceError when one is not one."""
    try:
        return bool(licensing().is_equivalent(a, b))
    except Exception as exc:  # license-expression raises several types on odd input
        raise LicenceError(f"cannot compare {a!r} and {b!r}: {' '.join(str(exc).split())}") from None


def conjoin(expressions: list[str]) -> str:
    """Several expressions that all apply, as one (``A AND B``, duplicates once); LicenceError when one is not one."""
    from license_expression import combine_expressions

    try:
        return str(combine_expressions(expressions, licensing=licensing()))
    except Exception as exc:
        raise LicenceError(f"cannot combine {expressions!r}: {' '.join(str(exc).split())}") from None

"""Licence cells → SPDX licence expressions, with license-expression.

A cell may hold an SPDX expression (``MIT OR Apache-2.0``), a common name (``Apache 2.0``, ``GPLv2``; see
data/sbom/license_aliases.yaml) or a list (``MIT, BSD-3-Clause`` — every licence applies, joined with AND;
``MIT/Apache-2.0`` — a choice, joined with OR). Anything else becomes ``LicenseRef-...`` and the original text
is returned with it so that a writer can emit it as the licence name. Cells meaning "not stated"
(NOASSERTION, 不明, - ...) give None.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field

from license_expression import (
    AND,
    OR,
    ExpressionError,
    LicenseSymbol,
    LicenseWithExceptionSymbol,
    Licensing,
    get_spdx_licensing,
)

from mamori.sbom.spreadsheet.table import load_data

_REF = re.compile(r"^(?:DocumentRef-[A-Za-z0-9.\-]+:)?LicenseRef-[A-Za-z0-9.\-]+$")
_AND_SPLIT = re.compile(r"\s*(?:[,\n;、，；&＆]|\band\b)\s*", re.I)
_OR_SPLIT = re.compile(r"\s*[/／|]\s*")
_TRAILING_WORD = re.compile(r"\s*(?:license|licence|ライセンス)$", re.I)


@dataclass(slots=True)
class LicenseResult:
    """A normalised expression (None when not stated) and the LicenseRefs it had to invent."""

    expression: str | None
    refs: dict[str, str] = field(default_factory=dict)  # LicenseRef-x -> original text


@functools.cache
def _licensing() -> Licensing:
    return get_spdx_licensing()


@functools.cache
def _aliases() -> tuple[dict[str, str], frozenset[str]]:
    data = load_data("license_aliases.yaml")
    table = {_fold(alias): spdx for spdx, names in data["aliases"].items() for alias in names}
    return table, frozenset(_fold(v) for v in data["unknown"])


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def unstated(text: str) -> bool:
    """True for cell values that mean "not stated" (NOASSERTION, 不明, -, n/a ...)."""
    return _fold(text) in _aliases()[1]


def license_ref(text: str) -> str:
    """A valid ``LicenseRef-`` id for free text; non-ASCII text gets a short stable hash."""
    ascii_part = re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-.")
    if ascii_part and text.isascii():
        return f"LicenseRef-{ascii_part}"
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    return f"LicenseRef-{ascii_part}-{digest}" if ascii_part else f"LicenseRef-mamori-{digest}"


def normalise_license(text: str | None) -> LicenseResult:
    """Turn one licence cell into an SPDX expression; see the module docstring."""
    if text is None:
        return LicenseResult(None)
    expression, refs = _normalise(text.strip())
    return LicenseResult(expression, dict(refs))


@functools.lru_cache(maxsize=4096)
def _normalise(text: str) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """Cached core of :func:`normalise_license` (licence cells repeat a lot): expression and invented refs."""
    result = _normalise_uncached(text)
    return result.expression, tuple(result.refs.items())


def _normalise_uncached(text: str) -> LicenseResult:
    _, unknown = _aliases()
    if not text or _fold(text) in unknown:
        return LicenseResult(None)
    refs: dict[str, str] = {}
    single = _single(text, refs)
    if single is not None:
        return LicenseResult(single, refs)
    ands = [p for p in _AND_SPLIT.split(text) if p]
    rendered = []
    for part in ands:
        ors = [p for p in _OR_SPLIT.split(part) if p and _fold(p) not in unknown]
        choices = [_single(p, refs) or _invent(p, refs) for p in ors]
        if choices:
            rendered.append(choices[0] if len(choices) == 1 else "(" + " OR ".join(choices) + ")")
    if not rendered:
        return LicenseResult(None)
    if len(rendered) == 1 and rendered[0].startswith("("):
        rendered[0] = rendered[0][1:-1]
    return LicenseResult(" AND ".join(rendered), refs)


def _single(text: str, refs: dict[str, str]) -> str | None:
    """An expression for ``text`` taken whole, or None when it does not parse as one."""
    aliases, _ = _aliases()
    hit = aliases.get(_fold(text))
    if hit:
        return hit
    if _REF.match(text):
        return text
    try:
        parsed = _licensing().parse(text, validate=False)
    except ExpressionError:
        stripped = _TRAILING_WORD.sub("", text)
        return _single(stripped, refs) if stripped and stripped != text else None
    if parsed is None:
        return None
    return _render(parsed, refs, top=True)


def _render(node: object, refs: dict[str, str], *, top: bool = False) -> str:
    if isinstance(node, LicenseWithExceptionSymbol):
        lic = _symbol(node.license_symbol, refs)
        exc = node.exception_symbol.key
        if _licensing().unknown_license_keys(exc) or _REF.match(lic) is not None:
            return _invent(f"{node.license_symbol.key} WITH {exc}", refs)
        return f"{lic} WITH {exc}"
    if isinstance(node, LicenseSymbol):
        return _symbol(node, refs)
    if isinstance(node, AND | OR):
        joiner = " AND " if isinstance(node, AND) else " OR "
        body = joiner.join(_render(arg, refs) for arg in node.args)
        return body if top else f"({body})"
    return _invent(str(node), refs)


def _symbol(symbol: LicenseSymbol, refs: dict[str, str]) -> str:
    key = str(symbol.key)
    if not _licensing().unknown_license_keys(key) or _REF.match(key):
        return key
    aliases, _ = _aliases()
    hit = aliases.get(_fold(key)) or aliases.get(_fold(_TRAILING_WORD.sub("", key)))
    return hit or _invent(key, refs)


def _invent(text: str, refs: dict[str, str]) -> str:
    if _REF.match(text):
        return text
    ref = license_ref(text)
    refs.setdefault(ref, text)
    return ref

"""Licence cells → SPDX licence expressions (the normalising is mamori.sbom.licenses).

What only spreadsheets need: a cell may hold an SPDX expression (``MIT OR Apache-2.0``), a common name
(``Apache 2.0``, ``GPLv2``; see data/sbom/license_aliases.yaml) or a list (``MIT, BSD-3-Clause`` — every
licence applies, joined with AND; ``MIT/Apache-2.0`` — a choice, joined with OR). Anything else becomes a
LicenseRef (mamori.sbom.licenses.licence_ref) and the original text is returned with it so that a writer
can emit it as the licence name. Cells meaning "not stated" (NOASSERTION, 不明, - ...) give None.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from mamori.sbom.data import load_data
from mamori.sbom.licenses import LicenceError, is_licence_ref, licence_ref, parse, render

_AND_SPLIT = re.compile(r"\s*(?:[,\n;、，；&＆]|\band\b)\s*", re.I)
_OR_SPLIT = re.compile(r"\s*[/／|]\s*")
_TRAILING_WORD = re.compile(r"\s*(?:license|licence|ライセンス)$", re.I)


@dataclass(slots=True)
class LicenseResult:
    """A normalised expression (None when not stated) and the LicenseRefs it had to invent."""

    expression: str | None
    refs: dict[str, str] = field(default_factory=dict)  # LicenseRef-x -> original text


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


def _alias(text: str) -> str | None:
    aliases, _ = _aliases()
    return aliases.get(_fold(text)) or aliases.get(_fold(_TRAILING_WORD.sub("", text)))


def _single(text: str, refs: dict[str, str]) -> str | None:
    """An expression for ``text`` taken whole, or None when it does not parse as one."""
    hit = _aliases()[0].get(_fold(text))
    if hit:
        return hit
    if is_licence_ref(text):
        return text
    try:
        parsed = parse(text)
    except LicenceError:
        stripped = _TRAILING_WORD.sub("", text)
        return _single(stripped, refs) if stripped and stripped != text else None
    return render(parsed, lambda key: _invent(key, refs), alias=_alias)


def _invent(text: str, refs: dict[str, str]) -> str:
    if is_licence_ref(text):
        return text
    ref = licence_ref(text)
    refs.setdefault(ref, text)
    return ref

"""SPDX licence expressions: normalise on reading, make valid (with LicenseRefs) on writing.

license-expression's SPDX licensing maps some ``LicenseRef-…`` names to list licences as aliases
(``LicenseRef-Apache`` → ``Apache-2.0``). A document may define its own ``LicenseRef-Apache`` with a
different text, so normalisation here uses the SPDX licence list *without* those aliases: ids get
their canonical case and deprecated spellings their current id (``gpl-2.0+`` → ``GPL-2.0-or-later``),
and LicenseRefs stay what the document says.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from license_expression import ExpressionError, LicenseSymbol, Licensing, get_spdx_licensing

from mamori.sbom.spdx.mapping import NOASSERTION, NONE, id_part

_LICENSE_REF = re.compile(r"^LicenseRef-[A-Za-z0-9.-]+$")
EXTRACTED_TEXT_COMMENT = (
    "The licence text was not in the source SBOM; the extracted text is the licence name it gave."
)


@cache
def spdx_licensing() -> Licensing:
    """license-expression's SPDX licensing, as spdx-tools validates with it (built once: it is slow to build)."""
    return get_spdx_licensing()


@cache
def licensing() -> Licensing:
    """The SPDX licence list with canonical ids and their plain aliases, but no LicenseRef aliases."""
    spdx = spdx_licensing()
    symbols = [
        LicenseSymbol(
            key,
            aliases=tuple(a for a in sym.aliases if not a.lower().startswith("licenseref-")),
            is_exception=sym.is_exception,
        )
        for key, sym in spdx.known_symbols.items()
    ]
    return Licensing(symbols)


@lru_cache(maxsize=8192)
def normalise(expression: str) -> str:
    """Canonical rendering of an SPDX expression; text that does not parse is returned stripped."""
    text = " ".join(expression.split())
    try:
        parsed = licensing().parse(text)
    except Exception:  # license-expression raises TypeError/ExpressionError on odd input
        return text
    return parsed.render() if parsed is not None else text


def _is_listed(key: str) -> bool:
    return key in licensing().known_symbols and not key.startswith("LicenseRef-")


class LicenseWriter:
    """Turns model licence strings into expressions spdx-tools accepts, declaring LicenseRefs as needed.

    Symbols that are not on the SPDX licence list become ``LicenseRef-<name>``; text that is not an
    expression at all (``Apache License, Version 2.0``) becomes one LicenseRef for the whole text.
    Every LicenseRef used gets a ``hasExtractedLicensingInfos`` entry: the document's own entry when it
    has one, else one whose extracted text is the name from the source.
    """

    def __init__(self, declared: list[dict[str, object]], document_refs: set[str]) -> None:
        self.infos: dict[str, dict[str, object]] = {}
        for info in declared:
            lic_id = info.get("licenseId")
            if isinstance(lic_id, str) and _LICENSE_REF.match(lic_id) and info.get("extractedText"):
                self.infos.setdefault(lic_id, info)
        self._document_refs = document_refs
        self._names: dict[str, str] = {}  # source name -> LicenseRef id
        self._cache: dict[str, str] = {}

    def expression(self, value: str | None) -> str:
        """A valid licence expression, NONE or NOASSERTION for ``value``."""
        if value is None or not value.strip():
            return NOASSERTION
        text = " ".join(value.split())
        if text.upper() in (NOASSERTION, NONE):
            return text.upper()
        cached = self._cache.get(text)
        if cached is None:
            cached = self._cache[text] = self._convert(text)
        return cached

    def extracted(self) -> list[dict[str, object]]:
        return list(self.infos.values())

    def _convert(self, text: str) -> str:
        lic = licensing()
        try:
            parsed = lic.parse(text)
        except Exception:  # not an expression: one LicenseRef for the whole text
            return self._ref(text)
        if parsed is None:
            return NOASSERTION
        pending: dict[str, str] = {}  # name -> LicenseRef id, declared only when the result is valid
        substitutions = {}
        for symbol in lic.license_symbols(parsed, unique=True, decompose=True):
            key = symbol.key
            if _is_listed(key) or self._external(key):
                continue
            pending[key] = self._ref_id(key)
            substitutions[symbol] = LicenseSymbol(pending[key])
        try:
            rendered = (parsed.subs(substitutions) if substitutions else parsed).render()
            valid = self._valid(rendered, set(pending.values()))
        except Exception:
            valid = False
        if not valid:
            return self._ref(text)
        for name in pending:
            self._ref(name)
        return rendered

    def _external(self, key: str) -> bool:
        doc_ref, sep, lic_ref = key.partition(":")
        return bool(sep) and doc_ref in self._document_refs and bool(_LICENSE_REF.match(lic_ref))

    def _valid(self, rendered: str, pending: set[str]) -> bool:
        """The checks spdx-tools' validator makes: known or declared symbols, exceptions only after WITH."""
        for symbol in licensing().validate(rendered).invalid_symbols:
            if symbol not in self.infos and symbol not in pending and not self._external(symbol):
                return False
        try:
            spdx_licensing().parse(rendered, validate=False, strict=True)
        except ExpressionError:
            return False
        return True

    def _ref_id(self, name: str) -> str:
        """The LicenseRef id ``name`` gets (already given, its own valid id, or a new unique one)."""
        known = self._names.get(name)
        if known:
            return known
        ref = name if _LICENSE_REF.match(name) else f"LicenseRef-{id_part(name)}"
        base, n = ref, 2
        while ref in self.infos and ref != name and self.infos[ref].get("name") != name:
            ref = f"{base}-{n}"
            n += 1
        return ref

    def _ref(self, name: str) -> str:
        """Declare (if needed) and return the LicenseRef for ``name``."""
        ref = self._ref_id(name)
        self._names[name] = ref
        if ref not in self.infos:
            self.infos[ref] = {
                "licenseId": ref,
                "extractedText": name,
                "name": name,
                "comment": EXTRACTED_TEXT_COMMENT,
            }
        return ref

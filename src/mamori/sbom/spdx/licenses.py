"""SPDX licence fields: normalised on reading (mamori.sbom.licenses), made valid with declared LicenseRefs on writing.

Reading uses :func:`mamori.sbom.licenses.normalise`: canonical ids, unknown keys as LicenseRefs, and text that
is no expression at all kept as it is, so that the writer can still name it. Writing is what only SPDX has:
every LicenseRef used must be declared in ``hasExtractedLicensingInfos``, and a few deprecated ids that
spdx-tools cannot validate are written as their replacement (:func:`replace_deprecated`).
"""

from __future__ import annotations

import re
from functools import cache

from license_expression import ExpressionError

from mamori.sbom.data import load_data
from mamori.sbom.licenses import (
    LICENSE_REF,
    NOASSERTION,
    NONE,
    LicenceError,
    licence_ref,
    licensing,
    normalise,
    parse,
    render,
    spdx_licensing,
)

__all__ = ["EXTRACTED_TEXT_COMMENT", "LicenseWriter", "normalise", "replace_deprecated"]

EXTRACTED_TEXT_COMMENT = (
    "The licence text was not in the source SBOM; the extracted text is the licence name it gave."
)


@cache
def _replacements() -> tuple[dict[str, str], re.Pattern[str]]:
    table: dict[str, str] = load_data("license_replacements.yaml")["replacements"]
    keys = "|".join(re.escape(key) for key in sorted(table, key=len, reverse=True))
    return table, re.compile(rf"(?<![A-Za-z0-9.+:-])(?:{keys})(?![A-Za-z0-9.+-])")


def replace_deprecated(expression: str) -> str:
    """Deprecated ids that spdx-tools cannot validate as licences, written as their replacement
    (``GPL-2.0-with-classpath-exception`` → ``GPL-2.0-only WITH Classpath-exception-2.0``; see
    data/sbom/license_replacements.yaml)."""
    table, pattern = _replacements()
    return pattern.sub(lambda match: table[match.group(0)], expression)


def _is_local_ref(key: str) -> bool:
    return LICENSE_REF.fullmatch(key) is not None and not key.startswith("DocumentRef-")


class LicenseWriter:
    """Turns model licence strings into expressions spdx-tools accepts, declaring LicenseRefs as needed.

    Symbols that are not on the SPDX licence list become LicenseRefs (mamori.sbom.licenses.licence_ref);
    text that is not an expression at all (``Apache License, Version 2.0``) becomes one LicenseRef for the
    whole text. Every LicenseRef used gets a ``hasExtractedLicensingInfos`` entry: the document's own entry
    when it has one, else one whose extracted text is the name from the source.
    """

    def __init__(self, declared: list[dict[str, object]], document_refs: set[str]) -> None:
        self.infos: dict[str, dict[str, object]] = {}
        for info in declared:
            lic_id = info.get("licenseId")
            if isinstance(lic_id, str) and _is_local_ref(lic_id) and info.get("extractedText"):
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
        try:
            parsed = parse(text)
        except LicenceError:  # not an expression: one LicenseRef for the whole text
            return self._ref(text)
        pending: dict[str, str] = {}  # name -> LicenseRef id, declared only when the result is valid

        def unknown(key: str) -> str:
            if self._external(key):
                return key
            pending[key] = self._ref_id(key)
            return pending[key]

        try:
            rendered = replace_deprecated(render(parsed, unknown))
            valid = self._valid(rendered, set(pending.values()))
        except Exception:  # license-expression on odd symbols
            valid = False
        if not valid:
            return self._ref(text)
        for name in pending:
            self._ref(name)
        return rendered

    def _external(self, key: str) -> bool:
        doc_ref, sep, lic_ref = key.partition(":")
        return bool(sep) and doc_ref in self._document_refs and _is_local_ref(lic_ref)

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
        ref = licence_ref(name)
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

"""A component's identifiers and links → SPDX ``externalRefs`` that spdx-tools accepts.

purl → PACKAGE-MANAGER purl, CPEs → SECURITY cpe23Type/cpe22Type, swid → SECURITY swid, CycloneDX
``advisories`` links → SECURITY advisory, other links → OTHER with the CycloneDX type, and the refs an
SPDX source had (kept as ``spdx:externalRef`` properties) as they were. A reference whose locator
spdx-tools would reject for its type becomes an OTHER reference; one with spaces in it is left out.
"""

from __future__ import annotations

import re

import orjson
import uritools
from spdx_tools.spdx.model.package import CATEGORY_TO_EXTERNAL_PACKAGE_REF_TYPES
from spdx_tools.spdx.validation.external_package_ref_validator import TYPE_TO_REGEX
from spdx_tools.spdx.validation.uri_validators import validate_url

from mamori.model import Component, ExternalReference
from mamori.sbom.spdx.mapping import PROP

WHITESPACE = re.compile(r"\s")
_REF_TYPES = {
    cat.name.replace("_", "-"): types for cat, types in CATEGORY_TO_EXTERNAL_PACKAGE_REF_TYPES.items()
}
_SPDX_23_ONLY_REF_TYPES = frozenset({"advisory", "fix", "url", "swid"})


def external_refs(comp: Component, links: list[ExternalReference], *, v22: bool) -> list[dict[str, str]]:
    """The externalRefs for ``comp``; ``links`` are its external references not used as the homepage."""
    refs: list[dict[str, str]] = []

    def add(category: str, ref_type: str, locator: str | None, comment: str | None = None) -> None:
        ref = external_ref(category, ref_type, (locator or "").strip(), comment, v22=v22)
        if ref is not None and ref not in refs:
            refs.append(ref)

    if comp.purl:
        add("PACKAGE-MANAGER", "purl", comp.purl)
    for cpe in comp.cpes:
        add("SECURITY", "cpe23Type" if cpe.startswith("cpe:2.3:") else "cpe22Type", cpe)
    if comp.swid:
        add("SECURITY", "swid", comp.swid)
    for link in links:
        if link.type == "advisories":
            add("SECURITY", "advisory", link.url, link.comment)
        else:
            add("OTHER", link.type, link.url, link.comment)
    for prop in comp.properties:
        if prop.name != PROP + "externalRef":
            continue
        try:
            kept = orjson.loads(prop.value)
        except orjson.JSONDecodeError:
            continue
        if isinstance(kept, dict):
            comment = kept.get("comment")
            add(
                str(kept.get("referenceCategory", "OTHER")),
                str(kept.get("referenceType", "")),
                str(kept.get("referenceLocator", "")),
                comment if isinstance(comment, str) else None,
            )
    return refs


def external_ref(
    category: str, ref_type: str, locator: str, comment: str | None, *, v22: bool
) -> dict[str, str] | None:
    """A reference spdx-tools accepts; one it would not becomes an OTHER reference, or None."""
    if not locator:
        return None
    ref_type = WHITESPACE.sub("-", ref_type.strip()) or "other"
    if not _valid(category, ref_type, locator, v22):
        if WHITESPACE.search(locator):
            return None
        category = "OTHER"
    ref = {"referenceCategory": category, "referenceType": ref_type, "referenceLocator": locator}
    if comment:
        ref["comment"] = comment
    return ref


def _valid(category: str, ref_type: str, locator: str, v22: bool) -> bool:
    """The checks of spdx-tools' external package ref validator."""
    if category == "OTHER":
        return not WHITESPACE.search(locator)
    if ref_type not in _REF_TYPES.get(category, ()):
        return False
    if ref_type in _SPDX_23_ONLY_REF_TYPES and v22:
        return False
    if ref_type in ("advisory", "fix", "url"):
        return not validate_url(locator)
    if ref_type == "swid":
        return uritools.isuri(locator) and locator.startswith("swid")
    return bool(re.match(TYPE_TO_REGEX[ref_type], locator))

"""Model → SPDX Lite tables (document label/value rows, one package row per component, one row per LicenseRef).

Works from any model: the root component (if any) is the first package, nested components are flattened,
and what SPDX Lite cannot carry is dropped (see ``lite_fields.DROPPED``).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from mamori import __version__
from mamori.errors import InputError
from mamori.i18n import _
from mamori.model import Component, Document, Property, Tool
from mamori.sbom.licenses import REFS_IN_EXPRESSION
from mamori.sbom.spdx.mapping import (
    CDX_REFERENCE_TYPES,
    DOCUMENT_ID,
    NOASSERTION,
    NONE,
    VALID_SPDX_ID,
    format_actor,
    format_tool,
    id_part,
    package_supplier,
)
from mamori.sbom.spreadsheet.lite_fields import DOCUMENT, LICENSE, PACKAGE, LiteField, fields_at
from mamori.sbom.spreadsheet.lite_read import (
    NONE_KEYS,
    P_COMMENT,
    P_DOCUMENT_ID,
    P_EXTERNAL_REFS,
    P_EXTRACTED,
    P_FILE_NAME,
    P_LICENSE_COMMENTS,
)

VERSIONS = ("2.2", "2.3")


@dataclass(slots=True)
class LiteTables:
    version: str
    document: list[tuple[LiteField, str]] = field(default_factory=list)
    package_fields: list[LiteField] = field(default_factory=list)
    packages: list[dict[str, str]] = field(default_factory=list)
    license_fields: list[LiteField] = field(default_factory=list)
    licenses: list[dict[str, str]] = field(default_factory=list)


def lite_version(spec_version: str | None) -> str:
    """``None`` → 2.3; accepts ``2.3`` or ``SPDX-2.3``; anything else is an error naming the choices."""
    if spec_version is None:
        return "2.3"
    version = spec_version.strip().upper().removeprefix("SPDX-")
    if version not in VERSIONS:
        raise InputError(
            None,
            _("SPDX Lite is written as SPDX 2.2 or 2.3, not {spec_version!r}").format(
                spec_version=spec_version
            ),
        )
    return version


def build_tables(doc: Document, spec_version: str | None) -> LiteTables:
    version = lite_version(spec_version)
    tables = LiteTables(version)
    tables.document = _document_rows(doc, version)
    tables.package_fields = fields_at(PACKAGE, version)
    tables.license_fields = fields_at(LICENSE, version)
    ids: set[str] = set()
    seen: set[int] = set()
    components = [*(doc.root.walk() if doc.root else ()), *doc.all_components()]
    for comp in components:
        if id(comp) in seen:
            continue
        seen.add(id(comp))
        tables.packages.append(_package_row(comp, _spdx_id(comp, ids, len(tables.packages) + 1), version))
    tables.licenses = _license_rows(doc, tables.packages)
    return tables


def _document_rows(doc: Document, version: str) -> list[tuple[LiteField, str]]:
    name = doc.name or (doc.root.name if doc.root else None) or "SBOM"
    creators = [format_actor(a) for a in doc.authors if a.name.strip()]
    tools = list(doc.tools)
    if not any(t.name == "mamori" for t in tools):
        tools.append(Tool("mamori", version=__version__))
    creators += [format_tool(t) for t in tools]
    stamp = doc.timestamp or datetime.now(UTC)
    stamp = stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)
    created = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    values = {
        "spdx_version": f"SPDX-{version}",
        "data_license": doc.data_license or "CC0-1.0",
        "document_spdx_id": _doc_property(doc, P_DOCUMENT_ID) or DOCUMENT_ID,
        "document_name": name,
        "document_namespace": _namespace(doc, name),
        "created": created,
    }
    rows: list[tuple[LiteField, str]] = []
    for fld in fields_at(DOCUMENT, version):
        if fld.key == "creator":
            rows += [(fld, creator) for creator in creators]
        else:
            rows.append((fld, values[fld.key]))
    return rows


def _namespace(doc: Document, name: str) -> str:
    serial = doc.serial_number or ""
    if re.match(r"^https?://[^\s#]+$", serial):
        return serial
    unique = serial.removeprefix("urn:uuid:") if serial.startswith("urn:uuid:") else str(uuid.uuid4())
    return f"https://spdx.org/spdxdocs/{id_part(name, 'sbom')}-{id_part(unique)}"


def _doc_property(doc: Document, name: str) -> str | None:
    return next((p.value for p in doc.properties if p.name == name), None)


def _spdx_id(comp: Component, used: set[str], number: int) -> str:
    ref = comp.bom_ref or ""
    candidate = (
        ref
        if VALID_SPDX_ID.match(ref)
        else (f"SPDXRef-{id_part(ref)}" if ref else f"SPDXRef-Package-{number}")
    )
    unique, n = candidate, 1
    while unique in used:
        n += 1
        unique = f"{candidate}-{n}"
    used.add(unique)
    return unique


def _package_row(comp: Component, spdx_id: str, version: str) -> dict[str, str]:
    def none_or(key: str, value: str | None) -> str:
        if value:
            return value
        return NONE if comp.property(f"spdx:{NONE_KEYS[key]}") == NONE else NOASSERTION

    refs = list(comp.external_references)
    home = next((r for r in refs if r.type == "website"), None)
    download = comp.download_location
    if download is None:
        dist = next((r for r in refs if r.type == "distribution"), None)
        download = dist.url if dist else None
        refs = [r for r in refs if r is not dist]
    refs = [r for r in refs if r is not home]
    row = {
        "package_name": comp.name,
        "package_spdx_id": spdx_id,
        "package_version": comp.version or "",
        "package_file_name": comp.property(P_FILE_NAME) or "",
        "package_supplier": package_supplier(comp) or NOASSERTION,
        "package_download_location": none_or("package_download_location", download),
        "files_analyzed": "false",
        "package_home_page": home.url if home else "",
        "license_concluded": none_or("license_concluded", comp.license_concluded),
        "license_declared": none_or("license_declared", comp.license_declared),
        "license_comments": comp.property(P_LICENSE_COMMENTS) or "",
        "copyright_text": none_or("copyright_text", comp.copyright),
        "package_comment": comp.property(P_COMMENT) or "",
        "external_ref": "\n".join(_external_refs(comp, refs)),
    }
    if version == "2.2":
        del row["package_supplier"], row["external_ref"]
    return row


def _external_refs(comp: Component, refs: list) -> list[str]:
    lines = []
    if comp.purl:
        lines.append(f"PACKAGE-MANAGER purl {comp.purl}")
    for cpe in comp.cpes:
        lines.append(f"SECURITY {'cpe23Type' if cpe.startswith('cpe:2.3:') else 'cpe22Type'} {cpe}")
    if comp.swid and not re.search(r"\s", comp.swid):
        lines.append(f"SECURITY swid {comp.swid}")
    for ref in refs:
        url = ref.url.replace(" ", "%20")
        if ref.type == "advisories":
            lines.append(f"SECURITY advisory {url}")
        elif ref.type in CDX_REFERENCE_TYPES and url:
            lines.append(f"OTHER {ref.type} {url}")
    for kept in _json_list(comp.properties, P_EXTERNAL_REFS):
        parts = [str(kept.get(k, "")) for k in ("referenceCategory", "referenceType", "referenceLocator")]
        if all(parts) and not any(re.search(r"\s", p) for p in parts):
            lines.append(" ".join(parts))
    return lines


def _json_list(properties: list[Property], name: str) -> list[dict]:
    raw = next((p.value for p in properties if p.name == name), None)
    if raw is None:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return []
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _license_rows(doc: Document, packages: list[dict[str, str]]) -> list[dict[str, str]]:
    known = {str(i["licenseId"]): i for i in _json_list(doc.properties, P_EXTRACTED) if i.get("licenseId")}
    used: list[str] = []
    for row in packages:
        for key in ("license_concluded", "license_declared"):
            used += REFS_IN_EXPRESSION.findall(row.get(key, ""))
    rows = []
    for ref in dict.fromkeys([*used, *known]):
        item = known.get(ref, {})
        rows.append(
            {
                "license_id": ref,
                "extracted_text": str(item.get("extractedText") or NOASSERTION),
                "license_name": str(item.get("name") or NOASSERTION),
                "license_comment": str(item.get("comment") or ""),
            }
        )
    return rows

"""SPDX Lite sheets → model.

Layouts understood (in any sheet, in any mix):

* a **table**: a header row naming two or more SPDX Lite fields including Package Name (one row per package)
  or License Identifier (one row per LicenseRef). Document fields may also be columns of the package table
  (repeated on every row). A blank row ends a table.
* **label/value rows** outside a table: the first cell names a field, the next cells hold the value(s). A
  value column per package (a vertical sheet) and tag-value-like sequences (a Package Name row starts the
  next package) both work. Creator may repeat or hold several lines.

Labels may be SPDX tags (``PackageName``), English or Japanese labels, or both (``Package Name / パッケージ名``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from packageurl import PackageURL

from mamori.errors import InputError
from mamori.i18n import _
from mamori.model import Component, Document, ExternalReference, Property, Tool
from mamori.sbom.spdx.mapping import CDX_REFERENCE_TYPES, DOCUMENT_ID, NOASSERTION, NONE
from mamori.sbom.spreadsheet.agents import parse_agent, parse_contact
from mamori.sbom.spreadsheet.licenses import normalise_license
from mamori.sbom.spreadsheet.lite_fields import DOCUMENT, LICENSE, PACKAGE, LiteField, match_field
from mamori.sbom.spreadsheet.table import Sheet

# Model properties for SPDX fields the model has no place for follow mamori.sbom.spdx.mapping: ``spdx:<jsonKey>``,
# lists as JSON text; NONE (as opposed to NOASSERTION) is kept as ``spdx:<jsonKey> = NONE``.
P_FILE_NAME, P_LICENSE_COMMENTS, P_COMMENT = "spdx:packageFileName", "spdx:licenseComments", "spdx:comment"
P_FILES_ANALYZED, P_EXTERNAL_REFS, P_DOCUMENT_ID = "spdx:filesAnalyzed", "spdx:externalRefs", "spdx:SPDXID"
P_EXTRACTED = "spdx:hasExtractedLicensingInfos"
NONE_KEYS = {  # SPDX Lite field -> JSON key whose NONE is remembered
    "package_download_location": "downloadLocation",
    "license_concluded": "licenseConcluded",
    "license_declared": "licenseDeclared",
    "copyright_text": "copyrightText",
}
WARNING = "mamori:warning"
_VERSION = re.compile(r"^(?:SPDX-)?(\d+\.\d+)$", re.I)


@dataclass(slots=True)
class _Cell:
    value: str
    where: str


@dataclass(slots=True)
class _Record:
    values: dict[str, _Cell] = field(default_factory=dict)
    where: str = ""


@dataclass(slots=True)
class _Collected:
    document: dict[str, list[_Cell]] = field(default_factory=dict)
    packages: list[_Record] = field(default_factory=list)
    licenses: list[_Record] = field(default_factory=list)
    seen: bool = False  # any SPDX Lite label at all


def read_sheets(sheets: list[Sheet], path: Path) -> Document:
    collected = _Collected()
    for sheet in sheets:
        _scan(sheet, collected)
    if not collected.seen:
        raise InputError(
            path, _("no SPDX Lite fields found (expected headers such as PackageName / パッケージ名)")
        )
    return _build(collected, path)


def _header(row: list[str]) -> dict[int, LiteField] | None:
    leading = [cell for cell in row if cell][
        :3
    ]  # a header has a label among its first cells ("No." may lead)
    if not any(match_field(cell, prefer=PACKAGE) for cell in leading):
        return None
    columns = {i: f for i, cell in enumerate(row) if (f := match_field(cell, prefer=PACKAGE))}
    keys = {f.key for f in columns.values()}
    if len(columns) >= 2 and keys & {"package_name", "license_id"}:
        if "package_name" not in keys:  # a licence table: SPDXID would be meaningless there
            columns = {i: f for i, f in columns.items() if f.level == LICENSE}
        return columns
    return None


def _scan(sheet: Sheet, out: _Collected) -> None:
    table: dict[int, LiteField] | None = None
    block: dict[int, _Record] = {}
    block_level: str | None = None
    for number, row in enumerate(sheet.rows, 1):
        if not any(row):
            table = None
            continue
        header = _header(row)
        if header is not None:
            table, out.seen = header, True
            continue
        if table is not None:
            _table_row(sheet, number, row, table, out)
            continue
        first = next(i for i, cell in enumerate(row) if cell)
        fld = match_field(row[first], prefer=PACKAGE if block_level == PACKAGE else DOCUMENT)
        if fld is None:
            continue
        out.seen = True
        values = [(i, c) for i, c in enumerate(row) if i > first and c]
        if fld.level == DOCUMENT:
            out.document.setdefault(fld.key, []).extend(_Cell(c, sheet.where(number)) for _, c in values)
            continue
        starts = fld.key in ("package_name", "license_id")
        if block_level != fld.level or (
            starts and any(fld.key in block.get(i, _Record()).values for i, _ in values)
        ):
            block, block_level = {}, fld.level
        for i, cell in values:
            record = block.get(i)
            if record is None:
                record = block[i] = _Record(where=sheet.where(number))
                (out.packages if fld.level == PACKAGE else out.licenses).append(record)
            _put(record, fld, _Cell(cell, sheet.where(number)))


def _put(record: _Record, fld: LiteField, cell: _Cell) -> None:
    old = record.values.get(fld.key)
    if old is not None and fld.many:
        record.values[fld.key] = _Cell(old.value + "\n" + cell.value, old.where)
    elif old is None:
        record.values[fld.key] = cell


def _table_row(
    sheet: Sheet, number: int, row: list[str], table: dict[int, LiteField], out: _Collected
) -> None:
    where = sheet.where(number)
    level = PACKAGE if any(f.key == "package_name" for f in table.values()) else LICENSE
    record = _Record(where=where)
    for i, fld in table.items():
        cell = row[i] if i < len(row) else ""
        if not cell:
            continue
        located = _Cell(cell, sheet.where(number, fld.tag))
        if fld.level == DOCUMENT:
            bucket = out.document.setdefault(fld.key, [])
            if fld.many or not bucket:
                bucket.append(located)
        else:
            _put(record, fld, located)
    if record.values:
        (out.packages if level == PACKAGE else out.licenses).append(record)


def _build(collected: _Collected, path: Path) -> Document:
    doc = Document(spec="spdx-lite")
    _document_fields(doc, collected.document, path)
    extracted: dict[str, dict[str, str]] = {}
    used_ids: set[str] = set()
    for number, record in enumerate(collected.packages, 1):
        comp = _component(record, path, doc, used_ids, number, extracted)
        if comp is not None:
            doc.components.append(comp)
    for record in collected.licenses:
        _license(record, extracted)
    if extracted:
        doc.properties.append(Property(P_EXTRACTED, json.dumps(list(extracted.values()), ensure_ascii=False)))
    return doc


def _first(values: dict[str, list[_Cell]], key: str) -> _Cell | None:
    cells = values.get(key)
    return cells[0] if cells else None


def _document_fields(doc: Document, values: dict[str, list[_Cell]], path: Path) -> None:
    version = _first(values, "spdx_version")
    if version is not None:
        match = _VERSION.match(version.value.strip())
        if not match:
            raise InputError(
                path,
                _("{where}: SPDX Version {version!r} is not like SPDX-2.3").format(
                    where=version.where, version=version.value
                ),
            )
        doc.spec_version = match.group(1)
    if (cell := _first(values, "data_license")) is not None:
        doc.data_license = cell.value
    if (cell := _first(values, "document_spdx_id")) is not None and cell.value != DOCUMENT_ID:
        doc.properties.append(Property(P_DOCUMENT_ID, cell.value))
    if (cell := _first(values, "document_name")) is not None:
        doc.name = cell.value
    if (cell := _first(values, "document_namespace")) is not None:
        doc.serial_number = cell.value
    if (cell := _first(values, "created")) is not None:
        doc.timestamp = parse_created(cell.value, path, cell.where)
    lines = [line.strip() for cell in values.get("creator", []) for line in cell.value.splitlines()]
    for line in dict.fromkeys(line for line in lines if line):
        agent = parse_agent(line)
        if isinstance(agent, Tool):
            doc.tools.append(agent)
        elif agent is not None:
            doc.authors.append(agent)


def parse_created(text: str, path: Path, where: str) -> datetime:
    """ISO 8601 (``2024-03-01T09:00:00Z``), a date alone, or ``2024/03/01``; naive times are UTC."""
    value = text.strip().replace("/", "-")
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(
            path,
            _("{where}: Created {text!r} is not an ISO 8601 date and time").format(where=where, text=text),
        ) from None
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp


def _text(record: _Record, key: str) -> str | None:
    cell = record.values.get(key)
    if cell is None or cell.value.strip().upper() in (NOASSERTION, NONE, ""):
        return None
    return cell.value.strip()


def _component(
    record: _Record,
    path: Path,
    doc: Document,
    used: set[str],
    number: int,
    extracted: dict[str, dict[str, str]],
) -> Component | None:
    name = _text(record, "package_name")
    if name is None:
        doc.properties.append(
            Property(
                WARNING,
                f"{record.where}: パッケージ名が空のため読み飛ばしました / no Package Name, row skipped",
            )
        )
        return None
    comp = Component(name=name, version=_text(record, "package_version"))
    spdx_id = _text(record, "package_spdx_id") or f"SPDXRef-Package-{number}"
    if spdx_id in used:
        doc.properties.append(
            Property(WARNING, f"{record.where}: SPDXID {spdx_id} が重複 / duplicate SPDXID")
        )
        spdx_id = f"{spdx_id}-{number}"
    used.add(spdx_id)
    comp.bom_ref = spdx_id
    if (supplier := _text(record, "package_supplier")) is not None:
        comp.supplier = parse_contact(supplier)
    comp.download_location = _text(record, "package_download_location")
    if (home := _text(record, "package_home_page")) is not None:
        comp.external_references.append(ExternalReference("website", home))
    for key in ("license_concluded", "license_declared"):
        result = normalise_license(_text(record, key))
        setattr(comp, key, result.expression)
        for ref, original in result.refs.items():
            extracted.setdefault(ref, {"licenseId": ref, "name": original})
    comp.copyright = _text(record, "copyright_text")
    for key, json_key in NONE_KEYS.items():
        cell = record.values.get(key)
        if cell is not None and cell.value.strip().upper() == NONE:
            comp.properties.append(Property(f"spdx:{json_key}", NONE))
    for key, prop in (
        ("package_file_name", P_FILE_NAME),
        ("license_comments", P_LICENSE_COMMENTS),
        ("package_comment", P_COMMENT),
    ):
        if (value := _text(record, key)) is not None:
            comp.properties.append(Property(prop, value))
    if (analysed := _text(record, "files_analyzed")) is not None and analysed.lower() == "true":
        comp.properties.append(Property(P_FILES_ANALYZED, "true"))
    if (refs := record.values.get("external_ref")) is not None:
        kept = [_external_ref(comp, line.strip(), path, refs.where) for line in refs.value.splitlines()]
        if any(kept):
            comp.properties.append(
                Property(P_EXTERNAL_REFS, json.dumps([k for k in kept if k], ensure_ascii=False))
            )
    return comp


def _external_ref(comp: Component, line: str, path: Path, where: str) -> dict[str, str] | None:
    """Apply one ``CATEGORY TYPE LOCATOR`` line; return it (SPDX JSON keys) when the model has no place for it."""
    if not line:
        return None
    parts = line.removeprefix("ExternalRef:").split()
    if len(parts) != 3:
        raise InputError(
            path,
            _("{where}: ExternalRef {line!r} is not 'CATEGORY TYPE LOCATOR'").format(where=where, line=line),
        )
    category, kind, locator = parts[0].upper().replace("_", "-"), parts[1], parts[2]
    if kind == "purl" and comp.purl is None:
        try:
            comp.purl = PackageURL.from_string(locator).to_string()
        except ValueError as exc:
            raise InputError(
                path,
                _("{where}: invalid purl {locator!r}: {exc}").format(where=where, locator=locator, exc=exc),
            ) from None
    elif kind in ("cpe22Type", "cpe23Type"):
        comp.cpes.append(locator)
    elif kind == "swid" and comp.swid is None:
        comp.swid = locator
    elif category == "SECURITY" and kind == "advisory":
        comp.external_references.append(ExternalReference("advisories", locator))
    elif category == "OTHER" and kind in CDX_REFERENCE_TYPES:
        comp.external_references.append(ExternalReference(kind, locator))
    else:
        return {"referenceCategory": category, "referenceType": kind, "referenceLocator": locator}
    return None


def _license(record: _Record, extracted: dict[str, dict[str, str]]) -> None:
    ref = _text(record, "license_id")
    if ref is None:
        return
    entry = extracted.setdefault(ref, {"licenseId": ref})
    for key, json_key in (
        ("extracted_text", "extractedText"),
        ("license_name", "name"),
        ("license_comment", "comment"),
    ):
        value = _text(record, key)
        if value is not None:
            entry[json_key] = value

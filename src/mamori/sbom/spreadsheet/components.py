"""A vendor's own component list (CSV / XLSX) → model (spec "spreadsheet").

* **Columns** map to fields by the Japanese/English header aliases in data/sbom/component_columns.yaml
  (部品名 / コンポーネント名 / 名称 → name, バージョン / 版 → version, 仕入先 / 供給者 → supplier ...);
  ``ReadOptions.columns`` (``--columns supplier=仕入先,name=部品名``) overrides them. Unmapped columns are kept
  as component properties ``mamori:column:<header>``.
* **Sheet**: ``ReadOptions.sheet`` (a name, or a 1-based number), else the first sheet with a header row.
* **Header row**: the row among the first 20 that maps a name column and the most fields; title rows above it
  become the document name.
* **Values**: licences are normalised to SPDX expressions (unknown names → ``LicenseRef-...``, their text kept in
  ``spdx:hasExtractedLicensingInfos``); a purl is never invented; ``depends_on`` holds names, ``name@version`` or
  purls separated by ``;``, ``,``, ``、`` or new lines.
* **Problems**: no name column → InputError naming the file and the headers seen; a malformed cell (purl, CPE,
  hash) → InputError naming the file, sheet, row and column; a type or scope value that is not a CycloneDX one
  (種別 often holds "OSS" / "商用") leaves the field unset and is kept as a ``mamori:column:`` property; a row without a name but with other
  cells, or a dependency that names no listed component → the row/edge is skipped and a bilingual warning is
  kept as a document property ``mamori:warning``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from packageurl import PackageURL

from mamori.errors import InputError
from mamori.i18n import _
from mamori.model import Component, Document, ExternalReference, Hash, Property, Relationship
from mamori.sbom.formats import ReadOptions
from mamori.sbom.spreadsheet.agents import parse_contact
from mamori.sbom.spreadsheet.columns import (
    HeaderMap,
    check_mapped,
    check_overrides,
    find_header,
    ignored_headers,
    seen_headers,
    value_table,
)
from mamori.sbom.spreadsheet.licenses import normalise_license, unstated
from mamori.sbom.spreadsheet.lite_read import P_EXTRACTED, WARNING
from mamori.sbom.spreadsheet.table import Sheet, choose_sheet, load_csv, load_xlsx, norm_label

COLUMN_PROPERTY = "mamori:column:"
_HASH_FIELDS = {
    "md5": ("MD5", 32),
    "sha1": ("SHA-1", 40),
    "sha256": ("SHA-256", 64),
    "sha512": ("SHA-512", 128),
}
_HASH_BY_LENGTH = {length: alg for alg, length in _HASH_FIELDS.values()}
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_CPE23 = re.compile(r"^cpe:2\.3:[aho*\-](?::(?:[^:\\\s]|\\.)*){10}$")
_CPE22 = re.compile(r"^cpe:/[aho](?::[^:\s]*){0,6}$", re.I)
_LIST_SPLIT = re.compile(r"\s*[;\n,、，；]\s*")
_SPACE_SPLIT = re.compile(r"[\s;,、]+")


def read_csv(data: bytes, path: Path, options: ReadOptions) -> Document:
    return _read([load_csv(data, path)], path, options)


def read_xlsx(data: bytes, path: Path, options: ReadOptions) -> Document:
    return _read(load_xlsx(data, path), path, options)


@dataclass(slots=True)
class _Row:
    number: int
    component: Component
    depends: tuple[str, str] | None  # (cell text, header)


def _pick_sheet(sheets: list[Sheet], options: ReadOptions, path: Path) -> tuple[Sheet, HeaderMap]:
    overrides = dict(options.columns)
    check_overrides(overrides, path)
    if not sheets or not any(sheet.rows for sheet in sheets):
        raise InputError(path, _("the spreadsheet is empty"))
    candidates = sheets if options.sheet is None else [choose_sheet(sheets, options.sheet, path)]
    for sheet in candidates:
        header = find_header(sheet, overrides)
        if header is not None:
            check_mapped(header, overrides, sheet, path)
            return sheet, header
    sheet = candidates[0]
    where = _(" of sheet {name!r}").format(name=sheet.name) if sheet.name is not None else ""
    seen = ", ".join(" ".join(h.split()) for h in seen_headers(sheet))  # a cell may span lines
    raise InputError(
        path,
        _(
            "no component name column found in the first 20 rows{where}; headers seen: {seen}; name one with --columns name=<header>"
        ).format(where=where, seen=seen or "(none)"),
    )


def _read(sheets: list[Sheet], path: Path, options: ReadOptions) -> Document:
    sheet, header = _pick_sheet(sheets, options, path)
    doc = Document(spec="spreadsheet", name=_title(sheet, header) or path.stem)
    if sheet.name is not None:
        doc.properties.append(Property("mamori:sheet", sheet.name))
    extracted: dict[str, str] = {}
    rows: list[_Row] = []
    ignored = {i for i, title in enumerate(header.headers) if norm_label(title) in ignored_headers()}
    for number in range(header.row + 1, len(sheet.rows) + 1):
        row = sheet.rows[number - 1]
        if not any(value for index, value in enumerate(row) if index not in ignored):
            continue  # blank, or only a pre-filled row number
        parsed = _row(sheet, number, row, header, path, extracted)
        if parsed is None:
            doc.properties.append(
                Property(
                    WARNING, f"{sheet.where(number)}: 名称が空のため読み飛ばしました / no name, row skipped"
                )
            )
            continue
        rows.append(parsed)
    _assign_refs(rows)
    doc.components = [r.component for r in rows]
    doc.relationships = _dependencies(rows, sheet, doc)
    if extracted:
        infos = [{"licenseId": ref, "name": text} for ref, text in extracted.items()]
        doc.properties.append(Property(P_EXTRACTED, json.dumps(infos, ensure_ascii=False)))
    return doc


def _title(sheet: Sheet, header: HeaderMap) -> str | None:
    for row in sheet.rows[: header.row - 1]:
        cells = [c for c in row if c]
        if len(cells) == 1:
            return cells[0]
    return None


def _row(
    sheet: Sheet, number: int, row: list[str], header: HeaderMap, path: Path, extracted: dict[str, str]
) -> _Row | None:
    cells: dict[str, tuple[str, str]] = {}  # field -> (value, header)
    extra: list[Property] = []
    for index, value in enumerate(row):
        if not value:
            continue
        title = header.headers[index] if index < len(header.headers) else ""
        fld = header.columns.get(index)
        if fld is None:
            if norm_label(title) in ignored_headers():
                continue
            extra.append(Property(COLUMN_PROPERTY + (title or f"#{index + 1}"), value))
        elif not unstated(value):
            cells[fld] = (value, title)
    if "name" not in cells:
        return None
    comp = Component(name=cells["name"][0])
    cell = _Cell(sheet, number, path)
    comp.version = _plain(cells, "version")
    comp.group = _plain(cells, "group")
    comp.author = _plain(cells, "author")
    comp.description = _plain(cells, "description")
    comp.copyright = _plain(cells, "copyright")
    comp.download_location = _plain(cells, "download")
    if (supplier := _plain(cells, "supplier")) is not None:
        comp.supplier = parse_contact(supplier)
    if (home := _plain(cells, "homepage")) is not None:
        comp.external_references.append(ExternalReference("website", home))
    if "purl" in cells:
        comp.purl = cell.purl(*cells["purl"])
        if comp.version is None:
            comp.version = PackageURL.from_string(comp.purl).version
    if "cpe" in cells:
        comp.cpes = cell.cpes(*cells["cpe"])
    if "license" in cells:
        result = normalise_license(cells["license"][0])
        comp.license_declared = result.expression
        extracted.update(result.refs)
    for fld in ("md5", "sha1", "sha256", "sha512", "hash"):
        if fld in cells:
            comp.hashes.append(cell.hash(fld, *cells[fld]))
    for fld, kind in (("type", "types"), ("scope", "scopes")):
        if fld in cells:
            value, title = cells[fld]
            known = value_table(kind).get(norm_label(value))
            if known is None:
                extra.append(Property(COLUMN_PROPERTY + title, value))
            else:
                setattr(comp, fld, known)
    comp.properties = extra
    depends = cells.get("depends_on")
    return _Row(number, comp, depends)


def _plain(cells: dict[str, tuple[str, str]], fld: str) -> str | None:
    value = cells.get(fld)
    return value[0] if value else None


@dataclass(slots=True)
class _Cell:
    """Validation of one row's cells; errors name the file, sheet, row and column."""

    sheet: Sheet
    number: int
    path: Path

    def fail(self, column: str, problem: str) -> InputError:
        return InputError(
            self.path,
            _("{where}: {problem}").format(where=self.sheet.where(self.number, column), problem=problem),
        )

    def purl(self, value: str, column: str) -> str:
        try:
            return PackageURL.from_string(value.strip()).to_string()
        except ValueError as exc:
            raise self.fail(
                column, _("invalid purl {value!r}: {reason}").format(value=value, reason=exc)
            ) from None

    def cpes(self, value: str, column: str) -> list[str]:
        out = []
        for cpe in _SPACE_SPLIT.split(value.strip()):
            if not (_CPE23.match(cpe) or _CPE22.match(cpe)):
                raise self.fail(
                    column,
                    _("invalid CPE {cpe!r} (expected cpe:2.3:part:vendor:product:... or cpe:/...)").format(
                        cpe=cpe
                    ),
                )
            out.append(cpe)
        return out

    def hash(self, fld: str, value: str, column: str) -> Hash:
        text = value.strip()
        alg: str | None = None
        if fld == "hash":
            prefix, sep, rest = text.partition(":") if ":" in text else text.partition("=")
            if sep:
                alg = _HASH_FIELDS.get(re.sub(r"[-_\s]", "", prefix).lower(), (None, 0))[0]
                if alg is None:
                    raise self.fail(
                        column,
                        _("unknown hash algorithm {prefix!r} (use MD5, SHA-1, SHA-256 or SHA-512)").format(
                            prefix=prefix
                        ),
                    )
                text = rest.strip()
            else:
                alg = _HASH_BY_LENGTH.get(len(text))
        else:
            alg = _HASH_FIELDS[fld][0]
        expected = next((n for a, n in _HASH_FIELDS.values() if a == alg), None)
        if alg is None or not _HEX.match(text) or len(text) != expected:
            raise self.fail(
                column,
                _("invalid hash {value!r}: expected {count} hex digits").format(
                    value=value, count=expected or _("32, 40, 64 or 128")
                ),
            )
        return Hash(alg, text.lower())


def _assign_refs(rows: list[_Row]) -> None:
    used: set[str] = set()
    for row in rows:
        comp = row.component
        base = comp.purl or (f"{comp.name}@{comp.version}" if comp.version else comp.name)
        ref, n = base, 1
        while ref in used:
            n += 1
            ref = f"{base}#{n}"
        used.add(ref)
        comp.bom_ref = ref


def _dependencies(rows: list[_Row], sheet: Sheet, doc: Document) -> list[Relationship]:
    index: dict[str, str] = {}
    for row in rows:
        comp = row.component
        keys = [comp.name, f"{comp.name}@{comp.version}" if comp.version else None, comp.purl, comp.bom_ref]
        for key in keys:
            if key:
                index.setdefault(key.casefold(), comp.bom_ref or "")
    edges: dict[tuple[str, str], Relationship] = {}
    for row in rows:
        if row.depends is None:
            continue
        value, column = row.depends
        source = row.component.bom_ref or ""
        for token in (t for t in _LIST_SPLIT.split(value.strip()) if t):
            target = index.get(token.casefold()) or index.get(_purl_key(token))
            if target is None:
                doc.properties.append(
                    Property(
                        WARNING,
                        f"{sheet.where(row.number, column)}: 依存先 {token!r} が一覧にありません / "
                        f"dependency {token!r} is not a listed component, edge skipped",
                    )
                )
                continue
            if target != source:
                edges.setdefault((source, target), Relationship(source, target))
    return list(edges.values())


def _purl_key(token: str) -> str:
    try:
        return PackageURL.from_string(token).to_string().casefold()
    except ValueError:
        return token.casefold()

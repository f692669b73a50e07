"""Format registry: detection, readers and writers behind one signature each.

A reader is ``(data: bytes, path: Path, options: ReadOptions) -> Document``.
A writer is ``(doc: Document, spec_version: str | None) -> bytes``.
Both live in their own modules and are imported lazily so that start-up stays fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mamori.errors import InputError, UnsupportedFormat
from mamori.fileio import read_bytes, write_bytes_atomic
from mamori.i18n import _
from mamori.model import Document


@dataclass(slots=True)
class ReadOptions:
    """Options a reader may use. ``columns`` maps model fields to a spreadsheet's own headers.

    ``strict``: refuse the file on the first flaw in a field (a bad licence, an unknown enumeration
    value, a purl that does not parse …). Off by default: such flaws become ``Document.warnings``
    and the rest of the SBOM is read (see mamori.sbom.problems).
    """

    columns: dict[str, str] = field(default_factory=dict)
    sheet: str | None = None
    strict: bool = False


Reader = Callable[[bytes, Path, ReadOptions], Document]
Writer = Callable[[Document, str | None], bytes]

# format name -> "module:function"
READ_FORMATS: dict[str, str] = {
    "cyclonedx-json": "mamori.sbom.cyclonedx.read_json:read",
    "cyclonedx-xml": "mamori.sbom.cyclonedx.read_xml:read",
    "spdx-json": "mamori.sbom.spdx.read_json:read_json",
    "spdx-yaml": "mamori.sbom.spdx.read_json:read_yaml",
    "spdx-tv": "mamori.sbom.spdx.read_tools:read_tagvalue",
    "spdx-rdf": "mamori.sbom.spdx.read_tools:read_rdf",
    "spdx-lite-csv": "mamori.sbom.spreadsheet.spdx_lite:read_csv",
    "spdx-lite-xlsx": "mamori.sbom.spreadsheet.spdx_lite:read_xlsx",
    "spreadsheet-csv": "mamori.sbom.spreadsheet.components:read_csv",
    "spreadsheet-xlsx": "mamori.sbom.spreadsheet.components:read_xlsx",
}

WRITE_FORMATS: dict[str, str] = {
    "cyclonedx-json": "mamori.sbom.cyclonedx.write:write_json",
    "cyclonedx-xml": "mamori.sbom.cyclonedx.write:write_xml",
    "spdx-json": "mamori.sbom.spdx.write:write_json",
    "spdx-tv": "mamori.sbom.spdx.write:write_tagvalue",
    "spdx-lite-csv": "mamori.sbom.spreadsheet.spdx_lite:write_csv",
    "spdx-lite-xlsx": "mamori.sbom.spreadsheet.spdx_lite:write_xlsx",
}

# ordered: the longest suffix first
_SUFFIXES: list[tuple[str, str]] = [
    (".spdx.json", "spdx-json"),
    (".spdx.yaml", "spdx-yaml"),
    (".spdx.yml", "spdx-yaml"),
    (".spdx.rdf.xml", "spdx-rdf"),
    (".spdx.rdf", "spdx-rdf"),
    (".spdx.xml", "spdx-rdf"),
    (".spdx", "spdx-tv"),
    (".cdx.json", "cyclonedx-json"),
    (".cdx.xml", "cyclonedx-xml"),
    (".bom.json", "cyclonedx-json"),
    (".bom.xml", "cyclonedx-xml"),
    (".rdf", "spdx-rdf"),
    (".json", "cyclonedx-json"),
    (".xml", "cyclonedx-xml"),
    (".yaml", "spdx-yaml"),
    (".yml", "spdx-yaml"),
    (".tv", "spdx-tv"),
    (".csv", "spdx-lite-csv"),
    (".xlsx", "spdx-lite-xlsx"),
]


def _resolve(spec: str) -> Callable:
    module, _, func = spec.partition(":")
    return getattr(importlib.import_module(module), func)


def format_from_filename(path: str | Path) -> str | None:
    """The output format a file name suggests (``x.spdx.json`` → spdx-json), or None."""
    name = Path(path).name.lower()
    for suffix, fmt in _SUFFIXES:
        if name.endswith(suffix):
            return fmt
    return None


def detect_format(data: bytes, path: str | Path) -> str:
    """Sniff the content (not the name) to pick a reader; the name only breaks ties."""
    from mamori.sbom.detect import sniff

    return sniff(data, Path(path))


def read(path: str | Path, *, fmt: str | None = None, options: ReadOptions | None = None) -> Document:
    """Read any supported SBOM file into the model. Raises InputError with the file and the problem."""
    return read_detected(path, fmt=fmt, options=options)[0]


def read_detected(
    path: str | Path, *, fmt: str | None = None, options: ReadOptions | None = None
) -> tuple[Document, str]:
    """Like :func:`read` (the file is read once), and the format it was read as (``fmt`` or detected)."""
    p = Path(path)
    data = read_bytes(p)
    fmt = fmt or detect_format(data, p)
    if fmt not in READ_FORMATS:
        raise UnsupportedFormat(
            p,
            _("unknown input format {fmt!r}; known: {read_formats}").format(
                fmt=fmt, read_formats=", ".join(READ_FORMATS)
            ),
        )
    reader: Reader = _resolve(READ_FORMATS[fmt])
    return reader(data, p, options or ReadOptions()), fmt


def dumps(doc: Document, fmt: str, spec_version: str | None = None) -> bytes:
    if fmt not in WRITE_FORMATS:
        raise InputError(
            None,
            _("unknown output format {fmt!r}; known: {write_formats}").format(
                fmt=fmt, write_formats=", ".join(WRITE_FORMATS)
            ),
        )
    writer: Writer = _resolve(WRITE_FORMATS[fmt])
    return writer(doc, spec_version)


def write(doc: Document, path: str | Path, fmt: str | None = None, spec_version: str | None = None) -> str:
    """Serialise ``doc`` and write it atomically. Returns the format used."""
    fmt = fmt or format_from_filename(path)
    if fmt is None:
        raise InputError(path, _("cannot tell the output format from the file name; pass --to"))
    if fmt == "spdx-yaml":
        raise InputError(path, _("SPDX YAML is read, not written; use .spdx.json or .spdx"))
    try:
        data = dumps(doc, fmt, spec_version)
    except InputError as exc:
        if exc.path is not None:
            raise
        raise InputError(path, exc.problem) from None  # name the output file in the one-line error
    write_bytes_atomic(path, data)
    return fmt

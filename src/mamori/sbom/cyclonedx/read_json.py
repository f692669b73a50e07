"""CycloneDX JSON (spec 1.2-1.7; 1.0/1.1 accepted where the shape is the same) → the model.

orjson parses; from_bom.py maps and type-checks. Every problem is an InputError naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from mamori.errors import InputError
from mamori.i18n import _
from mamori.model import Document
from mamori.sbom.cyclonedx.from_bom import document_from_bom
from mamori.sbom.cyclonedx.versions import READ_VERSIONS
from mamori.sbom.gc_pause import gc_paused

if TYPE_CHECKING:
    from mamori.sbom.formats import ReadOptions


def parse_json(data: bytes, path: Path) -> Any:
    """The parsed JSON value, or InputError with line and column."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InputError(
            path,
            _("invalid JSON at line {lineno} column {colno}: {msg}").format(
                lineno=exc.lineno, colno=exc.colno, msg=exc.msg
            ),
        ) from None


def check_bom(obj: Any, path: Path) -> str:
    """The spec version of a CycloneDX JSON BOM; InputError when it is not one mamori reads."""
    if type(obj) is not dict:
        raise InputError(path, _("not a CycloneDX BOM: the JSON document is not an object"))
    fmt = obj.get("bomFormat")
    if fmt != "CycloneDX":
        found = "missing" if fmt is None else repr(fmt)[:40]
        raise InputError(
            path, _("not a CycloneDX BOM: bomFormat is {found}, expected 'CycloneDX'").format(found=found)
        )
    version = obj.get("specVersion")
    if version is None:
        raise InputError(path, _("not a CycloneDX BOM: specVersion is missing"))
    if type(version) is not str or version not in READ_VERSIONS:
        shown = " ".join(version.split()) if type(version) is str else repr(version)
        raise InputError(path, _("unsupported CycloneDX spec version {shown}").format(shown=shown[:40]))
    return version


def read(data: bytes, path: Path, options: ReadOptions | None = None) -> Document:
    """Read CycloneDX JSON bytes into a Document."""
    path = Path(path)
    with gc_paused():
        bom = parse_json(data, path)
        version = check_bom(bom, path)
        return document_from_bom(bom, path, version, strict=bool(options and options.strict))

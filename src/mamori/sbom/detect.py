"""Content sniffing: which reader understands these bytes."""

from __future__ import annotations

import re
from pathlib import Path

from mamori.errors import UnsupportedFormat
from mamori.i18n import _

_HEAD = 65536
_CDX_NS = re.compile(rb"<(?:\w+:)?bom\b[^>]*xmlns(?::\w+)?=[\"']http://cyclonedx\.org/schema/bom/", re.S)
_RDF = re.compile(rb"<(?:rdf:)?RDF\b|spdx\.org/rdf/terms", re.S)
_XML_ROOT = re.compile(rb"<([A-Za-z_][\w.:-]*)")
# SPDX YAML: the version key, or the document's own SPDXID (PyYAML sorts keys, so either may come late)
_SPDX_YAML = re.compile(rb"(?m)^[\"']?(?:spdxVersion|SPDXID)[\"']?\s*:\s*[\"']?(?:SPDX-2|SPDXRef-DOCUMENT)")


def _strip(data: bytes) -> bytes:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.lstrip()


def sniff(data: bytes, path: Path) -> str:
    """Return a READ_FORMATS key, or raise UnsupportedFormat naming the file."""
    if not data.strip():
        raise UnsupportedFormat(path, _("file is empty"))
    if data.startswith(b"PK\x03\x04"):
        return _spreadsheet(data, path, xlsx=True)
    body = _strip(data)
    head = body[:_HEAD]
    first = head[:1]
    if first in (b"{", b"["):
        if b'"bomFormat"' in head or b'"$schema": "http://cyclonedx.org' in head:
            return "cyclonedx-json"
        if b'"spdxVersion"' in head or b'"SPDXID"' in head:
            return "spdx-json"
        if b"spdx.org/rdf/3" in head:
            raise UnsupportedFormat(
                path, _("SPDX 3 (JSON-LD) is not supported yet; mamori reads SPDX 2.1, 2.2 and 2.3")
            )
        return _json_fallback(body, path)
    if first == b"<":
        if _CDX_NS.search(head):
            return "cyclonedx-xml"
        if _RDF.search(head):
            return "spdx-rdf"
        root = _root_name(head)
        if root == b"bom":
            return "cyclonedx-xml"  # the reader reports the missing/unknown namespace
        raise UnsupportedFormat(
            path,
            _("not an SBOM: XML root element <{element}> is neither CycloneDX nor SPDX RDF").format(
                element=(root or b"?").decode(errors="replace")
            ),
        )
    if re.search(rb"(?m)^\s*SPDXVersion\s*:", head):
        return "spdx-tv"
    if _SPDX_YAML.search(head) or _SPDX_YAML.search(body):
        return "spdx-yaml"
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv") or _looks_like_csv(head):
        return _spreadsheet(data, path, xlsx=False)
    raise UnsupportedFormat(path, _("not an SBOM: no CycloneDX, SPDX or spreadsheet content recognised"))


def has_sbom_signature(data: bytes) -> bool:
    """Whether the first bytes name CycloneDX or SPDX (a cheap look, no parse): tells an SBOM that
    happens to carry a lockfile's name from the lockfile itself."""
    head = _strip(data[: _HEAD + 3])[:_HEAD]
    if head[:1] in (b"{", b"["):
        return b'"bomFormat"' in head or b'"spdxVersion"' in head
    if head[:1] == b"<":
        return bool(_CDX_NS.search(head) or _RDF.search(head))
    return bool(re.search(rb"(?m)^\s*SPDXVersion\s*:", head) or _SPDX_YAML.search(head))


def _root_name(head: bytes) -> bytes | None:
    for match in _XML_ROOT.finditer(head):
        name = match.group(1)
        if name.startswith((b"?", b"!")):
            continue
        return name.split(b":")[-1]
    return None


def _json_fallback(body: bytes, path: Path) -> str:
    import orjson

    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise UnsupportedFormat(
            path,
            _("invalid JSON at line {lineno} column {colno}: {msg}").format(
                lineno=exc.lineno, colno=exc.colno, msg=exc.msg
            ),
        ) from None
    if isinstance(obj, dict):
        if obj.get("bomFormat") == "CycloneDX":
            return "cyclonedx-json"
        if "spdxVersion" in obj:
            return "spdx-json"
    raise UnsupportedFormat(path, _("not an SBOM: JSON without CycloneDX 'bomFormat' or SPDX 'spdxVersion'"))


def _looks_like_csv(head: bytes) -> bool:
    line = head.split(b"\n", 1)[0]
    return line.count(b",") >= 2 or line.count(b"\t") >= 2


def _spreadsheet(data: bytes, path: Path, *, xlsx: bool) -> str:
    from mamori.sbom.spreadsheet import sniff_kind

    kind = sniff_kind(data, path, xlsx=xlsx)  # "spdx-lite" or "spreadsheet"
    return f"{kind}-{'xlsx' if xlsx else 'csv'}"

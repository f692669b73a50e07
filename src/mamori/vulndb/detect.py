"""Which source a document comes from, and its parsed items.

:func:`parse_blob` is the single entry point every input (file, directory member, zip member,
HTTP answer) goes through.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from mamori.errors import InputError
from mamori.i18n import _
from mamori.model.purl2cpe import PurlCpeLink
from mamori.model.vulnerability import Epss, Kev, Vulnerability
from mamori.vulndb import cve5, epss, kev, nvd, osv, purl2cpe
from mamori.vulndb.rejected import DataWarning, Rejected
from mamori.vulndb.sources import Blob, maybe_gunzip

SOURCES = ("osv", "nvd", "cve5", "jvn", "kev", "epss", "purl2cpe")
VULNERABILITY_SOURCES = ("osv", "nvd", "cve5", "jvn")
_JVN_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:VULDEF-Document|RDF)[\s>/]")
Item = Vulnerability | Kev | Epss | PurlCpeLink | Rejected | DataWarning


@dataclass(slots=True)
class Parsed:
    source: str
    items: Iterator[Item]


def _strip(data: bytes) -> bytes:
    return data.removeprefix(b"\xef\xbb\xbf").lstrip()


def _json_source(doc: Any) -> str | None:
    if cve5.looks_like(doc):
        return "cve5"
    if kev.looks_like(doc):
        return "kev"
    if nvd.looks_like(doc):
        return "nvd"
    if epss.looks_like(doc):
        return "epss"
    if osv.looks_like(doc) or (isinstance(doc, list) and doc and any(osv.looks_like(d) for d in doc[:5])):
        return "osv"
    if isinstance(doc, dict) and isinstance(doc.get("vulns"), list):
        return "osv"
    return None


def _json_items(source: str, doc: Any, name: str) -> Iterator[Item]:
    parsers = {
        "osv": osv.parse_document,
        "nvd": nvd.parse_document,
        "cve5": cve5.parse_document,
        "kev": kev.parse_document,
        "epss": epss.parse_document,
    }
    if source not in parsers:
        raise InputError(name, _("a JSON document cannot be {source} data").format(source=source))
    return parsers[source](doc, name)


def parse_blob(blob: Blob, source: str | None = None) -> Parsed | None:
    """Parse one document; None when it is not vulnerability data (a README, a schema, a product list).

    With ``source`` given, a document that is recognisably something else also gives None; one that
    cannot be recognised is parsed as ``source`` (and fails with a clear error if it is not).
    """
    blob = maybe_gunzip(blob)
    name, data = blob.name, blob.data
    body = _strip(data)
    lower = name.lower()
    if not body:
        raise InputError(name, _("file is empty"))
    if body[:1] == b"<":
        if not _JVN_ROOT.search(body[:4096]):
            if source == "jvn":
                raise InputError(name, _("not a MyJVN VULDEF or JVNRSS document"))
            return None  # some other XML (a MyJVN product or vendor list, an SBOM ...)
        from mamori.vulndb import jvn  # lxml and the JVN reader: loaded for XML input only
        from mamori.vulndb.xmlsafe import parse as parse_xml

        root = parse_xml(name, data)
        kind = jvn.document_kind(root)
        if kind in ("vuldef", "rss"):
            return Parsed("jvn", jvn.parse_root(root, name)) if source in (None, "jvn") else None
        if source == "jvn":
            if kind is None:
                raise InputError(name, _("not a MyJVN VULDEF or JVNRSS document"))
            return None
        return None
    if body[:1] in (b"{", b"["):
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise InputError(name, _("not valid JSON: {exc}").format(exc=exc)) from None
        detected = _json_source(doc)
        if source and detected and detected != source:
            return None
        chosen = source or detected
        return Parsed(chosen, _json_items(chosen, doc, name)) if chosen else None
    if epss.looks_like_csv(body) or lower.endswith(".csv"):
        if source not in (None, "epss"):
            return None
        return Parsed("epss", epss.parse_csv(name, data))
    if purl2cpe.looks_like_tsv(body) or lower.endswith(".tsv"):
        if source not in (None, "purl2cpe"):
            return None
        return Parsed("purl2cpe", purl2cpe.parse_tsv(name, data))
    if lower.endswith((".yaml", ".yml")) or source in ("osv", "purl2cpe"):
        if purl2cpe.looks_like_scanoss(name, body) and source in (None, "purl2cpe"):
            return Parsed("purl2cpe", purl2cpe.parse_scanoss_yaml(name, data))
        if source == "purl2cpe":
            return (
                None
                if lower.endswith("cpes.yml")
                else Parsed("purl2cpe", purl2cpe.parse_scanoss_yaml(name, data))
            )
        doc = osv.load(name, data)
        if osv.looks_like(doc) or source == "osv":
            return Parsed("osv", osv.parse_document(doc, name)) if source in (None, "osv") else None
        return None
    if source:
        raise InputError(name, _("not {source} data").format(source=source))
    return None

"""JVN iPedia through MyJVN: VULDEF 3.2 (``getVulnDetailInfo``) and JVNRSS 3.2 (``getVulnOverviewList``).

Japanese titles and overviews, CPE 2.2 URIs, CVSS v2/v3, related CVE and JVN IDs as aliases.
Accepted with and without xmlns declarations (see :mod:`mamori.vulndb.xmlsafe`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from mamori.errors import InputError
from mamori.i18n import _
from mamori.model.references import dedupe
from mamori.model.timestamps import iso_utc
from mamori.model.vulnerability import (
    AffectedProduct,
    ProductVersion,
    Reference,
    Severity,
    SourceRef,
    Vulnerability,
)
from mamori.vulndb import shapes
from mamori.vulndb.rejected import Rejected, guarded
from mamori.vulndb.severity import make_severity
from mamori.vulndb.xmlsafe import attr, child, children, local, parse, text

SOURCE = "jvn"
PROVIDER = "JVN iPedia"
_ALIAS = re.compile(r"^(CVE-\d{4}-\d{4,}|JVN(?:VU|TA)?#[0-9A-Z-]+)$")
_CWE = re.compile(r"^CWE-\d+$")
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def document_kind(root: etree._Element) -> str | None:
    """vuldef | rss | other MyJVN answer (product or vendor list) | None."""
    name = local(root.tag)
    if name == "VULDEF-Document":
        return "vuldef"
    if name == "RDF" and any(local(c.tag) == "item" or local(c.tag) == "channel" for c in root):
        return "rss"
    if name == "Result":
        return "other"
    return None


def _lang(root: etree._Element) -> str:
    return (root.get(_XML_LANG) or attr(root, "lang") or "ja").lower()[:2]


def _severity(vector: str, version: str | None, score: str | None, rating: str | None) -> Severity:
    """JVN gives v2 vectors without a prefix: the version attribute tells them apart."""
    v2 = "2.0" if version == "2.0" else None
    return make_severity(
        vector, source=SOURCE, version=v2, source_score=score, source_rating=rating, provider=PROVIDER
    )


def _date(parent: etree._Element, tag: str, name: str, record_id: str) -> str | None:
    """The text of a date element; a text longer than any date rejects the record."""
    value = text(parent, tag)
    if value is not None and len(value) > shapes.DATE_LIMIT:
        raise shapes.too_long(name, record_id, tag, shapes.DATE_LIMIT)
    return value


def _record(
    record_id: str,
    feed: str,
    lang: str,
    texts: dict[str, str | None],
    dates: tuple[str | None, str | None],
    aliases: list[str],
    cwes: set[str],
    references: list[Reference],
    severities: list[Severity],
    products: list[AffectedProduct],
) -> Vulnerability:
    published, modified = iso_utc(dates[0]), iso_utc(dates[1])
    title, summary = texts["title"], texts["summary"]
    return Vulnerability(
        id=record_id,
        aliases=aliases,
        sources=[SourceRef(SOURCE, record_id, feed, published, modified)],
        titles={lang: title} if title else {},
        summaries={lang: summary} if summary else {},
        published=published,
        modified=modified,
        severities=severities,
        cwes=sorted(cwes),
        references=dedupe(references),
        affected_products=products,
    )


def _vuldef_record(info: etree._Element, lang: str, name: str) -> Vulnerability:
    record_id = text(info, "VulinfoID")
    data = child(info, "VulinfoData")
    if not record_id or data is None:
        raise InputError(name, _("VULDEF Vulinfo without VulinfoID or VulinfoData"))
    aliases: list[str] = []
    cwes: set[str] = set()
    references: list[Reference] = []
    for item in children(child(data, "Related"), "RelatedItem"):
        kind = (item.get("type") or "").lower()
        ident = text(item, "VulinfoID") or ""
        if _ALIAS.match(ident) and ident not in aliases:
            aliases.append(ident)
        if kind == "cwe" and _CWE.match(ident):
            cwes.add(ident)
        url = text(item, "URL")
        if url:
            ref_type = "ADVISORY" if kind in ("advisory", "vendor") else "WEB"
            references.append(Reference(url, ref_type, [t for t in (kind, text(item, "Name")) if t], SOURCE))
    products: list[AffectedProduct] = []
    for item in children(child(data, "Affected"), "AffectedItem"):
        cpes = [c.text.strip() for c in children(item, "Cpe") if c.text and c.text.strip()]
        versions = [
            ProductVersion(version=v.text.strip(), status="affected", version_type="text")
            for v in children(item, "VersionNumber")
            if v.text and v.text.strip()
        ]
        products.append(
            AffectedProduct(
                vendor=text(item, "Name"),
                product=text(item, "ProductName"),
                cpes=cpes,
                versions=versions,
                source=SOURCE,
                provider=PROVIDER,
                record_id=record_id,
            )
        )
    severities = [
        _severity(vector, cvss.get("version"), text(cvss, "Base"), text(cvss, "Severity"))
        for cvss in children(child(data, "Impact"), "Cvss")
        if (vector := text(cvss, "Vector"))
    ]
    texts = {"title": text(data, "Title"), "summary": text(child(data, "VulinfoDescription"), "Overview")}
    dates = (
        _date(data, "DateFirstPublished", name, record_id),
        _date(data, "DateLastUpdated", name, record_id),
    )
    return _record(
        record_id, f"vuldef:{lang}", lang, texts, dates, aliases, cwes, references, severities, products
    )


def _rss_record(item: etree._Element, lang: str, name: str) -> Vulnerability:
    record_id = text(item, "identifier")
    if not record_id:
        raise InputError(name, _("JVNRSS item without sec:identifier"))
    aliases: list[str] = []
    cwes: set[str] = set()
    references: list[Reference] = []
    for ref in children(item, "references"):
        ident = ref.get("id") or ""
        if _ALIAS.match(ident) and ident not in aliases:
            aliases.append(ident)
        if _CWE.match(ident):
            cwes.add(ident)
        if ref.text and ref.text.strip():
            tags = [t for t in (ref.get("source"), ident) if t]
            references.append(
                Reference(ref.text.strip(), "ADVISORY" if ref.get("source") else "WEB", tags, SOURCE)
            )
    link = text(item, "link")
    if link:
        references.insert(0, Reference(link, "ADVISORY", ["JVNDB"], SOURCE))
    products = [
        AffectedProduct(
            vendor=cpe.get("vendor"),
            product=cpe.get("product"),
            cpes=[cpe.text.strip()],
            source=SOURCE,
            provider=PROVIDER,
            record_id=record_id,
        )
        for cpe in children(item, "cpe")
        if cpe.text and cpe.text.strip()
    ]
    severities = [
        _severity(c.get("vector") or "", c.get("version"), c.get("score"), c.get("severity"))
        for c in children(item, "cvss")
        if c.get("vector")
    ]
    texts = {"title": text(item, "title"), "summary": text(item, "description")}
    dates = (
        _date(item, "issued", name, record_id),
        _date(item, "modified", name, record_id) or _date(item, "date", name, record_id),
    )
    return _record(
        record_id, f"rss:{lang}", lang, texts, dates, aliases, cwes, references, severities, products
    )


def parse_root(root: etree._Element, name: str) -> Iterator[Vulnerability | Rejected]:
    kind = document_kind(root)
    lang = _lang(root)
    if kind == "vuldef":
        for i, info in enumerate(children(root, "Vulinfo")):
            label = text(info, "VulinfoID") or f"Vulinfo[{i}]"
            yield guarded(name, label, lambda info=info: _vuldef_record(info, lang, name))
    elif kind == "rss":
        for i, item in enumerate(children(root, "item")):
            label = text(item, "identifier") or f"item[{i}]"
            yield guarded(name, label, lambda item=item: _rss_record(item, lang, name))
    else:
        raise InputError(
            name,
            _("not a MyJVN vulnerability document (root element {element})").format(element=local(root.tag)),
        )


def parse_bytes(name: str, data: bytes) -> Iterator[Vulnerability | Rejected]:
    yield from parse_root(parse(name, data), name)

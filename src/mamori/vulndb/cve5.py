"""CVE JSON 5.x records (cvelistV5 layout and single files), CNA and ADP containers (CISA ADP SSVC, KEV)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from mamori.errors import InputError
from mamori.i18n import _
from mamori.model.references import better_type, joined_source, typed_reference
from mamori.model.timestamps import iso_date, iso_utc
from mamori.model.vulnerability import (
    AffectedProduct,
    Kev,
    ProductVersion,
    Reference,
    Severity,
    SourceRef,
    Ssvc,
    Vulnerability,
)
from mamori.vulndb import shapes
from mamori.vulndb.products import derived_cpes
from mamori.vulndb.severity import make_severity

SOURCE = "cve5"
_METRIC_KEYS = {"cvssV2_0": "2.0", "cvssV3_0": "3.0", "cvssV3_1": "3.1", "cvssV4_0": "4.0"}
_CWE = re.compile(r"\bCWE-\d+\b")


def language(tag: str) -> str:
    """``en-US`` / ``eng`` → en, ``ja-JP`` / ``jpn`` → ja."""
    t = tag.lower()
    if t.startswith("en"):
        return "en"
    if t.startswith(("ja", "jp")):
        return "ja"
    return t


def _texts(entries: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for entry in entries or []:
        value = entry.get("value")
        if isinstance(value, str) and value.strip():
            out.setdefault(language(str(entry.get("lang") or "en")), value.strip())
    return out


def _severities(metrics: Any, provider: str | None) -> list[Severity]:
    out: list[Severity] = []
    for metric in metrics or []:
        for key, version in _METRIC_KEYS.items():
            data = metric.get(key)
            if isinstance(data, dict) and isinstance(data.get("vectorString"), str):
                out.append(
                    make_severity(
                        data["vectorString"],
                        source=SOURCE,
                        version=version,
                        source_score=data.get("baseScore"),
                        source_rating=data.get("baseSeverity"),
                        provider=provider,
                    )
                )
    return out


def _cwes(problem_types: Any) -> set[str]:
    out: set[str] = set()
    for pt in problem_types or []:
        for d in pt.get("descriptions") or []:
            cwe = d.get("cweId")
            if isinstance(cwe, str) and cwe.startswith("CWE-"):
                out.add(cwe)
            elif isinstance(d.get("description"), str):
                out.update(_CWE.findall(d["description"]))
    return out


def _versions(entries: Any) -> list[ProductVersion]:
    out: list[ProductVersion] = []
    for v in entries:
        get = v.get
        version, status, changes = get("version", ""), get("status"), get("changes")
        out.append(
            ProductVersion(  # positional (version, status, type, lessThan, lessThanOrEqual, changes)
                version if version.__class__ is str else str(version),
                status if status and status.__class__ is str else str(status or "affected"),
                get("versionType"),
                get("lessThan"),
                get("lessThanOrEqual"),
                list(changes) if changes else [],
            )
        )
    return out


def _products(entries: Any, provider: str | None, record_id: str, container: str) -> list[AffectedProduct]:
    out: list[AffectedProduct] = []
    for entry in entries or []:
        versions = _versions(entry.get("versions") or [])
        cpes = [c for c in entry.get("cpes") or [] if isinstance(c, str)]
        vendor, product, repo = entry.get("vendor"), entry.get("product"), entry.get("repo")
        out.append(
            AffectedProduct(
                vendor=vendor,
                product=product,
                cpes=cpes,
                versions=versions,
                default_status=entry.get("defaultStatus"),
                package_name=entry.get("packageName"),
                collection_url=entry.get("collectionURL"),
                repo=repo,
                platforms=[p for p in entry.get("platforms") or [] if isinstance(p, str)],
                source=SOURCE,
                provider=provider,
                record_id=record_id,
                container=container,
                derived_cpes=[] if cpes else derived_cpes(vendor, product, repo),
            )
        )
    return out


def _references(entries: Any, seen: dict[str, Reference]) -> None:
    """A container's references added to ``seen`` (by URL, in the order first seen): one reference
    per URL, tags united, the more specific type winning, as :func:`mamori.model.references.dedupe`
    does, in the same pass that types them (the references are new here: none is copied)."""
    for r in entries or []:
        if not r.get("url"):
            continue
        ref = typed_reference(r["url"], r.get("tags"), SOURCE)
        old = seen.get(ref.url)
        if old is None:
            seen[ref.url] = ref
            continue
        old.tags.extend(t for t in ref.tags if t not in old.tags)
        old.type = better_type(old.type, ref.type)
        old.source = joined_source(old.source, ref.source)


def _ssvc(content: dict[str, Any], provider: str | None) -> Ssvc:
    options: dict[str, str] = {}
    for option in content.get("options") or []:
        if isinstance(option, dict):
            for k, v in option.items():
                options[k.lower()] = str(v).lower()
    return Ssvc(
        exploitation=options.get("exploitation"),
        automatable=options.get("automatable"),
        technical_impact=options.get("technical impact"),
        role=content.get("role"),
        version=content.get("version"),
        timestamp=iso_utc(content.get("timestamp")),
        provider=provider,
        cve_id=content.get("id"),
    )


def parse_record(doc: Any, name: str) -> Vulnerability:
    """One CVE JSON 5 record → :class:`Vulnerability`."""
    if not isinstance(doc, dict) or not isinstance(doc.get("cveMetadata"), dict):
        raise InputError(name, _("not a CVE JSON 5 record (no cveMetadata)"))
    meta = doc["cveMetadata"]
    record_id = meta.get("cveId")
    shapes.CVE5.check(doc, name, record_id if isinstance(record_id, str) else "")
    if not isinstance(record_id, str) or not record_id.startswith("CVE-"):
        raise InputError(name, _("CVE record has no cveMetadata.cveId"))
    try:
        return _record(doc, meta, record_id)
    except (AttributeError, KeyError, TypeError) as exc:
        raise InputError(
            name,
            _("{record_id}: malformed CVE 5 record ({kind}: {exc})").format(
                record_id=record_id, kind=type(exc).__name__, exc=exc
            ),
        ) from None


def _record(doc: dict[str, Any], meta: dict[str, Any], record_id: str) -> Vulnerability:
    state = meta.get("state")
    containers = doc.get("containers") or {}
    cna = containers.get("cna") or {}
    cna_name = (cna.get("providerMetadata") or {}).get("shortName") or meta.get("assignerShortName")
    published, modified = iso_utc(meta.get("datePublished")), iso_utc(meta.get("dateUpdated"))
    withdrawn = iso_utc(meta.get("dateRejected") or meta.get("dateUpdated")) if state == "REJECTED" else None
    summaries = _texts(cna.get("descriptions")) or _texts(cna.get("rejectedReasons"))
    title = cna.get("title")
    severities = _severities(cna.get("metrics"), cna_name)
    cwes = _cwes(cna.get("problemTypes"))
    references: dict[str, Reference] = {}
    _references(cna.get("references"), references)
    products = _products(cna.get("affected"), cna_name, record_id, "cna")
    ssvc: list[Ssvc] = []
    kev: list[Kev] = []
    for index, adp in enumerate(containers.get("adp") or []):
        provider = (adp.get("providerMetadata") or {}).get("shortName")
        severities += _severities(adp.get("metrics"), provider)
        cwes |= _cwes(adp.get("problemTypes"))
        _references(adp.get("references"), references)
        products += _products(adp.get("affected"), provider, record_id, "adp")
        for number, metric in enumerate(adp.get("metrics") or []):
            other = metric.get("other") or {}
            content = other.get("content") or {}
            where = ("containers", "adp", index, "metrics", number, "other", "content")
            if other.get("type") == "ssvc":
                shapes.CVE5_SSVC.check(content, "", record_id, where)
                ssvc.append(_ssvc(content, provider))
            elif other.get("type") == "kev":
                shapes.CVE5_KEV.check(content, "", record_id, where)
                kev.append(
                    Kev(cve_id=record_id, date_added=iso_date(content.get("dateAdded")), source=SOURCE)
                )
    return Vulnerability(
        id=record_id,
        sources=[SourceRef(SOURCE, record_id, "", published, modified, withdrawn, state)],
        titles={"en": title.strip()} if isinstance(title, str) and title.strip() else {},
        summaries=summaries,
        published=published,
        modified=modified,
        withdrawn=withdrawn,
        severities=severities,
        cwes=sorted(cwes),
        references=list(references.values()),
        affected_products=products,
        kev=kev,
        ssvc=ssvc,
    )


def parse_document(doc: Any, name: str) -> Iterator[Vulnerability]:
    yield parse_record(doc, name)


def looks_like(doc: Any) -> bool:
    return isinstance(doc, dict) and (
        doc.get("dataType") == "CVE_RECORD" or isinstance(doc.get("cveMetadata"), dict)
    )

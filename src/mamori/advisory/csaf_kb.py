"""A supplier's CSAF 2.0 advisory as knowledge-base records (:class:`mamori.model.vulnerability.Vulnerability`).

One record per entry of ``vulnerabilities``: its id is the CVE id (else ``<tracking id>#<n>``); the record's
source is the provider, ``csaf:<publisher namespace>`` (each provider a source of its own in ``db status``),
and its feed the advisory's tracking id, so two advisories of one publisher about the same CVE stay two
records; the same name is the provider of every product and score. Products come from the product tree: each ``product_id`` with its vendor, product
name and version (branches), its CPE and purl (``product_identification_helper``), and the status the
vulnerability gives it (known_affected, fixed, known_not_affected, under_investigation …). Scores become
CVSS severities, remediations references (with the category), CWE the record's CWE.
"""

from __future__ import annotations

import hashlib
from typing import Any

from mamori.model.vulnerability import (
    AffectedPackage,
    AffectedProduct,
    ProductVersion,
    Reference,
    SourceRef,
    Vulnerability,
)

SOURCE = "csaf"  # the start of every provider's source name
FEED_LIMIT = 32  # the store's feed column
SOURCE_LIMIT = 200  # the store's source columns (mamori.store.schema.SOURCE_LENGTH)
# CSAF product status → the knowledge base's version status
STATUS = {
    "known_affected": "affected",
    "first_affected": "affected",
    "last_affected": "affected",
    "fixed": "unaffected",
    "first_fixed": "unaffected",
    "known_not_affected": "unaffected",
    "recommended": "unaffected",
    "under_investigation": "unknown",
}


def provider_name(namespace: str) -> str:
    """``csaf:<publisher namespace>``: who says what a record says, the source of its records (a name
    longer than the store's source column: its start and a digest)."""
    name = f"{SOURCE}:{namespace.rstrip('/')}"
    if len(name) <= SOURCE_LIMIT:
        return name
    digest = hashlib.blake2b(name.encode(), digest_size=4).hexdigest()
    return f"{name[: SOURCE_LIMIT - 9]}~{digest}"


def feed_key(tracking_id: str) -> str:
    """The tracking id, or (when longer than the store's feed column) its start and a digest."""
    if len(tracking_id) <= FEED_LIMIT:
        return tracking_id
    digest = hashlib.blake2b(tracking_id.encode(), digest_size=4).hexdigest()
    return f"{tracking_id[: FEED_LIMIT - 9]}~{digest}"


def _products(tree: Any) -> dict[str, dict[str, Any]]:
    """product_id → {vendor, product, version, cpe, purl, name}."""
    out: dict[str, dict[str, Any]] = {}
    if not isinstance(tree, dict):
        return out

    def full(fpn: Any, ctx: dict[str, str]) -> None:
        if not isinstance(fpn, dict) or not isinstance(fpn.get("product_id"), str):
            return
        helper = fpn.get("product_identification_helper")
        helper = helper if isinstance(helper, dict) else {}
        out[fpn["product_id"]] = {
            **ctx,
            "name": str(fpn.get("name", "")),
            "cpe": helper.get("cpe") if isinstance(helper.get("cpe"), str) else None,
            "purl": helper.get("purl") if isinstance(helper.get("purl"), str) else None,
        }

    def walk(branch: Any, ctx: dict[str, str], depth: int) -> None:
        if not isinstance(branch, dict) or depth > 30:
            return
        category, name = branch.get("category"), str(branch.get("name", ""))
        here = dict(ctx)
        if category == "vendor":
            here["vendor"] = name
        elif category == "product_name":
            here["product"] = name
        elif category in ("product_version", "product_version_range"):
            here["version"] = name
            here["range"] = "1" if category == "product_version_range" else ""
        full(branch.get("product"), here)
        for child in branch.get("branches", []) if isinstance(branch.get("branches"), list) else []:
            walk(child, here, depth + 1)

    for branch in tree.get("branches", []) if isinstance(tree.get("branches"), list) else []:
        walk(branch, {}, 0)
    for fpn in tree.get("full_product_names", []) if isinstance(tree.get("full_product_names"), list) else []:
        full(fpn, {})
    for rel in tree.get("relationships", []) if isinstance(tree.get("relationships"), list) else []:
        if isinstance(rel, dict):
            full(
                rel.get("full_product_name"), dict(out.get(str(rel.get("relates_to_product_reference")), {}))
            )
    return out


def _purl_parts(purl: str) -> tuple[str, str]:
    """(ecosystem type, name with namespace) of ``pkg:type/namespace/name@version``."""
    body = purl.removeprefix("pkg:").split("?", 1)[0].split("#", 1)[0].split("@", 1)[0]
    kind, _slash, name = body.partition("/")
    return kind, name


def records(data: dict[str, Any]) -> list[Vulnerability]:
    """The knowledge-base records of one valid CSAF document."""
    document = data["document"]
    tracking = document["tracking"]
    tracking_id = str(tracking["id"])
    namespace = str(document.get("publisher", {}).get("namespace", ""))
    provider = provider_name(namespace)
    products = _products(data.get("product_tree"))
    withdrawn = tracking.get("current_release_date") if document.get("category") == "csaf_withdrawn" else None
    out: list[Vulnerability] = []
    from mamori.vulndb.severity import make_severity

    for n, vuln in enumerate(data.get("vulnerabilities", []) or [], 1):
        if not isinstance(vuln, dict):
            continue
        cve = vuln.get("cve") if isinstance(vuln.get("cve"), str) else None
        vid = cve or f"{tracking_id}#{n}"
        record = Vulnerability(
            id=vid,
            sources=[
                SourceRef(
                    provider,
                    vid,
                    feed=feed_key(tracking_id),
                    published=tracking.get("initial_release_date"),
                    modified=tracking.get("current_release_date"),
                    withdrawn=withdrawn,
                    status=str(tracking.get("status", "")) or None,
                )
            ],
            published=tracking.get("initial_release_date"),
            modified=tracking.get("current_release_date"),
            withdrawn=withdrawn,
        )
        title = vuln.get("title") or document.get("title")
        if isinstance(title, str):
            record.titles[str(document.get("lang") or "en")[:2]] = title
        for note in vuln.get("notes", []) or []:
            if isinstance(note, dict) and note.get("category") in ("description", "summary"):
                record.summaries[str(document.get("lang") or "en")[:2]] = str(note.get("text", ""))
                break
        cwe = vuln.get("cwe")
        if isinstance(cwe, dict) and isinstance(cwe.get("id"), str):
            record.cwes.append(cwe["id"])
        for score in vuln.get("scores", []) or []:
            if not isinstance(score, dict):
                continue
            for key in ("cvss_v3", "cvss_v2"):
                cvss = score.get(key)
                if isinstance(cvss, dict) and isinstance(cvss.get("vectorString"), str):
                    version = str(cvss.get("version", "")) or None
                    vector = cvss["vectorString"]
                    if key == "cvss_v2" and not vector.startswith("("):
                        version = "2.0"
                    record.severities.append(
                        make_severity(
                            vector,
                            source=provider,
                            version=version,
                            source_score=cvss.get("baseScore"),
                            source_rating=cvss.get("baseSeverity"),
                            provider=provider,
                        )
                    )
        for ref in vuln.get("references", []) or []:
            if isinstance(ref, dict) and isinstance(ref.get("url"), str):
                record.references.append(Reference(ref["url"], "ADVISORY", source=provider))
        for rem in vuln.get("remediations", []) or []:
            if isinstance(rem, dict) and isinstance(rem.get("url"), str):
                kind = "FIX" if rem.get("category") == "vendor_fix" else "WEB"
                record.references.append(
                    Reference(rem["url"], kind, tags=[str(rem.get("category", ""))], source=provider)
                )
        status = vuln.get("product_status") if isinstance(vuln.get("product_status"), dict) else {}
        for category, ids in status.items():
            state = STATUS.get(category)
            if state is None or not isinstance(ids, list):
                continue
            for pid in ids:
                product = products.get(str(pid), {"name": str(pid)})
                _add_product(record, product, state, provider, tracking_id)
        out.append(record)
    return out


def _add_product(
    record: Vulnerability, product: dict[str, Any], state: str, provider: str, tracking_id: str
) -> None:
    version = product.get("version")
    versions = [] if not version or product.get("range") else [ProductVersion(str(version), status=state)]
    cpe, purl = product.get("cpe"), product.get("purl")
    record.affected_products.append(
        AffectedProduct(
            vendor=product.get("vendor"),
            product=product.get("product") or product.get("name"),
            cpes=[cpe] if cpe else [],
            versions=versions,
            default_status=None if versions else state,
            source=provider,
            provider=provider,
            record_id=tracking_id,
        )
    )
    if purl and state == "affected":
        kind, name = _purl_parts(purl)
        pinned = purl.split("?", 1)[0].split("#", 1)[0].partition("@")[2]
        record.affected_packages.append(
            AffectedPackage(
                ecosystem=kind,
                name=name,
                purl=purl.split("@", 1)[0],
                versions=[pinned] if pinned else [],
                source=provider,
                record_id=tracking_id,
            )
        )

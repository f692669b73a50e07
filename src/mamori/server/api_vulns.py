"""Native API: one vulnerability under any of its ids, and where the principal's products are affected by
it (``/api/mamori/v1/vulnerabilities``).

The record is the merged one ``mamori db show ID`` prints (:meth:`mamori.store.Store.lookup`): every
alias, the sources that contributed, CVSS vectors and scores, CISA KEV and EPSS, SSVC points of CISA's
ADP, and the titles and summaries per language (JVN's Japanese text where the store has it). The
knowledge base is shared by every team; which releases it affects is told only for the products the
principal may read findings of.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from mamori.server import api_common as common
from mamori.server.api import PREFIX
from mamori.server.api_findings import Filters, find
from mamori.server.security import Principal, get_store, require
from mamori.store import Store

router = APIRouter(prefix=PREFIX, tags=["vulnerabilities"])


class SourceOut(BaseModel):
    source: str = Field(description="osv, nvd, cve5, jvn, kev, epss")
    id: str
    published: str | None
    modified: str | None


class SeverityOut(BaseModel):
    method: str
    version: str
    vector: str
    score: float | None
    rating: str | None
    source: str


class KevOut(BaseModel):
    cve_id: str
    date_added: str | None
    due_date: str | None
    known_ransomware_use: str | None
    required_action: str | None = None
    source: str | None = None


class EpssOut(BaseModel):
    cve_id: str
    score: float
    percentile: float
    date: str | None


class ReferenceOut(BaseModel):
    url: str
    type: str | None = None


class VulnerabilityOut(BaseModel):
    id: str
    aliases: list[str]
    related: list[str]
    also: list[str] = Field(description="other records that carry the id asked for")
    titles: dict[str, str] = Field(description="language (en, ja) → title")
    summaries: dict[str, str] = Field(description="language (en, ja) → summary")
    published: str | None
    modified: str | None
    withdrawn: str | None
    sources: list[SourceOut]
    severities: list[SeverityOut]
    cwes: list[str]
    kev: list[KevOut]
    epss: list[EpssOut]
    ssvc: list[dict[str, Any]]
    references: list[ReferenceOut]


class AffectedReleaseOut(BaseModel):
    product_id: int
    product: str
    release_id: int
    release: str
    findings: int = Field(description="unresolved findings of the vulnerability in the release")
    open: int = Field(description="of which in the gate (not not_affected or fixed)")
    statuses: list[str]
    components: list[str] = Field(description="purls (or names) of the affected components")


class AffectedOut(BaseModel):
    vulnerability: str
    releases: list[AffectedReleaseOut]


VulnId = Path(..., min_length=1, max_length=200, description="any id or alias: CVE, GHSA, JVNDB, …")


def _lookup(store: Store, vuln_id: str) -> Any:
    found = store.lookup(vuln_id)
    if found is None:
        raise common.not_found()
    return found


def _as_dicts(items: list[Any]) -> list[dict[str, Any]]:
    import orjson

    return orjson.loads(orjson.dumps(items))  # type: ignore[no-any-return]


@router.get("/vulnerabilities/{vuln_id}", response_model=VulnerabilityOut)
def vulnerability(
    vuln_id: str = VulnId,
    principal: Principal = Depends(require("finding.read")),
    store: Store = Depends(get_store),
) -> VulnerabilityOut:
    """The merged record under any of its ids, with KEV, EPSS and the Japanese text of JVN."""
    found = _lookup(store, vuln_id)
    v = found.vulnerability
    return VulnerabilityOut(
        id=v.id,
        aliases=v.aliases,
        related=v.related,
        also=found.also,
        titles=v.titles,
        summaries=v.summaries,
        published=v.published,
        modified=v.modified,
        withdrawn=v.withdrawn,
        sources=_as_dicts(v.sources),
        severities=_as_dicts(v.severities),
        cwes=v.cwes,
        kev=_as_dicts(v.kev),
        epss=_as_dicts(v.epss),
        ssvc=_as_dicts(v.ssvc),
        references=_as_dicts(v.references),
    )


@router.get("/vulnerabilities/{vuln_id}/affected", response_model=AffectedOut)
def affected(
    vuln_id: str = VulnId,
    principal: Principal = Depends(require("finding.read")),
    store: Store = Depends(get_store),
) -> AffectedOut:
    """Where am I affected? The releases of the products the principal may read findings of that have an
    unresolved finding of the vulnerability (under any of its ids), with its triage statuses."""
    found = store.lookup(vuln_id)
    ids = [found.vulnerability.id, *found.vulnerability.aliases] if found is not None else [vuln_id.strip()]
    names = common.visible_names(store, principal, "finding.read")
    per: dict[tuple[str, str], dict[str, Any]] = {}
    wanted = {i.upper() for i in ids}
    page = find(store, names, None, Filters(), "priority", 10**9, 0, "user", enrich=False)
    for f in page.items:
        if not wanted & {i.upper() for i in [f.vulnerability.id, *f.vulnerability.aliases]}:
            continue
        entry = per.setdefault(
            (f.product, f.release),
            {
                "product_id": f.product_id,
                "product": f.product,
                "release_id": f.release_id,
                "release": f.release,
                "findings": 0,
                "open": 0,
                "statuses": set(),
                "components": set(),
            },
        )
        entry["findings"] += 1
        entry["open"] += int(f.in_gate)
        entry["statuses"].add(f.status)
        entry["components"].add(f.component.purl or f.component.name)
    releases = [
        AffectedReleaseOut(**{**e, "statuses": sorted(e["statuses"]), "components": sorted(e["components"])})
        for _key, e in sorted(per.items())
    ]
    if found is None and not releases:
        raise common.not_found()
    return AffectedOut(
        vulnerability=found.vulnerability.id if found is not None else vuln_id.strip(), releases=releases
    )

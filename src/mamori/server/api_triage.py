"""Native API: triage decisions of a release and its VEX (``/api/mamori/v1/releases/{id}/...``).

A decision is a triage record of :mod:`mamori.triage.records` (what ``mamori triage record`` sets: VEX
status, CISA justification, CycloneDX responses, free text, who and when, history kept). With it the API
takes an SSVC decision: the decision points of the variant's table (``user``: the deployer's, or
``developer``: the supplier's) whose outcome :mod:`mamori.triage.ssvc` computes, and evidence (text and
a URL). Who decided is the principal (a user's name, or the API key's id). The record's free text carries
the evidence and the SSVC decision in one line each, so that the VEX documents exported from the records
(impact statement or action statement) say why::

    <evidence text>
    SSVC <table>: <outcome> (<point>=<value>, …)
    Evidence: <url>

VEX export: ``GET …/vex?format=cyclonedx|openvex|csaf`` (:func:`mamori.portfolio.vexout.release_vex`, as
``mamori triage export``).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from mamori.errors import InputError
from mamori.model.vex import JUSTIFICATIONS, RESPONSES
from mamori.server import api_common as common
from mamori.server.api import PREFIX
from mamori.server.security import Principal, get_store, require
from mamori.store import Store

router = APIRouter(prefix=PREFIX, tags=["triage"])

SSVC_LINE = re.compile(r"^SSVC (?P<table>\S+): (?P<outcome>\S+) \((?P<points>[^)]*)\)$", re.MULTILINE)
EVIDENCE_LINE = re.compile(r"^Evidence: (?P<url>\S+)$", re.MULTILINE)

Status = Literal["not_affected", "affected", "fixed", "under_investigation"]


class SsvcIn(BaseModel):
    role: Literal["user", "developer"] = Field("user", description="user (deployer) or developer (supplier)")
    points: dict[str, str] = Field(
        description="decision point → value (ids, official keys or names), e.g. "
        '{"exploitation": "active", "exposure": "open", "automatable": "yes", "human_impact": "high"}',
        max_length=20,
    )


class EvidenceIn(BaseModel):
    text: str | None = Field(None, max_length=4000)
    url: str | None = Field(None, max_length=2000, description="an https or http URL")


class DecisionIn(BaseModel):
    component: str = Field(
        min_length=1, max_length=4000, description="the component's purl, or * (the release)"
    )
    vulnerability: str = Field(min_length=1, max_length=200)
    status: Status
    justification: str | None = Field(
        None, max_length=100, description="not_affected: " + ", ".join(JUSTIFICATIONS)
    )
    responses: list[str] = Field(default_factory=list, max_length=5, description=", ".join(RESPONSES))
    ssvc: SsvcIn | None = None
    evidence: EvidenceIn | None = None


class SsvcOut(BaseModel):
    table: str
    outcome: str
    points: dict[str, str]


class RecordOut(BaseModel):
    component: str
    vulnerability: str
    status: str
    justification: str | None
    responses: list[str]
    detail: str | None
    who: str
    at: str
    version: int
    origin: str = Field(description="user (a decision) or vex (an imported VEX statement)")
    source: str | None
    change: str | None = None
    ssvc: SsvcOut | None = Field(None, description="the SSVC decision recorded with it")
    evidence_url: str | None = None


class DecisionOut(BaseModel):
    change: str = Field(description="created, updated or unchanged")
    record: RecordOut
    decision: dict[str, Any] | None = Field(None, description="the SSVC decision: table, outcome, path")


def record_out(r: Any) -> RecordOut:
    ssvc = None
    url = None
    if r.detail:
        found = SSVC_LINE.search(r.detail)
        if found is not None:
            pairs = (p.partition("=") for p in found.group("points").split(", ") if "=" in p)
            ssvc = SsvcOut(
                table=found.group("table"),
                outcome=found.group("outcome"),
                points={k: v for k, _s, v in pairs},
            )
        link = EVIDENCE_LINE.search(r.detail)
        url = link.group("url") if link is not None else None
    return RecordOut(
        component=r.component_purl,
        vulnerability=r.vulnerability,
        status=r.status,
        justification=r.justification,
        responses=list(r.responses),
        detail=r.detail,
        who=r.who,
        at=r.at,
        version=r.version,
        origin=r.origin,
        source=r.source,
        change=r.change,
        ssvc=ssvc,
        evidence_url=url,
    )


def _url(value: str | None) -> str | None:
    from urllib.parse import urlsplit

    if value is None or not value.strip():
        return None
    text = value.strip()
    parts = urlsplit(text)
    if (
        parts.scheme not in ("https", "http")
        or not parts.netloc
        or any(c.isspace() or ord(c) < 32 for c in text)
    ):
        raise common.unprocessable("an http or https URL", "body", "evidence", "url")
    return text


def _decide(ssvc: SsvcIn) -> Any:
    from mamori.triage import ssvc as ssvc_mod
    from mamori.triage.variants import variant

    chosen = variant(ssvc.role, "low")
    return ssvc_mod.default_catalog().decide(chosen.table, ssvc.points)


def _has_finding(store: Store, ref: common.ReleaseRef, component: str, vulnerability: str) -> bool:
    from mamori.portfolio.views import release
    from mamori.triage.records import WHOLE_RELEASE, canonical_purl

    wanted_purl = canonical_purl(component)
    wanted = vulnerability.strip().upper()
    for f in release(store, ref.product, ref.version)["findings"]:
        ids = {i.upper() for i in [f["vulnerability"]["id"], *f["vulnerability"]["aliases"]]}
        if wanted not in ids:
            continue
        purl = f["component"]["purl"]
        if wanted_purl == WHOLE_RELEASE or (purl and canonical_purl(purl) == wanted_purl):
            return True
    return False


@router.post("/releases/{release_id}/triage", response_model=DecisionOut)
async def record_decision(
    release_id: int,
    body: DecisionIn,
    request: Request,
    principal: Principal = Depends(require("triage.write")),
    store: Store = Depends(get_store),
) -> DecisionOut:
    """Record a triage decision for a finding of the release (a new version of its record when there is
    one): VEX status, justification, responses, the SSVC decision and the evidence; who decided is the
    principal. 404 when the release has no finding of that vulnerability in that component."""
    from mamori.triage.records import set_record, validated

    url = _url(body.evidence.url if body.evidence else None)

    def run() -> DecisionOut:
        ref = common.release_or_404(store, principal, "triage.write", release_id)
        decision = _decide(body.ssvc) if body.ssvc is not None else None
        if not _has_finding(store, ref, body.component, body.vulnerability):
            raise HTTPException(404, "no such finding in the release")
        lines = []
        if body.evidence is not None and body.evidence.text and body.evidence.text.strip():
            lines.append(body.evidence.text.strip())
        if decision is not None:
            pairs = ", ".join(f"{p}={v}" for p, v in decision.pairs)
            lines.append(f"SSVC {decision.table.id}: {decision.outcome.id} ({pairs})")
        if url is not None:
            lines.append(f"Evidence: {url}")
        record = validated(
            ref.product,
            ref.version,
            body.component,
            body.vulnerability,
            body.status,
            body.justification,
            body.responses,
            "\n".join(lines) or None,
            who=principal.name,
        )
        stored, change = set_record(store, record)
        audit_detail: dict[str, Any] = {
            "component": stored.component_purl,
            "vulnerability": stored.vulnerability,
            "status": stored.status,
            "justification": stored.justification,
            "version": stored.version,
            "change": change,
        }
        if decision is not None:
            audit_detail["ssvc"] = {"table": decision.table.id, "outcome": decision.outcome.id}
        common.record(
            store,
            request,
            principal,
            "triage.record",
            f"release:{ref.id}",
            audit_detail,
            common.team_of(principal, "triage.write", ref.product_id),
        )
        return DecisionOut(
            change=change,
            record=record_out(stored),
            decision=decision.as_dict() if decision is not None else None,
        )

    try:
        return await run_in_threadpool(run)
    except InputError as exc:
        raise common.unprocessable(exc.problem) from None


@router.get("/releases/{release_id}/triage", response_model=list[RecordOut])
def list_decisions(
    release_id: int,
    principal: Principal = Depends(require("finding.read")),
    store: Store = Depends(get_store),
    origin: Literal["user", "vex"] | None = Query(None, description="decisions (user) or imported VEX (vex)"),
) -> list[RecordOut]:
    """The release's current triage records (the decisions, and the statements of imported VEX)."""
    from mamori.triage.records import list_records

    ref = common.release_or_404(store, principal, "finding.read", release_id)
    return [record_out(r) for r in list_records(store, ref.product, ref.version, origin)]


@router.get("/releases/{release_id}/triage/history", response_model=list[RecordOut])
def decision_history(
    release_id: int,
    component: str = Query(..., min_length=1, max_length=4000),
    vulnerability: str = Query(..., min_length=1, max_length=200),
    principal: Principal = Depends(require("finding.read")),
    store: Store = Depends(get_store),
) -> list[RecordOut]:
    """Every version of one record, oldest first (who decided what, when)."""
    from mamori.triage.records import history

    ref = common.release_or_404(store, principal, "finding.read", release_id)
    try:
        return [record_out(r) for r in history(store, ref.product, ref.version, component, vulnerability)]
    except InputError as exc:
        raise common.unprocessable(exc.problem) from None


VEX_MEDIA = {
    "cyclonedx": ("application/vnd.cyclonedx+json", "cdx.vex.json"),
    "openvex": ("application/json", "openvex.json"),
    "csaf": ("application/json", "csaf.json"),
}


@router.get(
    "/releases/{release_id}/vex",
    response_class=Response,
    responses={
        200: {
            "description": "the VEX document (attachment)",
            "content": {
                "application/vnd.cyclonedx+json": {
                    "schema": {"type": "object", "description": "CycloneDX VEX"}
                },
                "application/json": {"schema": {"type": "object", "description": "OpenVEX or CSAF VEX"}},
            },
        }
    },
)
def release_vex(
    release_id: int,
    principal: Principal = Depends(require("vex.export")),
    store: Store = Depends(get_store),
    format: Literal["cyclonedx", "openvex", "csaf"] = Query("cyclonedx"),
    author: str | None = Query(
        None, max_length=200, description="the document's author (default: the principal)"
    ),
    namespace: str | None = Query(None, max_length=500, description="CSAF publisher namespace (https URL)"),
    spec_version: Literal["1.4", "1.5", "1.6"] | None = Query(None, description="CycloneDX version"),
    tlp: Literal["WHITE", "GREEN", "AMBER", "RED"] = Query("WHITE", description="CSAF TLP label"),
    lang: Literal["en", "ja"] = Query("en", description="CSAF: the language of the texts mamori writes"),
) -> Response:
    """The release's VEX from its triage records: CycloneDX VEX, OpenVEX or CSAF VEX (404 without
    records)."""
    from mamori import vex
    from mamori.portfolio.vexout import release_vex as build
    from mamori.triage.records import list_records

    ref = common.release_or_404(store, principal, "vex.export", release_id)
    if format == "csaf" and not namespace:
        raise common.unprocessable("CSAF needs the publisher's namespace (https URL)", "query", "namespace")
    if not list_records(store, ref.product, ref.version):
        raise HTTPException(404, "no triage records for this release")
    try:
        made = build(store, ref.product, ref.version, format, author=author or principal.name, lang=lang)
        data = vex.dumps(
            made.document,
            format,
            vex.WriteOptions(spec_version=spec_version, namespace=namespace, lang=lang, tlp=tlp),
        )
    except InputError as exc:
        raise common.unprocessable(exc.problem) from None
    media, ext = VEX_MEDIA[format]
    name = f"{common.file_stem(f'{ref.product}-{ref.version}')}.{ext}"
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})

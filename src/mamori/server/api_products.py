"""Native API: products and their releases, components and SBOMs (``/api/mamori/v1``).

Thin wiring over :mod:`mamori.portfolio` (the views ``mamori product`` and ``mamori release show``
print), :mod:`mamori.sbom` (the writers of every format mamori writes) and :mod:`mamori.sbom.check` (the
NTIA minimum elements of ``mamori sbom check``). A release is named by its id (``GET /products`` lists
them); a release of another team's product answers 404, as one that does not exist.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from mamori.errors import InputError
from mamori.i18n import N_
from mamori.server import api_common as common
from mamori.server.api import PREFIX, ProductOut, _products
from mamori.server.errors import ApiError
from mamori.server.security import Principal, get_store, product_or_404, require
from mamori.store import Store

router = APIRouter(prefix=PREFIX, tags=["products"])

ORIGINAL = "original"


class ProductIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    supplier: str | None = Field(None, max_length=1000)


class SbomRevisionOut(BaseModel):
    revision: int
    file_name: str
    format: str
    spec_version: str | None
    serial_number: str | None
    timestamp: str | None
    tools: str | None
    sha256: str
    size: int
    components: int
    imported_at: str
    imported_by: str
    importer: str | None


class NtiaOut(BaseModel):
    """The NTIA minimum elements of the release's current SBOM (``mamori sbom check``)."""

    passed: bool
    score: int = Field(description="0–100, as mamori sbom check gives it")
    elements: dict[str, Any]


class ReleaseSummaryOut(BaseModel):
    id: int
    version: str
    created_at: str
    open_findings: int
    not_affected_or_fixed: int


class ReleaseDetailOut(BaseModel):
    id: int
    product_id: int
    product: str
    supplier: str | None
    version: str
    created_at: str
    created_by: str
    sbom: SbomRevisionOut | None
    revisions: list[SbomRevisionOut]
    summary: dict[str, Any] = Field(
        description="open_findings, not_affected_or_fixed, resolved_findings, by_rating, by_status, kev, "
        "components, components_affected, not_evaluated"
    )
    ntia: NtiaOut | None
    sbom_formats: list[str] = Field(description="the formats GET …/sbom?format= gives")


class ComponentOut(BaseModel):
    name: str
    group: str | None
    version: str | None
    type: str
    purl: str | None
    cpes: list[str]
    licenses: str | None = Field(description="the licence expression: declared, else concluded")
    license_declared: str | None
    license_concluded: str | None
    supplier: str | None
    hashes: list[str] = Field(description="ALG:value")
    open_findings: int


def _formats() -> list[str]:
    from mamori.sbom import WRITE_FORMATS

    return [ORIGINAL, *WRITE_FORMATS]


@router.post("/products", response_model=ProductOut, status_code=201)
async def create_product(
    body: ProductIn,
    request: Request,
    principal: Principal = Depends(require("product.write")),
    store: Store = Depends(get_store),
) -> ProductOut:
    """A new product, owned by the principal's teams that may create products (409 when the name is
    taken)."""
    if not common.may_create_product(principal):
        raise HTTPException(403, "not permitted")

    def make() -> ProductOut:
        from sqlalchemy import select

        from mamori.portfolio.tables import ProductRow

        with store.engine.connect() as conn:
            taken = conn.scalar(select(ProductRow.id).where(ProductRow.name == body.name.strip()))
        if taken is not None:
            raise HTTPException(409, "a product of this name exists")
        remote = request.client.host if request.client else None
        try:
            product_id = common.create_owned_product(store, principal, body.name, body.supplier, remote)
        except InputError as exc:
            if common.product_ids(store, [body.name.strip()]):
                raise HTTPException(409, "a product of this name exists") from None
            raise common.unprocessable(exc.problem) from None
        common.record(
            store,
            request,
            principal,
            "product.create",
            f"product:{product_id}",
            {"name": body.name.strip(), "supplier": body.supplier},
            common.team_of(principal, "product.write", product_id),
        )
        return _products(store, frozenset({product_id}))[0]

    return await run_in_threadpool(make)


@router.get("/products/{product_id}/releases", response_model=list[ReleaseSummaryOut])
def product_releases(
    product_id: int,
    principal: Principal = Depends(require("product.read")),
    store: Store = Depends(get_store),
) -> list[ReleaseSummaryOut]:
    """The product's releases, newest first, with their open findings."""
    from sqlalchemy import select

    from mamori.portfolio.tables import ReleaseRow
    from mamori.portfolio.views import products

    product_or_404(principal, "product.read", product_id)
    found = common.product_name(store, product_id)
    if found is None:
        raise common.not_found()
    r = ReleaseRow.__table__
    with store.engine.connect() as conn:
        ids = {
            row.version: row.id
            for row in conn.execute(select(r.c.id, r.c.version).where(r.c.product_id == product_id))
        }
    view = next((p for p in products(store) if p["name"] == found), None)
    return [
        ReleaseSummaryOut(
            id=ids[x["version"]],
            version=x["version"],
            created_at=x["created_at"],
            open_findings=x["open_findings"],
            not_affected_or_fixed=x["not_affected_or_fixed"],
        )
        for x in (view["releases"] if view else [])
        if x["version"] in ids
    ]


def _ntia(store: Store, ref: common.ReleaseRef) -> NtiaOut | None:
    from mamori.portfolio.vexin import release_sbom
    from mamori.sbom.check import NTIA, evaluate, load_profile

    try:
        doc = release_sbom(store, ref.product, ref.version)
    except InputError:
        return None
    result = evaluate(doc, load_profile(NTIA))
    verdict = result.verdict_json()
    return NtiaOut(passed=result.passed, score=result.score, elements=verdict["elements"])


@router.get("/releases/{release_id}", response_model=ReleaseDetailOut)
def release_detail(
    release_id: int,
    principal: Principal = Depends(require("product.read")),
    store: Store = Depends(get_store),
) -> ReleaseDetailOut:
    """One release: its SBOM revisions with provenance, the counts of its findings, the NTIA minimum
    elements of its current SBOM."""
    from mamori.portfolio.views import release

    ref = common.release_or_404(store, principal, "product.read", release_id)
    view = release(store, ref.product, ref.version)
    return ReleaseDetailOut(
        id=ref.id,
        product_id=ref.product_id,
        product=ref.product,
        supplier=view["product"]["supplier"],
        version=ref.version,
        created_at=ref.created_at,
        created_by=ref.created_by,
        sbom=view["sbom"],
        revisions=view["revisions"],
        summary=view["summary"],
        ntia=_ntia(store, ref),
        sbom_formats=_formats(),
    )


@router.get("/releases/{release_id}/components", response_model=common.Page[ComponentOut])
def release_components(
    release_id: int,
    principal: Principal = Depends(require("product.read")),
    store: Store = Depends(get_store),
    q: str | None = Query(None, max_length=200, description="part of the name or purl"),
    limit: int = Query(common.DEFAULT_PAGE, ge=1, le=common.MAX_PAGE),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> common.Page[ComponentOut]:
    """The components of the release's current SBOM, with licences and purls, most open findings first."""
    from mamori.portfolio.vexin import release_sbom
    from mamori.portfolio.views import release

    ref = common.release_or_404(store, principal, "product.read", release_id)
    view = release(store, ref.product, ref.version)
    open_by_purl: dict[str, int] = {}
    for f in view["findings"]:
        if f["in_gate"] and f["component"]["purl"]:
            open_by_purl[f["component"]["purl"]] = open_by_purl.get(f["component"]["purl"], 0) + 1
    try:
        doc = release_sbom(store, ref.product, ref.version)
    except InputError:
        doc = None
    items: list[ComponentOut] = []
    seen: set[tuple[Any, ...]] = set()
    for c in doc.all_components() if doc is not None else []:
        key = (c.name, c.group, c.version, c.purl)
        if key in seen:
            continue
        seen.add(key)
        items.append(
            ComponentOut(
                name=c.name,
                group=c.group,
                version=c.version,
                type=c.type,
                purl=c.purl,
                cpes=list(c.cpes),
                licenses=c.licenses,
                license_declared=c.license_declared,
                license_concluded=c.license_concluded,
                supplier=c.supplier.name if c.supplier is not None else None,
                hashes=[f"{h.alg}:{h.content}" for h in c.hashes],
                open_findings=open_by_purl.get(c.purl or "", 0),
            )
        )
    if q:
        needle = q.lower()
        items = [i for i in items if needle in i.name.lower() or needle in (i.purl or "").lower()]
    items.sort(key=lambda i: (-i.open_findings, i.name, i.version or ""))
    return common.Page[ComponentOut](
        total=len(items), limit=limit, offset=offset, items=items[offset : offset + limit]
    )


@router.get(
    "/releases/{release_id}/sbom",
    response_class=Response,
    responses={
        200: {
            "description": "the SBOM (attachment)",
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in ["application/octet-stream", *(m for m, _ext in common.SBOM_MEDIA.values())]
            },
        }
    },
)
def release_sbom_download(
    release_id: int,
    principal: Principal = Depends(require("product.read")),
    store: Store = Depends(get_store),
    format: str = Query(ORIGINAL, description="original (the file as uploaded), or a format mamori writes"),
) -> Response:
    """The release's current SBOM: as uploaded, or converted to CycloneDX, SPDX or SPDX Lite."""
    from mamori.portfolio.archive import original_bytes
    from mamori.portfolio.vexin import release_sbom
    from mamori.sbom import dumps

    if format not in _formats():
        raise ApiError(400, "bad_format", N_("format: one of {formats}"), formats=", ".join(_formats()))
    ref = common.release_or_404(store, principal, "product.read", release_id)
    stem = common.file_stem(f"{ref.product}-{ref.version}")
    try:
        if format == ORIGINAL:
            data = original_bytes(store, ref.product, ref.version)
            media, name = "application/octet-stream", f"{stem}.sbom"
        else:
            data = dumps(release_sbom(store, ref.product, ref.version), format)
            media, ext = common.SBOM_MEDIA[format]
            name = f"{stem}.{ext}"
    except InputError:
        raise common.not_found() from None
    return Response(
        data,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
        },
    )

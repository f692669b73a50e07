"""Native API: the SBOM uploads and their processing state (``/api/mamori/v1/uploads``), from
:mod:`mamori.portfolio.uploads` (the uploads of ``PUT``/``POST /api/v1/bom``)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from mamori.portfolio import uploads
from mamori.server import api_common as common
from mamori.server.api import PREFIX
from mamori.server.security import Principal, get_store, product_or_404, require
from mamori.server.web import page_lang
from mamori.store import Store

router = APIRouter(prefix=PREFIX, tags=["uploads"])


class UploadOut(BaseModel):
    token: str
    state: str = Field(description="queued, processing, done or failed")
    processing: bool
    product: str
    version: str
    file_name: str
    size: int
    sha256: str
    submitted_at: str
    submitted_by: str
    started_at: str | None
    finished_at: str | None
    error: str | None = Field(
        description="why a failed upload was refused, one line, in the request's language (?lang=, the "
        "user's, the cookie's, Accept-Language, else English)"
    )
    release_id: int | None
    project_uuid: str | None
    sbom_format: str | None
    components: int | None
    open_findings: int | None
    unchanged: bool | None


@router.get("/uploads", response_model=common.Page[UploadOut])
def list_uploads(
    request: Request,
    principal: Principal = Depends(require("product.read")),
    store: Store = Depends(get_store),
    product_id: int | None = Query(None, ge=1, le=2**62),
    state: Literal["queued", "processing", "done", "failed"] | None = Query(None),
    limit: int = Query(common.DEFAULT_PAGE, ge=1, le=common.MAX_PAGE),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> common.Page[UploadOut]:
    """The uploads of the products the principal may read, newest first."""
    if product_id is not None:
        product_or_404(principal, "product.read", product_id)
        name = common.product_name(store, product_id)
        if name is None:
            raise common.not_found()
        names: set[str] | None = {name}
    else:
        names = common.visible_names(store, principal, "product.read")
    found, total = uploads.list_uploads(store, names, state, limit, offset)
    lang = page_lang(request, principal.lang)
    return common.Page[UploadOut](
        total=total, limit=limit, offset=offset, items=[UploadOut(**s.as_dict(lang)) for s in found]
    )


@router.get("/uploads/{token}", response_model=UploadOut)
def upload(
    request: Request,
    token: str = Path(..., max_length=64),
    principal: Principal = Depends(require("product.read")),
    store: Store = Depends(get_store),
) -> UploadOut:
    """One upload by its token (404 for an upload of another team's product, or none)."""
    status = uploads.upload_status(store, token)
    if status is None:
        raise common.not_found()
    ids = common.product_ids(store, [status.product])
    if status.product not in ids:
        raise common.not_found()
    product_or_404(principal, "product.read", ids[status.product])
    return UploadOut(**status.as_dict(page_lang(request, principal.lang)))

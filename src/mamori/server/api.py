"""The native REST API (``/api/mamori/v1``): who am I, my teams, the audit log, the products I may see.

Every answer holds only what the principal's grants cover: products of its teams (``admin``: all),
the audit lines of its teams (``admin``: all).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from mamori import accounts
from mamori.server.security import (
    ALL,
    Principal,
    current_principal,
    get_store,
    product_or_404,
    require,
)
from mamori.store import Store

PREFIX = "/api/mamori/v1"
router = APIRouter(prefix=PREFIX, tags=["mamori"])


class GrantOut(BaseModel):
    team: str
    role: str
    all_products: bool
    products: list[int] | None  # the product ids the grant covers (None: every product)


class MeOut(BaseModel):
    kind: str
    id: int
    name: str
    lang: str | None
    memberships: list[GrantOut]
    permissions: list[str]


class TeamOut(BaseModel):
    id: int
    name: str
    created_at: str


class ActorOut(BaseModel):
    kind: str
    id: int | None
    name: str


class AuditOut(BaseModel):
    id: int
    at: str
    actor: ActorOut
    action: str
    target: str | None
    detail: dict[str, Any] | None
    remote_addr: str | None
    team_id: int | None


class ReleaseOut(BaseModel):
    id: int
    version: str
    created_at: str


class ProductOut(BaseModel):
    id: int
    name: str
    supplier: str | None
    created_at: str
    created_by: str
    releases: list[ReleaseOut]


@router.get("/me", response_model=MeOut)
async def me(principal: Principal = Depends(current_principal)) -> MeOut:
    """The principal asking: a user or an API key, its teams and roles, and every permission it holds."""
    return MeOut(
        kind=principal.kind,
        id=principal.id,
        name=principal.name,
        lang=principal.lang,
        memberships=[
            GrantOut(
                team=g.team,
                role=g.role,
                all_products=g.all_products,
                products=None if g.all_products else sorted(g.products),
            )
            for g in principal.memberships
        ],
        permissions=sorted(principal.permissions()),
    )


@router.get("/teams", response_model=list[TeamOut])
async def teams(
    principal: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> list[TeamOut]:
    """The principal's teams (with ``admin.users``: every team)."""
    ids = None if principal.can("admin.users") else principal.team_ids
    found = await run_in_threadpool(accounts.list_teams, store, ids)
    return [TeamOut(id=t.id, name=t.name, created_at=t.created_at) for t in found]


@router.get("/audit", response_model=list[AuditOut])
async def audit(
    principal: Principal = Depends(require("audit.read")),
    store: Store = Depends(get_store),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10_000_000),
    action: str | None = Query(None, max_length=64),
    actor: str | None = Query(None, max_length=200),
    since: str | None = Query(None, max_length=32, description="ISO 8601 UTC, e.g. 2026-12-06T00:00:00Z"),
) -> list[AuditOut]:
    """The audit log, newest first: every line (``admin``) or the lines of the principal's teams where it
    reads the audit log."""
    scope = principal.visible_products("audit.read")
    team_ids = (
        None
        if scope is ALL
        else {g.team_id for g in principal.memberships if "audit.read" in g.permissions()}
    )
    entries = await run_in_threadpool(
        lambda: accounts.list_audit(
            store, limit=limit, offset=offset, action=action, actor=actor, since=since, team_ids=team_ids
        )
    )
    return [AuditOut(**e.as_dict()) for e in entries]


def _products(store: Store, ids: frozenset[int] | None) -> list[ProductOut]:
    from mamori.portfolio.tables import ProductRow, ReleaseRow

    p, r = ProductRow.__table__, ReleaseRow.__table__
    if ids is not None and not ids:
        return []
    stmt = select(p).order_by(p.c.name)
    releases = select(r.c.id, r.c.product_id, r.c.version, r.c.created_at).order_by(r.c.id.desc())
    if ids is not None:
        stmt = stmt.where(p.c.id.in_(sorted(ids)))
        releases = releases.where(r.c.product_id.in_(sorted(ids)))
    with store.engine.connect() as conn:
        by_product: dict[int, list[ReleaseOut]] = {}
        for row in conn.execute(releases):
            by_product.setdefault(row.product_id, []).append(
                ReleaseOut(id=row.id, version=row.version, created_at=row.created_at)
            )
        return [
            ProductOut(
                id=row.id,
                name=row.name,
                supplier=row.supplier,
                created_at=row.created_at,
                created_by=row.created_by,
                releases=by_product.get(row.id, []),
            )
            for row in conn.execute(stmt)
        ]


@router.get("/products", response_model=list[ProductOut])
async def products(
    principal: Principal = Depends(require("product.read")), store: Store = Depends(get_store)
) -> list[ProductOut]:
    """The products the principal may read, with their releases (newest first)."""
    scope = principal.visible_products("product.read")
    return await run_in_threadpool(_products, store, None if scope is ALL else frozenset(scope))


@router.get("/products/{product_id}", response_model=ProductOut)
async def product(
    product_id: int, principal: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> ProductOut:
    """One product with its releases; 404 for a product the principal may not see (or none)."""
    product_or_404(principal, "product.read", product_id)
    found = await run_in_threadpool(_products, store, frozenset({product_id}))
    if not found:
        raise HTTPException(404, "not found")
    return found[0]

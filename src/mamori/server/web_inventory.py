"""The inventory pages of the web interface: the deployments (filtered by site, product and status), one
deployment, and the patch-first list.

The data is that of the native API (:mod:`mamori.server.api_inventory`), which calls
:mod:`mamori.inventory` as ``mamori inventory`` does; the same rules decide who sees what (``inventory.read``
over the principal's products; another team's deployment: 404).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from mamori.inventory import deployments as dep
from mamori.inventory.priorities import priorities as rank
from mamori.server import api_inventory as api
from mamori.server.security import Principal, current_principal, get_store
from mamori.server.web import page_lang, render
from mamori.store import Store

router = APIRouter(include_in_schema=False)


def _allowed(principal: Principal) -> None:
    if not principal.can("inventory.read"):
        raise HTTPException(403, "not permitted")


def _param(request: Request, name: str) -> str | None:
    value = request.query_params.get(name, "").strip()[:200]
    return value or None


@router.get("/inventory")
async def inventory_page(
    request: Request, principal: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Response:
    _allowed(principal)
    status = request.query_params.get("status", "active")
    status = status if status in ("active", "retired", "all") else "active"
    site, product = _param(request, "site"), _param(request, "product")
    scope = api._scope(principal, "inventory.read")

    def load() -> tuple[list[dep.Deployment], list[dep.Deployment]]:
        every = dep.list_deployments(store, status=None, product_ids=scope)
        chosen = dep.list_deployments(
            store, site=site, product=product, status=None if status == "all" else status, product_ids=scope
        )
        return every, chosen

    every, chosen = await run_in_threadpool(load)
    return render(
        request,
        "inventory.html",
        page_lang(request, principal.lang),
        principal=principal,
        rows=[d.as_dict() for d in chosen],
        sites=sorted({d.site for d in every}),
        products=sorted({d.product for d in every}),
        filters={"site": site or "", "product": product or "", "status": status},
    )


@router.get("/inventory/priorities")
async def priorities_page(
    request: Request, principal: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Response:
    _allowed(principal)
    lang = page_lang(request, principal.lang)
    site = _param(request, "site")
    scope = api._scope(principal, "inventory.read")
    data = await run_in_threadpool(lambda: rank(store, site=site, lang=lang, product_ids=scope))
    return render(request, "inventory_priorities.html", lang, principal=principal, data=data)


@router.get("/inventory/{deployment_id}")
async def deployment_page(
    deployment_id: int,
    request: Request,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    _allowed(principal)
    if not 0 < deployment_id < 2**62:
        raise HTTPException(404, "not found")
    found = await run_in_threadpool(api._visible, store, principal, deployment_id, "inventory.read")
    return render(
        request, "deployment.html", page_lang(request, principal.lang), principal=principal, d=found.as_dict()
    )

"""The Suppliers page of the web interface: the team's CSAF subscriptions with their last pull, the release
bundles received and the contract terms agreed.

The data is that of the native API (:mod:`mamori.server.api_suppliers`); the same rules decide who sees what
(``supplier.read`` over the principal's teams and products).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from mamori.server import api_suppliers as api
from mamori.server.security import Principal, current_principal, get_store
from mamori.server.web import page_lang, render
from mamori.store import Store

router = APIRouter(include_in_schema=False)


@router.get("/suppliers")
async def suppliers_page(
    request: Request, principal: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Response:
    if not principal.can("supplier.read"):
        raise HTTPException(403, "not permitted")

    def load() -> dict[str, Any]:
        from mamori.bundle.importer import list_imports
        from mamori.contract.store import team_terms

        names = api._team_names(store)
        return {
            "subscriptions": [
                api._out(s, teams, names, principal)
                for s, teams in api.visible_subscriptions(store, principal)
            ],
            "bundles": list_imports(store, api._product_scope(principal, "supplier.read")),
            "contracts": [
                {
                    "supplier": terms.supplier,
                    "team": names.get(tid, str(tid)),
                    "set_at": set_at,
                    "agreed": sum(1 for i in terms.items.values() if i.agreed),
                }
                for tid, terms, set_at in team_terms(store, api._team_ids(store, principal, "supplier.read"))
            ],
        }

    data = await run_in_threadpool(load)
    return render(request, "suppliers.html", page_lang(request, principal.lang), principal=principal, **data)

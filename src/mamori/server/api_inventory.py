"""Native API: the deployed inventory (``/api/mamori/v1/inventory``).

Thin wiring over :mod:`mamori.inventory` — the same calls as ``mamori inventory``. A deployment belongs to
the product of its release: ``inventory.read`` lists and shows the deployments of the products the
principal's grants cover and ranks their findings (``/inventory/priorities``); ``inventory.write`` records,
changes and retires them. Another team's deployment answers 404, as one that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from mamori.errors import InputError
from mamori.inventory import deployments as dep
from mamori.inventory.priorities import priorities as rank
from mamori.server import api_common as common
from mamori.server.api import PREFIX
from mamori.server.security import ALL, Principal, audit, get_store, product_or_404, require
from mamori.store import Store

router = APIRouter(prefix=PREFIX, tags=["inventory"])
DeploymentId = Annotated[int, PathParam(ge=1, le=2**62, description="a deployment's id")]
Exposure = Literal["small", "controlled", "open"]
Mission = Literal["degraded", "crippled", "mef_failure", "mission_failure"]
Safety = Literal["negligible", "significant"]
Day = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]


T = TypeVar("T")


async def audited(
    request: Request,
    principal: Principal,
    product_id: int,
    action: str,
    call: Callable[[], T],
    describe: Callable[[T], tuple[str, dict[str, Any] | None]],
) -> T:
    """A change of the inventory (``call``, run in a worker thread) and then its audit line: ``describe``
    gives the target and details from what the call returned; the team is that of the product. An
    :class:`InputError` of the call reaches the caller, which answers it (API or page), and audits nothing."""
    made = await run_in_threadpool(call)
    target, detail = describe(made)
    await audit(request, action, target, detail, common.team_of(principal, "inventory.write", product_id))
    return made


async def add_audited(
    request: Request,
    principal: Principal,
    store: Store,
    product_id: int,
    product: str,
    release: str,
    fields: dict[str, Any],
) -> dep.Deployment:
    """Record a deployment of ``product`` ``release`` and audit it (``inventory.add``): the API's and the
    inventory page's."""
    return await audited(
        request,
        principal,
        product_id,
        "inventory.add",
        lambda: dep.add_deployment(store, product, release, who=principal.name, **fields),
        lambda m: (f"deployment:{m.id}", {"site": m.site}),
    )


async def update_audited(
    request: Request, principal: Principal, store: Store, found: dep.Deployment, fields: dict[str, Any]
) -> dep.Deployment:
    """Change ``fields`` of a deployment and audit it (``inventory.update``): the API's and the page's."""
    return await audited(
        request,
        principal,
        found.product_id,
        "inventory.update",
        lambda: dep.update_deployment(store, found.id, who=principal.name, **fields),
        lambda _: (f"deployment:{found.id}", {"fields": sorted(fields)}),
    )


async def retire_audited(
    request: Request, principal: Principal, store: Store, found: dep.Deployment
) -> dep.Deployment:
    """Mark a deployment retired and audit it (``inventory.retire``): the API's and the page's."""
    return await audited(
        request,
        principal,
        found.product_id,
        "inventory.retire",
        lambda: dep.retire_deployment(store, found.id, who=principal.name),
        lambda _: (f"deployment:{found.id}", None),
    )


def _scope(principal: Principal, permission: str) -> list[int] | None:
    """The product ids ``permission`` holds for; None: every product."""
    found = principal.visible_products(permission)
    return None if found is ALL else sorted(found)  # type: ignore[arg-type]


def _visible(store: Store, principal: Principal, deployment_id: int, permission: str) -> dep.Deployment:
    try:
        found = dep.get_deployment(store, deployment_id)
    except InputError:
        raise common.not_found() from None
    product_or_404(principal, permission, found.product_id)
    return found


class DeploymentFields(BaseModel):
    system: str | None = Field(default=None, max_length=200)
    environment: str | None = Field(default=None, max_length=2000)
    system_exposure: Exposure | None = None
    mission_impact: Mission | None = None
    safety_impact: Safety | None = None
    network: str | None = Field(default=None, max_length=200)
    owner: str | None = Field(default=None, max_length=500)
    deployed_since: Day | None = None
    end_of_support: Day | None = None


class DeploymentIn(DeploymentFields):
    product: str = Field(min_length=1, max_length=200)
    release: str = Field(min_length=1, max_length=100)
    site: str = Field(min_length=1, max_length=200)


class DeploymentChange(DeploymentFields):
    site: str | None = Field(default=None, min_length=1, max_length=200)


@router.get("/inventory", response_model=list[dict[str, Any]])
def list_inventory(
    site: Annotated[str | None, Query(max_length=200)] = None,
    product: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[Literal["active", "retired", "all"], Query()] = "active",
    principal: Principal = Depends(require("inventory.read")),
    store: Store = Depends(get_store),
) -> list[dict[str, Any]]:
    """The deployments of the principal's products (by site, product, release)."""
    found = dep.list_deployments(
        store,
        site=site,
        product=product,
        status=None if status == "all" else status,
        product_ids=_scope(principal, "inventory.read"),
    )
    return [d.as_dict() for d in found]


@router.get("/inventory/priorities", response_model=dict[str, Any])
def inventory_priorities(
    site: Annotated[str | None, Query(max_length=200)] = None,
    lang: Annotated[Literal["en", "ja"], Query()] = "en",
    principal: Principal = Depends(require("inventory.read")),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    """The patch list of the principal's deployments: every open finding ranked by the SSVC deployer tree
    with each deployment's own context; ``can_judge`` false with ``problems`` when something could not be
    checked (a release without an SBOM, a stale match, an old knowledge base)."""
    return rank(store, site=site, lang=lang, product_ids=_scope(principal, "inventory.read"))


@router.get("/inventory/{deployment_id}", response_model=dict[str, Any])
def show_deployment(
    deployment_id: DeploymentId,
    principal: Principal = Depends(require("inventory.read")),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    """One deployment."""
    return _visible(store, principal, deployment_id, "inventory.read").as_dict()


@router.post("/inventory", status_code=201, response_model=dict[str, Any])
async def create_deployment(
    body: DeploymentIn,
    request: Request,
    principal: Principal = Depends(require("inventory.write")),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    """Record a deployment of a release of one of the principal's products."""
    ids = await run_in_threadpool(common.product_ids, store, [body.product.strip()])
    pid = ids.get(body.product.strip())
    if pid is None or not principal.can("inventory.write", pid):
        raise common.unprocessable("product: one of your products", "body", "product")
    fields = body.model_dump(exclude={"product", "release"}, exclude_none=True)
    try:
        made = await add_audited(request, principal, store, pid, body.product, body.release, fields)
    except InputError as exc:
        raise common.unprocessable(exc.problem) from None
    return made.as_dict()


@router.patch("/inventory/{deployment_id}", response_model=dict[str, Any])
async def change_deployment(
    deployment_id: DeploymentId,
    body: DeploymentChange,
    request: Request,
    principal: Principal = Depends(require("inventory.write")),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    """Change fields of a deployment (the fields given; ``null`` leaves a field as it is)."""
    found = await run_in_threadpool(_visible, store, principal, deployment_id, "inventory.write")
    fields = body.model_dump(exclude_none=True)
    try:
        changed = await update_audited(request, principal, store, found, fields)
    except InputError as exc:
        raise common.unprocessable(exc.problem) from None
    return changed.as_dict()


@router.post("/inventory/{deployment_id}/retire", response_model=dict[str, Any])
async def retire(
    deployment_id: DeploymentId,
    request: Request,
    principal: Principal = Depends(require("inventory.write")),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    """Mark a deployment retired (it leaves the patch list)."""
    found = await run_in_threadpool(_visible, store, principal, deployment_id, "inventory.write")
    done = await retire_audited(request, principal, store, found)
    return done.as_dict()

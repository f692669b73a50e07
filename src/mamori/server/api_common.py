"""What the native API's routers and the Dependency-Track-compatible endpoints share: who may create a
product and which team owns the product created, the audit line of a change, and the page of a list.

A product created through the server belongs to the teams of the principal's grants that may create
products (``product.write`` over the whole team, not a membership limited to some products): its members
see it as their roles allow. An administrator's grant holds for every product anyway; its team owns the
product too, so that it is not left without a team.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from fastapi import HTTPException, Request
from pydantic import BaseModel
from sqlalchemy import select

from mamori import accounts
from mamori.server.security import ALL, Principal, product_or_404, remote_addr
from mamori.store import Store

# the media type and file-name suffix of each SBOM format a stored SBOM is served in (API and web pages)
SBOM_MEDIA = {
    "cyclonedx-json": ("application/vnd.cyclonedx+json", "cdx.json"),
    "cyclonedx-xml": ("application/vnd.cyclonedx+xml", "cdx.xml"),
    "spdx-json": ("application/spdx+json", "spdx.json"),
    "spdx-tv": ("text/spdx; charset=utf-8", "spdx"),
    "spdx-lite-csv": ("text/csv; charset=utf-8", "csv"),
    "spdx-lite-xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}


def may_create_product(principal: Principal) -> bool:
    """A grant with ``product.write`` over its whole team (or every product)."""
    return any(
        "product.write" in g.permissions() and (g.all_products or not g.limited)
        for g in principal.memberships
    )


def owning_teams(principal: Principal) -> list[str]:
    """The teams a product the principal creates is given to."""
    names: list[str] = []
    for grant in principal.memberships:
        creates = "product.write" in grant.permissions() and (grant.all_products or not grant.limited)
        if creates and grant.team not in names:
            names.append(grant.team)
    return names


def create_owned_product(
    store: Store, principal: Principal, name: str, supplier: str | None, remote: str | None
) -> int:
    """A new product (:func:`mamori.portfolio.add_product`) given to the principal's teams; its id.
    Raises :class:`~mamori.errors.InputError` when the name is taken or not valid."""
    from sqlalchemy.exc import IntegrityError

    from mamori.errors import InputError
    from mamori.i18n import _
    from mamori.portfolio import add_product

    try:
        product_id = add_product(store, name, supplier, who=principal.name)
    except IntegrityError:  # created by a concurrent request between the check and the insert
        raise InputError(None, _("a product of this name exists")) from None
    for team in owning_teams(principal):
        accounts.assign_product(store, team, product_id, actor=principal.actor, remote_addr=remote)
    return product_id


def team_of(principal: Principal, permission: str, product_id: int | None) -> int | None:
    """The team whose grant lets the principal do ``permission`` on the product (for the audit line)."""
    for grant in principal.memberships:
        if permission in grant.permissions() and (product_id is None or grant.covers(product_id)):
            return grant.team_id
    return None


def record(
    store: Store,
    request: Request,
    principal: Principal,
    action: str,
    target: str | None,
    detail: dict[str, Any] | None = None,
    team_id: int | None = None,
) -> None:
    """One line of the audit log for a change this request made (who, what, from where)."""
    accounts.record_audit(store, principal.actor, action, target, detail, remote_addr(request), team_id)


def not_found() -> HTTPException:
    return HTTPException(404, "not found")


# -- product releases ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ReleaseRef:
    """A product release as the routes name it: by its id."""

    id: int
    product_id: int
    product: str
    version: str
    created_at: str
    created_by: str


def release_ref(store: Store, release_id: int) -> ReleaseRef | None:
    from mamori.portfolio.tables import ProductRow, ReleaseRow

    p, r = ProductRow.__table__, ReleaseRow.__table__
    with store.engine.connect() as conn:
        row = conn.execute(
            select(r.c.id, r.c.product_id, p.c.name, r.c.version, r.c.created_at, r.c.created_by)
            .join(p, p.c.id == r.c.product_id)
            .where(r.c.id == release_id)
        ).first()
    return ReleaseRef(*row) if row is not None else None


def release_or_404(store: Store, principal: Principal, permission: str, release_id: int) -> ReleaseRef:
    """The release when ``permission`` holds for its product; another team's release, or none: 404 (403
    for a release the principal sees but may not do this with), as :func:`product_or_404`."""
    found = release_ref(store, release_id) if 0 < release_id < 2**63 else None
    if found is None:
        raise not_found()
    product_or_404(principal, permission, found.product_id)
    return found


def product_ids(store: Store, names: Iterable[str]) -> dict[str, int]:
    from mamori.portfolio.tables import ProductRow

    p = ProductRow.__table__
    wanted = sorted(set(names))
    if not wanted:
        return {}
    with store.engine.connect() as conn:
        return {
            row.name: row.id for row in conn.execute(select(p.c.name, p.c.id).where(p.c.name.in_(wanted)))
        }


def visible_names(store: Store, principal: Principal, permission: str) -> set[str] | None:
    """The names of the products ``permission`` holds for (None: every product)."""
    from mamori.portfolio.tables import ProductRow

    scope = principal.visible_products(permission)
    if scope is ALL:
        return None
    ids = sorted(scope)  # type: ignore[arg-type]
    if not ids:
        return set()
    p = ProductRow.__table__
    with store.engine.connect() as conn:
        return set(conn.scalars(select(p.c.name).where(p.c.id.in_(ids))))


# -- pages --------------------------------------------------------------------------------------------
MAX_PAGE = 500
DEFAULT_PAGE = 50
T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: ``items`` from ``offset`` on (at most ``limit``), and ``total``, how many there
    are in all with the same filters."""

    total: int
    limit: int
    offset: int
    items: list[T]


def product_name(store: Store, product_id: int) -> str | None:
    from mamori.portfolio.tables import ProductRow

    if not 0 < product_id < 2**63:
        return None
    with store.engine.connect() as conn:
        return conn.scalar(select(ProductRow.name).where(ProductRow.id == product_id))


def file_stem(text: str) -> str:
    """A download's file name from a product and release name: letters, digits, ``.-_`` only."""
    import re

    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "download"


def unprocessable(message: str, *loc: str | int) -> HTTPException:
    """A 422 answer in the shape the OpenAPI document declares for 422 (FastAPI's validation error: a
    list of ``{"loc", "msg", "type"}``), for the checks a route makes itself after the model's."""
    where: list[str | int] = list(loc) if loc else ["body"]
    return HTTPException(422, [{"loc": where, "msg": message, "type": "value_error"}])

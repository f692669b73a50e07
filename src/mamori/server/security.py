"""Who is asking and what they may do.

A :class:`Principal` is a signed-in user (session cookie) or an API key (``X-Api-Key`` header or
``Authorization: Bearer``). Its grants are its memberships: a role in a team, with the products the team
owns (optionally limited to some of them). A product permission holds for a product when a grant's role has
the permission and the product is the grant's (``admin``'s grants hold for every product).

FastAPI dependencies: :func:`current_principal` (401 without credentials), :func:`require` (403 without
the permission), and :func:`product_or_404`: a product the principal may not see answers 404, exactly as a
product that does not exist, so that no answer tells another team's products apart.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from mamori import accounts
from mamori.accounts.roles import roles
from mamori.store import Store

SESSION_COOKIE = "mamori_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class _All:
    """Every product (the answer of :meth:`Principal.visible_products` for an administrator)."""

    _instance: _All | None = None

    def __new__(cls) -> _All:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __contains__(self, item: object) -> bool:
        return True

    def __repr__(self) -> str:
        return "ALL"


ALL = _All()


@dataclass(frozen=True, slots=True)
class Grant:
    """One membership as the principal holds it: the team's products are resolved."""

    team_id: int
    team: str
    role: str
    products: frozenset[int]  # what the grant covers: the team's products, limited by the membership
    limited: bool = False  # the membership names some of the team's products only

    @property
    def all_products(self) -> bool:
        return roles()[self.role].scope == "all"

    def permissions(self) -> frozenset[str]:
        return roles()[self.role].permissions

    def covers(self, product_id: int) -> bool:
        return self.all_products or product_id in self.products


@dataclass(frozen=True)
class Principal:
    kind: str  # user | apikey
    id: int
    name: str
    memberships: tuple[Grant, ...]
    csrf_token: str | None = None  # a cookie session's: every unsafe request must carry it
    lang: str | None = None

    def can(self, permission: str, product_id: int | None = None) -> bool:
        """True when a grant has ``permission`` (for ``product_id`` when given)."""
        for grant in self.memberships:
            if permission in grant.permissions() and (product_id is None or grant.covers(product_id)):
                return True
        return False

    def visible_products(self, permission: str) -> frozenset[int] | _All:
        """The products ``permission`` holds for: :data:`ALL`, or a set of product ids."""
        found: set[int] = set()
        for grant in self.memberships:
            if permission in grant.permissions():
                if grant.all_products:
                    return ALL
                found |= grant.products
        return frozenset(found)

    @property
    def team_ids(self) -> frozenset[int]:
        return frozenset(g.team_id for g in self.memberships)

    def permissions(self) -> frozenset[str]:
        out: set[str] = set()
        for grant in self.memberships:
            out |= grant.permissions()
        return frozenset(out)

    @property
    def actor(self) -> accounts.Actor:
        return accounts.Actor(self.kind, self.name, self.id)


def grants(
    store: Store, memberships: list[accounts.Membership] | tuple[accounts.Membership, ...]
) -> tuple[Grant, ...]:
    owned = accounts.team_products(store, {m.team_id for m in memberships})
    out = []
    for m in memberships:
        products = owned.get(m.team_id, frozenset())
        if m.products is not None:
            products = products & m.products
        out.append(Grant(m.team_id, m.team, m.role, products, m.products is not None))
    return tuple(out)


def get_store(request: Request) -> Store:
    """The application's store (``app.state.store``)."""
    return request.app.state.store  # type: ignore[no-any-return]


def remote_addr(request: Request) -> str | None:
    return request.client.host if request.client else None


def _api_key_of(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    auth = request.headers.get("authorization", "")
    scheme, _sep, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _unauthorized() -> HTTPException:
    return HTTPException(
        401, "authentication required", headers={"WWW-Authenticate": 'Bearer realm="mamori"'}
    )


def principal_of_key(store: Store, key: str) -> Principal | None:
    found = accounts.authenticate_api_key(store, key)
    if found is None:
        return None
    membership = accounts.Membership(found.team_id, found.team, found.role)
    return Principal("apikey", found.id, accounts.API_KEY_PREFIX + found.prefix, grants(store, [membership]))


def principal_of_session(store: Store, token: str, idle_seconds: int) -> Principal | None:
    session = accounts.load_session(store, token, idle_seconds)
    if session is None:
        return None
    found = accounts.memberships(store, session.user.id)
    return Principal(
        "user",
        session.user.id,
        session.user.name,
        grants(store, found),
        session.csrf_token,
        session.user.lang,
    )


async def csrf_ok(request: Request, expected: str | None) -> bool:
    """The request carries the session's CSRF token (header, or form field of a form post)."""
    if not expected:
        return False
    given = request.headers.get(CSRF_HEADER.lower())
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    return given is not None and secrets.compare_digest(given.encode(), expected.encode())


async def optional_principal(request: Request) -> Principal | None:
    """Who asks, or None; credentials that do not hold are none (an API key that does not hold is a 401:
    it was meant to authenticate). A cookie session's unsafe request without its CSRF token is a 403."""
    cached = getattr(request.state, "principal", False)
    if cached is not False:
        return cached  # type: ignore[no-any-return]
    store = get_store(request)
    key = _api_key_of(request)
    principal: Principal | None = None
    if key is not None:
        principal = await run_in_threadpool(principal_of_key, store, key)
        if principal is None:
            raise _unauthorized()
    else:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            settings = request.app.state.settings
            principal = await run_in_threadpool(
                principal_of_session, store, token, settings.session_idle_seconds
            )
            if (
                principal is not None
                and request.method not in SAFE_METHODS
                and not await csrf_ok(request, principal.csrf_token)
            ):
                raise HTTPException(403, "CSRF token missing or wrong")
    request.state.principal = principal
    return principal


async def current_principal(principal: Principal | None = Depends(optional_principal)) -> Principal:
    """Who asks; 401 without valid credentials."""
    if principal is None:
        raise _unauthorized()
    return principal


def require(permission: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency: the principal, who must hold ``permission`` for some product (else 403)."""

    async def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        if not principal.can(permission):
            raise HTTPException(403, "not permitted")
        return principal

    dependency.__name__ = f"require_{permission.replace('.', '_')}"
    return dependency


def product_or_404(principal: Principal, permission: str, product_id: int) -> int:
    """``product_id`` when ``permission`` holds for it. A product the principal sees (any of its product
    permissions holds for it) but without ``permission``: 403. Otherwise — another team's product or no
    product at all — 404, the same answer."""
    if principal.can(permission, product_id):
        return product_id
    visible = any(
        grant.covers(product_id) and any(p.startswith(("product.", "publish.")) for p in grant.permissions())
        for grant in principal.memberships
    )
    raise HTTPException(403 if visible else 404, "not permitted" if visible else "not found")


async def audit(
    request: Request,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
    team_id: int | None = None,
) -> None:
    """Record a change made by this request in the audit log: who (the request's principal), what, from
    where (the client's address). For routers: ``await audit(request, "sbom.upload", "product:7", {...},
    team_id)``. ``detail`` must hold no secret."""
    principal = getattr(request.state, "principal", None)
    actor = principal.actor if isinstance(principal, Principal) else accounts.Actor("anonymous", "anonymous")
    await run_in_threadpool(
        accounts.record_audit,
        get_store(request),
        actor,
        action,
        target,
        detail,
        remote_addr(request),
        team_id,
    )

"""The administration pages: users and their memberships, teams, API keys (a new key is shown once;
revoke), and the audit log. Only for the ``admin`` role (``admin.users``, ``admin.apikeys``,
``audit.read``); each change goes through :mod:`mamori.accounts`, which records it in the audit log with
who made it and from where."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from mamori import accounts
from mamori.accounts.roles import roles
from mamori.errors import MamoriError
from mamori.server.security import Principal, current_principal, get_store, remote_addr
from mamori.server.web import page_lang, render, text
from mamori.store import Store

router = APIRouter(include_in_schema=False)

ADMIN_PERMISSIONS = ("admin.users", "admin.apikeys", "audit.read")


def _admin(principal: Principal) -> None:
    """Administration is for administrators; anyone else is told nothing exists here (404)."""
    if principal.kind != "user" or not all(principal.can(p) for p in ADMIN_PERMISSIONS):
        raise HTTPException(404, "not found")


def _overview(store: Store) -> dict[str, Any]:
    return {
        "users": accounts.list_users(store),
        "teams": accounts.list_teams(store),
        "keys": accounts.list_api_keys(store),
        "audit": accounts.list_audit(store, limit=100),
    }


async def _page(
    request: Request,
    store: Store,
    principal: Principal,
    status_code: int = 200,
    message: str | None = None,
    shown_secret: dict[str, str] | None = None,
) -> Response:
    data = await run_in_threadpool(_overview, store)
    response = render(
        request,
        "admin.html",
        page_lang(request, principal.lang),
        status_code=status_code,
        principal=principal,
        role_names=list(roles()),
        message=message,
        shown_secret=shown_secret,
        **data,
    )
    if shown_secret:
        response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/admin")
async def admin_page(
    request: Request, principal: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Response:
    _admin(principal)
    return await _page(request, store, principal)


async def _fields(request: Request, *names: str) -> dict[str, str]:
    form = await request.form()
    out = {}
    for name in names:
        value = form.get(name)
        out[name] = value.strip()[:200] if isinstance(value, str) else ""
    return out


@router.post("/admin/teams")
async def admin_team(
    request: Request, principal: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Response:
    _admin(principal)
    f = await _fields(request, "name")
    lang = page_lang(request, principal.lang)
    try:
        await run_in_threadpool(
            lambda: accounts.create_team(
                store, f["name"], actor=principal.actor, remote_addr=remote_addr(request)
            )
        )
    except MamoriError as exc:
        return await _page(request, store, principal, 400, exc.message(lang))
    return await _page(request, store, principal, message=text(lang, "admin", "team_created", name=f["name"]))


@router.post("/admin/users")
async def admin_user(
    request: Request, principal: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Response:
    _admin(principal)
    f = await _fields(request, "name", "team", "role")
    lang = page_lang(request, principal.lang)
    try:
        user, password = await run_in_threadpool(
            lambda: accounts.create_user(
                store,
                f["name"],
                None,
                f["team"],
                f["role"],
                actor=principal.actor,
                remote_addr=remote_addr(request),
            )
        )
    except MamoriError as exc:
        return await _page(request, store, principal, 400, exc.message(lang))
    secret = {"label": text(lang, "admin", "password_once", name=user.name), "value": password or ""}
    return await _page(request, store, principal, shown_secret=secret)


@router.post("/admin/memberships")
async def admin_membership(
    request: Request, principal: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Response:
    _admin(principal)
    f = await _fields(request, "user", "team", "role")
    lang = page_lang(request, principal.lang)
    try:
        await run_in_threadpool(
            lambda: accounts.add_membership(
                store,
                f["user"],
                f["team"],
                f["role"],
                actor=principal.actor,
                remote_addr=remote_addr(request),
            )
        )
    except MamoriError as exc:
        return await _page(request, store, principal, 400, exc.message(lang))
    return await _page(request, store, principal, message=text(lang, "admin", "membership_set", **f))


@router.post("/admin/apikeys")
async def admin_key(
    request: Request, principal: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Response:
    _admin(principal)
    f = await _fields(request, "team", "role", "name", "expires")
    lang = page_lang(request, principal.lang)
    try:
        days = int(f["expires"]) if f["expires"] else None
        if days is not None and not 0 < days <= 3650:
            raise ValueError(days)
    except ValueError:
        return await _page(request, store, principal, 400, text(lang, "admin", "bad_expiry"))
    try:
        key, plaintext = await run_in_threadpool(
            lambda: accounts.create_api_key(
                store,
                f["team"],
                f["role"],
                days,
                f["name"] or None,
                actor=principal.actor,
                remote_addr=remote_addr(request),
            )
        )
    except MamoriError as exc:
        return await _page(request, store, principal, 400, exc.message(lang))
    secret = {"label": text(lang, "admin", "key_once", prefix=key.prefix), "value": plaintext}
    return await _page(request, store, principal, shown_secret=secret)


@router.post("/admin/apikeys/{key_id}/revoke")
async def admin_revoke(
    request: Request,
    key_id: int,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    _admin(principal)
    lang = page_lang(request, principal.lang)
    if not 0 < key_id < 2**63:
        raise HTTPException(404, "not found")
    try:
        key = await run_in_threadpool(
            lambda: accounts.revoke_api_key(
                store, key_id, actor=principal.actor, remote_addr=remote_addr(request)
            )
        )
    except MamoriError:
        raise HTTPException(404, "not found") from None
    return await _page(
        request, store, principal, message=text(lang, "admin", "key_revoked", prefix=key.prefix)
    )

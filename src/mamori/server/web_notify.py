"""The notification pages of the web interface: the team's subscriptions (add, test, remove) and the
delivery log.

The operations are those of the native API (:mod:`mamori.server.api_notify`), which calls
:mod:`mamori.notify` as ``mamori notify`` does; the same rules decide who sees and changes what, and every
change is recorded in the audit log. Every form carries the session's CSRF token; the webhook secret is a
password field, never shown again.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mamori.notify.subscriptions import CHANNELS, EVENT_KINDS, OUTCOMES, SEVERITIES
from mamori.server import api_notify as api
from mamori.server.security import Principal, current_principal, get_store
from mamori.server.web import page_lang, render, text
from mamori.store import Store

router = APIRouter(include_in_schema=False)

FORM_LIMIT = 2048
LOG_LINES = 50


def _problem(exc: HTTPException) -> str:
    if isinstance(exc.detail, list):
        return "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in exc.detail)
    return str(exc.detail)


def _page_data(store: Store, principal: Principal) -> dict[str, Any]:
    subs = api.visible_subscriptions(store, principal)
    teams = api.managing_teams(store, principal)
    products = sorted(
        {n for team_id, _name in teams for n in api.team_product_names(store, principal, team_id)}
    )
    writable = {s.id for s in subs if api.may(principal, s, "notify.write", api._ids(store, s))}
    return {
        "subscriptions": [api.out(s) for s in subs],
        "writable": writable,
        "teams": [name for _id, name in teams],
        "products": products,
        "log": api.log(store, principal, None, LOG_LINES, 0),
    }


async def _page(
    request: Request,
    principal: Principal,
    store: Store,
    status_code: int = 200,
    message: str | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    lang = page_lang(request, principal.lang)
    data = await run_in_threadpool(_page_data, store, principal)
    return render(
        request,
        "notifications.html",
        lang,
        status_code=status_code,
        principal=principal,
        channels=CHANNELS,
        severities=SEVERITIES[:5],
        outcomes=OUTCOMES,
        kinds=EVENT_KINDS,
        values=values or {},
        message=message,
        **data,
    )


@router.get("/notifications")
async def notifications_page(
    request: Request, principal: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Response:
    if not principal.can("notify.read"):
        raise HTTPException(403, "not permitted")
    lang = page_lang(request, principal.lang)
    done = request.query_params.get("done", "")
    message = text(lang, "notify", done) if done in ("added", "removed", "test_queued") else None
    if done == "tested":
        ok = request.query_params.get("ok") == "1"
        message = text(lang, "notify", "tested_ok" if ok else "tested_failed")
    return await _page(request, principal, store, message=message)


@router.post("/notifications")
async def notifications_add(
    request: Request, principal: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Response:
    from pydantic import ValidationError

    if not principal.can("notify.write"):
        raise HTTPException(403, "not permitted")
    form = await request.form()
    values = {k: v.strip()[:FORM_LIMIT] for k, v in form.items() if isinstance(v, str)}
    values.pop("csrf_token", None)
    secret = values.pop("secret", "") or None

    def many(name: str) -> list[str] | None:
        chosen = [v for v in form.getlist(name) if isinstance(v, str) and v]
        return chosen[:200] or None

    lang = page_lang(request, principal.lang)
    try:
        body = api.SubscriptionIn(
            team=values.get("team") or None,
            channel=values.get("channel", ""),  # type: ignore[arg-type]
            target=values.get("target", ""),
            secret=secret,
            products=many("products"),
            min_severity=values.get("min_severity") or None,  # type: ignore[arg-type]
            ssvc_outcomes=many("ssvc_outcomes"),  # type: ignore[arg-type]
            kev_only=values.get("kev_only") == "1",
            events=many("events"),  # type: ignore[arg-type]
            mode=values.get("mode") or "immediate",  # type: ignore[arg-type]
            lang=values.get("lang") or lang,  # type: ignore[arg-type]
        )
        await run_in_threadpool(api.create, store, request, principal, body)
    except ValidationError as exc:
        problem = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return await _page(
            request, principal, store, 400, text(lang, "notify", "refused", problem=problem), values
        )
    except HTTPException as exc:
        if exc.status_code != 422:
            raise
        return await _page(
            request, principal, store, 400, text(lang, "notify", "refused", problem=_problem(exc)), values
        )
    return RedirectResponse("/notifications?done=added", 303)


@router.post("/notifications/{subscription_id}/delete")
async def notifications_delete(
    request: Request,
    subscription_id: int,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    sub = await run_in_threadpool(api.subscription_or_404, store, principal, subscription_id, "notify.write")
    await run_in_threadpool(api.remove, store, request, principal, sub)
    return RedirectResponse("/notifications?done=removed", 303)


@router.post("/notifications/{subscription_id}/test")
async def notifications_test(
    request: Request,
    subscription_id: int,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    sub = await run_in_threadpool(api.subscription_or_404, store, principal, subscription_id, "notify.write")
    # sent after the answer: a slow or unreachable target would hold the request for up to a minute
    await run_in_threadpool(api.queue_test_message, store, request, principal, sub)
    return RedirectResponse("/notifications?done=test_queued", 303)

"""The inventory pages of the web interface: the deployments (filtered by site, product and status) with the
form that records one, one deployment with the form that changes or retires it, the patch-first list, and
the asset list as CSV or XLSX (download, and upload of new deployments).

The data and the operations are those of the native API (:mod:`mamori.server.api_inventory`) and of
``mamori inventory``, which call :mod:`mamori.inventory`; the same rules decide who sees and changes what
(``inventory.read`` over the principal's products to see, ``inventory.write`` to change; another team's
deployment: 404). Every change is recorded in the audit log; every form carries the session's CSRF token.
A form the page refuses shows again with the problem in the page's language and the values given
(as text, never markup).
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from mamori.errors import InputError
from mamori.inventory import deployments as dep
from mamori.inventory.priorities import priorities as rank
from mamori.server import api_common as common
from mamori.server import api_inventory as api
from mamori.server.security import Principal, audit, current_principal, get_store
from mamori.server.web import page_lang, render, text
from mamori.store import Store

router = APIRouter(include_in_schema=False)

FORM_LIMIT = 4000  # characters of one form field kept (the longest field allows 2000)
MAX_RELEASES = 2000  # releases offered in the form that records a deployment
UPLOAD_LIMIT = 5 * 1024 * 1024  # bytes of an uploaded asset list
LABELS = {
    "site": "site",
    "system": "system",
    "environment": "environment",
    "system_exposure": "exposure",
    "mission_impact": "mission_impact",
    "safety_impact": "safety_impact",
    "network": "network",
    "owner": "owner",
    "deployed_since": "deployed_since",
    "end_of_support": "support_ends",
    "release": "release",
}
DONE = ("added", "edited", "unchanged", "retired")
DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def choices(lang: str) -> dict[str, list[tuple[str, str]]]:
    """The values of each SSVC context point a deployment sets (the decision points' own ids, as the CLI
    and the API store them), with their names in ``lang``."""
    from mamori.triage import ssvc

    points = ssvc.default_catalog().points
    return {
        point: [(v.id, v.name.get(lang)) for v in points[point].values]  # type: ignore[arg-type]
        for point in dep.CONTEXT_FIELDS
    }


def _allowed(principal: Principal, permission: str = "inventory.read") -> None:
    if not principal.can(permission):
        raise HTTPException(403, "not permitted")


def _param(request: Request, name: str) -> str | None:
    value = request.query_params.get(name, "").strip()[:200]
    return value or None


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    values = {k: v.strip()[:FORM_LIMIT] for k, v in form.items() if isinstance(v, str)}
    values.pop("csrf_token", None)
    return values


def _done(request: Request, lang: str) -> str | None:
    done = request.query_params.get("done", "")
    return text(lang, "inventory", f"done_{done}") if done in DONE else None


def writable_releases(store: Store, principal: Principal) -> list[dict[str, Any]]:
    """The releases of the products the principal may record deployments of: product, id and version,
    by product name and version (at most :data:`MAX_RELEASES`)."""
    from mamori.portfolio import tables as pt

    r, p = pt.ReleaseRow.__table__, pt.ProductRow.__table__
    stmt = (
        select(r.c.id, r.c.version, p.c.id.label("pid"), p.c.name)
        .select_from(r.join(p, p.c.id == r.c.product_id))
        .order_by(p.c.name, r.c.version, r.c.id)
    )
    scope = api._scope(principal, "inventory.write")
    if scope is not None:
        if not scope:
            return []
        stmt = stmt.where(p.c.id.in_(scope))
    with store.engine.connect() as conn:
        rows = conn.execute(stmt.limit(MAX_RELEASES)).all()
    return [
        {"id": row.id, "version": row.version, "product": row.name}
        for row in rows
        if principal.can("inventory.write", row.pid)
    ]


def _release_of(store: Store, principal: Principal, value: str) -> tuple[str, str, int] | None:
    """The product, version and product id of the release the form chose, when the principal may record a
    deployment of it; None otherwise (not a release, or another team's: the same answer)."""
    from mamori.portfolio import tables as pt

    if not value.isdigit() or not 0 < int(value) < 2**62:
        return None
    r, p = pt.ReleaseRow.__table__, pt.ProductRow.__table__
    with store.engine.connect() as conn:
        row = conn.execute(
            select(r.c.version, p.c.name, p.c.id.label("pid"))
            .select_from(r.join(p, p.c.id == r.c.product_id))
            .where(r.c.id == int(value))
        ).first()
    if row is None or not principal.can("inventory.write", row.pid):
        return None
    return row.name, row.version, row.pid


def check_form(values: dict[str, str], lang: str) -> tuple[dict[str, str | None], list[str]]:
    """The deployment fields of a form (empty: None) and the problems found, in ``lang``: a missing site,
    a value longer than its field allows, a context value SSVC does not have, a day not ``YYYY-MM-DD``."""
    fields: dict[str, str | None] = {}
    problems: list[str] = []
    for name in dep.FIELDS:
        if name not in values:
            continue
        value = values[name].strip() or None
        label = text(lang, "inventory", LABELS[name])
        if value is None:
            if name == "site":
                problems.append(text(lang, "inventory", "need_site"))
        elif name in dep.CONTEXT_FIELDS:
            if value not in {v for v, _name in choices(lang)[name]}:
                problems.append(text(lang, "inventory", "bad_choice", field=label))
        elif name in dep.DATE_FIELDS:
            try:
                ok = bool(DAY.match(value)) and dt.date.fromisoformat(value) is not None
            except ValueError:
                ok = False
            if not ok:
                problems.append(text(lang, "inventory", "bad_date", field=label))
        elif len(value) > dep.TEXT_LIMITS.get(name, 500):
            problems.append(
                text(lang, "inventory", "too_long", field=label, limit=dep.TEXT_LIMITS.get(name, 500))
            )
        fields[name] = value
    return fields, problems


# -- the list and the form that records a deployment ---------------------------------------------------
async def _list_page(
    request: Request,
    principal: Principal,
    store: Store,
    status_code: int = 200,
    message: str | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    lang = page_lang(request, principal.lang)
    status = request.query_params.get("status", "active")
    status = status if status in ("active", "retired", "all") else "active"
    site, product = _param(request, "site"), _param(request, "product")
    scope = api._scope(principal, "inventory.read")

    def load() -> tuple[list[dep.Deployment], list[dep.Deployment], list[dict[str, Any]]]:
        every = dep.list_deployments(store, status=None, product_ids=scope)
        chosen = dep.list_deployments(
            store, site=site, product=product, status=None if status == "all" else status, product_ids=scope
        )
        releases = writable_releases(store, principal) if principal.can("inventory.write") else []
        return every, chosen, releases

    every, chosen, releases = await run_in_threadpool(load)
    return render(
        request,
        "inventory.html",
        lang,
        status_code=status_code,
        principal=principal,
        rows=[d.as_dict() for d in chosen],
        sites=sorted({d.site for d in every}),
        products=sorted({d.product for d in every}),
        filters={"site": site or "", "product": product or "", "status": status},
        releases=releases,
        choices=choices(lang),
        message=message if message is not None else _done(request, lang),
        values=values or {},
    )


@router.get("/inventory")
async def inventory_page(
    request: Request, principal: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Response:
    _allowed(principal)
    return await _list_page(request, principal, store)


@router.post("/inventory")
async def inventory_add(
    request: Request, principal: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Response:
    _allowed(principal, "inventory.write")
    lang = page_lang(request, principal.lang)
    values = await _form(request)
    fields, problems = check_form({k: values.get(k, "") for k in dep.FIELDS}, lang)
    release = await run_in_threadpool(_release_of, store, principal, values.get("release", ""))
    if release is None:
        problems.insert(0, text(lang, "inventory", "need_release"))
    if problems:
        message = text(lang, "inventory", "refused", problem="; ".join(problems))
        return await _list_page(request, principal, store, 400, message, values)
    product, version, product_id = release  # type: ignore[misc]
    given = {k: v for k, v in fields.items() if v is not None}
    try:
        made = await api.add_audited(request, principal, store, product_id, product, version, given)
    except InputError as exc:
        message = text(lang, "inventory", "refused", problem=exc.problem)
        return await _list_page(request, principal, store, 400, message, values)
    return RedirectResponse(f"/inventory/{made.id}?done=added", 303)


# -- the asset list as a file --------------------------------------------------------------------------
@router.get("/inventory/export")
async def inventory_export(
    request: Request, principal: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Response:
    from mamori.inventory.transfer import export_bytes

    _allowed(principal)
    fmt = "xlsx" if request.query_params.get("format") == "xlsx" else "csv"
    scope = api._scope(principal, "inventory.read")
    data = await run_in_threadpool(lambda: export_bytes(store, fmt, product_ids=scope))
    media = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if fmt == "xlsx"
        else "text/csv; charset=utf-8"
    )
    return Response(
        data,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="inventory.{fmt}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/inventory/import")
async def inventory_import(
    request: Request, principal: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Response:
    from starlette.datastructures import UploadFile

    from mamori.display import visible
    from mamori.inventory.transfer import import_file

    _allowed(principal, "inventory.write")
    lang = page_lang(request, principal.lang)
    form = await request.form()
    sent = form.get("file")
    if not isinstance(sent, UploadFile):
        return await _list_page(request, principal, store, 400, text(lang, "inventory", "import_no_file"))
    name = visible(Path(sent.filename or "upload").name[:200])
    suffix = Path(sent.filename or "").suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        message = text(
            lang, "inventory", "import_refused", file=name, problem=text(lang, "inventory", "import_kind")
        )
        return await _list_page(request, principal, store, 400, message)
    data = await sent.read(UPLOAD_LIMIT + 1)
    if len(data) > UPLOAD_LIMIT:
        problem = text(lang, "inventory", "import_large", limit=UPLOAD_LIMIT // (1024 * 1024))
        message = text(lang, "inventory", "import_refused", file=name, problem=problem)
        return await _list_page(request, principal, store, 413, message)
    scope = api._scope(principal, "inventory.write")

    def run() -> Any:
        with tempfile.TemporaryDirectory(prefix="mamori-inventory-") as folder:
            path = Path(folder) / f"upload{suffix}"
            path.write_bytes(data)
            return import_file(store, path, who=principal.name, product_ids=scope, shown=name)

    try:
        report = await run_in_threadpool(run)
    except InputError as exc:
        message = text(lang, "inventory", "import_refused", file=name, problem=exc.problem)
        return await _list_page(request, principal, store, 400, message)
    if report.added:
        await audit(
            request,
            "inventory.import",
            "inventory",
            {"file": name, "added": report.added[:1000], "rejected": len(report.rejected)},
            common.team_of(principal, "inventory.write", None),
        )
    message = text(
        lang, "inventory", "imported", file=name, added=len(report.added), rejected=len(report.rejected)
    )
    if report.rejected:
        message += " " + "; ".join(report.rejected[:20])
    return await _list_page(request, principal, store, 200 if report.added else 400, message)


# -- the patch list ------------------------------------------------------------------------------------
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


# -- one deployment ------------------------------------------------------------------------------------
async def _deployment(
    store: Store, principal: Principal, deployment_id: int, permission: str
) -> dep.Deployment:
    if not 0 < deployment_id < 2**62:
        raise HTTPException(404, "not found")
    return await run_in_threadpool(api._visible, store, principal, deployment_id, permission)


async def _deployment_page(
    request: Request,
    principal: Principal,
    found: dep.Deployment,
    status_code: int = 200,
    message: str | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    lang = page_lang(request, principal.lang)
    current = found.as_dict()
    shown = {name: current.get(name) or "" for name in dep.FIELDS}
    shown.update(values or {})
    return render(
        request,
        "deployment.html",
        lang,
        status_code=status_code,
        principal=principal,
        d=current,
        writable=principal.can("inventory.write", found.product_id),
        choices=choices(lang),
        values=shown,
        message=message if message is not None else _done(request, lang),
    )


@router.get("/inventory/{deployment_id}")
async def deployment_page(
    deployment_id: int,
    request: Request,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    _allowed(principal)
    found = await _deployment(store, principal, deployment_id, "inventory.read")
    return await _deployment_page(request, principal, found)


@router.post("/inventory/{deployment_id}/edit")
async def deployment_edit(
    deployment_id: int,
    request: Request,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    _allowed(principal, "inventory.write")
    found = await _deployment(store, principal, deployment_id, "inventory.write")
    lang = page_lang(request, principal.lang)
    values = await _form(request)
    fields, problems = check_form(values, lang)
    if problems:
        message = text(lang, "inventory", "refused", problem="; ".join(problems))
        return await _deployment_page(request, principal, found, 400, message, values)
    current = found.as_dict()
    changed = {k: v for k, v in fields.items() if v != current.get(k)}
    if not changed:
        return RedirectResponse(f"/inventory/{found.id}?done=unchanged", 303)
    try:
        await api.update_audited(request, principal, store, found, changed)
    except InputError as exc:
        message = text(lang, "inventory", "refused", problem=exc.problem)
        return await _deployment_page(request, principal, found, 400, message, values)
    return RedirectResponse(f"/inventory/{found.id}?done=edited", 303)


@router.post("/inventory/{deployment_id}/retire")
async def deployment_retire(
    deployment_id: int,
    request: Request,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    _allowed(principal, "inventory.write")
    found = await _deployment(store, principal, deployment_id, "inventory.write")
    if found.status != "retired":
        await api.retire_audited(request, principal, store, found)
    return RedirectResponse(f"/inventory/{found.id}?done=retired", 303)

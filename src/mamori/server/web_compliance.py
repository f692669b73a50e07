"""The compliance pages of the web interface: the team's self-assessments, one assessment with its items,
the answer form of an item with its evidence upload, the gap analysis, the roadmap, the declaration
(make, publish, download as PDF, JSON or HTML) and the JC-STAR ☆1 label page.

The operations are those of the native API (:mod:`mamori.server.api_compliance`), which calls
:mod:`mamori.compliance` as ``mamori assess`` does; the same rules decide who sees and changes what, and
every change is recorded in the audit log. Every form carries the session's CSRF token.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mamori.server import api_compliance as api
from mamori.server.security import Principal, current_principal, get_store
from mamori.server.web import page_lang, render, text
from mamori.store import Store

router = APIRouter(include_in_schema=False)

FORM_LIMIT = 4000
FRAMEWORKS = ("guideline", "ssdf", "checklist", "jcstar1")
ROLES = ("developer", "supplier", "operator", "customer")
STATUSES = ("implemented", "partial", "not_implemented", "not_applicable")


def _lang(request: Request, principal: Principal) -> str:
    return page_lang(request, principal.lang)


def _words(lang: str) -> dict[str, Any]:
    """The compliance words the pages show: statuses, frameworks and roles in ``lang``."""
    from mamori.compliance.messages import label, t

    return {
        "status_label": lambda s: t(f"status.{s}", lang),  # type: ignore[arg-type]
        "framework_label": lambda f: label("framework", f, lang),  # type: ignore[arg-type]
        "catalog_role": lambda r: t(f"role.{r}", lang),  # type: ignore[arg-type]
        "tr": lambda pair: pair[lang] if isinstance(pair, dict) else getattr(pair, lang),
    }


def _problem(exc: HTTPException) -> str:
    """One line of a refusal: FastAPI's validation list, or the text."""
    if isinstance(exc.detail, list):
        return "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in exc.detail)
    return str(exc.detail)


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v.strip()[:FORM_LIMIT] for k, v in form.items() if isinstance(v, str)}


# -- list and create ---------------------------------------------------------------------------------
async def _list_page(
    request: Request,
    principal: Principal,
    store: Store,
    status_code: int = 200,
    message: str | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    lang = _lang(request, principal)
    found = await run_in_threadpool(api.visible_assessments, store, principal)
    teams = await run_in_threadpool(api.creating_teams, store, principal)
    return render(
        request,
        "compliance.html",
        lang,
        status_code=status_code,
        principal=principal,
        assessments=[api.summary(f) for f in found],
        teams=[name for _id, name in teams] if principal.can("assessment.write") else [],
        frameworks=FRAMEWORKS,
        roles=ROLES,
        values=values or {},
        message=message,
        **_words(lang),
    )


@router.get("/compliance")
async def compliance_page(
    request: Request, principal: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Response:
    api.require_list(principal)
    return await _list_page(request, principal, store)


@router.post("/compliance")
async def compliance_create(
    request: Request, principal: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Response:
    from pydantic import ValidationError

    api.require_create(principal)
    form = await request.form()
    values = {k: v.strip()[:FORM_LIMIT] for k, v in form.items() if isinstance(v, str)}
    chosen_roles = [r for r in form.getlist("roles") if isinstance(r, str) and r in ROLES]
    lang = _lang(request, principal)
    try:
        body = api.AssessmentIn(
            framework=values.get("framework", ""),  # type: ignore[arg-type]
            organization=values.get("organization", ""),
            scope=values.get("scope", ""),
            roles=chosen_roles,  # type: ignore[arg-type]
            team=values.get("team") or None,
        )
        found = await run_in_threadpool(api.create, store, request, principal, body)
    except ValidationError as exc:
        problem = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return await _list_page(
            request, principal, store, 400, text(lang, "compliance", "refused", problem=problem), values
        )
    except HTTPException as exc:
        if exc.status_code != 422:
            raise
        return await _list_page(
            request, principal, store, 400, text(lang, "compliance", "refused", problem=_problem(exc)), values
        )
    return RedirectResponse(f"/compliance/{found.assessment.id}", 303)


# -- one assessment ----------------------------------------------------------------------------------
def _found(store: Store, principal: Principal, assessment_id: int, operation: str) -> api.Found:
    return api.assessment_or_404(store, principal, assessment_id, operation)


def _links(principal: Principal, found: api.Found) -> dict[str, bool]:
    return {f"may_{op}": ok for op, ok in api.allowed(principal, found.owner).items()}


@router.get("/compliance/{assessment_id}")
async def assessment_page(
    request: Request,
    assessment_id: int,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    found = await run_in_threadpool(_found, store, principal, assessment_id, "read")
    lang = _lang(request, principal)
    detail = await run_in_threadpool(api.detail, found)
    answered = request.query_params.get("answered", "")[:40]
    return render(
        request,
        "compliance_assessment.html",
        lang,
        principal=principal,
        a=detail,
        message=text(lang, "compliance", "answered", item=answered) if answered else None,
        **_links(principal, found),
        **_words(lang),
    )


async def _item_page(
    request: Request,
    principal: Principal,
    found: api.Found,
    item_id: str,
    status_code: int = 200,
    message: str | None = None,
) -> Response:
    lang = _lang(request, principal)
    item = api.applicable_item(found.assessment, item_id)
    return render(
        request,
        "compliance_item.html",
        lang,
        status_code=status_code,
        principal=principal,
        a=api.summary(found),
        item=api.item_out(found.assessment, item),
        statuses=STATUSES,
        levels=(0, 1, 2, 3) if found.assessment.framework == "ssdf" else (),
        max_mib=api.EVIDENCE_MAX_BYTES // (1024 * 1024),
        message=message,
        **_links(principal, found),
        **_words(lang),
    )


@router.get("/compliance/{assessment_id}/items/{item_id}")
async def item_page(
    request: Request,
    assessment_id: int,
    item_id: str,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    found = await run_in_threadpool(_found, store, principal, assessment_id, "read")
    lang = _lang(request, principal)
    added = request.query_params.get("evidence")
    return await _item_page(
        request,
        principal,
        found,
        item_id[:40],
        message=text(lang, "compliance", "evidence_added") if added else None,
    )


@router.post("/compliance/{assessment_id}/items/{item_id}")
async def item_answer(
    request: Request,
    assessment_id: int,
    item_id: str,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    found = await run_in_threadpool(_found, store, principal, assessment_id, "write")
    item = api.applicable_item(found.assessment, item_id[:40])
    lang = _lang(request, principal)
    form = await _form(request)
    values: dict[str, Any] = {
        "status": form.get("status") or None,
        "note": form.get("note") or None,
        "owner": (form.get("owner") or "")[:200] or None,
        "due": (form.get("due") or "")[:10] or None,
    }
    if found.assessment.framework == "ssdf":
        level = form.get("level", "")
        values["level"] = int(level) if level in ("0", "1", "2", "3") else None
    if values["status"] is not None and values["status"] not in STATUSES:
        values["status"] = None
    try:
        await run_in_threadpool(api.answer, store, request, principal, found, item.id, values)
    except HTTPException as exc:
        if exc.status_code != 422:
            raise
        return await _item_page(
            request,
            principal,
            found,
            item.id,
            400,
            text(lang, "compliance", "refused", problem=_problem(exc)),
        )
    return RedirectResponse(f"/compliance/{found.assessment.id}?answered={item.id}#item-{item.id}", 303)


@router.post("/compliance/{assessment_id}/items/{item_id}/evidence")
async def item_evidence(
    request: Request,
    assessment_id: int,
    item_id: str,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    found = await run_in_threadpool(_found, store, principal, assessment_id, "write")
    item = api.applicable_item(found.assessment, item_id[:40])
    lang = _lang(request, principal)
    form = await request.form()
    sent = form.get("file")
    note = form.get("note")
    data, filename = b"", None
    if sent is not None and not isinstance(sent, str):
        filename = sent.filename
        data = await sent.read(api.EVIDENCE_MAX_BYTES + 1)
    try:
        await run_in_threadpool(
            api.add_evidence,
            store,
            request,
            principal,
            found,
            item.id,
            data,
            filename,
            note if isinstance(note, str) else None,
        )
    except HTTPException as exc:
        if exc.status_code not in (413, 422):
            raise
        key = "evidence_too_large" if exc.status_code == 413 else "evidence_empty"
        return await _item_page(
            request,
            principal,
            found,
            item.id,
            exc.status_code,
            text(lang, "compliance", key, mib=api.EVIDENCE_MAX_BYTES // (1024 * 1024)),
        )
    return RedirectResponse(f"/compliance/{found.assessment.id}/items/{item.id}?evidence=1", 303)


# -- gaps, roadmap -----------------------------------------------------------------------------------
@router.get("/compliance/{assessment_id}/gaps")
async def gaps_page(
    request: Request,
    assessment_id: int,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    from mamori.compliance.gaps import analyse

    found = await run_in_threadpool(_found, store, principal, assessment_id, "read")
    lang = _lang(request, principal)
    report = await run_in_threadpool(analyse, found.assessment)
    return render(
        request,
        "compliance_gaps.html",
        lang,
        principal=principal,
        a=api.summary(found),
        report=report.to_dict(),
        **_links(principal, found),
        **_words(lang),
    )


@router.get("/compliance/{assessment_id}/roadmap")
async def roadmap_page(
    request: Request,
    assessment_id: int,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    from mamori.compliance.roadmap import plan

    found = await run_in_threadpool(_found, store, principal, assessment_id, "read")
    lang = _lang(request, principal)
    made = await run_in_threadpool(plan, found.assessment, None)
    return render(
        request,
        "compliance_roadmap.html",
        lang,
        principal=principal,
        a=api.summary(found),
        roadmap=made.to_dict(),
        **_links(principal, found),
        **_words(lang),
    )


# -- declaration -------------------------------------------------------------------------------------
async def _declaration_page(
    request: Request,
    principal: Principal,
    found: api.Found,
    status_code: int = 200,
    message: str | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    lang = _lang(request, principal)
    return render(
        request,
        "compliance_declaration.html",
        lang,
        status_code=status_code,
        principal=principal,
        a=api.summary(found),
        values=values or {},
        message=message,
        **_links(principal, found),
        **_words(lang),
    )


@router.get("/compliance/{assessment_id}/declaration")
async def declaration_page(
    request: Request,
    assessment_id: int,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    found = await run_in_threadpool(_found, store, principal, assessment_id, "download")
    lang = _lang(request, principal)
    done = request.query_params.get("done")
    keys = {"declared": "declared", "published": "published_done"}
    message = text(lang, "compliance", keys[done]) if done in keys else None
    return await _declaration_page(request, principal, found, message=message)


@router.post("/compliance/{assessment_id}/declaration")
async def declaration_make(
    request: Request,
    assessment_id: int,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    from pydantic import ValidationError

    found = await run_in_threadpool(_found, store, principal, assessment_id, "declare")
    lang = _lang(request, principal)
    form = await _form(request)
    try:
        body = api.DeclareIn(
            approver=form.get("approver", ""),
            date=form.get("date") or None,
            review_interval=form.get("review_interval") or "1y",
            allow_unanswered=form.get("allow_unanswered") == "yes",
        )
        await run_in_threadpool(api.declare, store, request, principal, found, body)
    except ValidationError as exc:
        problem = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return await _declaration_page(
            request, principal, found, 400, text(lang, "compliance", "refused", problem=problem), form
        )
    except HTTPException as exc:
        if exc.status_code not in (409, 422):
            raise
        return await _declaration_page(
            request, principal, found, 400, text(lang, "compliance", "refused", problem=_problem(exc)), form
        )
    return RedirectResponse(f"/compliance/{found.assessment.id}/declaration?done=declared", 303)


@router.post("/compliance/{assessment_id}/declaration/publish")
async def declaration_publish(
    request: Request,
    assessment_id: int,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    found = await run_in_threadpool(_found, store, principal, assessment_id, "publish")
    lang = _lang(request, principal)
    try:
        await run_in_threadpool(api.publish, store, request, principal, found)
    except HTTPException as exc:
        if exc.status_code != 409:
            raise
        return await _declaration_page(
            request, principal, found, 409, text(lang, "compliance", "nothing_to_publish")
        )
    return RedirectResponse(f"/compliance/{found.assessment.id}/declaration?done=published", 303)


@router.get("/compliance/{assessment_id}/declaration/download")
async def declaration_download(
    request: Request,
    assessment_id: int,
    format: str = "pdf",
    lang: str = "ja",
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    found = await run_in_threadpool(_found, store, principal, assessment_id, "download")
    if format not in api.DECLARATION_FORMATS or lang not in ("ja", "en"):
        raise HTTPException(404, "not found")
    data, media, name = await run_in_threadpool(api.declaration_file, found, format, lang)
    return api.attachment(data, media, name)


@router.get("/compliance/{assessment_id}/label")
async def label_page(
    request: Request,
    assessment_id: int,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    found = await run_in_threadpool(_found, store, principal, assessment_id, "read")
    lang = _lang(request, principal)
    html = await run_in_threadpool(api.label_html, store, found, lang)
    return Response(html.encode("utf-8"), media_type="text/html; charset=utf-8")

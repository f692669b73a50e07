"""The PSIRT pages of the web interface: the case list (filter by state, overdue cases marked), the intake
form, the case page (history with who and when, the transitions the workflow allows, fields and texts,
affected releases computed from the portfolio and edited by a person, the running timer), the CSAF and CVE
drafts of a case (downloaded as JSON once their checks pass) and the FIRST PSIRT metrics with a CSV
download.

The operations are those of the native API (:mod:`mamori.server.api_psirt`), which calls
:mod:`mamori.psirt` and :mod:`mamori.advisory` as ``mamori psirt`` and ``mamori advisory`` do; the same
rules decide who sees and changes what, and every change is recorded in the audit log. Every form carries the
session's CSRF token.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from mamori.psirt import cases
from mamori.psirt.workflow import workflow
from mamori.server import api_psirt as api
from mamori.server.security import Principal, audit, current_principal, get_store
from mamori.server.web import page_lang, render, text
from mamori.store import Store

router = APIRouter(include_in_schema=False)

FORM_LIMIT = 20_000
CASE_FIELDS = (
    "title",
    "reporter_name",
    "reporter_contact",
    "credit",
    "embargo_until",
    "cve_id",
    "component",
    "affected_range",
    "fixed_version",
    "cwe",
    "cvss_v3",
    "fix_url",
)
TEXTS = ("description", "workaround", "mitigation", "impact")
DONE = ("opened", "moved", "edited", "computed", "release")


def _problem(exc: HTTPException) -> str:
    if isinstance(exc.detail, list):
        return "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in exc.detail)
    return str(exc.detail)


def _invalid(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v.strip()[:FORM_LIMIT] for k, v in form.items() if isinstance(v, str)}


def _require(principal: Principal, permission: str) -> None:
    if not principal.can(permission):
        raise HTTPException(403, "not permitted")


def _words(lang: str) -> dict[str, Any]:
    wf = workflow()
    return {
        "state_label": lambda s: wf.label(s, lang),
        "channel_label": lambda c: wf.channels.get(c, {}).get(lang, c),
        "credit_label": lambda c: wf.credits.get(c, {}).get(lang, c),
        "credits": list(wf.credits),
        "states": list(wf.states),
    }


def _ssvc_points(lang: str) -> list[dict[str, Any]]:
    """The inputs of the SSVC supplier tree a triage asks for, with their values in ``lang``."""
    from mamori.triage.ssvc import default_catalog

    table = default_catalog().table("supplier")
    return [
        {
            "id": p.id,
            "name": p.name.get(lang),  # type: ignore[arg-type]
            "values": [(v.id, v.name.get(lang)) for v in p.values],  # type: ignore[arg-type]
        }
        for p in table.inputs
    ]


def _overdue_keys(store: Store) -> dict[str, dict[str, Any]]:
    from mamori.psirt.timers import overdue

    return {o.case.key: o.as_dict() for o in overdue(store)}


def _timer(store: Store, case: cases.Case) -> dict[str, Any] | None:
    """The timer running for the case: name, days, due date and whether it is past due."""
    from mamori.psirt.timers import running_timer, timers_for

    running = running_timer(case, case.events, timers_for(store, case.team))
    if running is None or case.state in workflow().final:
        return None
    name, days, started = running
    due = started + timedelta(days=days)
    now = datetime.now(UTC)
    return {
        "name": name,
        "days": days,
        "due": due.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "overdue": now > due,
        "days_over": (now - due).days if now > due else 0,
    }


# -- the list and the intake form --------------------------------------------------------------------
async def _list_page(
    request: Request,
    principal: Principal,
    store: Store,
    status_code: int = 200,
    message: str | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    lang = page_lang(request, principal.lang)
    state = request.query_params.get("state") or None
    if state is not None and state not in workflow().states:
        state = None
    found = await run_in_threadpool(api.visible_cases, store, principal, state)
    late = await run_in_threadpool(_overdue_keys, store)
    teams = (
        await run_in_threadpool(api.writing_teams, store, principal) if principal.can("psirt.write") else []
    )
    return render(
        request,
        "psirt.html",
        lang,
        status_code=status_code,
        principal=principal,
        cases=found,
        overdue=late,
        state=state,
        teams=teams,
        values=values or {},
        message=message,
        **_words(lang),
    )


@router.get("/psirt")
async def psirt_page(
    request: Request, principal: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Response:
    _require(principal, "psirt.read")
    return await _list_page(request, principal, store)


@router.post("/psirt")
async def psirt_open(
    request: Request, principal: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Response:
    _require(principal, "psirt.write")
    values = await _form(request)
    values.pop("csrf_token", None)
    lang = page_lang(request, principal.lang)
    try:
        body = api.CaseIn(
            title=values.get("title", ""),
            team=values.get("team") or None,
            channel="web",
            lang=values.get("lang") or lang,  # type: ignore[arg-type]
            reporter_name=values.get("reporter_name") or None,
            reporter_contact=values.get("reporter_contact") or None,
            credit=values.get("credit") or "named",
            embargo_until=values.get("embargo_until") or None,
            cve_id=values.get("cve_id") or None,
            component=values.get("component") or None,
            affected_range=values.get("affected_range") or None,
            cwe=values.get("cwe") or None,
            cvss_v3=values.get("cvss_v3") or None,
            description=values.get("description") or None,
        )
        case = await run_in_threadpool(api.create, store, principal, body)
    except ValidationError as exc:
        problem = _invalid(exc)
        return await _list_page(
            request, principal, store, 400, text(lang, "psirt", "refused", problem=problem), values
        )
    except HTTPException as exc:
        if exc.status_code != 422:
            raise
        return await _list_page(
            request, principal, store, 400, text(lang, "psirt", "refused", problem=_problem(exc)), values
        )
    await audit(request, "psirt.case.open", f"case:{case.key}", None, api._team_id(principal, case.team))
    return RedirectResponse(f"/psirt/cases/{quote(case.key)}?done=opened", 303)


# -- the case page -----------------------------------------------------------------------------------
async def _case_page(
    request: Request,
    principal: Principal,
    store: Store,
    case: cases.Case,
    status_code: int = 200,
    message: str | None = None,
) -> Response:
    lang = page_lang(request, principal.lang)
    if message is None:
        done = request.query_params.get("done", "")
        message = text(lang, "psirt", f"done_{done}") if done in DONE else None
    timer = await run_in_threadpool(_timer, store, case)
    revisions = await run_in_threadpool(cases.revisions, store, case.key)
    settings = request.app.state.settings
    writable = api._may(principal, case, "psirt.write")
    return render(
        request,
        "psirt_case.html",
        lang,
        status_code=status_code,
        principal=principal,
        case=case,
        texts={name: case.texts.get(case.lang, {}).get(name, "") for name in TEXTS},
        text_names=TEXTS,
        allowed=workflow().allowed(case.state),
        timer=timer,
        revisions=revisions,
        writable=writable,
        ssvc_points=_ssvc_points(lang) if writable else [],
        statuses=cases.PRODUCT_STATUSES,
        defaults={
            "publisher": settings.csaf_publisher or "",
            "namespace": settings.csaf_namespace or "",
            "org_id": settings.cna_org_id or "",
            "short_name": settings.cna_short_name or "",
        },
        message=message,
        **_words(lang),
    )


async def _case(
    request: Request, principal: Principal, store: Store, key: str, permission: str
) -> cases.Case:
    return await run_in_threadpool(api.case_or_404, store, principal, key[:40], permission)


@router.get("/psirt/cases/{case_key}")
async def case_page(
    request: Request,
    case_key: str,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    case = await _case(request, principal, store, case_key, "psirt.read")
    return await _case_page(request, principal, store, case)


async def _refused(request: Request, principal: Principal, store: Store, key: str, problem: str) -> Response:
    lang = page_lang(request, principal.lang)
    case = await _case(request, principal, store, key, "psirt.read")
    message = text(lang, "psirt", "refused", problem=problem)
    return await _case_page(request, principal, store, case, 400, message)


def _back(case: cases.Case, done: str) -> Response:
    return RedirectResponse(f"/psirt/cases/{quote(case.key)}?done={done}", 303)


async def _act(
    request: Request,
    principal: Principal,
    store: Store,
    case: cases.Case,
    action: str,
    call: Callable[[], Any],
    answer: Callable[[Any], Response],
    detail: Callable[[Any], dict[str, Any] | None] = lambda _result: None,
) -> Response:
    """Run ``call`` (it builds the API's body from the form and calls the API) in the thread pool. A form
    the body refuses, or a 422 from the API, shows the case page with the problem; otherwise the change is
    audited as ``action`` (with ``detail(result)``) and ``answer(result)`` is the response."""
    try:
        result = await run_in_threadpool(call)
    except ValidationError as exc:
        return await _refused(request, principal, store, case.key, _invalid(exc))
    except HTTPException as exc:
        if exc.status_code != 422:
            raise
        return await _refused(request, principal, store, case.key, _problem(exc))
    await audit(request, action, f"case:{case.key}", detail(result), api._team_id(principal, case.team))
    return answer(result)


@router.post("/psirt/cases/{case_key}/transition")
async def case_transition(
    request: Request,
    case_key: str,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    case = await _case(request, principal, store, case_key, "psirt.write")
    values = await _form(request)
    ssvc = {
        name[len("ssvc_") :]: value for name, value in values.items() if name.startswith("ssvc_") and value
    }
    body = {
        "state": values.get("state", ""),
        "note": values.get("note") or None,
        "ssvc": ssvc or None,
        "duplicate_of": values.get("duplicate_of") or None,
    }
    return await _act(
        request,
        principal,
        store,
        case,
        "psirt.case.transition",
        lambda: api.move(store, principal, case, api.TransitionIn(**body)),
        lambda _moved: _back(case, "moved"),
        lambda moved: {"from": case.state, "to": moved.state},
    )


@router.post("/psirt/cases/{case_key}/edit")
async def case_edit(
    request: Request,
    case_key: str,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    case = await _case(request, principal, store, case_key, "psirt.write")
    values = await _form(request)
    current = {
        "title": case.title,
        "reporter_name": case.reporter_name,
        "reporter_contact": case.reporter_contact,
        "credit": case.credit,
        "embargo_until": case.embargo_until,
        "cve_id": case.cve_id,
        "component": case.component,
        "affected_range": case.affected_range,
        "fixed_version": case.fixed_version,
        "cwe": case.cwe,
        "cvss_v3": case.cvss_v3,
        "fix_url": case.fix_url,
    }
    changed = {
        name: values.get(name, "") or None
        for name in CASE_FIELDS
        if name in values and (values.get(name) or None) != current[name]
    }
    own = case.texts.get(case.lang, {})
    texts = {
        name: values.get(f"text_{name}", "") or None
        for name in TEXTS
        if f"text_{name}" in values and (values.get(f"text_{name}") or None) != own.get(name)
    }
    return await _act(
        request,
        principal,
        store,
        case,
        "psirt.case.edit",
        lambda: api.edit(
            store, principal, case, api.CaseEdit(values=changed, texts={case.lang: texts} if texts else None)
        ),
        lambda _edited: _back(case, "edited"),
    )


@router.post("/psirt/cases/{case_key}/affected")
async def case_affected(
    request: Request,
    case_key: str,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    case = await _case(request, principal, store, case_key, "psirt.write")
    return await _act(
        request,
        principal,
        store,
        case,
        "psirt.case.affected",
        lambda: api.recompute(store, principal, case),
        lambda _found: _back(case, "computed"),
    )


@router.post("/psirt/cases/{case_key}/products")
async def case_product(
    request: Request,
    case_key: str,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    case = await _case(request, principal, store, case_key, "psirt.write")
    values = await _form(request)
    status = values.get("status", "")
    body = {
        "product": values.get("product", ""),
        "release": values.get("release", ""),
        "status": None if status == "remove" else status,
    }
    return await _act(
        request,
        principal,
        store,
        case,
        "psirt.case.products",
        lambda: api.set_release(store, principal, case, api.ProductIn(**body)),
        lambda _set: _back(case, "release"),
    )


def _json_file(data: Any, name: str) -> Response:
    raw = (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    return api.attachment(raw, "application/json", name)


@router.post("/psirt/cases/{case_key}/csaf")
async def case_csaf(
    request: Request,
    case_key: str,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    case = await _case(request, principal, store, case_key, "psirt.write")
    values = await _form(request)
    body = {
        "publisher": values.get("publisher") or None,
        "namespace": values.get("namespace") or None,
        "lang": values.get("lang") or None,
        "vex": values.get("vex") == "1",
        "tlp": values.get("tlp") or "WHITE",
        "status": values.get("status") or None,
        "revision": values.get("revision") or None,
    }
    return await _act(
        request,
        principal,
        store,
        case,
        "psirt.case.csaf",
        lambda: api.draft_csaf(store, request, principal, case, api.CsafIn(**body)),
        lambda doc: _json_file(doc, f"{case.key.lower()}.csaf.json"),
    )


@router.post("/psirt/cases/{case_key}/cve")
async def case_cve(
    request: Request,
    case_key: str,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    case = await _case(request, principal, store, case_key, "psirt.write")
    values = await _form(request)
    references = [r for r in values.get("references", "").split() if r][:50]
    body = {
        "org_id": values.get("org_id") or None,
        "short_name": values.get("short_name") or None,
        "vendor": values.get("vendor") or None,
        "references": references,
    }
    return await _act(
        request,
        principal,
        store,
        case,
        "psirt.case.cve",
        lambda: api.draft_cve(store, request, principal, case, api.CveIn(**body)),
        lambda record: _json_file(record, f"{case.key.lower()}.cve.json"),
    )


# -- metrics -----------------------------------------------------------------------------------------
@router.get("/psirt/metrics")
async def metrics_page(
    request: Request, principal: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Response:
    _require(principal, "psirt.read")
    lang = page_lang(request, principal.lang)
    found = await run_in_threadpool(api.metrics_for, store, principal, None)
    return render(request, "psirt_metrics.html", lang, principal=principal, m=found, **_words(lang))


@router.get("/psirt/metrics.csv")
async def metrics_csv(
    request: Request, principal: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Response:
    from mamori.psirt.metrics import metrics_csv as to_csv

    _require(principal, "psirt.read")
    found = await run_in_threadpool(api.metrics_for, store, principal, None)
    return api.attachment(to_csv(found), "text/csv; charset=utf-8", "psirt-metrics.csv")

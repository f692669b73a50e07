"""Native API: PSIRT cases of the teams (``/api/mamori/v1/cases``).

Thin wiring over :mod:`mamori.psirt` — the same calls as ``mamori psirt case``. A case belongs to a team
(its ``team``): ``psirt.read`` lists and shows the cases of the principal's teams, ``psirt.write`` opens cases
for one of them (channel ``api``) and moves them through the workflow; an administrator sees every case,
those without a team too. Another team's case answers 404, as one that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from mamori.errors import InputError
from mamori.i18n import _
from mamori.psirt import cases
from mamori.server import api_common as common
from mamori.server.api import PREFIX
from mamori.server.security import Principal, audit, get_store, require
from mamori.store import Store

router = APIRouter(prefix=PREFIX, tags=["psirt"])
CaseKey = Annotated[
    str, PathParam(min_length=1, max_length=40, description="a case key, e.g. PSIRT-2026-0001")
]


def _teams(principal: Principal, permission: str) -> set[str] | None:
    """The team names ``permission`` holds for; None: every team (an administrator)."""
    out: set[str] = set()
    for grant in principal.memberships:
        if permission in grant.permissions():
            if grant.all_products:
                return None
            out.add(grant.team)
    return out


def _may(principal: Principal, case: cases.Case, permission: str) -> bool:
    teams = _teams(principal, permission)
    return teams is None or (case.team is not None and case.team in teams)


def _visible_case(store: Store, principal: Principal, key: str, permission: str) -> cases.Case:
    try:
        case = cases.get_case(store, key)
    except InputError:
        raise HTTPException(404, "not found") from None
    if _may(principal, case, permission):
        return case
    seen = _may(principal, case, "psirt.read")
    raise HTTPException(403 if seen else 404, "not permitted" if seen else "not found")


class CaseIn(BaseModel):
    title: str = Field(min_length=1, max_length=500)
    team: str | None = Field(default=None, max_length=200)
    channel: str = Field(default="api", pattern="^(api|web)$")
    lang: str = Field(default="en", pattern="^(en|ja)$")
    reporter_name: str | None = Field(default=None, max_length=500)
    reporter_contact: str | None = Field(default=None, max_length=500)
    credit: str = Field(default="named", pattern="^(named|anonymous|none)$")
    embargo_until: str | None = Field(default=None, max_length=40)
    cve_id: str | None = Field(default=None, max_length=40)
    component: str | None = Field(default=None, max_length=1000)
    affected_range: str | None = Field(default=None, max_length=1000)
    cwe: str | None = Field(default=None, max_length=16)
    cvss_v3: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=20_000)


class TransitionIn(BaseModel):
    state: str = Field(min_length=1, max_length=24)
    note: str | None = Field(default=None, max_length=20_000)
    ssvc: dict[str, str] | None = None
    duplicate_of: str | None = Field(default=None, max_length=40)


def _team_id(principal: Principal, team: str | None) -> int | None:
    return next((g.team_id for g in principal.memberships if team is not None and g.team == team), None)


def _out(case: cases.Case) -> dict[str, Any]:
    return case.as_dict()


@router.get("/cases", response_model=list[dict[str, Any]])
def list_cases(
    principal: Principal = Depends(require("psirt.read")),
    store: Store = Depends(get_store),
    state: str | None = Query(default=None, max_length=24, description="only the cases in this state"),
) -> list[dict[str, Any]]:
    """The cases of the principal's teams (an administrator: every case), oldest first, without history."""
    try:
        found = visible_cases(store, principal, state)
    except InputError as exc:
        raise common.unprocessable(exc.problem, "query", "state") from None
    out = []
    for case in found:
        d = case.as_dict()
        d.pop("history")
        out.append(d)
    return out


@router.get("/cases/{case_key}", response_model=dict[str, Any])
def show_case(
    case_key: CaseKey,
    principal: Principal = Depends(require("psirt.read")),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    """One case with its history and affected releases."""
    return _out(_visible_case(store, principal, case_key, "psirt.read"))


def writing_teams(store: Store, principal: Principal) -> list[str]:
    """The teams the principal may open cases for (an administrator: every team)."""
    teams = _teams(principal, "psirt.write")
    if teams is None:
        from mamori import accounts

        return [t.name for t in accounts.list_teams(store)]
    return sorted(teams)


def visible_cases(store: Store, principal: Principal, state: str | None = None) -> list[cases.Case]:
    """The cases of the principal's teams (an administrator: every case), oldest first, without history."""
    teams = _teams(principal, "psirt.read")
    return [
        case
        for case in cases.list_cases(store, state=state)
        if teams is None or (case.team is not None and case.team in teams)
    ]


def case_or_404(store: Store, principal: Principal, key: str, permission: str) -> cases.Case:
    """The case ``key`` if the principal holds ``permission`` for its team (403/404 otherwise)."""
    return _visible_case(store, principal, key, permission)


def team_products(store: Store, team: str | None) -> set[str]:
    """The names of the products the team ``team`` owns (none without a team)."""
    from sqlalchemy import select

    from mamori import accounts
    from mamori.portfolio.tables import ProductRow

    found = accounts.get_team(store, team) if team else None
    if found is None:
        return set()
    ids = accounts.team_products(store, [found.id]).get(found.id, frozenset())
    p = ProductRow.__table__
    with store.engine.connect() as conn:
        return {row.name for row in conn.execute(select(p.c.name).where(p.c.id.in_(sorted(ids))))}


def _compute(store: Store, principal: Principal, case: cases.Case) -> cases.Case:
    """The case's affected releases computed from the products of its team (every product for a case
    without a team, which only an administrator sees)."""
    products = team_products(store, case.team) if case.team else None
    return cases.compute_affected(store, case.key, who=principal.name, products=products)


def create(store: Store, principal: Principal, body: CaseIn) -> cases.Case:
    """Open a case for one of the principal's teams (422 for another team or a value that does not hold)."""
    teams = _teams(principal, "psirt.write")
    team = body.team
    if teams is not None:
        if team is None and len(teams) == 1:
            team = next(iter(teams))
        if team is None or team not in teams:
            raise common.unprocessable("team: one of your teams", "body", "team")
    try:
        case = cases.new_case(
            store,
            title=body.title,
            channel=body.channel,
            who=principal.name,
            team=team,
            lang=body.lang,
            reporter_name=body.reporter_name,
            reporter_contact=body.reporter_contact,
            credit=body.credit,
            embargo_until=body.embargo_until,
            cve_id=body.cve_id,
            component=body.component,
            affected_range=body.affected_range,
            cwe=body.cwe,
            cvss_v3=body.cvss_v3,
            texts={body.lang: {"description": body.description}} if body.description else None,
        )
        return _compute(store, principal, case) if case.component else case
    except InputError as exc:
        raise common.unprocessable(exc.problem) from None


@router.post("/cases", status_code=201, response_model=dict[str, Any])
async def open_case(
    body: CaseIn,
    request: Request,
    principal: Principal = Depends(require("psirt.write")),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    """Open a case (channel api or web) for one of the principal's teams."""
    case = await run_in_threadpool(create, store, principal, body)
    await audit(request, "psirt.case.open", f"case:{case.key}", None, _team_id(principal, case.team))
    return _out(case)


@router.post("/cases/{case_key}/transition", response_model=dict[str, Any])
async def move_case(
    case_key: CaseKey,
    body: TransitionIn,
    request: Request,
    principal: Principal = Depends(require("psirt.write")),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    """Move a case to another state (422 when the workflow does not allow it)."""
    case = await run_in_threadpool(_visible_case, store, principal, case_key, "psirt.write")
    moved = await run_in_threadpool(move, store, principal, case, body)
    await audit(
        request,
        "psirt.case.transition",
        f"case:{case.key}",
        {"from": case.state, "to": moved.state},
        _team_id(principal, case.team),
    )
    return _out(moved)


class CaseEdit(BaseModel):
    values: dict[str, str | None] = Field(
        default_factory=dict,
        description="field → new value (empty or null clears): " + ", ".join(sorted(cases.EDITABLE)),
    )
    texts: dict[str, dict[str, str | None]] | None = Field(
        default=None, description="language (en, ja) → text name (description, workaround, …) → text"
    )
    note: str | None = Field(default=None, max_length=20_000)


class ProductIn(BaseModel):
    product: str = Field(min_length=1, max_length=200)
    release: str = Field(min_length=1, max_length=100)
    status: Literal["known_affected", "fixed", "known_not_affected"] | None = Field(
        default=None, description="null removes the release from the case"
    )


class CsafIn(BaseModel):
    publisher: str | None = Field(default=None, max_length=200, description="default: the server's")
    namespace: str | None = Field(default=None, max_length=2000, description="default: the server's")
    lang: Literal["en", "ja"] | None = None
    vex: bool = False
    tlp: Literal["WHITE", "GREEN", "AMBER", "RED"] = "WHITE"
    status: Literal["draft", "interim", "final"] | None = None
    revision: str | None = Field(
        default=None, max_length=2000, description="record a new revision of the advisory with this summary"
    )


class CveIn(BaseModel):
    org_id: str | None = Field(default=None, max_length=64, description="default: the server's")
    short_name: str | None = Field(default=None, max_length=64, description="default: the server's")
    vendor: str | None = Field(default=None, max_length=200, description="default: the CSAF publisher")
    references: list[str] = Field(default_factory=list, max_length=50)


def edit(store: Store, principal: Principal, case: cases.Case, body: CaseEdit) -> cases.Case:
    if "team" in body.values:
        raise common.unprocessable(_("team cannot be changed here"), "body", "values")
    try:
        return cases.update_case(
            store, case.key, who=principal.name, values=body.values, texts=body.texts, note=body.note
        )
    except InputError as exc:
        raise common.unprocessable(exc.problem) from None


def recompute(store: Store, principal: Principal, case: cases.Case) -> cases.Case:
    try:
        return _compute(store, principal, case)
    except InputError as exc:
        raise common.unprocessable(exc.problem) from None


def set_release(store: Store, principal: Principal, case: cases.Case, body: ProductIn) -> cases.Case:
    try:
        return cases.set_product(store, case.key, body.product, body.release, body.status, who=principal.name)
    except InputError as exc:
        raise common.unprocessable(exc.problem) from None


def move(store: Store, principal: Principal, case: cases.Case, body: TransitionIn) -> cases.Case:
    try:
        return cases.transition(
            store,
            case.key,
            body.state,
            who=principal.name,
            note=body.note,
            ssvc=body.ssvc,
            duplicate_of=body.duplicate_of,
        )
    except InputError as exc:
        raise common.unprocessable(exc.problem) from None


def draft_csaf(
    store: Store, request: Request, principal: Principal, case: cases.Case, body: CsafIn
) -> dict[str, Any]:
    """The CSAF document of the case, checked (schema and the mandatory tests): 422 with the problems."""
    from mamori.advisory.csaf_draft import check_csaf
    from mamori.advisory.csaf_draft import draft_csaf as draft
    from mamori.server.errors import request_lang

    settings = request.app.state.settings
    publisher = body.publisher or settings.csaf_publisher
    namespace = body.namespace or settings.csaf_namespace
    if not publisher or not namespace:
        raise common.unprocessable(_("publisher and namespace: give them (the server has none set)"), "body")
    try:
        if body.revision:
            cases.add_revision(store, case.key, body.status or "draft", body.revision, who=principal.name)
        doc = draft(
            store,
            case.key,
            publisher=publisher,
            namespace=namespace,
            lang=body.lang,
            vex=body.vex,
            tlp=body.tlp,
            status=body.status,
        )
    except InputError as exc:
        raise common.unprocessable(exc.problem) from None
    problems = check_csaf(doc, request_lang(request))
    if problems:
        raise HTTPException(422, [{"loc": ["advisory"], "msg": p, "type": "value_error"} for p in problems])
    return doc


def draft_cve(
    store: Store, request: Request, principal: Principal, case: cases.Case, body: CveIn
) -> dict[str, Any]:
    """The CVE JSON 5 record of the case, checked against the CVE record schema: 422 with the problems."""
    from mamori.advisory.cve_record import cve_problems
    from mamori.advisory.cve_record import draft_cve as draft

    settings = request.app.state.settings
    org_id = body.org_id or settings.cna_org_id
    short_name = body.short_name or settings.cna_short_name
    vendor = body.vendor or settings.csaf_publisher
    if not org_id or not short_name or not vendor:
        raise common.unprocessable(
            _("org_id, short_name and vendor: give them (the server has none set)"), "body"
        )
    try:
        record = draft(
            store, case.key, org_id=org_id, short_name=short_name, vendor=vendor, references=body.references
        )
    except InputError as exc:
        raise common.unprocessable(exc.problem) from None
    problems = cve_problems(record)
    if problems:
        raise HTTPException(422, [{"loc": ["record"], "msg": p, "type": "value_error"} for p in problems])
    return record


def metrics_for(store: Store, principal: Principal, team: str | None) -> dict[str, Any]:
    """The metrics of the cases of ``team`` (one of the principal's), else of all the principal's teams."""
    from mamori.psirt.metrics import metrics

    teams = _teams(principal, "psirt.read")
    if team is not None and teams is not None and team not in teams:
        raise HTTPException(404, "not found")
    return metrics(store, team=team, teams=teams)


def attachment(data: bytes, media: str, name: str) -> Response:
    return Response(
        data,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


async def _changed(request: Request, principal: Principal, case: cases.Case, what: str) -> None:
    await audit(request, f"psirt.case.{what}", f"case:{case.key}", None, _team_id(principal, case.team))


@router.patch("/cases/{case_key}", response_model=dict[str, Any])
async def edit_case(
    case_key: CaseKey,
    body: CaseEdit,
    request: Request,
    principal: Principal = Depends(require("psirt.write")),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    """Change fields and texts of a case (recorded in its history with the fields' names)."""
    case = await run_in_threadpool(_visible_case, store, principal, case_key, "psirt.write")
    changed = await run_in_threadpool(edit, store, principal, case, body)
    await _changed(request, principal, case, "edit")
    return _out(changed)


@router.post("/cases/{case_key}/affected", response_model=dict[str, Any])
async def compute_case_affected(
    case_key: CaseKey,
    request: Request,
    principal: Principal = Depends(require("psirt.write")),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    """Compute the affected releases again from the portfolio (the releases a person set stay)."""
    case = await run_in_threadpool(_visible_case, store, principal, case_key, "psirt.write")
    changed = await run_in_threadpool(recompute, store, principal, case)
    await _changed(request, principal, case, "affected")
    return _out(changed)


@router.put("/cases/{case_key}/products", response_model=dict[str, Any])
async def set_case_product(
    case_key: CaseKey,
    body: ProductIn,
    request: Request,
    principal: Principal = Depends(require("psirt.write")),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    """Set a release's status for the case (null status: remove it)."""
    case = await run_in_threadpool(_visible_case, store, principal, case_key, "psirt.write")
    changed = await run_in_threadpool(set_release, store, principal, case, body)
    await _changed(request, principal, case, "products")
    return _out(changed)


@router.post("/cases/{case_key}/advisory/csaf", response_model=dict[str, Any])
async def draft_case_csaf(
    case_key: CaseKey,
    body: CsafIn,
    request: Request,
    principal: Principal = Depends(require("psirt.write")),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    """Draft the case's CSAF 2.0 advisory (checked: the schema and the mandatory tests of section 6.1)."""
    case = await run_in_threadpool(_visible_case, store, principal, case_key, "psirt.write")
    doc = await run_in_threadpool(draft_csaf, store, request, principal, case, body)
    await _changed(request, principal, case, "csaf")
    return doc


@router.post("/cases/{case_key}/advisory/cve", response_model=dict[str, Any])
async def draft_case_cve(
    case_key: CaseKey,
    body: CveIn,
    request: Request,
    principal: Principal = Depends(require("psirt.write")),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    """Draft the case's CVE JSON 5 record (checked against the CVE record schema)."""
    case = await run_in_threadpool(_visible_case, store, principal, case_key, "psirt.write")
    record = await run_in_threadpool(draft_cve, store, request, principal, case, body)
    await _changed(request, principal, case, "cve")
    return record


@router.get("/psirt/metrics", response_model=dict[str, Any])
def psirt_metrics(
    principal: Principal = Depends(require("psirt.read")),
    store: Store = Depends(get_store),
    team: str | None = Query(default=None, max_length=200, description="one of your teams (default: all)"),
) -> dict[str, Any]:
    """The FIRST PSIRT metrics of the cases of the principal's teams."""
    return metrics_for(store, principal, team)


@router.get(
    "/psirt/metrics.csv",
    response_class=Response,
    responses={
        200: {
            "description": "the metrics as CSV (attachment)",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
def psirt_metrics_csv(
    principal: Principal = Depends(require("psirt.read")),
    store: Store = Depends(get_store),
    team: str | None = Query(default=None, max_length=200, description="one of your teams (default: all)"),
) -> Response:
    """The FIRST PSIRT metrics as CSV (metric, catalog measure, key, value; formula-neutralised)."""
    from mamori.psirt.metrics import metrics_csv

    return attachment(
        metrics_csv(metrics_for(store, principal, team)), "text/csv; charset=utf-8", "psirt-metrics.csv"
    )

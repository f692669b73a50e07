"""Native API: PSIRT cases of the teams (``/api/mamori/v1/cases``).

Thin wiring over :mod:`mamori.psirt` — the same calls as ``mamori psirt case``. A case belongs to a team
(its ``team``): ``psirt.read`` lists and shows the cases of the principal's teams, ``psirt.write`` opens cases
for one of them (channel ``api``) and moves them through the workflow; an administrator sees every case,
those without a team too. Another team's case answers 404, as one that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from mamori.errors import InputError
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
    principal: Principal = Depends(require("psirt.read")), store: Store = Depends(get_store)
) -> list[dict[str, Any]]:
    """The cases of the principal's teams (an administrator: every case), oldest first, without history."""
    teams = _teams(principal, "psirt.read")
    out = []
    for case in cases.list_cases(store):
        if teams is None or (case.team is not None and case.team in teams):
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


@router.post("/cases", status_code=201, response_model=dict[str, Any])
async def open_case(
    body: CaseIn,
    request: Request,
    principal: Principal = Depends(require("psirt.write")),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    """Open a case (channel api or web) for one of the principal's teams."""
    teams = _teams(principal, "psirt.write")
    team = body.team
    if teams is not None:
        if team is None and len(teams) == 1:
            team = next(iter(teams))
        if team is None or team not in teams:
            raise common.unprocessable("team: one of your teams", "body", "team")

    def run() -> cases.Case:
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
        return cases.compute_affected(store, case.key, who=principal.name) if case.component else case

    try:
        case = await run_in_threadpool(run)
    except InputError as exc:
        raise common.unprocessable(exc.problem) from None
    await audit(request, "psirt.case.open", f"case:{case.key}", None, _team_id(principal, team))
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

    def run() -> cases.Case:
        return cases.transition(
            store,
            case.key,
            body.state,
            who=principal.name,
            note=body.note,
            ssvc=body.ssvc,
            duplicate_of=body.duplicate_of,
        )

    try:
        moved = await run_in_threadpool(run)
    except InputError as exc:
        raise common.unprocessable(exc.problem) from None
    await audit(
        request,
        "psirt.case.transition",
        f"case:{case.key}",
        {"from": case.state, "to": moved.state},
        _team_id(principal, case.team),
    )
    return _out(moved)

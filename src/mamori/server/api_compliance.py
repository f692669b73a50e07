"""Native API: self-assessments of the teams (``/api/mamori/v1/assessments``).

Thin wiring over :mod:`mamori.compliance` — the same calls as ``mamori assess``: :class:`Assessments`
(create, answer with history, evidence), :func:`~mamori.compliance.gaps.analyse`,
:func:`~mamori.compliance.roadmap.plan`, :func:`~mamori.compliance.declaration.build` (JSON, HTML and PDF
as ``mamori assess declare`` writes them) and :func:`~mamori.compliance.jcstar.render` (the JC-STAR ☆1
label page).

Who sees what (:mod:`mamori.accounts.assessment_owner`): an assessment belongs to a team (and optionally
one of its products). Members of the team read it with ``assessment.read``, answer it and upload evidence
with ``assessment.write``, download its declaration with ``declaration.read``; a membership limited to
some products covers the assessments of those products only. Making the declaration needs
``assessment.write`` and ``declaration.read``; publishing it to the team's customers ``assessment.write``
and ``publish.read``. A customer (``publish.read``) sees the published declarations of its team only. An
administrator sees every assessment, those without a team (made on the command line) too. An assessment
the principal may not see answers 404, as one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, Field

from mamori.accounts import assessment_owner as owners
from mamori.compliance.assessment import FRAMEWORKS, STATUSES, Assessment
from mamori.errors import InputError
from mamori.server import api_common as common
from mamori.server.api import PREFIX
from mamori.server.security import Principal, current_principal, get_store, require
from mamori.server.web import page_lang, text
from mamori.store import Store

router = APIRouter(prefix=PREFIX, tags=["compliance"])

#: The largest evidence file the server takes (bytes).
EVIDENCE_MAX_BYTES = 20 * 1024 * 1024
DECLARATION_FORMATS = {
    "json": ("application/json", "json"),
    "pdf": ("application/pdf", "pdf"),
    "html": ("text/html; charset=utf-8", "html"),
}
VIA = "server"
ItemId = Annotated[str, PathParam(min_length=1, max_length=40, description="a catalog item's id")]
AssessmentId = Annotated[int, PathParam(ge=1, le=2**62)]


# -- who may do what ---------------------------------------------------------------------------------
def may(principal: Principal, owner: owners.Owner | None, permission: str) -> bool:
    """``permission`` holds for the assessment owned by ``owner`` (None: no team, administrators only).
    ``declaration.read`` holds for a published declaration with ``publish.read`` too."""
    for grant in principal.memberships:
        perms = grant.permissions()
        held = permission in perms or (
            permission == "declaration.read"
            and "publish.read" in perms
            and owner is not None
            and owner.published
        )
        if not held:
            continue
        if grant.all_products:
            return True
        if owner is None or grant.team_id != owner.team_id:
            continue
        if grant.limited and (owner.product_id is None or owner.product_id not in grant.products):
            continue
        return True
    return False


def visible(principal: Principal, owner: owners.Owner | None) -> bool:
    """The principal sees the assessment at all (then a refusal is a 403, not a 404)."""
    return any(may(principal, owner, p) for p in ("assessment.read", "declaration.read", "assessment.write"))


# what each operation on one assessment needs (every permission named), for the API routes and the web
# pages alike; and what listing the assessments needs (any one of them)
OPERATIONS: dict[str, tuple[str, ...]] = {
    "read": ("assessment.read",),
    "write": ("assessment.write",),
    "declare": ("assessment.write", "declaration.read"),
    "publish": ("assessment.write", "publish.read"),
    "download": ("declaration.read",),
}
LIST_PERMISSIONS = ("assessment.read", "declaration.read", "publish.read")


def may_list(principal: Principal) -> bool:
    """The principal may list assessments (a customer: the published declarations)."""
    return any(principal.can(p) for p in LIST_PERMISSIONS)


def require_list(principal: Principal) -> None:
    """403 unless the principal may list assessments."""
    if not may_list(principal):
        raise HTTPException(403, "not permitted")


def require_create(principal: Principal) -> None:
    """403 unless the principal answers assessments somewhere (:func:`creating_teams` then says for
    which teams it may make them)."""
    if not principal.can("assessment.write"):
        raise HTTPException(403, "not permitted")


def allowed(principal: Principal, owner: owners.Owner | None) -> dict[str, bool]:
    """Per operation of :data:`OPERATIONS`: whether every permission it needs holds for the assessment
    owned by ``owner`` (the web pages show a link or form only where it does)."""
    return {op: all(may(principal, owner, p) for p in needs) for op, needs in OPERATIONS.items()}


@dataclass(frozen=True)
class Found:
    assessment: Assessment
    owner: owners.Owner | None

    @property
    def team_id(self) -> int | None:
        return self.owner.team_id if self.owner else None


def load(store: Store, assessment_id: int) -> Found | None:
    from mamori.compliance.repository import Assessments

    if not 0 < assessment_id < 2**62:
        return None
    try:
        found = Assessments(store).get(assessment_id)
    except InputError:
        return None
    return Found(found, owners.owner(store, assessment_id))


def assessment_or_404(store: Store, principal: Principal, assessment_id: int, operation: str) -> Found:
    """The assessment when the principal may do ``operation`` (a key of :data:`OPERATIONS`) with it; one
    the principal sees but may not do that with: 403; another team's, or none: 404."""
    found = load(store, assessment_id)
    if found is None or not visible(principal, found.owner):
        raise common.not_found()
    if not allowed(principal, found.owner)[operation]:
        raise HTTPException(403, "not permitted")
    return found


def visible_assessments(store: Store, principal: Principal) -> list[Found]:
    """The assessments the principal sees, newest first (a customer: the published declarations)."""
    from mamori.compliance.repository import Assessments

    book = Assessments(store)
    owned = owners.owners(store)
    out = []
    for ident in reversed(book.ids()):
        owner = owned.get(ident)
        if visible(principal, owner):
            out.append(Found(book.get(ident), owner))
    return out


def creating_teams(store: Store, principal: Principal) -> list[tuple[int, str]]:
    """(id, name) of the teams the principal may make assessments for: its teams where it answers
    assessments over the whole team; an administrator: every team."""
    from mamori import accounts

    if any(g.all_products and "assessment.write" in g.permissions() for g in principal.memberships):
        return [(t.id, t.name) for t in accounts.list_teams(store)]
    out: list[tuple[int, str]] = []
    for g in principal.memberships:
        if "assessment.write" in g.permissions() and not g.limited and (g.team_id, g.team) not in out:
            out.append((g.team_id, g.team))
    return out


def evidence_root(request: Request) -> Path:
    """Where uploaded evidence files are kept: ``ServerSettings.evidence_dir``, else ``MAMORI_EVIDENCE_DIR``,
    else ``<store file>.evidence`` beside a SQLite store, else ``evidence`` in mamori's data folder."""
    import os

    import platformdirs

    from mamori.store.engine import sqlite_path

    configured = request.app.state.settings.evidence_dir or os.environ.get("MAMORI_EVIDENCE_DIR")
    if configured:
        return Path(configured)
    db = sqlite_path(get_store(request).url)
    if db:
        return Path(db).with_name(Path(db).name + ".evidence")
    return Path(platformdirs.user_data_dir("mamori", appauthor=False)) / "evidence"


# -- models ------------------------------------------------------------------------------------------
Framework = Literal["guideline", "ssdf", "checklist", "jcstar1"]
Status = Literal["implemented", "partial", "not_implemented", "not_applicable"]
CatalogRole = Literal["developer", "supplier", "operator", "customer"]
assert set(FRAMEWORKS) == {"guideline", "ssdf", "checklist", "jcstar1"} and len(STATUSES) == 4


class TextOut(BaseModel):
    ja: str
    en: str


class DeclarationStateOut(BaseModel):
    date: str | None = Field(description="the date of the declaration")
    approver: dict[str, str] | None
    declared_at: str | None
    declared_by: str | None
    published_at: str | None = Field(description="when it was published to the team's customers")


class AssessmentOut(BaseModel):
    id: int
    framework: str
    catalog_version: str
    title: TextOut = Field(description="the catalog's title")
    organization: str
    scope: str
    roles: list[str]
    team: str | None = Field(description="the owning team (None: made on the command line, no team)")
    product_id: int | None
    created_at: str
    updated_at: str
    counts: dict[str, int] = Field(description="applicable items per status, and unanswered")
    approver: str | None
    declared_on: str | None
    valid_from: str | None
    valid_until: str | None
    declaration: DeclarationStateOut | None = Field(description="the declaration made on the server")
    label_page: bool = Field(description="a JC-STAR ☆1 assessment: GET …/label gives its label page")


class EvidenceOut(BaseModel):
    kind: str = Field(description="file, url or artifact")
    ref: str = Field(description="a file's name, a URL or an artifact reference")
    artifact_kind: str | None
    sha256: str | None
    size: int | None
    recorded_at: str
    note: str | None


class ItemOut(BaseModel):
    id: str
    title: TextOut
    group: TextOut | None
    group_id: str | None
    mandatory: bool
    status: str = Field(description="implemented, partial, not_implemented, not_applicable or unanswered")
    level: int | None = Field(description="SSDF: 0–3")
    owner: str | None
    due: str | None
    note: str | None = Field(description="the note (the reason a not-applicable item does not apply)")
    evidence: list[EvidenceOut]


class AssessmentDetailOut(AssessmentOut):
    items: list[ItemOut]


class AssessmentIn(BaseModel):
    framework: Framework
    organization: str = Field(min_length=1, max_length=500)
    scope: str = Field(
        min_length=1, max_length=2000, description="what is assessed, e.g. product and release"
    )
    roles: list[CatalogRole] = Field(
        min_length=1, max_length=4, description="the roles the organisation plays"
    )
    team: str | None = Field(None, max_length=200, description="the owning team (default: your team)")
    product_id: int | None = Field(None, ge=1, le=2**62, description="a product of the team it is about")


class OwnerIn(BaseModel):
    team: str = Field(min_length=1, max_length=200)
    product_id: int | None = Field(None, ge=1, le=2**62)


class AnswerIn(BaseModel):
    """The fields to set; a field left out stays as it is, ``null`` clears it."""

    status: Status | None = None
    level: int | None = Field(None, ge=0, le=3, description="SSDF tasks only")
    note: str | None = Field(None, max_length=4000, description="required for not_applicable")
    owner: str | None = Field(None, max_length=200)
    due: str | None = Field(None, max_length=10, description="YYYY-MM-DD")


class DeclareIn(BaseModel):
    approver: str = Field(min_length=3, max_length=400, description='"name, title" of the approver')
    date: str | None = Field(None, max_length=10, description="YYYY-MM-DD (default: today)")
    review_interval: str = Field("1y", max_length=8, description="1y, 6m, 90d …")
    allow_unanswered: bool = False


class GapsOut(BaseModel):
    assessment: int
    framework: str
    catalog_version: str
    organization: str
    scope: str
    roles: list[str]
    total: dict[str, Any]
    groups: list[dict[str, Any]]
    gaps: list[dict[str, Any]]
    levels: dict[str, Any] | None = None


class RoadmapOut(BaseModel):
    assessment: int
    framework: str
    base: int
    covered: int
    coverage_percent: float
    not_applicable: list[str]
    target_level: int | None
    steps: list[dict[str, Any]]


# -- views -------------------------------------------------------------------------------------------
def evidence_out(ev: Any) -> EvidenceOut:
    from mamori.compliance.declaration import _evidence_ref

    shown = _evidence_ref(ev.to_dict())  # a stored file by its name: the server's paths stay inside
    return EvidenceOut(
        kind=ev.kind,
        ref=shown["ref"],
        artifact_kind=ev.artifact_kind,
        sha256=ev.sha256,
        size=ev.size,
        recorded_at=ev.recorded_at,
        note=ev.note,
    )


def summary(found: Found) -> AssessmentOut:
    a, owner = found.assessment, found.owner
    state = None
    if owner is not None and owner.declaration is not None:
        state = DeclarationStateOut(
            date=owner.declaration.get("date"),
            approver=owner.declaration.get("approver"),
            declared_at=owner.declared_at,
            declared_by=owner.declared_by,
            published_at=owner.published_at,
        )
    title = a.catalog.title
    return AssessmentOut(
        id=a.id,
        framework=a.framework,
        catalog_version=a.catalog_version,
        title=TextOut(ja=title.ja, en=title.en),
        organization=a.organization,
        scope=a.scope,
        roles=list(a.roles),
        team=owner.team if owner else None,
        product_id=owner.product_id if owner else None,
        created_at=a.created_at,
        updated_at=a.updated_at,
        counts=a.counts(),
        approver=a.approver,
        declared_on=a.declared_on,
        valid_from=a.valid_from,
        valid_until=a.valid_until,
        declaration=state,
        label_page=a.framework == "jcstar1",
    )


def item_out(a: Assessment, item: Any) -> ItemOut:
    from mamori.compliance.assessment import group_of, is_mandatory

    answer = a.answer(item.id)
    group = group_of(a.catalog, item)
    return ItemOut(
        id=item.id,
        title=TextOut(ja=item.title.ja, en=item.title.en),
        group=TextOut(ja=group.title.ja, en=group.title.en) if group else None,
        group_id=group.id if group else None,
        mandatory=is_mandatory(item),
        status=answer.status or "unanswered",
        level=answer.level,
        owner=answer.owner,
        due=answer.due,
        note=answer.reason,
        evidence=[evidence_out(ev) for ev in answer.evidence],
    )


def detail(found: Found) -> AssessmentDetailOut:
    a = found.assessment
    return AssessmentDetailOut(**summary(found).model_dump(), items=[item_out(a, i) for i in a.items()])


def applicable_item(a: Assessment, item_id: str) -> Any:
    """The applicable catalog item of the assessment; another id: 404."""
    from mamori.compliance.assessment import resolve_item

    try:
        return resolve_item(a, item_id)
    except InputError:
        raise common.not_found() from None


# -- the operations (the API and the web pages call these) ------------------------------------------
def create(
    store: Store,
    request: Request,
    principal: Principal,
    body: AssessmentIn,
) -> Found:
    """A new assessment owned by the team named (or the principal's first team it may make them for)."""
    from mamori import accounts
    from mamori.compliance.repository import Assessments

    require_create(principal)
    teams = creating_teams(store, principal)
    if not teams:
        raise HTTPException(403, "not permitted")
    if body.team is None:
        team_id, team = teams[0]
    else:
        chosen = [t for t in teams if t[1] == body.team.strip()]
        if not chosen:
            raise common.unprocessable("not a team you may make assessments for", "body", "team")
        team_id, team = chosen[0]
    if body.product_id is not None:
        owned = accounts.team_products(store, [team_id]).get(team_id, frozenset())
        if body.product_id not in owned or not principal.can("product.read", body.product_id):
            raise common.unprocessable("not a product of the team", "body", "product_id")
    book = Assessments(store)
    try:
        made = book.create(
            body.framework, body.organization, tuple(body.roles), body.scope, via=VIA, actor=principal.name
        )
    except InputError as exc:
        raise common.unprocessable(exc.problem) from None
    owners.set_owner(store, made.id, team_id, body.product_id)
    common.record(
        store,
        request,
        principal,
        "assessment.create",
        f"assessment:{made.id}",
        {"framework": made.framework, "team": team, "product_id": body.product_id},
        team_id,
    )
    found = load(store, made.id)
    assert found is not None
    return found


def answer(
    store: Store, request: Request, principal: Principal, found: Found, item_id: str, values: dict[str, Any]
) -> list[Any]:
    """Set fields of one item's answer (``note`` is the answer's reason); the changes (audit-logged)."""
    from mamori.compliance.repository import Assessments

    item = applicable_item(found.assessment, item_id)
    fields = {("reason" if k == "note" else k): v for k, v in values.items()}
    try:
        changes = Assessments(store).answer(
            found.assessment, item.id, **fields, via=VIA, actor=principal.name
        )
    except InputError as exc:
        raise common.unprocessable(exc.problem) from None
    if changes:
        common.record(
            store,
            request,
            principal,
            "assessment.answer",
            f"assessment:{found.assessment.id}",
            {"item": item.id, "changes": {c.field: c.new for c in changes}},
            found.team_id,
        )
    return changes


def add_evidence(
    store: Store,
    request: Request,
    principal: Principal,
    found: Found,
    item_id: str,
    data: bytes,
    filename: str | None,
    note: str | None,
) -> EvidenceOut:
    """Keep an uploaded file and attach it to the item as ``mamori assess answer --evidence FILE`` does:
    a file with its SHA-256, size and time (:func:`mamori.compliance.evidence.file_evidence`)."""
    import hashlib

    from mamori.compliance.evidence import file_evidence
    from mamori.compliance.repository import Assessments
    from mamori.fileio import write_bytes_atomic

    item = applicable_item(found.assessment, item_id)
    if len(data) > EVIDENCE_MAX_BYTES:
        raise HTTPException(413, "the evidence file is too large")
    if not data:
        raise common.unprocessable("the evidence file is empty", "body", "file")
    digest = hashlib.sha256(data).hexdigest()
    name = common.file_stem(Path(filename or "evidence").name)[:120]
    folder = evidence_root(request) / str(found.assessment.id) / digest
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    write_bytes_atomic(path, data)
    ev = file_evidence(path, (note or "").strip()[:4000] or None)
    Assessments(store).answer(found.assessment, item.id, evidence=[ev], via=VIA, actor=principal.name)
    common.record(
        store,
        request,
        principal,
        "assessment.evidence",
        f"assessment:{found.assessment.id}",
        {"item": item.id, "file": name, "sha256": ev.sha256, "size": ev.size},
        found.team_id,
    )
    return evidence_out(ev)


def declare(store: Store, request: Request, principal: Principal, found: Found, body: DeclareIn) -> Found:
    """Make the self-conformity declaration (:func:`mamori.compliance.declaration.build`) and keep it; the
    assessment records the approver and date, as ``mamori assess declare``."""
    from mamori.compliance.assessment import parse_date
    from mamori.compliance.declaration import build, parse_approver
    from mamori.compliance.documents import parse_interval
    from mamori.compliance.repository import Assessments

    if found.owner is None:
        raise HTTPException(409, "the assessment belongs to no team: give it to a team first")
    a = found.assessment
    try:
        person = parse_approver(body.approver)
        parse_interval(body.review_interval)
        day = parse_date(body.date, "date") if body.date else dt.date.today().isoformat()
        unanswered = a.counts()["unanswered"]
        if unanswered and not body.allow_unanswered:
            lang = page_lang(request, principal.lang)
            raise InputError(None, text(lang, "compliance", "unanswered", count=unanswered))
        made = build(a, person, day, body.review_interval)
    except InputError as exc:
        raise common.unprocessable(exc.problem) from None
    Assessments(store).update_header(
        a,
        {"approver": f"{person['name']}, {person['title']}", "declared_on": day},
        via=VIA,
        actor=principal.name,
    )
    owners.save_declaration(store, a.id, made, principal.name)
    common.record(
        store,
        request,
        principal,
        "assessment.declare",
        f"assessment:{a.id}",
        {"date": day, "approver": person, "summary": made.get("summary")},
        found.team_id,
    )
    again = load(store, a.id)
    assert again is not None
    return again


def publish(store: Store, request: Request, principal: Principal, found: Found) -> Found:
    if found.owner is None or not owners.publish(store, found.assessment.id, principal.name):
        raise HTTPException(409, "no declaration to publish: make the declaration first")
    common.record(
        store,
        request,
        principal,
        "assessment.publish",
        f"assessment:{found.assessment.id}",
        {"date": (found.owner.declaration or {}).get("date")},
        found.team_id,
    )
    again = load(store, found.assessment.id)
    assert again is not None
    return again


def declaration_file(found: Found, format: str, lang: str) -> tuple[bytes, str, str]:
    """(content, media type, file name) of the kept declaration in ``format``; 404 without one."""
    import orjson

    from mamori.compliance.declaration import render_html
    from mamori.compliance.pdf import declaration_pdf

    made = found.owner.declaration if found.owner else None
    if made is None:
        raise common.not_found()
    media, _suffix = DECLARATION_FORMATS[format]
    if format == "json":
        data = orjson.dumps(made, option=orjson.OPT_INDENT_2) + b"\n"
        name = f"declaration-{found.assessment.id}.json"
    elif format == "pdf":
        data = declaration_pdf(made, lang)  # type: ignore[arg-type]
        name = f"declaration-{found.assessment.id}.{lang}.pdf"
    else:
        data = render_html(made, lang).encode("utf-8")  # type: ignore[arg-type]
        name = f"declaration-{found.assessment.id}.{lang}.html"
    return data, media, name


def label_html(store: Store, found: Found, lang: str) -> str:
    """The JC-STAR ☆1 label information page as ``mamori assess label --draft`` renders it (a draft while
    fields are missing or items are not met); 404 for another framework."""
    from mamori.compliance import jcstar

    a = found.assessment
    if a.framework != "jcstar1":
        raise common.not_found()
    vulns = jcstar.vulnerability_info(store, a, lang)  # type: ignore[arg-type]
    missing = jcstar.missing_required(jcstar.field_values(a, lang, vulns=vulns))  # type: ignore[arg-type]
    _met, _total, open_items = jcstar.conformity(a)
    return jcstar.render(a, lang, draft=bool(missing or open_items), vulns=vulns)  # type: ignore[arg-type]


def attachment(data: bytes, media: str, name: str) -> Response:
    return Response(
        data,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


# -- routes ------------------------------------------------------------------------------------------
@router.get("/assessments", response_model=common.Page[AssessmentOut])
def list_assessments(
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
    framework: Framework | None = Query(None),
    limit: int = Query(common.DEFAULT_PAGE, ge=1, le=common.MAX_PAGE),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> common.Page[AssessmentOut]:
    """The assessments the principal sees, newest first (a customer: those with a published
    declaration)."""
    require_list(principal)
    found = [f for f in visible_assessments(store, principal) if framework in (None, f.assessment.framework)]
    return common.Page[AssessmentOut](
        total=len(found),
        limit=limit,
        offset=offset,
        items=[summary(f) for f in found[offset : offset + limit]],
    )


@router.post("/assessments", response_model=AssessmentDetailOut, status_code=201)
def create_assessment(
    body: AssessmentIn,
    request: Request,
    principal: Principal = Depends(require("assessment.write")),
    store: Store = Depends(get_store),
) -> AssessmentDetailOut:
    """A new self-assessment of the catalog, owned by a team of the principal (``team``; an administrator
    names any team)."""
    return detail(create(store, request, principal, body))


@router.get("/assessments/{assessment_id}", response_model=AssessmentDetailOut)
def assessment(
    assessment_id: AssessmentId,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> AssessmentDetailOut:
    """One assessment with each applicable item: its answer and evidence."""
    return detail(assessment_or_404(store, principal, assessment_id, "read"))


@router.put("/assessments/{assessment_id}/owner", response_model=AssessmentOut)
def set_assessment_owner(
    body: OwnerIn,
    request: Request,
    assessment_id: AssessmentId,
    principal: Principal = Depends(require("admin.users")),
    store: Store = Depends(get_store),
) -> AssessmentOut:
    """Give the assessment to a team (and a product of it): administrators, e.g. for one made on the
    command line."""
    from mamori import accounts

    found = assessment_or_404(store, principal, assessment_id, "write")
    team = accounts.get_team(store, body.team)
    if team is None:
        raise common.unprocessable("no such team", "body", "team")
    if body.product_id is not None and body.product_id not in accounts.team_products(store, [team.id]).get(
        team.id, frozenset()
    ):
        raise common.unprocessable("not a product of the team", "body", "product_id")
    owners.set_owner(store, assessment_id, team.id, body.product_id)
    common.record(
        store,
        request,
        principal,
        "assessment.owner",
        f"assessment:{assessment_id}",
        {
            "team": team.name,
            "product_id": body.product_id,
            "before": found.owner.team if found.owner else None,
        },
        team.id,
    )
    again = load(store, assessment_id)
    assert again is not None
    return summary(again)


@router.put("/assessments/{assessment_id}/items/{item_id}", response_model=ItemOut)
def answer_item(
    body: AnswerIn,
    request: Request,
    assessment_id: AssessmentId,
    item_id: ItemId,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> ItemOut:
    """Answer one item: the fields given are set (status, SSDF level, note, owner, due date), each change
    kept in the assessment's history and the audit log."""
    found = assessment_or_404(store, principal, assessment_id, "write")
    values = {name: getattr(body, name) for name in body.model_fields_set}
    answer(store, request, principal, found, item_id, values)
    again = load(store, assessment_id)
    assert again is not None
    return item_out(again.assessment, applicable_item(again.assessment, item_id))


@router.post(
    "/assessments/{assessment_id}/items/{item_id}/evidence", response_model=EvidenceOut, status_code=201
)
def upload_evidence(
    request: Request,
    assessment_id: AssessmentId,
    item_id: ItemId,
    file: UploadFile = File(..., description=f"the evidence file (at most {EVIDENCE_MAX_BYTES} bytes)"),
    note: str | None = Form(None, max_length=4000),
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> EvidenceOut:
    """Attach a file as evidence to the item: it is kept on the server, its SHA-256 and size recorded."""
    found = assessment_or_404(store, principal, assessment_id, "write")
    applicable_item(found.assessment, item_id)
    data = file.file.read(EVIDENCE_MAX_BYTES + 1)
    return add_evidence(store, request, principal, found, item_id, data, file.filename, note)


@router.get("/assessments/{assessment_id}/gaps", response_model=GapsOut)
def assessment_gaps(
    assessment_id: AssessmentId,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> GapsOut:
    """The gap analysis of ``mamori assess gaps``: met share per group, the open items mandatory first."""
    from mamori.compliance.gaps import analyse

    found = assessment_or_404(store, principal, assessment_id, "read")
    return GapsOut(**analyse(found.assessment).to_dict())


@router.get("/assessments/{assessment_id}/roadmap", response_model=RoadmapOut)
def assessment_roadmap(
    assessment_id: AssessmentId,
    target_level: int | None = Query(None, ge=1, le=3, description="SSDF: the level to raise tasks to"),
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> RoadmapOut:
    """The roadmap of ``mamori assess roadmap``: the items to add at each step, easiest first."""
    from mamori.compliance.roadmap import plan

    found = assessment_or_404(store, principal, assessment_id, "read")
    return RoadmapOut(**plan(found.assessment, target_level).to_dict())


@router.post("/assessments/{assessment_id}/declaration", response_model=AssessmentOut, status_code=201)
def make_declaration(
    body: DeclareIn,
    request: Request,
    assessment_id: AssessmentId,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> AssessmentOut:
    """Make the self-conformity declaration and keep it (it replaces one made before, and is not published
    until ``…/declaration/publish``)."""
    found = assessment_or_404(store, principal, assessment_id, "declare")
    return summary(declare(store, request, principal, found, body))


@router.post("/assessments/{assessment_id}/declaration/publish", response_model=AssessmentOut)
def publish_declaration(
    request: Request,
    assessment_id: AssessmentId,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> AssessmentOut:
    """Publish the kept declaration to the team's customers (``assessment.write`` and ``publish.read``)."""
    found = assessment_or_404(store, principal, assessment_id, "publish")
    return summary(publish(store, request, principal, found))


@router.get(
    "/assessments/{assessment_id}/declaration",
    response_class=Response,
    responses={
        200: {
            "description": "the declaration (attachment)",
            "content": {m: {"schema": {"type": "string"}} for m, _s in DECLARATION_FORMATS.values()},
        }
    },
)
def download_declaration(
    assessment_id: AssessmentId,
    format: Literal["json", "pdf", "html"] = Query("pdf"),
    lang: Literal["ja", "en"] = Query("ja"),
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    """The declaration as ``mamori assess declare`` writes it: JSON (both languages), PDF or HTML."""
    found = assessment_or_404(store, principal, assessment_id, "download")
    return attachment(*declaration_file(found, format, lang))


@router.get(
    "/assessments/{assessment_id}/label",
    response_class=Response,
    responses={
        200: {"description": "the label page", "content": {"text/html": {"schema": {"type": "string"}}}}
    },
)
def label_page(
    assessment_id: AssessmentId,
    lang: Literal["ja", "en"] = Query("ja"),
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    """The JC-STAR ☆1 label information page of a jcstar1 assessment (``mamori assess label``; a draft
    while fields are missing or items are not met)."""
    found = assessment_or_404(store, principal, assessment_id, "read")
    return Response(
        label_html(store, found, lang).encode("utf-8"),
        media_type="text/html; charset=utf-8",
        headers={"X-Content-Type-Options": "nosniff"},
    )

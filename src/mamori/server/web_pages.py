"""The portfolio pages of the web interface: dashboard, product, release (components, NTIA score, diff
with the previous release, SBOM download and upload), findings with filters and the triage action (the
SSVC questions of the four variants, VEX status and justification, recorded as a triage record and
exportable as VEX), and the vulnerability page ("where am I affected?").

Each page calls the same Python API as the command line (:mod:`mamori.portfolio`, :mod:`mamori.sbom`,
:mod:`mamori.triage`, :mod:`mamori.vex`); permissions come from :mod:`mamori.server.security` (a product of
another team answers 404, as one that does not exist). Every change is recorded in the audit log.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from mamori.errors import MamoriError
from mamori.server import api_common, background
from mamori.server.security import ALL, Principal, current_principal, get_store, product_or_404
from mamori.server.web import page_lang, render, text
from mamori.store import Store
from mamori.store.jobrecord import refusal

router = APIRouter(include_in_schema=False)

RATINGS = ("critical", "high", "medium", "low", "none", "unknown")
VEX_FORMATS = {
    "cyclonedx": ("application/vnd.cyclonedx+json", "cdx.vex.json"),
    "openvex": ("application/json", "openvex.json"),
    "csaf": ("application/json", "csaf.json"),
}
FORM_LIMIT = 4000


def _lang(request: Request, principal: Principal) -> str:
    return page_lang(request, principal.lang)


def _visible_products(store: Store, principal: Principal, permission: str) -> list[tuple[int, str]]:
    from mamori.portfolio.tables import ProductRow

    scope = principal.visible_products(permission)
    p = ProductRow.__table__
    stmt = select(p.c.id, p.c.name).order_by(p.c.name)
    if scope is not ALL:
        ids = sorted(scope)  # type: ignore[arg-type]
        if not ids:
            return []
        stmt = stmt.where(p.c.id.in_(ids))
    with store.engine.connect() as conn:
        return [(row.id, row.name) for row in conn.execute(stmt)]


def _releases(store: Store, product_id: int) -> list[tuple[int, str, str]]:
    """(id, version, created_at) of a product's releases, oldest first."""
    from mamori.portfolio.tables import ReleaseRow

    r = ReleaseRow.__table__
    with store.engine.connect() as conn:
        return [
            (row.id, row.version, row.created_at)
            for row in conn.execute(
                select(r.c.id, r.c.version, r.c.created_at)
                .where(r.c.product_id == product_id)
                .order_by(r.c.id)
            )
        ]


def dashboard_rows(store: Store, principal: Principal, lang: str) -> list[dict[str, Any]]:
    """Every visible product with its latest release's risk: KEV, SSVC immediate and out-of-cycle counts,
    open findings by rating, a priority score, and the open findings of each release (the trend); the
    counts of :func:`mamori.portfolio.dashboard.latest_counts` (kept in the process and the store until
    the next re-match run or KEV change)."""
    from mamori.portfolio.dashboard import latest_counts

    visible = _visible_products(store, principal, "product.read")
    if not visible:
        return []
    counted = latest_counts(store, dict(visible), lang)
    counts, outside, tally, releases = counted.counts, counted.outside, counted.tally, counted.releases
    latest = {pid: rows[-1] for pid, rows in releases.items() if rows}
    rows = []
    for pid, name in visible:
        mine = tally.get(pid, {})
        ratings = dict.fromkeys(RATINGS, 0)
        kev = immediate = out_of_cycle = 0
        for (rating, in_kev, outcome), n in mine.items():
            if rating in ratings:
                ratings[rating] += n
            kev += n if in_kev else 0
            immediate += n if outcome == "immediate" else 0
            out_of_cycle += n if outcome == "out_of_cycle" else 0
        open_ = sum(mine.values())
        # the order of urgency: KEV, then SSVC immediate, out-of-cycle, then critical and high findings
        score = (
            (kev * 1000 + immediate * 100 + out_of_cycle * 30 + ratings["critical"] * 10)
            + ratings["high"] * 3
            + open_
        )
        rows.append(
            {
                "id": pid,
                "name": name,
                "latest": latest[pid][1] if pid in latest else None,
                "latest_id": latest[pid][0] if pid in latest else None,
                "open": open_,
                "kev": kev,
                "immediate": immediate,
                "out_of_cycle": out_of_cycle,
                "ratings": ratings,
                "priority": score,
                "trend": [
                    (version, counts.get(rid, 0) - len(outside.get(rid, ())))
                    for rid, version in releases.get(pid, [])
                ],
            }
        )
    rows.sort(key=lambda r: (-r["priority"], r["name"]))
    return rows


@router.get("/portfolio")
async def portfolio_page(
    request: Request, principal: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Response:
    lang = _lang(request, principal)
    rows = await run_in_threadpool(dashboard_rows, store, principal, lang)
    return render(request, "portfolio.html", lang, principal=principal, rows=rows)


@router.get("/products/{product_id}")
async def product_page(
    request: Request,
    product_id: int,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    from mamori.portfolio import uploads

    product_or_404(principal, "product.read", product_id)
    name = api_common.product_name(store, product_id)
    if name is None:
        raise HTTPException(404, "not found")
    lang = _lang(request, principal)
    releases = await run_in_threadpool(_releases, store, product_id)
    recent, _total = await run_in_threadpool(uploads.list_uploads, store, [name], None, 10, 0)
    return render(
        request,
        "product.html",
        lang,
        principal=principal,
        product={"id": product_id, "name": name},
        releases=list(reversed(releases)),
        uploads=recent,
        may_upload=principal.can("sbom.upload", product_id),
        message=None,
    )


@router.post("/products/{product_id}/upload")
async def product_upload(
    request: Request,
    product_id: int,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    from mamori.portfolio import uploads

    product_or_404(principal, "sbom.upload", product_id)
    name = api_common.product_name(store, product_id)
    if name is None:
        raise HTTPException(404, "not found")
    lang = _lang(request, principal)
    form = await request.form()
    version = str(form.get("version") or "").strip()[:200]
    sent = form.get("sbom")
    data = b""
    filename = None
    if sent is not None and not isinstance(sent, str):
        filename = sent.filename
        data = await sent.read(uploads.max_upload_bytes() + 1)
    try:
        token = await run_in_threadpool(
            uploads.submit_upload, store, data, filename, name, version, True, principal.name
        )
    except MamoriError as exc:
        releases = await run_in_threadpool(_releases, store, product_id)
        recent, _total = await run_in_threadpool(uploads.list_uploads, store, [name], None, 10, 0)
        return render(
            request,
            "product.html",
            lang,
            status_code=413 if isinstance(exc, uploads.UploadTooLarge) else 400,
            principal=principal,
            product={"id": product_id, "name": name},
            releases=list(reversed(releases)),
            uploads=recent,
            may_upload=True,
            message=text(lang, "product", "upload_refused", problem=refusal(exc).text(lang)),
        )
    await run_in_threadpool(
        api_common.record,
        store,
        request,
        principal,
        "sbom.upload",
        f"{name} {version}",
        {"token": token, "file": uploads.file_name_of(filename), "size": len(data), "via": "web"},
        api_common.team_of(principal, "sbom.upload", product_id),
    )
    await run_in_threadpool(background.start_upload, store, token)
    return RedirectResponse(f"/uploads/{token}", 303)


@router.get("/uploads/{token}")
async def upload_page(
    request: Request,
    token: str,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    from mamori.portfolio import uploads

    status = await run_in_threadpool(uploads.upload_status, store, token[:64])
    if status is None:
        raise HTTPException(404, "not found")
    ids = api_common.product_ids(store, [status.product])
    pid = ids.get(status.product)
    if pid is None or not principal.can("product.read", pid):
        raise HTTPException(404, "not found")
    lang = _lang(request, principal)
    return render(
        request,
        "upload.html",
        lang,
        principal=principal,
        status=status,
        error=status.error_in(lang),
        product_id=pid,
    )


def _release(store: Store, principal: Principal, permission: str, release_id: int) -> api_common.ReleaseRef:
    return api_common.release_or_404(store, principal, permission, release_id)


def release_details(store: Store, ref: api_common.ReleaseRef) -> dict[str, Any]:
    """Components with licences, the NTIA check, and the diff with the previous release."""
    from mamori.errors import InputError
    from mamori.portfolio.vexin import release_sbom
    from mamori.sbom.check import check_document
    from mamori.sbom.diff import diff_documents

    try:
        doc = release_sbom(store, ref.product, ref.version)
    except InputError:
        return {"components": [], "ntia": None, "diff": None, "previous": None}
    components = sorted(
        (
            {
                "name": c.name,
                "group": c.group,
                "version": c.version,
                "purl": c.purl,
                "licence": c.license_declared or c.license_concluded,
            }
            for c in doc.all_components()
        ),
        key=lambda c: (c["name"].lower(), c["version"] or ""),
    )
    report = check_document(doc)
    ntia = {
        "passed": report.ntia.passed,
        "score": report.ntia.score,
        "elements": [(e.id, e.to_json()) for e in report.ntia.elements],
    }
    earlier = [r for r in _releases(store, ref.product_id) if r[0] < ref.id]
    diff = previous = None
    if earlier:
        previous = {"id": earlier[-1][0], "version": earlier[-1][1]}
        try:
            before = release_sbom(store, ref.product, previous["version"])
            diff = diff_documents(before, doc, a_name=previous["version"], b_name=ref.version).to_json()
        except InputError:
            diff = None
    return {"components": components, "ntia": ntia, "diff": diff, "previous": previous}


@router.get("/releases/{release_id}")
async def release_page(
    request: Request,
    release_id: int,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    from mamori.portfolio import views

    ref = _release(store, principal, "product.read", release_id)
    lang = _lang(request, principal)
    view = await run_in_threadpool(views.release, store, ref.product, ref.version, False, lang)
    details = await run_in_threadpool(release_details, store, ref)
    return render(
        request,
        "release.html",
        lang,
        principal=principal,
        ref=ref,
        view=view,
        details=details,
        sbom_formats=list(api_common.SBOM_MEDIA),
        may_findings=principal.can("finding.read", ref.product_id),
    )


def _download(data: bytes, media_type: str, filename: str) -> Response:
    return Response(
        data,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/releases/{release_id}/sbom")
async def release_sbom_download(
    request: Request,
    release_id: int,
    format: str = "cyclonedx-json",
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    from mamori.portfolio.vexin import release_sbom
    from mamori.sbom.formats import dumps

    ref = _release(store, principal, "product.read", release_id)
    if format not in api_common.SBOM_MEDIA:
        raise HTTPException(404, "not found")
    doc = await run_in_threadpool(release_sbom, store, ref.product, ref.version)
    data = await run_in_threadpool(dumps, doc, format)
    media, suffix = api_common.SBOM_MEDIA[format]
    return _download(data, media, f"{api_common.file_stem(ref.product + '-' + ref.version)}.{suffix}")


def _filtered(items: list[dict[str, Any]], severity: str, status: str, kev: str) -> list[dict[str, Any]]:
    out = []
    for f in items:
        if severity and f["vulnerability"]["rating"] != severity:
            continue
        if status and f["status"] != status:
            continue
        if kev == "yes" and not f["vulnerability"]["kev"]:
            continue
        out.append(f)
    return out


def release_findings(store: Store, ref: api_common.ReleaseRef, lang: str) -> list[dict[str, Any]]:
    """The release's findings (unresolved ones), each with its SSVC outcome for a user organisation."""
    from mamori.portfolio import views
    from mamori.portfolio.ssvc_view import add_ssvc

    found = [
        f for f in views.findings(store, ref.product, False, lang)["findings"] if f["release"] == ref.version
    ]
    if found:
        add_ssvc(store, found, role="user", lang=lang)
    return found


@router.get("/releases/{release_id}/findings")
async def findings_page(
    request: Request,
    release_id: int,
    severity: str = "",
    status: str = "",
    kev: str = "",
    recorded: str = "",
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    from mamori.triage.state import STATUSES

    ref = _release(store, principal, "finding.read", release_id)
    lang = _lang(request, principal)
    found = await run_in_threadpool(release_findings, store, ref, lang)
    shown = _filtered(found, severity, status, kev)
    return render(
        request,
        "findings.html",
        lang,
        principal=principal,
        ref=ref,
        findings=shown,
        total=len(found),
        ratings=RATINGS,
        statuses=STATUSES,
        chosen={"severity": severity, "status": status, "kev": kev},
        may_triage=principal.can("triage.write", ref.product_id),
        may_export=principal.can("vex.export", ref.product_id),
        vex_formats=list(VEX_FORMATS),
        message=text(lang, "findings", "recorded") if recorded else None,
    )


# -- triage ---------------------------------------------------------------------------------------------
def ssvc_evidence(store: Store, vuln_id: str) -> dict[str, Any]:
    """The decision-point values the knowledge base supports for the vulnerability (KEV and EPSS from the
    catalogs, CISA ADP points, CVSS), as :func:`mamori.triage.inputs.gather` gives them to ``mamori scan``."""
    from dataclasses import replace

    from mamori.match.knowledge import Knowledge
    from mamori.triage.facts import from_vulnerability
    from mamori.triage.inputs import gather

    knowledge = Knowledge(store)
    found = store.lookup(vuln_id)
    if found is None:
        return {}
    record = found.vulnerability
    cves = set(record.cve_ids())
    record = replace(
        record,
        kev=[*knowledge.kev(cves).values(), *record.kev],
        epss=[*knowledge.epss(cves).values(), *record.epss],
    )
    return gather(from_vulnerability(record, kev_checked=True))


def ssvc_questions(
    role: str, skill: str, lang: str, evidence: dict[str, Any] | None = None
) -> tuple[Any, list[dict[str, Any]], list[str]]:
    """The variant, the questions it asks (leaf decision points; with low skill the context questions
    only) with every answer in ``lang``, and the points it leaves to the data (``evidence``) or to their
    most cautious value. A question's default is the evidenced value, else the most cautious one."""
    from mamori.triage import ssvc
    from mamori.triage.variants import question_dict, variant, variant_data

    chosen = variant(role, skill)
    catalog = ssvc.default_catalog()
    leaves: list[str] = []

    def walk(table: Any) -> None:
        for p in table.inputs:
            sub = catalog.producer.get(p.id)
            if sub is not None:
                walk(sub)
            elif p.id not in leaves:
                leaves.append(p.id)

    walk(chosen.table)
    context = set(variant_data().context_points)
    asked = [p for p in leaves if chosen.may_set_all or p in context]
    conservative = catalog.conservative(chosen.table)
    questions = []
    for pid in asked:
        q = question_dict(pid, lang)  # type: ignore[arg-type]
        known = (evidence or {}).get(pid)
        q["default"] = known.value if known is not None else conservative.get(pid)
        q["evidenced"] = known.describe(lang) if known is not None else None  # type: ignore[arg-type]
        questions.append(q)
    return chosen, questions, [p for p in leaves if p not in asked]


def ssvc_decide(
    role: str, skill: str, answers: dict[str, str], evidence: dict[str, Any] | None = None
) -> tuple[str, str, str]:
    """(variant name, outcome id, path text) of the answers over the evidence (as ``mamori scan --set``:
    low skill answers the context questions only; unknown points take the most cautious value)."""
    from mamori.triage.variants import assess, overrides, variant

    chosen = variant(role, skill)
    given = overrides(chosen, answers)
    if evidence:  # an answer equal to the evidenced value is the evidence itself
        given = {pid: i for pid, i in given.items() if pid not in evidence or evidence[pid].value != i.value}
    result = assess(chosen, evidence or {}, None, given)
    return chosen.name, result.outcome.id, result.path_text("en")


def _finding_of(found: list[dict[str, Any]], purl: str, vuln: str) -> dict[str, Any] | None:
    for f in found:
        if f["component"]["purl"] == purl and f["vulnerability"]["id"] == vuln:
            return f
    return None


async def _triage_form(
    request: Request,
    store: Store,
    principal: Principal,
    ref: api_common.ReleaseRef,
    values: dict[str, Any],
    status_code: int = 200,
    message: str | None = None,
) -> Response:
    from mamori.model.vex import JUSTIFICATIONS, VEX_STATUSES
    from mamori.triage.variants import ROLES, SKILLS

    lang = _lang(request, principal)
    found = await run_in_threadpool(release_findings, store, ref, lang)
    finding = _finding_of(found, values["component"], values["vulnerability"])
    if finding is None:
        raise HTTPException(404, "not found")
    evidence = await run_in_threadpool(ssvc_evidence, store, values["vulnerability"])
    try:
        chosen, questions, assumed = ssvc_questions(values["role"], values["skill"], lang, evidence)
    except MamoriError:
        raise HTTPException(404, "not found") from None
    return render(
        request,
        "triage.html",
        lang,
        status_code=status_code,
        principal=principal,
        ref=ref,
        finding=finding,
        values=values,
        variant_label=chosen.label(lang),
        variant_summary=chosen.summary(lang),
        questions=questions,
        assumed=[
            f"{pid} = {evidence[pid].value} ({evidence[pid].describe(lang)})" if pid in evidence else pid
            for pid in assumed
        ],
        roles=ROLES,
        skills=SKILLS,
        statuses=VEX_STATUSES,
        justifications=JUSTIFICATIONS,
        message=message,
    )


@router.get("/releases/{release_id}/triage")
async def triage_page(
    request: Request,
    release_id: int,
    component: str = "",
    vulnerability: str = "",
    role: str = "developer",
    skill: str = "low",
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    ref = _release(store, principal, "triage.write", release_id)
    values = {
        "component": component,
        "vulnerability": vulnerability,
        "role": role if role in ("developer", "user") else "developer",
        "skill": skill if skill in ("high", "low") else "low",
        "answers": {},
        "status": "",
        "justification": "",
        "detail": "",
    }
    return await _triage_form(request, store, principal, ref, values)


@router.post("/releases/{release_id}/triage")
async def triage_submit(
    request: Request,
    release_id: int,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    from mamori.triage.records import set_record, validated

    ref = _release(store, principal, "triage.write", release_id)
    lang = _lang(request, principal)
    form = await request.form()

    def field(name: str) -> str:
        value = form.get(name)
        return value.strip()[:FORM_LIMIT] if isinstance(value, str) else ""

    answers = {
        key[5:]: field(key) for key in form if isinstance(key, str) and key.startswith("ssvc.") and field(key)
    }
    values = {
        "component": field("component"),
        "vulnerability": field("vulnerability"),
        "role": field("role") or "developer",
        "skill": field("skill") or "low",
        "answers": answers,
        "status": field("status"),
        "justification": field("justification"),
        "detail": field("detail"),
    }
    evidence = await run_in_threadpool(ssvc_evidence, store, values["vulnerability"])
    try:
        name, outcome, path = ssvc_decide(values["role"], values["skill"], answers, evidence)
        ssvc_line = f"SSVC {name}: {outcome} ({path})"
        detail = f"{values['detail']}\n{ssvc_line}" if values["detail"] else ssvc_line
        record = validated(
            ref.product,
            ref.version,
            values["component"],
            values["vulnerability"],
            values["status"],
            values["justification"] or None,
            (),
            detail,
            who=principal.name,
        )
    except MamoriError as exc:
        return await _triage_form(request, store, principal, ref, values, 400, exc.message(lang))
    found = await run_in_threadpool(release_findings, store, ref, lang)
    if _finding_of(found, values["component"], values["vulnerability"]) is None:
        raise HTTPException(404, "not found")
    saved, change = await run_in_threadpool(set_record, store, record)
    await run_in_threadpool(
        api_common.record,
        store,
        request,
        principal,
        "triage.record",
        f"{ref.product} {ref.version}",
        {
            "component": saved.component_purl,
            "vulnerability": saved.vulnerability,
            "status": saved.status,
            "justification": saved.justification,
            "ssvc": outcome,
            "variant": name,
            "change": change,
            "via": "web",
        },
        api_common.team_of(principal, "triage.write", ref.product_id),
    )
    return RedirectResponse(f"/releases/{ref.id}/findings?recorded=1", 303)


@router.get("/releases/{release_id}/vex")
async def vex_download(
    request: Request,
    release_id: int,
    format: str = "cyclonedx",
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    from mamori import vex
    from mamori.portfolio.vexout import release_vex

    ref = _release(store, principal, "vex.export", release_id)
    if format not in VEX_FORMATS:
        raise HTTPException(404, "not found")
    lang = _lang(request, principal)
    try:
        made = await run_in_threadpool(
            release_vex, store, ref.product, ref.version, format, principal.name, lang
        )
    except MamoriError as exc:
        return render(
            request, "error.html", lang, status_code=409, principal=principal, message=exc.message(lang)
        )
    data = await run_in_threadpool(vex.dumps, made.document, format, vex.WriteOptions(lang=lang))
    media, suffix = VEX_FORMATS[format]
    return _download(data, media, f"{api_common.file_stem(ref.product + '-' + ref.version)}.{suffix}")


# -- vulnerabilities ------------------------------------------------------------------------------------
def vulnerability_view(store: Store, principal: Principal, vuln_id: str, lang: str) -> dict[str, Any] | None:
    """The vulnerability (aliases, severity, EPSS, KEV, descriptions) and the visible releases it affects."""
    from mamori.match.knowledge import Knowledge
    from mamori.portfolio import views
    from mamori.scan.describe import vulnerability_info

    knowledge = Knowledge(store)
    found = store.lookup(vuln_id)  # by its id or any alias (a JVNDB id, a GHSA, …), as `mamori db show`
    if found is None:
        return None
    record = found.vulnerability
    vuln_id = record.id
    cves = set(record.cve_ids())
    info = vulnerability_info([record], knowledge.kev(cves), knowledge.epss(cves))
    names = {name for _id, name in _visible_products(store, principal, "finding.read")}
    ids = {vuln_id.upper(), *(a.upper() for a in info.aliases)}
    releases = {}
    for pid, name in _visible_products(store, principal, "finding.read"):
        for rid, version, _at in _releases(store, pid):
            releases[(name, version)] = rid
    affected = [
        {**f, "release_id": releases.get((f["product"], f["release"]))}
        for f in views.vulnerability_findings(store, ids, names, lang)
    ]
    return {"info": info, "affected": affected}


@router.get("/vulnerabilities/{vuln_id}")
async def vulnerability_page(
    request: Request,
    vuln_id: str,
    principal: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    if not principal.can("finding.read"):
        raise HTTPException(404, "not found")
    lang = _lang(request, principal)
    found = await run_in_threadpool(vulnerability_view, store, principal, vuln_id[:200], lang)
    if found is None:
        raise HTTPException(404, "not found")
    return render(request, "vulnerability.html", lang, principal=principal, **found)

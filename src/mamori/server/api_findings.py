"""Native API: findings across the visible products or of one release (``/api/mamori/v1``).

The findings are those of :mod:`mamori.portfolio.views` (what ``mamori findings`` and ``mamori release
show`` print: the triage status of each, KEV from the store), with the SSVC outcome
:func:`mamori.portfolio.ssvc_view.add_ssvc` decides for them (the product's stored context; role
``user`` unless ``ssvc_role`` says ``developer``) and the EPSS score and publication date of the
knowledge base.

Pagination: ``limit`` (1–500, default 50) and ``offset``; the answer is an envelope
``{"total", "limit", "offset", "items", "next", "next_cursor"}`` where ``total`` counts every finding the
filters keep. Deep pages: the ``priority`` order (the default) is paged by cursor too — ``next`` is the
link to the page after this one (``next_cursor`` its cursor; null on the last page and for the other
orders and the SSVC filter); a request with ``cursor`` starts right after that finding, reading a range
of the stored priority key's index instead of every finding before it, and is not counted (``total``
null) unless ``count=true``. Offset paging is unchanged.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from mamori.errors import InputError
from mamori.i18n import _
from mamori.server import api_common as common
from mamori.server.api import PREFIX
from mamori.server.security import Principal, get_store, product_or_404, require
from mamori.store import Store

router = APIRouter(prefix=PREFIX, tags=["findings"])

SORTS = ("priority", "severity", "published", "epss")
RATINGS = ("critical", "high", "medium", "low", "none", "unknown")


class FindingComponent(BaseModel):
    name: str
    version: str | None
    purl: str | None
    ref: str


class FindingVulnerability(BaseModel):
    id: str
    aliases: list[str]
    rating: str | None
    score: float | None
    kev: bool
    epss: float | None = Field(None, description="the highest EPSS score of its CVEs")
    epss_percentile: float | None = None
    published: str | None = None


class FindingSsvc(BaseModel):
    outcome: str
    outcome_name: str | None
    table: str
    assumed: list[Any]


class FindingOut(BaseModel):
    product_id: int
    product: str
    release_id: int
    release: str
    component: FindingComponent
    vulnerability: FindingVulnerability
    status: str = Field(description="open, under_investigation, affected, not_affected, fixed or resolved")
    in_gate: bool
    state: dict[str, Any] = Field(description="the triage state and what it rests on")
    fixed_versions: list[str]
    match: dict[str, Any]
    first_seen: str | None
    last_seen: str | None
    resolved_at: str | None
    ssvc: FindingSsvc | None


class FindingPage(common.Page[FindingOut]):
    """:class:`~mamori.server.api_common.Page` with the cursor of the next page (priority order)."""

    total: int | None = Field(  # type: ignore[assignment]
        description="every finding the filters keep; null for a cursor page unless count=true"
    )
    next: str | None = Field(None, description="the link to the next page (priority order), null on the last")
    next_cursor: str | None = Field(None, description="the cursor of the next page (its `cursor` parameter)")


def _csv(value: str | None) -> set[str] | None:
    if value is None:
        return None
    return {v.strip().lower() for v in value.split(",") if v.strip()} or None


class Filters(BaseModel):
    severity: set[str] | None = None
    status: set[str] | None = None
    kev: bool | None = None
    ssvc: set[str] | None = None
    vulnerability: str | None = None
    component: str | None = None
    include_resolved: bool = False

    def keep(self, f: dict[str, Any]) -> bool:
        v = f["vulnerability"]
        if self.severity is not None and (v["rating"] or "unknown") not in self.severity:
            return False
        if self.status is not None and f["status"] not in self.status:
            return False
        if self.kev is not None and v["kev"] != self.kev:
            return False
        if self.vulnerability is not None:
            wanted = self.vulnerability.strip().upper()
            if wanted not in {i.upper() for i in [v["id"], *v["aliases"]]}:
                return False
        if self.component is not None:
            needle = self.component.strip().lower()
            c = f["component"]
            if needle not in c["name"].lower() and needle not in (c["purl"] or "").lower():
                return False
        return True


def _filters(
    severity: str | None = Query(
        None, max_length=200, description="ratings, comma-separated: " + ", ".join(RATINGS)
    ),
    status: str | None = Query(None, max_length=200, description="triage statuses, comma-separated"),
    kev: bool | None = Query(None, description="only findings in (true) or not in (false) CISA KEV"),
    ssvc: str | None = Query(
        None, max_length=200, description="SSVC outcomes, comma-separated (e.g. immediate)"
    ),
    vulnerability: str | None = Query(None, max_length=200, description="a vulnerability id or alias"),
    component: str | None = Query(None, max_length=200, description="part of a component name or purl"),
    include_resolved: bool = Query(False, description="also findings whose component no longer matches"),
) -> Filters:
    return Filters(
        severity=_csv(severity),
        status=_csv(status),
        kev=kev,
        ssvc=_csv(ssvc),
        vulnerability=vulnerability,
        component=component,
        include_resolved=include_resolved or bool(_csv(status) and "resolved" in (_csv(status) or set())),
    )


def _release_ids(store: Store, names: set[str]) -> dict[tuple[str, str], tuple[int, int]]:
    """(product, version) → (product id, release id) for the products ``names``."""
    from sqlalchemy import select

    from mamori.portfolio.tables import ProductRow, ReleaseRow

    p, r = ProductRow.__table__, ReleaseRow.__table__
    if not names:
        return {}
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(p.c.name, r.c.version, p.c.id, r.c.id.label("rid"))
            .join(p, p.c.id == r.c.product_id)
            .where(p.c.name.in_(sorted(names)))
        )
        return {(row.name, row.version): (row.id, row.rid) for row in rows}


def _knowledge(store: Store, items: list[dict[str, Any]]) -> tuple[Any, dict[str, Any]]:
    """Add ``epss``, ``epss_percentile`` and ``published`` to each finding's vulnerability; the reader
    (which keeps the records it read) and the EPSS scores read, for the SSVC decision of the same
    findings (:func:`mamori.portfolio.ssvc_view.add_ssvc`)."""
    from mamori.match.knowledge import Knowledge

    knowledge = Knowledge(store)
    records = knowledge.vulnerabilities({f["vulnerability"]["id"] for f in items})
    cves: set[str] = set()
    for f in items:
        v = f["vulnerability"]
        ids = [v["id"], *v["aliases"]]
        record = records.get(v["id"])
        if record is not None:
            ids += record.cve_ids()
        v["_cves"] = {i.upper() for i in ids if i.upper().startswith("CVE-")}
        cves |= v["_cves"]
        v["published"] = record.published if record is not None else None
    epss = knowledge.epss(cves)
    for f in items:
        v = f["vulnerability"]
        scores = [epss[c] for c in v.pop("_cves") if c in epss]
        best = max(scores, key=lambda e: e.score) if scores else None
        v["epss"] = best.score if best else None
        v["epss_percentile"] = best.percentile if best else None
    return knowledge, epss


def _sort(items: list[dict[str, Any]], sort: str) -> None:
    if sort == "severity":
        items.sort(key=lambda f: (-(f["vulnerability"]["score"] or -1), f["vulnerability"]["id"]))
    elif sort == "epss":
        items.sort(key=lambda f: (-(f["vulnerability"]["epss"] or -1), f["vulnerability"]["id"]))
    elif sort == "published":
        items.sort(key=lambda f: f["vulnerability"]["published"] or "", reverse=True)
    # priority: the order of the views (resolved last, out of the gate last, KEV, rating, score)


def find(
    store: Store,
    products: set[str] | None,
    release: common.ReleaseRef | None,
    filters: Filters,
    sort: str,
    limit: int,
    offset: int,
    ssvc_role: str,
    lang: str = "en",
    enrich: bool = True,
    cursor: str | None = None,
    count: bool = True,
) -> FindingPage:
    """The findings of ``release``, else of the products named (None: every product), filtered, sorted
    and cut to one page; ``enrich``: with EPSS, publication date and SSVC outcome; ``cursor``: the page
    after that position of the priority order (see the module's text), counted only with ``count``.

    Filtering, counting, sorting (``priority``, ``severity``) and paging happen in the database
    (:func:`mamori.portfolio.views.findings_page`); an SSVC filter or a sort by EPSS or publication date
    needs what only the knowledge base and the SSVC decision know, and takes
    :func:`find_in_python` (every finding in scope read, then filtered and sorted)."""
    from mamori.portfolio import views
    from mamori.portfolio.ssvc_view import add_ssvc

    if filters.ssvc is not None or sort not in views.SORT_PAGE:
        if cursor is not None:
            raise InputError(None, _("a cursor pages the priority order only, without an offset"))
        return find_in_python(store, products, release, filters, sort, limit, offset, ssvc_role, lang, enrich)
    found = views.findings_keyset(
        store,
        release=release.id if release is not None else None,
        products=products,
        include_resolved=filters.include_resolved,
        severity=filters.severity,
        status=filters.status,
        kev=filters.kev,
        vulnerability=filters.vulnerability,
        component=filters.component,
        sort=sort,
        limit=limit,
        offset=offset,
        lang=lang,
        after=cursor,
        count=count or cursor is None,
    )
    page = found.items
    if enrich:
        knowledge, scores = _knowledge(store, page)
        add_ssvc(store, page, ssvc_role, lang, knowledge=knowledge, epss=scores)
    return FindingPage(
        total=found.total,
        limit=limit,
        offset=offset,
        items=_out(store, page, found.ids),
        next_cursor=found.next,
    )


def _out(
    store: Store, page: list[dict[str, Any]], known: dict[tuple[str, str], tuple[int, int]] | None = None
) -> list[FindingOut]:
    """The page's findings as the API gives them; ``known``: the product and release ids of the page's
    findings when the query that read them gave them (else they are read)."""
    wanted = {(f["product"], f["release"]) for f in page}
    ids = (
        known if known is not None and wanted <= known.keys() else _release_ids(store, {p for p, _ in wanted})
    )
    items = []
    for f in page:
        product_id, release_id = ids.get((f["product"], f["release"]), (0, 0))
        items.append(
            FindingOut(
                product_id=product_id,
                product=f["product"],
                release_id=release_id,
                release=f["release"],
                component=f["component"],
                vulnerability=f["vulnerability"],
                status=f["status"],
                in_gate=f["in_gate"],
                state=f["state"],
                fixed_versions=f["fixed_versions"],
                match=f["match"],
                first_seen=f["first_seen"],
                last_seen=f["last_seen"],
                resolved_at=f["resolved_at"],
                ssvc=f.get("ssvc"),
            )
        )
    return items


def find_in_python(
    store: Store,
    products: set[str] | None,
    release: common.ReleaseRef | None,
    filters: Filters,
    sort: str,
    limit: int,
    offset: int,
    ssvc_role: str,
    lang: str = "en",
    enrich: bool = True,
) -> FindingPage:
    """:func:`find` over the whole views: every finding in scope read, then filtered, sorted and cut
    in Python (the SSVC filter and the EPSS and publication-date sorts; the reference of the tests)."""
    from mamori.portfolio import views
    from mamori.portfolio.ssvc_view import add_ssvc

    if release is not None:
        view = views.release(store, release.product, release.version, filters.include_resolved, lang)
        found = view["findings"]
        for f in found:
            f["product"], f["release"] = release.product, release.version
    elif products is not None and len(products) == 1:
        found = views.findings(store, next(iter(products)), filters.include_resolved, lang)["findings"]
    elif products is not None and not products:
        found = []
    else:
        found = views.findings(store, None, filters.include_resolved, lang)["findings"]
        if products is not None:
            found = [f for f in found if f["product"] in products]
    found = [f for f in found if filters.keep(f)]
    if filters.ssvc is not None:
        add_ssvc(store, found, ssvc_role, lang)
        found = [f for f in found if f.get("ssvc") and f["ssvc"]["outcome"].lower() in filters.ssvc]
    if sort in ("epss", "published"):
        _knowledge(store, found)
    _sort(found, sort)
    total = len(found)
    page = found[offset : offset + limit]
    if enrich and sort not in ("epss", "published"):
        _knowledge(store, page)
    if enrich and filters.ssvc is None:
        add_ssvc(store, page, ssvc_role, lang)
    return FindingPage(total=total, limit=limit, offset=offset, items=_out(store, page))


Sort = Literal["priority", "severity", "published", "epss"]
Role = Literal["user", "developer"]


CURSOR_QUERY = Query(
    None, max_length=4096, description="the next_cursor of the page before (priority order; no offset)"
)
COUNT_QUERY = Query(False, description="with a cursor: count every finding the filters keep (slower)")


def _paged(request: Request, found: FindingPage) -> FindingPage:
    """``next``: this request's link with the next page's cursor (and no offset)."""
    if found.next_cursor is not None:
        query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("cursor", "offset")]
        query.append(("cursor", found.next_cursor))
        found.next = request.url.path + "?" + urlencode(query)
    return found


def _find(store: Store, *args: Any, cursor: str | None, count: bool) -> FindingPage:
    try:
        return find(store, *args, cursor=cursor, count=count)
    except InputError as exc:
        raise common.unprocessable(exc.problem, "query", "cursor") from None


@router.get("/findings", response_model=FindingPage)
def findings(
    request: Request,
    principal: Principal = Depends(require("finding.read")),
    store: Store = Depends(get_store),
    filters: Filters = Depends(_filters),
    product_id: int | None = Query(None, ge=1, le=2**62, description="one product"),
    sort: Sort = Query("priority", description="priority (KEV, rating, score), severity, published or epss"),
    ssvc_role: Role = Query("user", description="the SSVC decision model: user (deployer) or developer"),
    limit: int = Query(common.DEFAULT_PAGE, ge=1, le=common.MAX_PAGE),
    offset: int = Query(0, ge=0, le=10_000_000),
    cursor: str | None = CURSOR_QUERY,
    count: bool = COUNT_QUERY,
) -> FindingPage:
    """Findings across the products the principal may read findings of (or one product), most urgent
    first unless ``sort`` says otherwise; deep pages by ``cursor`` (the ``next`` link)."""
    if product_id is not None:
        product_or_404(principal, "finding.read", product_id)
        name = common.product_name(store, product_id)
        if name is None:
            raise common.not_found()
        names: set[str] | None = {name}
    else:
        names = common.visible_names(store, principal, "finding.read")
    found = _find(store, names, None, filters, sort, limit, offset, ssvc_role, cursor=cursor, count=count)
    return _paged(request, found)


@router.get("/releases/{release_id}/findings", response_model=FindingPage)
def release_findings(
    request: Request,
    release_id: int,
    principal: Principal = Depends(require("finding.read")),
    store: Store = Depends(get_store),
    filters: Filters = Depends(_filters),
    sort: Sort = Query("priority"),
    ssvc_role: Role = Query("user"),
    limit: int = Query(common.DEFAULT_PAGE, ge=1, le=common.MAX_PAGE),
    offset: int = Query(0, ge=0, le=10_000_000),
    cursor: str | None = CURSOR_QUERY,
    count: bool = COUNT_QUERY,
) -> FindingPage:
    """The findings of one release; deep pages by ``cursor`` (the ``next`` link)."""
    ref = common.release_or_404(store, principal, "finding.read", release_id)
    return _paged(
        request, _find(store, None, ref, filters, sort, limit, offset, ssvc_role, cursor=cursor, count=count)
    )

"""SSVC for the portfolio's findings, with each product's stored triage context.

The same path as ``mamori scan``: each finding becomes a scan :class:`~mamori.scan.result.Finding` (its
merged record, the KEV catalog entry and EPSS score of its CVEs), then :func:`mamori.triage.integrate.enrich`
decides it with the chosen role's tree and the product's context (:mod:`mamori.portfolio.context`). So a
finding gets the outcome ``mamori scan --product P`` gives it for the same release.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

from mamori.match.knowledge import Knowledge
from mamori.portfolio.context import as_context, contexts
from mamori.scan.describe import vulnerability_info
from mamori.scan.result import ComponentRef, Evidence, Finding, ScanResult, SourceInfo
from mamori.store import Store
from mamori.triage import integrate
from mamori.triage.notice import assumed_context, set_command
from mamori.triage.texts import text
from mamori.triage.variants import variant


def add_ssvc(
    store: Store,
    items: Sequence[dict[str, Any]],
    role: str = "user",
    lang: str = "en",
    knowledge: Knowledge | None = None,
    epss: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Add ``ssvc`` ({outcome, outcome_name, table, assumed}) to every unresolved finding of ``items``;
    returns what the context said: per product the points set, the points assumed, and one notice when
    some product's ranking had to assume the worst case. ``knowledge``: the reader that already read
    these findings' records (they are not read again); ``epss``: the EPSS scores already read of every
    CVE of those records (those it lacks have none)."""
    chosen = variant(role, "low")
    current = [f for f in items if f["status"] != "resolved"]
    knowledge = knowledge or Knowledge(store)
    records = knowledge.vulnerabilities({f["vulnerability"]["id"] for f in current})
    cves = {c for r in records.values() for c in r.cve_ids()}
    kev = knowledge.kev(cves)
    epss = knowledge.epss(cves) if epss is None else {c: epss[c] for c in cves if c in epss}
    sources = _sources(store)
    stored = contexts(store)
    by_product: dict[str, list[dict[str, Any]]] = {}
    for f in current:
        by_product.setdefault(f["product"], []).append(f)
    report: dict[str, Any] = {"role": chosen.name, "products": {}, "notice": None}
    lacking: list[str] = []
    assumed_points: dict[str, None] = {}
    infos: dict[str, Any] = {}  # one vulnerability's description, shared by its findings (read-only)
    for product, group in sorted(by_product.items()):
        pairs = finding_pairs(group, records, kev, epss, infos)
        findings = [finding for _, finding in pairs]
        result = ScanResult(product, "portfolio", len(findings), sources, findings)
        values = stored.get(product, {})
        extra = integrate.enrich(
            result,
            chosen,
            context=as_context(product, values),
            records=records,
            product=product,
            lang=lang,
        )
        triaged = []
        for f, finding in pairs:
            t = extra[id(finding)].triaged
            if t is None:
                continue
            triaged.append(t)
            d = t.assessment.ssvc_dict(lang)  # type: ignore[arg-type]
            f["ssvc"] = {
                "outcome": d["outcome"],
                "outcome_name": d.get("outcome_name"),
                "table": d["table"],
                "assumed": d.get("assumed", []),
            }
        assumed = assumed_context(triaged)
        report["products"][product] = {
            "context": {k: v.as_dict() for k, v in values.items()},
            "assumed": assumed,
        }
        if assumed:
            lacking.append(product)
            assumed_points.update(dict.fromkeys(a["point"] for a in assumed))
    if lacking:
        shown = ", ".join(lacking[:5]) + (f" (+{len(lacking) - 5})" if len(lacking) > 5 else "")
        command = set_command(lacking[0] if len(lacking) == 1 else None, list(assumed_points))
        report["notice"] = text(
            "portfolio_worst_case",
            lang,
            products=shown,
            points=_point_names(assumed_points, lang),
            command=command,
        )
    return report


def finding_pairs(
    group: Iterable[dict[str, Any]],
    records: dict[str, Any],
    kev: Any,
    epss: Any,
    infos: dict[str, Any],
) -> list[tuple[dict[str, Any], Finding]]:
    """Each portfolio finding of ``group`` whose vulnerability has a record in ``records``, with the scan
    :class:`~mamori.scan.result.Finding` the triage decides: its component, the record's description (with
    the ``kev`` and ``epss`` data; made once per vulnerability and kept in ``infos``, shared by its
    findings) and the match as evidence. A finding without a record is left out (left undecided)."""
    pairs: list[tuple[dict[str, Any], Finding]] = []
    for f in group:
        record = records.get(f["vulnerability"]["id"])
        if record is None:
            continue
        info = infos.get(record.id)
        if info is None:
            info = infos[record.id] = vulnerability_info([record], kev, epss)
        c, m = f["component"], f["match"]
        evidence = Evidence(m["method"] or "", m["confidence"] or "", m["detail"], "", record.id)
        ref = ComponentRef(c["name"], c["version"], c["purl"], bom_ref=c["ref"])
        pairs.append((f, Finding(ref, info, [evidence])))
    return pairs


# per store (its URL), role and language: each vulnerability's outcome (None: undecided) with the state of
# the knowledge base it was decided at (see outcomes)
_DECIDED: dict[tuple[str, str, str], tuple[Any, dict[str, str | None]]] = {}
_DECIDED_LOCK = threading.Lock()
DECIDED_IDS = 200_000  # a store's remembered outcomes are dropped beyond this many


def outcomes(
    store: Store, vuln_ids: Iterable[str], role: str = "user", lang: str = "en", store_decided: bool = True
) -> dict[str, str]:
    """The SSVC outcome :func:`add_ssvc` gives a finding of each vulnerability in a product without a
    stored context (the decision then rests on the vulnerability alone: its record, KEV and EPSS); ids
    without a record are left out, as add_ssvc leaves their findings undecided.

    Each vulnerability is decided once per role and remembered in this process while the knowledge base
    is in the state it was decided at (every import, KEV and EPSS ones included, changes its
    ``source_state`` generation; the KEV table's size is the one store-wide figure the decision reads).
    Outcomes are also kept in the store (``portfolio_ssvc_outcome``, with a digest of that state):
    another process, a server just started, reads them instead of deciding again;
    :func:`remember_outcomes` fills them when a re-match run ends."""
    chosen = variant(role, "low")
    wanted = set(vuln_ids)
    knowledge = Knowledge(store)
    knowledge.refresh()
    kev_size = _sources(store)
    state = (knowledge.generation, kev_size["kev"].records)
    key = (store.engine.url.render_as_string(hide_password=True), chosen.name, lang)
    with _DECIDED_LOCK:  # the server's requests run in threads
        held = _DECIDED.get(key)
        if held is None or held[0] != state or len(held[1]) > DECIDED_IDS:
            held = _DECIDED[key] = (state, {})
        known = held[1]
        missing = wanted - known.keys()
    decided: dict[str, str | None] = {}
    if missing:
        digest = _state_digest(state)
        decided = _stored(store, chosen.name, digest, missing)  # what a re-match run's end stored
        rest = missing - decided.keys()
        if rest:
            fresh = _decide(store, knowledge, rest, chosen, lang, kev_size)
            decided.update(fresh)
            if store_decided:
                _store(store, chosen.name, digest, fresh)
    with _DECIDED_LOCK:
        known.update(decided)
        return {vid: out for vid in wanted if (out := known.get(vid)) is not None}


def _state_digest(state: Any) -> str:
    import hashlib

    return hashlib.blake2b(repr(state).encode("utf-8"), digest_size=16).hexdigest()


def _stored(store: Store, variant_name: str, digest: str, vuln_ids: set[str]) -> dict[str, str | None]:
    """The outcomes stored for these vulnerabilities at this state of the knowledge base."""
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from mamori.portfolio.tables import SsvcOutcomeRow
    from mamori.store.writer import chunks

    o = SsvcOutcomeRow.__table__
    out: dict[str, str | None] = {}
    try:
        with store.engine.connect() as conn:
            for part in chunks(sorted(vuln_ids), 500):
                for vid, outcome in conn.execute(
                    select(o.c.vuln_id, o.c.outcome).where(
                        o.c.variant == variant_name, o.c.state == digest, o.c.vuln_id.in_(part)
                    )
                ):
                    out[vid] = outcome
    except SQLAlchemyError:  # a store without the table (not migrated, read only): decided here
        return {}
    return out


def _store(store: Store, variant_name: str, digest: str, decided: dict[str, str | None]) -> None:
    """Keep these outcomes for the next process (best effort: a read-only store keeps nothing)."""
    from sqlalchemy import delete
    from sqlalchemy.exc import SQLAlchemyError

    from mamori.portfolio.tables import SsvcOutcomeRow
    from mamori.store.writer import chunks

    o = SsvcOutcomeRow.__table__
    try:
        with store.engine.begin() as conn:
            for part in chunks(sorted(decided), 500):
                conn.execute(delete(o).where(o.c.variant == variant_name, o.c.vuln_id.in_(part)))
                conn.execute(
                    o.insert(),
                    [
                        {"variant": variant_name, "vuln_id": v, "state": digest, "outcome": decided[v]}
                        for v in part
                    ],
                )
    except SQLAlchemyError:
        return


def remember_outcomes(store: Store, role: str = "user") -> int:
    """Decide and store the outcome of every vulnerability of the portfolio's open findings (a re-match
    run's end calls it, so that the dashboard's first read finds them); how many were decided."""
    from sqlalchemy import select

    from mamori.portfolio import tables as pt

    f, m = pt.FindingRow.__table__, pt.MatchRow.__table__
    with store.engine.connect() as conn:
        ids = set(
            conn.scalars(
                select(m.c.vuln_id)
                .select_from(f.join(m, m.c.id == f.c.match_id))
                .where(f.c.resolved_run.is_(None), m.c.verdict == "affected")
                .distinct()
            )
        )
    return len(outcomes(store, ids, role=role))


def _decide(
    store: Store,
    knowledge: Knowledge,
    vuln_ids: set[str],
    chosen: Any,
    lang: str,
    sources: dict[str, SourceInfo],
) -> dict[str, str | None]:
    """Each of ``vuln_ids`` decided on its own (no product context): its outcome, None when undecided."""
    records = knowledge.vulnerabilities(vuln_ids)
    cves = {c for r in records.values() if r is not None for c in r.cve_ids()}
    kev, epss = knowledge.kev(cves), knowledge.epss(cves)
    placeholder = ComponentRef("", None, None, bom_ref="")
    pairs = [
        (vid, Finding(placeholder, vulnerability_info([r], kev, epss), [])) for vid, r in records.items()
    ]
    findings = [finding for _vid, finding in pairs]
    result = ScanResult("", "portfolio", len(findings), sources, findings)
    extra = integrate.enrich(result, chosen, context=None, records=records, product=None, lang=lang)
    out: dict[str, str | None] = dict.fromkeys(vuln_ids)
    for vid, finding in pairs:
        t = extra[id(finding)].triaged
        if t is not None:
            out[vid] = t.assessment.ssvc_dict(lang)["outcome"]  # type: ignore[arg-type]
    return out


def _sources(store: Store) -> dict[str, SourceInfo]:
    """What the decision reads of the knowledge base's sources: whether the KEV catalogue is loaded (a
    vulnerability outside a loaded catalogue is not known exploited; :func:`mamori.triage.integrate.subjects`).
    One count of the KEV table: the whole store's status, counted on every findings page, read every
    record and affected package of the knowledge base."""
    from sqlalchemy import func, select

    from mamori.store import schema

    with store.engine.connect() as conn:
        count = conn.scalar(select(func.count()).select_from(schema.KevEntry.__table__))
    return {"kev": SourceInfo(int(count or 0), None)}


def _point_names(points: Sequence[str], lang: str) -> str:
    """The decision points in words, each with its id (the id is what ``--set POINT=VALUE`` takes)."""
    from mamori.triage import ssvc

    catalog = ssvc.default_catalog()
    named = []
    for point in points:
        found = catalog.points.get(point)
        named.append(f"{found.name.get(lang)} ({point})" if found is not None else point)  # type: ignore[arg-type]
    return ", ".join(named)

"""The deployer's patch list: every open finding of every deployed release, most urgent first.

Each finding is decided with the SSVC deployer tree (the ``user`` role of :mod:`mamori.triage.variants`,
low skill: an unknown answer takes the most cautious value) using the context of *the deployment* — its
system exposure, mission impact and safety impact — not the product's default context, with the
vulnerability's exploitation (KEV, the records' evidence), automatability and the EPSS score, the same
path as ``mamori scan`` (:func:`mamori.triage.integrate.enrich`). So one release deployed on the internet
and on an isolated line ranks twice, differently, as the deployer table says.

Order: SSVC outcome (immediate, out_of_cycle, scheduled, defer), then KEV, EPSS (highest first), CVSS
score, site, product, release, vulnerability. Every item carries its decision path and inputs.

The list says what it could not check: a deployed release without an SBOM, an SBOM whose components were
never matched, or a match older than the newest knowledge-base import (``mamori portfolio rematch``), and
the knowledge base's age (times to the second: an import within the same second as the match counts
as seen by it). ``can_judge`` is False then: an empty list is never "nothing to patch".
Deployments whose end of support has passed or falls within 90 days are flagged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select

from mamori.inventory.deployments import EOS_SOON_DAYS, Deployment, list_deployments
from mamori.store import Store

OUTCOME_ORDER = {"immediate": 0, "out_of_cycle": 1, "scheduled": 2, "defer": 3}
VULN_SOURCES_EXCLUDED = ("kev", "epss", "purl2cpe")  # read live at decision time, or links only
MAX_AGE_DAYS = 7


def _age_days(at: str | None, now: dt.datetime) -> float | None:
    if not at:
        return None
    try:
        when = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return round((now - when).total_seconds() / 86400, 2)


def release_coverage(store: Store, release_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Per release: whether it has an SBOM, how many components it lists and how many were never
    matched, and when the oldest match of its components ran."""
    from mamori.portfolio import tables as pt

    r, c, sc, run = (
        pt.ReleaseRow.__table__,
        pt.ComponentRow.__table__,
        pt.SbomComponentRow.__table__,
        pt.RunRow.__table__,
    )
    out: dict[int, dict[str, Any]] = {}
    with store.engine.connect() as conn:
        for rid in sorted(set(release_ids)):
            sbom = conn.scalar(select(r.c.current_sbom_id).where(r.c.id == rid))
            item: dict[str, Any] = {
                "sbom": sbom is not None,
                "components": 0,
                "unmatched": 0,
                "matched_at": None,
            }
            if sbom is not None:
                row = conn.execute(
                    select(
                        func.count(),
                        func.count().filter(c.c.matched_run.is_(None)),
                        func.min(c.c.matched_run),
                    )
                    .select_from(sc.join(c, c.c.id == sc.c.component_id))
                    .where(sc.c.sbom_id == sbom)
                ).one()
                item["components"], item["unmatched"] = int(row[0]), int(row[1])
                if row[2] is not None:
                    item["matched_at"] = conn.scalar(select(run.c.started_at).where(run.c.id == row[2]))
            out[rid] = item
    return out


def knowledge_state(store: Store) -> dict[str, Any]:
    """The knowledge base's sources with the time of their latest import, and the newest vulnerability
    import (KEV and EPSS left out: they are read when the list is made)."""
    from mamori.store.schema import EpssScore, KevEntry, SourceState

    s = SourceState.__table__
    with store.engine.connect() as conn:
        sources = {row.source: row.updated_at for row in conn.execute(select(s.c.source, s.c.updated_at))}
        kev = int(conn.scalar(select(func.count()).select_from(KevEntry.__table__)) or 0)
        epss = int(conn.scalar(select(func.count()).select_from(EpssScore.__table__)) or 0)
    from mamori.store.writer import CHECKPOINT_PREFIX

    sources = {k: v for k, v in sources.items() if not k.startswith(CHECKPOINT_PREFIX)}
    vuln = [at for src, at in sources.items() if src not in VULN_SOURCES_EXCLUDED and at]
    return {
        "sources": dict(sorted(sources.items())),
        "latest_import": max(vuln) if vuln else None,
        "kev_entries": kev,
        "epss_scores": epss,
    }


def _context(d: Deployment) -> Any:
    from mamori.triage.context import product_context

    points = {
        point: (value, None, f"deployment {d.id} ({d.site}) {point}")
        for point in ("system_exposure", "mission_impact", "safety_impact")
        if (value := getattr(d, point)) is not None
    }
    return product_context(f"{d.product}@{d.site}", points) if points else None


def priorities(
    store: Store,
    *,
    site: str | None = None,
    lang: str = "en",
    product_ids: Iterable[int] | None = None,
    today: dt.date | None = None,
    max_age_days: float = MAX_AGE_DAYS,
) -> dict[str, Any]:
    """The ranked patch list of the active deployments (of ``site``; of ``product_ids`` on the server)."""
    from mamori.match.knowledge import Knowledge
    from mamori.portfolio.ssvc_view import _sources, finding_pairs
    from mamori.portfolio.views import findings as all_findings
    from mamori.scan.result import ScanResult
    from mamori.triage import integrate
    from mamori.triage.variants import variant

    now = dt.datetime.now(dt.UTC)
    today = today or now.date()
    deployments = list_deployments(store, site=site, product_ids=product_ids)
    covered = release_coverage(store, {d.release_id for d in deployments})
    kb = knowledge_state(store)
    kb["age_days"] = _age_days(kb["latest_import"], now)
    problems: list[dict[str, Any]] = []
    if not deployments:
        problems.append({"code": "no_deployments"})
    if kb["latest_import"] is None:
        problems.append({"code": "no_knowledge"})
    elif kb["age_days"] is not None and kb["age_days"] > max_age_days:
        problems.append({"code": "knowledge_old", "age_days": kb["age_days"], "max_age_days": max_age_days})
    releases = []
    seen: set[int] = set()
    for d in deployments:
        if d.release_id in seen:
            continue
        seen.add(d.release_id)
        item = {"product": d.product, "release": d.release, **covered[d.release_id]}
        item["match_age_days"] = _age_days(item["matched_at"], now)
        if not item["sbom"]:
            item["problem"] = "no_sbom"
        elif item["unmatched"]:
            item["problem"] = "not_matched"
        elif kb["latest_import"] and item["matched_at"] and item["matched_at"] < kb["latest_import"]:
            item["problem"] = "match_stale"
        else:
            item["problem"] = None
        if item["problem"]:
            problems.append({"code": item["problem"], "product": d.product, "release": d.release})
        releases.append(item)

    wanted = {(d.product, d.release) for d in deployments}
    found = [
        f
        for f in all_findings(store, lang=lang)["findings"]
        if f["in_gate"] and f["status"] != "resolved" and (f["product"], f["release"]) in wanted
    ]
    by_release: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for f in found:
        by_release.setdefault((f["product"], f["release"]), []).append(f)
    knowledge = Knowledge(store)
    records = knowledge.vulnerabilities({f["vulnerability"]["id"] for f in found})
    cves = {c for r in records.values() if r is not None for c in r.cve_ids()}
    kev, epss = knowledge.kev(cves), knowledge.epss(cves)
    sources = _sources(store)
    chosen = variant("user", "low")
    infos: dict[str, Any] = {}
    items: list[dict[str, Any]] = []
    for d in deployments:
        group = by_release.get((d.product, d.release), [])
        pairs = finding_pairs(group, records, kev, epss, infos)
        if not pairs:
            continue
        result = ScanResult(d.product, "inventory", len(pairs), sources, [x for _f, x in pairs])
        extra = integrate.enrich(
            result, chosen, context=_context(d), records=records, product=f"{d.product}@{d.site}", lang=lang
        )
        for f, finding in pairs:
            triaged = extra[id(finding)].triaged
            if triaged is None:
                continue
            a = triaged.assessment
            info = finding.vulnerability
            items.append(
                {
                    "deployment": d.id,
                    "site": d.site,
                    "system": d.system,
                    "product": d.product,
                    "release": d.release,
                    "component": f["component"],
                    "vulnerability": {
                        **f["vulnerability"],
                        "epss": info.epss.score if info.epss else None,
                    },
                    "fixed_versions": f["fixed_versions"],
                    "status": f["status"],
                    "ssvc": {
                        "outcome": a.outcome.id,
                        "outcome_name": a.outcome.name.get(lang),
                        "table": a.decision.table.id,
                        "path": a.path_text(lang),  # type: ignore[arg-type]
                        "explanation": a.explanations(lang),  # type: ignore[arg-type]
                        "inputs": {k: i.value for k, i in a.inputs.items()},
                        "assumed": [i.point for i in a.assumed],
                    },
                    "support_ends": d.support_ends,
                    "support_state": d.support_state(today),
                }
            )
    items.sort(
        key=lambda i: (
            OUTCOME_ORDER.get(i["ssvc"]["outcome"], 9),
            not i["vulnerability"]["kev"],
            -(i["vulnerability"]["epss"] or 0.0),
            -(i["vulnerability"]["score"] or 0.0),
            i["site"],
            i["product"],
            i["release"],
            i["vulnerability"]["id"],
            i["component"]["ref"] or "",
        )
    )
    for n, item in enumerate(items, start=1):
        item["rank"] = n
    support = [
        {
            "deployment": d.id,
            "site": d.site,
            "system": d.system,
            "product": d.product,
            "release": d.release,
            "support_ends": d.support_ends,
            "support_state": state,
        }
        for d in deployments
        if (state := d.support_state(today, EOS_SOON_DAYS)) is not None
    ]
    by_outcome: dict[str, int] = dict.fromkeys(OUTCOME_ORDER, 0)
    for i in items:
        by_outcome[i["ssvc"]["outcome"]] = by_outcome.get(i["ssvc"]["outcome"], 0) + 1
    return {
        "site": site,
        "role": chosen.name,
        "deployments": len(deployments),
        "items": items,
        "summary": {
            "findings": len(items),
            "by_outcome": by_outcome,
            "kev": sum(i["vulnerability"]["kev"] for i in items),
        },
        "end_of_support": support,
        "coverage": {"releases": releases, "knowledge": kb},
        "problems": problems,
        "can_judge": not problems,
    }

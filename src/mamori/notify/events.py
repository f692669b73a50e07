"""Events computed from what the store holds, once each.

:func:`compute_events` compares the store with what the previous computation saw (``notify_finding_state``,
``notify_sbom_score``) and records what changed as events (``notify_event``, unique by key), then fans each
new event out to the subscriptions whose filters keep it (``notify_delivery``, unique per subscription and
event). Running it again on an unchanged store adds nothing; two runs at once add each event once (the
keys are unique in the database).

Kinds emitted:

- ``new_finding``: an open finding (not ``not_affected``/``fixed`` by triage) not seen before, with its
  severity, SSVC outcome (the portfolio's SSVC view: the product's stored context, the chosen role's tree),
  priority score (:func:`mamori.triage.score.priority_score`), KEV, EPSS and first-seen time;
- ``kev_added``: a finding seen before whose vulnerability (or an alias) is now in the CISA KEV table;
- ``epss_rise``: a finding's highest EPSS probability rose by at least ``epss_rise`` since the last event
  (or since it was first seen);
- ``ssvc_change``: a finding's SSVC outcome differs from the last one seen;
- ``sbom_quality_drop``: a release's current SBOM scores lower on the NTIA minimum elements (0-100) than
  the current SBOM of the product's release before it;
- ``policy_violation``: an open finding that fires a ``fail`` rule of the triage policy (the store keeps
  no policy of a product, so the policy given, else ``data/notify/policy.yaml``: KEV, or the most urgent
  SSVC outcome), once per finding and rule;
- ``supplier_document``: a VEX (CycloneDX, OpenVEX, CSAF) imported for a release (``mamori vex import``:
  triage records of origin ``vex``), once per release, document and newest statement time;
- ``review_due``: a self-assessment whose JC-STAR label validity (``valid_until``) or declared next review
  (the server's declaration, ``review.next``) falls within ``review_days`` days (or has passed), once per
  assessment and date.

Other features record their own events with :func:`record_events` (``case_overdue``: a PSIRT case past a
timer, from :func:`mamori.psirt.timers.notify_overdue`).

Incremental: a computation records what it saw — the store-wide state every finding's events depend
on (triage records; product contexts; whether a KEV catalogue is loaded; the policy, role and EPSS
threshold) in ``notify_watermark``, and each open finding with the digest of its own rows in
``notify_finding_input``. What an import changes is noted by the import itself (``knowledge_change``,
:mod:`mamori.store.writer`): the merged vulnerabilities it rebuilt, the CVE ids whose KEV entry or EPSS
score is new or changed. While the store-wide state is unchanged, the next computation reads, decides
and compares only the findings that are new or whose rows changed (a re-match's new, changed or reopened
findings) and the findings of a vulnerability an import changed (its id, an alias in its match row or in
its merged record among the ids noted), then takes the notes it read off the table: any other finding
reads as it did, so it has no event to give (its KEV, EPSS and SSVC outcome equal the recorded state
and its policy violations are recorded). When the store-wide state changed, every open finding is
decided, as ``full=True`` always does; the events are the same either way.

``baseline=True`` records what is there without fanning out (the first run on an existing portfolio, so
that switching notifications on does not send every finding at once).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select, update

from mamori.notify import tables as t
from mamori.notify.subscriptions import DEFAULT_KINDS, SEVERITY_RANK, Subscription, list_subscriptions
from mamori.store import Store
from mamori.store.writer import EVERYTHING

EPSS_RISE = 0.1  # default: a rise of 10 percentage points of probability
REVIEW_DAYS = 90  # default: a review or validity end this many days ahead is announced
DIGEST_HOUR = 0  # UTC hour a daily digest is sent (09:00 in Japan)


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    key: str
    kind: str
    product: str | None
    release: str | None
    vuln_id: str | None
    severity: str | None
    ssvc_outcome: str | None
    kev: bool
    payload: dict[str, Any]
    created_at: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "product": self.product,
            "release": self.release,
            "vulnerability": self.vuln_id,
            "severity": self.severity,
            "ssvc_outcome": self.ssvc_outcome,
            "kev": self.kev,
            "created_at": self.created_at,
            **{"detail": self.payload},
        }


def event_of(row: Any) -> Event:
    return Event(
        id=row.id,
        key=row.key,
        kind=row.kind,
        product=row.product,
        release=row.release,
        vuln_id=row.vuln_id,
        severity=row.severity,
        ssvc_outcome=row.ssvc_outcome,
        kev=bool(row.kev),
        payload=json.loads(row.payload),
        created_at=row.created_at,
    )


def _now() -> str:
    from mamori.accounts.core import now_iso

    return now_iso()


def _finding_key(f: dict[str, Any]) -> str:
    """The finding's state key (kept in the finding: the state comparison and the policy both need it)."""
    key = f.get("_notify_key")
    if key is None:
        key = f["_notify_key"] = _key_of(f)
    return key


def _key_of(f: dict[str, Any]) -> str:
    c = f["component"]
    raw = "\x1f".join(
        [f["product"], f["release"], c.get("ref") or "", c.get("purl") or "", f["vulnerability"]["id"]]
    )
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()


def _open_findings(
    store: Store, role: str, pairs: Iterable[tuple[int, int]] | None = None
) -> list[dict[str, Any]]:
    """Every open finding of every release (in the gate: not ``not_affected`` or ``fixed``), or of the
    (release id, match id) ``pairs`` given, with its SSVC outcome, EPSS and priority score."""
    from mamori.match.knowledge import Knowledge
    from mamori.model import merge
    from mamori.portfolio.views import findings, pair_findings
    from mamori.triage.score import priority_score

    if pairs is None:
        found = [f for f in findings(store)["findings"] if f["in_gate"]]
    else:
        found = [f for f in pair_findings(store, pairs) if f["in_gate"]]
    if not found:
        return []
    _add_ssvc_once(store, found, role)
    # one vulnerability's ids (and so its EPSS) are the same in every finding of it: looked at once
    ids = {(f["vulnerability"]["id"], tuple(f["vulnerability"]["aliases"])) for f in found}
    cves = {i.upper() for vid, aliases in ids for i in (vid, *aliases) if merge.is_cve(i)}
    epss = Knowledge(store).epss(cves)
    highest: dict[tuple[str, tuple[str, ...]], float | None] = {}
    for vid, aliases in ids:
        scores = [epss[i.upper()].score for i in (vid, *aliases) if i.upper() in epss]
        highest[(vid, aliases)] = max(scores) if scores else None
    for f in found:
        v = f["vulnerability"]
        f["epss"] = highest[(v["id"], tuple(v["aliases"]))]
        score = v["score"] if v["score"] is not None and 0.0 <= v["score"] <= 10.0 else None
        f["priority"] = priority_score(score, f["epss"], v["kev"])
    return found


def _add_ssvc_once(store: Store, found: list[dict[str, Any]], role: str) -> None:
    """The portfolio's SSVC view (:func:`mamori.portfolio.ssvc_view.add_ssvc`) decided once per
    (vulnerability, product context) instead of once per finding: the decision reads the vulnerability's
    record, KEV and EPSS and the product's stored context (product-wide points only), never the component,
    so every finding of one vulnerability in products without a stored context shares one outcome. The
    findings of a group share one (read-only) ``ssvc`` dict."""
    from mamori.portfolio.context import contexts
    from mamori.portfolio.ssvc_view import add_ssvc

    with_context = set(contexts(store))
    groups: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
    for f in found:
        if f["status"] == "resolved":  # add_ssvc leaves these undecided
            continue
        product = f["product"] if f["product"] in with_context else None
        groups.setdefault((f["vulnerability"]["id"], product), []).append(f)
    add_ssvc(store, [group[0] for group in groups.values()], role=role)
    for group in groups.values():
        ssvc = group[0].get("ssvc")
        if ssvc is not None:
            for f in group[1:]:
                f["ssvc"] = ssvc


STATE_VERSION = "2"  # bumped when what the findings' events depend on changes in this code


def _store_state(store: Store, role: str, epss_rise: float, policy: Any) -> str:
    """A digest of the store-wide state every finding's events depend on (see the module's text)."""
    from sqlalchemy import func

    from mamori.portfolio.context import contexts
    from mamori.triage.record_tables import TriageRecordRow

    tr = TriageRecordRow.__table__
    with store.engine.connect() as conn:
        triage = tuple(
            conn.execute(
                select(func.count(), func.max(tr.c.id), func.max(tr.c.at), func.sum(tr.c.version))
            ).one()
        )
        # SSVC reads "not known exploited" only while a KEV catalogue is loaded (the one store-wide
        # figure of the knowledge base the decision reads); each entry and score is noted by its import
        kev_loaded = conn.exec_driver_sql("SELECT 1 FROM kev LIMIT 1").first() is not None
    raw = repr(
        (
            STATE_VERSION,
            kev_loaded,
            triage,
            sorted(contexts(store).items()),
            policy,
            role,
            epss_rise,
        )
    )
    return hashlib.blake2b(raw.encode("utf-8"), digest_size=16).hexdigest()


def _noted_changes(conn: Connection) -> dict[str, str]:
    """The identifiers imports noted as changed (``knowledge_change``): key → the noting import's token."""
    from mamori.store.schema import KnowledgeChange

    kc = KnowledgeChange.__table__
    return {key: token for key, token in conn.execute(select(kc.c.key, kc.c.token))}


def _changed_pairs(conn: Connection, keys: set[str]) -> set[tuple[int, int]]:
    """The open findings (release id, match id) of a vulnerability whose id, or an alias in its match row
    or in its merged record, is one of ``keys`` (:func:`mamori.model.merge.key` of the ids noted)."""
    from mamori.model import merge
    from mamori.portfolio import tables as pt
    from mamori.store.schema import Alias
    from mamori.store.writer import chunks

    if not keys:
        return set()
    f, m, a = pt.FindingRow.__table__, pt.MatchRow.__table__, Alias.__table__
    vulns: set[str] = set()
    for part in chunks(sorted(keys), 500):  # merged records naming a changed id (their own id included)
        vulns.update(conn.scalars(select(a.c.vuln_id).where(a.c.alias_key.in_(part))))
    affected = select(m.c.vuln_id, m.c.aliases).where(m.c.verdict == "affected").distinct()
    for vid, aliases in conn.execute(affected):  # what the match rows say (the record as matched)
        if merge.key(vid) in keys or any(merge.key(i) in keys for i in (aliases or "").split()):
            vulns.add(vid)
    pairs: set[tuple[int, int]] = set()
    for part in chunks(sorted(vulns), 500):
        stmt = (
            select(f.c.release_id, f.c.match_id)
            .join(m, m.c.id == f.c.match_id)
            .where(f.c.resolved_run.is_(None), m.c.verdict == "affected", m.c.vuln_id.in_(part))
        )
        pairs.update((r, mid) for r, mid in conn.execute(stmt))
    return pairs


def _take_noted(conn: Connection, noted: dict[str, str]) -> None:
    """Take the changes read off ``knowledge_change`` (a key noted again since, by another import, stays)."""
    from mamori.store.schema import KnowledgeChange
    from mamori.store.writer import chunks

    kc = KnowledgeChange.__table__
    by_token: dict[str, list[str]] = {}
    for key, token in noted.items():
        by_token.setdefault(token, []).append(key)
    for token, keys in by_token.items():
        for part in chunks(sorted(keys), 500):
            conn.execute(kc.delete().where(kc.c.token == token, kc.c.key.in_(part)))


def _last_seen(conn: Connection) -> tuple[str | None, dict[tuple[int, int], str]]:
    """The store-wide state and the findings' digests the last computation recorded."""
    w, fi = t.WatermarkRow.__table__, t.FindingInputRow.__table__
    state = conn.scalar(select(w.c.value).where(w.c.name == "state"))
    inputs = {(r.release_id, r.match_id): r.digest for r in conn.execute(select(fi))}
    return state, inputs


def _record_seen(
    conn: Connection,
    state: str,
    inputs: dict[tuple[int, int], str],
    before: dict[tuple[int, int], str] | None,
) -> None:
    """Record what this computation saw (``before``: what the table holds, None to write it afresh)."""
    from sqlalchemy import delete, tuple_

    w, fi = t.WatermarkRow.__table__, t.FindingInputRow.__table__
    conn.execute(delete(w).where(w.c.name == "state"))
    conn.execute(w.insert().values(name="state", value=state))
    if before is None:
        conn.execute(delete(fi))
        stale, fresh = [], list(inputs.items())
    else:
        stale = [k for k, d in before.items() if inputs.get(k) != d]
        fresh = [(k, d) for k, d in inputs.items() if before.get(k) != d]
    for part in range(0, len(stale), 500):
        conn.execute(delete(fi).where(tuple_(fi.c.release_id, fi.c.match_id).in_(stale[part : part + 500])))
    for part in range(0, len(fresh), 5000):
        conn.execute(
            fi.insert(),
            [{"release_id": k[0], "match_id": k[1], "digest": d} for k, d in fresh[part : part + 5000]],
        )


def _known(conn: Connection, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` (event keys) are recorded already."""
    e = t.EventRow.__table__
    known: set[str] = set()
    for i in range(0, len(keys), 500):
        known.update(conn.scalars(select(e.c.key).where(e.c.key.in_(keys[i : i + 500]))))
    return known


def _finding_payload(f: dict[str, Any]) -> dict[str, Any]:
    v, c = f["vulnerability"], f["component"]
    ssvc = f.get("ssvc") or {}
    return {
        "component": {"name": c["name"], "version": c["version"], "purl": c["purl"]},
        "aliases": v["aliases"],
        "score": v["score"],
        "epss": f.get("epss"),
        "priority": f.get("priority"),
        "ssvc_outcome_name": ssvc.get("outcome_name"),
        "ssvc_table": ssvc.get("table"),
        "fixed_versions": f["fixed_versions"],
        "first_seen": f["first_seen"],
        "status": f["status"],
    }


def _event(
    kind: str, key: str, f: dict[str, Any] | None, extra: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    payload = {**(_finding_payload(f) if f is not None else {}), **extra}
    row = {
        "key": f"{kind}:{key}"[:400],
        "kind": kind,
        "product": f["product"] if f is not None else fields.get("product"),
        "release": f["release"] if f is not None else fields.get("release"),
        "vuln_id": f["vulnerability"]["id"] if f is not None else None,
        "severity": f["vulnerability"]["rating"] if f is not None else None,
        "ssvc_outcome": (f.get("ssvc") or {}).get("outcome") if f is not None else None,
        "kev": bool(f["vulnerability"]["kev"]) if f is not None else False,
        "payload": json.dumps(payload, ensure_ascii=False, sort_keys=True),
    }
    return row


def _finding_events(
    conn: Connection, found: list[dict[str, Any]], epss_rise: float, today: str
) -> list[dict[str, Any]]:
    """The events of the findings, and the state table brought up to date."""
    s = t.FindingStateRow.__table__
    seen = {row.key: row for row in conn.execute(select(s.c.key, s.c.kev, s.c.epss, s.c.ssvc_outcome))}
    out: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    done: set[str] = set()
    for f in found:
        key = _finding_key(f)
        if key in done:  # the same finding twice in one view: once
            continue
        done.add(key)
        kev = bool(f["vulnerability"]["kev"])
        outcome = (f.get("ssvc") or {}).get("outcome")
        epss = f.get("epss")
        before = seen.get(key)
        if before is None:
            out.append(_event("new_finding", key, f, {}))
            inserts.append({"key": key, "kev": kev, "epss": epss, "ssvc_outcome": outcome})
            continue
        changes: dict[str, Any] = {}
        if kev and not before.kev:
            out.append(_event("kev_added", key, f, {}))
            changes["kev"] = True
        elif not kev and before.kev:
            changes["kev"] = False  # left the catalog: a later return is news again
        if epss is not None and before.epss is not None and epss - before.epss >= epss_rise - 1e-12:
            out.append(_event("epss_rise", f"{key}:{epss:.5f}", f, {"epss_before": before.epss}))
            changes["epss"] = epss
        elif epss is not None and (before.epss is None or epss < before.epss):
            changes["epss"] = epss  # the lowest since the last event: rises are measured from there
        if outcome is not None and outcome != before.ssvc_outcome:
            if before.ssvc_outcome is not None:
                out.append(
                    _event(
                        "ssvc_change",
                        f"{key}:{before.ssvc_outcome}>{outcome}:{today}",
                        f,
                        {"ssvc_outcome_before": before.ssvc_outcome},
                    )
                )
            changes["ssvc_outcome"] = outcome
        if changes:
            conn.execute(update(s).where(s.c.key == key).values(**changes))
    if inserts:
        conn.execute(s.insert(), inserts)
    return out


def _sbom_score(data: bytes) -> int:
    from pathlib import Path

    from mamori.portfolio.archive import parse_sbom
    from mamori.sbom.check import check_document

    fmt, doc = parse_sbom(data, Path("sbom"))
    return int(check_document(doc, fmt=fmt).ntia.score)


def _quality_events(conn: Connection) -> list[dict[str, Any]]:
    """A release whose current SBOM scores lower than the current SBOM of the product's previous release."""
    import zlib

    from mamori.errors import MamoriError
    from mamori.portfolio import tables as pt

    r, p, sb = pt.ReleaseRow.__table__, pt.ProductRow.__table__, pt.SbomRow.__table__
    sc = t.SbomScoreRow.__table__
    scores = dict(conn.execute(select(sc.c.sbom_id, sc.c.score)).all())
    rows = conn.execute(
        select(r.c.id, r.c.version, r.c.current_sbom_id, p.c.name.label("product"))
        .join(p, p.c.id == r.c.product_id)
        .where(r.c.current_sbom_id.is_not(None))
        .order_by(p.c.name, r.c.id)
    ).all()
    for row in rows:
        if row.current_sbom_id in scores:
            continue
        content = conn.scalar(select(sb.c.content).where(sb.c.id == row.current_sbom_id))
        try:
            score = _sbom_score(zlib.decompress(content))
        except (MamoriError, zlib.error, ValueError):
            continue  # an SBOM that no longer parses has no score: no comparison
        scores[row.current_sbom_id] = score
        conn.execute(sc.insert().values(sbom_id=row.current_sbom_id, score=score))
    out: list[dict[str, Any]] = []
    previous: Any = None
    for row in rows:
        if previous is not None and previous.product == row.product:
            before, now = scores.get(previous.current_sbom_id), scores.get(row.current_sbom_id)
            if before is not None and now is not None and now < before:
                out.append(
                    _event(
                        "sbom_quality_drop",
                        f"{row.current_sbom_id}:{previous.current_sbom_id}",
                        None,
                        {"previous_release": previous.version, "score_before": before, "score": now},
                        product=row.product,
                        release=row.version,
                    )
                )
        previous = row
    return out


def default_policy() -> Any:
    """The notification gate when none is given: ``data/notify/policy.yaml`` (triage-policy schema)."""
    from mamori.packaged import load_yaml
    from mamori.triage.policy import parse_policy

    return parse_policy(load_yaml("data", "notify", "policy.yaml"), "mamori/data/notify/policy.yaml")


def _policy_events(conn: Connection, found: list[dict[str, Any]], policy: Any) -> list[dict[str, Any]]:
    """A finding that fires a ``fail`` rule of ``policy``: one event per (finding, rule). A violation
    whose event is recorded already is not rendered again (it would be dropped as known)."""
    from mamori.triage.policy import PolicyFinding, evaluate

    by_key: dict[str, dict[str, Any]] = {}
    for f in found:
        by_key.setdefault(_finding_key(f), f)
    keys = list(by_key)
    subjects = [
        PolicyFinding(
            vulnerability=by_key[k]["vulnerability"]["id"],
            component=k,  # the finding's key: the violation is traced back to its finding
            rating=by_key[k]["vulnerability"]["rating"] or "unknown",
            kev=bool(by_key[k]["vulnerability"]["kev"]),
            epss=by_key[k].get("epss"),
            ssvc=(by_key[k].get("ssvc") or {}).get("outcome"),
            priority=by_key[k].get("priority"),
            vex_status=by_key[k]["status"] if by_key[k]["status"] not in ("open", "resolved") else None,
        )
        for k in keys
    ]
    violations, _notices = evaluate(policy, subjects)
    failing = [v for v in violations if v.action == "fail"]
    known = _known(conn, [f"policy_violation:{v.component}:{v.rule}"[:400] for v in failing])
    out = []
    for v in failing:
        if f"policy_violation:{v.component}:{v.rule}"[:400] in known:
            continue
        f = by_key[v.component]
        extra = {
            "rule": v.rule,
            "reasons": list(v.reasons),
            "reasons_ja": list(v.reasons_ja),
            "policy": Path(policy.path).name,
        }
        out.append(_event("policy_violation", f"{v.component}:{v.rule}", f, extra))
    return out


def _supplier_events(conn: Connection) -> list[dict[str, Any]]:
    """A VEX document imported for a release: one event per (release, document, newest statement time)."""
    from sqlalchemy import func

    from mamori.triage.record_tables import TriageRecordRow

    r = TriageRecordRow.__table__
    rows = conn.execute(
        select(
            r.c.product,
            r.c.release,
            r.c.source,
            func.max(r.c.who).label("author"),
            func.max(r.c.at).label("latest"),
            func.count().label("records"),
        )
        .where(r.c.origin == "vex")
        .group_by(r.c.product, r.c.release, r.c.source)
        .order_by(r.c.product, r.c.release, r.c.source)
    ).all()
    statuses: dict[tuple[str, str, str | None], dict[str, int]] = {}
    for row in conn.execute(
        select(r.c.product, r.c.release, r.c.source, r.c.status, func.count().label("n"))
        .where(r.c.origin == "vex")
        .group_by(r.c.product, r.c.release, r.c.source, r.c.status)
    ):
        statuses.setdefault((row.product, row.release, row.source), {})[row.status] = int(row.n)
    out = []
    for row in rows:
        source = row.source or ""
        digest = hashlib.sha1(source.encode("utf-8")).hexdigest()[:16]
        extra = {
            "source": source[:500],
            "author": (row.author or "")[:200],
            "latest": row.latest,
            "records": int(row.records),
            "statuses": statuses.get((row.product, row.release, row.source), {}),
        }
        key = f"{row.product}\x1f{row.release}\x1f{digest}\x1f{row.latest}"
        out.append(
            _event(
                "supplier_document",
                hashlib.sha1(key.encode("utf-8")).hexdigest(),
                None,
                extra,
                product=row.product,
                release=row.release,
            )
        )
    return out


def _review_events(conn: Connection, today: date, days: int) -> list[dict[str, Any]]:
    """A self-assessment whose label validity ends, or whose declared next review falls, within ``days``
    days from ``today`` (or has passed): once per assessment, what and date."""
    from mamori.accounts.assessment_owner import AssessmentOwnerRow
    from mamori.compliance.records import AssessmentRow
    from mamori.portfolio.tables import ProductRow

    a, o, p = AssessmentRow.__table__, AssessmentOwnerRow.__table__, ProductRow.__table__
    rows = conn.execute(
        select(
            a.c.id,
            a.c.framework,
            a.c.organization,
            a.c.scope,
            a.c.valid_until,
            o.c.team_id,
            o.c.declaration,
            p.c.name.label("product"),
        )
        .outerjoin(o, o.c.assessment_id == a.c.id)
        .outerjoin(p, p.c.id == o.c.product_id)
        .order_by(a.c.id)
    ).all()
    out = []
    for row in rows:
        dates: list[tuple[str, str]] = []
        if row.valid_until:
            dates.append(("valid_until", str(row.valid_until)))
        declaration = row.declaration if isinstance(row.declaration, dict) else None
        review = (declaration or {}).get("review") if declaration else None
        if isinstance(review, dict) and isinstance(review.get("next"), str):
            dates.append(("review", review["next"]))
        for what, when in dates:
            try:
                due = date.fromisoformat(when[:10])
            except ValueError:
                continue  # not a date: nothing to announce
            left = (due - today).days
            if left > days:
                continue
            extra = {
                "assessment": row.id,
                "framework": row.framework,
                "organization": (row.organization or "")[:500],
                "scope": (row.scope or "")[:500],
                "due": due.isoformat(),
                "what": what,
                "days_left": left,
                "team_id": row.team_id,
            }
            out.append(
                _event("review_due", f"{row.id}:{what}:{due.isoformat()}", None, extra, product=row.product)
            )
    return out


def wants(sub: Subscription, event: dict[str, Any] | Event, team_products: set[str]) -> bool:
    """Whether ``sub`` keeps ``event``: the event's product is one of the team's (and of the
    subscription's products when it names some), its kind is one the subscription asks for, and its
    severity, SSVC outcome and KEV pass the filters (events without a vulnerability pass severity and
    SSVC filters, not ``kev_only``)."""
    get = event.get if isinstance(event, dict) else lambda k: getattr(event, k)
    product = get("product")
    kind = get("kind")
    if kind == "review_due" and product is None:
        # an assessment of the whole team (no product): the team's subscriptions without a product filter
        payload = get("payload")
        payload = json.loads(payload) if isinstance(payload, str) else payload
        if payload.get("team_id") != sub.team_id or sub.products is not None:
            return False
    else:
        if product not in team_products:
            return False
        if sub.products is not None and product not in sub.products:
            return False
    if kind not in (sub.events if sub.events is not None else DEFAULT_KINDS):
        return False
    if sub.kev_only and not get("kev"):
        return False
    if get("vuln_id") is not None:
        if sub.min_severity is not None:
            rank = SEVERITY_RANK.get(get("severity") or "", -1)
            if rank < SEVERITY_RANK[sub.min_severity]:
                return False
        if sub.ssvc_outcomes is not None and get("ssvc_outcome") not in sub.ssvc_outcomes:
            return False
    return True


def next_digest(at: datetime, hour: int = DIGEST_HOUR) -> datetime:
    """The next digest time after ``at`` (``hour`` o'clock UTC)."""
    at = at.astimezone(UTC)
    due = at.replace(hour=hour, minute=0, second=0, microsecond=0)
    return due if due > at else due + timedelta(days=1)


def team_products(conn: Connection) -> dict[int, set[str]]:
    from mamori.accounts.tables import TeamProductRow
    from mamori.portfolio.tables import ProductRow

    tp, p = TeamProductRow.__table__, ProductRow.__table__
    out: dict[int, set[str]] = {}
    for team_id, name in conn.execute(select(tp.c.team_id, p.c.name).join(p, p.c.id == tp.c.product_id)):
        out.setdefault(team_id, set()).add(name)
    return out


def fan_out(conn: Connection, events: Sequence[Event], subs: Iterable[Subscription], now: datetime) -> int:
    """A pending delivery of each event to each subscription that keeps it; returns how many."""
    from mamori.accounts.core import now_iso

    d = t.DeliveryRow.__table__
    owned = team_products(conn)
    rows = []
    at = now_iso(now)
    digest_at = now_iso(next_digest(now))
    for sub in subs:
        for event in events:
            if wants(sub, event, owned.get(sub.team_id, set())):
                rows.append(
                    {
                        "subscription_id": sub.id,
                        "event_id": event.id,
                        "state": "pending",
                        "attempts": 0,
                        "next_at": digest_at if sub.mode == "digest" else at,
                        "sent_at": None,
                        "created_at": at,
                    }
                )
    if not rows:
        return 0
    existing = set(
        conn.execute(
            select(d.c.subscription_id, d.c.event_id).where(d.c.event_id.in_([e.id for e in events]))
        ).all()
    )
    rows = [r for r in rows if (r["subscription_id"], r["event_id"]) not in existing]
    if rows:
        conn.execute(d.insert(), rows)
    return len(rows)


@dataclass(frozen=True, slots=True)
class Computed:
    events: list[Event]
    deliveries: int


def compute_events(
    store: Store,
    *,
    epss_rise: float = EPSS_RISE,
    role: str = "supplier",
    baseline: bool = False,
    now: datetime | None = None,
    policy: Any = None,
    review_days: int = REVIEW_DAYS,
    full: bool = False,
) -> Computed:
    """Record the events the store's current state gives (see the module's text) and queue a delivery of
    each new one to every subscription that keeps it (none when ``baseline``). ``role``: the SSVC tree
    the outcomes come from (``supplier``: a developer's patch priority; ``user``: a deployer's).
    ``policy``: a :class:`mamori.triage.policy.Policy` whose ``fail`` rules make ``policy_violation``
    events (default: :func:`default_policy`); ``review_days``: how far ahead ``review_due`` looks;
    ``full``: decide every open finding even when the store-wide state is unchanged (see the module's
    text: the events are the same)."""
    from sqlalchemy.exc import IntegrityError

    from mamori.accounts.core import _write, now_iso
    from mamori.portfolio.views import finding_inputs

    now = now or datetime.now(UTC)
    policy = policy if policy is not None else default_policy()
    with store.engine.connect() as conn:  # first: a change noted after this is left for the next run
        noted = _noted_changes(conn)
    state = _store_state(store, role, epss_rise, policy)
    with store.engine.connect() as conn:
        inputs = finding_inputs(conn)
        last_state, last_inputs = _last_seen(conn)
        if full or last_state != state or EVERYTHING in noted:  # everything: a snapshot replaced the records
            changed = None
        else:
            changed = {k for k, d in inputs.items() if last_inputs.get(k) != d}
            changed |= _changed_pairs(conn, set(noted))
    before: dict[tuple[int, int], str] | None = last_inputs  # only what differs is written
    if changed is None:
        found = _open_findings(store, role)
    else:
        found = _open_findings(store, role, changed) if changed else []
    subs = [] if baseline else list_subscriptions(store)

    e = t.EventRow.__table__
    events: list[Event] = []
    deliveries = 0
    for attempt in range(3):
        try:
            with _write(store) as conn:
                rows = _finding_events(conn, found, epss_rise, now.strftime("%Y-%m-%d"))
                rows += _quality_events(conn)
                rows += _policy_events(conn, found, policy)
                rows += _supplier_events(conn)
                rows += _review_events(conn, now.date(), review_days)
                known = _known(conn, [r["key"] for r in rows])
                fresh = [{**r, "created_at": now_iso(now)} for r in rows if r["key"] not in known]
                fresh = list({r["key"]: r for r in fresh}.values())
                events = []
                if fresh:
                    conn.execute(e.insert(), fresh)
                    new_keys = [r["key"] for r in fresh]
                    for i in range(0, len(new_keys), 500):
                        events.extend(
                            event_of(row)
                            for row in conn.execute(select(e).where(e.c.key.in_(new_keys[i : i + 500])))
                        )
                    events.sort(key=lambda ev: ev.id)
                deliveries = 0
                if events and not baseline:
                    deliveries = fan_out(conn, events, subs, now)
                _record_seen(conn, state, inputs, None if attempt else before)
                _take_noted(conn, noted)
            break
        except IntegrityError:
            # another computation recorded the same state or events first: once more, from what it wrote
            if attempt == 2:
                raise
    return Computed(events, deliveries)


def record_events(store: Store, rows: Sequence[dict[str, Any]], *, now: datetime | None = None) -> Computed:
    """Record events computed elsewhere (each a dict with ``key``, ``kind``, ``product``, ``release``,
    ``vuln_id``, ``severity``, ``ssvc_outcome``, ``kev`` and a JSON-able ``payload``) once each, by key, and
    queue a delivery of each new one to every subscription that keeps it."""
    from sqlalchemy.exc import IntegrityError

    from mamori.accounts.core import _write, now_iso

    now = now or datetime.now(UTC)
    subs = list_subscriptions(store)
    e = t.EventRow.__table__
    prepared = [
        {
            "key": f"{r['kind']}:{r['key']}"[:400],
            "kind": r["kind"],
            "product": r.get("product"),
            "release": r.get("release"),
            "vuln_id": r.get("vuln_id"),
            "severity": r.get("severity"),
            "ssvc_outcome": r.get("ssvc_outcome"),
            "kev": bool(r.get("kev")),
            "payload": json.dumps(r.get("payload") or {}, ensure_ascii=False, sort_keys=True),
            "created_at": now_iso(now),
        }
        for r in rows
    ]
    prepared = list({r["key"]: r for r in prepared}.values())
    events: list[Event] = []
    deliveries = 0
    for attempt in range(3):
        try:
            with _write(store) as conn:
                keys = [r["key"] for r in prepared]
                known: set[str] = set()
                for i in range(0, len(keys), 500):
                    known.update(conn.scalars(select(e.c.key).where(e.c.key.in_(keys[i : i + 500]))))
                fresh = [r for r in prepared if r["key"] not in known]
                events = []
                if fresh:
                    conn.execute(e.insert(), fresh)
                    new_keys = [r["key"] for r in fresh]
                    for i in range(0, len(new_keys), 500):
                        events.extend(
                            event_of(row)
                            for row in conn.execute(select(e).where(e.c.key.in_(new_keys[i : i + 500])))
                        )
                    events.sort(key=lambda ev: ev.id)
                deliveries = fan_out(conn, events, subs, now) if events else 0
            break
        except IntegrityError:
            if attempt == 2:
                raise
    return Computed(events, deliveries)

"""The portfolio dashboard's counts: every product's releases with their open findings, and the latest
release's open findings by rating, KEV membership and SSVC class.

The database counts (:func:`mamori.portfolio.views.open_counts`, :func:`mamori.portfolio.views.open_classes`),
less the findings a triage record took out of the gate. In a product without a stored context a finding's
SSVC outcome rests on its vulnerability alone, so each vulnerability of those latest releases
(:func:`mamori.portfolio.views.open_vulnerabilities`) is decided once and remembered
(:func:`mamori.portfolio.ssvc_view.outcomes`), and the immediate and out-of-cycle ones go to the database
as IN lists. The counts are those of every product (whoever asks: the caller keeps the products it may
show), kept in the process and in the store until the next re-match run or KEV change
(:func:`mamori.portfolio.views.findings_memo`, :func:`mamori.portfolio.views.save_memo`): a re-match run's
or an upload's end counts them (:func:`remember`), so that a server's first dashboard reads them. The
latest release of a product with a context has its findings read and decided one by one, as its release
page does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from mamori.store import Store


@dataclass
class LatestCounts:
    """What the dashboard shows of every product (by id)."""

    releases: dict[int, list[tuple[int, str]]] = field(
        default_factory=dict
    )  # (release id, version), oldest first
    counts: dict[int, int] = field(default_factory=dict)  # release id → open affected findings
    outside: dict[int, set[int]] = field(default_factory=dict)  # release id → match ids out of the gate
    # product id → (rating, in KEV, SSVC class) → open findings in the gate of its latest release
    tally: dict[int, dict[tuple[str | None, bool, str], int]] = field(default_factory=dict)

    def latest(self, product_id: int) -> tuple[int, str] | None:
        rows = self.releases.get(product_id)
        return rows[-1] if rows else None


def latest_counts(store: Store, products: dict[int, str] | None = None, lang: str = "en") -> LatestCounts:
    """The counts of ``products`` (id → name; None: every product). The store-wide counts are those of
    every product whichever are asked for, so that every caller shares them."""
    from mamori.portfolio import views
    from mamori.portfolio.context import contexts
    from mamori.portfolio.ssvc_view import add_ssvc, outcomes
    from mamori.portfolio.tables import ProductRow, ReleaseRow

    p, r = ProductRow.__table__, ReleaseRow.__table__
    out = LatestCounts()
    with_context = {name for name, values in contexts(store).items() if values}
    with store.engine.connect() as conn:
        names = dict(conn.execute(select(p.c.id, p.c.name)).all())
        for row in conn.execute(select(r.c.id, r.c.product_id, r.c.version).order_by(r.c.id)):
            out.releases.setdefault(row.product_id, []).append((row.id, row.version))
        memo = views.findings_memo(store, conn)  # kept until the next re-match run or KEV change
        out.counts = views.open_counts(conn, None, memo)
        out.outside = views.out_of_gate(conn)
        latest = {pid: rows[-1] for pid, rows in out.releases.items() if pid in names}
        plain = {rid: pid for pid, (rid, _v) in latest.items() if names[pid] not in with_context}
        pairs = views.open_vulnerabilities(conn, plain, memo)
    decided = outcomes(store, {vid for vid, _a in pairs}, role="user", lang=lang)
    classes: dict[str, list[str]] = {"immediate": [], "out_of_cycle": []}
    for vid, outcome in decided.items():
        classes.get(outcome.replace("-", "_").lower(), []).append(vid)
    with store.engine.connect() as conn:
        groups = views.open_classes(conn, plain, pairs, classes, out.outside, memo)
    views.save_memo(store)
    wanted = set(names) if products is None else set(products)
    for rid, rating, kev, kind, n in groups:
        if plain[rid] in wanted:
            mine = out.tally.setdefault(plain[rid], {})
            mine[(rating, kev, kind)] = mine.get((rating, kev, kind), 0) + n
    by_id = {rid: pid for pid, (rid, _v) in latest.items() if rid not in plain and pid in wanted}
    found = [f for f in views.release_findings(store, by_id, lang) if f["in_gate"]]
    if found:
        add_ssvc(store, found, role="user", lang=lang)
    product_ids = {name: pid for pid, name in names.items()}
    for f in found:
        key = (
            f["vulnerability"]["rating"],
            f["vulnerability"]["kev"],
            (f.get("ssvc") or {}).get("outcome", "").replace("-", "_").lower(),
        )
        mine = out.tally.setdefault(product_ids[f["product"]], {})
        mine[key] = mine.get(key, 0) + 1
    if products is not None:
        out.releases = {pid: rows for pid, rows in out.releases.items() if pid in wanted}
    return out


def remember(store: Store) -> dict[str, Any]:
    """After findings changed (a re-match run's end, an upload processed): the dashboard's counts and the
    findings lists' KEV decision made and stored, so that a server just started reads them instead of
    counting on its first request."""
    from mamori.portfolio import views

    views.findings_keyset(store, limit=1)  # the findings lists' KEV decision, stored with the counts
    counted = latest_counts(store)
    return {"dashboard_products": len(counted.releases)}


def dashboard_kept(store: Store) -> bool:
    """Whether a dashboard's counts were ever stored for this store (a server showed one, or a worker's or
    the server's re-match or an upload stored them): the command line's re-match then stores them afresh
    (:func:`remember_after_change`), and a store only the command line uses is spared that work (about
    1.7 s after a re-match of 2,000 releases × 200 components on SQLite)."""
    from sqlalchemy.exc import SQLAlchemyError

    from mamori.portfolio.tables import MemoRow

    mt = MemoRow.__table__
    try:
        with store.engine.connect() as conn:
            return conn.scalar(select(mt.c.name).limit(1)) is not None
    except SQLAlchemyError:  # a store without the table
        return False


def remember_after_change(store: Store) -> dict[str, Any]:
    """What every path that changes findings does at its end (a re-match run of the command line, of the
    server or of a worker; an upload processed): the SSVC outcome of every vulnerability of the open
    findings decided and stored (:func:`mamori.portfolio.ssvc_view.remember_outcomes`), then the
    dashboard's counts made and stored (:func:`remember`), so that the next dashboard, in any process,
    reads them instead of deciding and counting on its first request."""
    from mamori.portfolio.ssvc_view import remember_outcomes

    return {"ssvc_outcomes": remember_outcomes(store)} | remember(store)

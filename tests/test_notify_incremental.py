"""compute_events decides SSVC once per (vulnerability, product context) and renders only violations not
recorded yet: the events must be exactly those of the previous computation (SSVC decided for every
finding, every violation rendered), on a demo portfolio with changes between two computations (new
findings, KEV added, EPSS rise, SSVC change, a product with a stored context) on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kb_support import throwaway_databases
from mamori.notify import compute_events
from mamori.notify import events as ev
from mamori.store import Store
from notify_support import demo_store

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


def _epss(path: Path, day: str, log4j: str, text4shell: str) -> Path:
    path.write_text(
        f"#model_version:v2025.03.14,score_date:{day}T00:00:00+0000\ncve,epss,percentile\n"
        f"CVE-2021-45046,{log4j},0.90000\nCVE-2022-42889,{text4shell},0.80000\n",
        encoding="utf-8",
    )
    return path


def _portfolio(tmp: Path, db: str | None, shared: Path) -> tuple[Store, list[list[dict[str, Any]]]]:
    """The demo store and a second product with the same SBOM and a stored context; a baseline, then the
    changes, computed with whatever compute_events is in place; returns every computation's events."""
    from mamori.demo import DEMO_SBOM, demo_data
    from mamori.portfolio import add_product, match_release, store_sbom
    from mamori.portfolio.context import set_context
    from mamori.vulndb import import_path

    tmp.mkdir()
    store = demo_store(tmp, db=db)
    add_product(store, "kiosk", "ACME")
    stored = store_sbom(store, "kiosk", "1.0", demo_data() / DEMO_SBOM, who="tester")
    match_release(store, stored.sbom_id, stored.previous_sbom_id)
    set_context(store, "kiosk", {"value_density": "concentrated"}, reason="test", who="tester")
    import_path(store, _epss(tmp / "epss-1.csv", "2026-12-06", "0.01000", "0.02000"))
    runs = [compute_events(store, baseline=True, now=NOW)]
    # changes: KEV (the real catalog: log4j's CVE-2021-45046 added, its SSVC outcome changes), EPSS rises,
    # a new product without a context (new findings), the stored context changed (SSVC changes)
    import_path(store, shared / "kev" / "known_exploited_vulnerabilities.json")
    import_path(store, _epss(tmp / "epss-2.csv", "2026-12-07", "0.60000", "0.45000"))
    add_product(store, "till", "ACME")
    stored = store_sbom(store, "till", "3.0", demo_data() / DEMO_SBOM, who="tester")
    match_release(store, stored.sbom_id, stored.previous_sbom_id)
    set_context(store, "kiosk", {"value_density": "diffuse"}, reason="test", who="tester")
    runs.append(compute_events(store, now=NOW))
    runs.append(compute_events(store, now=NOW))  # nothing changed: nothing new
    return store, [[_comparable(e) for e in r.events] for r in runs]


def _comparable(e: ev.Event) -> dict[str, Any]:
    """The event as recorded, but for the time its finding was first seen (the wall clock of the match)."""
    out = {**e.as_dict(), "key": e.key}
    out["detail"] = {k: v for k, v in e.payload.items() if k != "first_seen"}
    return out


def _previous(monkeypatch: pytest.MonkeyPatch) -> None:
    """The previous computation: the SSVC view decides every finding; every violation is rendered."""
    from mamori.portfolio.ssvc_view import add_ssvc

    real_policy, real_known = ev._policy_events, ev._known

    def every_violation(conn: Any, found: list[dict[str, Any]], policy: Any) -> list[dict[str, Any]]:
        monkeypatch.setattr(ev, "_known", lambda conn, keys: set())
        try:
            return real_policy(conn, found, policy)
        finally:
            monkeypatch.setattr(ev, "_known", real_known)

    monkeypatch.setattr(ev, "_add_ssvc_once", lambda store, found, role: add_ssvc(store, found, role=role))
    monkeypatch.setattr(ev, "_policy_events", every_violation)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_same_events_as_the_previous_computation(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    with ExitStack() as stack:
        dbs = throwaway_databases(stack, backend, "mamori_notify_inc", 2)
        _store, new = _portfolio(tmp_path / "new", dbs[0], shared_data)
        with monkeypatch.context() as m:
            _previous(m)
            _store, old = _portfolio(tmp_path / "old", dbs[1], shared_data)
    assert new == old
    baseline, changed, again = new
    assert baseline and again == []
    kinds = {(e["kind"], e["product"], e["vulnerability"]) for e in changed}
    assert ("kev_added", "shop", "CVE-2021-45046") in kinds
    assert ("kev_added", "kiosk", "CVE-2021-45046") in kinds
    assert ("epss_rise", "shop", "CVE-2022-42889") in kinds
    assert ("new_finding", "till", "CVE-2021-44228") in kinds
    assert ("policy_violation", "till", "CVE-2021-44228") in kinds
    # an SSVC change from KEV (both products) and one from the stored context alone (kiosk only)
    changes = {(e["product"], e["vulnerability"]) for e in changed if e["kind"] == "ssvc_change"}
    assert {("shop", "CVE-2021-45046"), ("kiosk", "CVE-2021-45046"), ("kiosk", "CVE-2020-8203")} <= changes
    assert ("shop", "CVE-2020-8203") not in changes


def _shop_revision(tmp: Path) -> Path:
    """The demo SBOM with log4j-core upgraded to 2.15.0 (CVE-2021-44228 fixed, CVE-2021-45046 not) and
    lodash to 4.17.21: a re-match changes a few findings."""
    import json

    from mamori.demo import DEMO_SBOM, demo_data

    doc = json.loads((demo_data() / DEMO_SBOM).read_text(encoding="utf-8"))
    for c in doc["components"]:
        if c["name"] in ("log4j-core", "lodash"):
            new = "2.15.0" if c["name"] == "log4j-core" else "4.17.21"
            c["purl"] = c["purl"].replace(c["version"], new)
            c["version"] = new
    path = tmp / "shop-2.1.1.cdx.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


OSV_PACKAGES = ("django", "requests", "urllib3", "pyyaml")  # real PyPI records of the demo SBOM's packages


def _changes(tmp: Path, db: str | None, shared: Path, full: bool) -> tuple[list[Any], list[Any], list[int]]:
    """A baseline; a new release of shop whose re-match changes a few findings and a new product (no
    import: the store-wide state is unchanged, the computation is incremental unless ``full``); then,
    each followed by a computation, imports of the real KEV catalogue, of EPSS scores (rises) and of the
    real OSV records of four PyPI packages of the demo SBOM (merged into the demo's records), a re-match
    of what the OSV import changed, and a changed product context (the store-wide state changed: every
    finding). Every computation's events, the recorded finding state, and how many findings each
    computation decided."""
    from mamori.demo import DEMO_SBOM, demo_data
    from mamori.portfolio import add_product, match_release, store_sbom
    from mamori.portfolio.context import set_context
    from mamori.portfolio.rematch import rematch
    from mamori.vulndb import import_path

    tmp.mkdir()
    store = demo_store(tmp, db=db)
    add_product(store, "kiosk", "ACME")
    stored = store_sbom(store, "kiosk", "1.0", demo_data() / DEMO_SBOM, who="tester")
    match_release(store, stored.sbom_id, stored.previous_sbom_id)
    set_context(store, "kiosk", {"value_density": "concentrated"}, reason="test", who="tester")
    import_path(store, _epss(tmp / "epss-1.csv", "2026-12-06", "0.01000", "0.02000"))
    decided: list[int] = []
    real = ev._open_findings

    def counting(store: Store, role: str, pairs: Any = None) -> list[dict[str, Any]]:
        out = real(store, role, pairs)
        decided[-1] = len(out)
        return out

    runs: list[Any] = []

    def compute(**kwargs: Any) -> None:
        decided.append(0)  # none when no finding is read at all
        runs.append(compute_events(store, now=NOW, full=full, **kwargs))

    ev._open_findings = counting  # type: ignore[assignment]
    try:
        compute(baseline=True)
        stored = store_sbom(store, "shop", "2.1.1", _shop_revision(tmp), who="tester")
        match_release(store, stored.sbom_id, stored.previous_sbom_id)
        add_product(store, "till", "ACME")
        stored = store_sbom(store, "till", "3.0", demo_data() / DEMO_SBOM, who="tester")
        match_release(store, stored.sbom_id, stored.previous_sbom_id)
        compute()
        compute()  # nothing changed
        import_path(store, shared / "kev" / "known_exploited_vulnerabilities.json")
        compute()
        import_path(store, _epss(tmp / "epss-2.csv", "2026-12-07", "0.60000", "0.45000"))
        compute()
        for name in OSV_PACKAGES:
            import_path(store, shared / "osv" / "pypi" / name)
        compute()
        rematch(store, changed_only=True)
        compute()
        set_context(store, "kiosk", {"value_density": "diffuse"}, reason="test", who="tester")
        compute()
        compute()
    finally:
        ev._open_findings = real  # type: ignore[assignment]
    from sqlalchemy import select

    from mamori.notify import tables as nt

    s = nt.FindingStateRow.__table__
    with store.engine.connect() as conn:
        state = sorted(tuple(r) for r in conn.execute(select(s.c.key, s.c.kev, s.c.epss, s.c.ssvc_outcome)))
    events = [sorted((_comparable(e) for e in r.events), key=lambda e: e["key"]) for r in runs]
    return events, state, decided


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_incremental_equals_full_after_a_rematch_and_an_import(
    tmp_path: Path, shared_data: Path, backend: str
) -> None:
    with ExitStack() as stack:
        dbs: list[str | None] = [None, None]
        if backend == "postgresql":
            url = os.environ.get("MAMORI_TEST_PG_URL")
            if not url:
                pytest.skip("MAMORI_TEST_PG_URL not set")
            from mamori.store.throwaway import throwaway_postgres

            dbs = [
                stack.enter_context(throwaway_postgres(url, prefix="mamori_notify_full")) for _ in range(2)
            ]
        inc, inc_state, inc_decided = _changes(tmp_path / "inc", dbs[0], shared_data, full=False)
        full, full_state, full_decided = _changes(tmp_path / "full", dbs[1], shared_data, full=True)
    assert inc == full and inc_state == full_state
    baseline, rematched, unchanged, kev, epss, _osv, osv_matched, context, again = inc
    assert baseline and unchanged == [] and again == []
    kinds = {(e["kind"], e["product"], e["release"], e["vulnerability"]) for e in rematched}
    assert ("new_finding", "till", "3.0", "CVE-2021-44228") in kinds
    assert ("new_finding", "shop", "2.1.1", "CVE-2021-45046") in kinds
    assert not any(k[2] == "2.1.1" and k[3] == "CVE-2021-44228" for k in kinds)  # fixed in 2.15.0
    assert {"kev_added", "ssvc_change"} <= {e["kind"] for e in kev}
    assert {("epss_rise", "CVE-2022-42889")} <= {(e["kind"], e["vulnerability"]) for e in epss}
    assert "new_finding" in {e["kind"] for e in osv_matched}
    assert "ssvc_change" in {e["kind"] for e in context}
    # full: every open finding each time; incremental: the new release's and product's findings, none
    # when nothing changed, after an import only the findings of the vulnerabilities it changed, then the
    # re-match's new findings, every one after the product context changed
    assert inc_decided[0] == full_decided[0] and inc_decided[7] == full_decided[7]
    assert inc_decided[2] == 0 and inc_decided[8] == 0
    for step in (1, 3, 4, 5, 6):
        assert 0 < inc_decided[step] < full_decided[step], (step, inc_decided, full_decided)


def test_an_import_notes_what_it_changed(tmp_path: Path, shared_data: Path) -> None:
    """The merged vulnerabilities an OSV import rebuilt, the CVE ids whose KEV entry or EPSS score is new
    or changed; importing the same again notes nothing."""
    from sqlalchemy import delete, select

    from mamori.store.schema import KnowledgeChange
    from mamori.vulndb import import_path

    store = demo_store(tmp_path)
    kc = KnowledgeChange.__table__

    def noted() -> set[str]:
        with store.engine.begin() as conn:
            keys = set(conn.scalars(select(kc.c.key)))
            conn.execute(delete(kc))
        return keys

    noted()
    epss = _epss(tmp_path / "epss.csv", "2026-12-06", "0.01000", "0.02000")
    import_path(store, epss)
    assert noted() == {"CVE-2021-45046", "CVE-2022-42889"}
    import_path(store, _epss(tmp_path / "epss-same.csv", "2026-12-07", "0.01000", "0.02000"))
    assert noted() == set()  # a new date, the same scores
    import_path(store, _epss(tmp_path / "epss-2.csv", "2026-12-07", "0.01000", "0.30000"))
    assert noted() == {"CVE-2022-42889"}
    import_path(store, shared_data / "kev" / "known_exploited_vulnerabilities.json")
    kev = noted()
    assert "CVE-2021-45046" in kev and all(k.startswith("CVE-") for k in kev)
    import_path(store, shared_data / "kev" / "known_exploited_vulnerabilities.json")
    assert noted() == set()
    import_path(store, shared_data / "osv" / "pypi" / "django" / "PYSEC-2022-213.yaml")
    osv = noted()
    assert "PYSEC-2022-213" in osv or "CVE-2022-34265" in osv
    import_path(store, shared_data / "osv" / "pypi" / "django" / "PYSEC-2022-213.yaml")
    assert noted() == set()


def test_a_snapshot_import_decides_every_finding_again(tmp_path: Path) -> None:
    """A snapshot replaces every record without going through an import's notes: it notes everything,
    and the next computation decides every open finding."""
    from mamori.store.snapshot import export_snapshot, import_snapshot

    store = demo_store(tmp_path)
    compute_events(store, baseline=True, now=NOW)
    decided: list[int] = []
    real = ev._open_findings

    def counting(store: Store, role: str, pairs: Any = None) -> list[dict[str, Any]]:
        out = real(store, role, pairs)
        decided.append(len(out) if pairs is None else -len(out))  # negative: incremental
        return out

    export_snapshot(store, tmp_path / "kb.zip")
    import_snapshot(store, tmp_path / "kb.zip")
    ev._open_findings = counting  # type: ignore[assignment]
    try:
        assert compute_events(store, now=NOW).events == []  # the same records: nothing new
        assert compute_events(store, now=NOW).events == []
    finally:
        ev._open_findings = real  # type: ignore[assignment]
    assert len(decided) == 1 and decided[0] > 0  # every finding once, then nothing to read

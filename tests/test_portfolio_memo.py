"""The dashboard's counts are stored when findings change (a re-match run's end, an upload processed): a
process that has counted nothing (a server just started) reads them instead of counting every open
finding, shows what a fresh count shows, ignores a stored value that is not what it wrote, and counts
again once the store changed (a re-match run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kb_support import throwaway_databases
from mamori.portfolio import dashboard, ssvc_view, views
from notify_support import demo_store


def _forget() -> None:
    views._MEMOS.clear()
    with ssvc_view._DECIDED_LOCK:
        ssvc_view._DECIDED.clear()


def _stored_names(store: Any) -> dict[str, str]:
    from sqlalchemy import select

    from mamori.portfolio.tables import MemoRow

    mt = MemoRow.__table__
    with store.engine.connect() as conn:
        return dict(conn.execute(select(mt.c.name, mt.c.state)).all())


def _plain(counted: dashboard.LatestCounts) -> Any:
    return (counted.releases, counted.counts, counted.outside, counted.tally)


def test_counts_stored_at_a_run_end_are_read_by_a_new_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mamori.jobs.dispatch import run_inline

    store = demo_store(tmp_path)
    _forget()
    monkeypatch.setattr(views, "save_memo", lambda store: 0)
    fresh = _plain(dashboard.latest_counts(store))  # counted, nothing kept in the store
    monkeypatch.undo()
    assert fresh[3] and any(fresh[1].values())
    assert _stored_names(store) == {}
    _forget()
    result = run_inline(store, "rematch", {})  # a re-match run: its end stores the counts
    assert result["dashboard_products"] == len(fresh[0])
    names = _stored_names(store)
    assert {n.split(":")[0] for n in names} >= {"open_counts", "open_vulnerabilities", "open_classes", "kev"}
    assert len(set(names.values())) == 1  # one state: the run's
    _forget()
    counted: list[str] = []
    real = views._class_counter

    def counting(*args: Any) -> Any:
        counted.append("classes")
        return real(*args)

    monkeypatch.setattr(views, "_class_counter", counting)
    assert _plain(dashboard.latest_counts(store)) == fresh
    assert counted == []  # the classes read from the store, not counted
    # a stored value that is not what save_memo writes is ignored: counted again, the same
    from sqlalchemy import update

    from mamori.portfolio.tables import MemoRow

    mt = MemoRow.__table__
    with store.engine.begin() as conn:
        conn.execute(update(mt).values(value='{"not": "rows"}'))
    _forget()
    assert _plain(dashboard.latest_counts(store)) == fresh
    assert counted == ["classes"]
    # another run: a new state, the counts of the old one deleted when the new ones are written
    run_inline(store, "rematch", {})
    after = _stored_names(store)
    assert len(set(after.values())) == 1 and set(after.values()) != set(names.values())


def test_decode_refuses_what_it_did_not_write() -> None:
    key = ("open_classes", b"\x01" * 4)
    assert views._decode(key, '[[1, null, true, "immediate", 3]]') == {(1, None, True, "immediate"): 3}
    for bad in ("{}", "[[1, 2]]", '[[1, 5, true, "x", 3]]', '[["a", null, true, "x", 3]]', "not json"):
        assert views._decode(key, bad) is None
    assert views._decode("open_counts", "[[3, 4]]") == {3: 4}
    assert views._decode("open_counts", "[[3]]") is None
    assert views._decode("kev", '[["CVE-1"], [["CVE-2", "GHSA-x"]]]') == (["CVE-1"], [("CVE-2", "GHSA-x")])


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_an_upload_processed_in_the_server_stores_outcomes_and_counts(tmp_path: Path, backend: str) -> None:
    """Without a message broker the server processes uploads itself: after one is done, the SSVC outcomes
    of the open findings and the dashboard's counts are stored at the state the upload's run left, as a
    worker stores them after its upload job (on PostgreSQL on a thread of their own: the upload's future
    is done once they are)."""
    from contextlib import ExitStack

    from mamori.portfolio import uploads as up

    with ExitStack() as stack:
        (db,) = throwaway_databases(stack, backend, "mamori_memo_upload")
        store = stack.enter_context(demo_store(tmp_path, db=db))
        stack.callback(up.shutdown_workers, True)  # before the store closes and the database goes
        _upload_stores_outcomes_and_counts(store)


def _upload_stores_outcomes_and_counts(store: Any) -> None:
    from sqlalchemy import func, select

    from mamori.portfolio import original_bytes
    from mamori.portfolio import uploads as up
    from mamori.portfolio.tables import ProductRow, ReleaseRow, SsvcOutcomeRow

    _forget()
    before = _stored_names(store)
    p, r = ProductRow.__table__, ReleaseRow.__table__
    with store.engine.connect() as conn:
        product, version = conn.execute(
            select(p.c.name, r.c.version).join(r, r.c.product_id == p.c.id).order_by(r.c.id)
        ).first()
    data = original_bytes(store, product, version)  # an SBOM with findings, as a new product's release
    token = up.submit_upload(store, data, "a.json", "web", "1", True, "ci")
    status = up.start_processing(store, token).result(timeout=300)
    assert status is not None and status.state == "done" and status.open_findings
    after = _stored_names(store)
    assert {n.split(":")[0] for n in after} >= {"open_counts", "open_vulnerabilities", "open_classes"}
    assert set(after.values()) != set(before.values())  # the upload's run: a new state
    o = SsvcOutcomeRow.__table__
    with store.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(o).where(o.c.vuln_id.like("%"))) > 0
    _forget()
    fresh_counts = dashboard.latest_counts(store)
    web = [pid for pid, rows in fresh_counts.releases.items() if any(v == "1" for _r, v in rows)]
    assert web and sum(fresh_counts.tally.get(web[0], {}).values()) == status.open_findings


def _memo_values(store: Any) -> dict[str, str]:
    """The stored counts by kind (the state they were counted at left out: each store's own)."""
    from sqlalchemy import select

    from mamori.portfolio.tables import MemoRow

    mt = MemoRow.__table__
    with store.engine.connect() as conn:
        return {name.split(":")[0]: value for name, value in conn.execute(select(mt.c.name, mt.c.value))}


def _stored_outcomes(store: Any) -> dict[str, Any]:
    from sqlalchemy import select

    from mamori.portfolio.tables import SsvcOutcomeRow

    o = SsvcOutcomeRow.__table__
    with store.engine.connect() as conn:
        return {row.vuln_id: row.outcome for row in conn.execute(select(o.c.vuln_id, o.c.outcome))}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_command_line_rematch_leaves_the_dashboard_a_server_rematch_leaves(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`mamori portfolio rematch` ends as the server's re-match job ends: the SSVC outcomes and the
    dashboard's counts stored, so that a process that has counted nothing (a server just started) reads
    the same dashboard after either, without deciding or counting anything."""
    import json
    from contextlib import ExitStack

    from mamori.cli.main import main
    from mamori.demo import DEMO_SBOM, demo_data
    from mamori.jobs.dispatch import run_inline
    from mamori.portfolio import add_product, match_release, store_sbom
    from mamori.portfolio.context import set_context

    with ExitStack() as stack:
        dbs = throwaway_databases(stack, backend, "mamori_memo", 2)
        stores = []
        for i, db in enumerate(dbs):
            folder = tmp_path / f"side{i}"
            folder.mkdir()
            store = stack.enter_context(demo_store(folder, db=db))
            # a second product with a stored context: its latest release's findings are decided one by one
            add_product(store, "kiosk", "ACME")
            stored = store_sbom(store, "kiosk", "1.0", demo_data() / DEMO_SBOM, who="tester")
            match_release(store, stored.sbom_id, stored.previous_sbom_id)
            set_context(store, "kiosk", {"value_density": "concentrated"}, reason="test", who="tester")
            stores.append(store)
        cli_store, server_store = stores
        assert _stored_names(cli_store) == {} and _stored_outcomes(cli_store) == {}
        _forget()
        dashboard.latest_counts(cli_store)  # a team server has shown this store's dashboard once
        shown = _memo_values(cli_store)
        assert shown
        _forget()
        assert main(["portfolio", "rematch", "--format", "json", "--db", cli_store.url]) == 0
        assert json.loads(capsys.readouterr().out)["mode"] == "full"
        _forget()
        result = run_inline(server_store, "rematch", {})  # the server's re-match job, without a broker
        assert result["dashboard_products"] == 2 and result["ssvc_outcomes"]
        assert _stored_outcomes(cli_store) == _stored_outcomes(server_store) != {}
        assert _memo_values(cli_store) == _memo_values(server_store)
        assert {"open_counts", "open_vulnerabilities", "open_classes", "kev"} <= set(_memo_values(cli_store))
        counted: list[str] = []
        real_counter, real_decide = views._class_counter, ssvc_view._decide

        def counting(*args: Any) -> Any:
            counted.append("classes")
            return real_counter(*args)

        def deciding(*args: Any) -> Any:
            counted.append("outcomes")
            return real_decide(*args)

        monkeypatch.setattr(views, "_class_counter", counting)
        monkeypatch.setattr(ssvc_view, "_decide", deciding)
        seen = []
        for store in (cli_store, server_store):
            _forget()  # a new process: nothing counted or decided in it yet
            seen.append(_plain(dashboard.latest_counts(store)))
        assert counted == []  # both read from the store
        assert seen[0] == seen[1] and seen[0][3]


def test_a_command_line_rematch_of_a_store_no_server_uses_stores_no_dashboard(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store whose dashboard no server ever showed (only the command line uses it) is spared the
    outcomes and counts at the end of `mamori portfolio rematch`; the first dashboard counts them."""
    import json

    from mamori.cli.main import main

    store = demo_store(tmp_path)
    assert not dashboard.dashboard_kept(store)
    _forget()
    assert main(["portfolio", "rematch", "--format", "json", "--db", store.url]) == 0
    assert json.loads(capsys.readouterr().out)["mode"] == "full"
    assert _memo_values(store) == {} and _stored_outcomes(store) == {}
    _forget()
    counted = dashboard.latest_counts(store)
    assert sum(sum(t.values()) for t in counted.tally.values()) > 0
    assert dashboard.dashboard_kept(store) and _memo_values(store)

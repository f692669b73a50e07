"""The deployed inventory: deployments of real SBOM releases, the deployer-ranked patch list with each
deployment's own context (checked against the official SSVC deployer table), coverage and stale data
(exit 3), end of support, the deployed_kev and end_of_support notifications (once each), asset-list
import with bad rows rejected alone and formulas never evaluated, and a formula-safe export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time
from pathlib import Path

import pytest

from conftest import SHARED_DATA
from mamori.cli.main import main
from mamori.inventory.deployments import (
    add_deployment,
    list_deployments,
    retire_deployment,
    set_release_support,
)
from mamori.inventory.events import notify_inventory
from mamori.inventory.priorities import priorities
from mamori.inventory.transfer import export_file, import_file
from mamori.portfolio import add_product, match_release, store_sbom
from mamori.store import Store, open_store
from portfolio_support import DROPWIZARD, kb, knowledge_template

__all__ = ["kb", "knowledge_template"]  # fixtures used below

OFFICIAL = SHARED_DATA / "ssvc" / "csv" / "ssvc" / "deployer_patch_application_priority_1_0_0.csv"


def _norm(text: str) -> str:
    return text.strip().lower().replace("-", "_").replace(" ", "_")


def _official() -> dict[tuple[str, str, str, str], str]:
    with OFFICIAL.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return {tuple(_norm(c) for c in row[1:5]): _norm(row[5]) for row in rows[1:]}  # type: ignore[misc]


def _dropwizard(store: Store) -> None:
    add_product(store, "dropwizard", "Dropwizard project")
    stored = store_sbom(store, "dropwizard", "1.3.15", DROPWIZARD / "bom.json", who="tester")
    match_release(store, stored.sbom_id, stored.previous_sbom_id)


def test_same_release_ranks_by_each_deployments_context(kb: Store) -> None:
    _dropwizard(kb)
    internet = add_deployment(
        kb,
        "dropwizard",
        "1.3.15",
        site="Tokyo DC",
        system="web portal",
        system_exposure="open",
        mission_impact="mission_failure",
        safety_impact="negligible",
        owner="ops@example.jp",
    )
    line = add_deployment(
        kb,
        "dropwizard",
        "1.3.15",
        site="Osaka plant",
        system="line monitor",
        system_exposure="small",
        mission_impact="degraded",
        safety_impact="negligible",
    )
    data = priorities(kb)
    assert data["can_judge"], data["problems"]
    items = data["items"]
    per = {d: [i for i in items if i["deployment"] == d] for d in (internet.id, line.id)}
    assert len(per[internet.id]) == len(per[line.id]) >= 10  # every finding of the release, at both sites
    official = _official()
    for item in items:
        inputs = item["ssvc"]["inputs"]
        key = (
            inputs["exploitation"],
            inputs["system_exposure"],
            inputs["automatable"],
            _norm(item["ssvc"]["path"].split("human_impact=")[1].split(" ")[0]),
        )
        assert official[key] == item["ssvc"]["outcome"], item["ssvc"]["path"]
        exposure = "open" if item["deployment"] == internet.id else "small"
        assert inputs["system_exposure"] == exposure
        assert "system_exposure" not in item["ssvc"]["assumed"]
    # the same vulnerability ranks higher (or equal) on the internet-facing deployment, strictly for some
    order = {"immediate": 0, "out_of_cycle": 1, "scheduled": 2, "defer": 3}
    by_vuln = {
        (i["vulnerability"]["id"], i["component"]["ref"], i["deployment"]): i["ssvc"]["outcome"]
        for i in items
    }
    pairs = [
        (by_vuln[(v, ref, internet.id)], by_vuln[(v, ref, line.id)])
        for v, ref, d in by_vuln
        if d == internet.id
    ]
    assert all(order[a] <= order[b] for a, b in pairs)
    assert any(order[a] < order[b] for a, b in pairs)
    ranks = [order[i["ssvc"]["outcome"]] for i in items]
    assert ranks == sorted(ranks) and [i["rank"] for i in items] == list(range(1, len(items) + 1))
    only = priorities(kb, site="Osaka plant")
    assert {i["deployment"] for i in only["items"]} == {line.id}
    retire_deployment(kb, line.id)
    assert {i["deployment"] for i in priorities(kb)["items"]} == {internet.id}


def test_cli_priorities_json_ja_and_stale_exit_3(kb: Store, capsys: pytest.CaptureFixture[str]) -> None:
    _dropwizard(kb)
    db = str(kb.engine.url.database)
    if kb.engine.dialect.name != "sqlite":
        db = kb.engine.url.render_as_string(hide_password=False)
    assert (
        main(["inventory", "add", "dropwizard", "1.3.15", "--site", "東京", "--exposure", "open", "--db", db])
        == 0
    )
    capsys.readouterr()
    assert main(["inventory", "priorities", "--format", "json", "--db", db]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["items"] and data["coverage"]["releases"][0]["sbom"] is True
    assert main(["inventory", "priorities", "--lang", "ja", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "理由" in out or "パッチ" in out
    # a release without an SBOM deployed: the list cannot be judged complete
    add_product(kb, "controller")
    from mamori.portfolio.archive import _release, product_id

    with kb.engine.connect().execution_options(write=True) as conn, conn.begin():
        _release(conn, product_id(conn, "controller"), "2.0", "tester")
    assert main(["inventory", "add", "controller", "2.0", "--site", "東京", "--db", db]) == 0
    capsys.readouterr()
    assert main(["inventory", "priorities", "--format", "json", "--db", db]) == 3
    done = capsys.readouterr()
    assert json.loads(done.out)["can_judge"] is False
    assert "controller 2.0" in done.err and "SBOM" in done.err


def test_import_after_knowledge_import_is_stale(kb: Store) -> None:
    from portfolio_support import import_held_back

    _dropwizard(kb)
    add_deployment(kb, "dropwizard", "1.3.15", site="A", system_exposure="controlled")
    assert priorities(kb)["can_judge"]
    time.sleep(1.1)  # the store's times are to the second
    import_held_back(kb)  # a new advisory arrives after the release was matched
    data = priorities(kb)
    assert not data["can_judge"]
    assert {p["code"] for p in data["problems"]} == {"match_stale"}
    from mamori.portfolio import rematch

    rematch(kb, changed_only=True)
    assert priorities(kb)["can_judge"]


STRUTS_SBOM = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.4",
    "version": 1,
    "metadata": {"component": {"type": "application", "name": "portal", "version": "3.0"}},
    "components": [
        {
            "type": "library",
            "bom-ref": "struts2-core",
            "group": "org.apache.struts",
            "name": "struts2-core",
            "version": "2.5.1",
            "purl": "pkg:maven/org.apache.struts/struts2-core@2.5.1",
            "cpe": "cpe:2.3:a:apache:struts:2.5.1:*:*:*:*:*:*:*",
        }
    ],
}


def _portal(store: Store, tmp_path: Path) -> None:
    """A release with Apache Struts 2.5.1: CVE-2017-5638 (NVD record, in the CISA KEV catalog)."""
    path = tmp_path / "portal.cdx.json"
    path.write_text(json.dumps(STRUTS_SBOM), encoding="utf-8")
    add_product(store, "portal", "ACME")
    stored = store_sbom(store, "portal", "3.0", path, who="tester")
    match_release(store, stored.sbom_id, stored.previous_sbom_id)


def test_end_of_support_flag_and_events_once(kb: Store, tmp_path: Path) -> None:
    _dropwizard(kb)
    _portal(kb, tmp_path)
    _team_subscription(kb)
    today = dt.date.today()
    assert [e.kind for e in notify_inventory(kb).events] == []  # nothing deployed: no event
    set_release_support(
        kb, "dropwizard", "1.3.15", (today + dt.timedelta(days=30)).isoformat(), source="vendor page"
    )
    a = add_deployment(kb, "dropwizard", "1.3.15", site="A", system_exposure="open")
    b = add_deployment(
        kb, "dropwizard", "1.3.15", site="B", end_of_support=(today - dt.timedelta(days=1)).isoformat()
    )
    add_deployment(kb, "portal", "3.0", site="A", system_exposure="open")
    add_deployment(kb, "portal", "3.0", site="C", system_exposure="small")
    data = priorities(kb)
    states = {s["deployment"]: s["support_state"] for s in data["end_of_support"]}
    assert states == {a.id: "soon", b.id: "ended"}
    assert all(i["support_state"] in ("soon", "ended") for i in data["items"] if i["product"] == "dropwizard")
    struts = [i for i in data["items"] if i["vulnerability"]["id"] == "CVE-2017-5638"]
    assert len(struts) == 2 and all(i["vulnerability"]["kev"] for i in struts)
    assert all(i["ssvc"]["inputs"]["exploitation"] == "active" for i in struts)
    first = notify_inventory(kb)
    kinds = sorted(e.kind for e in first.events)
    assert kinds == ["deployed_kev", "end_of_support", "end_of_support"]
    kev = next(e for e in first.events if e.kind == "deployed_kev")
    assert (kev.product, kev.release, kev.vuln_id, kev.kev) == ("portal", "3.0", "CVE-2017-5638", True)
    assert kev.payload["sites"] == ["A", "C"]
    assert first.deliveries == 3  # dropwizard and portal belong to the subscribed team
    again = notify_inventory(kb)
    assert again.events == [] and again.deliveries == 0
    # the support state moving from soon to ended is news once more
    later = notify_inventory(kb, today=today + dt.timedelta(days=31))
    assert [e.kind for e in later.events] == ["end_of_support"]
    assert later.events[0].payload["state"] == "ended"


def test_deployed_release_gaining_kev_fires_once(kb: Store, tmp_path: Path) -> None:
    from sqlalchemy import delete

    from mamori.store.schema import KevEntry
    from mamori.vulndb import import_path

    _portal(kb, tmp_path)
    _team_subscription(kb, "portal")
    add_deployment(kb, "portal", "3.0", site="A", system_exposure="open")
    k = KevEntry.__table__
    with kb.engine.connect().execution_options(write=True) as conn, conn.begin():
        conn.execute(delete(k).where(k.c.cve_id == "CVE-2017-5638"))
    assert notify_inventory(kb).events == []
    import_path(kb, SHARED_DATA / "kev")  # the catalog adds it
    gained = notify_inventory(kb)
    assert [(e.kind, e.vuln_id) for e in gained.events] == [("deployed_kev", "CVE-2017-5638")]
    assert gained.deliveries == 1
    assert notify_inventory(kb).events == []


def _team_subscription(store: Store, *products: str) -> None:
    from mamori import accounts
    from mamori.notify import add_subscription

    accounts.create_team(store, "ops")
    for product in products or ("dropwizard", "portal"):
        accounts.assign_product(store, "ops", product)
    add_subscription(
        store, "ops", "webhook", "https://hooks.example.jp/x", events=["deployed_kev", "end_of_support"]
    )


def _asset_csv(path: Path) -> Path:
    rows = [
        ["製品", "バージョン", "拠点", "システム", "露出", "業務への影響", "担当者", "サポート終了日"],
        ["dropwizard", "1.3.15", "Tokyo", "portal", "open", "mission_failure", "a@example.jp", "2030-03-31"],
        ["dropwizard", "9.9", "Osaka", "x", "small", "", "", ""],  # no such release
        ["dropwizard", "1.3.15", "Nagoya", "y", "wide open", "", "", ""],  # not an exposure value
        ["dropwizard", "1.3.15", '=HYPERLINK("http://evil.example/","x")', "z", "small", "", "", ""],
        ["dropwizard", "1.3.15", "Sapporo", "ops", "controlled", "degraded", "", "2027-13-01"],
        ["dropwizard", "1.3.15", "Fukuoka", "ops", "controlled", "degraded", "-x", ""],
    ]
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(",".join(r) for r in rows).encode("utf-8"))
    return path


def test_import_rejects_bad_rows_alone_and_export_is_formula_safe(kb: Store, tmp_path: Path) -> None:
    _dropwizard(kb)
    report = import_file(kb, _asset_csv(tmp_path / "assets.csv"))
    assert report.rows == 6 and len(report.added) == 2
    assert len(report.rejected) == 4
    joined = "\n".join(report.rejected)
    for n in (3, 4, 5, 6):
        assert f"row {n}:" in joined
    assert "formula" in joined
    sites = {d.site: d for d in list_deployments(kb)}
    assert set(sites) == {"Tokyo", "Fukuoka"}
    assert sites["Tokyo"].system_exposure == "open" and sites["Tokyo"].end_of_support == "2030-03-31"
    assert sites["Fukuoka"].owner == "-x"
    out = tmp_path / "out.csv"
    assert export_file(kb, out) == 2
    text = out.read_text(encoding="utf-8")
    assert "'-x" in text  # a cell that a spreadsheet would read as a formula is quote-prefixed
    back = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert back[0][:3] == ["id", "product", "release"]


def test_xlsx_import_never_evaluates_formulas(kb: Store, tmp_path: Path) -> None:
    from openpyxl import Workbook, load_workbook

    _dropwizard(kb)
    wb = Workbook()
    ws = wb.active
    ws.append(["product", "release", "site", "exposure", "owner"])
    ws.append(["dropwizard", "1.3.15", "Kobe", "small", "b@example.jp"])
    ws.append(["dropwizard", "1.3.15", "Kyoto", "small", "=1+1"])
    path = tmp_path / "assets.xlsx"
    wb.save(path)
    report = import_file(kb, path)
    assert len(report.added) == 1 and len(report.rejected) == 1 and "row 3" in report.rejected[0]
    out = tmp_path / "out.xlsx"
    update_owner = "=cmd|' /C calc'!A0"
    from mamori.inventory.deployments import update_deployment

    update_deployment(kb, report.added[0], owner=update_owner)
    export_file(kb, out)
    sheet = load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    owners = [row[rows[0].index("owner")] for row in rows]
    assert update_owner in owners
    cell = next(c for row in sheet.iter_rows() for c in row if c.value == update_owner)
    assert cell.data_type == "s"
    # what export wrote comes back as text, in both formats (the text is no formula there)
    for name in ("back.xlsx", "back.csv"):
        count = export_file(kb, tmp_path / name)
        again = import_file(kb, tmp_path / name)
        assert again.rejected == [] and len(again.added) == count, again.rejected
        from mamori.inventory.deployments import get_deployment

        assert update_owner in {get_deployment(kb, n).owner for n in again.added}


def test_cli_bad_input_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "x.db")
    with open_store(db):
        pass
    assert main(["inventory", "add", "nothing", "1.0", "--site", "A", "--db", db]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("mamori: error:")
    bad = tmp_path / "assets.txt"
    bad.write_text("x")
    assert main(["inventory", "import", str(bad), "--db", db]) == 2
    assert main(["inventory", "priorities", "--db", db]) == 3  # nothing deployed: cannot judge


def test_notify_run_records_the_inventory_events(
    kb: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``mamori notify run`` (what the worker's periodic notification step runs too) records them."""
    from sqlalchemy import select

    from mamori.notify.tables import EventRow

    _portal(kb, tmp_path)
    _team_subscription(kb, "portal")
    add_deployment(kb, "portal", "3.0", site="A", end_of_support="2001-01-01")
    db = str(kb.engine.url.database)
    if kb.engine.dialect.name != "sqlite":
        db = kb.engine.url.render_as_string(hide_password=False)
    assert main(["notify", "run", "--no-deliver", "--db", db]) == 0
    e = EventRow.__table__
    with kb.engine.connect() as conn:
        kinds = sorted(conn.scalars(select(e.c.kind).where(e.c.kind.in_(("deployed_kev", "end_of_support")))))
    assert kinds == ["deployed_kev", "end_of_support"]
    capsys.readouterr()
    assert main(["notify", "run", "--no-deliver", "--db", db]) == 0
    assert capsys.readouterr().out.startswith("0 new events")

"""One triage state per finding: the resolver's precedence (the user's own record beats VEX, the newest VEX
statement wins, a statement about the component beats one about the whole release), and `mamori scan`
showing that state in every format (table column, JSON, SARIF suppressions, CSV, HTML with a status filter)
with not_affected / fixed findings out of the gate (exit 1 → 0)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import html as lxml_html

from mamori.cli.main import main
from mamori.demo import demo_data
from mamori.model.sbom import Component
from mamori.model.vex import VexDocument, VexProduct, VexStatement, VexVulnerability
from mamori.scan.result import ComponentRef
from mamori.store import open_store
from mamori.triage.records import VEX, validated
from mamori.triage.state import Resolver
from mamori.triage.vexmatch import ScannedProduct
from mamori.vulndb import import_path
from mamori.vulndb.coverage import CoverageClaim

LOG4J = "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
LOG4J_REF = ComponentRef("log4j-core", "2.14.1", LOG4J, bom_ref="log4j")
ROOT = Component("shop-portal", "2.1.0", purl="pkg:generic/mamori-demo/shop-portal@2.1.0")


def _st(status: str, product: VexProduct, when: str, **kw: object) -> VexStatement:
    return VexStatement(
        VexVulnerability("CVE-2021-44228", aliases=["GHSA-jfh8-c2jp-5v3q"]),
        status,
        [product],
        last_updated=datetime.fromisoformat(when).replace(tzinfo=UTC),
        **kw,  # type: ignore[arg-type]
    )


def _record(status: str, at: str, component: str = LOG4J, **kw: object):
    return validated(
        "shop-portal",
        "2.1.0",
        component,
        "CVE-2021-44228",
        status,
        who="alice",
        at=at,
        **kw,  # type: ignore[arg-type]
    )


def test_precedence_record_then_newest_vex_then_component_over_release() -> None:
    scanned = ScannedProduct.of(ROOT)
    ids = ("GHSA-jfh8-c2jp-5v3q", "CVE-2021-44228")  # the finding's id and alias, either order
    supplier = VexDocument(
        [
            _st(
                "not_affected",
                VexProduct(purl=LOG4J),
                "2026-03-01T00:00:00",
                justification="component_not_present",
            )
        ],
        author="Apache PSIRT",
    )
    older = VexDocument(
        [_st("affected", VexProduct(purl=LOG4J), "2026-01-01T00:00:00", action_statement="update")],
        author="Other",
    )
    # nothing said: open, in the gate
    assert Resolver().state(LOG4J_REF, ids).status == "open"
    # two VEX files: the newer statement wins, whatever the order they were given in
    for docs in (
        [("new.json", supplier), ("old.json", older)],
        [("old.json", older), ("new.json", supplier)],
    ):
        state = Resolver((), docs, scanned).state(LOG4J_REF, ids)
        assert state.status == "not_affected" and not state.in_gate
        assert state.origin is not None and state.origin.who == "Apache PSIRT" and state.origin.kind == "vex"
        assert [(s, o.who) for s, o in state.overridden] == [("affected", "Other")]
    # the user's own record beats a newer VEX statement
    own = _record("under_investigation", "2026-02-01T00:00:00Z")
    state = Resolver([own], [("new.json", supplier)], scanned).state(LOG4J_REF, ids)
    assert state.status == "under_investigation" and state.in_gate
    assert state.origin is not None and state.origin.kind == "record" and state.origin.who == "alice"
    # an imported VEX record (origin vex) is one more VEX statement: the newer one wins
    imported = _record("fixed", "2026-04-01T00:00:00Z", origin=VEX, source="apache.cdx.json")
    state = Resolver([imported], [("new.json", supplier)], scanned).state(LOG4J_REF, ids)
    assert state.status == "fixed" and state.origin is not None and state.origin.stored
    # at equal times, a statement about the component beats one about the whole release
    whole = _record(
        "affected", "2026-05-01T00:00:00Z", component="*", origin=VEX, detail="update", source="a"
    )
    part = _record(
        "not_affected",
        "2026-05-01T00:00:00Z",
        origin=VEX,
        justification="vulnerable_code_not_present",
        source="b",
    )
    for records in ([whole, part], [part, whole]):
        state = Resolver(records).state(LOG4J_REF, ids)
        assert state.status == "not_affected" and not state.whole_release
    # a whole-release record applies to every component, a component record to that purl only
    lodash = ComponentRef("lodash", "4.17.15", "pkg:npm/lodash@4.17.15")
    assert Resolver([whole]).state(lodash, ids).status == "affected"
    assert Resolver([part]).state(lodash, ids).status == "open"
    # records of another release say nothing when the release is named
    assert Resolver([part]).state(LOG4J_REF, ids, ("shop-portal", "2.0.0")).status == "open"


def test_bomlink_names_a_component_of_this_sbom_only() -> None:
    from mamori.model.sbom import Document

    doc = Document(serial_number="urn:uuid:3E671687-395B-41F5-A30F-A58921A69B79", version=1, root=ROOT)
    scanned = ScannedProduct.of(ROOT, doc=doc)
    link = "urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#log4j"
    na = VexDocument(
        [
            _st(
                "not_affected",
                VexProduct(ref=link),
                "2026-01-01T00:00:00",
                justification="component_not_present",
            )
        ]
    )
    assert (
        Resolver((), [("v.json", na)], scanned).state(LOG4J_REF, ["CVE-2021-44228"]).status == "not_affected"
    )
    other_version = VexDocument(
        [
            _st(
                "not_affected",
                VexProduct(ref=link.replace("/1#", "/2#")),
                "2026-01-01T00:00:00",
                justification="component_not_present",
            )
        ]
    )
    assert (
        Resolver((), [("v.json", other_version)], scanned).state(LOG4J_REF, ["CVE-2021-44228"]).status
        == "open"
    )
    other_bom = VexDocument(
        [
            _st(
                "not_affected",
                VexProduct(ref=link.replace("3e67", "4e67")),
                "2026-01-01T00:00:00",
                justification="component_not_present",
            )
        ]
    )
    assert (
        Resolver((), [("v.json", other_bom)], scanned).state(LOG4J_REF, ["CVE-2021-44228"]).status == "open"
    )


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled real-format OSV and KEV set, imported with a coverage claim (the whole osv feed)."""
    db = tmp_path_factory.mktemp("state") / "kb.db"
    with open_store(db) as store:
        import_path(store, demo_data() / "osv", source="osv", complete=[CoverageClaim("osv")])
        import_path(store, demo_data() / "kev", source="kev")
    return db


def _scan(db: Path, *argv: str) -> int:
    sbom = next(demo_data().glob("*.cdx.json"))
    return main(["scan", str(sbom), "--db", str(db), "--lang", "en", *argv])


def test_a_not_affected_record_shows_in_every_scan_format_and_leaves_the_gate(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "kb.db"
    db.write_bytes(store_path.read_bytes())
    assert _scan(db, "--fail-on", "kev") == 1  # log4j-core 2.14.1 is in KEV
    table = capsys.readouterr().out
    assert "Status" in table and "not affected" not in table
    record = [
        "triage", "record", "--db", str(db), "--product", "shop-portal", "--release", "2.1.0",
        "--component", LOG4J, "--vulnerability", "CVE-2021-44228", "--status", "not_affected",
        "--justification", "code_not_reachable", "--detail", "JNDI lookups are disabled", "--who", "alice",
    ]  # fmt: skip
    assert main(record) == 0
    # the same scan: the record applies (the SBOM's root is shop-portal 2.1.0); Spring4Shell is in KEV too
    capsys.readouterr()
    assert _scan(db, "--fail-on", "kev") == 1
    spring = [*record[:8], "--component", "pkg:maven/org.springframework/spring-beans@5.3.15"]
    spring += ["--vulnerability", "GHSA-36p3-wjmg-h94x", "--status", "fixed", "--who", "bob"]  # by its alias
    assert main(spring) == 0
    capsys.readouterr()
    assert _scan(db, "--fail-on", "kev") == 0
    table = capsys.readouterr().out
    line = next(x for x in table.splitlines() if "CVE-2021-44228" in x)
    assert "not affected" in line
    assert "outside --fail-on and policies" in table
    out = tmp_path / "r.json"
    assert _scan(db, "--format", "json", "-o", str(out), "--fail-on", "kev") == 0
    data = json.loads(out.read_text())
    found = {(f["vulnerability"]["id"], f["component"]["name"]): f for f in data["findings"]}
    log4j = found[("CVE-2021-44228", "log4j-core")]
    assert log4j["status"] == "not_affected" and log4j["state"]["in_gate"] is False
    assert log4j["state"]["justification"] == "vulnerable_code_not_in_execute_path"
    assert log4j["state"]["origin"] == {
        "kind": "record", "who": "alice", "at": log4j["state"]["origin"]["at"], "source": None,
        "version": 1, "stored": False,
    }  # fmt: skip
    assert found[("CVE-2021-45046", "log4j-core")]["status"] == "open"
    assert found[("CVE-2022-22965", "spring-beans")]["status"] == "fixed"
    assert data["summary"]["by_status"] == {
        "open": 11, "under_investigation": 0, "affected": 0, "not_affected": 1, "fixed": 1
    }  # fmt: skip
    assert data["triage"]["product"] == "shop-portal" and data["triage"]["records"] == 2
    sarif = tmp_path / "r.sarif"
    assert _scan(db, "--format", "sarif", "-o", str(sarif)) == 0
    results = json.loads(sarif.read_text())["runs"][0]["results"]
    suppressed = {r["ruleId"]: r["suppressions"] for r in results if "suppressions" in r}
    assert set(suppressed) == {"CVE-2021-44228", "CVE-2022-22965"}
    (s,) = suppressed["CVE-2021-44228"]
    assert s["kind"] == "external" and s["status"] == "accepted" and "alice" in s["justification"]
    rows = tmp_path / "r.csv"
    assert _scan(db, "--format", "csv", "-o", str(rows)) == 0
    table_rows = list(csv.DictReader(io.StringIO(rows.read_text(encoding="utf-8-sig"))))
    by_id = {(r["Vulnerability"], r["Component"]): r for r in table_rows}
    assert by_id[("CVE-2021-44228", "log4j-core")]["Status"] == "not affected"
    assert "alice" in by_id[("CVE-2021-44228", "log4j-core")]["Status set by"]
    assert by_id[("CVE-2021-45046", "log4j-core")]["Status"] == "open"
    page = tmp_path / "r.html"
    assert _scan(db, "--format", "html", "-o", str(page), "--lang", "ja") == 0
    doc = lxml_html.document_fromstring(page.read_bytes())
    groups = {
        g.xpath("./tr[1]/th/span[@class='vid']")[0].text + " " + g.xpath(".//span[@class='comp']")[0].text: g
        for g in doc.xpath("//table[@id='findings-table']/tbody")
    }
    g = groups["CVE-2021-44228 log4j-core"]
    assert (
        g.get("data-status") == "not_affected"
        and g.get("data-gate") == "0"
        and "out-of-gate" in g.get("class")
    )
    assert "影響なし" in g.text_content() and "alice" in g.text_content()
    options = doc.xpath("//select[@id='f-status']/option/@value")
    assert options[0] == "" and "not_affected" in options and "open" in options and "in-gate" in options
    # the policy gate too
    policy = tmp_path / "policy.yaml"
    policy.write_text("rules:\n  - {id: no-kev, action: fail, kev: true}\n", encoding="utf-8")
    assert _scan(db, "--policy", str(policy), "--release", "2.0.0") == 1  # another release: no record
    assert _scan(db, "--policy", str(policy)) == 0


def test_policy_vex_status_open_is_none() -> None:
    from mamori.triage.policy import parse_policy

    policy = parse_policy(
        {"rules": [{"id": "untriaged", "action": "fail", "vex_status": ["open"]}]}, "p.yaml"
    )
    assert policy.rules[0].conditions["vex_status"] == ("none",)

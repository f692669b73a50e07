"""Supplier release bundles (issue 19): a supplier's store makes a signed bundle of a release built from a real
SBOM (dropwizard 1.3.15, with a PSIRT case on its jackson-databind and a drafted advisory), a customer verifies
it and imports it; a tampered part, another signing key and hostile zip members are refused. Two bundles of
the demo product (2.1.0, then 2.2.0 with commons-text 1.9 → 1.10.0) imported one after the other report
exactly that component change, the Text4Shell finding resolved and the declaration item whose status changed.
"""

from __future__ import annotations

import io
import json
import os
import stat
import struct
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from conftest import SHARED_DATA, requires_shared
from mamori.bundle import BundleRefused, create_bundle, import_bundle, verify_bundle
from mamori.bundle.create import ATTESTATION, MANIFEST, zip_bytes
from mamori.bundle.importer import pin_key
from mamori.bundle.signing import generate, load_public, load_signer
from mamori.compliance.repository import Assessments
from mamori.model import Document
from mamori.portfolio.archive import add_product, store_sbom, store_sbom_data
from mamori.store import Store, open_store
from mamori.triage.records import set_records, validated

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "src" / "mamori" / "data" / "demo"
DEMO_SBOM = DEMO / "shop-portal-2.1.0.cdx.json"
MAMORI = Path(sys.executable).with_name("mamori")
DROPWIZARD = SHARED_DATA / "sbom" / "cyclonedx" / "dropwizard-1.3.15" / "bom.json"
JACKSON = "pkg:maven/com.fasterxml.jackson.core/jackson-databind"
SUPPLIER = "Example Corp"
T0 = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)
PG_URL = os.environ.get("MAMORI_TEST_PG_URL")
BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="MAMORI_TEST_PG_URL not set")),
]


@pytest.fixture(params=BACKENDS)
def customer(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The customer's database: SQLite, or a throw-away PostgreSQL database."""
    if request.param == "sqlite":
        yield str(tmp_path / "customer.db")
        return
    from mamori.store.throwaway import throwaway_postgres

    with throwaway_postgres(PG_URL, prefix="mamori_bundle") as url:
        yield url


def _keys(folder: Path, name: str, kind: str = "ed25519") -> tuple[Path, Path]:
    private, public = generate(kind)
    (folder / f"{name}.key").write_bytes(private)
    (folder / f"{name}.pub").write_bytes(public)
    return folder / f"{name}.key", folder / f"{name}.pub"


@pytest.fixture
def supplier(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "supplier.db") as store:
        add_product(store, "shop", SUPPLIER)
        yield store


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {i.filename: archive.read(i) for i in archive.infolist()}


def _run(*argv: str, db: Path | str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MAMORI_DB": str(db), "MAMORI_LANG": "en", "NO_COLOR": "1"}
    return subprocess.run([str(MAMORI), *argv], env=env, capture_output=True, text=True, timeout=120)


# --------------------------------------------------------------------------------------------- create, verify


def test_bundle_of_a_real_release_verifies_and_is_deterministic(supplier: Store, tmp_path: Path) -> None:
    from mamori.psirt import cases

    sbom = requires_shared(DROPWIZARD)
    store_sbom(supplier, "shop", "1.3.15", sbom)
    set_records(
        supplier,
        [
            validated(
                "shop", "1.3.15", f"{JACKSON}@2.9.10", "CVE-2020-36518", "affected", None, ["update"], None,
                who="psirt", at="2026-11-03T00:00:00Z",
            )
        ],
    )  # fmt: skip
    case = cases.new_case(
        supplier, title="Deep nesting in jackson-databind", channel="web", cve_id="CVE-2020-36518",
        component=JACKSON, affected_range="vers:maven/<2.12.6.1", now=T0,
    )  # fmt: skip
    cases.compute_affected(supplier, case.key, now=T0)
    cases.add_revision(supplier, case.key, "draft", "First draft", now=T0)
    key, public = _keys(tmp_path, "supplier")
    made = create_bundle(
        supplier, "shop", "1.3.15", load_signer(key), namespace="https://example.com/security"
    )
    again = create_bundle(
        supplier, "shop", "1.3.15", load_signer(key), namespace="https://example.com/security"
    )
    assert made.data == again.data  # ed25519 and a deterministic archive: the same bytes
    members = _members(made.data)
    assert sorted(members) == [
        ATTESTATION,
        f"csaf/{case.key}.json",
        MANIFEST,
        "sbom/original/bom.json",
        "sbom/sbom.cdx.json",
        "vex/vex.cdx.json",
    ]
    assert members["sbom/original/bom.json"] == sbom.read_bytes()
    csaf = json.loads(members[f"csaf/{case.key}.json"])
    assert csaf["document"]["tracking"]["id"] == case.key
    vex = json.loads(members["vex/vex.cdx.json"])
    assert [v["id"] for v in vex["vulnerabilities"]] == ["CVE-2020-36518"]
    path = tmp_path / "shop-1.3.15.zip"
    path.write_bytes(made.data)
    result = verify_bundle(path, [load_public(public)])
    assert result.ok and result.failures == []
    assert result.product == "shop" and result.release == "1.3.15" and result.supplier == SUPPLIER
    statement = result.statement
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert {s["name"] for s in statement["subject"]} == set(members) - {ATTESTATION}
    run = _run("bundle", "verify", str(path), "--key", str(public), db=tmp_path / "c.db")
    assert run.returncode == 0, run.stderr
    assert "verified" in run.stdout
    from mamori.bundle.terms import delivery_of

    delivery = delivery_of(result, date(2026, 11, 20))
    assert [a.id for a in delivery.advisories] == ["CVE-2020-36518"]
    notified = csaf["document"]["tracking"]["initial_release_date"][:10]
    assert [str(a.notified) for a in delivery.advisories] == [notified]
    assert [s.vulnerability.id for v in delivery.vex for s in v.statements] == ["CVE-2020-36518"]
    assert delivery.delivered == date(2026, 11, 20)
    assert delivery.release_date == date(2020, 8, 2)  # the SBOM's metadata timestamp
    assert result.manifest["release_date_source"] == "sbom"
    assert [name for name, _doc in delivery.sboms] == ["sbom/original/bom.json"]


def test_ecdsa_p256_keys_sign_and_verify(supplier: Store, tmp_path: Path) -> None:
    store_sbom(supplier, "shop", "2.1.0", DEMO_SBOM)
    key, public = _keys(tmp_path, "p256", "ecdsa-p256")
    path = tmp_path / "b.zip"
    path.write_bytes(create_bundle(supplier, "shop", "2.1.0", load_signer(key)).data)
    assert verify_bundle(path, [load_public(public)]).ok


@pytest.fixture
def signed(supplier: Store, tmp_path: Path) -> tuple[Path, Path]:
    """A demo bundle and the public key it verifies with."""
    store_sbom(supplier, "shop", "2.1.0", DEMO_SBOM)
    key, public = _keys(tmp_path, "supplier")
    path = tmp_path / "shop-2.1.0.zip"
    path.write_bytes(create_bundle(supplier, "shop", "2.1.0", load_signer(key)).data)
    return path, public


def test_one_tampered_byte_is_refused_naming_the_part(signed: tuple[Path, Path], tmp_path: Path) -> None:
    path, public = signed
    members = _members(path.read_bytes())
    name = "sbom/original/shop-portal-2.1.0.cdx.json"
    data = bytearray(members[name])
    data[100] ^= 0x01
    members[name] = bytes(data)
    bad = tmp_path / "tampered.zip"
    bad.write_bytes(zip_bytes(members))
    result = verify_bundle(bad, [load_public(public)])
    assert not result.ok
    assert [(f.member, f.problem) for f in result.failures] == [
        (name, "its SHA-256 differs from the signed statement")
    ]
    run = _run("bundle", "verify", str(bad), "--key", str(public), db=tmp_path / "c.db")
    assert run.returncode == 1
    assert f"FAILED {name}: its SHA-256 differs" in run.stdout


def test_another_key_is_refused(signed: tuple[Path, Path], tmp_path: Path) -> None:
    path, _public = signed
    _other_key, other_public = _keys(tmp_path, "other")
    result = verify_bundle(path, [load_public(other_public)])
    assert result.key_id is None and not result.ok
    assert [f.member for f in result.failures] == [ATTESTATION]
    run = _run("bundle", "verify", str(path), "--key", str(other_public), db=tmp_path / "c.db")
    assert run.returncode == 1 and "no signature verifies with a trusted key" in run.stdout


def test_a_resigned_bundle_with_an_added_member_is_refused(signed: tuple[Path, Path], tmp_path: Path) -> None:
    path, public = signed
    members = _members(path.read_bytes())
    members["extra/readme.txt"] = b"not signed"
    bad = tmp_path / "extra.zip"
    bad.write_bytes(zip_bytes(members))
    result = verify_bundle(bad, [load_public(public)])
    assert [(f.member, f.problem) for f in result.failures] == [
        ("extra/readme.txt", "not covered by the signed statement")
    ]


def _with_member(path: Path, out: Path, info: zipfile.ZipInfo, data: bytes) -> Path:
    members = _members(path.read_bytes())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
        archive.writestr(info, data)
    out.write_bytes(buffer.getvalue())
    return out


def _declare_oversize(data: bytes, name: str, size: int) -> bytes:
    """The central directory entry of ``name`` declaring ``size`` bytes inflated."""
    entry = data.index(b"PK\x01\x02")
    while True:
        name_length = struct.unpack("<H", data[entry + 28 : entry + 30])[0]
        if data[entry + 46 : entry + 46 + name_length] == name.encode():
            return data[: entry + 24] + struct.pack("<I", size) + data[entry + 28 :]
        entry = data.index(b"PK\x01\x02", entry + 4)


@pytest.mark.parametrize("case", ["zip-slip", "absolute", "symlink", "device", "oversize", "bomb"])
def test_hostile_members_make_the_bundle_unreadable(
    signed: tuple[Path, Path], tmp_path: Path, case: str
) -> None:
    path, public = signed
    bad = tmp_path / f"{case}.zip"
    if case == "oversize":
        bad.write_bytes(_declare_oversize(path.read_bytes(), "sbom/sbom.cdx.json", 0xFFFF_FFF0))
        expected = "sbom/sbom.cdx.json"
    elif case == "bomb":  # 48 MiB of zeros deflated to about 50 kB: refused as it inflates
        info = zipfile.ZipInfo("sbom/zeros.json")
        info.compress_type = zipfile.ZIP_DEFLATED
        _with_member(path, bad, info, bytes(48 << 20))
        expected = "sbom/zeros.json"
    else:
        name = {"zip-slip": "../../evil.json", "absolute": "/etc/evil.json"}.get(case, "sbom/link.json")
        info = zipfile.ZipInfo(name)
        info.create_system = 3
        if case == "symlink":
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
        elif case == "device":
            info.external_attr = (stat.S_IFCHR | 0o644) << 16
        _with_member(path, bad, info, b"/etc/passwd")
        expected = name
    run = _run("bundle", "verify", str(bad), "--key", str(public), db=tmp_path / "c.db")
    assert run.returncode == 2, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"mamori: error: {bad}: member {expected!r}")
    run = _run("bundle", "import", str(bad), "--key", str(public), db=tmp_path / "c.db")
    assert run.returncode == 2


# --------------------------------------------------------------------------------------------- import


def _newer_sbom() -> bytes:
    doc = json.loads(DEMO_SBOM.read_text(encoding="utf-8"))
    for c in doc["components"]:
        if c["name"] == "commons-text":
            c["version"] = "1.10.0"
            c["purl"] = c["purl"].replace("@1.9", "@1.10.0")
            c["bom-ref"] = c.get("bom-ref", "").replace("1.9", "1.10.0") or c.get("bom-ref")
            c.pop("hashes", None)
    doc["serialNumber"] = "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b80"
    return json.dumps(doc, indent=2).encode()


def test_import_twice_reports_exactly_what_changed(tmp_path: Path, customer: str) -> None:
    key, public = _keys(tmp_path, "supplier")
    signer = load_signer(key)
    bundles = []
    with open_store(tmp_path / "supplier.db") as s:
        add_product(s, "shop", SUPPLIER)
        book = Assessments(s)
        a = book.create("guideline", "Example Corp", ("developer",), "shop")
        first = a.items()[0].id
        book.answer(a, first, status="partial")
        store_sbom(s, "shop", "2.1.0", DEMO_SBOM)
        bundles.append(
            create_bundle(
                s,
                "shop",
                "2.1.0",
                signer,
                assessments=[str(a.id)],
                approver="Taro Yamada, CEO",
                date="2026-11-01",
            )
        )
        book.answer(book.get(a.id), first, status="implemented")
        store_sbom_data(s, "shop", "2.2.0", _newer_sbom(), Path("shop-portal-2.2.0.cdx.json"))
        bundles.append(
            create_bundle(
                s,
                "shop",
                "2.2.0",
                signer,
                assessments=[str(a.id)],
                approver="Taro Yamada, CEO",
                date="2026-12-01",
            )
        )
    paths = []
    for n, made in enumerate(bundles, 1):
        paths.append(tmp_path / f"b{n}.zip")
        paths[-1].write_bytes(made.data)
    run = _run("db", "import", str(DEMO / "osv"), db=customer)
    assert run.returncode == 0, run.stderr
    with open_store(customer) as c:
        pin_key(c, SUPPLIER, load_public(public), "procurement")
        one = import_bundle(c, paths[0])
        assert one.previous is None and one.diff == {}
        assert (one.supplier, one.product, one.release, one.sbom_revision) == (SUPPLIER, "shop", "2.1.0", 1)
        two = import_bundle(c, paths[1])
    assert two.previous is not None and two.previous["release"] == "2.1.0"
    components = two.diff["components"]
    assert [(x["name"], x["before"], x["after"]) for x in components["version_changed"]] == [
        ("commons-text", "1.9", "1.10.0")
    ]
    assert all(
        components["summary"][k] == 0
        for k in components["summary"]
        if k not in ("version_changed", "unchanged")
    )
    resolved = two.diff["findings"]["resolved"]
    assert resolved and all("commons-text@1.9" in f for f in resolved)
    assert any("CVE-2022-42889" in f for f in resolved)
    assert two.diff["findings"]["new"] == []
    (declaration,) = two.diff["declarations"]
    assert [(x["id"], x["before"], x["after"]) for x in declaration["status_changed"]] == [
        (first, "partial", "implemented")
    ]
    assert declaration["date"] == {"before": "2026-11-01", "after": "2026-12-01"}
    kinds = sorted({p["kind"] for p in two.parts})
    assert kinds == ["declaration-json", "declaration-pdf", "sbom", "sbom-cyclonedx"]


def test_a_refused_bundle_stores_nothing(signed: tuple[Path, Path], tmp_path: Path) -> None:
    from sqlalchemy import func, select

    from mamori.bundle import tables as bt
    from mamori.portfolio import tables as t

    path, public = signed
    members = _members(path.read_bytes())
    members["sbom/sbom.cdx.json"] = members["sbom/sbom.cdx.json"].replace(b"2.14.1", b"2.17.1", 1)
    bad = tmp_path / "tampered.zip"
    bad.write_bytes(zip_bytes(members))
    with open_store(tmp_path / "customer.db") as c:
        with pytest.raises(BundleRefused) as refused:
            import_bundle(c, bad, [load_public(public)])
        assert [f.member for f in refused.value.verified.failures] == ["sbom/sbom.cdx.json"]
        with c.engine.connect() as conn:
            for table in (t.ProductRow, t.SbomRow, bt.BundleImportRow, bt.BundleDocumentRow):
                assert conn.scalar(select(func.count()).select_from(table.__table__)) == 0
    run = _run("bundle", "import", str(bad), "--key", str(public), db=tmp_path / "c2.db")
    assert run.returncode == 1 and "nothing was imported" in run.stdout


def _snapshot(store: Store) -> dict[str, list[str]]:
    """Every row of every table, sorted: the store's whole state."""
    from sqlalchemy import inspect, text

    out: dict[str, list[str]] = {}
    with store.engine.connect() as conn:
        for name in sorted(inspect(conn).get_table_names()):
            rows = conn.execute(text(f'SELECT * FROM "{name}"')).all()
            out[name] = sorted(repr(tuple(r)) for r in rows)
    return out


def _vex_bundles(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Two bundles of shop 2.1.0: the demo SBOM without VEX, then a second SBOM revision with a VEX
    statement on its commons-text 1.10.0; and the public key."""
    key, public = _keys(tmp_path, "supplier")
    signer = load_signer(key)
    with open_store(tmp_path / "supplier.db") as s:
        add_product(s, "shop", SUPPLIER)
        store_sbom(s, "shop", "2.1.0", DEMO_SBOM)
        first = tmp_path / "first.zip"
        first.write_bytes(create_bundle(s, "shop", "2.1.0", signer).data)
        store_sbom_data(s, "shop", "2.1.0", _newer_sbom(), Path("shop-portal-2.1.0b.cdx.json"))
        set_records(
            s,
            [
                validated(
                    "shop", "2.1.0", "pkg:maven/org.apache.commons/commons-text@1.10.0", "CVE-2022-42889",
                    "not_affected", "code_not_present", [], None, who="psirt", at="2026-11-03T00:00:00Z",
                )
            ],
        )  # fmt: skip
        second = tmp_path / "second.zip"
        second.write_bytes(create_bundle(s, "shop", "2.1.0", signer).data)
    return first, second, public


def test_a_failed_import_leaves_the_store_exactly_as_it_was(
    tmp_path: Path, customer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mamori.bundle import importer

    first, second, public = _vex_bundles(tmp_path)
    assert "vex/vex.cdx.json" in _members(second.read_bytes())
    run = _run("db", "import", str(DEMO / "osv"), db=customer)
    assert run.returncode == 0, run.stderr
    with open_store(customer) as c:
        pin_key(c, SUPPLIER, load_public(public), "procurement")
        one = import_bundle(c, first)
        assert one.vex_records is None and one.match_error is None
        before = _snapshot(c)
        assert before["portfolio_finding"] and before["release_sbom"] and not before["triage_record"]

        def broken(*args: object, **kwargs: object) -> None:
            raise OSError("disk gone")

        # the last write of the import: the parts, after the SBOM revision and the VEX records
        monkeypatch.setattr(importer, "_store_documents", broken)
        with pytest.raises(OSError, match="disk gone"):
            import_bundle(c, second)
        assert _snapshot(c) == before  # every table, row for row: triage records and findings included
        monkeypatch.undo()
        two = import_bundle(c, second)
        after = _snapshot(c)
    assert two.sbom_revision == 2 and two.vex_records == 1 and two.match_error is None
    assert len(after["triage_record"]) == 1 and len(after["bundle_import"]) == 2
    assert two.diff["findings"]["resolved"] and all(
        "commons-text@1.9" in f for f in two.diff["findings"]["resolved"]
    )


def test_a_failed_match_leaves_the_import_stored_and_says_so(
    signed: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    rematch = importlib.import_module("mamori.portfolio.rematch")  # the package names a function so too
    path, public = signed

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("matcher down")

    monkeypatch.setattr(rematch, "match_release", broken)
    with open_store(tmp_path / "customer.db") as c:
        done = import_bundle(c, path, [load_public(public)])
        state = _snapshot(c)
    assert done.match_error == "matcher down" and done.sbom_revision == 1
    assert len(state["bundle_import"]) == 1 and len(state["bundle_document"]) == len(done.parts)
    assert "null" in state["bundle_import"][0]  # findings: not known


TX_TERMS = """\
items:
  TX-01: {formats: cyclonedx}
  TX-11: {vex: yes}
"""


def test_bundle_import_checks_the_agreed_terms(tmp_path: Path) -> None:
    from mamori.contract.store import set_terms
    from mamori.contract.terms import load

    first, second, public = _vex_bundles(tmp_path)
    (tmp_path / "terms.yaml").write_text(TX_TERMS, encoding="utf-8")
    dbs = {name: tmp_path / f"{name}.db" for name in ("novex", "vex", "noterms")}
    for name, db in dbs.items():
        with open_store(db) as c:
            pin_key(c, SUPPLIER, load_public(public), "procurement")
            if name != "noterms":
                set_terms(c, load(tmp_path / "terms.yaml", SUPPLIER), "procurement")
    report = tmp_path / "back.md"
    run = _run("bundle", "import", str(first), "--no-match", "--report", str(report), "--format", "json",
               db=dbs["novex"])  # fmt: skip
    assert run.returncode == 1, run.stderr
    out = json.loads(run.stdout)
    assert out["sbom_revision"] == 1 and out["contract"]["terms"] is True
    gaps = [(r["item"], r["term"]) for r in out["contract"]["results"] if r["status"] == "gap"]
    assert gaps == [("TX-11", "vex")]
    met = [(r["item"], r["term"]) for r in out["contract"]["results"] if r["status"] == "met"]
    assert met == [("TX-01", "formats")]
    body = report.read_text(encoding="utf-8")
    assert "TX-11" in body and "Example Corp" in body
    run = _run("bundle", "import", str(second), "--no-match", db=dbs["vex"])
    assert run.returncode == 0, run.stderr + run.stdout
    assert "contract with Example Corp: 0 gaps, 0 to confirm, 2 met" in run.stdout
    run = _run("bundle", "import", str(first), "--no-match", "--report", str(tmp_path / "x.md"),
               db=dbs["noterms"])  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "no agreed terms" in run.stdout and not (tmp_path / "x.md").exists()


def test_a_product_of_another_supplier_is_refused(signed: tuple[Path, Path], tmp_path: Path) -> None:
    from mamori.errors import InputError

    path, public = signed
    with open_store(tmp_path / "customer.db") as c:
        add_product(c, "shop", "Other Inc")
        with pytest.raises(InputError, match="supplied by 'Other Inc', not 'Example Corp'"):
            import_bundle(c, path, [load_public(public)])


def test_jcstar_declaration_and_label_page_go_in_unchanged_bytes(supplier: Store, tmp_path: Path) -> None:
    store_sbom(supplier, "shop", "2.1.0", DEMO_SBOM)
    book = Assessments(supplier)
    a = book.create("jcstar1", SUPPLIER, ("developer",), "shop 2.1.0")
    book.update_header(
        a,
        {
            "approver": "Taro Yamada, CEO",
            "declared_on": "2026-11-01",
            "label_fields": {"page_url": "https://example.com/label", "release": "shop@2.1.0"},
        },
    )
    key, public = _keys(tmp_path, "supplier")
    made = [
        create_bundle(supplier, "shop", "2.1.0", load_signer(key), assessments=[str(a.id)]) for _ in range(2)
    ]
    assert made[0].data == made[1].data  # PDFs without creation time or random id, label page as rendered
    members = _members(made[0].data)
    folder = f"declaration/{a.id}-jcstar1"
    assert {f"{folder}/{n}" for n in ("declaration.json", "declaration.en.pdf", "declaration.ja.pdf")} <= set(
        members
    )
    assert members[f"{folder}/declaration.en.pdf"].startswith(b"%PDF-")
    label = members[f"{folder}/label.ja.html"].decode("utf-8")
    assert "https://example.com/label" in label
    declaration = json.loads(members[f"{folder}/declaration.json"])
    assert declaration["date"] == "2026-11-01" and declaration["approver"]["name"] == "Taro Yamada"
    assert declaration["review"]["valid_until"] == "2028-11-01"  # a JC-STAR self-declaration: two years
    path = tmp_path / "b.zip"
    path.write_bytes(made[0].data)
    assert verify_bundle(path, [load_public(public)]).ok


def test_pinned_supplier_keys_verify_without_key(signed: tuple[Path, Path], tmp_path: Path) -> None:
    path, public = signed
    db = tmp_path / "customer.db"
    run = _run("bundle", "verify", str(path), db=db)
    assert run.returncode == 2 and "no trusted key for supplier 'Example Corp'" in run.stderr
    _other, other_public = _keys(tmp_path, "other")
    assert _run("bundle", "trust", "Other Inc", "--key", str(public), db=db).returncode == 0
    assert _run("bundle", "trust", SUPPLIER, "--key", str(other_public), db=db).returncode == 0
    run = _run("bundle", "verify", str(path), "--format", "json", db=db)  # the key is pinned for another
    assert run.returncode == 1 and json.loads(run.stdout)["failures"][0]["member"] == ATTESTATION
    assert _run("bundle", "trust", SUPPLIER, "--key", str(public), db=db).returncode == 0
    run = _run("bundle", "verify", str(path), "--format", "json", db=db)
    assert run.returncode == 0, run.stdout
    assert json.loads(run.stdout)["key_id"] == load_public(public).keyid


# --------------------------------------------------------------------------------------------- release date

TIMING_TERMS = """\
items:
  TX-12: {with_each_release: yes, sbom_within_days: 30}
"""


def _timing(rows: list[dict[str, object]]) -> list[tuple[str, str]]:
    return [(str(r["term"]), str(r["status"])) for r in rows if r["item"] == "TX-12"]


def test_the_signed_release_date_machine_checks_the_timing_terms(supplier: Store, tmp_path: Path) -> None:
    """A real SBOM (dropwizard 1.3.15, metadata timestamp 2020-08-02): the bundle carries that date as the
    release date under the signature; delivered years later the SBOM-timing clause is a gap, with an explicit
    release date days before the delivery it holds, and a bundle with no date leaves it to a person."""
    from mamori.bundle.terms import check_bundle
    from mamori.contract.check import Delivery, check
    from mamori.contract.store import set_terms
    from mamori.contract.terms import load

    sbom = requires_shared(DROPWIZARD)
    store_sbom(supplier, "shop", "1.3.15", sbom)
    key, public = _keys(tmp_path, "supplier")
    from_sbom = create_bundle(supplier, "shop", "1.3.15", load_signer(key))
    assert from_sbom.manifest["release_date"] == "2020-08-02"
    assert from_sbom.manifest["release_date_source"] == "sbom"
    given = create_bundle(supplier, "shop", "1.3.15", load_signer(key), released_on="2026-11-10")
    assert (
        given.data
        == create_bundle(supplier, "shop", "1.3.15", load_signer(key), released_on="2026-11-10").data
    )
    (tmp_path / "terms.yaml").write_text(TIMING_TERMS, encoding="utf-8")
    results = {}
    for name, made in (("sbom", from_sbom), ("given", given)):
        path = tmp_path / f"{name}.zip"
        path.write_bytes(made.data)
        verified = verify_bundle(path, [load_public(public)])
        assert verified.ok
        with open_store(tmp_path / f"{name}-customer.db") as c:
            set_terms(c, load(tmp_path / "terms.yaml", SUPPLIER), "procurement")
            results[name] = check_bundle(c, verified, date(2026, 11, 20)).as_dict()["results"]
    assert _timing(results["sbom"]) == [("with_each_release", "met"), ("sbom_within_days", "gap")]
    late = next(r for r in results["sbom"] if r["term"] == "sbom_within_days")
    assert "2301" in late["found"]["en"]  # 2020-08-02 → 2026-11-20
    assert _timing(results["given"]) == [("with_each_release", "met"), ("sbom_within_days", "met")]
    undated = check(load(tmp_path / "terms.yaml", SUPPLIER), Delivery(sboms=[("bom.json", _doc(sbom))]))
    assert [(g.term, g.status) for g in undated if g.item == "TX-12"] == [
        ("with_each_release", "confirm"),
        ("sbom_within_days", "confirm"),
    ]


def _doc(path: Path) -> Document:
    from mamori.portfolio.archive import read_sbom

    return read_sbom(path)[2]


def test_a_changed_release_date_breaks_the_signature(supplier: Store, tmp_path: Path) -> None:
    store_sbom(supplier, "shop", "2.1.0", DEMO_SBOM)
    key, public = _keys(tmp_path, "supplier")
    made = create_bundle(supplier, "shop", "2.1.0", load_signer(key), released_on="2026-11-01")
    members = _members(made.data)
    manifest = json.loads(members[MANIFEST])
    assert manifest["release_date"] == "2026-11-01" and manifest["release_date_source"] == "given"
    manifest["release_date"] = "2026-11-19"
    members[MANIFEST] = json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"
    bad = tmp_path / "redated.zip"
    bad.write_bytes(zip_bytes(members))
    result = verify_bundle(bad, [load_public(public)])
    assert not result.ok and MANIFEST in [f.member for f in result.failures]


def test_bundle_create_release_date_option(supplier: Store, tmp_path: Path) -> None:
    store_sbom(supplier, "shop", "2.1.0", DEMO_SBOM)
    key, _public = _keys(tmp_path, "supplier")
    db = tmp_path / "supplier.db"
    out = tmp_path / "b.zip"
    run = _run("bundle", "create", "shop@2.1.0", "-o", str(out), "--key", str(key), "--release-date",
               "2026-10-31", db=db)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "release date: 2026-10-31 (given)" in run.stdout
    assert json.loads(_members(out.read_bytes())[MANIFEST])["release_date"] == "2026-10-31"
    run = _run("bundle", "create", "shop@2.1.0", "-o", str(out), "--key", str(key), "--release-date",
               "2026-02-30", db=db)  # fmt: skip
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1
    assert "--release-date" in run.stderr


def test_the_vex_timing_term_counts_from_a_new_critical_cve_the_vex_answers(
    supplier: Store, tmp_path: Path
) -> None:
    """The dropwizard bundle's VEX (issued 2026-11-03) answers CVE-2020-36518: published in the customer's
    knowledge base two days before as critical, the 7-day VEX term holds; a month before, it is a gap; not
    critical (or not known), it is for a person to confirm."""
    from mamori.bundle.terms import critical_published, delivery_of
    from mamori.contract.check import check
    from mamori.contract.terms import ItemTerm, Terms
    from mamori.model.vulnerability import Severity, Vulnerability
    from mamori.store.reader import Lookup

    sbom = requires_shared(DROPWIZARD)
    store_sbom(supplier, "shop", "1.3.15", sbom)
    set_records(
        supplier,
        [
            validated(
                "shop", "1.3.15", f"{JACKSON}@2.9.10", "CVE-2020-36518", "not_affected", "code_not_reachable",
                [], None, who="psirt", at="2026-11-03T00:00:00Z",
            )
        ],
    )  # fmt: skip
    key, public = _keys(tmp_path, "supplier")
    path = tmp_path / "b.zip"
    path.write_bytes(create_bundle(supplier, "shop", "1.3.15", load_signer(key)).data)
    delivery = delivery_of(verify_bundle(path, [load_public(public)]), date(2026, 11, 20))
    terms = Terms(SUPPLIER, {"TX-11": ItemTerm(True, {"vex": True, "vex_within_days": 7})})

    def known(published: str, score: float) -> object:
        vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
        severity = Severity("CVSS_V3", "3.1", vector, score=score)
        return lambda ident: Lookup(Vulnerability(ident, published=published, severities=[severity]))

    outcomes = []
    for lookup in (known("2026-11-01T10:00:00Z", 9.8), known("2026-10-01", 9.8), known("2026-11-01", 7.5)):
        delivery.critical_published = critical_published(delivery, lookup)
        outcomes.append([g.status for g in check(terms, delivery) if g.term == "vex_within_days"])
    assert outcomes == [["met"], ["gap"], ["confirm"]]
    assert critical_published(delivery, lambda ident: None) is None

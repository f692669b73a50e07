"""The CISA VEX use cases (CycloneDX) and the OASIS CSAF VEX examples import, convert to all three formats
and come back without losing any (vulnerability, status, justification, product) fact; every output is
schema-valid in its target format."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from csaf_lib.verification import Verifier
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from conftest import SHARED_DATA, shared_files
from mamori import vex
from mamori.errors import InputError
from mamori.model.vex import VexDocument, VexProduct
from mamori.vex.identifiers import is_uri
from mamori.vex.schemas import csaf_problems, openvex_problems

CDX_VEX = shared_files("vex", "cyclonedx", pattern="*.json")
CSAF_VEX = shared_files("csaf", "examples", "csaf", "csaf_vex", pattern="*.json")
CSAF_SCHEMA = SHARED_DATA / "csaf" / "schema" / "csaf_json_schema.json"
OPTIONS = vex.WriteOptions(
    author="Example Company ProductCERT",
    namespace="https://psirt.example.com",
    timestamp=datetime(2024, 4, 1, tzinfo=UTC),
    csaf_schema=CSAF_SCHEMA if CSAF_SCHEMA.is_file() else None,
)
# the CycloneDX use case 5 file says "exploitable" with neither response nor detail: the rule refuses it
BREAKS_AFFECTED_RULE = "Use-Cases/Case-5/vex.json"
# the CISA use case 8 file says JKL 5.2 is both not_affected and resolved for CVE-2021-45105: CSAF refuses that
TWO_STATUSES = "CISA-Use-Cases/Case-8/vex.json"

Fact = tuple[str, str, str | None, tuple | None]


def _identity(p: VexProduct, bare: bool) -> tuple[str, str | None, str | None]:
    if bare and not is_uri(p.key):
        # a bom-ref of a BOM without a serial number is no URI: CSAF carries it as the product_id while
        # that id is free, so a ref with several versions comes back under CSAF product ids
        return ("(bom-ref)", p.version, p.version_range)
    return p.identity


def facts(doc: VexDocument, bare: bool = False) -> set[Fact]:
    out: set[Fact] = set()
    for st in doc.statements:
        justification = st.justification if st.status == "not_affected" else None
        for p in st.products or [None]:
            ident = (
                None
                if p is None
                else (_identity(p, bare), tuple(_identity(s, bare) for s in p.subcomponents))
            )
            out.add((st.vulnerability.id, st.status, justification, ident))
    return out


def _name(path: Path) -> str:
    return str(path.relative_to(path.parents[2])) if "Case-" in str(path) else path.name


def _ids(paths: list[Path]) -> list[str]:
    return [_name(p) for p in paths]


def _through(doc: VexDocument, chain: list[str]) -> VexDocument:
    for fmt in chain:
        doc = vex.parse(vex.dumps(doc, fmt, OPTIONS), Path(f"converted.{fmt}.json"))
    return doc


def _orders(source: str) -> list[list[str]]:
    others = [f for f in vex.FORMATS if f != source]
    return [[*order, source] for order in itertools.permutations(others)]


@pytest.mark.parametrize("path", CDX_VEX, ids=_ids(CDX_VEX))
def test_cisa_cyclonedx_use_case_round_trips(path: Path) -> None:
    name = _name(path)
    if name == BREAKS_AFFECTED_RULE:
        pytest.skip("refused by the affected rule: see test_use_case_5_is_refused_then_converts_when_lenient")
    doc = vex.read(path)
    raw = json.loads(path.read_text(encoding="utf-8"))
    with_state = [v for v in raw.get("vulnerabilities", []) if v.get("analysis", {}).get("state")]
    assert len(doc.statements) == len(with_state)
    expected = facts(doc)
    if not doc.statements:  # the BOMs the use cases refer to carry no VEX
        assert "bomFormat" in raw and "vulnerabilities" not in raw
        assert facts(_through(doc, ["cyclonedx"])) == set()
        with pytest.raises(InputError, match="no VEX statements"):
            vex.dumps(doc, "openvex", OPTIONS)
        return
    for chain in _orders("cyclonedx"):
        if name == TWO_STATUSES:
            assert facts(_through(doc, ["openvex", "cyclonedx"])) == expected
            with pytest.raises(
                InputError,
                match=r"CVE-2021-45105: CSAF cannot give one product two statuses: urn:cdx:e4c3eedc-4978-470c-ad02-6ffff63738ff/1#product-JKL 5\.2 is not_affected and fixed",
            ):
                vex.dumps(doc, "csaf", OPTIONS)
            return
        assert facts(_through(doc, chain), bare=True) == facts(doc, bare=True), chain


@pytest.mark.parametrize("path", CSAF_VEX, ids=_ids(CSAF_VEX))
def test_oasis_csaf_vex_example_round_trips(path: Path) -> None:
    doc = vex.read(path)
    raw = json.loads(path.read_text(encoding="utf-8"))
    listed = {
        pid
        for v in raw["vulnerabilities"]
        for key, ids in v["product_status"].items()
        if key != "recommended"
        for pid in ids
    }
    assert {p.csaf_id for st in doc.statements for p in st.products} == listed
    expected = facts(doc)
    for chain in _orders("csaf"):
        assert facts(_through(doc, chain)) == expected, chain


def _cdx_valid(text: bytes, version: str) -> None:
    error = JsonStrictValidator(SchemaVersion.from_version(version)).validate_str(text.decode("utf-8"))
    assert error is None, error


@pytest.mark.parametrize("path", [*CDX_VEX, *CSAF_VEX], ids=_ids([*CDX_VEX, *CSAF_VEX]))
def test_outputs_are_schema_valid(path: Path) -> None:
    doc = vex.read(path, strict=False)
    if not doc.statements or _name(path) in (BREAKS_AFFECTED_RULE, TWO_STATUSES):
        return
    for version in ("1.4", "1.5", "1.6"):
        _cdx_valid(vex.dumps(doc, "cyclonedx", vex.WriteOptions(spec_version=version)), version)
    assert openvex_problems(json.loads(vex.dumps(doc, "openvex", OPTIONS))) == []
    csaf = json.loads(vex.dumps(doc, "csaf", OPTIONS))
    assert csaf_problems(csaf, CSAF_SCHEMA) == []  # the shared official schema file, read in place
    assert csaf["document"]["category"] == "csaf_vex"
    report = Verifier(
        csaf
    ).run_csaf_compliance()  # csaf-lib's VEX profile tests, incl. impact/action statements
    assert report.passed, [(r.test_id, r.message) for r in report.failures]


def test_csaf_oracle_detects_a_missing_action_statement() -> None:
    """The csaf-lib verifier used above does fail a document whose affected product has no remediation."""
    path = SHARED_DATA / "csaf/examples/csaf/csaf_vex/2022-evd-uc-01-a-001.json"
    if not path.is_file():
        pytest.skip("shared data absent")
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert Verifier(raw).run_csaf_compliance().passed
    del raw["vulnerabilities"][0]["remediations"]
    assert not Verifier(raw).run_csaf_compliance().passed


def test_use_case_5_is_refused_then_converts_when_lenient() -> None:
    path = SHARED_DATA / "vex/cyclonedx" / BREAKS_AFFECTED_RULE
    if not path.is_file():
        pytest.skip("shared data absent")
    with pytest.raises(InputError) as err:
        vex.read(path)
    message = str(err.value)
    assert (
        str(path) in message
        and "CVE-2020-25649" in message
        and "Acme Product vers:semver/<7.0.0|>=1.5.0" in message
    )
    assert "affected needs an action statement" in message
    doc = vex.read(path, strict=False)
    assert any("rule not met" in w for w in doc.warnings)
    lenient = vex.WriteOptions(strict=False)
    assert facts(vex.parse(vex.dumps(doc, "cyclonedx", lenient), Path("x.json"), strict=False)) == facts(doc)
    with pytest.raises(InputError, match="action_statement"):  # OpenVEX itself requires the action statement
        vex.dumps(doc, "openvex", vex.WriteOptions(author="Acme", strict=False))


def test_cisa_case_1_statuses_and_justification() -> None:
    base = SHARED_DATA / "vex/cyclonedx/CISA-Use-Cases/Case-1"
    if not base.is_dir():
        pytest.skip("shared data absent")
    seen = {}
    for name, status in (
        ("affected", "affected"),
        ("fixed", "fixed"),
        ("not_affected", "not_affected"),
        ("under_investigation", "under_investigation"),
    ):
        doc = vex.read(base / f"vex-{name}.json")
        (st,) = doc.statements
        assert st.status == status and st.vulnerability.id == "CVE-2021-44228"
        seen[name] = st
    assert seen["affected"].responses == ["will_not_fix", "update"]
    assert "upgrade" in (seen["affected"].action_statement or "")
    na = seen["not_affected"]
    assert (na.justification, na.cdx_justification) == ("vulnerable_code_not_present", "code_not_present")
    assert [(p.ref, p.name, p.version) for p in na.products] == [("product-ABC", "ABC", "4.2")]
    csaf = json.loads(vex.dumps(vex.read(base / "vex-not_affected.json"), "csaf", OPTIONS))
    (vuln,) = csaf["vulnerabilities"]
    assert vuln["cve"] == "CVE-2021-44228"
    assert vuln["flags"][0]["label"] == "vulnerable_code_not_present"
    assert vuln["threats"][0]["details"].startswith("This version of Product ABC is not affected")
    (pid,) = vuln["product_status"]["known_not_affected"]
    assert pid == "product-ABC"
    (vendorless,) = csaf["product_tree"]["branches"]
    assert vendorless == {
        "category": "product_name",
        "name": "ABC",
        "branches": [
            {
                "category": "product_version",
                "name": "4.2",
                "product": {
                    "name": "ABC 4.2",
                    "product_id": pid,  # the bom-ref "product-ABC": no URI, and the file has no serial number
                },
            }
        ],
    }


def test_csaf_example_8_products_and_texts() -> None:
    path = SHARED_DATA / "csaf/examples/csaf/csaf_vex/2022-evd-uc-08-001.json"
    if not path.is_file():
        pytest.skip("shared data absent")
    doc = vex.read(path)
    assert doc.warnings == ["CVE-2021-44228: product_status.recommended is not a VEX status; skipped"]
    log4shell = [st for st in doc.statements if st.vulnerability.id == "CVE-2021-44228"]
    fixed = {p.label for st in log4shell if st.status == "fixed" for p in st.products}
    assert fixed == {"JKL 5.1", "JKL 5.2"}
    affected = [st for st in log4shell if st.status == "affected"]
    assert {p.label for st in affected for p in st.products} == {
        "ABC 2.4",
        "ABC 2.6",
        "ABC vers:generic/>=2.9|<=4.1",
        "JKL vers:generic/>=4.5|<=5.0",
    }
    assert {st.action_statement for st in affected} == {
        "Update to version 4.2 or later.",
        "Update to the new version 5.2 or later.",
    }
    assert all(st.responses == ["update"] for st in affected)
    cdx = json.loads(vex.dumps(doc, "cyclonedx", OPTIONS))
    jkl = next(c for c in cdx["components"] if c["name"] == "JKL")
    assert jkl["supplier"] == {"name": "Example Company"}


def test_openvex_version_marker_and_purl_ids() -> None:
    path = SHARED_DATA / "vex/cyclonedx/CISA-Use-Cases/Case-6/vex.json"
    if not path.is_file():
        pytest.skip("shared data absent")
    out = json.loads(vex.dumps(vex.read(path), "openvex", OPTIONS))
    ids = [p["@id"] for st in out["statements"] for p in st["products"]]
    assert "product-ABC?mamori-version=2.4" in ids
    assert "product-ABC?mamori-range=vers%3Ageneric%2F%3E%3D2.9%7C%3C%3D4.1" in ids
    assert len(ids) == len(set(ids)) == 7

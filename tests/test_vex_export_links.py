"""VEX exported from a release's triage state is usable without mamori: (a) imported through mamori into a
fresh store with the same SBOM it gives the same statuses; (b) every reference resolves with the
references alone — CycloneDX VEX BOM-Links to serial number, version and bom-ref of the SBOM (read with
cyclonedx-python-lib), OpenVEX @ids and CSAF purl helpers to the SBOM's components (plain JSON; CSAF checked
against the OASIS schema in ../shared/data/csaf, and by @secvisogram/csaf-validator-lib when installed)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from packageurl import PackageURL

from conftest import SHARED_DATA, requires_shared
from csaf_peer import validator_lib
from mamori.cli.main import main
from triage_support import LOG4J, abc_sbom, build_kb

CASE1 = SHARED_DATA / "vex" / "cyclonedx" / "CISA-Use-Cases" / "Case-1" / "vex-not_affected.json"
CSAF_SCHEMA = SHARED_DATA / "csaf" / "schema" / "csaf_json_schema.json"
BOMLINK = re.compile(r"^urn:cdx:([0-9a-f-]{36})/([1-9][0-9]*)#(.+)$")
LODASH = "pkg:npm/lodash@4.17.15"
DJANGO = "pkg:pypi/django@3.2.12"
FORMATS = ("cyclonedx", "openvex", "csaf")


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_kb(tmp_path_factory.mktemp("kb"))


def _canon(purl: str) -> str:
    return PackageURL.from_string(purl).to_string()


def _statuses(db: str, capsys: pytest.CaptureFixture[str]) -> dict[tuple[str, str], str]:
    capsys.readouterr()
    assert main(["portfolio", "findings", "--product", "ABC", "--db", db, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    return {(f["component"]["purl"], f["vulnerability"]["id"]): f["status"] for f in data["findings"]}


def _release(kb: Path, folder: Path, sbom: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "kb.db"
    db.write_bytes(kb.read_bytes())
    assert main(["product", "add", "ABC", "--db", str(db)]) == 0
    assert main(["release", "add", "ABC", "4.2", "--sbom", str(sbom), "--db", str(db)]) == 0
    return str(db)


@pytest.fixture
def exported(kb: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """Release ABC 4.2 with CISA's Case-1 statement imported (the whole release) and three records of
    its own (not_affected, affected with an action, fixed), exported in the three formats."""
    case1 = requires_shared(CASE1)
    sbom = abc_sbom(tmp_path)
    db = _release(kb, tmp_path / "origin", sbom)
    assert main(["vex", "import", str(case1), "--product", "ABC", "--release", "4.2", "--db", db]) == 0
    base = ["triage", "record", "--db", db, "--product", "ABC", "--release", "4.2", "--who", "alice"]
    assert main([*base, "--component", LOG4J, "--vulnerability", "CVE-2021-45046", "--status", "not_affected",
                 "--justification", "code_not_reachable"]) == 0  # fmt: skip
    assert main([*base, "--component", LODASH, "--vulnerability", "CVE-2020-8203", "--status", "affected",
                 "--response", "update", "--detail", "Update lodash to 4.17.19."]) == 0  # fmt: skip
    assert main([*base, "--component", DJANGO, "--vulnerability", "CVE-2022-34265", "--status", "fixed",
                 "--detail", "Patched in our build."]) == 0  # fmt: skip
    files = {}
    for fmt in FORMATS:
        out = tmp_path / f"abc-4.2.{fmt}.json"
        argv = ["triage", "export", "--db", db, "--product", "ABC", "--release", "4.2", "--format", fmt]
        argv += ["-o", str(out), "--author", "ABC PSIRT", "--namespace", "https://psirt.abc.example"]
        assert main(argv) == 0
        files[fmt] = out
    statuses = _statuses(db, capsys)
    assert statuses[(LOG4J, "CVE-2021-44228")] == "not_affected"  # from the imported Case-1 statement
    assert statuses[(LOG4J, "CVE-2021-45046")] == "not_affected"
    assert statuses[(LODASH, "CVE-2020-8203")] == "affected"
    assert statuses[(DJANGO, "CVE-2022-34265")] == "fixed"
    return {"files": files, "sbom": sbom, "statuses": statuses, "tmp": tmp_path}


@pytest.mark.shared
@pytest.mark.parametrize("fmt", FORMATS)
def test_exported_vex_imported_into_a_fresh_store_gives_the_same_statuses(
    fmt: str,
    exported: dict[str, Any],
    kb: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = _release(kb, exported["tmp"] / f"fresh-{fmt}", exported["sbom"])
    argv = ["vex", "import", str(exported["files"][fmt]), "--product", "ABC", "--release", "4.2", "--db", db]
    capsys.readouterr()
    assert main([*argv, "--format", "json"]) == 0
    done = json.loads(capsys.readouterr().out)
    assert done["records"] == 4 and done["not_in_release"] == 0 and done["other_product"] == 0
    assert done["author"] == "ABC PSIRT"
    assert _statuses(db, capsys) == exported["statuses"]
    # read alone (no SBOM at hand), every statement about a component still carries its purl
    from mamori import vex

    doc = vex.read(exported["files"][fmt])
    purls = {p.purl for st in doc.statements if st.vulnerability.id != "CVE-2021-44228" for p in st.products}
    assert purls == {LOG4J, LODASH, DJANGO}


def _sbom_components(sbom: dict[str, Any]) -> list[dict[str, Any]]:
    out = []

    def walk(items: list[dict[str, Any]]) -> None:
        for c in items:
            out.append(c)
            walk(c.get("components", []))

    walk(sbom.get("components", []))
    return out


@pytest.mark.shared
@pytest.mark.filterwarnings("ignore:.*is deprecated from CycloneDX")
def test_cyclonedx_bomlinks_resolve_in_the_sbom_with_cyclonedx_python_lib(exported: dict[str, Any]) -> None:
    from cyclonedx.model.bom import Bom

    sbom = Bom.from_json(json.loads(exported["sbom"].read_text()))  # type: ignore[attr-defined]
    vex = Bom.from_json(json.loads(exported["files"]["cyclonedx"].read_text()))  # type: ignore[attr-defined]
    elements = {c.bom_ref.value: c for c in sbom.components}
    assert sbom.metadata.component is not None
    elements[sbom.metadata.component.bom_ref.value] = sbom.metadata.component
    mirrored = {c.bom_ref.value: c for c in vex.components}
    resolved: dict[tuple[str, str], str] = {}
    for vuln in vex.vulnerabilities:
        assert vuln.analysis is not None and vuln.analysis.state is not None
        for target in vuln.affects:
            found = BOMLINK.match(target.ref)
            assert found, target.ref
            serial, version, ref = found.groups()
            assert serial == str(sbom.serial_number) and int(version) == sbom.version
            element = elements[ref]  # the element the link names is in the SBOM
            copy = mirrored[ref]  # and the VEX carries its purl
            assert (copy.purl is None and element.purl is None) or str(copy.purl) == str(element.purl)
            resolved[(ref, vuln.id)] = vuln.analysis.state.value
    assert resolved == {
        ("product-ABC", "CVE-2021-44228"): "not_affected",
        (LOG4J, "CVE-2021-45046"): "not_affected",
        (LODASH, "CVE-2020-8203"): "exploitable",
        (DJANGO, "CVE-2022-34265"): "resolved",
    }


@pytest.mark.shared
def test_openvex_ids_are_purls_of_the_sbom_components(exported: dict[str, Any]) -> None:
    sbom = json.loads(exported["sbom"].read_text())
    by_purl = {_canon(c["purl"]): c for c in _sbom_components(sbom) if c.get("purl")}
    vex = json.loads(exported["files"]["openvex"].read_text())
    resolved = {}
    for st in vex["statements"]:
        for product in st["products"]:
            ident = product["@id"]
            if ident.startswith("pkg:"):
                resolved[(by_purl[_canon(ident)]["name"], st["vulnerability"]["name"])] = st["status"]
            else:  # the whole release: a BOM-Link to the SBOM's root (it has no purl)
                serial, version, ref = BOMLINK.match(ident).groups()  # type: ignore[union-attr]
                assert f"urn:uuid:{serial}" == sbom["serialNumber"] and int(version) == sbom["version"]
                assert ref == sbom["metadata"]["component"]["bom-ref"]
                resolved[(sbom["metadata"]["component"]["name"], st["vulnerability"]["name"])] = st["status"]
    assert resolved == {
        ("ABC", "CVE-2021-44228"): "not_affected",
        ("log4j-core", "CVE-2021-45046"): "not_affected",
        ("lodash", "CVE-2020-8203"): "affected",
        ("Django", "CVE-2022-34265"): "fixed",
    }


def _csaf_products(tree: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}

    def walk(branches: list[dict[str, Any]]) -> None:
        for b in branches:
            if "product" in b:
                out[b["product"]["product_id"]] = b["product"]
            walk(b.get("branches", []))

    walk(tree.get("branches", []))
    out.update({p["product_id"]: p for p in tree.get("full_product_names", [])})
    return out


@pytest.mark.shared
def test_csaf_is_schema_valid_and_its_purls_name_the_sbom_components(exported: dict[str, Any]) -> None:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    from mamori.vex.schemas import csaf_lib_schema_dir

    schema = json.loads(requires_shared(CSAF_SCHEMA).read_text(encoding="utf-8"))
    cvss = csaf_lib_schema_dir()
    if cvss is None:
        pytest.skip("the FIRST CVSS schemas the CSAF schema references are not installed (csaf-lib)")
    registry = Registry()
    for name, url in (
        ("cvss_v2_0.json", "https://www.first.org/cvss/cvss-v2.0.json"),
        ("cvss_v3_0.json", "https://www.first.org/cvss/cvss-v3.0.json"),
        ("cvss_v3_1.json", "https://www.first.org/cvss/cvss-v3.1.json"),
    ):
        registry = registry.with_resource(
            url, Resource.from_contents(json.loads((cvss / name).read_text()), DRAFT7)
        )
    csaf = json.loads(exported["files"]["csaf"].read_text())
    errors = [e.message for e in Draft202012Validator(schema, registry=registry).iter_errors(csaf)]
    assert errors == []
    sbom = json.loads(exported["sbom"].read_text())
    by_purl = {_canon(c["purl"]): c for c in _sbom_components(sbom) if c.get("purl")}
    products = _csaf_products(csaf["product_tree"])
    resolved = {}
    for vuln in csaf["vulnerabilities"]:
        for status, ids in vuln["product_status"].items():
            for pid in ids:
                helper = products[pid]["product_identification_helper"]
                if "purl" in helper:
                    name = by_purl[_canon(helper["purl"])]["name"]
                else:  # the whole release: its BOM-Link among the generic URIs
                    (uri,) = [u["uri"] for u in helper["x_generic_uris"]]
                    assert BOMLINK.match(uri).group(3) == sbom["metadata"]["component"]["bom-ref"]  # type: ignore[union-attr]
                    name = sbom["metadata"]["component"]["name"]
                resolved[(name, vuln["cve"])] = status
    assert resolved == {
        ("ABC", "CVE-2021-44228"): "known_not_affected",
        ("log4j-core", "CVE-2021-45046"): "known_not_affected",
        ("lodash", "CVE-2020-8203"): "known_affected",
        ("Django", "CVE-2022-34265"): "fixed",
    }


NODE_SCRIPT = """
import { readFileSync } from 'node:fs'
const lib = process.argv[2]
const validate = (await import(lib + '/validate.js')).default
const basic = await import(lib + '/basic.js')
const doc = JSON.parse(readFileSync(process.argv[3], 'utf8'))
const result = await validate(Object.values(basic), doc)
console.log(JSON.stringify({isValid: result.isValid,
  errors: result.tests.flatMap(t => t.errors.map(e => t.name + ': ' + e.instancePath + ' ' + e.message))}))
"""


@pytest.mark.shared
def test_csaf_passes_the_secvisogram_basic_validator(exported: dict[str, Any], tmp_path: Path) -> None:
    node = shutil.which("node")
    lib = validator_lib() if node else None
    if node is None or lib is None:
        pytest.skip("node, npm or @secvisogram/csaf-validator-lib absent")
    script = tmp_path / "validate.mjs"
    script.write_text(NODE_SCRIPT, encoding="utf-8")
    done = subprocess.run(
        [node, str(script), str(lib), str(exported["files"]["csaf"])],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result == {"isValid": True, "errors": []}

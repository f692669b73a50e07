"""keycloak-10.0.2 and dropwizard-1.3.15 (real CycloneDX SBOMs) against real CVE 5 records through
purl2cpe; and CPE matching rules (NVD configurations with AND/platform nodes, CVE 5 versions)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import orjson
import pytest

from conftest import SHARED_DATA
from mamori.match.cpe import CpeTarget, evaluate_configuration, parse_configuration
from mamori.match.cve5 import evaluate_product
from mamori.match.ecosystems import GENERIC
from mamori.model.cpe import parse_cpe
from mamori.sbom import read
from mamori.scan.run import scan_document, unique_components
from mamori.vulndb import nvd
from match_support import build_store, cve_file, purl2cpe_subset

SBOMS = SHARED_DATA / "sbom" / "cyclonedx"
CVES = [
    "CVE-2020-10672",
    "CVE-2020-10673",
    "CVE-2020-11111",
    "CVE-2020-36179",
    "CVE-2020-36181",
    "CVE-2022-38752",
    "CVE-2018-14335",
]


def _numbers(version: str) -> tuple[int, ...]:
    """Dotted numbers (independent of the matcher's version rules; enough for these records)."""
    return tuple(int(p) for p in re.findall(r"\d+", version))


def _stated(cve_id: str, vendor: str, product: str) -> list[dict[str, str]]:
    """The CVE record's own version entries for vendor:product (CNA and ADP containers)."""
    doc = json.loads(cve_file(cve_id).read_text(encoding="utf-8"))
    containers = [doc["containers"]["cna"], *doc["containers"].get("adp", [])]
    out = []
    for container in containers:
        for affected in container.get("affected", []):
            if any(f":{vendor}:{product}:" in cpe for cpe in affected.get("cpes", [])):
                out.extend(affected.get("versions", []))
    assert out, (cve_id, vendor, product)
    return out


def _expected(cve_id: str, vendor: str, product: str, installed: str) -> tuple[bool, str | None]:
    """Affected by the record's statement, and the bound it names as the fix."""
    for entry in _stated(cve_id, vendor, product):
        start = entry["version"]
        low = () if start in ("0", "*", "-", "unspecified") else _numbers(start)
        if "lessThan" in entry:
            if low <= _numbers(installed) < _numbers(entry["lessThan"]):
                return True, entry["lessThan"]
        elif _numbers(start) == _numbers(installed):
            return True, None
    return False, None


@pytest.fixture(scope="module")
def scans(shared_data, tmp_path_factory):
    docs = {name: read(SBOMS / name / "bom.json") for name in ("keycloak-10.0.2", "dropwizard-1.3.15")}
    folder = tmp_path_factory.mktemp("cpe")
    purls = [c.purl for d in docs.values() for c in d.all_components() if c.purl]
    files = [cve_file(c) for c in CVES] + [purl2cpe_subset(folder, purls)]
    with build_store(folder, files) as store:
        yield {
            name: scan_document(doc, store, target=name, sbom_format="cyclonedx-json")
            for name, doc in docs.items()
        }


CHECKS = [
    # (sbom, component, version, cve, vendor, product)
    ("dropwizard-1.3.15", "jackson-databind", "2.9.10", "CVE-2020-10672", "fasterxml", "jackson-databind"),
    ("dropwizard-1.3.15", "jackson-databind", "2.9.10", "CVE-2020-36179", "fasterxml", "jackson-databind"),
    ("keycloak-10.0.2", "jackson-databind", "2.10.1", "CVE-2020-10672", "fasterxml", "jackson-databind"),
    ("keycloak-10.0.2", "jackson-databind", "2.10.1", "CVE-2020-11111", "fasterxml", "jackson-databind"),
    ("dropwizard-1.3.15", "snakeyaml", "1.23", "CVE-2022-38752", "snakeyaml_project", "snakeyaml"),
    ("keycloak-10.0.2", "snakeyaml", "1.14", "CVE-2022-38752", "snakeyaml_project", "snakeyaml"),
    ("keycloak-10.0.2", "h2", "1.4.197", "CVE-2018-14335", "h2database", "h2"),
    ("dropwizard-1.3.15", "h2", "1.4.197", "CVE-2018-14335", "h2database", "h2"),
]


@pytest.mark.parametrize(("sbom", "name", "version", "cve", "vendor", "product"), CHECKS)
def test_findings_agree_with_the_versions_the_cve_states(
    scans, sbom, name, version, cve, vendor, product
) -> None:
    expected, fix = _expected(cve, vendor, product, version)
    found = [
        f
        for f in scans[sbom].findings
        if f.component.name == name and f.component.version == version and f.vulnerability.id == cve
    ]
    assert bool(found) == expected
    if found:
        (finding,) = found
        assert finding.match.method == "purl2cpe"
        assert finding.match.confidence == "low"
        assert f"{vendor}:{product}" in finding.match.detail
        assert "cve5" in finding.vulnerability.sources
        assert finding.nearest_fixed == fix


def test_every_finding_comes_through_purl2cpe_from_a_cve5_record(scans) -> None:
    for name, result in scans.items():
        assert result.findings, name
        assert {f.match.method for f in result.findings} == {"purl2cpe"}
        assert result.components == len(unique_components(read(SBOMS / name / "bom.json")))
    dropwizard = {(f.component.name, f.vulnerability.id) for f in scans["dropwizard-1.3.15"].findings}
    keycloak = {(f.component.name, f.vulnerability.id) for f in scans["keycloak-10.0.2"].findings}
    assert ("jackson-databind", "CVE-2020-36179") in dropwizard
    assert not any(name == "jackson-databind" for name, _ in keycloak)  # 2.10.1 is past every fix stated


def _nvd_configurations(path: Path) -> list[dict]:
    """NVD 2.0 configurations of a record file, through the importer, in the store's shape."""
    records = [r for r in nvd.parse_document(json.loads(path.read_text(encoding="utf-8")), path.name)]
    return [orjson.loads(orjson.dumps(c)) for r in records for c in r.cpe_configurations]


def _target(cpe: str, version: str) -> CpeTarget:
    name = parse_cpe(cpe)
    assert name is not None
    return CpeTarget(name, version, GENERIC)


def test_and_configuration_needs_its_platform_node_only_as_running_on(shared_data) -> None:
    configs = _nvd_configurations(shared_data / "nvd" / "CVE-2021-0002-duplicate-exact-version-matches.json")
    firmware = parse_configuration(configs[0], 0)
    assert firmware.operator == "AND"
    target = _target("cpe:2.3:o:intel:ethernet_controller_e810_firmware:1.4.10:*:*:*:*:linux:*:*", "1.4.10")
    verdict = evaluate_configuration(firmware, target, lambda m: False)
    assert verdict.affected and "running on cpe:2.3:h:intel:ethernet_controller_e810" in verdict.detail
    assert verdict.fixed == "1.4.11"
    fixed = _target("cpe:2.3:o:intel:ethernet_controller_e810_firmware:1.4.11:*:*:*:*:linux:*:*", "1.4.11")
    assert evaluate_configuration(firmware, fixed, lambda m: False).affected is False
    windows = _target(
        "cpe:2.3:o:intel:ethernet_controller_e810_firmware:1.4.10:*:*:*:*:windows:*:*", "1.4.10"
    )
    assert evaluate_configuration(firmware, windows, lambda m: False).affected is False  # target_sw differs
    hardware = _target("cpe:2.3:h:intel:ethernet_controller_e810:-:*:*:*:*:*:*:*", "-")
    assert evaluate_configuration(firmware, hardware, lambda m: True).affected is False  # vulnerable: false


def test_and_configuration_with_two_vulnerable_nodes_needs_the_other_in_the_sbom(shared_data) -> None:
    configs = _nvd_configurations(shared_data / "nvd" / "CVE-2021-0002-duplicate-exact-version-matches.json")
    config = configs[0]
    config["nodes"][1]["matches"][0]["vulnerable"] = True  # both nodes vulnerable: AND of two products
    parsed = parse_configuration(config, 0)
    target = _target("cpe:2.3:o:intel:ethernet_controller_e810_firmware:1.4.10:*:*:*:*:linux:*:*", "1.4.10")
    assert evaluate_configuration(parsed, target, lambda m: False).affected is False
    assert evaluate_configuration(parsed, target, lambda m: True).affected is True


def test_bounded_and_exact_cpe_matches(shared_data) -> None:
    (config,) = [
        parse_configuration(c, i)
        for i, c in enumerate(_nvd_configurations(shared_data / "nvd" / "cve-2024-23113.json"))
    ]
    assert evaluate_configuration(
        config, _target("cpe:2.3:o:fortinet:fortios:*:*:*:*:*:*:*:*", "7.2.6"), lambda m: False
    ).affected
    assert not evaluate_configuration(
        config, _target("cpe:2.3:o:fortinet:fortios:*:*:*:*:*:*:*:*", "7.2.7"), lambda m: False
    ).affected
    assert not evaluate_configuration(
        config, _target("cpe:/o:fortinet:fortios:6.4.15", "6.4.15"), lambda m: False
    ).affected
    assert evaluate_configuration(
        config, _target("cpe:/o:fortinet:fortios:7.4.1", "7.4.1"), lambda m: False
    ).affected
    struts = [
        parse_configuration(c, i)
        for i, c in enumerate(_nvd_configurations(shared_data / "nvd" / "CVE-2017-5638-cvssv3-rating.json"))
    ]
    hit = _target("cpe:2.3:a:apache:struts:2.3.6:*:*:*:*:*:*:*", "2.3.6")
    assert any(evaluate_configuration(c, hit, lambda m: False).affected for c in struts)
    miss = _target("cpe:2.3:a:apache:struts:2.3.7:*:*:*:*:*:*:*", "2.3.7")
    assert not any(evaluate_configuration(c, miss, lambda m: False).affected for c in struts)


def test_cve5_unaffected_entries_win_and_series_wildcards() -> None:
    # The Linux kernel CNA's pattern: one broad affected range, stable branches stated unaffected.
    product = {
        "record_id": "CVE-TEST",
        "default_status": "unaffected",
        "versions": [
            {"version": "5.4", "status": "affected", "less_than": "6.1", "version_type": "semver"},
            {
                "version": "5.10.100",
                "status": "unaffected",
                "less_than_or_equal": "5.10.*",
                "version_type": "semver",
            },
        ],
    }
    assert evaluate_product(product, "5.10.50", None, "linux").affected is True
    assert evaluate_product(product, "5.10.120", None, "linux").affected is False
    assert evaluate_product(product, "6.1.0", None, "linux").affected is False
    assert evaluate_product(product, "5.10.50", None, "linux").fixed == "5.10.100"
    git = {
        "record_id": "CVE-TEST",
        "versions": [{"version": "abc123", "status": "affected", "version_type": "git"}],
    }
    assert evaluate_product(git, "1.0", None, "x").affected is None

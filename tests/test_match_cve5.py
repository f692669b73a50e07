"""CVE 5 version rules: commit hashes are no versions, ``*`` series bounds, ``defaultStatus``, and the
products of one record read together (the CNA's before CISA ADP enrichment).

Rule tests use product entries in the stored form of the importer; the kernel tests import the real
Linux kernel CNA records of ../shared/data/cve5 (with their CISA ADP containers) and scan a
CycloneDX SBOM naming the kernel by CPE, checking every finding against an independent reading of
each record's own release-number entries.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from conftest import SHARED_DATA
from mamori.match.cve5 import commit_like, evaluate_product, evaluate_record, version_text
from mamori.model import merge
from mamori.model.vulnerability import vulnerability_from_dict
from mamori.sbom import read
from mamori.scan.result import ScanResult
from mamori.scan.run import scan_document
from mamori.store import open_store
from mamori.vulndb import cve5
from mamori.vulndb.importer import import_blobs
from mamori.vulndb.products import derived_cpes, parse_catalog
from mamori.vulndb.show_text import show_lines
from mamori.vulndb.sources import Blob
from match_support import cve_file

KERNEL_CPE = "cpe:2.3:o:linux:linux_kernel:{}:*:*:*:*:*:*:*"
VERSIONS = ("6.1.0", "5.10.20", "5.10.100", "4.19.0", "5.15.0", "4.5.0")
HASH = re.compile(r"[0-9a-f]{7,64}")


def _product(*entries: dict[str, Any], default: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"record_id": "CVE-TEST", "versions": list(entries), "default_status": default, **extra}


def _range(start: str, status: str = "affected", vt: str | None = "custom", **bounds: Any) -> dict[str, Any]:
    keys = {"lt": "less_than", "lte": "less_than_or_equal", "changes": "changes"}
    return {"version": start, "status": status, "version_type": vt, **{keys[k]: v for k, v in bounds.items()}}


# -- values that are no versions ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "commit", "version"),
    [
        ("958cb1078ca6", True, False),
        ("1da177e4c3f4", True, False),
        ("da177e4c3f4", True, False),  # CISA ADP's copy of 1da177e4c3f4 lost a digit
        ("afd30525a659ac0ae0904f0cb4a2ca75522c3123", True, False),
        ("20210101", False, True),  # all digits: a date-like version, not a commit
        ("5.10.47", False, True),
        ("v6.1-rc1", False, True),
        ("Before v2.24.1", False, False),
        ("<= 4.4.11", False, False),
        ("publication", False, False),
        ("unspecified", False, False),
        ("pkg:npm/sysend@1.10.0", False, False),
    ],
)
def test_commit_hashes_and_text_are_no_versions(text: str, commit: bool, version: bool) -> None:
    assert commit_like(text) is commit
    assert version_text(text) is version


def test_a_commit_range_under_custom_is_never_compared_with_a_release() -> None:
    # CISA ADP's copy of a kernel git range, typed custom (CVE-2021-47284)
    hashed = _range("1da177e4c3f4", lt="958cb1078ca6")
    for default in (None, "unknown", "unaffected"):
        verdict = evaluate_product(_product(hashed, default=default), "6.1.0", None, "linux")
        assert verdict.affected is None, default  # might be inside the commit range: cannot tell
        assert verdict.fixed is None and "cannot be compared" in (verdict.reason or "")
    # every status the product could give is "affected": affected, with no fix (no hash as fix)
    every = evaluate_product(_product(hashed, default="affected"), "6.1.0", None, "linux")
    assert every.affected is True and every.fixed is None
    assert "958cb1078ca6" not in every.detail
    git = _range("1da177e4c3f4", vt="git", lt="958cb1078ca6")
    assert evaluate_product(_product(git, default="unaffected"), "6.1.0", None, "linux").affected is None


def test_comparable_entries_decide_next_to_commit_ranges() -> None:
    product = _product(
        _range("1da177e4c3f4", lt="958cb1078ca6"),
        _range("5.10.44", "unaffected", lte="5.10.*"),
        _range("5.13", "unaffected", vt="original_commit_for_fix", lte="*"),
        default="affected",
    )
    assert evaluate_product(product, "6.1.0", None, "linux").affected is False
    assert evaluate_product(product, "5.10.100", None, "linux").affected is False
    # not covered by a comparable entry, but maybe by the commit range (status affected) or the
    # default (affected): affected either way, the fix is the next unaffected release
    verdict = evaluate_product(product, "5.10.20", None, "linux")
    assert verdict.affected is True and verdict.fixed == "5.10.44"
    assert "958cb1078ca6" not in verdict.detail and "5.10.44" in verdict.detail


# -- "*" bounds: infinity, not a wildcard -------------------------------------------------------


@pytest.mark.parametrize(
    ("installed", "covered"),
    [("0.9", False), ("1.0", True), ("1.9.9", True), ("2.0", True), ("2.99.1", True), ("3.0", False)],
)
def test_less_than_a_series_covers_the_whole_series(installed: str, covered: bool) -> None:
    # the schema's own example: {version: 1.0, lessThan: 2.*} is the entire 1.X and 2.X series
    product = _product(_range("1.0", vt="semver", lt="2.*"), default="unaffected")
    assert evaluate_product(product, installed, None, "x").affected is covered


@pytest.mark.parametrize(
    ("installed", "affected", "fixed"),
    [
        ("5.9.3", False, None),  # "0 lessThan 5.10": before the vulnerable code came in
        ("5.10", True, "5.10.47"),  # the release the CNA names affected
        ("5.10.46", True, "5.10.47"),  # in no entry: defaultStatus affected
        ("5.10.47", False, None),
        ("5.10.200", False, None),  # "5.10.47 lessThanOrEqual 5.10.*": the rest of the 5.10 series
        ("5.11.2", True, "5.13"),  # past 5.10.*: outside that unaffected range
        ("5.13", False, None),
        ("6.1.0", False, None),
    ],
)
def test_kernel_branch_pattern(installed: str, affected: bool, fixed: str | None) -> None:
    # the kernel CNA's release-number product (CVE-2021-47284 and others)
    product = _product(
        {"version": "5.10", "status": "affected"},
        _range("0", "unaffected", lt="5.10"),
        _range("5.10.47", "unaffected", lte="5.10.*"),
        _range("5.13", "unaffected", vt="original_commit_for_fix", lte="*"),
        default="affected",
    )
    verdict = evaluate_product(product, installed, None, "linux")
    assert (verdict.affected, verdict.fixed) == (affected, fixed)


def test_a_series_bound_covers_lower_series_from_its_start() -> None:
    product = _product(_range("0", lte="5.10.*"), default="unaffected")
    assert evaluate_product(product, "4.19.300", None, "x").affected is True
    assert evaluate_product(product, "5.10.999", None, "x").affected is True
    assert evaluate_product(product, "5.11", None, "x").affected is False
    branch = _product(_range("5.10.47", "unaffected", lte="5.10.*"), default="affected")
    assert evaluate_product(branch, "5.9.3", None, "x").fixed == "5.10.47"  # below its start


# -- defaultStatus ------------------------------------------------------------------------------


def test_default_status_decides_outside_every_entry() -> None:
    fixed_in = _range("2.0", "unaffected", vt="semver", lt="*")
    affected = evaluate_product(_product(fixed_in, default="affected"), "1.4.0", None, "x")
    assert affected.affected is True and affected.fixed == "2.0"
    assert evaluate_product(_product(fixed_in, default="unaffected"), "1.4.0", None, "x").affected is False
    assert evaluate_product(_product(fixed_in, default="unknown"), "1.4.0", None, "x").affected is False
    assert evaluate_product(_product(fixed_in), "1.4.0", None, "x").affected is False
    assert evaluate_product(_product(fixed_in, default="affected"), "2.1.0", None, "x").affected is False
    # no entries: the default alone
    assert evaluate_product(_product(default="affected"), "9.9", None, "x").affected is True
    assert evaluate_product(_product(default="unaffected"), "9.9", None, "x").affected is False


def test_bounds_that_are_no_versions_only_exclude_what_the_other_bound_excludes() -> None:
    # real records write "lessThan: unspecified" for an open or unknown end
    product = _product(_range("8.14.0", lt="unspecified"), default="unaffected")
    assert evaluate_product(product, "8.13.2", None, "x").affected is False  # below the start
    assert evaluate_product(product, "8.15.0", None, "x").affected is None
    text = _product({"version": "Before v2.24.1", "status": "affected"}, default="unknown")
    assert evaluate_product(text, "2.20.0", None, "git").affected is None


def test_changes_are_resorted_and_give_the_next_fix() -> None:
    entry = _range(
        "2.0.0",
        vt="semver",
        lt="2.*",
        changes=[
            {"at": "2.6.3", "status": "unaffected"},
            {"at": "2.5.2", "status": "unaffected"},
            {"at": "2.6.0", "status": "affected"},
        ],
    )
    product = _product(entry, default="unaffected")
    cases = {
        "2.5.1": (True, "2.5.2"),
        "2.5.5": (False, None),
        "2.6.1": (True, "2.6.3"),
        "2.7.0": (False, None),
    }
    for installed, (affected, fixed) in cases.items():
        verdict = evaluate_product(product, installed, None, "x")
        assert (verdict.affected, verdict.fixed) == (affected, fixed), installed


# -- the kernel CPE identity --------------------------------------------------------------------


def test_catalog_names_the_kernel_cna_product_and_rejects_malformed_entries() -> None:
    stable = "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git"
    assert derived_cpes("Linux", "Linux", stable) == [KERNEL_CPE.format("*")]
    assert derived_cpes("Linux", "Linux", stable + "/") == [KERNEL_CPE.format("*")]
    assert derived_cpes("Linux", "Linux Kernel", None) == [KERNEL_CPE.format("*")]
    assert derived_cpes("Linux", "Linux", None) == []  # "Linux" alone says too little
    assert derived_cpes("Apache", "Struts", None) == []
    with pytest.raises(ValueError, match=r"products\[0\].*no CPE"):
        parse_catalog({"products": [{"cpe": "linux kernel", "repos": [stable]}]})
    with pytest.raises(ValueError, match="neither"):
        parse_catalog({"products": [{"cpe": KERNEL_CPE.format("*")}]})


def test_import_keeps_the_cna_product_and_adds_the_kernel_cpe_apart(shared_data: Path) -> None:
    path = cve_file("CVE-2021-47284")
    record = cve5.parse_record(orjson.loads(path.read_bytes()), str(path))
    cna = [p for p in record.affected_products if p.container == "cna"]
    adp = [p for p in record.affected_products if p.container == "adp"]
    assert len(cna) == 2 and len(adp) == 16
    assert all(p.cpes == [] and p.derived_cpes == [KERNEL_CPE.format("*")] for p in cna)
    assert all(p.cpes and p.derived_cpes == [] and p.provider == "CISA-ADP" for p in adp)
    merged = vulnerability_from_dict(merge.combine_data([merge.as_data(record)], record.id))
    en, ja = (show_lines(merged, lang) for lang in ("en", "ja"))
    stable = "Linux / Linux / https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git"
    assert f"CPE mamori gives the product {stable}: {KERNEL_CPE.format('*')}" in "\n".join(en)
    assert f"製品 {stable} に mamori が対応付ける CPE：{KERNEL_CPE.format('*')}" in "\n".join(ja)


# -- the real kernel records --------------------------------------------------------------------


def _kernel_files() -> list[Path]:
    """The records of the kernel CNA and every record CISA ADP names linux_kernel in."""
    out = []
    for path in sorted((SHARED_DATA / "cve5").rglob("CVE-*.json")):
        data = path.read_bytes()
        if b'"assignerShortName": "Linux"' in data or b":linux:linux_kernel:" in data:
            out.append(path)
    return out


def _key(version: str) -> tuple[int, ...]:
    """Kernel release order, written apart from the matcher: numbers, then -rcN before the release."""
    found = re.match(r"v?(\d+(?:\.\d+)*)(?:-rc(\d+))?$", version.strip())
    assert found, version
    numbers = [int(x) for x in found.group(1).split(".")] + [0, 0, 0]
    return (*numbers[:4], 0 if found.group(2) else 1, int(found.group(2) or 0))


def _outside(entry: dict[str, Any], version: str) -> bool:
    start, bound = entry["version"], entry.get("lessThan", entry.get("lessThanOrEqual"))
    if start != "0" and _key(version) < _key(start):
        return True
    if bound.endswith(".*"):
        series = [int(x) for x in bound[:-2].split(".")]
        return [int(x) for x in version.split(".")[: len(series)]] > series
    if bound == "*":
        return False
    return _key(version) >= _key(bound) if "lessThan" in entry else _key(version) > _key(bound)


def _stated(record: dict[str, Any], version: str) -> tuple[bool, str | None]:
    """What the kernel CNA's release-number entries say (the schema's algorithm: the entry that
    matches, else defaultStatus), and the nearest fix they name above ``version``: the end of the
    affected range (``lessThan``) or a release stated unaffected."""
    affected, fixes = False, []
    for product in record["containers"]["cna"]["affected"]:
        entries = [e for e in product.get("versions", []) if e.get("versionType") != "git"]
        if not entries:
            continue
        status, end = product.get("defaultStatus", "unknown"), None
        for e in entries:
            if "lessThan" not in e and "lessThanOrEqual" not in e:
                if e["version"] != "0" and _key(e["version"]) == _key(version):
                    status = e["status"]
                    break
            elif not _outside(e, version):
                status, end = e["status"], e.get("lessThan")
                break
        if status == "affected":
            affected = True
            fixes += [end] if end and not end.endswith("*") else []
            fixes += [
                e["version"]
                for e in entries
                if e["status"] == "unaffected" and e["version"] != "0" and _key(e["version"]) > _key(version)
            ]
    return affected, min(fixes, key=_key) if fixes else None


@pytest.fixture(scope="module")
def kernel(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("kernel")
    files = _kernel_files()
    assert len(files) > 1100
    sbom = folder / "kernel.cdx.json"
    sbom.write_text(
        json.dumps(
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.5",
                "version": 1,
                "components": [
                    {
                        "type": "operating-system",
                        "bom-ref": v,
                        "name": "linux_kernel",
                        "version": v,
                        "cpe": KERNEL_CPE.format(v),
                    }
                    for v in VERSIONS
                ],
            }
        ),
        encoding="utf-8",
    )
    store = open_store(folder / "kb.db")
    import_blobs(store, [Blob(p.name, p.read_bytes()) for p in files], origin="shared cve5", source="cve5")
    result = scan_document(read(sbom), store, target="kernel", sbom_format="cyclonedx-json")
    yield {"result": result, "files": files, "store": store}
    store.close()


def _findings(result: ScanResult, version: str) -> dict[str, list[str]]:
    return {f.vulnerability.id: f.fixed_versions for f in result.findings if f.component.version == version}


def test_kernel_6_1_is_not_affected_by_a_cve_fixed_in_5_13(kernel: dict[str, Any]) -> None:
    # CVE-2021-47284: the CNA says 5.13 and later (and the stable branches from 4.4.273 …) unaffected;
    # its git ranges and CISA ADP's copy of them (typed custom) used to give "fixed 958cb1078ca6"
    found = _findings(kernel["result"], "6.1.0")
    assert "CVE-2021-47284" not in found
    assert (
        "CVE-2022-48655" not in found
    )  # CNA: 6.0 and later unaffected; ADP's "5.4, default affected" yields


def test_kernel_inside_an_affected_branch_gets_the_branch_fix(kernel: dict[str, Any]) -> None:
    result = kernel["result"]
    assert _findings(result, "5.10.20")["CVE-2021-47284"] == ["5.10.44"]
    assert _findings(result, "4.19.0")["CVE-2021-47284"] == ["4.19.195"]
    assert "CVE-2021-47284" not in _findings(result, "5.10.100")  # 5.10.44 and later 5.10.x
    (finding,) = [
        f
        for f in result.findings
        if f.vulnerability.id == "CVE-2021-47284" and f.component.version == "5.10.20"
    ]
    assert finding.match.method == "cpe-config"
    assert not HASH.search(finding.match.detail)


def test_no_kernel_finding_has_a_commit_as_fixed_version(kernel: dict[str, Any]) -> None:
    result = kernel["result"]
    assert len(result.findings) > 1000
    fixes = [v for f in result.findings for v in f.fixed_versions]
    assert fixes and not [v for v in fixes if commit_like(v)]
    for f in result.findings:
        assert not any(commit_like(word.strip("[];,()")) for word in f.match.detail.split()), f.match.detail


@pytest.mark.parametrize("version", VERSIONS)
def test_kernel_findings_agree_with_the_cna_release_entries(kernel: dict[str, Any], version: str) -> None:
    found = _findings(kernel["result"], version)
    checked = 0
    for path in kernel["files"]:
        record = json.loads(path.read_text(encoding="utf-8"))
        meta = record["cveMetadata"]
        if meta["assignerShortName"] != "Linux" or meta["state"] != "PUBLISHED":
            continue
        products = record["containers"]["cna"]["affected"]
        if not any(e.get("versionType") != "git" for p in products for e in p.get("versions", [])):
            continue  # commit ranges only: checked below
        checked += 1
        affected, fix = _stated(record, version)
        cve = meta["cveId"]
        assert (cve in found) is affected, (cve, version)
        if affected:
            assert (found[cve][:1] or [None]) == [fix], (cve, version, found[cve], fix)
    assert checked > 1000


def test_a_kernel_record_with_commit_ranges_only_is_not_evaluated(shared_data: Path) -> None:
    # every published kernel CNA record here states release numbers too; without them (the CNA's
    # git product alone, no ADP enrichment) nothing can be compared: not evaluated, with the reason
    doc = json.loads(cve_file("CVE-2021-47284").read_text(encoding="utf-8"))
    doc["containers"]["cna"]["affected"] = doc["containers"]["cna"]["affected"][:1]
    doc["containers"]["adp"] = [a for a in doc["containers"]["adp"] if "affected" not in a]
    assert {v["versionType"] for v in doc["containers"]["cna"]["affected"][0]["versions"]} == {"git"}
    products = merge.as_data(cve5.parse_record(doc, "CVE-2021-47284.json"))["affected_products"]
    for version in VERSIONS:
        verdict = evaluate_record(products, version, None, "linux:linux_kernel")
        assert verdict.affected is None and "git commit ranges" in (verdict.reason or ""), version


def test_the_cna_decides_before_cisa_adp(kernel: dict[str, Any]) -> None:
    # CVE-2021-47284: CISA ADP rewrote the CNA's "4.4.273 lessThanOrEqual 4.4.*" as "… 4.5", which
    # states 4.5.0 unaffected; the CNA's entries leave 4.5 to defaultStatus affected (fixed 4.9.273)
    path = cve_file("CVE-2021-47284")
    data = merge.as_data(cve5.parse_record(orjson.loads(path.read_bytes()), str(path)))
    adp = [p for p in data["affected_products"] if p["container"] == "adp"]
    assert any(p["versions"][0]["less_than_or_equal"] == "4.5" for p in adp)
    assert evaluate_record(adp, "4.5.0", None, "linux:linux_kernel").affected is False
    assert _findings(kernel["result"], "4.5.0")["CVE-2021-47284"] == ["4.9.273"]
    # CVE-2022-48655: ADP's "5.4, defaultStatus affected" alone says 6.1.0 is affected; the CNA's
    # "6.0 lessThanOrEqual *" says unaffected, and decides
    path = cve_file("CVE-2022-48655")
    data = merge.as_data(cve5.parse_record(orjson.loads(path.read_bytes()), str(path)))
    adp = [p for p in data["affected_products"] if p["container"] == "adp"]
    assert evaluate_record(adp, "6.1.0", None, "linux:linux_kernel").affected is True
    assert "CVE-2022-48655" not in _findings(kernel["result"], "6.1.0")

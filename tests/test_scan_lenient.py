"""``mamori scan`` of SBOMs with flaws: every Dependency-Track test BOM scans (with its warnings) or is refused
in one line naming the file, and a real SBOM broken in one field of one component still gives every other
component's findings. The knowledge base is built from the OSV records of the bundled demo set (real OSV
format, in the package: no network, no loopback server)."""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import pytest

from conftest import SHARED_DATA, requires_shared, shared_files
from mamori.cli.main import main
from mamori.store import open_store
from mamori.vulndb import import_path
from mamori.vulndb.coverage import CoverageClaim

DT = SHARED_DATA / "sbom" / "dependency-track-tests"
JUICE_SHOP = SHARED_DATA / "sbom" / "cyclonedx" / "juice-shop" / "v11.1.2" / "bom.json"

# Every file of dependency-track-tests and what a scan does with it (exit 2 only for "refused").
#   scan: (components, warnings by code) — why
#   refused: the one-line problem — why
DT_TABLE: dict[str, tuple[str, Any, str]] = {
    "bom-1.xml": ("scan", (1, {}), "valid CycloneDX 1.5 XML"),
    "bom-component-property.json": ("scan", (1, {"no_version": 1}), "acme-lib has neither version nor purl"),
    "bom-custom-license.json": (
        "scan",
        (3, {"no_version": 3}),
        "licence names that are no SPDX ids become LicenseRefs (not a flaw); the three libraries have no version",
    ),
    "bom-empty.json": ("scan", (0, {}), "an empty components array is a valid BOM"),
    "bom-invalid-license-expression.json": (
        "scan",
        (1, {"invalid_licence": 1}),
        "'(invalid' is no SPDX expression: a warning on tomcat-catalina, the licence left out",
    ),
    "bom-invalid.json": (
        "refused",
        "invalid JSON at line 2 column 28: unexpected end of data",
        "the file stops after two lines: not JSON, nothing to read",
    ),
    "bom-issue1905.json": ("scan", (2, {}), "Go modules with nested package components"),
    "bom-issue2519.xml": ("scan", (2184, {}), "a large 1.5 XML BOM"),
    "bom-issue2859.xml": ("scan", (1, {}), "valid 1.4 XML"),
    "bom-issue3309.json": ("scan", (0, {}), "metadata only, no components"),
    "bom-issue3936-author.json": ("scan", (1, {}), "the 1.5 author field"),
    "bom-issue3936-authors.json": ("scan", (1, {}), "the 1.6 authors array"),
    "bom-issue3936-both.json": ("scan", (1, {}), "author and authors together"),
    "bom-issue4008.xml": ("scan", (1, {}), "valid 1.4 XML"),
    "bom-issue4455.json": ("scan", (23, {}), "valid 1.6 JSON"),
    "bom-license-expression-single-license.json": ("scan", (1, {}), "an expression of one licence"),
    "bom-license-expression.json": ("scan", (1, {}), "a compound expression"),
    "bom-metadata-components.json": ("scan", (151, {}), "components nested in the metadata component"),
    "bom-metadata-timestamp.json": ("scan", (0, {}), "no components"),
    "bom-metadata-tool-deprecated.json": ("scan", (0, {}), "the deprecated tools array"),
    "bom-metadata-tool.json": ("scan", (0, {}), "the 1.5 tools object"),
    "bom-no-purl.json": ("scan", (1, {"no_version": 1}), "acme-lib has neither purl nor version"),
    "bom-service.json": ("scan", (1, {}), "a service beside a component"),
    **{
        f"valid-bom-1.{minor}.{ext}": ("scan", (3 if ext == "xml" or minor == 7 else 2, {}), "valid")
        for minor in range(8)
        for ext in ("json", "xml")
        if not (ext == "json" and minor < 2)
    },
    "vex-issue2549.json": ("scan", (0, {}), "a VEX document: vulnerabilities, no components"),
}


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("lenient-kb")
    osv = resources.files("mamori").joinpath("data/demo/osv")
    with open_store(folder / "kb.db") as store:  # the demo records stand for whole feeds of their ecosystems
        for entry in sorted(osv.iterdir(), key=lambda e: e.name):
            import_path(store, Path(str(entry)), complete=[CoverageClaim("osv")])
    return str(folder / "kb.db")


def _scan(kb: str, sbom: Path, out: Path, *extra: str) -> int:
    return main(["scan", str(sbom), "--db", kb, "--format", "json", "-o", str(out), "--lang", "en", *extra])


def test_the_table_lists_every_file() -> None:
    files = {p.name for p in shared_files("sbom", "dependency-track-tests")}
    if not files:
        pytest.skip("../shared/data is absent")
    assert files == set(DT_TABLE)


@pytest.mark.shared
@pytest.mark.parametrize("path", shared_files("sbom", "dependency-track-tests"), ids=lambda p: p.name)
def test_every_dependency_track_bom_scans_or_is_refused_in_one_line(
    path: Path, kb: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    outcome, expected, _why = DT_TABLE[path.name]
    out = tmp_path / "r.json"
    code = _scan(kb, path, out)
    err = capfd.readouterr().err
    if outcome == "refused":
        assert code == 2
        assert err.splitlines() == [f"mamori: error: {path}: {expected}"]
        assert not out.exists()
        return
    assert code != 2  # 0, or 3 once partial knowledge is "cannot judge"
    components, codes = expected
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["sbom"]["components"] <= components  # identical components are matched once
    found: dict[str, int] = {}
    for warning in data["warnings"]:
        found[warning["code"]] = found.get(warning["code"], 0) + 1
        assert warning["file"] == str(path)
    assert found == codes
    warning_lines = [line for line in err.splitlines() if line.startswith("mamori: warning: ")]
    assert len(warning_lines) == sum(codes.values())
    assert all(line.startswith(f"mamori: warning: {path}: ") for line in warning_lines)
    for item in data["not_evaluated"]:
        if item["component"]["version"] is None and item["component"]["purl"] is None:
            assert "no version" in item["reason"]


@pytest.mark.shared
def test_invalid_licence_expression_scans_with_one_warning(kb: str, tmp_path: Path, capfd) -> None:
    path = requires_shared(DT / "bom-invalid-license-expression.json")
    out = tmp_path / "r.json"
    assert _scan(kb, path, out) == 3  # read and scanned; its one component has no purl or CPE to look up
    err = capfd.readouterr().err
    assert (
        f"mamori: warning: {path}: component tomcat-catalina@9.0.14: components[0].licenses: "
        "invalid SPDX licence expression '(invalid' (Invalid expression)"
    ) in err.splitlines()
    (warning,) = json.loads(out.read_text(encoding="utf-8"))["warnings"]
    assert warning == {
        "file": str(path),
        "component": "tomcat-catalina@9.0.14",
        "field": "components[0].licenses",
        "code": "invalid_licence",
        "value": "(invalid",
        "message": "invalid SPDX licence expression '(invalid' (Invalid expression)",
    }
    assert [n["reason_code"] for n in json.loads(out.read_text(encoding="utf-8"))["not_evaluated"]] == [
        "no-identifier"
    ]
    assert _scan(kb, path, out, "--lang", "ja", "--allow-partial") == 0
    assert "mamori: 警告: " in capfd.readouterr().err


@pytest.mark.shared
def test_convert_is_lenient_and_strict_on_request(tmp_path: Path, capfd) -> None:
    path = requires_shared(DT / "bom-invalid-license-expression.json")
    out = tmp_path / "out.spdx.json"
    assert main(["sbom", "convert", str(path), "-o", str(out), "--lang", "en"]) == 0
    assert "mamori: warning: " in capfd.readouterr().err and out.exists()
    out.unlink()
    assert main(["sbom", "convert", str(path), "-o", str(out), "--strict"]) == 2
    (line,) = capfd.readouterr().err.splitlines()
    assert line.startswith(f"mamori: error: {path}: components[0].licenses: invalid SPDX licence expression")
    assert not out.exists()


# ------------------------------------------------------------------ a real SBOM, one field broken per kind


def _findings(data: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["component"]["purl"], f["vulnerability"]["id"]) for f in data["findings"]}


def _component(bom: dict[str, Any], purl: str) -> dict[str, Any]:
    return next(c for c in bom["components"] if c.get("purl") == purl)


VICTIM = "pkg:npm/lodash@2.4.2"
# kind → (how to break the victim (or the document), field named by the warning, code)
BREAKS: dict[str, tuple[Any, str, str]] = {
    "licence": (lambda c, b: c.update(licenses=[{"expression": "MIT OR (("}]), "licenses", "invalid_licence"),
    "version": (lambda c, b: c.update(version=None, purl="pkg:npm/lodash"), "version", "no_version"),
    "purl": (lambda c, b: c.update(purl="pkg:npm"), "purl", "invalid_purl"),
    "enum": (lambda c, b: c.update(type="widget"), "type", "unknown_value"),
    "date": (lambda c, b: b["metadata"].update(timestamp="31/12/2020"), "metadata.timestamp", "invalid_date"),
}


@pytest.mark.shared
@pytest.mark.parametrize("kind", sorted(BREAKS))
def test_one_broken_field_keeps_every_other_components_findings(kind: str, kb: str, tmp_path: Path) -> None:
    original = orjson.loads(requires_shared(JUICE_SHOP).read_bytes())
    out = tmp_path / "before.json"
    assert _scan(kb, JUICE_SHOP, out) == 0
    before = json.loads(out.read_text(encoding="utf-8"))
    assert before["warnings"] == []
    baseline = _findings(before)
    others = {f for f in baseline if f[0] != VICTIM}
    assert {purl for purl, _ in others} == {
        "pkg:npm/lodash@4.17.19",
        "pkg:npm/minimist@0.2.1",
        "pkg:npm/minimist@1.2.5",
    }
    assert (VICTIM, "CVE-2021-23337") in baseline

    broken = copy.deepcopy(original)
    change, field, code = BREAKS[kind]
    victim = _component(broken, VICTIM)
    index = broken["components"].index(victim)
    change(victim, broken)
    sbom = tmp_path / "broken.json"
    sbom.write_bytes(orjson.dumps(broken))
    out = tmp_path / "after.json"
    # a component whose purl or version the break took cannot be evaluated: the scan says so (exit 3)
    assert _scan(kb, sbom, out) == (3 if kind in ("purl", "version") else 0)
    after = json.loads(out.read_text(encoding="utf-8"))
    (warning,) = after["warnings"]
    where = field if field.startswith("metadata.") else f"components[{index}].{field}"
    assert (warning["field"], warning["code"]) == (where, code)
    findings = _findings(after)
    assert others <= findings  # every other component's findings are still reported
    assert after["sbom"]["components"] == before["sbom"]["components"]
    victim_findings = {f for f in findings if f[0] not in {p for p, _ in others}}
    if kind in ("licence", "enum", "date"):  # the victim is still matched as before
        assert (VICTIM, "CVE-2021-23337") in victim_findings
    else:  # it cannot be evaluated, and says why; it is never counted as safe
        assert not victim_findings
        reasons = [n["reason"] for n in after["not_evaluated"] if n["component"]["name"] == "lodash"]
        assert reasons == (["no version"] if kind == "version" else [reasons[0]])
        if kind == "purl":
            assert "'pkg:npm' is not valid" in reasons[0]

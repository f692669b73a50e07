"""Package.resolved v1 (swift-format) and v2 (swift-composable-architecture), written by SwiftPM —
no Swift toolchain here, so both come from the public repositories (see fixtures README)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mamori.errors import InputError
from mamori.sbom.generate.swift import swiftpm

FIXTURES = Path(__file__).parent / "fixtures" / "generate" / "swift"


def _parse(name: str):
    path = FIXTURES / name / "Package.resolved"
    return swiftpm.parse(path, path.read_text())


def test_v1_branch_pins_use_the_revision() -> None:
    found = _parse("v1")
    purls = {c.purl for c in found.components}
    assert purls == {
        "pkg:swift/github.com/apple/swift-argument-parser@2b80dc4a9fa21af31a3a46a91022c51e9245cc6b",
        "pkg:swift/github.com/apple/swift-syntax@7251727261c6d2fb225245dc20ffded8f8d0f000",
        "pkg:swift/github.com/apple/swift-tools-support-core@0.0.1",
    }
    parser = next(c for c in found.components if c.name == "swift-argument-parser")
    assert parser.property(swiftpm.BRANCH) == "master"


def test_v2_and_v3() -> None:
    found = _parse("v2")
    assert len(found.components) == 18
    tca = next(c for c in found.components if c.name == "swift-syntax")
    assert tca.purl == "pkg:swift/github.com/apple/swift-syntax@509.0.2"
    assert tca.property(swiftpm.REVISION) == "6ad4ea24b01559dde0773e3d091f1b9e36175036"
    data = json.loads((FIXTURES / "v2" / "Package.resolved").read_text())
    data["version"], data["originHash"] = 3, "0" * 64  # the only change SwiftPM 5.10 made for v3
    found3 = swiftpm.parse(Path("Package.resolved"), json.dumps(data))
    assert [c.purl for c in found3.components] == [c.purl for c in found.components]


def test_unknown_version(tmp_path: Path) -> None:
    path = tmp_path / "Package.resolved"
    path.write_text('{\n  "pins": [],\n  "version": 9\n}\n')
    with pytest.raises(InputError, match=r"Package.resolved: line 3: unknown Package.resolved version 9"):
        swiftpm.parse(path, path.read_text())

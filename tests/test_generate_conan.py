"""conan.lock written by Conan 1.66 (graph lock 0.4) and Conan 2.34 (0.5), both from PyPI, over three
recipes made with `conan new` and exported to a local cache (no remote)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mamori.errors import InputError
from mamori.sbom.generate import generate
from mamori.sbom.generate.base import DEV, REQUIRED
from mamori.sbom.generate.conan import lockfile

FIXTURES = Path(__file__).parent / "fixtures" / "generate" / "conan"


def _parse(name: str):
    path = FIXTURES / name / "conan.lock"
    return lockfile.parse(path, path.read_text())


def test_graph_lock_04() -> None:
    found = _parse("v04")
    comps = {c.name: c for c in found.components}
    util = comps["fixture-util"]
    assert (
        util.purl
        == "pkg:conan/fixture-util@0.3.1?channel=stable&rrev=0b6c66e52908b63118e277b78a9d7d7c&user=fixture"
    )
    assert found.direct == {util.bom_ref: REQUIRED, comps["fixture-gen"].bom_ref: DEV}
    assert [(r.source, r.target) for r in found.edges] == [(util.bom_ref, comps["fixture-core"].bom_ref)]
    assert util.property(lockfile.PACKAGE_ID) == "5ab84d6acfe1f23c4fae0ab88f26e3a396351ac9"


def test_lock_05() -> None:
    found = _parse("v05")
    assert {c.name: found.direct[c.bom_ref] for c in found.components} == {
        "fixture-util": REQUIRED,
        "fixture-core": REQUIRED,
        "fixture-gen": DEV,
    }


def test_recipe_noticed_and_tool_dev() -> None:
    doc = generate(FIXTURES / "v04")
    assert any("conanfile.txt: not read" in p.value for p in doc.properties)
    assert {c.name: c.scope for c in doc.components}["fixture-gen"] == "excluded"


def test_bad_reference(tmp_path: Path) -> None:
    path = tmp_path / "conan.lock"
    path.write_text('{\n "version": "0.5",\n "requires": [\n  "no-version"\n ]\n}\n')
    with pytest.raises(InputError, match=r"conan.lock: line 4: not a Conan reference"):
        lockfile.parse(path, path.read_text())

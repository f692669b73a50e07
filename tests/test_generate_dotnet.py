"""packages.lock.json written by `dotnet restore` (test data of Debian's go-dep-parser source package)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from mamori.errors import InputError
from mamori.sbom.generate.dotnet import nuget

FIXTURES = Path(__file__).parent / "fixtures" / "generate" / "dotnet"


def _parse(name: str):
    path = FIXTURES / name / "packages.lock.json"
    return nuget.parse(path, path.read_text())


def test_direct_transitive_edges_and_sha512() -> None:
    found = _parse("subdependencies")
    comps = {c.name: c for c in found.components}
    assert len(comps) == 8
    assert set(found.direct) == {
        comps[n].bom_ref for n in ("Newtonsoft.Json", "NuGet.Frameworks", "Swashbuckle.AspNetCore")
    }
    swash = comps["Swashbuckle.AspNetCore"]
    assert swash.purl == "pkg:nuget/Swashbuckle.AspNetCore@5.5.1"
    (digest,) = swash.hashes
    assert digest.alg == "SHA-512" and len(digest.value) == 128
    raw = (FIXTURES / "subdependencies" / "packages.lock.json").read_text()
    assert base64.b64encode(bytes.fromhex(digest.value)).decode() in raw
    assert {r.target for r in found.edges if r.source == swash.bom_ref} == {
        comps[n].bom_ref
        for n in (
            "Swashbuckle.AspNetCore.Swagger",
            "Swashbuckle.AspNetCore.SwaggerGen",
            "Swashbuckle.AspNetCore.SwaggerUI",
        )
    } | (
        {comps["Microsoft.Extensions.ApiDescription.Server"].bom_ref}
        if "Microsoft.Extensions.ApiDescription.Server" in comps
        else set()
    )


def test_project_reference_is_local() -> None:
    found = _parse("legacy")
    local = [c for c in found.components if c.purl is None]
    assert [c.name for c in local] == ["my.project"]


def test_several_frameworks_one_component() -> None:
    found = _parse("multi")
    assert len(found.components) == 40 and len({c.bom_ref for c in found.components}) == 40
    frameworks = {c.name: c.property(nuget.FRAMEWORKS) for c in found.components}
    assert any("," in (v or "") for v in frameworks.values())


def test_malformed(tmp_path: Path) -> None:
    path = tmp_path / "packages.lock.json"
    path.write_text('{"version": 1, "dependencies": {"net6.0": {"A": {"type": "Direct"}}}}')
    with pytest.raises(InputError, match=r"packages.lock.json: line 1: A: no resolved version"):
        nuget.parse(path, path.read_text())

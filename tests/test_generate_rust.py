"""Cargo.lock versions 1-4 (v2-v4 written by cargo 1.95 from Debian's packaged crates; v1 from the
maturin 0.7.7 sdist on PyPI) and Cargo.toml without a lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from mamori.errors import InputError
from mamori.sbom.generate import GenerateOptions, generate
from mamori.sbom.generate.base import DEV, OPTIONAL, REQUIRED
from mamori.sbom.generate.rust import cargo

FIXTURES = Path(__file__).parent / "fixtures" / "generate" / "rust"
GIT_EITHER = "pkg:cargo/either@1.6.1?vcs_url=git%2Bfile:///tmp/cargofx/either-git%409a54eba183315d8843f8579f916656b1f111771e"


def _parse(name: str):
    path = FIXTURES / name / "Cargo.lock"
    return cargo.parse(path, path.read_text())


@pytest.mark.parametrize("version", ["v2", "v3", "v4"])
def test_same_project_in_three_lock_versions(version: str) -> None:
    found = _parse(version)
    refs = {c.bom_ref for c in found.components}
    assert len(refs) == 22 and GIT_EITHER in refs and "cargo-local:textutil@0.1.0" in refs
    assert found.project is not None and found.project.purl == "pkg:cargo/app@0.1.0"
    assert found.direct == {
        "pkg:cargo/anyhow@1.0.69": REQUIRED,
        GIT_EITHER: REQUIRED,
        "pkg:cargo/indexmap@1.9.2": OPTIONAL,
        "pkg:cargo/rand@0.8.5": DEV,
        "pkg:cargo/serde@1.0.152": REQUIRED,
        "pkg:cargo/serde_json@1.0.87": REQUIRED,
        "cargo-local:textutil@0.1.0": REQUIRED,
    }
    anyhow = next(c for c in found.components if c.name == "anyhow")
    assert [(h.alg, h.value) for h in anyhow.hashes] == [
        ("SHA-256", "224afbd727c3d6e4b90103ece64b8d1b67fbb1973b1046c2281eed3f3803f800")
    ]
    # Debian's packaged crates carry a placeholder instead of a checksum: reported, not taken as a hash
    assert any("Could not get crate checksum" in n for n in found.notices)
    assert ("pkg:cargo/rand@0.8.5", "pkg:cargo/rand_chacha@0.3.1") in {
        (r.source, r.target) for r in found.edges
    }


def test_v1_metadata_checksums_and_long_dependency_form() -> None:
    found = _parse("v1-maturin")
    assert len(found.components) == 253 and not found.notices
    assert all(c.hashes for c in found.components if c.purl)
    winapi = {c.bom_ref for c in found.components if c.name == "winapi"}
    assert winapi == {
        "pkg:cargo/winapi@0.2.8",
        "pkg:cargo/winapi@0.3.8",
    }  # two versions, told apart by the edges
    targets = {r.target for r in found.edges if r.source == "pkg:cargo/advapi32-sys@0.2.0"}
    assert targets == {"pkg:cargo/winapi@0.2.8", "pkg:cargo/winapi-build@0.1.1"}


def test_dev_dependency_excluded() -> None:
    doc = generate(FIXTURES / "v4")
    scopes = {c.name: c.scope for c in doc.components}
    assert (
        scopes["rand"] == "excluded" and scopes["rand_core"] == "excluded" and scopes["serde"] == "required"
    )
    kept = {c.name for c in generate(FIXTURES / "v4", GenerateOptions(exclude_dev=True)).components}
    assert "rand" not in kept and "serde_json" in kept


def test_manifest_only(tmp_path: Path) -> None:
    (tmp_path / "Cargo.toml").write_text((FIXTURES / "v4" / "Cargo.toml").read_text())
    doc = generate(tmp_path)
    assert doc.lifecycles == ["pre-build"]
    assert {c.purl for c in doc.components} >= {"pkg:cargo/serde", "pkg:cargo/rand"}


def test_malformed_lock(tmp_path: Path) -> None:
    path = tmp_path / "Cargo.lock"
    path.write_text(
        'version = 3\n\n[[package]]\nname = "a"\nversion = "1.0.0"\ndependencies = [\n "missing",\n]\n'
    )
    with pytest.raises(
        InputError, match=r"Cargo.lock: line 7: dependency 'missing' matches no single package"
    ):
        cargo.parse(path, path.read_text())
    path.write_text("[[package]\n")
    with pytest.raises(InputError, match=r"line 1: not valid TOML"):
        cargo.parse(path, path.read_text())

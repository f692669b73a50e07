"""Go: go.mod + go.sum and the build information of a compiled program (fixtures made by Go 1.19)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from mamori.errors import InputError
from mamori.sbom.generate import generate
from mamori.sbom.generate.golang import buildinfo, gomod

FIXTURES = Path(__file__).parent / "fixtures" / "generate" / "golang"
UUID = "pkg:golang/github.com/google/uuid@v1.3.0"
ERRORS = "pkg:golang/github.com/pkg/errors@v0.9.1"


def _by_ref(found) -> dict:
    return {c.bom_ref: c for c in found.components}


def test_gomod_requires_replace_and_sums() -> None:
    path = FIXTURES / "app" / "go.mod"
    found = gomod.parse(path, path.read_text())
    comps = _by_ref(found)
    assert found.project is not None and found.project.purl == "pkg:golang/example.org/idgen"
    assert set(comps) == {UUID, ERRORS, "golang-local:example.org/greet@v0.0.0"}
    assert comps[UUID].property(gomod.H1) == "h1:2Ajak/s9ond9xWZtWglNUouVyMHz28G7Z8R0e18RxNs="
    greet = comps["golang-local:example.org/greet@v0.0.0"]
    assert greet.purl is None and greet.property(gomod.REPLACES) == "example.org/greet@v0.0.0"
    assert set(found.direct) == set(comps)  # go.mod since 1.17 requires every module of the build


def test_gomod_indirect_marked() -> None:
    path = FIXTURES / "xtext" / "go.mod"
    found = gomod.parse(path, path.read_text())
    indirect = {c.name for c in found.components if c.property(gomod.INDIRECT)}
    assert indirect == {"golang.org/x/mod", "golang.org/x/sys"}
    assert _by_ref(found)["pkg:golang/golang.org/x/tools@v0.1.12"].property(gomod.H1).startswith("h1:VveCTK")


@pytest.mark.parametrize(
    ("text", "line"),
    [("module a\nrequire (\n\tx.org/y\n)\n", 3), ("module a\nrequire x.org/y v1 (\n", 2), ("modul a\n", 1)],
)
def test_gomod_malformed_names_line(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "go.mod"
    path.write_text(text)
    with pytest.raises(InputError, match=rf"line {line}:"):
        gomod.parse(path, text)


def test_binary_buildinfo() -> None:
    path = FIXTURES / "bin" / "idgen"
    version, modinfo = buildinfo.read_buildinfo(path)
    assert version == "go1.19.8" and "dep\tgithub.com/google/uuid\tv1.3.0" in modinfo
    found = buildinfo.parse(path, "")
    comps = _by_ref(found)
    assert set(comps) == {UUID, ERRORS, "pkg:golang/stdlib@v1.19.8", "golang-local:example.org/greet@v0.0.0"}
    assert comps[ERRORS].property(gomod.H1) == "h1:hOISDHPp68K3pi7Oct0vzL6O/Hg3IgQB5M6vmTEDsIk="
    assert found.project is not None and found.project.name == "example.org/idgen"
    assert found.project.property("mamori:go:build:GOOS") == "linux"


def test_binary_and_gomod_agree() -> None:
    """The program and the module it was built from list the same modules."""
    mod = {
        c.bom_ref
        for c in gomod.parse(
            FIXTURES / "app" / "go.mod", (FIXTURES / "app" / "go.mod").read_text()
        ).components
    }
    binary = {c.bom_ref for c in buildinfo.parse(FIXTURES / "bin" / "idgen", "").components}
    assert binary - mod == {"pkg:golang/stdlib@v1.19.8"}


def test_non_go_files_give_nothing(tmp_path: Path) -> None:
    elf = tmp_path / "fake"
    elf.write_bytes(b"\x7fELF" + b"\0" * 200)
    assert buildinfo.parse(elf, "").components == []
    assert buildinfo.parse(Path("/bin/sh"), "").components == []


def test_generate_folder_with_binary() -> None:
    doc = generate(FIXTURES / "bin")
    assert doc.root is not None and doc.root.name == "example.org/idgen"
    assert {c.purl for c in doc.components} >= {UUID, ERRORS}


@pytest.mark.skipif(shutil.which("go") is None, reason="go not installed")
def test_fresh_build_has_readable_buildinfo(tmp_path: Path) -> None:
    (tmp_path / "go.mod").write_text("module example.org/fresh\n\ngo 1.19\n")
    (tmp_path / "main.go").write_text('package main\n\nfunc main() { println("hi") }\n')
    env = {
        "GOFLAGS": "-mod=mod",
        "GOPROXY": "off",
        "GOCACHE": str(tmp_path / "cache"),
        "HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    subprocess.run(
        ["go", "build", "-o", "fresh", "."], cwd=tmp_path, env=env, check=True, capture_output=True
    )
    found = buildinfo.parse(tmp_path / "fresh", "")
    assert found.project is not None and found.project.name == "example.org/fresh"
    assert [c.name for c in found.components] == ["stdlib"]

"""The generate framework: discovery, lockfile precedence, notices, assembly (root, monorepo, scopes, evidence).

Parsers here are small functions of this module registered through the dispatch table, so the
framework is tested on its own; the ecosystems have their own tests on real lockfiles.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mamori.cli.main import main
from mamori.errors import InputError
from mamori.model import Component
from mamori.sbom.check import check_document
from mamori.sbom.generate import GenerateOptions, generate, notices, registry
from mamori.sbom.generate.base import (
    DEV,
    EVIDENCE_FILE,
    OPTIONAL,
    REQUIRED,
    SCOPE,
    SUPERSEDED,
    Found,
    bad_line,
)
from mamori.sbom.generate.discover import discover
from mamori.sbom.generate.registry import MANIFEST, FileSpec


def _comp(name: str, version: str, scope: str | None = None) -> Component:
    return Component(
        name=name,
        version=version,
        bom_ref=f"pkg:test/{name}@{version}",
        purl=f"pkg:test/{name}@{version}",
        scope=scope,
    )


def parse_lock(path: Path, text: str) -> Found:
    """``name version [dev|optional] [-> dep dep]`` per line; ``!`` lines are malformed."""
    found = Found("test")
    refs: dict[str, str] = {}
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("!"):
            raise bad_line(path, number, "broken entry")
        head, _, deps = line.partition("->")
        name, version, *rest = head.split()
        comp = found.add(_comp(name, version, rest[0] if rest else None))
        refs[name] = comp.bom_ref
        rows.append((name, deps.split()))
    for name, deps in rows:
        for dep in deps:
            found.depends(refs[name], refs[dep])
    return found


def parse_manifest(path: Path, text: str) -> Found:
    found = Found("test", resolved=False)
    name, version = text.split()[:2]
    found.project = Component(name=name, version=version, purl=f"pkg:test/{name}@{version}")
    found.notices.append("manifest seen")
    return found


@pytest.fixture
def test_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        registry,
        "FILES",
        [
            FileSpec("test.lock", f"{__name__}:parse_lock", "test"),
            FileSpec("test.toml", f"{__name__}:parse_manifest", "test", MANIFEST),
            *registry.FILES,
        ],
    )
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def test_discovery_skips_installed_folders_and_prefers_locks(tmp_path: Path, test_registry: None) -> None:
    _write(
        tmp_path,
        {
            "test.lock": "a 1\n",
            "test.toml": "app 1.0\n",
            "node_modules/x/test.lock": "x 1\n",
            ".git/test.lock": "x 1\n",
            "env1/pyvenv.cfg": "home = /usr\n",
            "env1/test.lock": "x 1\n",
            "svc/test.toml": "svc 2.0\n",
            "svc/setup.py": "",
        },
    )
    projects = discover(tmp_path)
    assert [p.folder for p in projects] == [tmp_path, tmp_path / "svc"]
    assert [f.name for f, _ in projects[0].files] == ["test.lock"]
    assert [(m.name, lock.name) for m, lock in projects[0].superseded] == [("test.toml", "test.lock")]
    assert [f.name for f, _ in projects[1].files] == ["test.toml"]
    assert [f.name for f, _ in projects[1].not_read] == ["setup.py"]


def test_monorepo_one_root_subprojects_evidence_and_notices(tmp_path: Path, test_registry: None) -> None:
    _write(
        tmp_path,
        {
            "test.toml": "shop 3.1\n",
            "api/test.lock": "a 1 -> b\nb 2\n",
            "web/test.lock": "a 1\nc 1 dev\n",
            "web/setup.cfg": "",
        },
    )
    doc = generate(tmp_path, GenerateOptions(supplier="Example KK <psirt@example.jp>"))
    assert doc.root is not None and (doc.root.name, doc.root.version) == ("shop", "3.1")
    assert doc.root.supplier is not None and doc.root.supplier.email == "psirt@example.jp"
    assert doc.lifecycles == ["build"]
    names = [c.name for c in doc.components]
    assert names == ["api", "a", "b", "web", "c"]  # sub-projects are components; "a" merged once
    by_name = {c.name: c for c in doc.components}
    assert [p.value for p in by_name["a"].properties if p.name == EVIDENCE_FILE] == [
        "api/test.lock",
        "web/test.lock",
    ]
    edges = {(r.source, r.target) for r in doc.relationships}
    root = doc.root.bom_ref
    assert (root, "project:api") in edges and (root, "project:web") in edges
    assert ("project:api", "pkg:test/a@1") in edges  # direct: nothing in api depends on a
    assert ("project:api", "pkg:test/b@2") not in edges  # b is transitive
    assert ("pkg:test/a@1", "pkg:test/b@2") in edges
    assert by_name["c"].scope == "excluded" and by_name["c"].property(SCOPE) == DEV
    assert by_name["a"].scope == "required" and by_name["a"].property(SCOPE) is None
    assert any("web/setup.cfg: not read" in n for n in notices(doc))
    assert any(n.startswith("test.toml: manifest seen") for n in notices(doc))


def test_scope_is_derived_along_edges_and_exclude_dev_drops(tmp_path: Path, test_registry: None) -> None:
    # dev tool d pulls e; e is also needed by the optional o; f only by d
    _write(tmp_path, {"test.lock": "d 1 dev -> e f\no 1 optional -> e\ne 1\nf 1\nr 1 -> f\n"})
    doc = generate(tmp_path, GenerateOptions(name="p", version="1"))
    scope = {c.name: c.property(SCOPE) or REQUIRED for c in doc.components}
    assert scope == {"d": DEV, "o": OPTIONAL, "e": OPTIONAL, "f": REQUIRED, "r": REQUIRED}
    slim = generate(tmp_path, GenerateOptions(name="p", version="1", exclude_dev=True))
    assert sorted(c.name for c in slim.components) == ["e", "f", "o", "r"]
    assert all("pkg:test/d@1" not in (r.source, r.target) for r in slim.relationships)


def test_product_listed_in_its_own_lock_becomes_the_root(tmp_path: Path, test_registry: None) -> None:
    _write(tmp_path, {"test.lock": "app 1.0 -> a\na 1\n", "test.toml": "app 1.0\n"})
    doc = generate(tmp_path, GenerateOptions())
    assert doc.root is not None and doc.root.bom_ref == "pkg:test/app@1.0"
    assert [c.name for c in doc.components] == ["a"]
    assert {(r.source, r.target) for r in doc.relationships} == {("pkg:test/app@1.0", "pkg:test/a@1")}


def test_cycle_without_entry_is_still_linked(tmp_path: Path, test_registry: None) -> None:
    _write(tmp_path, {"test.lock": "a 1 -> b\nb 1 -> a\n"})
    doc = generate(tmp_path, GenerateOptions(name="p", version="1", supplier="Example KK"))
    for comp in doc.components:
        comp.supplier = doc.supplier
    report = check_document(doc, "ntia")
    assert report.passed, report.to_json()


def test_malformed_lock_names_file_and_line(tmp_path: Path, test_registry: None, capsys) -> None:
    _write(tmp_path, {"test.lock": "a 1\n!\n"})
    with pytest.raises(InputError, match=r"test\.lock: line 2: broken entry"):
        generate(tmp_path)
    assert main(["sbom", "generate", str(tmp_path)]) == 2
    assert "test.lock: line 2: broken entry" in capsys.readouterr().err


def test_nothing_to_read_is_an_error(tmp_path: Path, test_registry: None) -> None:
    _write(tmp_path, {"setup.py": ""})
    with pytest.raises(InputError, match=r"no lockfile.*setup\.py: not read"):
        generate(tmp_path)


def test_cli_writes_cyclonedx_to_stdout_and_files(tmp_path: Path, test_registry: None, capsys) -> None:
    proj = _write(tmp_path / "p", {"test.lock": "a 1\n", "test.toml": "app 1.0\n"})
    assert main(["sbom", "generate", str(proj)]) == 0
    out = capsys.readouterr()
    bom = json.loads(out.out)
    assert bom["metadata"]["component"]["name"] == "app"
    assert bom["metadata"]["lifecycles"] == [{"phase": "build"}]
    assert bom["metadata"]["tools"]["components"][0]["name"] == "mamori"
    props = {(p["name"], p["value"]) for p in bom["metadata"]["properties"]}
    assert (SUPERSEDED, "test.toml (read test.lock instead)") in props
    comp = bom["components"][0]
    assert {"name": EVIDENCE_FILE, "value": "test.lock"} in comp["properties"]
    target = tmp_path / "out.spdx.json"
    assert main(["sbom", "generate", str(proj), "-o", str(target)]) == 0
    spdx = json.loads(target.read_text())
    assert spdx["spdxVersion"] == "SPDX-2.3"
    assert {p["name"] for p in spdx["packages"]} >= {"app", "a"}

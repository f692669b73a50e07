""" "This component has no dependencies" (CycloneDX empty dependsOn, SPDX DEPENDS_ON NONE) is kept by the model
(``Document.no_dependencies``), written back by both writers, counted by the NTIA check and kept by merge."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from cyclonedx.validation.xml import XmlValidator

from mamori import sbom
from mamori.model import Component, Document, Relationship
from mamori.sbom.check import check_document
from mamori.sbom.merge import merge_documents
from mamori.sbom.spdx.validate import spdx_tools_problems

# a depends on b; b says it has none ([]), c says it has none (no dependsOn at all), d is not listed
BOM = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.6",
    "version": 1,
    "metadata": {
        "timestamp": "2024-05-01T00:00:00Z",
        "authors": [{"name": "ACME PSIRT"}],
        "component": {"type": "application", "bom-ref": "app", "name": "app", "version": "1", "purl": "pkg:generic/app@1"},
    },
    "components": [
        {"type": "library", "bom-ref": ref, "name": ref, "version": "1", "purl": f"pkg:generic/{ref}@1",
         "supplier": {"name": "ACME"}}
        for ref in ("a", "b", "c", "d")
    ],
    "dependencies": [
        {"ref": "app", "dependsOn": ["a"]},
        {"ref": "a", "dependsOn": ["b"]},
        {"ref": "b", "dependsOn": []},
        {"ref": "c"},
    ],
}  # fmt: skip


@pytest.fixture
def doc(tmp_path: Path) -> Document:
    path = tmp_path / "bom.cdx.json"
    path.write_bytes(orjson.dumps(BOM))
    return sbom.read(path)


def test_reader_keeps_the_statement(doc: Document) -> None:
    assert doc.no_dependencies == {"b", "c"}
    assert doc.dependencies() == {"app": ["a"], "a": ["b"]}


def test_a_ref_listed_with_and_without_targets_keeps_its_targets(tmp_path: Path) -> None:
    path = tmp_path / "bom.cdx.json"
    path.write_bytes(orjson.dumps({**BOM, "dependencies": [{"ref": "a"}, {"ref": "a", "dependsOn": ["b"]}]}))
    assert sbom.read(path).no_dependencies == set()


@pytest.mark.parametrize(("fmt", "version"), [("cyclonedx-json", "1.6"), ("cyclonedx-json", "1.4"),
                                              ("cyclonedx-xml", "1.6"), ("cyclonedx-xml", "1.4")])  # fmt: skip
def test_cyclonedx_writers_write_an_empty_depends_on(
    doc: Document, tmp_path: Path, fmt: str, version: str
) -> None:
    data = sbom.dumps(doc, fmt, version)
    validator = (JsonStrictValidator if fmt == "cyclonedx-json" else XmlValidator)(
        SchemaVersion.from_version(version)
    )
    assert validator.validate_str(data.decode()) is None
    if fmt == "cyclonedx-json":
        deps = {d["ref"]: d["dependsOn"] for d in json.loads(data)["dependencies"]}
        assert deps == {"app": ["a"], "a": ["b"], "b": [], "c": []}  # d: nothing said, so not listed
    path = tmp_path / ("bom.cdx.json" if fmt == "cyclonedx-json" else "bom.cdx.xml")
    path.write_bytes(data)
    assert sbom.read(path).no_dependencies == {"b", "c"}


@pytest.mark.parametrize("fmt", ["spdx-json", "spdx-tv"])
def test_spdx_writers_write_depends_on_none_and_read_it_back(doc: Document, tmp_path: Path, fmt: str) -> None:
    data = sbom.dumps(doc, fmt)
    assert spdx_tools_problems(data, fmt) == []
    if fmt == "spdx-json":
        none = [
            r["spdxElementId"] for r in json.loads(data)["relationships"] if r["relatedSpdxElement"] == "NONE"
        ]
        assert none == ["SPDXRef-b", "SPDXRef-c"]
    path = tmp_path / ("doc.spdx.json" if fmt == "spdx-json" else "doc.spdx")
    path.write_bytes(data)
    back = sbom.read(path)
    assert back.no_dependencies == {"SPDXRef-b", "SPDXRef-c"}
    assert all(r.target != "NONE" for r in back.relationships)


def test_ntia_check_counts_the_statement_as_a_relationship(doc: Document) -> None:
    dependency = check_document(doc).ntia.element("dependency")
    # app, a and b are in the graph; c is in it only through its statement; d has nothing
    assert (dependency.present, dependency.total) == (4, 5)
    doc.no_dependencies.clear()
    assert check_document(doc).ntia.element("dependency").present == 3


def test_a_root_stating_it_has_no_dependencies_passes_the_root_rule() -> None:
    alone = Document(root=Component("tool", "1", bom_ref="tool"), components=[Component("x", "1", bom_ref="x")],
                     no_dependencies={"x"})  # fmt: skip
    problems = [p.ref for p in check_document(alone).ntia.problems if p.element == "dependency"]
    assert problems == ["tool"]
    alone.no_dependencies.add("tool")
    assert [p.ref for p in check_document(alone).ntia.problems if p.element == "dependency"] == []


def test_merge_keeps_the_statement_unless_edges_were_added(doc: Document) -> None:
    other = Document(
        root=Component("app2", "1", bom_ref="b", purl="pkg:generic/app2@1"),  # the ref "b" again: renamed
        components=[Component("c", "1", bom_ref="c2", purl="pkg:generic/c@1")],  # a duplicate of c by purl
        relationships=[Relationship("c2", "b", "DEPENDS_ON")],  # ... that has a dependency in this input
    )
    merged = merge_documents([("one", doc), ("two", other)], root_name="product").document
    # b keeps its statement; c gained an edge from the second input; the second root "b-2" got edges
    assert merged.no_dependencies == {"b"}
    assert ("c", "b-2") in {(r.source, r.target) for r in merged.relationships}

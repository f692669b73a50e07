"""``mamori sbom diff`` and ``mamori sbom merge`` on constructed documents and on real SBOMs."""

from __future__ import annotations

import copy
import functools
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import SHARED_DATA
from mamori import sbom
from mamori.cli.main import main
from mamori.model import Component, Contact, Document, Hash, Relationship, Tool
from mamori.sbom.check import check_document
from mamori.sbom.diff import diff_documents, identity_key, same_license
from mamori.sbom.merge import merge_documents
from test_sbom_check import read_or_skip

KEYCLOAK = SHARED_DATA / "sbom/cyclonedx/keycloak-10.0.2/bom.json"
DROPWIZARD = SHARED_DATA / "sbom/cyclonedx/dropwizard-1.3.15/bom.json"


def _comp(name: str, version: str, **kw: object) -> Component:
    kw.setdefault("purl", f"pkg:npm/{name}@{version}")
    kw.setdefault("bom_ref", f"{name}@{version}")
    return Component(name=name, version=version, **kw)  # type: ignore[arg-type]


# ---------------------------------------------------------------- identity


def test_identity_key_drops_version_and_noise_qualifiers():
    a = Component(name="x", purl="pkg:maven/org.acme/x@1.0?type=jar")
    b = Component(name="x", purl="pkg:maven/org.acme/x@2.0")
    c = Component(name="x", purl="pkg:maven/org.acme/x@1.0?classifier=sources&type=jar")
    d = Component(name="x", purl="pkg:deb/debian/openssl@1.1?arch=amd64&distro=debian-11")
    assert identity_key(a) == identity_key(b) == "pkg:maven/org.acme/x"
    assert identity_key(c) == "pkg:maven/org.acme/x?classifier=sources"
    assert identity_key(d) == "pkg:deb/debian/openssl?arch=amd64"  # distro changes between releases
    assert identity_key(Component(name="lib", group="acme", purl="not a purl")) == "acme/lib"
    assert identity_key(Component(name="lib")) == "lib"


def test_same_license_ignores_order_and_case_but_not_meaning():
    assert same_license("MIT OR Apache-2.0", "apache-2.0 or mit")
    assert not same_license("MIT", "Apache-2.0")
    assert not same_license("MIT", None)
    assert same_license(None, "NOASSERTION")


# ---------------------------------------------------------------- diff categories


def _pair_of_docs() -> tuple[Document, Document]:
    a = Document(
        components=[
            _comp("kept", "1.0", license_declared="MIT OR Apache-2.0", hashes=[Hash("SHA-256", "aa")]),
            _comp("gone", "1.0"),
            _comp("upgraded", "1.0", license_declared="MIT"),
            _comp("relicensed", "2.0", license_declared="MIT OR Apache-2.0"),
            _comp("resupplied", "3.0", supplier=Contact("Old Corp")),
            _comp("rebuilt", "4.0", hashes=[Hash("SHA-1", "11"), Hash("SHA-256", "aa")]),
            _comp("multi", "1.0"),
            _comp("multi", "2.0"),
            Component(name="plain", group="acme", version="1"),
        ]
    )
    b = Document(
        components=[
            _comp("kept", "1.0", license_declared="Apache-2.0 OR MIT", hashes=[Hash("SHA256", "AA")]),
            _comp("new", "0.1"),
            _comp("upgraded", "1.1", license_declared="MIT"),
            _comp("relicensed", "2.0", license_declared="BUSL-1.1"),
            _comp("resupplied", "3.0", publisher="New Corp"),
            _comp("rebuilt", "4.0", hashes=[Hash("SHA-1", "22"), Hash("SHA-256", "bb")]),
            _comp("multi", "2.0"),
            _comp("multi", "3.0"),
            _comp("multi", "4.0"),
            Component(name="plain", group="acme", version="2"),
        ]
    )
    return a, b


def test_diff_categories():
    a, b = _pair_of_docs()
    report = diff_documents(a, b, a_name="a.json", b_name="b.json")
    out = report.to_json()
    assert out["summary"] == {
        "added": 3,
        "removed": 2,
        "version_changed": 2,
        "license_changed": 1,
        "supplier_changed": 1,
        "hash_changed": 1,
        "unchanged": 2,
    }
    assert [(c["key"], c["version"]) for c in out["added"]] == [
        ("pkg:npm/multi", "3.0"),
        ("pkg:npm/multi", "4.0"),
        ("pkg:npm/new", "0.1"),
    ]
    assert [(c["key"], c["version"]) for c in out["removed"]] == [
        ("pkg:npm/gone", "1.0"),
        ("pkg:npm/multi", "1.0"),
    ]
    assert [(c["key"], c["before"], c["after"]) for c in out["version_changed"]] == [
        ("acme/plain", "1", "2"),
        ("pkg:npm/upgraded", "1.0", "1.1"),
    ]
    assert out["license_changed"] == [
        {
            "key": "pkg:npm/relicensed",
            "name": "relicensed",
            "group": None,
            "version": "2.0",
            "before": "MIT OR Apache-2.0",
            "after": "BUSL-1.1",
        }
    ]
    assert [(c["before"], c["after"]) for c in out["supplier_changed"]] == [("Old Corp", "New Corp")]
    # the strongest common algorithm is reported
    assert out["hash_changed"] == [
        {
            "key": "pkg:npm/rebuilt",
            "name": "rebuilt",
            "group": None,
            "version": "4.0",
            "alg": "SHA-256",
            "before": "aa",
            "after": "bb",
        }
    ]


def test_diff_output_is_stable_and_symmetric():
    a, b = _pair_of_docs()
    first = json.dumps(diff_documents(a, b).to_json())
    shuffled_b = copy.deepcopy(b)
    shuffled_b.components.reverse()
    assert json.dumps(diff_documents(a, shuffled_b).to_json()) == first
    back = diff_documents(b, a).to_json()["summary"]
    assert (back["added"], back["removed"]) == (2, 3)
    assert diff_documents(a, copy.deepcopy(a)).empty


# ---------------------------------------------------------------- merge


def _supplier_doc(tag: str, lib_hash: str, lib_license: str) -> Document:
    root = Component(
        name=f"{tag}-fw",
        version="1.0",
        type="application",
        bom_ref="SPDXRef-Package",
        purl=f"pkg:generic/{tag}-fw@1.0",
    )
    shared = Component(
        name="zlib",
        version="1.3",
        bom_ref="SPDXRef-zlib",
        purl="pkg:generic/zlib@1.3",
        hashes=[Hash("SHA-256", lib_hash)],
        license_declared=lib_license,
    )
    own = Component(
        name=f"{tag}-util", version="0.1", bom_ref="SPDXRef-util", purl=f"pkg:generic/{tag}-util@0.1"
    )
    orphan = Component(name=f"{tag}-extra", version="2", bom_ref="SPDXRef-extra")
    return Document(
        spec="spdx",
        authors=[Contact(f"{tag} Corp")],
        tools=[Tool("builder", version="1")],
        timestamp=datetime(2023, 1, 1, tzinfo=UTC),
        root=root,
        components=[shared, own, orphan],
        relationships=[
            Relationship("SPDXRef-DOCUMENT", "SPDXRef-Package", "DESCRIBES"),
            Relationship("SPDXRef-Package", "SPDXRef-util"),
            Relationship("SPDXRef-util", "SPDXRef-zlib"),
        ],
    )


def test_merge_nests_inputs_under_one_root_dedups_and_renames():
    a = _supplier_doc("a", "11" * 32, "Zlib")
    b = _supplier_doc("b", "22" * 32, "MIT")
    before = copy.deepcopy((a, b))
    now = datetime(2024, 5, 1, tzinfo=UTC)
    result = merge_documents(
        [("a.spdx.json", a), ("b.spdx.json", b)], root_name="car", root_version="7", now=now
    )
    doc = result.document
    assert (a, b) == before  # inputs untouched

    assert doc.root is not None and (doc.root.name, doc.root.version, doc.root.bom_ref) == (
        "car",
        "7",
        "car@7",
    )
    refs = [c.bom_ref for c in doc.components]
    assert len(refs) == len(set(refs)) == 7  # 2 roots + zlib once + 2 utils + 2 extras
    assert result.duplicates == 1
    assert result.renamed == 3  # b's SPDXRef-Package, SPDXRef-util, SPDXRef-extra
    by_ref = doc.by_ref()
    assert by_ref["SPDXRef-Package-2"].name == "b-fw"
    zlib = by_ref["SPDXRef-zlib"]
    assert sorted(h.value for h in zlib.hashes) == ["11" * 32, "22" * 32]
    assert zlib.license_declared == "Zlib AND MIT"

    edges = {(r.source, r.target) for r in doc.relationships}
    assert ("car@7", "SPDXRef-Package") in edges and ("car@7", "SPDXRef-Package-2") in edges
    assert ("SPDXRef-util-2", "SPDXRef-zlib") in edges  # b's edge follows the rename and the dedup
    assert ("SPDXRef-Package-2", "SPDXRef-util-2") in edges
    added = [r for r in doc.relationships if r.comment]
    assert {(r.source, r.target) for r in added} == {
        ("SPDXRef-Package", "SPDXRef-extra"),
        ("SPDXRef-Package-2", "SPDXRef-extra-2"),
    }
    assert not any(r.type == "DESCRIBES" for r in doc.relationships)

    assert [c.name for c in doc.authors] == ["a Corp", "b Corp"]
    assert [t.name for t in doc.tools] == ["builder", "mamori"]  # the same tool in both inputs once
    assert doc.timestamp == now and doc.serial_number and doc.serial_number.startswith("urn:uuid:")
    # everything is reachable from the new root
    assert check_document(doc).ntia.element("dependency").passed


def test_merge_of_an_input_without_root_makes_one():
    doc = Document(name="vendor-sbom", components=[_comp("left", "1"), _comp("right", "1")])
    merged = merge_documents([("v.json", doc)], root_name="p").document
    made = merged.components[0]
    assert made.name == "vendor-sbom" and made.bom_ref == "vendor-sbom"
    assert {(r.source, r.target) for r in merged.relationships} == {
        ("p", "vendor-sbom"),
        ("vendor-sbom", "left@1"),
        ("vendor-sbom", "right@1"),
    }


# ---------------------------------------------------------------- real files


def test_keycloak_vs_dropwizard_diff(shared_data):
    report = diff_documents(read_or_skip(KEYCLOAK), read_or_skip(DROPWIZARD)).to_json()
    # 904 components (root included) against 168; 44 identities in common
    assert report["summary"] == {
        "added": 124,
        "removed": 860,
        "version_changed": 29,
        "license_changed": 2,
        "supplier_changed": 0,
        "hash_changed": 0,
        "unchanged": 15,
    }
    jackson = next(c for c in report["version_changed"] if c["name"] == "jackson-databind")
    assert (jackson["key"], jackson["before"], jackson["after"]) == (
        "pkg:maven/com.fasterxml.jackson.core/jackson-databind",
        "2.10.1",
        "2.9.10",
    )
    keys = [c["key"] for c in report["added"]]
    assert keys == sorted(keys)


def test_same_sbom_in_json_and_xml_has_no_differences(shared_data):
    base = SHARED_DATA / "sbom/cyclonedx/juice-shop/v11.1.2"
    report = diff_documents(read_or_skip(base / "bom.json"), read_or_skip(base / "bom.xml"))
    assert report.empty
    assert report.unchanged == 841


def test_cli_diff_json_and_text(shared_data, capsys, monkeypatch):
    read_or_skip(KEYCLOAK)
    monkeypatch.setenv("COLUMNS", "240")  # rich folds long purls in narrow tables
    assert main(["sbom", "diff", str(KEYCLOAK), str(DROPWIZARD), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["removed"] == 860
    assert main(["sbom", "diff", str(KEYCLOAK), str(DROPWIZARD), "--lang", "ja"]) == 0
    text = capsys.readouterr().out
    assert "バージョン変更 (29)" in text and "jackson-databind" in text


def test_merge_keycloak_and_dropwizard_writes_valid_cyclonedx(
    shared_data, tmp_path: Path, capsys, monkeypatch
):
    read_or_skip(KEYCLOAK)
    out = tmp_path / "product.cdx.json"
    try:
        code = main(
            [
                "sbom",
                "merge",
                str(KEYCLOAK),
                str(DROPWIZARD),
                "-o",
                str(out),
                "--root-name",
                "product",
                "--root-version",
                "1.0",
            ]
        )
    except ModuleNotFoundError as exc:
        pytest.skip(f"writer module {exc.name} not available yet")
    assert code == 0, capsys.readouterr().err
    assert "1057 components from 2 SBOMs, 15 duplicates merged" in capsys.readouterr().out

    import jsonschema._format
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    # The iri-reference check parses each URL with an Earley parser (~20 ms each): 3,955 URLs, 646 distinct.
    # Memoising that pure function changes no verdict and takes the validation from ~90 s to ~12 s.
    if hasattr(jsonschema._format, "_rfc3987_is_valid_syntax"):
        monkeypatch.setattr(
            jsonschema._format,
            "_rfc3987_is_valid_syntax",
            functools.cache(jsonschema._format._rfc3987_is_valid_syntax),
        )
    data = out.read_text(encoding="utf-8")
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(data)
    assert errors is None, errors
    bom = json.loads(data)
    assert bom["metadata"]["component"]["name"] == "product"
    assert len(bom["components"]) == 1057
    merged = sbom.read(out)
    assert check_document(merged).ntia.element("dependency").passed


def test_merge_spdx_examples_writes_valid_spdx_with_renamed_refs(shared_data, tmp_path: Path, capsys):
    base = SHARED_DATA / "sbom/spdx/software"
    example1 = base / "example1/spdx2.2/example1.spdx"  # its file SPDXRef-hello-binary is ./build/hello
    example2 = base / "example2/spdx2.2/example2-bin.spdx"  # its file SPDXRef-hello-binary is ./hello
    example6 = base / "example6/spdx2.2/example6-bin.spdx"  # edges to elements of other documents
    read_or_skip(example1)
    out = tmp_path / "product.spdx.json"
    try:
        code = main(
            [
                "sbom",
                "merge",
                str(example1),
                str(example2),
                str(example6),
                "-o",
                str(out),
                "--root-name",
                "product",
            ]
        )
    except ModuleNotFoundError as exc:
        pytest.skip(f"writer module {exc.name} not available yet")
    assert code == 0, capsys.readouterr().err
    assert "1 bom-refs renamed" in capsys.readouterr().out

    from spdx_tools.spdx.parser import parse_anything
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    written = parse_anything.parse_file(str(out))
    assert validate_full_spdx_document(written) == []
    files = {f.spdx_id: f.name for f in written.files}
    assert files["SPDXRef-hello-binary"] == "./build/hello"
    assert files["SPDXRef-hello-binary-2"] == "./hello"
    edges = {
        (r.spdx_element_id, r.relationship_type.name, str(r.related_spdx_element_id))
        for r in written.relationships
    }
    assert ("SPDXRef-Package-hello-bin", "CONTAINS", "SPDXRef-hello-binary-2") in edges
    # edges to elements of external documents survive because their DocumentRefs were carried over
    assert (
        "DocumentRef-go-lib:SPDXRef-Package-go.fmt",
        "STATIC_LINK",
        "SPDXRef-Package-hello-go-bin",
    ) in edges
    assert {"DocumentRef-hello-src", "DocumentRef-go-lib"} <= {
        ref.document_ref_id for ref in written.creation_info.external_document_refs
    }
    assert check_document(sbom.read(out)).ntia.element("dependency").passed

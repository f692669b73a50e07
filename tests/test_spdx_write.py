"""Writing SPDX 2.3/2.2 from models that did not come from SPDX (built here the way a CycloneDX reader fills them)."""

from __future__ import annotations

import importlib.util
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest

from conftest import SHARED_DATA, requires_shared
from mamori.errors import InputError
from mamori.model import Component, Contact, Document, ExternalReference, Hash, Relationship, Tool
from mamori.sbom import dumps, read
from mamori.sbom.spdx.licenses import EXTRACTED_TEXT_COMMENT
from mamori.sbom.spdx.mapping import RELATIONSHIP_TYPES
from mamori.sbom.spdx.to_dict import NAMESPACE_BASE
from mamori.sbom.spdx.validate import spdx_tools_problems
from mamori.sbom.spdx.write import write_json, write_tagvalue

SHA1 = "a" * 40
SHA512 = "0123456789abcdef" * 8
UUID = "3e671687-395b-41f5-a30f-a58921a69b79"


def cyclonedx_like() -> Document:
    inner = Component(name="inner", version="1.0.0", bom_ref="inner@1.0.0", purl="pkg:npm/inner@1.0.0")
    lodash = Component(
        name="lodash",
        version="4.17.21",
        group=None,
        bom_ref="pkg:npm/lodash@4.17.21",
        purl="pkg:npm/lodash@4.17.21",
        cpes=["cpe:2.3:a:lodash:lodash:4.17.21:*:*:*:*:node.js:*:*", "cpe:/a:lodash:lodash:4.17.21"],
        hashes=[
            Hash("SHA-1", SHA1.upper()),
            Hash("SHA-512", SHA512),
            Hash("MD5", "not-a-hash"),
            Hash("BLAKE3", "b" * 64),
        ],
        license_declared="MIT OR Foo-1.0",
        license_concluded="Apache License, Version 2.0",
        external_references=[
            ExternalReference("website", "https://lodash.com/"),
            ExternalReference("vcs", "https://github.com/lodash/lodash.git"),
            ExternalReference(
                "advisories",
                "https://github.com/advisories/GHSA-35jh-r3h4-6jhm",
                comment="prototype pollution",
            ),
            ExternalReference("documentation", "https://example.org/has space"),
        ],
        download_location="https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz",
        components=[inner],
    )
    tool_binary = Component(
        name="/usr/bin/tool", type="file", bom_ref="file:tool", hashes=[Hash("SHA-1", SHA1)]
    )
    no_sha1_file = Component(
        name="notes.txt", type="file", bom_ref="file:notes", hashes=[Hash("SHA-256", "c" * 64)]
    )
    dup_a = Component(name="dup", version="1", bom_ref="dup")
    dup_b = Component(name="dup", version="2", bom_ref="dup")
    oddball = Component(
        name="weird licence", bom_ref="SPDXRef-DOCUMENT", license_declared="GPL-2.0-only WITH Foo-exception"
    )
    root = Component(
        name="shop-app",
        version="2.1.0",
        type="application",
        bom_ref="pkg:npm/shop-app@2.1.0",
        purl="pkg:npm/shop-app@2.1.0",
        supplier=Contact(name="ACME Corp", email="psirt@acme.example"),
        author="Jane Doe",
        hashes=[Hash("SHA-256", "d" * 64)],
        license_declared="Apache-2.0",
        copyright="Copyright 2024 ACME Corp",
        description="The shop",
        download_location="not a url",
    )
    return Document(
        spec="cyclonedx",
        spec_version="1.5",
        serial_number=f"urn:uuid:{UUID}",
        authors=[Contact(name="Jane Doe", email="jane@acme.example", kind="person")],
        tools=[Tool(name="cyclonedx-npm", vendor="CycloneDX", version="1.19.0")],
        timestamp=datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone(timedelta(hours=9))),
        root=root,
        components=[lodash, tool_binary, no_sha1_file, dup_a, dup_b, oddball],
        relationships=[
            Relationship("pkg:npm/shop-app@2.1.0", "pkg:npm/lodash@4.17.21"),
            Relationship("pkg:npm/lodash@4.17.21", "inner@1.0.0"),
            Relationship("pkg:npm/shop-app@2.1.0", "ghost@0.0.1"),  # unknown: left out
            Relationship("pkg:npm/shop-app@2.1.0", "file:tool", "PROVIDES"),  # not an SPDX type
        ],
    )


@pytest.fixture(scope="module")
def written() -> dict:
    return orjson.loads(write_json(cyclonedx_like(), None))


def _by_name(written: dict, name: str, version: str | None = None) -> dict:
    return next(p for p in written["packages"] if p["name"] == name and p.get("versionInfo") == version)


@pytest.mark.parametrize("version", [None, "2.2"])
@pytest.mark.parametrize("fmt", ["spdx-json", "spdx-tv"])
def test_output_validates_with_spdx_tools(fmt: str, version: str | None) -> None:
    data = dumps(cyclonedx_like(), fmt, version)
    assert spdx_tools_problems(data, fmt) == []


def test_document_fields(written: dict) -> None:
    assert written["spdxVersion"] == "SPDX-2.3"
    assert written["dataLicense"] == "CC0-1.0"
    assert written["name"] == "shop-app 2.1.0"
    assert written["documentNamespace"] == f"{NAMESPACE_BASE}shop-app-2.1.0-{UUID}"
    info = written["creationInfo"]
    assert info["created"] == "2024-05-01T03:00:00Z"
    assert info["creators"] == [
        "Person: Jane Doe (jane@acme.example)",
        "Tool: cyclonedx-npm-1.19.0",
        "Tool: mamori-0.1.0",
    ]


def test_ids_are_valid_unique_and_edges_follow_them(written: dict) -> None:
    ids = [p["SPDXID"] for p in written["packages"]] + [f["SPDXID"] for f in written["files"]]
    assert all(re.fullmatch(r"SPDXRef-[A-Za-z0-9.-]+", i) for i in ids)
    assert len(ids) == len(set(ids)) == 8
    assert "SPDXRef-DOCUMENT" not in ids  # a bom-ref that looks like the document id gets another one
    root = _by_name(written, "shop-app", "2.1.0")["SPDXID"]
    lodash = _by_name(written, "lodash", "4.17.21")["SPDXID"]
    inner = _by_name(written, "inner", "1.0.0")["SPDXID"]
    tool = next(f["SPDXID"] for f in written["files"])
    edges = {
        (r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"], r.get("comment"))
        for r in written["relationships"]
    }
    assert edges == {
        ("SPDXRef-DOCUMENT", "DESCRIBES", root, None),
        (root, "DEPENDS_ON", lodash, None),
        (lodash, "DEPENDS_ON", inner, None),
        (root, "OTHER", tool, "PROVIDES"),
        (lodash, "CONTAINS", inner, None),  # nesting
    }
    assert root == "SPDXRef-pkg-npm-shop-app-2.1.0"


def test_package_fields(written: dict) -> None:
    root = _by_name(written, "shop-app", "2.1.0")
    assert root["supplier"] == "Organization: ACME Corp (psirt@acme.example)"
    assert root["originator"] == "Organization: Jane Doe"
    assert root["primaryPackagePurpose"] == "APPLICATION"
    assert root["downloadLocation"] == "NOASSERTION"  # "not a url" is not a download location
    assert root["licenseDeclared"] == "Apache-2.0"
    assert root["licenseConcluded"] == "NOASSERTION"
    assert root["copyrightText"] == "Copyright 2024 ACME Corp"
    assert root["filesAnalyzed"] is False

    lodash = _by_name(written, "lodash", "4.17.21")
    assert "primaryPackagePurpose" not in lodash  # a library says nothing new
    assert lodash["downloadLocation"] == "https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz"
    assert lodash["homepage"] == "https://lodash.com/"
    assert lodash["checksums"] == [
        {"algorithm": "SHA1", "checksumValue": SHA1},  # lower-cased
        {"algorithm": "SHA512", "checksumValue": SHA512},
    ]  # MD5 of the wrong length and BLAKE3 (spdx-tools wants >= 256 hex digits) are left out
    assert lodash["externalRefs"] == [
        {
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": "pkg:npm/lodash@4.17.21",
        },
        {
            "referenceCategory": "SECURITY",
            "referenceType": "cpe23Type",
            "referenceLocator": "cpe:2.3:a:lodash:lodash:4.17.21:*:*:*:*:node.js:*:*",
        },
        {
            "referenceCategory": "SECURITY",
            "referenceType": "cpe22Type",
            "referenceLocator": "cpe:/a:lodash:lodash:4.17.21",
        },
        {
            "referenceCategory": "OTHER",
            "referenceType": "vcs",
            "referenceLocator": "https://github.com/lodash/lodash.git",
        },
        {
            "referenceCategory": "SECURITY",
            "referenceType": "advisory",
            "referenceLocator": "https://github.com/advisories/GHSA-35jh-r3h4-6jhm",
            "comment": "prototype pollution",
        },
    ]  # the documentation URL with a space cannot be an SPDX reference


def test_licences_become_valid_expressions(written: dict) -> None:
    lodash = _by_name(written, "lodash", "4.17.21")
    assert lodash["licenseDeclared"] == "MIT OR LicenseRef-Foo-1.0"
    assert lodash["licenseConcluded"] == "LicenseRef-Apache-License-Version-2.0"
    weird = _by_name(written, "weird licence")
    assert (
        weird["licenseDeclared"] == "LicenseRef-GPL-2.0-only-WITH-Foo-exception"
    )  # unknown exception: whole text
    infos = {i["licenseId"]: i for i in written["hasExtractedLicensingInfos"]}
    assert set(infos) == {
        "LicenseRef-Foo-1.0",
        "LicenseRef-Apache-License-Version-2.0",
        "LicenseRef-GPL-2.0-only-WITH-Foo-exception",
    }
    assert infos["LicenseRef-Apache-License-Version-2.0"] == {
        "licenseId": "LicenseRef-Apache-License-Version-2.0",
        "extractedText": "Apache License, Version 2.0",
        "name": "Apache License, Version 2.0",
        "comment": EXTRACTED_TEXT_COMMENT,
    }


def test_files_and_packages(written: dict) -> None:
    (tool,) = written["files"]
    assert tool["fileName"] == "./usr/bin/tool"  # SPDX file names are relative
    assert tool["checksums"] == [{"algorithm": "SHA1", "checksumValue": SHA1}]
    notes = _by_name(written, "notes.txt")  # a file without SHA-1 cannot be an SPDX file
    assert notes["primaryPackagePurpose"] == "FILE"


def test_written_spdx_reads_back(tmp_path: Path) -> None:
    target = tmp_path / "shop.spdx.json"
    target.write_bytes(write_json(cyclonedx_like(), None))
    again = read(target)
    assert again.root.name == "shop-app" and again.root.type == "application"
    assert again.root.supplier == Contact(name="ACME Corp", email="psirt@acme.example")
    lodash = next(c for c in again.components if c.name == "lodash")
    assert lodash.purl == "pkg:npm/lodash@4.17.21"
    assert lodash.cpes == [
        "cpe:2.3:a:lodash:lodash:4.17.21:*:*:*:*:node.js:*:*",
        "cpe:/a:lodash:lodash:4.17.21",
    ]
    assert [h.alg for h in lodash.hashes] == ["SHA-1", "SHA-512"]
    assert again.dependencies() == {
        again.root.bom_ref: [lodash.bom_ref],
        lodash.bom_ref: ["SPDXRef-inner-1.0.0"],
    }
    assert [e.type for e in lodash.external_references] == ["website", "vcs", "advisories"]
    assert again.timestamp == datetime(2024, 5, 1, 3, 0, 0, tzinfo=UTC)


def test_document_without_root() -> None:
    doc = Document(components=[Component(name="a", bom_ref="a"), Component(name="b", bom_ref="b")])
    data = write_json(doc, None)
    out = orjson.loads(data)
    assert [(r["relationshipType"], r["relatedSpdxElement"]) for r in out["relationships"]] == [
        ("DESCRIBES", "SPDXRef-a"),
        ("DESCRIBES", "SPDXRef-b"),
    ]
    assert out["name"] == "sbom"
    assert re.fullmatch(rf"{NAMESPACE_BASE}sbom-[0-9a-f-]{{36}}", out["documentNamespace"])
    assert spdx_tools_problems(data, "spdx-json") == []


def test_empty_document_describes_none() -> None:
    for fmt, writer in (("spdx-json", write_json), ("spdx-tv", write_tagvalue)):
        data = writer(Document(), None)
        assert spdx_tools_problems(data, fmt) == []
    assert orjson.loads(write_json(Document(), None))["relationships"] == [
        {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "NONE"}
    ]


def test_unknown_version_is_refused() -> None:
    with pytest.raises(InputError, match=r"choose 2\.3 or 2\.2"):
        write_json(Document(), "3.0")


def test_relationship_types_match_spdx_tools() -> None:
    from spdx_tools.spdx.model import RelationshipType

    assert {t.name for t in RelationshipType} == RELATIONSHIP_TYPES


KEYCLOAK = SHARED_DATA / "sbom" / "cyclonedx" / "keycloak-10.0.2" / "bom.json"


@pytest.mark.skipif(
    importlib.util.find_spec("mamori.sbom.cyclonedx.read_json") is None,
    reason="the CycloneDX reader is not there yet",
)
def test_cyclonedx_keycloak_to_spdx(shared_data: Path) -> None:
    doc = read(requires_shared(KEYCLOAK))
    components = [doc.root, *doc.all_components()] if doc.root else list(doc.all_components())
    for fmt, writer in (("spdx-json", write_json), ("spdx-tv", write_tagvalue)):
        data = writer(doc, None)
        assert spdx_tools_problems(data, fmt) == []
    out = orjson.loads(write_json(doc, None))
    assert len(out["packages"]) + len(out.get("files", [])) == len({id(c) for c in components})
    purls = {
        ref["referenceLocator"]
        for p in out["packages"]
        for ref in p.get("externalRefs", [])
        if ref["referenceType"] == "purl"
    }
    assert purls == {c.purl for c in components if c.purl}
    known = {c.bom_ref for c in components}
    wanted = {
        (r.source, r.target)
        for r in doc.relationships
        if r.type == "DEPENDS_ON" and {r.source, r.target} <= known
    }
    written_edges = [r for r in out["relationships"] if r["relationshipType"] == "DEPENDS_ON"]
    none_edges = [r for r in written_edges if r["relatedSpdxElement"] == "NONE"]
    assert len(written_edges) - len(none_edges) == len(wanted) > 0
    # the refs listed with an empty dependsOn ("no dependencies") are written as DEPENDS_ON NONE
    assert len(none_edges) == len(doc.no_dependencies & known) == 601
    assert out["documentNamespace"].endswith(doc.serial_number.removeprefix("urn:uuid:"))

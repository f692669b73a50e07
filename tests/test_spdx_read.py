"""SPDX 2 readers (JSON, YAML, tag-value, RDF/XML) on the spdx-examples files and on bad input."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
import yaml

from conftest import SHARED_DATA, requires_shared
from mamori.errors import InputError
from mamori.model import Contact, ExternalReference, Hash, Relationship
from mamori.sbom import ReadOptions, read
from mamori.sbom.spdx.read_json import MAX_YAML_DEPTH, read_json, read_yaml
from mamori.sbom.spdx.read_tools import first_problem, read_rdf, read_tagvalue

SPDX = SHARED_DATA / "sbom" / "spdx"

# Every file under sbom/spdx and what reading it gives:
#   ok       – an SPDX 2.2/2.3 document, read into the model
#   spdx3    – an SPDX 3.0 JSON-LD document: refused with InputError (only SPDX 2.x is supported)
#   not-sbom – a Maven pom.xml that the examples ship as build input: refused with InputError
OUTCOMES = {
    "ai/example01/spdx3.0/simplehtr-example.json": "spdx3",
    "ai/example02/spdx3.0/sbom.spdx3.json": "spdx3",
    "dataset/example01/spdx3.0/example01.spdx3.json": "spdx3",
    "presentations/OSS-NA-2023/SPDXVersion2.3/01-MinimalSBOM.json": "ok",
    "presentations/OSS-NA-2023/SPDXVersion2.3/02-SBOMwSource.json": "ok",
    "presentations/OSS-NA-2023/SPDXVersion2.3/03-SBOMwDependency.json": "ok",
    "presentations/OSS-NA-2023/SPDXVersion2.3/04-SBOMwSecurity.json": "ok",
    "presentations/OSS-NA-2023/SPDXVersion2.3/05-SBOMwSourceLicense.json": "ok",
    "presentations/SBOMS-SPDX-Now-and-Future/ACME-v2.3.spdx.json": "ok",
    "software/example1/spdx2.2/example1.spdx": "ok",
    "software/example1/spdx3.0/example1.json": "spdx3",
    "software/example10/spdx2.3/hello-source.spdx.json": "ok",
    "software/example10/spdx3.0/hello-source.spdx3.json": "spdx3",
    "software/example11/spdx2.3/sbom.spdx.json": "ok",
    "software/example11/spdx3.0/sbom.spdx3.json": "spdx3",
    "software/example12/spdx2.2/hello-dist.spdx.json": "ok",
    "software/example12/spdx2.2/hello-src.spdx.json": "ok",
    "software/example12/spdx3.0/hello-dist.spdx3.json": "spdx3",
    "software/example12/spdx3.0/hello-src.spdx3.json": "spdx3",
    "software/example13/spdx3.0/example13.spdx3.json": "spdx3",
    "software/example14/content/examplemaven-0.0.1.spdx.json": "ok",
    "software/example14/content/examplemaven-0.0.1.spdx3.json": "spdx3",
    "software/example14/spdx2.3/examplemaven-0.0.1-enriched.spdx.json": "ok",
    "software/example14/spdx3.0/examplemaven-0.0.1-enriched.spdx3.json": "spdx3",
    "software/example2/spdx2.2/example2-bin.spdx": "ok",
    "software/example2/spdx2.2/example2-src.spdx": "ok",
    "software/example3/spdx2.2/example3-bin.spdx": "ok",
    "software/example3/spdx2.2/example3-src.spdx": "ok",
    "software/example3/spdx3.0/example3-bin.json": "spdx3",
    "software/example3/spdx3.0/example3-src.json": "spdx3",
    "software/example4/spdx2.2/example4-bin.spdx": "ok",
    "software/example4/spdx2.2/example4-src.spdx": "ok",
    "software/example4/spdx3.0/example4-bin.json": "spdx3",
    "software/example4/spdx3.0/example4-src.json": "spdx3",
    "software/example5/spdx2.2/example5-bin.spdx": "ok",
    "software/example5/spdx2.2/example5-src.spdx": "ok",
    "software/example5/spdx3.0/example5-bin.json": "spdx3",
    "software/example5/spdx3.0/example5-src.json": "spdx3",
    "software/example6/spdx2.2/example6-bin.spdx": "ok",
    "software/example6/spdx2.2/example6-lib.spdx": "ok",
    "software/example6/spdx2.2/example6-src.spdx": "ok",
    "software/example6/spdx3.0/example6-bin.json": "spdx3",
    "software/example6/spdx3.0/example6-lib.json": "spdx3",
    "software/example6/spdx3.0/example6-src.json": "spdx3",
    "software/example7/spdx2.2/example7-bin.spdx.json": "ok",
    "software/example7/spdx2.2/example7-go-module.spdx.json": "ok",
    "software/example7/spdx2.2/example7-golang.spdx.json": "ok",
    "software/example7/spdx2.2/example7-third-party-modules.spdx.json": "ok",
    "software/example7/spdx3.0/example7-bin.spdx3.json": "spdx3",
    "software/example7/spdx3.0/example7-go-module.spdx3.json": "spdx3",
    "software/example7/spdx3.0/example7-golang.spdx3.json": "spdx3",
    "software/example7/spdx3.0/example7-third-party-modules.spdx3.json": "spdx3",
    "software/example8/content/examplemaven/pom-with-spdx-plugin.xml": "not-sbom",
    "software/example8/content/examplemaven/pom.xml": "not-sbom",
    "software/example8/spdx2.3/examplemaven-0.0.1.spdx.json": "ok",
    "software/example8/spdx3.0/examplemaven-0.0.1.spdx3.json": "spdx3",
    "software/example9/spdx2.2/appbomination.spdx.json": "ok",
    "software/example9/spdx3.0/appbomination.spdx3.json": "spdx3",
}
SPDX2_FILES = sorted(rel for rel, outcome in OUTCOMES.items() if outcome == "ok")


def test_outcome_list_covers_every_file(shared_data: Path) -> None:
    on_disk = {p.relative_to(SPDX).as_posix() for p in requires_shared(SPDX).rglob("*") if p.is_file()}
    assert on_disk == set(OUTCOMES)


@pytest.mark.parametrize("rel", sorted(OUTCOMES))
def test_every_example_file(shared_data: Path, rel: str) -> None:
    from spdx_tools.spdx.parser.parse_anything import parse_file

    path = requires_shared(SPDX / rel)
    outcome = OUTCOMES[rel]
    if outcome == "ok":
        doc = read(path)
        reference = parse_file(str(path))  # spdx-tools, for the element count
        assert doc.spec == "spdx"
        assert doc.spec_version in ("2.2", "2.3")
        assert doc.serial_number == reference.creation_info.document_namespace
        elements = list(doc.components) + ([doc.root] if doc.root else [])
        assert len(elements) == len(reference.packages) + len(reference.files)
        assert {c.bom_ref for c in elements} == {e.spdx_id for e in reference.packages + reference.files}
        return
    with pytest.raises(InputError) as err:
        read(path)
    assert str(path) in str(err.value)
    if outcome == "spdx3":  # forced through the SPDX 2 JSON reader, the problem is named
        with pytest.raises(InputError, match="SPDX 3"):
            read(path, fmt="spdx-json")
    else:
        assert "not an SBOM" in str(err.value)


def _one(components, ref):
    return next(c for c in components if c.bom_ref == ref)


def test_json_fields(shared_data: Path) -> None:
    doc = read(requires_shared(SPDX / "presentations/SBOMS-SPDX-Now-and-Future/ACME-v2.3.spdx.json"))
    assert doc.name == "ACME SBOM"
    assert doc.spec_version == "2.3"
    assert doc.data_license == "CC0-1.0"
    assert doc.serial_number == "http://spdx.org/spdxdocs/spdx-example-4ca64a7e-2f6f-41bf-8b18-16da59d67824"
    assert doc.timestamp == datetime(2023, 10, 8, 18, 30, 22, tzinfo=UTC)
    assert doc.comment == "SPDX 2.3 SBOM for the ACME example"
    assert doc.authors == [
        Contact(name="ExampleCodeInspect", kind="organization"),
        Contact(name="Jane Doe", kind="person"),
    ]
    assert doc.tools == []
    assert {p.name: p.value for p in doc.properties} == {
        "spdx:comment": "This document is an example of the ACME example",
        "spdx:licenseListVersion": "3.17",
    }
    root = doc.root
    assert root is not None and root.bom_ref == "SPDXRef-Acme"
    assert (root.name, root.version, root.type) == ("Acme Applcation", "2.3", "application")
    assert root.supplier == Contact(name="Jane Doe", email="jane.doe@example.com", kind="person")
    assert root.author == "ExampleCodeInspect"
    assert root.hashes == [Hash("SHA-1", "85ed0817af83a24ad8da68c2b5094de69833983c")]
    assert (root.license_concluded, root.license_declared) == ("Apache-2.0", "Apache-2.0")
    assert root.copyright == "Copyright 2008-2010 John Smith"
    assert root.description == "The ACME package is a typical application we use in SPDX examples"
    assert root.download_location == "https://examle.com/download/acme-v1.3.tar.gz"
    assert root.property("spdx:summary") == "Example ACME Application"
    assert root.property("spdx:packageFileName") == "acme-v1.3.tar.gz"
    assert root.property("spdx:filesAnalyzed") == "false"
    assert root.property("spdx:primaryPackagePurpose") == "APPLICATION"
    assert root.property("spdx:originator") == "Organization: ExampleCodeInspect (contact@example.com)"

    elliptic = _one(doc.components, "SPDXRef-npm-elliptic")
    assert elliptic.purl == "pkg:npm/elliptic@6.5.2"
    assert elliptic.type == "library"
    assert elliptic.external_references == [
        ExternalReference("website", "https://github.com/indutny/elliptic"),
        ExternalReference("advisories", "https://nvd.nist.gov/vuln/detail/CVE-2020-28498"),
    ]
    alpine = _one(doc.components, "SPDXRef-alpine")
    assert alpine.download_location is None  # NOASSERTION
    assert alpine.license_declared is None and alpine.license_concluded is None
    # DESCRIBES became the root; the CONTAINS edges stay
    assert doc.relationships == [
        Relationship("SPDXRef-Acme", f"SPDXRef-{name}", "CONTAINS")
        for name in ("npm-elliptic", "alpine", "openssl")
    ]


def test_tagvalue_fields(shared_data: Path) -> None:
    doc = read(requires_shared(SPDX / "software/example6/spdx2.2/example6-lib.spdx"))
    assert doc.spec_version == "2.2"
    assert doc.authors == [Contact(name="Steve Winslow", email="steve@swinslow.net", kind="person")]
    root = doc.root
    assert root is not None and root.name == "go-1.15"
    assert root.supplier == Contact(name="Canonical Ltd.", kind="organization")
    assert root.author == "Google LLC"
    assert root.hashes == [
        Hash("SHA-256", "0d6e1420facd978e532eae7bd5cb6378b65522c12fa9dcf682129e698c34d1b2")
    ]
    assert root.license_declared == "LicenseRef-Golang-BSD-plus-Patents"
    assert root.license_concluded is None
    assert root.description == "Ubuntu snap distribution of Golang v1.15.4 linux/amd64"  # from the summary
    assert root.property("spdx:sourceInfo") == "installed using Ubuntu snap file, see https://snapcraft.io/go"
    assert root.external_references == [ExternalReference("website", "https://golang.org/")]
    extracted = orjson.loads(
        next(p.value for p in doc.properties if p.name == "spdx:hasExtractedLicensingInfos")
    )
    assert [e["licenseId"] for e in extracted] == ["LicenseRef-Golang-BSD-plus-Patents"]
    assert extracted[0]["name"] == "Golang BSD-plus-PATENTS"
    fmt = _one(doc.components, "SPDXRef-Package-go.fmt")
    assert fmt.property("spdx:comment") == "This represents the fmt standard library, not the gofmt command."
    assert {(r.source, r.type) for r in doc.relationships} == {("SPDXRef-Package-godist", "CONTAINS")}
    assert len(doc.relationships) == 4


def test_files_become_file_components(shared_data: Path) -> None:
    doc = read(requires_shared(SPDX / "software/example12/spdx2.2/hello-src.spdx.json"))
    files = [c for c in doc.components if c.type == "file"]
    assert len(files) == 12
    changelog = next(c for c in files if c.name == "./CHANGELOG.md")
    assert {h.alg for h in changelog.hashes} == {"SHA-256", "SHA-1"}
    assert changelog.property("spdx:licenseInfoInFiles") == '["NOASSERTION"]'
    # hasFiles became CONTAINS from the root package
    contains = [r for r in doc.relationships if r.type == "CONTAINS" and r.source == doc.root.bom_ref]
    assert {r.target for r in contains} >= {c.bom_ref for c in files}


def test_several_described_packages_leave_no_root(shared_data: Path) -> None:
    doc = read(requires_shared(SPDX / "software/example7/spdx2.2/example7-third-party-modules.spdx.json"))
    assert doc.root is None
    described = [
        r.target for r in doc.relationships if r.type == "DESCRIBES" and r.source == "SPDXRef-DOCUMENT"
    ]
    assert described == ["SPDXRef-go-module-text", "SPDXRef-go-module-quote", "SPDXRef-go-module-sampler"]
    assert len(doc.components) == 3


def _minimal(**extra: object) -> dict:
    doc = {
        "spdxVersion": "SPDX-2.3",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "t",
        "dataLicense": "CC0-1.0",
        "documentNamespace": "https://example.org/t",
        "creationInfo": {
            "created": "2024-01-02T03:04:05Z",
            "creators": ["Tool: builder-1.2.3", "Tool: plain tool"],
        },
        "packages": [
            {"SPDXID": "SPDXRef-a", "name": "a", "downloadLocation": "NONE", "licenseDeclared": "NONE"},
            {"SPDXID": "SPDXRef-b", "name": "b", "downloadLocation": "NOASSERTION"},
        ],
    }
    doc.update(extra)
    return doc


def _read_dict(data: dict):
    return read_json(orjson.dumps(data), Path("t.spdx.json"), ReadOptions())


def test_relationship_normalisation_and_none() -> None:
    doc = _read_dict(
        _minimal(
            relationships=[
                {
                    "spdxElementId": "SPDXRef-DOCUMENT",
                    "relationshipType": "DESCRIBES",
                    "relatedSpdxElement": "SPDXRef-a",
                },
                {
                    "spdxElementId": "SPDXRef-b",
                    "relationshipType": "DEPENDENCY_OF",
                    "relatedSpdxElement": "SPDXRef-a",
                },
                {
                    "spdxElementId": "SPDXRef-b",
                    "relationshipType": "DEV_DEPENDENCY_OF",
                    "relatedSpdxElement": "SPDXRef-a",
                    "comment": "tests",
                },
            ]
        )
    )
    assert doc.root is not None and doc.root.bom_ref == "SPDXRef-a"
    assert doc.relationships == [
        Relationship("SPDXRef-a", "SPDXRef-b", "DEPENDS_ON"),
        Relationship("SPDXRef-b", "SPDXRef-a", "DEV_DEPENDENCY_OF", "tests"),
    ]
    assert doc.dependencies() == {"SPDXRef-a": ["SPDXRef-b"]}
    assert [(t.name, t.version) for t in doc.tools] == [("builder", "1.2.3"), ("plain tool", None)]
    a = doc.root
    # NONE: the model field is empty and the fact is kept for SPDX output
    assert a.download_location is None and a.license_declared is None
    assert a.property("spdx:downloadLocation") == "NONE"
    assert a.property("spdx:licenseDeclared") == "NONE"
    assert a.property("spdx:filesAnalyzed") == "true"  # absent means true in SPDX 2


def test_licence_expressions_are_normalised() -> None:
    pkg = {
        "SPDXID": "SPDXRef-a",
        "name": "a",
        "licenseConcluded": "mit or gpl-2.0+",
        "licenseDeclared": "LicenseRef-Apache",
    }
    doc = _read_dict(_minimal(packages=[pkg]))
    comp = doc.root
    assert comp.license_concluded == "MIT OR GPL-2.0-or-later"
    assert comp.license_declared == "LicenseRef-Apache"  # a document's own LicenseRef is not an alias


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"spdxVersion": "SPDX-2.3",\n "name": }', "invalid JSON at line 2 column"),
        (b"[1, 2]", "top level is a list"),
        (b'{"spdxVersion": "SPDX-9.1"}', "unknown spdxVersion 'SPDX-9.1'"),
        (b'{"spdxVersion": "SPDX-3.0"}', "SPDX 3 is not supported"),
        (b'{"name": "x"}', "'spdxVersion' is missing"),
        (b'{"spdxVersion": "SPDX-2.3", "packages": {"a": 1}}', "'packages' must be a list"),
        (b'{"spdxVersion": "SPDX-2.3", "packages": [{"name": "x"}]}', "'SPDXID' is missing"),
        (
            b'{"spdxVersion": "SPDX-2.3", "packages": [{"SPDXID": "SPDXRef-x", "name": ["x"]}]}',
            "package SPDXRef-x: 'name' must be a string",
        ),
        (
            b'{"spdxVersion": "SPDX-2.3", "creationInfo": {"created": "yesterday"}}',
            "'created' is not an ISO 8601",
        ),
        (b'{"spdxVersion": "SPDX-2.3", "files": [3]}', "document.files[0]: must be an object"),
        (
            b'{"spdxVersion": "SPDX-2.3", "packages": [{"SPDXID": "SPDXRef-x", "name": "x", "filesAnalyzed": "maybe"}]}',
            "package SPDXRef-x: 'filesAnalyzed' must be a boolean, not a string",
        ),
        (
            b'{"spdxVersion": "SPDX-2.3", "packages": [{"SPDXID": "SPDXRef-x", "name": "x", "annotations": [1]}]}',
            "'annotations' must be a list of objects",
        ),
    ],
)
def test_json_errors(data: bytes, message: str) -> None:
    """Read strictly, every flaw refuses the file (read leniently, field flaws are warnings:
    tests/test_read_lenient.py)."""
    with pytest.raises(InputError, match=r"^t\.spdx\.json: ") as err:
        read_json(data, Path("t.spdx.json"), ReadOptions(strict=True))
    assert message in str(err.value)


def test_yaml_is_read_with_strings_kept(tmp_path: Path) -> None:
    text = yaml.safe_dump(_minimal()).replace("name: a\n", "name: a\n  versionInfo: 1.10\n")
    doc = read_yaml(text.encode(), tmp_path / "t.spdx.yaml", ReadOptions())
    assert doc.root is None and [c.version for c in doc.components] == ["1.10", None]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"spdxVersion: SPDX-2.3\nname: [unclosed\n", "invalid YAML at line 3"),
        (b"- a\n- b\n", "top level is a list"),
        (b"spdxVersion: SPDX-2.3\na: &x [1, 2]\nb: [*x, *x]\n", "anchors and aliases are not allowed"),
        (b"[" * (MAX_YAML_DEPTH + 1) + b"]" * (MAX_YAML_DEPTH + 1), f"nested deeper than {MAX_YAML_DEPTH}"),
        (b"- " * 20000 + b"x", f"nested deeper than {MAX_YAML_DEPTH}"),  # would crash libyaml's composer
    ],
)
def test_yaml_errors(data: bytes, message: str) -> None:
    with pytest.raises(InputError) as err:
        read_yaml(data, Path("t.spdx.yaml"), ReadOptions())
    assert message in str(err.value)


def _written_by_spdx_tools(source: Path, target: Path) -> Path:
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.writer.write_anything import write_file

    write_file(parse_file(str(source)), str(target), validate=False)
    return target


@pytest.mark.parametrize("suffix", [".spdx.yaml", ".spdx.rdf.xml"])
@pytest.mark.parametrize(
    "rel",
    [
        "software/example6/spdx2.2/example6-bin.spdx",
        "presentations/SBOMS-SPDX-Now-and-Future/ACME-v2.3.spdx.json",
    ],
)
def test_yaml_and_rdf_match_the_same_document(
    shared_data: Path, tmp_path: Path, suffix: str, rel: str
) -> None:
    """spdx-examples has no YAML or RDF files: spdx-tools writes them from a real example."""
    source = requires_shared(SPDX / rel)
    other = _written_by_spdx_tools(source, tmp_path / f"doc{suffix}")
    expected, got = read(source), read(other)
    assert got.spec == "spdx" and got.name == expected.name
    assert got.root is not None and got.root.bom_ref == expected.root.bom_ref
    assert got.root.hashes == expected.root.hashes
    assert {c.bom_ref: (c.name, c.version, c.purl, c.license_declared) for c in got.components} == {
        c.bom_ref: (c.name, c.version, c.purl, c.license_declared) for c in expected.components
    }
    assert sorted((r.source, r.type, r.target) for r in got.relationships) == sorted(
        (r.source, r.type, r.target) for r in expected.relationships
    )


def test_rdf_refuses_doctype_and_entities(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read")
    data = (
        f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [<!ENTITY ext SYSTEM "file://{secret}">]>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:spdx="http://spdx.org/rdf/terms#">'
        '<spdx:SpdxDocument rdf:about="https://example.org/doc#SPDXRef-DOCUMENT"><spdx:name>&ext;</spdx:name>'
        "</spdx:SpdxDocument></rdf:RDF>"
    ).encode()
    with pytest.raises(InputError, match="DOCTYPE"):
        read_rdf(data, tmp_path / "x.rdf", ReadOptions())
    with pytest.raises(InputError, match=r"invalid XML at line 1"):
        read_rdf(b"<rdf:RDF", tmp_path / "x.rdf", ReadOptions())


def test_tagvalue_errors_name_the_first_problem_and_line(shared_data: Path) -> None:
    text = requires_shared(SPDX / "software/example6/spdx2.2/example6-lib.spdx").read_bytes()
    bad = text.replace(b"PackageVersion: 1.15.4", b"PackageVersion:", 1)
    with pytest.raises(InputError) as err:
        read_tagvalue(bad, Path("x.spdx"), ReadOptions())
    assert str(err.value) == (
        "x.spdx: tag-value: line 14: Package: PackageVersion: Token did not match specified grammar rule"
    )
    with pytest.raises(InputError, match="line 1: Unknown tag"):
        read_tagvalue(b"hello", Path("x.spdx"), ReadOptions())
    with pytest.raises(InputError, match="not UTF-8"):
        read_tagvalue(b"\xff\xfe\x00", Path("x.spdx"), ReadOptions())
    with pytest.raises(InputError, match=r"unknown spdxVersion 'SPDX-9\.9'"):
        read_tagvalue(text.replace(b"SPDX-2.2", b"SPDX-9.9"), Path("x.spdx"), ReadOptions())


def test_first_problem_unwraps_spdx_tools_messages() -> None:
    messages = [
        "Error while parsing Package: ['Error while parsing PackageChecksum: Token did not match specified grammar rule. Line: 19']",
        "Error while parsing Package: ['x. Line: 37']",
        "Unknown tag provided in line 40",
    ]
    assert first_problem(messages) == (
        "line 19: Package: PackageChecksum: Token did not match specified grammar rule (and 2 more problems)"
    )
    missing = [
        "Error while constructing Package: Package.__init__() missing 1 required positional argument: 'spdx_id'"
    ]
    assert first_problem(missing) == "Package: missing required field(s) 'spdx_id'"

"""CycloneDX writers: round trips on real BOMs, official schema validation, mapping decisions."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import orjson
import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from cyclonedx.validation.xml import XmlValidator
from lxml import etree

from conftest import SHARED_DATA, requires_shared
from mamori.errors import InputError
from mamori.model import (
    Component,
    Contact,
    Document,
    ExternalReference,
    Hash,
    Property,
    Relationship,
    Service,
    Tool,
)
from mamori.sbom import read, write
from mamori.sbom.cyclonedx import read_json, read_xml
from mamori.sbom.cyclonedx.write import write_json, write_xml

CDX = SHARED_DATA / "sbom" / "cyclonedx"
ROUND_TRIP = [
    "keycloak-10.0.2/bom.json",
    "keycloak-10.0.2/bom.xml",
    "dropwizard-1.3.15/bom.json",
    "dropwizard-1.3.15/bom.xml",
    "juice-shop/v11.1.2/bom.json",
    "juice-shop/v11.1.2/bom.xml",
]
VERSIONS = ("1.4", "1.5", "1.6")
WRITERS = {"json": (write_json, read_json.read), "xml": (write_xml, read_xml.read)}


def _reread(doc: Document, fmt: str, version: str) -> Document:
    writer, reader = WRITERS[fmt]
    return reader(writer(doc, version), Path(f"out.{fmt}"))


def _expected(original: Document, back: Document) -> Document:
    """The original with what a write legitimately adds: the target spec version and generated bom-refs."""
    expected = copy.deepcopy(original)
    expected.spec_version = back.spec_version
    pairs = list(zip(expected.all_components(), back.all_components(), strict=True))
    if expected.root is not None and back.root is not None:
        pairs += list(zip(expected.root.walk(), back.root.walk(), strict=True))
    services = list(zip(_services(expected.services), _services(back.services), strict=True))
    for ours, theirs in [*pairs, *services]:
        if ours.bom_ref is None:
            ours.bom_ref = theirs.bom_ref
    return expected


def _services(services: list[Service]) -> list[Service]:
    return [s for svc in services for s in (svc, *_services(svc.services))]


@pytest.mark.shared
@pytest.mark.parametrize("name", ROUND_TRIP)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_round_trip_keeps_every_field(name: str, fmt: str) -> None:
    original = read(requires_shared(CDX / name))
    for version in ("1.6", "1.4") if name.startswith("dropwizard") else ("1.6",):
        back = _reread(original, fmt, version)
        assert back == _expected(original, back)


@pytest.mark.shared
def test_round_trip_carries_what_cyclonedx_cannot_hold() -> None:
    doc = read(requires_shared(CDX / "dropwizard-1.3.15" / "bom.json"))
    bad = next((c, r) for c in doc.all_components() for r in c.external_references if "${" in r.url)
    out = orjson.loads(write_json(doc))
    written = next(c for c in out["components"] if c["bom-ref"] == bad[0].bom_ref)
    assert bad[1].url not in [r["url"] for r in written.get("externalReferences", [])]
    assert any(
        p["name"] == "mamori:external-reference" and bad[1].url in p["value"] for p in written["properties"]
    )


# -- schema validation -------------------------------------------------------------------------


@cache
def _validator(fmt: str, version: str) -> JsonStrictValidator | XmlValidator:
    cls = JsonStrictValidator if fmt == "json" else XmlValidator
    return cls(SchemaVersion.from_version(version))


def _assert_valid(doc: Document, fmt: str, version: str) -> bytes:
    writer, _ = WRITERS[fmt]
    data = writer(doc, version)
    errors = _validator(fmt, version).validate_str(data.decode(), all_errors=True)
    messages = [str(e)[:400] for e in errors] if errors else []
    assert messages == [], f"{fmt} {version}: {messages[:3]}"
    return data


def _sample(doc: Document) -> Document:
    """A few components of a real BOM covering its variety (the schema's IRI check takes ~25 ms per URL)."""
    features = [
        lambda c: True,
        lambda c: c.license_declared and " " in c.license_declared,
        lambda c: c.license_declared and "LicenseRef-" in c.license_declared,
        lambda c: any(
            "${" in r.url or ":" in r.url.split("//")[-1].split("/")[0] for r in c.external_references
        ),
        lambda c: bool(c.components),
        lambda c: bool(c.properties),
    ]
    picked: list[Component] = []
    for wanted in features:
        hit = next((c for c in doc.components if wanted(c) and c not in picked), None)
        if hit is not None:
            picked.append(hit)
    sample = copy.copy(doc)
    sample.components = picked
    refs = {c.bom_ref for comp in picked for c in comp.walk()} | ({doc.root.bom_ref} if doc.root else set())
    sample.relationships = [r for r in doc.relationships if r.source in refs and r.target in refs]
    return sample


@pytest.mark.shared
@pytest.mark.parametrize(
    "name", ["keycloak-10.0.2/bom.json", "dropwizard-1.3.15/bom.xml", "juice-shop/v11.1.2/bom.json"]
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("version", VERSIONS)
def test_written_real_boms_validate(name: str, fmt: str, version: str) -> None:
    _assert_valid(_sample(read(requires_shared(CDX / name))), fmt, version)


def _everything() -> Document:
    """A model with every field set, including values CycloneDX cannot hold as they are."""
    lib = Component(
        name="jackson-databind",
        version="2.9.10.5",
        type="library",
        bom_ref="SPDXRef-Package-jackson",
        group="com.fasterxml.jackson.core",
        supplier=Contact(name="FasterXML", email="info@fasterxml.com", url="https://fasterxml.com"),
        author="Tatu Saloranta",
        publisher="FasterXML",
        description="General data-binding functionality for Jackson",
        purl="pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.10.5",
        cpes=[
            "cpe:2.3:a:fasterxml:jackson-databind:2.9.10.5:*:*:*:*:*:*:*",
            "cpe:/a:fasterxml:jackson-databind:2.9.10.5",
        ],
        swid="swidgen-jackson-2.9.10.5",
        hashes=[
            Hash("SHA-1", "0ad4bd9a2ee6d1e0f2f3b1f8d6f7a1b2c3d4e5f6"),
            Hash("SHA224", "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f"),
            Hash("SHA-256", "not-hex"),
        ],
        license_declared="Apache-2.0 OR MIT",
        license_concluded="Apache-2.0",
        copyright="Copyright 2007- Tatu Saloranta",
        download_location="https://repo1.maven.org/maven2/com/fasterxml/jackson/core/jackson-databind/2.9.10.5/",
        external_references=[
            ExternalReference("vcs", "https://github.com/FasterXML/jackson-databind"),
            ExternalReference("website", "https://github.com/FasterXML/${project.artifactId}", "unresolved"),
            ExternalReference("source-distribution", "https://example.org/src.tgz"),
        ],
        properties=[
            Property("cdx:maven:package:test", "false"),
            Property("mamori:manufacturer", '{"name":"FasterXML","url":"https://fasterxml.com"}'),
        ],
        scope="required",
        components=[Component(name="shaded-asm", version="7.0", type="cryptographic-asset")],
    )
    loose = Component(name="left-pad", version="1.3.0", type="archive", license_concluded="WTFPL")
    twin = Component(name="left-pad", version="1.3.0", license_declared="LicenseRef-Custom")
    return Document(
        spec="spdx",
        spec_version="SPDX-2.3",
        serial_number="https://example.org/spdxdocs/app-1.0-5d3c",
        version=3,
        name="app 1.0 SBOM",
        data_license="CC0-1.0",
        authors=[Contact(name="Hanako Yamada", email="hanako@example.co.jp", kind="person")],
        tools=[Tool(name="mamori", vendor="mamori project", version="0.1.0")],
        timestamp=datetime(2025, 4, 1, 9, 30),
        supplier=Contact(name="Example KK", email="psirt@example.co.jp", url="https://example.co.jp"),
        lifecycles=["build", "post-release review"],
        root=Component(name="app", version="1.0", type="application", bom_ref="SPDXRef-app"),
        components=[lib, loose, twin],
        services=[
            Service(
                name="update-api",
                bom_ref="svc-update",
                group="jp.co.example",
                version="2",
                provider=Contact(name="Example KK", url="https://example.co.jp"),
                description="Firmware update service",
                endpoints=["https://update.example.co.jp/v2"],
                authenticated=True,
                x_trust_boundary=True,
                data=[{"flow": "outbound", "classification": "PII", "name": "device id"}],
                license_declared="LicenseRef-Proprietary",
                external_references=[ExternalReference("documentation", "https://example.co.jp/api")],
                properties=[Property("owner", "platform team")],
                services=[Service(name="update-cdn")],
            )
        ],
        relationships=[
            Relationship("SPDXRef-app", "SPDXRef-Package-jackson", "DEPENDS_ON"),
            Relationship("SPDXRef-Package-jackson", "SPDXRef-app", "DEPENDENCY_OF"),
            Relationship("SPDXRef-app", "svc-update", "DEPENDS_ON"),
            Relationship("SPDXRef-DOCUMENT", "SPDXRef-app", "DESCRIBES"),
            Relationship("SPDXRef-app", "SPDXRef-Package-jackson", "CONTAINS", "bundled"),
            Relationship("SPDXRef-app", "SPDXRef-missing", "DEPENDS_ON"),
        ],
        properties=[Property("build-id", "4711")],
        comment="Generated for the release review",
    )


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("version", VERSIONS)
def test_a_model_with_every_field_validates(fmt: str, version: str) -> None:
    _assert_valid(_everything(), fmt, version)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_model_with_every_field_round_trips_in_16(fmt: str) -> None:
    doc = _everything()
    back = _reread(doc, fmt, "1.6")
    expected = _expected(doc, back)
    # documented changes: the spec, a naive time read back as UTC, the download location also listed
    # as a distribution reference, DEPENDENCY_OF written as the reversed DEPENDS_ON (a duplicate here)
    expected.spec = "cyclonedx"
    expected.timestamp = datetime(2025, 4, 1, 9, 30, tzinfo=UTC)
    lib = expected.components[0]
    lib.external_references.append(ExternalReference("distribution", lib.download_location))
    expected.relationships = [r for r in expected.relationships if r.type != "DEPENDENCY_OF"]
    assert back.relationships == [
        Relationship("SPDXRef-app", "SPDXRef-Package-jackson"),
        Relationship("SPDXRef-app", "svc-update"),
        Relationship("SPDXRef-DOCUMENT", "SPDXRef-app", "DESCRIBES"),
        Relationship("SPDXRef-app", "SPDXRef-Package-jackson", "CONTAINS", "bundled"),
        Relationship("SPDXRef-app", "SPDXRef-missing", "DEPENDS_ON"),
    ]
    expected.relationships = back.relationships
    assert back == expected


def test_lower_versions_drop_or_carry_what_they_lack() -> None:
    doc = _everything()
    v16 = orjson.loads(write_json(doc, "1.6"))
    v15 = orjson.loads(write_json(doc, "1.5"))
    v14 = orjson.loads(write_json(doc, "1.4"))
    assert v16["metadata"]["lifecycles"] == [{"phase": "build"}, {"name": "post-release review"}]
    assert "lifecycles" in v15["metadata"] and "lifecycles" not in v14["metadata"]
    assert v14["metadata"]["tools"] == [{"vendor": "mamori project", "name": "mamori", "version": "0.1.0"}]
    assert v15["metadata"]["tools"] == {
        "components": [
            {"type": "application", "group": "mamori project", "name": "mamori", "version": "0.1.0"}
        ]
    }
    assert "manufacturer" in v16["components"][0] and "manufacturer" not in v15["components"][0]
    lib16, lib14 = v16["components"][0], v14["components"][0]
    assert lib16["licenses"] == [{"expression": "Apache-2.0 OR MIT", "acknowledgement": "declared"}]
    assert {"name": "mamori:license-concluded", "value": "Apache-2.0"} in lib16["properties"]
    assert lib14["licenses"] == [{"expression": "Apache-2.0 OR MIT"}]
    assert lib16["components"][0]["type"] == "cryptographic-asset"
    assert lib14["components"][0]["type"] == "library"
    assert {"name": "mamori:type", "value": "cryptographic-asset"} in lib14["components"][0]["properties"]
    assert [r["type"] for r in lib16["externalReferences"]] == ["vcs", "source-distribution", "distribution"]
    assert [r["type"] for r in lib14["externalReferences"]] == ["vcs", "other", "distribution"]
    # a component with only a concluded licence, before 1.6
    loose14 = v14["components"][1]
    assert loose14["licenses"] == [{"license": {"id": "WTFPL"}}]
    assert {"name": "mamori:licenses-acknowledgement", "value": "concluded"} in loose14["properties"]
    back = read_json.read(write_json(doc, "1.4"), Path("x.json"))
    assert (back.components[1].license_declared, back.components[1].license_concluded) == (None, "WTFPL")
    assert back.components[0].license_concluded == "Apache-2.0"
    assert back.components[0].components[0].type == "cryptographic-asset"


def test_relationships_and_bom_refs() -> None:
    out = orjson.loads(write_json(_everything()))
    refs = [c["bom-ref"] for c in out["components"]]
    refs += [c["bom-ref"] for c in out["components"][0]["components"]]
    refs += [out["metadata"]["component"]["bom-ref"], out["services"][0]["bom-ref"]]
    refs += [out["services"][0]["services"][0]["bom-ref"]]
    assert len(refs) == len(set(refs))
    assert refs[1:3] == ["left-pad@1.3.0", "left-pad@1.3.0#2"]  # made from name@version, kept unique
    assert out["dependencies"] == [
        {"ref": "SPDXRef-app", "dependsOn": ["SPDXRef-Package-jackson", "svc-update"]}
    ]
    carried = [
        orjson.loads(p["value"]) for p in out["metadata"]["properties"] if p["name"] == "mamori:relationship"
    ]
    assert carried == [
        ["SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-app"],
        ["SPDXRef-app", "CONTAINS", "SPDXRef-Package-jackson", "bundled"],
        ["SPDXRef-app", "DEPENDS_ON", "SPDXRef-missing"],
    ]
    assert out["serialNumber"].startswith("urn:uuid:")
    names = {p["name"]: p["value"] for p in out["metadata"]["properties"]}
    assert names["mamori:serial-number"] == "https://example.org/spdxdocs/app-1.0-5d3c"
    assert names["mamori:document-name"] == "app 1.0 SBOM"
    assert out["metadata"]["licenses"] == [{"license": {"id": "CC0-1.0"}}]
    assert out["metadata"]["timestamp"] == "2025-04-01T09:30:00+00:00"


def test_output_is_deterministic_and_a_fixed_point() -> None:
    doc = _everything()
    for writer, reader in WRITERS.values():
        first = writer(doc, "1.6")
        assert writer(copy.deepcopy(doc), "1.6") == first
        again = writer(reader(first, Path("x")), "1.6")
        assert writer(reader(again, Path("x")), "1.6") == again


def test_xml_output_is_namespaced_and_safe() -> None:
    doc = Document(components=[Component(name="bad\x01name", description="tab\tand\x0bvertical")])
    data = write_xml(doc, "1.5")
    root = etree.fromstring(data)
    assert root.tag == "{http://cyclonedx.org/schema/bom/1.5}bom"
    assert read_xml.read(data, Path("x.xml")).components[0].name == "bad\ufffdname"


def test_unknown_output_version_and_registry(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"supports spec versions 1\.4, 1\.5, 1\.6, not 1\.2"):
        write_json(Document(), "1.2")
    doc = _everything()
    assert write(doc, tmp_path / "out.cdx.json") == "cyclonedx-json"
    assert write(doc, tmp_path / "out.cdx.xml", spec_version="1.4") == "cyclonedx-xml"
    assert read(tmp_path / "out.cdx.xml").spec_version == "1.4"
    assert read(tmp_path / "out.cdx.json").components[0].name == "jackson-databind"


@pytest.mark.parametrize("version", VERSIONS)
def test_enumerations_match_the_official_schemas(version: str) -> None:
    from cyclonedx.schema._res import BOM_JSON

    from mamori.sbom.cyclonedx import versions

    schema = orjson.loads(Path(BOM_JSON[SchemaVersion.from_version(version)]).read_bytes())
    defs = schema["definitions"]
    assert set(defs["component"]["properties"]["type"]["enum"]) == versions.COMPONENT_TYPES[version]
    assert (
        set(defs["externalReference"]["properties"]["type"]["enum"])
        == versions.EXTERNAL_REFERENCE_TYPES[version]
    )
    assert set(defs["hash-alg"]["enum"]) == versions.HASH_ALGORITHMS

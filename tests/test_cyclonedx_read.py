"""CycloneDX JSON and XML readers on the real BOMs in ../shared/data and on crafted bad input."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import SHARED_DATA, requires_shared, shared_files
from mamori.errors import InputError
from mamori.model import Contact, ExternalReference, Hash, Property, Relationship, Tool
from mamori.sbom import ReadOptions, read
from mamori.sbom.cyclonedx import read_json, read_xml

CDX = SHARED_DATA / "sbom" / "cyclonedx"
DT = SHARED_DATA / "sbom" / "dependency-track-tests"

# every file in both folders is CycloneDX; this one must be refused, and the second one too when
# reading strictly (read leniently it is kept with a warning: tests/test_read_lenient.py)
REJECTED = {"bom-invalid.json": "invalid JSON at line 2 column 28"}
STRICT_REJECTED = {
    **REJECTED,
    "bom-invalid-license-expression.json": "components[0].licenses: invalid SPDX licence expression '(invalid'",
}
STRICT = ReadOptions(strict=True)
# components (nested included, root excluded) for a sample of the accepted files
COMPONENTS = {
    "keycloak-10.0.2/bom.json": 903,
    "keycloak-10.0.2/bom.xml": 903,
    "dropwizard-1.3.15/bom.json": 167,
    "dropwizard-1.3.15/bom.xml": 167,
    "juice-shop/v11.1.2/bom.json": 840,
    "juice-shop/v11.1.2/bom.xml": 840,
    "juice-shop/via_npm/bare/bom.1.4.json": 1115,
    "juice-shop/via_npm/flat/bom.1.2.xml": 1115,
    "laravel-7.12.0/bom.1.1.xml": 62,
    "protonmail-webclient-v4-0912dff/bom.xml": 883,
    "bom-issue2519.xml": 2184,
    "bom-metadata-components.json": 151,
    "valid-bom-1.0.xml": 3,
    "valid-bom-1.1.xml": 3,
    "valid-bom-1.7.json": 3,
    "bom-empty.json": 0,
}
SPEC_VERSIONS = {
    "valid-bom-1.0.xml": "1.0",
    "valid-bom-1.1.xml": "1.1",
    "valid-bom-1.2.json": "1.2",
    "valid-bom-1.3.xml": "1.3",
    "valid-bom-1.4.json": "1.4",
    "valid-bom-1.5.xml": "1.5",
    "valid-bom-1.6.json": "1.6",
    "valid-bom-1.7.xml": "1.7",
}

ALL_FILES = shared_files("sbom", "cyclonedx") + shared_files("sbom", "dependency-track-tests")


def _key(path: Path) -> str:
    for base in (CDX, DT):
        if path.is_relative_to(base):
            return str(path.relative_to(base))
    return path.name


@pytest.mark.shared
@pytest.mark.parametrize("path", ALL_FILES, ids=_key)
def test_every_shared_cyclonedx_file_parses_or_is_refused(path: Path) -> None:
    key = _key(path)
    if key in STRICT_REJECTED:
        with pytest.raises(InputError) as err:
            read(path, options=STRICT)
        assert STRICT_REJECTED[key] in err.value.problem
        assert err.value.path == str(path)
    if key in REJECTED:
        return
    doc = read(path)
    assert doc.spec == "cyclonedx"
    assert doc.spec_version in ("1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7")
    if key in COMPONENTS:
        assert sum(1 for _ in doc.all_components()) == COMPONENTS[key]
    if key in SPEC_VERSIONS:
        assert doc.spec_version == SPEC_VERSIONS[key]
    refs = doc.by_ref()
    if key.startswith(("keycloak", "dropwizard", "laravel-7.12.0/bom.1.4")):
        # the Maven and Composer plugins' graphs only name components of the BOM
        assert doc.relationships
        assert all(r.source in refs and r.target in refs for r in doc.relationships)


@pytest.mark.shared
def test_every_field_of_valid_bom_1_7() -> None:
    doc = read(requires_shared(DT / "valid-bom-1.7.json"))
    assert doc.serial_number == "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"
    assert doc.version == 1
    assert doc.timestamp == datetime(2020, 4, 13, 20, 20, 39, tzinfo=UTC)
    assert doc.tools == [Tool(name="Awesome Tool", vendor="Awesome Vendor", version="9.1.2")]
    assert doc.authors == [
        Contact(name="Samantha Wright", email="samantha.wright@example.com", kind="person")
    ]
    assert doc.supplier == Contact(
        name="Acme, Inc.", email="distribution@example.com", url="https://example.com"
    )
    assert doc.properties == [
        Property(
            "mamori:manufacturer",
            '{"name":"Acme, Inc.","email":"professional.services@example.com","url":"https://example.com"}',
        )
    ]
    assert doc.root is not None
    assert (doc.root.name, doc.root.version, doc.root.type) == ("Acme Application", "9.1.1", "application")
    assert doc.root.swid == "swidgen-242eb18a-503e-ca37-393b-cf156ef09691_9.1.1"
    assert doc.root.author == "Acme Super Heros"
    assert doc.name == "Acme Application"

    tomcat, mylib, framework = doc.components
    assert tomcat.bom_ref == tomcat.purl == "pkg:maven/com.acme/tomcat-catalina@9.0.14?packaging=jar"
    assert (tomcat.group, tomcat.author, tomcat.publisher, tomcat.scope) == (
        "com.acme",
        "Joane Doe et al.",
        "Acme Inc",
        "required",
    )
    assert tomcat.description == "Modified version of Apache Catalina"
    assert tomcat.license_declared == "Apache-2.0"
    assert [h.alg for h in tomcat.hashes] == ["MD5", "SHA-1", "SHA-256", "SHA-512"]
    assert tomcat.hashes[0] == Hash("MD5", "3942447fac867ae5cdb3229b658f4d48")

    assert mylib.supplier == Contact(
        name="Example, Inc.", email="support@example.com", url="https://example.com"
    )
    assert mylib.author == "Anthony Edward Stark, Peter Benjamin Parker"  # 1.6 authors joined
    assert mylib.cpes == ["cpe:/a:example:myapplication:1.0.0"]
    assert mylib.copyright == "Copyright Example Inc. All rights reserved."
    assert mylib.license_declared == "EPL-2.0 OR GPL-2.0-with-classpath-exception"
    assert mylib.external_references == [
        ExternalReference(
            "documentation", "http://example.org/docs", "All component versions are documented here"
        ),
        ExternalReference("advisories", "http://example.org/security"),
    ]
    assert mylib.properties[0].name == "mamori:manufacturer"
    assert framework.license_declared == "LicenseRef-Some-random-license"
    assert doc.relationships == [
        Relationship(tomcat.bom_ref, "pkg:maven/com.example/myapplication@1.0.0?packaging=war", "DEPENDS_ON")
    ]


@pytest.mark.shared
def test_json_and_xml_of_the_same_bom_give_the_same_model() -> None:
    for name in ("bom.1.4", "bom.1.3", "bom.1.2"):
        from_json = read(requires_shared(CDX / "laravel-7.12.0" / f"{name}.json"))
        from_xml = read(requires_shared(CDX / "laravel-7.12.0" / f"{name}.xml"))
        assert from_json == from_xml
    nested_json = read(CDX / "juice-shop" / "via_npm" / "bare" / "bom.1.4.json")
    nested_xml = read(CDX / "juice-shop" / "via_npm" / "bare" / "bom.1.4.xml")
    assert nested_json == nested_xml
    # nested components, scope and the npm properties survive both ways
    assert any(c.components for c in nested_json.components)
    assert any(c.scope == "optional" for c in nested_json.all_components())


@pytest.mark.shared
def test_tools_in_the_15_object_form_and_services() -> None:
    doc = read(requires_shared(DT / "bom-metadata-tool.json"))
    assert doc.tools == [
        Tool(name="Awesome Tool", vendor="Awesome Vendor", version="9.1.2"),
        Tool(name="Acme Signing Server", vendor="com.example", version=None),
    ]
    doc = read(DT / "bom-service.json")
    assert [s.name for s in doc.services] == ["acme-service"]
    assert doc.services[0].bom_ref == "acme-service@2.0.0"
    assert doc.relationships == [Relationship("acme-app@0.0.0", "acme-lib@1.0.0")]


@pytest.mark.shared
def test_licences_normalised() -> None:
    custom = read(requires_shared(DT / "bom-custom-license.json"))
    assert [c.license_declared for c in custom.components] == [
        "LicenseRef-custom-license-foobar",
        "LicenseRef-does-not-exist",
        None,
    ]
    expr = read(DT / "bom-license-expression.json")
    assert expr.components[0].license_declared == "EPL-2.0 OR GPL-2.0-only WITH Classpath-exception-2.0"
    both = read(DT / "bom-issue3936-both.json")
    assert both.components[0].license_declared == "GPL-2.0-only"  # deprecated GPL-2.0
    assert both.components[0].author == "Joane Doe et al."
    assert both.components[0].cpes == ["cpe:2.3:*:alsa-project:alsa:1.2.1.2:*:*:*:*:*:*:*"]
    assert both.root is not None and both.root.name == ""  # a nameless metadata component is tolerated
    keycloak = read(requires_shared(CDX / "keycloak-10.0.2" / "bom.json"))
    by_name = {c.name: c for c in keycloak.all_components()}
    # several licence entries are all taken as obligations: joined with AND
    assert by_name["checker-compat-qual"].license_declared == (
        "LicenseRef-GNU-General-Public-License-version-2-GPL2-with-the-classpath-exception AND MIT"
    )
    assert by_name["bcprov-jdk15on"].license_declared == "LicenseRef-Bouncy-Castle-Licence"


@pytest.mark.shared
def test_dependency_graph_of_cyclonedx_11_extension() -> None:
    doc = read(requires_shared(CDX / "laravel-7.12.0" / "bom.1.1.xml"))
    assert doc.spec_version == "1.1"
    assert doc.components[0].purl == "pkg:composer/asm89/stack-cors@1.3.0"
    assert doc.components[0].download_location.startswith(
        "https://api.github.com/repos/asm89/stack-cors/zipball/"
    )


# -- bad input ---------------------------------------------------------------------------------

P = Path("bad.cdx.json")


def _json(text: str) -> InputError:
    with pytest.raises(InputError) as err:
        read_json.read(text.encode(), P, STRICT)
    return err.value


def _xml(text: str) -> InputError:
    with pytest.raises(InputError) as err:
        read_xml.read(text.encode(), Path("bad.cdx.xml"), STRICT)
    return err.value


def test_json_errors_name_the_problem() -> None:
    assert _json('{"bomFormat": "CycloneDX",\n "specVersion": }').problem.startswith(
        "invalid JSON at line 2 column"
    )
    assert _json("[1, 2]").problem == "not a CycloneDX BOM: the JSON document is not an object"
    assert "bomFormat is missing" in _json('{"spdxVersion": "SPDX-2.3"}').problem
    assert _json('{"bomFormat": "CycloneDX"}').problem == "not a CycloneDX BOM: specVersion is missing"
    assert _json('{"bomFormat": "CycloneDX", "specVersion": "2.0"}').problem == (
        "unsupported CycloneDX spec version 2.0"
    )
    base = '{"bomFormat": "CycloneDX", "specVersion": "1.5", '
    assert _json(base + '"components": "lodash"}').problem == "components: expected an array, got a string"
    assert _json(
        base + '"components": [{"name": "a", "hashes": [{"alg": "MD5", "content": 5}]}]}'
    ).problem == ("components[0].hashes[0].content: expected a string, got a number")
    assert (
        _json(base + '"components": [{"name": ["a"]}]}').problem
        == "components[0].name: expected a string, got an array"
    )
    assert _json(base + '"metadata": {"timestamp": "yesterday"}}').problem == (
        "metadata.timestamp: not an ISO 8601 date-time: 'yesterday'"
    )
    assert _json(base + '"dependencies": [{"ref": "a", "dependsOn": [1]}]}').problem == (
        "dependencies[0].dependsOn[0]: expected a string, got a number"
    )
    assert _json(base + '"version": "one"}').problem == "version: expected a whole number, got a string"
    deep = base + '"components": ' + '[{"name": "x", "components": ' * 120 + "[]" + "}]" * 120 + "}"
    assert "nested more than 100 levels deep" in _json(deep).problem


def test_xml_dtd_and_entities_are_refused() -> None:
    xxe = (
        '<?xml version="1.0"?>\n<!DOCTYPE bom [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        '<bom xmlns="http://cyclonedx.org/schema/bom/1.4" version="1"><components><component type="library">'
        "<name>&xxe;</name></component></components></bom>"
    )
    assert _xml(xxe).problem == "XML DTD/entity declarations are refused"
    laughs = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><bom/>'
    assert _xml(laughs).problem == "XML DTD/entity declarations are refused"
    # also when the declaration is hidden from a byte scan by another encoding
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE bom><bom xmlns="http://cyclonedx.org/schema/bom/1.4"/>'
    with pytest.raises(InputError, match="XML DTD/entity declarations are refused"):
        read_xml.read(utf16.encode("utf-16"), Path("x.xml"))


def test_xml_errors_name_the_problem() -> None:
    assert _xml("<bom").problem.startswith("invalid XML at line 1")
    assert (
        _xml('<bom xmlns="http://cyclonedx.org/schema/bom/1.9"/>').problem
        == "unsupported CycloneDX spec version 1.9"
    )
    assert "<bom> has no namespace" in _xml("<bom/>").problem
    assert "root element is <rdf>" in _xml('<rdf xmlns="http://cyclonedx.org/schema/bom/1.4"/>').problem
    hashes = (
        '<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components><component type="library">'
        "<name>a</name><hashes><hash>00</hash></hashes></component></components></bom>"
    )
    assert _xml(hashes).problem == "components[0].hashes[0].alg: expected a string, got null"


def test_a_prefixed_namespace_and_whitespace_are_read() -> None:
    xml = (
        '<c:bom xmlns:c="http://cyclonedx.org/schema/bom/1.6" version="3"><c:components>'
        '<c:component type="library" bom-ref="a"><c:name>\n  left-pad\n</c:name><c:version>1.3.0</c:version>'
        "<c:description>\n    Pads a string.\n  </c:description>"
        '<c:licenses><c:license acknowledgement="concluded"><c:id>mit</c:id></c:license></c:licenses>'
        "</c:component></c:components></c:bom>"
    )
    doc = read_xml.read(xml.encode(), Path("x.xml"))
    comp = doc.components[0]
    assert (doc.version, comp.name, comp.description) == (3, "left-pad", "Pads a string.")
    assert (comp.license_declared, comp.license_concluded) == (None, "MIT")

"""Lenient reading: a flaw in one field of one component is a warning on that component, the rest is read;
strict reading refuses the file on the first flaw. Crafted CycloneDX (JSON, XML) and SPDX JSON documents,
one flaw each, and the real Dependency-Track test BOM with an invalid licence expression."""

from __future__ import annotations

import copy
import re
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lxml import etree
from packageurl import PackageURL

from conftest import SHARED_DATA, requires_shared, shared_files
from mamori.errors import InputError
from mamori.model import ReadWarning
from mamori.sbom import ReadOptions, read
from mamori.sbom import problems as pr
from mamori.sbom.cyclonedx import read_json, read_xml
from mamori.sbom.cyclonedx.versions import (
    READ_COMPONENT_TYPES,
    READ_HASH_ALGORITHMS,
    READ_REFERENCE_TYPES,
    READ_SCOPES,
    READ_VERSIONS,
)
from mamori.sbom.spdx.read_json import read_json as read_spdx_json

DT = SHARED_DATA / "sbom" / "dependency-track-tests"
STRICT = ReadOptions(strict=True)
LENIENT = ReadOptions()


# ------------------------------------------------------------------ the tables against the official schemas


def _schema_enums(version: str) -> dict[str, set[str]]:
    res = resources.files("cyclonedx.schema._res")
    if version in ("1.0", "1.1"):
        tree = etree.fromstring(res.joinpath(f"bom-{version}.SNAPSHOT.xsd").read_bytes())
        xs = "{http://www.w3.org/2001/XMLSchema}"
        named = {
            st_.get("name"): {e.get("value") for e in st_.iter(f"{xs}enumeration")}
            for st_ in tree.iter(f"{xs}simpleType")
        }
        return {
            "type": named["classification"],
            "scope": named["scope"],
            "hash": named["hashAlg"],
            "ref": named.get("externalReferenceType", set()),
        }
    schema = orjson.loads(res.joinpath(f"bom-{version}.SNAPSHOT.schema.json").read_bytes())
    defs = schema.get("definitions") or schema["$defs"]
    component = defs["component"]["properties"]
    return {
        "type": set(component["type"]["enum"]),
        "scope": set(component["scope"]["enum"]),
        "hash": set(defs["hash-alg"]["enum"]),
        "ref": set(defs["externalReference"]["properties"]["type"]["enum"]),
    }


@pytest.mark.parametrize("version", READ_VERSIONS)
def test_read_enumerations_are_the_official_schemas(version: str) -> None:
    enums = _schema_enums(version)
    assert READ_COMPONENT_TYPES[version] == enums["type"]
    assert READ_SCOPES[version] == enums["scope"]
    assert READ_HASH_ALGORITHMS[version] == enums["hash"]
    if version != "1.0":  # 1.0 has no external references
        assert READ_REFERENCE_TYPES[version] == enums["ref"]


# ------------------------------------------------------------------ the fast purl check never lets a bad purl by


def _parses(text: str) -> bool:
    try:
        PackageURL.from_string(text.strip())
    except ValueError:
        return False
    return True


def _shared_purls() -> list[str]:
    purls: set[str] = set()
    for path in shared_files("sbom", "cyclonedx", pattern="*.json"):
        purls.update(re.findall(rb'"purl"\s*:\s*"([^"]*)"', path.read_bytes()))
    return sorted(p.decode() for p in purls)


def test_fast_purl_check_agrees_with_packageurl_on_real_purls() -> None:
    purls = _shared_purls()
    if not purls:
        pytest.skip("../shared/data is absent")
    assert len(purls) > 1000
    fast = [p for p in purls if pr._PURL_FAST.fullmatch(p)]
    assert len(fast) > 0.9 * len(purls)  # the regex answers the usual case
    assert all(_parses(p) for p in fast)
    assert all((pr.purl_problem(p) is None) == _parses(p) for p in purls)


PURL_PIECES = st.sampled_from(
    [
        "pkg:",
        "npm",
        "maven",
        "/",
        "@",
        "?",
        "#",
        "&",
        "=",
        "%40",
        "%zz",
        "a",
        "B.c",
        "1.0",
        "x-y",
        " ",
        ":",
        "+",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(PURL_PIECES, min_size=1, max_size=12))
@example(["pkg:", "npm", "+", "/", "pkg:"])  # packageurl-python refuses "+" in the type
def test_fast_purl_check_accepts_only_what_packageurl_parses(pieces: list[str]) -> None:
    text = "".join(pieces)
    if pr._PURL_FAST.fullmatch(text):
        assert _parses(text), text
    assert (pr.purl_problem(text) is None) == _parses(text)


# ------------------------------------------------------------------ the Dependency-Track file


@pytest.mark.shared
def test_invalid_licence_expression_is_one_warning_naming_component_and_expression() -> None:
    path = requires_shared(DT / "bom-invalid-license-expression.json")
    doc = read(path)
    (comp,) = doc.components
    assert (comp.name, comp.version, comp.group, comp.publisher) == (
        "tomcat-catalina",
        "9.0.14",
        "com.acme",
        "Acme Inc",
    )
    assert comp.license_declared is None
    assert doc.warnings == [
        ReadWarning(
            str(path),
            "tomcat-catalina@9.0.14",
            "components[0].licenses",
            pr.INVALID_LICENCE,
            "(invalid",
            "Invalid expression",
        )
    ]
    (line,) = pr.warning_lines(doc.warnings, "en")
    assert line == (
        f"mamori: warning: {path}: component tomcat-catalina@9.0.14: components[0].licenses: "
        "invalid SPDX licence expression '(invalid' (Invalid expression)"
    )
    (line_ja,) = pr.warning_lines(doc.warnings, "ja")
    assert line_ja.startswith("mamori: 警告: ") and "コンポーネント tomcat-catalina@9.0.14" in line_ja
    with pytest.raises(InputError, match=r"components\[0\]\.licenses: invalid SPDX licence expression"):
        read(path, options=STRICT)


# ------------------------------------------------------------------ one flaw per kind, CycloneDX JSON

BASE: dict[str, Any] = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.6",
    "metadata": {"timestamp": "2024-05-01T10:00:00Z", "component": {"type": "application", "name": "app"}},
    "components": [
        {
            "type": "library",
            "bom-ref": "a",
            "name": "a",
            "version": "1.0.0",
            "purl": "pkg:npm/a@1.0.0",
            "licenses": [{"license": {"id": "MIT"}}],
            "hashes": [{"alg": "SHA-1", "content": "da39a3ee5e6b4b0d3255bfef95601890afd80709"}],
            "externalReferences": [{"type": "website", "url": "https://example.com/a"}],
        },
        {"type": "library", "bom-ref": "b", "name": "b", "version": "2.0.0", "purl": "pkg:npm/b@2.0.0"},
    ],
    "dependencies": [{"ref": "a", "dependsOn": ["b"]}, {"ref": "b", "dependsOn": []}],
}

# (what is broken in component "a", the warning code, the field it names, how "a" reads back)
FLAWS: list[tuple[str, dict[str, Any], str, str, dict[str, Any]]] = [
    ("licence", {"licenses": [{"expression": "MIT AND (("}]}, pr.INVALID_LICENCE, "licenses", {"license_declared": None}),
    ("licence type", {"licenses": [{"license": {"id": 7}}]}, pr.WRONG_TYPE, "licenses[0].license.id", {"license_declared": None}),
    ("version type", {"version": 1.0, "purl": "pkg:npm/a"}, pr.WRONG_TYPE, "version", {"version": None}),
    ("empty version", {"version": "", "purl": "pkg:npm/a"}, pr.NO_VERSION, "version", {"version": ""}),
    ("purl", {"purl": "pkg:npm"}, pr.INVALID_PURL, "purl", {"purl": "pkg:npm"}),
    ("cpe", {"cpe": "not a cpe"}, pr.INVALID_CPE, "cpe", {"cpes": ["not a cpe"]}),
    ("type", {"type": "widget"}, pr.UNKNOWN_VALUE, "type", {"type": "widget"}),
    ("scope", {"scope": "sometimes"}, pr.UNKNOWN_VALUE, "scope", {"scope": "sometimes"}),
    ("hash alg", {"hashes": [{"alg": "CRC32", "content": "00ff00ff"}]}, pr.UNKNOWN_VALUE, "hashes[0].alg", {}),
    ("hash content", {"hashes": [{"alg": "SHA-1", "content": "xyz"}]}, pr.INVALID_HASH, "hashes[0].content", {}),
    ("reference", {"externalReferences": [{"type": "homepage", "url": "https://x"}]}, pr.UNKNOWN_VALUE,
     "externalReferences[0].type", {}),
    ("supplier type", {"supplier": "Acme"}, pr.WRONG_TYPE, "supplier", {"supplier": None}),
]  # fmt: skip


def _bom_with(change: dict[str, Any]) -> dict[str, Any]:
    bom = copy.deepcopy(BASE)
    bom["components"][0].update(change)
    return bom


@pytest.mark.parametrize(("kind", "change", "code", "field", "kept"), FLAWS, ids=[f[0] for f in FLAWS])
def test_one_flaw_in_one_component_is_a_warning_and_the_rest_is_read(
    kind: str, change: dict[str, Any], code: str, field: str, kept: dict[str, Any]
) -> None:
    data = orjson.dumps(_bom_with(change))
    doc = read_json.read(data, Path("flawed.cdx.json"), LENIENT)
    a, b = doc.components
    assert (b.name, b.version, b.purl) == ("b", "2.0.0", "pkg:npm/b@2.0.0")  # the other component is whole
    assert a.name == "a" and a.bom_ref == "a"
    for attribute, value in kept.items():
        assert getattr(a, attribute) == value, attribute
    untouched = {"purl": "pkg:npm/a@1.0.0", "version": "1.0.0", "license_declared": "MIT", "type": "library"}
    for attribute, value in untouched.items():
        if attribute not in kept and attribute not in {
            k.replace("licenses", "license_declared") for k in change
        }:
            assert getattr(a, attribute) == value, attribute
    # a version of the wrong type is left out, and then the component has no version: that is said too
    (warning,) = [w for w in doc.warnings if w.code != pr.NO_VERSION or code == pr.NO_VERSION]
    also = [pr.NO_VERSION] if field == "version" and code != pr.NO_VERSION else []
    assert [w.code for w in doc.warnings if w is not warning] == also
    assert (warning.file, warning.component, warning.field, warning.code) == (
        "flawed.cdx.json",
        "a",
        f"components[0].{field}",
        code,
    )
    assert doc.relationships and doc.timestamp is not None  # the document around it is read too
    if code == pr.NO_VERSION:  # the specs allow it: strict reading keeps it as a warning
        assert read_json.read(data, Path("flawed.cdx.json"), STRICT).warnings == doc.warnings
    else:
        with pytest.raises(InputError, match=re.escape(f"components[0].{field.split('[')[0]}")):
            read_json.read(data, Path("flawed.cdx.json"), STRICT)


def test_a_version_in_the_purl_is_enough() -> None:
    """No version field but a purl with one: the matcher evaluates it by the purl, so no warning."""
    doc = read_json.read(orjson.dumps(_bom_with({"version": None})), Path("v.json"), LENIENT)
    assert doc.components[0].version is None and doc.warnings == []


def test_entries_and_document_fields_with_flaws_are_skipped_with_a_warning() -> None:
    bom = copy.deepcopy(BASE)
    bom["components"].insert(1, 42)
    bom["dependencies"].append({"ref": 5, "dependsOn": ["a"]})
    bom["metadata"]["timestamp"] = "yesterday"
    bom["version"] = "one"
    doc = read_json.read(orjson.dumps(bom), Path("f.json"), LENIENT)
    assert [c.name for c in doc.components] == ["a", "b"]
    assert doc.timestamp is None and doc.version == 1
    assert [r.source for r in doc.relationships] == ["a"]
    assert [(w.field, w.code, w.value) for w in doc.warnings] == [
        ("version", pr.WRONG_TYPE, "string"),
        ("metadata.timestamp", pr.INVALID_DATE, "yesterday"),
        ("components[1]", pr.SKIPPED_ENTRY, "number"),
        ("dependencies[2].ref", pr.WRONG_TYPE, "number"),
    ]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"components": "lodash"}, "components: expected an array, got a string"),
        ({"dependencies": {"a": 1}}, "dependencies: expected an array, got an object"),
        ({"metadata": []}, "metadata: expected an object, got an array"),
        (
            {"components": [{"name": "x", "components": [{"name": "y", "components": "nested"}]}]},
            None,  # a flaw in a nested component: read, with a warning
        ),
    ],
)
def test_a_structurally_unusable_bom_is_refused_in_lenient_mode_too(
    change: dict, problem: str | None
) -> None:
    bom = {**copy.deepcopy(BASE), **change}
    if problem is None:
        doc = read_json.read(orjson.dumps(bom), Path("s.json"), LENIENT)
        assert [w.field for w in doc.warnings if w.code == pr.WRONG_TYPE] == [
            "components[0].components[0].components"
        ]
        return
    with pytest.raises(InputError) as err:
        read_json.read(orjson.dumps(bom), Path("s.json"), LENIENT)
    assert err.value.problem == problem


def test_nesting_too_deep_is_refused_in_lenient_mode_too() -> None:
    deep = (
        '{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": '
        + '[{"name": "x", "components": ' * 120
    )
    deep += "[]" + "}]" * 120 + "}"
    with pytest.raises(InputError, match="nested more than 100 levels deep"):
        read_json.read(deep.encode(), Path("deep.json"), LENIENT)
    xml = '<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components>'
    xml += '<component type="library"><name>x</name><version>1</version><components>' * 120
    xml += "</components></component>" * 120 + "</components></bom>"
    with pytest.raises(InputError) as err:
        read_xml.read(xml.encode(), Path("deep.xml"), LENIENT)
    assert err.value.problem.endswith("components nested more than 100 levels deep")
    assert len(err.value.problem) < 220  # one readable line


def test_xml_flaws_are_warnings_too() -> None:
    xml = (
        '<bom xmlns="http://cyclonedx.org/schema/bom/1.4" version="1"><components>'
        '<component type="gadget" bom-ref="g"><name>g</name><version>1</version>'
        "<licenses><expression>MIT OR</expression></licenses><purl>pkg:/x</purl></component>"
        '<component type="library"><name>h</name></component>'
        "</components></bom>"
    )
    doc = read_xml.read(xml.encode(), Path("x.xml"), LENIENT)
    assert [c.name for c in doc.components] == ["g", "h"]
    assert [(w.component, w.field, w.code) for w in doc.warnings] == [
        ("g", "components[0].licenses", pr.INVALID_LICENCE),
        ("g", "components[0].type", pr.UNKNOWN_VALUE),
        ("g", "components[0].purl", pr.INVALID_PURL),
        ("h", "components[1].version", pr.NO_VERSION),
    ]
    assert doc.components[0].type == "gadget"  # kept as text; writers carry it
    with pytest.raises(InputError):
        read_xml.read(xml.encode(), Path("x.xml"), STRICT)


# ------------------------------------------------------------------ SPDX JSON


def _spdx(package: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {
            "spdxVersion": "SPDX-2.3",
            "SPDXID": "SPDXRef-DOCUMENT",
            "name": "d",
            "dataLicense": "CC0-1.0",
            "documentNamespace": "https://example.com/d",
            "creationInfo": {"created": "2024-01-01T00:00:00Z", "creators": ["Tool: t"]},
            "packages": [
                {
                    "SPDXID": "SPDXRef-a",
                    "name": "a",
                    "versionInfo": "1",
                    "downloadLocation": "NOASSERTION",
                    **package,
                },
                {"SPDXID": "SPDXRef-b", "name": "b", "versionInfo": "2", "downloadLocation": "NOASSERTION"},
            ],
        }
    )


PURL_REF = {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:npm"}
SPDX_FLAWS = [
    ({"licenseDeclared": "MIT AND (("}, pr.INVALID_LICENCE, "package SPDXRef-a.licenseDeclared"),
    ({"externalRefs": [PURL_REF]}, pr.INVALID_PURL, "package SPDXRef-a.externalRefs"),
    ({"checksums": [{"algorithm": "CRC32", "checksumValue": "00"}]}, pr.UNKNOWN_VALUE,
     "package SPDXRef-a.checksums[0].algorithm"),
    ({"primaryPackagePurpose": "GADGET"}, pr.UNKNOWN_VALUE, "package SPDXRef-a.primaryPackagePurpose"),
    ({"releaseDate": "last spring"}, pr.INVALID_DATE, "package SPDXRef-a.releaseDate"),
    ({"versionInfo": ["1"]}, pr.WRONG_TYPE, "package SPDXRef-a.versionInfo"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("package", "code", "field"), SPDX_FLAWS, ids=[f[1] + ":" + f[2] for f in SPDX_FLAWS]
)
def test_spdx_flaws_are_warnings(package: dict[str, Any], code: str, field: str) -> None:
    doc = read_spdx_json(_spdx(package), Path("d.spdx.json"), LENIENT)
    assert sorted(c.name for c in doc.all_components()) == ["a", "b"]
    flaws = [w for w in doc.warnings if w.code != pr.NO_VERSION]
    assert [(w.component, w.field, w.code) for w in flaws] == [("a (SPDXRef-a)", field, code)]
    with pytest.raises(InputError):
        read_spdx_json(_spdx(package), Path("d.spdx.json"), STRICT)


def test_spdx_package_without_its_id_is_skipped_with_a_warning() -> None:
    data = orjson.loads(_spdx({}))
    del data["packages"][0]["SPDXID"]
    doc = read_spdx_json(orjson.dumps(data), Path("d.spdx.json"), LENIENT)
    assert [c.name for c in doc.all_components()] == ["b"] or (doc.root and doc.root.name == "b")
    (warning,) = [w for w in doc.warnings if w.code != pr.NO_VERSION]
    assert (warning.code, warning.component) == (pr.INCOMPLETE_ENTRY, "a")
    assert "'SPDXID' is missing" in pr.warning_text(warning)


# ------------------------------------------------------------------ the warning lines


def test_warning_lines_are_bounded_and_show_control_characters() -> None:
    warnings = [ReadWarning("f.json", f"c{i}", f"components[{i}].version", pr.NO_VERSION) for i in range(25)]
    lines = pr.warning_lines(warnings, "en", limit=20)
    assert len(lines) == 21 and lines[-1] == "mamori: warning: ... and 5 more warnings"
    assert pr.warning_lines(warnings, "ja", limit=20)[-1] == "mamori: 警告: ... ほか 5 件の警告"
    evil = ReadWarning(
        "f.json", "x\x1b[31mred", "components[0].purl", pr.INVALID_PURL, "pkg:\u202enpm", "bad"
    )
    text = pr.warning_text(evil)
    assert "\x1b" not in text and "\\x1b[31mred" in text
    assert "\u202e" not in text and "\\u202e" in text

"""``mamori sbom check``: element counting, score reasons, profiles, CLI, and agreement with ntia-conformance-checker."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from conftest import SHARED_DATA, shared_files
from mamori import sbom
from mamori.cli.main import main
from mamori.errors import InputError
from mamori.model import Component, Contact, Document, Hash, Property, Relationship, Tool
from mamori.sbom.check import check_document, load_profile, profile_names
from mamori.sbom.messages import LANGS, bilingual

NTIA_REQUIRED = {"supplier", "name", "version", "identifier", "dependency", "author", "timestamp"}
NTIA_RECOMMENDED = {"hash", "lifecycle", "other_relationships", "license"}


def _comp(name: str, **kw: object) -> Component:
    defaults: dict[str, object] = {
        "version": "1.0",
        "bom_ref": name,
        "purl": f"pkg:npm/{name}@1.0",
        "supplier": Contact(f"{name} Inc"),
        "hashes": [Hash("SHA-256", "a" * 64)],
        "license_declared": "MIT",
    }
    defaults.update(kw)
    return Component(name=name, **defaults)  # type: ignore[arg-type]


def complete_doc() -> Document:
    """A document with every NTIA element, required and recommended, for every component."""
    return Document(
        serial_number="urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        authors=[Contact("ACME PSIRT")],
        timestamp=datetime(2024, 4, 1, tzinfo=UTC),
        lifecycles=["build"],
        root=_comp("app"),
        components=[_comp("a"), _comp("b"), _comp("c")],
        relationships=[
            Relationship("app", "a"),
            Relationship("app", "b"),
            Relationship("b", "c"),
            Relationship("c", "a", "VARIANT_OF"),
        ],
    )


def _element(doc: Document, element: str, profile: str = "ntia") -> dict:
    return check_document(doc, profile).to_json()["ntia" if profile == "ntia" else "spdx_lite"]["elements"][
        element
    ]


def _problems(doc: Document, element: str) -> list[dict]:
    return [p for p in check_document(doc).to_json()["problems"] if p["element"] == element]


# ---------------------------------------------------------------- counting


def test_complete_document_passes_with_full_score():
    report = check_document(complete_doc())
    out = report.to_json()
    assert out["ntia"]["pass"] is True
    assert out["score"] == 100
    assert out["score_reasons"] == []
    assert out["problems"] == []
    assert out["components"] == 4  # the root counts
    assert set(out["ntia"]["elements"]) == NTIA_REQUIRED | NTIA_RECOMMENDED
    for name, element in out["ntia"]["elements"].items():
        assert element["required"] is (name in NTIA_REQUIRED)
        assert element["present"] == element["total"]


def test_missing_supplier_is_counted_named_and_scored():
    doc = complete_doc()
    doc.components[1].supplier = None
    out = check_document(doc).to_json()
    assert out["ntia"]["pass"] is False
    assert out["ntia"]["elements"]["supplier"] == {"required": True, "present": 3, "total": 4, "pass": False}
    [problem] = [p for p in out["problems"] if p["element"] == "supplier"]
    assert problem["component"] == "pkg:npm/b@1.0"
    assert problem["ref"] == "b"
    assert problem["level"] == "required"
    assert set(problem["message"]) == {"en", "ja"} and problem["message"]["ja"] != problem["message"]["en"]
    # supplier weighs 15 of 110 (100 for the NTIA elements + 10 for purl/CPE): one in four lost = 3.41 points
    [reason] = out["score_reasons"]
    assert reason["element"] == "supplier"
    assert reason["lost"] == pytest.approx(100 * 15 * 0.25 / 110, abs=0.01)
    assert out["score"] == 96


def test_publisher_counts_as_supplier_for_ntia_but_noassertion_does_not():
    doc = complete_doc()
    doc.components[0].supplier = None
    doc.components[0].publisher = "FasterXML"
    doc.components[1].supplier = Contact("NOASSERTION")
    assert _element(doc, "supplier")["present"] == 3
    assert [p["ref"] for p in _problems(doc, "supplier")] == ["b"]


def test_recommended_element_missing_keeps_the_pass_but_lowers_the_score():
    doc = complete_doc()
    for comp in doc.all_components():
        comp.hashes = []
    out = check_document(doc).to_json()
    assert out["ntia"]["pass"] is True
    assert out["ntia"]["elements"]["hash"] == {"required": False, "present": 1, "total": 4, "pass": False}
    assert out["score"] < 100
    assert [r["element"] for r in out["score_reasons"]] == ["hash"]


def test_identifier_accepts_a_document_scoped_ref_only_inside_a_unique_document():
    doc = complete_doc()
    doc.components[0].purl = None  # bom-ref inside a document with a serial number still identifies it
    assert _element(doc, "identifier")["present"] == 4
    reasons = check_document(doc).to_json()["score_reasons"]
    assert [r["element"] for r in reasons] == ["matchable_identifier"]  # but it cannot be matched to CVEs
    doc.serial_number = None
    assert _element(doc, "identifier")["present"] == 3
    doc.components[0].cpes = ["cpe:2.3:a:acme:a:1.0:*:*:*:*:*:*:*"]
    assert _element(doc, "identifier")["present"] == 4


def test_author_may_be_a_tool_and_timestamp_is_required():
    doc = complete_doc()
    doc.authors = []
    doc.tools = [Tool("CycloneDX Maven plugin", "CycloneDX", "2.0.2")]
    assert _element(doc, "author")["present"] == 1
    doc.tools = []
    doc.timestamp = None
    out = check_document(doc).to_json()
    assert out["ntia"]["elements"]["author"]["pass"] is False
    assert out["ntia"]["elements"]["timestamp"] == {"required": True, "present": 0, "total": 1, "pass": False}
    assert {p["element"] for p in out["problems"] if p["component"] is None} == {"author", "timestamp"}


def test_license_none_statement_counts_noassertion_does_not():
    doc = complete_doc()
    doc.components[0].license_declared = None
    doc.components[0].properties = [Property("spdx:licenseDeclared", "NONE")]
    doc.components[1].license_declared = "NOASSERTION"
    assert _element(doc, "license")["present"] == 3


# ---------------------------------------------------------------- dependency relationship


def test_unlinked_component_is_missing_dependency():
    doc = complete_doc()
    doc.components.append(_comp("floating"))
    out = check_document(doc).to_json()
    assert out["ntia"]["elements"]["dependency"] == {
        "required": True,
        "present": 4,
        "total": 5,
        "pass": False,
    }
    assert [p["ref"] for p in _problems(doc, "dependency")] == ["floating"]


def test_root_without_edges_fails_and_says_so():
    doc = complete_doc()
    doc.relationships = [
        Relationship("a", "b"),
        Relationship("b", "c"),
    ]  # the suppliers' graph, root unlinked
    [problem] = _problems(doc, "dependency")
    assert problem["ref"] == "app"
    assert problem["message"] == bilingual("dependency", "root_without_edges")
    assert _element(doc, "dependency")["present"] == 3  # a, b, c take part in edges


def test_document_without_root_fails_dependency_even_when_components_are_linked():
    doc = complete_doc()
    doc.root = None
    doc.relationships = [Relationship("a", "b"), Relationship("b", "c")]
    element = _element(doc, "dependency")
    assert element["present"] == element["total"] == 3
    assert element["pass"] is False
    assert _problems(doc, "dependency")[0]["message"] == bilingual("dependency", "no_root")


def test_spdx_describes_reverse_types_and_nesting_count_as_edges():
    doc = complete_doc()
    root = doc.root
    doc.root = None
    doc.components.insert(0, root)
    doc.components[3].components = [_comp("nested")]  # c contains nested
    doc.relationships = [
        Relationship("SPDXRef-DOCUMENT", "app", "DESCRIBES"),
        Relationship("a", "app", "DEPENDENCY_OF"),
        Relationship("b", "app", "CONTAINED_BY"),
        Relationship("c", "b", "DEPENDENCY_OF"),
    ]
    element = _element(doc, "dependency")
    assert element == {"required": True, "present": 5, "total": 5, "pass": True}


def test_single_root_without_components_has_nothing_to_relate():
    doc = Document(
        serial_number="urn:uuid:x", authors=[Contact("me")], timestamp=datetime.now(UTC), root=_comp("solo")
    )
    assert check_document(doc).to_json()["ntia"]["pass"] is True


def test_an_sbom_without_components_fails_every_component_element():
    doc = Document(serial_number="urn:uuid:x", authors=[Contact("me")], timestamp=datetime.now(UTC))
    out = check_document(doc).to_json()
    assert out["ntia"]["pass"] is False
    assert out["ntia"]["elements"]["supplier"] == {"required": True, "present": 0, "total": 0, "pass": False}
    assert out["score"] < 20
    assert bilingual("no_components") in [p["message"] for p in out["problems"]]


def test_other_relationships_are_types_outside_composition():
    doc = complete_doc()
    doc.relationships = [r for r in doc.relationships if r.type != "VARIANT_OF"]
    assert _element(doc, "other_relationships")["present"] == 0
    doc.relationships.append(Relationship("b", "a", "GENERATED_FROM"))
    assert _element(doc, "other_relationships")["present"] == 1


# ---------------------------------------------------------------- SPDX Lite profile


def _spdx_lite_doc() -> Document:
    pkgs = [
        Component(
            name=n,
            version="1",
            bom_ref=f"SPDXRef-{n}",
            supplier=Contact("ACME"),
            download_location="https://example.com/x.tgz",
            license_concluded="MIT",
            license_declared="MIT",
            copyright="Copyright ACME",
            external_references=[],
        )
        for n in ("app", "lib")
    ]
    return Document(
        spec="spdx-lite",
        spec_version="SPDX-2.3",
        serial_number="https://example.com/spdx/app-1",
        name="app-1",
        data_license="CC0-1.0",
        authors=[Contact("ACME")],
        timestamp=datetime(2024, 1, 1, tzinfo=UTC),
        root=pkgs[0],
        components=pkgs[1:],
    )


def test_spdx_lite_document_passes_lite_and_is_told_it_is_not_ntia_minimum():
    report = check_document(_spdx_lite_doc(), "spdx-lite")
    out = report.to_json()
    assert out["profile"] == "spdx-lite"
    assert out["spdx_lite"]["pass"] is True
    assert out["ntia"]["pass"] is False  # no relationships: the root has no edge
    assert out["ntia"]["elements"]["dependency"]["pass"] is False
    assert out["ntia"]["elements"]["hash"]["present"] == 0
    [note] = out["notes"]
    assert "hash" in note["message"]["en"] and "relationship" in note["message"]["en"]
    assert "ハッシュ" in note["message"]["ja"] and "NTIA" in note["message"]["ja"]
    # only recommended Lite fields (home page) are missing
    assert [r["element"] for r in out["score_reasons"]] == ["home_page"]


def test_spdx_lite_required_fields_fail_the_lite_profile():
    doc = _spdx_lite_doc()
    doc.components[0].copyright = None
    doc.data_license = None
    out = check_document(doc, "spdx-lite").to_json()
    assert out["spdx_lite"]["pass"] is False
    assert out["spdx_lite"]["elements"]["copyright"] == {
        "required": True,
        "present": 1,
        "total": 2,
        "pass": False,
    }
    assert {p["element"] for p in out["problems"]} >= {"copyright", "data_license"}


def test_unknown_profile_is_an_input_error():
    with pytest.raises(InputError, match="unknown check profile"):
        load_profile("bsi")


# ---------------------------------------------------------------- data files


def test_every_profile_element_has_both_languages_and_weights():
    for name in profile_names():
        profile = load_profile(name)
        assert sum(e.weight for e in profile.elements) > 0
        for spec in (*profile.elements, *profile.score_extras):
            assert spec.level in {"required", "recommended", "quality"}
            assert spec.scope in {"document", "component"}
            for key in ("label", "missing"):
                entry = bilingual("elements", spec.id, key)
                assert all(entry[lang] for lang in LANGS)
        for note in profile.notes:
            assert all(bilingual("notes", note)[lang] for lang in LANGS)
    ntia = load_profile("ntia")
    assert {e.id for e in ntia.elements if e.required} == NTIA_REQUIRED
    assert {e.id for e in ntia.elements if not e.required} == NTIA_RECOMMENDED


def test_every_ui_message_exists_in_both_languages():
    from importlib import resources

    data = yaml.safe_load(resources.files("mamori").joinpath("data/sbom/messages.yaml").read_text("utf-8"))
    for section in ("ui", "levels", "dependency", "notes"):
        for key, entry in data[section].items():
            assert set(entry) == set(LANGS), f"{section}.{key}"
    assert set(data["no_components"]) == set(LANGS)


# ---------------------------------------------------------------- real files (need the readers)


def read_or_skip(path: Path) -> Document:
    """mamori.sbom.read, skipping while the reader for this format is still missing."""
    try:
        return sbom.read(path)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("mamori.sbom."):
            pytest.skip(f"reader module {exc.name} not available yet")
        raise


JUICE_SHOP = SHARED_DATA / "sbom/cyclonedx/juice-shop/v11.1.2/bom.json"
KEYCLOAK = SHARED_DATA / "sbom/cyclonedx/keycloak-10.0.2/bom.json"


def test_juice_shop_counts(shared_data):
    out = check_document(read_or_skip(JUICE_SHOP), file=str(JUICE_SHOP)).to_json()
    # 840 components plus metadata.component; no supplier/publisher anywhere, no dependencies section,
    # every component has a hash (the root has none), 803 components and the root carry a licence
    assert out["components"] == 841
    counts = {k: (v["present"], v["total"]) for k, v in out["ntia"]["elements"].items()}
    assert counts == {
        "supplier": (0, 841),
        "name": (841, 841),
        "version": (841, 841),
        "identifier": (841, 841),
        "dependency": (0, 841),
        "author": (1, 1),
        "timestamp": (1, 1),
        "hash": (840, 841),
        "lifecycle": (0, 1),
        "other_relationships": (0, 1),
        "license": (804, 841),
    }
    assert out["ntia"]["pass"] is False
    assert out["score"] == 70
    assert [r["element"] for r in out["score_reasons"][:2]] == ["supplier", "dependency"]


def test_keycloak_root_has_no_edges(shared_data):
    out = check_document(read_or_skip(KEYCLOAK)).to_json()
    dependency = out["ntia"]["elements"]["dependency"]
    # the Maven plugin 2.0.2 listed 899 refs in `dependencies` but none for the root keycloak-parent and
    # none for 4 other components; 601 listed refs have no dependsOn, which states "no dependencies" and
    # counts (before that statement was kept, the 103 of them that nothing depends on counted as missing)
    assert dependency == {"required": True, "present": 899, "total": 904, "pass": False}
    root_problems = [
        p
        for p in out["problems"]
        if p["element"] == "dependency" and p["ref"] == "pkg:maven/org.keycloak/keycloak-parent@10.0.2"
    ]
    assert root_problems[0]["message"] == bilingual("dependency", "root_without_edges")
    assert (
        out["ntia"]["elements"]["supplier"]["present"] == 756
    )  # publisher only, as the Framing mapping allows


@pytest.mark.parametrize("name", ["01-MinimalSBOM.json", "03-SBOMwDependency.json"])
def test_spdx_lite_spreadsheet_of_a_compliant_sbom_loses_ntia_minimum(shared_data, tmp_path, name):
    source = SHARED_DATA / "sbom/spdx/presentations/OSS-NA-2023/SPDXVersion2.3" / name
    doc = read_or_skip(source)
    assert check_document(doc).passed  # the SPDX 2.3 original meets the NTIA minimum
    lite = tmp_path / "sbom.xlsx"
    try:
        sbom.write(doc, lite, "spdx-lite-xlsx")
    except ModuleNotFoundError as exc:
        pytest.skip(f"writer module {exc.name} not available yet")
    out = check_document(read_or_skip(lite), "spdx-lite").to_json()
    assert out["format"] == "spdx-lite"
    ntia = out["ntia"]["elements"]
    # SPDX Lite has no relationship and no hash column: both are lost, the NTIA verdict turns to fail
    assert ntia["dependency"]["pass"] is False and ntia["hash"]["present"] == 0
    assert out["ntia"]["pass"] is False
    assert [n["id"] for n in out["notes"]] == ["spdx_lite_lacks_hash_and_relationships"]
    assert out["spdx_lite"]["elements"]["name"]["present"] == out["components"]


def test_cli_check_json_and_exit_code(shared_data, capsys):
    read_or_skip(JUICE_SHOP)
    assert main(["sbom", "check", str(JUICE_SHOP), "--format", "json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert list(out)[:6] == ["file", "format", "spec_version", "profile", "components", "ntia"]
    assert out["format"] == "cyclonedx-json" and out["spec_version"] == "1.2"
    assert isinstance(out["score"], int) and 0 <= out["score"] <= 100


def test_cli_check_text_in_japanese(shared_data, capsys):
    read_or_skip(JUICE_SHOP)
    assert main(["sbom", "check", str(JUICE_SHOP), "--lang", "ja"]) == 1
    text = capsys.readouterr().out
    assert "不合格" in text and "供給者名" in text and "品質スコア: 70/100" in text


def test_cli_check_bad_input_exits_2(tmp_path, capsys):
    assert main(["sbom", "check", str(tmp_path / "absent.json")]) == 2
    assert "absent.json: file not found" in capsys.readouterr().err
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    assert main(["sbom", "check", str(empty)]) == 2
    assert main(["sbom", "check", str(empty), "--profile", "bsi"]) == 2
    assert main(["sbom", "check", str(empty), "--format", "xml"]) == 2
    err = capsys.readouterr().err
    assert "file is empty" in err and "unknown check profile 'bsi'" in err and "--format" in err


# ---------------------------------------------------------------- agreement with ntia-conformance-checker

SPDX_DIR = SHARED_DATA / "sbom" / "spdx"
SPDX_FILES = [p for p in shared_files("sbom", "spdx") if p.suffix in (".json", ".spdx", ".yaml", ".rdf")]

# Files where both tools agree on the verdict but not on every reason; the test checks the reasons below.
DIFFERENT_REASONS = {
    # The checker ignores the 6 packages not reachable from the described one and fails the file only
    # because spdx-tools validation reports errors; mamori checks every package, and the unreachable ones
    # lack supplier and version.
    "software/example9/spdx2.2/appbomination.spdx.json": {
        "checker": "validation",
        "mamori": {"supplier", "version"},
    },
    # The checker counts only reachable packages; mamori also fails the unreachable one on dependency.
    "software/example7/spdx2.2/example7-golang.spdx.json": {
        "checker": "supplier",
        "mamori": {"supplier", "dependency"},
    },
}


def _is_spdx3(path: Path) -> bool:
    return "spdx3" in path.name or path.parent.name.startswith("spdx3")


@pytest.mark.parametrize("path", SPDX_FILES, ids=lambda p: str(p.relative_to(SPDX_DIR)))
def test_verdict_agrees_with_ntia_conformance_checker(path: Path):
    checker_module = pytest.importorskip("ntia_conformance_checker")
    logging.getLogger().setLevel(logging.CRITICAL)  # the checker logs every floating package
    checker = checker_module.SbomChecker(str(path), sbom_spec="spdx3" if _is_spdx3(path) else "spdx2")
    if checker.parsing_errors:
        pytest.skip(f"ntia-conformance-checker does not judge it: {checker.parsing_errors[0][:80]}")
    try:
        doc = read_or_skip(path)
    except InputError as exc:
        assert _is_spdx3(path), f"mamori could not read an SPDX 2 file: {exc}"
        pytest.skip(f"mamori reads SPDX 2.x only, so there is no verdict to compare ({exc.problem[:60]})")
    report = check_document(doc)
    assert report.passed is checker.compliant
    failed = {e.id for e in report.ntia.elements if e.level == "required" and not e.passed}
    rel = str(path.relative_to(SPDX_DIR))
    if rel in DIFFERENT_REASONS:
        expected = DIFFERENT_REASONS[rel]
        assert failed == expected["mamori"]
        if expected["checker"] == "validation":
            assert checker.validation_messages and not checker.components_without_suppliers
        return
    # otherwise the same missing elements: supplier and version as the checker counts them
    assert ("supplier" in failed) is bool(checker.components_without_suppliers)
    assert ("version" in failed) is bool(checker.components_without_versions)
    assert ("author" in failed) is not checker.doc_author
    assert ("timestamp" in failed) is not checker.doc_timestamp


def test_check_reads_the_input_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import mamori.fileio
    import mamori.sbom.formats

    path = tmp_path / "bom.cdx.json"
    path.write_bytes(b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": []}\n')
    reads: list[Path] = []
    real = mamori.fileio.read_bytes

    def counting(p: str | Path, *args: object, **kwargs: object) -> bytes:
        reads.append(Path(p))
        return real(p, *args, **kwargs)

    monkeypatch.setattr(mamori.sbom.formats, "read_bytes", counting)
    monkeypatch.setattr(mamori.fileio, "read_bytes", counting)
    main(["sbom", "check", str(path), "--format", "json", "--lang", "en"])
    assert json.loads(capsys.readouterr().out)["format"] == "cyclonedx-json"
    assert reads == [path]

"""SPDX → model → SPDX (JSON and tag-value) keeps what the source says, and spdx-tools validates the result.

Both the source and the written file are parsed by spdx-tools and converted to its JSON structure, so that
the comparison does not depend on spelling (hasFiles vs CONTAINS, documentDescribes vs DESCRIBES).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SHARED_DATA, requires_shared
from mamori.sbom import read
from mamori.sbom.spdx.licenses import normalise
from mamori.sbom.spdx.validate import spdx_tools_problems
from mamori.sbom.spdx.write import write_json, write_tagvalue
from test_spdx_read import SPDX2_FILES

SPDX = SHARED_DATA / "sbom" / "spdx"
WRITERS = {"spdx-json": (write_json, ".spdx.json"), "spdx-tv": (write_tagvalue, ".spdx")}
LICENCE_KEYS = {"licenseConcluded", "licenseDeclared"}
LICENCE_LIST_KEYS = {"licenseInfoFromFiles", "licenseInfoInFiles"}
UNORDERED_KEYS = {
    "checksums",
    "externalRefs",
    "annotations",
    "attributionTexts",
    "fileTypes",
    "fileContributors",
}


def _as_spdx_tools_dict(path: Path) -> dict:
    from spdx_tools.spdx.jsonschema.document_converter import DocumentConverter
    from spdx_tools.spdx.parser.parse_anything import parse_file

    return _unix_newlines(DocumentConverter().convert(parse_file(str(path))))


def _unix_newlines(value: object) -> object:
    """spdx-tools reads tag-value in text mode, so CRLF inside <text> comes back as LF."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n")
    if isinstance(value, list):
        return [_unix_newlines(v) for v in value]
    if isinstance(value, dict):
        return {k: _unix_newlines(v) for k, v in value.items()}
    return value


def _canonical(key: str, value: object) -> object:
    if key in LICENCE_KEYS and isinstance(value, str):
        return normalise(value)
    if key in LICENCE_LIST_KEYS and isinstance(value, list):
        return sorted(normalise(v) for v in value)
    if key in UNORDERED_KEYS and isinstance(value, list):
        return sorted(repr(sorted(v.items())) if isinstance(v, dict) else repr(v) for v in value)
    return value


def _edges(doc: dict) -> set[tuple]:
    edges = set()
    for rel in doc.get("relationships") or []:
        source, rel_type, target = rel["spdxElementId"], rel["relationshipType"], rel["relatedSpdxElement"]
        if rel_type == "DEPENDENCY_OF":
            source, rel_type, target = target, "DEPENDS_ON", source
        if rel_type == "DESCRIBED_BY" and target == "SPDXRef-DOCUMENT":
            source, rel_type, target = target, "DESCRIBES", source
        if rel_type == "CONTAINED_BY":  # spdx-tools writes a file CONTAINED_BY a package as CONTAINS
            source, rel_type, target = target, "CONTAINS", source
        edges.add((source, rel_type, target, rel.get("comment") or None))  # an empty comment is no comment
    return edges


def _contains_files(doc: dict, package_id: str) -> bool:
    file_ids = {f["SPDXID"] for f in doc.get("files") or []}
    return any(s == package_id and t in file_ids and k == "CONTAINS" for s, k, t, _ in _edges(doc))


def assert_keeps(source: dict, written: dict) -> None:
    """Everything the source says is in the written document (which may say a little more)."""
    for key in ("name", "documentNamespace", "dataLicense", "comment", "externalDocumentRefs"):
        assert written.get(key) == source.get(key), key
    src_info, out_info = source["creationInfo"], written["creationInfo"]
    assert out_info["created"] == src_info["created"]
    assert set(src_info["creators"]) <= set(out_info["creators"])
    assert "Tool: mamori-" in " ".join(out_info["creators"])
    for key in ("comment", "licenseListVersion"):
        assert out_info.get(key) == src_info.get(key), key
    assert (source.get("hasExtractedLicensingInfos") or []) == (
        written.get("hasExtractedLicensingInfos") or []
    )
    assert (source.get("snippets") or []) == (written.get("snippets") or [])

    for kind, id_key in (("packages", "SPDXID"), ("files", "SPDXID")):
        out_elements = {e[id_key]: e for e in written.get(kind) or []}
        assert set(out_elements) == {e[id_key] for e in source.get(kind) or []}, kind
        for element in source.get(kind) or []:
            out = out_elements[element[id_key]]
            files_analyzed = element.get("filesAnalyzed", True)
            for key, value in element.items():
                if value in (None, ""):  # empty text is no text
                    continue
                if key == "filesAnalyzed" and not value and _contains_files(source, element[id_key]):
                    assert out[key] is True  # a package holding files must say so to validate
                    continue
                if key in ("licenseInfoFromFiles", "packageVerificationCode") and not files_analyzed:
                    assert key not in out  # spdx-tools rejects them when filesAnalyzed is false
                    continue
                assert _canonical(key, out.get(key)) == _canonical(key, value), f"{element[id_key]}.{key}"

    source_edges, written_edges = _edges(source), _edges(written)
    assert source_edges <= written_edges
    assert all(e[0] == "SPDXRef-DOCUMENT" and e[1] == "DESCRIBES" for e in written_edges - source_edges)


@pytest.mark.parametrize("fmt", sorted(WRITERS))
@pytest.mark.parametrize("rel", SPDX2_FILES)
def test_spdx_round_trip_keeps_fields_and_validates(
    shared_data: Path, tmp_path: Path, rel: str, fmt: str
) -> None:
    source = requires_shared(SPDX / rel)
    writer, suffix = WRITERS[fmt]
    data = writer(read(source), None)
    assert spdx_tools_problems(data, fmt) == []
    target = tmp_path / f"out{suffix}"
    target.write_bytes(data)
    assert_keeps(_as_spdx_tools_dict(source), _as_spdx_tools_dict(target))
    # and our own reader reads our output back to the same components
    again, first = read(target), read(source)
    assert {c.bom_ref: c.hashes for c in again.components} == {c.bom_ref: c.hashes for c in first.components}
    assert (again.root and again.root.bom_ref) == (first.root and first.root.bom_ref)


@pytest.mark.parametrize(
    "rel",
    [
        "presentations/SBOMS-SPDX-Now-and-Future/ACME-v2.3.spdx.json",
        "software/example6/spdx2.2/example6-bin.spdx",
    ],
)
def test_spdx_22_output_validates(shared_data: Path, rel: str) -> None:
    doc = read(requires_shared(SPDX / rel))
    for fmt, (writer, _) in WRITERS.items():
        data = writer(doc, "2.2")
        assert b"SPDX-2.2" in data
        assert spdx_tools_problems(data, fmt) == []

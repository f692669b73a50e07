"""The VEX mapping table covers every value of the three formats' vocabularies and matches its documentation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import cyclonedx
import pytest

from mamori.model.vex import JUSTIFICATIONS, RESPONSES, VEX_STATUSES
from mamori.vex.mapping import CSAF_REMEDIATION_CATEGORIES, CSAF_STATUS_KEYS, build, load_raw, mapping
from mamori.vex.schemas import csaf_lib_schema_dir

REPO = Path(__file__).resolve().parents[1]
CDX_SCHEMA = Path(cyclonedx.__file__).parent / "schema" / "_res" / "bom-1.6.SNAPSHOT.schema.json"


def _cdx_enum(name: str) -> set[str]:
    schema = json.loads(CDX_SCHEMA.read_text(encoding="utf-8"))
    return set(schema["definitions"][name]["enum"])


def _csaf_schema() -> dict:
    folder = csaf_lib_schema_dir()
    assert folder is not None, "csaf-lib ships the CSAF 2.0 schema"
    return json.loads((folder / "csaf_2_0.json").read_text(encoding="utf-8"))


def test_every_cyclonedx_value_is_mapped() -> None:
    table = mapping()
    assert set(table.cdx_state_to_status) == _cdx_enum("impactAnalysisState")
    assert set(table.cdx_justification_to_cisa) == _cdx_enum("impactAnalysisJustification")
    schema = json.loads(CDX_SCHEMA.read_text(encoding="utf-8"))
    responses = schema["definitions"]["vulnerability"]["properties"]["analysis"]["properties"]["response"][
        "items"
    ]["enum"]
    assert set(table.response_to_csaf) == set(responses) == set(RESPONSES)


def test_every_csaf_value_is_mapped() -> None:
    schema = _csaf_schema()
    vuln = schema["properties"]["vulnerabilities"]["items"]["properties"]
    assert set(vuln["product_status"]["properties"]) == set(CSAF_STATUS_KEYS)
    assert set(vuln["flags"]["items"]["properties"]["label"]["enum"]) == set(JUSTIFICATIONS)
    assert set(vuln["remediations"]["items"]["properties"]["category"]["enum"]) == set(
        CSAF_REMEDIATION_CATEGORIES
    )
    table = mapping()
    assert set(table.csaf_key_to_status) | table.csaf_not_a_status == set(CSAF_STATUS_KEYS)
    publisher = schema["properties"]["document"]["properties"]["publisher"]["properties"]["category"]["enum"]
    assert set(table.csaf_publisher_categories.values()) | {"other"} <= set(publisher)


def test_round_trip_of_each_vocabulary() -> None:
    table = mapping()
    for status in VEX_STATUSES:
        assert table.cdx_state_to_status[table.status_to_cdx_state[status]] == status
        assert table.csaf_key_to_status[table.status_to_csaf_key[status]] == status
    for cisa in JUSTIFICATIONS:
        assert table.cdx_justification_to_cisa[table.cisa_to_cdx_justification[cisa]] == cisa
    # a response survives CSAF unless two responses share a category (documented: rollback -> workaround)
    back = {r: table.csaf_to_response[table.response_to_csaf[r]] for r in RESPONSES}
    assert {r for r, b in back.items() if r != b} == {"rollback"}


def test_bad_table_is_refused() -> None:
    raw = load_raw()
    raw["statuses"][0]["csaf"] = ["known_safe"]
    with pytest.raises(ValueError, match="known_safe"):
        build(raw)
    raw = load_raw()
    raw["justifications"][1]["cyclonedx"].append("requires_dependency")
    with pytest.raises(ValueError, match="mapped twice"):
        build(raw)


def _doc_rows(heading: str) -> list[list[str]]:
    text = (REPO / "docs" / "vex-mapping.md").read_text(encoding="utf-8")
    section = text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("|---")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[1:]]


def _codes(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def test_documented_tables_match_the_data() -> None:
    raw = load_raw()
    status_rows = {row[0]: row for row in _doc_rows("Status")}
    for row in raw["statuses"]:
        doc = status_rows[row["status"]]
        assert _codes(doc[1]) == row["cyclonedx"]
        assert _codes(doc[3]) == row["csaf"]
        assert _codes(doc[4]) == [row["cyclonedx_version_status"]]
        assert doc[5] == row["label"]["ja"]
    just_rows = {_codes(row[0])[0]: row for row in _doc_rows("Justification")}
    for row in raw["justifications"]:
        doc = just_rows[row["id"]]
        assert _codes(doc[1]) == row["cyclonedx"]
        assert doc[2] == row["label"]["en"] and doc[3] == row["label"]["ja"]
    resp_rows = {_codes(row[0])[0]: row for row in _doc_rows("Response")}
    for row in raw["responses"]:
        doc = resp_rows[row["cyclonedx"]]
        assert _codes(doc[1]) == [row["csaf"]]
        assert doc[2] == row["text"]["en"] and doc[3] == row["text"]["ja"]

"""The two VEX rules: not_affected needs a justification (or impact statement), affected needs an action
statement. Every format's breach is refused with one line naming the file, the vulnerability and the product."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import SHARED_DATA
from mamori import vex
from mamori.errors import InputError
from mamori.model.vex import VexDocument, VexProduct, VexStatement, VexVulnerability
from mamori.vex.schemas import openvex_problems

CISA_1 = SHARED_DATA / "vex/cyclonedx/CISA-Use-Cases/Case-1"
CSAF_EX = SHARED_DATA / "csaf/examples/csaf/csaf_vex"
NA_RULE = "not_affected needs a justification or an impact statement"
AFFECTED_RULE = "affected needs an action statement"


def _load(path: Path) -> dict:
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return json.loads(path.read_text(encoding="utf-8"))


def _write(tmp_path: Path, name: str, data: dict) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _refused(tmp_path: Path, name: str, data: dict, *needles: str) -> None:
    path = _write(tmp_path, name, data)
    with pytest.raises(InputError) as err:
        vex.read(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ")
    assert "\n" not in message
    for needle in needles:
        assert needle in message
    lenient = vex.read(path, strict=False)
    assert any(needle in w for w in lenient.warnings for needle in needles[-1:])


def test_cyclonedx_not_affected_without_justification(tmp_path: Path) -> None:
    data = _load(CISA_1 / "vex-not_affected.json")
    analysis = data["vulnerabilities"][0]["analysis"]
    del analysis["justification"], analysis["detail"]
    _refused(tmp_path, "na.cdx.json", data, "CVE-2021-44228", "ABC 4.2", NA_RULE)


def test_cyclonedx_not_affected_with_only_detail_is_accepted(tmp_path: Path) -> None:
    data = _load(CISA_1 / "vex-not_affected.json")
    del data["vulnerabilities"][0]["analysis"]["justification"]
    path = _write(tmp_path, "na.cdx.json", data)
    (st,) = vex.read(path).statements
    assert (
        st.justification is None
        and st.impact_statement
        and "Class with vulnerable code" in st.impact_statement
    )


def test_cyclonedx_affected_without_action(tmp_path: Path) -> None:
    data = _load(CISA_1 / "vex-affected.json")
    analysis = data["vulnerabilities"][0]["analysis"]
    del analysis["response"], analysis["detail"]
    _refused(tmp_path, "a.cdx.json", data, "CVE-2021-44228", "DEF 1.0", AFFECTED_RULE)


def test_cyclonedx_affected_with_response_only_is_accepted_and_gets_an_action_text(tmp_path: Path) -> None:
    data = _load(CISA_1 / "vex-affected.json")
    del data["vulnerabilities"][0]["analysis"]["detail"]
    path = _write(tmp_path, "a.cdx.json", data)
    doc = vex.read(path)
    out = json.loads(vex.dumps(doc, "openvex", vex.WriteOptions(author="Example Corp")))
    assert (
        out["statements"][0]["action_statement"]
        == "No fix will be provided. Update to a version that fixes the vulnerability."
    )


def test_csaf_known_not_affected_without_impact(tmp_path: Path) -> None:
    data = _load(CSAF_EX / "2022-evd-uc-01-na-001.json")
    del data["vulnerabilities"][0]["threats"]
    _refused(tmp_path, "na.csaf.json", data, "CVE-2021-44228", "ABC 4.2", NA_RULE)


def test_csaf_flag_alone_is_a_justification(tmp_path: Path) -> None:
    data = _load(CSAF_EX / "sec-vex-2022-0001.json")
    for vuln in data["vulnerabilities"]:
        del vuln["threats"]
    path = _write(tmp_path, "flag.csaf.json", data)
    assert {st.justification for st in vex.read(path).statements} == {"component_not_present"}


def test_csaf_known_affected_without_remediation(tmp_path: Path) -> None:
    data = _load(CSAF_EX / "2022-evd-uc-01-a-001.json")
    del data["vulnerabilities"][0]["remediations"]
    _refused(tmp_path, "a.csaf.json", data, "CVE-2021-44228", "DEF 1.0", AFFECTED_RULE)


def _openvex(statement: dict) -> dict:
    return {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://openvex.dev/docs/example/vex-9fb3463de1b57",
        "author": "Wolfi J Inkinson",
        "timestamp": "2023-01-08T18:02:03.647787998-06:00",
        "version": 1,
        "statements": [statement],
    }


def test_openvex_rules(tmp_path: Path) -> None:
    base = {
        "vulnerability": {"name": "CVE-2023-12345"},
        "products": [{"@id": "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64"}],
    }
    _refused(
        tmp_path,
        "na.openvex.json",
        _openvex({**base, "status": "not_affected"}),
        "CVE-2023-12345",
        "git 2.39.0-r1",
        NA_RULE,
    )
    _refused(
        tmp_path,
        "a.openvex.json",
        _openvex({**base, "status": "affected"}),
        "CVE-2023-12345",
        "git 2.39.0-r1",
        AFFECTED_RULE,
    )
    ok = tmp_path / "ok.openvex.json"
    ok.write_text(
        json.dumps(
            _openvex(
                {
                    **base,
                    "status": "not_affected",
                    "impact_statement": "The vulnerable code was removed with a custom patch",
                }
            )
        )
    )
    (st,) = vex.read(ok).statements
    assert (
        st.products[0].purl == "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64"
        and st.products[0].version == "2.39.0-r1"
    )
    assert st.timestamp is None and vex.read(ok).timestamp == datetime(
        2023, 1, 9, 0, 2, 3, 647787, tzinfo=UTC
    )


def test_openvex_schema_enforces_the_rules() -> None:
    good = _openvex(
        {
            "vulnerability": {"name": "CVE-1"},
            "products": [{"@id": "pkg:npm/a@1"}],
            "status": "affected",
            "action_statement": "Update to 2.0",
        }
    )
    assert openvex_problems(good) == []
    bad = json.loads(json.dumps(good))
    del bad["statements"][0]["action_statement"]
    assert any("action_statement" in p for p in openvex_problems(bad))
    bad["statements"][0].update(status="not_affected")
    assert openvex_problems(bad)  # neither justification nor impact statement
    bad["statements"][0]["justification"] = "component_not_present"
    assert openvex_problems(bad) == []
    bad["statements"][0]["justification"] = "code_not_present"  # a CycloneDX label is not an OpenVEX one
    assert openvex_problems(bad)


def test_writers_enforce_the_rules_too() -> None:
    doc = VexDocument(
        author="Example Corp",
        statements=[
            VexStatement(
                vulnerability=VexVulnerability("CVE-2024-0001"),
                status="not_affected",
                products=[VexProduct(purl="pkg:pypi/requests@2.31.0", name="requests", version="2.31.0")],
            )
        ],
    )
    for fmt in vex.FORMATS:
        with pytest.raises(InputError, match=f"CVE-2024-0001 for requests 2.31.0: status {NA_RULE}"):
            vex.dumps(doc, fmt, vex.WriteOptions(namespace="https://example.org"))

"""``mamori vex export``: a hand-written YAML file of statements → CycloneDX, OpenVEX and CSAF VEX."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from csaf_lib.verification import Verifier
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from mamori import vex
from mamori.cli.main import main
from mamori.errors import InputError
from mamori.vex.schemas import csaf_problems, openvex_problems
from mamori.vex.statements import read_statements

REPO = Path(__file__).resolve().parents[1]


def _documented_example() -> str:
    """The example in docs/vex-mapping.md, so the documentation cannot drift from what export reads."""
    text = (REPO / "docs" / "vex-mapping.md").read_text(encoding="utf-8")
    return re.search(r"```yaml\n(.*?)```", text, re.S).group(1)


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "statements.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_documented_example_reads(tmp_path: Path) -> None:
    doc = read_statements(_file(tmp_path, _documented_example()))
    assert (doc.author, doc.author_role, doc.author_url, doc.id) == (
        "Example Corp PSIRT",
        "vendor",
        "https://psirt.example.com",
        "EXAMPLE-VEX-2024-001",
    )
    affected, not_affected = doc.statements
    assert affected.status == "affected" and affected.responses == ["update"]
    (requests,) = affected.products
    assert (requests.purl, requests.name, requests.version) == (
        "pkg:pypi/requests@2.31.0",
        "requests",
        "2.31.0",
    )
    assert not_affected.justification == "component_not_present"
    assert [(p.ref, p.name, p.version, p.vendor) for p in not_affected.products] == [
        ("shop-portal", "shop-portal", "2.1.0", "Example Corp"),
    ]


@pytest.mark.parametrize("fmt", ["cyclonedx", "openvex", "csaf"])
def test_export_each_format(tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    src = _file(tmp_path, _documented_example())
    out = tmp_path / f"out.{fmt}.json"
    assert main(["vex", "export", str(src), "-o", str(out), "--to", fmt]) == 0
    assert capsys.readouterr().out.strip() == f"{out}: {fmt} VEX, 2 statements"
    data = json.loads(out.read_text(encoding="utf-8"))
    if fmt == "cyclonedx":
        assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(out.read_text(encoding="utf-8")) is None
    elif fmt == "openvex":
        assert openvex_problems(data) == []
        assert data["statements"][0]["products"] == [
            {"@id": "pkg:pypi/requests@2.31.0", "identifiers": {"purl": "pkg:pypi/requests@2.31.0"}}
        ]
    else:
        assert csaf_problems(data) == []
        assert Verifier(data).run_csaf_compliance().passed
        assert data["document"]["tracking"]["id"] == "EXAMPLE-VEX-2024-001"
    back = vex.read(out)
    original = read_statements(src)
    assert [
        (s.vulnerability.id, s.status, s.justification, [p.identity for p in s.products])
        for s in back.statements
    ] == [
        (s.vulnerability.id, s.status, s.justification, [p.identity for p in s.products])
        for s in original.statements
    ]


def test_cyclonedx_justification_labels_are_accepted(tmp_path: Path) -> None:
    text = _documented_example().replace(
        "justification: component_not_present", "justification: protected_at_perimeter"
    )
    (_, st) = read_statements(_file(tmp_path, text)).statements
    assert (st.justification, st.cdx_justification) == (
        "inline_mitigations_already_exist",
        "protected_at_perimeter",
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("status: affected", "status: exploitable"),
            r"statements\[0\]\.status: CVE-2024-35195: expected one of",
        ),
        (("    responses: [update]\n", "    colour: red\n"), r"statements\[0\]\.colour: unknown key"),
        (
            ("pkg:pypi/requests@2.31.0", "pkg:requests"),
            r"statements\[0\]\.products\[0\]\.purl: not a valid package URL",
        ),
        (("  version: 1\n", "  version: first\n"), r"document\.version: expected a whole number"),
        (
            ("- vulnerability: CVE-2024-35195", "- vulnerability: [CVE-2024-35195"),
            r"invalid YAML at line \d+",
        ),
    ],
)
def test_bad_statements_file(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    text = _documented_example()
    assert change[0] in text
    path = _file(tmp_path, text.replace(*change))
    with pytest.raises(InputError, match=message) as err:
        read_statements(path)
    assert str(err.value).startswith(str(path))


def test_rule_breach_is_refused_on_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = _documented_example().replace(
        "    action_statement: Update requests to 2.32.0 or later.\n    responses: [update]\n", ""
    )
    src = _file(tmp_path, text)
    out = tmp_path / "x.openvex.json"
    assert main(["vex", "export", str(src), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{src}: CVE-2024-35195 for requests 2.31.0: status affected needs an action statement" in err
    assert not out.exists()

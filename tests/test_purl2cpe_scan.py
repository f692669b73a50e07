"""Scans through purl2cpe links: a weak link (PyPI vncauthproxy → osuosl:twisted_vnc_authentication_proxy,
CVE-2022-36436, whose CPE and range come from CISA's ADP container of the CVE 5 record) is not matched by
default and is, marked weak, with ``--purl2cpe-weak``; only the strong links of the SBOM's purl types are
read. The record and the links are read in place from ../shared/data."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from conftest import SHARED_DATA
from mamori.cli.main import main
from mamori.match import Matcher
from mamori.match.knowledge import FEW_PACKAGES
from mamori.model.sbom import Component
from mamori.scan.run import scan_document
from match_support import build_store, cve_file, document, purl2cpe_subset

TSV = SHARED_DATA / "purl2cpe" / "purl2cpe.tsv"
JACKSON = "pkg:maven/com.fasterxml.jackson.core/jackson-databind"
VNC = "pkg:pypi/vncauthproxy"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -------------------------------------------------------------------------------------------- scans


@pytest.fixture(scope="module")
def jackson_store(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """CVE-2022-36436 (osuosl:twisted_vnc_authentication_proxy <= 1.1.1, CVE JSON 5 with CISA's ADP
    CPE) and the shared table's links of PyPI vncauthproxy (weak: the product name is not the
    package's), of jackson-databind (strong: jackson-databind; weak: jackson-dataformats-text), of its
    GitHub repository and of PyPI protobuf."""
    record = cve_file("CVE-2022-36436")
    if not TSV.is_file() or not record.is_file():
        pytest.skip(f"{TSV} or {record} is absent")
    folder = tmp_path_factory.mktemp("jackson")
    purls = [
        JACKSON,
        "pkg:github/fasterxml/jackson-databind",
        "pkg:pypi/protobuf",
        VNC,
        "pkg:pypi/oslo.utils",
    ]
    with build_store(folder, [record, purl2cpe_subset(folder, purls)]) as store:
        yield store


def _jackson(version: str) -> Component:
    return Component(name="jackson-databind", version=version, purl=f"{JACKSON}@{version}")


def _vnc(version: str) -> Component:
    return Component(name="vncauthproxy", version=version, purl=f"{VNC}@{version}")


def test_a_weak_link_is_not_matched_by_default(jackson_store) -> None:  # type: ignore[no-untyped-def]
    result = scan_document(
        document(_vnc("1.1.1"), _jackson("2.14.2")), jackson_store, target="t", sbom_format="cyclonedx-json"
    )
    assert [f.vulnerability.id for f in result.findings] == []


def test_a_weak_link_is_matched_on_request_and_marked_weak(jackson_store) -> None:  # type: ignore[no-untyped-def]
    matcher = Matcher(jackson_store, weak_links=True)
    doc = document(_vnc("1.1.1"), _vnc("1.2.0"))
    result = scan_document(doc, jackson_store, target="t", sbom_format="cyclonedx-json", matcher=matcher)
    (finding,) = result.findings  # 1.2.0 is past the last affected version
    assert (finding.component.version, finding.vulnerability.id) == ("1.1.1", "CVE-2022-36436")
    assert (finding.match.method, finding.match.confidence) == ("purl2cpe-weak", "weak")
    assert finding.match.detail.startswith("purl2cpe weak link (unrelated")
    assert "→ osuosl:twisted_vnc_authentication_proxy;" in finding.match.detail


def test_only_the_strong_links_of_the_sbom_packages_are_read(jackson_store) -> None:  # type: ignore[no-untyped-def]
    matcher = Matcher(jackson_store)
    matcher.match([_jackson("2.14.2"), _vnc("1.1.1")])
    knowledge = matcher.knowledge
    key = ("maven", "com.fasterxml.jackson.core", "jackson-databind")
    # a few packages of a type: their own links, looked up one by one, not the type's whole table
    assert knowledge._link_types == set() and knowledge._weak_types == set() and knowledge._links == {}
    assert knowledge._links_of == {
        key: [("fasterxml", "jackson-databind"), ("fastxml", "jackson-databind")],
        ("pypi", "", "vncauthproxy"): [],  # weak links only: none strong
    }
    # the feed spells it oslo.utils; an SBOM's Oslo_Utils has the same PEP 503 key
    assert knowledge.links_of([("pypi", "", "oslo-utils")]) == {
        ("pypi", "", "oslo-utils"): [("openstack", "oslo.utils")]
    }
    assert knowledge.weak_links_of([("pypi", "", "vncauthproxy")]) == {
        ("pypi", "", "vncauthproxy"): [("osuosl", "twisted_vnc_authentication_proxy", "unrelated")]
    }
    # many packages of a type: the type's table, once
    many = [(key[0], key[1], f"{key[2]}-{i}") for i in range(FEW_PACKAGES + 1)]
    assert knowledge.links_of([key, *many]) == {key: knowledge._links_of[key]}
    assert knowledge._link_types == {"maven"}
    assert {k[0] for k in knowledge._links} == {"maven"}
    assert knowledge.links_of([("pypi", "", "oslo-utils")]) == {
        ("pypi", "", "oslo-utils"): [("openstack", "oslo.utils")]
    }  # the store has github and pypi links too
    assert {key[0] for key in knowledge.links} == {"maven", "github", "pypi"}  # all, when asked
    assert sorted(knowledge.links_for({"maven"})[key]) == [
        ("fasterxml", "jackson-databind"),
        ("fastxml", "jackson-databind"),  # an upstream typo of the vendor: same product name
    ]
    assert knowledge.weak_links_for({"maven"})[key] == [("fasterxml", "jackson-dataformats-text", "sibling")]


def test_scan_cli_option(  # type: ignore[no-untyped-def]
    jackson_store, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # the table on one line per finding
    sbom = tmp_path / "bom.json"
    component = {"type": "library", "name": "vncauthproxy", "version": "1.1.1", "purl": f"{VNC}@1.1.1"}
    sbom.write_bytes(
        orjson.dumps(
            {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": [component]}
        )
    )
    db = str(jackson_store.engine.url.database)
    partial = "--allow-partial"  # the store holds no complete PyPI feed: the scan says so, exit 0 allowed
    code, out, _ = _run(capsys, "scan", str(sbom), "--db", db, "-f", "json", partial)
    assert code == 0 and json.loads(out)["findings"] == []
    code, out, _ = _run(capsys, "scan", str(sbom), "--db", db, "-f", "json", "--purl2cpe-weak", partial)
    (finding,) = json.loads(out)["findings"]
    assert finding["match"]["method"] == "purl2cpe-weak" and finding["match"]["confidence"] == "weak"
    code, out, _ = _run(capsys, "scan", str(sbom), "--db", db, "--purl2cpe-weak", "--lang", "ja", partial)
    assert "purl2cpe-weak (弱)" in out

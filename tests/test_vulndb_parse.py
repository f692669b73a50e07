"""Importers' parsers on the real data in ../shared/data (OSV, NVD 2.0, CVE 5, JVN, KEV, purl2cpe) and EPSS."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import orjson
import pytest
import yaml
from cvss import CVSS3

from mamori.errors import InputError
from mamori.model.cpe import parse_cpe
from mamori.vulndb import cve5, epss, jvn, kev, nvd, osv, purl2cpe
from mamori.vulndb.detect import parse_blob
from mamori.vulndb.rejected import DataWarning, Rejected
from mamori.vulndb.sources import Blob

# ------------------------------------------------------------------------------------------- OSV


def test_osv_every_pypi_advisory_parses_with_versions_kept_as_text(shared_data: Path) -> None:
    files = sorted((shared_data / "osv" / "pypi").rglob("*.yaml"))
    assert len(files) > 2600
    withdrawn = 0
    for path in files:
        data = path.read_bytes()
        (record,) = list(osv.parse_bytes(str(path), data))
        raw = yaml.load(data, Loader=yaml.CBaseLoader)  # every scalar as written
        assert record.id == raw["id"] == path.stem
        assert record.aliases == [a for a in raw.get("aliases", []) if a != record.id]
        assert [p.versions for p in record.affected_packages] == [
            a.get("versions", []) for a in raw["affected"]
        ]
        events = [[(e.kind, e.value) for r in p.ranges for e in r.events] for p in record.affected_packages]
        raw_events = [
            [next(iter(e.items())) for r in a.get("ranges", []) for e in r["events"]] for a in raw["affected"]
        ]
        assert events == raw_events
        assert all(p.ecosystem == "PyPI" for p in record.affected_packages)
        withdrawn += record.withdrawn is not None
        for sev in record.severities:
            assert sev.score is not None and sev.problem is None, (record.id, sev.vector)
    assert withdrawn == sum(1 for p in files if b"\nwithdrawn:" in p.read_bytes())


def test_osv_yaml_loader_agrees_with_pyyaml_on_real_records(shared_data: Path) -> None:
    for path in sorted((shared_data / "osv" / "misc").glob("*.json")):
        record = orjson.loads(path.read_bytes())  # booleans, nested objects, lists
        text = yaml.safe_dump(record, allow_unicode=True).encode()
        assert osv.load(path.name + ".yaml", text) == record == yaml.safe_load(text)
    shared = b"a: &v [1.10, 'x']\nb: *v\nc: ~\nd: no\n"
    assert osv.load("anchors.yaml", shared) == {"a": ["1.10", "x"], "b": ["1.10", "x"], "c": None, "d": "no"}


def test_osv_misc_records_keep_ecosystems_git_ranges_and_cwes(shared_data: Path) -> None:
    misc = shared_data / "osv" / "misc"
    dsa = next(osv.parse_bytes("dsa", (misc / "osv-DSA-5474-1.json").read_bytes()))
    assert [p.ecosystem for p in dsa.affected_packages] == ["Debian:11", "Debian:12"]
    assert dsa.affected_packages[0].ranges[0].events[-1].value == "3.20230808.1~deb11u1"
    git = next(osv.parse_bytes("git", (misc / "osv-git-commit-hash-ranges.json").read_bytes()))
    rng = git.affected_packages[0].ranges[0]
    assert rng.type == "GIT" and rng.repo == "https://github.com/radareorg/radare2"
    assert git.affected_packages[0].ecosystem_specific == {"severity": "MEDIUM"}
    ghsa = next(osv.parse_bytes("ghsa", (misc / "osv-GHSA-77rv-6vfw-x4gc.json").read_bytes()))
    assert ghsa.cwes == ["CWE-601"] and ghsa.aliases == ["CVE-2019-3778"]
    assert ghsa.affected_packages[0].database_specific["source"].endswith("GHSA-77rv-6vfw-x4gc.json")


def test_osv_invalid_cvss_entries_are_kept_unscored_not_fatal(shared_data: Path) -> None:
    data = (shared_data / "osv" / "misc" / "osv-vulnerability-invalid-cvss.json").read_bytes()
    (record,) = list(osv.parse_bytes("invalid-cvss", data))
    by_vector = {s.vector: s for s in record.severities}
    assert len(record.severities) == 4  # the empty entry says nothing and is dropped
    broken = by_vector["CVSS:3.1/AV:N/AC:L"]
    assert broken.score is None and "invalid CVSS vector" in (broken.problem or "")
    # Published NVD base scores of these vectors
    assert by_vector["CVSS:3.0/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"].score == 7.2
    assert by_vector["AV:N/AC:H/Au:N/C:P/I:N/A:N"].score == 2.6
    v4 = by_vector["CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:L/VA:H/SC:N/SI:N/SA:N"]
    assert v4.method == "CVSS_V4" and v4.score is not None and v4.rating == "High"


def test_osv_structural_errors_name_the_file() -> None:
    with pytest.raises(InputError, match=r"bad\.json: OSV record has no id"):
        list(osv.parse_bytes("bad.json", b'{"summary": "x"}'))
    with pytest.raises(InputError, match=r"bad\.yaml: not valid OSV JSON/YAML"):
        list(osv.parse_bytes("bad.yaml", b"id: [unclosed"))
    with pytest.raises(InputError, match="GHSA-x: affected: expected a list, got a string"):
        list(osv.parse_bytes("x.json", b'{"id": "GHSA-x", "affected": "pkg"}'))


# ------------------------------------------------------------------------------------------- NVD


def test_nvd_files_scores_configurations_and_kev(shared_data: Path) -> None:
    records = {}
    for path in sorted((shared_data / "nvd").glob("*.json")):
        for record in nvd.parse_document(orjson.loads(path.read_bytes()), str(path)):
            records[path.name] = record
            for sev in record.severities:
                assert sev.score == sev.source_score, (record.id, sev.vector)
    intel = records["CVE-2021-0002-duplicate-exact-version-matches.json"]
    first = intel.cpe_configurations[0]
    assert first.operator == "AND" and len(first.nodes) == 2
    assert [m.vulnerable for n in first.nodes for m in n.matches] == [True, False]
    assert first.nodes[0].matches[0].version_end_excluding == "1.4.11"
    forti = records["cve-2024-23113.json"]
    assert forti.kev[0].date_added == "2024-10-09" and forti.kev[0].due_date == "2024-10-30"
    assert forti.cwes == ["CWE-134"] and forti.summaries["en"].startswith("A use of externally-controlled")
    assert {(s.provider, s.kind) for s in forti.severities} == {
        ("nvd@nist.gov", "Primary"),
        ("psirt@fortinet.com", "Secondary"),
    }
    struts = records["CVE-2017-5638-cvssv4-rating.json"]
    assert struts.severities[0].method == "CVSS_V4" and struts.severities[0].score == 10.0
    refs = {r.url: r for r in intel.references}
    assert all(
        r.type != "WEB" or not r.tags for r in refs.values() if {"Patch", "Vendor Advisory"} & set(r.tags)
    )


def test_nvd_api_page_with_vulnerabilities_array(shared_data: Path) -> None:
    items = [orjson.loads(p.read_bytes()) for p in sorted((shared_data / "nvd").glob("*.json"))]
    page = {
        "resultsPerPage": len(items),
        "startIndex": 0,
        "totalResults": len(items),
        "format": "NVD_CVE",
        "version": "2.0",
        "vulnerabilities": items,
    }
    parsed = list(nvd.parse_document(page, "page.json"))
    assert [v.id for v in parsed] == [i["cve"]["id"] for i in items]


# ------------------------------------------------------------------------------------------ CVE 5


def _cve5_files(shared_data: Path) -> list[Path]:
    return sorted((shared_data / "cve5").rglob("CVE-*.json"))


# The one record whose CNA score disagrees with its own vector (Intel: 2.5 for a vector that scores 2.2).
CNA_SCORE_ERRORS = {("CVE-2022-46647", "CVSS:3.1/AV:L/AC:H/PR:L/UI:R/S:U/C:L/I:N/A:N")}


def test_cve5_scores_equal_the_sources_base_or_temporal_score(shared_data: Path) -> None:
    equal = temporal = 0
    errors = set()
    for path in _cve5_files(shared_data):
        record = cve5.parse_record(orjson.loads(path.read_bytes()), str(path))
        for sev in record.severities:
            if sev.source_score is None:
                continue
            if sev.score == sev.source_score:
                equal += 1
            elif (record.id, sev.vector) in CNA_SCORE_ERRORS:
                errors.add((record.id, sev.vector))
                assert sev.score == 2.2
            else:  # some CNAs put the temporal score in baseScore: then it must be exactly that
                assert sev.version.startswith("3") and "/E:" in sev.vector, (record.id, sev.vector)
                assert CVSS3(sev.vector).scores()[1] == sev.source_score, (record.id, sev.vector)
                temporal += 1
    assert equal > 3800 and 0 < temporal < 100
    assert errors == CNA_SCORE_ERRORS


def test_cve5_adp_ssvc_kev_products_and_rejected(shared_data: Path) -> None:
    states = {"PUBLISHED": 0, "REJECTED": 0}
    kev_seen = 0
    for path in _cve5_files(shared_data):
        doc = orjson.loads(path.read_bytes())
        record = cve5.parse_record(doc, str(path))
        assert record.id == path.stem
        states[doc["cveMetadata"]["state"]] += 1
        if doc["cveMetadata"]["state"] == "REJECTED":
            assert record.withdrawn is not None and record.summaries
            continue
        assert record.withdrawn is None
        assert len(record.ssvc) == 1 and record.ssvc[0].provider == "CISA-ADP"
        assert record.ssvc[0].exploitation in {"none", "poc", "active"}
        assert record.ssvc[0].automatable in {"yes", "no"}
        assert record.ssvc[0].technical_impact in {"partial", "total"}
        kev_seen += bool(record.kev)
    assert states == {"PUBLISHED": 8108, "REJECTED": 19}
    assert kev_seen == 80
    path = shared_data / "cve5" / "2021" / "44xxx" / "CVE-2021-44166.json"
    record = cve5.parse_record(orjson.loads(path.read_bytes()), str(path))
    assert record.ssvc[0].exploitation == "none" and record.ssvc[0].technical_impact == "partial"
    product = record.affected_products[0]
    assert (product.vendor, product.provider) == ("Fortinet", "fortinet")
    assert product.versions[0].version == "FortiTokenAndroid 5.1.0 and below"


def test_cve5_not_a_record_names_the_file() -> None:
    with pytest.raises(InputError, match=re.escape("x.json: not a CVE JSON 5 record")):
        cve5.parse_record({"dataType": "CVE_RECORD"}, "x.json")


# ------------------------------------------------------------------------------------------- JVN

_NAMESPACES = (
    b' xmlns="http://jvn.jp/vuldef/" xmlns:vuldef="http://jvn.jp/vuldef/"'
    b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:sec="http://jvn.jp/rss/mod_sec/3.0/"'
    b' xmlns:marking="http://data-marking.mitre.org/Marking-1"'
    b' xmlns:tlpMarking="http://data-marking.mitre.org/extensions/MarkingStructure#TLP-1"'
    b' xmlns:status="http://jvndb.jvn.jp/myjvn/Status" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
    b' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"'
)


def _declared(data: bytes, root: bytes) -> bytes:
    """The same answer as the live MyJVN API sends it: with xmlns declarations on the root."""
    return data.replace(
        b"<" + root,
        b"<"
        + root
        + _NAMESPACES.replace(
            b' xmlns="http://jvn.jp/vuldef/"',
            b"" if root == b"rdf:RDF" else b' xmlns="http://jvn.jp/vuldef/"',
        ),
        1,
    )


@pytest.mark.parametrize("declared", [False, True], ids=["fixture-without-xmlns", "live-with-xmlns"])
def test_jvn_vuldef_detail(shared_data: Path, declared: bool) -> None:
    data = (shared_data / "jvn" / "get_vuln_detail_info.xml").read_bytes()
    if declared:
        data = _declared(data, b"VULDEF-Document")
        assert b"xmlns:sec=" in data
    (record,) = list(jvn.parse_bytes("detail.xml", data))
    assert record.id == "JVNDB-2020-006469"
    assert record.titles["ja"].startswith("三菱電機製 GOT2000 シリーズ")
    assert "TCP/IP 機能" in record.summaries["ja"]
    assert record.aliases == ["CVE-2020-5595"]
    assert [p.cpes for p in record.affected_products] == [
        ["cpe:/o:mitsubishielectric:gt23_model"],
        ["cpe:/o:mitsubishielectric:gt25_model"],
        ["cpe:/o:mitsubishielectric:gt27_model"],
    ]
    assert record.affected_products[0].vendor == "三菱電機"
    (sev,) = record.severities
    assert (sev.version, sev.score, sev.source_score, sev.source_rating) == ("3.0", 9.8, 9.8, "Critical")
    assert record.published == "2020-07-09T05:43:53Z"  # +09:00 in the answer
    assert record.sources[0].feed == "vuldef:ja"


@pytest.mark.parametrize("declared", [False, True], ids=["fixture-without-xmlns", "live-with-xmlns"])
def test_jvn_overview_list(shared_data: Path, declared: bool) -> None:
    data = (shared_data / "jvn" / "get_vuln_overview_list.xml").read_bytes()
    if declared:
        data = _declared(data, b"rdf:RDF")
    (record,) = list(jvn.parse_bytes("overview.xml", data))
    assert record.id == "JVNDB-2020-000049"
    assert record.titles == {"en": "TOYOTA MOTOR's Global TechStream vulnerable to buffer overflow"}
    assert record.aliases == ["CVE-2020-5610", "JVN#40400577"]
    assert record.cwes == ["CWE-119"]
    assert {(s.version, s.score, s.source_score) for s in record.severities} == {
        ("3.0", 4.1, 4.1),
        ("2.0", 4.4, 4.4),
    }
    assert record.affected_products[0].cpes == ["cpe:/a:toyota:global_tech_stream"]


def test_jvn_refuses_dtds_and_broken_xml(shared_data: Path) -> None:
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><VULDEF-Document><Vulinfo>&e;</Vulinfo></VULDEF-Document>'
    with pytest.raises(InputError, match=re.escape("evil.xml: XML with a DTD is refused")):
        list(jvn.parse_bytes("evil.xml", evil))
    data = (shared_data / "jvn" / "get_vuln_detail_info.xml").read_bytes()
    with pytest.raises(InputError, match=re.escape("cut.xml: not well-formed XML")):
        list(jvn.parse_bytes("cut.xml", data[: len(data) // 2]))


# ------------------------------------------------------------------------------------ KEV, EPSS


def test_kev_catalog(shared_data: Path) -> None:
    doc = orjson.loads((shared_data / "kev" / "known_exploited_vulnerabilities.json").read_bytes())
    entries = list(kev.parse_document(doc, "kev.json"))
    assert len(entries) == doc["count"] == len({e.cve_id for e in entries})
    known = sum(1 for v in doc["vulnerabilities"] if v["knownRansomwareCampaignUse"] == "Known")
    assert sum(1 for e in entries if e.known_ransomware_use == "Known") == known
    git = next(e for e in entries if e.cve_id == "CVE-2025-48384")
    assert (git.date_added, git.due_date, git.vendor_project) == ("2025-08-25", "2025-09-15", "Git")
    schema = orjson.loads((shared_data / "kev" / "known_exploited_vulnerabilities_schema.json").read_bytes())
    assert not kev.looks_like(schema)


# A sample in FIRST's published layout (a comment line with the model and score date, then the header).
# The numbers are made up for the format test; no real scores are claimed.
EPSS_FORMAT_SAMPLE = b"""#model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z
cve,epss,percentile
CVE-2025-48384,0.00123,0.31000
CVE-2017-5638,0.94000,0.99900
"""


def test_epss_csv_and_gzip() -> None:
    rows = list(epss.parse_csv("epss_scores-2025-08-25.csv", EPSS_FORMAT_SAMPLE))
    assert [(r.cve_id, r.score, r.percentile, r.date) for r in rows] == [
        ("CVE-2025-48384", 0.00123, 0.31, "2025-08-25"),
        ("CVE-2017-5638", 0.94, 0.999, "2025-08-25"),
    ]
    parsed = parse_blob(Blob("epss_scores-2025-08-25.csv.gz", gzip.compress(EPSS_FORMAT_SAMPLE)))
    assert parsed is not None and parsed.source == "epss" and len(list(parsed.items)) == 2
    # a bad row is rejected with its line and reason; the rows after it are still read
    data = b"cve,epss,percentile\nCVE-2025-1,0.1,0.2\nCVE-2025-2,high,0.3\nCVE-2025-3,0.5,0.6\n"
    items = list(epss.parse_csv("e.csv", data))
    assert [str(i) for i in items if isinstance(i, Rejected)] == [
        "e.csv: line 3: epss 'high' is not a number"
    ]
    assert [i.cve_id for i in items if not isinstance(i, Rejected)] == ["CVE-2025-1", "CVE-2025-3"]


# ------------------------------------------------------------------------------------- purl2cpe


def test_purl2cpe_tsv_warns_about_bad_purls_by_line(shared_data: Path) -> None:
    path = shared_data / "purl2cpe" / "purl2cpe.tsv"
    items = list(purl2cpe.parse_tsv(str(path), path.read_bytes()))
    warnings = [i for i in items if isinstance(i, DataWarning)]
    links = [i for i in items if isinstance(i, purl2cpe.PurlCpeLink)]
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(items) == len(lines) - 1 == len(links) + len(warnings)
    assert [r.record for r in warnings] == ["line 5394", "line 23522", "line 29555", "line 43894"]
    assert all("invalid purl" in r.reason for r in warnings)
    tools = [link for link in links if link.cpe_product == "tpm2.0-tools"]
    assert {link.purl for link in tools} >= {
        "pkg:github/tpm2-software/tpm2-tools",
        "pkg:deb/debian/tpm2-tools",
    }


def test_purl2cpe_scanoss_layout_gives_the_same_links_as_the_tsv(shared_data: Path, tmp_path: Path) -> None:
    rows = [
        line.split("\t")
        for line in (shared_data / "purl2cpe" / "purl2cpe.tsv").read_text().splitlines()[1:40]
    ]
    by_pair: dict[tuple[str, str], list[str]] = {}
    for vendor, product, purl in rows:
        by_pair.setdefault((vendor, product), []).append(purl)
    expected = set()
    for (vendor, product), purls in by_pair.items():
        folder = tmp_path / "data" / vendor / product
        folder.mkdir(parents=True)
        (folder / "purls.yml").write_text(yaml.safe_dump({"purls": purls}))
        expected |= {(p, vendor, product) for p in purls}
    got = set()
    for path in sorted(tmp_path.rglob("purls.yml")):
        parsed = parse_blob(Blob(str(path), path.read_bytes()))
        assert parsed is not None and parsed.source == "purl2cpe"
        got |= {(link.purl, link.cpe_vendor, link.cpe_product) for link in parsed.items}
    assert got == expected
    # the older <vendor>/<product>.yml files carry cpes and purls together
    combined = b"cpes:\n- cpe:2.3:a:01org:tpm2.0-tools:1.1.0:*:*:*:*:*:*:*\npurls:\n- pkg:github/tpm2-software/tpm2-tools\n"
    (link,) = list(purl2cpe.parse_scanoss_yaml("data/01org/tpm2.0-tools.yml", combined))
    assert (link.cpe_vendor, link.cpe_product, link.purl_type) == ("01org", "tpm2.0-tools", "github")


# ------------------------------------------------------------------------------------------- CPE


def test_cpe_names() -> None:
    escaped = parse_cpe(r"cpe:2.3:a:fortinet:forti\:proxy:7.0.1:*:*:*:*:*:*:*")
    assert escaped is not None and (escaped.vendor, escaped.product, escaped.version) == (
        "fortinet",
        r"forti\:proxy",
        "7.0.1",
    )
    uri = parse_cpe("cpe:/a:pointinside:point_inside_shopping_%26_travel")
    assert (
        uri is not None
        and uri.formatted() == r"cpe:2.3:a:pointinside:point_inside_shopping_\&_travel:*:*:*:*:*:*:*:*"
    )
    packed = parse_cpe("cpe:/a:vendor:prod:1.0::~~~android~~")
    assert packed is not None and (packed.version, packed.target_sw) == ("1.0", "android")
    assert parse_cpe("cpe:2.3:a:too:short") is None and parse_cpe("not a cpe") is None


# ---------------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("osv/pypi/apache-skywalking/PYSEC-2020-342.yaml", "osv"),
        ("osv/misc/osv-DSA-5474-1.json", "osv"),
        ("nvd/cve.json", "nvd"),
        ("cve5/2021/44xxx/CVE-2021-44166.json", "cve5"),
        ("kev/known_exploited_vulnerabilities.json", "kev"),
        ("kev/known_exploited_vulnerabilities_schema.json", None),
        ("jvn/get_vuln_detail_info.xml", "jvn"),
        ("jvn/get_vuln_overview_list.xml", "jvn"),
        ("jvn/get_product_list.xml", None),
        ("jvn/get_vendor_list.xml", None),
        ("purl2cpe/purl2cpe.tsv", "purl2cpe"),
        ("sbom/cyclonedx/keycloak-10.0.2/bom.json", None),
    ],
)
def test_detect_source(shared_data: Path, relative: str, expected: str | None) -> None:
    path = shared_data / relative
    parsed = parse_blob(Blob(str(path), path.read_bytes()))
    assert (parsed.source if parsed else None) == expected


def test_detect_with_forced_source_and_empty_file(shared_data: Path) -> None:
    path = shared_data / "kev" / "known_exploited_vulnerabilities.json"
    assert parse_blob(Blob(str(path), path.read_bytes()), "osv") is None  # recognisably KEV, not OSV
    with pytest.raises(InputError, match=re.escape("empty.json: file is empty")):
        parse_blob(Blob("empty.json", b"  \n"))
    with pytest.raises(InputError, match=re.escape("x.json: not valid JSON")):
        parse_blob(Blob("x.json", b'{"id": '))

"""The merge rule on real records: shared aliases join, several CVEs in one record link without fusing."""

from __future__ import annotations

import copy
from pathlib import Path

import orjson

from mamori.model import merge
from mamori.model.vulnerability import Vulnerability, vulnerability_from_dict
from mamori.store import open_store
from mamori.store.rows import cpe_rows, merged_rows, package_rows, prepare_outline
from mamori.vulndb import cve5, jvn, nvd, osv
from mamori.vulndb.importer import import_blobs
from mamori.vulndb.sources import Blob


def _combine(members: list[Vulnerability], canonical: str | None = None) -> Vulnerability:
    """The merged record as objects, as the store reads it back."""
    vid = canonical or merge.canonical_id(members)
    return vulnerability_from_dict(merge.combine_data([merge.as_data(m) for m in members], vid))


def _osv(shared_data: Path, relative: str) -> Vulnerability:
    path = shared_data / "osv" / "pypi" / relative
    return next(osv.parse_bytes(str(path), path.read_bytes()))


def _cve5(shared_data: Path, cve: str) -> Vulnerability:
    year, number = cve.split("-")[1:]
    path = shared_data / "cve5" / year / f"{number[:-3]}xxx" / f"{cve}.json"
    return cve5.parse_record(orjson.loads(path.read_bytes()), str(path))


def test_group_and_combine_keep_every_source(shared_data: Path) -> None:
    pysec = _osv(shared_data, "salt/PYSEC-2021-75.yaml")
    record = _cve5(shared_data, "CVE-2020-35662")
    other = _osv(shared_data, "pillow/PYSEC-2022-10.yaml")
    groups = merge.group([pysec, record, other])
    assert [[m.id for m in g] for g in groups] == [["CVE-2020-35662", "PYSEC-2021-75"], ["PYSEC-2022-10"]]
    merged = _combine(groups[0])
    assert merged.id == "CVE-2020-35662" == merge.canonical_id(groups[0])
    assert set(merged.aliases) == {"PYSEC-2021-75", *pysec.aliases} - {"CVE-2020-35662"}
    assert merged.summaries["en"] == record.summaries["en"]
    assert [s.source for s in merged.sources] == ["cve5", "osv"]  # CVE 5 before OSV
    assert {s.source for s in merged.severities} == {
        s.source for s in (*pysec.severities, *record.severities)
    }
    assert merged.affected_packages == pysec.affected_packages
    assert merged.affected_products == record.affected_products
    assert merged.published == min(pysec.published or "9", record.published or "9")
    assert _combine([merged], merged.id) == merged  # idempotent: what the store reads back
    assert vulnerability_from_dict(orjson.loads(orjson.dumps(merged))) == merged


def test_record_naming_several_cves_links_but_does_not_fuse(shared_data: Path) -> None:
    detail = next(jvn.parse_bytes("detail", (shared_data / "jvn" / "get_vuln_detail_info.xml").read_bytes()))
    assert detail.aliases == ["CVE-2020-5595"]
    # The overview text of this JVN entry lists CVE-2020-5595 … 5600; a full answer names them all.
    several = copy.deepcopy(detail)
    several.aliases = ["CVE-2020-5595", "CVE-2020-5596"]
    a = _cve5(shared_data, "CVE-2020-35662")
    b = copy.deepcopy(a)
    for v, cve in ((a, "CVE-2020-5595"), (b, "CVE-2020-5596")):
        v.id = cve
        v.sources[0].id = cve
    groups = merge.group([a, b, several])
    assert sorted(merge.canonical_id(g) for g in groups) == [
        "CVE-2020-5595",
        "CVE-2020-5596",
        "JVNDB-2020-006469",
    ]
    single = merge.group([a, detail])
    assert len(single) == 1 and merge.canonical_id(single[0]) == "CVE-2020-5595"


def test_store_regroups_when_a_record_changes_its_aliases(shared_data: Path, tmp_path: Path) -> None:
    detail_xml = (shared_data / "jvn" / "get_vuln_detail_info.xml").read_bytes()
    with open_store(tmp_path / "kb.db") as store:
        import_blobs(store, [Blob("detail.xml", detail_xml)], origin="t", strict=True)
        found = store.lookup("JVNDB-2020-006469")
        assert found is not None and found.vulnerability.id == "CVE-2020-5595"
        # the same JVN entry, later naming a second CVE: it becomes its own vulnerability linked to both
        second = detail_xml.replace(
            b"</Related>",
            b'<RelatedItem type="advisory"><Name>Common Vulnerabilities and Exposures (CVE)</Name>'
            b"<VulinfoID>CVE-2020-5596</VulinfoID></RelatedItem></Related>",
        )
        summary = import_blobs(store, [Blob("detail.xml", second)], origin="t", strict=True)
        assert summary.sources["jvn"].updated == 1
        found = store.lookup("JVNDB-2020-006469")
        assert found is not None and found.vulnerability.id == "JVNDB-2020-006469"
        assert found.vulnerability.aliases == ["CVE-2020-5595", "CVE-2020-5596"]
        assert store.lookup("CVE-2020-5596") is not None
        assert store.status()["vulnerabilities"] == 1


def test_merged_rows_come_from_the_members_rows(shared_data: Path) -> None:
    """The store builds a merged vulnerability's index rows from its members' own rows (made by the
    import workers) and its document from their stored data; both equal what the merged record
    itself gives, for every multi-source group of the OSV PyPI advisories, the CVE 5 records they
    name, NVD and JVN, with members given as records and as worker outlines alike."""
    records = [
        r
        for path in sorted((shared_data / "osv" / "pypi").rglob("*.yaml"))
        for r in osv.parse_bytes(str(path), path.read_bytes())
    ]
    named = sorted({a for r in records for a in r.aliases if a.startswith("CVE-")})
    for cve in named:
        try:
            records.append(_cve5(shared_data, cve))
        except FileNotFoundError:
            continue
    for path in sorted((shared_data / "nvd").glob("*.json")):
        records.extend(
            r
            for r in nvd.parse_document(orjson.loads(path.read_bytes()), str(path))
            if isinstance(r, Vulnerability)
        )
    records.extend(jvn.parse_bytes("detail", (shared_data / "jvn" / "get_vuln_detail_info.xml").read_bytes()))
    groups = [g for g in merge.group(records) if len(g) > 1]
    assert len(groups) > 300 and any({m.sources[0].source for m in g} >= {"osv", "cve5"} for g in groups)
    for i, members in enumerate(groups):
        vid = merge.canonical_id(members)
        merged = _combine(members, vid)
        given = [prepare_outline(m).vulnerability if i % 2 else m for m in members]  # outlines too
        packages, cpes = merged_rows(sorted(given, key=merge.record_order), vid)
        assert packages == package_rows(merged, vid), vid
        assert cpes == cpe_rows(merged, vid), vid
        data = [m.data() if i % 2 else merge.as_data(m) for m in given]
        assert vulnerability_from_dict(merge.combine_data(data, vid)) == merged

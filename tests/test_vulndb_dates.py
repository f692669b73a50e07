"""Placeholder dates (Go's zero time 0001-01-01, the Unix epoch) are no dates: not stored, not shown,
never chosen over a real date when records merge (published, modified, withdrawn, KEV date added)."""

from __future__ import annotations

import copy
from pathlib import Path

import orjson
import pytest

from mamori.model import merge
from mamori.model.timestamps import iso_date, iso_utc, placeholder, real_date
from mamori.model.vulnerability import Kev, Vulnerability, vulnerability_from_dict
from mamori.store import open_store
from mamori.vulndb import cve5, osv
from mamori.vulndb.importer import import_blobs
from mamori.vulndb.sources import Blob

ZERO = "0001-01-01T00:00:00Z"


def _osv_path(shared_data: Path, relative: str) -> Path:
    return shared_data / "osv" / "pypi" / relative


def _osv(shared_data: Path, relative: str) -> Vulnerability:
    path = _osv_path(shared_data, relative)
    (record,) = osv.parse_bytes(str(path), path.read_bytes())
    assert isinstance(record, Vulnerability)
    return record


def _cve5(shared_data: Path, cve: str) -> Vulnerability:
    year, number = cve.split("-")[1:]
    path = shared_data / "cve5" / year / f"{number[:-3]}xxx" / f"{cve}.json"
    return cve5.parse_record(orjson.loads(path.read_bytes()), str(path))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (ZERO, None),
        ("0001-01-01", None),
        ("0000-01-01T00:00:00Z", None),
        ("1970-01-01T00:00:00Z", None),
        ("1970-01-01", None),
        ("1969-12-31T23:59:59Z", None),
        ("1970-01-02T00:00:00Z", "1970-01-02T00:00:00Z"),
        ("1999-09-29T04:00:00Z", "1999-09-29T04:00:00Z"),
    ],
)
def test_placeholder_dates_read_as_absent(text: str, expected: str | None) -> None:
    assert iso_utc(text) == expected
    assert iso_date(text) == (expected[:10] if expected else None)
    assert placeholder(text) is (expected is None)
    assert real_date(text) is (expected is not None)


def test_real_osv_record_with_go_zero_time_has_no_modified_date(shared_data: Path, tmp_path: Path) -> None:
    # PYSEC-2024-55 (a malicious package report) says "modified: 0001-01-01T00:00:00Z"
    path = _osv_path(shared_data, "cipherbcrypt/PYSEC-2024-55.yaml")
    assert f"modified: {ZERO}" in path.read_text(encoding="utf-8")
    record = _osv(shared_data, "cipherbcrypt/PYSEC-2024-55.yaml")
    assert record.modified is None and record.sources[0].modified is None
    # the same record written by a tool serialising an unset time as zero: not withdrawn
    withdrawn = path.read_bytes().replace(
        b"modified:", f"withdrawn: {ZERO}\npublished: {ZERO}\nmodified:".encode()
    )
    (zero,) = osv.parse_bytes("PYSEC-2024-55.yaml", withdrawn)
    assert isinstance(zero, Vulnerability)
    assert (zero.published, zero.modified, zero.withdrawn) == (None, None, None)
    with open_store(tmp_path / "kb.db") as store:
        import_blobs(store, [Blob("PYSEC-2024-55.yaml", withdrawn)], origin="t", strict=True)
        found = store.lookup("PYSEC-2024-55")
        assert found is not None
        assert (found.vulnerability.published, found.vulnerability.modified) == (None, None)
        assert found.vulnerability.withdrawn is None


def test_zero_dates_never_win_when_records_merge(shared_data: Path) -> None:
    record = _cve5(shared_data, "CVE-2020-35662")
    pysec = _osv(shared_data, "salt/PYSEC-2021-75.yaml")
    assert record.published and record.modified and pysec.published and pysec.modified
    # members as a store written before placeholders were dropped holds them
    old = merge.as_data(pysec)
    old["published"] = old["modified"] = ZERO
    old["sources"][0]["published"] = old["sources"][0]["modified"] = ZERO
    old["withdrawn"] = ZERO
    merged = vulnerability_from_dict(merge.combine_data([merge.as_data(record), old], record.id))
    assert merged.published == record.published  # min() would have chosen 0001-01-01
    assert merged.modified == record.modified
    assert merged.withdrawn is None
    alone = vulnerability_from_dict(merge.combine_data([old], pysec.id))
    assert (alone.published, alone.modified, alone.withdrawn) == (None, None, None)
    # a real date still wins over another real date as before
    newer = merge.as_data(pysec)
    assert merge.combine_data([merge.as_data(record), newer], record.id)["published"] == min(
        record.published, pysec.published
    )


def test_kev_date_added_prefers_a_real_date(shared_data: Path) -> None:
    record = _cve5(shared_data, "CVE-2020-35662")
    first, second = copy.deepcopy(record), copy.deepcopy(record)
    first.kev = [Kev(cve_id=record.id, date_added=None, source="cve5")]
    second.kev = [Kev(cve_id=record.id, date_added="2021-11-03", source="cve5")]
    data = [merge.as_data(first), merge.as_data(second)]
    data[0]["kev"][0]["date_added"] = "0001-01-01"  # as stored before placeholders were dropped
    merged = merge.combine_data(data, record.id)
    assert [(k["source"], k["date_added"]) for k in merged["kev"]] == [("cve5", "2021-11-03")]
    only = merge.combine_data(data[:1], record.id)
    assert [(k["source"], k["date_added"]) for k in only["kev"]] == [("cve5", None)]

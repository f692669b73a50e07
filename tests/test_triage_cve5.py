"""Proof on real data: SSVC for every CVE 5 record with CISA ADP points, and KEV flags against the catalog.

- Every record of ../shared/data/cve5 that carries CISA ADP SSVC points is decided with the deployer tree
  (user organisation, low skill) and the stated default context below; none may fail, every decision
  must use CISA's own exploitation and automatable values (or KEV), and the distribution is printed.
- KEV: the KEV catalog and every CVE 5 record go into a temporary SQLite store; for every catalog CVE
  that the store also holds as a record, triage's KEV flag and exploitation=active come from the catalog
  with its date; no record outside the catalog gets the catalog's flag.
"""

from __future__ import annotations

import collections
import time
from pathlib import Path

import orjson
import pytest

from mamori.scan.result import ComponentRef
from mamori.store import open_store
from mamori.triage.context import parse_context
from mamori.triage.engine import Subject, distribution, triage
from mamori.triage.facts import from_vulnerability
from mamori.triage.inputs import gather
from mamori.triage.variants import variant
from mamori.vulndb import import_path
from mamori.vulndb.cve5 import parse_record

# The stated default context of this proof: an internal business system behind access controls whose
# compromise stops supporting functions but endangers nobody.
DEFAULT_CONTEXT = {
    "default": {
        "system_exposure": "controlled",
        "mission_impact": "mef_support_crippled",
        "safety_impact": "negligible",
    }
}


@pytest.fixture(scope="module")
def cve5_records(shared_data: Path) -> list:
    start = time.perf_counter()
    records = [
        parse_record(orjson.loads(p.read_bytes()), str(p))
        for p in sorted((shared_data / "cve5").rglob("*.json"))
    ]
    print(f"\nparsed {len(records)} CVE 5 records in {time.perf_counter() - start:.2f} s")
    return records


def test_deployer_outcome_for_every_record_with_cisa_adp_points(cve5_records: list) -> None:
    with_adp = [r for r in cve5_records if r.ssvc]
    assert len(with_adp) > 8000
    subjects = [Subject(from_vulnerability(r), ComponentRef(name="product"), "any") for r in with_adp]
    context = parse_context(DEFAULT_CONTEXT, "default-context.yaml")
    start = time.perf_counter()
    decided = triage(subjects, variant("user", "low"), context)
    seconds = time.perf_counter() - start
    assert len(decided) == len(with_adp)
    counts = distribution(decided)
    bases = collections.Counter((i.point, i.source) for t in decided for i in t.assessment.inputs.values())
    print(f"deployer outcomes for {len(decided)} records ({seconds:.2f} s): {counts}")
    print(f"inputs by source: {dict(bases)}")
    assert sum(counts.values()) == len(with_adp)
    assert set(counts) <= {"defer", "scheduled", "out_of_cycle", "immediate"}
    for t in decided:
        inputs = t.assessment.inputs
        assert not t.assessment.assumed, t.subject.facts.vuln_id  # the context answers the rest
        adp = t.subject.facts.adp
        assert adp is not None
        assert inputs["automatable"].value == adp.automatable and inputs["automatable"].source == "cve5-adp"
        expected = {"none": "none", "poc": "public_poc", "active": "active"}[adp.exploitation]
        got = inputs["exploitation"]
        if got.source == "cve5-adp":
            assert got.value == expected
        else:  # KEV or an exploit-tagged reference may only raise what CISA said
            order = ["none", "public_poc", "active"]
            assert order.index(got.value) > order.index(expected) or got.value == expected
            assert got.source in ("kev", "reference")
    # with this context the tree only reaches out_of_cycle through active exploitation
    for t in decided:
        if t.outcome.id == "out_of_cycle":
            assert t.assessment.inputs["exploitation"].value == "active"


def test_kev_flags_agree_with_the_catalog_for_every_stored_cve(shared_data: Path, tmp_path: Path) -> None:
    catalog = orjson.loads((shared_data / "kev" / "known_exploited_vulnerabilities.json").read_bytes())
    listed = {item["cveID"]: item for item in catalog["vulnerabilities"]}
    start = time.perf_counter()
    with open_store(tmp_path / "kb.db") as store:
        import_path(store, shared_data / "kev")
        import_path(store, shared_data / "cve5")
        imported = time.perf_counter() - start
        checked = 0
        for cve, item in sorted(listed.items()):
            found = store.lookup(cve)
            if found is None or "cve5" not in found.vulnerability.source_names:
                continue  # in the catalog only, not in the store's records
            facts = from_vulnerability(found.vulnerability, kev_checked=True)
            assert facts.kev is not None and facts.kev.source == "kev", cve
            assert facts.kev.date_added == item["dateAdded"], cve
            exploitation = gather(facts)["exploitation"]
            assert (exploitation.value, exploitation.source) == ("active", "kev"), cve
            checked += 1
        outside = 0
        for path in sorted((shared_data / "cve5").rglob("*.json"))[::40]:
            cve = path.stem
            if cve in listed:
                continue
            found = store.lookup(cve)
            assert found is not None
            facts = from_vulnerability(found.vulnerability, kev_checked=True)
            assert facts.kev is None or facts.kev.source != "kev", cve
            outside += 1
    print(
        f"\nKEV: {len(listed)} catalog entries, {checked} also stored as CVE 5 records, all flagged; "
        f"{outside} sampled records outside the catalog unflagged (import {imported:.1f} s)"
    )
    assert checked > 50

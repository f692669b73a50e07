"""Each CSAF provider a source of its own (``csaf:<publisher namespace>``) and pulled advisories applied to
the inventory.

* Migration 0018_K: a store at 0017_C holding an advisory pulled before (records, affected rows and state
  under source ``csaf``, its CVE merged with an NVD record) moves to ``csaf:https://www.bsi.bund.de`` on
  SQLite and PostgreSQL; the moved records are exactly what a pull now writes (the same advisory again is
  unchanged) and ``db status`` lists the provider, not ``csaf``.
* ``mamori csaf pull`` applies each new advisory to the inventory (BSI-2022-0001's CPE helper names the
  converter a release's SBOM lists), reports what it did, and ``--no-apply`` leaves the inventory alone.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from mamori.store.throwaway import throwaway_postgres
from test_csaf_subscribe import EXAMPLES, WHITE, _publish, keys, mamori, serving  # noqa: F401

PG_URL = os.environ.get("MAMORI_TEST_PG_URL")
BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="MAMORI_TEST_PG_URL not set")),
]
BSI = "bsi-2022-0001.json"
BSI_SOURCE = "csaf:https://www.bsi.bund.de"
REDHAT = "csaf:https://www.redhat.com"


@pytest.fixture(autouse=True)
def _shared() -> None:
    if not EXAMPLES.is_dir():
        pytest.skip("../shared/data/csaf is absent")


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "old.db")
        return
    assert PG_URL
    with throwaway_postgres(PG_URL) as found:
        yield found


def _as_before(record: Any) -> Any:
    """A record as pulls before 0018_K stored it: every source name ``csaf``."""
    return replace(
        record,
        sources=[replace(s, source="csaf") for s in record.sources],
        severities=[replace(s, source="csaf") for s in record.severities],
        references=[replace(r, source="csaf") for r in record.references],
        affected_products=[replace(p, source="csaf") for p in record.affected_products],
        affected_packages=[replace(p, source="csaf") for p in record.affected_packages],
    )


def _old_store(url: str, data: dict[str, Any]) -> str:
    """A store at 0017_C_csaf_subscription holding ``data`` pulled as before; returns one of its CVEs."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from mamori.advisory.csaf_kb import records
    from mamori.model.vulnerability import SourceRef, Vulnerability
    from mamori.store.engine import alembic_config, resolve_url
    from mamori.store.writer import Writer

    engine = create_engine(resolve_url(url))
    old = [_as_before(r) for r in records(data)]
    cve = old[0].id
    try:
        with engine.begin() as conn:
            config = alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, "0017_C_csaf_subscription")
            writer = Writer(conn)
            writer.note_changed = lambda identifiers: None  # type: ignore[method-assign]  # no such table yet
            nvd = Vulnerability(id=cve, sources=[SourceRef("nvd", cve)], modified="2022-01-01T00:00:00Z")
            writer.put_vulnerabilities([*old, nvd])
            writer.touch("csaf", "https://psirt.example/provider-metadata.json")
            conn.execute(
                text(
                    "INSERT INTO csaf_subscription (id, metadata_url, given, found_by, publisher, namespace, "
                    "created_at, last_pull, counts, deviations, watermarks) VALUES (1, :url, :url, 'url', "
                    "'Bundesamt fuer Sicherheit in der Informationstechnik', 'https://www.bsi.bund.de', '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z', "
                    "'{}', '[]', '{}')"
                ),
                {"url": "https://psirt.example/provider-metadata.json"},
            )
    finally:
        engine.dispose()
    return cve


def test_migration_moves_pulled_records_to_the_providers_source(url: str) -> None:
    from sqlalchemy import text

    from mamori.advisory.csaf_kb import records
    from mamori.store import open_store

    data = json.loads((EXAMPLES / BSI).read_text(encoding="utf-8"))
    cve = _old_store(url, data)
    with open_store(url) as store:
        with store.engine.connect() as conn:
            # BSI-2022-0001 gives CPEs, no purls; the NVD record no products
            wanted = {
                "source_record": {BSI_SOURCE, "nvd"},
                "affected_package": set(),
                "affected_cpe": {BSI_SOURCE},
            }
            for table, names in wanted.items():
                found = {row[0] for row in conn.execute(text(f"SELECT DISTINCT source FROM {table}"))}
                assert found == names, table
            merged = conn.execute(
                text("SELECT sources FROM vulnerability WHERE id = :id"), {"id": cve}
            ).scalar()
        assert merged == f"{BSI_SOURCE},nvd"
        status = store.status()["sources"]
        assert "csaf" not in status and status[BSI_SOURCE]["records"] == len(records(data)) == 1
        assert status[BSI_SOURCE]["origin"] == "https://psirt.example/provider-metadata.json"
        found = store.lookup(cve)
        assert found is not None and found.vulnerability.source_names == [BSI_SOURCE, "nvd"]
        assert {p.source for p in found.vulnerability.affected_products} == {BSI_SOURCE}
        with store.writer() as writer:  # what a pull writes now is what the migration made
            counts = writer.put_vulnerabilities(records(data))
        assert (counts.new, counts.updated, counts.unchanged) == (0, 0, len(records(data)))


def _gateway(folder: Path) -> Path:
    """Hand-made (no real SBOM lists it): a release listing the CVRF-CSAF converter with its CPE, the
    product BSI-2022-0001 names with a CPE helper."""
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.4",
        "version": 1,
        "metadata": {"component": {"type": "application", "name": "csaf-gateway", "version": "1.0"}},
        "components": [
            {
                "type": "library",
                "name": "cvrf2csaf",
                "version": "1.0.0-rc1",
                "purl": "pkg:pypi/cvrf2csaf@1.0.0rc1",
                "cpe": "cpe:2.3:a:csaf-tools:cvrf-csaf-converter:1.0.0-rc1:*:*:*:*:*:*:*",
            }
        ],
    }
    path = folder / "gateway.cdx.json"
    path.write_text(json.dumps(bom), encoding="utf-8")
    return path


def _inventory(db: str, folder: Path) -> None:
    from mamori.portfolio.archive import add_product, store_sbom
    from mamori.store import open_store

    with open_store(db) as store:
        add_product(store, "csaf-gateway", "Example Company", who="test")
        store_sbom(store, "csaf-gateway", "1.0", _gateway(folder), who="test")


def _records(db: str) -> dict[tuple[str, str, str, str], Any]:
    from mamori.store import open_store
    from mamori.triage.records import records_of_releases

    with open_store(db) as store:
        return {r.subject: r for r in records_of_releases(store)}


def test_pull_applies_new_advisories_to_the_inventory(tmp_path: Path, keys: dict[str, Path]) -> None:  # noqa: F811
    root = tmp_path / "www"
    root.mkdir()
    with serving(root) as base:
        provider = root / ".well-known" / "csaf"
        _publish([EXAMPLES / n for n in WHITE], provider, keys["psirt"], f"{base}/.well-known/csaf")
        host = base.removeprefix("http://")
        applied, skipped = str(tmp_path / "applied.db"), str(tmp_path / "skipped.db")
        for db in (applied, skipped):
            _inventory(db, tmp_path)
            done = mamori("csaf", "subscribe", host, "--key", f"{keys['psirt']}.pub.asc", "--db", db)
            assert done.returncode == 0, done.stderr

        done = mamori("csaf", "pull", "--db", skipped, "--no-apply")
        assert done.returncode == 0, done.stderr
        assert "4 new" in done.stdout and "not applied to the inventory (--no-apply)" in done.stdout
        assert _records(skipped) == {}

        done = mamori("csaf", "pull", "--db", applied, "--format", "json")
        assert done.returncode == 0, done.stderr
        (report,) = json.loads(done.stdout)
        summary = report["apply"]
        assert summary["advisories"] == 4 and summary["not_applied"] == 0, summary
        (bsi,) = [a for a in summary["applied"] if a["advisory"] == "BSI-2022-0001"]
        assert bsi["matched"] == {"cpe": {"releases": 1, "components": 1}} and bsi["created"] == 1
        assert summary["records"] == summary["created"] == 1  # the other advisories name nothing we ship
        records = _records(applied)
        key = ("csaf-gateway", "1.0", "pkg:pypi/cvrf2csaf@1.0.0rc1", "CVE-2022-27193")
        assert list(records) == [key]
        assert records[key].status == "affected" and records[key].origin == "vex"
        assert records[key].source is not None and records[key].source.startswith("CSAF BSI-2022-0001")

        # the same provider again: nothing new, nothing applied again
        done = mamori("csaf", "pull", "--db", applied)
        assert done.returncode == 0, done.stderr
        assert "applied to the inventory: 0 advisories, 0 triage records" in done.stdout
        done = mamori("db", "status", "--db", applied, "--format", "json")
        sources = json.loads(done.stdout)["sources"]
        assert {"csaf:https://www.bsi.bund.de", REDHAT} <= set(sources) and "csaf" not in sources


# ---------------------------------------------------------------- mandatory test 6.1.8 without jsonschema


def _broken_scores(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Copies of ``doc`` with its first CVSS score broken in each way 6.1.8 finds."""
    import copy

    out = []
    for key, value in (
        ("baseScore", 11.0),  # above the maximum
        ("baseScore", "9.8"),  # a string, not a number
        ("vectorString", "CVSS:3.1/AV:Q/AC:L"),  # outside the pattern
        ("vectorString", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\n"),  # Python's $ allows the newline
        ("attackVector", "NOWHERE"),  # outside the enum
        ("baseSeverity", None),  # a required member missing
    ):
        broken = copy.deepcopy(doc)
        for vuln in broken["vulnerabilities"]:
            for score in vuln.get("scores", []):
                cvss = score.get("cvss_v3") or score.get("cvss_v2")
                if cvss is not None:
                    if value is None:
                        cvss.pop(key, None)
                    else:
                        cvss[key] = value
                    break
            else:
                continue
            break
        out.append(broken)
    return out


def test_cvss_check_gives_jsonschemas_verdict_without_importing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """6.1.8 on jsonschema-rs says what it says on jsonschema (same problems, same messages) on CISA's real
    advisories and on each kind of broken score; a valid advisory is judged without importing jsonschema."""
    import subprocess
    import sys

    from conftest import SHARED_DATA
    from mamori.vex import csaf_checks

    folder = SHARED_DATA / "csaf" / "cisa" / "OT" / "white" / "2024"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    assert csaf_checks._fast_cvss_validators(), "jsonschema-rs and csaf-lib are dependencies"
    paths = sorted(folder.glob("*.json"))[:40]
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    docs += [b for d in docs[:3] for b in _broken_scores(d)]
    fast = [[str(p) for p in csaf_checks.t_6_1_8(d)] for d in docs]
    monkeypatch.setattr(csaf_checks, "_fast_cvss_validators", dict)
    slow = [[str(p) for p in csaf_checks.t_6_1_8(d)] for d in docs]
    assert fast == slow
    assert sum(bool(f) for f in fast) == 15, fast[40:]  # 5 of the 6 breaks (the newline passes), 3 times
    assert not any(fast[:40])

    code = (
        "import json, sys\n"
        "from mamori.advisory.pull import csaf_errors\n"
        f"assert csaf_errors(json.loads(open({str(paths[0])!r}, encoding='utf-8').read())) == []\n"
        "print('jsonschema' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "False"


def _metadata() -> dict[str, Any]:
    return {
        "canonical_url": "https://psirt.example.com/.well-known/csaf/provider-metadata.json",
        "distributions": [
            {"directory_url": "https://psirt.example.com/.well-known/csaf/white/"},
            {
                "rolie": {
                    "feeds": [
                        {
                            "summary": "TLP:WHITE",
                            "tlp_label": "WHITE",
                            "url": "https://psirt.example.com/.well-known/csaf/feed-tlp-white.json",
                        }
                    ]
                }
            },
        ],
        "last_updated": "2026-12-07T00:00:00.000Z",
        "list_on_CSAF_aggregators": True,
        "metadata_version": "2.0",
        "mirror_on_CSAF_aggregators": True,
        "publisher": {
            "category": "vendor",
            "name": "Example PSIRT",
            "namespace": "https://psirt.example.com",
        },
        "role": "csaf_trusted_provider",
        "public_openpgp_keys": [{"fingerprint": "A" * 40, "url": "https://psirt.example.com/key.asc"}],
    }


def test_provider_metadata_check_gives_jsonschemas_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    """Valid metadata is judged on jsonschema-rs alone; each kind of break (formats, a required member, an
    enum, a pattern, the CSAF schema's publisher it refers to) is found by both, with jsonschema's messages."""
    from mamori.advisory import publish

    breaks: list[tuple[str, Any]] = [
        ("canonical_url", "not a uri"),
        ("last_updated", "2026-13-40T99:00:00Z"),
        ("role", "csaf_somebody"),
        ("metadata_version", None),
        ("publisher", {"category": "grocer", "name": "X", "namespace": "https://x.example"}),
        ("public_openpgp_keys", [{"fingerprint": "not hex", "url": "https://psirt.example.com/key.asc"}]),
    ]
    docs = [_metadata()]
    for key, value in breaks:
        doc = _metadata()
        if value is None:
            doc.pop(key)
        else:
            doc[key] = value
        docs.append(doc)
    assert publish._fast_provider_validator() is not None
    fast = [publish.metadata_problems(d) for d in docs]
    monkeypatch.setattr(publish, "_fast_provider_validator", lambda: None)
    slow = [publish.metadata_problems(d) for d in docs]
    assert fast == slow
    assert fast[0] == [] and all(fast[1:]), fast

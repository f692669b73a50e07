"""Triage records with append-only history on SQLite (and PostgreSQL when MAMORI_TEST_PG_URL is set),
the VEX rules on records, export as VEX, and the migration chain."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select

from mamori import vex
from mamori.errors import InputError
from mamori.store import open_store, schema
from mamori.store.engine import alembic_config, head_revision
from mamori.store.throwaway import throwaway_postgres
from mamori.triage import records
from mamori.triage.records import TriageHistoryRow, history, list_records, set_record, to_vex, validated

PG_URL = os.environ.get("MAMORI_TEST_PG_URL")
BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="MAMORI_TEST_PG_URL not set")),
]
LOG4J = "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
LODASH = "pkg:npm/lodash@4.17.15"


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh store per test: a SQLite file, or a throw-away PostgreSQL database (dropped afterwards)."""
    if request.param == "sqlite":
        yield str(tmp_path / "kb.db")
        return
    assert PG_URL is not None
    with throwaway_postgres(PG_URL) as url:
        yield url


# SQLite's expression index of purl2cpe names cannot be reflected; tests/test_store_new_schema.py compares its statement
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_one_migration_head_and_tables_match_the_models(db_url: str) -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert heads == [head_revision()] and len(heads) == 1
    with open_store(db_url) as store, store.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head_revision()
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), schema.Base.metadata
        )
        mine = [d for d in diff if "triage" in repr(d)]
        assert mine == []


def test_records_keep_every_version(db_url: str) -> None:
    with open_store(db_url) as store:
        first = validated(
            "shop-portal",
            "2.1.0",
            LOG4J,
            "CVE-2021-44228",
            "under_investigation",
            who="alice",
            at="2026-01-05T09:00:00Z",
        )
        stored, change = set_record(store, first)
        assert (change, stored.version) == ("created", 1)
        assert set_record(store, first)[1] == "unchanged"
        second = validated(
            "shop-portal",
            "2.1.0",
            LOG4J,
            "CVE-2021-44228",
            "not_affected",
            justification="code_not_reachable",
            detail="JNDI lookups are disabled by the launcher",
            who="bob",
            at="2026-01-06T10:00:00Z",
        )
        stored, change = set_record(store, second)
        assert (change, stored.version) == ("updated", 2)
        assert stored.justification == "vulnerable_code_not_in_execute_path"  # CycloneDX label → CISA
        third = validated(
            "shop-portal",
            "2.1.0",
            LOG4J,
            "CVE-2021-44228",
            "fixed",
            detail="2.17.1 shipped",
            who="carol",
            at="2026-01-20T08:00:00Z",
        )
        set_record(store, third)
        set_record(
            store,
            validated(
                "shop-portal", "2.1.0", LODASH, "CVE-2020-8203", "affected", responses=["update"], who="dave"
            ),
        )
        set_record(store, validated("shop-portal", "2.2.0", LODASH, "CVE-2020-8203", "fixed", who="dave"))
        steps = history(store, "shop-portal", "2.1.0", LOG4J, "CVE-2021-44228")
        assert [(h.version, h.change, h.status, h.who) for h in steps] == [
            (1, "created", "under_investigation", "alice"),
            (2, "updated", "not_affected", "bob"),
            (3, "updated", "fixed", "carol"),
        ]
        assert steps[1].detail == "JNDI lookups are disabled by the launcher"
        current = list_records(store, "shop-portal", "2.1.0")
        assert [(r.vulnerability, r.status, r.version) for r in current] == [
            ("CVE-2020-8203", "affected", 1),
            ("CVE-2021-44228", "fixed", 3),
        ]
        assert len(list_records(store, "shop-portal")) == 3
        with store.engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(TriageHistoryRow.__table__)) == 5
        assert history(store, "shop-portal", "9.9", LOG4J, "CVE-2021-44228") == []


def test_records_follow_the_vex_rules() -> None:
    cases = [
        (("affected",), {}, "needs an action statement"),
        (("not_affected",), {}, "needs a justification"),
        (("exploitable",), {}, "expected one of"),
        (("affected",), {"justification": "code_not_present"}, "only goes with status not_affected"),
        (("not_affected",), {"justification": "it is fine"}, "justification 'it is fine'"),
        (("affected",), {"responses": ["pray"]}, "response 'pray'"),
    ]
    for (status,), extra, problem in cases:
        with pytest.raises(InputError, match=problem):
            validated("p", "1", LODASH, "CVE-2020-8203", status, who="x", **extra)
    with pytest.raises(InputError, match="not a package URL"):
        validated("p", "1", "lodash 4.17.15", "CVE-2020-8203", "fixed", who="x")
    with pytest.raises(InputError, match="--product is required"):
        validated(" ", "1", LODASH, "CVE-2020-8203", "fixed", who="x")
    assert validated("p", "1", LODASH, "CVE-2020-8203", "affected", detail="upgrade in 1.1", who="x").detail


def test_export_round_trips_through_every_vex_format(tmp_path: Path) -> None:
    recs = [
        validated(
            "shop-portal",
            "2.1.0",
            LOG4J,
            "CVE-2021-44228",
            "not_affected",
            justification="vulnerable_code_not_in_execute_path",
            detail="JNDI disabled",
            who="bob",
            at="2026-01-06T10:00:00Z",
        ),
        validated(
            "shop-portal",
            "2.1.0",
            LODASH,
            "CVE-2020-8203",
            "affected",
            responses=["update"],
            detail="Upgrade lodash to 4.17.21",
            who="dave",
            at="2026-01-07T10:00:00Z",
        ),
        validated(
            "shop-portal",
            "2.1.0",
            LODASH,
            "CVE-2021-23337",
            "under_investigation",
            who="dave",
            at="2026-01-07T11:00:00Z",
        ),
    ]
    doc = to_vex(recs, author="Example PSIRT")
    for fmt in vex.FORMATS:
        path = tmp_path / f"out.{fmt}.json"
        vex.write(doc, path, fmt, vex.WriteOptions(namespace="https://psirt.example.com"))
        back = vex.read(path)
        got = {
            (
                s.vulnerability.id,
                s.status,
                s.justification,
                tuple(q.purl for p in s.products for q in p.subcomponents),
            )
            for s in back.statements
        }
        assert got == {
            ("CVE-2021-44228", "not_affected", "vulnerable_code_not_in_execute_path", (LOG4J,)),
            ("CVE-2020-8203", "affected", None, (LODASH,)),
            ("CVE-2021-23337", "under_investigation", None, (LODASH,)),
        }, fmt
        for s in back.statements:
            assert all(p.version == "2.1.0" for p in s.products), fmt
            if s.status == "affected":
                assert s.action_statement == "Upgrade lodash to 4.17.21", fmt
            if s.status == "not_affected":
                assert s.impact_statement == "JNDI disabled", fmt
    assert records.statement(recs[0]).products[0].name == "shop-portal"


def test_records_made_before_origins_become_the_users_own_and_a_vex_record_sits_beside(db_url: str) -> None:
    """A store at revision coverage1 (records without origin) upgraded to head keeps its records as the
    user's own; then a VEX record of the same subject is stored beside it, and an older VEX statement does
    not replace a newer one."""
    from alembic import command
    from sqlalchemy import create_engine, text

    with open_store(db_url):
        pass
    config = alembic_config()
    engine = create_engine(db_url if "://" in db_url else f"sqlite:///{db_url}")
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "coverage1")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO triage_record (product, release, component_purl, vuln_id, status, who, at, version)"
                " VALUES ('shop-portal', '2.1.0', :purl, 'CVE-2021-44228', 'under_investigation', 'alice',"
                " '2026-01-01T00:00:00Z', 1)"
            ),
            {"purl": LOG4J},
        )
    engine.dispose()
    with open_store(db_url) as store:
        (old,) = list_records(store, "shop-portal", "2.1.0")
        assert (old.origin, old.status, old.who) == ("user", "under_investigation", "alice")
        vex_record = validated(
            "shop-portal", "2.1.0", LOG4J, "CVE-2021-44228", "not_affected",
            justification="component_not_present", who="Apache", at="2026-02-01T00:00:00Z",
            origin=records.VEX, source="a.cdx.json",
        )  # fmt: skip
        assert set_record(store, vex_record)[1] == "created"
        older = validated(
            "shop-portal", "2.1.0", LOG4J, "CVE-2021-44228", "affected", detail="update",
            who="Apache", at="2026-01-15T00:00:00Z", origin=records.VEX, source="b.cdx.json",
        )  # fmt: skip
        assert set_record(store, older)[1] == "older"
        both = list_records(store, "shop-portal", "2.1.0")
        assert [(r.origin, r.status) for r in both] == [
            ("user", "under_investigation"),
            ("vex", "not_affected"),
        ]
        assert [
            (h.origin, h.version, h.source)
            for h in history(store, "shop-portal", "2.1.0", LOG4J, "CVE-2021-44228")
        ] == [
            ("vex", 1, "a.cdx.json")
        ]  # the record made before origins has no history row; the VEX one has its document

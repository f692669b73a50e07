"""Bundles received by the team server as background jobs (mamori.bundle.jobs): the embedded default (this
process) and real ``mamori worker`` processes over the real RabbitMQ (skipped when it does not answer).

A signed bundle of the demo SBOM is imported once however often it is sent; a tampered one ends ``failed``
naming the part and stores nothing (and may be sent again once corrected); a job taken up again after its
worker died past the import's commit does not import twice.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bundle_support import tampered_bundle
from jobs_support import BROKER, Workers, needs_broker, prefix, wait_for, workers
from mamori import accounts
from mamori.bundle.jobs import bundle_job, process_bundle_job, submit_bundle_job
from mamori.bundle.tables import BundleImportRow, BundleJobRow
from mamori.store import Store, open_store
from portfolio_support import knowledge_template

__all__ = ["knowledge_template", "prefix", "workers"]  # fixtures used below


def _bundle(folder: Path) -> tuple[bytes, bytes]:
    """A release bundle of the demo SBOM signed by a new ed25519 key; (bundle, public key PEM)."""
    from mamori.bundle import create_bundle
    from mamori.bundle.signing import generate, load_signer
    from mamori.demo import DEMO_SBOM, demo_data
    from mamori.portfolio.archive import add_product, store_sbom

    private, public = generate("ed25519")
    (folder / "supplier.key").write_bytes(private)
    with open_store(folder / "supplier.db") as s:
        add_product(s, "shop", "Example Corp")
        store_sbom(s, "shop", "2.1.0", demo_data() / DEMO_SBOM)
        made = create_bundle(s, "shop", "2.1.0", load_signer(folder / "supplier.key"))
    return made.data, public


def _imports(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(BundleImportRow)) or 0)


@pytest.fixture
def team_store(tmp_path: Path) -> Store:
    store = open_store(tmp_path / "customer.db")
    accounts.create_team(store, "buyers")
    return store


def test_one_import_however_often_sent_and_a_tampered_one_is_refused(
    team_store: Store, tmp_path: Path
) -> None:
    data, public = _bundle(tmp_path)
    team = accounts.get_team(team_store, "buyers").id
    with team_store as store:
        bad, part = tampered_bundle(data)
        refused, new = submit_bundle_job(store, bad, team_id=team, who="sm", key_pem=public)
        assert new and bundle_job(store, refused).state == "queued"
        ended = process_bundle_job(store, refused)
        assert ended is not None and ended.state == "failed"
        assert ended.error == f"bundle.zip: {part}: its SHA-256 differs from the signed statement"
        assert ended.report["verification"]["failures"] == [
            {"member": part, "problem": "its SHA-256 differs from the signed statement"}
        ]
        assert _imports(store) == 0
        again, new = submit_bundle_job(store, bad, team_id=team, who="sm", key_pem=public)
        assert new and again != refused  # a failed job gives up its dedup key: the bundle may be sent again

        job_id, new = submit_bundle_job(store, data, team_id=team, who="sm", key_pem=public)
        assert new
        assert submit_bundle_job(store, data, team_id=team, who="sm", key_pem=public) == (job_id, False)
        done = process_bundle_job(store, job_id)
        assert done is not None and done.state == "done" and done.error is None
        assert (done.report["product"], done.report["release"]) == ("shop", "2.1.0")
        assert done.report["contract"] == {
            "supplier": "Example Corp",
            "terms": False,
            "counts": None,
            "results": [],
        }
        assert process_bundle_job(store, job_id).state == "done"  # a second delivery does nothing
        assert submit_bundle_job(store, data, team_id=team, who="sm", key_pem=public) == (job_id, False)
        assert _imports(store) == 1
        assert accounts.team_products(store, [team])[team]  # the new product became the team's
        with store.engine.connect() as conn:
            assert conn.scalar(select(BundleJobRow.content).where(BundleJobRow.id == job_id)) is None
        # the worker died after the import's commit: taken up again, it finds the import made
        with store.engine.connect().execution_options(write=True) as conn, conn.begin():
            conn.execute(
                BundleJobRow.__table__.update()
                .where(BundleJobRow.id == job_id)
                .values(state="running", content=__import__("zlib").compress(data))
            )
        taken = process_bundle_job(store, job_id, redelivered=True)
        assert taken is not None and taken.state == "done" and taken.import_id == done.import_id
        assert _imports(store) == 1


def test_the_team_terms_are_checked_with_the_import(team_store: Store, tmp_path: Path) -> None:
    from mamori.contract.store import set_team_terms
    from mamori.contract.terms import ItemTerm, Terms

    data, public = _bundle(tmp_path)
    team = accounts.get_team(team_store, "buyers").id
    with team_store as store:
        terms = Terms("Example Corp", {"TX-11": ItemTerm(True, {"vex": True})})
        set_team_terms(store, team, terms, "procurement")
        job_id, _new = submit_bundle_job(store, data, team_id=team, who="sm", key_pem=public)
        done = process_bundle_job(store, job_id)
        assert done is not None and done.state == "done"
        contract = done.report["contract"]
        assert contract["terms"] is True
        assert [(r["item"], r["term"], r["status"]) for r in contract["results"] if r["status"] == "gap"] == [
            ("TX-11", "vex", "gap")
        ]


def test_the_embedded_dispatcher_runs_a_bundle_job(team_store: Store, tmp_path: Path) -> None:
    from mamori.jobs.dispatch import run_inline

    data, public = _bundle(tmp_path)
    team = accounts.get_team(team_store, "buyers").id
    with team_store as store:
        job_id, _new = submit_bundle_job(store, data, team_id=team, who="sm", key_pem=public)
        result = run_inline(store, "bundle", {"bundle_job": job_id})
        assert result["state"] == "done" and bundle_job(store, job_id).import_id == result["import_id"]


@needs_broker
def test_a_worker_over_rabbitmq_imports_a_bundle_once_and_refuses_a_tampered_one(
    knowledge_template: Path, tmp_path: Path, prefix: str, workers: object
) -> None:
    from mamori.jobs import records
    from mamori.jobs.dispatch import Dispatcher
    from mamori.jobs.settings import Queues

    db = tmp_path / "kb.db"
    shutil.copy(knowledge_template, db)
    data, public = _bundle(tmp_path)
    bad, part = tampered_bundle(data)
    with open_store(db) as store:
        accounts.create_team(store, "buyers")
        team = accounts.get_team(store, "buyers").id
        good, _new = submit_bundle_job(store, data, team_id=team, who="sm", key_pem=public)
        refused, _new = submit_bundle_job(store, bad, team_id=team, who="sm", key_pem=public)
        dispatcher = Dispatcher(store, BROKER, queues=Queues(prefix))
        sent = [dispatcher.submit("bundle", bundle_job=j) for j in (good, refused, good)]  # one sent twice
        w: Workers = workers(str(db))  # type: ignore[operator]
        w.start()
        done = wait_for(
            lambda: (j := bundle_job(store, good)) and j.state == "done" and j, "the bundle imported", w.logs
        )
        assert (done.report["product"], done.report["release"]) == ("shop", "2.1.0")
        failed = wait_for(
            lambda: (j := bundle_job(store, refused)) and j.state == "failed" and j, "the refusal", w.logs
        )
        assert failed.error == f"bundle.zip: {part}: its SHA-256 differs from the signed statement"
        for job_id in sent:
            wait_for(
                lambda j=job_id: (r := records.get(store, j)) and r.state == records.DONE, "jobs done", w.logs
            )
        assert _imports(store) == 1
        dispatcher.shutdown()

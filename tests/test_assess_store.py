"""Assessments in the store: migration, answers with validation and history, transactions."""

from __future__ import annotations

import hashlib
import os

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from assess_helpers import DEMO_SBOM, book_at
from mamori.compliance import catalog as cat
from mamori.compliance.artifacts import FileArtifacts
from mamori.compliance.assessment import applicable_items, parse_roles
from mamori.compliance.evidence import file_evidence, parse_evidence
from mamori.compliance.proposals import propose
from mamori.compliance.repository import Assessments
from mamori.errors import InputError
from mamori.store import open_store
from mamori.store.engine import alembic_config
from mamori.store.throwaway import throwaway_postgres


def test_one_migration_head_and_tables_created(tmp_path):
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1
    store, _ = book_at(tmp_path / "m.db")
    with store:
        names = set(inspect(store.engine).get_table_names())
    assert {
        "assessment",
        "assessment_answer",
        "assessment_evidence",
        "assessment_proposal",
        "assessment_history",
    } <= names
    assert "vulnerability" in names  # the knowledge base's own tables are still there


def test_roles_filter_the_items():
    guideline = cat.load("guideline")
    dev_sup = applicable_items(guideline, parse_roles("developer,supplier"))
    customer = applicable_items(guideline, parse_roles("customer"))
    ids = {i.id for i in dev_sup}
    assert "S(2)-2.3" in ids and "S(6)-2.1" not in ids and "S(1)-4.1" not in ids  # S(1)-4.1 is the operator's
    assert {i.id for i in customer} == {
        f"S(6)-{n}" for n in ("1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4")
    }
    assert len(applicable_items(guideline, parse_roles("developer,supplier,operator,customer"))) == 69
    with pytest.raises(InputError, match="--roles"):
        parse_roles("developer,auditor")


def test_answer_validation_history_and_evidence(tmp_path):
    store, book = book_at(tmp_path / "m.db")
    with store:
        a = book.create("ssdf", "Example Corp", ("developer",), "tool 1.0")
        assert len(a.items()) == 42
        evidence_file = tmp_path / "policy.pdf"
        evidence_file.write_bytes(b"%PDF-1.4 policy")
        changes = book.answer(
            a,
            "PW.4.1",
            level=2,
            owner="Sato",
            due="2026-03-31",
            evidence=[file_evidence(evidence_file)],
            actor="tester",
        )
        assert {c.field for c in changes} == {"level", "status", "owner", "due", "evidence"}
        a = book.get(a.id)
        answer = a.answer("PW.4.1")
        assert (answer.status, answer.level, answer.owner, answer.due) == (
            "implemented",
            2,
            "Sato",
            "2026-03-31",
        )
        assert answer.evidence[0].sha256 == hashlib.sha256(b"%PDF-1.4 policy").hexdigest()
        assert answer.evidence[0].size == len(b"%PDF-1.4 policy") and answer.evidence[0].file_time
        # the same evidence again is not duplicated; the history names who changed what
        book.answer(a, "PW.4.1", evidence=[file_evidence(evidence_file)])
        assert len(book.get(a.id).answer("PW.4.1").evidence) == 1
        history = book.history(a.id)
        assert sorted(h["field"] for h in history if h["item"] == "PW.4.1") == [
            "due",
            "evidence",
            "level",
            "owner",
            "status",
        ]
        assert {h["actor"] for h in history if h["item"] == "PW.4.1"} == {"tester"}
        with pytest.raises(InputError, match="needs a reason"):
            book.answer(a, "PO.1.1", status="not_applicable")
        with pytest.raises(InputError, match="level 0 means not achieved"):
            book.answer(a, "PO.1.2", status="implemented", level=0)
        with pytest.raises(InputError, match="0, 1, 2 or 3"):
            book.answer(a, "PO.1.2", level=4)
        with pytest.raises(InputError, match="date like"):
            book.answer(a, "PO.1.2", due="31/03/2026")
        with pytest.raises(InputError, match="no item"):
            book.answer(a, "PW.99.1", status="partial")
        with pytest.raises(InputError, match="is a practice"):
            book.answer(a, "PW.4", status="partial")


def test_answer_many_is_all_or_nothing(tmp_path):
    store, book = book_at(tmp_path / "m.db")
    with store:
        a = book.create("guideline", "Example Corp", ("developer", "supplier"), "product 2.1")
        with pytest.raises(InputError):
            book.answer_many(
                a,
                [("S(1)-1.1", {"status": "implemented"}, []), ("S(1)-1.2", {"status": "not_applicable"}, [])],
                via="xlsx",
            )
        assert book.get(a.id).answer("S(1)-1.1").status is None
        with pytest.raises(InputError, match="applies to customer"):
            book.answer(a, "S(6)-2.1", status="implemented")
        with pytest.raises(InputError, match="a level 0-3 is given for SSDF tasks only"):
            book.answer(a, "S(1)-1.1", level=1)


def test_parse_evidence_kinds(tmp_path):
    (tmp_path / "minutes.txt").write_text("review")
    url = parse_evidence("https://intra.example.com/wiki/psirt")
    assert (url.kind, url.ref) == ("url", "https://intra.example.com/wiki/psirt")
    relative = parse_evidence("minutes.txt", base=tmp_path)
    assert relative.kind == "file" and relative.ref.endswith("minutes.txt") and len(relative.sha256) == 64
    stored = parse_evidence("store:sbom/42")
    assert (stored.kind, stored.artifact_kind) == ("artifact", "sbom")
    with pytest.raises(InputError, match="evidence file not found"):
        parse_evidence("missing.pdf", base=tmp_path)
    with pytest.raises(InputError, match="artifact kind"):
        parse_evidence("store:report/1")


PG_URL = os.environ.get("MAMORI_TEST_PG_URL")


@pytest.mark.skipif(not PG_URL, reason="MAMORI_TEST_PG_URL not set")
def test_assessments_on_postgresql():
    with throwaway_postgres(PG_URL) as url, open_store(url) as store:
        book = Assessments(store)
        a = book.create("guideline", "株式会社サンプル", ("developer", "supplier"), "shop-portal 2.1.0")
        book.answer(a, "S(1)-1.1", status="not_applicable", reason="設計は顧客が行う", owner="佐藤")
        a = book.get(a.id)
        _, proposals = propose(a, [FileArtifacts(sboms=[DEMO_SBOM])])
        added = book.add_proposals(a, proposals)
        book.settle_proposals(a, added, accept=True)
        a = book.get(a.id)
        assert a.answer("S(1)-1.1").reason == "設計は顧客が行う"
        assert (
            a.answer("S(2)-2.3").status == "implemented"
            and a.answer("S(2)-2.3").evidence[0].artifact_kind == "sbom"
        )
        assert book.proposals(a.id)[0].reason["ja"]  # JSON column round trip
        assert len(book.history(a.id)) >= 8

"""SBOM uploads (mamori.portfolio.uploads): submitted, processed like `mamori release add` (stored with
provenance, then matched), their state polled; bad input refused with one line (SQLite; PostgreSQL when
MAMORI_TEST_PG_URL is set)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SHARED_DATA
from mamori.errors import InputError
from mamori.portfolio import add_product, original_bytes
from mamori.portfolio import uploads as up
from mamori.portfolio.views import release
from portfolio_support import DROPWIZARD, kb, knowledge_template, sbom_file

__all__ = ["kb", "knowledge_template"]

DT_TESTS = SHARED_DATA / "sbom" / "dependency-track-tests"


def test_an_upload_is_stored_and_matched_like_release_add(kb: object) -> None:
    data = (DROPWIZARD / "bom.json").read_bytes()
    token = up.submit_upload(kb, data, "../../etc/bom.json", "dropwizard", "1.3.15", True, "ci-bot")
    queued = up.upload_status(kb, token)
    assert queued is not None and queued.state == "queued" and queued.processing
    assert queued.file_name == "bom.json"  # no folders kept from the client's name
    done = up.process_upload(kb, token)
    assert done is not None and done.state == "done" and not done.processing, done
    assert done.error is None and done.sbom_format and done.sbom_format.startswith("cyclonedx")
    assert done.components and done.components > 50
    view = release(kb, "dropwizard", "1.3.15")
    assert view["sbom"]["imported_by"] == "ci-bot" and view["sbom"]["file_name"] == "bom.json"
    assert original_bytes(kb, "dropwizard", "1.3.15") == data
    assert done.open_findings == view["summary"]["open_findings"] > 0
    assert done.project_uuid and up.release_uuid(kb, done.release_id) == done.project_uuid
    assert up.release_of_uuid(kb, done.project_uuid) == done.release_id
    # processed once only; the same bytes again: a new upload that changes nothing
    assert up.process_upload(kb, token) == done
    again = up.process_upload(kb, up.submit_upload(kb, data, "bom.json", "dropwizard", "1.3.15", False, "x"))
    assert again is not None and again.state == "done" and again.unchanged
    assert again.project_uuid == done.project_uuid


def test_a_release_that_does_not_exist_without_auto_create_is_refused(kb: object, tmp_path: Path) -> None:
    sbom = sbom_file(tmp_path / "s.cdx.json", ["pkg:pypi/django@1.11.0"]).read_bytes()
    with pytest.raises(up.ProjectNotFound):
        up.submit_upload(kb, sbom, "s.json", "ghost", "1", False, "ci")
    add_product(kb, "ghost")
    with pytest.raises(up.ProjectNotFound, match="no release"):
        up.submit_upload(kb, sbom, "s.json", "ghost", "1", False, "ci")
    token = up.submit_upload(kb, sbom, "s.json", "ghost", "1", True, "ci")
    done = up.process_upload(kb, token)
    assert done is not None and done.state == "done" and done.open_findings and done.open_findings > 0


@pytest.mark.parametrize(
    ("data", "problem"),
    [(b"", "empty"), (b"   \n", "empty"), (b"\x00\x01binary", "not an SBOM"), (b"{}", "not an SBOM")],
)
def test_bad_input_is_refused_at_submission(kb: object, data: bytes, problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        up.submit_upload(kb, data, "x.json", "p", "1", True, "ci")


def test_an_upload_over_the_limit_is_refused(kb: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAMORI_MAX_UPLOAD_BYTES", "1000")
    data = (DROPWIZARD / "bom.json").read_bytes()
    with pytest.raises(up.UploadTooLarge, match="1000 bytes"):
        up.submit_upload(kb, data, "bom.json", "p", "1", True, "ci")


def test_a_malformed_sbom_fails_with_one_line_stored_on_the_upload(kb: object) -> None:
    if not DT_TESTS.is_dir():
        pytest.skip("../shared/data is absent")
    data = (DT_TESTS / "bom-invalid.json").read_bytes()
    token = up.submit_upload(kb, data, "bom-invalid.json", "p", "1", True, "ci")  # it looks like CycloneDX
    done = up.process_upload(kb, token)
    assert done is not None and done.state == "failed"
    assert done.error and "\n" not in done.error and "bom-invalid.json" in done.error
    with pytest.raises(InputError):
        original_bytes(kb, "p", "1")


def test_hostile_names_are_kept_as_visible_text(kb: object, tmp_path: Path) -> None:
    sbom = sbom_file(tmp_path / "s.cdx.json", ["pkg:pypi/requests@2.19.0"]).read_bytes()
    token = up.submit_upload(kb, sbom, "a\x1b[31m.json", "evil", "1", True, "ci")
    status = up.upload_status(kb, token)
    assert status is not None and "\x1b" not in status.file_name and "\\x1b" in status.file_name
    assert up.upload_status(kb, "not-a-token") is None
    assert up.upload_status(kb, "00000000-0000-0000-0000-000000000000") is None


def test_the_background_worker_processes_in_order_and_resumes_after_a_stop(
    kb: object, tmp_path: Path
) -> None:
    first = sbom_file(tmp_path / "a.cdx.json", ["pkg:pypi/django@1.11.0"]).read_bytes()
    second = sbom_file(tmp_path / "b.cdx.json", ["pkg:pypi/django@4.2.0"]).read_bytes()
    t1 = up.submit_upload(kb, first, "a.json", "web", "1", True, "ci")
    t2 = up.submit_upload(kb, second, "b.json", "web", "1", True, "ci")
    # a process that stopped while processing t1: it is taken up again
    from mamori.portfolio.upload_tables import UploadRow

    u = UploadRow.__table__
    with kb.engine.begin() as conn:
        conn.execute(u.update().where(u.c.token == t1).values(state="processing"))
    assert up.resume_pending(kb) == [t1, t2]
    up.shutdown_workers(wait=True)
    s1, s2 = up.upload_status(kb, t1), up.upload_status(kb, t2)
    assert s1 is not None and s2 is not None and (s1.state, s2.state) == ("done", "done")
    assert release(kb, "web", "1")["sbom"]["revision"] == 2  # the second upload is the current SBOM
    assert json.loads(original_bytes(kb, "web", "1"))["components"][0]["version"] == "4.2.0"

"""SBOM uploads (mamori.portfolio.uploads): submitted, processed like `mamori release add` (stored with
provenance, then matched), their state polled; bad input refused with one line (SQLite; PostgreSQL when
MAMORI_TEST_PG_URL is set)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import SHARED_DATA
from mamori.errors import InputError
from mamori.portfolio import add_product, original_bytes
from mamori.portfolio import tables as t
from mamori.portfolio import uploads as up
from mamori.portfolio.archive import parse_sbom
from mamori.portfolio.views import release
from mamori.scan.run import scan_document
from mamori.store import Store
from portfolio_support import DROPWIZARD, import_held_back, kb, knowledge_template, sbom_file

__all__ = ["kb", "knowledge_template"]

DT_TESTS = SHARED_DATA / "sbom" / "dependency-track-tests"
KEYCLOAK = SHARED_DATA / "sbom" / "cyclonedx" / "keycloak-10.0.2"


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
    # many at once: the one given keeps its UUID, a release without one gets one, kept from then on
    other = up.process_upload(kb, up.submit_upload(kb, data, "bom.json", "dropwizard", "1.4", True, "x"))
    assert other is not None and other.release_id != done.release_id
    from sqlalchemy import delete

    from mamori.portfolio.upload_tables import ReleaseUuidRow

    with kb.engine.connect().execution_options(write=True) as conn, conn.begin():  # type: ignore[attr-defined]
        conn.execute(
            delete(ReleaseUuidRow.__table__).where(ReleaseUuidRow.__table__.c.release_id == other.release_id)
        )
    both = up.release_uuids(kb, [done.release_id, other.release_id, done.release_id])
    assert set(both) == {done.release_id, other.release_id}
    assert both[done.release_id] == done.project_uuid and both[other.release_id] != done.project_uuid
    assert up.release_uuid(kb, other.release_id) == both[other.release_id]
    assert up.release_uuids(kb, [other.release_id]) == {other.release_id: both[other.release_id]}


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


def _stored_findings(store: Store, product: str, version: str) -> set[tuple[str, str]]:
    """(component name@version, vulnerability id) of the release's open findings as stored."""
    view = release(store, product, version)
    return {
        (f"{f['component']['name']}@{f['component']['version']}", f["vulnerability"]["id"])
        for f in view["findings"]
    }


def _scan_findings(store: Store, data: bytes, name: str) -> set[tuple[str, str]]:
    """The same pairs as ``mamori scan`` reports them for the SBOM (a matcher of its own)."""
    fmt, doc = parse_sbom(data, Path(name))
    result = scan_document(doc, store, target=name, sbom_format=fmt)
    return {(f"{f.component.name}@{f.component.version}", f.vulnerability.id) for f in result.findings}


def test_uploads_store_the_findings_scan_reports_also_with_the_kept_matcher(
    kb: Store, tmp_path: Path
) -> None:
    """Real SBOMs uploaded one after the other (the later ones matched with the matcher the first left
    warm) get exactly the findings ``mamori scan`` reports, and an import between uploads is seen."""
    if not KEYCLOAK.is_dir():
        pytest.skip("../shared/data is absent")
    up.shutdown_workers()  # no matcher kept from an earlier test
    uploads = [
        ("dropwizard", "1", DROPWIZARD / "bom.json"),
        ("keycloak", "1", KEYCLOAK / "bom.json"),
        ("dropwizard", "2", DROPWIZARD / "bom.xml"),  # the same components, every result from the cache
    ]
    for product, version, path in uploads:
        data = path.read_bytes()
        done = up.process_upload(kb, up.submit_upload(kb, data, path.name, product, version, True, "ci"))
        assert done is not None and done.state == "done", done
        expected = _scan_findings(kb, data, path.name)
        assert len(expected) >= 5, (product, version)  # real CVEs through purl2cpe links
        assert _stored_findings(kb, product, version) == expected, (product, version)
        assert done.open_findings == len(expected)
        assert done.components == release(kb, product, version)["sbom"]["components"]
    # an advisory imported after the matcher was filled: the next upload finds it
    django = sbom_file(tmp_path / "django.cdx.json", ["pkg:pypi/django@1.11.20"]).read_bytes()
    before = up.process_upload(kb, up.submit_upload(kb, django, "d.json", "web", "1", True, "ci"))
    assert before is not None and before.state == "done"
    import_held_back(kb)
    after = up.process_upload(kb, up.submit_upload(kb, django, "d.json", "web", "2", True, "ci"))
    assert after is not None and after.state == "done"
    found = _stored_findings(kb, "web", "2")
    assert found == _scan_findings(kb, django, "d.json")
    # the run that matched them is kept on the release's components (one statement per batch)
    sc, c, r = t.SbomComponentRow.__table__, t.ComponentRow.__table__, t.RunRow.__table__
    rel = t.ReleaseRow.__table__
    with kb.engine.connect() as conn:
        last_run = conn.scalar(select(func.max(r.c.id)))
        sbom_id = conn.scalar(select(rel.c.current_sbom_id).where(rel.c.id == after.release_id))
        matched = select(c.c.matched_run).join(sc, sc.c.component_id == c.c.id).where(sc.c.sbom_id == sbom_id)
        runs = set(conn.scalars(matched))
    assert runs == {last_run}
    merged = kb.lookup("PYSEC-2019-11")
    assert merged is not None and ("django@1.11.20", merged.vulnerability.id) in found
    assert before.open_findings is not None and after.open_findings == before.open_findings + 1

"""A refused upload or bundle reads in the reader's language, whatever language the worker that refused it
runs in: the refusal is stored in English and language-neutral (mamori.store.jobrecord), and the native
API and the upload page say it in the request's language; a row stored before (its line only) shows its
line; the Dependency-Track token route keeps its shape (SQLite; PostgreSQL when MAMORI_TEST_PG_URL is
set)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import inspect, text, update

from bundle_support import tampered_bundle
from mamori import accounts
from mamori.bundle.jobs import bundle_job, process_bundle_job, submit_bundle_job
from mamori.bundle.tables import BundleJobRow
from mamori.errors import InputError
from mamori.i18n import _, error_data, joined, phrase_data, phrase_text, recording, set_lang
from mamori.portfolio import add_product
from mamori.portfolio import uploads as up
from mamori.portfolio.upload_tables import UploadRow
from mamori.store import Store, open_store
from mamori.store import engine as engines
from mamori.store.jobrecord import refusal, stored_refusal
from mamori.store.throwaway import throwaway_postgres
from portfolio_support import DROPWIZARD, kb, knowledge_template
from server_support import BACKENDS, PG_URL, backend_store, csrf_of, live, signin

__all__ = ["kb", "knowledge_template"]  # fixtures used below

API = "/api/mamori/v1"
PASSWORD = "correct horse battery staple"


@pytest.fixture(params=["ja", "en"])
def worker_lang(request: pytest.FixtureRequest) -> Iterator[str]:
    """The language the process that refuses runs in."""
    set_lang(request.param)
    yield request.param
    set_lang(None)


def _broken_sbom() -> bytes:
    """Dropwizard's real CycloneDX SBOM cut short: it looks like CycloneDX and is not valid JSON."""
    if not DROPWIZARD.is_dir():
        pytest.skip("../shared/data is absent")
    data = (DROPWIZARD / "bom.json").read_bytes()
    return data[: len(data) // 2]


def _bundle(folder: Path) -> tuple[bytes, bytes]:
    from test_bundle_jobs import _bundle as signed

    return signed(folder)


def test_a_phrase_is_said_again_in_either_language() -> None:
    set_lang("ja")
    try:
        assert type(_("appears twice")) is str  # outside recording: plain text, as before
        with recording():
            made = _("member {name!r}: {problem}").format(name="sbom/a.json", problem=_("appears twice"))
            line = joined("bundle.zip", made)
            data = phrase_data(line)
            assert data is not None and str(line) == "bundle.zip: メンバー 'sbom/a.json': 2回現れます"
            assert phrase_text(data, "en") == "bundle.zip: member 'sbom/a.json': appears twice"
            assert phrase_text(data, "ja") == str(line)
            # joined to other text: the text stays, its msgid is gone; formatted twice: plain
            assert phrase_data("x " + made) is None
            assert phrase_data(_("{file}: {problem}").format(file="a", problem="{b}").format(b=1)) is None
            error = InputError("s.json", _("the SBOM is empty"))
            assert phrase_text(error_data(error), "en") == "s.json: the SBOM is empty"
        assert phrase_text({"msgid": "{missing}", "values": {"x": 1}}, "en") is None  # not of the shape
        # a stored msgid reaching into its values' attributes or items is not formatted: the line is shown
        for reaching in ("{x.__class__}", "{x[0]}", "{x:{x.__class__}}", "{0.__class__.__mro__}"):
            assert phrase_text({"msgid": reaching, "values": {"x": "ab"}, "args": ["ab"]}, "en") is None
        assert phrase_text({"msgid": "{x!r} {0} {}", "values": {"x": "ab"}, "args": [1, 2]}, "en") is None
        assert phrase_text({"msgid": "{x!r}: {n:,}", "values": {"x": "ab", "n": 1234}}, "en") == "'ab': 1,234"
        assert phrase_text("not a dict", "en") is None
        kept = refusal(InputError(None, "a line\nmade elsewhere\x1b"))
        assert (
            kept.data is None and kept.line == "a line made elsewhere\\x1b" and kept.text("ja") == kept.line
        )
    finally:
        set_lang(None)


def test_a_failed_upload_reads_in_each_readers_language(kb: Store, worker_lang: str) -> None:
    token = up.submit_upload(kb, _broken_sbom(), "bom.json", "dropwizard", "9", True, "ci")
    done = up.process_upload(kb, token)
    assert done is not None and done.state == "failed" and done.refusal is not None
    # the stored line is English whichever language the worker runs in
    assert done.error is not None and done.error.startswith("bom.json: invalid JSON at line ")
    assert done.error_in("en") == done.error and done.as_dict()["error"] == done.error
    ja = done.error_in("ja")
    assert ja and ja.startswith("bom.json: ") and "行目" in ja and "桁目が不正な JSON です" in ja
    assert done.as_dict("ja")["error"] == ja
    listed, _total = up.list_uploads(kb, ["dropwizard"], "failed")
    assert [u.error_in("ja") for u in listed] == [ja]
    # an unexpected failure: its class name, in either language
    cancelled = up.submit_upload(kb, _broken_sbom(), "bom.json", "dropwizard", "9", True, "ci")
    with recording():
        up.cancel_upload(kb, cancelled, _(up.INTERNAL).format(name="KeyError"))
    status = up.upload_status(kb, cancelled)
    assert status is not None and status.error == "internal error (KeyError)"
    assert status.error_in("ja") == "内部エラー (KeyError)"


def test_an_upload_stored_before_shows_its_line(kb: Store) -> None:
    token = up.submit_upload(kb, _broken_sbom(), "bom.json", "dropwizard", "9", True, "ci")
    up.process_upload(kb, token)
    u = UploadRow.__table__
    with kb.engine.connect().execution_options(write=True) as conn, conn.begin():
        conn.execute(update(u).where(u.c.token == token).values(error="一行の理由", error_message=None))
    old = up.upload_status(kb, token)
    assert old is not None and old.error_in("en") == old.error_in("ja") == "一行の理由"
    assert stored_refusal("line", "not json") is not None and stored_refusal(None, None) is None


def test_a_refused_bundle_reads_in_each_readers_language(tmp_path: Path, worker_lang: str) -> None:
    data, public = _bundle(tmp_path)
    tampered, part = tampered_bundle(data)
    with open_store(tmp_path / "customer.db") as store:
        team = accounts.create_team(store, "buyers")
        job_id, _new = submit_bundle_job(store, tampered, team_id=team.id, who="sm", key_pem=public)
        ended = process_bundle_job(store, job_id)
        assert ended is not None and ended.state == "failed"
        assert ended.error == f"bundle.zip: {part}: its SHA-256 differs from the signed statement"
        assert ended.error_in("en") == ended.error
        assert ended.error_in("ja") == f"bundle.zip: {part}: SHA-256 が署名されたステートメントと一致しません"
        assert ended.as_dict("ja")["error"] == ended.error_in("ja")
        # the verification's failures in the report: in the reader's language too, English by default
        failures = {lang: ended.as_dict(lang)["report"]["verification"]["failures"] for lang in ("ja", "en")}
        assert failures["ja"][0] == {
            "member": part,
            "problem": "SHA-256 が署名されたステートメントと一致しません",
        }
        assert failures["en"][0] == {
            "member": part,
            "problem": "its SHA-256 differs from the signed statement",
        }
        assert ended.as_dict()["report"]["verification"]["failures"] == failures["en"]
        assert ended.report is not None and "failures_said" not in ended.report["verification"]
        j = BundleJobRow.__table__
        with store.engine.connect().execution_options(write=True) as conn, conn.begin():
            conn.execute(update(j).where(j.c.id == job_id).values(error_message=None))
        assert bundle_job(store, job_id).error_in("ja") == ended.error  # type: ignore[union-attr]


@pytest.fixture(params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A team server whose team ``mine`` has a refused upload and a refused bundle, refused by a worker
    that runs in Japanese."""
    data, public = _bundle(tmp_path)
    tampered, part = tampered_bundle(data)
    with backend_store(request.param, tmp_path) as store:
        team = accounts.create_team(store, "mine")
        add_product(store, "dropwizard")
        accounts.assign_product(store, "mine", "dropwizard")
        user, _pw = accounts.create_user(store, "sm", PASSWORD, "mine", "security_manager")
        key = accounts.create_api_key(store, "mine", "security_manager")[1]
        set_lang("ja")
        try:
            token = up.submit_upload(store, _broken_sbom(), "bom.json", "dropwizard", "9", True, "ci")
            up.process_upload(store, token)
            job_id, _new = submit_bundle_job(store, tampered, team_id=team.id, who="sm", key_pem=public)
            process_bundle_job(store, job_id)
        finally:
            set_lang(None)
        with live(store) as server:
            yield {"store": store, "server": server, "key": key, "token": token, "job": job_id,
                   "part": part, "user": user}  # fmt: skip


def test_the_api_and_the_page_say_the_refusal_in_the_requests_language(site: dict[str, Any]) -> None:
    server, token, part = site["server"], site["token"], site["part"]
    with server.client(headers={"X-Api-Key": site["key"]}) as client:
        en = client.get(f"{API}/uploads/{token}").json()
        assert en["state"] == "failed" and en["error"].startswith("bom.json: invalid JSON at line ")
        ja = client.get(f"{API}/uploads/{token}", headers={"Accept-Language": "ja"}).json()
        assert ja["error"].startswith("bom.json: ") and "桁目が不正な JSON です" in ja["error"]
        assert {k: v for k, v in ja.items() if k != "error"} == {k: v for k, v in en.items() if k != "error"}
        listed = client.get(f"{API}/uploads", params={"lang": "ja"}).json()["items"]
        assert [u["error"] for u in listed] == [ja["error"]]
        job = client.get(f"{API}/bundles/jobs/{site['job']}").json()
        assert job["error"] == f"bundle.zip: {part}: its SHA-256 differs from the signed statement"
        job_ja = client.get(f"{API}/bundles/jobs/{site['job']}", headers={"Accept-Language": "ja,en;q=0.5"})
        assert (
            job_ja.json()["error"] == f"bundle.zip: {part}: SHA-256 が署名されたステートメントと一致しません"
        )
        verification = job_ja.json()["report"]["verification"]
        assert verification["failures"][0]["problem"] == "SHA-256 が署名されたステートメントと一致しません"
        assert "failures_said" not in verification and "failures_said" not in job["report"]["verification"]
        # Dependency-Track's token route: the same shape as before, no text
        assert client.get(f"/api/v1/bom/token/{token}").json() == {"processing": False, "status": "FAILED"}
    with server.client() as browser:
        assert signin(browser, "sm", PASSWORD).status_code in (200, 303)
        page = browser.get(f"/uploads/{token}", headers={"Accept-Language": "ja"})
        assert page.status_code == 200 and "桁目が不正な JSON です" in page.text
        page = browser.get(f"/uploads/{token}", params={"lang": "en"})
        assert "invalid JSON at line" in page.text and "桁目" not in page.text
        accounts.set_user_lang(site["store"], site["user"].id, "ja")  # the user's remembered language
        assert "桁目が不正な JSON です" in browser.get(f"/uploads/{token}").text
        # refused at once by the upload form: in the user's language too
        pid = up.find_release(site["store"], "dropwizard", "9")[0]
        sent = browser.post(
            f"/products/{pid}/upload",
            data={"csrf_token": csrf_of(browser), "version": "10"},
            files={"sbom": ("empty.json", b" ", "application/json")},
        )
        assert sent.status_code == 400 and "empty.json: SBOM が空です" in sent.text
        sent = browser.post(
            f"/products/{pid}/upload",
            params={"lang": "en"},
            data={"csrf_token": csrf_of(browser), "version": "10"},
            files={"sbom": ("empty.json", b" ", "application/json")},
        )
        assert sent.status_code == 400 and "empty.json: the SBOM is empty" in sent.text
        # a row stored before: its line, in every language
        u = UploadRow.__table__
        with site["store"].engine.connect().execution_options(write=True) as conn, conn.begin():
            conn.execute(update(u).where(u.c.token == token).values(error="old line", error_message=None))
        assert 'id="upload-error">old line<' in browser.get(f"/uploads/{token}").text
    with server.client(headers={"X-Api-Key": site["key"], "Accept-Language": "ja"}) as client:
        assert client.get(f"{API}/uploads/{token}").json()["error"] == "old line"


@contextlib.contextmanager
def _empty_database(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield str(tmp_path / "old.db")
        return
    assert PG_URL
    with throwaway_postgres(PG_URL) as url:
        yield url


def _migrate(url: str, revision: str, *, up_to: bool, fill: bool = False) -> None:
    """The database at ``revision`` (upgraded to it, else downgraded), with a refused upload and a refused
    bundle job of that time written when ``fill``."""
    engine = engines.create(engines.resolve_url(url))
    try:
        config = engines.alembic_config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            (command.upgrade if up_to else command.downgrade)(config, revision)
            if fill:
                old = {"t": OLD_TOKEN, "h": "0" * 64, "at": "2026-01-01T00:00:00Z"}
                conn.execute(
                    text(
                        "INSERT INTO sbom_upload (token, product, version, auto_create, file_name, size, sha256, "
                        "state, error, submitted_at, submitted_by) VALUES (:t, 'p', '1', true, 'bom.json', 3, "
                        ":h, 'failed', 'bom.json: an old line', :at, 'ci')"
                    ),
                    old,
                )
                conn.execute(
                    text(
                        "INSERT INTO bundle_job (id, submitted_by, every_product, bundle_sha256, size, state, "
                        "error, submitted_at) VALUES ('job-1', 'sm', false, :h, 3, 'failed', "
                        "'bundle.zip: an old line', :at)"
                    ),
                    old,
                )
    finally:
        engine.dispose()


OLD_TOKEN = "00000000-0000-4000-8000-000000000001"


@pytest.mark.parametrize("backend", BACKENDS)
def test_refusals_stored_before_the_migration_keep_their_line_both_ways(backend: str, tmp_path: Path) -> None:
    """A store at 0019_F_portfolio_memo with a refused upload and a refused bundle job: migrated to the
    head, both keep their line (shown in every language); migrated back, the rows are still there."""
    with _empty_database(backend, tmp_path) as url:
        _migrate(url, "0019_F_portfolio_memo", up_to=True, fill=True)
        with open_store(url) as store:  # migrated to the head
            assert engines.current_revision(store.engine) == "0020_Q_refusal_message"
            status = up.upload_status(store, OLD_TOKEN)
            assert status is not None and status.refusal is not None and status.refusal.data is None
            assert status.error_in("ja") == status.error_in("en") == "bom.json: an old line"
            job = bundle_job(store, "job-1")
            assert job is not None and job.as_dict("ja")["error"] == "bundle.zip: an old line"
        _migrate(url, "0019_F_portfolio_memo", up_to=False)
        engine = engines.create(engines.resolve_url(url))
        try:
            with engine.connect() as conn:
                for table in ("sbom_upload", "bundle_job"):
                    assert "error_message" not in {c["name"] for c in inspect(conn).get_columns(table)}
                assert conn.scalar(text("SELECT error FROM sbom_upload")) == "bom.json: an old line"
                assert conn.scalar(text("SELECT error FROM bundle_job")) == "bundle.zip: an old line"
        finally:
            engine.dispose()

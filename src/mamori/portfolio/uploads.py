"""SBOM uploads with their processing state: what a server does with an SBOM a client sends it.

An upload is submitted (:func:`submit_upload`: the bytes are checked for size and for being a format
mamori reads, the product and release are checked, and a row is written with a fresh token), then
processed (:func:`process_upload`): the SBOM is stored as the release's next revision with its provenance,
exactly as ``mamori release add`` stores a file (:func:`mamori.portfolio.archive.store_sbom_data`), and
the release is matched as ``mamori portfolio rematch`` would match it (:func:`mamori.portfolio.match_release`),
so its findings exist when the upload is ``done``. A client polls :func:`upload_status` with the token.
An upload that cannot be stored ends ``failed`` with the one-line reason (in English, and language-neutral
where it can be, so that each reader reads it in their language: :mod:`mamori.store.jobrecord`); its bytes
are never kept past processing (a stored SBOM is in the release's archive).

Every product release has a stable UUID (:func:`release_uuid`), set when it is first asked for: what
Dependency-Track clients call a project's ``uuid``.

Processing runs on one worker thread per process (:func:`start_processing`): a SQLite store has one
writer at a time, and uploads of one release must be stored in the order they came. Uploads left
``queued`` or ``processing`` by a process that stopped are taken up again by :func:`resume_pending`.

Speed (bench/upload.py): the worker keeps one matcher per store (:func:`kept_matcher`), so an upload
reuses what earlier ones parsed until an import changes the store; the portfolio's open totals, which a
``release add`` prints, are not counted for an upload (it reports its own release's open findings).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import uuid
import zlib
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import IntegrityError

from mamori.display import visible
from mamori.errors import InputError, MamoriError
from mamori.i18n import N_, gettext, recording
from mamori.portfolio import tables as t
from mamori.portfolio.upload_tables import ReleaseUuidRow, UploadRow
from mamori.store import Store
from mamori.store.jobrecord import Refusal, Refused, claim, end_values, refusal, requeue, stored_refusal
from mamori.store.limits import fit_row
from mamori.store.writer import chunks, now

if TYPE_CHECKING:
    from mamori.match import Matcher

log = logging.getLogger(__name__)

DEFAULT_MAX_UPLOAD_BYTES = 100 << 20  # 100 MiB, configurable with MAMORI_MAX_UPLOAD_BYTES
FILE_NAME_LIMIT = 255
WHO_LIMIT = 200
QUEUED, PROCESSING, DONE, FAILED = "queued", "processing", "done", "failed"
STATES = (QUEUED, PROCESSING, DONE, FAILED)
INTERNAL = N_("internal error ({name})")


def max_upload_bytes() -> int:
    """The largest SBOM an upload may carry (``MAMORI_MAX_UPLOAD_BYTES``, default 100 MiB)."""
    raw = os.environ.get("MAMORI_MAX_UPLOAD_BYTES", "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return DEFAULT_MAX_UPLOAD_BYTES


class UploadTooLarge(InputError):
    """The upload is larger than :func:`max_upload_bytes` (HTTP 413)."""


class ProjectNotFound(InputError):
    """The product or release does not exist and the upload did not ask for it to be created (HTTP 404)."""


@dataclass(frozen=True, slots=True)
class UploadStatus(Refused):
    """Where an upload is: ``processing`` is true while it is queued or being processed."""

    token: str
    state: str  # queued | processing | done | failed
    product: str
    version: str
    file_name: str
    size: int
    sha256: str
    submitted_at: str
    submitted_by: str
    started_at: str | None
    finished_at: str | None
    error: str | None  # why a failed upload was refused, one line
    release_id: int | None
    project_uuid: str | None  # the release's stable UUID once the upload is done
    sbom_format: str | None
    components: int | None  # distinct components in the stored SBOM
    open_findings: int | None  # the release's open findings after matching
    unchanged: bool | None  # the same bytes were already the release's current SBOM
    refusal: Refusal | None = None  # ``error`` said again in any language (None: not failed)

    @property
    def processing(self) -> bool:
        return self.state in (QUEUED, PROCESSING)

    def as_dict(self, lang: str | None = None) -> dict[str, Any]:
        """The upload's fields (``error`` in ``lang``; None: the stored English line)."""
        out = asdict(self)
        del out["refusal"]
        out["processing"] = self.processing
        if lang is not None:
            out["error"] = self.error_in(lang)
        return out


def file_name_of(name: str | None) -> str:
    """The last part of the name a client gave (no folders), control characters made visible, bounded."""
    raw = (name or "").strip()
    base = PureWindowsPath(PurePosixPath(raw).name).name if raw else ""
    base = visible(base)[:FILE_NAME_LIMIT].strip()
    return base or "upload"


def _exists(conn: Connection, product: str, version: str) -> tuple[int | None, int | None]:
    """The product's id and the release's id (None where absent)."""
    p, r = t.ProductRow.__table__, t.ReleaseRow.__table__
    pid = conn.scalar(select(p.c.id).where(p.c.name == product))
    if pid is None:
        return None, None
    rid = conn.scalar(select(r.c.id).where(r.c.product_id == pid, r.c.version == version))
    return int(pid), int(rid) if rid is not None else None


def find_release(store: Store, product: str, version: str) -> tuple[int | None, int | None]:
    """The product's id and the release's id (None where absent)."""
    with store.engine.connect() as conn:
        return _exists(conn, product.strip(), version.strip())


@recording()
def submit_upload(
    store: Store,
    data: bytes,
    filename: str | None,
    product_name: str,
    product_version: str,
    auto_create: bool,
    submitted_by: str,
) -> str:
    """Check an uploaded SBOM and queue it; the token to poll. Raises :class:`UploadTooLarge`, an
    :class:`~mamori.errors.InputError` (empty, not a format mamori reads, a bad name) or
    :class:`ProjectNotFound` (the release does not exist and ``auto_create`` is false); its message can be
    said again in another language (:func:`mamori.store.jobrecord.refusal`): the checks run inside
    :func:`~mamori.i18n.recording`."""
    from mamori.portfolio.archive import NAME_LIMIT, VERSION_LIMIT
    from mamori.sbom import READ_FORMATS, detect_format
    from mamori.triage.records import _required

    name = file_name_of(filename)
    limit = max_upload_bytes()
    if len(data) > limit:
        raise UploadTooLarge(
            name,
            gettext("the SBOM is larger than the upload limit ({limit} bytes)").format(limit=limit),
        )
    if not data.strip():
        raise InputError(name, gettext("the SBOM is empty"))
    product = _required(product_name, "product name", NAME_LIMIT)
    version = _required(product_version, "release version", VERSION_LIMIT)
    who = _required(submitted_by, "who", WHO_LIMIT)
    fmt = detect_format(data, PurePosixPath(name))
    if fmt not in READ_FORMATS:
        raise InputError(name, gettext("not an SBOM format mamori reads ({fmt})").format(fmt=fmt))
    token = str(uuid.uuid4())
    row = {
        "token": token,
        "product": product,
        "version": version,
        "auto_create": bool(auto_create),
        "file_name": name,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "state": QUEUED,
        "submitted_at": now(),
        "submitted_by": who,
        "content": zlib.compress(data, 6),
    }
    u = UploadRow.__table__
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        pid, rid = _exists(conn, product, version)
        if rid is None and not auto_create:
            if pid is None:
                problem = gettext("no product {product!r}").format(product=product)
            else:
                problem = gettext("product {product!r} has no release {version!r}").format(
                    product=product, version=version
                )
            raise ProjectNotFound(None, problem)
        conn.execute(u.insert().values(**fit_row(u, row)))
    return token


def _status(row: Any, project_uuid: str | None) -> UploadStatus:
    return UploadStatus(
        token=row.token,
        state=row.state,
        product=row.product,
        version=row.version,
        file_name=row.file_name,
        size=row.size,
        sha256=row.sha256,
        submitted_at=row.submitted_at,
        submitted_by=row.submitted_by,
        started_at=row.started_at,
        finished_at=row.finished_at,
        error=row.error,
        release_id=row.release_id,
        project_uuid=project_uuid,
        sbom_format=row.sbom_format,
        components=row.components,
        open_findings=row.open_findings,
        unchanged=row.unchanged,
        refusal=stored_refusal(row.error, row.error_message),
    )


def upload_status(store: Store, token: str) -> UploadStatus | None:
    """The upload's state (None: no upload has this token)."""
    try:
        key = str(uuid.UUID(str(token)))
    except ValueError:
        return None
    u, ru = UploadRow.__table__, ReleaseUuidRow.__table__
    cols = [c for c in u.c if c.name != "content"]
    with store.engine.connect() as conn:
        row = conn.execute(select(*cols).where(u.c.token == key)).first()
        if row is None:
            return None
        found = (
            conn.scalar(select(ru.c.uuid).where(ru.c.release_id == row.release_id))
            if row.release_id is not None
            else None
        )
    return _status(row, found)


def release_uuid(store: Store, release_id: int) -> str:
    """The stable UUID of a product release, made the first time it is asked for."""
    ru = ReleaseUuidRow.__table__
    with store.engine.connect() as conn:
        found = conn.scalar(select(ru.c.uuid).where(ru.c.release_id == release_id))
    if found is not None:
        return str(found)
    fresh = str(uuid.uuid4())
    try:
        with store.engine.connect().execution_options(write=True) as conn, conn.begin():
            conn.execute(ru.insert().values(release_id=release_id, uuid=fresh))
        return fresh
    except IntegrityError:  # another request gave it one in the meantime
        with store.engine.connect() as conn:
            return str(conn.scalar(select(ru.c.uuid).where(ru.c.release_id == release_id)))


def release_uuids(store: Store, release_ids: Iterable[int]) -> dict[int, str]:
    """:func:`release_uuid` of many releases: those without one get theirs in one transaction (one
    transaction per release took 18 s for 2,000 on a loaded PostgreSQL); when another request gave some
    of them one in the meantime, each is asked for alone."""
    ids = sorted(set(release_ids))
    ru = ReleaseUuidRow.__table__
    found: dict[int, str] = {}
    with store.engine.connect() as conn:
        for part in chunks(ids, 500):
            found.update(
                conn.execute(select(ru.c.release_id, ru.c.uuid).where(ru.c.release_id.in_(part))).all()
            )
    fresh = {rid: str(uuid.uuid4()) for rid in ids if rid not in found}
    if not fresh:
        return {rid: str(u) for rid, u in found.items()}
    try:
        with store.engine.connect().execution_options(write=True) as conn, conn.begin():
            conn.execute(ru.insert(), [{"release_id": rid, "uuid": u} for rid, u in fresh.items()])
        found.update(fresh)
    except IntegrityError:
        found.update({rid: release_uuid(store, rid) for rid in fresh})
    return {rid: str(u) for rid, u in found.items()}


def release_of_uuid(store: Store, project_uuid: str) -> int | None:
    """The release a UUID stands for (None: not a UUID, or no release has it)."""
    try:
        key = str(uuid.UUID(str(project_uuid)))
    except ValueError:
        return None
    ru = ReleaseUuidRow.__table__
    with store.engine.connect() as conn:
        found = conn.scalar(select(ru.c.release_id).where(ru.c.uuid == key))
    return int(found) if found is not None else None


def _open_findings(conn: Connection, release_id: int) -> int:
    f, m = t.FindingRow.__table__, t.MatchRow.__table__
    return int(
        conn.scalar(
            select(func.count())
            .select_from(f.join(m, m.c.id == f.c.match_id))
            .where(f.c.release_id == release_id, f.c.resolved_run.is_(None), m.c.verdict == "affected")
        )
        or 0
    )


def _finish(store: Store, token: str, state: str, refused: Refusal | None = None, **values: Any) -> None:
    u = UploadRow.__table__
    values = end_values(state, refused, **values)
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        conn.execute(u.update().where(u.c.token == token).values(**fit_row(u, values)))


def _match(store: Store, sbom_id: int, previous_sbom_id: int | None, attempts: int = 3) -> None:
    """Match the stored revision. Two worker processes matching releases that share a component identity
    new to both may insert the same match row; the one that loses the unique key matches again, and
    then finds the other's rows (matching writes only what changed)."""
    from mamori.portfolio.rematch import match_release

    for attempt in range(attempts):
        try:
            with _MATCHER_LOCK:  # the kept matcher's caches are not shared between threads
                match_release(store, sbom_id, previous_sbom_id, matcher=kept_matcher(store), totals=False)
            return
        except Exception as exc:
            # SQLAlchemy's IntegrityError, or the driver's own from a COPY (SQLSTATE 23505)
            lost = isinstance(exc, IntegrityError) or getattr(exc, "sqlstate", None) == "23505"
            if not lost or attempt == attempts - 1:
                raise
            log.info("matching SBOM %s met another worker's rows: matching again", sbom_id)


def process_upload(store: Store, token: str) -> UploadStatus | None:
    """Store and match a queued upload (nothing happens to one already taken up). Never raises for a bad
    SBOM: the upload ends ``failed`` with the reason."""
    u = UploadRow.__table__
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        row = claim(conn, u, "token", token, state=QUEUED, to=PROCESSING)
    if row is None:
        return upload_status(store, token)
    with recording():  # its refusal is kept language-neutral
        _process(store, token, row)
    return upload_status(store, token)


def _process(store: Store, token: str, row: Any) -> None:
    from mamori.portfolio.archive import add_product, store_sbom_data

    try:
        data = zlib.decompress(row.content) if row.content is not None else b""
        with store.engine.connect() as conn:
            pid, _rid = _exists(conn, row.product, row.version)
        if pid is None:
            if not row.auto_create:
                raise ProjectNotFound(None, gettext("no product {product!r}").format(product=row.product))
            try:
                add_product(store, row.product, who=row.submitted_by)
            except InputError:  # made by another upload in the meantime
                with store.engine.connect() as conn:
                    if _exists(conn, row.product, row.version)[0] is None:
                        raise
        stored = store_sbom_data(
            store, row.product, row.version, data, PurePosixPath(row.file_name), who=row.submitted_by
        )
        if not stored.unchanged:
            _match(store, stored.sbom_id, stored.previous_sbom_id)
        release_uuid(store, stored.release_id)
        with store.engine.connect() as conn:
            open_findings = _open_findings(conn, stored.release_id)
        _finish(
            store,
            token,
            DONE,
            release_id=stored.release_id,
            sbom_id=stored.sbom_id,
            sbom_format=stored.format,
            components=stored.components,
            open_findings=open_findings,
            unchanged=stored.unchanged,
        )
    except MamoriError as exc:
        _finish(store, token, FAILED, refusal(exc))
    except Exception as exc:  # a worker must record every failure, not die with it
        log.exception("upload %s could not be processed", token)
        _finish(store, token, FAILED, refusal(gettext(INTERNAL).format(name=type(exc).__name__)))


def cancel_upload(store: Store, token: str, reason: str) -> None:
    """Mark a queued upload failed with ``reason`` (one line; a :class:`mamori.i18n.Phrase` made inside
    :func:`mamori.i18n.recording` is read in each reader's language) before it is processed."""
    _finish(store, token, FAILED, refusal(reason, 500))


def list_uploads(
    store: Store,
    products: Iterable[str] | None = None,
    state: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[UploadStatus], int]:
    """The uploads, newest first, of ``products`` (names; None: every product) and ``state``: one page
    of them and how many there are in all."""
    u, ru = UploadRow.__table__, ReleaseUuidRow.__table__
    where = []
    if products is not None:
        names = sorted(set(products))
        if not names:
            return [], 0
        where.append(u.c.product.in_(names))
    if state is not None:
        where.append(u.c.state == state)
    cols = [c for c in u.c if c.name != "content"]
    page = (
        select(*cols, ru.c.uuid.label("project_uuid"))
        .outerjoin(ru, ru.c.release_id == u.c.release_id)
        .where(*where)
        .order_by(u.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    with store.engine.connect() as conn:
        total = int(conn.scalar(select(func.count()).select_from(u).where(*where)) or 0)
        return [_status(row, row.project_uuid) for row in conn.execute(page)], total


# -- the in-process worker -------------------------------------------------------------------------
_WORKERS: dict[str, ThreadPoolExecutor] = {}
_WORKERS_LOCK = threading.Lock()
_REMEMBERERS: dict[str, ThreadPoolExecutor] = {}  # PostgreSQL: where the dashboard's counts are made
_REMEMBER_QUEUED: dict[str, Future[Any]] = {}  # the latest counting asked for, per store
_MATCHERS: dict[str, Matcher] = {}
_MATCHER_LOCK = threading.Lock()


def kept_matcher(store: Store) -> Matcher:
    """The matcher uploads to ``store`` are matched with, kept for the process's life as ``mamori scan``
    keeps one across scans: the advisories it parsed, the index rows it read and its per-component
    results are reused by the next upload, and dropped when an import changes the store
    (:meth:`mamori.match.knowledge.Knowledge.refresh`, on every match). Hold ``_MATCHER_LOCK`` while
    using it."""
    from mamori.match import Matcher

    found = _MATCHERS.get(store.url)
    if found is None or found.knowledge.store is not store:
        found = _MATCHERS[store.url] = Matcher(store)
    return found


def _worker(store: Store) -> ThreadPoolExecutor:
    with _WORKERS_LOCK:
        found = _WORKERS.get(store.url)
        if found is None:
            found = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mamori-upload")
            _WORKERS[store.url] = found
        return found


def start_processing(store: Store, token: str) -> Future[Any]:
    """Process the upload in the background: the one place that decides where uploads are processed
    (in this process, one at a time per store); after an upload done, what the dashboard reads is
    decided and counted again (:func:`remember_after`), as a worker does after its upload job. The
    future is done when both are."""
    outer: Future[Any] = Future()

    def run() -> None:
        try:
            status = process_upload(store, token)
        except BaseException as exc:  # process_upload records its failures; this is for the future
            outer.set_exception(exc)
            return
        later = _remember_later(store) if status is not None and status.state == DONE else None
        if later is not None:
            later.add_done_callback(lambda _done: outer.set_result(status))
        else:
            outer.set_result(status)

    _worker(store).submit(run)
    return outer


def _remember_later(store: Store) -> Future[Any] | None:
    """:func:`remember_after` once more, after the upload just done. On PostgreSQL on a thread of its
    own, so that the next upload is processed meanwhile instead of waiting for the counts (about 1 s of
    database time on a 2,000-release portfolio); on SQLite (one writer) on the upload worker, after the
    uploads already queued. One not started yet serves every upload done before it starts. None: the
    workers are being shut down, and the counts were made here."""
    with _WORKERS_LOCK:
        queued = _REMEMBER_QUEUED.get(store.url)
        if queued is not None and not queued.running() and not queued.done():
            return queued
        executor = _WORKERS.get(store.url)
        if store.engine.dialect.name == "postgresql" and executor is not None:
            executor = _REMEMBERERS.get(store.url)
            if executor is None:
                executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mamori-remember")
                _REMEMBERERS[store.url] = executor
        try:
            if executor is None:
                raise RuntimeError("shut down")
            queued = _REMEMBER_QUEUED[store.url] = executor.submit(remember_after, store)
            return queued
        except RuntimeError:  # shut down meanwhile
            pass
    remember_after(store)
    return None


def remember_after(store: Store) -> None:
    """The SSVC outcomes of the open findings' vulnerabilities stored and the dashboard's counts made and
    stored (:func:`mamori.portfolio.dashboard.remember_after_change`); best effort: a failure is logged (the dashboard
    decides and counts on its next request instead)."""
    from mamori.portfolio.dashboard import remember_after_change

    try:
        remember_after_change(store)
    except Exception:  # the upload is done whatever happens here
        log.exception("the dashboard's counts after an upload were not stored")


def resume_pending(store: Store) -> list[str]:
    """Queue again the uploads a stopped process left queued or half-processed (a half-processed one
    rolled back or finished storing: storing the same bytes again changes nothing); their tokens."""
    u = UploadRow.__table__
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        requeue(conn, u, PROCESSING)
        tokens = list(conn.scalars(select(u.c.token).where(u.c.state == QUEUED).order_by(u.c.id)))
    for token in tokens:
        start_processing(store, token)
    return tokens


def shutdown_workers(wait: bool = True) -> None:
    """Let the workers finish what they hold (``wait``) and end them."""
    with _WORKERS_LOCK:
        workers = list(_WORKERS.values())
        _WORKERS.clear()
    for worker in workers:
        worker.shutdown(wait=wait)
    with _WORKERS_LOCK:  # after the uploads: the counts they asked for are made too
        rememberers = list(_REMEMBERERS.values())
        _REMEMBERERS.clear()
        _REMEMBER_QUEUED.clear()
    for rememberer in rememberers:
        rememberer.shutdown(wait=wait)
    with _MATCHER_LOCK:
        _MATCHERS.clear()

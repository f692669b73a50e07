"""Bundles received by the team server, verified and imported as background jobs (table ``bundle_job``).

:func:`submit_bundle_job` keeps the bundle (already bounded by the caller) with the team and principal that
sent it and answers a job id at once; :func:`process_bundle_job` then verifies it (the key sent with it,
else its supplier's pinned keys), checks that its product is one of the team's or new (a new one becomes the
team's), imports it (:func:`mamori.bundle.importer.import_bundle`) and checks it against the terms the team
agreed with its supplier (else the store's terms for it). The job ends ``done`` with the report (the import
with what differs from the product's previous bundle, and the contract check) or ``failed`` with one line
saying why (a tampered bundle: the part named) and, when verification failed, its failures. The line is
kept in English and language-neutral, so that each reader reads it in their language
(:mod:`mamori.store.jobrecord`).
:func:`bundle_job` tells how it stands.

The same bundle sent twice by a team is one job and one import: the dedup key (team and the bundle's
SHA-256) is unique while the job is queued, running or done; a failed job gives it up, so the bundle may be
sent again (with the right key, say). Processing claims the job ``queued`` → ``running`` once: a second
delivery of the same job does nothing; a delivery after a worker died mid-job (``redelivered``) takes it up
again, and finds the import already made when the worker died after its commit. The bytes are kept only
until the job ends.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mamori.bundle.tables import BundleImportRow, BundleJobRow
from mamori.errors import InputError
from mamori.i18n import _, phrase_data, phrase_text, recording
from mamori.store import Store
from mamori.store.jobrecord import (
    Refusal,
    Refused,
    claim,
    end_values,
    now_ms,
    refusal,
    requeue,
    stored_refusal,
)

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATES = (QUEUED, RUNNING, DONE, FAILED)
FILE = "bundle.zip"  # the name a received bundle is reported under (the client's name is not kept)
LIMIT = 500  # characters of a refusal's line
SAID = "failures_said"  # the stored report's failures, language-neutral (not answered)


@dataclass(frozen=True, slots=True)
class BundleJob(Refused):
    """How one received bundle stands: ``report`` when it ended (the import and contract check when done;
    ``{"ok": false, "verification": …}`` when verification failed)."""

    id: str
    team_id: int | None
    state: str
    sha256: str
    size: int
    submitted_at: str
    submitted_by: str
    started_at: str | None
    finished_at: str | None
    error: str | None
    import_id: int | None
    report: dict[str, Any] | None
    refusal: Refusal | None = None  # ``error`` said again in any language (None: not failed)
    failures_said: list[Any] | None = None  # the verification's failures, language-neutral

    def as_dict(self, lang: str | None = None) -> dict[str, Any]:
        """The job's fields (``error`` in ``lang``, None: the stored English line; the verification's
        failures in ``lang``, None: English)."""
        report = self.report or {}
        return {
            "id": self.id,
            "state": self.state,
            "sha256": self.sha256,
            "size": self.size,
            "submitted_at": self.submitted_at,
            "submitted_by": self.submitted_by,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "error": self.error if lang is None else self.error_in(lang),
            "import_id": self.import_id,
            "product": report.get("product"),
            "release": report.get("release"),
            "supplier": report.get("supplier"),
            "report": _said_again(self.report, self.failures_said, lang or "en"),
        }


def dedup_key(team_id: int | None, sha256: str) -> str:
    return f"bundle:{team_id if team_id is not None else '-'}:{sha256}"


def submit_bundle_job(
    store: Store,
    data: bytes,
    *,
    team_id: int | None,
    who: str,
    every_product: bool = False,
    key_pem: bytes | None = None,
) -> tuple[str, bool]:
    """Keep a received bundle for processing; (job id, whether it is new). The same bundle sent by the team
    while its job is queued, running or done gives that job's id (and False)."""
    sha = hashlib.sha256(data).hexdigest()
    key = dedup_key(team_id, sha)
    j = BundleJobRow.__table__
    job_id = str(uuid.uuid4())
    pem = key_pem.decode("ascii", "replace") if key_pem else None
    try:
        with store.engine.connect().execution_options(write=True) as conn, conn.begin():
            conn.execute(
                j.insert().values(
                    id=job_id,
                    team_id=team_id,
                    submitted_by=who[:200],
                    every_product=every_product,
                    bundle_sha256=sha,
                    size=len(data),
                    key_pem=pem,
                    dedup_key=key,
                    state=QUEUED,
                    submitted_at=now_ms(),
                    content=zlib.compress(data, 1),
                )
            )
    except IntegrityError:
        with store.engine.connect() as conn:
            found = conn.scalar(select(j.c.id).where(j.c.dedup_key == key))
        if found is None:  # the job it collided with failed in between: send it as a new one
            return submit_bundle_job(
                store, data, team_id=team_id, who=who, every_product=every_product, key_pem=key_pem
            )
        return str(found), False
    return job_id, True


def _job(row: Any) -> BundleJob:
    report, said = _stored_report(row.result)
    return BundleJob(
        id=row.id,
        team_id=row.team_id,
        state=row.state,
        sha256=row.bundle_sha256,
        size=row.size,
        submitted_at=row.submitted_at,
        submitted_by=row.submitted_by,
        started_at=row.started_at,
        finished_at=row.finished_at,
        error=row.error,
        import_id=row.import_id,
        report=report,
        failures_said=said,
        refusal=stored_refusal(row.error, row.error_message, LIMIT),
    )


def bundle_job(store: Store, job_id: str) -> BundleJob | None:
    """The job, or None for an id the store does not know."""
    j = BundleJobRow.__table__
    columns = [c for c in j.c if c.name != "content"]
    with store.engine.connect() as conn:
        row = conn.execute(select(*columns).where(j.c.id == job_id[:36])).first()
    return None if row is None else _job(row)


def pending_jobs(store: Store, states: tuple[str, ...] = (QUEUED,)) -> list[str]:
    """The ids of jobs in ``states`` (default: queued), oldest first (a server that stopped takes them up
    again)."""
    j = BundleJobRow.__table__
    with store.engine.connect() as conn:
        return list(conn.scalars(select(j.c.id).where(j.c.state.in_(states)).order_by(j.c.submitted_at)))


def _end(
    store: Store, job_id: str, state: str, error: Refusal | None, report: Any, import_id: int | None
) -> None:
    j = BundleJobRow.__table__
    values = end_values(
        state,
        error,
        result=orjson.dumps(report, default=str).decode() if report is not None else None,
        import_id=import_id,
    )
    if state == FAILED:
        values["dedup_key"] = None  # the bundle may be sent again
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        conn.execute(j.update().where(j.c.id == job_id).values(**values))


def _claim(store: Store, job_id: str, redelivered: bool) -> Any:
    """The job's row when this call takes it up (``queued`` → ``running``), else None."""
    j = BundleJobRow.__table__
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        if redelivered:
            requeue(conn, j, RUNNING, "id", job_id)
        return claim(conn, j, "id", job_id, state=QUEUED, to=RUNNING)


def _verification(verified: Any) -> dict[str, Any]:
    """The verification's report, each failure's problem also kept language-neutral (``said``, read
    back by :meth:`BundleJob.as_dict` in the reader's language)."""
    out = {**verified.as_dict(), "file": FILE}
    said = [phrase_data(f.problem) for f in verified.failures]
    if any(d is not None for d in said):
        out[SAID] = said
    return out


def _stored_report(raw: str | None) -> tuple[dict[str, Any] | None, list[Any] | None]:
    """The stored report without its language-neutral failures, and those failures (None: none kept)."""
    report = orjson.loads(raw) if raw else None
    verification = report.get("verification") if isinstance(report, dict) else None
    if not isinstance(verification, dict) or SAID not in verification:
        return report, None
    said = verification.pop(SAID)
    return report, said if isinstance(said, list) else None


def _said_again(report: dict[str, Any] | None, said: list[Any] | None, lang: str) -> dict[str, Any] | None:
    """The report with its verification's failures in ``lang`` (where they were kept language-neutral)."""
    verification = report.get("verification") if report is not None and said else None
    if report is None or not isinstance(verification, dict):
        return report
    failures = []
    for i, failure in enumerate(verification.get("failures") or []):
        text = phrase_text(said[i], lang) if said and i < len(said) and isinstance(failure, dict) else None
        failures.append({**failure, "problem": text} if text is not None else failure)
    return {**report, "verification": {**verification, "failures": failures}}


def _refused(reason: InputError | str) -> Refusal:
    return refusal(reason, LIMIT)


def _refusal(verified: Any) -> Refusal:
    """One line: the file and the first problem verification found (the part it is in)."""
    first = verified.failures[0] if verified.failures else None
    if first is None:
        return _refused(_("{file}: no signature verifies with a trusted key").format(file=FILE))
    return _refused(
        _("{file}: {member}: {problem}").format(file=FILE, member=first.member, problem=first.problem)
    )


def _terms_check(store: Store, team_id: int | None, verified: Any) -> dict[str, Any]:
    """The contract check against the team's terms with the bundle's supplier, else the store's."""
    from mamori.bundle.terms import check_bundle
    from mamori.contract.store import supplier_name, team_terms

    terms = None
    if team_id is not None:
        try:
            supplier: str | None = supplier_name(verified.supplier)
        except InputError:
            supplier = None
        found = team_terms(store, [team_id], supplier) if supplier else []
        terms = found[0][1] if found else None
    return check_bundle(store, verified, terms=terms).as_dict()


def _already_imported(store: Store, sha256: str, since: str) -> int | None:
    """The import of this bundle made by a delivery of the job that died after its commit."""
    b = BundleImportRow.__table__
    with store.engine.connect() as conn:
        return conn.scalar(
            select(b.c.id)
            .where(b.c.bundle_sha256 == sha256, b.c.imported_at >= since[:19])
            .order_by(b.c.id.desc())
            .limit(1)
        )


def process_bundle_job(store: Store, job_id: str, *, redelivered: bool = False) -> BundleJob | None:
    """Verify and import the received bundle (see the module); how the job stands after, or None for an id
    the store does not know. A job already taken up or ended is left as it is."""
    row = _claim(store, job_id, redelivered)
    if row is None:
        return bundle_job(store, job_id)
    try:
        with recording():  # its refusal is kept language-neutral
            state, error, report, import_id = _process(store, row, redelivered)
    except BaseException as exc:
        log.exception("bundle job %s failed", job_id)
        _end(store, job_id, FAILED, Refusal(type(exc).__name__), None, None)
        raise
    _end(store, job_id, state, error, report, import_id)
    return bundle_job(store, job_id)


def _process(store: Store, row: Any, redelivered: bool) -> tuple[str, Refusal | None, Any, int | None]:
    from mamori import accounts
    from mamori.bundle.importer import BundleRefused, import_bundle, pinned_keys
    from mamori.bundle.signing import load_public_pem
    from mamori.bundle.verify import verify_bundle
    from mamori.portfolio import tables as t

    if row.content is None:
        return FAILED, _refused(_("{file}: the bundle was not kept").format(file=FILE)), None, None
    with tempfile.TemporaryDirectory(prefix="mamori-bundle-") as tmp:
        path = Path(tmp) / FILE
        path.write_bytes(zlib.decompress(row.content))
        try:
            keys = [load_public_pem(row.key_pem.encode("ascii"), "key")] if row.key_pem else []
            verified = verify_bundle(path, keys, pinned=lambda supplier: pinned_keys(store, supplier))
        except InputError as exc:
            return FAILED, _refused(exc.problem), None, None
        refused = {"ok": False, "verification": _verification(verified)}
        if not verified.ok:
            return FAILED, _refusal(verified), refused, None
        with store.engine.connect() as conn:
            pid = conn.scalar(select(t.ProductRow.id).where(t.ProductRow.name == verified.product.strip()))
        if pid is not None and not row.every_product:
            owned = accounts.team_products(store, [row.team_id]).get(row.team_id, frozenset())
            if row.team_id is None or pid not in owned:
                return (
                    FAILED,
                    _refused(_("product: the bundle's product is not one of your team's")),
                    None,
                    None,
                )
        made = _already_imported(store, row.bundle_sha256, row.submitted_at) if redelivered else None
        if made is not None:
            report = {"ok": True, "import_id": made, "sha256": row.bundle_sha256, "product": verified.product,
                      "release": verified.release, "supplier": verified.supplier}  # fmt: skip
            return DONE, None, report, made
        try:
            done = import_bundle(store, path, keys, who=row.submitted_by, verified=verified)
        except BundleRefused as exc:
            return FAILED, _refusal(exc.verified), refused, None
        except InputError as exc:
            return FAILED, _refused(exc.problem), None, None
        if pid is None and row.team_id is not None:
            team = {x.id: x.name for x in accounts.list_teams(store)}.get(row.team_id)
            if team is not None:
                accounts.assign_product(store, team, done.product, accounts.Actor("user", row.submitted_by))
        report = {"ok": True, **done.as_dict(), "contract": _terms_check(store, row.team_id, verified)}
        return DONE, None, report, done.import_id


__all__ = [
    "BundleJob",
    "bundle_job",
    "pending_jobs",
    "process_bundle_job",
    "submit_bundle_job",
]

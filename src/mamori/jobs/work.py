"""The work itself: plain functions over a store, the same whether a Celery worker or the embedded
default's thread pool calls them. Each is idempotent for its unit of work (see each function).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from mamori.jobs import records
from mamori.store import Store

log = logging.getLogger("mamori.jobs")


class TransientError(Exception):
    """A failure worth another attempt later (the store or a feed did not answer)."""


class PoisonError(Exception):
    """A unit of work that will never succeed as it is: it goes to the dead-letter queue at once."""


def process_upload(store: Store, token: str, *, redelivered: bool = False) -> dict[str, Any]:
    """Store and match an uploaded SBOM (:func:`mamori.portfolio.uploads.process_upload`).

    Idempotent by the upload's token: the upload row is claimed ``queued`` → ``processing`` once. A
    redelivered message (its worker died mid-task) finds the upload ``processing``: it is queued again
    and processed again (storing the same bytes again changes nothing), and the release is matched again
    (matching only writes what changed), so the end state is that of one uninterrupted run."""
    from sqlalchemy import select

    from mamori.portfolio import uploads
    from mamori.portfolio.upload_tables import UploadRow
    from mamori.store.jobrecord import requeue

    u = UploadRow.__table__
    if redelivered:
        with store.engine.connect().execution_options(write=True) as conn, conn.begin():
            requeue(conn, u, uploads.PROCESSING, "token", token)
    status = uploads.process_upload(store, token)
    if status is None:
        raise PoisonError("no such upload")
    if redelivered and status.state == uploads.DONE and status.unchanged:
        _match_again(store, token)
    with store.engine.connect() as conn:
        row = conn.execute(
            select(u.c.state, u.c.release_id, u.c.open_findings).where(u.c.token == token)
        ).first()
    return {
        "token": token,
        "state": row.state if row else None,
        "open_findings": row.open_findings if row else None,
    }


def _match_again(store: Store, token: str) -> None:
    """Match the upload's SBOM revision again: an earlier delivery may have stored it and died before
    matching (then storing it again found it unchanged and did not match)."""
    from sqlalchemy import select

    from mamori.portfolio import tables as t
    from mamori.portfolio.rematch import match_release
    from mamori.portfolio.upload_tables import UploadRow

    u, s = UploadRow.__table__, t.SbomRow.__table__
    with store.engine.connect() as conn:
        sbom_id = conn.scalar(select(u.c.sbom_id).where(u.c.token == token))
        if sbom_id is None:
            return
        release_id, revision = conn.execute(
            select(s.c.release_id, s.c.revision).where(s.c.id == sbom_id)
        ).one()
        previous = conn.scalar(
            select(s.c.id)
            .where(s.c.release_id == release_id, s.c.revision < revision)
            .order_by(s.c.revision.desc())
        )
    match_release(store, int(sbom_id), int(previous) if previous else None)


def sync_feed(store: Store, feed: str, *, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """``mamori db sync --source FEED``: fetch the feed from where its last sync stopped and import it.

    Idempotent: every step commits with the feed's new cursor, so a repeated or redelivered sync goes on
    from the last committed step and imports nothing twice. A feed that did not answer is a
    :class:`TransientError` (retried later)."""
    from mamori.vulndb.online import SYNC_SOURCES, SyncOptions, sync_source
    from mamori.vulndb.online.http import Fetcher

    if feed not in SYNC_SOURCES:
        raise PoisonError(f"unknown feed {feed!r}")
    opts = dict(options or {})
    sync_options = SyncOptions(
        ecosystems=list(opts.get("ecosystems") or []),
        urls={str(k): str(v) for k, v in (opts.get("urls") or {}).items()},
        api_key=opts.get("api_key"),
    )
    with Fetcher(
        timeout=float(opts.get("timeout", 60.0)), total=float(opts.get("total", 43200.0))
    ) as fetcher:
        result = sync_source(store, feed, fetcher, sync_options)
    if result.error is not None and not result.steps:
        raise TransientError(f"{feed}: {result.error}")
    return {
        "feed": feed,
        "steps": result.steps,
        "new": result.counts.new,
        "updated": result.counts.updated,
        "not_modified": result.not_modified,
        "error": result.error,
        "seconds": round(result.seconds, 3),
    }


def rematch_changed(store: Store) -> dict[str, Any]:
    """After a sync: re-match only what changed since the last run (in shards, in this process)."""
    from mamori.jobs.shards import rematch_in_shards

    return rematch_in_shards(store, changed_only=True).as_dict()


def rematch(store: Store, *, changed_only: bool = False, size: int | None = None) -> dict[str, Any]:
    """The portfolio re-match, shard after shard in this process."""
    from mamori.jobs.shards import SHARD_SIZE, rematch_in_shards

    return rematch_in_shards(store, changed_only=changed_only, size=size or SHARD_SIZE).as_dict()


def remember_ssvc(store: Store) -> dict[str, Any]:
    """After findings changed (a re-match run's end, an upload processed): the SSVC outcome of every
    vulnerability of the open findings decided and stored (:func:`mamori.portfolio.ssvc_view.remember_outcomes`),
    so that the server's dashboard reads them instead of deciding them on its first request; then the
    dashboard's counts made and stored (:func:`mamori.portfolio.dashboard.remember`); what
    ``mamori portfolio rematch`` does at its end as well (:func:`mamori.portfolio.dashboard.remember_after_change`)."""
    from mamori.portfolio.dashboard import remember_after_change

    return remember_after_change(store)


def notify_test(store: Store, subscription_id: int) -> dict[str, Any]:
    """The test message of a subscription (the web interface's button), sent by a worker: its outcome
    is in the delivery log. A subscription removed meanwhile sends nothing."""
    from mamori.errors import InputError
    from mamori.notify import send_test

    try:
        outcome = send_test(store, subscription_id)
    except InputError:
        return {"subscription": subscription_id, "sent": False, "error_class": "NoSubscription"}
    return {"subscription": subscription_id, "sent": outcome.ok, "error_class": outcome.error_class}


def notify(store: Store) -> dict[str, Any]:
    """``mamori notify run`` after a re-match or an upload: compute the events of what changed since the
    last computation and send what is due (:func:`mamori.notify.compute_events`,
    :func:`mamori.notify.deliver_pending`), when at least one subscription exists; with none, nothing is
    recorded (``mamori notify run`` records them when someone asks).

    Idempotent: an event is recorded once (its key is unique) and sent once per subscription (one
    delivery per subscription and event, claimed before sending, marked ``sent`` after), so a repeated or
    redelivered message sends nothing twice; one whose worker died between sending and recording sends
    that delivery again after the claim expires (at least once, never lost)."""
    from mamori.notify import compute_events, deliver_pending, list_subscriptions

    subscriptions = len(list_subscriptions(store))
    if not subscriptions:
        return {"subscriptions": 0, "events": 0, "messages": 0}
    from mamori.inventory.events import notify_inventory

    computed = compute_events(store)
    deployed = notify_inventory(store)  # deployed_kev and end_of_support of the deployed inventory
    report = deliver_pending(store)
    return {
        "subscriptions": subscriptions,
        "events": len(computed.events) + len(deployed.events),
        "deliveries": computed.deliveries + deployed.deliveries,
        "sent": report.sent,
        "messages": report.messages,
        "retrying": report.retrying,
        "failed": report.failed,
    }


def process_bundle(store: Store, job_id: str, *, redelivered: bool = False) -> dict[str, Any]:
    """Verify and import a bundle the team server received (:func:`mamori.bundle.jobs.process_bundle_job`):
    a summary; the bundle job's own row has the report. A bundle refused ends the bundle job ``failed``,
    not this task: sending it again would be refused again."""
    from mamori.bundle.jobs import process_bundle_job

    job = process_bundle_job(store, job_id, redelivered=redelivered)
    if job is None:
        raise PoisonError("no such bundle job")
    return {"bundle_job": job.id, "state": job.state, "import_id": job.import_id, "error": job.error}


def sweep_bundle_jobs(store: Store, older_than: float = 120.0) -> list[str]:
    """Bundle jobs left ``queued`` longer than ``older_than`` seconds (the broker was away when they came):
    their ids, to be submitted again."""
    from mamori.bundle.tables import BundleJobRow
    from mamori.store.jobrecord import left_queued

    return left_queued(store, BundleJobRow.__table__, "id", older_than, "submitted_at")


def sweep_uploads(store: Store, older_than: float = 120.0) -> list[str]:
    """Uploads left ``queued`` longer than ``older_than`` seconds (their message was never sent: the
    broker was away when they came): their tokens, to be submitted again."""
    from mamori.portfolio.upload_tables import UploadRow
    from mamori.store.jobrecord import left_queued

    return left_queued(store, UploadRow.__table__, "token", older_than, "id")


def probe(
    store: Store,
    *,
    key: str | None = None,
    job_id: str | None = None,
    attempt: int = 0,
    fail_times: int = 0,
    fail_while_missing: str | None = None,
    seconds: float = 0.0,
) -> dict[str, Any]:
    """A unit of work that does nothing but record itself (diagnostics, the benchmark, the reliability
    tests): fails transiently its first ``fail_times`` attempts, fails for good while the file
    ``fail_while_missing`` does not exist, takes ``seconds``; its dedup key ``key`` is written once."""
    if attempt < fail_times:
        raise TransientError(f"probe attempt {attempt}")
    if fail_while_missing is not None and not Path(fail_while_missing).exists():
        raise PoisonError("probe: file missing")
    if seconds:
        time.sleep(seconds)
    if key is not None:
        with store.engine.connect().execution_options(write=True) as conn:
            if not records.is_done(conn, key):
                records.mark_done(conn, key, job_id, {"attempt": attempt})
            conn.commit()
    return {"attempt": attempt}


def csaf_pull(store: Store, subscription_id: int) -> dict[str, Any]:
    """Pull one CSAF subscription now (the team server's "pull now"): its report. Every connection goes only
    to public addresses or networks the operator allowed (:mod:`mamori.notify.netguard`): a user of the
    server must not make it fetch from the server's own network."""
    from mamori.advisory.pull import pull
    from mamori.notify.netguard import guarded

    with guarded():
        return {"reports": [r.as_dict() for r in pull(store, subscription_id)]}

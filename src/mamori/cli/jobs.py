"""``mamori worker``, ``mamori scheduler`` and ``mamori jobs …``: background work on Celery workers.

Thin wiring over :mod:`mamori.jobs`: the worker runs mamori's tasks from RabbitMQ against the store, the
scheduler (Celery beat) sends each feed's sync on its schedule, and ``jobs dead list|replay`` reads and
re-sends the dead-letter queue; ``jobs status`` shows a job's row in the store.
"""

from __future__ import annotations

import json
import os
from typing import Any

import typer

from mamori.errors import InputError
from mamori.i18n import _

BROKER_HELP = "Message broker URL (RabbitMQ, amqp://…); default $MAMORI_BROKER_URL."
DB_HELP = "Database: SQLite path or URL; default $MAMORI_DB or the user data dir."
BROKER_OPTION = typer.Option(None, "--broker", help=BROKER_HELP)
DB_OPTION = typer.Option(None, "--db", help=DB_HELP)
FORMAT_OPTION = typer.Option("text", "--format", help="text or json.")
POOLS = ("prefork", "solo", "threads")
LOG_LEVELS = ("debug", "info", "warning", "error")

jobs_app = typer.Typer(help="Background jobs: their state, and the dead-letter queue.", no_args_is_help=True)
dead_app = typer.Typer(
    help="The dead-letter queue: messages that could not be processed.", no_args_is_help=True
)
jobs_app.add_typer(dead_app, name="dead")


def _broker(value: str | None) -> str:
    from mamori.jobs.settings import broker_url

    found = broker_url(value)
    if found is None:
        raise InputError(None, _("no message broker: give --broker or set MAMORI_BROKER_URL"))
    if not found.startswith(("amqp://", "amqps://", "pyamqp://")):
        raise InputError(
            None, _("--broker: expected an amqp:// URL (RabbitMQ), got {url!r}").format(url=found)
        )
    return found


def _format(value: str) -> str:
    if value not in ("text", "json"):
        raise InputError(None, _("--format: expected text or json, got {fmt!r}").format(fmt=value))
    return value


def _reachable(app: Any, url: str) -> None:
    from mamori.jobs.celeryapp import declare
    from mamori.jobs.settings import shown

    try:
        declare(app)
    except Exception as exc:
        raise InputError(
            None,
            _("cannot reach the message broker {url}: {reason}").format(
                url=shown(url), reason=type(exc).__name__
            ),
        ) from None


def worker(
    concurrency: int = typer.Option(
        2, "--concurrency", min=1, max=256, help="Worker processes (or threads) running tasks at once."
    ),
    queues: str | None = typer.Option(
        None, "--queues", help="Comma-separated queues to take work from (default: all of mamori's)."
    ),
    pool: str = typer.Option("prefork", "--pool", help="prefork (processes), threads or solo."),
    loglevel: str = typer.Option("info", "--loglevel", help="debug, info, warning or error."),
    broker: str | None = BROKER_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Run a Celery worker for mamori's tasks (uploads, feed syncs, re-match shards) against the store."""
    from mamori.jobs.settings import Queues, shown

    url = _broker(broker)
    names = Queues.from_env().names
    chosen = [q.strip() for q in (queues or "").split(",") if q.strip()] or list(names)
    for name in chosen:
        if name not in names:
            raise InputError(
                None,
                _("--queues: expected some of {queues}, got {value!r}").format(
                    queues=", ".join(names), value=name
                ),
            )
    if pool not in POOLS:
        raise InputError(
            None,
            _("--pool: expected one of {allowed}, got {value!r}").format(
                allowed=", ".join(POOLS), value=pool
            ),
        )
    if loglevel not in LOG_LEVELS:
        raise InputError(
            None,
            _("--loglevel: expected one of {allowed}, got {value!r}").format(
                allowed=", ".join(LOG_LEVELS), value=loglevel
            ),
        )
    from mamori.jobs.celeryapp import make_app
    from mamori.store import open_store
    from mamori.store.engine import resolve_url

    with open_store(db) as store:  # created or migrated here, once, not by each worker process
        shown_db = store.display_url
    app = make_app(url, db=resolve_url(db))
    _reachable(app, url)
    typer.echo(
        _("mamori worker: {broker} (database: {db}, queues: {queues})").format(
            broker=shown(url), db=shown_db, queues=", ".join(chosen)
        )
    )
    app.worker_main(
        [
            "worker",
            f"--concurrency={concurrency}",
            f"--queues={','.join(chosen)}",
            f"--pool={pool}",
            f"--loglevel={loglevel.upper()}",
            "--without-gossip",
            "--without-mingle",
            # one node name per worker process: two workers on one machine (say, one taking only
            # shards) would otherwise share the remote-control queue ``mamori@host.celery.pidbox``,
            # which RabbitMQ grants to one connection only, and the second one stops
            f"--hostname=mamori-{os.getpid()}@%h",
        ]
    )


def scheduler(
    every: list[str] = typer.Option(
        [],
        "--every",
        metavar="FEED=INTERVAL",
        help="A feed's sync interval, e.g. osv=6h, kev=1d, nvd=off (repeatable; units s, m, h, d).",
    ),
    schedule_file: str | None = typer.Option(
        None,
        "--schedule-file",
        help="Where the scheduler keeps the last run times (default: user cache dir).",
    ),
    loglevel: str = typer.Option("info", "--loglevel", help="debug, info, warning or error."),
    broker: str | None = BROKER_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Send each feed's sync on its schedule (Celery beat); workers run them and re-match what changed."""
    from mamori.jobs import schedule
    from mamori.jobs.settings import shown

    url = _broker(broker)
    intervals = schedule.parse(every)
    if loglevel not in LOG_LEVELS:
        raise InputError(
            None,
            _("--loglevel: expected one of {allowed}, got {value!r}").format(
                allowed=", ".join(LOG_LEVELS), value=loglevel
            ),
        )
    from pathlib import Path

    import platformdirs

    from mamori.jobs.celeryapp import make_app
    from mamori.store.engine import resolve_url

    target = (
        Path(schedule_file)
        if schedule_file
        else Path(platformdirs.user_cache_dir("mamori", appauthor=False)) / "beat-schedule"
    )
    _check_schedule_file(target, explicit=schedule_file is not None)
    app = make_app(url, db=resolve_url(db))
    app.conf.beat_schedule = schedule.beat_schedule(intervals)
    _reachable(app, url)
    plan = ", ".join(f"{feed}={int(seconds)}s" for feed, seconds in sorted(intervals.items())) or "-"
    typer.echo(_("mamori scheduler: {broker} (feeds: {plan})").format(broker=shown(url), plan=plan))
    app.start(["beat", f"--schedule={target}", f"--loglevel={loglevel.upper()}"])


def _check_schedule_file(path: Any, *, explicit: bool) -> None:
    """A regular file (or none yet) in an existing folder: one line naming it otherwise."""
    import stat

    if not explicit:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        found = path.lstat()
    except FileNotFoundError:
        if not path.parent.is_dir():
            raise InputError(path, _("the folder of the schedule file does not exist")) from None
        return
    except OSError as exc:
        raise InputError(
            path, _("cannot use the schedule file: {reason}").format(reason=exc.strerror)
        ) from None
    if not stat.S_ISREG(found.st_mode):
        raise InputError(path, _("not a regular file"))


@jobs_app.command("status")
def status(
    job_id: str = typer.Argument(..., help="The job's id."),
    db: str | None = DB_OPTION,
    output_format: str = FORMAT_OPTION,
) -> None:
    """How a job stands (its row in the store): exit 0 done, 1 failed or dead, 3 not finished."""
    from mamori.display import visible
    from mamori.jobs import records
    from mamori.store import open_store

    fmt = _format(output_format)
    with open_store(db) as store:
        job = records.get(store, job_id[:64])
    if job is None:
        raise InputError(None, _("no job {id!r}").format(id=job_id[:64]))
    if fmt == "json":
        typer.echo(json.dumps(job.as_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(visible(f"{job.id}\t{job.kind}\t{job.state}\t{job.attempts}\t{job.error or ''}"))
    raise typer.Exit(0 if job.state == "done" else 1 if job.state in ("failed", "dead") else 3)


@dead_app.command("list")
def dead_list(
    broker: str | None = BROKER_OPTION,
    output_format: str = FORMAT_OPTION,
) -> None:
    """List the dead-lettered messages (they stay in the queue)."""
    from mamori.display import visible
    from mamori.jobs.dead import list_dead

    url, fmt = _broker(broker), _format(output_format)
    letters = _with_broker(url, lambda: list_dead(url))
    if fmt == "json":
        typer.echo(json.dumps([d.as_dict() for d in letters], ensure_ascii=False, indent=2))
        return
    for d in letters:
        typer.echo(
            visible(f"{d.job_id or '-'}\t{d.task or '-'}\t{d.queue or '-'}\t{d.reason or '-'}\t{d.count}")
        )
    typer.echo(_("{count} dead letters").format(count=len(letters)))


@dead_app.command("replay")
def dead_replay(
    job: list[str] = typer.Option(
        [], "--job", help="Replay only this job's message (repeatable; default: all)."
    ),
    broker: str | None = BROKER_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Send the dead-lettered messages again to the queues they came from."""
    from mamori.jobs.dead import replay
    from mamori.store import open_store

    url = _broker(broker)
    with open_store(db) as store:
        sent = _with_broker(url, lambda: replay(url, job_ids=set(job) or None, store=store))
    typer.echo(_("{count} messages sent again").format(count=len(sent)))


def _with_broker(url: str, action: Any) -> Any:
    from mamori.jobs.settings import shown

    try:
        return action()
    except (OSError, ConnectionError) as exc:
        raise InputError(
            None,
            _("cannot reach the message broker {url}: {reason}").format(
                url=shown(url), reason=type(exc).__name__
            ),
        ) from None
    except Exception as exc:
        if type(exc).__module__.split(".")[0] in ("kombu", "amqp"):
            raise InputError(
                None,
                _("cannot reach the message broker {url}: {reason}").format(
                    url=shown(url), reason=type(exc).__name__
                ),
            ) from None
        raise

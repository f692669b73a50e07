"""Background work: uploaded SBOMs, feed syncs, portfolio re-matches, on Celery workers or in-process.

Layer: above store, match, triage and portfolio; below cli and server.

- :mod:`mamori.jobs.work`: the task functions (plain functions over a store, idempotent per unit of work).
- :mod:`mamori.jobs.shards`: the portfolio re-match split into shards merged transactionally.
- :mod:`mamori.jobs.celeryapp`: the Celery application (RabbitMQ, late acks, retries, dead letters).
- :mod:`mamori.jobs.dispatch`: submit to Celery when a broker is configured, else run in this process.
- :mod:`mamori.jobs.dead`: list and replay the dead-letter queue.
- :mod:`mamori.jobs.schedule`: the per-feed schedules of ``mamori scheduler``.
- :mod:`mamori.jobs.records`, :mod:`mamori.jobs.tables`: the job table and dedup keys in the store.

Nothing here imports Celery until a broker is used: the embedded default never loads it.
"""

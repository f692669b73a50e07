"""Every module that defines tables on the store's shared ``Base``.

The store holds the tables of several features (vulnerabilities, assessments, triage records, the portfolio);
each feature keeps its table classes beside its code. SQLAlchemy registers a table only when its module is
imported, so whatever needs the whole schema (Alembic autogenerate, the schema check in the tests) imports them
all through :func:`all_metadata`. A new feature with tables adds its module here.
"""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

TABLE_MODULES: tuple[str, ...] = (
    "mamori.store.schema",
    "mamori.compliance.records",
    "mamori.triage.record_tables",
    "mamori.portfolio.tables",
    "mamori.accounts.tables",
    "mamori.portfolio.upload_tables",
    "mamori.accounts.assessment_owner",
    "mamori.notify.tables",
    "mamori.jobs.tables",
    "mamori.psirt.tables",
    "mamori.bundle.tables",
    "mamori.inventory.tables",
    "mamori.contract.tables",
    "mamori.advisory.subscription_tables",
)


def all_metadata() -> MetaData:
    """The shared metadata with every feature's tables registered."""
    for name in TABLE_MODULES:
        importlib.import_module(name)
    from mamori.store.schema import Base

    return Base.metadata

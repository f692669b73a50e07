"""The vulnerability knowledge base store: SQLAlchemy 2 on SQLite (default) or PostgreSQL, Alembic migrations;
a SQLite store at the current schema is read through sqlite3 (:mod:`mamori.store.query`)."""

from mamori.store.database import Store, open_store
from mamori.store.engine import default_path, resolve_url
from mamori.store.reader import Lookup

__all__ = ["Lookup", "Store", "default_path", "open_store", "resolve_url"]

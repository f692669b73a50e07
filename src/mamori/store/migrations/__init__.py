"""Alembic migrations of the knowledge base, applied automatically when a store is opened."""

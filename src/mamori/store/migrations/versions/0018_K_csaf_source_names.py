"""A source of its own per CSAF provider: the columns that hold a source's name grow from 16 to 200
characters (``csaf:<publisher namespace>``, mamori.advisory.csaf_kb.provider_name) and the list of a
merged vulnerability's sources becomes text. Advisories pulled before are stored as source ``csaf``:
their records, the merged vulnerabilities they are part of, their rows of affected packages and CPEs
and the source's state move to ``csaf:<namespace>`` (the namespace their products name, else the one
of the subscription they were pulled from).

Revision ID: 0018_K_csaf_source_names
Revises: 0017_C_csaf_subscription
Create Date: 2026-12-07
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0018_K_csaf_source_names"
down_revision = "0017_C_csaf_subscription"
branch_labels = None
depends_on = None

_WIDE = 200
_NARROW = 16
_SOURCE_COLUMNS = (
    ("source_record", False),
    ("affected_package", False),
    ("affected_cpe", False),
    ("source_state", False),
    ("coverage", False),
    ("portfolio_record_seen", False),
)


def _widen(wide: bool) -> None:
    old, new = (sa.String(_NARROW), sa.String(_WIDE)) if wide else (sa.String(_WIDE), sa.String(_NARROW))
    for table, nullable in _SOURCE_COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("source", existing_type=old, type_=new, existing_nullable=nullable)
    with op.batch_alter_table("vulnerability") as batch:
        batch.alter_column(
            "sources",
            existing_type=sa.String(100) if wide else sa.Text(),
            type_=sa.Text() if wide else sa.String(100),
            existing_nullable=False,
        )


def _renamed(value: Any, provider: str) -> Any:
    """A stored record with every ``"source": "csaf"`` made the provider's name."""
    if isinstance(value, dict):
        return {
            k: provider if k == "source" and v == "csaf" else _renamed(v, provider) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_renamed(v, provider) for v in value]
    return value


def _provider_in(data: dict[str, Any]) -> str | None:
    for key in ("affected_products", "severities"):
        for item in data.get(key) or []:
            name = item.get("provider") if isinstance(item, dict) else None
            if isinstance(name, str) and name.startswith("csaf:"):
                return name
    return None


def feed_key(tracking_id: str) -> str:
    """The feed a pull stored an advisory's records under (as mamori.advisory.csaf_kb.feed_key, frozen)."""
    if len(tracking_id) <= 32:
        return tracking_id
    digest = hashlib.blake2b(tracking_id.encode(), digest_size=4).hexdigest()
    return f"{tracking_id[:23]}~{digest}"


def provider_name(namespace: str) -> str:
    """``csaf:<namespace>`` (as mamori.advisory.csaf_kb.provider_name, frozen)."""
    name = f"csaf:{namespace.rstrip('/')}"
    if len(name) <= _WIDE:
        return name
    digest = hashlib.blake2b(name.encode(), digest_size=4).hexdigest()
    return f"{name[: _WIDE - 9]}~{digest}"


def _move_pulled_records() -> None:
    from mamori.store import documents
    from mamori.store.writer import Writer

    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT record_id, feed, vuln_id, doc FROM source_record WHERE source = 'csaf'")
    ).all()
    by_feed: dict[str, str] = {}
    for tracking_id, namespace in conn.execute(
        sa.text(
            "SELECT a.tracking_id, s.namespace FROM csaf_advisory a "
            "JOIN csaf_subscription s ON s.id = a.subscription_id"
        )
    ):
        by_feed.setdefault(feed_key(tracking_id), provider_name(namespace))
    groups: set[str] = set()
    providers: set[str] = set()
    for record_id, feed, vuln_id, blob in rows:
        data = documents.unpack(blob)
        provider = _provider_in(data) or by_feed.get(feed)
        if provider is None:
            continue  # nothing says whose it is: stays ``csaf``
        providers.add(provider)
        doc = documents.to_json(_renamed(data, provider))
        conn.execute(
            sa.text(
                "UPDATE source_record SET source = :new, doc = :doc, digest = :digest "
                "WHERE source = 'csaf' AND record_id = :record_id AND feed = :feed"
            ),
            {
                "new": provider,
                "doc": documents.pack(doc),
                "digest": documents.digest(doc),
                "record_id": record_id,
                "feed": feed,
            },
        )
        groups.add(vuln_id)
    if groups:  # the merged rows (sources, documents, affected packages and CPEs) built again
        writer = Writer(conn)
        members = writer._members_of(groups, set())
        writer._delete_groups(groups)
        by_group: dict[str, list[Any]] = {}
        for record, vid in members.values():
            by_group.setdefault(vid, []).append(record)
        writer._insert_groups(sorted(by_group.items()))
    state = conn.execute(sa.text("SELECT updated_at FROM source_state WHERE source = 'csaf'")).first()
    if state is not None:
        for metadata_url, namespace in conn.execute(
            sa.text("SELECT metadata_url, namespace FROM csaf_subscription WHERE last_pull IS NOT NULL")
        ):
            provider = provider_name(namespace)
            if provider in providers:
                conn.execute(sa.text("DELETE FROM source_state WHERE source = :source"), {"source": provider})
                conn.execute(
                    sa.text(
                        "INSERT INTO source_state (source, updated_at, origin) VALUES (:source, :at, :origin)"
                    ),
                    {"source": provider, "at": state[0], "origin": metadata_url},
                )
        left = conn.execute(sa.text("SELECT count(*) FROM source_record WHERE source = 'csaf'")).scalar()
        if not left:
            conn.execute(sa.text("DELETE FROM source_state WHERE source = 'csaf'"))


def upgrade() -> None:
    _widen(True)
    _move_pulled_records()


def downgrade() -> None:
    # names longer than the old columns would not fit: the records of CSAF providers go back to ``csaf``
    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM source_state WHERE source LIKE 'csaf:%'"))
    conn.execute(sa.text("DELETE FROM coverage WHERE source LIKE 'csaf:%'"))
    conn.execute(sa.text("DELETE FROM portfolio_record_seen WHERE source LIKE 'csaf:%'"))
    for table in ("source_record", "affected_package", "affected_cpe"):
        conn.execute(sa.text(f"UPDATE {table} SET source = 'csaf' WHERE source LIKE 'csaf:%'"))
    _widen(False)

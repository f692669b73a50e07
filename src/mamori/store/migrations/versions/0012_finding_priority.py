"""The stored priority sort key of each affected finding (``portfolio_finding.priority``, see
mamori.portfolio.priority) and two partial indexes of the open affected findings: by that key (the
first page of a findings list is a range of it) and by release (how many a scope has). The keys of
the findings already stored are written here; the re-match writes them from now on.

Revision ID: finding_priority
Revises: uploads
Create Date: 2026-12-07
"""

from __future__ import annotations

import struct

import sqlalchemy as sa
from alembic import op

revision = "finding_priority"
down_revision = "uploads"
branch_labels = None
depends_on = None

OPEN_AFFECTED = "resolved_run IS NULL AND priority IS NOT NULL"
BATCH = 20_000

# the key as mamori.portfolio.priority wrote it when this revision was written
_RATING_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "none": 4, "unknown": 5}
_KEY_BYTES = 512
_SIGN = 1 << 63
_ALL = (1 << 64) - 1


def _text(value: str) -> bytes:
    return value.encode("utf-8", "surrogatepass").replace(b"\x00", b"\x00\x01") + b"\x00\x00"


def _key(
    rating: str | None, score: float | None, product: str, release: str, ref: str, vuln_id: str
) -> bytes:
    value = float(-(score or 0)) + 0.0
    bits = struct.unpack(">Q", struct.pack(">d", value))[0]
    head = bytes((_RATING_ORDER.get(rating or "", 9),)) + struct.pack(
        ">Q", bits ^ _ALL if bits & _SIGN else bits | _SIGN
    )
    return (head + _text(product) + _text(release) + _text(ref) + _text(vuln_id))[:_KEY_BYTES]


def _backfill(conn: sa.Connection) -> None:
    """Write the key of every affected finding: read in one pass, written through a scratch table and
    one UPDATE (row-by-row updates of a large portfolio take many minutes)."""
    meta = sa.MetaData()
    f = sa.Table(
        "portfolio_finding", meta, sa.Column("release_id"), sa.Column("match_id"), sa.Column("priority")
    )
    m = sa.Table(
        "portfolio_match", meta, sa.Column("id"), sa.Column("component_id"), sa.Column("vuln_id"),
        sa.Column("verdict"), sa.Column("rating"), sa.Column("score"),
    )  # fmt: skip
    c = sa.Table("portfolio_component", meta, sa.Column("id"), sa.Column("ref"))
    r = sa.Table("product_release", meta, sa.Column("id"), sa.Column("product_id"), sa.Column("version"))
    p = sa.Table("product", meta, sa.Column("id"), sa.Column("name"))
    scratch = sa.Table(
        "finding_priority_new",
        meta,
        sa.Column("release_id", sa.Integer, primary_key=True),
        sa.Column("match_id", sa.Integer, primary_key=True),
        sa.Column("priority", sa.LargeBinary),
    )
    scratch.create(conn)
    stmt = (
        sa.select(
            f.c.release_id, f.c.match_id, m.c.rating, m.c.score, p.c.name, r.c.version, c.c.ref, m.c.vuln_id
        )
        .select_from(
            f.join(m, m.c.id == f.c.match_id)
            .join(c, c.c.id == m.c.component_id)
            .join(r, r.c.id == f.c.release_id)
            .join(p, p.c.id == r.c.product_id)
        )
        .where(m.c.verdict == "affected")
    )
    result = conn.execute(stmt.execution_options(stream_results=True, yield_per=BATCH))
    for part in result.partitions(BATCH):
        rows = [
            {"release_id": rid, "match_id": mid, "priority": _key(rating, score, name, version, ref, vid)}
            for rid, mid, rating, score, name, version, ref, vid in part
        ]
        conn.execute(scratch.insert(), rows)
    result.close()
    conn.execute(
        sa.update(f)
        .values(priority=scratch.c.priority)
        .where(scratch.c.release_id == f.c.release_id, scratch.c.match_id == f.c.match_id)
    )
    scratch.drop(conn)
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("ANALYZE portfolio_finding"))


def upgrade() -> None:
    with op.batch_alter_table("portfolio_finding") as batch:
        batch.add_column(sa.Column("priority", sa.LargeBinary(), nullable=True))
    _backfill(op.get_bind())
    op.create_index(
        "ix_portfolio_finding_open_priority",
        "portfolio_finding",
        ["priority"],
        postgresql_where=sa.text(OPEN_AFFECTED),
        sqlite_where=sa.text(OPEN_AFFECTED),
    )
    op.create_index(
        "ix_portfolio_finding_open_release",
        "portfolio_finding",
        ["release_id"],
        postgresql_where=sa.text(OPEN_AFFECTED),
        sqlite_where=sa.text(OPEN_AFFECTED),
    )


def downgrade() -> None:
    op.drop_index("ix_portfolio_finding_open_release", table_name="portfolio_finding")
    op.drop_index("ix_portfolio_finding_open_priority", table_name="portfolio_finding")
    with op.batch_alter_table("portfolio_finding") as batch:
        batch.drop_column("priority")

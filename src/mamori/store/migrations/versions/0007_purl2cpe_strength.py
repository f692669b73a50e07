"""purl2cpe link strength: ``purl_cpe.strength`` (strong: the CPE product plausibly names the package,
used for matching; weak: only on request) and ``purl_cpe.rule`` (the rule of mamori.model.linkrule
that decided, docs/purl2cpe.md). Links already stored are judged here, with the rule as installed.

Revision ID: purl2cpe2
Revises: portfolio_source1
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "purl2cpe2"
down_revision = "portfolio_source1"
branch_labels = None
depends_on = None

_BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table("purl_cpe") as batch:
        batch.add_column(sa.Column("strength", sa.String(8), server_default="weak", nullable=False))
        batch.add_column(sa.Column("rule", sa.String(16), server_default="", nullable=False))
    from mamori.model.linkrule import judge

    links = sa.table(
        "purl_cpe",
        sa.column("id", sa.Integer()),
        sa.column("purl_type", sa.String()),
        sa.column("purl_namespace", sa.Text()),
        sa.column("purl_name", sa.Text()),
        sa.column("cpe_vendor", sa.Text()),
        sa.column("cpe_product", sa.Text()),
        sa.column("strength", sa.String()),
        sa.column("rule", sa.String()),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(
            links.c.id,
            links.c.purl_type,
            links.c.purl_namespace,
            links.c.purl_name,
            links.c.cpe_vendor,
            links.c.cpe_product,
        )
    ).all()
    update = (
        sa.update(links)
        .where(links.c.id == sa.bindparam("link_id"))
        .values(strength=sa.bindparam("new_strength"), rule=sa.bindparam("new_rule"))
    )
    for start in range(0, len(rows), _BATCH):
        values = []
        for link_id, purl_type, namespace, name, vendor, product in rows[start : start + _BATCH]:
            verdict = judge(purl_type, namespace or "", name, vendor, product)
            values.append({"link_id": link_id, "new_strength": verdict.strength, "new_rule": verdict.rule})
        conn.execute(update, values)


def downgrade() -> None:
    with op.batch_alter_table("purl_cpe") as batch:
        batch.drop_column("rule")
        batch.drop_column("strength")

"""Store tables of the product portfolio (SQLAlchemy 2, on the store's shared ``Base``).

The Alembic migration ``portfolio1`` (store/migrations/versions/0004_portfolio.py) creates them.

- ``product`` and ``product_release``: what a supplier ships; a release points at its current SBOM.
- ``release_sbom``: every SBOM ever stored for a release (revision 1, 2 …) with its provenance — the
  original file's bytes (zlib) and SHA-256, format, the tools that made it, when and by whom it was
  stored, and with which mamori.
- ``portfolio_component``: one row per distinct component *identity* (purl, name, version, CPEs)
  across all SBOMs, with its lookup keys: OSV ecosystem + normalised name, purl2cpe link key, and
  (in ``portfolio_component_cpe``) the vendor:product of each CPE it declares. Matching works on
  identities, so a library shipped in 500 releases is evaluated once.
- ``sbom_component``: which identities an SBOM revision lists.
- ``portfolio_match``: what matching said about one identity and one vulnerability (affected, or
  ``unknown`` with the reason) and its evidence; ``portfolio_finding``: that match per release,
  first seen / resolved by which run (``portfolio_run``), so a finding's history survives re-matches.
  Each affected finding carries its stored priority sort key (migration ``finding_priority``,
  0012_finding_priority.py; :mod:`mamori.portfolio.priority`).
- ``portfolio_run``: each matching run (full, changed-only, or one release) with its counts and time.
- ``portfolio_record_seen``: the digest and merged vulnerability of every source record as of the
  last full or changed-only run — what ``rematch --changed-only`` compares the store against.
- ``product_context``: the product's triage context, set once (migration ``product_context``,
  0007_product_context.py): one row per SSVC context point (system exposure, mission impact, safety
  impact …) with the value, the reason given, who set it and when.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from mamori.store.schema import SOURCE_LENGTH, Base

OPEN_AFFECTED = "resolved_run IS NULL AND priority IS NOT NULL"  # the partial indexes of portfolio_finding


class ProductRow(Base):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    supplier: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(200))


class ReleaseRow(Base):
    __tablename__ = "product_release"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    product_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("product.id", name="fk_product_release_product")
    )
    version: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(200))
    current_sbom_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("product_id", "version", name="uq_product_release_version"),)


class SbomRow(Base):
    __tablename__ = "release_sbom"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    release_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("product_release.id", name="fk_release_sbom_release")
    )
    revision: Mapped[int] = mapped_column(Integer)
    file_name: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(40))
    spec_version: Mapped[str | None] = mapped_column(String(16))
    serial_number: Mapped[str | None] = mapped_column(Text)
    sbom_timestamp: Mapped[str | None] = mapped_column(String(40))
    tools: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[str] = mapped_column(String(32))
    imported_by: Mapped[str] = mapped_column(String(200))
    importer: Mapped[str] = mapped_column(String(64))
    components: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (UniqueConstraint("release_id", "revision", name="uq_release_sbom_revision"),)


class ComponentRow(Base):
    __tablename__ = "portfolio_component"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    ref: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    component_group: Mapped[str | None] = mapped_column(Text)
    version: Mapped[str | None] = mapped_column(Text)
    purl: Mapped[str | None] = mapped_column(Text)
    purl_base: Mapped[str | None] = mapped_column(Text)
    cpes: Mapped[str | None] = mapped_column(Text)  # newline-separated
    ecosystem: Mapped[str | None] = mapped_column(String(64))
    name_key: Mapped[str | None] = mapped_column(Text)
    link_type: Mapped[str | None] = mapped_column(String(32))
    link_namespace: Mapped[str | None] = mapped_column(Text)
    link_name: Mapped[str | None] = mapped_column(Text)
    problem: Mapped[str | None] = mapped_column(Text)
    matched_run: Mapped[int | None] = mapped_column(Integer)
    # an OS package's source package (migration portfolio_source1)
    source_name: Mapped[str | None] = mapped_column(Text)
    source_version: Mapped[str | None] = mapped_column(Text)
    source_name_key: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_portfolio_component_ecosystem_name_key", "ecosystem", "name_key"),
        Index("ix_portfolio_component_link", "link_type", "link_namespace", "link_name"),
        Index("ix_portfolio_component_ecosystem_source", "ecosystem", "source_name_key"),
    )


class ComponentCpeRow(Base):
    __tablename__ = "portfolio_component_cpe"

    component_id: Mapped[int] = mapped_column(
        Integer,
        ForeignKey("portfolio_component.id", name="fk_portfolio_component_cpe_component"),
        primary_key=True,
    )
    vendor: Mapped[str] = mapped_column(Text, primary_key=True)
    product: Mapped[str] = mapped_column(Text, primary_key=True)

    __table_args__ = (Index("ix_portfolio_component_cpe_vendor_product", "vendor", "product"),)


class SbomComponentRow(Base):
    __tablename__ = "sbom_component"

    sbom_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("release_sbom.id", name="fk_sbom_component_sbom"), primary_key=True
    )
    component_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("portfolio_component.id", name="fk_sbom_component_component"), primary_key=True
    )

    __table_args__ = (Index("ix_sbom_component_component_id", "component_id"),)


class MatchRow(Base):
    __tablename__ = "portfolio_match"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    component_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("portfolio_component.id", name="fk_portfolio_match_component")
    )
    vuln_id: Mapped[str] = mapped_column(String(200), index=True)
    verdict: Mapped[str] = mapped_column(String(16))  # affected | unknown
    aliases: Mapped[str | None] = mapped_column(Text)  # space-separated
    method: Mapped[str | None] = mapped_column(String(24))
    confidence: Mapped[str | None] = mapped_column(String(8))
    detail: Mapped[str] = mapped_column(Text)  # the best evidence, or why it cannot be evaluated
    fixed: Mapped[str | None] = mapped_column(Text)  # nearest first, comma-separated
    rating: Mapped[str] = mapped_column(String(16))
    score: Mapped[float | None] = mapped_column(Float)
    digest: Mapped[str] = mapped_column(String(32))

    __table_args__ = (UniqueConstraint("component_id", "vuln_id", name="uq_portfolio_match_component_vuln"),)


class FindingRow(Base):
    __tablename__ = "portfolio_finding"

    release_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("product_release.id", name="fk_portfolio_finding_release"), primary_key=True
    )
    match_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("portfolio_match.id", name="fk_portfolio_finding_match"), primary_key=True
    )
    first_run: Mapped[int] = mapped_column(Integer)
    last_run: Mapped[int | None] = mapped_column(Integer)  # set when resolved; open ones: the component's
    resolved_run: Mapped[int | None] = mapped_column(Integer)
    resolution: Mapped[str | None] = mapped_column(String(24))  # not-matched | component-removed
    # affected findings: the stored part of the priority order (mamori.portfolio.priority); notes: NULL
    priority: Mapped[bytes | None] = mapped_column(LargeBinary)

    __table_args__ = (
        Index("ix_portfolio_finding_match_id", "match_id"),
        # the open findings in priority order (a list's first page), and how many a scope has
        Index(
            "ix_portfolio_finding_open_priority",
            "priority",
            postgresql_where=text(OPEN_AFFECTED),
            sqlite_where=text(OPEN_AFFECTED),
        ),
        Index(
            "ix_portfolio_finding_open_release",
            "release_id",
            postgresql_where=text(OPEN_AFFECTED),
            sqlite_where=text(OPEN_AFFECTED),
        ),
    )


class RunRow(Base):
    __tablename__ = "portfolio_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mode: Mapped[str] = mapped_column(String(16))  # full | changed | release
    started_at: Mapped[str] = mapped_column(String(32))
    finished_at: Mapped[str | None] = mapped_column(String(32))
    seconds: Mapped[float | None] = mapped_column(Float)
    done: Mapped[bool] = mapped_column(Boolean)
    link_mark: Mapped[int | None] = mapped_column(Integer)  # highest purl_cpe id this run saw
    sbom_mark: Mapped[int | None] = mapped_column(Integer)  # highest release_sbom id this run saw
    vulnerabilities: Mapped[int] = mapped_column(Integer)  # merged vulnerabilities changed since the last run
    components: Mapped[int] = mapped_column(Integer)  # identities matched
    placements: Mapped[int] = mapped_column(Integer)  # (release, component) pairs they stand for
    releases: Mapped[int] = mapped_column(Integer)
    opened: Mapped[int] = mapped_column(Integer)
    reopened: Mapped[int] = mapped_column(Integer)
    resolved: Mapped[int] = mapped_column(Integer)


class RecordSeenRow(Base):
    __tablename__ = "portfolio_record_seen"

    source: Mapped[str] = mapped_column(String(SOURCE_LENGTH), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    feed: Mapped[str] = mapped_column(String(32), primary_key=True)
    digest: Mapped[str] = mapped_column(String(32))
    vuln_id: Mapped[str] = mapped_column(String(200))


class ProductContextRow(Base):
    __tablename__ = "product_context"

    product_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("product.id", name="fk_product_context_product"), primary_key=True
    )
    point: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[str] = mapped_column(String(32))


class SsvcOutcomeRow(Base):
    """A vulnerability's SSVC outcome without a product context (:func:`mamori.portfolio.ssvc_view.outcomes`),
    decided at the knowledge base's ``state`` (a digest): written when a re-match run ends, so that a
    server's first dashboard reads it instead of deciding every vulnerability. ``outcome`` NULL:
    undecided (no record)."""

    __tablename__ = "portfolio_ssvc_outcome"

    variant: Mapped[str] = mapped_column(String(64), primary_key=True)
    vuln_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str | None] = mapped_column(String(32))


class MemoRow(Base):
    """A count across the portfolio that the findings lists and the dashboard keep
    (:func:`mamori.portfolio.views.findings_memo`), as JSON, with a digest of the store's ``state`` it was
    counted at (the latest re-match run and the KEV catalogue): a server just started reads it instead of
    counting every open finding again. Rows of another state are stale (deleted when one is written)."""

    __tablename__ = "portfolio_memo"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(Text)

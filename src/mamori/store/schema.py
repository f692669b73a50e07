"""Tables of the vulnerability knowledge base (SQLAlchemy 2). Alembic migrations create them.

- ``source_record``: each source's record as imported (JSON), with the merged vulnerability it joined.
- ``vulnerability``: the merged record (JSON document for ``db show``) under its canonical id.
- ``alias``: every identifier → the merged vulnerability(ies) that carry it.
- ``affected_package`` and ``affected_cpe``: flat entries for fast matching, indexed by
  (ecosystem, normalised name) and (vendor, product); ``position`` points into the document.
- ``kev``, ``epss``: enrichment by CVE id; ``purl_cpe``: purl ↔ CPE vendor:product links.
- ``source_state``: last update and origin per source (and a cursor for incremental sync).
- ``coverage``: per source and scope (an OSV ecosystem, or ``cpe`` for NVD, CVE 5 and JVN) whether a
  complete feed was imported (an OSV ecosystem export or sync, an NVD or JVN sync, or an import the user
  declared complete), when and from where; loose records imported from files only make a partial scope.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mamori.store.query import SQUASHED_NAME

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}


# a source's name: ``nvd``, ``osv`` … or ``csaf:<publisher namespace>`` (mamori.advisory.csaf_kb)
SOURCE_LENGTH = 200


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class SourceRecord(Base):
    __tablename__ = "source_record"

    source: Mapped[str] = mapped_column(String(SOURCE_LENGTH), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    feed: Mapped[str] = mapped_column(String(32), primary_key=True, default="")
    vuln_id: Mapped[str] = mapped_column(String(200), index=True)
    modified: Mapped[str | None] = mapped_column(String(32), index=True)
    withdrawn: Mapped[str | None] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(32))
    doc: Mapped[bytes] = mapped_column(LargeBinary)

    # what a scan counts (records and withdrawn ones per source, CVE ids per source) read from the
    # index instead of the rows with their documents; the newest ``modified`` from its own index
    __table_args__ = (
        Index("ix_source_record_source_vuln_id", "source", "vuln_id", "record_id", "withdrawn"),
    )


class Vulnerability(Base):
    __tablename__ = "vulnerability"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    sources: Mapped[str] = mapped_column(Text)  # the sources' names, comma-separated
    published: Mapped[str | None] = mapped_column(String(32))
    modified: Mapped[str | None] = mapped_column(String(32), index=True)
    withdrawn: Mapped[str | None] = mapped_column(String(32))
    # The merged document; NULL when one source record makes the vulnerability (read that record's doc).
    doc: Mapped[bytes | None] = mapped_column(LargeBinary)


class Alias(Base):
    __tablename__ = "alias"

    alias_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    vuln_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    alias: Mapped[str] = mapped_column(String(200))

    __table_args__ = (Index("ix_alias_vuln_id", "vuln_id"),)


class AffectedPackage(Base):
    __tablename__ = "affected_package"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    vuln_id: Mapped[str] = mapped_column(String(200), index=True)
    source: Mapped[str] = mapped_column(String(SOURCE_LENGTH))
    record_id: Mapped[str] = mapped_column(String(200))
    origin: Mapped[str] = mapped_column(String(16))  # package (OSV affected) | product (CVE 5 packageName)
    position: Mapped[int] = mapped_column(Integer)
    ecosystem: Mapped[str] = mapped_column(String(64))
    ecosystem_variant: Mapped[str] = mapped_column(String(64), default="")
    name: Mapped[str] = mapped_column(Text)
    name_key: Mapped[str] = mapped_column(Text)
    purl: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_affected_package_ecosystem_name_key", "ecosystem", "name_key"),)


class AffectedCpe(Base):
    __tablename__ = "affected_cpe"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    vuln_id: Mapped[str] = mapped_column(String(200), index=True)
    source: Mapped[str] = mapped_column(String(SOURCE_LENGTH))
    record_id: Mapped[str] = mapped_column(String(200))
    origin: Mapped[str] = mapped_column(String(16))  # configuration (NVD) | product (CVE 5, JVN)
    position: Mapped[int] = mapped_column(Integer)
    part: Mapped[str] = mapped_column(String(1))
    vendor: Mapped[str] = mapped_column(Text)
    product: Mapped[str] = mapped_column(Text)
    cpe: Mapped[str] = mapped_column(Text)
    version: Mapped[str | None] = mapped_column(Text)
    start_including: Mapped[str | None] = mapped_column(Text)
    start_excluding: Mapped[str | None] = mapped_column(Text)
    end_including: Mapped[str | None] = mapped_column(Text)
    end_excluding: Mapped[str | None] = mapped_column(Text)
    version_type: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # affected | unaffected | unknown
    vulnerable: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (Index("ix_affected_cpe_vendor_product", "vendor", "product"),)


class KevEntry(Base):
    __tablename__ = "kev"

    cve_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    date_added: Mapped[str | None] = mapped_column(String(10))
    due_date: Mapped[str | None] = mapped_column(String(10))
    known_ransomware_use: Mapped[str | None] = mapped_column(String(16))
    doc: Mapped[bytes] = mapped_column(LargeBinary)


class EpssScore(Base):
    __tablename__ = "epss"

    cve_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    percentile: Mapped[float] = mapped_column(Float)
    date: Mapped[str | None] = mapped_column(String(10))


class KnowledgeChange(Base):
    """An identifier (``merge.key``: a merged vulnerability's id, or a CVE id) whose merged record, KEV
    entry or EPSS score an import changed, until the next computation of notification events reads it
    (:mod:`mamori.notify.events`): the findings of those vulnerabilities are decided again, the others
    read as they did. ``token``: the import that wrote it last (a row written again by another import
    after a computation read it stays for the next one)."""

    __tablename__ = "knowledge_change"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


class PurlCpe(Base):
    __tablename__ = "purl_cpe"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    purl_type: Mapped[str] = mapped_column(String(32))
    purl_namespace: Mapped[str] = mapped_column(Text)
    purl_name: Mapped[str] = mapped_column(Text)
    purl: Mapped[str] = mapped_column(Text)
    cpe_vendor: Mapped[str] = mapped_column(Text)
    cpe_product: Mapped[str] = mapped_column(Text)
    # strong: the product plausibly names the package, used for matching; weak: only on request.
    # rule: the mamori.model.linkrule rule that decided (docs/purl2cpe.md).
    strength: Mapped[str] = mapped_column(String(8), server_default="weak")
    rule: Mapped[str] = mapped_column(String(16), server_default="")

    __table_args__ = (
        UniqueConstraint("purl", "cpe_vendor", "cpe_product", name="uq_purl_cpe_link"),
        Index("ix_purl_cpe_purl_type_name", "purl_type", "purl_namespace", "purl_name"),
        Index("ix_purl_cpe_cpe_vendor_product", "cpe_vendor", "cpe_product"),
        # the look-up of a few packages' links by name (mamori.match.purl2cpe.load_links_of)
        Index("ix_purl_cpe_purl_type_squashed_name", "purl_type", text(SQUASHED_NAME)),
    )


class SourceState(Base):
    __tablename__ = "source_state"

    source: Mapped[str] = mapped_column(String(SOURCE_LENGTH), primary_key=True)
    updated_at: Mapped[str] = mapped_column(String(32))
    origin: Mapped[str | None] = mapped_column(Text)
    cursor: Mapped[str | None] = mapped_column(Text)


class Coverage(Base):
    """What the knowledge base can vouch for: a scope is *complete* once a whole feed of it was
    imported; ``complete_at`` is when that feed was last fetched (the data age a scan reports)."""

    __tablename__ = "coverage"

    source: Mapped[str] = mapped_column(String(SOURCE_LENGTH), primary_key=True)
    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    complete: Mapped[bool] = mapped_column(Boolean)
    complete_at: Mapped[str | None] = mapped_column(String(32))
    complete_origin: Mapped[str | None] = mapped_column(Text)
    partial_at: Mapped[str | None] = mapped_column(String(32))
    partial_origin: Mapped[str | None] = mapped_column(Text)

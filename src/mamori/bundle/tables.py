"""Store tables of imported supplier release bundles (SQLAlchemy 2, on the store's shared ``Base``).

The Alembic migration ``0017_E_bundle`` (store/migrations/versions/0017_E_bundle.py) creates them.

- ``bundle_import``: one verified bundle imported: the product and release it is for, the supplier that
  signed it, the SHA-256 of the bundle file and of its signed statement, the signing key's id, who imported
  it and when, the open findings of the release right after the import (JSON list of ``vuln|purl``, what the
  next import of the product is compared with) and the differences from the previous bundle (JSON).
- ``bundle_document``: every part of an imported bundle kept as it came (zlib): its member name, kind
  (sbom, sbom-cyclonedx, vex, csaf, declaration-json, declaration-pdf, label-page), media type, SHA-256
  and size, so a declaration PDF or label page can be handed on exactly as the supplier signed it.
- ``bundle_trusted_key``: the public keys pinned per supplier (PEM, key id); a bundle verified without
  ``--key`` must be signed by one of its supplier's pinned keys.

- ``bundle_job`` (migration ``0019_B_bundle_jobs_team_keys``): a bundle received by the team server, its
  verification and import as a background job: the job's id (what the client polls), the team and principal
  that sent it and whether that principal may write every product, the bundle's SHA-256, size and the key
  sent with it, the dedup key (team and bundle SHA-256: the same bundle sent twice is one import; cleared
  when the job fails, so it may be sent again), the state (``queued`` → ``running`` → ``done`` |
  ``failed``), the one-line reason a failed one was refused (and, migration ``0020_Q_refusal_message``,
  the same language-neutral: msgid and values as JSON, :mod:`mamori.store.jobrecord`), the report (JSON: the import with its
  differences from the previous bundle and the contract check, or the verification's failures), the import
  it became, when it was submitted, started and finished, and the bundle's bytes (zlib) until it ends.

Times are UTC ISO 8601 strings, as in the portfolio tables.
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mamori.store.schema import Base


class BundleImportRow(Base):
    __tablename__ = "bundle_import"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    product_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("product.id", name="fk_bundle_import_product"), index=True
    )
    release: Mapped[str] = mapped_column(String(100))
    supplier: Mapped[str] = mapped_column(String(200))
    bundle_sha256: Mapped[str] = mapped_column(String(64))
    statement_sha256: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(128))
    imported_at: Mapped[str] = mapped_column(String(32))
    imported_by: Mapped[str] = mapped_column(String(200))
    findings: Mapped[str] = mapped_column(Text)  # JSON list of "vulnerability|purl", sorted
    diff: Mapped[str] = mapped_column(Text)  # JSON: what differs from the previous bundle of the product


class BundleDocumentRow(Base):
    __tablename__ = "bundle_document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    import_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("bundle_import.id", name="fk_bundle_document_import"), index=True
    )
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))
    media_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class TrustedKeyRow(Base):
    __tablename__ = "bundle_trusted_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    supplier: Mapped[str] = mapped_column(String(200), index=True)
    key_id: Mapped[str] = mapped_column(String(128))
    pem: Mapped[str] = mapped_column(Text)
    added_at: Mapped[str] = mapped_column(String(32))
    added_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("supplier", "key_id", name="uq_bundle_trusted_key"),)


class BundleJobRow(Base):
    __tablename__ = "bundle_job"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    team_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("account_team.id", name="fk_bundle_job_team", ondelete="CASCADE"), index=True
    )
    submitted_by: Mapped[str] = mapped_column(String(200))
    every_product: Mapped[bool] = mapped_column(Boolean)
    bundle_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    key_pem: Mapped[str | None] = mapped_column(Text)
    dedup_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    state: Mapped[str] = mapped_column(String(16), index=True)  # queued | running | done | failed
    error: Mapped[str | None] = mapped_column(Text)  # one line, English where it could be said again
    result: Mapped[str | None] = mapped_column(Text)  # JSON
    import_id: Mapped[int | None] = mapped_column(Integer)
    submitted_at: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[str | None] = mapped_column(String(32))
    finished_at: Mapped[str | None] = mapped_column(String(32))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)  # zlib; cleared once the job ends
    error_message: Mapped[str | None] = mapped_column(Text)  # JSON: ``error`` language-neutral

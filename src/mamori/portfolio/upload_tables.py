"""Store tables of SBOM uploads (SQLAlchemy 2, on the store's shared ``Base``).

The Alembic migration ``uploads`` (store/migrations/versions/0011_uploads.py) creates them.

- ``sbom_upload``: one row per SBOM sent to the server (Dependency-Track's ``PUT/POST /api/v1/bom`` or
  mamori's own API): its token (a UUID, what the client polls), the product and release it is for,
  the file's name, size and SHA-256, its state (``queued`` → ``processing`` → ``done`` | ``failed``),
  the one-line reason a failed one was refused (and, migration ``0020_Q_refusal_message``, the same
  language-neutral: msgid and values as JSON, :mod:`mamori.store.jobrecord`), the release and SBOM revision it became, counts, when it
  was submitted, started and finished, and who sent it. The bytes are kept only until processing ends
  (then the release's archived SBOM holds them, :mod:`mamori.portfolio.archive`).
- ``release_uuid``: the stable UUID of a product release, which Dependency-Track clients know as the
  project's ``uuid`` (set when a release is first asked for it, never changed).
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mamori.store.schema import Base


class UploadRow(Base):
    __tablename__ = "sbom_upload"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token: Mapped[str] = mapped_column(String(36), unique=True)
    product: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(100))
    auto_create: Mapped[bool] = mapped_column(Boolean)
    file_name: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), index=True)  # queued | processing | done | failed
    error: Mapped[str | None] = mapped_column(Text)  # one line, English where it could be said again
    release_id: Mapped[int | None] = mapped_column(Integer)
    sbom_id: Mapped[int | None] = mapped_column(Integer)
    sbom_format: Mapped[str | None] = mapped_column(String(40))
    components: Mapped[int | None] = mapped_column(Integer)
    open_findings: Mapped[int | None] = mapped_column(Integer)
    unchanged: Mapped[bool | None] = mapped_column(Boolean)
    submitted_at: Mapped[str] = mapped_column(String(32))
    submitted_by: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[str | None] = mapped_column(String(32))
    finished_at: Mapped[str | None] = mapped_column(String(32))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)  # zlib; cleared once processed
    error_message: Mapped[str | None] = mapped_column(Text)  # JSON: ``error`` language-neutral


class ReleaseUuidRow(Base):
    __tablename__ = "release_uuid"

    release_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("product_release.id", name="fk_release_uuid_release"), primary_key=True
    )
    uuid: Mapped[str] = mapped_column(String(36), unique=True)

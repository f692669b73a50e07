"""Store tables of notifications (SQLAlchemy 2, on the store's shared ``Base``).

The Alembic migration ``notify`` (store/migrations/versions/0012_notify.py) creates them.

- ``notify_subscription``: a team's subscription: channel (``webhook``, ``slack``, ``teams``, ``email``),
  target (URL or e-mail address), the webhook's HMAC secret, filters (products, minimum severity, SSVC
  outcomes, KEV only, event kinds), ``immediate`` or ``digest`` (daily), language (``ja``/``en``).
- ``notify_event``: an event computed from the store, once: its ``key`` is unique (kind + subject + the
  new value), so computing events again from the same store adds nothing.
- ``notify_delivery``: one event for one subscription; unique (subscription, event) — the dedup key: an
  event is sent to a subscription once however often delivery runs. ``state``: pending, sent, failed
  (given up after the attempts allowed).
- ``notify_attempt``: the delivery log: every attempt to send (one event, or a digest of several): when,
  channel, status (sent, retry, failed), the HTTP status or SMTP code, the error's class (never a secret).
- ``notify_finding_state``: what the last computation saw of each open finding (KEV, EPSS, SSVC outcome),
  what the next one compares against; ``notify_sbom_score``: the NTIA score of each stored SBOM revision.

Times are UTC ISO 8601 strings of one fixed width, as in the accounts tables.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mamori.accounts import tables as _account_tables  # noqa: F401  (``account_team``)
from mamori.store.schema import Base


class SubscriptionRow(Base):
    __tablename__ = "notify_subscription"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("account_team.id", name="fk_notify_subscription_team"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(Text)
    secret: Mapped[str | None] = mapped_column(Text)
    products: Mapped[str | None] = mapped_column(Text)  # newline-separated product names; NULL: every one
    min_severity: Mapped[str | None] = mapped_column(String(16))
    ssvc_outcomes: Mapped[str | None] = mapped_column(Text)  # comma-separated outcome ids
    kev_only: Mapped[bool] = mapped_column(Boolean)
    events: Mapped[str | None] = mapped_column(Text)  # comma-separated event kinds; NULL: every kind
    mode: Mapped[str] = mapped_column(String(16))  # immediate | digest
    lang: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(200))


class EventRow(Base):
    __tablename__ = "notify_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(400), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    product: Mapped[str | None] = mapped_column(String(200))
    release: Mapped[str | None] = mapped_column(String(100))
    vuln_id: Mapped[str | None] = mapped_column(String(200))
    severity: Mapped[str | None] = mapped_column(String(16))
    ssvc_outcome: Mapped[str | None] = mapped_column(String(32))
    kev: Mapped[bool] = mapped_column(Boolean)
    payload: Mapped[str] = mapped_column(Text)  # JSON
    created_at: Mapped[str] = mapped_column(String(32))


class DeliveryRow(Base):
    __tablename__ = "notify_delivery"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("notify_subscription.id", name="fk_notify_delivery_subscription")
    )
    event_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("notify_event.id", name="fk_notify_delivery_event")
    )
    state: Mapped[str] = mapped_column(String(16))  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer)
    next_at: Mapped[str] = mapped_column(String(32))  # not before (a retry's backoff, a digest's hour)
    sent_at: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[str] = mapped_column(String(32))

    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id", name="uq_notify_delivery_subscription_event"),
        Index("ix_notify_delivery_state", "state", "next_at"),
    )


class AttemptRow(Base):
    __tablename__ = "notify_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(Integer, index=True)
    at: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # sent | retry | failed
    code: Mapped[int | None] = mapped_column(Integer)  # HTTP status or SMTP reply code
    error_class: Mapped[str | None] = mapped_column(String(64))
    events: Mapped[int] = mapped_column(Integer)
    digest: Mapped[bool] = mapped_column(Boolean)
    test: Mapped[bool] = mapped_column(Boolean)


class FindingStateRow(Base):
    __tablename__ = "notify_finding_state"

    key: Mapped[str] = mapped_column(
        String(40), primary_key=True
    )  # SHA-1 of product, release, component, vulnerability
    kev: Mapped[bool] = mapped_column(Boolean)
    epss: Mapped[float | None] = mapped_column(Float)
    ssvc_outcome: Mapped[str | None] = mapped_column(String(32))


class SbomScoreRow(Base):
    __tablename__ = "notify_sbom_score"

    sbom_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    score: Mapped[int] = mapped_column(Integer)


class WatermarkRow(Base):
    """What the last computation of events saw of the store-wide state (one row per name)."""

    __tablename__ = "notify_watermark"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class FindingInputRow(Base):
    """Each open finding the last computation of events saw, with the digest of its own rows
    (:func:`mamori.portfolio.views.finding_inputs`): the next computation decides only the findings
    whose digest changed or that are new, while the store-wide state is unchanged."""

    __tablename__ = "notify_finding_input"

    release_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    match_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(32))

"""Store tables of subscriptions to suppliers' CSAF 2.0 providers (SQLAlchemy 2, on the store's ``Base``).

The Alembic migration ``0017_C_csaf_subscription`` creates them.

- ``csaf_subscription``: one provider: the provider-metadata.json URL, how it was found (``url``,
  ``well-known``, ``security.txt``, ``dns``), the publisher's name and namespace, the last pull (time,
  counts as JSON), the deviations from CSAF 2.0 met (JSON list) and the watermarks of its distributions
  (JSON: feed or folder URL → the newest ``updated`` / changes.csv time fully pulled).
- ``csaf_subscription_key``: the OpenPGP keys pinned for it on the command line (of no team): fingerprint
  and the armored certificate.
- ``csaf_subscription_team_key`` (migration ``0019_B_bundle_jobs_team_keys``): the keys a team of the team
  server pinned for it: one team's keys make no other team trust an advisory.
- ``csaf_advisory_team``: each advisory's signature state for each team of its subscription, checked
  against that team's keys only (the advisory itself is downloaded once per provider).
- ``csaf_advisory``: each advisory pulled: its URL, sha256, tracking id and version, current release date,
  the signature state (``valid``, ``not-verifiable``, ``missing``) and the document as published.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mamori.store.schema import Base


class SubscriptionRow(Base):
    __tablename__ = "csaf_subscription"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    metadata_url: Mapped[str] = mapped_column(Text, unique=True)
    given: Mapped[str] = mapped_column(Text)  # what the person named: a URL or a domain
    found_by: Mapped[str] = mapped_column(String(16))  # url | well-known | security.txt | dns
    publisher: Mapped[str] = mapped_column(Text)
    namespace: Mapped[str] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(32))
    last_pull: Mapped[str | None] = mapped_column(String(32))
    counts: Mapped[str] = mapped_column(Text, default="{}")  # JSON: the last pull's counts
    deviations: Mapped[str] = mapped_column(Text, default="[]")  # JSON: [{kind, where, message}]
    watermarks: Mapped[str] = mapped_column(Text, default="{}")  # JSON: distribution URL → time


class SubscriptionKeyRow(Base):
    __tablename__ = "csaf_subscription_key"
    __table_args__ = (UniqueConstraint("subscription_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("csaf_subscription.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(64))
    armored: Mapped[str] = mapped_column(Text)


class AdvisoryRow(Base):
    __tablename__ = "csaf_advisory"
    __table_args__ = (UniqueConstraint("subscription_id", "url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("csaf_subscription.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    tracking_id: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(32))
    current_release_date: Mapped[str] = mapped_column(String(40))
    signature: Mapped[str] = mapped_column(String(16))  # valid | not-verifiable | missing
    pulled_at: Mapped[str] = mapped_column(String(32))
    doc: Mapped[bytes] = mapped_column(LargeBinary)


class SubscriptionTeamRow(Base):
    """The teams of the team server a subscription belongs to (migration ``0018_J_supplier_teams``).

    A subscription made on the command line has no team; one made through the server's API is linked to the
    team that made it. Another team sees it only when it subscribed to the same provider too."""

    __tablename__ = "csaf_subscription_team"
    __table_args__ = (UniqueConstraint("subscription_id", "team_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("csaf_subscription.id", ondelete="CASCADE"), index=True
    )
    team_id: Mapped[int] = mapped_column(ForeignKey("account_team.id", ondelete="CASCADE"), index=True)


class SubscriptionTeamKeyRow(Base):
    """A key one team pinned for a subscription (migration ``0019_B_bundle_jobs_team_keys``)."""

    __tablename__ = "csaf_subscription_team_key"
    __table_args__ = (UniqueConstraint("subscription_id", "team_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("csaf_subscription.id", ondelete="CASCADE"), index=True
    )
    team_id: Mapped[int] = mapped_column(ForeignKey("account_team.id", ondelete="CASCADE"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    armored: Mapped[str] = mapped_column(Text)


class AdvisoryTeamRow(Base):
    """An advisory's signature state for one team: verified against that team's pinned keys only."""

    __tablename__ = "csaf_advisory_team"
    __table_args__ = (UniqueConstraint("advisory_id", "team_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    advisory_id: Mapped[int] = mapped_column(ForeignKey("csaf_advisory.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("account_team.id", ondelete="CASCADE"), index=True)
    signature: Mapped[str] = mapped_column(String(16))  # valid | not-verifiable | missing

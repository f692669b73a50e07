"""Store tables of PSIRT cases (SQLAlchemy 2, on the store's shared ``Base``).

The Alembic migration ``0016_F_psirt`` (store/migrations/versions/0016_F_psirt.py) creates them.

- ``psirt_case``: one reported vulnerability: its key (``PSIRT-<year>-<n>``), state, the team handling it,
  the reporter (name, contact, credit preference), the channel it came by and the channel's own reference
  (a Message-ID, a coordinator's case number), the coordinator, embargo date, CVE ID when assigned, the
  component and affected range (purl without version, ``vers:`` range), the SSVC supplier outcome with its
  evidence, and the texts of the advisory (JSON: per language title, description, workaround …).
- ``psirt_case_event``: every transition and edit: when, who, from and to which state, the note.
- ``psirt_case_product``: the affected releases: computed from the portfolio or set by a person, with the
  status (known_affected, fixed, known_not_affected).
- ``psirt_timer``: a team's timers in days (``acknowledge``, ``triage``, ``fix_<ssvc outcome>``); the
  team ``""`` holds overrides of the packaged defaults for every team.
- ``psirt_advisory_revision``: the revisions of a case's advisory: number, date, status, summary.

Times are UTC ISO 8601 strings of one fixed width, as in the accounts tables.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mamori.store.schema import Base


class CaseRow(Base):
    __tablename__ = "psirt_case"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    state: Mapped[str] = mapped_column(String(24), index=True)
    team: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8))  # the language the case's texts were written in
    reporter_name: Mapped[str | None] = mapped_column(Text)
    reporter_contact: Mapped[str | None] = mapped_column(Text)
    credit: Mapped[str] = mapped_column(String(16))  # named | anonymous | none
    channel: Mapped[str] = mapped_column(String(16))  # api | web | email | coordinator
    channel_ref: Mapped[str | None] = mapped_column(Text)
    coordinator: Mapped[str | None] = mapped_column(String(200))
    embargo_until: Mapped[str | None] = mapped_column(String(32))
    cve_id: Mapped[str | None] = mapped_column(String(40), index=True)
    component: Mapped[str | None] = mapped_column(Text)  # purl without version
    affected_range: Mapped[str | None] = mapped_column(Text)  # vers: range
    fixed_version: Mapped[str | None] = mapped_column(String(100))
    cwe: Mapped[str | None] = mapped_column(String(16))
    cvss_v3: Mapped[str | None] = mapped_column(String(200))
    cvss_v4: Mapped[str | None] = mapped_column(String(300))
    ssvc_outcome: Mapped[str | None] = mapped_column(String(32))
    ssvc: Mapped[str | None] = mapped_column(Text)  # JSON: the decision's path and the evidence given
    duplicate_of: Mapped[str | None] = mapped_column(String(40))
    texts: Mapped[str] = mapped_column(Text)  # JSON: {lang: {title, description, workaround, mitigation}}
    fix_url: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[str] = mapped_column(String(32))
    state_since: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(200))


class CaseEventRow(Base):
    __tablename__ = "psirt_case_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("psirt_case.id", name="fk_psirt_case_event_case"), index=True
    )
    at: Mapped[str] = mapped_column(String(32))
    who: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # opened | transition | edit
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str | None] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)


class CaseProductRow(Base):
    __tablename__ = "psirt_case_product"

    case_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("psirt_case.id", name="fk_psirt_case_product_case"), primary_key=True
    )
    product: Mapped[str] = mapped_column(String(200), primary_key=True)
    release: Mapped[str] = mapped_column(String(100), primary_key=True)
    status: Mapped[str] = mapped_column(String(24))  # known_affected | fixed | known_not_affected
    source: Mapped[str] = mapped_column(String(16))  # computed | person
    component_version: Mapped[str | None] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[str] = mapped_column(String(32))


class TimerRow(Base):
    __tablename__ = "psirt_timer"

    team: Mapped[str] = mapped_column(String(200), primary_key=True)  # "": every team
    timer: Mapped[str] = mapped_column(String(32), primary_key=True)
    days: Mapped[int] = mapped_column(Integer)


class AdvisoryRevisionRow(Base):
    __tablename__ = "psirt_advisory_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("psirt_case.id", name="fk_psirt_advisory_revision_case")
    )
    number: Mapped[int] = mapped_column(Integer)
    date: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # draft | interim | final
    summary: Mapped[str] = mapped_column(Text)
    who: Mapped[str] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("case_id", "number", name="uq_psirt_advisory_revision_number"),)

"""Assessments in the store: create, load, answer (with history), attach evidence, keep proposals.

Every write runs in one transaction: a failed import or a bad value leaves the assessment as it was.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mamori.compliance import catalog as cat
from mamori.compliance.assessment import (
    LEVELS,
    STATUSES,
    Answer,
    Assessment,
    Evidence,
    check_framework,
    parse_date,
    resolve_item,
    status_from_level,
)
from mamori.compliance.evidence import now
from mamori.compliance.records import AnswerRow, AssessmentRow, EvidenceRow, HistoryRow, ProposalRow
from mamori.errors import InputError
from mamori.i18n import _
from mamori.store import Store

UNSET: Any = object()
_STRENGTH = {"not_applicable": -1, "not_implemented": 0, "partial": 1, "implemented": 2}
ANSWER_FIELDS = ("status", "level", "owner", "due", "reason")


def default_actor() -> str | None:
    try:
        return os.environ.get("MAMORI_USER") or getpass.getuser()
    except (OSError, KeyError):
        return None


@dataclass(frozen=True)
class Change:
    item_id: str | None
    field: str
    old: str | None
    new: str | None


@dataclass
class Proposal:
    """Evidence mamori found for an item, with the status it suggests; a person confirms or rejects it."""

    item_id: str
    artifact_kind: str
    artifact_ref: str
    sha256: str | None
    subject: str | None
    suggested_status: str
    suggested_level: int | None
    reason: dict[str, str]
    id: int | None = None
    state: str = "pending"
    created_at: str = ""


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


class Assessments:
    """The assessment tables of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with Session(self.store.engine, expire_on_commit=False) as session, session.begin():
            yield session

    # ------------------------------------------------------------------ create / load

    def create(
        self,
        framework: str,
        organization: str,
        roles: tuple[str, ...],
        scope: str,
        *,
        via: str = "cli",
        actor: str | None = None,
    ) -> Assessment:
        framework = check_framework(framework)
        if not organization.strip():
            raise InputError(None, _("--org must name the organisation"))
        if not scope.strip():
            raise InputError(None, _("--scope must say what is assessed (e.g. a product and release)"))
        catalog = cat.load(framework)
        stamp = now()
        row = AssessmentRow(
            framework=framework,
            catalog_version=catalog.version,
            organization=organization.strip(),
            roles=",".join(roles),
            scope=scope.strip(),
            created_at=stamp,
            updated_at=stamp,
            label_fields={},
        )
        with self._session() as session:
            session.add(row)
            session.flush()
            session.add(
                HistoryRow(
                    assessment_id=row.id,
                    item_id=None,
                    field="created",
                    old=None,
                    new=framework,
                    at=stamp,
                    actor=actor or default_actor(),
                    via=via,
                )
            )
        return self.get(row.id)

    def ids(self) -> list[int]:
        with self._session() as session:
            return list(session.scalars(select(AssessmentRow.id).order_by(AssessmentRow.id)))

    def all(self) -> list[Assessment]:
        return [self.get(ident) for ident in self.ids()]

    def get(self, ident: int | str) -> Assessment:
        number = _number(ident)
        with self._session() as session:
            row = session.get(AssessmentRow, number)
            if row is None:
                raise InputError(
                    None,
                    _("no assessment {ident} in {display_url}").format(
                        ident=ident, display_url=self.store.display_url
                    ),
                )
            answers = {
                a.item_id: Answer(
                    a.item_id, status_from_level(a.status, a.level), a.level, a.owner, a.due, a.reason
                )
                for a in session.scalars(select(AnswerRow).where(AnswerRow.assessment_id == number))
            }
            evidence_rows = session.scalars(
                select(EvidenceRow).where(EvidenceRow.assessment_id == number).order_by(EvidenceRow.id)
            )
            for ev in evidence_rows:
                answers.setdefault(ev.item_id, Answer(ev.item_id)).evidence.append(
                    Evidence(
                        ev.kind,
                        ev.ref,
                        ev.artifact_kind,
                        ev.sha256,
                        ev.size,
                        ev.file_time,
                        ev.recorded_at,
                        ev.note,
                    )
                )
            return Assessment(
                id=row.id,
                framework=row.framework,
                catalog_version=row.catalog_version,
                organization=row.organization,
                roles=tuple(r for r in row.roles.split(",") if r),
                scope=row.scope,
                created_at=row.created_at,
                updated_at=row.updated_at,
                approver=row.approver,
                declared_on=row.declared_on,
                valid_from=row.valid_from,
                valid_until=row.valid_until,
                label_fields=dict(row.label_fields or {}),
                answers=answers,
            )

    # ------------------------------------------------------------------ answers

    def answer(
        self,
        assessment: Assessment,
        item_id: str,
        *,
        status: Any = UNSET,
        level: Any = UNSET,
        owner: Any = UNSET,
        due: Any = UNSET,
        reason: Any = UNSET,
        evidence: Iterable[Evidence] = (),
        via: str = "cli",
        actor: str | None = None,
    ) -> list[Change]:
        """Set fields of one item's answer (UNSET leaves a field alone); returns what changed."""
        update = {"status": status, "level": level, "owner": owner, "due": due, "reason": reason}
        return self.answer_many(assessment, [(item_id, update, list(evidence))], via=via, actor=actor)

    def answer_many(
        self,
        assessment: Assessment,
        updates: list[tuple[str, dict[str, Any], list[Evidence]]],
        *,
        via: str,
        actor: str | None = None,
    ) -> list[Change]:
        """Apply several answers in one transaction: all of them or none."""
        checked = [
            (item.id, values, evidence)
            for item_id, values, evidence in updates
            for item in [resolve_item(assessment, item_id)]
        ]
        planned = [
            (item_id, validated_answer(assessment, item_id, values), evidence)
            for item_id, values, evidence in checked
        ]
        stamp, actor = now(), actor or default_actor()
        changes: list[Change] = []
        with self._session() as session:
            for item_id, values, evidence in planned:
                changes += self._write_answer(session, assessment.id, item_id, values, stamp)
                known = {(e.kind, e.ref, e.sha256) for e in assessment.answer(item_id).evidence}
                for ev in evidence:
                    if (ev.kind, ev.ref, ev.sha256) in known:
                        continue
                    known.add((ev.kind, ev.ref, ev.sha256))
                    session.add(_evidence_row(assessment.id, item_id, ev))
                    changes.append(Change(item_id, "evidence", None, ev.ref))
            self._record(session, assessment.id, changes, stamp, actor, via)
        return changes

    def _write_answer(
        self, session: Session, assessment_id: int, item_id: str, values: dict[str, Any], stamp: str
    ) -> list[Change]:
        row = session.get(AnswerRow, (assessment_id, item_id))
        if row is None:
            row = AnswerRow(assessment_id=assessment_id, item_id=item_id, updated_at=stamp)
            session.add(row)
        changes = []
        for name, value in values.items():
            old = getattr(row, name)
            if old != value:
                changes.append(Change(item_id, name, _text(old), _text(value)))
                setattr(row, name, value)
        if changes:
            row.updated_at = stamp
        return changes

    def _record(
        self,
        session: Session,
        assessment_id: int,
        changes: list[Change],
        stamp: str,
        actor: str | None,
        via: str,
    ) -> None:
        if not changes:
            return
        for change in changes:
            session.add(
                HistoryRow(
                    assessment_id=assessment_id,
                    item_id=change.item_id,
                    field=change.field,
                    old=change.old,
                    new=change.new,
                    at=stamp,
                    actor=actor,
                    via=via,
                )
            )
        session.get(AssessmentRow, assessment_id).updated_at = stamp  # type: ignore[union-attr]

    def update_header(
        self, assessment: Assessment, values: dict[str, Any], *, via: str = "cli", actor: str | None = None
    ) -> list[Change]:
        """Set assessment-level fields (approver, declared_on, valid_from, valid_until, label_fields)."""
        stamp = now()
        changes: list[Change] = []
        with self._session() as session:
            row = session.get(AssessmentRow, assessment.id)
            assert row is not None
            for name, value in values.items():
                old = getattr(row, name)
                if old != value:
                    changes.append(Change(None, name, _text(old), _text(value)))
                    setattr(row, name, value)
            self._record(session, assessment.id, changes, stamp, actor or default_actor(), via)
        return changes

    def history(self, assessment_id: int) -> list[dict[str, Any]]:
        with self._session() as session:
            rows = session.scalars(
                select(HistoryRow).where(HistoryRow.assessment_id == assessment_id).order_by(HistoryRow.id)
            )
            return [
                {
                    "at": r.at,
                    "actor": r.actor,
                    "via": r.via,
                    "item": r.item_id,
                    "field": r.field,
                    "old": r.old,
                    "new": r.new,
                }
                for r in rows
            ]

    def delete(self, assessment_id: int) -> None:
        with self._session() as session:
            for table in (HistoryRow, ProposalRow, EvidenceRow, AnswerRow):
                session.execute(delete(table).where(table.assessment_id == assessment_id))
            session.execute(delete(AssessmentRow).where(AssessmentRow.id == assessment_id))

    # ------------------------------------------------------------------ proposals

    def add_proposals(self, assessment: Assessment, proposals: list[Proposal]) -> list[Proposal]:
        """Store new proposals; one already made for the same item and artifact content is skipped."""
        stamp = now()
        added: list[Proposal] = []
        with self._session() as session:
            existing = {
                (p.item_id, p.artifact_kind, p.sha256 or p.artifact_ref)
                for p in session.scalars(
                    select(ProposalRow).where(
                        ProposalRow.assessment_id == assessment.id, ProposalRow.state != "rejected"
                    )
                )
            }
            for proposal in proposals:
                key = (proposal.item_id, proposal.artifact_kind, proposal.sha256 or proposal.artifact_ref)
                if key in existing:
                    continue
                existing.add(key)
                row = ProposalRow(
                    assessment_id=assessment.id,
                    item_id=proposal.item_id,
                    artifact_kind=proposal.artifact_kind,
                    artifact_ref=proposal.artifact_ref,
                    sha256=proposal.sha256,
                    subject=proposal.subject,
                    suggested_status=proposal.suggested_status,
                    suggested_level=proposal.suggested_level,
                    reason=proposal.reason,
                    state="pending",
                    created_at=stamp,
                )
                session.add(row)
                session.flush()
                proposal.id, proposal.state, proposal.created_at = row.id, "pending", stamp
                added.append(proposal)
        return added

    def proposals(self, assessment_id: int, state: str | None = None) -> list[Proposal]:
        with self._session() as session:
            query = select(ProposalRow).where(ProposalRow.assessment_id == assessment_id)
            if state is not None:
                query = query.where(ProposalRow.state == state)
            return [_proposal(row) for row in session.scalars(query.order_by(ProposalRow.id))]

    def settle_proposals(
        self,
        assessment: Assessment,
        chosen: list[Proposal],
        *,
        accept: bool,
        override: bool = False,
        actor: str | None = None,
    ) -> list[Change]:
        """Confirm (evidence attached; suggested status and level set where the item has none, or always
        with ``override``) or reject pending proposals, in one transaction."""
        stamp, actor = now(), actor or default_actor()
        changes: list[Change] = []
        decided: dict[str, dict[str, Any]] = {}
        with self._session() as session:
            for proposal in chosen:
                row = session.get(ProposalRow, proposal.id)
                if row is None or row.state != "pending":
                    raise InputError(None, _("proposal {id} is not pending").format(id=proposal.id))
                row.state = "confirmed" if accept else "rejected"
                changes.append(Change(row.item_id, "proposal", "pending", f"{row.state} #{row.id}"))
                if not accept:
                    continue
                session.add(
                    EvidenceRow(
                        assessment_id=assessment.id,
                        item_id=row.item_id,
                        kind="artifact",
                        ref=row.artifact_ref,
                        artifact_kind=row.artifact_kind,
                        sha256=row.sha256,
                        recorded_at=stamp,
                        note=row.reason.get("en"),
                    )
                )
                values = _suggested(
                    row, assessment.answer(row.item_id), decided.setdefault(row.item_id, {}), override
                )
                if values:
                    changes += self._write_answer(session, assessment.id, row.item_id, values, stamp)
                    decided[row.item_id].update(values)
                changes.append(Change(row.item_id, "evidence", None, row.artifact_ref))
            self._record(session, assessment.id, changes, stamp, actor, "proposal")
        return changes


def _suggested(row: ProposalRow, current: Answer, set_here: dict[str, Any], override: bool) -> dict[str, Any]:
    """What a confirmed proposal writes: its status and level where the item has none (or with
    ``override``); when several proposals for one item are confirmed together, the strongest wins."""
    values: dict[str, Any] = {}
    if "status" in set_here:
        if _STRENGTH[row.suggested_status] > _STRENGTH[set_here["status"]]:
            values["status"] = row.suggested_status
    elif override or current.status is None:
        values["status"] = row.suggested_status
    if row.suggested_level is not None:
        if "level" in set_here:
            if row.suggested_level > set_here["level"]:
                values["level"] = row.suggested_level
        elif override or current.level is None:
            values["level"] = row.suggested_level
    return values


def _number(ident: int | str) -> int:
    try:
        return int(str(ident).lstrip("#"))
    except ValueError:
        raise InputError(None, _("an assessment id is a number, not {ident!r}").format(ident=ident)) from None


def _evidence_row(assessment_id: int, item_id: str, ev: Evidence) -> EvidenceRow:
    return EvidenceRow(
        assessment_id=assessment_id,
        item_id=item_id,
        kind=ev.kind,
        ref=ev.ref,
        artifact_kind=ev.artifact_kind,
        sha256=ev.sha256,
        size=ev.size,
        file_time=ev.file_time,
        recorded_at=ev.recorded_at or now(),
        note=ev.note,
    )


def _proposal(row: ProposalRow) -> Proposal:
    return Proposal(
        item_id=row.item_id,
        artifact_kind=row.artifact_kind,
        artifact_ref=row.artifact_ref,
        sha256=row.sha256,
        subject=row.subject,
        suggested_status=row.suggested_status,
        suggested_level=row.suggested_level,
        reason=dict(row.reason),
        id=row.id,
        state=row.state,
        created_at=row.created_at,
    )


def validated_answer(assessment: Assessment, item_id: str, values: dict[str, Any]) -> dict[str, Any]:
    """The fields to write for one item, checked against each other and the current answer."""
    current = assessment.answer(item_id)
    out: dict[str, Any] = {}
    for name in ANSWER_FIELDS:
        value = values.get(name, UNSET)
        if value is UNSET:
            continue
        if isinstance(value, str):
            value = value.strip() or None
        out[name] = value
    if out.get("status") is not None and out["status"] not in STATUSES:
        raise InputError(
            None,
            _("{item_id}: status must be one of {allowed}, not {status!r}").format(
                item_id=item_id, allowed=", ".join(STATUSES), status=out["status"]
            ),
        )
    if "level" in out and out["level"] is not None:
        if assessment.framework != "ssdf":
            raise InputError(
                None, _("{item_id}: a level 0-3 is given for SSDF tasks only").format(item_id=item_id)
            )
        if out["level"] not in LEVELS:
            raise InputError(
                None,
                _("{item_id}: level must be 0, 1, 2 or 3, not {level!r}").format(
                    item_id=item_id, level=out["level"]
                ),
            )
        if out.get("status") is None and ("status" in out or current.status is None):
            out["status"] = status_from_level(None, out["level"])
    if out.get("due") is not None:
        out["due"] = parse_date(out["due"], _("{item_id}: the due date").format(item_id=item_id))
    status = out.get("status", current.status)
    level = out.get("level", current.level)
    reason = out.get("reason", current.reason)
    if status == "not_applicable" and not reason:
        raise InputError(None, _("{item_id}: not_applicable needs a reason").format(item_id=item_id))
    if status == "implemented" and level == 0:
        raise InputError(
            None,
            _("{item_id}: level 0 means not achieved, so the status cannot be implemented").format(
                item_id=item_id
            ),
        )
    return out

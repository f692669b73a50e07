"""Triage records in the store: the response decided per (product, release, component purl, vulnerability).

Tables (on the store's shared ``Base``; created by the Alembic migrations ``triage1``,
store/migrations/versions/0003_triage_records.py, and ``triage_origin``, 0008_triage_origin.py):

- ``triage_record``: the current status (VEX vocabulary: not_affected, affected, fixed,
  under_investigation), justification (CISA label), responses (CycloneDX labels), detail, who and when,
  and a version that counts the changes; its ``origin`` says whose decision it is: ``user`` (set with
  ``mamori triage record``) or ``vex`` (a statement of an imported VEX document, named in ``source``).
  A subject holds at most one record of each origin; :mod:`mamori.triage.state` decides between them
  (the user's own record wins);
- ``triage_history``: append-only, one row per version of a record (the values it took, who, when,
  created or updated, and the VEX document for a ``vex`` record). Nothing here ever updates or deletes a
  history row.

The component ``*`` (:data:`WHOLE_RELEASE`) stands for the whole release: a statement about the product
as a whole (a VEX statement naming the product itself), which applies to every component.

A record must meet the VEX rules (mamori.vex.validate): ``not_affected`` needs a justification or a
detail (the impact statement), ``affected`` a response or a detail (the action statement). Exported as
VEX through :mod:`mamori.vex` (:func:`to_vex`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from packageurl import PackageURL

from mamori.errors import InputError
from mamori.i18n import gettext
from mamori.model.vex import (
    JUSTIFICATIONS,
    RESPONSES,
    VEX_STATUSES,
    VexDocument,
    VexProduct,
    VexStatement,
    VexVulnerability,
)
from mamori.store import Store

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from mamori.triage.record_tables import TriageHistoryRow, TriageRecordRow

_TABLES = ("TriageRecordRow", "TriageHistoryRow")


def __getattr__(name: str) -> Any:
    """The table classes (:mod:`mamori.triage.record_tables`), imported when first asked for."""
    if name in _TABLES:
        from mamori.triage import record_tables

        return getattr(record_tables, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# the columns of triage_record, in the table's order
RECORD_COLUMNS = (
    "id",
    "product",
    "release",
    "component_purl",
    "vuln_id",
    "status",
    "justification",
    "responses",
    "detail",
    "who",
    "at",
    "version",
    "origin",
    "source",
)


class RecordRow(NamedTuple):
    """A ``triage_record`` row read as SQL text (the attributes of :class:`TriageRecordRow`)."""

    id: int
    product: str
    release: str
    component_purl: str
    vuln_id: str
    status: str
    justification: str | None
    responses: str | None
    detail: str | None
    who: str
    at: str
    version: int
    origin: str
    source: str | None


USER = "user"
VEX = "vex"
ORIGINS = (USER, VEX)
# an entry of the project's ignore file (.mamoriignore, mamori.triage.ignorefile): applied to one scan,
# never stored
IGNORE = "ignore"
WHOLE_RELEASE = "*"


@dataclass(frozen=True, slots=True)
class TriageRecord:
    """A stored triage decision about one vulnerability of one component in a release."""

    product: str
    release: str
    component_purl: str
    vulnerability: str
    status: str
    justification: str | None = None
    responses: tuple[str, ...] = ()
    detail: str | None = None
    who: str = ""
    at: str = ""
    version: int = 1
    change: str | None = None  # history rows: created | updated
    origin: str = USER  # user: the user's own decision; vex: a statement of an imported VEX document
    source: str | None = None  # vex: the document it came from

    @property
    def subject(self) -> tuple[str, str, str, str]:
        return (self.product, self.release, self.component_purl, self.vulnerability)

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (*self.subject, self.origin)

    def values(self) -> tuple[str, str | None, tuple[str, ...], str | None]:
        return (self.status, self.justification, self.responses, self.detail)


def default_who() -> str:
    import getpass  # here: it loads termios, which a scan (no record written) does not need

    try:
        return os.environ.get("MAMORI_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def canonical_purl(text: str) -> str:
    """The purl in canonical form (``*``, the whole release, stays as it is)."""
    if text.strip() == WHOLE_RELEASE:
        return WHOLE_RELEASE
    try:
        return PackageURL.from_string(text.strip()).to_string()
    except ValueError as exc:
        raise InputError(
            None, gettext("component {text!r} is not a package URL: {exc}").format(text=text, exc=exc)
        ) from None


def _required(value: str | None, what: str, limit: int) -> str:
    from mamori.store.limits import storable_text

    text = storable_text((value or "").strip())  # the same on every backend
    if not text:
        raise InputError(None, gettext("{what} is required").format(what=what))
    if len(text) > limit:
        raise InputError(
            None, gettext("{what} is longer than {limit} characters").format(what=what, limit=limit)
        )
    return text


def validated(
    product: str,
    release: str,
    component: str,
    vulnerability: str,
    status: str,
    justification: str | None = None,
    responses: Iterable[str] = (),
    detail: str | None = None,
    who: str | None = None,
    at: str | None = None,
    origin: str = USER,
    source: str | None = None,
) -> TriageRecord:
    """A record with every value checked: VEX status, CISA (or CycloneDX) justification, CycloneDX responses,
    and the VEX rules for not_affected and affected."""
    if origin not in ORIGINS:
        raise InputError(
            None,
            gettext("origin {origin!r}: expected one of {allowed}").format(
                origin=origin, allowed=", ".join(ORIGINS)
            ),
        )
    status = status.strip().lower()
    if status not in VEX_STATUSES:
        raise InputError(
            None,
            gettext("status {status!r}: expected one of {allowed}").format(
                status=status, allowed=", ".join(VEX_STATUSES)
            ),
        )
    from mamori.vex.mapping import mapping

    table = mapping()
    if justification:
        j = justification.strip().lower()
        j = table.cdx_justification_to_cisa.get(j, j)
        if j not in JUSTIFICATIONS:
            raise InputError(
                None,
                gettext("justification {justification!r}: expected one of {allowed}").format(
                    justification=justification, allowed=", ".join(JUSTIFICATIONS)
                ),
            )
        if status != "not_affected":
            raise InputError(
                None,
                gettext("a justification only goes with status not_affected, not {status}").format(
                    status=status
                ),
            )
        justification = j
    resp = tuple(dict.fromkeys(r.strip().lower() for r in responses if r.strip()))
    for r in resp:
        if r not in RESPONSES:
            raise InputError(
                None,
                gettext("response {response!r}: expected one of {allowed}").format(
                    response=r, allowed=", ".join(RESPONSES)
                ),
            )
    from mamori.store.limits import storable_text
    from mamori.vex.validate import check

    record = TriageRecord(
        product=_required(product, "--product", 200),
        release=_required(release, "--release", 100),
        component_purl=canonical_purl(_required(component, "--component", 4000)),
        vulnerability=_required(vulnerability, "--vulnerability", 200),
        status=status,
        justification=justification or None,
        responses=resp,
        detail=storable_text((detail or "").strip()) or None,
        who=_required(who or default_who(), "--who", 200),
        at=at or _now(),
        origin=origin,
        source=storable_text((source or "").strip()) or None,
    )
    breaches = check(VexDocument(statements=[statement(record)]))
    if breaches:
        raise InputError(None, breaches[0].problem)
    return record


def _record(
    row: RecordRow | TriageRecordRow | TriageHistoryRow, base: RecordRow | TriageRecordRow | None = None
) -> TriageRecord:
    """A record from its ``triage_record`` row, or a version of it from a ``triage_history`` row and the
    record's row (``base``)."""
    owner = base if base is not None else row
    assert not hasattr(owner, "change")
    return TriageRecord(
        product=owner.product,
        release=owner.release,
        component_purl=owner.component_purl,
        vulnerability=owner.vuln_id,
        status=row.status,
        justification=row.justification,
        responses=tuple(r for r in (row.responses or "").split(",") if r),
        detail=row.detail,
        who=row.who,
        at=row.at,
        version=row.version,
        change=getattr(row, "change", None),  # history rows have it, record rows do not
        origin=owner.origin,
        source=row.source,
    )


def _row(conn: Connection, key: tuple[str, str, str, str, str]) -> TriageRecordRow | None:
    from sqlalchemy import select

    from mamori.triage.record_tables import TriageRecordRow

    t = TriageRecordRow.__table__
    found = conn.execute(
        select(t).where(
            t.c.product == key[0],
            t.c.release == key[1],
            t.c.component_purl == key[2],
            t.c.vuln_id == key[3],
            t.c.origin == key[4],
        )
    ).first()
    return TriageRecordRow(**found._mapping) if found is not None else None


def _later(new: str, old: str) -> bool:
    """Whether a statement made at ``new`` is at least as recent as one made at ``old``."""
    a, b = _time(new), _time(old)
    if a is None or b is None:
        return True
    return a >= b


def _restated(record: TriageRecord, old: TriageRecordRow) -> bool:
    """A VEX statement of another, newer document (a newer revision of an advisory, say) saying the same:
    the record takes the newer source and time."""
    if record.origin != VEX or record.source == old.source:
        return False
    a, b = _time(record.at), _time(old.at)
    return a is not None and b is not None and a > b


def write_record(conn: Connection, record: TriageRecord) -> tuple[TriageRecord, str]:
    """Create or update one record and its history row on an open transaction. Returns the stored
    record and ``created``, ``updated``, ``unchanged`` (same values: nothing written) or ``older`` (a VEX
    statement older than the stored one of the same origin: nothing written, the newer one stays). A VEX
    statement of another, newer document saying the same (a new revision of a supplier's advisory) is an
    update: the record takes its source and time."""
    from sqlalchemy import update

    from mamori.triage.record_tables import TriageHistoryRow, TriageRecordRow

    rt, ht = TriageRecordRow.__table__, TriageHistoryRow.__table__
    responses = ",".join(record.responses) or None
    old = _row(conn, record.key)
    if old is not None and _record(old).values() == record.values() and not _restated(record, old):
        return _record(old), "unchanged"
    if old is not None and record.origin == VEX and not _later(record.at, old.at):
        return _record(old), "older"
    values = {
        "status": record.status,
        "justification": record.justification,
        "responses": responses,
        "detail": record.detail,
        "who": record.who,
        "at": record.at,
        "source": record.source,
    }
    if old is None:
        version, change = 1, "created"
        record_id = conn.execute(
            rt.insert().values(
                product=record.product,
                release=record.release,
                component_purl=record.component_purl,
                vuln_id=record.vulnerability,
                version=version,
                origin=record.origin,
                **values,
            )
        ).inserted_primary_key[0]
    else:
        version, change, record_id = old.version + 1, "updated", old.id
        conn.execute(update(rt).where(rt.c.id == record_id).values(version=version, **values))
    conn.execute(ht.insert().values(record_id=record_id, version=version, change=change, **values))
    return replace(record, version=version), change


def set_record(store: Store, record: TriageRecord) -> tuple[TriageRecord, str]:
    """Create or update one record (one transaction with its history row); see :func:`write_record`."""
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        return write_record(conn, record)


def set_records(store: Store, records: Sequence[TriageRecord]) -> list[tuple[TriageRecord, str]]:
    """Write many records in one transaction (all or nothing); see :func:`write_record`."""
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        return [write_record(conn, r) for r in records]


def list_records(
    store: Store, product: str, release: str | None = None, origin: str | None = None
) -> list[TriageRecord]:
    """Current records of a product (one release, or all; one origin, or both), ordered by release,
    vulnerability, component and origin."""
    sql = f"SELECT {', '.join(RECORD_COLUMNS)} FROM triage_record WHERE product = :product"
    params: dict[str, Any] = {"product": product}
    if release is not None:
        sql += " AND release = :release"
        params["release"] = release
    if origin is not None:
        sql += " AND origin = :origin"
        params["origin"] = origin
    sql += " ORDER BY release, vuln_id, component_purl, origin"
    with store.read() as conn:
        return [_record(RecordRow(*r)) for r in conn.execute(sql, params)]


def records_of_releases(
    source: Store | Connection, releases: Iterable[tuple[str, str]] | None = None
) -> list[TriageRecord]:
    """Current records (both origins) of the given (product, release) pairs, or of every release."""
    from sqlalchemy import select

    from mamori.triage.record_tables import TriageRecordRow

    wanted = set(releases) if releases is not None else None
    t = TriageRecordRow.__table__

    def read(conn: Connection) -> list[TriageRecord]:
        out: list[TriageRecord] = []
        if wanted is None:
            return [_record(TriageRecordRow(**r._mapping)) for r in conn.execute(select(t))]
        for product in sorted({p for p, _ in wanted}):
            for r in conn.execute(select(t).where(t.c.product == product)):
                if (r.product, r.release) in wanted:
                    out.append(_record(TriageRecordRow(**r._mapping)))
        return out

    if not isinstance(source, Store):
        return read(source)
    with source.engine.connect() as conn:
        return read(conn)


def history(
    store: Store, product: str, release: str, component: str, vulnerability: str
) -> list[TriageRecord]:
    """Every version of the subject's records (the user's own first, then the VEX one), oldest first
    (empty when there is no such record)."""
    from sqlalchemy import select

    from mamori.triage.record_tables import TriageHistoryRow

    ht = TriageHistoryRow.__table__
    out: list[TriageRecord] = []
    with store.engine.connect() as conn:
        for origin in ORIGINS:
            base = _row(conn, (product, release, canonical_purl(component), vulnerability, origin))
            if base is None:
                continue
            rows = conn.execute(select(ht).where(ht.c.record_id == base.id).order_by(ht.c.version))
            out.extend(_record(TriageHistoryRow(**r._mapping), base) for r in rows)
    return out


def _time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def statement(record: TriageRecord, products: Sequence[VexProduct] | None = None) -> VexStatement:
    """The VEX statement of one record: about ``products`` when given, else the product release with the
    component as its subcomponent (the release itself for ``*``).

    The detail becomes the impact statement of ``not_affected`` and the action statement of ``affected``
    (and the status notes otherwise)."""
    if products is None:
        whole = record.component_purl == WHOLE_RELEASE
        products = [
            VexProduct(
                ref=f"{record.product}@{record.release}" + ("" if whole else f":{record.component_purl}"),
                name=record.product,
                version=record.release,
                subcomponents=[] if whole else [VexProduct(purl=record.component_purl)],
            )
        ]
    when = _time(record.at)
    return VexStatement(
        vulnerability=VexVulnerability(record.vulnerability),
        status=record.status,
        products=list(products),
        justification=record.justification,
        impact_statement=record.detail if record.status == "not_affected" else None,
        action_statement=record.detail if record.status == "affected" else None,
        action_statement_timestamp=when if record.status == "affected" and record.detail else None,
        responses=list(record.responses),
        detail=record.detail if record.status in ("fixed", "under_investigation") else None,
        timestamp=when,
        last_updated=when,
    )


def to_vex(
    records: Sequence[TriageRecord], author: str | None = None, doc_id: str | None = None
) -> VexDocument:
    """A VEX document of records (write it with :func:`mamori.vex.write`)."""
    return VexDocument(
        statements=[statement(r) for r in records],
        id=doc_id,
        author=author,
        tool="mamori triage",
        title="mamori triage records",
        source_format="triage",
    )

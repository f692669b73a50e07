"""PSIRT cases: one per reported vulnerability, its state machine, its history and its affected releases.

>>> case = new_case(store, title="XSS in the admin page", channel="email", reporter_name="Taro")
>>> transition(store, case.key, "acknowledged", who="alice")
>>> transition(store, case.key, "triaged", who="alice", ssvc={"exploitation": "none", ...}, note="why")
>>> compute_affected(store, case.key)       # the releases whose SBOM holds the component in range

Every transition and edit is recorded with who and when (``psirt_case_event``); a transition the workflow
does not allow (``mamori/data/psirt/workflow.yaml``) is refused with the states it allows.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from mamori.errors import InputError
from mamori.i18n import _
from mamori.psirt import tables as t
from mamori.psirt.workflow import workflow
from mamori.store import Store

LANGS = ("en", "ja")
TEXT_FIELDS = ("title", "description", "workaround", "mitigation", "impact")
PRODUCT_STATUSES = ("known_affected", "fixed", "known_not_affected")
MAX_TEXT = 20_000
MAX_SHORT = 500
_CVE = re.compile(r"^CVE-[0-9]{4}-[0-9]{4,}$")
_CWE = re.compile(r"^CWE-[1-9][0-9]{0,5}$")
_TIME = "%Y-%m-%dT%H:%M:%SZ"


@dataclass
class CaseEvent:
    at: str
    who: str
    kind: str
    from_state: str | None
    to_state: str | None
    note: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "who": self.who,
            "kind": self.kind,
            "from": self.from_state,
            "to": self.to_state,
            "note": self.note,
        }


@dataclass
class CaseProduct:
    product: str
    release: str
    status: str
    source: str
    component_version: str | None
    set_by: str
    set_at: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "product": self.product,
            "release": self.release,
            "status": self.status,
            "source": self.source,
            "component_version": self.component_version,
            "set_by": self.set_by,
            "set_at": self.set_at,
        }


@dataclass
class Case:
    id: int
    key: str
    state: str
    team: str | None
    title: str
    lang: str
    reporter_name: str | None
    reporter_contact: str | None
    credit: str
    channel: str
    channel_ref: str | None
    coordinator: str | None
    embargo_until: str | None
    cve_id: str | None
    component: str | None
    affected_range: str | None
    fixed_version: str | None
    cwe: str | None
    cvss_v3: str | None
    cvss_v4: str | None
    ssvc_outcome: str | None
    ssvc: dict[str, Any] | None
    duplicate_of: str | None
    texts: dict[str, dict[str, str]]
    fix_url: str | None
    received_at: str
    state_since: str
    created_by: str
    events: list[CaseEvent] = field(default_factory=list)
    products: list[CaseProduct] = field(default_factory=list)

    def text(self, name: str, lang: str) -> str | None:
        """A text of the case in ``lang``, else in the language it was written in."""
        for source in (lang, self.lang, *LANGS):
            value = self.texts.get(source, {}).get(name)
            if value:
                return value
        return self.title if name == "title" else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "state": self.state,
            "team": self.team,
            "title": self.title,
            "lang": self.lang,
            "reporter": {"name": self.reporter_name, "contact": self.reporter_contact, "credit": self.credit},
            "channel": self.channel,
            "channel_ref": self.channel_ref,
            "coordinator": self.coordinator,
            "embargo_until": self.embargo_until,
            "cve": self.cve_id,
            "component": self.component,
            "affected_range": self.affected_range,
            "fixed_version": self.fixed_version,
            "cwe": self.cwe,
            "cvss_v3": self.cvss_v3,
            "cvss_v4": self.cvss_v4,
            "ssvc_outcome": self.ssvc_outcome,
            "ssvc": self.ssvc,
            "duplicate_of": self.duplicate_of,
            "texts": self.texts,
            "fix_url": self.fix_url,
            "received_at": self.received_at,
            "state_since": self.state_since,
            "created_by": self.created_by,
            "products": [p.as_dict() for p in self.products],
            "history": [e.as_dict() for e in self.events],
        }


def now_iso(at: datetime | None = None) -> str:
    return (at or datetime.now(UTC)).astimezone(UTC).strftime(_TIME)


def parse_time(value: str) -> datetime:
    return datetime.strptime(value, _TIME).replace(tzinfo=UTC)


def default_who() -> str:
    from mamori.triage.records import default_who as who

    return who()


def _write(store: Store) -> Any:
    from mamori.accounts.core import _write as write

    return write(store)


# -- checks of what a person gives ------------------------------------------------------------------------
def _short(name: str, value: str | None, limit: int = MAX_SHORT) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > limit:
        raise InputError(None, _("{name} is longer than {limit} characters").format(name=name, limit=limit))
    return value


def check_cve(value: str | None) -> str | None:
    value = _short("--cve", value)
    if value is not None and not _CVE.match(value.upper()):
        raise InputError(None, _("{value} is not a CVE ID (CVE-YYYY-NNNN)").format(value=repr(value)))
    return value.upper() if value else None


def check_cwe(value: str | None) -> str | None:
    value = _short("--cwe", value)
    if value is None:
        return None
    value = value.upper()
    if value.isdigit():
        value = f"CWE-{value}"
    if not _CWE.match(value):
        raise InputError(None, _("{value} is not a CWE ID (CWE-NNN)").format(value=repr(value)))
    return value


def check_cvss(value: str | None, version: int) -> str | None:
    value = _short("--cvss", value, 300)
    if value is None:
        return None
    from cvss import CVSS3, CVSS4
    from cvss.exceptions import CVSSError

    try:
        if version == 3:
            if not value.startswith("CVSS:3.1/"):
                raise CVSSError("CVSS:3.1/ prefix")
            return str(CVSS3(value).clean_vector())
        if not value.startswith("CVSS:4.0/"):
            raise CVSSError("CVSS:4.0/ prefix")
        return str(CVSS4(value).clean_vector())
    except (CVSSError, ValueError, KeyError, IndexError):
        wanted = "CVSS:3.1/AV:N/..." if version == 3 else "CVSS:4.0/AV:N/..."
        raise InputError(
            None, _("{value} is not a CVSS vector ({wanted})").format(value=repr(value), wanted=wanted)
        ) from None


def check_component(value: str | None) -> str | None:
    value = _short("--component", value, 1000)
    if value is None:
        return None
    from mamori.portfolio.identity import _canonical

    base = _canonical(value)[1]
    if base is None:
        raise InputError(None, _("{value} is not a package URL (pkg:type/name)").format(value=repr(value)))
    return base


def check_range(value: str | None) -> str | None:
    value = _short("--range", value, 1000)
    if value is None:
        return None
    from univers.version_range import VersionRange

    try:
        return str(VersionRange.from_string(value))
    except Exception:  # univers raises several kinds for a bad range
        raise InputError(
            None,
            _("{value} is not a version range (vers:pypi/>=1.0|<1.4.2)").format(value=repr(value)),
        ) from None


def check_date(value: str | None, name: str) -> str | None:
    value = _short(name, value, 40)
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise InputError(
            None, _("{name}: {value} is not a date (YYYY-MM-DD)").format(name=name, value=repr(value))
        ) from None


def check_url(value: str | None, name: str) -> str | None:
    value = _short(name, value, 2000)
    if value is None:
        return None
    from mamori.model.references import web_url

    if not web_url(value):
        raise InputError(
            None, _("{name}: {value} is not an http(s) URL").format(name=name, value=repr(value))
        )
    return value


def _choice(value: str, allowed: Mapping[str, Any] | tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise InputError(
            None,
            _("{name} is one of {allowed}, not {value}").format(
                name=name, allowed=", ".join(allowed), value=repr(value)
            ),
        )
    return value


def _texts(given: Mapping[str, Mapping[str, str | None]] | None) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for lang, texts in (given or {}).items():
        _choice(lang, LANGS, "lang")
        for name, value in texts.items():
            _choice(name, TEXT_FIELDS, "text")
            if value is None or not value.strip():
                continue
            if len(value) > MAX_TEXT:
                raise InputError(
                    None, _("{name} is longer than {limit} characters").format(name=name, limit=MAX_TEXT)
                )
            out.setdefault(lang, {})[name] = value.strip()
    return out


# -- reading --------------------------------------------------------------------------------------------
def _case_of(row: Any) -> Case:
    return Case(
        id=row.id,
        key=row.key,
        state=row.state,
        team=row.team,
        title=row.title,
        lang=row.lang,
        reporter_name=row.reporter_name,
        reporter_contact=row.reporter_contact,
        credit=row.credit,
        channel=row.channel,
        channel_ref=row.channel_ref,
        coordinator=row.coordinator,
        embargo_until=row.embargo_until,
        cve_id=row.cve_id,
        component=row.component,
        affected_range=row.affected_range,
        fixed_version=row.fixed_version,
        cwe=row.cwe,
        cvss_v3=row.cvss_v3,
        cvss_v4=row.cvss_v4,
        ssvc_outcome=row.ssvc_outcome,
        ssvc=json.loads(row.ssvc) if row.ssvc else None,
        duplicate_of=row.duplicate_of,
        texts=json.loads(row.texts),
        fix_url=row.fix_url,
        received_at=row.received_at,
        state_since=row.state_since,
        created_by=row.created_by,
    )


def _load(conn: Connection, key: str) -> Case:
    c = t.CaseRow.__table__
    row = conn.execute(select(c).where(c.c.key == key.strip().upper())).first()
    if row is None:
        raise InputError(None, _("no case {key}").format(key=repr(key)))
    case = _case_of(row)
    e, p = t.CaseEventRow.__table__, t.CaseProductRow.__table__
    case.events = [
        CaseEvent(r.at, r.who, r.kind, r.from_state, r.to_state, r.note)
        for r in conn.execute(select(e).where(e.c.case_id == case.id).order_by(e.c.id))
    ]
    case.products = [
        CaseProduct(r.product, r.release, r.status, r.source, r.component_version, r.set_by, r.set_at)
        for r in conn.execute(select(p).where(p.c.case_id == case.id).order_by(p.c.product, p.c.release))
    ]
    return case


def get_case(store: Store, key: str) -> Case:
    """The case ``key`` (``PSIRT-2026-0001``) with its history and affected releases."""
    with store.engine.connect() as conn:
        return _load(conn, key)


def list_cases(store: Store, *, state: str | None = None, team: str | None = None) -> list[Case]:
    """Every case (of ``state``, of ``team``), oldest first, without history."""
    c = t.CaseRow.__table__
    stmt = select(c).order_by(c.c.id)
    if state is not None:
        stmt = stmt.where(c.c.state == _choice(state, tuple(workflow().states), "--state"))
    if team is not None:
        stmt = stmt.where(c.c.team == team)
    with store.engine.connect() as conn:
        return [_case_of(r) for r in conn.execute(stmt)]


def all_events(store: Store) -> dict[int, list[CaseEvent]]:
    """Every case's history, by case id (for the metrics)."""
    e = t.CaseEventRow.__table__
    out: dict[int, list[CaseEvent]] = {}
    with store.engine.connect() as conn:
        for r in conn.execute(select(e).order_by(e.c.id)):
            out.setdefault(r.case_id, []).append(
                CaseEvent(r.at, r.who, r.kind, r.from_state, r.to_state, r.note)
            )
    return out


# -- writing --------------------------------------------------------------------------------------------
def _event(
    conn: Connection,
    case_id: int,
    at: str,
    who: str,
    kind: str,
    old: str | None,
    new: str | None,
    note: str | None,
) -> None:
    conn.execute(
        t.CaseEventRow.__table__.insert().values(
            case_id=case_id, at=at, who=who[:200], kind=kind, from_state=old, to_state=new, note=note
        )
    )


def new_case(
    store: Store,
    *,
    title: str,
    channel: str,
    who: str | None = None,
    team: str | None = None,
    lang: str = "en",
    reporter_name: str | None = None,
    reporter_contact: str | None = None,
    credit: str = "named",
    channel_ref: str | None = None,
    coordinator: str | None = None,
    embargo_until: str | None = None,
    cve_id: str | None = None,
    component: str | None = None,
    affected_range: str | None = None,
    fixed_version: str | None = None,
    cwe: str | None = None,
    cvss_v3: str | None = None,
    cvss_v4: str | None = None,
    fix_url: str | None = None,
    texts: Mapping[str, Mapping[str, str | None]] | None = None,
    received_at: datetime | None = None,
    now: datetime | None = None,
) -> Case:
    """Open a case in state ``received``; every value is checked before anything is written."""
    wf = workflow()
    title_ = _short("--title", title)
    if title_ is None:
        raise InputError(None, _("a case needs a title"))
    values = {
        "state": "received",
        "team": _short("--team", team, 200),
        "title": title_,
        "lang": _choice(lang, LANGS, "--lang"),
        "reporter_name": _short("--reporter", reporter_name),
        "reporter_contact": _short("--contact", reporter_contact),
        "credit": _choice(credit, wf.credits, "--credit"),
        "channel": _choice(channel, wf.channels, "--channel"),
        "channel_ref": _short("--channel-ref", channel_ref, 1000),
        "coordinator": _short("--coordinator", coordinator, 200),
        "embargo_until": check_date(embargo_until, "--embargo"),
        "cve_id": check_cve(cve_id),
        "component": check_component(component),
        "affected_range": check_range(affected_range),
        "fixed_version": _short("--fixed-version", fixed_version, 100),
        "cwe": check_cwe(cwe),
        "cvss_v3": check_cvss(cvss_v3, 3),
        "cvss_v4": check_cvss(cvss_v4, 4),
        "fix_url": check_url(fix_url, "--fix-url"),
    }
    if values["channel"] == "coordinator" and not values["coordinator"]:
        raise InputError(None, _("a case from a coordinator names it (--coordinator, e.g. JPCERT/CC)"))
    all_texts = _texts(texts)
    all_texts.setdefault(values["lang"], {}).setdefault("title", title_)
    at = now_iso(now)
    received = now_iso(received_at) if received_at else at
    who = who or default_who()
    c = t.CaseRow.__table__
    with _write(store) as conn:
        case_id = conn.execute(
            c.insert().values(
                key=f"new-{uuid.uuid4().hex}"[:40],  # the real key needs the row id
                texts=json.dumps(all_texts, ensure_ascii=False, sort_keys=True),
                received_at=received,
                state_since=received,
                created_by=who[:200],
                ssvc=None,
                ssvc_outcome=None,
                duplicate_of=None,
                **values,
            )
        ).inserted_primary_key[0]
        key = f"PSIRT-{received[:4]}-{case_id:04d}"
        conn.execute(update(c).where(c.c.id == case_id).values(key=key))
        _event(conn, case_id, received, who, "opened", None, "received", values["channel_ref"])
        return _load(conn, key)


EDITABLE = {
    "team": lambda v: _short("--team", v, 200),
    "reporter_name": lambda v: _short("--reporter", v),
    "reporter_contact": lambda v: _short("--contact", v),
    "credit": lambda v: _choice(v, workflow().credits, "--credit"),
    "channel_ref": lambda v: _short("--channel-ref", v, 1000),
    "coordinator": lambda v: _short("--coordinator", v, 200),
    "embargo_until": lambda v: check_date(v, "--embargo"),
    "cve_id": check_cve,
    "component": check_component,
    "affected_range": check_range,
    "fixed_version": lambda v: _short("--fixed-version", v, 100),
    "cwe": check_cwe,
    "cvss_v3": lambda v: check_cvss(v, 3),
    "cvss_v4": lambda v: check_cvss(v, 4),
    "fix_url": lambda v: check_url(v, "--fix-url"),
    "title": lambda v: _short("--title", v),
}


def update_case(
    store: Store,
    key: str,
    *,
    who: str | None = None,
    values: Mapping[str, str | None] | None = None,
    texts: Mapping[str, Mapping[str, str | None]] | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> Case:
    """Change fields of a case (``values``: field → new value, ``None`` or "" clears) and its texts; the
    edit is recorded with the fields' names."""
    checked: dict[str, Any] = {}
    for name, value in (values or {}).items():
        if name not in EDITABLE:
            raise InputError(None, _("{name} cannot be edited").format(name=name))
        checked[name] = EDITABLE[name](value)
    if "title" in checked and checked["title"] is None:
        raise InputError(None, _("a case needs a title"))
    given = _texts(texts)
    who = who or default_who()
    at = now_iso(now)
    c = t.CaseRow.__table__
    with _write(store) as conn:
        case = _load(conn, key)
        merged = {lang: dict(v) for lang, v in case.texts.items()}
        for lang, fields in (texts or {}).items():
            for name, value in fields.items():
                if value is None or not value.strip():
                    merged.get(lang, {}).pop(name, None)
                else:
                    merged.setdefault(lang, {})[name] = given[lang][name]
        if "title" in checked:
            merged.setdefault(case.lang, {})["title"] = checked["title"]
        changed = sorted({*checked, *(f"{lang}.{n}" for lang, f in (texts or {}).items() for n in f)})
        if not changed:
            return case
        conn.execute(
            update(c)
            .where(c.c.id == case.id)
            .values(**checked, texts=json.dumps(merged, ensure_ascii=False, sort_keys=True))
        )
        text = ", ".join(changed) + (f": {note.strip()}" if note and note.strip() else "")
        _event(conn, case.id, at, who, "edit", None, None, text[:MAX_TEXT])
        return _load(conn, case.key)


def _ssvc_decision(values: Mapping[str, str], evidence: str) -> tuple[str, dict[str, Any]]:
    from mamori.triage.ssvc import decide

    decision = decide("supplier", values)
    path = decision.as_dict("en")
    return decision.outcome.id, {
        "table": path["table"],
        "outcome": decision.outcome.id,
        "path": [{"point": s["point"], "value": s["value"], "source": s["source"]} for s in path["path"]],
        "evidence": evidence,
    }


def transition(
    store: Store,
    key: str,
    to: str,
    *,
    who: str | None = None,
    note: str | None = None,
    ssvc: Mapping[str, str] | None = None,
    duplicate_of: str | None = None,
    now: datetime | None = None,
) -> Case:
    """Move a case to the state ``to``. Refused when the workflow does not allow it. ``triaged`` needs the
    SSVC supplier tree's inputs (``ssvc``) and the evidence for them (``note``) the first time;
    ``duplicate`` the key of the case it duplicates."""
    wf = workflow()
    _choice(to, tuple(wf.states), "state")
    note = _short("--note", note, MAX_TEXT)
    who = who or default_who()
    at = now_iso(now)
    c = t.CaseRow.__table__
    with _write(store) as conn:
        case = _load(conn, key)
        if to not in wf.allowed(case.state):
            allowed = ", ".join(wf.allowed(case.state)) or _("none: the case is finished")
            raise InputError(
                None,
                _("{key} is {state}: it cannot move to {to} (allowed: {allowed})").format(
                    key=case.key, state=case.state, to=to, allowed=allowed
                ),
            )
        values: dict[str, Any] = {"state": to, "state_since": at}
        if to == "triaged" and (ssvc or case.ssvc is None):
            if not ssvc:
                raise InputError(
                    None,
                    _(
                        "triage needs the SSVC supplier tree's inputs (--ssvc exploitation=... utility=... "
                        "technical_impact=... public_safety_impact=...)"
                    ),
                )
            if not note:
                raise InputError(None, _("triage needs the evidence for the SSVC values (--note)"))
            values["ssvc_outcome"], decision = _ssvc_decision(ssvc, note)
            values["ssvc"] = json.dumps(decision, ensure_ascii=False, sort_keys=True)
        if to == "duplicate":
            other = (duplicate_of or "").strip().upper()
            if not other:
                raise InputError(None, _("a duplicate names the case it duplicates (--duplicate-of)"))
            if other == case.key:
                raise InputError(None, _("a case cannot duplicate itself"))
            _load(conn, other)
            values["duplicate_of"] = other
        conn.execute(update(c).where(c.c.id == case.id).values(**values))
        _event(conn, case.id, at, who, "transition", case.state, to, note)
        return _load(conn, case.key)


# -- affected releases ----------------------------------------------------------------------------------
def _in_range(vers: str | None, version: str | None) -> bool:
    if vers is None:
        return True
    if not version:
        return False
    from univers.version_range import VersionRange

    try:
        r = VersionRange.from_string(vers)
        return bool(r.version_class(version) in r)
    except Exception:  # a version the scheme cannot read is not shown to be in range
        return False


def affected_in_portfolio(
    store: Store, component: str, vers: str | None
) -> list[tuple[str, str, str | None]]:
    """(product, release, component version) of every release whose current SBOM lists ``component``
    (a purl without version) at a version in ``vers``."""
    from mamori.portfolio import tables as pt

    comp, sc, sb = pt.ComponentRow.__table__, pt.SbomComponentRow.__table__, pt.SbomRow.__table__
    r, p = pt.ReleaseRow.__table__, pt.ProductRow.__table__
    stmt = (
        select(p.c.name, r.c.version, comp.c.version.label("cversion"))
        .select_from(comp)
        .join(sc, sc.c.component_id == comp.c.id)
        .join(sb, sb.c.id == sc.c.sbom_id)
        .join(r, (r.c.id == sb.c.release_id) & (r.c.current_sbom_id == sb.c.id))
        .join(p, p.c.id == r.c.product_id)
        .where(comp.c.purl_base == component)
        .order_by(p.c.name, r.c.id)
    )
    out: dict[tuple[str, str], str | None] = {}
    with store.engine.connect() as conn:
        for product, release, cversion in conn.execute(stmt):
            if _in_range(vers, cversion):
                out.setdefault((product, release), cversion)
    return [(product, release, v) for (product, release), v in out.items()]


def compute_affected(
    store: Store,
    key: str,
    *,
    who: str | None = None,
    now: datetime | None = None,
    products: Collection[str] | None = None,
) -> Case:
    """Replace the computed affected releases of a case by what the portfolio holds now (what a person set
    stays); ``products``: only releases of these products (the team server: those of the case's team)."""
    case = get_case(store, key)
    if case.component is None:
        raise InputError(None, _("{key} names no component (--component pkg:type/name)").format(key=case.key))
    found = affected_in_portfolio(store, case.component, case.affected_range)
    if products is not None:
        found = [f for f in found if f[0] in products]
    who = who or default_who()
    at = now_iso(now)
    p = t.CaseProductRow.__table__
    with _write(store) as conn:
        case = _load(conn, key)
        person = {(x.product, x.release) for x in case.products if x.source == "person"}
        conn.execute(delete(p).where((p.c.case_id == case.id) & (p.c.source == "computed")))
        rows = [
            {
                "case_id": case.id,
                "product": product[:200],
                "release": release[:100],
                "status": "known_affected",
                "source": "computed",
                "component_version": version,
                "set_by": who[:200],
                "set_at": at,
            }
            for product, release, version in found
            if (product, release) not in person
        ]
        if rows:
            conn.execute(p.insert(), rows)
        _event(conn, case.id, at, who, "edit", None, None, f"affected releases computed: {len(rows)}")
        return _load(conn, case.key)


def set_product(
    store: Store,
    key: str,
    product: str,
    release: str,
    status: str | None,
    *,
    who: str | None = None,
    now: datetime | None = None,
) -> Case:
    """A person sets a release's status for the case (``None``: remove the release from the case)."""
    if status is not None:
        _choice(status, PRODUCT_STATUSES, "status")
    product_ = _short("product", product, 200)
    release_ = _short("release", release, 100)
    if product_ is None or release_ is None:
        raise InputError(None, _("give a product and a release (PRODUCT@RELEASE)"))
    who = who or default_who()
    at = now_iso(now)
    p = t.CaseProductRow.__table__
    with _write(store) as conn:
        case = _load(conn, key)
        where = (p.c.case_id == case.id) & (p.c.product == product_) & (p.c.release == release_)
        before = conn.execute(select(p.c.component_version).where(where)).first()
        conn.execute(delete(p).where(where))
        if status is not None:
            conn.execute(
                p.insert().values(
                    case_id=case.id,
                    product=product_,
                    release=release_,
                    status=status,
                    source="person",
                    component_version=before.component_version if before else None,
                    set_by=who[:200],
                    set_at=at,
                )
            )
        _event(conn, case.id, at, who, "edit", None, None, f"{product_}@{release_}: {status or 'removed'}")
        return _load(conn, case.key)


def add_revision(
    store: Store,
    key: str,
    status: str,
    summary: str,
    *,
    who: str | None = None,
    now: datetime | None = None,
) -> int:
    """Record a revision of the case's advisory (``draft``, ``interim``, ``final``); returns its number.
    Once ``interim`` or ``final``, an advisory does not go back to ``draft``."""
    _choice(status, ("draft", "interim", "final"), "--status")
    summary_ = _short("--revision", summary, 2000)
    if summary_ is None:
        raise InputError(None, _("a revision needs a summary"))
    who = who or default_who()
    a = t.AdvisoryRevisionRow.__table__
    with _write(store) as conn:
        case = _load(conn, key)
        last = conn.execute(
            select(a.c.number, a.c.status).where(a.c.case_id == case.id).order_by(a.c.number.desc())
        ).first()
        if last is not None and last.status != "draft" and status == "draft":
            raise InputError(
                None,
                _("the advisory of {key} is {status}: it cannot go back to draft").format(
                    key=case.key, status=last.status
                ),
            )
        number = (last.number if last else 0) + 1
        conn.execute(
            a.insert().values(
                case_id=case.id,
                number=number,
                date=now_iso(now),
                status=status,
                summary=summary_,
                who=who[:200],
            )
        )
        return number


def revisions(store: Store, key: str) -> list[dict[str, Any]]:
    """The recorded revisions of the case's advisory, oldest first."""
    a = t.AdvisoryRevisionRow.__table__
    with store.engine.connect() as conn:
        case = _load(conn, key)
        return [
            {"number": r.number, "date": r.date, "status": r.status, "summary": r.summary, "who": r.who}
            for r in conn.execute(select(a).where(a.c.case_id == case.id).order_by(a.c.number))
        ]

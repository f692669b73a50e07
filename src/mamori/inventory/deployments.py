"""Deployments: which supplier product release runs where, in which context, until when supported.

A deployment names a stored product release (``mamori product`` / ``release``), the site and system it
runs at, the SSVC context of that place (system exposure, mission impact, safety impact: the values of
the SSVC decision points, docs/triage-context.md), the network placement, the owner's contact, since when
it runs and, when it differs from the release's, its own end-of-support date. The release's end of
support, as the supplier announced it, is kept once per release (:func:`set_release_support`).
A retired deployment stays listed (``status: retired``) and leaves the patch list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from mamori.display import visible
from mamori.errors import InputError
from mamori.i18n import _
from mamori.inventory import tables as t
from mamori.portfolio import tables as pt
from mamori.store import Store

STATUSES = ("active", "retired")
CONTEXT_FIELDS = ("system_exposure", "mission_impact", "safety_impact")
TEXT_LIMITS = {
    "site": 200,
    "system": 200,
    "environment": 2000,
    "network": 200,
    "owner": 500,
    "source": 2000,
}
DATE_FIELDS = ("deployed_since", "end_of_support")
FIELDS = ("site", "system", "environment", *CONTEXT_FIELDS, "network", "owner", *DATE_FIELDS)
EOS_SOON_DAYS = 90


@dataclass(frozen=True, slots=True)
class Deployment:
    id: int
    product: str
    release: str
    release_id: int
    product_id: int
    site: str
    system: str | None
    environment: str | None
    system_exposure: str | None
    mission_impact: str | None
    safety_impact: str | None
    network: str | None
    owner: str | None
    deployed_since: str | None
    end_of_support: str | None  # this deployment's own date
    release_end_of_support: str | None  # the supplier's date for the release
    status: str
    created_at: str
    created_by: str
    updated_at: str
    retired_at: str | None

    @property
    def support_ends(self) -> str | None:
        """The end of support that applies: the deployment's own date, else the release's."""
        return self.end_of_support or self.release_end_of_support

    def support_state(self, today: dt.date | None = None, soon_days: int = EOS_SOON_DAYS) -> str | None:
        """``ended`` (the date has passed or is today), ``soon`` (within ``soon_days``), None otherwise."""
        if not self.support_ends:
            return None
        left = (dt.date.fromisoformat(self.support_ends) - (today or dt.date.today())).days
        if left <= 0:
            return "ended"
        return "soon" if left <= soon_days else None

    def as_dict(self, today: dt.date | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "product": self.product,
            "release": self.release,
            "site": self.site,
            "system": self.system,
            "environment": self.environment,
            "system_exposure": self.system_exposure,
            "mission_impact": self.mission_impact,
            "safety_impact": self.safety_impact,
            "network": self.network,
            "owner": self.owner,
            "deployed_since": self.deployed_since,
            "end_of_support": self.end_of_support,
            "release_end_of_support": self.release_end_of_support,
            "support_ends": self.support_ends,
            "support_state": self.support_state(today),
            "status": self.status,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "updated_at": self.updated_at,
            "retired_at": self.retired_at,
        }


# -- checking values ------------------------------------------------------------------------------------


def check_text(field: str, value: Any) -> str | None:
    """A free-text field: stripped, None when empty, bounded; InputError naming the field otherwise."""
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    text = value.strip()
    if not text:
        return None
    limit = TEXT_LIMITS.get(field, 500)
    if len(text) > limit:
        raise InputError(None, _("{field}: longer than {limit} characters").format(field=field, limit=limit))
    return text


def check_date(field: str, value: Any) -> str | None:
    """``YYYY-MM-DD`` (a date or datetime given as such is taken as its date); None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10]).isoformat() if len(text) <= 32 else _bad_date(field, text)
    except ValueError:
        return _bad_date(field, text)


def _bad_date(field: str, text: str) -> str:
    raise InputError(
        None,
        _("{field}: expected a date YYYY-MM-DD, got {value}").format(field=field, value=visible(text[:40])),
    )


def check_context(field: str, value: Any) -> str | None:
    """An SSVC context value (any name the SSVC data accepts for the point); None when empty."""
    from mamori.triage.context import check_point

    if value is None or str(value).strip() == "":
        return None
    return check_point(field, str(value).strip(), field)


def checked_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """The given fields, each checked (unknown names refused)."""
    out: dict[str, Any] = {}
    for field, value in values.items():
        if field not in FIELDS:
            raise InputError(None, _("{field}: not a deployment field").format(field=field))
        if field in CONTEXT_FIELDS:
            out[field] = check_context(field, value)
        elif field in DATE_FIELDS:
            out[field] = check_date(field, value)
        else:
            out[field] = check_text(field, value)
    if "site" in out and out["site"] is None:
        raise InputError(None, _("site: a deployment needs a site"))
    return out


# -- reading --------------------------------------------------------------------------------------------


def _select() -> Any:
    d, s = t.DeploymentRow.__table__, t.ReleaseSupportRow.__table__
    r, p = pt.ReleaseRow.__table__, pt.ProductRow.__table__
    return (
        select(
            d,
            p.c.name.label("product"),
            r.c.version.label("release"),
            r.c.product_id,
            s.c.end_of_support.label("release_end_of_support"),
        )
        .join(r, r.c.id == d.c.release_id)
        .join(p, p.c.id == r.c.product_id)
        .outerjoin(s, s.c.release_id == d.c.release_id)
    )


def _deployment(row: Any) -> Deployment:
    return Deployment(
        id=row.id,
        product=row.product,
        release=row.release,
        release_id=row.release_id,
        product_id=row.product_id,
        site=row.site,
        system=row.system,
        environment=row.environment,
        system_exposure=row.system_exposure,
        mission_impact=row.mission_impact,
        safety_impact=row.safety_impact,
        network=row.network,
        owner=row.owner,
        deployed_since=row.deployed_since,
        end_of_support=row.end_of_support,
        release_end_of_support=row.release_end_of_support,
        status=row.status,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        retired_at=row.retired_at,
    )


def list_deployments(
    store: Store,
    *,
    site: str | None = None,
    product: str | None = None,
    status: str | None = "active",
    product_ids: Iterable[int] | None = None,
) -> list[Deployment]:
    """Deployments (by default the active ones), by site, product, release and id; ``product_ids``: only
    the deployments of these products (the server's team scope)."""
    d, r, p = t.DeploymentRow.__table__, pt.ReleaseRow.__table__, pt.ProductRow.__table__
    stmt = _select()
    if site is not None:
        stmt = stmt.where(d.c.site == site.strip())
    if product is not None:
        stmt = stmt.where(p.c.name == product.strip())
    if status is not None:
        if status not in STATUSES:
            raise InputError(None, _("--status is one of {values}").format(values=", ".join(STATUSES)))
        stmt = stmt.where(d.c.status == status)
    if product_ids is not None:
        ids = sorted(set(product_ids))
        if not ids:
            return []
        stmt = stmt.where(r.c.product_id.in_(ids))
    stmt = stmt.order_by(d.c.site, p.c.name, r.c.version, d.c.id)
    with store.engine.connect() as conn:
        return [_deployment(row) for row in conn.execute(stmt)]


def get_deployment(store: Store, deployment_id: int) -> Deployment:
    with store.engine.connect() as conn:
        return _get(conn, deployment_id)


def _get(conn: Connection, deployment_id: int) -> Deployment:
    d = t.DeploymentRow.__table__
    row = (
        conn.execute(_select().where(d.c.id == deployment_id)).first() if 0 < deployment_id < 2**63 else None
    )
    if row is None:
        raise InputError(None, _("no deployment {id}").format(id=deployment_id))
    return _deployment(row)


# -- writing --------------------------------------------------------------------------------------------


def _who(who: str | None) -> str:
    from mamori.triage.records import default_who

    return (who or default_who())[:200]


def _insert(conn: Connection, rid: int, fields: Mapping[str, Any], who: str, at: str) -> int:
    d = t.DeploymentRow.__table__
    values = {f: fields.get(f) for f in FIELDS}
    result = conn.execute(
        d.insert().values(
            release_id=rid,
            **values,
            status="active",
            created_at=at,
            created_by=who,
            updated_at=at,
            retired_at=None,
        )
    )
    return int(result.inserted_primary_key[0])


def add_deployment(
    store: Store, product: str, release: str, *, who: str | None = None, **fields: Any
) -> Deployment:
    """Record that ``product`` ``release`` (stored already) runs at ``fields['site']``."""
    from mamori.portfolio.archive import release_id
    from mamori.store.writer import now

    if not fields.get("site"):
        raise InputError(None, _("site: a deployment needs a site"))
    values = checked_fields(fields)
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        rid = release_id(conn, product, release)
        new = _insert(conn, rid, values, _who(who), now())
        return _get(conn, new)


def update_deployment(
    store: Store, deployment_id: int, *, who: str | None = None, **fields: Any
) -> Deployment:
    """Change some fields of a deployment (a field given as None or empty is cleared)."""
    from sqlalchemy import update

    from mamori.store.writer import now

    values = checked_fields(fields)
    d = t.DeploymentRow.__table__
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        _get(conn, deployment_id)
        if values:
            conn.execute(update(d).where(d.c.id == deployment_id).values(**values, updated_at=now()))
        return _get(conn, deployment_id)


def retire_deployment(store: Store, deployment_id: int, *, who: str | None = None) -> Deployment:
    """Mark a deployment retired (it stays listed with ``--status retired``; it leaves the patch list)."""
    from sqlalchemy import update

    from mamori.store.writer import now

    d = t.DeploymentRow.__table__
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        found = _get(conn, deployment_id)
        if found.status != "retired":
            at = now()
            conn.execute(
                update(d)
                .where(d.c.id == deployment_id)
                .values(status="retired", retired_at=at, updated_at=at)
            )
        return _get(conn, deployment_id)


def set_release_support(
    store: Store,
    product: str,
    release: str,
    end_of_support: Any,
    *,
    source: str | None = None,
    who: str | None = None,
) -> str | None:
    """Set (or, with None, clear) the supplier's end-of-support date of a release; returns the date."""
    from sqlalchemy import delete

    from mamori.portfolio.archive import release_id
    from mamori.store.writer import now

    day = check_date("end_of_support", end_of_support)
    text = check_text("source", source)
    s = t.ReleaseSupportRow.__table__
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        rid = release_id(conn, product, release)
        conn.execute(delete(s).where(s.c.release_id == rid))
        if day is not None:
            conn.execute(
                s.insert().values(
                    release_id=rid, end_of_support=day, source=text, set_by=_who(who), set_at=now()
                )
            )
    return day


def release_support(store: Store) -> dict[tuple[str, str], str]:
    """(product, release) → the supplier's end-of-support date, for every release that has one."""
    s, r, p = t.ReleaseSupportRow.__table__, pt.ReleaseRow.__table__, pt.ProductRow.__table__
    with store.engine.connect() as conn:
        return {
            (row.name, row.version): row.end_of_support
            for row in conn.execute(
                select(p.c.name, r.c.version, s.c.end_of_support)
                .join(r, r.c.id == s.c.release_id)
                .join(p, p.c.id == r.c.product_id)
            )
        }

"""The triage context of a product, set once and kept with it (table ``product_context``).

What only the people who run a product know — who can reach it (``system_exposure``), what its failure
would do to the work (``mission_impact``) and to people (``safety_impact``), and for a supplier how rich
a target it is (``value_density``) — is stored per product with the reason given, who set it and when.
``mamori scan --product``, ``mamori triage`` and ``mamori portfolio findings`` use it for every release
of the product; a context file given with ``--context`` still wins for that run, point by point.
Point names and values are those of the SSVC decision points (mamori/data/triage/variants.yaml,
docs/triage-context.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mamori.errors import InputError
from mamori.i18n import _
from mamori.store import Store
from mamori.store.query import EngineReader, Reader

if TYPE_CHECKING:
    from mamori.triage.context import Context

REASON_LIMIT = 2000
# the columns of product_context read back
CONTEXT_COLUMNS = "point, value, reason, set_by, set_at"


@dataclass(frozen=True, slots=True)
class ContextValue:
    """One point of a product's context."""

    point: str
    value: str  # the value's id
    reason: str | None
    set_by: str
    set_at: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "point": self.point,
            "value": self.value,
            "reason": self.reason,
            "set_by": self.set_by,
            "set_at": self.set_at,
        }


def _product(conn: Reader, name: str) -> int | None:
    found = conn.scalar("SELECT id FROM product WHERE name = :name", {"name": name.strip()})
    return int(found) if found is not None else None


def _rows(conn: Reader, pid: int) -> dict[str, ContextValue]:
    sql = f"SELECT {CONTEXT_COLUMNS} FROM product_context WHERE product_id = :pid ORDER BY point"
    return {row[0]: ContextValue(*row) for row in conn.execute(sql, {"pid": pid})}


def checked(values: Mapping[str, str]) -> dict[str, str]:
    """Point → value id, every point and value checked (InputError names the first one wrong)."""
    from mamori.triage.context import check_point

    return {
        point: check_point(point, value, f"--{point.replace('_', '-')}") for point, value in values.items()
    }


def set_context(
    store: Store,
    product: str,
    values: Mapping[str, str],
    reason: str | None = None,
    who: str | None = None,
) -> tuple[dict[str, ContextValue], bool]:
    """Set context points of a product (the others stay); adds the product when it does not exist yet.
    Returns the product's whole context and whether the product was added."""
    from sqlalchemy import delete

    from mamori.portfolio import tables as t
    from mamori.portfolio.archive import add_product
    from mamori.store.writer import now
    from mamori.triage.records import default_who

    ids = checked(values)
    text = (reason or "").strip() or None
    if text is not None and len(text) > REASON_LIMIT:
        raise InputError(None, _("--reason is longer than {limit} characters").format(limit=REASON_LIMIT))
    who = who or default_who()
    added = False
    with store.read() as reader:
        pid = _product(reader, product)
    if pid is None:
        pid, added = add_product(store, product, who=who), True
    c = t.ProductContextRow.__table__
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        at = now()
        for point, value in ids.items():
            conn.execute(delete(c).where(c.c.product_id == pid, c.c.point == point))
            conn.execute(
                c.insert().values(
                    product_id=pid, point=point, value=value, reason=text, set_by=who, set_at=at
                )
            )
        return _rows(EngineReader(conn), pid), added


def clear_context(store: Store, product: str, points: Sequence[str] = ()) -> int:
    """Remove some points (or all) of a product's context; returns how many were removed."""
    from sqlalchemy import delete

    from mamori.portfolio import tables as t
    from mamori.portfolio.archive import product_id

    c = t.ProductContextRow.__table__
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        pid = product_id(conn, product)
        stmt = delete(c).where(c.c.product_id == pid)
        if points:
            stmt = stmt.where(c.c.point.in_(list(points)))
        return int(conn.execute(stmt).rowcount or 0)


def get_context(store: Store, product: str) -> dict[str, ContextValue] | None:
    """The product's context (point → value); None when there is no such product."""
    with store.read() as conn:
        pid = _product(conn, product)
        return _rows(conn, pid) if pid is not None else None


def contexts(store: Store) -> dict[str, dict[str, ContextValue]]:
    """Every product's context by product name (products without one left out)."""
    out: dict[str, dict[str, ContextValue]] = {}
    sql = (
        "SELECT product.name, c.point, c.value, c.reason, c.set_by, c.set_at "
        "FROM product_context AS c JOIN product ON product.id = c.product_id ORDER BY product.name, c.point"
    )
    with store.read() as conn:
        for name, *values in conn.execute(sql):
            out.setdefault(name, {})[values[0]] = ContextValue(*values)
    return out


def as_context(product: str, values: Mapping[str, ContextValue]) -> Context | None:
    """The stored context as a triage :class:`Context` (None when nothing is set)."""
    if not values:
        return None
    from mamori.triage.context import product_context

    return product_context(
        product,
        {
            v.point: (v.value, v.reason, f"product context of {product} (set by {v.set_by} at {v.set_at})")
            for v in values.values()
        },
    )


def product_names(store: Store) -> list[str]:
    with store.read() as conn:
        return [row[0] for row in conn.execute("SELECT name FROM product ORDER BY name")]


def find_product(store: Store, name: str | None) -> str | None:
    """The stored product of this name (compared without regard to case, width or separators), or None."""
    if not name:
        return None
    from mamori.triage import ssvc

    names = product_names(store)
    if name.strip() in names:
        return name.strip()
    wanted = ssvc.norm(name)
    return next((n for n in names if ssvc.norm(n) == wanted), None)


@dataclass(frozen=True, slots=True)
class ReleaseTriage:
    """What the store holds for triaging one product release: its name as stored, the release, its
    triage records (both origins) and the product's context."""

    product: str | None
    release: str | None
    records: list[Any]
    context: Context | None


def release_triage(
    store: Store, product: str | None, release: str | None, root_name: str | None, root_version: str | None
) -> ReleaseTriage:
    """The product release a scan is about: ``product`` as given, else the SBOM's root component's name
    (either spelled as the portfolio spells it when it holds such a product), ``release`` as given, else
    the root's version; the release's triage records and the product's stored context."""
    from mamori.triage.records import list_records

    given = (product or "").strip() or root_name
    if not given:
        return ReleaseTriage(None, release, [], None)
    name = find_product(store, given) or given  # records may name a product the portfolio does not hold
    rel = release or root_version
    records = list_records(store, name, rel) if rel else []
    values = get_context(store, name) or {}
    return ReleaseTriage(name, rel, records, as_context(name, values))

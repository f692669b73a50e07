"""``mamori bundle import``: a verified supplier bundle stored under the supplier's product and release.

Verification comes first: a bundle that fails it is refused and nothing is stored. Then every part is
read and checked (the SBOM parsed, the VEX read, each declaration checked against its schema) before the
first write, so a part that cannot be read stores nothing either. The writes are one transaction on one
connection: the product (created with its supplier), the SBOM as the release's next ``release_sbom``
revision (:mod:`mamori.portfolio.archive`), the VEX as triage records (:mod:`mamori.portfolio.vexin`) and
the import with every part kept as it came (``bundle_document``). Should any of them fail, nothing of the
import is stored. Matching the release is its own step after that commit (it commits in stages of its own):
a failed match leaves the import stored and consistent, is reported as ``match_error`` and the findings
stay unknown until the next match of the release.

What differs from the previous bundle of the same product is reported: components added, removed and
changed (:mod:`mamori.sbom.diff`), open findings new and resolved after matching, and declaration changes
(requirements whose status changed, dates and the end of validity).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, select

from mamori.bundle import tables as bt
from mamori.bundle.signing import PublicKey, load_public_pem
from mamori.bundle.verify import Failure, VerifiedBundle, verify_bundle
from mamori.errors import InputError
from mamori.i18n import _
from mamori.store import Store

NAME_LIMIT = 200


class BundleRefused(Exception):
    """The bundle failed verification: nothing was stored."""

    def __init__(self, verified: VerifiedBundle) -> None:
        super().__init__(verified.path)
        self.verified = verified


@dataclass(slots=True)
class BundleImport:
    """What one import stored and what differs from the product's previous bundle.

    ``parts``: the manifest's parts (name, kind, sha256, size); ``diff``: ``components`` (the SBOM diff as
    :meth:`mamori.sbom.diff.DiffReport.to_json` gives it), ``findings`` (``new`` and ``resolved``, or None
    when the release was not matched), ``declarations`` (per framework: items whose status changed, added,
    removed, date and validity changes); ``previous`` names the bundle compared with (None on the first)."""

    import_id: int
    supplier: str
    product: str
    release: str
    key_id: str
    sha256: str
    parts: list[dict[str, Any]]
    sbom_revision: int
    vex_records: int | None
    previous: dict[str, Any] | None
    diff: dict[str, Any] = field(default_factory=dict)
    documents: dict[str, bytes] = field(default_factory=dict)  # member name → bytes, as imported
    verified: VerifiedBundle | None = None
    match_error: str | None = None  # matching after the import failed: findings are not known

    def as_dict(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "supplier": self.supplier,
            "product": self.product,
            "release": self.release,
            "key_id": self.key_id,
            "sha256": self.sha256,
            "sbom_revision": self.sbom_revision,
            "vex_records": self.vex_records,
            "parts": self.parts,
            "previous": self.previous,
            "diff": self.diff,
            "match_error": self.match_error,
        }


# --------------------------------------------------------------------------------------------- pinned keys


def pin_key(store: Store, supplier: str, key: PublicKey, who: str) -> bool:
    """Trust ``key`` for bundles of ``supplier``; False when it was pinned already."""
    from mamori.store.writer import now

    supplier = _text(supplier, "supplier")
    k = bt.TrustedKeyRow.__table__
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        found = conn.scalar(select(k.c.id).where(k.c.supplier == supplier, k.c.key_id == key.keyid))
        if found is not None:
            return False
        conn.execute(
            k.insert().values(
                supplier=supplier, key_id=key.keyid, pem=key.pem, added_at=now(), added_by=who[:200]
            )
        )
    return True


def pinned_keys(store: Store, supplier: str) -> list[PublicKey]:
    k = bt.TrustedKeyRow.__table__
    with store.engine.connect() as conn:
        pems = list(conn.scalars(select(k.c.pem).where(k.c.supplier == supplier.strip()).order_by(k.c.id)))
    return [load_public_pem(pem.encode("ascii")) for pem in pems]


# --------------------------------------------------------------------------------------------- reading parts


def _text(value: Any, what: str, limit: int = NAME_LIMIT) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > limit:
        raise InputError(None, _("the bundle's {what} is missing or too long").format(what=what))
    return value.strip()


def _parts_of(verified: VerifiedBundle, kind: str) -> list[tuple[str, bytes]]:
    return [
        (str(p["name"]), verified.members[str(p["name"])])
        for p in verified.parts()
        if p.get("kind") == kind and str(p.get("name")) in verified.members
    ]


def _declaration(data: bytes, name: str) -> dict[str, Any]:
    from jsonschema.exceptions import best_match

    from mamori.compliance.declaration import _validator

    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InputError(name, _("not JSON: {exc}").format(exc=exc)) from None
    error = best_match(_validator().iter_errors(doc))
    if error is not None:
        raise InputError(
            name, _("not a mamori self-conformity declaration: {reason}").format(reason=error.message[:200])
        )
    return doc


@dataclass(slots=True)
class _Read:
    sbom_name: str
    sbom_data: bytes
    sbom: Any
    vex: list[tuple[str, Any]]
    declarations: list[tuple[str, dict[str, Any]]]


def read_parts(verified: VerifiedBundle) -> _Read:
    from mamori import vex
    from mamori.portfolio.archive import parse_sbom

    sboms = _parts_of(verified, "sbom")
    if len(sboms) != 1:
        raise InputError(
            verified.path, _("the bundle holds {count} original SBOMs, not one").format(count=len(sboms))
        )
    name, data = sboms[0]
    _fmt, doc = parse_sbom(data, Path(name))
    vexes = [(n, vex.parse(d, n)) for n, d in _parts_of(verified, "vex")]
    declarations = [(n, _declaration(d, n)) for n, d in _parts_of(verified, "declaration-json")]
    return _Read(name, data, doc, vexes, declarations)


# --------------------------------------------------------------------------------------------- differences


def declaration_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Items whose status changed (and items added or removed), the date and the review/validity dates."""
    old = {i["id"]: i for i in before.get("items", []) if isinstance(i, dict) and "id" in i}
    new = {i["id"]: i for i in after.get("items", []) if isinstance(i, dict) and "id" in i}
    changed = [
        {"id": k, "title": new[k].get("title"), "before": old[k].get("status"), "after": new[k].get("status")}
        for k in sorted(old.keys() & new.keys())
        if old[k].get("status") != new[k].get("status")
    ]
    out: dict[str, Any] = {
        "framework": after.get("framework"),
        "status_changed": changed,
        "added": sorted(new.keys() - old.keys()),
        "removed": sorted(old.keys() - new.keys()),
    }
    for name, a, b in (
        ("date", before.get("date"), after.get("date")),
        (
            "valid_until",
            before.get("review", {}).get("valid_until"),
            after.get("review", {}).get("valid_until"),
        ),
        ("next_review", before.get("review", {}).get("next"), after.get("review", {}).get("next")),
    ):
        if a != b:
            out[name] = {"before": a, "after": b}
    return out


def _finding_keys(store: Store, release_id: int) -> list[str]:
    from mamori.portfolio.views import release_findings

    return sorted(
        {
            f"{f['vulnerability']['id']}|{f['component']['purl'] or f['component']['name']}"
            for f in release_findings(store, [release_id])
        }
    )


def _previous(store: Store, product_id: int | None) -> tuple[dict[str, Any], dict[str, bytes]] | None:
    if product_id is None:
        return None
    b, d = bt.BundleImportRow.__table__, bt.BundleDocumentRow.__table__
    with store.engine.connect() as conn:
        row = conn.execute(
            select(b).where(b.c.product_id == product_id).order_by(b.c.id.desc()).limit(1)
        ).first()
        if row is None:
            return None
        docs = {
            f"{r.kind}\n{r.name}": zlib.decompress(r.content)
            for r in conn.execute(select(d.c.kind, d.c.name, d.c.content).where(d.c.import_id == row.id))
        }
    info = {
        "import_id": row.id,
        "release": row.release,
        "sha256": row.bundle_sha256,
        "imported_at": row.imported_at,
        "findings": orjson.loads(row.findings) if row.findings else None,
    }
    return info, docs


def _diff(
    read: _Read, previous: tuple[dict[str, Any], dict[str, bytes]] | None, findings: list[str] | None
) -> dict[str, Any]:
    from mamori.portfolio.archive import parse_sbom
    from mamori.sbom.diff import diff_documents

    if previous is None:
        return {}
    info, docs = previous
    out: dict[str, Any] = {}
    old_sbom = [(k.split("\n", 1)[1], v) for k, v in docs.items() if k.startswith("sbom\n")]
    if old_sbom:
        name, data = old_sbom[0]
        old_doc = parse_sbom(data, Path(name))[1]
        out["components"] = diff_documents(
            old_doc, read.sbom, a_name=str(info["release"]), b_name=read.sbom_name
        ).to_json()
    old_findings = info["findings"]
    if findings is None or old_findings is None:
        out["findings"] = None  # one side was not matched: nothing is said about findings
    else:
        out["findings"] = {
            "new": sorted(set(findings) - set(old_findings)),
            "resolved": sorted(set(old_findings) - set(findings)),
        }
    old_decl: dict[str, dict[str, Any]] = {}
    for key, data in docs.items():
        if key.startswith("declaration-json\n"):
            doc = orjson.loads(data)
            old_decl[str(doc.get("framework"))] = doc
    changes = []
    for _name, doc in read.declarations:
        before = old_decl.get(str(doc.get("framework")))
        if before is None:
            changes.append({"framework": doc.get("framework"), "new": True})
        else:
            changes.append(declaration_changes(before, doc))
    out["declarations"] = changes
    return out


# --------------------------------------------------------------------------------------------- import


def _product(conn: Connection, product: str, supplier: str, who: str) -> int:
    """The product's id, created with its supplier when new (on the import's transaction)."""
    from mamori.portfolio import tables as t
    from mamori.portfolio.archive import add_product_conn

    p = t.ProductRow.__table__
    row = conn.execute(select(p.c.id, p.c.supplier).where(p.c.name == product)).first()
    if row is None:
        return add_product_conn(conn, product, supplier, who)
    if row.supplier and row.supplier.strip() != supplier:
        raise InputError(
            None,
            _("product {product!r} is supplied by {owner!r}, not {supplier!r}").format(
                product=product, owner=row.supplier, supplier=supplier
            ),
        )
    if not row.supplier:
        conn.execute(p.update().where(p.c.id == row.id).values(supplier=supplier))
    return int(row.id)


def _store_documents(conn: Connection, import_id: int, verified: VerifiedBundle) -> None:
    """Every part kept as it came (the import's last write)."""
    rows = []
    for p in verified.parts():
        data = verified.members[str(p["name"])]
        rows.append(
            {
                "import_id": import_id,
                "name": str(p["name"]),
                "kind": str(p.get("kind"))[:32],
                "media_type": str(p.get("media_type"))[:100],
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data),
                "content": zlib.compress(data, 6),
            }
        )
    if rows:
        conn.execute(bt.BundleDocumentRow.__table__.insert(), rows)


def import_bundle(
    store: Store,
    path: str | Path,
    keys: Sequence[PublicKey] = (),
    *,
    who: str | None = None,
    match: bool = True,
    verified: VerifiedBundle | None = None,
) -> BundleImport:
    """Verify the bundle, then store it (see the module); :class:`BundleRefused` when verification fails.
    ``verified``: the verification of this very file already made (it is not made again)."""
    from mamori.portfolio import tables as t
    from mamori.portfolio.archive import store_sbom_conn
    from mamori.portfolio.rematch import match_release
    from mamori.portfolio.vexin import import_vex_conn
    from mamori.store.writer import now
    from mamori.triage.records import default_who

    if verified is None:
        verified = verify_bundle(path, keys, pinned=lambda supplier: pinned_keys(store, supplier))
    if not verified.ok:
        raise BundleRefused(verified)
    supplier = _text(verified.supplier, "supplier")
    product = _text(verified.product, "product")
    release = _text(verified.release, "release", 100)
    read = read_parts(verified)
    who = who or default_who()

    with store.engine.connect() as conn:
        existing = conn.scalar(select(t.ProductRow.id).where(t.ProductRow.name == product))
    previous = _previous(store, existing)
    parts = [{k: p.get(k) for k in ("name", "kind", "sha256", "size")} for p in verified.parts()]
    diff = _diff(read, previous, None)
    b = bt.BundleImportRow.__table__
    # one transaction: the product, the SBOM revision, the VEX triage records and the import with its parts
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        pid = _product(conn, product, supplier, who)
        stored = store_sbom_conn(conn, product, release, read.sbom_data, Path(read.sbom_name), who)
        vex_records: int | None = None
        for name, doc in read.vex:
            done = import_vex_conn(conn, product, release, name, doc, read.sbom)
            vex_records = (vex_records or 0) + done.records
        import_id = int(
            conn.execute(
                b.insert().values(
                    product_id=pid,
                    release=release,
                    supplier=supplier[:200],
                    bundle_sha256=verified.sha256,
                    statement_sha256=verified.statement_sha256,
                    key_id=str(verified.key_id),
                    imported_at=now(),
                    imported_by=who[:200],
                    findings="null",
                    diff=orjson.dumps(diff).decode(),
                )
            ).inserted_primary_key[0]
        )
        _store_documents(conn, import_id, verified)
    result = BundleImport(
        import_id,
        supplier,
        product,
        release,
        str(verified.key_id),
        verified.sha256,
        parts,
        stored.revision,
        vex_records,
        previous[0] if previous is not None else None,
        diff,
        {p["name"]: verified.members[p["name"]] for p in parts},
        verified=verified,
    )
    if match:
        # its own step after the commit: a failed match leaves the import stored and is reported
        try:
            if not stored.unchanged:
                match_release(store, stored.sbom_id, stored.previous_sbom_id, totals=False)
            findings = _finding_keys(store, stored.release_id)
        except Exception as exc:  # reported with the import, which stays stored
            result.match_error = str(exc)[:500] or type(exc).__name__
            return result
        result.diff = _diff(read, previous, findings)
        with store.engine.connect().execution_options(write=True) as conn, conn.begin():
            conn.execute(
                b.update()
                .where(b.c.id == import_id)
                .values(findings=orjson.dumps(findings).decode(), diff=orjson.dumps(result.diff).decode())
            )
    return result


def list_imports(store: Store, product_ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """The bundles imported (of the products given; None: every product), newest first, with the product's
    name and the differences from the previous bundle."""
    import json

    from mamori.bundle.tables import BundleImportRow as B
    from mamori.portfolio import tables as t

    b, p = B.__table__, t.ProductRow.__table__
    query = (
        select(
            b.c.id,
            p.c.name.label("product"),
            b.c.product_id,
            b.c.release,
            b.c.supplier,
            b.c.bundle_sha256,
            b.c.key_id,
            b.c.imported_at,
            b.c.imported_by,
            b.c.diff,
        )
        .join(p, p.c.id == b.c.product_id)
        .order_by(b.c.id.desc())
    )
    if product_ids is not None:
        query = query.where(b.c.product_id.in_(list(product_ids)))
    with store.engine.connect() as conn:
        return [{**dict(r._mapping), "diff": json.loads(r.diff or "{}")} for r in conn.execute(query)]


__all__ = [
    "BundleImport",
    "BundleRefused",
    "Failure",
    "import_bundle",
    "list_imports",
    "pin_key",
    "pinned_keys",
]

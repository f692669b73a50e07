"""Products, releases and their SBOMs archived with provenance (guideline: an SBOM per release, kept).

An SBOM stored for a release keeps the original file's bytes (zlib) with their SHA-256, the format
and specification version mamori detected, the serial number, timestamp and tools the SBOM itself
names, when and by whom it was stored, and the mamori version that stored it. Storing another SBOM
for the same release adds revision 2, 3 …; the earlier ones stay. Storing the very same bytes again
changes nothing.
"""

from __future__ import annotations

import hashlib
import importlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, func, select

from mamori import __version__
from mamori.errors import InputError
from mamori.fileio import read_bytes
from mamori.i18n import gettext
from mamori.model.sbom import Document, ReadWarning
from mamori.portfolio import tables as t
from mamori.portfolio.identity import Identity, identity_of
from mamori.store import Store
from mamori.store.limits import fit_row
from mamori.store.writer import chunks, insert_rows, now, select_in
from mamori.triage.records import _required as _text  # the same rule as triage records' names
from mamori.triage.records import default_who

NAME_LIMIT = 200
KEYS_PER_QUERY = 20000  # component keys per query, sent as one array (:func:`select_in`)
VERSION_LIMIT = 100


@dataclass(frozen=True, slots=True)
class StoredSbom:
    """What ``release add`` did: the release, the revision stored (or found unchanged)."""

    product: str
    version: str
    release_id: int
    sbom_id: int
    revision: int
    sha256: str
    format: str
    components: int
    unchanged: bool  # the same bytes were already the release's current SBOM
    previous_sbom_id: int | None
    warnings: tuple[ReadWarning, ...] = ()  # flaws in single fields that the lenient read went past


def add_product(store: Store, name: str, supplier: str | None = None, who: str | None = None) -> int:
    """A new product; a name already taken is an error."""
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        return add_product_conn(conn, name, supplier, who)


def add_product_conn(conn: Connection, name: str, supplier: str | None = None, who: str | None = None) -> int:
    """:func:`add_product` on the caller's connection, inside the caller's transaction."""
    name = _text(name, "product name", NAME_LIMIT)
    if conn.scalar(select(t.ProductRow.id).where(t.ProductRow.name == name)) is not None:
        raise InputError(None, gettext("product {name!r} exists already").format(name=name))
    row = {
        "name": name,
        "supplier": (supplier or "").strip() or None,
        "created_at": now(),
        "created_by": who or default_who(),
    }
    return int(conn.execute(t.ProductRow.__table__.insert().values(**row)).inserted_primary_key[0])


def no_product(name: str) -> InputError:
    """The error of a product name that names no product (also said of another team's product)."""
    return InputError(
        None, gettext("no product {name!r}: add it with `mamori product add {name}` first").format(name=name)
    )


def product_id(conn: Connection, name: str) -> int:
    found = conn.scalar(select(t.ProductRow.id).where(t.ProductRow.name == name.strip()))
    if found is None:
        raise no_product(name)
    return int(found)


def release_id(conn: Connection, product: str, version: str) -> int:
    pid = product_id(conn, product)
    r = t.ReleaseRow
    found = conn.scalar(select(r.id).where(r.product_id == pid, r.version == version.strip()))
    if found is None:
        raise InputError(
            None,
            gettext("product {product!r} has no release {version!r}").format(
                product=product, version=version
            ),
        )
    return int(found)


def parse_sbom(data: bytes, path: Path) -> tuple[str, Document]:
    """The format detected from the bytes and the document parsed from them (``path`` names them)."""
    from mamori.sbom import READ_FORMATS, ReadOptions, detect_format

    fmt = detect_format(data, path)
    if fmt not in READ_FORMATS:
        raise InputError(path, gettext("not an SBOM format mamori reads ({fmt})").format(fmt=fmt))
    module, _, function = READ_FORMATS[fmt].partition(":")
    reader = getattr(importlib.import_module(module), function)
    return fmt, reader(data, path, ReadOptions())


def read_sbom(path: Path) -> tuple[bytes, str, Document]:
    """The file's bytes, the format detected from them, and the document parsed from those bytes."""
    data = read_bytes(path)
    fmt, doc = parse_sbom(data, path)
    return data, fmt, doc


def unique_identities(doc: Document) -> list[Identity]:
    seen: dict[str, Identity] = {}
    for component in doc.all_components():
        identity = identity_of(component)
        seen.setdefault(identity.key, identity)
    return list(seen.values())


def component_ids(conn: Connection, identities: Sequence[Identity]) -> dict[str, int]:
    """``portfolio_component`` ids of the identities, inserting the new ones (with their CPE keys)."""
    c = t.ComponentRow.__table__
    keys = [i.key for i in identities]
    ids: dict[str, int] = {}
    for part in chunks(keys, KEYS_PER_QUERY):
        ids.update(select_in(conn, c, ["key", "id"], "key", part))
    missing = [i for i in identities if i.key not in ids]
    if missing:
        if conn.dialect.name == "postgresql":
            inserted = _insert_new(conn, missing)  # those another transaction added meanwhile left out
            fresh = [i for i in missing if i.key in inserted]
            ids.update(inserted)
            rest = [i.key for i in missing if i.key not in inserted]
        else:
            fresh = missing
            insert_rows(conn, c, [i.row() for i in fresh])
            rest = [i.key for i in missing]
        for part in chunks(rest, KEYS_PER_QUERY):
            ids.update(select_in(conn, c, ["key", "id"], "key", part))
        cpe_rows = [
            {"component_id": ids[i.key], "vendor": vendor, "product": product}
            for i in fresh
            for vendor, product in sorted(i.cpe_keys)
        ]
        insert_rows(conn, t.ComponentCpeRow.__table__, cpe_rows)
    return ids


NEW_PER_STATEMENT = 5000  # identities per insert (each column's values go as one array)


def _insert_new(conn: Connection, fresh: Sequence[Identity]) -> dict[str, int]:
    """PostgreSQL: insert the identities no other transaction inserted meanwhile; the keys and ids of
    those this one inserted.

    Two workers storing SBOMs at once may both find an identity missing: a plain insert of the second
    then fails on the unique key (the upload failed). ``ON CONFLICT DO NOTHING`` waits for the other
    transaction and skips the row it committed; keys go in sorted order, so two such inserts never wait
    for each other both ways. Each column's values are sent as one array (``unnest``): a statement with
    a placeholder per value (14 per row) cost the driver about 0.1 ms of CPU per row to parse
    (0.5 s of a 5,000-component upload), the database about as much to plan."""
    c = t.ComponentRow.__table__
    ordered = sorted(fresh, key=lambda i: i.key)
    rows = [i.row() for i in ordered]
    columns = list(rows[0])
    assert all(c.c[name].type.python_type is str for name in columns)  # every value goes as text
    names = ", ".join(f'"{name}"' for name in columns)
    arrays = ", ".join("%s::text[]" for _ in columns)
    sql = (
        f'INSERT INTO "{c.name}" ({names}) SELECT {names} FROM unnest({arrays}) WITH ORDINALITY'
        f' AS v({names}, "ord") ORDER BY "ord" ON CONFLICT ("key") DO NOTHING RETURNING "key", "id"'
    )
    inserted: dict[str, int] = {}
    for part in chunks(rows, NEW_PER_STATEMENT):
        values = tuple([row[name] for row in part] for name in columns)
        inserted.update(conn.exec_driver_sql(sql, values).all())
    return inserted


def _release(conn: Connection, pid: int, version: str, who: str) -> tuple[int, int | None]:
    r = t.ReleaseRow.__table__
    row = conn.execute(
        select(r.c.id, r.c.current_sbom_id).where(r.c.product_id == pid, r.c.version == version)
    ).first()
    if row is not None:
        return int(row.id), row.current_sbom_id
    values = {"product_id": pid, "version": version, "created_at": now(), "created_by": who}
    return int(conn.execute(r.insert().values(**values)).inserted_primary_key[0]), None


def store_sbom(store: Store, product: str, version: str, path: Path, who: str | None = None) -> StoredSbom:
    """Archive the SBOM file as the release's next revision (creating the release on first use)."""
    return store_sbom_data(store, product, version, read_bytes(path), path, who)


def store_sbom_data(
    store: Store, product: str, version: str, data: bytes, path: Path, who: str | None = None
) -> StoredSbom:
    """Archive SBOM bytes (``path`` names them: the file, or the name an upload gave) as the release's next
    revision, creating the release on first use."""
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        return store_sbom_conn(conn, product, version, data, path, who)


def store_sbom_conn(
    conn: Connection, product: str, version: str, data: bytes, path: Path, who: str | None = None
) -> StoredSbom:
    """:func:`store_sbom_data` on the caller's connection, inside the caller's transaction."""
    product = _text(product, "product name", NAME_LIMIT)
    version = _text(version, "release version", VERSION_LIMIT)
    fmt, doc = parse_sbom(data, path)
    digest = hashlib.sha256(data).hexdigest()
    identities = unique_identities(doc)
    who = who or default_who()
    s = t.SbomRow.__table__
    pid = product_id(conn, product)
    rid, current = _release(conn, pid, version, who)
    if current is not None:
        last = conn.execute(select(s.c.revision, s.c.sha256, s.c.components).where(s.c.id == current)).one()
        if last.sha256 == digest:
            return StoredSbom(
                product,
                version,
                rid,
                current,
                last.revision,
                digest,
                fmt,
                last.components,
                True,
                current,
                tuple(doc.warnings),
            )
    revision = (
        int(conn.scalar(select(func.coalesce(func.max(s.c.revision), 0)).where(s.c.release_id == rid)) or 0)
        + 1
    )
    row = {
        "release_id": rid,
        "revision": revision,
        "file_name": path.name,
        "format": fmt,
        "spec_version": doc.spec_version,
        "serial_number": doc.serial_number,
        "sbom_timestamp": doc.timestamp.isoformat() if doc.timestamp else None,
        "tools": ", ".join(
            " ".join(x for x in (tool.vendor, tool.name, tool.version) if x) for tool in doc.tools
        )
        or None,
        "sha256": digest,
        "size": len(data),
        "imported_at": now(),
        "imported_by": who,
        "importer": f"mamori {__version__}",
        "components": len(identities),
        "content": zlib.compress(data, 6),
    }
    row = fit_row(s, row)  # stored the same on every backend
    sbom_id = int(conn.execute(s.insert().values(**row)).inserted_primary_key[0])
    ids = component_ids(conn, identities)
    insert_rows(
        conn,
        t.SbomComponentRow.__table__,
        [{"sbom_id": sbom_id, "component_id": cid} for cid in sorted(set(ids.values()))],
    )
    r = t.ReleaseRow.__table__
    conn.execute(r.update().where(r.c.id == rid).values(current_sbom_id=sbom_id))
    return StoredSbom(
        product,
        version,
        rid,
        sbom_id,
        revision,
        digest,
        fmt,
        len(identities),
        False,
        current,
        tuple(doc.warnings),
    )


def sbom_component_ids(conn: Connection, sbom_ids: Sequence[int]) -> set[int]:
    sc = t.SbomComponentRow.__table__
    out: set[int] = set()
    for part in chunks(list(sbom_ids), 500):
        out.update(conn.scalars(select(sc.c.component_id).where(sc.c.sbom_id.in_(part))))
    return out


def original_bytes(store: Store, product: str, version: str, revision: int | None = None) -> bytes:
    """The archived SBOM file of a release (the current revision unless one is named), as stored."""
    s = t.SbomRow.__table__
    with store.engine.connect() as conn:
        rid = release_id(conn, product, version)
        stmt = select(s.c.content, s.c.sha256).where(s.c.release_id == rid)
        stmt = (
            stmt.where(s.c.revision == revision)
            if revision is not None
            else stmt.order_by(s.c.revision.desc())
        )
        row = conn.execute(stmt.limit(1)).first()
    if row is None:
        raise InputError(
            None,
            gettext("{product} {version} has no SBOM revision {revision}").format(
                product=product, version=version, revision=revision
            ),
        )
    data = zlib.decompress(row.content)
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise InputError(
            None,
            gettext("{product} {version}: the archived SBOM does not match its SHA-256").format(
                product=product, version=version
            ),
        )
    return data

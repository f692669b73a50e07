"""Bulk, cached reads of the knowledge base for matching.

Every read takes a whole batch of keys in one query per chunk (never one query per component) and
caches what it read: index rows per (ecosystem, name) and per (vendor, product), the purl2cpe links,
the coverage per scope, and per advisory its affected entries parsed once (ranges with their
versions). The caches belong to one *generation* of the store — the ``source_state`` rows every
import updates, and the ``coverage`` rows — and are dropped when it changes, so a long-lived
:class:`Knowledge` never answers from stale data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mamori.match.cpe import Configuration, parse_configuration, product_names
from mamori.match.purl import OsvAffected, parse_affected
from mamori.match.purl2cpe import LinkKey, load_links, load_links_of, load_weak_links
from mamori.model import merge
from mamori.model.cpe import CpeName
from mamori.model.vulnerability import Epss, Kev, Vulnerability, from_dict, vulnerability_from_dict
from mamori.store import Store, documents
from mamori.store.query import Reader, in_list, in_rows

CHUNK = 500
FEW_PACKAGES = 2000  # up to this many packages of a purl type, their links are looked up by name
T = TypeVar("T")


def chunked(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass(frozen=True, slots=True)
class PackageRow:
    """An ``affected_package`` index row: where in which record a package is named."""

    vuln_id: str
    source: str
    record_id: str
    origin: str  # package (OSV affected) | product (CVE 5 collectionURL + packageName)
    position: int
    variant: str  # Debian:12 → "12"


@dataclass(frozen=True, slots=True)
class CpeRow:
    """An ``affected_cpe`` index row reduced to what locates the configuration or product."""

    vuln_id: str
    origin: str  # configuration (NVD) | product (CVE 5, JVN)
    position: int


@dataclass(slots=True)
class Advisory:
    """The matching-relevant parts of one merged record; entries are parsed on first use."""

    vuln_id: str
    withdrawn: bool
    withdrawn_records: frozenset[tuple[str, str]]
    raw_packages: list[dict[str, Any]]
    raw_configurations: list[dict[str, Any]]
    raw_products: list[dict[str, Any]]
    _packages: dict[int, OsvAffected] = field(default_factory=dict)
    _configurations: dict[int, Configuration] = field(default_factory=dict)
    _products: dict[int, list[CpeName]] = field(default_factory=dict)

    def record_withdrawn(self, source: str, record_id: str) -> bool:
        return (source, record_id) in self.withdrawn_records

    def package(self, position: int) -> OsvAffected | None:
        found = self._packages.get(position)
        if found is None and 0 <= position < len(self.raw_packages):
            found = self._packages[position] = parse_affected(self.vuln_id, self.raw_packages[position])
        return found

    def configuration(self, position: int) -> Configuration | None:
        found = self._configurations.get(position)
        if found is None and 0 <= position < len(self.raw_configurations):
            found = parse_configuration(self.raw_configurations[position], position)
            self._configurations[position] = found
        return found

    def product(self, position: int) -> tuple[dict[str, Any], list[CpeName]] | None:
        if not 0 <= position < len(self.raw_products):
            return None
        raw = self.raw_products[position]
        names = self._products.get(position)
        if names is None:
            names = self._products[position] = product_names(raw)
        return raw, names


def _advisory(vuln_id: str, doc: dict[str, Any], withdrawn: bool) -> Advisory:
    gone = frozenset(
        (str(s.get("source")), str(s.get("id"))) for s in doc.get("sources") or [] if s.get("withdrawn")
    )
    return Advisory(
        vuln_id=vuln_id,
        withdrawn=withdrawn,
        withdrawn_records=gone,
        raw_packages=doc.get("affected_packages") or [],
        raw_configurations=doc.get("cpe_configurations") or [],
        raw_products=doc.get("affected_products") or [],
    )


def _described(vuln_id: str, data: dict[str, Any], merged: bool) -> Vulnerability:
    """A stored record (merged, else merged on its own) without what only matching reads."""
    data = {**data, "affected_packages": [], "cpe_configurations": [], "affected_products": []}
    return vulnerability_from_dict(data if merged else merge.combine_data([data], vuln_id))


@dataclass(frozen=True, slots=True)
class ScopeState:
    """What the knowledge base holds of one scope (an OSV ecosystem, or ``cpe``) across its sources:
    the ``coverage`` rows (:meth:`mamori.store.Store.coverage`), complete feeds first, newest first."""

    scope: str
    rows: tuple[dict[str, Any], ...] = ()

    @property
    def complete(self) -> bool:
        return any(r["complete"] for r in self.rows)

    @property
    def records(self) -> int:
        return sum(int(r.get("records") or 0) for r in self.rows)

    @property
    def feed(self) -> dict[str, Any] | None:
        """The freshest complete feed of the scope (the one a scan's data age is told from)."""
        return self.rows[0] if self.rows and self.rows[0]["complete"] else None


def scope_states(rows: Iterable[dict[str, Any]]) -> dict[str, ScopeState]:
    by_scope: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_scope.setdefault(str(row["scope"]), []).append(row)
    out: dict[str, ScopeState] = {}
    for scope, found in by_scope.items():
        found.sort(key=lambda r: r["source"])
        found.sort(key=lambda r: r.get("complete_at") or "", reverse=True)
        found.sort(key=lambda r: not r["complete"])
        out[scope] = ScopeState(scope, tuple(found))
    return out


class Knowledge:
    """Cached, batched access to one store for the matcher."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._generation: tuple[Any, ...] | None = None
        self.epoch = 0  # bumped whenever the caches are dropped; callers key their own caches on it
        self.newest_record: str | None = None  # the newest ``modified`` among the records
        self._reset()

    def _reset(self) -> None:
        self._packages: dict[tuple[str, str], list[PackageRow]] = {}
        self._cpes: dict[tuple[str, str], list[CpeRow]] = {}
        self._advisories: dict[str, Advisory | None] = {}
        self._records: dict[str, Vulnerability | None] = {}
        self._unpacked: dict[str, tuple[dict[str, Any], bool]] = {}  # see advisories()
        self._links: dict[LinkKey, list[tuple[str, str]]] = {}
        self._link_types: set[str] | None = set()  # purl types whose strong links are read; None: all
        self._weak: dict[LinkKey, list[tuple[str, str, str]]] = {}
        self._weak_types: set[str] = set()
        # links of single packages, for types whose whole table was not read (empty list: none)
        self._links_of: dict[LinkKey, list[tuple[str, str]]] = {}
        self._weak_of: dict[LinkKey, list[tuple[str, str, str]]] = {}
        self._status: dict[str, Any] | None = None
        self._coverage: dict[str, ScopeState] | None = None

    def refresh(self) -> None:
        """Drop the caches when an import changed the store since they were filled."""
        with self.store.read() as conn:
            state = tuple(conn.execute("SELECT source, updated_at, cursor FROM source_state ORDER BY source"))
            state += tuple(
                conn.execute(
                    "SELECT source, scope, complete, complete_at FROM coverage ORDER BY source, scope"
                )
            )
            # updated_at has one-second resolution: the records' count and newest change, and the
            # number of links, tell two imports within the same second apart (the newest change read
            # from the index on ``modified``, each count from the table's narrowest index)
            records = (
                conn.scalar("SELECT count(*) FROM source_record"),
                conn.scalar("SELECT max(modified) FROM source_record"),
            )
            links = conn.scalar("SELECT count(*) FROM purl_cpe")
        generation = (state, records, links)
        self.newest_record = str(records[1]) if records[1] else None
        if generation != self._generation:
            self._reset()
            self._generation = generation
            self.epoch += 1

    @property
    def generation(self) -> tuple[Any, ...] | None:
        """The store's state the caches were filled at (as of the last :meth:`refresh`)."""
        return self._generation

    # -- index rows ---------------------------------------------------------------------------
    def package_rows(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[PackageRow]]:
        missing = sorted({k for k in keys if k not in self._packages})
        if missing:
            by_ecosystem: dict[str, list[str]] = {}
            for ecosystem, name_key in missing:
                by_ecosystem.setdefault(ecosystem, []).append(name_key)
                self._packages[(ecosystem, name_key)] = []
            with self.store.read() as conn:
                for ecosystem, names in by_ecosystem.items():
                    for part in chunked(names):
                        params: dict[str, Any] = {"ecosystem": ecosystem}
                        sql = (
                            "SELECT ecosystem, name_key, vuln_id, source, record_id, origin, position, "
                            "ecosystem_variant FROM affected_package "
                            f"WHERE ecosystem = :ecosystem AND name_key IN {in_list('name', part, params)}"
                        )
                        for r in conn.execute(sql, params):
                            self._packages[(r[0], r[1])].append(
                                PackageRow(r[2], r[3], r[4], r[5], r[6], r[7] or "")
                            )
        return {k: self._packages.get(k, []) for k in keys}

    def cpe_rows(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[CpeRow]]:
        missing = sorted({k for k in keys if k not in self._cpes})
        if missing:
            found: dict[tuple[str, str], set[CpeRow]] = {k: set() for k in missing}
            with self.store.read() as conn:
                for part in chunked(missing):
                    params: dict[str, Any] = {}
                    sql = (
                        "SELECT vendor, product, vuln_id, origin, position FROM affected_cpe "
                        f"WHERE (vendor, product) IN {in_rows('key', part, params)}"
                    )
                    for vendor, product, vuln_id, origin, position in conn.execute(sql, params):
                        found[(vendor, product)].add(CpeRow(vuln_id, origin, position))
            for key, rows in found.items():
                self._cpes[key] = sorted(rows, key=lambda r: (r.vuln_id, r.origin, r.position))
        return {k: self._cpes.get(k, []) for k in keys}

    @property
    def links(self) -> dict[LinkKey, list[tuple[str, str]]]:
        """Every strong purl2cpe link (read once per generation)."""
        if self._link_types is not None:
            with self.store.read() as conn:
                self._links = load_links(conn)
            self._link_types = None
        return self._links

    def links_for(self, types: Iterable[str]) -> dict[LinkKey, list[tuple[str, str]]]:
        """The strong links, read for these purl types at least (each type once per generation): a
        scan of a Maven SBOM reads the Maven links, not the 47,000 of every type."""
        if self._link_types is not None:
            missing = set(types) - self._link_types
            if missing:
                with self.store.read() as conn:
                    self._links.update(load_links(conn, missing))
                self._link_types |= missing
        return self._links

    def links_of(self, keys: Iterable[LinkKey]) -> dict[LinkKey, list[tuple[str, str]]]:
        """The strong links of these packages: looked up by name (500 to a query) for up to
        :data:`FEW_PACKAGES` packages of a type, the type's whole table for more (a 3-component scan
        reads 3 packages' links, not 47,000)."""
        return self._links_of_packages(set(keys), strong=True)

    def weak_links_of(self, keys: Iterable[LinkKey]) -> dict[LinkKey, list[tuple[str, str, str]]]:
        """The weak links (vendor, product, rule) of these packages, as :meth:`links_of`; read only when
        asked."""
        return self._links_of_packages(set(keys), strong=False)

    def _links_of_packages(self, keys: set[LinkKey], *, strong: bool) -> dict[LinkKey, list[Any]]:
        counts = Counter(key[0] for key in keys)
        many = {t for t, n in counts.items() if n > FEW_PACKAGES}
        table: dict[LinkKey, list[Any]] = self.links_for(many) if strong else self.weak_links_for(many)
        read = self._link_types if strong else self._weak_types  # types read whole; None: all of them
        cache: dict[LinkKey, list[Any]] = self._links_of if strong else self._weak_of
        ask = sorted(k for k in keys if k not in cache and not (read is None or k[0] in read))
        if ask:
            got: dict[LinkKey, list[tuple[str, str, str]]] = {}
            with self.store.read() as conn:
                for part in chunked(ask):
                    got.update(load_links_of(conn, part, strong=strong))
            for key in ask:
                found = got.get(key, [])
                cache[key] = [(v, p) for v, p, _ in found] if strong else found
        out: dict[LinkKey, list[Any]] = {}
        for key in keys:
            found = table.get(key) if read is None or key[0] in read else cache.get(key)
            if found:
                out[key] = found
        return out

    def weak_links_for(self, types: Iterable[str]) -> dict[LinkKey, list[tuple[str, str, str]]]:
        """The weak links (vendor, product, rule) for these purl types at least; read only when asked."""
        missing = set(types) - self._weak_types
        if missing:
            with self.store.read() as conn:
                self._weak.update(load_weak_links(conn, missing))
            self._weak_types |= missing
        return self._weak

    @property
    def coverage(self) -> dict[str, ScopeState]:
        """Per scope (OSV ecosystem, or ``cpe``): which sources hold it, whole or in part."""
        if self._coverage is None:
            self._coverage = scope_states(self.status().get("coverage") or [])
        return self._coverage

    def scope(self, name: str) -> ScopeState:
        return self.coverage.get(name) or ScopeState(name)

    # -- documents ----------------------------------------------------------------------------
    def _documents(self, conn: Reader, ids: Sequence[str]) -> Iterator[tuple[str, bool, bytes, bool]]:
        """(vuln id, withdrawn, packed document, merged?) for each id that exists."""
        for part in chunked(ids):
            single: dict[str, bool] = {}
            params: dict[str, Any] = {}
            for vid, doc, withdrawn in conn.execute(
                f"SELECT id, doc, withdrawn FROM vulnerability WHERE id IN {in_list('id', part, params)}",
                params,
            ):
                if doc is None:
                    single[vid] = withdrawn is not None
                else:
                    yield vid, withdrawn is not None, doc, True
            if single:
                params = {}
                for vid, doc in conn.execute(
                    f"SELECT vuln_id, doc FROM source_record WHERE vuln_id IN {in_list('id', single, params)}",
                    params,
                ):
                    yield vid, single[vid], doc, False

    def advisories(self, ids: Iterable[str]) -> dict[str, Advisory]:
        wanted = set(ids)
        missing = sorted(i for i in wanted if i not in self._advisories)
        if missing:
            # the documents read here, kept for the next :meth:`vulnerabilities`: the hits among these
            # advisories are rebuilt then without reading and unpacking them again
            read: dict[str, tuple[dict[str, Any], bool]] = {}
            for vid in missing:
                self._advisories[vid] = None
            with self.store.read() as conn:
                for vid, withdrawn, doc, merged in self._documents(conn, missing):
                    data = documents.unpack(doc)
                    read[vid] = (data, merged)
                    self._advisories[vid] = _advisory(vid, data, withdrawn)
            self._unpacked = read
        return {i: a for i in wanted if (a := self._advisories.get(i)) is not None}

    def vulnerabilities(self, ids: Iterable[str]) -> dict[str, Vulnerability]:
        """The merged records (as ``db show`` gives them, without KEV/EPSS: see :meth:`kev`), without
        their affected packages, CPE configurations and products (``affected_packages``,
        ``cpe_configurations``, ``affected_products`` are empty): matching reads those through
        :meth:`advisories`, and what follows a match (findings, triage, reports) does not use them."""
        wanted = set(ids)
        missing = sorted(i for i in wanted if i not in self._records)
        if missing:
            # the documents the last advisories() read serve once: the rest (advisories without a hit)
            # are not kept beyond this
            unpacked, self._unpacked = self._unpacked, {}
            unread = []
            for vid in missing:
                self._records[vid] = None
                got = unpacked.get(vid)
                if got is None:
                    unread.append(vid)
                else:
                    self._records[vid] = _described(vid, *got)
            if unread:
                with self.store.read() as conn:
                    for vid, _withdrawn, doc, merged in self._documents(conn, unread):
                        self._records[vid] = _described(vid, documents.unpack(doc), merged)
        return {i: r for i in wanted if (r := self._records.get(i)) is not None}

    # -- enrichment ---------------------------------------------------------------------------
    def kev(self, cves: Iterable[str]) -> dict[str, Kev]:
        out: dict[str, Kev] = {}
        with self.store.read() as conn:
            for part in chunked(sorted(set(cves))):
                params: dict[str, Any] = {}
                sql = f"SELECT cve_id, doc FROM kev WHERE cve_id IN {in_list('cve', part, params)}"
                for cve_id, doc in conn.execute(sql, params):
                    out[cve_id] = from_dict(Kev, documents.unpack(doc))
        return out

    def epss(self, cves: Iterable[str]) -> dict[str, Epss]:
        out: dict[str, Epss] = {}
        with self.store.read() as conn:
            for part in chunked(sorted(set(cves))):
                params: dict[str, Any] = {}
                sql = f"SELECT cve_id, score, percentile, date FROM epss WHERE cve_id IN {in_list('cve', part, params)}"
                for cve_id, score, percentile, date in conn.execute(sql, params):
                    out[cve_id] = Epss(cve_id, score, percentile, date)
        return out

    def status(self) -> dict[str, Any]:
        """``Store.status()`` once per generation, without the purl2cpe links by strength and the totals a
        scan does not report (counting them reads whole tables)."""
        if self._status is None:
            self._status = self.store.status(strengths=False, totals=False)
        return self._status

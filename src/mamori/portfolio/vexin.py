"""A supplier's (or your own) VEX document stored as triage records of one product release.

``mamori vex import FILE --product P --release R`` reads CycloneDX VEX, OpenVEX or CSAF VEX and resolves
every statement against the release's current SBOM: a product or subcomponent names a component of the
release by purl (with version or ``vers:`` range), bom-ref, BOM-Link into that SBOM (serial number and
version must match) or CPE; a product without subcomponents that is the release itself (its name and
version, purl, or a BOM-Link to the SBOM's root) speaks about the whole release. Each (statement,
component) becomes a triage record of origin ``vex`` (:mod:`mamori.triage.records`): who = the author the
VEX names (else the file), when = the statement's last update (else its first issue, else the
document's time, else now), source = the file and document id.

Nothing is dropped silently: statements about another product, or naming components the release does
not have, are counted with examples; a statement that breaks the VEX rules is rejected alone with its
reason; the others are written in one transaction. Importing the same VEX again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from mamori.errors import InputError
from mamori.model.sbom import Document
from mamori.model.vex import VexDocument, VexProduct, VexStatement
from mamori.scan.result import ComponentRef
from mamori.store import Store
from mamori.triage.records import VEX, WHOLE_RELEASE, TriageRecord, set_records, validated
from mamori.triage.state import source_label, statement_detail
from mamori.triage.vexmatch import ScannedProduct, component_match, elsewhere, serial_uuid
from mamori.vex.fields import iso

EXAMPLES = 5


@dataclass(slots=True)
class VexImport:
    """What one import did."""

    product: str
    release: str
    file: str
    source: str
    author: str
    statements: int = 0
    records: int = 0  # (statement, component) pairs resolved
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    older: int = 0  # a newer VEX statement was already stored: kept
    whole_release: int = 0  # records about the release as a whole
    rejected: list[dict[str, Any]] = field(default_factory=list)  # {statement, vulnerability, problem}
    not_in_release: int = 0  # (statement, product) pairs naming components the release does not have
    not_in_release_examples: list[str] = field(default_factory=list)
    other_product: int = 0  # (statement, product) pairs about another product or SBOM
    other_product_examples: list[str] = field(default_factory=list)
    without_purl: int = 0  # components named that have no purl to record them under
    without_purl_examples: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}  # type: ignore[attr-defined]

    def _note(self, kind: str, example: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        examples = getattr(self, f"{kind}_examples")
        if len(examples) < EXAMPLES and example not in examples:
            examples.append(example)


def release_sbom(store: Store, product: str, release: str) -> Document:
    """The release's current SBOM, read from the archived bytes."""
    from mamori.portfolio.archive import original_bytes, parse_sbom

    return parse_sbom(original_bytes(store, product, release), Path(f"{product}-{release}.sbom"))[1]


def release_product(doc: Document, product: str, release: str) -> ScannedProduct:
    """The release as VEX statements name it: the product's and the root's names, the release version,
    the root's purl (when its version is the release's) and the SBOM's serial number and root bom-ref."""
    root = doc.root
    names = tuple(dict.fromkeys(n for n in (product, root.name if root else None) if n))
    purl = root.purl if root is not None and root.version in (None, release) else None
    return ScannedProduct(
        names,
        release,
        purl,
        serial_uuid(doc.serial_number),
        doc.version,
        root.bom_ref if root is not None else None,
    )


def components_of(doc: Document) -> list[ComponentRef]:
    seen: set[tuple[Any, ...]] = set()
    out: list[ComponentRef] = []
    for c in doc.all_components():
        key = (c.bom_ref, c.purl, c.name, c.version)
        if key not in seen:
            seen.add(key)
            cpe = c.cpes[0] if c.cpes else None
            out.append(ComponentRef(c.name, c.version, c.purl, cpe, c.bom_ref, c.group))
    return out


def _when(st: VexStatement, doc: VexDocument) -> str:
    stamp = st.last_updated or st.timestamp or doc.last_updated or doc.timestamp
    return iso(stamp) if stamp is not None else iso(datetime.now(UTC).replace(microsecond=0))


def _targets(
    st: VexStatement, scanned: ScannedProduct, components: list[ComponentRef], out: VexImport
) -> list[str]:
    """The purls (or ``*``) a statement speaks about in this release; what it names elsewhere is noted."""
    if not st.products:
        return [WHOLE_RELEASE]  # every product of the document's author: the release as a whole
    targets: list[str] = []
    vid = st.vulnerability.id

    def hit(candidate: VexProduct) -> bool:
        found = [c for c in components if component_match(candidate, c, scanned)]
        for c in found:
            if c.purl:
                targets.append(c.purl)
            else:
                out._note("without_purl", f"{vid}: {c.label}")
        return bool(found)

    for p in st.products:
        same = scanned.same_as(p)
        if p.subcomponents:
            if same is False:
                out._note("other_product", f"{vid}: {p.label}")
                continue
            for sub in p.subcomponents:
                if not hit(sub):
                    out._note("not_in_release", f"{vid}: {sub.label}")
        elif not hit(p):
            if same is True:
                targets.append(WHOLE_RELEASE)
            elif elsewhere(p, scanned):
                out._note("other_product", f"{vid}: {p.label}")
            else:
                out._note("not_in_release", f"{vid}: {p.label}")
    return list(dict.fromkeys(targets))


def import_vex(store: Store, product: str, release: str, path: str | Path, doc: VexDocument) -> VexImport:
    """Store the statements of ``doc`` (read from ``path``) as VEX triage records of the release."""
    from mamori.portfolio.archive import release_id

    with store.engine.connect() as conn:
        release_id(conn, product, release)  # the product and release must exist
    sbom = release_sbom(store, product, release)
    out, records = vex_records(product, release, path, doc, sbom)
    _count(out, set_records(store, records))
    return out


def import_vex_conn(
    conn: Connection, product: str, release: str, path: str | Path, doc: VexDocument, sbom: Document
) -> VexImport:
    """:func:`import_vex` on the caller's connection, inside the caller's transaction; ``sbom`` is the
    release's current SBOM (parsed)."""
    from mamori.portfolio.archive import release_id
    from mamori.triage.records import write_record

    release_id(conn, product, release)  # the product and release must exist
    out, records = vex_records(product, release, path, doc, sbom)
    _count(out, [write_record(conn, r) for r in records])
    return out


def _count(out: VexImport, changes: list[tuple[TriageRecord, str]]) -> None:
    for _record, change in changes:
        setattr(out, change, getattr(out, change) + 1)


def vex_records(
    product: str, release: str, path: str | Path, doc: VexDocument, sbom: Document
) -> tuple[VexImport, list[TriageRecord]]:
    """The triage records the statements of ``doc`` make for the release whose SBOM is ``sbom``, one per
    subject, and what was made of each statement; nothing is written."""
    scanned = release_product(sbom, product, release)
    components = components_of(sbom)
    author = doc.author or Path(path).name
    out = VexImport(product, release, str(path), source_label(path, doc), author, len(doc.statements))
    wanted: list[TriageRecord] = []
    for i, st in enumerate(doc.statements):
        try:
            made = [
                validated(
                    product,
                    release,
                    target,
                    st.vulnerability.id,
                    st.status,
                    st.justification if st.status == "not_affected" else None,
                    st.responses,
                    statement_detail(st),
                    who=author[:200],
                    at=_when(st, doc),
                    origin=VEX,
                    source=out.source,
                )
                for target in _targets(st, scanned, components, out)
            ]
        except InputError as exc:
            out.rejected.append(
                {"statement": i, "vulnerability": st.vulnerability.id, "problem": exc.problem}
            )
            continue
        wanted.extend(made)
    # one record per subject: when a document says two things of one subject, its newest statement wins
    latest: dict[tuple[str, ...], TriageRecord] = {}
    for r in wanted:
        if r.key not in latest or r.at >= latest[r.key].at:
            latest[r.key] = r
    out.records = len(latest)
    out.whole_release = sum(1 for r in latest.values() if r.component_purl == WHOLE_RELEASE)
    return out, list(latest.values())

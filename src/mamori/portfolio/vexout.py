"""A product release's triage state as VEX that other tools can apply to the release's SBOM.

One statement per (component, vulnerability): the user's own record where there is one, else the
stored VEX statement (the precedence of :mod:`mamori.triage.state`). How a statement names what it is
about depends on the format, so that a consumer needs nothing but the SBOM:

- **CycloneDX VEX**: ``affects[].ref`` is a BOM-Link ``urn:cdx:<serialNumber>/<version>#<bom-ref>``
  into the release's stored SBOM (a component, or the SBOM's root for a statement about the whole
  release); the document also lists each affected component (bom-ref as in the SBOM, name, version,
  purl), so the purls travel with the VEX. An SBOM without a serial number cannot be linked to: the
  refs are then the components' purls (a warning says so).
- **OpenVEX**: ``products[].@id`` is the component's purl (the root's purl, or its BOM-Link, for the
  whole release).
- **CSAF VEX**: every product has ``product_identification_helper.purl``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from packageurl import PackageURL

from mamori.errors import InputError
from mamori.i18n import _
from mamori.model.sbom import Component, Document
from mamori.model.vex import VexDocument, VexProduct
from mamori.store import Store
from mamori.triage.records import USER, WHOLE_RELEASE, TriageRecord, list_records, statement
from mamori.triage.state import canonical_purl
from mamori.triage.vexmatch import bomlink
from mamori.vex.mapping import mapping


@dataclass(slots=True)
class ReleaseVex:
    document: VexDocument
    statements: int = 0
    linked: int = 0  # products named by a BOM-Link into the release's SBOM
    by_purl: int = 0  # products named by purl
    warnings: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # message key, values

    def warning_texts(self, lang: str = "en") -> list[str]:
        from mamori.portfolio.messages import text

        return [text(lang, "vex_export", key, **values) for key, values in self.warnings]


def chosen_records(records: Sequence[TriageRecord]) -> list[TriageRecord]:
    """One record per subject: the user's own, else the VEX one."""
    by_subject: dict[tuple[str, str, str, str], TriageRecord] = {}
    for r in records:
        old = by_subject.get(r.subject)
        if old is None or (r.origin == USER and old.origin != USER):
            by_subject[r.subject] = r
    return list(by_subject.values())


def _sbom(store: Store, product: str, release: str) -> Document | None:
    from mamori.portfolio.vexin import release_sbom

    try:
        return release_sbom(store, product, release)
    except InputError:
        return None  # records of a release the portfolio does not hold (or without an SBOM)


def _product(c: Component, sbom: Document | None, fmt: str, release: str | None = None) -> VexProduct:
    link = None
    if fmt == "cyclonedx" and sbom is not None and c.bom_ref:
        link = bomlink(sbom.serial_number, sbom.version, c.bom_ref)
    ref = link if fmt == "cyclonedx" else None
    if fmt == "cyclonedx" and ref is None:
        ref = c.purl or c.bom_ref
    return VexProduct(
        ref=ref,
        name=c.name,
        version=release or c.version,
        vendor=c.supplier.name if c.supplier is not None else None,
        purl=c.purl if release is None or c.version in (None, release) else None,
        cpe=c.cpes[0] if c.cpes else None,
    )


def release_vex(
    store: Store, product: str, release: str, fmt: str, author: str | None = None, lang: str = "en"
) -> ReleaseVex:
    """The VEX of a release's triage records in ``fmt`` (cyclonedx, openvex or csaf); see the module."""
    records = chosen_records(list_records(store, product, release))
    if not records:
        raise InputError(
            None,
            _(
                "no triage records for {product} {release}: set some with `mamori triage record` or `mamori vex import`"
            ).format(product=product, release=release),
        )
    sbom = _sbom(store, product, release)
    out = ReleaseVex(VexDocument(), len(records))
    names = {"product": product, "release": release}
    if sbom is None:
        out.warnings.append(("no_sbom", names))
    elif fmt == "cyclonedx" and not bomlink(sbom.serial_number, sbom.version, "x"):
        out.warnings.append(("no_serial", names))
    components: dict[str, list[Component]] = {}
    if sbom is not None:
        for c in sbom.all_components():
            key = canonical_purl(c.purl)
            if key is not None and c not in components.get(key, []):
                components.setdefault(key, []).append(c)
    statements = []
    for r in sorted(records, key=lambda x: (x.vulnerability, x.component_purl)):
        if r.component_purl == WHOLE_RELEASE:
            root = sbom.root if sbom is not None and sbom.root is not None else Component(product, release)
            products = [_product(root, sbom, fmt, release)]
            if fmt != "cyclonedx" and products[0].purl is None and sbom is not None and root.bom_ref:
                link = bomlink(sbom.serial_number, sbom.version, root.bom_ref)
                if link is not None:
                    products[0].ref = link
                    if fmt == "openvex":  # the link names the release: no version marker on the @id
                        products[0].version = None
        else:
            found = components.get(r.component_purl, [])
            if not found:
                out.warnings.append(("not_in_sbom", {**names, "purl": r.component_purl}))
                name = PackageURL.from_string(r.component_purl)
                found = [Component(name.name, name.version, group=name.namespace, purl=r.component_purl)]
            products = [_product(c, sbom, fmt) for c in found]
        for p in products:
            if p.ref and p.ref.startswith("urn:cdx:"):
                out.linked += 1
            elif p.purl:
                out.by_purl += 1
        statements.append(statement(r, products))
    out.document = VexDocument(
        statements=statements,
        author=author,
        tool="mamori triage",
        title=mapping().csaf_text("release_title", lang, product=product, release=release),
        source_format="triage",
    )
    return out

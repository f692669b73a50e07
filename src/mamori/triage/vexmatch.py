"""Which components a VEX product names: by purl (with version or ``vers:`` range), CycloneDX bom-ref or
BOM-Link, CPE, or the scanned product as a whole.

A BOM-Link (``urn:cdx:<serialNumber>/<version>#<bom-ref>``, https://cyclonedx.org/capabilities/bomlink/)
names one element of one version of one BOM: it matches a component only when the serial number and
version are those of the scanned SBOM, and then by the bom-ref after ``#`` (as written, or
percent-decoded). A link into another BOM names nothing here. No I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from packageurl import PackageURL

from mamori.model.vex import VexProduct
from mamori.scan.result import ComponentRef
from mamori.triage import ssvc

if TYPE_CHECKING:
    from mamori.model.sbom import Component, Document

BOMLINK = re.compile(
    r"^urn:cdx:(?P<serial>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
    r"/(?P<version>[1-9][0-9]*)(?:#(?P<ref>.+))?$"
)
_UUID_URN = re.compile(r"^urn:uuid:([0-9a-fA-F-]{36})$")
# RFC 3986 fragment characters (pchar / "/" / "?"), "%" kept for what is already percent-encoded
_FRAGMENT_SAFE = "-._~!$&'()*+,;=:@/?%"


@dataclass(frozen=True, slots=True)
class BomLink:
    """A BOM-Link: the serial number and version of a BOM, and a bom-ref in it."""

    serial: str  # the UUID, lower case, without urn:uuid:
    version: int
    ref: str | None  # the bom-ref (percent-decoded), None for a link to the whole BOM

    def text(self) -> str:
        tail = f"#{fragment(self.ref)}" if self.ref is not None else ""
        return f"urn:cdx:{self.serial}/{self.version}{tail}"


def parse_bomlink(text: str | None) -> BomLink | None:
    """The parts of a BOM-Link, or None when ``text`` is not one."""
    found = BOMLINK.match(text.strip()) if text else None
    if found is None:
        return None
    ref = found.group("ref")
    return BomLink(found.group("serial").lower(), int(found.group("version")), unquote(ref) if ref else None)


def fragment(ref: str) -> str:
    """A bom-ref as a BOM-Link fragment: characters a URN fragment cannot hold are percent-encoded."""
    out = []
    for i, ch in enumerate(ref):
        if ch == "%" and not re.fullmatch(r"[0-9A-Fa-f]{2}", ref[i + 1 : i + 3]):
            out.append("%25")
        else:
            out.append(quote(ch, safe=_FRAGMENT_SAFE))
    return "".join(out)


def serial_uuid(serial: str | None) -> str | None:
    """The UUID of a CycloneDX ``serialNumber`` (``urn:uuid:…``), lower case; None for anything else."""
    found = _UUID_URN.match(serial.strip()) if serial else None
    return found.group(1).lower() if found else None


def bomlink(serial: str | None, version: int, ref: str) -> str | None:
    """The BOM-Link of element ``ref`` of the BOM with this serial number and version (None without one)."""
    uuid = serial_uuid(serial)
    return BomLink(uuid, max(1, version), ref).text() if uuid else None


def purl_parts(text: str | None) -> tuple[str, str | None] | None:
    """(purl without version, qualifiers, subpath; version) or None."""
    if not text:
        return None
    try:
        p = PackageURL.from_string(text)
    except ValueError:
        return None
    base = PackageURL(p.type, p.namespace, p.name).to_string()
    return base, p.version


def version_in(range_text: str, version: str | None) -> bool | None:
    """Whether ``version`` is inside a ``vers:`` range; None when that cannot be decided."""
    if not version:
        return None
    try:
        from univers.version_range import VersionRange

        vr = VersionRange.from_string(range_text)
        return vr.version_class(version) in vr
    except Exception:  # univers raises many types for unknown schemes or versions
        return None


@dataclass(frozen=True, slots=True)
class ScannedProduct:
    """What the scan is about: the product (its names, the release's version, its purl) and the SBOM
    (serial number, version and the root's bom-ref), so that VEX statements about the product as a
    whole, or BOM-Links into this SBOM, can be told."""

    names: tuple[str, ...] = ()
    version: str | None = None
    purl: str | None = None
    serial: str | None = None  # UUID of the SBOM's serialNumber
    bom_version: int = 1
    root_ref: str | None = None

    @property
    def name(self) -> str | None:
        return self.names[0] if self.names else None

    @classmethod
    def of(
        cls,
        root: Component | None,
        name: str | None = None,
        release: str | None = None,
        doc: Document | None = None,
    ) -> ScannedProduct | None:
        """The SBOM's root; a product name or release given for triage replaces the root's (the SBOM's
        serial number and root bom-ref still tell BOM-Links)."""
        serial = serial_uuid(doc.serial_number) if doc is not None else None
        bom_version = doc.version if doc is not None else 1
        root_ref = root.bom_ref if root is not None else None
        is_root = root is not None and name is not None and ssvc.norm(name) == ssvc.norm(root.name)
        if is_root and root is not None and release in (None, root.version):
            name = None  # the product is the SBOM's root: keep its purl
        if root is None or name is not None:
            if name is None and serial is None:
                return None
            return cls(tuple(n for n in (name,) if n), release, None, serial, bom_version, root_ref)
        purl = root.purl if release is None or release == root.version else None
        return cls((root.name,), release or root.version, purl, serial, bom_version, root_ref)

    def _version_matches(self, product: VexProduct) -> bool:
        if product.version_range:
            return version_in(product.version_range, self.version) is not False
        return not product.version or not self.version or product.version == self.version

    def same_as(self, product: VexProduct) -> bool | None:
        """Whether a VEX product names this product (None: it cannot be told)."""
        link = parse_bomlink(product.ref)
        if link is not None and self.serial is not None:
            if link.serial != self.serial or link.version != self.bom_version:
                return False
            is_root = link.ref is None or (self.root_ref is not None and link.ref == self.root_ref)
            return is_root and self._version_matches(product)
        mine, theirs = purl_parts(self.purl), purl_parts(product.purl)
        if mine is not None and theirs is not None:
            if mine[0] != theirs[0]:
                return False
            if product.version_range:
                return version_in(product.version_range, mine[1]) is not False
            return theirs[1] in (None, mine[1])
        if product.name and self.names:
            same = any(ssvc.norm(product.name) == ssvc.norm(n) for n in self.names)
            return same and self._version_matches(product)
        return None


def elsewhere(product: VexProduct, scanned: ScannedProduct) -> bool:
    """Whether a product that names nothing here is another release of this product or an element of
    another BOM (rather than a component this release does not have)."""
    link = parse_bomlink(product.ref)
    if link is not None and scanned.serial is not None:
        return (
            link.serial != scanned.serial
            or link.version != scanned.bom_version
            or link.ref == scanned.root_ref
        )
    mine, theirs = purl_parts(scanned.purl), purl_parts(product.purl)
    if mine is not None and theirs is not None and mine[0] == theirs[0]:
        return True
    return bool(product.name) and any(ssvc.norm(product.name or "") == ssvc.norm(n) for n in scanned.names)


def component_match(candidate: VexProduct, c: ComponentRef, scanned: ScannedProduct | None = None) -> bool:
    """Whether a VEX product (or subcomponent) names this component."""
    link = parse_bomlink(candidate.ref)
    if (
        link is not None
        and link.ref is not None
        and scanned is not None
        and link.serial == scanned.serial
        and link.version == scanned.bom_version
    ):
        return c.bom_ref is not None and link.ref == c.bom_ref
    own, theirs = purl_parts(c.purl), purl_parts(candidate.purl)
    if theirs is not None and own is not None and theirs[0] == own[0]:
        if candidate.version_range:
            return version_in(candidate.version_range, own[1]) is True
        if theirs[1] is None or theirs[1] == own[1]:
            return True
    if candidate.ref and candidate.ref in (c.bom_ref, c.purl):
        return True
    return bool(candidate.cpe and c.cpe and candidate.cpe == c.cpe)


def matches(product: VexProduct, c: ComponentRef, scanned: ScannedProduct | None) -> bool:
    """A product with subcomponents speaks about those components inside that product only; a product
    without them is the component itself, or the scanned product as a whole."""
    same = scanned.same_as(product) if scanned is not None else None
    if product.subcomponents:
        return same is not False and any(component_match(sub, c, scanned) for sub in product.subcomponents)
    return component_match(product, c, scanned) or same is True


def whole_product(product: VexProduct, scanned: ScannedProduct | None) -> bool:
    """Whether a product (without subcomponents) is the scanned product as a whole."""
    return not product.subcomponents and scanned is not None and scanned.same_as(product) is True

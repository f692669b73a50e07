"""purl ↔ CPE vendor:product links: the flattened TSV and the SCANOSS purl2cpe repository layout.

SCANOSS keeps ``data/<vendor>/<product>/purls.yml`` (vendor and product from the path) and older
``data/<vendor>/<product>.yml`` files holding both ``cpes`` and ``purls``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

import yaml
from packageurl import PackageURL

from mamori.errors import InputError
from mamori.vulndb.cpe import parse_cpe
from mamori.vulndb.rejected import Rejected

SOURCE = "purl2cpe"
TSV_HEADER = "cpe_vendor\tcpe_product\tpurl"


@dataclass(frozen=True, slots=True)
class PurlCpeLink:
    """A package (purl without version) known under a CPE vendor and product."""

    purl_type: str
    purl_namespace: str
    purl_name: str
    purl: str
    cpe_vendor: str
    cpe_product: str


def make_link(purl: str, vendor: str, product: str, name: str, where: str) -> PurlCpeLink | Rejected:
    """The link, or a :class:`Rejected` note when the purl does not parse (the row is skipped)."""
    try:
        parsed = PackageURL.from_string(purl.strip())
    except ValueError as exc:
        return Rejected(name, where, f"invalid purl {purl.strip()[:120]!r}: {str(exc).split(':')[0]}")
    base = (
        parsed._replace(version=None, qualifiers={}, subpath=None)
        if parsed.version or parsed.qualifiers or parsed.subpath
        else parsed
    )
    return PurlCpeLink(
        purl_type=parsed.type,
        purl_namespace=parsed.namespace or "",
        purl_name=parsed.name,
        purl=base.to_string(),
        cpe_vendor=vendor.strip().lower(),
        cpe_product=product.strip().lower(),
    )


def parse_tsv(name: str, data: bytes) -> Iterator[PurlCpeLink | Rejected]:
    try:
        lines = data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise InputError(name, "purl2cpe TSV is not UTF-8") from None
    if not lines or lines[0].strip() != TSV_HEADER:
        raise InputError(name, f"expected the header {TSV_HEADER!r}")
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 3 or not all(f.strip() for f in fields):
            yield Rejected(name, f"line {number}", "expected vendor, product and purl separated by tabs")
            continue
        yield make_link(fields[2], fields[0], fields[1], name, f"line {number}")


def parse_scanoss_yaml(name: str, data: bytes) -> Iterator[PurlCpeLink | Rejected]:
    try:
        doc = yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise InputError(name, f"not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("purls"), list):
        raise InputError(name, "a SCANOSS purl2cpe file needs a 'purls' list")
    purls = [p for p in doc["purls"] if isinstance(p, str)]
    pairs: list[tuple[str, str]] = []
    for cpe in doc.get("cpes") or []:
        parsed = parse_cpe(str(cpe))
        if parsed and (parsed.vendor, parsed.product) not in pairs:
            pairs.append((parsed.vendor, parsed.product))
    if not pairs:  # data/<vendor>/<product>/purls.yml
        path = PurePosixPath(name.replace("\\", "/").rsplit(":", 1)[-1])
        if path.name != "purls.yml" or len(path.parts) < 3:
            raise InputError(
                name,
                "cannot tell the CPE vendor and product (no 'cpes' and not <vendor>/<product>/purls.yml)",
            )
        pairs.append((path.parts[-3], path.parts[-2]))
    for vendor, product in pairs:
        for purl in purls:
            yield make_link(purl, vendor, product, name, "purls")


def looks_like_tsv(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf").startswith(TSV_HEADER.encode())


def looks_like_scanoss(name: str, data: bytes) -> bool:
    base = name.rsplit("/", 1)[-1]
    return base.endswith((".yml", ".yaml")) and (b"\npurls:" in b"\n" + data[:4096])

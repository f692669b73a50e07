"""purl ↔ CPE vendor:product links: the flattened TSV and the SCANOSS purl2cpe repository layout.

SCANOSS keeps ``data/<vendor>/<product>/purls.yml`` (vendor and product from the path) and older
``data/<vendor>/<product>.yml`` files holding both ``cpes`` and ``purls``.

Every link is judged when it is read (:mod:`mamori.model.linkrule`): *strong* when its CPE product
plausibly names the package, *weak* otherwise; the rule that decided is kept with the link.

What is wrong with one line of upstream data is a :class:`DataWarning` (the line is skipped, the
import goes on and still succeeds): a TSV line without vendor, product and purl, a purl that does
not parse, a vendor or product that cannot be a CPE component, a ``cpes`` entry that is no CPE, a
``purls`` entry that is not a string, a ``purls`` that is not a list. What makes a whole file
unreadable is an :class:`InputError` (the file fails): a TSV that is not UTF-8 or lacks the header,
YAML that does not parse, a file whose CPE vendor and product cannot be told.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePosixPath

from packageurl import PackageURL

from mamori.errors import InputError
from mamori.fileio import check_yaml_depth
from mamori.i18n import _
from mamori.model.cpe import parse_cpe
from mamori.model.linkrule import judge
from mamori.model.purl2cpe import PurlCpeLink, judged  # noqa: F401  (judged: read by the importer)
from mamori.vulndb.rejected import DataWarning, Rejected

SOURCE = "purl2cpe"
TSV_HEADER = "cpe_vendor\tcpe_product\tpurl"
_CPE_PLAIN = re.compile(r"[a-z0-9._\-]+")  # nearly every upstream vendor and product
_CPE_BAD = re.compile(r"[\s:*?\x00-\x1f\x7f]")  # never in a CPE vendor or product of a link
_CPE_SPECIAL = re.compile(r"(?<!\\)([^a-z0-9_.\-\\])")  # escaped in a CPE 2.3 formatted string


def cpe_component(value: str) -> str | None:
    """A vendor or product as a CPE 2.3 formatted-string component (lower case, specials escaped);
    None when it cannot be one (empty, "-", white space, a colon, a wildcard, a control character)."""
    value = value.strip().lower()
    if value != "-" and _CPE_PLAIN.fullmatch(value):
        return value
    if not value or value == "-" or _CPE_BAD.search(value):
        return None
    return _CPE_SPECIAL.sub(r"\\\1", value)


def make_link(purl: str, vendor: str, product: str, name: str, where: str) -> PurlCpeLink | DataWarning:
    """The link, judged; or a :class:`DataWarning` when the purl does not parse or the vendor or
    product cannot be a CPE component (the line is skipped)."""
    try:
        parsed = PackageURL.from_string(purl.strip())
    except ValueError as exc:
        return DataWarning(
            name,
            where,
            _("invalid purl {value!r}: {reason}").format(
                value=purl.strip()[:120], reason=str(exc).split(":")[0]
            ),
        )
    cpe_vendor, cpe_product = cpe_component(vendor), cpe_component(product)
    if cpe_vendor is None or cpe_product is None:
        bad = vendor if cpe_vendor is None else product
        which = "vendor" if cpe_vendor is None else "product"
        return DataWarning(
            name, where, _("invalid CPE {which} {value!r}").format(which=which, value=bad.strip()[:120])
        )
    base = (
        parsed._replace(version=None, qualifiers={}, subpath=None)
        if parsed.version or parsed.qualifiers or parsed.subpath
        else parsed
    )
    namespace = parsed.namespace or ""
    return PurlCpeLink(
        purl_type=parsed.type,
        purl_namespace=namespace,
        purl_name=parsed.name,
        purl=base.to_string(),
        cpe_vendor=cpe_vendor,
        cpe_product=cpe_product,
        rule=judge(parsed.type, namespace, parsed.name, cpe_vendor, cpe_product).rule,
    )


def parse_tsv(name: str, data: bytes) -> Iterator[PurlCpeLink | Rejected | DataWarning]:
    try:
        lines = data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise InputError(name, _("purl2cpe TSV is not UTF-8")) from None
    if not lines or lines[0].strip() != TSV_HEADER:
        raise InputError(name, _("expected the header {tsv_header!r}").format(tsv_header=TSV_HEADER))
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 3 or not all(f.strip() for f in fields):
            yield DataWarning(
                name, f"line {number}", _("expected vendor, product and purl separated by tabs")
            )
            continue
        yield make_link(fields[2], fields[0], fields[1], name, f"line {number}")


def parse_scanoss_yaml(name: str, data: bytes) -> Iterator[PurlCpeLink | Rejected | DataWarning]:
    import yaml  # here: an import of other data never needs PyYAML

    check_yaml_depth(data, name)
    try:
        doc = yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise InputError(
            name, _("not valid YAML: {reason}").format(reason=str(exc).splitlines()[0])
        ) from None
    if not isinstance(doc, dict):
        yield DataWarning(
            name, "", _("expected a mapping with a 'purls' list, got {kind}").format(kind=type(doc).__name__)
        )
        return
    if not isinstance(doc.get("purls"), list):
        yield DataWarning(name, "purls", _("a SCANOSS purl2cpe file needs a 'purls' list"))
        return
    purls: list[str] = []
    for index, purl in enumerate(doc["purls"]):
        if isinstance(purl, str):
            purls.append(purl)
        else:
            yield DataWarning(
                name,
                f"purls[{index}]",
                _("expected a purl string, got {kind}").format(kind=type(purl).__name__),
            )
    pairs: list[tuple[str, str]] = []
    cpes = doc.get("cpes") or []
    if not isinstance(cpes, list):
        yield DataWarning(
            name, "cpes", _("expected a list of CPEs, got {kind}").format(kind=type(cpes).__name__)
        )
        cpes = []
    for index, cpe in enumerate(cpes):
        parsed = parse_cpe(str(cpe))
        if parsed is None or parsed.vendor in ("*", "-", "") or parsed.product in ("*", "-", ""):
            yield DataWarning(
                name,
                f"cpes[{index}]",
                _("not a CPE naming a vendor and product: {cpe!r}").format(cpe=str(cpe)[:120]),
            )
        elif (parsed.vendor, parsed.product) not in pairs:
            pairs.append((parsed.vendor, parsed.product))
    if not pairs and not cpes:  # data/<vendor>/<product>/purls.yml
        path = PurePosixPath(name.replace("\\", "/").rsplit(":", 1)[-1])
        if path.name != "purls.yml" or len(path.parts) < 3:
            raise InputError(
                name,
                _("cannot tell the CPE vendor and product (no 'cpes' and not <vendor>/<product>/purls.yml)"),
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

"""The optional tests of CSAF 2.0 (section 6.2): findings a valid document should not have, reported as
warnings (``mamori advisory validate`` lists them and still exits 0).

:func:`optional_problems` runs tests 6.2.1 to 6.2.20 on parsed JSON (a document already valid against the
schema: a test whose input is not of the schema's shape is skipped) and returns one :class:`Finding` per
finding, naming the test, the JSON pointer and what is wrong. 6.2.20 (additional properties) checks the
document against the CSAF 2.0 schema with every object closed (the CVSS objects keep their own schemas).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any, ClassVar

from mamori.i18n import N_
from mamori.vex.csaf_checks import (
    _AFFECTED,
    _FIXED,
    Problem,
    _d,
    _definitions,
    _group_ids,
    _helpers,
    _l,
    _references,
    _revisions,
    _strs,
    _vulns,
    _when,
)

_CVE = re.compile(r"^CVE-[0-9]{4}-[0-9]{4,}$")
_NAME_RUN = re.compile(r"[^+\-a-z0-9]+")
_MAX_DEPTH = 60


class Finding(Problem):
    """One finding of an optional test (a warning): like :class:`~mamori.vex.csaf_checks.Problem`."""

    LINE: ClassVar[str] = N_("{path}: {message} (CSAF 2.0 optional test {test})")


# ------------------------------------------------------------------ product ids


def t_6_2_1(doc: dict[str, Any]) -> Iterator[Finding]:
    if _d(doc.get("document")).get("category") == "csaf_informational_advisory":
        return  # an informational advisory names products without vulnerabilities
    used = {pid for pid, _ in _references(doc)}
    for pid, at in _definitions(doc):
        if pid not in used:
            yield Finding("6.2.1", at, N_("product id {pid!r} is defined but never used"), pid=pid)


def _affected(vuln: dict[str, Any]) -> list[tuple[str, str]]:
    status = _d(vuln.get("product_status"))
    return [
        (pid, f"product_status/{key}/{k}")
        for key in _AFFECTED
        for k, pid in enumerate(_strs(status.get(key)))
    ]


def t_6_2_2(doc: dict[str, Any]) -> Iterator[Finding]:
    groups = _group_ids(doc)
    for v, vuln in _vulns(doc):
        covered: set[str] = set()
        for r in _l(vuln.get("remediations")):
            covered.update(_strs(_d(r).get("product_ids")))
            for gid in _strs(_d(r).get("group_ids")):
                covered.update(groups.get(gid, ()))
        for pid, at in _affected(vuln):
            if pid not in covered:
                yield Finding(
                    "6.2.2",
                    f"/vulnerabilities/{v}/{at}",
                    N_("affected product {pid!r} has no remediation"),
                    pid=pid,
                )


def t_6_2_3(doc: dict[str, Any]) -> Iterator[Finding]:
    for v, vuln in _vulns(doc):
        scored = {pid for s in _l(vuln.get("scores")) for pid in _strs(_d(s).get("products"))}
        for pid, at in _affected(vuln):
            if pid not in scored:
                yield Finding(
                    "6.2.3",
                    f"/vulnerabilities/{v}/{at}",
                    N_("affected product {pid!r} has no score"),
                    pid=pid,
                )


# ------------------------------------------------------------------ tracking


def t_6_2_4(doc: dict[str, Any]) -> Iterator[Finding]:
    for i, r in enumerate(_revisions(doc) or []):
        if "+" in r["number"]:
            yield Finding(
                "6.2.4",
                f"/document/tracking/revision_history/{i}/number",
                N_("revision number {number!r} carries build metadata"),
                number=r["number"],
            )


def _dates(doc: dict[str, Any]) -> list[Any] | None:
    history = _revisions(doc)
    if not history:
        return None
    moments = [_when(r["date"]) for r in history]
    return moments if all(m.tzinfo for m in moments) else None


def _tracking_date(doc: dict[str, Any], key: str) -> Any:
    value = _d(_d(doc.get("document")).get("tracking")).get(key)
    if not isinstance(value, str):
        return None
    moment = _when(value)
    return moment if moment.tzinfo else None


def t_6_2_5(doc: dict[str, Any]) -> Iterator[Finding]:
    moments, initial = _dates(doc), _tracking_date(doc, "initial_release_date")
    if moments and initial is not None and initial < min(moments):
        yield Finding(
            "6.2.5",
            "/document/tracking/initial_release_date",
            N_("the initial release date is older than the oldest revision"),
        )


def t_6_2_6(doc: dict[str, Any]) -> Iterator[Finding]:
    moments, current = _dates(doc), _tracking_date(doc, "current_release_date")
    if moments and current is not None and current < max(moments):
        yield Finding(
            "6.2.6",
            "/document/tracking/current_release_date",
            N_("the current release date is older than the newest revision"),
        )


def t_6_2_7(doc: dict[str, Any]) -> Iterator[Finding]:
    for v, vuln in _vulns(doc):
        for i, item in enumerate(_l(vuln.get("involvements"))):
            if isinstance(item, dict) and "date" not in item:
                yield Finding(
                    "6.2.7", f"/vulnerabilities/{v}/involvements/{i}", N_("an involvement has no date")
                )


# ------------------------------------------------------------------ hashes


def _only(doc: dict[str, Any], algorithm: str, test: str, name: str) -> Iterator[Finding]:
    for at, helper in _helpers(doc):
        for i, h in enumerate(_l(helper.get("hashes"))):
            algorithms = {str(_d(f).get("algorithm", "")).lower() for f in _l(_d(h).get("file_hashes"))}
            if algorithms == {algorithm}:
                yield Finding(
                    test, f"{at}/hashes/{i}/file_hashes", N_("{name} is the only hash algorithm"), name=name
                )


def t_6_2_8(doc: dict[str, Any]) -> Iterator[Finding]:
    yield from _only(doc, "md5", "6.2.8", "MD5")


def t_6_2_9(doc: dict[str, Any]) -> Iterator[Finding]:
    yield from _only(doc, "sha1", "6.2.9", "SHA-1")


# ------------------------------------------------------------------ document


def t_6_2_10(doc: dict[str, Any]) -> Iterator[Finding]:
    tlp = _d(_d(_d(doc.get("document")).get("distribution")).get("tlp"))
    if "label" not in tlp:
        yield Finding("6.2.10", "/document/distribution/tlp/label", N_("the document has no TLP label"))


def t_6_2_11(doc: dict[str, Any]) -> Iterator[Finding]:
    document = _d(doc.get("document"))
    tracking_id = _d(document.get("tracking")).get("id")
    if not isinstance(tracking_id, str):
        return
    name = _NAME_RUN.sub("_", tracking_id.lower()) + ".json"
    for ref in _l(document.get("references")):
        ref = _d(ref)
        url = ref.get("url")
        canonical = isinstance(url, str) and url.startswith("https://") and url.endswith("/" + name)
        if ref.get("category") == "self" and canonical:
            return
    yield Finding(
        "6.2.11",
        "/document/references",
        N_("no reference of category self gives the canonical URL (https://…/{name})"),
        name=name,
    )


def t_6_2_12(doc: dict[str, Any]) -> Iterator[Finding]:
    if "lang" not in _d(doc.get("document")):
        yield Finding("6.2.12", "/document/lang", N_("the document has no language"))


def t_6_2_13(doc: dict[str, Any]) -> Iterator[Finding]:
    def walk(obj: Any, at: str, depth: int) -> Iterator[Finding]:
        if depth > _MAX_DEPTH:
            return
        if isinstance(obj, dict):
            keys = list(obj)
            if keys != sorted(keys):
                yield Finding("6.2.13", at or "/", N_("the keys are not sorted"))
            for k, v in obj.items():
                yield from walk(v, f"{at}/{str(k).replace('~', '~0').replace('/', '~1')}", depth + 1)
        elif isinstance(obj, list):
            for i, v in enumerate(obj):
                yield from walk(v, f"{at}/{i}", depth + 1)

    yield from walk(doc, "", 0)


def _langs(doc: dict[str, Any]) -> Iterator[tuple[str, str]]:
    document = _d(doc.get("document"))
    for key in ("lang", "source_lang"):
        if isinstance(document.get(key), str):
            yield f"/document/{key}", document[key]


def _private(tag: str) -> bool:
    """A language tag with a subtag reserved for private use (RFC 5646)."""
    parts = tag.lower().split("-")
    if parts[0] == "x":
        return True
    if "x" in parts[1:]:
        return True
    if len(parts[0]) == 3 and "qaa" <= parts[0] <= "qtz":
        return True
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha() and "qaaa" <= part <= "qabx":
            return True
        private_region = part in ("aa", "zz") or "qm" <= part <= "qz" or "xa" <= part <= "xz"
        if len(part) == 2 and part.isalpha() and private_region:
            return True
    return False


def t_6_2_14(doc: dict[str, Any]) -> Iterator[Finding]:
    for at, tag in _langs(doc):
        if _private(tag):
            yield Finding(
                "6.2.14", at, N_("language {tag!r} uses a subtag reserved for private use"), tag=tag
            )


def t_6_2_15(doc: dict[str, Any]) -> Iterator[Finding]:
    for at, tag in _langs(doc):
        if tag.lower() == "i-default":
            yield Finding("6.2.15", at, N_("the language is the default language i-default"))


# ------------------------------------------------------------------ products and vulnerabilities


def _full_product_names(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    tree = _d(doc.get("product_tree"))

    def walk(branches: Any, at: str, depth: int) -> Iterator[tuple[str, dict[str, Any]]]:
        for i, b in enumerate(_l(branches)):
            b = _d(b)
            if isinstance(b.get("product"), dict):
                yield f"{at}/{i}/product", b["product"]
            if depth < 40:
                yield from walk(b.get("branches"), f"{at}/{i}/branches", depth + 1)

    yield from walk(tree.get("branches"), "/product_tree/branches", 0)
    for i, f in enumerate(_l(tree.get("full_product_names"))):
        if isinstance(f, dict):
            yield f"/product_tree/full_product_names/{i}", f
    for i, r in enumerate(_l(tree.get("relationships"))):
        f = _d(r).get("full_product_name")
        if isinstance(f, dict):
            yield f"/product_tree/relationships/{i}/full_product_name", f


def t_6_2_16(doc: dict[str, Any]) -> Iterator[Finding]:
    for at, product in _full_product_names(doc):
        if "product_identification_helper" not in product:
            yield Finding(
                "6.2.16",
                at,
                N_("product {pid!r} has no identification helper"),
                pid=product.get("product_id"),
            )


def t_6_2_17(doc: dict[str, Any]) -> Iterator[Finding]:
    for v, vuln in _vulns(doc):
        for i, item in enumerate(_l(vuln.get("ids"))):
            text = _d(item).get("text")
            if isinstance(text, str) and _CVE.match(text):
                yield Finding(
                    "6.2.17",
                    f"/vulnerabilities/{v}/ids/{i}/text",
                    N_("{text} belongs in the cve field"),
                    text=text,
                )


def t_6_2_18(doc: dict[str, Any]) -> Iterator[Finding]:
    def walk(branches: Any, at: str, depth: int) -> Iterator[Finding]:
        for i, b in enumerate(_l(branches)):
            b = _d(b)
            name = b.get("name")
            in_range = b.get("category") == "product_version_range" and isinstance(name, str)
            if in_range and not str(name).startswith("vers:"):
                yield Finding(
                    "6.2.18", f"{at}/{i}/name", N_("version range {name!r} is not in vers"), name=name
                )
            if depth < 40:
                yield from walk(b.get("branches"), f"{at}/{i}/branches", depth + 1)

    yield from walk(_d(doc.get("product_tree")).get("branches"), "/product_tree/branches", 0)


_V3_ENV = {"confidentiality": "MC", "integrity": "MI", "availability": "MA"}


def _vector(vector: Any) -> dict[str, str]:
    if not isinstance(vector, str):
        return {}
    out = {}
    for part in vector.split("/"):
        key, _sep, value = part.partition(":")
        out[key] = value
    return out


def _environmental_zero(score: dict[str, Any]) -> bool | None:
    """Whether a CVSS object's environmental score is 0 (None: the item has no CVSS v2 or v3)."""
    v3 = score.get("cvss_v3")
    if isinstance(v3, dict):
        if v3.get("environmentalScore") == 0:
            return True
        vector = _vector(v3.get("vectorString"))
        for name, short in _V3_ENV.items():
            value = v3.get(f"modified{name.title()}Impact")
            if value != "NONE" and vector.get(short) != "N":
                return False
        return True
    v2 = score.get("cvss_v2")
    if isinstance(v2, dict):
        if v2.get("environmentalScore") == 0:
            return True
        return v2.get("targetDistribution") == "NONE" or _vector(v2.get("vectorString")).get("TD") == "N"
    return None


def t_6_2_19(doc: dict[str, Any]) -> Iterator[Finding]:
    for v, vuln in _vulns(doc):
        status = _d(vuln.get("product_status"))
        fixed = {pid for key in _FIXED for pid in _strs(status.get(key))}
        for i, s in enumerate(_l(vuln.get("scores"))):
            s = _d(s)
            hit = sorted(fixed & set(_strs(s.get("products"))))
            if hit and _environmental_zero(s) is False:
                yield Finding(
                    "6.2.19",
                    f"/vulnerabilities/{v}/scores/{i}",
                    N_("fixed product(s) {products} have a CVSS whose environmental score is not 0"),
                    products=", ".join(hit),
                )


@cache
def _closed_validator() -> Any:
    """The CSAF 2.0 schema with ``additionalProperties: false`` on every object it defines."""
    from mamori.vex.schemas import _csaf_validator

    base = _csaf_validator(None)
    schema = copy.deepcopy(base.schema)

    def close(node: Any) -> None:
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(schema)
    return type(base)(schema, registry=base._registry)


def t_6_2_20(doc: dict[str, Any]) -> Iterator[Finding]:
    try:
        validator = _closed_validator()
    except RuntimeError:  # no schema installed: the schema check reports that
        return
    for error in validator.iter_errors(doc):
        if error.validator == "additionalProperties":
            at = "/" + "/".join(str(p) for p in error.absolute_path)
            yield _additional(at.rstrip("/") or "/", error)


def _additional(at: str, error: Any) -> Finding:
    """The 6.2.20 finding of jsonschema's ``additionalProperties`` error: its own English words, made again
    from the names it found unexpected so that they read in Japanese too (its message when it says more)."""
    from jsonschema._utils import find_additional_properties

    instance, schema = error.instance, error.schema
    names = (
        sorted(find_additional_properties(instance, schema), key=str) if isinstance(instance, dict) else []
    )
    joined = ", ".join(repr(name) for name in names)
    if len(names) == 1:
        finding = Finding(
            "6.2.20", at, N_("Additional properties are not allowed ({names} was unexpected)"), names=joined
        )
    else:
        finding = Finding(
            "6.2.20", at, N_("Additional properties are not allowed ({names} were unexpected)"), names=joined
        )
    return (
        finding
        if names and finding.message == error.message
        else Finding("6.2.20", at, "{reason}", reason=error.message)
    )


TESTS: tuple[Callable[[dict[str, Any]], Iterator[Finding]], ...] = (
    t_6_2_1, t_6_2_2, t_6_2_3, t_6_2_4, t_6_2_5, t_6_2_6, t_6_2_7, t_6_2_8, t_6_2_9, t_6_2_10,
    t_6_2_11, t_6_2_12, t_6_2_13, t_6_2_14, t_6_2_15, t_6_2_16, t_6_2_17, t_6_2_18, t_6_2_19, t_6_2_20,
)  # fmt: skip


def optional_problems(doc: Any) -> list[Finding]:
    """Every finding of the CSAF 2.0 optional tests (section 6.2) in ``doc``."""
    if not isinstance(doc, dict):
        return []
    out: list[Finding] = []
    for test in TESTS:
        out.extend(test(doc))
    return out

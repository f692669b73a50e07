"""The mandatory tests of CSAF 2.0 (section 6.1): what a CSAF document must meet beyond its JSON schema.

:func:`mandatory_problems` runs tests 6.1.1 to 6.1.33 (6.1.27.1 to 6.1.27.11 for the profiles) on
parsed JSON and returns one :class:`Problem` per finding, each naming the test, the JSON pointer and
what is wrong. A test whose input is not of the schema's shape is skipped (the schema reports it).

Catalogs: 6.1.11 (CWE id and name) reads the CWE list of the ``cwe2`` package when it is installed
(skipped otherwise); 6.1.12 checks language tags against RFC 5646 syntax and the ISO 639-1
two-letter codes in ``data/vex/iso639-1.txt``.
"""

from __future__ import annotations

import importlib.util
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from mamori.i18n import N_, current_lang, translate


@dataclass(frozen=True, init=False)
class Problem:
    """One finding of a CSAF 2.0 test: the test, the JSON pointer and what is wrong. The text is kept as
    its English gettext msgid with its values, so that it reads in any language: :attr:`message` is
    English, :meth:`text` and :meth:`line` are in a language given (default: the running command's)."""

    test: str  # "6.1.1" ...
    path: str  # JSON pointer
    msgid: str  # English, with {placeholders}
    values: tuple[tuple[str, Any], ...]

    #: how one finding reads on its line (a gettext msgid)
    LINE: ClassVar[str] = N_("{path}: {message} (CSAF 2.0 mandatory test {test})")

    def __init__(self, test: str, path: str, msgid: str, /, **values: Any) -> None:
        object.__setattr__(self, "test", test)
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "msgid", msgid)
        object.__setattr__(self, "values", tuple(values.items()))

    @property
    def message(self) -> str:
        """What is wrong, in English."""
        return self.text("en")

    def text(self, lang: str | None = None) -> str:
        """What is wrong, in ``lang`` (default: the running command's language)."""
        return translate(self.msgid, lang or current_lang()).format(**dict(self.values))

    def line(self, lang: str | None = None) -> str:
        """The pointer, what is wrong and the test, in ``lang`` (default: the running command's language)."""
        chosen = lang or current_lang()
        return translate(self.LINE, chosen).format(
            path=self.path or "/", message=self.text(chosen), test=self.test
        )

    def __str__(self) -> str:
        return self.line()


_INTEGER = re.compile(r"^(0|[1-9][0-9]*)$")
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_AFFECTED = ("first_affected", "known_affected", "last_affected")
_NOT_AFFECTED = ("known_not_affected",)
_FIXED = ("first_fixed", "fixed")
_INVESTIGATION = ("under_investigation",)
_STATUS_GROUPS = {
    "affected": _AFFECTED,
    "not affected": _NOT_AFFECTED,
    "fixed": _FIXED,
    "under investigation": _INVESTIGATION,
}
_PROFILES = {
    "csaf_security_incident_response": "Security incident response",
    "csaf_informational_advisory": "Informational Advisory",
    "csaf_security_advisory": "Security Advisory",
    "csaf_vex": "VEX",
}
_RANGE_WORDS = re.compile(r"(<|<=|>|>=)|(^|\s)(after|all|before|earlier|later|prior|versions)(\s|$)", re.I)


def _d(obj: Any) -> dict[str, Any]:
    return obj if isinstance(obj, dict) else {}


def _l(obj: Any) -> list[Any]:
    return obj if isinstance(obj, list) else []


def _strs(obj: Any) -> list[str]:
    return [x for x in _l(obj) if isinstance(x, str)]


def _vulns(doc: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    for i, v in enumerate(_l(doc.get("vulnerabilities"))):
        if isinstance(v, dict):
            yield i, v


# ------------------------------------------------------------------ product ids and groups


def _definitions(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(product id, pointer) of every definition in the product tree."""
    out: list[tuple[str, str]] = []
    tree = _d(doc.get("product_tree"))

    def fpn(obj: Any, at: str) -> None:
        pid = _d(obj).get("product_id")
        if isinstance(pid, str):
            out.append((pid, f"{at}/product_id"))

    def walk(branches: Any, at: str, depth: int) -> None:
        for i, b in enumerate(_l(branches)):
            b = _d(b)
            if "product" in b:
                fpn(b["product"], f"{at}/{i}/product")
            if depth < 40:
                walk(b.get("branches"), f"{at}/{i}/branches", depth + 1)

    walk(tree.get("branches"), "/product_tree/branches", 0)
    for i, f in enumerate(_l(tree.get("full_product_names"))):
        fpn(f, f"/product_tree/full_product_names/{i}")
    for i, r in enumerate(_l(tree.get("relationships"))):
        fpn(_d(r).get("full_product_name"), f"/product_tree/relationships/{i}/full_product_name")
    return out


def _references(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(product id, pointer) of every product id used outside a definition."""
    out: list[tuple[str, str]] = []
    tree = _d(doc.get("product_tree"))
    for i, g in enumerate(_l(tree.get("product_groups"))):
        for k, pid in enumerate(_l(_d(g).get("product_ids"))):
            if isinstance(pid, str):
                out.append((pid, f"/product_tree/product_groups/{i}/product_ids/{k}"))
    for i, r in enumerate(_l(tree.get("relationships"))):
        for key in ("product_reference", "relates_to_product_reference"):
            pid = _d(r).get(key)
            if isinstance(pid, str):
                out.append((pid, f"/product_tree/relationships/{i}/{key}"))
    for v, vuln in _vulns(doc):
        base = f"/vulnerabilities/{v}"
        for key, ids in _d(vuln.get("product_status")).items():
            for k, pid in enumerate(_l(ids)):
                if isinstance(pid, str):
                    out.append((pid, f"{base}/product_status/{key}/{k}"))
        for part, key in (
            ("remediations", "product_ids"),
            ("threats", "product_ids"),
            ("flags", "product_ids"),
            ("scores", "products"),
        ):
            for i, item in enumerate(_l(vuln.get(part))):
                for k, pid in enumerate(_l(_d(item).get(key))):
                    if isinstance(pid, str):
                        out.append((pid, f"{base}/{part}/{i}/{key}/{k}"))
    return out


def _group_ids(doc: dict[str, Any]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for g in _l(_d(doc.get("product_tree")).get("product_groups")):
        gid = _d(g).get("group_id")
        if isinstance(gid, str):
            groups.setdefault(gid, []).extend(_strs(_d(g).get("product_ids")))
    return groups


def t_6_1_1(doc: dict[str, Any]) -> Iterator[Problem]:
    defined = {pid for pid, _ in _definitions(doc)}
    for pid, at in _references(doc):
        if pid not in defined:
            yield Problem("6.1.1", at, N_("product id {pid!r} is not defined in the product tree"), pid=pid)


def t_6_1_2(doc: dict[str, Any]) -> Iterator[Problem]:
    seen: set[str] = set()
    for pid, at in _definitions(doc):
        if pid in seen:
            yield Problem("6.1.2", at, N_("product id {pid!r} is defined more than once"), pid=pid)
        seen.add(pid)


def t_6_1_3(doc: dict[str, Any]) -> Iterator[Problem]:
    edges: dict[str, set[str]] = {}
    rels = _l(_d(doc.get("product_tree")).get("relationships"))
    for r in rels:
        r = _d(r)
        pid = _d(r.get("full_product_name")).get("product_id")
        if isinstance(pid, str):
            for key in ("product_reference", "relates_to_product_reference"):
                if isinstance(r.get(key), str):
                    edges.setdefault(pid, set()).add(r[key])
    for i, r in enumerate(rels):
        pid = _d(_d(r).get("full_product_name")).get("product_id")
        if not isinstance(pid, str):
            continue
        stack, seen = list(edges.get(pid, ())), set()
        while stack:
            node = stack.pop()
            if node == pid:
                yield Problem(
                    "6.1.3",
                    f"/product_tree/relationships/{i}",
                    N_("product id {pid!r} is defined through itself"),
                    pid=pid,
                )
                break
            if node not in seen:
                seen.add(node)
                stack.extend(edges.get(node, ()))


def _group_refs(doc: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for v, vuln in _vulns(doc):
        for part in ("remediations", "threats", "flags"):
            for i, item in enumerate(_l(vuln.get(part))):
                for k, gid in enumerate(_l(_d(item).get("group_ids"))):
                    if isinstance(gid, str):
                        yield gid, f"/vulnerabilities/{v}/{part}/{i}/group_ids/{k}"


def t_6_1_4(doc: dict[str, Any]) -> Iterator[Problem]:
    groups = _group_ids(doc)
    for gid, at in _group_refs(doc):
        if gid not in groups:
            yield Problem("6.1.4", at, N_("product group id {gid!r} is not defined"), gid=gid)


def t_6_1_5(doc: dict[str, Any]) -> Iterator[Problem]:
    seen: set[str] = set()
    for i, g in enumerate(_l(_d(doc.get("product_tree")).get("product_groups"))):
        gid = _d(g).get("group_id")
        if isinstance(gid, str):
            if gid in seen:
                yield Problem(
                    "6.1.5",
                    f"/product_tree/product_groups/{i}/group_id",
                    N_("group id {gid!r} is defined twice"),
                    gid=gid,
                )
            seen.add(gid)


def t_6_1_6(doc: dict[str, Any]) -> Iterator[Problem]:
    for v, vuln in _vulns(doc):
        status = _d(vuln.get("product_status"))
        where: dict[str, str] = {}
        for group, keys in _STATUS_GROUPS.items():
            for key in keys:
                for k, pid in enumerate(_l(status.get(key))):
                    if not isinstance(pid, str):
                        continue
                    other = where.setdefault(pid, group)
                    if other != group:
                        yield Problem(
                            "6.1.6",
                            f"/vulnerabilities/{v}/product_status/{key}/{k}",
                            N_("product {pid!r} is both {other} and {group}"),
                            pid=pid,
                            other=other,
                            group=group,
                        )


# ------------------------------------------------------------------ scores


def t_6_1_7(doc: dict[str, Any]) -> Iterator[Problem]:
    for v, vuln in _vulns(doc):
        versions: dict[str, set[str]] = {}
        for s, score in enumerate(_l(vuln.get("scores"))):
            score = _d(score)
            mine = [
                _d(score.get(k)).get("version")
                for k in ("cvss_v2", "cvss_v3")
                if isinstance(score.get(k), dict)
            ]
            for p, pid in enumerate(_l(score.get("products"))):
                if not isinstance(pid, str):
                    continue
                known = versions.setdefault(pid, set())
                if any(isinstance(x, str) and x in known for x in mine):
                    yield Problem(
                        "6.1.7",
                        f"/vulnerabilities/{v}/scores/{s}/products/{p}",
                        N_("product {pid!r} has two CVSS scores of the same version"),
                        pid=pid,
                    )
                known.update(x for x in mine if isinstance(x, str))


def _scores(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for v, vuln in _vulns(doc):
        for s, score in enumerate(_l(vuln.get("scores"))):
            for key in ("cvss_v2", "cvss_v3"):
                cvss = _d(score).get(key)
                if isinstance(cvss, dict):
                    yield key, f"/vulnerabilities/{v}/scores/{s}/{key}", cvss


def csaf_lib_schema_dir() -> Path | None:
    """Where the csaf-lib package keeps the official CSAF 2.0 schema (found without importing it)."""
    spec = importlib.util.find_spec("csaf_lib")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "verification" / "schemas"
    return folder if (folder / "csaf_2_0.json").is_file() else None


_CVSS_SCHEMAS = (("2.0", "cvss_v2_0.json"), ("3.0", "cvss_v3_0.json"), ("3.1", "cvss_v3_1.json"))


@cache
def _cvss_schemas() -> dict[str, Any]:
    """CVSS version → its JSON schema from csaf-lib (none when csaf-lib is absent)."""
    import json

    folder = csaf_lib_schema_dir()
    out: dict[str, Any] = {}
    if folder is None:
        return out
    for version, name in _CVSS_SCHEMAS:
        path = folder / name
        if path.is_file():
            out[version] = json.loads(path.read_text(encoding="utf-8"))
    return out


@cache
def _cvss_validators() -> dict[str, Any]:
    """The schemas on jsonschema (Draft 7, no format checks): the verdict and messages of 6.1.8."""
    from jsonschema import Draft7Validator

    return {version: Draft7Validator(schema) for version, schema in _cvss_schemas().items()}


@cache
def _fast_cvss_validators() -> dict[str, Any]:
    """The same schemas on jsonschema-rs (Draft 7, no format checks), or none when it is absent. Only a
    score it finds invalid is checked with jsonschema: importing jsonschema costs about a second (its
    rfc3987-syntax dependency builds a grammar), which a pull of valid advisories need not pay."""
    try:
        import jsonschema_rs
    except ImportError:
        return {}
    return {
        version: jsonschema_rs.Draft7Validator(schema, validate_formats=False)
        for version, schema in _cvss_schemas().items()
    }


def t_6_1_8(doc: dict[str, Any]) -> Iterator[Problem]:
    versions = _cvss_schemas()
    fast = _fast_cvss_validators()
    for key, at, cvss in _scores(doc):
        version = cvss.get("version")
        known = isinstance(version, str) and version in versions
        if not known or (key == "cvss_v2") != (version == "2.0"):
            yield Problem(
                "6.1.8",
                f"{at}/version",
                N_("CVSS version {version!r} is not valid for {key}"),
                version=version,
                key=key,
            )
            continue
        if version in fast and fast[version].is_valid(cvss):
            continue
        for error in _cvss_validators()[version].iter_errors(cvss):
            where = "/".join(str(p) for p in error.absolute_path)
            yield Problem("6.1.8", f"{at}/{where}".rstrip("/"), "{reason}", reason=error.message[:200])
            break


def _cvss_object(key: str, cvss: dict[str, Any]) -> Any:
    from cvss import CVSS2, CVSS3

    vector = cvss.get("vectorString")
    if not isinstance(vector, str):
        return None
    try:
        return CVSS2(vector) if key == "cvss_v2" else CVSS3(vector)
    except Exception:
        return None


def t_6_1_9(doc: dict[str, Any]) -> Iterator[Problem]:
    names = ("baseScore", "temporalScore", "environmentalScore")
    for key, at, cvss in _scores(doc):
        parsed = _cvss_object(key, cvss)
        if parsed is None:
            continue
        values = parsed.scores()
        severities = parsed.severities() if key == "cvss_v3" else ()
        for i, name in enumerate(names):
            given = cvss.get(name)
            if isinstance(given, int | float) and float(given) != float(values[i]):
                yield Problem(
                    "6.1.9",
                    f"{at}/{name}",
                    N_("{name} {given} does not match the vector ({expected})"),
                    name=name,
                    given=given,
                    expected=values[i],
                )
        for i, name in enumerate(("baseSeverity", "temporalSeverity", "environmentalSeverity")):
            given = cvss.get(name)
            if severities and isinstance(given, str) and given.upper() != str(severities[i]).upper():
                yield Problem(
                    "6.1.9",
                    f"{at}/{name}",
                    N_("{name} {given} does not match the vector ({expected})"),
                    name=name,
                    given=given,
                    expected=severities[i],
                )


_V3_METRICS: dict[str, tuple[str, dict[str, str]]] = {
    "AV": ("attackVector", {"N": "NETWORK", "A": "ADJACENT_NETWORK", "L": "LOCAL", "P": "PHYSICAL"}),
    "AC": ("attackComplexity", {"L": "LOW", "H": "HIGH"}),
    "PR": ("privilegesRequired", {"N": "NONE", "L": "LOW", "H": "HIGH"}),
    "UI": ("userInteraction", {"N": "NONE", "R": "REQUIRED"}),
    "S": ("scope", {"U": "UNCHANGED", "C": "CHANGED"}),
    "C": ("confidentialityImpact", {"H": "HIGH", "L": "LOW", "N": "NONE"}),
    "I": ("integrityImpact", {"H": "HIGH", "L": "LOW", "N": "NONE"}),
    "A": ("availabilityImpact", {"H": "HIGH", "L": "LOW", "N": "NONE"}),
    "E": (
        "exploitCodeMaturity",
        {"X": "NOT_DEFINED", "U": "UNPROVEN", "P": "PROOF_OF_CONCEPT", "F": "FUNCTIONAL", "H": "HIGH"},
    ),
    "RL": (
        "remediationLevel",
        {
            "X": "NOT_DEFINED",
            "O": "OFFICIAL_FIX",
            "T": "TEMPORARY_FIX",
            "W": "WORKAROUND",
            "U": "UNAVAILABLE",
        },
    ),
    "RC": ("reportConfidence", {"X": "NOT_DEFINED", "U": "UNKNOWN", "R": "REASONABLE", "C": "CONFIRMED"}),
    "CR": ("confidentialityRequirement", {"X": "NOT_DEFINED", "L": "LOW", "M": "MEDIUM", "H": "HIGH"}),
    "IR": ("integrityRequirement", {"X": "NOT_DEFINED", "L": "LOW", "M": "MEDIUM", "H": "HIGH"}),
    "AR": ("availabilityRequirement", {"X": "NOT_DEFINED", "L": "LOW", "M": "MEDIUM", "H": "HIGH"}),
    "MAV": (
        "modifiedAttackVector",
        {"X": "NOT_DEFINED", "N": "NETWORK", "A": "ADJACENT_NETWORK", "L": "LOCAL", "P": "PHYSICAL"},
    ),
    "MAC": ("modifiedAttackComplexity", {"X": "NOT_DEFINED", "L": "LOW", "H": "HIGH"}),
    "MPR": ("modifiedPrivilegesRequired", {"X": "NOT_DEFINED", "N": "NONE", "L": "LOW", "H": "HIGH"}),
    "MUI": ("modifiedUserInteraction", {"X": "NOT_DEFINED", "N": "NONE", "R": "REQUIRED"}),
    "MS": ("modifiedScope", {"X": "NOT_DEFINED", "U": "UNCHANGED", "C": "CHANGED"}),
    "MC": ("modifiedConfidentialityImpact", {"X": "NOT_DEFINED", "H": "HIGH", "L": "LOW", "N": "NONE"}),
    "MI": ("modifiedIntegrityImpact", {"X": "NOT_DEFINED", "H": "HIGH", "L": "LOW", "N": "NONE"}),
    "MA": ("modifiedAvailabilityImpact", {"X": "NOT_DEFINED", "H": "HIGH", "L": "LOW", "N": "NONE"}),
}
_ND = "NOT_DEFINED"
_V2_METRICS: dict[str, tuple[str, dict[str, str]]] = {
    "AV": ("accessVector", {"L": "LOCAL", "A": "ADJACENT_NETWORK", "N": "NETWORK"}),
    "AC": ("accessComplexity", {"H": "HIGH", "M": "MEDIUM", "L": "LOW"}),
    "Au": ("authentication", {"M": "MULTIPLE", "S": "SINGLE", "N": "NONE"}),
    "C": ("confidentialityImpact", {"N": "NONE", "P": "PARTIAL", "C": "COMPLETE"}),
    "I": ("integrityImpact", {"N": "NONE", "P": "PARTIAL", "C": "COMPLETE"}),
    "A": ("availabilityImpact", {"N": "NONE", "P": "PARTIAL", "C": "COMPLETE"}),
    "E": (
        "exploitability",
        {"U": "UNPROVEN", "POC": "PROOF_OF_CONCEPT", "F": "FUNCTIONAL", "H": "HIGH", "ND": _ND},
    ),
    "RL": (
        "remediationLevel",
        {"OF": "OFFICIAL_FIX", "TF": "TEMPORARY_FIX", "W": "WORKAROUND", "U": "UNAVAILABLE", "ND": _ND},
    ),
    "RC": ("reportConfidence", {"UC": "UNCONFIRMED", "UR": "UNCORROBORATED", "C": "CONFIRMED", "ND": _ND}),
    "CDP": (
        "collateralDamagePotential",
        {"N": "NONE", "L": "LOW", "LM": "LOW_MEDIUM", "MH": "MEDIUM_HIGH", "H": "HIGH", "ND": _ND},
    ),
    "TD": ("targetDistribution", {"N": "NONE", "L": "LOW", "M": "MEDIUM", "H": "HIGH", "ND": _ND}),
    "CR": ("confidentialityRequirement", {"L": "LOW", "M": "MEDIUM", "H": "HIGH", "ND": _ND}),
    "IR": ("integrityRequirement", {"L": "LOW", "M": "MEDIUM", "H": "HIGH", "ND": _ND}),
    "AR": ("availabilityRequirement", {"L": "LOW", "M": "MEDIUM", "H": "HIGH", "ND": _ND}),
}


def t_6_1_10(doc: dict[str, Any]) -> Iterator[Problem]:
    for key, at, cvss in _scores(doc):
        vector = cvss.get("vectorString")
        if not isinstance(vector, str):
            continue
        if key == "cvss_v3":
            if cvss.get("version") not in ("3.0", "3.1"):
                continue
            parts, table = vector.split("/")[1:], _V3_METRICS
        else:
            parts, table = vector.split("/"), _V2_METRICS
        for part in parts:
            metric, _, value = part.partition(":")
            if metric not in table:
                continue
            name, values = table[metric]
            given = cvss.get(name)
            if isinstance(given, str) and values.get(value) != given:
                yield Problem(
                    "6.1.10",
                    f"{at}/{name}",
                    N_("{name} {given} is not what the vector says ({part})"),
                    name=name,
                    given=given,
                    part=part,
                )


# ------------------------------------------------------------------ catalogs and identifiers


@cache
def _cwe_db() -> Any:
    try:
        from cwe2.database import Database
    except ImportError:
        return None
    return Database()


def _cwe_name(cwe_id: str) -> str | None:
    """The CWE list's name for ``CWE-<n>`` (None when unknown)."""
    found = re.fullmatch(r"CWE-([1-9][0-9]*)", cwe_id)
    if found is None:
        return None
    number = found.group(1)
    names = _cwe_names()
    if number in names:
        return names[number]
    try:  # not in the CSV views: cwe2 looks further (its XML catalog)
        return str(_cwe_db().get(int(number)).name)
    except Exception:
        return None


@cache
def _cwe_names() -> dict[str, str]:
    """CWE id → name from every CSV view cwe2 ships, read once (cwe2's own ``get`` rereads every CSV file
    on each call: about a second per id, minutes for a provider's few thousand advisories)."""
    import csv

    db = _cwe_db()
    names: dict[str, str] = {}
    for handle in getattr(db, "cwe_files", ()):
        handle.seek(0)
        for row in csv.DictReader(handle):
            number, name = row.get("CWE-ID"), row.get("Name")
            if number and name is not None:
                names.setdefault(number, name)
    return names


def t_6_1_11(doc: dict[str, Any]) -> Iterator[Problem]:
    for v, vuln in _vulns(doc):
        cwe = vuln.get("cwe")
        if not isinstance(cwe, dict) or not isinstance(cwe.get("id"), str):
            continue
        if _cwe_db() is None:
            return
        known = _cwe_name(cwe["id"])
        if known is None:
            yield Problem(
                "6.1.11", f"/vulnerabilities/{v}/cwe/id", N_("{cwe} is not in the CWE list"), cwe=cwe["id"]
            )
        # cwe2's CSV views drop backslashes ("Path Traversal: '\\..\\filename'" reads "'..filename'"):
        # names are compared without them
        elif isinstance(cwe.get("name"), str) and cwe["name"].replace("\\", "") != known.replace("\\", ""):
            yield Problem(
                "6.1.11",
                f"/vulnerabilities/{v}/cwe/name",
                N_("the name of {cwe} is {known!r}"),
                cwe=cwe["id"],
                known=known,
            )


_LANG_TAG = re.compile(
    r"^(?:(?P<lang>[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4}|[a-z]{5,8})"
    r"(?:-[a-z]{4})?(?:-(?:[a-z]{2}|[0-9]{3}))?(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"
    r"(?:-[0-9a-wy-z](?:-[a-z0-9]{2,8})+)*(?:-x(?:-[a-z0-9]{1,8})+)?"
    r"|x(?:-[a-z0-9]{1,8})+|i-[a-z]{3,8}|[a-z]{2,3}-[a-z]{2,3}-[a-z]{2,3})$"
)


@cache
def _iso639_1() -> frozenset[str]:
    text = resources.files("mamori").joinpath("data/vex/iso639-1.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def valid_language_tag(tag: str) -> bool:
    """An RFC 5646 language tag whose two-letter primary subtag is an ISO 639-1 code."""
    found = _LANG_TAG.match(tag.lower())
    if found is None:
        return False
    lang = (found.group("lang") or "").split("-")[0]
    return len(lang) != 2 or lang in _iso639_1()


def t_6_1_12(doc: dict[str, Any]) -> Iterator[Problem]:
    document = _d(doc.get("document"))
    for key in ("lang", "source_lang"):
        tag = document.get(key)
        if isinstance(tag, str) and not valid_language_tag(tag):
            yield Problem("6.1.12", f"/document/{key}", N_("{tag!r} is not a valid language tag"), tag=tag)


def _helpers(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    tree = _d(doc.get("product_tree"))

    def walk(branches: Any, at: str, depth: int) -> Iterator[tuple[str, dict[str, Any]]]:
        for i, b in enumerate(_l(branches)):
            b = _d(b)
            helper = _d(_d(b.get("product")).get("product_identification_helper"))
            if helper:
                yield f"{at}/{i}/product/product_identification_helper", helper
            if depth < 40:
                yield from walk(b.get("branches"), f"{at}/{i}/branches", depth + 1)

    yield from walk(tree.get("branches"), "/product_tree/branches", 0)
    for i, f in enumerate(_l(tree.get("full_product_names"))):
        helper = _d(_d(f).get("product_identification_helper"))
        if helper:
            yield f"/product_tree/full_product_names/{i}/product_identification_helper", helper
    for i, r in enumerate(_l(tree.get("relationships"))):
        helper = _d(_d(_d(r).get("full_product_name")).get("product_identification_helper"))
        if helper:
            yield f"/product_tree/relationships/{i}/full_product_name/product_identification_helper", helper


def t_6_1_13(doc: dict[str, Any]) -> Iterator[Problem]:
    from packageurl import PackageURL

    for at, helper in _helpers(doc):
        purl = helper.get("purl")
        if isinstance(purl, str):
            try:
                PackageURL.from_string(purl)
            except ValueError:
                yield Problem("6.1.13", f"{at}/purl", N_("{purl!r} is not a valid package URL"), purl=purl)


# ------------------------------------------------------------------ tracking and revision history


def _revisions(doc: dict[str, Any]) -> list[dict[str, Any]] | None:
    history = _d(_d(doc.get("document")).get("tracking")).get("revision_history")
    if not isinstance(history, list) or not all(
        isinstance(r, dict) and isinstance(r.get("number"), str) and isinstance(r.get("date"), str)
        for r in history
    ):
        return None
    return history


def _when(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=None)
    return moment if moment.tzinfo else moment.replace(tzinfo=None)


def _version_key(number: str) -> tuple[Any, ...]:
    """A sort key following integer or semantic versioning precedence (build metadata ignored)."""
    if _INTEGER.match(number):
        return (int(number), 0, 0, 1, ())
    found = _SEMVER.match(number)
    if found is None:
        return (-1, 0, 0, 0, (number,))
    pre = found.group(4)
    parts: tuple[Any, ...] = ()
    if pre:
        parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (int(found.group(1)), int(found.group(2)), int(found.group(3)), 0 if pre else 1, parts)


def _by_date(history: list[dict[str, Any]], newest_number_first: bool = False) -> list[dict[str, Any]]:
    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        moment = _when(r["date"])
        stamp = moment.timestamp() if moment.tzinfo else float("-inf")
        return (stamp, _version_key(r["number"]))

    return sorted(history, key=key)


def t_6_1_14(doc: dict[str, Any]) -> Iterator[Problem]:
    history = _revisions(doc)
    if not history:
        return
    numbers = [_version_key(r["number"]) for r in _by_date(history)]
    numbers = [n for n in numbers if n[0] >= 0]
    for a, b in itertools.pairwise(numbers):
        if b < a:
            yield Problem(
                "6.1.14",
                "/document/tracking/revision_history",
                N_("the revision numbers are not ascending when the items are sorted by date"),
            )
            return


def t_6_1_15(doc: dict[str, Any]) -> Iterator[Problem]:
    document = _d(doc.get("document"))
    if _d(document.get("publisher")).get("category") == "translator" and "source_lang" not in document:
        yield Problem("6.1.15", "/document/source_lang", N_("a translator's document needs source_lang"))


def _tracking(doc: dict[str, Any]) -> dict[str, Any]:
    return _d(_d(doc.get("document")).get("tracking"))


def t_6_1_16(doc: dict[str, Any]) -> Iterator[Problem]:
    tracking = _tracking(doc)
    history, version, status = _revisions(doc), tracking.get("version"), tracking.get("status")
    if not history or not isinstance(version, str) or not isinstance(status, str):
        return

    def norm(v: str) -> str:
        return re.split(r"[+-]", v)[0] if status == "draft" else v.split("+")[0]

    latest = _by_date(history)[-1]["number"]
    if norm(latest) != norm(version):
        yield Problem(
            "6.1.16",
            "/document/tracking/version",
            N_("version {version} is not the latest revision ({latest})"),
            version=version,
            latest=latest,
        )


def _zero_or_pre(version: str) -> tuple[bool, bool]:
    found = _SEMVER.match(version)
    zero = version == "0" or bool(found and found.group(1) == "0")
    return zero, bool(found and found.group(4))


def t_6_1_17(doc: dict[str, Any]) -> Iterator[Problem]:
    tracking = _tracking(doc)
    version = tracking.get("version")
    if isinstance(version, str) and any(_zero_or_pre(version)) and tracking.get("status") != "draft":
        yield Problem(
            "6.1.17", "/document/tracking/status", N_("version {version} needs status draft"), version=version
        )


def t_6_1_18(doc: dict[str, Any]) -> Iterator[Problem]:
    if _tracking(doc).get("status") not in ("final", "interim"):
        return
    for i, r in enumerate(_revisions(doc) or []):
        if _zero_or_pre(r["number"])[0]:
            yield Problem(
                "6.1.18",
                f"/document/tracking/revision_history/{i}/number",
                N_("a {status} document has a revision {number}"),
                status=_tracking(doc)["status"],
                number=r["number"],
            )


def t_6_1_19(doc: dict[str, Any]) -> Iterator[Problem]:
    for i, r in enumerate(_revisions(doc) or []):
        if _zero_or_pre(r["number"])[1]:
            yield Problem(
                "6.1.19",
                f"/document/tracking/revision_history/{i}/number",
                N_("revision {number} is a pre-release"),
                number=r["number"],
            )


def t_6_1_20(doc: dict[str, Any]) -> Iterator[Problem]:
    tracking = _tracking(doc)
    version = tracking.get("version")
    if (
        tracking.get("status") in ("final", "interim")
        and isinstance(version, str)
        and _zero_or_pre(version)[1]
    ):
        yield Problem(
            "6.1.20",
            "/document/tracking/version",
            N_("a {status} document has version {version}"),
            status=tracking["status"],
            version=version,
        )


def _major(number: str) -> int | None:
    head = re.match(r"^\d+", number)
    return int(head.group(0)) if head else None


def t_6_1_21(doc: dict[str, Any]) -> Iterator[Problem]:
    history = _revisions(doc)
    if not history:
        return
    majors = list(dict.fromkeys(m for m in (_major(r["number"]) for r in _by_date(history)) if m is not None))
    if majors and majors[0] not in (0, 1):
        yield Problem("6.1.21", "/document/tracking/revision_history", N_("the first revision is not 0 or 1"))
    for i, m in enumerate(majors):
        if m > majors[0] + i:
            yield Problem(
                "6.1.21",
                "/document/tracking/revision_history",
                N_("version {version} is missing"),
                version=majors[0] + i,
            )
            return


def t_6_1_22(doc: dict[str, Any]) -> Iterator[Problem]:
    seen: set[str] = set()
    for i, r in enumerate(_revisions(doc) or []):
        if r["number"] in seen:
            yield Problem(
                "6.1.22",
                f"/document/tracking/revision_history/{i}/number",
                N_("revision {number} twice"),
                number=r["number"],
            )
        seen.add(r["number"])


def t_6_1_23(doc: dict[str, Any]) -> Iterator[Problem]:
    seen: set[str] = set()
    for v, vuln in _vulns(doc):
        cve = vuln.get("cve")
        if isinstance(cve, str):
            if cve in seen:
                yield Problem(
                    "6.1.23", f"/vulnerabilities/{v}/cve", N_("{cve} is used by two vulnerabilities"), cve=cve
                )
            seen.add(cve)


def t_6_1_24(doc: dict[str, Any]) -> Iterator[Problem]:
    for v, vuln in _vulns(doc):
        seen: set[tuple[Any, Any]] = set()
        for i, inv in enumerate(_l(vuln.get("involvements"))):
            key = (_d(inv).get("party"), _d(inv).get("date"))
            if key in seen:
                yield Problem(
                    "6.1.24", f"/vulnerabilities/{v}/involvements/{i}", N_("the same party and date twice")
                )
            seen.add(key)


def t_6_1_25(doc: dict[str, Any]) -> Iterator[Problem]:
    for at, helper in _helpers(doc):
        for h, entry in enumerate(_l(helper.get("hashes"))):
            seen: set[str] = set()
            for k, fh in enumerate(_l(_d(entry).get("file_hashes"))):
                alg = _d(fh).get("algorithm")
                if isinstance(alg, str):
                    if alg in seen:
                        yield Problem(
                            "6.1.25",
                            f"{at}/hashes/{h}/file_hashes/{k}",
                            N_("hash algorithm {alg} twice"),
                            alg=alg,
                        )
                    seen.add(alg)


def _norm_name(text: str) -> str:
    return re.sub(r"[-_\s]", "", text).lower()


def t_6_1_26(doc: dict[str, Any]) -> Iterator[Problem]:
    category = _d(doc.get("document")).get("category")
    if not isinstance(category, str) or category in _PROFILES or category == "csaf_base":
        return
    name = _norm_name(category)
    reserved = {_norm_name(k) for k in _PROFILES} | {_norm_name(v) for v in _PROFILES.values()}
    reserved |= {_norm_name(k.removeprefix("csaf_")) for k in _PROFILES}
    if name in reserved or category.lower().startswith("csaf_"):
        yield Problem(
            "6.1.26",
            "/document/category",
            N_("document category {category!r} is reserved"),
            category=category,
        )


# ------------------------------------------------------------------ profiles


def _category(doc: dict[str, Any]) -> Any:
    return _d(doc.get("document")).get("category")


def t_6_1_27(doc: dict[str, Any]) -> Iterator[Problem]:
    category = _category(doc)
    document = _d(doc.get("document"))
    if category in ("csaf_informational_advisory", "csaf_security_incident_response"):
        if not any(
            _d(n).get("category") in ("description", "details", "general", "summary")
            for n in _l(document.get("notes"))
        ):
            yield Problem(
                "6.1.27.1",
                "/document/notes",
                N_("needs a note of category description, details, general or summary"),
            )
        if not any(_d(r).get("category") == "external" for r in _l(document.get("references"))):
            yield Problem("6.1.27.2", "/document/references", N_("needs an external reference"))
    if category == "csaf_informational_advisory" and "vulnerabilities" in doc:
        yield Problem("6.1.27.3", "/vulnerabilities", N_("an informational advisory has no vulnerabilities"))
    if category not in ("csaf_security_advisory", "csaf_vex"):
        return
    if "product_tree" not in doc:
        yield Problem("6.1.27.4", "/product_tree", N_("is missing"))
    if "vulnerabilities" not in doc:
        yield Problem("6.1.27.11", "/vulnerabilities", N_("is missing"))
    for v, vuln in _vulns(doc):
        at = f"/vulnerabilities/{v}"
        if "notes" not in vuln:
            yield Problem("6.1.27.5", f"{at}/notes", N_("is missing"))
        if "product_status" not in vuln and category == "csaf_security_advisory":
            yield Problem("6.1.27.6", f"{at}/product_status", N_("is missing"))
    if category != "csaf_vex":
        return
    groups = _group_ids(doc)
    for v, vuln in _vulns(doc):
        at = f"/vulnerabilities/{v}"
        status = _d(vuln.get("product_status"))
        if not any(
            k in status for k in ("fixed", "known_affected", "known_not_affected", "under_investigation")
        ):
            yield Problem(
                "6.1.27.7",
                f"{at}/product_status",
                N_("needs fixed, known_affected, known_not_affected or under_investigation"),
            )
        if "cve" not in vuln and "ids" not in vuln:
            yield Problem("6.1.27.8", at, N_("needs cve or ids"))
        stated = _covered(vuln.get("flags"), groups) | _covered(
            [t for t in _l(vuln.get("threats")) if _d(t).get("category") == "impact"], groups
        )
        for k, pid in enumerate(_l(status.get("known_not_affected"))):
            if isinstance(pid, str) and pid not in stated:
                yield Problem(
                    "6.1.27.9",
                    f"{at}/product_status/known_not_affected/{k}",
                    N_("{pid!r} has no impact statement"),
                    pid=pid,
                )
        acted = _covered(vuln.get("remediations"), groups)
        for k, pid in enumerate(_l(status.get("known_affected"))):
            if isinstance(pid, str) and pid not in acted:
                yield Problem(
                    "6.1.27.10",
                    f"{at}/product_status/known_affected/{k}",
                    N_("{pid!r} has no remediation"),
                    pid=pid,
                )


def _covered(items: Any, groups: dict[str, list[str]]) -> set[str]:
    out: set[str] = set()
    for item in _l(items):
        out.update(_strs(_d(item).get("product_ids")))
        for gid in _strs(_d(item).get("group_ids")):
            out.update(groups.get(gid, []))
    return out


def t_6_1_28(doc: dict[str, Any]) -> Iterator[Problem]:
    document = _d(doc.get("document"))
    lang, source = document.get("lang"), document.get("source_lang")
    if isinstance(lang, str) and isinstance(source, str) and lang.lower() == source.lower():
        yield Problem("6.1.28", "/document/lang", N_("lang and source_lang are the same"))


def t_6_1_29(doc: dict[str, Any]) -> Iterator[Problem]:
    for v, vuln in _vulns(doc):
        for i, rem in enumerate(_l(vuln.get("remediations"))):
            if isinstance(rem, dict) and not rem.get("product_ids") and not rem.get("group_ids"):
                yield Problem(
                    "6.1.29", f"/vulnerabilities/{v}/remediations/{i}", N_("names no product or group")
                )


def t_6_1_30(doc: dict[str, Any]) -> Iterator[Problem]:
    tracking = _tracking(doc)
    version = tracking.get("version")
    numbers = [("/document/tracking/version", version)] if isinstance(version, str) else []
    numbers += [
        (f"/document/tracking/revision_history/{i}/number", r["number"])
        for i, r in enumerate(_revisions(doc) or [])
    ]
    kinds = {at: bool(_INTEGER.match(n)) for at, n in numbers if _INTEGER.match(n) or _SEMVER.match(n)}
    if len(set(kinds.values())) > 1:
        first = next(iter(kinds.values()))
        for at, integer in kinds.items():
            if integer != first:
                yield Problem("6.1.30", at, N_("integer and semantic versioning are mixed"))


def t_6_1_31(doc: dict[str, Any]) -> Iterator[Problem]:
    def walk(branches: Any, at: str, depth: int) -> Iterator[Problem]:
        for i, b in enumerate(_l(branches)):
            b = _d(b)
            name = b.get("name")
            if b.get("category") == "product_version" and isinstance(name, str) and _RANGE_WORDS.search(name):
                yield Problem(
                    "6.1.31", f"{at}/{i}/name", N_("product_version {name!r} is a version range"), name=name
                )
            if depth < 40:
                yield from walk(b.get("branches"), f"{at}/{i}/branches", depth + 1)

    yield from walk(_d(doc.get("product_tree")).get("branches"), "/product_tree/branches", 0)


def t_6_1_32(doc: dict[str, Any]) -> Iterator[Problem]:
    for v, vuln in _vulns(doc):
        for i, flag in enumerate(_l(vuln.get("flags"))):
            if isinstance(flag, dict) and not flag.get("product_ids") and not flag.get("group_ids"):
                yield Problem("6.1.32", f"/vulnerabilities/{v}/flags/{i}", N_("names no product or group"))


def t_6_1_33(doc: dict[str, Any]) -> Iterator[Problem]:
    groups = _group_ids(doc)
    for v, vuln in _vulns(doc):
        seen: set[str] = set()
        for i, flag in enumerate(_l(vuln.get("flags"))):
            mine = _covered([flag], groups)
            for pid in sorted(mine & seen):
                yield Problem(
                    "6.1.33",
                    f"/vulnerabilities/{v}/flags/{i}",
                    N_("{pid!r} has two VEX justification flags"),
                    pid=pid,
                )
            seen |= mine


TESTS: tuple[Callable[[dict[str, Any]], Iterator[Problem]], ...] = (
    t_6_1_1, t_6_1_2, t_6_1_3, t_6_1_4, t_6_1_5, t_6_1_6, t_6_1_7, t_6_1_8, t_6_1_9, t_6_1_10,
    t_6_1_11, t_6_1_12, t_6_1_13, t_6_1_14, t_6_1_15, t_6_1_16, t_6_1_17, t_6_1_18, t_6_1_19,
    t_6_1_20, t_6_1_21, t_6_1_22, t_6_1_23, t_6_1_24, t_6_1_25, t_6_1_26, t_6_1_27, t_6_1_28,
    t_6_1_29, t_6_1_30, t_6_1_31, t_6_1_32, t_6_1_33,
)  # fmt: skip


def mandatory_problems(doc: Any) -> list[Problem]:
    """Every finding of the CSAF 2.0 mandatory tests (section 6.1) in ``doc``."""
    if not isinstance(doc, dict):
        return [Problem("6.1", "", N_("a CSAF document is a JSON object"))]
    out: list[Problem] = []
    for test in TESTS:
        out.extend(test(doc))
    return out

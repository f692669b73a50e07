"""A CVE JSON 5 record (CVE Record Format 5.1, ``CVE_RECORD``) drafted from a PSIRT case, for a CNA to
submit, and its check against the CVE record schema.

The schema is the bundled CVE JSON 5.1 schema that the ``cvelib`` package (the CVE Project's Python client)
ships; it is read from that package, never downloaded. The CNA container carries: title, descriptions
(English required by the schema; Japanese too where the case has it), affected (the component's ``vers:``
range as CVE version ranges, and each product release of the case), problem types (CWE), metrics (CVSS
v3.1 and v4.0), references, credits (by the reporter's credit preference), solutions and workarounds.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from functools import cache
from typing import Any

from mamori.errors import InputError
from mamori.i18n import _
from mamori.psirt.cases import Case, get_case
from mamori.store import Store

_SHORT_NAME = re.compile(r"^[A-Za-z0-9\-_]{2,32}$")
_VERSION_TYPES = {"pypi": "python", "npm": "semver", "cargo": "semver", "golang": "semver"}


@cache
def cve_schema() -> dict[str, Any]:
    """The bundled CVE JSON 5 schema shipped by ``cvelib`` (newest version there)."""
    from importlib import resources

    try:
        folder = resources.files("cvelib") / "schemas"
        names = sorted(p.name for p in folder.iterdir() if p.name.startswith("CVE_JSON_bundled_"))
    except (ModuleNotFoundError, OSError):
        names = []
    if not names:
        raise InputError(None, _("the CVE record schema is not installed (the cvelib package)"))
    return dict(json.loads((folder / names[-1]).read_text(encoding="utf-8")))


def cve_problems(record: Any) -> list[str]:
    """What the CVE record schema finds in ``record`` (empty: valid)."""
    from jsonschema import Draft7Validator, FormatChecker

    validator = Draft7Validator(cve_schema(), format_checker=FormatChecker())
    out = []
    for error in sorted(validator.iter_errors(record), key=lambda e: list(e.absolute_path)):
        where = "/" + "/".join(str(p) for p in error.absolute_path)
        out.append(f"{where}: {error.message[:300]}")
    return out


def _ranges(vers: str) -> tuple[str, list[dict[str, Any]]]:
    """CVE ``versions`` entries of a ``vers:`` range (its scheme → the version type)."""
    from univers.version_range import VersionRange

    r = VersionRange.from_string(vers)
    scheme = vers.split(":", 1)[1].split("/", 1)[0]
    vtype = _VERSION_TYPES.get(scheme, scheme)
    out: list[dict[str, Any]] = []
    lower: str | None = None
    for c in r.constraints:
        v = c.version.string
        if c.comparator == "=":
            out.append({"version": v, "status": "affected", "versionType": vtype})
        elif c.comparator in (">=", ">"):
            lower = v
        elif c.comparator in ("<", "<="):
            key = "lessThan" if c.comparator == "<" else "lessThanOrEqual"
            out.append({"version": lower or "0", key: v, "status": "affected", "versionType": vtype})
            lower = None
        elif c.comparator == "*":
            out.append({"version": "0", "lessThan": "*", "status": "affected", "versionType": vtype})
    if lower is not None:
        out.append({"version": lower, "lessThan": "*", "status": "affected", "versionType": vtype})
    return vtype, out


def _affected(case: Case, vendor: str) -> list[dict[str, Any]]:
    from packageurl import PackageURL

    out: list[dict[str, Any]] = []
    if case.component:
        p = PackageURL.from_string(case.component)
        entry: dict[str, Any] = {
            "vendor": p.namespace or p.type,
            "product": p.name,
            "packageName": f"{p.namespace}/{p.name}" if p.namespace else p.name,
            "defaultStatus": "unaffected" if case.affected_range else "unknown",
        }
        versions = _ranges(case.affected_range)[1] if case.affected_range else []
        if versions:
            entry["versions"] = versions
        out.append(entry)
    products: dict[str, list[dict[str, Any]]] = {}
    for cp in case.products:
        status = {"known_affected": "affected", "fixed": "unaffected", "known_not_affected": "unaffected"}[
            cp.status
        ]
        products.setdefault(cp.product, []).append({"version": cp.release, "status": status})
    for product, versions in products.items():
        out.append({"vendor": vendor, "product": product, "versions": versions, "defaultStatus": "unknown"})
    if not out:
        raise InputError(
            None,
            _("{key} has no affected product or component: compute or set them first").format(key=case.key),
        )
    return out


def draft_cve(
    store: Store,
    key: str,
    *,
    org_id: str,
    short_name: str,
    vendor: str,
    references: list[str] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The CVE record of the case ``key`` (state PUBLISHED, as a CNA submits it)."""
    from mamori.model.references import web_url
    from mamori.vex.csaf_checks import _cwe_name

    case = get_case(store, key)
    if not case.cve_id:
        raise InputError(
            None,
            _("{key} has no CVE ID yet (mamori psirt case update {key} --cve CVE-...)").format(key=case.key),
        )
    try:
        org = str(uuid.UUID(org_id))
    except ValueError:
        raise InputError(None, _("--org-id: {value} is not a UUID").format(value=repr(org_id))) from None
    if not _SHORT_NAME.match(short_name):
        raise InputError(
            None,
            _("--short-name: {value} is not a CNA short name (2-32 letters, digits, - or _)").format(
                value=repr(short_name)
            ),
        )
    english = case.texts.get("en", {})
    description = english.get("description") or english.get("title")
    if not description:
        raise InputError(None, _("{key}: a CVE record needs an English description").format(key=case.key))
    refs = [u for u in [case.fix_url, *(references or [])] if u]
    for url in refs:
        if not web_url(url):
            raise InputError(None, _("--reference: {value} is not an http(s) URL").format(value=repr(url)))
    if not refs:
        raise InputError(None, _("a CVE record needs at least one reference URL (--reference)"))
    now = now or datetime.now(UTC)
    descriptions = [{"lang": "en", "value": description}]
    japanese = case.texts.get("ja", {}).get("description")
    if japanese:
        descriptions.append({"lang": "ja", "value": japanese})
    cna: dict[str, Any] = {
        "providerMetadata": {"orgId": org, "shortName": short_name},
        "title": (english.get("title") or case.title)[:256],
        "descriptions": descriptions,
        "affected": _affected(case, vendor),
        "references": [
            {"url": u, **({"tags": ["patch"]} if u == case.fix_url else {})} for u in dict.fromkeys(refs)
        ],
    }
    if case.cwe:
        name = _cwe_name(case.cwe) or ""
        cna["problemTypes"] = [
            {
                "descriptions": [
                    {
                        "lang": "en",
                        "cweId": case.cwe,
                        "description": f"{case.cwe} {name}".strip(),
                        "type": "CWE",
                    }
                ]
            }
        ]
    metrics: list[dict[str, Any]] = []
    if case.cvss_v3:
        from cvss import CVSS3

        metrics.append(
            {
                "format": "CVSS",
                "scenarios": [{"lang": "en", "value": "GENERAL"}],
                "cvssV3_1": CVSS3(case.cvss_v3).as_json(minimal=True),
            }
        )
    if case.cvss_v4:
        from cvss import CVSS4

        c4 = CVSS4(case.cvss_v4)
        metrics.append(
            {
                "format": "CVSS",
                "scenarios": [{"lang": "en", "value": "GENERAL"}],
                "cvssV4_0": {
                    "version": "4.0",
                    "vectorString": c4.clean_vector(),
                    "baseScore": float(c4.base_score),
                    "baseSeverity": str(c4.severity).upper(),
                },
            }
        )
    if metrics:
        cna["metrics"] = metrics
    if case.credit == "named" and case.reporter_name:
        cna["credits"] = [{"lang": "en", "value": case.reporter_name, "type": "finder"}]
    elif case.credit == "anonymous":
        cna["credits"] = [{"lang": "en", "value": "an anonymous reporter", "type": "finder"}]
    if case.coordinator:
        cna.setdefault("credits", []).append({"lang": "en", "value": case.coordinator, "type": "coordinator"})
    if case.fixed_version and case.component:
        cna["solutions"] = [
            {"lang": "en", "value": f"Update {case.component} to {case.fixed_version} or later."}
        ]
    if english.get("workaround"):
        cna["workarounds"] = [{"lang": "en", "value": english["workaround"]}]
    cna["source"] = {"discovery": "EXTERNAL" if case.channel != "api" or case.reporter_name else "UNKNOWN"}
    return {
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": {
            "cveId": case.cve_id,
            "assignerOrgId": org,
            "assignerShortName": short_name,
            "state": "PUBLISHED",
            "dateUpdated": now.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        },
        "containers": {"cna": cna},
    }

"""A CSAF 2.0 security advisory (``csaf_security_advisory``, or ``csaf_vex`` when asked) drafted from a PSIRT
case.

- Product tree: the supplier as vendor, each product and release of the case (from the portfolio, as computed
  and edited on the case) as ``product_name`` → ``product_version``; the component as its own product with
  the ``vers:`` range (``product_version_range``) and a purl helper, each component version found in the
  portfolio and the fixed version with purl (and CPE where the portfolio knows one) helpers.
- Vulnerability: CVE (else the case key under ``ids``), CWE with the CWE list's name (test 6.1.11), the
  CVSS v3.1 score (CSAF 2.0 has no CVSS v4 field: a v4 vector goes into a note), product status
  (known_affected, fixed, known_not_affected), remediations (vendor fix with URL, workaround, mitigation;
  ``none_available`` while there is none), threats (impact; exploit status from the SSVC evidence), notes,
  acknowledgments by the reporter's credit preference and the coordinator.
- Tracking: the revisions recorded on the case (:func:`mamori.psirt.cases.add_revision`) with their
  status draft → interim → final; a case without one is a draft at revision 1.
- Language: ``document.lang``; a translation (``lang`` other than the case's) carries ``source_lang`` and
  takes the case's texts in that language where a person wrote them. mamori's own phrases come from the
  gettext catalog.

The result is checked by the caller with :func:`check_csaf` (schema with formats, then the mandatory tests
of section 6.1).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mamori import __version__
from mamori.errors import InputError
from mamori.i18n import N_, _, translate
from mamori.psirt.cases import Case, get_case, parse_time, revisions
from mamori.store import Store
from mamori.vex.csaf import check_lang_and_tlp

TLP_URL = "https://www.first.org/tlp/"

T_SUMMARY_TITLE = N_("Summary")
T_SUMMARY = N_("{title}: {count} product release(s) affected. Case {key}.")
T_DESCRIPTION = N_("Description")
T_CVSS4 = N_("CVSS v4.0")
T_CVSS4_TEXT = N_("CVSS v4.0 base score {score} ({severity}): {vector}")
T_FIX = N_("Update to a fixed release.")
T_FIX_VERSION = N_("Update {component} to {version} or later.")
T_NONE_AVAILABLE = N_("No fix is available yet; this advisory will be updated.")
T_NOT_AFFECTED = N_("The supplier has determined that this release is not affected (case {key}).")
T_EXPLOITATION = N_("Exploitation (SSVC): {value}")
T_ACK_NAMED = N_("We thank {name} for reporting this vulnerability.")
T_ACK_ANON = N_("We thank a reporter who wishes to remain anonymous.")
T_ACK_COORD = N_("Coordinated by {coordinator}.")
T_INITIAL = N_("Initial draft")
T_FIX_REFERENCE = N_("Fix")


def _t(message: str, lang: str) -> str:
    return translate(message, lang)


def _iso(text: str) -> str:
    return text  # stored times are already UTC ISO 8601 with Z


class _Ids:
    def __init__(self) -> None:
        self.n = 0

    def next(self) -> str:
        self.n += 1
        return f"CSAFPID-{self.n:04d}"


def _component_rows(store: Store, component: str) -> dict[str, str | None]:
    """Component version → its first CPE, from the portfolio."""
    from sqlalchemy import select

    from mamori.portfolio.tables import ComponentRow

    c = ComponentRow.__table__
    out: dict[str, str | None] = {}
    with store.engine.connect() as conn:
        for version, cpes in conn.execute(select(c.c.version, c.c.cpes).where(c.c.purl_base == component)):
            if version:
                first = (cpes or "").split("\n")[0].strip() or None
                out.setdefault(version, first)
    return out


def _purl_with_version(base: str, version: str) -> str:
    from urllib.parse import quote

    return f"{base}@{quote(version, safe='.+-_~')}"


def _component_name(purl: str) -> tuple[str, str]:
    """(vendor, name) of a purl base: the namespace (or the type) and the name."""
    from packageurl import PackageURL

    p = PackageURL.from_string(purl)
    return (p.namespace or p.type), p.name


def draft_csaf(
    store: Store,
    key: str,
    *,
    publisher: str,
    namespace: str,
    lang: str | None = None,
    vex: bool = False,
    tlp: str = "WHITE",
    status: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The CSAF document of the case ``key``."""
    from mamori.model.references import web_url

    case = get_case(store, key)
    lang = lang or case.lang
    check_lang_and_tlp(lang, tlp)
    if not publisher.strip():
        raise InputError(None, _("an advisory needs a publisher (--publisher)"))
    if not web_url(namespace):
        raise InputError(None, _("--namespace: {value} is not an http(s) URL").format(value=repr(namespace)))
    if status is not None and status not in ("draft", "interim", "final"):
        raise InputError(None, _("--status is draft, interim or final"))
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    ids = _Ids()
    tree, status_ids = _product_tree(store, case, publisher.strip(), ids)
    vuln = _vulnerability(case, status_ids, lang, vex)
    history, tracking_status = _history(store, case, lang, now)
    if status is not None:
        tracking_status = status
    title = case.text("title", lang) or case.title
    affected = len(status_ids["known_affected"])
    document: dict[str, Any] = {
        "category": "csaf_vex" if vex else "csaf_security_advisory",
        "csaf_version": "2.0",
        "distribution": {"tlp": {"label": tlp, "url": TLP_URL}},
        "lang": lang,
        "notes": [
            {
                "category": "summary",
                "title": _t(T_SUMMARY_TITLE, lang),
                "text": _t(T_SUMMARY, lang).format(title=title, count=affected, key=case.key),
            }
        ],
        "publisher": {"category": "vendor", "name": publisher.strip(), "namespace": namespace},
        "title": title,
        "tracking": {
            "current_release_date": history[-1]["date"],
            "generator": {
                "date": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "engine": {"name": "mamori", "version": __version__},
            },
            "id": case.key,
            "initial_release_date": history[0]["date"],
            "revision_history": history,
            "status": tracking_status,
            "version": history[-1]["number"],
        },
    }
    if lang != case.lang:
        document["source_lang"] = case.lang
    acks = _acknowledgments(case, lang)
    if acks:
        document["acknowledgments"] = acks
    if case.fix_url:
        document["references"] = [
            {"category": "external", "summary": _t(T_FIX_REFERENCE, lang), "url": case.fix_url}
        ]
    return {"document": document, "product_tree": tree, "vulnerabilities": [vuln]}


def _product_tree(
    store: Store, case: Case, vendor: str, ids: _Ids
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    status_ids: dict[str, list[str]] = {"known_affected": [], "fixed": [], "known_not_affected": []}
    products: dict[str, list[dict[str, Any]]] = {}
    for p in case.products:
        pid = ids.next()
        status_ids[p.status].append(pid)
        products.setdefault(p.product, []).append(
            {
                "category": "product_version",
                "name": p.release,
                "product": {"name": f"{vendor} {p.product} {p.release}", "product_id": pid},
            }
        )
    vendor_branches = [
        {"category": "product_name", "name": name, "branches": releases}
        for name, releases in products.items()
    ]
    branches: list[dict[str, Any]] = []
    if vendor_branches:
        branches.append({"category": "vendor", "name": vendor, "branches": vendor_branches})
    if case.component:
        comp_vendor, comp_name = _component_name(case.component)
        known = _component_rows(store, case.component)
        versions: list[dict[str, Any]] = []
        if case.affected_range:
            pid = ids.next()
            status_ids["known_affected"].append(pid)
            versions.append(
                {
                    "category": "product_version_range",
                    "name": case.affected_range,
                    "product": {
                        "name": f"{comp_name} {case.affected_range}",
                        "product_id": pid,
                        "product_identification_helper": {"purl": case.component},
                    },
                }
            )
        in_case = {
            p.component_version for p in case.products if p.status == "known_affected" and p.component_version
        }
        for version in sorted(in_case):
            pid = ids.next()
            status_ids["known_affected"].append(pid)
            helper: dict[str, Any] = {"purl": _purl_with_version(case.component, version)}
            if known.get(version):
                helper["cpe"] = known[version]
            versions.append(
                {
                    "category": "product_version",
                    "name": version,
                    "product": {
                        "name": f"{comp_name} {version}",
                        "product_id": pid,
                        "product_identification_helper": helper,
                    },
                }
            )
        if case.fixed_version and case.fixed_version not in in_case:
            pid = ids.next()
            status_ids["fixed"].append(pid)
            versions.append(
                {
                    "category": "product_version",
                    "name": case.fixed_version,
                    "product": {
                        "name": f"{comp_name} {case.fixed_version}",
                        "product_id": pid,
                        "product_identification_helper": {
                            "purl": _purl_with_version(case.component, case.fixed_version)
                        },
                    },
                }
            )
        if versions:
            branches.append(
                {
                    "category": "vendor",
                    "name": comp_vendor,
                    "branches": [{"category": "product_name", "name": comp_name, "branches": versions}],
                }
            )
    if not branches:
        raise InputError(
            None,
            _("{key} has no affected product or component: compute or set them first").format(key=case.key),
        )
    return {"branches": branches}, status_ids


def _vulnerability(case: Case, status_ids: dict[str, list[str]], lang: str, vex: bool) -> dict[str, Any]:
    from mamori.vex.csaf_checks import _cwe_name

    affected = status_ids["known_affected"]
    out: dict[str, Any] = {}
    if case.cve_id:
        out["cve"] = case.cve_id
    else:
        out["ids"] = [{"system_name": "PSIRT case", "text": case.key}]
    if case.cwe:
        name = _cwe_name(case.cwe)
        if name is None:
            raise InputError(None, _("{cwe} is not in the CWE list").format(cwe=case.cwe))
        out["cwe"] = {"id": case.cwe, "name": name}
    description = case.text("description", lang) or case.text("title", lang) or case.title
    notes = [{"category": "description", "text": description, "title": _t(T_DESCRIPTION, lang)}]
    if case.cvss_v4:
        from cvss import CVSS4

        c4 = CVSS4(case.cvss_v4)
        notes.append(
            {
                "category": "other",
                "text": _t(T_CVSS4_TEXT, lang).format(
                    score=c4.base_score, severity=c4.severity, vector=c4.clean_vector()
                ),
                "title": _t(T_CVSS4, lang),
            }
        )
    out["notes"] = notes
    out["product_status"] = {k: v for k, v in status_ids.items() if v}
    remediations: list[dict[str, Any]] = []
    if affected:
        if case.fix_url or case.fixed_version or status_ids["fixed"]:
            details = (
                _t(T_FIX_VERSION, lang).format(
                    component=_component_name(case.component)[1], version=case.fixed_version
                )
                if case.fixed_version and case.component
                else _t(T_FIX, lang)
            )
            fix: dict[str, Any] = {"category": "vendor_fix", "details": details, "product_ids": affected}
            if case.fix_url:
                fix["url"] = case.fix_url
            remediations.append(fix)
        for name in ("workaround", "mitigation"):
            text = case.text(name, lang)
            if text:
                remediations.append({"category": name, "details": text, "product_ids": affected})
        if not remediations:
            remediations.append(
                {"category": "none_available", "details": _t(T_NONE_AVAILABLE, lang), "product_ids": affected}
            )
        out["remediations"] = remediations
    if affected and case.cvss_v3:
        from cvss import CVSS3

        out["scores"] = [{"cvss_v3": CVSS3(case.cvss_v3).as_json(minimal=True), "products": affected}]
    threats: list[dict[str, Any]] = []
    impact = case.text("impact", lang)
    if impact and affected:
        threats.append({"category": "impact", "details": impact, "product_ids": affected})
    exploitation = next(
        (s["value"] for s in (case.ssvc or {}).get("path", []) if s["point"] == "exploitation"), None
    )
    if exploitation and affected:
        threats.append(
            {
                "category": "exploit_status",
                "details": _t(T_EXPLOITATION, lang).format(value=exploitation),
                "product_ids": affected,
            }
        )
    if status_ids["known_not_affected"]:
        threats.append(
            {
                "category": "impact",
                "details": _t(T_NOT_AFFECTED, lang).format(key=case.key),
                "product_ids": status_ids["known_not_affected"],
            }
        )
    if threats:
        out["threats"] = threats
    acks = _acknowledgments(case, lang)
    if acks:
        out["acknowledgments"] = acks
    out["title"] = case.text("title", lang) or case.title
    return out


def _acknowledgments(case: Case, lang: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if case.credit == "named" and case.reporter_name:
        out.append(
            {"names": [case.reporter_name], "summary": _t(T_ACK_NAMED, lang).format(name=case.reporter_name)}
        )
    elif case.credit == "anonymous":
        out.append({"summary": _t(T_ACK_ANON, lang)})
    if case.coordinator:
        out.append(
            {
                "organization": case.coordinator,
                "summary": _t(T_ACK_COORD, lang).format(coordinator=case.coordinator),
            }
        )
    return out


def _history(store: Store, case: Case, lang: str, now: datetime) -> tuple[list[dict[str, str]], str]:
    recorded = revisions(store, case.key)
    if not recorded:
        at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        return [{"date": at, "number": "1", "summary": _t(T_INITIAL, lang)}], "draft"
    history = [
        {"date": _iso(r["date"]), "number": str(r["number"]), "summary": r["summary"]}
        for r in sorted(recorded, key=lambda r: (parse_time(r["date"]), r["number"]))
    ]
    return history, recorded[-1]["status"]


def check_csaf(doc: dict[str, Any], lang: str | None = None) -> list[str]:
    """What the CSAF 2.0 schema (with formats) and the mandatory tests (section 6.1) find in ``doc``; the
    tests' findings in ``lang`` (default: the running command's language)."""
    from mamori.vex.csaf_checks import mandatory_problems
    from mamori.vex.schemas import csaf_problems

    problems = list(csaf_problems(doc, lang=lang))
    if not problems:
        problems = [p.line(lang) for p in mandatory_problems(doc)]
    return problems

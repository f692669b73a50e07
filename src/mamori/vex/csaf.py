"""CSAF 2.0 (profile "VEX", ``csaf_vex``) ↔ the VEX model.

Per vulnerability, ``product_status`` gives each product its status (mapping.yaml), ``flags`` the
justification label, ``threats`` of category ``impact`` the impact statement (for not-affected
products; the status notes for the others) and ``remediations`` the responses and the action
statement. Products with the same status, justification and texts form one statement. The product
tree is handled in csaf_tree.py.

Writing follows the VEX profile (CSAF 2.0 section 4.5): document notes, product tree,
vulnerabilities with ``cve`` or ``ids``, ``notes`` and ``product_status``; an impact statement or
flag for every known_not_affected product and a remediation for every known_affected one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from mamori import __version__
from mamori.errors import InputError
from mamori.i18n import _
from mamori.model.references import web_url
from mamori.model.vex import JUSTIFICATIONS, VexDocument, VexProduct, VexStatement, VexVulnerability
from mamori.vex.csaf_tree import ProductTree, TreeBuilder, read_tree
from mamori.vex.fields import Fields, iso
from mamori.vex.mapping import mapping

CSAF_VERSION = "2.0"
_CVE = re.compile(r"^CVE-[0-9]{4}-[0-9]{4,}$")
SUMMARY_TITLE = "VEX status summary"


# ---------------------------------------------------------------- reading


def read(obj: Any, path: Path) -> VexDocument:
    return _Reader(path).document(obj)


@dataclass
class _Facts:
    """What one vulnerability says about one product."""

    status: str
    justification: str | None = None
    impact: list[str] | None = None
    actions: list[str] | None = None
    responses: list[str] | None = None
    action_date: datetime | None = None

    def key(self) -> tuple[Any, ...]:
        return (
            self.status,
            self.justification,
            tuple(self.impact or ()),
            tuple(self.actions or ()),
            tuple(self.responses or ()),
            self.action_date,
        )


class _Reader(Fields):
    def document(self, obj: Any) -> VexDocument:
        obj = self.obj(obj, "")
        document = self.get_obj(obj, "document", "")
        if document is None:
            self.fail("document", _("is missing: not a CSAF document"))
        version = self.get_str(document, "csaf_version", "document", required=True)
        if version != CSAF_VERSION:
            self.fail(
                "document.csaf_version",
                _("CSAF {version!r} is not supported (mamori reads {supported})").format(
                    version=version, supported=CSAF_VERSION
                ),
            )
        doc = VexDocument(source_format="csaf", spec_version=version)
        doc.title = self.get_str(document, "title", "document")
        publisher = self.get_obj(document, "publisher", "document") or {}
        doc.author = self.get_str(publisher, "name", "document.publisher")
        doc.author_role = self.get_str(publisher, "category", "document.publisher")
        doc.author_url = self.get_str(publisher, "namespace", "document.publisher")
        tracking = self.get_obj(document, "tracking", "document")
        if tracking is None:
            self.fail("document.tracking", _("is missing"))
        doc.id = self.get_str(tracking, "id", "document.tracking", required=True)
        doc.timestamp = self.get_time(tracking, "initial_release_date", "document.tracking")
        current = self.get_time(tracking, "current_release_date", "document.tracking")
        doc.last_updated = current if current != doc.timestamp else None
        doc.version = self._version(self.get_str(tracking, "version", "document.tracking"))
        generator = self.get_obj(tracking, "generator", "document.tracking") or {}
        engine = self.get_obj(generator, "engine", "document.tracking.generator") or {}
        if isinstance(engine.get("name"), str):
            doc.tool = f"{engine['name']} {engine.get('version') or ''}".strip()
        tree = read_tree(self, self.get_obj(obj, "product_tree", ""))
        for i, vuln in enumerate(self.get_list(obj, "vulnerabilities", "")):
            where = f"vulnerabilities[{i}]"
            doc.statements.extend(self.statements(self.obj(vuln, where), where, tree, doc))
        return doc

    def _version(self, text: str | None) -> int:
        head = (text or "1").split(".")[0]
        return int(head) if head.isdigit() and int(head) > 0 else 1

    def statements(
        self, vuln: dict[str, Any], where: str, tree: ProductTree, doc: VexDocument
    ) -> list[VexStatement]:
        info = self.vulnerability(vuln, where)
        facts = self.product_facts(vuln, where, tree, info.id, doc)
        groups: dict[tuple[Any, ...], list[str]] = {}
        for pid, fact in facts.items():
            groups.setdefault(fact.key(), []).append(pid)
        out: list[VexStatement] = []
        for pids in groups.values():
            fact = facts[pids[0]]
            st = VexStatement(
                vulnerability=info,
                status=fact.status,
                justification=fact.justification,
                responses=list(fact.responses or []),
                action_statement="\n".join(fact.actions) if fact.actions else None,
                action_statement_timestamp=fact.action_date,
            )
            text = "\n".join(fact.impact) if fact.impact else None
            if fact.status == "not_affected":
                st.impact_statement = text
            else:
                st.detail = text
            st.products = [
                self.product(tree, pid, f"{where}.product_status", info.id)
                for pid in pids
                if pid not in tree.all_products
            ]
            out.append(st)
        return out

    def product(self, tree: ProductTree, pid: str, where: str, vid: str) -> VexProduct:
        product = tree.products.get(pid)
        if product is None:
            self.fail(
                where,
                _("{vid}: product id {pid!r} is not defined in the product tree").format(vid=vid, pid=pid),
            )
        return product

    def vulnerability(self, vuln: dict[str, Any], where: str) -> VexVulnerability:
        names: list[str] = []
        cve = self.get_str(vuln, "cve", where)
        if cve:
            names.append(cve)
        for k, entry in enumerate(self.get_list(vuln, "ids", where)):
            entry = self.obj(entry, f"{where}.ids[{k}]")
            text = self.get_str(entry, "text", f"{where}.ids[{k}]", required=True)
            names.append(text or "")
        names = list(dict.fromkeys(names))
        if not names:
            self.fail(where, _("has neither cve nor ids: no vulnerability to state a status for"))
        description = None
        for k, note in enumerate(self.get_list(vuln, "notes", where)):
            note = self.obj(note, f"{where}.notes[{k}]")
            if note.get("category") == "description" and description is None:
                description = self.get_str(note, "text", f"{where}.notes[{k}]")
        url = None
        for k, ref in enumerate(self.get_list(vuln, "references", where)):
            ref = self.obj(ref, f"{where}.references[{k}]")
            if url is None and ref.get("category", "external") == "external":
                url = self.get_str(ref, "url", f"{where}.references[{k}]")
        return VexVulnerability(id=names[0], aliases=names[1:], description=description, url=url)

    def product_facts(
        self, vuln: dict[str, Any], where: str, tree: ProductTree, vid: str, doc: VexDocument
    ) -> dict[str, _Facts]:
        table = mapping()
        facts: dict[str, _Facts] = {}
        status_obj = self.get_obj(vuln, "product_status", where) or {}
        for key, _ids in status_obj.items():
            at = f"{where}.product_status.{key}"
            if key in table.csaf_not_a_status:
                doc.warnings.append(
                    _("{vid}: product_status.{key} is not a VEX status; skipped").format(vid=vid, key=key)
                )
                continue
            status = table.csaf_key_to_status.get(key)
            if status is None:
                self.fail(at, _("unknown CSAF product status {key!r} for {vid}").format(key=key, vid=vid))
            for pid in self.strings(status_obj, key, f"{where}.product_status"):
                known = facts.get(pid)
                if known is not None and known.status != status:
                    self.fail(
                        at,
                        _("{vid}: product {pid!r} is both {first} and {second}").format(
                            vid=vid, pid=pid, first=known.status, second=status
                        ),
                    )
                facts.setdefault(pid, _Facts(status=status))
        for k, flag in enumerate(self.get_list(vuln, "flags", where)):
            at = f"{where}.flags[{k}]"
            flag = self.obj(flag, at)
            label = self.get_str(flag, "label", at, required=True)
            if label not in JUSTIFICATIONS:
                self.fail(
                    f"{at}.label", _("unknown flag label {label!r} for {vid}").format(label=label, vid=vid)
                )
            for pid in self._targets(flag, at, tree):
                if pid in facts:
                    facts[pid].justification = label
        for k, threat in enumerate(self.get_list(vuln, "threats", where)):
            at = f"{where}.threats[{k}]"
            threat = self.obj(threat, at)
            details = self.get_str(threat, "details", at, required=True)
            if threat.get("category") != "impact":
                continue
            for pid in self._targets(threat, at, tree):
                if pid in facts:
                    facts[pid].impact = [*(facts[pid].impact or []), details or ""]
        for k, rem in enumerate(self.get_list(vuln, "remediations", where)):
            at = f"{where}.remediations[{k}]"
            rem = self.obj(rem, at)
            category = self.get_str(rem, "category", at, required=True)
            response = table.csaf_to_response.get(category or "")
            if response is None:
                self.fail(
                    f"{at}.category",
                    _("unknown remediation category {category!r} for {vid}").format(
                        category=category, vid=vid
                    ),
                )
            details = self.get_str(rem, "details", at, required=True) or ""
            date = self.get_time(rem, "date", at)
            for pid in self._targets(rem, at, tree):
                fact = facts.get(pid)
                if fact is None:
                    continue
                fact.responses = list(dict.fromkeys([*(fact.responses or []), response]))
                fact.actions = list(dict.fromkeys([*(fact.actions or []), details]))
                fact.action_date = fact.action_date or date
        return facts

    def _targets(self, item: dict[str, Any], where: str, tree: ProductTree) -> list[str]:
        return tree.expand(self.strings(item, "product_ids", where), self.strings(item, "group_ids", where))


# ---------------------------------------------------------------- writing


def to_json(doc: VexDocument, namespace: str, tracking_id: str, written: datetime) -> dict[str, Any]:
    """The CSAF VEX document; ``doc.author`` must be set and ``doc.statements`` non-empty (the caller checks)."""
    assert doc.author
    table = mapping()
    builder = TreeBuilder()
    vulns: dict[str, list[VexStatement]] = {}
    for st in doc.statements:
        vulns.setdefault(st.vulnerability.id, []).append(st)
    vulnerabilities = [_vulnerability(sts, builder, doc.author) for sts in vulns.values()]
    initial = doc.timestamp or written
    current = doc.last_updated or initial
    version = str(max(1, doc.version))
    source = f" from {doc.source_format}" if doc.source_format else ""
    ids = list(vulns)
    title = doc.title or f"VEX: {', '.join(ids[:3])}{' ...' if len(ids) > 3 else ''}"
    document = {
        "category": "csaf_vex",
        "csaf_version": CSAF_VERSION,
        "notes": [
            {
                "category": "summary",
                "title": "Summary",
                "text": f"VEX statements for {len(ids)} vulnerabilities ({', '.join(ids[:5])}{' ...' if len(ids) > 5 else ''}), written by mamori{source}.",
            }
        ],
        "publisher": {
            "category": table.publisher_category(doc.author_role),
            "name": doc.author,
            "namespace": namespace,
        },
        "title": title,
        "tracking": {
            "current_release_date": iso(current),
            "generator": {"date": iso(written), "engine": {"name": "mamori", "version": __version__}},
            "id": tracking_id,
            "initial_release_date": iso(initial),
            "revision_history": [{"date": iso(current), "number": version, "summary": f"Version {version}."}],
            "status": "final",
            "version": version,
        },
    }
    return {"document": document, "product_tree": builder.tree(), "vulnerabilities": vulnerabilities}


def _merge_ids(groups: dict[Any, list[str]], key: Any, pids: list[str]) -> None:
    bucket = groups.setdefault(key, [])
    bucket.extend(p for p in pids if p not in bucket)


def _vulnerability(statements: list[VexStatement], builder: TreeBuilder, author: str) -> dict[str, Any]:
    table = mapping()
    info = statements[0].vulnerability
    status_ids: dict[str, list[str]] = {}
    flags: dict[str, list[str]] = {}
    threats: dict[str, list[str]] = {}
    remediations: dict[tuple[str, str, str | None], list[str]] = {}
    seen: dict[str, str] = {}
    for st in statements:
        pids = [builder.product_id(p) for p in st.products] or [builder.all_products_id(author)]
        for pid in pids:
            if seen.setdefault(pid, st.status) != st.status:
                raise _conflict(info.id, st, pids.index(pid), seen[pid])
        _merge_ids(status_ids, table.status_to_csaf_key[st.status], pids)
        if st.status == "not_affected" and st.justification:
            _merge_ids(flags, st.justification, pids)
        impact = st.impact_statement if st.status == "not_affected" else st.detail
        if impact and impact.strip():  # the reader (and CSAF) need a threat's details to say something
            _merge_ids(threats, impact, pids)
        if st.status in ("affected", "fixed"):
            when = iso(st.action_statement_timestamp) if st.action_statement_timestamp else None
            for category, details in _remediations(st):
                _merge_ids(remediations, (category, details, when), pids)
    out: dict[str, Any] = {}
    if _CVE.match(info.id):
        out["cve"] = info.id
    others = [n for n in [info.id, *info.aliases] if n != out.get("cve")]
    if others:
        out["ids"] = [{"system_name": _system_name(n, info), "text": n} for n in dict.fromkeys(others)]
    if flags:
        out["flags"] = [{"label": label, "product_ids": pids} for label, pids in flags.items()]
    out["notes"] = [_note(info, statements)]
    out["product_status"] = status_ids
    if web_url(info.url):  # http(s) only
        out["references"] = [
            {"category": "external", "summary": f"{info.source or 'Source'}: {info.id}", "url": info.url}
        ]
    if remediations:
        out["remediations"] = []
        for (category, details, when), pids in remediations.items():
            rem: dict[str, Any] = {"category": category}
            if when:
                rem["date"] = when
            rem["details"] = details
            rem["product_ids"] = pids
            out["remediations"].append(rem)
    if threats:
        out["threats"] = [
            {"category": "impact", "details": text, "product_ids": pids} for text, pids in threats.items()
        ]
    return out


def _conflict(vid: str, st: VexStatement, index: int, other: str) -> InputError:
    label = st.products[index].label if st.products else _("all products")
    return InputError(
        None,
        _("{vid}: CSAF cannot give one product two statuses: {label} is {other} and {status}").format(
            vid=vid, label=label, other=other, status=st.status
        ),
    )


def _remediations(st: VexStatement) -> list[tuple[str, str]]:
    table = mapping()
    action = st.action_statement if st.action_statement and st.action_statement.strip() else None
    if not st.responses:
        return [(table.csaf_remediation_without_response, action)] if action else []
    by_category: dict[str, list[str]] = {}
    for response in st.responses:
        by_category.setdefault(table.response_to_csaf[response], []).append(response)
    return [(cat, action or table.responses_text(rs) or cat) for cat, rs in by_category.items()]


def _system_name(name: str, info: VexVulnerability) -> str:
    if name == info.id and info.source:
        return info.source
    prefix = name.split("-", 1)[0]
    return prefix if prefix and prefix != name else "unknown"


def _note(info: VexVulnerability, statements: list[VexStatement]) -> dict[str, str]:
    if info.description:
        return {"category": "description", "text": info.description, "title": "Vulnerability description"}
    table = mapping()
    parts = []
    for st in statements:
        products = ", ".join(p.label for p in st.products) or "all products"
        parts.append(f"{table.status_label[st.status]['en']}: {products}")
    return {"category": "general", "text": f"{info.id}: " + "; ".join(parts) + ".", "title": SUMMARY_TITLE}

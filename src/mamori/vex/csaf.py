"""CSAF 2.0 (profile "VEX", ``csaf_vex``) ↔ the VEX model.

Per vulnerability, ``product_status`` gives each product its status (mapping.yaml), ``flags`` the
justification label, ``threats`` of category ``impact`` the impact statement (for not-affected
products; the status notes for the others) and ``remediations`` the responses and the action
statement. Products with the same status, justification and texts form one statement. The product
tree is handled in csaf_tree.py.

Writing follows the VEX profile (CSAF 2.0 section 4.5): document notes, product tree,
vulnerabilities with ``cve`` or ``ids``, ``notes`` and ``product_status``; an impact statement or
flag for every known_not_affected product and a remediation for every known_affected one.
``document.lang`` is the language of the words mamori writes (titles and notes, en or ja; the
phrases are in mapping.yaml ``csaf_texts``) and ``document.distribution.tlp.label`` the TLP label
(CSAF 2.0 allows AMBER, GREEN, RED and WHITE; mamori writes WHITE unless told otherwise).
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
from mamori.vex.identifiers import serial_uuid
from mamori.vex.mapping import mapping

CSAF_VERSION = "2.0"
TLP_LABELS = ("AMBER", "GREEN", "RED", "WHITE")  # CSAF 2.0 schema: distribution.tlp.label
TLP_URL = "https://www.first.org/tlp/"
LANGS = ("en", "ja")
_CVE = re.compile(r"^CVE-[0-9]{4}-[0-9]{4,}$")


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


def check_lang_and_tlp(lang: str, tlp: str) -> None:
    """A one-line InputError unless ``lang`` is a language mamori writes and ``tlp`` a CSAF 2.0 TLP label."""
    if lang not in LANGS:
        raise InputError(
            None,
            _("unknown language {lang}: expected one of {langs}").format(
                lang=repr(lang), langs=", ".join(LANGS)
            ),
        )
    if tlp not in TLP_LABELS:
        raise InputError(
            None,
            _("unknown TLP label {label}: CSAF 2.0 allows {labels}").format(
                label=repr(tlp), labels=", ".join(TLP_LABELS)
            ),
        )


def to_json(
    doc: VexDocument,
    namespace: str,
    tracking_id: str,
    written: datetime,
    lang: str = "en",
    tlp: str = "WHITE",
) -> dict[str, Any]:
    """The CSAF VEX document; ``doc.author`` must be set and ``doc.statements`` non-empty (the caller checks).

    Bom-refs that cannot be written as URIs (a source BOM without a serial number) are left out of the
    product helpers and named in ``doc.warnings``."""
    assert doc.author
    check_lang_and_tlp(lang, tlp)
    table = mapping()
    serial = serial_uuid(doc.id) if doc.source_format == "cyclonedx" else None
    builder = TreeBuilder((serial, doc.version) if serial else None)
    vulns: dict[str, list[VexStatement]] = {}
    for st in doc.statements:
        vulns.setdefault(st.vulnerability.id, []).append(st)
    vulnerabilities = [_vulnerability(sts, builder, doc.author, lang) for sts in vulns.values()]
    for ref in dict.fromkeys(builder.dropped):
        doc.warnings.append(
            _(
                "bom-ref {ref} is not a URI, the source has no serial number for a BOM-Link and the "
                "product id is taken: the CSAF product is named without it"
            ).format(ref=repr(ref))
        )
    initial = doc.timestamp or written
    current = doc.last_updated or initial
    version = str(max(1, doc.version))
    ids = list(vulns)
    shown = ", ".join(ids[:5]) + (" ..." if len(ids) > 5 else "")
    title = doc.title or table.csaf_text(
        "title", lang, ids=", ".join(ids[:3]) + (" ..." if len(ids) > 3 else "")
    )
    if doc.source_format:
        summary = table.csaf_text("summary_from", lang, count=len(ids), ids=shown, source=doc.source_format)
    else:
        summary = table.csaf_text("summary", lang, count=len(ids), ids=shown)
    document = {
        "category": "csaf_vex",
        "csaf_version": CSAF_VERSION,
        "distribution": {"tlp": {"label": tlp, "url": TLP_URL}},
        "lang": lang,
        "notes": [{"category": "summary", "title": table.csaf_text("summary_title", lang), "text": summary}],
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
            "revision_history": _history(doc.version, initial, current, lang),
            "status": "final",
            "version": version,
        },
    }
    return {"document": document, "product_tree": builder.tree(), "vulnerabilities": vulnerabilities}


def _history(version: int, initial: datetime, current: datetime, lang: str) -> list[dict[str, str]]:
    """Revisions 1 to ``version`` (CSAF 2.0 tests 6.1.14, 6.1.16 and 6.1.21 want them all, in order): the
    earlier ones, which mamori did not see, dated at the initial release."""
    table = mapping()
    first = min(initial, current)
    out = [
        {
            "date": iso(first),
            "number": str(n),
            "summary": table.csaf_text("earlier_revision", lang, version=n),
        }
        for n in range(1, max(1, version))
    ]
    number = str(max(1, version))
    out.append(
        {"date": iso(current), "number": number, "summary": table.csaf_text("revision", lang, version=number)}
    )
    return out


def _merge_ids(groups: dict[Any, list[str]], key: Any, pids: list[str]) -> None:
    bucket = groups.setdefault(key, [])
    bucket.extend(p for p in pids if p not in bucket)


def _vulnerability(
    statements: list[VexStatement], builder: TreeBuilder, author: str, lang: str = "en"
) -> dict[str, Any]:
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
            for category, details in _remediations(st, lang):
                _merge_ids(remediations, (category, details, when), pids)
    out: dict[str, Any] = {}
    if _CVE.match(info.id):
        out["cve"] = info.id
    others = [n for n in [info.id, *info.aliases] if n != out.get("cve")]
    if others:
        out["ids"] = [{"system_name": _system_name(n, info), "text": n} for n in dict.fromkeys(others)]
    if flags:
        out["flags"] = [{"label": label, "product_ids": pids} for label, pids in flags.items()]
    out["notes"] = [_note(info, statements, lang)]
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


def _remediations(st: VexStatement, lang: str = "en") -> list[tuple[str, str]]:
    table = mapping()
    action = st.action_statement if st.action_statement and st.action_statement.strip() else None
    if not st.responses:
        return [(table.csaf_remediation_without_response, action)] if action else []
    by_category: dict[str, list[str]] = {}
    for response in st.responses:
        by_category.setdefault(table.response_to_csaf[response], []).append(response)
    return [(cat, action or table.responses_text(rs, lang) or cat) for cat, rs in by_category.items()]


def _system_name(name: str, info: VexVulnerability) -> str:
    if name == info.id and info.source:
        return info.source
    prefix = name.split("-", 1)[0]
    return prefix if prefix and prefix != name else "unknown"


def _note(info: VexVulnerability, statements: list[VexStatement], lang: str = "en") -> dict[str, str]:
    table = mapping()
    if info.description:
        return {
            "category": "description",
            "text": info.description,
            "title": table.csaf_text("description_title", lang),
        }
    parts = []
    for st in statements:
        products = ", ".join(p.label for p in st.products) or table.csaf_text("all_products", lang)
        parts.append(f"{table.status_label[st.status][lang]}: {products}")
    text = (
        f"{info.id}: " + table.csaf_text("list_separator", lang).join(parts) + ("." if lang == "en" else "。")
    )
    return {"category": "general", "text": text, "title": table.csaf_text("status_summary_title", lang)}

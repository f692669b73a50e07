"""A plain YAML file of VEX statements, written by a person, as input for ``mamori vex export``.

::

    document:
      author: Example Corp PSIRT          # required for OpenVEX and CSAF
      role: vendor                        # optional; CSAF publisher category
      namespace: https://psirt.example.com  # CSAF publisher namespace
      id: EXAMPLE-VEX-2024-001            # optional
      timestamp: 2024-05-01T09:00:00+09:00  # optional (default: the time of export)
      version: 1
      title: optional
    statements:
      - vulnerability: CVE-2021-44228     # or {id: ..., aliases: [...], description: ...}
        status: not_affected              # not_affected | affected | fixed | under_investigation
        justification: vulnerable_code_not_present   # a CISA label or a CycloneDX one
        impact_statement: free text
        action_statement: free text       # affected
        responses: [update]               # CycloneDX response labels
        detail: free text                 # how the status was determined
        products:
          - pkg:maven/org.example/app@1.0.0          # a purl, or:
          - {name: DEF, version: "1.0", vendor: Example Corp, ref: product-DEF,
             purl: ..., cpe: ..., version_range: ..., subcomponents: [pkg:maven/...]}

Every scalar is read as text (YAML's base loader), so ``version: 1.10`` stays "1.10".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mamori.errors import InputError
from mamori.fileio import check_yaml_depth, read_bytes
from mamori.i18n import _
from mamori.model.vex import (
    JUSTIFICATIONS,
    VEX_STATUSES,
    VexDocument,
    VexProduct,
    VexStatement,
    VexVulnerability,
)
from mamori.vex.fields import Fields
from mamori.vex.identifiers import purl_parts
from mamori.vex.mapping import mapping

_PRODUCT_KEYS = ("ref", "name", "version", "version_range", "vendor", "purl", "cpe", "subcomponents")
_STATEMENT_KEYS = (
    "vulnerability",
    "status",
    "justification",
    "impact_statement",
    "action_statement",
    "responses",
    "detail",
    "products",
    "timestamp",
)


def read_statements(path: str | Path) -> VexDocument:
    """The statements file as a VexDocument (rules not yet enforced: the writers do that)."""
    data = read_bytes(path)
    check_yaml_depth(data, path)
    try:
        raw = yaml.load(data, Loader=yaml.BaseLoader)  # BaseLoader builds only str/list/dict
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = (
            _(" at line {line} column {column}").format(line=mark.line + 1, column=mark.column + 1)
            if mark
            else ""
        )
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]  # the reader's error: 2 lines
        raise InputError(
            path, _("invalid YAML{where}: {problem}").format(where=where, problem=problem)
        ) from None
    return _Reader(path).document(raw)


class _Reader(Fields):
    def document(self, raw: Any) -> VexDocument:
        raw = self.obj(raw, "")
        meta = self.get_obj(raw, "document", "") or {}
        self._known(meta, ("author", "role", "namespace", "id", "timestamp", "version", "title"), "document")
        doc = VexDocument(source_format="yaml")
        doc.author = self.get_str(meta, "author", "document")
        doc.author_role = self.get_str(meta, "role", "document")
        doc.author_url = self.get_str(meta, "namespace", "document")
        doc.id = self.get_str(meta, "id", "document")
        doc.title = self.get_str(meta, "title", "document")
        doc.timestamp = self.get_time(meta, "timestamp", "document")
        version = self.get_str(meta, "version", "document") or "1"
        if not version.isdigit() or int(version) < 1:
            self.fail(
                "document.version",
                _("expected a whole number of at least 1, got {version!r}").format(version=version),
            )
        doc.version = int(version)
        statements = self.get_list(raw, "statements", "")
        if not statements:
            self.fail("statements", _("is missing or empty"))
        for i, item in enumerate(statements):
            doc.statements.append(self.statement(self.obj(item, f"statements[{i}]"), f"statements[{i}]"))
        return doc

    def _known(self, obj: dict[str, Any], keys: tuple[str, ...], where: str) -> None:
        for key in obj:
            if key not in keys:
                self.fail(
                    f"{where}.{key}" if where else key,
                    _("unknown key (expected one of {keys})").format(keys=", ".join(keys)),
                )

    def statement(self, raw: dict[str, Any], where: str) -> VexStatement:
        table = mapping()
        self._known(raw, _STATEMENT_KEYS, where)
        vuln = raw.get("vulnerability")
        if isinstance(vuln, str) and vuln.strip():
            info = VexVulnerability(id=vuln.strip())
        else:
            vuln = self.obj(vuln, f"{where}.vulnerability")
            vid = self.get_str(vuln, "id", f"{where}.vulnerability", required=True)
            info = VexVulnerability(
                id=(vid or "").strip(),
                aliases=self.strings(vuln, "aliases", f"{where}.vulnerability"),
                description=self.get_str(vuln, "description", f"{where}.vulnerability"),
            )
        status = self.get_str(raw, "status", where, required=True)
        if status not in VEX_STATUSES:
            self.fail(
                f"{where}.status",
                _("{id}: expected one of {allowed}, got {status!r}").format(
                    id=info.id, allowed=", ".join(VEX_STATUSES), status=status
                ),
            )
        st = VexStatement(vulnerability=info, status=status)
        label = self.get_str(raw, "justification", where)
        if label in JUSTIFICATIONS:
            st.justification = label
        elif label in table.cdx_justification_to_cisa:
            st.justification, st.cdx_justification = table.cdx_justification_to_cisa[label], label
        elif label is not None:
            self.fail(
                f"{where}.justification",
                _("{id}: unknown justification {label!r}").format(id=info.id, label=label),
            )
        for key in ("impact_statement", "action_statement", "detail"):
            setattr(st, key, self.get_str(raw, key, where) or None)
        st.responses = self.strings(raw, "responses", where)
        for response in st.responses:
            if response not in table.response_to_csaf:
                self.fail(
                    f"{where}.responses",
                    _("{id}: unknown response {response!r}").format(id=info.id, response=response),
                )
        st.timestamp = self.get_time(raw, "timestamp", where)
        for j, product in enumerate(self.get_list(raw, "products", where)):
            st.products.append(self.product(product, f"{where}.products[{j}]", 0))
        return st

    def product(self, raw: Any, where: str, depth: int) -> VexProduct:
        if isinstance(raw, str) and raw.strip():
            raw = {"purl": raw.strip()}
        raw = self.obj(raw, where)
        self._known(raw, _PRODUCT_KEYS, where)
        product = VexProduct(
            **{k: self.get_str(raw, k, where) for k in _PRODUCT_KEYS if k != "subcomponents"}
        )
        if product.purl:
            name, version = purl_parts(product.purl)
            if name is None:
                self.fail(f"{where}.purl", _("not a valid package URL: {purl!r}").format(purl=product.purl))
            product.name = product.name or name
            if product.version is None and product.version_range is None:
                product.version = version
        if product.version and product.version_range:
            self.fail(where, _("give either version or version_range, not both"))
        if not product.key:
            self.fail(where, _("names no product: give a purl, ref, cpe or name"))
        if depth == 0:
            for k, sub in enumerate(self.get_list(raw, "subcomponents", where)):
                product.subcomponents.append(self.product(sub, f"{where}.subcomponents[{k}]", 1))
        elif "subcomponents" in raw:
            self.fail(f"{where}.subcomponents", _("subcomponents cannot have subcomponents"))
        return product

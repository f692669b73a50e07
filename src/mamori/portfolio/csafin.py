"""A supplier's CSAF 2.0 advisory (``csaf_security_advisory`` or ``csaf_vex``) applied to the whole inventory.

``mamori csaf apply FILE... [--supplier NAME]`` (and :func:`apply_advisory`) matches the advisory's product
tree against every product and release of the portfolio, not one release:

- ``purl`` / ``cpe`` / ``hash``: a product's ``product_identification_helper`` names components of a
  release's current SBOM: a purl with its version (or under a ``vers:`` range of the branch), a CPE
  (every attribute compared as :mod:`mamori.match.cpe` compares them, the version included), or a file
  hash the SBOM gives the component;
- ``name_version`` / ``range``: the branch tree vendor → product_name → product_version (or
  product_version_range) names a product of the portfolio (its supplier ≈ the vendor, or the
  ``--supplier`` given, and its name ≈ the product name, compared without case, width or separators)
  and the release whose version is that version (or inside that ``vers:`` range): a statement about the
  whole release. A range that is not ``vers:`` (CSAF allows free text such as "All versions < V4.33"),
  or a ``vers:`` range a release's version cannot be compared with, is not guessed at: it is counted as
  unparsed with examples (``vers:<scheme>/*`` holds every version);
- ``relationship``: ``default_component_of`` / ``optional_component_of`` / ``external_component_of``
  speak about the component (``product_reference``) inside the product it relates to: the releases that
  product names, at the component their SBOM lists (by purl, CPE, hash, else name and version; a part
  the release's SBOM does not list is counted as unmatched, not said of the whole release); ``installed_on`` /
  ``installed_with`` speak about the ``product_reference`` itself (the other product is the platform).

Each (vulnerability, product status, matched release or component) becomes a triage record of origin
``vex`` (:mod:`mamori.triage.records`): who = the publisher (name and namespace), source = the advisory's
id, version and URL, when = the advisory's current release date. The CVE names the vulnerability, else
the first of the advisory's ``ids``. ``known_not_affected`` keeps its flag (justification) and impact
statement, ``fixed``/``first_fixed`` say the supplier fixed it in that release, ``known_affected`` /
``first_affected`` / ``last_affected`` carry the remediations (category, details and URL) as the action,
``under_investigation`` stays so. The rules of ``mamori vex import`` hold: one transaction, a statement
breaking the VEX rules rejected alone, the same advisory again changes nothing, a newer revision updates
the records of the older one (and the records the older one made that the newer one no longer makes are
counted as not restated), product entries that match nothing are counted with examples. No I/O besides
the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mamori.errors import InputError
from mamori.model.vex import VexDocument, VexProduct, VexStatement
from mamori.scan.result import ComponentRef
from mamori.store import Store
from mamori.triage import ssvc
from mamori.triage.records import VEX, WHOLE_RELEASE, TriageRecord, set_records, validated
from mamori.triage.state import statement_detail
from mamori.triage.vexmatch import component_match, version_in
from mamori.vex.fields import iso

EXAMPLES = 5
RULES = ("purl", "cpe", "hash", "name_version", "range", "name", "relationship")
PART_OF = ("default_component_of", "optional_component_of", "external_component_of")
MAX_DETAIL = 4000


@dataclass(slots=True)
class Release:
    """One release of the inventory with the components of its current SBOM."""

    product: str
    supplier: str | None
    version: str
    components: list[ComponentRef] = field(default_factory=list)
    cpes: dict[str, list[str]] = field(default_factory=dict)  # purl -> every CPE the SBOM gives
    hashes: dict[str, set[str]] = field(default_factory=dict)  # purl -> {"sha-256:abc…"}
    root_purl: str | None = None
    root_cpes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Target:
    product: str
    release: str
    component: str  # a purl, or * for the whole release
    rule: str


@dataclass(slots=True)
class AdvisoryApply:
    """What applying one advisory did."""

    file: str
    advisory: str
    version: str
    category: str | None
    publisher: str
    namespace: str | None
    url: str | None
    source: str
    vulnerabilities: int = 0
    statements: int = 0
    products: int = 0  # product entries named by a status
    matched: dict[str, dict[str, int]] = field(default_factory=dict)  # rule -> {releases, components}
    statuses: dict[str, int] = field(default_factory=dict)  # records per status
    records: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    older: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    unmatched: int = 0
    unmatched_examples: list[str] = field(default_factory=list)
    out_of_range: int = 0
    out_of_range_examples: list[str] = field(default_factory=list)
    unparsed: int = 0
    unparsed_examples: list[str] = field(default_factory=list)
    without_purl: int = 0
    without_purl_examples: list[str] = field(default_factory=list)
    conflicting: int = 0  # subjects two statements give different statuses: the first one is kept
    conflicting_examples: list[str] = field(default_factory=list)
    not_restated: int = 0
    not_restated_examples: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}  # type: ignore[attr-defined]

    def note(self, kind: str, example: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        examples = getattr(self, f"{kind}_examples")
        if len(examples) < EXAMPLES and example not in examples:
            examples.append(example)


# ---------------------------------------------------------------- the inventory


def inventory(store: Store) -> list[Release]:
    """Every release of the portfolio, with the components of its current SBOM (none without one)."""
    from sqlalchemy import select

    from mamori.portfolio import tables as t
    from mamori.portfolio.vexin import components_of, release_sbom

    p, r = t.ProductRow.__table__, t.ReleaseRow.__table__
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(p.c.name, p.c.supplier, r.c.version, r.c.current_sbom_id)
            .join(r, r.c.product_id == p.c.id)
            .order_by(p.c.name, r.c.id)
        ).all()
    out: list[Release] = []
    for row in rows:
        rel = Release(row.name, row.supplier, row.version)
        if row.current_sbom_id is not None:
            doc = release_sbom(store, row.name, row.version)
            rel.components = components_of(doc)
            for c in doc.all_components():
                if not c.purl:
                    continue
                if c.cpes:
                    rel.cpes.setdefault(c.purl, []).extend(c.cpes)
                for h in c.hashes:
                    rel.hashes.setdefault(c.purl, set()).add(_hash_key(h.alg, h.value))
            if doc.root is not None:
                rel.root_purl = doc.root.purl
                rel.root_cpes = list(doc.root.cpes)
        out.append(rel)
    return out


def _hash_key(alg: str, value: str) -> str:
    from mamori.vex.identifiers import hash_label

    return f"{hash_label(alg)}:{value.strip().lower()}"


# ---------------------------------------------------------------- matching


def _cpe_hit(criteria: str, target: str) -> bool:
    """The advisory's CPE names the target: every attribute, the version too (``*`` matches any)."""
    from mamori.match.cpe import attribute_matches, cpe_name, name_matches

    a, b = cpe_name(criteria), cpe_name(target)
    if a is None or b is None:
        return False
    return name_matches(a, b) and attribute_matches(a.version, b.version)


def _same_version(wanted: str, have: str) -> bool:
    a, b = ssvc.norm(wanted), ssvc.norm(have)
    return a == b or a.removeprefix("v") == b.removeprefix("v")


class _Matcher:
    def __init__(self, releases: list[Release], supplier: str | None, out: AdvisoryApply) -> None:
        self.releases = releases
        self.supplier = ssvc.norm(supplier) if supplier else None
        self.out = out
        self.undecided = False  # a vers: range the last product named could not be evaluated on a release

    def components(self, p: VexProduct, rel: Release, vid: str) -> list[tuple[str, str]]:
        """(purl, rule) of the release's components the product's helper names."""
        found: list[tuple[str, str]] = []
        rng = p.version_range or ""
        every = rng.partition("/")[2].strip() == "*"
        candidate = p if rng.startswith("vers:") and not every else replace(p, version_range=None)
        free_text = bool(rng) and not rng.startswith("vers:")  # never widened to every version
        for c in rel.components:
            rule = None
            if p.purl and not free_text and component_match(replace(candidate, cpe=None, ref=None), c):
                rule = "purl"
            elif p.cpe and c.purl and any(_cpe_hit(p.cpe, x) for x in rel.cpes.get(c.purl, [])):
                rule = "cpe"
            elif p.hashes and c.purl and rel.hashes.get(c.purl, set()) & _hashes(p):
                rule = "hash"
            if rule is None:
                continue
            if c.purl:
                found.append((c.purl, rule))
            else:
                self.out.note("without_purl", f"{vid}: {c.label}")
        return found

    def same_product(self, p: VexProduct, rel: Release) -> bool:
        """The product names this product of the inventory: its name, and its vendor (or ``--supplier``)
        the product's supplier."""
        if not p.name or ssvc.norm(p.name) != ssvc.norm(rel.product):
            return False
        vendor = ssvc.norm(p.vendor) if p.vendor else None
        mine = ssvc.norm(rel.supplier) if rel.supplier else None
        if vendor is not None and mine != vendor and (self.supplier is None or mine != self.supplier):
            return False
        return vendor is not None or self.supplier is None or mine == self.supplier

    def whole(self, p: VexProduct, rel: Release) -> str | None:
        """The rule by which the product names the release as a whole, else None."""
        if (
            p.purl
            and rel.root_purl
            and component_match(
                replace(p, cpe=None, ref=None), ComponentRef(rel.product, rel.version, rel.root_purl)
            )
        ):
            return "purl"
        if p.cpe and any(_cpe_hit(p.cpe, x) for x in rel.root_cpes):
            return "cpe"
        if not self.same_product(p, rel):
            return None
        if p.version:
            return "name_version" if _same_version(p.version, rel.version) else None
        if p.version_range:
            inside = in_range(p.version_range, rel.version)
            if inside is None:
                self.undecided = True
            return "range" if inside else None
        return "name"

    def named(self, p: VexProduct, vid: str, count: bool = True) -> list[Target]:
        """The releases and components a product without subcomponents names."""
        targets: list[Target] = []
        name_hit = False
        self.undecided = False
        for rel in self.releases:
            rule = self.whole(p, rel)
            if rule is not None:
                targets.append(Target(rel.product, rel.version, WHOLE_RELEASE, rule))
                continue
            if self.same_product(p, rel):
                name_hit = True
            if p.purl or p.cpe or p.hashes:
                targets.extend(
                    Target(rel.product, rel.version, purl, rule)
                    for purl, rule in self.components(p, rel, vid)
                )
        if not targets and count:
            rng = p.version_range
            if rng and (not rng.startswith("vers:") or self.undecided):
                self.out.note("unparsed", f"{vid}: {p.label}")
            elif name_hit and (rng or p.version):
                self.out.note("out_of_range", f"{vid}: {p.label}")
            else:
                self.out.note("unmatched", f"{vid}: {p.label}")
        return targets

    def resolve(self, p: VexProduct, category: str | None, vid: str) -> list[Target]:
        if not p.subcomponents:
            return self.named(p, vid)
        part = p.subcomponents[-1]
        whole = replace(p, subcomponents=p.subcomponents[:-1])
        if category in ("installed_on", "installed_with"):
            return self.named(part, vid)
        targets: list[Target] = []
        for t in self.named(whole, vid):
            rel = next(r for r in self.releases if (r.product, r.version) == (t.product, t.release))
            inside = [purl for purl, _rule in self.components(part, rel, vid)]
            if not inside and not (part.purl or part.cpe or part.hashes) and part.name:
                inside = [
                    c.purl
                    for c in rel.components
                    if c.purl
                    and ssvc.norm(c.name) == ssvc.norm(part.name or "")
                    and (part.version is None or c.version == part.version)
                ]
            if inside:
                targets.extend(Target(t.product, t.release, purl, "relationship") for purl in inside)
            else:  # what the part is in the release cannot be told: not the release as a whole
                self.out.note("unmatched", f"{vid}: {p.label}: {part.label} ({t.product} {t.release})")
        return targets


def in_range(range_text: str, version: str) -> bool | None:
    """Whether ``version`` is inside a ``vers:`` range (``vers:<scheme>/*`` holds every version); None
    when that cannot be decided."""
    if range_text.partition("/")[2].strip() == "*":
        return True
    return version_in(range_text, version)


def _hashes(p: VexProduct) -> set[str]:
    return {_hash_key(alg, value) for alg, value in p.hashes.items()}


# ---------------------------------------------------------------- the raw document


@dataclass(slots=True)
class _Raw:
    """What the VEX model does not keep: relationship categories, remediation URLs, the advisory's URL."""

    category: str | None = None
    url: str | None = None
    version: str = "1"
    namespace: str | None = None
    relationships: dict[str, str] = field(default_factory=dict)  # product id -> category
    remediations: dict[str, list[tuple[list[str], str]]] = field(
        default_factory=dict
    )  # vid -> [(pids, text)]


def _raw(obj: Any) -> _Raw:
    out = _Raw()
    if not isinstance(obj, dict):
        return out
    document = obj.get("document") if isinstance(obj.get("document"), dict) else {}
    out.category = document.get("category") if isinstance(document.get("category"), str) else None
    tracking = document.get("tracking") if isinstance(document.get("tracking"), dict) else {}
    if isinstance(tracking.get("version"), str):
        out.version = tracking["version"]
    publisher = document.get("publisher") if isinstance(document.get("publisher"), dict) else {}
    if isinstance(publisher.get("namespace"), str):
        out.namespace = publisher["namespace"]
    for ref in document.get("references") or []:
        if isinstance(ref, dict) and ref.get("category") == "self" and isinstance(ref.get("url"), str):
            out.url = ref["url"]
            break
    tree = obj.get("product_tree") if isinstance(obj.get("product_tree"), dict) else {}
    groups = {
        g.get("group_id"): [x for x in g.get("product_ids") or [] if isinstance(x, str)]
        for g in tree.get("product_groups") or []
        if isinstance(g, dict)
    }
    for rel in tree.get("relationships") or []:
        fpn = rel.get("full_product_name") if isinstance(rel, dict) else None
        if isinstance(fpn, dict) and isinstance(fpn.get("product_id"), str):
            out.relationships[fpn["product_id"]] = str(rel.get("category") or "")
    for vuln in obj.get("vulnerabilities") or []:
        if not isinstance(vuln, dict):
            continue
        ids = [vuln.get("cve")] + [i.get("text") for i in vuln.get("ids") or [] if isinstance(i, dict)]
        vid = next((i for i in ids if isinstance(i, str) and i), None)
        if vid is None:
            continue
        for rem in vuln.get("remediations") or []:
            if not isinstance(rem, dict):
                continue
            pids = [x for x in rem.get("product_ids") or [] if isinstance(x, str)]
            for gid in rem.get("group_ids") or []:
                pids.extend(groups.get(gid, []))
            text = f"{rem.get('category') or '?'}: {' '.join(str(rem.get('details') or '').split())}"
            if isinstance(rem.get("url"), str):
                text += f" <{rem['url']}>"
            out.remediations.setdefault(vid, []).append((pids, text))
    return out


def _detail(st: VexStatement, p: VexProduct, raw: _Raw) -> str | None:
    base = statement_detail(st)
    if st.status not in ("affected", "fixed"):
        return base
    lines = [text for pids, text in raw.remediations.get(st.vulnerability.id, []) if p.csaf_id in pids]
    if not lines:
        return base
    if st.status == "fixed":
        lines = [base, *lines] if base else lines
    return "\n".join(lines)[:MAX_DETAIL]


# ---------------------------------------------------------------- applying


def who_of(doc: VexDocument, namespace: str | None) -> str:
    """The supplier as records name it: the publisher's name and namespace."""
    name = doc.author or "?"
    return f"{name} ({namespace})" if namespace else name


def source_of(doc: VexDocument, raw: _Raw) -> str:
    """The advisory as records name it: ``CSAF <id> version <n>`` and its URL."""
    text = f"CSAF {doc.id} version {raw.version}"
    return f"{text} <{raw.url}>" if raw.url else text


def apply_advisory(
    store: Store,
    document: dict[str, Any],
    supplier: str | None = None,
    path: str | Path = "-",
    releases: list[Release] | None = None,
) -> AdvisoryApply:
    """Apply a CSAF 2.0 document (the parsed JSON) to the whole inventory; see the module's text.

    ``releases`` (from :func:`inventory`) spares reading the SBOMs again for several advisories."""
    from mamori.vex import csaf
    from mamori.vex.validate import enforce

    name = Path(path).name
    doc = csaf.read(document, Path(name))
    enforce(doc, Path(name), False)  # a statement breaking the VEX rules is rejected alone, below
    raw = _raw(document)
    who = who_of(doc, raw.namespace)[:200]
    at = doc.last_updated or doc.timestamp
    when = iso(at) if at is not None else iso(datetime.now(UTC).replace(microsecond=0))
    out = AdvisoryApply(
        name,
        doc.id or name,
        raw.version,
        raw.category,
        doc.author or "?",
        raw.namespace,
        raw.url,
        source_of(doc, raw),
    )
    out.warnings = list(doc.warnings)
    out.vulnerabilities = len({st.vulnerability.id for st in doc.statements})
    out.statements = len(doc.statements)
    matcher = _Matcher(releases if releases is not None else inventory(store), supplier, out)
    wanted: list[TriageRecord] = []
    hits: dict[str, set[tuple[str, str, str]]] = {}
    for i, st in enumerate(doc.statements):
        vid = st.vulnerability.id
        try:
            made: list[TriageRecord] = []
            for p in st.products:
                out.products += 1
                for t in matcher.resolve(p, raw.relationships.get(p.csaf_id or ""), vid):
                    hits.setdefault(t.rule, set()).add((t.product, t.release, t.component))
                    made.append(
                        validated(
                            t.product,
                            t.release,
                            t.component,
                            vid,
                            st.status,
                            st.justification if st.status == "not_affected" else None,
                            st.responses,
                            _detail(st, p, raw),
                            who=who,
                            at=when,
                            origin=VEX,
                            source=out.source,
                        )
                    )
        except InputError as exc:
            out.rejected.append({"statement": i, "vulnerability": vid, "problem": exc.problem})
            continue
        wanted.extend(made)
    for rule in RULES:
        if rule in hits:
            found = hits[rule]
            out.matched[rule] = {
                "releases": len({(a, b) for a, b, _c in found}),
                "components": len({x for x in found if x[2] != WHOLE_RELEASE}),
            }
    latest: dict[tuple[str, ...], TriageRecord] = {}
    for r in wanted:
        first = latest.setdefault(r.key, r)  # one record per subject: the first statement of the document
        if first is not r and first.values() != r.values():
            out.note(
                "conflicting",
                f"{r.vulnerability}: {r.product} {r.release} {r.component_purl}: "
                f"{first.status}, not {r.status}",
            )
    out.records = len(latest)
    for r in latest.values():
        out.statuses[r.status] = out.statuses.get(r.status, 0) + 1
    _not_restated(store, out, who, doc.id or name, set(latest))
    for _record, change in set_records(store, list(latest.values())):
        setattr(out, change, getattr(out, change) + 1)
    return out


def _not_restated(store: Store, out: AdvisoryApply, who: str, advisory: str, kept: set[Any]) -> None:
    """Records an earlier revision of this advisory made that this one no longer makes."""
    from sqlalchemy import select

    from mamori.triage.record_tables import TriageRecordRow

    t = TriageRecordRow.__table__
    prefix = f"CSAF {advisory} version "
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(t.c.product, t.c.release, t.c.component_purl, t.c.vuln_id, t.c.source).where(
                t.c.origin == VEX, t.c.who == who
            )
        ).all()
    for row in rows:
        if not (row.source or "").startswith(prefix) or row.source == out.source:
            continue
        if (row.product, row.release, row.component_purl, row.vuln_id, VEX) not in kept:
            out.note("not_restated", f"{row.vuln_id}: {row.product} {row.release} {row.component_purl}")

"""``mamori sbom check``: NTIA minimum elements (or SPDX Lite fields), counted per document and per component.

What counts as present, which elements are required, and their weights in the 0-100 quality score are data:
``data/sbom/profiles.yaml``. The words people read are in ``data/sbom/messages.yaml`` (ja + en).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from mamori.errors import InputError
from mamori.i18n import _
from mamori.model import Component, Document
from mamori.model.sbom import SUPPLIER_MISSING
from mamori.sbom.data import load_data
from mamori.sbom.messages import bilingual

NTIA = "ntia"


# ---------------------------------------------------------------- profiles (data)


@dataclass(frozen=True, slots=True)
class ElementSpec:
    id: str
    level: str  # "required" | "recommended" | "quality" (score only)
    scope: str  # "document" | "component"
    weight: float
    test: str
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def required(self) -> bool:
        return self.level == "required"


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    source: str
    elements: tuple[ElementSpec, ...]
    score_extras: tuple[ElementSpec, ...]
    notes: tuple[str, ...]


@cache
def _profile_data() -> dict[str, Any]:
    return load_data("profiles.yaml")


def _specs(rows: Iterable[Mapping[str, Any]]) -> tuple[ElementSpec, ...]:
    return tuple(
        ElementSpec(
            id=row["id"],
            level=row["level"],
            scope=row["scope"],
            weight=float(row["weight"]),
            test=row["test"],
            options=row.get("options") or {},
        )
        for row in rows
    )


def profile_names() -> list[str]:
    return list(_profile_data()["profiles"])


@cache
def load_profile(name: str) -> Profile:
    profiles = _profile_data()["profiles"]
    if name not in profiles:
        raise InputError(
            None,
            _("unknown check profile {name!r}; known: {profiles}").format(
                name=name, profiles=", ".join(profiles)
            ),
        )
    raw = profiles[name]
    return Profile(
        name=name,
        source=" ".join(str(raw.get("source", "")).split()),
        elements=_specs(raw["elements"]),
        score_extras=_specs(raw.get("score_extras") or []),
        notes=tuple(raw.get("notes") or ()),
    )


@cache
def composition_types() -> tuple[frozenset[str], frozenset[str]]:
    """(forward, reverse) relationship types that mean inclusion or dependency (profiles.yaml)."""
    types = _profile_data()["relationship_types"]
    return frozenset(types["composition_forward"]), frozenset(types["composition_reverse"])


@cache
def _absent_values() -> frozenset[str]:
    return frozenset(str(v).upper() for v in _profile_data()["absent_values"])


def given(value: object) -> bool:
    """True when ``value`` asserts something: not None, not blank, not NOASSERTION."""
    return value is not None and str(value).strip().upper() not in _absent_values()


# ---------------------------------------------------------------- components and the dependency graph


def components_with_root(doc: Document) -> list[Component]:
    """The root (with anything nested in it) first, then every component; each object once."""
    seen: set[int] = set()
    out: list[Component] = []
    roots: Iterator[Component] = doc.root.walk() if doc.root is not None else iter(())
    for comp in (*roots, *doc.all_components()):
        if id(comp) not in seen:
            seen.add(id(comp))
            out.append(comp)
    return out


def checked_components(doc: Document) -> list[Component]:
    """The components elements are counted over: all but package contents (SPDX files), root first."""
    family = doc.spec.split("-")[0]
    contents = set(_profile_data()["package_contents"].get(family) or ())
    return [c for c in components_with_root(doc) if c.type not in contents]


def component_label(comp: Component) -> str:
    """How a person recognises the component: its purl, else group/name@version, else its ref."""
    if comp.purl:
        return comp.purl
    name = f"{comp.group}/{comp.name}" if comp.group else comp.name
    if name:
        return f"{name}@{comp.version}" if comp.version else name
    return comp.bom_ref or "?"


class DependencyGraph:
    """Composition edges (dependency, containment, nesting) normalised to ``includer -> included``."""

    def __init__(self, doc: Document, components: list[Component]) -> None:
        """``components``: the ones to judge; edges and nesting of every element of ``doc`` count."""
        forward, reverse = composition_types()
        everything = components_with_root(doc)
        self._keys = {id(c): (c.bom_ref or f"#{id(c)}") for c in everything}
        elements = set(self._keys.values())
        known = {self._keys[id(c)] for c in components}
        self.edges: dict[str, set[str]] = {}
        self.roots: set[str] = set()
        if doc.root is not None:
            self.roots.add(self._keys[id(doc.root)])
        for rel in doc.relationships:
            kind = rel.type.upper()
            if kind == "DESCRIBES" and rel.source not in elements:  # SPDXRef-DOCUMENT DESCRIBES a root
                self.roots.add(rel.target)
            elif kind == "DESCRIBED_BY" and rel.target not in elements:
                self.roots.add(rel.source)
            elif kind in forward:
                self._add(rel.source, rel.target)
            elif kind in reverse:
                self._add(rel.target, rel.source)
        for comp in everything:
            for child in comp.components:
                self._add(self._keys[id(comp)], self._keys[id(child)])
        self.roots &= known
        self.only_roots = known <= self.roots
        # "no dependencies" stated (CycloneDX empty dependsOn, SPDX DEPENDS_ON NONE) is a relationship too:
        # NTIA asks to tell a component without dependencies from one whose dependencies are unknown
        self.declared_none = doc.no_dependencies & known
        # included by something: an edge leads to it (also from an element of another SPDX document)
        self.targets = {t for targets in self.edges.values() for t in targets}
        self.reachable = self._reach(self.roots)

    def _add(self, source: str, target: str) -> None:
        if source != target:
            self.edges.setdefault(source, set()).add(target)

    def _reach(self, start: set[str]) -> set[str]:
        seen = set(start)
        stack = list(start)
        while stack:
            for nxt in self.edges.get(stack.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return seen

    def key(self, comp: Component) -> str:
        return self._keys[id(comp)]

    def is_root(self, comp: Component) -> bool:
        return self.key(comp) in self.roots

    def linked(self, comp: Component) -> bool:
        """Root: has edges, states it has none, or is alone. Others: reachable, included by something,
        declaring edges, or stating that they have no dependencies."""
        key = self.key(comp)
        if key in self.declared_none:
            return True
        if key in self.roots:
            return bool(self.edges.get(key)) or self.only_roots
        return key in self.reachable or key in self.targets or bool(self.edges.get(key))


class _Context:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.components = checked_components(doc)
        self._graph: DependencyGraph | None = None

    @property
    def graph(self) -> DependencyGraph:
        if self._graph is None:
            self._graph = DependencyGraph(self.doc, self.components)
        return self._graph


# ---------------------------------------------------------------- tests: presence of one element

ComponentTest = Callable[[Component, _Context, Mapping[str, Any]], bool]
DocumentTest = Callable[[Document, Mapping[str, Any]], bool]


def _supplier(comp: Component, ctx: _Context, options: Mapping[str, Any]) -> bool:
    accept = options.get("accept", ["supplier"])
    if "supplier" in accept and comp.supplier is not None and given(comp.supplier.name):
        return True
    return "publisher" in accept and given(comp.publisher)


def _identifier(comp: Component, ctx: _Context, options: Mapping[str, Any]) -> bool:
    accept = options.get("accept", ["purl", "cpe", "swid", "document_ref"])
    return (
        ("purl" in accept and given(comp.purl))
        or ("cpe" in accept and any(given(c) for c in comp.cpes))
        or ("swid" in accept and given(comp.swid))
        or ("document_ref" in accept and given(comp.bom_ref) and given(ctx.doc.serial_number))
    )


def _hash(comp: Component, ctx: _Context, options: Mapping[str, Any]) -> bool:
    return any(given(h.value) for h in comp.hashes)


def _none_stated(comp: Component, options: Mapping[str, Any]) -> bool:
    """SPDX ``NONE`` ("there is none") is a statement, kept by the readers as a ``spdx:<key> = NONE`` property."""
    return any(comp.property(name) == "NONE" for name in options.get("none_properties", ()))


def _license(comp: Component, ctx: _Context, options: Mapping[str, Any]) -> bool:
    return given(comp.license_declared) or given(comp.license_concluded) or _none_stated(comp, options)


def _home_page(comp: Component, ctx: _Context, options: Mapping[str, Any]) -> bool:
    return any(ref.type == "website" and given(ref.url) for ref in comp.external_references)


def _field(name: str) -> ComponentTest:
    def test(comp: Component, ctx: _Context, options: Mapping[str, Any]) -> bool:
        return given(getattr(comp, name)) or _none_stated(comp, options)

    return test


COMPONENT_TESTS: dict[str, ComponentTest] = {
    "supplier": _supplier,
    "name": _field("name"),
    "version": _field("version"),
    "identifier": _identifier,
    "dependency": lambda comp, ctx, options: ctx.graph.linked(comp),
    "hash": _hash,
    "license": _license,
    "bom_ref": _field("bom_ref"),
    "download_location": _field("download_location"),
    "license_concluded": _field("license_concluded"),
    "license_declared": _field("license_declared"),
    "copyright": _field("copyright"),
    "home_page": _home_page,
}


def _author(doc: Document, options: Mapping[str, Any]) -> bool:
    accept = options.get("accept", ["authors", "tools"])
    return ("authors" in accept and any(given(a.name) for a in doc.authors)) or (
        "tools" in accept and any(given(t.name) for t in doc.tools)
    )


def _other_relationships(doc: Document, options: Mapping[str, Any]) -> bool:
    forward, reverse = composition_types()
    return any(rel.type.upper() not in forward | reverse for rel in doc.relationships)


DOCUMENT_TESTS: dict[str, DocumentTest] = {
    "author": _author,
    "timestamp": lambda doc, options: doc.timestamp is not None,
    "lifecycle": lambda doc, options: any(given(p) for p in doc.lifecycles),
    "other_relationships": _other_relationships,
    "spdx_version": lambda doc, options: doc.spec.startswith("spdx") and given(doc.spec_version),
    "data_license": lambda doc, options: given(doc.data_license),
    "document_name": lambda doc, options: given(doc.name),
    "document_namespace": lambda doc, options: given(doc.serial_number),
}


# ---------------------------------------------------------------- results


@dataclass(slots=True)
class Problem:
    """One missing element: of a component (``component`` set) or of the document (``component`` None)."""

    element: str
    level: str
    component: str | None
    ref: str | None
    message: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return {
            "element": self.element,
            "level": self.level,
            "component": self.component,
            "ref": self.ref,
            "message": self.message,
        }


@dataclass(slots=True)
class ElementResult:
    id: str
    level: str
    weight: float
    present: int
    total: int
    passed: bool

    @property
    def ratio(self) -> float:
        if self.total:
            return self.present / self.total
        return 1.0 if self.passed else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "required": self.level == "required",
            "present": self.present,
            "total": self.total,
            "pass": self.passed,
        }


@dataclass(slots=True)
class ScoreReason:
    element: str
    lost: float
    present: int
    total: int

    def to_json(self) -> dict[str, Any]:
        return {
            "element": self.element,
            "lost": self.lost,
            "present": self.present,
            "total": self.total,
            "label": bilingual("elements", self.element, "label"),
        }


@dataclass(slots=True)
class ProfileResult:
    profile: str
    passed: bool
    elements: list[ElementResult]
    problems: list[Problem]
    score: int
    score_reasons: list[ScoreReason]

    def element(self, element_id: str) -> ElementResult:
        for result in self.elements:
            if result.id == element_id:
                return result
        raise KeyError(element_id)

    def verdict_json(self) -> dict[str, Any]:
        return {"pass": self.passed, "elements": {r.id: r.to_json() for r in self.elements}}


@dataclass(slots=True)
class CheckReport:
    file: str
    format: str
    spec_version: str | None
    components: int
    profile: str
    ntia: ProfileResult
    result: ProfileResult  # the selected profile (the same object as ``ntia`` for --profile ntia)
    notes: list[str]

    @property
    def passed(self) -> bool:
        return self.result.passed

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file,
            "format": self.format,
            "spec_version": self.spec_version,
            "profile": self.profile,
            "components": self.components,
            "ntia": self.ntia.verdict_json(),
        }
        if self.profile != NTIA:
            out[self.profile.replace("-", "_")] = self.result.verdict_json()
        out["score"] = self.result.score
        out["score_reasons"] = [r.to_json() for r in self.result.score_reasons]
        out["problems"] = [p.to_json() for p in self.result.problems]
        out["notes"] = [{"id": n, "message": bilingual("notes", n)} for n in self.notes]
        return out


# ---------------------------------------------------------------- evaluation


def supplier_reason(reason: str, lang: str) -> str:
    """A ``mamori:supplier:missing`` reason in ``lang`` (the generator's reasons are translated in
    data/sbom/messages.yaml; any other text is shown as written)."""
    table = _supplier_reasons()
    return table.get(reason, {}).get(lang) or reason


@cache
def _supplier_reasons() -> dict[str, dict[str, str]]:
    return {row["en"]: row for row in load_data("supplier_reasons.yaml")["reasons"]}


def _component_element(spec: ElementSpec, ctx: _Context) -> tuple[ElementResult, list[Problem]]:
    test = COMPONENT_TESTS[spec.test]
    problems: list[Problem] = []
    present = 0
    for comp in ctx.components:
        if test(comp, ctx, spec.options):
            present += 1
            continue
        message = bilingual("elements", spec.id, "missing")
        reason = comp.property(SUPPLIER_MISSING) if spec.test == "supplier" else None
        if reason:  # why the generator could not name one: shown beside the component
            message = {lang: f"{text} ({supplier_reason(reason, lang)})" for lang, text in message.items()}
        if spec.test == "dependency" and ctx.graph.is_root(comp):
            message = bilingual("dependency", "root_without_edges")
        problems.append(Problem(spec.id, spec.level, component_label(comp), comp.bom_ref, message))
    total = len(ctx.components)
    passed = present == total
    if not ctx.components:  # an SBOM that lists nothing has no element of any component
        passed = False
        problems.append(Problem(spec.id, spec.level, None, None, bilingual("no_components")))
    if spec.test == "dependency" and not ctx.graph.roots and ctx.components:
        passed = False
        problems.insert(0, Problem(spec.id, spec.level, None, None, bilingual("dependency", "no_root")))
    return ElementResult(spec.id, spec.level, spec.weight, present, total, passed), problems


def _document_element(spec: ElementSpec, ctx: _Context) -> tuple[ElementResult, list[Problem]]:
    ok = DOCUMENT_TESTS[spec.test](ctx.doc, spec.options)
    problems = (
        [] if ok else [Problem(spec.id, spec.level, None, None, bilingual("elements", spec.id, "missing"))]
    )
    return ElementResult(spec.id, spec.level, spec.weight, int(ok), 1, ok), problems


def _evaluate(spec: ElementSpec, ctx: _Context) -> tuple[ElementResult, list[Problem]]:
    if spec.scope == "document":
        return _document_element(spec, ctx)
    return _component_element(spec, ctx)


def _score(results: list[ElementResult]) -> tuple[int, list[ScoreReason]]:
    total_weight = sum(r.weight for r in results)
    if total_weight <= 0:
        return 100, []
    achieved = sum(r.weight * r.ratio for r in results)
    reasons = [
        ScoreReason(r.id, round(100 * r.weight * (1 - r.ratio) / total_weight, 2), r.present, r.total)
        for r in results
        if r.ratio < 1
    ]
    reasons.sort(key=lambda reason: (-reason.lost, reason.element))
    return math.floor(100 * achieved / total_weight + 1e-9), reasons


def evaluate(doc: Document, profile: Profile) -> ProfileResult:
    """Count each element of ``profile`` over ``doc``; pass when every required element is complete."""
    ctx = _Context(doc)
    elements: list[ElementResult] = []
    problems: list[Problem] = []
    for spec in profile.elements:
        result, found = _evaluate(spec, ctx)
        elements.append(result)
        problems.extend(found)
    extras = [_evaluate(spec, ctx)[0] for spec in profile.score_extras]
    score, reasons = _score(elements + extras)
    passed = all(r.passed for r in elements if r.level == "required")
    return ProfileResult(profile.name, passed, elements, problems, score, reasons)


def check_document(
    doc: Document, profile: str = NTIA, *, file: str = "", fmt: str | None = None
) -> CheckReport:
    """Check ``doc`` against a profile; the NTIA verdict is always computed as well."""
    selected = load_profile(profile)
    ntia = evaluate(doc, load_profile(NTIA))
    result = ntia if profile == NTIA else evaluate(doc, selected)
    return CheckReport(
        file=file,
        format=fmt or doc.spec,
        spec_version=doc.spec_version,
        components=len(checked_components(doc)),
        profile=profile,
        ntia=ntia,
        result=result,
        notes=list(selected.notes),
    )

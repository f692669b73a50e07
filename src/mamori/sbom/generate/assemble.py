"""Many ``Found`` results → one Document with one root.

- **Root**: the project of the top folder (or of the only project found); else a component named
  after ``--name`` / the folder. ``--name``/``--version``/``--supplier`` override what the manifest
  says. Every other project is a sub-project component (type application) that the root depends
  on — a monorepo is one SBOM. A sub-project whose files give it no version (a ``backend/`` folder
  with a requirements.txt, a private workspace package) is part of the same source tree and takes the
  root's version (``mamori:version-source = root``); when the root has none either, the sub-project
  is not listed: its dependencies are the root's, and a notice says so.
- **Components** are merged by bom-ref (the purl) across files and projects: empty fields are filled
  from the other copy, hashes, properties and occurrences (file and line) are united, and each file
  the component was found in becomes one ``mamori:evidence:file`` property (paths relative to PATH).
- **Edges**: project → its direct dependencies; component → component as the lockfiles say.
  When a file cannot tell direct from transitive, the components nothing depends on are direct
  (and any left unreachable in a cycle too), so every component is linked to the root.
- **Scope**: the best (required > optional > dev) of the scope a parser states for the component in
  any file and of every path from a project's direct dependency, a path carrying the scope of its
  start and of every stated scope on the way. Components no path reaches keep their stated scope,
  else required. dev → CycloneDX ``excluded`` + ``mamori:scope=dev``; optional → ``optional`` +
  ``mamori:scope=optional``; ``exclude_dev`` drops dev components and their edges.
- A component declared-only in one file and resolved in another counts as resolved. A project's
  declared-only dependency (a range) for which the project's own lockfiles or the scanned
  environment hold exactly one version of that package is pointed at that version.
- A component with the root's own bom-ref (the product installed editable, or listed in its own
  lock) is merged into the root rather than listed twice.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from mamori.model import Component, Contact, Property, Relationship
from mamori.sbom.generate.base import (
    DECLARED_ONLY,
    DEV,
    EVIDENCE_FILE,
    OPTIONAL,
    PROJECT_PATH,
    REQUIRED,
    SCOPE,
    SCOPE_RANK,
    VERSION_RANGE,
    VERSION_SOURCE,
    Found,
    entry_points,
)

_MODEL_SCOPE = {REQUIRED: "required", OPTIONAL: "optional", DEV: "excluded"}


@dataclass(slots=True)
class ProjectInput:
    """What was read for one project folder: (file label relative to PATH, its result) pairs."""

    label: str  # folder relative to PATH ("." for PATH itself)
    results: list[tuple[str, Found]] = field(default_factory=list)
    named_by: Component | None = None  # the project a superseded manifest names, when no result names one


@dataclass(slots=True)
class RootInfo:
    name: str  # fallback name (the folder) when neither options nor a manifest give one
    override_name: str | None = None
    override_version: str | None = None
    fallback_version: str | None = None  # e.g. from git describe
    supplier: Contact | None = None


@dataclass(slots=True)
class Assembled:
    root: Component
    components: list[Component]
    relationships: list[Relationship]
    notices: list[str] = field(default_factory=list)


def _merge(into: Component, other: Component) -> None:
    """Fill ``into`` from ``other``: empty scalar fields, hashes, references and properties."""
    for name in (
        "version",
        "supplier",
        "author",
        "publisher",
        "description",
        "purl",
        "license_declared",
        "license_concluded",
        "copyright",
        "download_location",
        "group",
    ):
        if getattr(into, name) is None and getattr(other, name) is not None:
            setattr(into, name, getattr(other, name))
    seen_h = {(h.alg, h.value) for h in into.hashes}
    into.hashes += [h for h in other.hashes if (h.alg, h.value) not in seen_h]
    seen_r = {(r.type, r.url) for r in into.external_references}
    into.external_references += [r for r in other.external_references if (r.type, r.url) not in seen_r]
    seen_p = {(p.name, p.value) for p in into.properties}
    into.properties += [p for p in other.properties if (p.name, p.value) not in seen_p]
    if other.occurrences:
        seen_o = {(o.location, o.line) for o in into.occurrences}
        into.occurrences += [o for o in other.occurrences if (o.location, o.line) not in seen_o]
    if into.property(DECLARED_ONLY) is None or other.property(DECLARED_ONLY) is None:  # resolved somewhere
        into.properties = [p for p in into.properties if p.name not in (DECLARED_ONLY, VERSION_RANGE)]


class Assembler:
    def __init__(self) -> None:
        self.components: dict[str, Component] = {}
        self.explicit_scope: dict[str, int] = {}
        self.edges: dict[tuple[str, str], None] = {}  # ordered set
        self.direct: dict[str, dict[str, int]] = {}  # project ref → {dependency ref: scope rank}
        self.members: dict[str, set[str]] = {}  # project ref → refs its files list
        self.scanned: set[str] = set()  # refs found by directory scanners (installed packages)

    def add_component(self, comp: Component, ecosystem: str, evidence: str) -> str:
        if not comp.bom_ref:
            comp.bom_ref = comp.purl or f"{ecosystem}:{comp.name}@{comp.version or ''}"
        if not any(p.name == EVIDENCE_FILE for p in comp.properties):
            comp.properties.append(Property(EVIDENCE_FILE, evidence))
        ref = comp.bom_ref
        if comp.scope in SCOPE_RANK:
            rank = SCOPE_RANK[comp.scope]
            self.explicit_scope[ref] = min(rank, self.explicit_scope.get(ref, rank))
        comp.scope = None
        if ref in self.components:
            if self.components[ref] is not comp:
                _merge(self.components[ref], comp)
        else:
            self.components[ref] = comp
        return ref

    def add_found(self, project_ref: str, found: Found, evidence: str) -> None:
        members = self.members.setdefault(project_ref, set())
        for comp in found.components:
            members.add(self.add_component(comp, found.ecosystem, evidence))
        for rel in found.edges:
            if rel.source != rel.target:
                self.edges[(rel.source, rel.target)] = None
        direct = self.direct.setdefault(project_ref, {})
        if found.direct:
            pairs = [(ref, SCOPE_RANK.get(scope, 0)) for ref, scope in found.direct.items()]
        else:
            pairs = [(ref, self.explicit_scope.get(ref, 0)) for ref in entry_points(found)]
        for ref, rank in pairs:
            direct[ref] = min(rank, direct.get(ref, rank))

    def resolve_declared(self) -> None:
        """Point a project's declared-only dependency at the one version its own lockfiles or the scanned
        environment resolve for that package; the declared-only entry then goes (its evidence stays)."""
        resolved: dict[str, list[str]] = {}
        for ref, comp in self.components.items():
            if comp.property(DECLARED_ONLY) is None and ref.startswith("pkg:") and comp.version:
                resolved.setdefault(_purl_base(ref), []).append(ref)
        moved: dict[str, str] = {}
        for project_ref, deps in self.direct.items():
            visible = self.members.get(project_ref, set()) | self.scanned
            for ref in list(deps):
                comp = self.components.get(ref)
                if comp is None or comp.version is not None or comp.property(DECLARED_ONLY) is None:
                    continue
                candidates = [r for r in resolved.get(_purl_base(ref), []) if r in visible]
                if len(candidates) == 1:
                    rank = deps.pop(ref)
                    deps[candidates[0]] = min(rank, deps.get(candidates[0], rank))
                    moved[ref] = candidates[0]
        still_used = {ref for deps in self.direct.values() for ref in deps}
        for ref, target in moved.items():
            if ref not in still_used:
                declared = self.components.pop(ref)
                self.components[target].properties += [
                    p for p in declared.properties if p.name == EVIDENCE_FILE
                ]
                self.components[target].occurrences += declared.occurrences

    def derive_scopes(self) -> dict[str, int]:
        """Best scope rank of any path from a project's direct dependency; explicit scopes count too."""
        adjacency: dict[str, list[str]] = {}
        for source, target in self.edges:
            adjacency.setdefault(source, []).append(target)
        best: dict[str, int] = {}
        queue: deque[tuple[str, int]] = deque()
        for deps in self.direct.values():
            for ref, rank in deps.items():
                queue.append((ref, rank))
        while queue:
            ref, rank = queue.popleft()
            rank = min(rank, self.explicit_scope.get(ref, rank))  # a stated scope or a better path
            if ref in best and best[ref] <= rank:
                continue
            best[ref] = rank
            for nxt in adjacency.get(ref, ()):
                queue.append((nxt, rank))
        for ref in self.components:
            if ref not in best:
                best[ref] = self.explicit_scope.get(ref, SCOPE_RANK[REQUIRED])
        return best


def _purl_base(ref: str) -> str:
    """``pkg:pypi/requests@2.1?x=y`` → ``pkg:pypi/requests``."""
    head = ref.split("?", 1)[0].split("#", 1)[0]
    return head.rsplit("@", 1)[0] if "@" in head else head


def _project_component(project: ProjectInput) -> Component | None:
    """The project a folder's files describe (the first file that names one)."""
    for _, found in project.results:
        if found.project is not None:
            return found.project
    return project.named_by


def assemble(
    projects: list[ProjectInput], extra: list[tuple[str, Found]], root_info: RootInfo, exclude_dev: bool
) -> Assembled:
    """Build the root, the component list and the edges. ``extra``: scanner results attached to the root."""
    asm = Assembler()
    top = projects[0] if projects and (projects[0].label == "." or len(projects) == 1) else None
    root = _project_component(top) if top is not None else None
    root = root or Component(name=root_info.name)
    root.type = "application"
    root.name = root_info.override_name or root.name
    if root_info.override_version:
        root.version = root_info.override_version
    root.version = root.version or root_info.fallback_version
    if root_info.override_name or root_info.override_version:
        root.purl = None  # the manifest's purl no longer names this product
    root.supplier = root_info.supplier or root.supplier
    root.bom_ref = root.purl or (f"{root.name}@{root.version}" if root.version else root.name)
    root.scope = None

    sub_refs: list[str] = []
    notices: list[str] = []
    for project in projects:
        sub = None if project is top else _project_component(project)
        if sub is None and project is not top:
            sub = Component(name=Path(project.label).name or project.label)
        if sub is not None and not sub.version:
            if root.version:
                sub.version = root.version
                sub.properties.append(Property(VERSION_SOURCE, "root"))
            else:
                notices.append(
                    f"{project.label}: a folder of the project with no version of its own (and the root has "
                    "none): not listed as a sub-project; its dependencies are the root's"
                )
                sub = None
        if sub is None:
            project_ref = root.bom_ref
        else:
            sub.type = "application"
            sub.properties.append(Property(PROJECT_PATH, project.label))
            first_file = project.results[0][0] if project.results else project.label
            sub.bom_ref = sub.purl or f"project:{project.label}"
            if sub.bom_ref in asm.components or sub.bom_ref == root.bom_ref:
                sub.bom_ref = f"project:{project.label}"
            project_ref = asm.add_component(sub, "project", first_file)
            sub_refs.append(project_ref)
        for label, found in project.results:
            asm.add_found(project_ref, found, label)
    for label, found in extra:
        asm.add_found(root.bom_ref, found, label)
        asm.scanned.update(c.bom_ref for c in found.components if c.bom_ref)
    if root.bom_ref in asm.components:  # the product itself is installed (an editable install) or locked
        _merge(root, asm.components.pop(root.bom_ref))
    asm.resolve_declared()

    ranks = asm.derive_scopes()
    for ref in sub_refs:
        ranks[ref] = SCOPE_RANK[REQUIRED]
    dropped: set[str] = set()
    for ref, comp in asm.components.items():
        word = next(w for w, r in SCOPE_RANK.items() if r == ranks[ref])
        if exclude_dev and word == DEV:
            dropped.add(ref)
            continue
        comp.scope = _MODEL_SCOPE[word]
        if word != REQUIRED:
            comp.properties.append(Property(SCOPE, word))

    edges: dict[tuple[str, str], None] = {}
    for ref in sub_refs:
        edges[(root.bom_ref, ref)] = None
    for project_ref, deps in asm.direct.items():
        for ref in deps:
            edges[(project_ref, ref)] = None
    edges.update(asm.edges)
    known = set(asm.components) | {root.bom_ref}
    relationships = [
        Relationship(source, target)
        for source, target in edges
        if source != target and source in known and target in known and not ({source, target} & dropped)
    ]
    components = [c for ref, c in asm.components.items() if ref not in dropped]
    return Assembled(root=root, components=components, relationships=relationships, notices=notices)

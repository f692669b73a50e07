"""One typed SBOM model shared by every reader and writer.

CycloneDX and SPDX both map onto it without loss for the fields below; fields
that only one format has are kept in ``properties`` with a ``mamori:`` or
format-specific name so that a round trip through the same format keeps them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

# A component that stands for one of the user's own projects inside a scanned folder (its folder relative to
# the scanned path): written by ``sbom generate``; a scan does not look the user's own projects up.
PROJECT_PATH = "mamori:project-path"
# Why a component names no supplier (``sbom generate`` records it; ``sbom check`` shows it).
SUPPLIER_MISSING = "mamori:supplier:missing"


@dataclass(slots=True)
class Hash:
    """A checksum. ``alg`` uses CycloneDX spelling: SHA-1, SHA-256, MD5, BLAKE2b-256 ..."""

    alg: str
    value: str


@dataclass(slots=True)
class Contact:
    """A person, organisation or tool that authored or supplied something."""

    name: str
    email: str | None = None
    url: str | None = None
    kind: str = "organization"  # "organization" | "person" | "tool"


@dataclass(slots=True)
class Tool:
    """A tool that made the SBOM."""

    name: str
    vendor: str | None = None
    version: str | None = None


@dataclass(slots=True)
class ExternalReference:
    """A typed link. ``type`` uses CycloneDX names (website, vcs, distribution, advisories ...)."""

    type: str
    url: str
    comment: str | None = None


@dataclass(slots=True)
class Property:
    """A name/value property of a component or document."""

    name: str
    value: str


@dataclass(slots=True)
class Occurrence:
    """Where a component is declared: a file and, when the file gives one, its 1-based line.

    Generated SBOMs record the lockfile or manifest (relative to the scanned folder) and the line of
    the entry; CycloneDX 1.5+ carries it as ``evidence.occurrences[]`` (``line`` from 1.6).
    """

    location: str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class ReadWarning:
    """A flaw in one field of an SBOM that a lenient read kept going past.

    ``component`` names the component (its bom-ref, else name@version) or is None for the document;
    ``field`` is where the value sits (a JSON path such as ``components[3].licenses``); ``code`` says
    what is wrong (see :mod:`mamori.sbom.problems`) and ``value`` is the offending value as text.
    """

    file: str
    component: str | None
    field: str
    code: str
    value: str | None = None
    detail: str | None = None


@dataclass(slots=True)
class Relationship:
    """A directed edge between two bom-refs.

    ``type`` uses SPDX relationship names; CycloneDX ``dependencies`` are DEPENDS_ON.
    """

    source: str
    target: str
    type: str = "DEPENDS_ON"
    comment: str | None = None


@dataclass(slots=True)
class Component:
    """One component of an SBOM (a package, library, application …), with its nested components."""

    name: str
    version: str | None = None
    type: str = "library"
    bom_ref: str | None = None
    group: str | None = None
    supplier: Contact | None = None
    author: str | None = None
    publisher: str | None = None
    description: str | None = None
    purl: str | None = None
    cpes: list[str] = field(default_factory=list)
    swid: str | None = None
    hashes: list[Hash] = field(default_factory=list)
    license_declared: str | None = None
    license_concluded: str | None = None
    copyright: str | None = None
    download_location: str | None = None
    external_references: list[ExternalReference] = field(default_factory=list)
    properties: list[Property] = field(default_factory=list)
    scope: str | None = None  # "required" | "optional" | "excluded"
    components: list[Component] = field(default_factory=list)
    occurrences: list[Occurrence] = field(default_factory=list)  # where it is declared (evidence)

    @property
    def licenses(self) -> str | None:
        """The licence expression that best describes the component (declared, else concluded)."""
        return self.license_declared or self.license_concluded

    @property
    def key(self) -> str:
        """A stable identity for diff/merge: the purl without qualifiers order noise, else group/name."""
        if self.purl:
            return self.purl
        return f"{self.group}/{self.name}" if self.group else self.name

    def walk(self) -> Iterator[Component]:
        """This component and every nested one, depth first."""
        yield self
        for child in self.components:
            yield from child.walk()

    def property(self, name: str) -> str | None:
        for prop in self.properties:
            if prop.name == name:
                return prop.value
        return None


@dataclass(slots=True)
class Service:
    """One service of an SBOM (CycloneDX services)."""

    name: str
    bom_ref: str | None = None
    group: str | None = None
    version: str | None = None
    provider: Contact | None = None
    description: str | None = None
    endpoints: list[str] = field(default_factory=list)
    authenticated: bool | None = None
    x_trust_boundary: bool | None = None
    data: list[dict[str, object]] = field(default_factory=list)
    license_declared: str | None = None
    external_references: list[ExternalReference] = field(default_factory=list)
    properties: list[Property] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)


@dataclass(slots=True)
class Document:
    """An SBOM document, whatever format it came from."""

    spec: str = "cyclonedx"  # "cyclonedx" | "spdx" | "spdx-lite" | "spreadsheet"
    spec_version: str | None = None
    serial_number: str | None = None  # CycloneDX serialNumber / SPDX documentNamespace
    version: int = 1
    name: str | None = None
    data_license: str | None = None
    authors: list[Contact] = field(default_factory=list)
    tools: list[Tool] = field(default_factory=list)
    timestamp: datetime | None = None
    supplier: Contact | None = None
    lifecycles: list[str] = field(default_factory=list)
    root: Component | None = None
    components: list[Component] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    relationships: list[Relationship] = field(default_factory=list)
    properties: list[Property] = field(default_factory=list)
    comment: str | None = None
    # bom-refs stated to have no dependencies at all (CycloneDX: an empty ``dependsOn``; SPDX:
    # ``DEPENDS_ON NONE``), as opposed to refs about which nothing is said (dependencies unknown)
    no_dependencies: set[str] = field(default_factory=set)
    # what a lenient read found wrong and went past (never written out: it describes the reading)
    warnings: list[ReadWarning] = field(default_factory=list, compare=False)

    def all_components(self) -> Iterator[Component]:
        """Every component including nested ones, the root excluded."""
        for comp in self.components:
            yield from comp.walk()

    def by_ref(self) -> dict[str, Component]:
        refs: dict[str, Component] = {}
        if self.root is not None:
            for comp in self.root.walk():
                if comp.bom_ref:
                    refs[comp.bom_ref] = comp
        for comp in self.all_components():
            if comp.bom_ref:
                refs[comp.bom_ref] = comp
        return refs

    def dependencies(self) -> dict[str, list[str]]:
        """DEPENDS_ON edges as an adjacency map."""
        deps: dict[str, list[str]] = {}
        for rel in self.relationships:
            if rel.type == "DEPENDS_ON":
                deps.setdefault(rel.source, []).append(rel.target)
        return deps

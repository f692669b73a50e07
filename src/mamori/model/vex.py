"""One typed VEX model shared by the CycloneDX, OpenVEX and CSAF readers and writers.

A :class:`VexDocument` carries the CISA minimum elements (document id, author, author role,
timestamp; product; vulnerability; status) and a list of :class:`VexStatement`. Statuses and
justifications use the CISA/OpenVEX vocabulary; the finer CycloneDX labels are kept beside them
(``cdx_state``, ``cdx_justification``) so that a CycloneDX → CycloneDX trip keeps them. The
mapping between the three formats is data: ``mamori/data/vex/mapping.yaml``. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

VEX_STATUSES = ("not_affected", "affected", "fixed", "under_investigation")

# The five CISA status justifications (also OpenVEX's and CSAF's flag labels).
JUSTIFICATIONS = (
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "vulnerable_code_not_in_execute_path",
    "inline_mitigations_already_exist",
)

# CycloneDX analysis.response values.
RESPONSES = ("can_not_fix", "will_not_fix", "update", "rollback", "workaround_available")


@dataclass(slots=True)
class VexProduct:
    """A product (or product version / version range) a statement is about.

    ``ref`` is how the source named it: a CycloneDX bom-ref or BOM-Link, an OpenVEX ``@id``. A
    product with neither ``version`` nor ``version_range`` means the ref as a whole.
    """

    ref: str | None = None
    name: str | None = None
    version: str | None = None
    version_range: str | None = None  # "vers:..." or a CSAF product_version_range name
    vendor: str | None = None
    purl: str | None = None
    cpe: str | None = None
    csaf_id: str | None = None  # CSAF product_id
    hashes: dict[str, str] = field(default_factory=dict)  # IANA hash name -> hex value
    version_status: str | None = (
        None  # CycloneDX affects version status as given (affected/unaffected/unknown)
    )
    subcomponents: list[VexProduct] = field(default_factory=list)

    @property
    def key(self) -> str:
        """The identifier that best names the product: ref, else purl, CPE, CSAF id, name or a hash."""
        found = self.ref or self.purl or self.cpe or self.csaf_id or self.name
        if found:
            return found
        return next((f"{alg}:{value}" for alg, value in sorted(self.hashes.items())), "")

    @property
    def identity(self) -> tuple[str, str | None, str | None]:
        """What must survive a conversion: the identifier and the version or range."""
        return (self.key, self.version, self.version_range)

    @property
    def label(self) -> str:
        """A short human-readable name: name (or key) plus version or range."""
        base = self.name or self.key or "?"
        if self.version:
            return f"{base} {self.version}"
        if self.version_range:
            return f"{base} {self.version_range}"
        return base


@dataclass(slots=True)
class VexVulnerability:
    """The vulnerability a VEX statement is about: its id, aliases and where it is described."""

    id: str
    aliases: list[str] = field(default_factory=list)
    description: str | None = None
    url: str | None = None  # an IRI for the vulnerability (OpenVEX @id, CycloneDX source.url)
    source: str | None = None  # the database that names it (NVD, GitHub ...)


@dataclass(slots=True)
class VexStatement:
    """One status of one vulnerability for one or more products.

    An empty ``products`` list means every product of the document's author (CycloneDX VEX
    without ``affects``, OpenVEX statements that inherit their products).
    """

    vulnerability: VexVulnerability
    status: str  # one of VEX_STATUSES
    products: list[VexProduct] = field(default_factory=list)
    justification: str | None = None  # one of JUSTIFICATIONS
    impact_statement: str | None = None  # why not affected, free text
    action_statement: str | None = None  # what to do when affected, free text
    action_statement_timestamp: datetime | None = None
    responses: list[str] = field(default_factory=list)  # CycloneDX response vocabulary
    detail: str | None = None  # how the status was determined (OpenVEX status_notes)
    timestamp: datetime | None = None  # first issued
    last_updated: datetime | None = None
    id: str | None = None  # statement @id / CycloneDX vulnerability bom-ref
    cdx_state: str | None = None  # the CycloneDX analysis state when read from CycloneDX
    cdx_justification: str | None = None  # the CycloneDX justification when read from CycloneDX

    @property
    def has_action(self) -> bool:
        return bool(self.action_statement or self.responses)

    @property
    def has_justification(self) -> bool:
        return bool(self.justification or self.impact_statement)


@dataclass(slots=True)
class VexDocument:
    """A VEX document, whatever format it came from."""

    statements: list[VexStatement] = field(default_factory=list)
    id: str | None = None
    author: str | None = None
    author_role: str | None = None
    author_url: str | None = None  # the publisher's namespace (CSAF) or web address
    timestamp: datetime | None = None
    last_updated: datetime | None = None
    version: int = 1
    tool: str | None = None  # "name version" of the tool that wrote it
    title: str | None = None
    source_format: str | None = None  # cyclonedx | openvex | csaf | yaml
    spec_version: str | None = None
    warnings: list[str] = field(default_factory=list)  # what the reader skipped, in plain words

    def status_counts(self) -> dict[str, int]:
        """How many products have each status (a statement without products counts once)."""
        counts = dict.fromkeys(VEX_STATUSES, 0)
        for st in self.statements:
            counts[st.status] = counts.get(st.status, 0) + max(1, len(st.products))
        return counts

    def vulnerability_ids(self) -> list[str]:
        seen: dict[str, None] = {}
        for st in self.statements:
            seen.setdefault(st.vulnerability.id, None)
        return list(seen)

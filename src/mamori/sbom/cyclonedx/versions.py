"""What each CycloneDX spec version allows, as far as the model needs to know.

The enumerations are copied from the official JSON schemas (bom-1.x.schema.json) so that the
writer never emits a value the target version's schema would refuse.
"""

from __future__ import annotations

# versions the readers accept; 1.0 and 1.1 exist in XML only, but the data has the same shape
READ_VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7")
WRITE_VERSIONS = ("1.4", "1.5", "1.6")
DEFAULT_WRITE_VERSION = "1.6"

XML_NS_PREFIX = "http://cyclonedx.org/schema/bom/"
# CycloneDX 1.1 carried the dependency graph in an extension namespace
XML_DEPENDENCY_GRAPH_NS = "http://cyclonedx.org/schema/ext/dependency-graph/1.0"


def at_least(version: str, minimum: str) -> bool:
    """``version >= minimum`` for "1.x" strings."""
    return int(version.split(".")[1]) >= int(minimum.split(".")[1])


_TYPES_14 = tuple(
    ["application", "framework", "library", "container", "operating-system", "device", "firmware", "file"]
)
_TYPES_15 = (*_TYPES_14, *["platform", "device-driver", "machine-learning-model", "data"])
COMPONENT_TYPES: dict[str, frozenset[str]] = {
    "1.4": frozenset(_TYPES_14),
    "1.5": frozenset(_TYPES_15),
    "1.6": frozenset((*_TYPES_15, "cryptographic-asset")),
}

_REFS_14 = tuple(
    [
        "vcs",
        "issue-tracker",
        "website",
        "advisories",
        "bom",
        "mailing-list",
        "social",
        "chat",
        "documentation",
        "support",
        "distribution",
        "license",
        "build-meta",
        "build-system",
        "release-notes",
        "other",
    ]
)
_REFS_15 = (
    *_REFS_14,
    *[
        "distribution-intake",
        "security-contact",
        "model-card",
        "log",
        "configuration",
        "evidence",
        "formulation",
        "attestation",
        "threat-model",
        "adversary-model",
        "risk-assessment",
        "vulnerability-assertion",
        "exploitability-statement",
        "pentest-report",
        "static-analysis-report",
        "dynamic-analysis-report",
        "runtime-analysis-report",
        "component-analysis-report",
        "maturity-report",
        "certification-report",
        "codified-infrastructure",
        "quality-metrics",
        "poam",
    ],
)
EXTERNAL_REFERENCE_TYPES: dict[str, frozenset[str]] = {
    "1.4": frozenset(_REFS_14),
    "1.5": frozenset(_REFS_15),
    "1.6": frozenset(
        (*_REFS_15, *["source-distribution", "electronic-signature", "digital-signature", "rfc-9116"])
    ),
}

HASH_ALGORITHMS = frozenset(
    [
        "MD5",
        "SHA-1",
        "SHA-256",
        "SHA-384",
        "SHA-512",
        "SHA3-256",
        "SHA3-384",
        "SHA3-512",
        "BLAKE2b-256",
        "BLAKE2b-384",
        "BLAKE2b-512",
        "BLAKE3",
    ]
)
# the schema's hash-content pattern: hexadecimal of one of these lengths, whatever the algorithm
HASH_CONTENT_LENGTHS = frozenset((32, 40, 64, 96, 128))

SCOPES = frozenset(["required", "optional", "excluded"])
LIFECYCLE_PHASES = frozenset(
    ["design", "pre-build", "build", "post-build", "operations", "discovery", "decommission"]
)
DATA_FLOWS = frozenset(["inbound", "outbound", "bi-directional", "unknown"])

# What a document of each spec version may say, for the readers' warnings (a value outside these is
# kept as text and reported, see mamori.sbom.problems). Taken from the official schemas (JSON for
# 1.2+, XSD for 1.0 and 1.1); tests/test_read_lenient.py compares them with the schemas that
# cyclonedx-python-lib ships.
_TYPES_10 = ("application", "framework", "library", "operating-system", "device")
_TYPES_16 = (*_TYPES_15, "cryptographic-asset")
READ_COMPONENT_TYPES: dict[str, frozenset[str]] = {
    "1.0": frozenset(_TYPES_10),
    "1.1": frozenset((*_TYPES_10, "file")),
    "1.2": frozenset(_TYPES_14),
    "1.3": frozenset(_TYPES_14),
    "1.4": frozenset(_TYPES_14),
    "1.5": frozenset(_TYPES_15),
    "1.6": frozenset(_TYPES_16),
    "1.7": frozenset(_TYPES_16),
}
READ_SCOPES: dict[str, frozenset[str]] = {
    version: frozenset(("required", "optional")) if version == "1.0" else SCOPES for version in READ_VERSIONS
}
_HASHES_10 = frozenset(("MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512", "SHA3-256", "SHA3-512"))
READ_HASH_ALGORITHMS: dict[str, frozenset[str]] = {
    **{version: HASH_ALGORITHMS for version in READ_VERSIONS},
    "1.0": _HASHES_10,
    "1.1": _HASHES_10,
    "1.7": HASH_ALGORITHMS | {"Streebog-256", "Streebog-512"},
}
_REFS_11 = frozenset(r for r in _REFS_14 if r != "release-notes")
READ_REFERENCE_TYPES: dict[str, frozenset[str]] = {
    "1.0": _REFS_11,  # 1.0 has no external references; the 1.1 list keeps odd input quiet
    "1.1": _REFS_11,
    "1.2": _REFS_11,
    "1.3": _REFS_11,
    "1.4": EXTERNAL_REFERENCE_TYPES["1.4"],
    "1.5": EXTERNAL_REFERENCE_TYPES["1.5"],
    "1.6": EXTERNAL_REFERENCE_TYPES["1.6"],
    "1.7": EXTERNAL_REFERENCE_TYPES["1.6"] | {"patent", "patent-family", "patent-assertion", "citation"},
}

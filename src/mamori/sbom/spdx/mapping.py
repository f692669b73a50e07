"""Names and small conversions shared by the SPDX 2 readers and writers.

Conventions (both directions):

* ``NOASSERTION`` means "nothing is known": the model field stays ``None``.
* ``NONE`` means "there is none" (no licence, no copyright, no download location). The model field
  stays ``None`` too, so that other formats never see a fake value, and the fact is kept as the
  property ``spdx:<jsonKey> = NONE`` so that SPDX → model → SPDX writes ``NONE`` again.
* SPDX fields the model has no place for are kept as component or document properties named
  ``spdx:<jsonKey>``; strings as they are, lists/objects/booleans as JSON text.
"""

from __future__ import annotations

import re

from mamori.model import Component, Contact, Tool

NOASSERTION = "NOASSERTION"
NONE = "NONE"
PROP = "spdx:"
DOCUMENT_ID = "SPDXRef-DOCUMENT"

# SPDX checksum algorithm (JSON spelling) -> model (CycloneDX spelling)
SPDX_TO_MODEL_ALG: dict[str, str] = {
    "SHA1": "SHA-1",
    "SHA224": "SHA-224",
    "SHA256": "SHA-256",
    "SHA384": "SHA-384",
    "SHA512": "SHA-512",
    "SHA3-256": "SHA3-256",
    "SHA3-384": "SHA3-384",
    "SHA3-512": "SHA3-512",
    "BLAKE2b-256": "BLAKE2b-256",
    "BLAKE2b-384": "BLAKE2b-384",
    "BLAKE2b-512": "BLAKE2b-512",
    "BLAKE3": "BLAKE3",
    "MD2": "MD2",
    "MD4": "MD4",
    "MD5": "MD5",
    "MD6": "MD6",
    "ADLER32": "ADLER32",
}
MODEL_TO_SPDX_ALG: dict[str, str] = {model: spdx for spdx, model in SPDX_TO_MODEL_ALG.items()}
# algorithms SPDX 2.2 does not know
SPDX_23_ONLY_ALGS = frozenset(
    {"SHA3-256", "SHA3-384", "SHA3-512", "BLAKE2b-256", "BLAKE2b-384", "BLAKE2b-512", "BLAKE3", "ADLER32"}
)
# hex digits a checksum value must have, as spdx-tools validates them. BLAKE3 is missing on purpose:
# spdx-tools 0.8 wants at least 256 hex digits for it (a bug: BLAKE3 is 64), so it cannot be written validly.
CHECKSUM_HEX_DIGITS: dict[str, str] = {
    "SHA1": "40",
    "SHA224": "56",
    "SHA256": "64",
    "SHA384": "96",
    "SHA512": "128",
    "SHA3-256": "64",
    "SHA3-384": "96",
    "SHA3-512": "128",
    "BLAKE2b-256": "64",
    "BLAKE2b-384": "96",
    "BLAKE2b-512": "128",
    "MD2": "32",
    "MD4": "32",
    "MD5": "32",
    "MD6": "0,512",
    "ADLER32": "8",
}

_ALG_KEYS: dict[str, str] = {re.sub(r"[-_\s]", "", alg).upper(): alg for alg in SPDX_TO_MODEL_ALG}
_ALG_KEYS.update({re.sub(r"[-_\s]", "", alg).upper(): MODEL_TO_SPDX_ALG[alg] for alg in MODEL_TO_SPDX_ALG})


def spdx_algorithm(name: str) -> str | None:
    """SPDX spelling of a checksum algorithm given in SPDX or CycloneDX spelling (any case), or None."""
    if name in SPDX_TO_MODEL_ALG:
        return name
    return _ALG_KEYS.get(re.sub(r"[-_\s]", "", name).upper())


# primaryPackagePurpose -> model component type (CycloneDX names)
PURPOSE_TO_TYPE: dict[str, str] = {
    "APPLICATION": "application",
    "FRAMEWORK": "framework",
    "LIBRARY": "library",
    "CONTAINER": "container",
    "OPERATING-SYSTEM": "operating-system",
    "DEVICE": "device",
    "FIRMWARE": "firmware",
    "FILE": "file",
    "ARCHIVE": "file",
    "SOURCE": "library",
    "INSTALL": "application",
    "OTHER": "library",
}
TYPE_TO_PURPOSE: dict[str, str] = {
    "application": "APPLICATION",
    "framework": "FRAMEWORK",
    "library": "LIBRARY",
    "container": "CONTAINER",
    "operating-system": "OPERATING-SYSTEM",
    "device": "DEVICE",
    "device-driver": "DEVICE",
    "firmware": "FIRMWARE",
    "file": "FILE",
}

# every SPDX 2.3 relationship type; SPDX 2.2 lacks the last two
RELATIONSHIP_TYPES = frozenset(
    """DESCRIBES DESCRIBED_BY CONTAINS CONTAINED_BY DEPENDS_ON DEPENDENCY_OF DEPENDENCY_MANIFEST_OF
    BUILD_DEPENDENCY_OF DEV_DEPENDENCY_OF OPTIONAL_DEPENDENCY_OF PROVIDED_DEPENDENCY_OF TEST_DEPENDENCY_OF
    RUNTIME_DEPENDENCY_OF EXAMPLE_OF GENERATES GENERATED_FROM ANCESTOR_OF DESCENDANT_OF VARIANT_OF
    DISTRIBUTION_ARTIFACT PATCH_FOR PATCH_APPLIED COPY_OF FILE_ADDED FILE_DELETED FILE_MODIFIED EXPANDED_FROM_ARCHIVE
    DYNAMIC_LINK STATIC_LINK DATA_FILE_OF TEST_CASE_OF BUILD_TOOL_OF DEV_TOOL_OF TEST_OF TEST_TOOL_OF
    DOCUMENTATION_OF OPTIONAL_COMPONENT_OF METAFILE_OF PACKAGE_OF AMENDS PREREQUISITE_FOR HAS_PREREQUISITE
    OTHER REQUIREMENT_DESCRIPTION_FOR SPECIFICATION_FOR""".split()  # noqa: SIM905
)
SPDX_23_ONLY_RELATIONSHIPS = frozenset({"REQUIREMENT_DESCRIPTION_FOR", "SPECIFICATION_FOR"})

# CycloneDX external reference types, kept as SPDX "OTHER" external refs of the same type
CDX_REFERENCE_TYPES = frozenset(
    """vcs issue-tracker website advisories bom mailing-list social chat documentation support source-distribution
    distribution distribution-intake license build-meta build-system release-notes security-contact model-card log
    configuration evidence formulation attestation threat-model adversary-model risk-assessment
    vulnerability-assertion exploitability-statement pentest-report static-analysis-report
    dynamic-analysis-report runtime-analysis-report component-analysis-report maturity-report
    certification-report codified-infrastructure quality-metrics poam electronic-signature digital-signature
    rfc-9116 other""".split()  # noqa: SIM905
)

_ACTOR = re.compile(r"^\s*(Person|Organization|Tool)\s*:\s*(.*?)\s*(?:\(([^()]*)\))?\s*$", re.S | re.I)
_TOOL_VERSION = re.compile(r"^(.+?)-(v?\d[\w.+~-]*)$")
_KINDS = {"person": "Person", "organization": "Organization", "tool": "Tool"}


def parse_actor(text: str) -> Contact | None:
    """``Organization: ACME (info@acme.example)`` → Contact; NOASSERTION or unparseable text → None."""
    match = _ACTOR.match(text)
    if match is None:
        return None
    kind, name, email = match.groups()
    if not name:
        return None
    email = email.strip() if email else None
    return Contact(name=name, email=email or None, kind=kind.lower())


def format_actor(contact: Contact, default: str = "Organization") -> str:
    """Contact → ``Person: name (email)``; kinds other than person/organization use ``default``."""
    kind = _KINDS.get(contact.kind, default)
    if kind == "Tool":
        kind = default
    name = " ".join(contact.name.split()) or NOASSERTION
    # an actor is one line, and its email sits in the one pair of parentheses
    email = " ".join((contact.email or "").replace("(", " ").replace(")", " ").split())
    return f"{kind}: {name} ({email})" if email else f"{kind}: {name}"


def package_supplier(comp: Component) -> str | None:
    """PackageSupplier: the supplier, else the CycloneDX publisher as an organisation, else None.

    NTIA's mapping takes CycloneDX ``publisher`` as the supplier when ``supplier`` is missing; SPDX has
    only PackageSupplier, so the publisher goes there (and reads back as the supplier).
    """
    if comp.supplier is not None and comp.supplier.name.strip() and comp.supplier.name.strip() != NOASSERTION:
        return format_actor(comp.supplier)
    publisher = " ".join((comp.publisher or "").split())
    if publisher and publisher.upper() != NOASSERTION:
        return format_actor(Contact(name=publisher))
    return None


def parse_tool(name: str) -> Tool:
    """``spdx-sbom-generator-v0.0.13`` → Tool(name, version); a name without a ``-<version>`` tail stays whole."""
    match = _TOOL_VERSION.match(name.strip())
    if match:
        return Tool(name=match.group(1), version=match.group(2))
    return Tool(name=name.strip())


def format_tool(tool: Tool) -> str:
    name = " ".join(tool.name.split())
    return f"Tool: {name}-{tool.version}" if tool.version else f"Tool: {name}"


_ID_CHARS = re.compile(r"[^A-Za-z0-9.-]+")
VALID_SPDX_ID = re.compile(r"^SPDXRef-[A-Za-z0-9.-]+$")
VALID_DOCUMENT_REF = re.compile(r"^DocumentRef-[A-Za-z0-9.+-]+$")


def id_part(text: str, fallback: str = "x") -> str:
    """Characters allowed in an SPDX idstring (letters, digits, '.', '-'); others become '-'."""
    cleaned = _ID_CHARS.sub("-", text).strip("-")
    return cleaned or fallback

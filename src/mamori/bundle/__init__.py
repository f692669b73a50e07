"""Supplier release bundles: one signed file a supplier hands its customers per release, and the customer's
verification and import of it (issue 19).

``create_bundle`` (supplier) puts the release's SBOM (the archived original and CycloneDX JSON), its VEX, the
CSAF advisories of the PSIRT cases touching it, the self-conformity declaration (JSON and PDF) and the JC-STAR
label page into one zip with a manifest and a signed attestation; ``verify_bundle`` (customer) checks it;
``import_bundle`` stores a verified bundle and reports what differs from the product's previous one
(:class:`BundleImport`); ``check_bundle`` checks it against the terms agreed with its supplier
(:mod:`mamori.contract`).

Why these formats:

- **zip**, not tar: the customer's procurement staff open it on any desktop without tools (the PDFs and label
  page are for people), and its central directory gives every member's name, type and declared size before
  anything is inflated, so the bounds are checked first; mamori's hardened zip member reader
  (:class:`mamori.fileio.ZipBudget`) bounds each member as it inflates. Symbolic links and devices, which a
  zip can only carry as Unix mode bits, are refused like any other non-regular member. Deterministic: sorted
  names, one fixed time and mode.
- **in-toto Statement v1 in a DSSE envelope**: the attestation format supply-chain tools already read
  (in-toto, SLSA verifiers, Sigstore's bundle): every member is a subject with its SHA-256, and the
  predicate (type ``urn:mamori:predicate:release-bundle:v1``, a URN so that it claims no web domain) is the
  manifest itself. SLSA provenance was not chosen: it describes a build (builder, materials), which mamori
  did not run; the bundle attests what the supplier publishes for a release.
- **securesystemslib** for DSSE and the signers: the in-toto project's own library (its DSSE
  implementation with pre-authentication encoding, ed25519 and ECDSA P-256 keys through ``cryptography``),
  kept by the same maintainers as in-toto and TUF. ``in-toto-attestation`` (the protobuf bindings) was not
  needed: a Statement v1 is a small JSON object that mamori writes and checks itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mamori.lazy import lazy_exports

if TYPE_CHECKING:
    from mamori.bundle.create import CreatedBundle, create_bundle
    from mamori.bundle.importer import BundleImport, BundleRefused, import_bundle
    from mamori.bundle.terms import BundleTerms, check_bundle
    from mamori.bundle.verify import VerifiedBundle, verify_bundle

_HOME = {
    "CreatedBundle": "create",
    "create_bundle": "create",
    "BundleImport": "importer",
    "BundleRefused": "importer",
    "import_bundle": "importer",
    "BundleTerms": "terms",
    "check_bundle": "terms",
    "VerifiedBundle": "verify",
    "verify_bundle": "verify",
}

__getattr__ = lazy_exports(__name__, _HOME)

__all__ = [
    "BundleImport",
    "BundleRefused",
    "BundleTerms",
    "CreatedBundle",
    "VerifiedBundle",
    "check_bundle",
    "create_bundle",
    "import_bundle",
    "verify_bundle",
]

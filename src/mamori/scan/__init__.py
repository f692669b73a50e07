"""``mamori scan``: an SBOM (or a folder, turned into one) matched against the knowledge base.

The result type lives in :mod:`mamori.scan.result`; :func:`mamori.scan.run.scan_path` and
:func:`mamori.scan.run.scan_document` build it.
"""

from mamori.scan.result import (
    ComponentRef,
    Coverage,
    EpssInfo,
    Evidence,
    Finding,
    KevInfo,
    NotEvaluated,
    Problem,
    ReferenceInfo,
    ScanResult,
    ScopeCoverage,
    SeverityInfo,
    SourceInfo,
    VulnerabilityInfo,
)

__all__ = [
    "ComponentRef",
    "Coverage",
    "EpssInfo",
    "Evidence",
    "Finding",
    "KevInfo",
    "NotEvaluated",
    "Problem",
    "ReferenceInfo",
    "ScanResult",
    "ScopeCoverage",
    "SeverityInfo",
    "SourceInfo",
    "VulnerabilityInfo",
]

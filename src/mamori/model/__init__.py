"""The internal SBOM model, free of I/O. Readers fill it, writers serialise it."""

from mamori.model.sbom import (
    Component,
    Contact,
    Document,
    ExternalReference,
    Hash,
    Occurrence,
    Property,
    ReadWarning,
    Relationship,
    Service,
    Tool,
)

__all__ = [
    "Component",
    "Contact",
    "Document",
    "ExternalReference",
    "Hash",
    "Occurrence",
    "Property",
    "ReadWarning",
    "Relationship",
    "Service",
    "Tool",
]

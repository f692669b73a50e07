"""sbom/cyclonedx format support."""

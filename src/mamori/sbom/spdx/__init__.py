"""sbom/spdx format support."""

"""sbom/spreadsheet format support."""

"""Python ecosystem parsers (purl type pypi)."""

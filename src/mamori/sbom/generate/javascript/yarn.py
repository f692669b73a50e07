"""yarn.lock: Yarn classic (v1) or Yarn berry (v2+, YAML with ``__metadata``), told apart by content."""

from __future__ import annotations

from pathlib import Path

from mamori.sbom.generate.base import Found


def parse(path: Path, text: str) -> Found:
    head = text[:4096]
    if "\n__metadata:" in f"\n{head}":
        from mamori.sbom.generate.javascript.yarn_berry import parse as parse_berry

        return parse_berry(path, text)
    from mamori.sbom.generate.javascript.yarn_classic import parse as parse_classic

    return parse_classic(path, text)

"""The packages point one way: no two of them import each other, and the lower layers import only what
lies below them (model ← store ← match ← triage; inputs such as sbom and vulndb never import what reads
their results). Imports inside functions count too: they are dependencies all the same."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import mamori

SRC = Path(mamori.__file__).resolve().parent
UTILITIES = {"errors", "fileio", "i18n", "display", "cells", "packaged", "lazy", "dataclass_code"}
# what each lower layer may import besides itself and the utilities
ALLOWED = {
    "model": set(),
    "store": {"model"},
    "vulndb": {"model", "store"},
    "sbom": {"model", "vulndb"},
    "match": {"model", "store", "vulndb"},
    "vex": {"model", "sbom"},
}


def _imports() -> dict[str, dict[str, list[str]]]:
    """package → imported package → files that import it."""
    found: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        package = rel.parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == "mamori" and len(parts) > 1 and parts[1] != package:
                    found[package][parts[1]].append(str(rel))
    return found


IMPORTS = _imports()


def test_no_two_packages_import_each_other() -> None:
    cycles = [
        (a, b, IMPORTS[a][b][:3], IMPORTS[b][a][:3])
        for a in IMPORTS
        for b in IMPORTS[a]
        if a < b and a in IMPORTS.get(b, {})
    ]
    assert cycles == []


def test_lower_layers_import_only_what_lies_below() -> None:
    wrong = {
        (package, imported, tuple(files[:3]))
        for package, allowed in ALLOWED.items()
        for imported, files in IMPORTS.get(package, {}).items()
        if imported not in allowed | UTILITIES
    }
    assert wrong == set()


def test_the_check_sees_real_imports() -> None:
    assert "model" in IMPORTS["store"] and "store" in IMPORTS["match"] and "match" in IMPORTS["scan"]

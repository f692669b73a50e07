"""Every table on the shared Base is listed in the store's registry, so migrations and checks see it."""

from __future__ import annotations

import ast
from pathlib import Path

from mamori.store.registry import TABLE_MODULES, all_metadata

SRC = Path(__file__).resolve().parents[1] / "src"


def _modules_defining_tables() -> set[str]:
    found: set[str] = set()
    for path in (SRC / "mamori").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(base, ast.Name) and base.id == "Base" for base in node.bases
            ):
                found.add(".".join(path.relative_to(SRC).with_suffix("").parts))
                break
    return found


def test_registry_lists_every_module_with_tables() -> None:
    assert _modules_defining_tables() == set(TABLE_MODULES)


def test_all_metadata_holds_each_features_tables() -> None:
    tables = set(all_metadata().tables)
    assert {"vulnerability", "assessment", "triage_record", "product_release", "release_sbom"} <= tables
    assert any(name.startswith("portfolio") for name in tables)

"""composer.lock and composer.json of Composer 2.5.5 itself (Debian's composer source package)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mamori.errors import InputError
from mamori.sbom.generate import generate
from mamori.sbom.generate.base import DEV, REQUIRED
from mamori.sbom.generate.php import composer

FIXTURES = Path(__file__).parent / "fixtures" / "generate" / "php" / "composer"


def test_lock_with_manifest() -> None:
    found = composer.parse(FIXTURES / "composer.lock", (FIXTURES / "composer.lock").read_text())
    comps = {f"{c.group}/{c.name}": c for c in found.components}
    assert (
        len(comps) == 34
        and found.project is not None
        and found.project.purl == "pkg:composer/composer/composer"
    )
    assert sum(1 for c in comps.values() if c.scope == DEV) == 6
    console = comps["symfony/console"]
    assert (
        console.purl == f"pkg:composer/symfony/console@{console.version}"
        and console.license_declared == "MIT"
    )
    assert found.direct[comps["symfony/console"].bom_ref] == REQUIRED
    assert found.direct[comps["phpstan/phpstan"].bom_ref] == DEV
    assert (console.bom_ref, comps["symfony/string"].bom_ref) in {(r.source, r.target) for r in found.edges}
    assert any(
        p.name == "mamori:source" and p.value.startswith("git https://github.com/symfony/console.git@")
        for p in console.properties
    )


def test_manifest_superseded_and_dev_dropped() -> None:
    doc = generate(FIXTURES)
    assert any(p.name == "mamori:superseded" and p.value.startswith("composer.json") for p in doc.properties)
    assert doc.root is not None and doc.root.name == "composer"


def test_malformed(tmp_path: Path) -> None:
    path = tmp_path / "composer.lock"
    path.write_text('{\n  "packages": [\n    {"name": "a/b",\n')
    with pytest.raises(InputError, match=r"composer.lock: line 4: not valid JSON"):
        composer.parse(path, path.read_text())

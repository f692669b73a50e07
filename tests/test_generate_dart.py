"""pubspec.lock written by pub (Dart 3.11) for localsend's packages/localsend_isolates — no Dart SDK
runs here, so the file comes from the public repository (see fixtures README)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mamori.errors import InputError
from mamori.sbom.generate.base import DEV, REQUIRED
from mamori.sbom.generate.dart import pub

FIXTURES = Path(__file__).parent / "fixtures" / "generate" / "dart"


def test_sources_scopes_and_sha256() -> None:
    path = FIXTURES / "localsend_isolates" / "pubspec.lock"
    found = pub.parse(path, path.read_text())
    comps = {c.name: c for c in found.components}
    assert len(comps) == 69
    uuid = comps["uuid"]
    assert uuid.purl == "pkg:pub/uuid@4.5.3"
    assert [(h.alg, h.value) for h in uuid.hashes] == [
        ("SHA-256", "1fef9e8e11e2991bb773070d4656b7bd5d850967a2456cfc83cf47925ba79489")
    ]
    assert found.direct[comps["build_runner"].bom_ref] == DEV and found.direct[uuid.bom_ref] == REQUIRED
    assert comps["yaml"].property(pub.TRANSITIVE) == "true"
    assert comps["flutter"].purl is None and comps["sky_engine"].purl is None  # SDK packages
    assert comps["typed_isolates"].purl is None  # path package
    assert sum(1 for c in comps.values() if c.hashes) == 65


def test_malformed(tmp_path: Path) -> None:
    path = tmp_path / "pubspec.lock"
    path.write_text("packages:\n  a:\n    version: [1\n")
    with pytest.raises(InputError, match=r"pubspec.lock: line \d: not valid YAML"):
        pub.parse(path, path.read_text())

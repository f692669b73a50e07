"""The main job: `mamori demo` on bundled data, no network."""

from __future__ import annotations

import json
from pathlib import Path

from mamori import sbom
from mamori.cli.main import main
from mamori.demo import demo_data


def test_demo_sbom_is_bundled_and_passes_ntia() -> None:
    doc = sbom.read(demo_data() / "shop-portal-2.1.0.cdx.json")
    names = {c.name for c in doc.all_components()}
    assert {"log4j-core", "lodash", "requests", "text"} <= names
    assert doc.root is not None and doc.root.name == "shop-portal"


def test_demo_osv_set_is_labelled_and_parses() -> None:
    files = sorted((demo_data() / "osv").glob("*.json"))
    assert len(files) == 13
    for path in files:
        record = json.loads(path.read_text(encoding="utf-8"))
        assert record["database_specific"]["mamori_demo_set"] is True
        assert record["id"].startswith("CVE-") and record["affected"]


def test_demo_runs_offline_and_writes_outputs(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    db = tmp_path / "demo.db"
    assert main(["demo", "--out", str(out), "--db", str(db)]) == 0
    printed = capsys.readouterr().out
    assert "osv 13" in printed and "kev 2" in printed and "NTIA pass" in printed
    spdx = sbom.read(out / "shop-portal-2.1.0.spdx.json")
    assert sum(1 for _ in spdx.all_components()) == 14
    lite = sbom.read(out / "shop-portal-2.1.0-spdx-lite.xlsx")
    assert {c.name for c in lite.all_components()} >= {"log4j-core", "Django"}
    # a second run finds the demo set already loaded and imports nothing
    assert main(["demo", "--out", str(out), "--db", str(db)]) == 0
    assert "already loaded" in capsys.readouterr().out

"""Shared by the triage-state tests: a store of the bundled real-format OSV and KEV set (with a coverage
claim for the osv feed) and product ABC 4.2 as CISA's VEX use cases name it."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import SHARED_DATA
from mamori.demo import demo_data
from mamori.store import open_store
from mamori.vulndb import import_path
from mamori.vulndb.coverage import CoverageClaim

CISA = SHARED_DATA / "vex" / "cyclonedx" / "CISA-Use-Cases"
CASE8_SERIAL = "urn:uuid:cbb2cd68-2857-43b8-a10b-e8c03d277d18"  # Case-8/bom-1.json: product ABC
LOG4J = "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
SPRING = "pkg:maven/org.springframework/spring-beans@5.3.15"


def build_kb(folder: Path) -> Path:
    """The bundled real-format OSV and KEV set, imported with a coverage claim for the osv feed."""
    db = folder / "kb.db"
    with open_store(db) as store:
        import_path(store, demo_data() / "osv", source="osv", complete=[CoverageClaim("osv")])
        import_path(store, demo_data() / "kev", source="kev")
    return db


def abc_sbom(folder: Path) -> Path:
    """Product ABC 4.2 as CISA's use cases name it (root bom-ref product-ABC, the serial number of
    Case-8/bom-1.json), holding the bundled demo product's components except spring-beans (so that
    log4j-core's CVE-2021-44228 is the only finding in CISA KEV)."""
    bom = json.loads(next(demo_data().glob("*.cdx.json")).read_text(encoding="utf-8"))
    bom["serialNumber"] = CASE8_SERIAL
    bom["metadata"]["component"] = {
        "type": "application",
        "bom-ref": "product-ABC",
        "name": "ABC",
        "version": "4.2",
    }
    bom["components"] = [c for c in bom["components"] if c["purl"] != SPRING]
    refs = {c["bom-ref"] for c in bom["components"]} | {"product-ABC"}
    bom["dependencies"] = [
        {
            "ref": d["ref"] if d["ref"] in refs else "product-ABC",
            "dependsOn": [x for x in d.get("dependsOn", []) if x in refs],
        }
        for d in bom.get("dependencies", [])
        if d["ref"] in refs or d["ref"] == "pkg:generic/mamori-demo/shop-portal@2.1.0"
    ]
    path = folder / "abc-4.2.cdx.json"
    path.write_text(json.dumps(bom), encoding="utf-8")
    return path

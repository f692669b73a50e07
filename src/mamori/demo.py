"""The main job on the embedded default: the bundled demo product and demo vulnerability set.

Everything is local: the demo SBOM and the demo OSV/KEV set ship inside the package, the store is one SQLite
file of its own (``demo.db`` beside the default store, or ``--db``) loaded on first use, and the outputs are
written atomically into one folder: the SBOM converted to SPDX JSON, SPDX Lite (Excel) and CycloneDX XML,
and the scan of the demo product against the demo set as an HTML report (labelled as demo data) and JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from mamori import sbom
from mamori.fileio import write_bytes_atomic
from mamori.i18n import _
from mamori.model.sbom import Document
from mamori.sbom.check import check_document
from mamori.scan.result import ScanResult
from mamori.store import open_store
from mamori.store.engine import default_path

DEMO_SBOM = "shop-portal-2.1.0.cdx.json"
DEMO_REPORT = "shop-portal-2.1.0.scan"  # + .html / .json
DEMO_LABEL = {
    "en": "Demo data: a fictional product with real public components, scanned against mamori's demo "
    "vulnerability set (13 public CVEs), not a full vulnerability database.",
    "ja": "デモデータ: 実在の公開コンポーネントで構成した架空の製品を、mamori のデモ用脆弱性セット"
    "（公開済み CVE 13 件）で照合した結果です。完全な脆弱性データベースではありません。",
}


@dataclass(slots=True)
class DemoResult:
    sbom_path: Path
    database: str
    loaded: dict[str, int]
    outputs: dict[str, Path] = field(default_factory=dict)
    ntia_pass: bool = False
    score: int = 0
    components: int = 0
    scan: ScanResult | None = None

    @property
    def report(self) -> Path:
        """The HTML scan report (the file to open first)."""
        return self.outputs["html"]


def demo_data() -> Path:
    """The folder of bundled demo data (inside the installed package)."""
    return Path(str(resources.files("mamori") / "data" / "demo"))


def default_demo_db() -> Path:
    return default_path().with_name("demo.db")


def demo_counts() -> dict[str, int]:
    """Records of the bundled demo set per source: what a demo database holds once loaded."""
    import orjson

    kev = demo_data() / "kev"
    entries = sum(len(orjson.loads(f.read_bytes())["vulnerabilities"]) for f in kev.glob("*.json"))
    return {"osv": len(list((demo_data() / "osv").glob("*.json"))), "kev": entries}


def _from_demo(source: str, state: dict[str, object]) -> bool:
    """The source's last import was the bundled demo folder (wherever mamori is installed)."""
    origin = str(state.get("origin") or "")
    return Path(origin).parts[-4:] == ("mamori", "data", "demo", source)


def load_demo_vulnerabilities(db: str | Path) -> tuple[str, dict[str, int]]:
    """Import the demo OSV and KEV set into ``db`` unless it is already there. Returns (db url, new records).

    The demo set is loaded as complete for its ecosystems (scans label it as the demo set). The demo's
    database holds the demo set only: a store with any other vulnerability data (a real
    ``mamori db import``) is refused, so the demo never mixes made-for-demo records into it and its
    results are never labelled as the demo set's when they are not."""
    from mamori.errors import InputError
    from mamori.vulndb import import_path
    from mamori.vulndb.coverage import CoverageClaim

    expected = demo_counts()
    loaded: dict[str, int] = {}
    with open_store(str(db)) as store:
        sources = store.status()["sources"]
        have = {k: v["records"] for k, v in sources.items() if v["records"]}
        other = {k: n for k, n in have.items() if n > expected.get(k, 0) or not _from_demo(k, sources[k])}
        if other:
            held = ", ".join(f"{k} {n}" for k, n in sorted(other.items()))
            raise InputError(
                store.display_url,
                _(
                    "holds other vulnerability data ({held}); the demo needs a database of its own (leave out --db, or give a new file)"
                ).format(held=held),
            )
        osv_scopes = [c for c in store.coverage() if c["source"] == "osv"]
        covered = bool(osv_scopes) and all(c["complete"] for c in osv_scopes)
        for folder, source in (("osv", "osv"), ("kev", "kev")):
            if have.get(source) == expected[source] and (source != "osv" or covered):
                continue
            # the demo set stands for whole feeds of its ecosystems (it is labelled as the demo set)
            claims = [CoverageClaim("osv")] if source == "osv" else []
            summary = import_path(store, demo_data() / folder, source=source, complete=claims)
            loaded[source] = summary.records
        return store.display_url, loaded


def scan_demo(doc: Document, db: str | Path) -> ScanResult:
    """Scan the demo product against the demo set in ``db``; the result is marked as demo data and
    never judged stale (the demo set is as old as the installed mamori)."""
    from mamori.scan.run import scan_document

    with open_store(str(db)) as store:
        result = scan_document(doc, store, target=DEMO_SBOM, sbom_format="cyclonedx-json", max_age=None)
    result.demo = True
    return result


def write_reports(result: ScanResult, out_dir: Path, lang: str) -> dict[str, Path]:
    """The scan as an HTML report (``lang`` shown first, both included) and as JSON."""
    from mamori.report import render

    written: dict[str, Path] = {}
    for fmt in ("html", "json"):
        target = out_dir / f"{DEMO_REPORT}.{fmt}"
        write_bytes_atomic(target, render(fmt, result, lang))
        written[fmt] = target
    return written


def run_demo(out_dir: Path, db: str | Path | None = None, lang: str = "en") -> DemoResult:
    """Check and convert the demo SBOM, load the demo vulnerability set, scan and write the reports."""
    sbom_path = demo_data() / DEMO_SBOM
    doc = sbom.read(sbom_path)
    report = check_document(doc, file=str(sbom_path), fmt="cyclonedx-json")
    db = db or default_demo_db()
    url, loaded = load_demo_vulnerabilities(db)
    result = DemoResult(
        sbom_path=sbom_path,
        database=url,
        loaded=loaded,
        ntia_pass=report.passed,
        score=report.result.score,
        components=report.components,
    )
    for name, fmt in (
        ("shop-portal-2.1.0.spdx.json", "spdx-json"),
        ("shop-portal-2.1.0-spdx-lite.xlsx", "spdx-lite-xlsx"),
        ("shop-portal-2.1.0.cdx.xml", "cyclonedx-xml"),
    ):
        target = out_dir / name
        sbom.write(doc, target, fmt)
        result.outputs[fmt] = target
    result.scan = scan_demo(doc, db)
    result.outputs.update(write_reports(result.scan, out_dir, lang))
    return result

"""Helpers for the matcher tests: small real stores built from ../shared/data files in a temp dir."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from packageurl import PackageURL

from conftest import SHARED_DATA
from mamori.model.sbom import Component, Document
from mamori.store import Store, open_store
from mamori.vulndb import import_path
from mamori.vulndb.coverage import FEED_SOURCES, CoverageClaim
from mamori.vulndb.purl2cpe import TSV_HEADER

CVE5 = SHARED_DATA / "cve5"
PURL2CPE = SHARED_DATA / "purl2cpe" / "purl2cpe.tsv"


def cve_file(cve_id: str) -> Path:
    """cvelistV5 layout: cve5/<year>/<number // 1000>xxx/<id>.json."""
    _, year, number = cve_id.split("-")
    return CVE5 / year / f"{int(number) // 1000}xxx" / f"{cve_id}.json"


def purl_base(purl: str) -> tuple[str, str, str]:
    p = PackageURL.from_string(purl)
    return (p.type, (p.namespace or "").lower(), p.name.lower())


def purl2cpe_subset(folder: Path, purls: Iterable[str]) -> Path:
    """The purl2cpe TSV lines for these packages, as a TSV file in ``folder``."""
    wanted = {purl_base(p) for p in purls}
    lines = [TSV_HEADER]
    for line in PURL2CPE.read_text(encoding="utf-8").splitlines()[1:]:
        fields = line.split("\t")
        if len(fields) == 3:
            try:
                if purl_base(fields[2]) in wanted:
                    lines.append(line)
            except ValueError:
                continue
    path = folder / "purl2cpe-subset.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def build_store(folder: Path, files: Iterable[Path], *, complete: bool = False) -> Store:
    """A store of these files; ``complete``: each file is declared a whole feed of the scopes its
    records carry (what ``mamori db import --complete`` does), so scans evaluate those scopes."""
    store = open_store(folder / "kb.db")
    claims = [CoverageClaim(source) for source in FEED_SOURCES] if complete else []
    for path in files:
        import_path(store, path, complete=claims)
    return store


def document(*components: Component) -> Document:
    return Document(name="test", components=list(components))

"""The portfolio keeps each OS package's source package: a full re-match reaches binaries through
their source, and a changed-only run after a new source-package advisory re-matches the binaries
built from that source (SQLite always, PostgreSQL when MAMORI_TEST_PG_URL is set).

SBOMs: Trivy's CycloneDX (the source only in its ``SrcName`` properties) and mamori's own SBOM of
the Debian 12 dpkg fixture (the source in the purl's ``upstream`` qualifier); advisories in
Debian's OSV format (see tests/test_match_ospkg.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from mamori.portfolio import add_product, rematch, store_sbom
from mamori.portfolio.views import release
from mamori.sbom import write
from mamori.sbom.generate import GenerateOptions, generate
from mamori.store import Store, open_store
from mamori.store.throwaway import throwaway_postgres
from mamori.vulndb import import_path
from portfolio_support import BACKENDS, PG_URL

OSPKG = Path(__file__).parent / "fixtures" / "generate" / "ospkg"
TRIVY = Path(__file__).parent / "fixtures" / "match" / "ospkg" / "trivy-debian.cdx.json"


def _dsa(folder: Path, vuln_id: str, source: str, fixed: str) -> Path:
    record = {
        "schema_version": "1.6.0",
        "id": vuln_id,
        "summary": f"{source} - security update",
        "modified": "2024-02-01T00:00:00Z",
        "published": "2024-02-01T00:00:00Z",
        "affected": [
            {
                "package": {
                    "name": source,
                    "ecosystem": "Debian:12",
                    "purl": f"pkg:deb/debian/{source}?arch=source",
                },
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
            }
        ],
    }
    path = folder / f"{vuln_id}.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        with open_store(tmp_path / "kb.db") as kb:
            yield kb
    else:
        with throwaway_postgres(PG_URL or "") as url, open_store(url) as kb:
            yield kb


def _open(store: Store, product: str, version: str) -> set[tuple[str, str]]:
    view = release(store, product, version)
    return {(f["component"]["name"], f["vulnerability"]["id"]) for f in view["findings"]}


def test_changed_only_rematch_reaches_binaries_of_a_new_source_advisory(store: Store, tmp_path: Path) -> None:
    import_path(store, _dsa(tmp_path, "DSA-9301-1", "openssl", "3.0.13-1~deb12u1"))
    add_product(store, "image")
    add_product(store, "appliance")
    store_sbom(store, "image", "1.0", TRIVY, who="tester")
    mine = tmp_path / "appliance.cdx.json"
    write(generate(tmp_path, GenerateOptions(rootfs=OSPKG / "debian", name="appliance", version="2.0")), mine)
    store_sbom(store, "appliance", "2.0", mine, who="tester")

    full = rematch(store)
    assert full.mode == "full"
    assert _open(store, "image", "1.0") == {("libssl3", "DSA-9301-1"), ("openssl", "DSA-9301-1")}
    assert _open(store, "appliance", "2.0") == set()

    import_path(store, _dsa(tmp_path, "DSA-9302-1", "glibc", "2.36-9+deb12u15"))
    import_path(store, _dsa(tmp_path, "DSA-9303-1", "gcc-12", "12.2.0-14+deb12u2"))
    changed = rematch(store, changed_only=True)
    assert changed.mode == "changed" and changed.vulnerabilities_changed == 2
    # libc6 of each SBOM (source glibc), gcc-12-base and libgcc-s1 (source gcc-12): nothing else
    assert changed.components == 4
    assert _open(store, "image", "1.0") == {
        ("libssl3", "DSA-9301-1"),
        ("openssl", "DSA-9301-1"),
        ("libc6", "DSA-9302-1"),
    }
    assert _open(store, "appliance", "2.0") == {
        ("libc6", "DSA-9302-1"),
        ("gcc-12-base", "DSA-9303-1"),
        ("libgcc-s1", "DSA-9303-1"),
    }
    again = rematch(store)
    assert (again.opened, again.reopened, again.resolved) == (0, 0, 0)

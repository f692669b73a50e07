"""A small real knowledge base and real-format SBOMs for the portfolio tests.

The store holds, from ../shared/data: every OSV advisory of five PyPI packages except PYSEC-2019-11
(django 1.11 before 1.11.23; imported later by the tests as "a new advisory"), the CVE 5 records the
scan matcher finds for dropwizard 1.3.15 through purl2cpe, the NVD sample records, the KEV catalog,
and the purl2cpe lines of the Maven packages concerned (copied from purl2cpe.tsv into the test's
temp folder, never into the repository).

Coverage: the store stands for a knowledge base of complete feeds, as a team mirroring OSV, CVE 5 and
NVD would have (``db import --complete``): the OSV import claims the scopes ``OSV_SCOPES`` (PyPI, and
Maven, whose packages are matched here by CPE through purl2cpe), the CVE 5 and NVD imports the ``cpe``
scope. Leave Maven out to see components of an uncovered ecosystem.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url

from conftest import SHARED_DATA
from mamori.model.sbom import Component, Document, Tool
from mamori.sbom import write
from mamori.store import Store, open_store
from mamori.store.throwaway import throwaway_postgres
from mamori.vulndb import Blob, import_blobs, import_path
from mamori.vulndb.coverage import CoverageClaim

PG_URL = os.environ.get("MAMORI_TEST_PG_URL")
BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="MAMORI_TEST_PG_URL not set")),
]

OSV_PACKAGES = ("django", "jinja2", "requests", "urllib3", "pyyaml")
OSV_SCOPES = ("PyPI", "Maven")
HELD_BACK = "django/PYSEC-2019-11.yaml"
CVE5 = (
    "2018/14xxx/CVE-2018-14335.json",
    "2020/10xxx/CVE-2020-10672.json",
    "2020/10xxx/CVE-2020-10673.json",
    "2020/10xxx/CVE-2020-10968.json",
    "2020/10xxx/CVE-2020-10969.json",
    "2020/11xxx/CVE-2020-11111.json",
    "2020/11xxx/CVE-2020-11112.json",
    "2020/11xxx/CVE-2020-11113.json",
    "2020/36xxx/CVE-2020-36179.json",
    "2020/36xxx/CVE-2020-36180.json",
    "2020/36xxx/CVE-2020-36181.json",
    "2020/36xxx/CVE-2020-36182.json",
    "2020/36xxx/CVE-2020-36184.json",
    "2022/38xxx/CVE-2022-38752.json",
)
LINKED_PURLS = (
    "pkg:maven/com.fasterxml.jackson.core/jackson-databind",
    "pkg:maven/org.yaml/snakeyaml",
    "pkg:maven/com.h2database/h2",
)
DROPWIZARD = SHARED_DATA / "sbom" / "cyclonedx" / "dropwizard-1.3.15"


def _blobs(paths: list[Path]) -> list[Blob]:
    return [Blob(str(p), p.read_bytes()) for p in paths]


def import_knowledge(store: Store, folder: Path, osv_scopes: tuple[str, ...] = OSV_SCOPES) -> None:
    """Import the test knowledge base (see the module's note) into ``store``."""
    osv = SHARED_DATA / "osv" / "pypi"
    held = osv / HELD_BACK
    files = [p for name in OSV_PACKAGES for p in sorted((osv / name).glob("*.yaml")) if p != held]
    import_blobs(store, _blobs(files), origin="test-osv", complete=[CoverageClaim("osv", osv_scopes)])
    cve5 = _blobs([SHARED_DATA / "cve5" / c for c in CVE5])
    import_blobs(store, cve5, origin="test-cve5", complete=[CoverageClaim("cve5")])
    import_path(store, SHARED_DATA / "nvd", complete=[CoverageClaim("nvd")])
    import_path(store, SHARED_DATA / "kev")
    lines = (SHARED_DATA / "purl2cpe" / "purl2cpe.tsv").read_text(encoding="utf-8").splitlines()
    kept = [lines[0]] + [line for line in lines[1:] if line.split("\t")[-1] in LINKED_PURLS]
    links = folder / "purl2cpe.tsv"
    links.write_text("\n".join(kept) + "\n", encoding="utf-8")
    import_path(store, links)


def import_held_back(store: Store) -> None:
    path = SHARED_DATA / "osv" / "pypi" / HELD_BACK
    import_blobs(store, _blobs([path]), origin="test-new")


def sbom_file(path: Path, purls: list[str], name: str = "product") -> Path:
    """A CycloneDX JSON SBOM listing the packages (purls with versions)."""
    from packageurl import PackageURL

    components = []
    for purl in purls:
        parsed = PackageURL.from_string(purl)
        components.append(
            Component(parsed.name, parsed.version, group=parsed.namespace, purl=purl, bom_ref=purl)
        )
    write(Document(name=name, components=components, tools=[Tool("pytest", "mamori tests", "1")]), path)
    return path


@pytest.fixture(scope="session")
def knowledge_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the test knowledge base, built once and copied by each test."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent (only present in the mamori workplace and CI)")
    folder = tmp_path_factory.mktemp("portfolio-kb")
    path = folder / "kb.db"
    with open_store(path) as store:
        import_knowledge(store, folder)
    return path


@contextlib.contextmanager
def pg_knowledge_base(folder: Path) -> Iterator[str]:
    """A PostgreSQL database (MAMORI_TEST_PG_URL) holding the test knowledge base, its name yielded, dropped
    afterwards: the template the ``kb`` fixture copies (``pg_knowledge_template`` in conftest.py)."""
    assert PG_URL is not None
    with throwaway_postgres(PG_URL, prefix="mamori_kb_template") as url:
        with open_store(url) as store:  # closed before any copy: a template must have no connections
            import_knowledge(store, folder)
        yield make_url(url).database or ""


@pytest.fixture(params=BACKENDS)
def kb(request: pytest.FixtureRequest, tmp_path: Path, knowledge_template: Path) -> Iterator[Store]:
    """An open store holding the test knowledge base: a copy of the SQLite template, or a throw-away
    PostgreSQL database (MAMORI_TEST_PG_URL) copied from the PostgreSQL template."""
    if request.param == "sqlite":
        path = tmp_path / "kb.db"
        shutil.copy(knowledge_template, path)
        with open_store(path) as store:
            yield store
        return
    assert PG_URL is not None
    template = request.getfixturevalue("pg_knowledge_template")
    with (
        throwaway_postgres(PG_URL, prefix="mamori_portfolio", template=template) as url,
        open_store(url) as store,
    ):
        yield store

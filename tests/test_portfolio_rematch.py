"""Matching the portfolio: the same findings as ``mamori scan`` for every release, one evaluation per
component identity, and changed-only runs that re-match exactly the components an import touched
(SQLite always, PostgreSQL when MAMORI_TEST_PG_URL is set)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from mamori.portfolio import add_product, match_release, original_bytes, rematch, store_sbom
from mamori.portfolio import tables as t
from mamori.portfolio.views import release
from mamori.sbom import read
from mamori.scan.run import scan_document
from mamori.store import Store, open_store
from mamori.vulndb import Blob, import_blobs, import_path
from mamori.vulndb.coverage import CoverageClaim
from portfolio_support import (
    DROPWIZARD,
    SHARED_DATA,
    import_held_back,
    import_knowledge,
    kb,
    knowledge_template,
    sbom_file,
)

__all__ = ["kb", "knowledge_template"]  # fixtures used below

DJANGO_OLD = "pkg:pypi/django@1.11.20"
DJANGO_NEW = "pkg:pypi/django@2.2.0"
OLD = "django@1.11.20"
RELEASE_A = [
    DJANGO_OLD,
    "pkg:pypi/jinja2@2.10",
    "pkg:pypi/requests@2.19.0",
    "pkg:pypi/urllib3@1.24.1",
    "pkg:pypi/pyyaml@5.1",
    "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.10",
]
RELEASE_B = [DJANGO_OLD, "pkg:pypi/requests@2.19.0"]
OTHER = [DJANGO_NEW, "pkg:pypi/urllib3@1.24.1"]


def _portfolio(store: Store, tmp_path: Path) -> dict[tuple[str, str], Path]:
    """Two products, three releases; django 1.11.20 is in two of them."""
    add_product(store, "shop", "ACME")
    add_product(store, "gateway")
    files = {
        ("shop", "1.0"): sbom_file(tmp_path / "shop-1.0.cdx.json", RELEASE_A, "shop"),
        ("shop", "1.1"): sbom_file(tmp_path / "shop-1.1.cdx.json", RELEASE_B, "shop"),
        ("gateway", "3.0"): sbom_file(tmp_path / "gateway-3.0.cdx.json", OTHER, "gateway"),
    }
    for (product, version), path in files.items():
        store_sbom(store, product, version, path, who="tester")
    return files


def _label(name: str, version: str | None) -> str:
    return f"{name}@{version}"


def _scan_pairs(store: Store, path: Path) -> set[tuple[str, str]]:
    """(component name@version, vulnerability id) of every finding ``mamori scan`` gives."""
    result = scan_document(read(path), store, target=str(path), sbom_format="cyclonedx-json")
    return {(_label(f.component.name, f.component.version), f.vulnerability.id) for f in result.findings}


def _open_pairs(store: Store, product: str, version: str) -> set[tuple[str, str]]:
    view = release(store, product, version)
    return {
        (_label(f["component"]["name"], f["component"]["version"]), f["vulnerability"]["id"])
        for f in view["findings"]
    }


def _all_open(
    store: Store, files: dict[tuple[str, str], Path]
) -> dict[tuple[str, str], set[tuple[str, str]]]:
    return {key: _open_pairs(store, *key) for key in files}


def test_release_findings_are_those_of_scan(kb: Store) -> None:
    """dropwizard 1.3.15 stored as a release gets exactly the findings ``mamori scan`` gives."""
    path = DROPWIZARD / "bom.json"
    add_product(kb, "dropwizard")
    stored = store_sbom(kb, "dropwizard", "1.3.15", path)
    summary = match_release(kb, stored.sbom_id, stored.previous_sbom_id)
    expected = _scan_pairs(kb, path)
    assert len(expected) >= 10  # jackson-databind, h2 and snakeyaml CVEs through purl2cpe
    assert _open_pairs(kb, "dropwizard", "1.3.15") == expected
    assert summary.opened == len(expected) and summary.components == stored.components
    view = release(kb, "dropwizard", "1.3.15")
    methods = {f["match"]["method"] for f in view["findings"]}
    assert methods == {"purl2cpe"}
    assert all(f["first_seen"] and f["last_seen"] and f["status"] == "open" for f in view["findings"])


def test_full_rematch_evaluates_each_identity_once(kb: Store, tmp_path: Path) -> None:
    files = _portfolio(kb, tmp_path)
    summary = rematch(kb)
    distinct = len(set(RELEASE_A) | set(RELEASE_B) | set(OTHER))
    assert summary.mode == "full"
    assert summary.components == distinct
    assert summary.placements == len(RELEASE_A) + len(RELEASE_B) + len(OTHER)
    assert summary.releases == 3
    found = _all_open(kb, files)
    for key, path in files.items():
        assert found[key] == _scan_pairs(kb, path), key
    shared = {v for c, v in found[("shop", "1.0")] if c == OLD}
    assert shared and shared == {v for c, v in found[("shop", "1.1")] if c == OLD}
    assert summary.opened == sum(len(v) for v in found.values()) == summary.open_findings
    again = rematch(kb)
    assert (again.opened, again.reopened, again.resolved) == (0, 0, 0)


def test_preload_counts_an_sbom_current_in_two_releases_once(kb: Store, tmp_path: Path) -> None:
    """A full run reads the placements in one scan; an SBOM that is current in two releases (only a
    hand-edited store has one) stands for one release there too, as when they are read per batch."""
    from mamori.match import Matcher
    from mamori.portfolio.rematch import Engine

    _portfolio(kb, tmp_path)

    def placements() -> tuple[dict[int, set[int]], dict[int, set[int]]]:
        with kb.engine.connect() as conn:
            whole = Engine(kb, Matcher(kb), 0, None)
            ids = whole.preload(conn)
            preloaded = whole._placements(conn, sorted(ids))
            batched = Engine(kb, Matcher(kb), 0, None)._placements(conn, sorted(ids))
        return preloaded, batched

    preloaded, batched = placements()
    assert preloaded == batched and sum(len(v) for v in preloaded.values()) == 10
    r = t.ReleaseRow.__table__
    with kb.engine.begin() as conn:
        shop = dict(
            conn.execute(
                select(r.c.version, r.c.current_sbom_id).where(r.c.version.in_(["1.0", "1.1"]))
            ).all()
        )
        conn.execute(r.update().where(r.c.version == "3.0").values(current_sbom_id=shop["1.1"]))
    preloaded, batched = placements()
    assert preloaded == batched
    # gateway 3.0's own SBOM is no longer current; shop 1.1's counts for one of the two releases
    assert sum(len(v) for v in preloaded.values()) == len(RELEASE_A) + len(RELEASE_B)


def test_new_advisory_rematches_only_the_package_it_names(kb: Store, tmp_path: Path) -> None:
    files = _portfolio(kb, tmp_path)
    rematch(kb)
    before = _all_open(kb, files)
    idle = rematch(kb, changed_only=True)
    assert (idle.mode, idle.components, idle.vulnerabilities_changed) == ("changed", 0, 0)
    import_held_back(kb)  # PYSEC-2019-11: django
    summary = rematch(kb, changed_only=True)
    assert summary.vulnerabilities_changed == 1
    assert summary.components == 2  # django 1.11.20 and 2.2.0, nothing else
    assert summary.placements == 3
    after = _all_open(kb, files)
    new = {key: after[key] - before[key] for key in files}
    found = kb.lookup("PYSEC-2019-11")
    assert found is not None
    vuln_id = found.vulnerability.id  # the merged id (its CVE)
    assert {v for pairs in new.values() for _, v in pairs} == {vuln_id}
    expected = sum(1 for key, path in files.items() if any(v == vuln_id for _, v in _scan_pairs(kb, path)))
    assert summary.opened == expected >= 2
    for key, path in files.items():
        assert after[key] == _scan_pairs(kb, path), key
    full = rematch(kb)
    assert (full.opened, full.reopened, full.resolved) == (0, 0, 0)


def _osv_json(path: Path, **changes: object) -> Blob:
    record = yaml.safe_load(path.read_text(encoding="utf-8"))
    record.update(changes)
    return Blob(path.stem + ".json", json.dumps(record, default=lambda v: v.isoformat()).encode())


def test_changed_record_opens_then_resolves_a_finding(kb: Store, tmp_path: Path) -> None:
    """PYSEC-2019-17 (django 1.11 before 1.11.18) does not affect 1.11.20 — until a changed copy of the
    record lists 1.11.20, and again not once the original comes back."""
    files = _portfolio(kb, tmp_path)
    rematch(kb)
    source = SHARED_DATA / "osv" / "pypi" / "django" / "PYSEC-2019-17.yaml"
    original = yaml.safe_load(source.read_text(encoding="utf-8"))
    affected = dict(original["affected"][0])
    affected["versions"] = [*affected.get("versions", []), "1.11.20"]
    import_blobs(kb, [_osv_json(source, modified="2026-11-22T00:00:00Z", affected=[affected])], origin="t")
    opened = rematch(kb, changed_only=True)
    assert (opened.vulnerabilities_changed, opened.components, opened.opened) == (1, 2, 2)
    found = kb.lookup("PYSEC-2019-17")
    assert found is not None
    vuln_id = found.vulnerability.id
    for key in (("shop", "1.0"), ("shop", "1.1")):
        assert (OLD, vuln_id) in _open_pairs(kb, *key)
    import_blobs(kb, [_osv_json(source)], origin="t")
    closed = rematch(kb, changed_only=True)
    assert (closed.components, closed.opened, closed.resolved) == (2, 0, 2)
    view = release(kb, "shop", "1.1", include_resolved=True)
    gone = [f for f in view["findings"] if f["vulnerability"]["id"] == vuln_id]
    assert [(f["status"], f["resolution"]) for f in gone] == [("resolved", "not-matched")]
    assert gone[0]["resolved_at"] and gone[0]["first_seen"] <= gone[0]["resolved_at"]
    assert _open_pairs(kb, "shop", "1.1") == _scan_pairs(kb, files[("shop", "1.1")])


def test_new_revision_resolves_what_it_drops_and_keeps_history(kb: Store, tmp_path: Path) -> None:
    add_product(kb, "shop")
    first = sbom_file(tmp_path / "rev1.cdx.json", RELEASE_A)
    second = sbom_file(tmp_path / "rev2.cdx.json", [p for p in RELEASE_A if "jinja2" not in p])
    one = store_sbom(kb, "shop", "1.0", first)
    match_release(kb, one.sbom_id, one.previous_sbom_id)
    jinja = {v for c, v in _open_pairs(kb, "shop", "1.0") if c.startswith("jinja2@")}
    assert jinja  # jinja2 2.10 has advisories in the store
    two = store_sbom(kb, "shop", "1.0", second)
    assert (two.revision, two.previous_sbom_id) == (2, one.sbom_id)
    summary = match_release(kb, two.sbom_id, two.previous_sbom_id)
    assert summary.resolved == len(jinja) and summary.opened == 0
    view = release(kb, "shop", "1.0", include_resolved=True)
    removed = {f["vulnerability"]["id"] for f in view["findings"] if f["resolution"] == "component-removed"}
    assert removed == jinja
    assert [r["revision"] for r in view["revisions"]] == [1, 2]
    assert original_bytes(kb, "shop", "1.0", 1) == first.read_bytes()
    assert original_bytes(kb, "shop", "1.0") == second.read_bytes()
    back = store_sbom(kb, "shop", "1.0", first)  # the first SBOM again: revision 3, findings reopen
    reopened = match_release(kb, back.sbom_id, back.previous_sbom_id)
    assert (back.revision, reopened.reopened, reopened.opened) == (3, len(jinja), 0)


def test_full_rematch_resolves_and_reopens_and_counts_as_the_store(kb: Store, tmp_path: Path) -> None:
    """A full run (it reads the whole portfolio at once and counts its totals as it writes) resolves
    what a new revision dropped, reopens it when it comes back, and reports the totals the store holds."""
    from mamori.portfolio.rematch import RunSummary, _totals

    _portfolio(kb, tmp_path)
    first = sbom_file(tmp_path / "rev1.cdx.json", RELEASE_A)
    second = sbom_file(tmp_path / "rev2.cdx.json", [p for p in RELEASE_A if "jinja2" not in p])
    store_sbom(kb, "shop", "1.0", first)
    rematch(kb)
    jinja = {v for c, v in _open_pairs(kb, "shop", "1.0") if c.startswith("jinja2@")}
    assert jinja
    store_sbom(kb, "shop", "1.0", second)
    dropped = rematch(kb)
    assert (dropped.mode, dropped.resolved, dropped.opened, dropped.reopened) == ("full", len(jinja), 0, 0)
    view = release(kb, "shop", "1.0", include_resolved=True)
    removed = {f["vulnerability"]["id"] for f in view["findings"] if f["resolution"] == "component-removed"}
    assert removed == jinja
    store_sbom(kb, "shop", "1.0", first)
    back = rematch(kb)
    assert (back.reopened, back.opened, back.resolved) == (len(jinja), 0, 0)
    counted = RunSummary(0, "")
    with kb.engine.connect() as conn:
        _totals(conn, counted)
    assert back.open_findings == counted.open_findings > 0
    assert back.by_rating == counted.by_rating
    assert back.not_evaluated == counted.not_evaluated
    assert back.not_evaluated_by_reason == counted.not_evaluated_by_reason


def test_new_purl2cpe_link_rematches_that_package(kb: Store, tmp_path: Path) -> None:
    _portfolio(kb, tmp_path)
    rematch(kb)
    lines = (SHARED_DATA / "purl2cpe" / "purl2cpe.tsv").read_text(encoding="utf-8").splitlines()
    django = [line for line in lines[1:] if line.split("\t")[-1] == "pkg:pypi/django"]
    assert django
    links = tmp_path / "purl2cpe.tsv"
    links.write_text("\n".join([lines[0], *django]) + "\n", encoding="utf-8")
    import_path(kb, links)
    summary = rematch(kb, changed_only=True)
    assert (summary.vulnerabilities_changed, summary.components) == (0, 2)


def test_an_uncovered_ecosystem_is_noted_until_a_complete_feed_comes(
    shared_data: Path, tmp_path: Path
) -> None:
    """jackson-databind (Maven) with no complete Maven feed: a ``coverage`` note, counted and shown, its
    purl2cpe findings kept; a complete Maven feed resolves the note in the next changed-only run."""
    with open_store(tmp_path / "kb.db") as store:
        import_knowledge(store, tmp_path, osv_scopes=("PyPI",))
        _portfolio(store, tmp_path)
        first = rematch(store)
        assert first.not_evaluated_by_reason == {"coverage": 1} and first.not_evaluated == 1
        view = release(store, "shop", "1.0")
        (note,) = view["not_evaluated"]
        assert (note["component"]["name"], note["vulnerability"], note["reason_code"]) == (
            "jackson-databind",
            "coverage:Maven",
            "coverage",
        )
        assert note["reason"] == "no Maven data in the knowledge base"
        assert view["summary"]["not_evaluated_by_reason"] == {"coverage": 1}
        assert any(f["component"]["name"] == "jackson-databind" for f in view["findings"])
        assert {(c["scope"], c["complete"]) for c in view["coverage"]} == {("PyPI", True), ("cpe", True)}
        assert rematch(store, changed_only=True).components == 0
        empty = tmp_path / "maven-export"
        empty.mkdir()  # an ecosystem export with no record still vouches for the ecosystem
        import_path(store, empty, complete=[CoverageClaim("osv", ("Maven",))])
        covered = rematch(store, changed_only=True)
        assert (covered.components, covered.resolved, covered.not_evaluated) == (1, 1, 0)
        assert release(store, "shop", "1.0")["not_evaluated"] == []


def test_and_configuration_is_decided_per_release(tmp_path: Path) -> None:
    """An identity shared by two releases, in a configuration that needs a second vulnerable product of
    the same SBOM: only the release that also ships that product is affected.

    The record is CVE-2017-5638 from ../shared/data/nvd with its first configuration rewritten into an
    AND of struts 2.3.5 and commons-fileupload 1.3.2 (a constructed variant: no real NVD record in the
    shared data has two vulnerable nodes under AND)."""
    source = SHARED_DATA / "nvd" / "CVE-2017-5638-cvssv3-rating.json"
    if not source.exists():
        pytest.skip(f"{source} is absent")
    record = json.loads(source.read_text(encoding="utf-8"))

    def node(criteria: str) -> dict[str, object]:
        return {"operator": "OR", "negate": False, "cpeMatch": [{"vulnerable": True, "criteria": criteria}]}

    record["cve"]["configurations"] = [
        {
            "operator": "AND",
            "nodes": [
                node("cpe:2.3:a:apache:struts:2.3.5:*:*:*:*:*:*:*"),
                node("cpe:2.3:a:apache:commons_fileupload:1.3.2:*:*:*:*:*:*:*"),
            ],
        }
    ]
    (tmp_path / "and.json").write_text(json.dumps(record), encoding="utf-8")
    from mamori.model.sbom import Component, Document
    from mamori.sbom import write

    struts = Component("struts2-core", "2.3.5", cpes=["cpe:2.3:a:apache:struts:2.3.5:*:*:*:*:*:*:*"])
    upload = Component(
        "commons-fileupload", "1.3.2", cpes=["cpe:2.3:a:apache:commons_fileupload:1.3.2:*:*:*:*:*:*:*"]
    )
    write(Document(name="a", components=[struts, upload]), tmp_path / "a.cdx.json")
    write(Document(name="b", components=[struts]), tmp_path / "b.cdx.json")
    with open_store(tmp_path / "kb.db") as store:
        import_path(store, tmp_path / "and.json")
        add_product(store, "web")
        store_sbom(store, "web", "a", tmp_path / "a.cdx.json")
        store_sbom(store, "web", "b", tmp_path / "b.cdx.json")
        summary = rematch(store)
        assert summary.components == 2 and summary.placements == 3
        a, b = _open_pairs(store, "web", "a"), _open_pairs(store, "web", "b")
        assert {v for _, v in a} == {"CVE-2017-5638"} and len(a) == 2
        assert b == set()
        assert b == _scan_pairs(store, tmp_path / "b.cdx.json")
        with store.engine.connect() as conn:
            assert conn.scalar(select(t.MatchRow.__table__.c.vuln_id).limit(1)) == "CVE-2017-5638"

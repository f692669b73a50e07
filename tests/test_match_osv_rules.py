"""OSV evaluation rules on real records (../shared/data/osv): limit, several ranges, SEMVER, GIT-only,
Debian releases, enumerated versions, unknown ecosystems, withdrawn records."""

from __future__ import annotations

import orjson
import pytest

from conftest import SHARED_DATA
from mamori.match.purl import evaluate, parse_affected
from mamori.model.sbom import Component
from mamori.scan.run import scan_document
from mamori.vulndb import osv
from match_support import build_store, document

MISC = SHARED_DATA / "osv" / "misc"
PYPI = SHARED_DATA / "osv" / "pypi"


def _entries(path):
    records = list(osv.parse_bytes(path.name, path.read_bytes()))
    return [
        parse_affected(r.id, a) for r in records for a in orjson.loads(orjson.dumps(r))["affected_packages"]
    ]


def test_several_ranges_limit_and_semver(shared_data) -> None:
    entries = _entries(MISC / "osv-vulnerability-with-ranges.json")
    two_ranges = entries[2]  # ECOSYSTEM [1, 2) ∪ [3, 4) and SEMVER [0, 1)
    assert [evaluate(two_ranges, v).affected for v in ("0.5", "1.5", "2.5", "3.5", "4")] == [
        True,
        True,
        False,
        True,
        False,
    ]
    assert evaluate(two_ranges, "1.5").fixed == "2"
    limited = entries[5]  # introduced 10, limit 13
    assert [evaluate(limited, v).affected for v in ("9", "12.9", "13")] == [False, True, False]
    unordered = entries[3]  # fixed 2, introduced 3, introduced 4, fixed 5 (events out of order)
    assert [evaluate(unordered, v).affected for v in ("1", "3", "4.5", "5")] == [False, True, True, False]
    assert evaluate(entries[0], "1.0.1.RELEASE").affected is True  # listed, no range
    assert evaluate(entries[0], "1.0.1.RELEASE").method == "purl-version-list"
    assert evaluate(entries[0], "1.0.2.RELEASE").affected is False


def test_git_only_ranges_use_the_versions_list(shared_data) -> None:
    (entry,) = _entries(MISC / "osv-git-commit-hash-ranges.json")
    assert entry.has_git and not entry.ranges
    assert evaluate(entry, "5.4.0-git").affected is True
    assert evaluate(entry, "9.9.9").affected is False


def test_unknown_ecosystem_cannot_be_told(shared_data) -> None:
    (entry,) = _entries(MISC / "osv-vulnerability-no-range.json")
    verdict = evaluate(entry, "1.0.0")
    assert verdict.affected is None and "neither ranges nor versions" in (verdict.reason or "")


def test_debian_release_and_version_rules(shared_data) -> None:
    deb11, deb12 = _entries(MISC / "osv-DSA-5474-1.json")
    assert evaluate(deb11, "3.20230512.1~deb11u1").affected is True
    assert evaluate(deb11, "3.20230808.1~deb11u1").affected is False
    assert evaluate(deb11, "3.20230808.1~deb11u1").affected is False
    assert evaluate(deb12, "3.20230512.1").affected is True  # ~deb12u1 sorts before the plain version
    assert evaluate(deb12, "3.20230808.1").affected is False


def test_go_semver_and_exact_npm(shared_data) -> None:
    (argo,) = _entries(MISC / "osv-git-conflict-upper-bound-range.json")
    assert evaluate(argo, "v2.1.15").affected and not evaluate(argo, "v2.1.16").affected
    (mal,) = _entries(MISC / "osv-vulnerability-exact-version.json")
    assert evaluate(mal, "103.99.99").affected is True


def test_withdrawn_records_give_no_finding(shared_data, tmp_path) -> None:
    withdrawn = PYPI / "redis" / "PYSEC-2023-73.yaml"
    assert b"withdrawn:" in withdrawn.read_bytes()
    with build_store(tmp_path, [withdrawn], complete=True) as kb:
        result = scan_document(
            document(Component("redis", "1.34", purl="pkg:pypi/redis@1.34")), kb, target="t", sbom_format="x"
        )
    assert result.findings == [] and result.not_evaluated == []


@pytest.mark.parametrize(("distro", "count"), [("debian-11", 1), ("debian-12", 1), (None, 1)])
def test_debian_purl_release_selects_the_entry(shared_data, tmp_path, distro, count) -> None:
    qualifier = f"&distro={distro}" if distro else ""
    purl = f"pkg:deb/debian/intel-microcode@3.20230512.1?arch=source{qualifier}"
    with build_store(tmp_path, [MISC / "osv-DSA-5474-1.json"]) as kb:
        result = scan_document(
            document(Component("intel-microcode", "3.20230512.1", purl=purl)), kb, target="t", sbom_format="x"
        )
    assert len(result.findings) == count
    fixed = {"debian-11": ["3.20230808.1~deb11u1"], "debian-12": ["3.20230808.1~deb12u1"]}
    if distro:
        assert result.findings[0].fixed_versions == fixed[distro]

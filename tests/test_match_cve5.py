"""CVE 5 version rules: commit hashes are no versions, ``*`` series bounds, ``defaultStatus``.

Product entries in the stored form of the importer, in the shapes real records use (the Linux
kernel CNA's branches, CISA ADP's copies of its git ranges, converted old records).
"""

from __future__ import annotations

from typing import Any

import pytest

from mamori.match.cve5 import commit_like, evaluate_product, version_text


def _product(*entries: dict[str, Any], default: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"record_id": "CVE-TEST", "versions": list(entries), "default_status": default, **extra}


def _range(start: str, status: str = "affected", vt: str | None = "custom", **bounds: Any) -> dict[str, Any]:
    keys = {"lt": "less_than", "lte": "less_than_or_equal", "changes": "changes"}
    return {"version": start, "status": status, "version_type": vt, **{keys[k]: v for k, v in bounds.items()}}


# -- values that are no versions ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "commit", "version"),
    [
        ("958cb1078ca6", True, False),
        ("1da177e4c3f4", True, False),
        ("da177e4c3f4", True, False),  # CISA ADP's copy of 1da177e4c3f4 lost a digit
        ("afd30525a659ac0ae0904f0cb4a2ca75522c3123", True, False),
        ("20210101", False, True),  # all digits: a date-like version, not a commit
        ("5.10.47", False, True),
        ("v6.1-rc1", False, True),
        ("Before v2.24.1", False, False),
        ("<= 4.4.11", False, False),
        ("publication", False, False),
        ("unspecified", False, False),
        ("pkg:npm/sysend@1.10.0", False, False),
    ],
)
def test_commit_hashes_and_text_are_no_versions(text: str, commit: bool, version: bool) -> None:
    assert commit_like(text) is commit
    assert version_text(text) is version


def test_a_commit_range_under_custom_is_never_compared_with_a_release() -> None:
    # CISA ADP's copy of a kernel git range, typed custom (CVE-2021-47284)
    hashed = _range("1da177e4c3f4", lt="958cb1078ca6")
    for default in (None, "unknown", "unaffected"):
        verdict = evaluate_product(_product(hashed, default=default), "6.1.0", None, "linux")
        assert verdict.affected is None, default  # might be inside the commit range: cannot tell
        assert verdict.fixed is None and "cannot be compared" in (verdict.reason or "")
    # every status the product could give is "affected": affected, with no fix (no hash as fix)
    every = evaluate_product(_product(hashed, default="affected"), "6.1.0", None, "linux")
    assert every.affected is True and every.fixed is None
    assert "958cb1078ca6" not in every.detail
    git = _range("1da177e4c3f4", vt="git", lt="958cb1078ca6")
    assert evaluate_product(_product(git, default="unaffected"), "6.1.0", None, "linux").affected is None


def test_comparable_entries_decide_next_to_commit_ranges() -> None:
    product = _product(
        _range("1da177e4c3f4", lt="958cb1078ca6"),
        _range("5.10.44", "unaffected", lte="5.10.*"),
        _range("5.13", "unaffected", vt="original_commit_for_fix", lte="*"),
        default="affected",
    )
    assert evaluate_product(product, "6.1.0", None, "linux").affected is False
    assert evaluate_product(product, "5.10.100", None, "linux").affected is False
    # not covered by a comparable entry, but maybe by the commit range (status affected) or the
    # default (affected): affected either way, the fix is the next unaffected release
    verdict = evaluate_product(product, "5.10.20", None, "linux")
    assert verdict.affected is True and verdict.fixed == "5.10.44"
    assert "958cb1078ca6" not in verdict.detail and "5.10.44" in verdict.detail


# -- "*" bounds: infinity, not a wildcard -------------------------------------------------------


@pytest.mark.parametrize(
    ("installed", "covered"),
    [("0.9", False), ("1.0", True), ("1.9.9", True), ("2.0", True), ("2.99.1", True), ("3.0", False)],
)
def test_less_than_a_series_covers_the_whole_series(installed: str, covered: bool) -> None:
    # the schema's own example: {version: 1.0, lessThan: 2.*} is the entire 1.X and 2.X series
    product = _product(_range("1.0", vt="semver", lt="2.*"), default="unaffected")
    assert evaluate_product(product, installed, None, "x").affected is covered


@pytest.mark.parametrize(
    ("installed", "affected", "fixed"),
    [
        ("5.9.3", False, None),  # "0 lessThan 5.10": before the vulnerable code came in
        ("5.10", True, "5.10.47"),  # the release the CNA names affected
        ("5.10.46", True, "5.10.47"),  # in no entry: defaultStatus affected
        ("5.10.47", False, None),
        ("5.10.200", False, None),  # "5.10.47 lessThanOrEqual 5.10.*": the rest of the 5.10 series
        ("5.11.2", True, "5.13"),  # past 5.10.*: outside that unaffected range
        ("5.13", False, None),
        ("6.1.0", False, None),
    ],
)
def test_kernel_branch_pattern(installed: str, affected: bool, fixed: str | None) -> None:
    # the kernel CNA's release-number product (CVE-2021-47284 and others)
    product = _product(
        {"version": "5.10", "status": "affected"},
        _range("0", "unaffected", lt="5.10"),
        _range("5.10.47", "unaffected", lte="5.10.*"),
        _range("5.13", "unaffected", vt="original_commit_for_fix", lte="*"),
        default="affected",
    )
    verdict = evaluate_product(product, installed, None, "linux")
    assert (verdict.affected, verdict.fixed) == (affected, fixed)


def test_a_series_bound_covers_lower_series_from_its_start() -> None:
    product = _product(_range("0", lte="5.10.*"), default="unaffected")
    assert evaluate_product(product, "4.19.300", None, "x").affected is True
    assert evaluate_product(product, "5.10.999", None, "x").affected is True
    assert evaluate_product(product, "5.11", None, "x").affected is False
    branch = _product(_range("5.10.47", "unaffected", lte="5.10.*"), default="affected")
    assert evaluate_product(branch, "5.9.3", None, "x").fixed == "5.10.47"  # below its start


# -- defaultStatus ------------------------------------------------------------------------------


def test_default_status_decides_outside_every_entry() -> None:
    fixed_in = _range("2.0", "unaffected", vt="semver", lt="*")
    affected = evaluate_product(_product(fixed_in, default="affected"), "1.4.0", None, "x")
    assert affected.affected is True and affected.fixed == "2.0"
    assert evaluate_product(_product(fixed_in, default="unaffected"), "1.4.0", None, "x").affected is False
    assert evaluate_product(_product(fixed_in, default="unknown"), "1.4.0", None, "x").affected is False
    assert evaluate_product(_product(fixed_in), "1.4.0", None, "x").affected is False
    assert evaluate_product(_product(fixed_in, default="affected"), "2.1.0", None, "x").affected is False
    # no entries: the default alone
    assert evaluate_product(_product(default="affected"), "9.9", None, "x").affected is True
    assert evaluate_product(_product(default="unaffected"), "9.9", None, "x").affected is False


def test_bounds_that_are_no_versions_only_exclude_what_the_other_bound_excludes() -> None:
    # real records write "lessThan: unspecified" for an open or unknown end
    product = _product(_range("8.14.0", lt="unspecified"), default="unaffected")
    assert evaluate_product(product, "8.13.2", None, "x").affected is False  # below the start
    assert evaluate_product(product, "8.15.0", None, "x").affected is None
    text = _product({"version": "Before v2.24.1", "status": "affected"}, default="unknown")
    assert evaluate_product(text, "2.20.0", None, "git").affected is None


def test_changes_are_resorted_and_give_the_next_fix() -> None:
    entry = _range(
        "2.0.0",
        vt="semver",
        lt="2.*",
        changes=[
            {"at": "2.6.3", "status": "unaffected"},
            {"at": "2.5.2", "status": "unaffected"},
            {"at": "2.6.0", "status": "affected"},
        ],
    )
    product = _product(entry, default="unaffected")
    cases = {
        "2.5.1": (True, "2.5.2"),
        "2.5.5": (False, None),
        "2.6.1": (True, "2.6.3"),
        "2.7.0": (False, None),
    }
    for installed, (affected, fixed) in cases.items():
        verdict = evaluate_product(product, installed, None, "x")
        assert (verdict.affected, verdict.fixed) == (affected, fixed), installed

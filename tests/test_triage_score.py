"""The priority score within an SSVC outcome: (1 + √p) × CVSS with p = EPSS, or 1 for KEV."""

from __future__ import annotations

import math

import pytest

from mamori.scan.result import ComponentRef
from mamori.triage.engine import Subject, group_by_outcome, triage
from mamori.triage.facts import Cvss, EpssFact, Facts, KevFact
from mamori.triage.score import priority_score
from mamori.triage.variants import overrides, variant


def test_formula_values() -> None:
    assert priority_score(9.8, None, False) == 9.8  # no EPSS: the CVSS score itself
    assert priority_score(9.8, 0.04, False) == round(1.2 * 9.8, 2)
    assert priority_score(7.5, 0.25, False) == 11.25
    assert priority_score(5.0, 0.01, True) == 10.0  # KEV: p = 1, twice the CVSS score
    assert priority_score(10.0, 1.0, False) == priority_score(10.0, 0.0, True) == 20.0
    assert priority_score(None, 0.9, True) is None
    assert priority_score(6.1, 1.7, False) == round(2 * 6.1, 2)  # EPSS clamped to a probability
    with pytest.raises(ValueError):
        priority_score(11.0, None, False)


def test_kev_ranks_at_least_as_high_as_any_epss_for_the_same_cvss() -> None:
    for cvss in (3.1, 5.0, 7.5, 9.8):
        kev = priority_score(cvss, None, True)
        assert all(priority_score(cvss, e / 100, False) <= kev for e in range(101))
    # the square root lifts small probabilities: EPSS 0.01 already adds 10 %
    assert math.isclose(priority_score(8.0, 0.01, False), 8.8)


def test_order_within_an_outcome() -> None:
    def facts(vid: str, score: float | None, epss: float | None = None, kev: bool = False) -> Facts:
        return Facts(
            vuln_id=vid,
            cvss=Cvss("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", score)
            if score is not None
            else None,
            epss=EpssFact(vid, epss) if epss is not None else None,
            kev=KevFact(vid) if kev else None,
        )

    v = variant("user", "high")
    same = overrides(
        v, {"exploitation": "none", "automatable": "no", "exposure": "small", "human_impact": "low"}
    )
    items = [
        Subject(facts("CVE-A", 9.8), ComponentRef("a")),
        Subject(facts("CVE-B", 7.5, epss=0.5), ComponentRef("b")),
        Subject(facts("CVE-C", None), ComponentRef("c")),
        Subject(facts("CVE-D", 6.0, kev=True), ComponentRef("d")),
    ]
    decided = triage(items, v, None, same)
    groups = group_by_outcome(decided)
    assert [g[0].id for g in groups] == ["defer"]
    order = [(t.subject.facts.vuln_id, t.score) for t in groups[0][1]]
    assert order == [("CVE-C", None), ("CVE-B", 12.8), ("CVE-D", 12.0), ("CVE-A", 9.8)]

"""A priority score to order findings *within* one SSVC outcome (docs/triage-score.md).

    score = (1 + √p) × CVSS base score,   p = 1 when the CVE is in CISA KEV, else its EPSS probability (0 if none)

The form is the one proposed for Dependency-Track (PR #5349): CVSS measures how bad a successful attack
is, EPSS how likely an attempt is within 30 days, and the square root lifts small probabilities so that
an EPSS of 0.01 already adds 10 % while the maximum only doubles the score. Known exploitation (KEV) is
the certainty EPSS estimates, so it takes the formula's maximum p = 1: a KEV finding scores 2 × CVSS,
never below any non-KEV finding with the same CVSS. The range is 0-20. Without a CVSS base score there is
no score (None): such findings are listed first in their outcome, as "not scored", never as least urgent.
"""

from __future__ import annotations

import math

from mamori.triage.facts import Facts

KEV_PROBABILITY = 1.0


def priority_score(cvss: float | None, epss: float | None, kev: bool) -> float | None:
    """(1 + √p) × CVSS rounded to two decimals; None without a CVSS base score."""
    if cvss is None:
        return None
    if not 0.0 <= cvss <= 10.0:
        raise ValueError(f"CVSS base score out of range: {cvss}")
    p = KEV_PROBABILITY if kev else min(max(epss or 0.0, 0.0), 1.0)
    return round((1.0 + math.sqrt(p)) * cvss, 2)


def score_facts(facts: Facts) -> float | None:
    return priority_score(
        facts.cvss.score if facts.cvss is not None else None,
        facts.epss.score if facts.epss is not None else None,
        facts.kev is not None,
    )


def order_key(outcome_rank: int, score: float | None) -> tuple[int, int, float]:
    """Sort key: most urgent outcome first, then unscored findings, then highest score."""
    return (-outcome_rank, 0 if score is None else 1, -(score or 0.0))

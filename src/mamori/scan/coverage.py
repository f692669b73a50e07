"""The coverage a scan used: which scopes its components were looked up in, whether the knowledge base
holds each whole (a complete feed) and how old that feed is; and the ``--max-age`` it is judged by.

A scope is an OSV ecosystem (``PyPI``, ``npm``, ``Debian`` …) or ``cpe`` (NVD, JVN, CVE 5); see
:mod:`mamori.vulndb.coverage` for how imports make a scope complete or partial, and
:mod:`mamori.match.matcher` for how a component without a complete scope becomes "not evaluated".
A complete feed older than the maximum age makes the scope *stale*; the demo set is never judged by
age (its scan passes no maximum).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from mamori.errors import InputError
from mamori.i18n import _
from mamori.match import Matcher, MatchOutput
from mamori.match.reasons import COVERAGE
from mamori.match.target import Target
from mamori.scan.result import Coverage, ScopeCoverage
from mamori.vulndb.coverage import CPE_SCOPE, age_days

DEFAULT_MAX_AGE = timedelta(days=7)
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dhw]?)\s*$", re.IGNORECASE)
_UNIT = {"": 1.0, "d": 1.0, "h": 1 / 24, "w": 7.0}


def parse_max_age(value: str) -> timedelta | None:
    """``7d``, ``36h``, ``2w`` or a number of days; ``0`` means no age check (None)."""
    found = _AGE.match(value or "")
    if found is None:
        raise InputError(
            None, _("--max-age: expected a duration such as 7d, 36h or 0, got {value!r}").format(value=value)
        )
    days = float(found.group(1)) * _UNIT[found.group(2).lower()]
    if days > 36500:
        raise InputError(None, _("--max-age: {value!r} is more than 100 years").format(value=value))
    return timedelta(days=days) if days > 0 else None


def scan_coverage(
    matcher: Matcher,
    targets: Sequence[Target],
    output: MatchOutput,
    *,
    now: datetime,
    max_age: timedelta | None,
) -> Coverage:
    """The :class:`Coverage` of one scan: per scope its components were looked up in."""
    knowledge = matcher.knowledge
    status = knowledge.status()
    used: dict[str, set[int]] = {}
    for i, scopes in enumerate(matcher.scopes_of(targets)):
        for scope in scopes:
            used.setdefault(scope, set()).add(i)
    missing: dict[str, set[int]] = {}
    for skip in output.skipped:
        if skip.code == COVERAGE:
            scope = str(dict(skip.values).get("scope"))
            missing.setdefault(scope, set()).add(skip.component)
            used.setdefault(scope, set()).add(skip.component)
    limit = max_age.total_seconds() / 86400 if max_age is not None else None
    scopes: list[ScopeCoverage] = []
    for scope in sorted(used, key=lambda s: (s == CPE_SCOPE, s.lower())):
        state = knowledge.scope(scope)
        feed = state.feed
        entry = ScopeCoverage(
            scope=scope,
            complete=feed is not None,
            records=state.records,
            sources=sorted({str(r["source"]) for r in state.rows if r.get("records") or r["complete"]}),
            components=len(used[scope]),
            not_evaluated=len(missing.get(scope, ())),
        )
        if feed is not None:
            entry.source = str(feed["source"])
            entry.complete_at = feed.get("complete_at")
            entry.origin = feed.get("complete_origin")
            entry.age_days = age_days(entry.complete_at, now)
            entry.stale = limit is not None and entry.age_days is not None and entry.age_days > limit
        scopes.append(entry)
    updates = [str(s["updated_at"]) for s in status.get("sources", {}).values() if s.get("updated_at")]
    return Coverage(
        scopes=scopes,
        empty=not int(status.get("vulnerabilities") or 0),
        updated=max(updates) if updates else None,
        newest_record=knowledge.newest_record,
        max_age_days=round(limit, 4) if limit is not None else None,
    )

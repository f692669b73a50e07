"""SSVC inputs evidenced from data: exploitation, automatable and technical impact.

Each input is an :class:`Input`: the decision point, the value, its *basis* and where it came from.

- **exploitation** — the most severe of: listed in CISA KEV (catalog, CISA ADP or NVD) → ``active``;
  CISA ADP's SSVC exploitation value in the CVE 5 record (``none``/``poc``/``active``); an
  exploit-tagged reference (CVE 5 / NVD tag ``exploit``, OSV type ``EVIDENCE``) → ``public_poc``.
  Without any of these, ``none`` is evidenced *by absence* only when a KEV catalog was consulted;
  otherwise exploitation stays unknown.
- **automatable**, **technical impact** — CISA ADP's values when the record has them, else derived from
  the CVSS base vector by the rules in ``mamori/data/triage/cvss_rules.yaml`` (basis ``derived``; the
  file states the rules, their reasoning and their measured agreement with CISA's own decisions).

Bases: ``evidence`` (data says so), ``absence`` (sources consulted, nothing found), ``derived`` (a
documented rule applied to data), ``context`` (the user's context file), ``set`` (``--set`` on the
command line), ``assumed`` (unknown: the variant's fallback value).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from mamori.packaged import load_yaml_text
from mamori.triage.facts import Facts

Basis = Literal["evidence", "absence", "derived", "context", "set", "assumed"]
EVIDENCED: frozenset[str] = frozenset({"evidence", "absence", "derived", "context", "set"})
_EXPLOITATION_RANK = {"none": 0, "public_poc": 1, "active": 2}
_ADP_EXPLOITATION = {"none": "none", "poc": "public_poc", "public poc": "public_poc", "active": "active"}


@dataclass(frozen=True, slots=True)
class Input:
    """One decision-point value and why triage holds it."""

    point: str
    value: str
    basis: Basis
    source: str  # kev | cve5-adp | reference | cvss | context | --set | variant
    detail: str  # English
    detail_ja: str = ""  # Japanese (empty: the English text is language-neutral, e.g. a file key)

    @property
    def evidenced(self) -> bool:
        return self.basis in EVIDENCED

    def describe(self, lang: str = "en") -> str:
        return self.detail_ja if lang == "ja" and self.detail_ja else self.detail

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "value": self.value,
            "basis": self.basis,
            "source": self.source,
            "detail": self.describe(lang),
        }


@dataclass(frozen=True, slots=True)
class CvssRule:
    """How a decision point is derived from CVSS metrics."""

    point: str
    value: str
    otherwise: str
    when: dict[str, dict[str, tuple[str, ...]]]  # CVSS major version → metric → accepted values

    def apply(self, version: str, metrics: dict[str, str]) -> tuple[str, str] | None:
        """(value, the metrics that decided) or None when the rule has no clause for the version."""
        clause = self.when.get(version[:1])
        if clause is None:
            return None
        shown = "/".join(f"{m}:{metrics.get(m, '?')}" for m in clause)
        if all(metrics.get(m) in allowed for m, allowed in clause.items()):
            return self.value, shown
        return self.otherwise, shown


@cache
def cvss_rules() -> tuple[CvssRule, ...]:
    """The packaged CVSS → SSVC derivation rules (``data/triage/cvss_rules.yaml``)."""
    text = (resources.files("mamori") / "data" / "triage" / "cvss_rules.yaml").read_text(encoding="utf-8")
    raw = load_yaml_text(text)
    return tuple(
        CvssRule(
            point=str(r["point"]),
            value=str(r["value"]),
            otherwise=str(r["otherwise"]),
            when={
                str(v): {str(m): tuple(str(x) for x in allowed) for m, allowed in clause.items()}
                for v, clause in r["when"].items()
            },
        )
        for r in raw["rules"]
    )


@cache
def _metrics(vector: str, version: str) -> dict[str, str] | None:
    from cvss import CVSS2, CVSS3, CVSS4
    from cvss.exceptions import CVSSError

    cls = {"2": CVSS2, "3": CVSS3, "4": CVSS4}.get(version[:1])
    if cls is None:
        return None
    try:
        return dict(cls(vector).metrics)
    except (CVSSError, ValueError, KeyError, IndexError, TypeError):
        return None


def _exploitation(facts: Facts) -> Input | None:
    found: list[Input] = []
    if facts.kev is not None:
        what = {"kev": "CISA KEV catalog", "cve5": "CISA ADP (CVE 5) KEV entry", "nvd": "NVD cisaExploitAdd"}
        what_ja = {
            "kev": "CISA KEV カタログ",
            "cve5": "CVE 5 の CISA ADP KEV 情報",
            "nvd": "NVD の cisaExploitAdd",
        }
        k = facts.kev
        since = f", added {k.date_added}" if k.date_added else ""
        since_ja = f"（{k.date_added} 追加）" if k.date_added else ""
        found.append(
            Input(
                "exploitation",
                "active",
                "evidence",
                "kev",
                f"{k.cve_id} listed in {what.get(k.source, k.source)}{since}",
                f"{k.cve_id} は{what_ja.get(k.source, k.source)}に掲載{since_ja}",
            )
        )
    adp = facts.adp
    if adp is not None and adp.exploitation:
        value = _ADP_EXPLOITATION.get(adp.exploitation.strip().lower())
        if value is not None:
            when = f" {adp.timestamp}" if adp.timestamp else ""
            found.append(
                Input(
                    "exploitation",
                    value,
                    "evidence",
                    "cve5-adp",
                    f"{adp.provider or 'CISA-ADP'} SSVC exploitation={adp.exploitation}{when}",
                    f"{adp.provider or 'CISA-ADP'} の SSVC 判定 exploitation={adp.exploitation}{when}",
                )
            )
    if facts.exploit_refs:
        more = f" (+{len(facts.exploit_refs) - 1} more)" if len(facts.exploit_refs) > 1 else ""
        found.append(
            Input(
                "exploitation",
                "public_poc",
                "evidence",
                "reference",
                f"exploit-tagged reference {facts.exploit_refs[0]}{more}",
                f"exploit タグ付きの参照 {facts.exploit_refs[0]}{more}",
            )
        )
    if found:
        best = max(found, key=lambda i: _EXPLOITATION_RANK[i.value])
        others = [i for i in found if i is not best]
        if others:
            also = "; ".join(f"{i.source}: {i.value}" for i in others)
            return Input(
                best.point,
                best.value,
                best.basis,
                best.source,
                f"{best.detail} (also {also})",
                f"{best.detail_ja}（ほかに {also}）",
            )
        return best
    if facts.kev_checked:
        return Input(
            "exploitation",
            "none",
            "absence",
            "kev",
            "not in the CISA KEV catalog, no CISA ADP decision, no exploit-tagged reference",
            "CISA KEV カタログに未掲載、CISA ADP の判定なし、exploit タグ付きの参照なし",
        )
    return None


def _from_cvss(facts: Facts, rule: CvssRule) -> Input | None:
    if facts.cvss is None:
        return None
    metrics = _metrics(facts.cvss.vector, facts.cvss.version)
    if metrics is None:
        return None
    applied = rule.apply(facts.cvss.version, metrics)
    if applied is None:
        return None
    value, shown = applied
    return Input(
        rule.point,
        value,
        "derived",
        "cvss",
        f"CVSS {facts.cvss.version} {shown} (rule: cvss_rules.yaml)",
        f"CVSS {facts.cvss.version} の {shown} から導出（規則: cvss_rules.yaml）",
    )


def _from_adp(facts: Facts, point: str) -> Input | None:
    adp = facts.adp
    raw = getattr(adp, point) if adp is not None else None
    if not raw:
        return None
    value = raw.strip().lower()
    allowed = {"automatable": ("yes", "no"), "technical_impact": ("partial", "total")}[point]
    if value not in allowed:
        return None
    when = f" {adp.timestamp}" if adp and adp.timestamp else ""
    who = adp.provider or "CISA-ADP" if adp else "CISA-ADP"
    return Input(
        point,
        value,
        "evidence",
        "cve5-adp",
        f"{who} SSVC {point}={raw}{when}",
        f"{who} の SSVC 判定 {point}={raw}{when}",
    )


def gather(facts: Facts) -> dict[str, Input]:
    """Every input the data supports for this vulnerability, by point id (unknown points are absent)."""
    out: dict[str, Input] = {}
    exploitation = _exploitation(facts)
    if exploitation is not None:
        out["exploitation"] = exploitation
    for rule in cvss_rules():
        found = _from_adp(facts, rule.point) or _from_cvss(facts, rule)
        if found is not None:
            out[rule.point] = found
    return out

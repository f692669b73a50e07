"""A YAML policy for ``mamori scan --policy`` (and ``mamori triage --policy``): fail or warn on what a scan found.

Schema (documented with an example in docs/triage-policy.md)::

    version: 1
    rules:
      - id: kev                      # required, unique; named in every message
        action: fail                 # fail | warn
        kev: true                    # listed in CISA KEV
      - id: ssvc-urgent
        action: fail
        ssvc: [immediate, act]       # SSVC outcome in the list (any table's outcome values)
      - id: epss
        action: warn
        epss_above: 0.1              # EPSS probability strictly above
      - id: severe
        action: warn
        rating: [critical, high]     # CVSS rating in the list (critical high medium low none unknown)
      - id: not-triaged
        action: warn
        vex_status: [none, under_investigation]   # VEX status in the list; none = no statement
      - id: copyleft
        action: fail
        license_denied: [GPL-3.0-only, AGPL-3.0-only]
      - id: allow-list
        action: warn
        license_allowed: [MIT, Apache-2.0, BSD-3-Clause]
        message: {en: "...", ja: "..."}   # optional text added to the message

All conditions of a rule must hold. Finding conditions (``ssvc``, ``rating``, ``kev``, ``epss_above``,
``priority_above``, ``vex_status``) and licence conditions (``license_denied``, ``license_allowed``) do
not mix in one rule. Findings whose VEX status is ``not_affected`` or ``fixed`` have left the gate: only a
rule whose ``vex_status`` names that status looks at them. Licences are SPDX expressions read with
license-expression: ``license_denied`` fires when no choice in the expression avoids a denied licence,
``license_allowed`` when no choice uses allowed licences only, or when a component declares none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mamori.errors import InputError
from mamori.fileio import read_yaml
from mamori.i18n import _
from mamori.model.vex import VEX_STATUSES
from mamori.triage import ssvc

ACTIONS = ("fail", "warn")
RATINGS = ("critical", "high", "medium", "low", "none", "unknown")
OUT_OF_GATE = frozenset({"not_affected", "fixed"})
FINDING_KEYS = ("ssvc", "rating", "kev", "epss_above", "priority_above", "vex_status")
LICENSE_KEYS = ("license_denied", "license_allowed")
_RULE_KEYS = {"id", "action", "message", "description", *FINDING_KEYS, *LICENSE_KEYS}


@dataclass(frozen=True, slots=True)
class PolicyFinding:
    """What a rule looks at in one finding."""

    vulnerability: str
    component: str
    rating: str = "unknown"
    kev: bool = False
    epss: float | None = None
    ssvc: str | None = None  # outcome value id
    priority: float | None = None
    vex_status: str | None = None


@dataclass(frozen=True, slots=True)
class PolicyComponent:
    """A component as the licence rules of a policy see it."""

    label: str
    license: str | None


@dataclass(frozen=True, slots=True)
class Rule:
    """One policy rule: its action, conditions and message."""

    id: str
    action: str
    conditions: Mapping[str, Any]
    message: Mapping[str, str] = field(default_factory=dict)

    @property
    def about_licences(self) -> bool:
        return any(k in self.conditions for k in LICENSE_KEYS)


@dataclass(frozen=True, slots=True)
class Violation:
    """A policy rule that fired for a component (and vulnerability), with its reasons."""

    rule: str
    action: str
    component: str
    vulnerability: str | None  # None for licence rules
    reasons: tuple[str, ...]  # one per condition, English
    reasons_ja: tuple[str, ...]
    note: Mapping[str, str] = field(default_factory=dict)

    def message(self, lang: str = "en") -> str:
        why = "; ".join(self.reasons_ja if lang == "ja" else self.reasons)
        head = {"fail": "FAIL", "warn": "WARN"}[self.action]
        extra = f" — {self.note[lang]}" if self.note.get(lang) else ""
        sep = "：" if lang == "ja" else ": "
        return f"{head} [{self.rule}] {self.subject(lang)}{sep}{why}{extra}"

    def subject(self, lang: str = "en") -> str:
        if self.vulnerability is None:
            return self.component
        return (
            f"{self.component} の {self.vulnerability}"
            if lang == "ja"
            else f"{self.vulnerability} in {self.component}"
        )

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "rule": self.rule,
            "action": self.action,
            "component": self.component,
            "vulnerability": self.vulnerability,
            "message": self.message(lang),
        }


@dataclass(frozen=True, slots=True)
class Policy:
    """A policy file and its rules."""

    path: str
    rules: tuple[Rule, ...]


def _outcome_values() -> set[str]:
    catalog = ssvc.default_catalog()
    return {v.id for t in catalog.tables.values() for v in t.outcome.values}


def _list(value: Any, where: str, path: str, allowed: Iterable[str] | None = None) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    out = tuple(str(i).strip().lower() if allowed is not None else str(i).strip() for i in items)
    if not out or any(not i for i in out):
        raise InputError(path, _("{where}: expected a non-empty list").format(where=where))
    if allowed is not None:
        allowed_set = set(allowed)
        for i in out:
            if i not in allowed_set:
                raise InputError(
                    path,
                    _("{where}: unknown value {i!r}; allowed: {allowed_set}").format(
                        where=where, i=i, allowed_set=", ".join(sorted(allowed_set))
                    ),
                )
    return out


def _number(value: Any, where: str, path: str, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= high:
        raise InputError(
            path, _("{where}: expected a number from 0 to {high:g}").format(where=where, high=high)
        )
    return float(value)


def _conditions(raw: Mapping[str, Any], where: str, path: str) -> dict[str, Any]:
    cond: dict[str, Any] = {}
    if "ssvc" in raw:
        cond["ssvc"] = _list(raw["ssvc"], f"{where}.ssvc", path, _outcome_values())
    if "rating" in raw:
        cond["rating"] = _list(raw["rating"], f"{where}.rating", path, RATINGS)
    if "kev" in raw:
        if not isinstance(raw["kev"], bool):
            raise InputError(path, _("{where}.kev: expected true or false").format(where=where))
        cond["kev"] = raw["kev"]
    if "epss_above" in raw:
        cond["epss_above"] = _number(raw["epss_above"], f"{where}.epss_above", path, 1.0)
    if "priority_above" in raw:
        cond["priority_above"] = _number(raw["priority_above"], f"{where}.priority_above", path, 20.0)
    if "vex_status" in raw:
        given = _list(raw["vex_status"], f"{where}.vex_status", path, (*VEX_STATUSES, "none", "open"))
        cond["vex_status"] = tuple(dict.fromkeys("none" if s == "open" else s for s in given))
    for key in LICENSE_KEYS:
        if key in raw:
            cond[key] = _list(raw[key], f"{where}.{key}", path)
    return cond


def parse_policy(raw: Any, path: str | Path) -> Policy:
    p = str(path)
    if not isinstance(raw, Mapping) or not isinstance(raw.get("rules"), list):
        raise InputError(p, _("a policy must be a YAML mapping with a list of rules"))
    if str(raw.get("version", 1)) != "1":
        raise InputError(
            p, _("unsupported policy version {version!r}; expected 1").format(version=raw.get("version"))
        )
    rules: list[Rule] = []
    seen: set[str] = set()
    for n, body in enumerate(raw["rules"], 1):
        where = f"rules[{n}]"
        if not isinstance(body, Mapping):
            raise InputError(p, _("{where}: expected a mapping").format(where=where))
        rid = str(body.get("id") or "").strip()
        if not rid:
            raise InputError(p, _("{where}: every rule needs an id").format(where=where))
        where = f"rule {rid}"
        if rid in seen:
            raise InputError(p, _("{where}: id used twice").format(where=where))
        seen.add(rid)
        unknown = sorted(set(map(str, body)) - _RULE_KEYS)
        if unknown:
            raise InputError(p, _("{where}: unknown key {key!r}").format(where=where, key=unknown[0]))
        action = str(body.get("action") or "").strip().lower()
        if action not in ACTIONS:
            raise InputError(p, _("{where}: action must be fail or warn").format(where=where))
        cond = _conditions(body, where, p)
        if not cond:
            raise InputError(
                p,
                _("{where}: no condition (one of {names})").format(
                    where=where, names=", ".join((*FINDING_KEYS, *LICENSE_KEYS))
                ),
            )
        if any(k in cond for k in LICENSE_KEYS) and any(k in cond for k in FINDING_KEYS):
            raise InputError(
                p,
                _("{where}: licence conditions and finding conditions go in separate rules").format(
                    where=where
                ),
            )
        message = body.get("message") or {}
        if isinstance(message, str):
            message = {"en": message, "ja": message}
        if not isinstance(message, Mapping):
            raise InputError(
                p, _("{where}.message: expected text or {{en: ..., ja: ...}}").format(where=where)
            )
        rules.append(Rule(rid, action, cond, {str(k): str(v) for k, v in message.items()}))
    return Policy(p, tuple(rules))


def load_policy(path: str | Path) -> Policy:
    return parse_policy(read_yaml(path), path)


def _finding_reasons(cond: Mapping[str, Any], f: PolicyFinding) -> list[tuple[str, str]] | None:
    """(en, ja) per condition when all hold, else None."""
    out: list[tuple[str, str]] = []
    status = f.vex_status or "none"
    if status in OUT_OF_GATE and status not in cond.get("vex_status", ()):
        return None
    if "ssvc" in cond:
        if f.ssvc not in cond["ssvc"]:
            return None
        shown = ", ".join(cond["ssvc"])
        out.append((f"SSVC outcome {f.ssvc} is in [{shown}]", f"SSVC 判定 {f.ssvc} が [{shown}] に該当"))
    if "rating" in cond:
        if f.rating not in cond["rating"]:
            return None
        shown = ", ".join(cond["rating"])
        out.append((f"CVSS rating {f.rating} is in [{shown}]", f"CVSS 深刻度 {f.rating} が [{shown}] に該当"))
    if "kev" in cond:
        if f.kev != cond["kev"]:
            return None
        out.append(
            ("listed in CISA KEV", "CISA KEV に掲載")
            if f.kev
            else ("not listed in CISA KEV", "CISA KEV に未掲載")
        )
    if "epss_above" in cond:
        if f.epss is None or not f.epss > cond["epss_above"]:
            return None
        out.append(
            (
                f"EPSS {f.epss:.4g} > {cond['epss_above']:g}",
                f"EPSS {f.epss:.4g} が {cond['epss_above']:g} を超過",
            )
        )
    if "priority_above" in cond:
        if f.priority is None or not f.priority > cond["priority_above"]:
            return None
        limit = cond["priority_above"]
        out.append(
            (f"priority score {f.priority:g} > {limit:g}", f"優先度スコア {f.priority:g} が {limit:g} を超過")
        )
    if "vex_status" in cond:
        if status not in cond["vex_status"]:
            return None
        shown = ", ".join(cond["vex_status"])
        out.append((f"VEX status {status} is in [{shown}]", f"VEX ステータス {status} が [{shown}] に該当"))
    return out


def _licence_ok(node: Any, allowed: Any) -> bool:
    from license_expression import AND, OR, LicenseWithExceptionSymbol

    if isinstance(node, AND):
        return all(_licence_ok(a, allowed) for a in node.args)
    if isinstance(node, OR):
        return any(_licence_ok(a, allowed) for a in node.args)
    symbol = node.license_symbol if isinstance(node, LicenseWithExceptionSymbol) else node
    return bool(allowed(str(symbol.key).lower()))


def _licence_reasons(cond: Mapping[str, Any], c: PolicyComponent) -> list[tuple[str, str]] | None:
    from license_expression import ExpressionError, get_spdx_licensing

    text = (c.license or "").strip()
    if text.upper() in ("", "NOASSERTION", "NONE"):
        if "license_allowed" in cond:
            return [
                (
                    "no licence declared, so none is known to be allowed",
                    "ライセンスの記載がなく、許可済みか確認できない",
                )
            ]
        return None
    try:
        expr = get_spdx_licensing().parse(text)
    except ExpressionError as exc:
        return [
            (f"licence expression {text!r} cannot be read ({exc})", f"ライセンス式 {text!r} を解釈できない")
        ]
    if expr is None:
        return None
    out: list[tuple[str, str]] = []
    if "license_denied" in cond:
        denied = {d.lower() for d in cond["license_denied"]}
        if _licence_ok(expr, lambda k: k not in denied):
            return None
        shown = ", ".join(cond["license_denied"])
        out.append(
            (
                f"licence {text} needs a denied licence ({shown})",
                f"ライセンス {text} は禁止ライセンス（{shown}）を避けられない",
            )
        )
    if "license_allowed" in cond:
        allowed = {a.lower() for a in cond["license_allowed"]}
        if _licence_ok(expr, lambda k: k in allowed):
            return None
        out.append(
            (f"licence {text} is not within the allowed licences", f"ライセンス {text} は許可リストの範囲外")
        )
    return out


def evaluate(
    policy: Policy, findings: Sequence[PolicyFinding], components: Sequence[PolicyComponent] | None = None
) -> tuple[list[Violation], list[str]]:
    """Violations in rule order, and notices (rules that could not be evaluated)."""
    violations: list[Violation] = []
    notices: list[str] = []
    for rule in policy.rules:
        if rule.about_licences:
            if components is None:
                notices.append(f"rule {rule.id}: licence rules need the SBOM's components; not evaluated")
                continue
            for c in components:
                reasons = _licence_reasons(rule.conditions, c)
                if reasons:
                    violations.append(_violation(rule, c.label, None, reasons))
            continue
        for f in findings:
            reasons = _finding_reasons(rule.conditions, f)
            if reasons:
                violations.append(_violation(rule, f.component, f.vulnerability, reasons))
    return violations, notices


def _violation(
    rule: Rule, component: str, vulnerability: str | None, reasons: list[tuple[str, str]]
) -> Violation:
    return Violation(
        rule.id,
        rule.action,
        component,
        vulnerability,
        tuple(r[0] for r in reasons),
        tuple(r[1] for r in reasons),
        rule.message,
    )


def failed(violations: Iterable[Violation]) -> bool:
    return any(v.action == "fail" for v in violations)

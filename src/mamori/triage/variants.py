"""The four triage variants and one SSVC decision per finding, with what was evidenced and what assumed.

(developer | user) × (high | low skill), as data in ``mamori/data/triage/variants.yaml``:

- the **role** picks the tree: a developer/supplier gets the supplier patch development priority, a user
  organisation the deployer patch application priority;
- the **skill** decides what ``--set`` may touch and how the result is explained. Both skills take the
  table's conservative (most cautious) value for an input nobody knows. With **low** skill each assumed
  question is explained in plain Japanese and English (the question and every possible answer), and
  ``--set`` may answer only the context questions (where and how the product is used); evidence from
  data is never overridden. With **high** skill ``--set`` may give or override any decision point of the
  tree, including evidenced ones and intermediate ones (utility, human impact); an override of evidence
  is recorded as such.

Precedence of an input: ``--set`` > evidence / derived from data > context file > assumed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from mamori.errors import InputError
from mamori.i18n import _
from mamori.packaged import load_yaml_text
from mamori.triage import ssvc
from mamori.triage.inputs import Input
from mamori.triage.texts import basis_label, text

ROLES = ("developer", "user")
SKILLS = ("high", "low")


@dataclass(frozen=True, slots=True)
class VariantData:
    """The roles, skills and context points of the triage variants."""

    roles: dict[str, dict[str, Any]]
    skills: dict[str, dict[str, Any]]
    context_points: tuple[str, ...]


@cache
def variant_data() -> VariantData:
    raw = load_yaml_text(
        (resources.files("mamori") / "data" / "triage" / "variants.yaml").read_text(encoding="utf-8")
    )
    catalog = ssvc.default_catalog()
    for body in raw["roles"].values():
        catalog.table(body["table"])  # fails loudly when the data names an unknown table
    for point in raw["context_points"]:
        if point not in catalog.points:
            raise ValueError(f"variants.yaml: unknown context point {point!r}")
    return VariantData(dict(raw["roles"]), dict(raw["skills"]), tuple(raw["context_points"]))


@dataclass(frozen=True, slots=True)
class Variant:
    """A triage variant: a role, a skill and the decision table they use."""

    role: str  # developer | user
    skill: str  # high | low
    table: ssvc.DecisionTable

    @property
    def name(self) -> str:
        return f"{self.role}-{self.skill}"

    def label(self, lang: ssvc.Lang) -> str:
        data = variant_data()
        return f"{data.roles[self.role]['name'][lang]} × {data.skills[self.skill]['name'][lang]}"

    def summary(self, lang: ssvc.Lang) -> str:
        data = variant_data()
        return f"{data.roles[self.role]['summary'][lang]} {data.skills[self.skill]['summary'][lang]}"

    @property
    def may_set_all(self) -> bool:
        return variant_data().skills[self.skill]["may_set"] == "all"

    def as_dict(self, lang: ssvc.Lang) -> dict[str, Any]:
        return {"role": self.role, "skill": self.skill, "table": self.table.id, "label": self.label(lang)}


def variant(role: str, skill: str) -> Variant:
    """The variant for ``--role`` (developer/user or an alias) and ``--skill`` (high/low)."""
    data = variant_data()
    wanted = ssvc.norm(role)
    found = next(
        (
            r
            for r, body in data.roles.items()
            if wanted in {ssvc.norm(r), *map(ssvc.norm, body.get("aliases", []))}
        ),
        None,
    )
    if found is None:
        raise InputError(None, _("--role: expected developer or user, got {role!r}").format(role=role))
    if skill not in data.skills:
        raise InputError(None, _("--skill: expected high or low, got {skill!r}").format(skill=skill))
    return Variant(found, skill, ssvc.default_catalog().table(data.roles[found]["table"]))


def overrides(v: Variant, assignments: Mapping[str, str]) -> dict[str, Input]:
    """``--set`` values as inputs, checked against the variant's tree and what its skill may set."""
    catalog = ssvc.default_catalog()
    allowed_context = set(variant_data().context_points)
    out: dict[str, Input] = {}
    for token, raw in assignments.items():
        point = catalog.point_in_scope(v.table, token)
        if not v.may_set_all and point.id not in allowed_context:
            raise InputError(
                None,
                _(
                    "--set {token}: with --skill low only the context questions can be set ({names}); {id} comes from data — use --skill high to override it"
                ).format(
                    token=token,
                    names=", ".join(p for p in variant_data().context_points if p in _scope_ids(v)),
                    id=point.id,
                ),
            )
        value = point.value(raw)
        out[point.id] = Input(point.id, value.id, "set", "--set", f"--set {token}={raw}")
    return out


def _scope_ids(v: Variant) -> set[str]:
    return {p.id for p in ssvc.default_catalog().scope(v.table)}


@dataclass(frozen=True, slots=True)
class Assessment:
    """One SSVC decision: the outcome, the path, and every input with its basis."""

    variant: Variant
    decision: ssvc.Decision
    inputs: dict[str, Input]  # the inputs the decision used, by point id (given ones, not sub-table results)
    overridden: tuple[Input, ...] = ()  # evidence that --set replaced

    @property
    def outcome(self) -> ssvc.PointValue:
        return self.decision.outcome

    @property
    def evidenced(self) -> list[Input]:
        return [i for i in self.inputs.values() if i.evidenced]

    @property
    def assumed(self) -> list[Input]:
        return [i for i in self.inputs.values() if not i.evidenced]

    def ssvc_dict(self, lang: ssvc.Lang = "en") -> dict[str, Any]:
        """``{table, variant, outcome, inputs, evidenced, assumed, path}`` as reports carry it: every input
        with its basis, source and detail once under ``inputs``; ``path`` the points and values in tree order
        (sub-tables under ``via``)."""
        out = self.outcome
        data: dict[str, Any] = {
            "table": self.decision.table.id,
            "variant": self.variant.name,
            "outcome": out.id,
            "outcome_name": out.name.get(lang),
            "inputs": {pid: i.as_dict(lang) for pid, i in self.inputs.items()},
            "evidenced": [i.point for i in self.inputs.values() if i.evidenced],
            "assumed": [i.point for i in self.inputs.values() if not i.evidenced],
            "path": _path_steps(self.decision.table.id, _values_key(self.inputs)),
        }
        if self.overridden:
            data["overridden"] = [i.as_dict(lang) for i in self.overridden]
        return data

    def path_text(self, lang: ssvc.Lang = "en", decision: ssvc.Decision | None = None) -> str:
        """``exploitation=active [evidence: kev] → …`` with sub-tables in parentheses."""
        parts = []
        for step in (decision or self.decision).path:
            if step.via is not None:
                parts.append(f"{step.point.id}={step.value.id} ({self.path_text(lang, step.via)})")
            else:
                given = self.inputs[step.point.id]
                label = basis_label(given.basis, lang, short=True)
                if given.source not in ("variant", "context", "--set"):
                    label += f": {given.source}"
                parts.append(f"{step.point.id}={step.value.id} [{label}]")
        return " → ".join(parts)

    def explanations(self, lang: ssvc.Lang = "en", evidenced_only: bool = False) -> list[str]:
        """One plain sentence per input: the question, the answer and where it came from."""
        catalog = ssvc.default_catalog()
        lines = []
        for i in self.inputs.values():
            if evidenced_only and not i.evidenced:
                continue
            point = catalog.points[i.point]
            value = point.value(i.value)
            question = point.question.get(lang) if point.question else point.name.get(lang)
            if i.evidenced:
                lines.append(f"{question} → {value.name.get(lang)}: {i.describe(lang)}")
            else:
                lines.append(
                    f"{question} → {text('assumed_note', lang, value=value.id, value_name=value.name.get(lang))}"
                )
        return lines


def _resolve(
    table: ssvc.DecisionTable,
    known: Mapping[str, Input],
    conservative: Mapping[str, str],
    out: dict[str, Input],
) -> None:
    """Walk the tree: a known point is used as it is; an unknown one is derived from its sub-table's inputs
    when the tree has one, else assumed at its conservative value."""
    catalog = ssvc.default_catalog()
    for p in table.inputs:
        if p.id in known:
            out[p.id] = known[p.id]
            continue
        sub = catalog.producer.get(p.id)
        if sub is not None:
            _resolve(sub, known, conservative, out)
            continue
        out[p.id] = Input(
            p.id,
            conservative[p.id],
            "assumed",
            "variant",
            f"unknown: the most cautious value of table {table.id}",
            f"不明のため判定表 {table.id} で最も慎重な値",
        )


def assess(
    v: Variant,
    evidence: Mapping[str, Input],
    context: Mapping[str, Input] | None = None,
    set_values: Mapping[str, Input] | None = None,
) -> Assessment:
    """Decide the variant's table for one finding. ``evidence`` from :func:`mamori.triage.inputs.gather`,
    ``context`` from :meth:`mamori.triage.context.Context.inputs`, ``set_values`` from :func:`overrides`."""
    catalog = ssvc.default_catalog()
    known: dict[str, Input] = dict(context or {})
    known.update(evidence)
    replaced: list[Input] = []
    for pid, given in (set_values or {}).items():
        if pid in evidence and evidence[pid].basis != "set" and evidence[pid].value != given.value:
            replaced.append(evidence[pid])
        known[pid] = given
    used: dict[str, Input] = {}
    _resolve(v.table, known, catalog.conservative(v.table), used)
    return Assessment(v, _decision(v.table.id, _values_key(used)), used, tuple(replaced))


def _values_key(inputs: Mapping[str, Input]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((pid, i.value) for pid, i in inputs.items()))


@cache
def _decision(table: str, values: tuple[tuple[str, str], ...]) -> ssvc.Decision:
    """Decisions depend on the values only, and the value combinations are few: decide each once."""
    return ssvc.default_catalog().decide(table, dict(values))


def _steps(decision: ssvc.Decision) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for step in decision.path:
        entry: dict[str, Any] = {"point": step.point.id, "value": step.value.id}
        if step.via is not None:
            entry["via"] = {"table": step.via.table.id, "path": _steps(step.via)}
        steps.append(entry)
    return steps


@cache
def _path_steps(table: str, values: tuple[tuple[str, str], ...]) -> list[dict[str, Any]]:
    """The path of a decision as JSON-ready steps (shared between findings with the same values)."""
    return _steps(_decision(table, values))


def question_dict(point_id: str, lang: ssvc.Lang) -> dict[str, Any]:
    """A plain-language question with every possible answer (for the low-skill explanation)."""
    point = ssvc.default_catalog().points[point_id]
    return {
        "point": point.id,
        "name": point.name.get(lang),
        "question": point.question.get(lang) if point.question else None,
        "answers": [
            {"value": val.id, "name": val.name.get(lang), "description": val.description.get(lang)}
            for val in point.values
        ],
        "hint": text("override_hint", lang, point=point.id),
    }

"""The case workflow as data (``mamori/data/psirt/workflow.yaml``): states, allowed transitions, intake
channels, credit preferences and the default timers."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from mamori.packaged import load_yaml

SSVC_OUTCOMES = ("immediate", "out_of_cycle", "scheduled", "defer")  # the supplier tree's outcomes


@dataclass(frozen=True)
class Workflow:
    states: dict[str, dict[str, str]]
    transitions: dict[str, tuple[str, ...]]
    final: frozenset[str]
    channels: dict[str, dict[str, str]]
    credits: dict[str, dict[str, str]]
    timers: dict[str, int]
    timer_states: dict[str, dict[str, Any]]

    def label(self, state: str, lang: str) -> str:
        names = self.states.get(state)
        return names.get(lang, names["en"]) if names else state

    def allowed(self, state: str) -> tuple[str, ...]:
        return self.transitions.get(state, ())


@cache
def workflow() -> Workflow:
    raw = load_yaml("data", "psirt", "workflow.yaml")
    wf = Workflow(
        states=dict(raw["states"]),
        transitions={k: tuple(v) for k, v in raw["transitions"].items()},
        final=frozenset(raw["final"]),
        channels=dict(raw["channels"]),
        credits=dict(raw["credits"]),
        timers={k: int(v) for k, v in raw["timers"].items()},
        timer_states=dict(raw["timer_states"]),
    )
    unknown = {s for targets in wf.transitions.values() for s in targets} - set(wf.states)
    assert not unknown and set(wf.transitions) == set(wf.states), "psirt/workflow.yaml: unknown state"
    return wf

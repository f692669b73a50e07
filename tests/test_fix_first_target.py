"""The fix-first target found through ranks is the one the module's definition gives when every pair of
versions is compared directly: the lowest candidate clearing the most weight, a finding cleared when the
target is one of its fixed versions or at or above all of them; versions of kinds that cannot be ordered
together compared as text."""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any

import pytest

from mamori.report import fix_first as ff


def _by_definition(fixable: list[Any], key: Any) -> tuple[str, list[Any]]:
    def above(a: str, b: str) -> bool:
        try:
            return bool(key(a) >= key(b))
        except TypeError:
            return a >= b

    versions = {v for f in fixable for v in f.fixed_versions}
    try:
        candidates = sorted(versions, key=key)
    except TypeError:
        candidates = sorted(versions)
    best: tuple[float, str, list[Any]] | None = None
    for target in candidates:
        cleared = [
            f
            for f in fixable
            if target in f.fixed_versions or all(above(target, v) for v in f.fixed_versions)
        ]
        weight = sum(f.weight for f in cleared)
        if best is None or weight > best[0] + 1e-9:
            best = (weight, target, cleared)
    assert best is not None
    return best[1], best[2]


def _mixed(v: str) -> Any:
    return int(v) if v.isdigit() else v  # numbers and words cannot be ordered together: TypeError


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("PyPI", ff._version_key("pkg:pypi/x@1", {})),
        ("npm", ff._version_key("pkg:npm/x@1", {})),
        ("mixed kinds", _mixed),
    ],
)
def test_ranked_target_is_the_target_by_definition(
    name: str, key: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ff, "finding_weight", lambda f: (f.weight, 0.0, 0))
    rng = random.Random(name)
    versions = ["1", "2", "9", "10", "1.0", "1.0.0", "2.0.0-rc.1", "2.0.0", "10.1", "a", "b", "1.0 beta"]
    for _ in range(1500):
        fixable = [
            SimpleNamespace(fixed_versions=rng.sample(versions, rng.randint(1, 3)), weight=rng.randint(1, 9))
            for _ in range(rng.randint(1, 6))
        ]
        assert ff._best_target(fixable, key) == _by_definition(fixable, key), fixable

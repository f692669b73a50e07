"""Random bytes and mutated real VEX files give a VexDocument or an InputError, never anything else."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import shared_files
from mamori import vex
from mamori.errors import InputError
from mamori.vex.statements import read_statements

SEEDS = [
    *[p for p in shared_files("vex", "cyclonedx", pattern="vex*.json")][:12],
    *shared_files("csaf", "examples", "csaf", "csaf_vex", pattern="*.json")[:6],
]
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


def _parse(data: bytes) -> None:
    try:
        doc = vex.parse(data, Path("fuzz.json"), strict=False)
    except InputError as exc:
        assert str(exc).startswith("fuzz.json")
        return
    for fmt in vex.FORMATS:  # whatever was read can be written or refused cleanly
        with contextlib.suppress(InputError):
            vex.dumps(
                doc, fmt, vex.WriteOptions(author="Fuzz", namespace="https://example.org", strict=False)
            )


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    _parse(data)


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(obj, dict):
        for key, value in obj.items():
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(obj, list):
        for i, value in enumerate(obj[:3]):
            out.extend(_paths(value, (*prefix, i)))
    return out


def _mutate(obj: Any, path: tuple, action: str, junk: Any) -> Any:
    if not path:
        return junk
    parent = obj
    for key in path[:-1]:
        parent = parent[key]
    if action == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = junk
    return obj


@pytest.mark.skipif(not SEEDS, reason="shared data absent")
@SETTINGS
@given(st.data())
def test_mutated_real_files(data: st.DataObject) -> None:
    seed = data.draw(st.sampled_from(SEEDS))
    obj = json.loads(seed.read_text(encoding="utf-8"))
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(obj)
        path = data.draw(st.sampled_from(paths))
        obj = _mutate(
            obj,
            path,
            data.draw(st.sampled_from(["delete", "replace"])) if path else "replace",
            data.draw(JUNK),
        )
    _parse(json.dumps(obj).encode("utf-8"))


@pytest.mark.skipif(not SEEDS, reason="shared data absent")
@settings(max_examples=30, deadline=None)
@given(st.data())
def test_truncated_real_files(data: st.DataObject) -> None:
    raw = data.draw(st.sampled_from(SEEDS)).read_bytes()
    _parse(raw[: data.draw(st.integers(0, len(raw)))])


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=200), st.text(max_size=200).map(lambda t: ("statements:\n  - " + t).encode())
    )
)
def test_random_statement_files(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("yaml") / "statements.yaml"
    path.write_bytes(data)
    try:
        read_statements(path)
    except InputError as exc:
        assert str(exc).startswith(str(path))

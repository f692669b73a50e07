"""Bad input of any kind gives InputError from the CycloneDX readers, never another exception."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SHARED_DATA
from mamori.errors import InputError
from mamori.model import Document
from mamori.sbom.cyclonedx import read_json, read_xml
from mamori.sbom.cyclonedx.write import write_json, write_xml

DT = SHARED_DATA / "sbom" / "dependency-track-tests"
SEEDS = [
    DT / "valid-bom-1.7.json",
    DT / "valid-bom-1.4.json",
    DT / "bom-metadata-tool.json",
    DT / "bom-service.json",
    DT / "valid-bom-1.6.xml",
    DT / "valid-bom-1.1.xml",
    DT / "bom-issue2859.xml",
]
FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read_any(data: bytes, xml: bool) -> Document | None:
    """Read and write back; the only exception allowed on the way is InputError."""
    try:
        doc = (read_xml.read if xml else read_json.read)(data, Path("fuzz.xml" if xml else "fuzz.json"))
    except InputError as exc:
        assert exc.problem and "\n" not in exc.problem
        return None
    # whatever was accepted can also be written
    write_json(doc, "1.6")
    write_xml(doc, "1.4")
    return doc


@cache
def _seed(index: int) -> bytes:
    return SEEDS[index].read_bytes()


def _seeds_present() -> None:
    if not all(p.exists() for p in SEEDS):
        pytest.skip("../shared/data is absent")


@FUZZ
@given(st.binary(max_size=600), st.booleans())
def test_random_bytes(data: bytes, xml: bool) -> None:
    _read_any(data, xml)


@FUZZ
@given(
    st.integers(min_value=0, max_value=len(SEEDS) - 1),
    st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 7)), min_size=1, max_size=8),
    st.floats(0.05, 1),
)
def test_bit_flips_and_truncation_of_real_files(
    index: int, flips: list[tuple[float, int]], keep: float
) -> None:
    _seeds_present()
    data = bytearray(_seed(index))
    for where, bit in flips:
        data[int(where * len(data))] ^= 1 << bit
    _read_any(bytes(data[: max(1, int(len(data) * keep))]), SEEDS[index].suffix == ".xml")


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out += _paths(child, (*prefix, i))
    return out


@FUZZ
@given(st.integers(min_value=0, max_value=3), st.data())
def test_any_value_replaced_by_any_json(index: int, data: st.DataObject) -> None:
    """Type confusion anywhere in a real BOM: components as a string, a hash as a number ..."""
    _seeds_present()
    bom = orjson.loads(_seed(index))
    paths = [p for p in _paths(bom) if p and p[0] not in ("bomFormat", "specVersion")]
    path = data.draw(st.sampled_from(paths))
    parent = bom
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = data.draw(JSON_VALUES)
    _read_any(orjson.dumps(bom), xml=False)

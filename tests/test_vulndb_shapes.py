"""Record shapes (mamori.vulndb.shapes): the quick jsonschema-rs answer agrees with pydantic-core.

A record jsonschema-rs finds good is not checked again, so it must never find good what pydantic-core
refuses; a record it refuses is checked by pydantic-core, whose first problem is reported. Values of
every JSON type are generated along each shape (good values, wrong types, nulls, long texts, NUL,
NaN and infinities, keys that are not strings) and both answers compared. The pydantic-core schemas,
written out as dicts, are the ones pydantic_core.core_schema's builders make.
"""

from __future__ import annotations

import copy
import math
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic_core import SchemaValidator, ValidationError
from pydantic_core import core_schema as cs

from mamori.errors import InputError
from mamori.vulndb import shapes

SHAPES = {
    name: value for name, value in vars(shapes).items() if isinstance(value, shapes.Shape) and name.isupper()
}

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["a\x00b", "x" * 201, "é" * 16, "😀" * 33, "1.5", "true"]),
)
ANY = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=4), inner, max_size=3),
        st.dictionaries(st.integers(), inner, min_size=1, max_size=2),  # keys that are not strings
    ),
    max_leaves=6,
)


def _leaf_values(leaf: shapes.Leaf) -> st.SearchStrategy[Any]:
    limit = leaf.schema.get("max_length")
    if leaf.schema["type"] == "str":
        texts = [st.text(max_size=12), st.sampled_from(["a\x00", "\x00"])]
        if limit:
            texts.append(st.integers(limit - 1, limit + 1).map(lambda n: "v" * n))
        return st.one_of(*texts)
    return st.one_of(st.integers(), st.floats(), st.booleans(), st.text(max_size=3), st.just({"k": [1]}))


def along(spec: shapes.Spec) -> st.SearchStrategy[Any]:
    """Values shaped like ``spec`` at every level, with any value anywhere instead now and then."""
    if isinstance(spec, dict):
        good = st.fixed_dictionaries(
            {}, optional={key: st.one_of(along(value), st.none()) for key, value in spec.items()}
        )
        shaped = st.builds(
            lambda d, extra: {**extra, **d}, good, st.dictionaries(st.text(max_size=3), ANY, max_size=1)
        )
    elif isinstance(spec, list):
        shaped = st.lists(along(spec[0]), max_size=3)
    else:
        shaped = _leaf_values(spec)
    return st.one_of(shaped, shaped, shaped, ANY)


def _pydantic_accepts(shape: shapes.Shape, value: Any) -> bool:
    try:
        shape.validator.validate_python(value)
    except ValidationError:
        return False
    return True


def _legacy_compile(spec: shapes.Spec) -> Any:
    """The schemas as pydantic_core.core_schema's builders make them."""
    if isinstance(spec, dict):
        fields = {
            key: cs.typed_dict_field(cs.nullable_schema(_legacy_compile(value)), required=False)
            for key, value in spec.items()
        }
        return cs.typed_dict_schema(fields, extra_behavior="ignore")
    if isinstance(spec, list):
        return cs.list_schema(_legacy_compile(spec[0]), strict=True)
    return spec.schema


def test_every_shape_is_covered() -> None:
    assert set(SHAPES) == {"OSV", "CVE5", "CVE5_SSVC", "CVE5_KEV", "NVD", "KEV", "EPSS"}


def test_leaf_schemas_are_the_builders() -> None:
    no_nul = "^[^\x00]*$"
    assert shapes.STRING.schema == cs.str_schema(strict=True)
    assert shapes.TEXT.schema == cs.str_schema(strict=True, pattern=no_nul)
    assert shapes.ID.schema == cs.str_schema(strict=True, max_length=shapes.ID_LIMIT, pattern=no_nul)
    assert shapes.string(16).schema == cs.str_schema(strict=True, max_length=16)
    number = cs.union_schema(
        [cs.int_schema(strict=True), cs.float_schema(strict=True, allow_inf_nan=False)],
        custom_error_type="number_type",
        custom_error_message="number",
    )
    assert shapes.NUMBER.schema == number
    assert shapes.BOOLEAN.schema == cs.bool_schema(strict=True)
    assert shapes.OBJECT.schema == cs.dict_schema(strict=True)
    score = cs.union_schema(
        [number, cs.str_schema(strict=True)], custom_error_type="number_type", custom_error_message="number"
    )
    assert shapes.EPSS.spec["epss"].schema == score  # type: ignore[index]


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_schema_is_the_builders(name: str) -> None:
    shape = SHAPES[name]
    assert shape.schema == _legacy_compile(shape.spec)
    SchemaValidator(shape.schema)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_quick_answer_agrees_with_pydantic(name: str) -> None:
    shape = SHAPES[name]

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
    @given(along(shape.spec))
    def agree(value: Any) -> None:
        try:
            quick = shape.fast.is_valid(value)
        except Exception:  # not taken by jsonschema-rs: pydantic-core decides, as check() does
            return
        assert quick == _pydantic_accepts(shape, value), value

    agree()


VALUES: list[Any] = [
    None, True, False, 0, 7, -(2**70), 7.5, math.nan, math.inf, -math.inf, "", "7.5", "a\x00", "a\nb",
    "é" * 16, "x" * 17, "x" * 32, "x" * 33, "x" * 64, "x" * 65, "x" * 200, "x" * 201,
    [], ["x"], [None], [1], {}, {"k": "v"}, {"k": 1},
]  # fmt: skip


def _full(spec: shapes.Spec) -> Any:
    """A good value with every key and one item in every list."""
    if isinstance(spec, dict):
        return {key: _full(value) for key, value in spec.items()}
    if isinstance(spec, list):
        return [_full(spec[0])]
    return {"str": "v", "dict": {}, "bool": True}.get(spec.schema["type"], 1.5)


def _paths(spec: shapes.Spec, at: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every place of a value of ``spec`` (as :func:`_full` makes it), containers included."""
    out = [at]
    if isinstance(spec, dict):
        for key, value in spec.items():
            out += _paths(value, (*at, key))
    elif isinstance(spec, list):
        out += _paths(spec[0], (*at, 0))
    return out


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_every_place_every_value(name: str) -> None:
    """Each place of a full good value gets each value in turn; both answers are the same."""
    shape = SHAPES[name]
    base = _full(shape.spec)
    assert shape.fast.is_valid(base) and _pydantic_accepts(shape, base)
    tried = 0
    for path in _paths(shape.spec)[1:]:
        for replacement in VALUES:
            value = copy.deepcopy(base)
            target = value
            for part in path[:-1]:
                target = target[part]
            target[path[-1]] = replacement
            assert shape.fast.is_valid(value) == _pydantic_accepts(shape, value), (path, replacement)
            tried += 1
    assert tried >= len(VALUES)


def test_quick_answer_edge_values() -> None:
    """The differences that matter, one by one (a boolean is no number, NaN is none, NUL, lengths)."""
    cvss = {"containers": {"cna": {"metrics": [{"cvssV3_1": {"baseScore": None}}]}}}
    for score, good in [
        (7.5, True),
        (7, True),
        (True, False),
        (math.nan, False),
        (math.inf, False),
        ("7.5", False),
    ]:
        cvss["containers"]["cna"]["metrics"][0]["cvssV3_1"]["baseScore"] = score
        assert shapes.CVE5.fast.is_valid(cvss) is good
        assert _pydantic_accepts(shapes.CVE5, cvss) is good
    for value, good in [
        ("x" * 200, True),
        ("x" * 201, False),
        ("é" * 200, True),
        ("a\x00", False),
        ("a\nb", True),
    ]:
        assert shapes.OSV.fast.is_valid({"id": value}) is good
        assert _pydantic_accepts(shapes.OSV, {"id": value}) is good


def test_check_names_the_first_bad_field() -> None:
    """A record jsonschema-rs refuses is reported as pydantic-core finds it, key path first."""
    doc = {
        "cveMetadata": {"cveId": "CVE-2024-0001"},
        "containers": {"cna": {"affected": [{"versions": [{"version": "1"}, {"lessThan": ["2"]}]}]}},
    }
    with pytest.raises(InputError) as raised:
        shapes.CVE5.check(doc, "f.json", "CVE-2024-0001")
    assert "containers.cna.affected[0].versions[1].lessThan" in str(raised.value)
    shapes.CVE5.check(
        {"cveMetadata": {"cveId": "CVE-2024-0001"}, "containers": {1: "x"}}, "f.json"
    )  # key: pydantic says good


def test_good_records_import_no_pydantic() -> None:
    """pydantic-core is imported only for a record that is not good (not by reading the parsers)."""
    code = (
        "import sys; from mamori.vulndb import cve5, osv; "
        "doc = {'cveMetadata': {'cveId': 'CVE-2024-0001'}, 'containers': {'cna': {}}}; "
        "cve5.parse_record(doc, 'f.json'); print('pydantic_core' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

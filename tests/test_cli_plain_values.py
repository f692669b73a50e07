"""mamori's coercion of plain command-line values (str, int, float, bool, Path and lists of them) gives what
Typer's own (pydantic) coercion gives, and leaves every value it is not sure of to Typer, errors included."""

from __future__ import annotations

from pathlib import Path

import pytest

from mamori.cli.main import _build, _plain_runtime_class

typer_coercion = pytest.importorskip("typer._coercion")
if _plain_runtime_class() is None:  # pragma: no cover - a Typer before 0.26 has no runtime coercion objects
    pytest.skip("this Typer coerces values without runtime coercion objects", allow_module_level=True)


def _params() -> dict[str, object]:
    return {p.name: p for p in _build("scan").params}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("output_format", "json"),
        ("top", "20"),
        ("top", 20),
        ("top", "0"),
        ("top", "007"),
        ("exit_code", "-5"),
        ("target", "bom.cdx.json"),
        ("output", "out/report.json"),
        ("set_values", ("exploitation=poc", "automatable=yes")),
        ("vex_files", ("a.vex.json", "b.vex.json")),
        ("vex_files", ()),
        ("lang", None),
    ],
)
def test_plain_values_are_typers(
    name: str, value: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    param = _params()[name]
    ours = param.get_runtime_param().coerce(value, param=param, ctx=None)  # type: ignore[attr-defined]
    typers = typer_coercion.build_runtime_param(param.type_descriptor).coerce(  # type: ignore[attr-defined]
        value, param=param, ctx=None
    )
    assert type(param.get_runtime_param()).__name__ == "PlainRuntimeParam"  # type: ignore[attr-defined]
    assert ours == typers and type(ours) is type(typers)
    if isinstance(ours, list):
        assert [type(v) for v in ours] == [type(v) for v in typers]


@pytest.mark.parametrize(
    ("name", "value"), [("top", "-1"), ("top", "x"), ("top", " 5"), ("exit_code", "1.5")]
)
def test_values_it_is_not_sure_of_get_typers_result_or_error(name: str, value: str) -> None:
    param = _params()[name]
    ours = param.get_runtime_param()  # type: ignore[attr-defined]
    typers = typer_coercion.build_runtime_param(param.type_descriptor)  # type: ignore[attr-defined]
    try:
        expected: object = typers.coerce(value, param=param, ctx=None)
    except Exception as exc:  # Typer's BadParameter: the same class and message from ours
        with pytest.raises(type(exc)) as raised:
            ours.coerce(value, param=param, ctx=None)
        assert str(raised.value) == str(exc)
    else:
        assert ours.coerce(value, param=param, ctx=None) == expected


def _import_params() -> dict[str, object]:
    return {p.name: p for p in _build("db").commands["import"].params}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("timeout", 30.0),  # the defaults, as Typer hands them over
        ("timeout", 30),
        ("max_retry_wait", 0.0),
        ("timeout", "2.5"),
        ("timeout", "7"),
        ("deadline", "600"),
        ("deadline", None),
        ("max_retry_wait", "0"),
        ("max_retry_wait", "-0.0"),
    ],
)
def test_plain_floats_are_typers(name: str, value: object) -> None:
    param = _import_params()[name]
    ours = param.get_runtime_param().coerce(value, param=param, ctx=None)  # type: ignore[attr-defined]
    typers = typer_coercion.build_runtime_param(param.type_descriptor).coerce(  # type: ignore[attr-defined]
        value, param=param, ctx=None
    )
    assert type(param.get_runtime_param()).__name__ == "PlainRuntimeParam"  # type: ignore[attr-defined]
    assert ours == typers and type(ours) is type(typers)


@pytest.mark.parametrize(
    ("name", "value"),
    [("timeout", "0"), ("timeout", "-1"), ("timeout", "x"), ("timeout", "1e3"), ("timeout", " 2"),
     ("timeout", "inf"), ("timeout", "nan"), ("max_retry_wait", "-0.5"), ("timeout", float("nan"))],
)  # fmt: skip
def test_floats_it_is_not_sure_of_get_typers_result_or_error(name: str, value: object) -> None:
    param = _import_params()[name]
    ours = param.get_runtime_param()  # type: ignore[attr-defined]
    typers = typer_coercion.build_runtime_param(param.type_descriptor)  # type: ignore[attr-defined]
    try:
        expected: object = typers.coerce(value, param=param, ctx=None)
    except Exception as exc:  # Typer's BadParameter: the same class and message from ours
        with pytest.raises(type(exc)) as raised:
            ours.coerce(value, param=param, ctx=None)
        assert str(raised.value) == str(exc)
    else:
        got = ours.coerce(value, param=param, ctx=None)
        assert got == expected or (got != got and expected != expected)  # nan

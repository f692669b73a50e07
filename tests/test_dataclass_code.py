"""Data class methods compiled once and read back (mamori.dataclass_code): the classes behave exactly as
the ones dataclasses compiles, a cache file is reused without compiling, and a bad file is no cache."""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import marshal
import os
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mamori import dataclass_code
from mamori.dataclass_code import compiled_dataclasses, read_cache


def make_classes() -> tuple[type, type]:
    @dataclasses.dataclass(slots=True)
    class Finding:
        """A finding."""

        id: str
        version: str | None = None
        aliases: list[str] = dataclasses.field(default_factory=list)
        score: float = dataclasses.field(default=0.0, repr=False)

    @dataclasses.dataclass(frozen=True, order=True)
    class Key:
        """A frozen key."""

        ecosystem: str
        name: str

    return Finding, Key


def behaviour(finding: type, key: type) -> dict[str, Any]:
    """What the two classes do, comparably between builds."""
    a, b = finding("CVE-1", "1.0", ["GHSA-x"]), finding("CVE-1", "1.0", ["GHSA-x"])
    k1, k2 = key("PyPI", "a"), key("PyPI", "b")
    try:
        k1.name = "c"  # type: ignore[misc]
        frozen = False
    except dataclasses.FrozenInstanceError:
        frozen = True
    return {
        "repr": [repr(a), repr(k1)],
        "eq": [a == b, a == finding("CVE-2"), k1 == key("PyPI", "a")],
        "hash": hash(k1) == hash(key("PyPI", "a")),
        "order": [k1 < k2, sorted([k2, k1]) == [k1, k2]],
        "frozen": frozen,
        "defaults": [finding("x").aliases, finding("x").score],
        "signature": [str(inspect.signature(finding)), str(inspect.signature(key))],
        "init_annotations": [finding.__init__.__annotations__, key.__init__.__annotations__],
        "fields": [f.name for f in dataclasses.fields(finding)],
        "slots": finding.__slots__,
        "match_args": finding.__match_args__,
    }


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.dont_write_bytecode", False)


def test_cached_classes_behave_as_compiled_ones_and_the_cache_is_reused(
    tmp_path: Path, writes: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "dc.marshal"
    plain = behaviour(*make_classes())
    with compiled_dataclasses(cache):
        first = behaviour(*make_classes())
    assert first == plain
    # the annotations of __init__ are the fields' types, not the text of the method (no __future__ flag
    # of the compiling module leaked into the compiled methods)
    with compiled_dataclasses(cache):
        typed = dataclasses.make_dataclass("Typed", [("id", str), ("count", int, 0)])
    assert typed.__init__.__annotations__ == {"id": str, "count": int, "return": None}
    assert "exec" not in vars(dataclasses)
    stored = read_cache(cache)
    assert any(text.lstrip().startswith("def __create_fn__") and "__init__" in text for text in stored)
    written = cache.stat().st_mtime_ns

    def no_compile(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("compiled although the cache holds the text")

    monkeypatch.setattr(dataclass_code, "compile", no_compile, raising=False)
    with compiled_dataclasses(cache):
        again = behaviour(*make_classes())
    assert again == plain
    assert cache.stat().st_mtime_ns == written  # nothing new: not written again


def test_nothing_is_written_when_python_writes_no_bytecode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.dont_write_bytecode", True)
    cache = tmp_path / "dc.marshal"
    with compiled_dataclasses(cache):
        make_classes()
    assert not cache.exists()


def test_the_builtin_exec_comes_back_after_an_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), compiled_dataclasses(tmp_path / "dc.marshal"):
        assert "exec" in vars(dataclasses)
        raise RuntimeError("stop")
    assert "exec" not in vars(dataclasses)


def garbage(path: Path) -> None:
    path.write_bytes(b"\x00not marshal data" * 10)


def wrong_magic(path: Path) -> None:
    path.write_bytes(marshal.dumps((b"0000", {})))


def wrong_shape(path: Path) -> None:
    path.write_bytes(marshal.dumps([1, 2, 3]))


def bad_entry(path: Path) -> None:
    """The right header, but the code of an __init__ text is not marshalled code."""
    text = "def __create_fn__():\n def f(self):\n  return 1\n return f"
    path.write_bytes(marshal.dumps((importlib.util.MAGIC_NUMBER, {text: b"\x00junk"})))


def oversized(path: Path) -> None:
    with path.open("wb") as fh:
        fh.truncate(dataclass_code.MAX_BYTES + 1)


def folder(path: Path) -> None:
    path.mkdir()


def fifo(path: Path) -> None:
    os.mkfifo(path)


@pytest.mark.parametrize("spoil", [garbage, wrong_magic, wrong_shape, bad_entry, oversized, folder, fifo])
def test_a_bad_cache_file_is_no_cache(tmp_path: Path, spoil: Callable[[Path], None]) -> None:
    cache = tmp_path / "dc.marshal"
    spoil(cache)
    assert read_cache(cache) == {} or spoil is bad_entry
    plain = behaviour(*make_classes())
    with compiled_dataclasses(cache):
        assert behaviour(*make_classes()) == plain


CV = typing.ClassVar  # an alias: dataclasses reads the text "CV" as ClassVar through the module's names


def make_special_classes() -> list[type]:
    """Classes whose text annotations name ClassVar, InitVar and KW_ONLY in every spelling dataclasses
    looks for (bare, through a module name, an alias), beside ordinary fields."""

    @dataclasses.dataclass
    class Special:
        """ClassVar, InitVar, KW_ONLY."""

        plain: int
        counter: typing.ClassVar[int] = 0
        alias: CV[str] = "x"
        seed: dataclasses.InitVar[int | None] = None
        _: dataclasses.KW_ONLY
        named: str | None = None
        things: list[str] = dataclasses.field(default_factory=list)

        def __post_init__(self, seed: int | None) -> None:
            self.plain += seed or 0

    @dataclasses.dataclass(frozen=True, slots=True)
    class Frozen:
        """Only ordinary fields."""

        a: str
        b: tuple[str, ...] = ()
        c: dict[str, int] | None = None

    return [Special, Frozen]


def shape(classes: list[type]) -> list[Any]:
    out = []
    for cls in classes:
        fields = [(f.name, f.type, f._field_type.name, f.kw_only) for f in dataclasses.fields(cls)]  # type: ignore[attr-defined]
        every = [(f.name, f._field_type.name) for f in cls.__dataclass_fields__.values()]  # type: ignore[attr-defined]
        out.append((fields, every, str(inspect.signature(cls))))
    special = classes[0]
    made = special(1, seed=2, named="n")
    out.append((made.plain, made.named, made.things, special.counter, special.alias))
    return out


def test_text_annotations_are_read_as_dataclasses_reads_them(tmp_path: Path) -> None:
    plain = shape(make_special_classes())
    with compiled_dataclasses(tmp_path / "dc.marshal"):
        assert dataclasses._is_type is dataclass_code._is_type  # type: ignore[attr-defined]
        inside = shape(make_special_classes())
    assert dataclasses._is_type is not dataclass_code._is_type  # type: ignore[attr-defined]  # put back
    assert inside == plain
    assert [kind for _, kind in plain[0][1]] == [
        "_FIELD",
        "_FIELD_CLASSVAR",
        "_FIELD_CLASSVAR",
        "_FIELD_INITVAR",
        "_FIELD",
        "_FIELD",
    ]


def test_is_type_answers_as_the_original() -> None:
    original = dataclasses._is_type  # type: ignore[attr-defined]
    owner = make_special_classes()[0]
    texts = [
        "ClassVar[int]",
        "typing.ClassVar[int]",
        "CV[str]",
        "dataclasses.InitVar[int]",
        "InitVar",
        "dataclasses.KW_ONLY",
        "KW_ONLY",
        "int",
        "str | None",
        "  typing . ClassVar",
        "list[typing.ClassVar[int]]",
        "[not an identifier",
        "",
        "os.path",
    ]
    checks = [
        (typing, typing.ClassVar, dataclasses._is_classvar),  # type: ignore[attr-defined]
        (dataclasses, dataclasses.InitVar, dataclasses._is_initvar),  # type: ignore[attr-defined]
        (dataclasses, dataclasses.KW_ONLY, dataclasses._is_kw_only),  # type: ignore[attr-defined]
    ]
    for text in texts:
        for module, kind, predicate in checks:
            expected = original(text, owner, module, kind, predicate)
            assert dataclass_code._is_type(text, owner, module, kind, predicate) is expected, (text, kind)


def test_hand_written_inits_of_hot_frozen_classes_match_the_generated_ones() -> None:
    """Hit, Verdict, Subject and Target set their fields through slot_setters: the same parameters,
    defaults and objects as the __init__ dataclasses would write, and still frozen."""
    import dataclasses
    import inspect

    import pytest

    from mamori.dataclass_code import slot_setters
    from mamori.match.matcher import Hit
    from mamori.match.target import Target
    from mamori.match.verdict import Verdict
    from mamori.triage.engine import Subject

    for cls in (Hit, Verdict, Subject, Target):
        fields = dataclasses.fields(cls)
        reference = dataclasses.make_dataclass(
            "Reference",
            [(f.name, f.type, dataclasses.field(default=f.default)) for f in fields],
            frozen=True,
            slots=True,
        )
        params = list(inspect.signature(cls).parameters.values())
        assert [(p.name, p.default) for p in params] == [
            (p.name, p.default) for p in inspect.signature(reference).parameters.values()
        ]
        values = [f"value of {f.name}" for f in fields]
        for made in (cls(*values), cls(**{f.name: v for f, v in zip(fields, values, strict=True)})):
            assert dataclasses.astuple(made) == tuple(values) == dataclasses.astuple(reference(*values))
            assert made == cls(*values) and hash(made) == hash(cls(*values))
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(made, fields[0].name, "changed")
        required = [f for f in fields if f.default is dataclasses.MISSING]
        bare = cls(*(f"v{i}" for i in range(len(required))))
        assert dataclasses.astuple(bare) == dataclasses.astuple(
            reference(*(f"v{i}" for i in range(len(required))))
        )
    with pytest.raises(TypeError):
        slot_setters(dataclasses.make_dataclass("Loose", [("a", int)], slots=True))

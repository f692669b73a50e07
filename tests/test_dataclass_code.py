"""Data class methods compiled once and read back (mamori.dataclass_code): the classes behave exactly as
the ones dataclasses compiles, a cache file is reused without compiling, and a bad file is no cache."""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import marshal
import os
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

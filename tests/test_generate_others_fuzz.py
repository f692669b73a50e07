"""Damaged copies of the Go, Rust, Java, Ruby, PHP, .NET, Dart, Swift and Conan fixtures: every
parser either reads them or raises the one-line InputError naming the file — never a traceback."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from mamori.errors import InputError
from mamori.sbom.generate import registry

FIXTURES = Path(__file__).parent / "fixtures" / "generate"
OURS = ("golang", "rust", "jvm", "ruby", "php", "dotnet", "dart", "swift", "conan")
FILES = sorted(
    p
    for eco in OURS
    for p in (FIXTURES / eco).rglob("*")
    if p.is_file() and registry.spec_for(p) is not None and p.stat().st_size < 200_000
)
SHAPES = [None, 1, "x", [], {}, [1], {"a": 1}, True, ["a b"], "a/b", ""]
BYTES = ['"', "{", "[", "]", ":", "\n", " ", "x", "0", "=", "(", ")", "#", "-", "<", ">", "\t"]


def _damaged_text(text: str, rng: random.Random) -> str:
    chars = list(text)
    if rng.random() < 0.4:
        return text[: rng.randrange(len(text) + 1)]
    for _ in range(rng.randint(1, 6)):
        if chars:
            chars[rng.randrange(len(chars))] = rng.choice(BYTES)
    return "".join(chars)


def _damaged_json(data: object, rng: random.Random) -> str:
    node = data
    for _ in range(8):
        keys = (
            list(node) if isinstance(node, dict) else list(range(len(node))) if isinstance(node, list) else []
        )
        if not keys:
            break
        key = rng.choice(keys)
        if rng.random() < 0.3:
            node[key] = json.loads(json.dumps(rng.choice(SHAPES)))  # type: ignore[index]
            break
        node = node[key]  # type: ignore[index]
    return json.dumps(data)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_damaged_input_gives_input_error(path: Path) -> None:
    parse = registry.resolve(registry.spec_for(path).target)
    text = path.read_text(encoding="utf-8")
    rng = random.Random(path.name)
    is_json = text.lstrip().startswith("{")
    for _ in range(40):
        damaged = (
            _damaged_json(json.loads(text), rng)
            if is_json and rng.random() < 0.5
            else _damaged_text(text, rng)
        )
        try:
            parse(path, damaged)
        except InputError as exc:
            assert str(exc).startswith(str(path)) and "\n" not in str(exc)

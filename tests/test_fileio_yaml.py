"""mamori.fileio.read_yaml, the one YAML file reader of the settings and input files: a regular file only,
bounded in size and nesting, UTF-8, a safe loader (no Python objects), and every problem one InputError
line naming the file, in the command's language. The readers that use it (OpenID Connect settings, product
context, policy, requirement profile, label fields) answer the same way."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from mamori.errors import InputError
from mamori.fileio import read_yaml
from mamori.i18n import set_lang


def _one_line(exc: pytest.ExceptionInfo[InputError], path: Path) -> str:
    text = exc.value.message("en")
    assert "\n" not in text and str(path) in text, text
    return text


def test_reads_a_yaml_file(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("name: 守り\nitems: [1, 2]\nwhen: 2026-12-07\n", encoding="utf-8")
    data = read_yaml(good)
    assert data["name"] == "守り" and data["items"] == [1, 2] and str(data["when"]) == "2026-12-07"


def test_refuses_what_is_not_a_small_regular_utf8_yaml_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as folder:
        read_yaml(tmp_path)
    assert "is a directory" in _one_line(folder, tmp_path)
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(InputError) as pipe:
        read_yaml(fifo)  # refused without blocking on the FIFO
    assert "not a regular file" in _one_line(pipe, fifo)
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * 200 + "\n")
    with pytest.raises(InputError) as large:
        read_yaml(big, 100)
    assert "over the input size limit of 100 bytes" in _one_line(large, big)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(InputError) as not_utf8:
        read_yaml(latin)
    assert _one_line(not_utf8, latin).endswith("not UTF-8 text")
    deep = tmp_path / "deep.yaml"
    deep.write_text("[" * 1500 + "]" * 1500)
    with pytest.raises(InputError) as too_deep:
        read_yaml(deep)
    assert "nested deeper than 1000 levels" in _one_line(too_deep, deep)


def test_a_syntax_error_is_one_line_with_its_place(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("ok: 1\nlist: [1, 2\nnext: 3\n")
    with pytest.raises(InputError) as bad:
        read_yaml(broken)
    text = _one_line(bad, broken)
    assert "not valid YAML: line " in text and "column" in text
    control = tmp_path / "control.yaml"
    control.write_bytes(b"a: 1\n\x1b[31m: [\n")
    with pytest.raises(InputError) as escaped:
        read_yaml(control)
    assert "\x1b" not in _one_line(escaped, control)


def test_the_loader_is_safe(tmp_path: Path) -> None:
    unsafe = tmp_path / "unsafe.yaml"
    unsafe.write_text("!!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(InputError) as refused:
        read_yaml(unsafe)
    assert "not valid YAML" in _one_line(refused, unsafe)
    with pytest.raises(TypeError):
        read_yaml(unsafe, loader=yaml.UnsafeLoader)
    # a safe loader of the caller's: everything stays text
    plain = tmp_path / "plain.yaml"
    plain.write_text("n: 1\n")
    assert read_yaml(plain, loader=yaml.BaseLoader) == {"n": "1"}


def test_the_message_is_in_the_commands_language(tmp_path: Path) -> None:
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"\xff\xfe")
    set_lang("ja")
    try:
        with pytest.raises(InputError) as ja:
            read_yaml(latin)
        assert "UTF-8 のテキストではない" in str(ja.value)
    finally:
        set_lang(None)


def test_the_readers_that_use_it(tmp_path: Path) -> None:
    from mamori.cli.serve import read_oidc
    from mamori.compliance.compare import load_profile
    from mamori.compliance.jcstar import read_fields
    from mamori.triage.context import load_context
    from mamori.triage.policy import load_policy

    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [1,\n")
    for reader in (read_oidc, load_profile, read_fields, load_context, load_policy):
        with pytest.raises(InputError) as bad:
            reader(broken)
        assert "not valid YAML: line 2" in _one_line(bad, broken), reader
        with pytest.raises(InputError) as folder:
            reader(tmp_path)
        assert "is a directory" in _one_line(folder, tmp_path), reader

"""The yaml-rs reader gives exactly what the libyaml loader gives, or declines the document.

Checked on every OSV file of the shared data (the same data, keys in the same order), on
hand-written edge cases and on documents that PyYAML's own dumper writes from generated data in
block and flow style (strings chosen to hit quoting, folding, booleans, nulls, numbers and unusual
characters).
"""

from __future__ import annotations

import string

import orjson
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SHARED_DATA, requires_shared
from mamori.vulndb import osv, yamlfast


def _same_or_declined(data: bytes) -> bool:
    """True when the fast reader answered (False: it declined); fails when it answers differently."""
    fast = yamlfast.load(data)
    if fast is yamlfast.DECLINED:
        return False
    slow = osv.load_yaml_libyaml(data)
    assert fast == slow, data[:300]
    assert orjson.dumps(fast, option=orjson.OPT_NON_STR_KEYS) == orjson.dumps(
        slow, option=orjson.OPT_NON_STR_KEYS
    )
    return True


def test_every_shared_osv_file_reads_as_libyaml_reads_it() -> None:
    root = requires_shared(SHARED_DATA / "osv")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml", ".json"))
    yaml_files = [p for p in files if p.suffix != ".json"]
    assert len(yaml_files) >= 2000
    answered = sum(_same_or_declined(p.read_bytes()) for p in files)
    # all but a handful of the advisories take the fast path (one has a "!" where a tag could be)
    assert answered >= 0.99 * len(yaml_files)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id: A\nversions:\n- 1.0\n- '2.0'\n- \"3.0\"\n", {"id": "A", "versions": ["1.0", "2.0", "3.0"]}),
        (
            "a: true\nb: No\nc: null\nd: ~\ne:\nf: ''\n",
            {"a": True, "b": "No", "c": None, "d": None, "e": None, "f": ""},
        ),
        ("null: 1\ntrue: x\n", {None: "1", True: "x"}),
        ("d: one two\n  three\n\n  four\n\n\n  five\nn: 1\n", {"d": "one two three\nfour\n\nfive", "n": "1"}),
        ("d: 'it''s\n  a: b # c\n\n  end'\n", {"d": "it's a: b # c\nend"}),
        ('d: "tab\\there \\u00e9 \\x41 \\\\ \\""\n', {"d": 'tab\there é A \\ "'}),
        (
            "x:\n- a:\n    b: c\n  d:\n  - e\n  - - f\n    - g\n-\n- []\n- {}\n",
            {"x": [{"a": {"b": "c"}, "d": ["e", ["f", "g"]]}, None, [], {}]},
        ),
        ("u: https://example.com/a:b#c\nv: x-y\n", {"u": "https://example.com/a:b#c", "v": "x-y"}),
    ],
)
def test_edge_cases_read_as_libyaml_reads_them(text: str, expected: object) -> None:
    data = text.encode()
    fast = yamlfast.load(data)
    assert fast is yamlfast.DECLINED or fast == expected
    assert osv.load_yaml_libyaml(data) == expected
    assert osv.load_yaml(data) == expected


@pytest.mark.parametrize(
    "text",
    [
        "a: &x one\nb: *x\n",  # anchors and aliases
        "a: [x, 'y', {b: c}]\n",  # flow collections
        "a: |\n  text\n  more\nb: >-\n  folded\n  text\n",  # block scalars
        "a: b # comment\n",
        "# comment\na: b\n",
        'a: "two\n  lines"\n',
        "- a\n- b\n",  # not one mapping
        "plain text\n",
        "a: 2021-01-01T00:00:00Z\nb: yes\nc: 1:20\n",  # text for both readers
    ],
)
def test_what_yaml_rs_answers_is_what_libyaml_gives(text: str) -> None:
    assert _same_or_declined(text.encode())


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\n",  # a number: libyaml's loader keeps "1" as text
        "versions:\n- 1.10\n",
        "a: .inf\n",
        "a: 1_000\n",
        "1: a\n",  # a key that is not a string
        "null: a\n",
        "? [a]\n: b\n",
        "a: !!str true\n",  # tags
        "a: !custom x\n",
        "base: &b {x: y}\nc:\n  <<: *b\n",  # merge keys
        "---\na: b\n",  # document markers
        "a: b\n---\nc: d\n",
        "a: b\n...\n",
        "a: b\na: c\n",  # duplicate keys (libyaml keeps the last)
        "a:\tb\n",
        "a: b: c\n",  # an error for libyaml
        "a: b\r\nc: d\r\n",
        "a: \x85b\n",
    ],
)
def test_anything_else_is_left_to_libyaml(text: str) -> None:
    assert yamlfast.load(text.encode()) is yamlfast.DECLINED


def test_bytes_that_are_not_utf8_are_left_to_libyaml() -> None:
    data = "a: b\n".encode("utf-16")
    assert yamlfast.load(data) is yamlfast.DECLINED
    assert osv.load_yaml(data) == {"a": "b"}


_WORDS = st.sampled_from(
    [
        "0",
        "1.10",
        "true",
        "no",
        "null",
        "~",
        "",
        " ",
        "a b",
        "a: b",
        "#x",
        "x #y",
        "- x",
        "'q'",
        '"d"',
        "é",
        "2021-01-01",
        "-1",
        "[x]",
        "{y}",
        "*z",
        "&w",
        "!v",
        "%u",
        "@t",
        "`s`",
        "a\nb",
        "a\n\nb",
        "é\u2028",
        "\\",
    ]
)
_ORDINARY = string.ascii_letters + string.digits + "      .,-_:/#'\"`[]{}()*&!|>%@?=+éあ\u00a0"
_TEXT = st.one_of(
    _WORDS,
    st.text(_ORDINARY, max_size=120),
    st.text(_ORDINARY + "\n\t\\\x85", max_size=60),
    st.lists(_WORDS, max_size=12).map(" ".join),
)
_PLAIN_KEY = st.from_regex(r"[a-z_][a-z0-9_.-]{0,12}", fullmatch=True)
_KEYS = _PLAIN_KEY  # a key the dumper quotes makes the whole document declined
_DATA = st.recursive(
    st.one_of(_TEXT, st.none(), st.booleans()),
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(_KEYS, inner, max_size=5)),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(_KEYS, _DATA, min_size=1, max_size=6),
    st.sampled_from([20, 40, 80]),
    st.booleans(),
    st.sampled_from([False, None, True]),
)
def test_dumper_written_documents_read_as_libyaml_reads_them(
    doc: dict, width: int, unicode: bool, flow: bool | None
) -> None:
    data = yaml.safe_dump(doc, default_flow_style=flow, width=width, allow_unicode=unicode, sort_keys=False)
    _same_or_declined(data.encode())


def test_load_yaml_uses_both_readers_alike() -> None:
    text = b"id: PYSEC-1\naffected:\n- package:\n    name: x\n  versions:\n  - 1.0\n"
    assert yamlfast.load(text) is yamlfast.DECLINED  # the version 1.0 would be a number
    assert osv.load_yaml(text) == osv.load_yaml_libyaml(text)
    assert osv.load_yaml(text)["affected"][0]["versions"] == ["1.0"]
    answered = b"id: PYSEC-1\nsummary: &s text\ndetails: *s\n"
    assert (
        yamlfast.load(answered)
        == osv.load_yaml(answered)
        == {"id": "PYSEC-1", "summary": "text", "details": "text"}
    )


def test_the_ascii_shortcut_finds_the_unsafe_characters_the_pattern_finds() -> None:
    """Every character, alone in an ASCII document or beside a non-ASCII one: the byte-level check of
    ASCII documents and the pattern agree, and documents holding one are declined."""
    for code in range(0x110000):
        if 0xD800 <= code <= 0xDFFF:
            continue  # not encodable in UTF-8 (the reader declines such bytes before this check)
        for text in (f"id: a{chr(code)}b\n", f"id: é{chr(code)}\n"):
            data = text.encode()
            assert yamlfast._unsafe(data, text) == (yamlfast._UNSAFE.search(text) is not None), code
    assert yamlfast.load(b"id: a\x7fb\n") is yamlfast.DECLINED
    assert yamlfast.load(b"id: a\x0bb\n") is yamlfast.DECLINED
    assert yamlfast.load(b"id: ab\n") == {"id": "ab"}

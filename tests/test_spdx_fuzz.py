"""Property tests: whatever bytes the SPDX readers get, they return a Document or raise InputError.

Inputs are random bytes (bare and behind a real SPDX header), byte-mutated real example files, and
real JSON/YAML documents with one value swapped for a random value of another shape. When a mutated
document still reads, writing it as SPDX JSON or tag-value must not fail with anything but InputError either.
"""

from __future__ import annotations

import contextlib
import io
from functools import cache
from pathlib import Path

import orjson
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SHARED_DATA
from mamori.errors import InputError
from mamori.model import Document
from mamori.sbom import ReadOptions
from mamori.sbom.spdx.read_json import read_json, read_yaml
from mamori.sbom.spdx.read_tools import read_rdf, read_tagvalue
from mamori.sbom.spdx.write import write_json, write_tagvalue
from test_spdx_read import SPDX2_FILES

SPDX = SHARED_DATA / "sbom" / "spdx"
READERS = {"json": read_json, "yaml": read_yaml, "tv": read_tagvalue, "rdf": read_rdf}
HEADERS = {
    "json": b'{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", ',
    "yaml": b"spdxVersion: SPDX-2.3\nSPDXID: SPDXRef-DOCUMENT\n",
    "tv": b"SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\n",
    "rdf": b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
    b'xmlns:spdx="http://spdx.org/rdf/terms#">',
}
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
needs_examples = pytest.mark.skipif(not SPDX.is_dir(), reason="../shared/data is absent")


def reads_or_refuses(kind: str, data: bytes) -> Document | None:
    try:
        return READERS[kind](data, Path(f"fuzz.{kind}"), ReadOptions())
    except InputError:
        return None


@pytest.mark.parametrize("kind", sorted(READERS))
@FAST
@given(data=st.binary(max_size=2048), with_header=st.booleans())
def test_random_bytes(kind: str, data: bytes, with_header: bool) -> None:
    doc = reads_or_refuses(kind, HEADERS[kind] + data if with_header else data)
    assert doc is None or isinstance(doc, Document)


@cache
def real_sources(kind: str) -> tuple[bytes, ...]:
    json_files = [SPDX / rel for rel in SPDX2_FILES if rel.endswith(".json")]
    tv_files = [SPDX / rel for rel in SPDX2_FILES if rel.endswith(".spdx")]
    if kind == "json":
        return tuple(p.read_bytes() for p in json_files)
    if kind == "yaml":
        return tuple(yaml.safe_dump(orjson.loads(p.read_bytes())).encode() for p in json_files)
    if kind == "tv":
        return tuple(p.read_bytes() for p in tv_files)
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.writer.rdf.rdf_writer import write_document_to_stream

    sources = []
    for path in tv_files[:4]:
        out = io.BytesIO()
        write_document_to_stream(parse_file(str(path)), out, validate=False)
        sources.append(out.getvalue())
    return tuple(sources)


@st.composite
def byte_mutations(draw: st.DrawFn, sources: tuple[bytes, ...]) -> bytes:
    data = bytearray(draw(st.sampled_from(sources)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "insert", "replace", "duplicate", "truncate"]))
        start = draw(st.integers(0, len(data)))
        end = min(len(data), start + draw(st.integers(0, 64)))
        if op == "delete":
            del data[start:end]
        elif op == "insert":
            data[start:start] = draw(st.binary(min_size=1, max_size=16))
        elif op == "replace":
            data[start:end] = draw(
                st.sampled_from([b"", b"NOASSERTION", b"NONE", b":", b"{", b"[", b"<", b'"', b"\n", b"\x00"])
            )
        elif op == "duplicate":
            data[start:start] = data[start:end]
        else:
            del data[start:]
    return bytes(data)


@needs_examples
@pytest.mark.parametrize("kind", sorted(READERS))
@FAST
@given(data=st.data())
def test_mutated_real_files(kind: str, data: st.DataObject) -> None:
    mutated = data.draw(byte_mutations(real_sources(kind)))
    doc = reads_or_refuses(kind, mutated)
    assert doc is None or isinstance(doc, Document)


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(
        ["NOASSERTION", "NONE", "SPDXRef-x", "pkg:npm/a@1", "MIT OR", "2020-01-01T00:00:00Z", "SHA1"]
    ),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _slots(value: object, found: list[tuple[object, object]]) -> list[tuple[object, object]]:
    """Every (container, key) in a JSON tree."""
    if isinstance(value, dict):
        for key, child in value.items():
            found.append((value, key))
            _slots(child, found)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.append((value, index))
            _slots(child, found)
    return found


@needs_examples
@pytest.mark.parametrize("kind", ["json", "yaml"])
@FAST
@given(data=st.data())
def test_real_documents_with_a_value_of_the_wrong_shape(kind: str, data: st.DataObject) -> None:
    document = orjson.loads(data.draw(st.sampled_from(real_sources("json"))))
    for _ in range(data.draw(st.integers(1, 3))):
        slots = _slots(document, [])
        container, key = slots[data.draw(st.integers(0, len(slots) - 1))]
        if data.draw(st.booleans()) and isinstance(container, dict):
            del container[key]
        else:
            container[key] = data.draw(_VALUES)
    raw = orjson.dumps(document) if kind == "json" else yaml.safe_dump(document).encode()
    doc = reads_or_refuses(kind, raw)
    if doc is not None:
        for writer in (write_json, write_tagvalue):
            with contextlib.suppress(InputError):
                writer(doc, None)

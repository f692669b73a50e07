"""mamori's own data files (``src/mamori/data``, the message tables): read from their packed copy, else with
libyaml's loader.

These files ship with mamori and are read at the start of most commands. ``data/packed.json`` (written by
``tools/pack_data.py``, tested equal to the YAML) holds each file as parsed, as JSON, under the digest of its
text: a text found there is not parsed and PyYAML is not imported at all (importing it compiles a pattern
over most of Unicode, about 15 ms, more than parsing the files). A text not found there (a file changed
since the copy was written) is parsed by PyYAML's C loader (``CSafeLoader``, the same safe subset as
``yaml.safe_load``). Each call returns new objects, as parsing does. Files a user gives are read where their
errors are reported, not here."""

from __future__ import annotations

import zlib
from functools import cache
from importlib import resources
from typing import Any

import orjson

PACKED = "packed.json"


def digest(text: str) -> str:
    """The key of ``text`` in the packed copy: its length in bytes, CRC-32 and Adler-32 (zlib: no hash
    library to load; the copy is mamori's own data, a key tells its files, and their edits, apart)."""
    data = text.encode("utf-8")
    return f"{len(data)}-{zlib.crc32(data):08x}-{zlib.adler32(data):08x}"


@cache
def _packed() -> dict[str, str]:
    """Digest → the parsed file as JSON text (empty when the packed copy is missing or unreadable)."""
    try:
        data = orjson.loads(resources.files("mamori").joinpath("data", PACKED).read_bytes())
        return {entry["digest"]: entry["json"] for entry in data["files"].values()}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def parse_yaml_text(text: str) -> Any:
    """``text`` parsed by PyYAML (libyaml's safe loader when present)."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def load_yaml_text(text: str) -> Any:
    """Parse the text of a packaged YAML file (from the packed copy when it holds this very text)."""
    found = _packed().get(digest(text))
    return orjson.loads(found) if found is not None else parse_yaml_text(text)


def load_yaml(*parts: str) -> Any:
    """The packaged YAML file ``mamori/<parts...>``, parsed."""
    return load_yaml_text(resources.files("mamori").joinpath(*parts).read_text(encoding="utf-8"))


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same types, mappings with their keys in the same order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


# the largest file packed: the message tables and small data files every command may read are under it;
# the assessment catalogs (up to 128 KiB each, read by the assess commands alone) stay YAML, so that every
# command does not load a copy several times larger than what it reads
MAX_PACKED = 16 * 1024


def packed(base: Any) -> bytes:
    """The packed copy of the YAML files under ``base`` (a ``mamori/data`` folder), as written to
    :data:`PACKED`: every file of at most :data:`MAX_PACKED` bytes whose parse JSON carries exactly (no
    dates, no keys other than strings …), by path, with the digest of its text. The SSVC files have their
    own copy (``ssvc/catalog.json``)."""
    files: dict[str, dict[str, str]] = {}
    for path in sorted(base.rglob("*.yaml")):
        name = path.relative_to(base).as_posix()
        if name.startswith("ssvc/") or path.stat().st_size > MAX_PACKED:
            continue
        text = path.read_text(encoding="utf-8")
        parsed = parse_yaml_text(text)
        try:
            as_json = orjson.dumps(parsed)
        except TypeError:
            continue
        if _same(orjson.loads(as_json), parsed):
            files[name] = {"digest": digest(text), "json": as_json.decode("utf-8")}
    return orjson.dumps({"files": files}, option=orjson.OPT_APPEND_NEWLINE)

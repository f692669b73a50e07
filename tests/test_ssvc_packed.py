"""The packed copy of the packaged SSVC data (data/ssvc/catalog.json, written by tools/ssvc_json.py) is the
YAML as parsed, and the catalog read from it is the catalog read from the YAML."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import orjson

from mamori.triage import ssvc

BASE = Path(str(resources.files("mamori") / "data" / "ssvc"))


def test_the_packed_copy_is_current() -> None:
    assert (BASE / ssvc.PACKED).read_bytes() == ssvc.packed(BASE), "run: python tools/ssvc_json.py"
    names = set(orjson.loads((BASE / ssvc.PACKED).read_bytes()))
    assert names == {f"{k}/{p.name}" for k in ssvc.KINDS for p in (BASE / k).glob("*.yaml")}
    assert any(n.startswith("tables/") for n in names) and any(n.startswith("points/") for n in names)


def test_the_default_catalog_is_the_yaml_catalog() -> None:
    packed = ssvc.default_catalog.__wrapped__()  # type: ignore[attr-defined]
    from_yaml = ssvc.load_catalog(BASE)
    assert packed.points == from_yaml.points and packed.tables == from_yaml.tables
    assert list(packed.points) == list(from_yaml.points) and list(packed.tables) == list(from_yaml.tables)
    table = packed.table("deployer")
    assert table == from_yaml.table("deployer") and table.grid

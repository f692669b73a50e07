"""The packed copy of the packaged YAML files (data/packed.json, written by tools/pack_data.py) is the YAML as
parsed, a scan reads its data files without importing PyYAML, and a changed text is parsed from the YAML."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources
from pathlib import Path

import orjson

from mamori import packaged

BASE = Path(str(resources.files("mamori") / "data"))


def test_the_packed_copy_is_current_and_equal_to_the_yaml() -> None:
    assert (BASE / packaged.PACKED).read_bytes() == packaged.packed(BASE), "run: python tools/pack_data.py"
    files = orjson.loads((BASE / packaged.PACKED).read_bytes())["files"]
    # the files a scan reads are all there
    assert {
        "scan/messages.yaml",
        "fileio/messages.yaml",
        "triage/messages.yaml",
        "triage/variants.yaml",
    } <= set(files)
    for name, entry in files.items():
        text = (BASE / name).read_text(encoding="utf-8")
        assert entry["digest"] == packaged.digest(text), name
        assert packaged._same(packaged.load_yaml_text(text), packaged.parse_yaml_text(text)), name


def test_a_text_that_is_not_packed_is_parsed_from_the_yaml() -> None:
    text = (BASE / "scan" / "messages.yaml").read_text(encoding="utf-8")
    changed = text + "\nadded_by_test: {en: added, ja: 追加}\n"
    assert packaged.digest(changed) not in packaged._packed()
    parsed = packaged.load_yaml_text(changed)
    assert parsed["added_by_test"] == {"en": "added", "ja": "追加"}
    assert {k: v for k, v in parsed.items() if k != "added_by_test"} == packaged.load_yaml_text(text)


def test_every_read_gives_new_objects() -> None:
    first = packaged.load_yaml("data", "scan", "messages.yaml")
    first.clear()
    assert packaged.load_yaml("data", "scan", "messages.yaml")


def test_dates_and_other_values_json_does_not_carry_are_left_to_the_yaml(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("when: 2024-01-02\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("1: one\n", encoding="utf-8")
    (tmp_path / "c.yaml").write_text("x: [1, 2.5, true, null, text]\n", encoding="utf-8")
    assert set(orjson.loads(packaged.packed(tmp_path))["files"]) == {"c.yaml"}


def test_a_json_scan_imports_neither_yaml_nor_rich_nor_pydantic(tmp_path: Path) -> None:
    sbom = tmp_path / "bom.cdx.json"
    sbom.write_text(
        '{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [{"type": "library",'
        ' "name": "leo", "version": "5.5", "purl": "pkg:pypi/leo@5.5"}]}',
        encoding="utf-8",
    )
    code = (
        "import sys\n"
        "from mamori.cli.main import main\n"
        f"code = main(['scan', {str(sbom)!r}, '--db', {str(tmp_path / 'kb.db')!r}, '-f', 'json',"
        f" '-o', {str(tmp_path / 'out.json')!r}, '--allow-partial'])\n"
        "print(code, sorted({m.split('.')[0] for m in sys.modules} & {'yaml', 'rich', 'pydantic', 'sqlalchemy'}))\n"
    )
    # the first run creates the store (through sqlite3, from the shipped schema); the second reads it as
    # every scan does: neither needs SQLAlchemy
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert first.stdout.split("\n")[-2] == "0 []", first.stdout + first.stderr
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.stdout.split("\n")[-2] == "0 []", run.stdout + run.stderr
    assert orjson.loads((tmp_path / "out.json").read_bytes())["sbom"]["components"] == 1

"""The catalog loader: lookup by NFKC-equivalent ids, validation errors, cross-references, and the CLI."""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path

import pytest
import yaml

from mamori.cli.main import main
from mamori.compliance import catalog as cat
from mamori.compliance.sources import item_problems, source_problems
from mamori.errors import InputError

GUIDELINE_YAML = cat.CATALOG_DIR / "guideline.yaml"
SSDF_YAML = cat.CATALOG_DIR / "ssdf.yaml"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def test_installed_frameworks_include_ours() -> None:
    names = cat.frameworks()
    assert {"guideline", "ssdf"} <= set(names)
    assert cat.load("guideline").framework == "guideline"
    assert cat.load("SSDF").framework == "ssdf"


def test_every_installed_catalog_loads_with_unique_ids_and_existing_parents() -> None:
    for name, catalog in cat.all_catalogs().items():
        assert catalog.framework == name
        keys = [cat.id_key(item.id) for item in catalog.items]
        assert len(keys) == len(set(keys)), name
        for item in catalog.items:
            if item.parent is not None:
                assert catalog.get(item.parent) is not None, (name, item.id)


def test_get_accepts_nfkc_equivalent_and_printed_ids() -> None:
    guideline = cat.load("guideline")
    item = guideline.get("S(1)-1.1")
    assert item is not None
    assert guideline.get("Ｓ（１）－１．１") is item
    assert guideline.get("s(1)-1.1") is item
    assert guideline.get(" S(1)-1.1 ") is item
    # the seed prints S(5)-1.３ with a full-width digit; the catalog id is NFKC
    assert guideline.get("S(5)-1.３").id == "S(5)-1.3"
    # requirements are printed "(1)-1" in the list slide
    assert guideline.get("(1)-1").id == "S(1)-1"
    assert guideline.get("S(9)-9.9") is None
    assert "S(2)-2.3" in guideline
    ssdf = cat.load("ssdf")
    assert ssdf.get("ＰＷ．４．１").id == "PW.4.1"
    assert ssdf.get("PW7.2").id == "PW.7.2"  # the seed's typo at L3201


def test_hierarchy_helpers() -> None:
    guideline = cat.load("guideline")
    item = guideline.get("S(2)-2.3")
    assert [a.id for a in guideline.ancestors(item)] == ["D2", "(2)", "S(2)-2"]
    assert [c.id for c in guideline.children("S(2)-2")] == ["S(2)-2.1", "S(2)-2.2", "S(2)-2.3"]
    assert guideline.counts()["individual"] == len(guideline.of_kind("individual")) == 69


def test_unknown_framework_is_a_one_line_input_error() -> None:
    with pytest.raises(InputError, match=r"unknown catalog 'nope' \(available: .*guideline"):
        cat.load("nope")


def test_cross_references_resolve_across_installed_catalogs() -> None:
    catalogs = cat.all_catalogs()
    assert cat.broken_references(catalogs) == []
    refs = cat.references(catalogs["guideline"].get("S(2)-2.3"), catalogs)
    assert [(r.framework, r.id, r.target.id) for r in refs] == [("ssdf", "PS.3.2", "PS.3.2")]
    incoming = cat.referenced_by(catalogs["ssdf"].get("PW.4.1"), catalogs)
    assert {i.id for i in incoming if i.framework == "guideline"} == {"S(2)-1.1", "S(2)-1.5"}


def test_broken_reference_is_reported(tmp_path: Path) -> None:
    data = read_catalog(GUIDELINE_YAML)
    data["items"][3]["refs"] = {"ssdf": ["PW.3.9"], "jcstar1-future": ["X-1"]}
    mine = cat.load_file(write_catalog(tmp_path / "guideline.yaml", data))
    catalogs = {"guideline": mine, "ssdf": cat.load("ssdf")}
    broken = cat.broken_references(catalogs)
    # the ref into an absent catalog is skipped, the ref to a missing SSDF task is reported
    assert [(r.holder.id, r.framework, r.id) for r in broken] == [(data["items"][3]["id"], "ssdf", "PW.3.9")]


@functools.cache
def _parsed(path: Path) -> dict:  # type: ignore[type-arg]
    return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)


def read_catalog(path: Path) -> dict:  # type: ignore[type-arg]
    """A fresh, modifiable copy of a catalog file's data."""
    return copy.deepcopy(_parsed(path))


def write_catalog(path: Path, data: dict) -> Path:  # type: ignore[type-arg]
    path.write_text(
        yaml.dump(data, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return path


def _write_variant(tmp_path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    data = read_catalog(GUIDELINE_YAML)
    data["items"] = data["items"][:10]  # D1 … S(1)-2.2: enough for every rule, quick to load
    assert cat.load_file(write_catalog(tmp_path / "guideline.yaml", data)).counts()["individual"] == 6
    change(data)
    return write_catalog(tmp_path / "guideline.yaml", data)


def _set(path: list, value):  # type: ignore[no-untyped-def]
    def change(data):  # type: ignore[no-untyped-def]
        target = data
        for part in path[:-1]:
            target = target[part]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return change


_DELETE = object()

BAD_VARIANTS = [
    (
        _set(["items", 5, "summary", "en"], ""),
        r"item 'S\(1\)-1\.3' \(items\[5\]\.summary\.en\): '' should be non-empty",
    ),
    (_set(["items", 5, "title_ja"], _DELETE), r"'title_ja' is a required property"),
    (_set(["items", 5, "id"], "S(1)-1.1"), r"item 'S\(1\)-1\.1': duplicate id \(same as 'S\(1\)-1\.1'\)"),
    (_set(["items", 5, "id"], "S(1)-1.２"), r"id is not NFKC-normalised; write 'S\(1\)-1\.2'"),
    (_set(["items", 5, "kind"], "clause"), r"kind 'clause' is not one of levels"),
    (_set(["items", 5, "parent"], "S(1)-7"), r"parent 'S\(1\)-7' is not in the catalog"),
    (
        _set(["items", 5, "parent"], "S(1)-1.1"),
        r"parent 'S\(1\)-1\.1' is a individual, not a level above individual",
    ),
    (
        _set(["items", 5, "applicability", "roles", "basis"], "guess"),
        r"roles\.basis\): 'guess' is not one of",
    ),
    (_set(["items", 5, "applicability", "roles", "value"], ["vendor"]), r"'vendor' is not one of"),
    (_set(["items", 5, "periodicity", "value"], "yearly"), r"periodicity\.value\): 'yearly' is not one of"),
    (_set(["items", 5, "source", "line"], 0), r"source\.line\): 0 is less than the minimum of 1"),
    (_set(["items", 5, "owner"], "me"), r"Additional properties are not allowed \('owner' was unexpected\)"),
    (_set(["notes"], "x"), r"top level: .*'notes' was unexpected.*put framework-specific data under 'extra'"),
    (_set(["items", 5, "evidence_hints", "en"], []), r"evidence_hints must be given in both ja and en"),
    (_set(["framework"], "ssdf"), r"framework is 'ssdf' but the file name says 'guideline'"),
]


@pytest.mark.parametrize(("change", "message"), BAD_VARIANTS)
def test_invalid_catalog_files_give_one_clear_line(tmp_path: Path, change, message: str) -> None:  # type: ignore[no-untyped-def]
    path = _write_variant(tmp_path, change)
    with pytest.raises(InputError) as info:
        cat.load_file(path, expect="guideline")
    text = str(info.value)
    assert text.startswith(str(path) + ": ")
    assert "\n" not in text
    assert re.search(message, text), text


def test_yaml_problems_are_reported_with_their_line(tmp_path: Path) -> None:
    duplicate = tmp_path / "dup.yaml"
    duplicate.write_text("framework: guideline\nframework: ssdf\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"invalid YAML: line 2: duplicate key 'framework'"):
        cat.load_file(duplicate)
    broken = tmp_path / "broken.yaml"
    broken.write_text("framework: [guideline\nlevels: x\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"broken\.yaml: invalid YAML: line \d+"):
        cat.load_file(broken)
    not_mapping = tmp_path / "list.yaml"
    not_mapping.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(InputError, match="must be a YAML mapping"):
        cat.load_file(not_mapping)


def test_ssdf_grades_are_validated_and_the_legend_variant_accepted(tmp_path: Path) -> None:
    data = read_catalog(SSDF_YAML)
    task = next(i for i in data["items"] if i["id"] == "PO.1.1")
    task["extra"]["mapping"]["nisc_standards"]["grade"] = "〇"  # U+3007 as in the seed's legend
    path = tmp_path / "ssdf.yaml"
    write_catalog(path, data)
    assert cat.load_file(path).get("PO.1.1").extra["mapping"]["nisc_standards"]["grade"] == "○"
    task["extra"]["mapping"]["nisc_standards"]["grade"] = "?"
    write_catalog(path, data)
    with pytest.raises(
        InputError, match=r"item 'PO\.1\.1': extra\.mapping\.nisc_standards\.grade must be one of"
    ):
        cat.load_file(path)
    del task["extra"]["mapping"]["cpsf"]
    write_catalog(path, data)
    with pytest.raises(InputError, match=r"extra\.mapping must list the guidelines"):
        cat.load_file(path)


def test_source_check_detects_a_wrong_line() -> None:
    item = cat.load("guideline").get("S(2)-2.3")
    lines = ["x"] * 2000
    lines[item.source.line - 1] = cat.id_key(" S(2)-2.3 リリースの出所データの共有")
    assert item_problems(item, lines) == []
    moved = ["x"] * 2000
    moved[item.source.line + 19] = lines[item.source.line - 1]
    problems = item_problems(item, moved)
    assert len(problems) == 2
    assert problems[0].startswith("id not found within 3 lines")
    assert item_problems(item, ["x"] * 10)[0].startswith(f"line {item.source.line} is past the end")
    title_only = ["x"] * 2000
    title_only[item.source.line - 1] = cat.id_key("リリースの出所データの共有")
    assert item_problems(item, title_only) == [
        f"id not found within 3 lines of {item.source.file}:{item.source.line}"
    ]
    assert (
        item_problems(item, title_only, strict=False) == []
    )  # for catalogs whose ids the seed does not print
    assert item_problems(item, moved, strict=False) != []


def test_source_check_reports_a_missing_seed_folder(tmp_path: Path) -> None:
    problems = source_problems(cat.load("ssdf"), tmp_path)
    assert len(problems) == len(cat.load("ssdf"))
    assert "is not in" in str(problems[0])


# ------------------------------------------------------------------------------------------------ CLI


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_list_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "catalog", "list", "guideline", "--format", "json", "--kind", "individual")
    assert code == 0
    data = json.loads(out)
    assert data["framework"] == "guideline"
    assert data["count"] == len(data["items"]) == 69
    first = data["items"][0]
    assert first["id"] == "S(1)-1.1"
    assert set(first) >= {
        "id",
        "kind",
        "parent",
        "title_ja",
        "title_en",
        "summary",
        "source",
        "applicability",
        "refs",
    }
    assert first["summary"]["ja"] and first["summary"]["en"]
    assert first["refs"] == {"ssdf": ["PW.1.1"]}


def test_cli_list_text_in_japanese_and_english(capsys: pytest.CaptureFixture[str]) -> None:
    code, out_ja, _ = run(capsys, "catalog", "list", "ssdf", "--lang", "ja", "--kind", "task")
    assert code == 0
    lines = out_ja.splitlines()
    assert len(lines) == 42
    assert all(JAPANESE.search(line) for line in lines)
    assert "PW.4.1  安全性の高いサードパーティ製コンポーネントの取得と維持" in lines
    code, out_en, _ = run(capsys, "catalog", "list", "ssdf", "--lang", "en", "--kind", "task")
    assert code == 0
    assert not JAPANESE.search(out_en)


def test_cli_list_without_framework_lists_catalogs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "catalog", "list", "--format", "json")
    assert code == 0
    by_name = {entry["framework"]: entry for entry in json.loads(out)}
    assert by_name["guideline"]["counts"] == {"duty": 6, "category": 6, "requirement": 21, "individual": 69}
    assert by_name["ssdf"]["counts"] == {"group": 4, "practice": 19, "task": 42}


def test_cli_show_json_and_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "catalog", "show", "ＰＷ．４．１", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["id"] == "PW.4.1" and data["framework"] == "ssdf"
    assert data["ancestors"] == ["PW", "PW.4"]
    assert data["extra"]["demo_level"] == 2
    assert {"framework": "guideline", "id": "S(2)-1.1"} in data["referenced_by"]
    code, out, _ = run(capsys, "catalog", "show", "S(2)-2.3", "--lang", "ja")
    assert code == 0
    assert out.startswith("S(2)-2.3  リリースの出所データの共有\n")
    assert "リリースごとのSBOM" in out and "SSDF PS.3.2" in out and "ssdf PS" not in out
    code, out, _ = run(capsys, "catalog", "show", "S(2)-2.3", "--framework", "guideline", "--lang", "en")
    assert code == 0
    assert "Sharing release provenance data" in out and "An SBOM per release" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["catalog", "show", "S(9)-9.9"], "mamori: error: no item 'S(9)-9.9' in any catalog\n"),
        (
            ["catalog", "show", "PW.4.1", "--framework", "guideline"],
            "mamori: error: no item 'PW.4.1' in the guideline catalog\n",
        ),
        (["catalog", "list", "nope"], None),
        (["catalog", "list", "guideline", "--kind", "task"], None),
        (
            ["catalog", "list", "guideline", "--lang", "fr"],
            "mamori: error: --lang must be ja or en, not 'fr'\n",
        ),
        (
            ["catalog", "show", "PW.4.1", "--format", "xml"],
            "mamori: error: --format must be text or json, not 'xml'\n",
        ),
    ],
)
def test_cli_errors_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str | None
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("mamori: error: ") and err.count("\n") == 1
    if message is not None:
        assert err == message


def test_cli_check_validates_and_reports_seed_problems(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "catalog", "check", "guideline", "ssdf")
    assert code == 0
    assert out.splitlines() == ["guideline: 102 items (guideline.yaml)", "ssdf: 65 items (ssdf.yaml)"]
    (tmp_path / "000_55e9a5e5dde4ddb4.txt").write_text("S(1)-1.1 別の行\n", encoding="utf-8")
    code, out, _ = run(capsys, "catalog", "check", "guideline", "--strict", "--seeds", str(tmp_path))
    assert code == 1
    problems = [line for line in out.splitlines() if line.startswith("problem: ")]
    assert len(problems) == 102
    assert "problem: guideline D1: line 372 is past the end of 000_55e9a5e5dde4ddb4.txt (1 lines)" in problems

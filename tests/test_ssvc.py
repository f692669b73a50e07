"""SSVC data, loader validation and ``decide`` (packaged data only; the official oracle is test_ssvc_official)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
import yaml

from mamori.errors import InputError
from mamori.triage import ssvc

CATALOG = ssvc.default_catalog()
DATA = Path(ssvc.__file__).resolve().parents[1] / "data" / "ssvc"
TABLE_IDS = list(CATALOG.tables)


def test_packaged_tables_are_the_expected_set() -> None:
    assert set(CATALOG.tables) == {
        "supplier", "deployer", "coordinator_triage", "coordinator_publish", "cisa", "cisa_bod_26_04",
        "human_impact", "public_safety_impact", "utility", "mission_wellbeing",
        "cvss4_eq1", "cvss4_eq2", "cvss4_eq3", "cvss4_eq4", "cvss4_eq5", "cvss4_eq6", "cvss4_severity",
    }  # fmt: skip
    assert list(CATALOG.tables)[:2] == ["supplier", "deployer"]


@pytest.mark.parametrize("tid", TABLE_IDS)
def test_table_covers_every_combination_and_is_monotone(tid: str) -> None:
    table = CATALOG.tables[tid]
    assert len(table.grid) == math.prod(len(p.values) for p in table.inputs)
    # raising any input by one step never lowers the outcome (values are ordered least to most severe)
    for idx, out in table.grid.items():
        for i, point in enumerate(table.inputs):
            if idx[i] + 1 < len(point.values):
                assert table.grid[(*idx[:i], idx[i] + 1, *idx[i + 1 :])] >= out, (tid, point.id, idx)


@pytest.mark.parametrize("tid", TABLE_IDS)
def test_conservative_values_give_the_most_urgent_outcome(tid: str) -> None:
    table = CATALOG.tables[tid]
    decision = ssvc.decide(table, {}, defaults=CATALOG.conservative(table))
    assert decision.outcome == table.outcome.values[-1]
    assert {s.source for s in decision.path} == {"default"}
    for point in table.inputs:
        assert point.question is not None and point.question.ja and point.question.en


def test_every_point_and_value_has_both_languages() -> None:
    for point in CATALOG.points.values():
        assert point.name.ja and point.name.en and point.description.ja and point.description.en
        for value in point.values:
            assert value.name.ja and value.name.en and value.description.ja and value.description.en


def test_supplier_path_with_official_names_short_keys_and_any_case() -> None:
    d = ssvc.decide(
        "supplier",
        {"Exploitation": "PUBLIC POC", "U": "super effective", "technical-impact": "Total", "PSI": "S"},
    )
    assert d.outcome.id == "immediate"
    assert d.pairs == (
        ("exploitation", "public_poc"),
        ("utility", "super_effective"),
        ("technical_impact", "total"),
        ("public_safety_impact", "significant"),
    )


@pytest.mark.parametrize(
    ("point", "token", "value"),
    [
        ("exploitation", "poc", "public_poc"),
        ("exploitation", "none", "none"),
        ("exploitation", "A", "active"),
        ("automatable", "Yes", "yes"),
        ("automatable", "n", "no"),
        ("technical_impact", "PARTIAL", "partial"),
        ("system_exposure", "unavoidable", "open"),
        ("system_exposure", "Controlled", "controlled"),
        ("human_impact", "very high", "very_high"),
        ("human_impact", "Very_High", "very_high"),
        ("mission_impact", "MEF support crippled", "mef_support_crippled"),
        ("mission_impact", "non-essential degraded", "degraded"),
        ("safety_impact", "hazardous", "critical"),
        ("value_density", "Concentrated", "concentrated"),
        ("mission_prevalence", "essential", "essential"),
        ("public_wellbeing_impact", "irreversible", "irreversible"),
        ("supplier_involvement", "uncooperative/unresponsive", "uncooperative_unresponsive"),
        ("cisa_levels", "track*", "track_star"),
        ("exploitation", "悪用あり", "active"),
        ("exploitation", "ＰＯＣ", "public_poc"),
    ],
)
def test_value_names_and_short_keys(point: str, token: str, value: str) -> None:
    assert CATALOG.points[point].value(token).id == value


def test_japanese_point_names_are_accepted() -> None:
    d = ssvc.decide("utility", {"自動化可能性": "はい", "価値の集中度": "集中"})
    assert d.outcome.id == "super_effective"


def test_unknown_value_lists_allowed_values() -> None:
    with pytest.raises(InputError) as err:
        ssvc.decide("deployer", {"exploitation": "maybe"})
    assert err.value.path is None
    assert "'maybe'" in err.value.problem and "none, public_poc, active" in err.value.problem


def test_unknown_point_lists_allowed_points() -> None:
    with pytest.raises(InputError, match=r"unknown decision point 'in_kev'; allowed: exploitation, utility"):
        ssvc.decide("supplier", {"in_kev": "yes"})
    d = ssvc.decide("utility", {"in_kev": "yes", "A": "no", "VD": "diffuse"}, ignore_unknown=True)
    assert d.outcome.id == "laborious"


def test_unknown_table() -> None:
    with pytest.raises(InputError, match="unknown SSVC table 'nope'"):
        ssvc.decide("nope", {})


def test_table_aliases_and_official_keys() -> None:
    assert CATALOG.table("DT_SP").id == "supplier"
    assert CATALOG.table("Deployer Patch Application Priority").id == "deployer"
    assert CATALOG.table("CISA-coordinator").id == "cisa"


def test_missing_points_are_named_with_their_values() -> None:
    with pytest.raises(InputError) as err:
        ssvc.decide("deployer", {"exploitation": "active", "exposure": "open"})
    problem = err.value.problem
    assert "automatable (no|yes)" in problem
    assert "human_impact (low|medium|high|very_high, or give safety_impact and mission_impact)" in problem


def test_defaults_fill_missing_points_only() -> None:
    d = ssvc.decide("deployer", {"exploitation": "none", "exposure": "small"}, defaults={"automatable": "no",
                    "human_impact": "low", "exploitation": "active"})  # fmt: skip
    assert d.outcome.id == "defer"
    assert [(s.point.id, s.source) for s in d.path] == [
        ("exploitation", "given"),
        ("system_exposure", "given"),
        ("automatable", "default"),
        ("human_impact", "default"),
    ]


def test_missing_point_is_derived_from_its_table() -> None:
    d = ssvc.decide(
        "supplier",
        {
            "exploitation": "none",
            "automatable": "yes",
            "value_density": "diffuse",
            "TI": "partial",
            "SI": "marginal",
        },
    )
    assert d.outcome.id == "out_of_cycle"  # efficient utility + significant public safety impact
    utility = d.path[1]
    assert (utility.point.id, utility.value.id, utility.source) == ("utility", "efficient", "derived")
    assert utility.via is not None and utility.via.pairs == (
        ("automatable", "yes"),
        ("value_density", "diffuse"),
    )
    assert d.as_dict()["path"][1]["via"]["table"] == "utility"


def test_partial_derivation_uses_defaults_of_the_sub_table() -> None:
    table = CATALOG.table("deployer")
    d = ssvc.decide(
        table, {"E": "none", "EXP": "small", "A": "no", "SI": "negligible"}, CATALOG.conservative(table)
    )
    hi = d.path[3]
    assert hi.source == "derived" and hi.value.id == "very_high"  # mission impact unknown → mission failure
    assert [s.source for s in hi.via.path] == ["given", "default"]
    assert d.outcome.id == "scheduled"


def test_given_point_contradicting_its_inputs_is_refused() -> None:
    with pytest.raises(
        InputError, match="utility=laborious contradicts automatable=yes, value_density=concentrated"
    ):
        ssvc.decide(
            "supplier",
            {"E": "none", "U": "laborious", "A": "yes", "VD": "concentrated", "TI": "total", "PSI": "M"},
        )
    # a given point wins over incomplete inputs of its table; consistent values are fine
    d = ssvc.decide("supplier", {"E": "none", "U": "laborious", "A": "yes", "TI": "partial", "PSI": "M"})
    assert d.outcome.id == "defer" and d.path[1].source == "given"
    d = ssvc.decide(
        "supplier", {"E": "none", "U": "S", "A": "yes", "VD": "concentrated", "TI": "total", "PSI": "M"}
    )
    assert d.path[1].source == "given" and d.outcome.id == "out_of_cycle"


def test_point_given_twice_is_refused() -> None:
    with pytest.raises(InputError, match="exploitation given twice"):
        ssvc.decide("supplier", {"E": "none", "exploitation": "active"})


def test_cisa_chain_through_mission_and_wellbeing() -> None:
    d = ssvc.decide(
        "cisa",
        {"E": "active", "A": "no", "TI": "total", "mission prevalence": "support", "wellbeing": "material"},
    )
    assert d.path[3].value.id == "medium" and d.outcome.id == "attend"


# ------------------------------------------------------------------------------------- loader validation


def _copy_data(tmp_path: Path) -> Path:
    target = tmp_path / "ssvc"
    shutil.copytree(DATA, target)
    return target


def _edit_table(base: Path, name: str, change) -> Path:
    path = base / "tables" / f"{name}.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def test_copied_data_loads_like_the_packaged_data(tmp_path: Path) -> None:
    catalog = ssvc.load_catalog(_copy_data(tmp_path))
    assert {t: c.grid for t, c in catalog.tables.items()} == {t: c.grid for t, c in CATALOG.tables.items()}
    rows = dict((tuple(r.values()), out) for r, out in catalog.tables["human_impact"].rows())
    assert len(rows) == 16 and rows[("critical", "mef_support_crippled")] == "high"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda d: d["rules"].insert(1, {"when": {"automatable": "yes"}, "then": "laborious"}),
            "never apply",
        ),
        (lambda d: d["rules"].pop(), "no rule matches automatable=no, value_density=diffuse"),
        (lambda d: d["rules"][0]["when"].update(automatable="maybe"), "unknown point or value 'maybe'"),
        (lambda d: d["rules"][0].update(then="great"), "unknown point or value 'great'"),
        (
            lambda d: d["conservative"].pop("automatable"),
            "conservative must give a value for exactly the inputs",
        ),
        (lambda d: d["conservative"].update(automatable="often"), "conservative automatable='often'"),
        (
            lambda d: d.update(inputs=["automatable", "no_such_point"]),
            "unknown decision point 'no_such_point'",
        ),
        (lambda d: d.update(aliases=["supplier"]), "table name 'supplier' used by"),
    ],
)
def test_invalid_table_data_is_refused_naming_the_file(tmp_path: Path, change, problem: str) -> None:
    base = _copy_data(tmp_path)
    path = _edit_table(base, "utility", change)
    with pytest.raises(InputError) as err:
        ssvc.load_catalog(base)
    assert problem in err.value.problem
    assert err.value.path in (str(path), str(base))


def test_ambiguous_value_names_are_refused(tmp_path: Path) -> None:
    base = _copy_data(tmp_path)
    path = base / "points" / "ssvc.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "aliases: [poc, public, proof of concept]", "aliases: [active]"
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="'active' names both public_poc and active") as err:
        ssvc.load_catalog(base)
    assert err.value.path == str(path)


def test_broken_yaml_is_one_line_error(tmp_path: Path) -> None:
    base = _copy_data(tmp_path)
    (base / "tables" / "utility.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        ssvc.load_catalog(base)
    assert "\n" not in str(err.value) and "cannot read SSVC data" in str(err.value)

"""Policy rules: each condition fires and stays quiet where it should, messages name the rule, VEX
not_affected/fixed findings leave the gate, licence expressions are read with license-expression."""

from __future__ import annotations

from pathlib import Path

import pytest

from mamori.errors import InputError
from mamori.triage.policy import PolicyComponent, PolicyFinding, evaluate, failed, load_policy, parse_policy

LOG4J = PolicyFinding("CVE-2021-44228", "log4j-core@2.14.1", "critical", True, 0.97, "immediate", 19.5, None)
LODASH = PolicyFinding("CVE-2020-8203", "lodash@4.17.15", "high", False, 0.02, "scheduled", 7.4, "affected")
NOT_AFFECTED = PolicyFinding(
    "CVE-2022-42889", "commons-text@1.9", "critical", True, 0.9, "immediate", 19.6, "not_affected"
)

POLICY = """
version: 1
rules:
  - {id: kev, action: fail, kev: true}
  - {id: urgent, action: fail, ssvc: [immediate, act]}
  - {id: likely, action: warn, epss_above: 0.5}
  - {id: severe, action: warn, rating: [critical, high]}
  - {id: open-vex, action: warn, vex_status: [none, under_investigation, affected]}
  - {id: waived, action: warn, vex_status: [not_affected]}
  - {id: top, action: warn, priority_above: 15, rating: [critical], message: {en: ask the PSIRT, ja: PSIRTに相談}}
  - {id: copyleft, action: fail, license_denied: [GPL-3.0-only, AGPL-3.0-only]}
  - {id: allowed, action: warn, license_allowed: [MIT, Apache-2.0, BSD-3-Clause]}
"""


def _fired(violations: list) -> set[tuple[str, str]]:
    return {(v.rule, v.vulnerability or v.component) for v in violations}


def test_finding_rules_and_the_vex_gate() -> None:
    policy = parse_policy(__import__("yaml").safe_load(POLICY), "policy.yaml")
    violations, notices = evaluate(policy, [LOG4J, LODASH, NOT_AFFECTED])
    assert notices == [
        "rule copyleft: licence rules need the SBOM's components; not evaluated",
        "rule allowed: licence rules need the SBOM's components; not evaluated",
    ]
    assert _fired(violations) == {
        ("kev", "CVE-2021-44228"),
        ("urgent", "CVE-2021-44228"),
        ("likely", "CVE-2021-44228"),
        ("severe", "CVE-2021-44228"),
        ("severe", "CVE-2020-8203"),
        ("open-vex", "CVE-2021-44228"),
        ("open-vex", "CVE-2020-8203"),
        ("waived", "CVE-2022-42889"),  # only a rule naming the status looks at a not_affected finding
        ("top", "CVE-2021-44228"),
    }
    assert failed(violations)
    by_rule = {v.rule: v for v in violations}
    assert by_rule["kev"].message() == "FAIL [kev] CVE-2021-44228 in log4j-core@2.14.1: listed in CISA KEV"
    assert by_rule["urgent"].message("ja") == (
        "FAIL [urgent] log4j-core@2.14.1 の CVE-2021-44228：SSVC 判定 immediate が [immediate, act] に該当"
    )
    assert by_rule["likely"].message() == "WARN [likely] CVE-2021-44228 in log4j-core@2.14.1: EPSS 0.97 > 0.5"
    assert (
        by_rule["top"]
        .message()
        .endswith("CVSS rating critical is in [critical]; priority score 19.5 > 15 — ask the PSIRT")
    )
    quiet, _ = evaluate(policy, [LODASH.__class__("X", "c", "low", False, None, "defer", 1.0, "fixed")])
    assert quiet == []  # fixed: outside the gate, and no rule names it


@pytest.mark.parametrize(
    ("expression", "fired"),
    [
        ("MIT", set()),
        ("GPL-3.0-only", {"copyleft", "allowed"}),
        ("MIT OR GPL-3.0-only", set()),  # the MIT choice avoids the denied licence
        ("MIT AND GPL-3.0-only", {"copyleft", "allowed"}),
        ("Apache-2.0 WITH LLVM-exception", set()),
        ("(MIT OR Apache-2.0) AND BSD-3-Clause", set()),
        ("LGPL-2.1-only", {"allowed"}),
        (None, {"allowed"}),  # no licence: nothing shows it is allowed
        ("NOASSERTION", {"allowed"}),
        ("MIT OR (", {"copyleft", "allowed"}),  # unreadable: never silently fine
    ],
)
def test_licence_rules(expression: str | None, fired: set[str]) -> None:
    policy = parse_policy(__import__("yaml").safe_load(POLICY), "policy.yaml")
    violations, notices = evaluate(policy, [], [PolicyComponent("pkg@1", expression)])
    assert notices == []
    assert {v.rule for v in violations} == fired
    for v in violations:
        assert v.vulnerability is None and v.message().startswith(f"{v.action.upper()} [{v.rule}] pkg@1: ")


def test_bad_policies_are_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    cases = {
        "rules: [{action: fail, kev: true}]": "needs an id",
        "rules: [{id: a, action: block, kev: true}]": "fail or warn",
        "rules: [{id: a, action: fail}]": "no condition",
        "rules: [{id: a, action: fail, ssvc: [urgent]}]": "unknown value 'urgent'",
        "rules: [{id: a, action: fail, epss_above: 2}]": "from 0 to 1",
        "rules: [{id: a, action: fail, kev: yes-please}]": "true or false",
        "rules: [{id: a, action: fail, kev: true, license_denied: [MIT]}]": "separate rules",
        "rules: [{id: a, action: fail, kev: true}, {id: a, action: warn, kev: true}]": "used twice",
        "rules: [{id: a, action: fail, colour: red}]": "unknown key 'colour'",
        "version: 2\nrules: []": "unsupported policy version",
        "kev: true": "list of rules",
    }
    for text, problem in cases.items():
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError, match=problem) as info:
            load_policy(path)
        assert info.value.path == str(path)

"""The findings of the CSAF 2.0 tests read in Japanese and English: ``mamori advisory validate`` prints the
mandatory-test failures (6.1) and optional-test warnings (6.2) of the OASIS validator test files in the
command's language, with the same test ids and JSON pointers; ``--format json`` keeps the English text
whatever the language; every finding of every OASIS file has its Japanese text; the PSIRT page that shows
the mandatory-test problems of a case's draft advisory shows them in the page's language."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import SHARED_DATA
from mamori.vex.csaf_checks import Problem, mandatory_problems
from mamori.vex.csaf_optional import Finding, optional_problems
from server_support import backend_store, csrf_of, live, signin

CASES = SHARED_DATA / "csaf" / "validator-tests"
MANDATORY = CASES / "mandatory" / "oasis_csaf_tc-csaf_2_0-2021-6-1-01-01.json"
OPTIONAL = CASES / "optional" / "oasis_csaf_tc-csaf_2_0-2021-6-2-20-01.json"
MAMORI = str(Path(sys.executable).with_name("mamori"))
POINTER = "/product_tree/product_groups/0/product_ids/0"


def _shared() -> None:
    if not MANDATORY.is_file() or not OPTIONAL.is_file():
        pytest.skip("../shared/data/csaf is absent")


def _validate(lang: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(Path(sys.executable).parent), "MAMORI_LANG": lang, "HOME": "/nonexistent"}
    return subprocess.run(
        [MAMORI, "advisory", "validate", str(MANDATORY), str(OPTIONAL), *args],
        capture_output=True, text=True, timeout=300, env=env, check=False,
    )  # fmt: skip


def test_validate_in_japanese() -> None:
    _shared()
    run = _validate("ja")
    assert run.returncode == 1, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert f"{MANDATORY}: 無効な CSAF 2.0 文書です" in lines
    assert (
        f"  {POINTER}: 製品 ID 'CSAFPID-9080700' が製品ツリーで定義されていません (CSAF 2.0 必須テスト 6.1.1)"
        in lines
    )
    assert f"{OPTIONAL}: 有効な CSAF 2.0 文書です" in lines
    assert "  警告: /document/lang: 文書に言語 (lang) がありません (CSAF 2.0 任意テスト 6.2.12)" in lines
    # 6.2.20 is made from jsonschema's finding, in Japanese too
    assert (
        "  警告: /document: 追加のプロパティは許されていません ('custom_property' は想定外です)"
        " (CSAF 2.0 任意テスト 6.2.20)" in lines
    )
    assert "mandatory test" not in run.stdout and "optional test" not in run.stdout


def test_validate_in_english_is_unchanged() -> None:
    _shared()
    run = _validate("en")
    assert run.returncode == 1, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert f"{MANDATORY}: invalid CSAF 2.0" in lines
    assert (
        f"  {POINTER}: product id 'CSAFPID-9080700' is not defined in the product tree"
        " (CSAF 2.0 mandatory test 6.1.1)" in lines
    )
    assert "  warning: /document/lang: the document has no language (CSAF 2.0 optional test 6.2.12)" in lines
    assert (
        "  warning: /document: Additional properties are not allowed ('custom_property' was unexpected)"
        " (CSAF 2.0 optional test 6.2.20)" in lines
    )


def test_json_keeps_english_in_every_language() -> None:
    _shared()
    english, japanese = _validate("en", "--format", "json"), _validate("ja", "--format", "json")
    assert english.returncode == japanese.returncode == 1
    assert json.loads(japanese.stdout) == json.loads(english.stdout)
    errors = json.loads(english.stdout)[str(MANDATORY)]["errors"]
    assert errors[0] == (
        f"{POINTER}: product id 'CSAFPID-9080700' is not defined in the product tree"
        " (CSAF 2.0 mandatory test 6.1.1)"
    )


def _findings() -> Iterator[tuple[str, Problem]]:
    listed = json.loads((CASES / "testcases.json").read_text(encoding="utf-8"))["tests"]
    for case in listed:
        for item in case.get("failures", []):
            doc = json.loads((CASES / item["name"]).read_text(encoding="utf-8"))
            for problem in [*mandatory_problems(doc), *optional_problems(doc)]:
                yield item["name"], problem


def test_every_finding_of_the_oasis_files_has_japanese() -> None:
    _shared()
    seen: set[str] = set()
    for name, problem in _findings():
        if problem.msgid == "{reason}":  # a CVSS schema message of jsonschema (6.1.8): its own English
            assert problem.test == "6.1.8", name
            continue
        seen.add(problem.test)
        english, japanese = problem.line("en"), problem.line("ja")
        assert english != japanese and problem.message in english, (name, english)
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", problem.text("ja")), (name, japanese)
        kind = "optional" if isinstance(problem, Finding) else "mandatory"
        assert english.endswith(f" (CSAF 2.0 {kind} test {problem.test})"), english
        assert japanese.startswith(f"{problem.path or '/'}: ") and problem.test in japanese
    # the OASIS files fail most tests: their messages are all covered
    assert len({t for t in seen if t.startswith("6.1.")}) >= 30
    assert len({t for t in seen if t.startswith("6.2.")}) == 20


# ------------------------------------------------------------------ the PSIRT page


@pytest.fixture
def psirt_site(tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    from mamori import accounts
    from mamori.psirt.cases import new_case

    with backend_store("sqlite", tmp_path) as store:
        accounts.create_team(store, "mine")
        accounts.create_user(store, "sm", "correct horse battery staple 42", "mine", "security_manager")
        case = new_case(
            store,
            title="Deserialization in the bundled jackson-databind",
            channel="email",
            team="mine",
            who="sm",
            component="pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.10?type=jar",
            affected_range="vers:maven/>=2.9.0|<2.9.10.4",
            fixed_version="2.9.10.4 and later",  # a version range where a version belongs: 6.1.31 fails
        )
        with live(store, csaf_publisher="Example Corp", csaf_namespace="https://psirt.example.com") as server:
            yield case, server


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "ja",
            "product_version &#39;2.9.10.4 and later&#39; はバージョン範囲です (CSAF 2.0 必須テスト 6.1.31)",
        ),
        (
            "en",
            "product_version &#39;2.9.10.4 and later&#39; is a version range (CSAF 2.0 mandatory test 6.1.31)",
        ),
    ],
)
def test_the_psirt_page_shows_the_problems_in_its_language(
    psirt_site: tuple[Any, Any], lang: str, expected: str
) -> None:
    case, server = psirt_site
    client: httpx.Client = server.client()
    assert signin(client, "sm", "correct horse battery staple 42").status_code == 303
    form = {"publisher": "Example Corp", "namespace": "https://psirt.example.com", "tlp": "WHITE"}
    refused = client.post(
        f"/psirt/cases/{case.key}/csaf?lang={lang}", data={**form, "csrf_token": csrf_of(client)}
    )
    assert refused.status_code == 400, refused.text[:500]
    assert expected in refused.text

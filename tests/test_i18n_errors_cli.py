"""Error lines in the person's language (issue 14, point 1): the installed ``mamori`` run on bad input
in each command group says the problem in Japanese under MAMORI_LANG=ja (a ja_* locale, or ``--lang ja``)
and in English otherwise, on exactly one line of stderr, with exit 2.

:data:`CASES` is also what the Japanese coverage of error lines per command group is measured with
(``python tests/test_i18n_errors_cli.py``: each group's share of cases whose line is Japanese).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MAMORI = Path(sys.executable).with_name("mamori")
SBOM = REPO / "src" / "mamori" / "data" / "demo" / "shop-portal-2.1.0.cdx.json"
TIMEOUT = 120
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

#: files the cases read, made in the work folder: name → content
FILES = {
    "policy.yaml": "version: 9\nrules: []\n",
    "context.yaml": "default: 3\n",
    "not-vex.json": '{"x": 1}\n',
    "not-json.json": "nope\n",
    "profile.yaml": "profile: p\nframework: ssdf\nrequirements:\n  - id: PW.4.4\n    level: 2\n",
    "bad-profile.yaml": "framework: ssdf\n",
    "statements.yaml": "statements: 1\n",
    "bad-record.txt": "",
}

#: (group, argv, a fixed part of today's English line): every case exits 2 with one line on stderr
CASES: list[tuple[str, tuple[str, ...], str]] = [
    ("product/release/portfolio", ("product", "show", "nosuch"), "no product 'nosuch': add it with"),
    ("product/release/portfolio", ("product", "add", "p1"), "product 'p1' exists already"),
    ("product/release/portfolio", ("release", "show", "p1", "9.9"), "product 'p1' has no release '9.9'"),
    ("product/release/portfolio", ("portfolio", "findings", "--product", "nosuch"), "no product 'nosuch'"),
    (
        "triage",
        (
            "triage",
            "record",
            "--product",
            "p1",
            "--release",
            "1",
            "--component",
            "pkg:pypi/x@1",
            "--vulnerability",
            "CVE-2024-1",
            "--status",
            "bogus",
        ),
        "status 'bogus': expected one of",
    ),
    (
        "triage",
        (
            "triage",
            "prioritize",
            str(SBOM),
            "--role",
            "developer",
            "--skill",
            "high",
            "--policy",
            "policy.yaml",
        ),
        "unsupported policy version 9; expected 1",
    ),
    (
        "triage",
        (
            "triage",
            "prioritize",
            str(SBOM),
            "--role",
            "developer",
            "--skill",
            "high",
            "--context",
            "context.yaml",
        ),
        "default: expected a mapping of decision points",
    ),
    ("triage", ("triage", "prioritize", str(SBOM), "--role", "admin", "--skill", "high"), "--role: expected"),
    (
        "assess",
        ("assess", "answer", "1", "ZZ-99", "--status", "implemented"),
        "no item 'ZZ-99' in the guideline",
    ),
    (
        "assess",
        ("assess", "answer", "1", "S(1)-1.1", "--status", "implemented", "--level", "2"),
        "for SSDF tasks only",
    ),
    ("assess", ("assess", "show", "99"), "no assessment 99 in"),
    ("assess", ("assess", "compare", "not-json.json", "--profile", "profile.yaml"), "not JSON"),
    (
        "assess",
        ("assess", "compare", "not-json.json", "--profile", "bad-profile.yaml"),
        "not a requirement profile",
    ),
    ("assess", ("assess", "roadmap", "1", "--target-level", "7"), "--target-level must be 1, 2 or 3"),
    ("catalog", ("catalog", "show", "ZZ-99"), "no item 'ZZ-99' in any catalog"),
    ("catalog", ("catalog", "show", "ZZ-99", "--framework", "ssdf"), "in the ssdf catalog"),
    ("catalog", ("catalog", "list", "guideline", "--format", "xml"), "--format must be text or json"),
    ("plan", ("plan", "response", "--options", "zz"), "unknown option 'zz'"),
    ("plan", ("plan", "contract", "--level", "bogus", "-o", "out.md"), "--level must be basic or advanced"),
    ("vex", ("vex", "import", "not-vex.json"), "not a VEX document mamori reads"),
    ("vex", ("vex", "convert", "not-vex.json", "-o", "out.openvex.json"), "not a VEX document mamori reads"),
    ("vex", ("vex", "convert", "not-vex.json", "-o", "out.json"), "cannot tell the VEX format from the name"),
    ("vex", ("vex", "export", "statements.yaml", "-o", "out.openvex.json"), "expected a list, got str"),
    ("scan", ("scan", "nosuch.json"), "file not found"),
    ("scan", ("scan", str(SBOM), "--max-age", "zz"), "--max-age: expected a duration"),
    ("scan", ("scan", str(SBOM), "--format", "xlsx"), "--format xlsx writes a binary file"),
    ("ssvc", ("ssvc", "decide", "nosuch"), "unknown SSVC table 'nosuch'"),
    ("ssvc", ("ssvc", "tables", "--format", "xml"), "--format: expected text or json"),
]

#: commands that make the state the cases need: a product p1 and a guideline assessment 1
SETUP = [
    ("product", "add", "p1"),
    ("assess", "new", "--framework", "guideline", "--roles", "developer", "--org", "o", "--scope", "s"),
]


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MAMORI_LANG", "LC_ALL", "LANG", "LANGUAGE")}
    env.update(XDG_DATA_HOME=str(home), MAMORI_DB=str(home / "kb.db"), COLUMNS="200", **extra)
    return env


def run(command: list[str], argv: tuple[str, ...], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command, *argv],
        cwd=cwd,
        env=_env(cwd / "home", **env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def prepare(folder: Path, command: list[str]) -> None:
    """The files and the store the cases need, in ``folder``."""
    for name, content in FILES.items():
        (folder / name).write_text(content, encoding="utf-8")
    for argv in SETUP:
        done = run(command, argv, folder, MAMORI_LANG="en")
        assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("i18n-errors")
    prepare(folder, [str(MAMORI)])
    return folder


def _one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("group", "argv", "english"), CASES, ids=[f"{n}-{c[1][0]}-{c[1][1]}" for n, c in enumerate(CASES)]
)
def test_error_line_in_each_language(work: Path, group: str, argv: tuple[str, ...], english: str) -> None:
    en = _one_line(run([str(MAMORI)], argv, work, MAMORI_LANG="en"))
    assert english in en, en
    assert not JAPANESE.search(en), en
    ja = _one_line(run([str(MAMORI)], argv, work, MAMORI_LANG="ja"))
    assert JAPANESE.search(ja), ja
    assert english not in ja, ja
    assert ja.startswith("mamori: エラー: ") and en.startswith("mamori: error: ")


def test_locale_and_lang_option_choose_japanese(work: Path) -> None:
    argv = ("product", "show", "nosuch")
    by_locale = _one_line(run([str(MAMORI)], argv, work, LANG="ja_JP.UTF-8"))
    assert "製品 'nosuch' はありません" in by_locale
    by_option = _one_line(run([str(MAMORI)], (*argv, "--lang", "ja"), work, MAMORI_LANG="en"))
    assert by_option == by_locale
    english = _one_line(run([str(MAMORI)], (*argv, "--lang", "en"), work, MAMORI_LANG="ja"))
    assert "no product 'nosuch'" in english and not JAPANESE.search(english)


def test_input_text_is_kept_in_the_japanese_line(work: Path) -> None:
    """The fixed part is translated; what came from the input (names, values) stays as it was given."""
    ja = _one_line(run([str(MAMORI)], ("release", "show", "p1", "v-テスト"), work, MAMORI_LANG="ja"))
    assert ja == "mamori: エラー: 製品 'p1' にリリース 'v-テスト' はありません"


def coverage(command: list[str], folder: Path) -> dict[str, tuple[int, int]]:
    """group → (cases whose line is Japanese under MAMORI_LANG=ja, cases)."""
    prepare(folder, command)
    found: dict[str, tuple[int, int]] = {}
    for group, argv, _english in CASES:
        done = run(command, argv, folder, MAMORI_LANG="ja")
        japanese = int(bool(JAPANESE.search(done.stderr)))
        have, total = found.get(group, (0, 0))
        found[group] = (have + japanese, total + 1)
    return found


if __name__ == "__main__":  # python tests/test_i18n_errors_cli.py [SRC]: the coverage of that source tree
    import tempfile

    source = sys.argv[1] if len(sys.argv) > 1 else None
    command = [sys.executable, "-c", "from mamori.cli.main import run; run()"]
    if source:
        os.environ["PYTHONPATH"] = source
    with tempfile.TemporaryDirectory() as tmp:
        result = coverage(command, Path(tmp))
    for group, (have, total) in result.items():
        print(f"{group:28} {have}/{total}")
    have = sum(h for h, _ in result.values())
    total = sum(t for _, t in result.values())
    print(f"{'all':28} {have}/{total}")


def test_questionnaire_problems_keep_their_column_in_japanese(tmp_path: Path) -> None:
    """A questionnaire row's problem names the column it is in, whatever the language of the message."""
    import openpyxl

    from assess_helpers import book_at
    from mamori.compliance.questionnaire import COLUMNS, ITEMS_SHEET, QuestionnaireProblems, export, read
    from mamori.i18n import set_lang

    store, book = book_at(tmp_path / "m.db")
    with store:
        a = book.get(book.create("ssdf", "Example Corp", ("developer",), "tool 1.0").id)
        path = tmp_path / "q.xlsx"
        export(a, path)
        wb = openpyxl.load_workbook(path)
        ws = wb[ITEMS_SHEET]
        header = [c.value for c in ws[1]]
        rows = {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}
        ws.cell(row=rows["PO.5.2"], column=header.index(COLUMNS["status"][0]) + 1, value="対象外")
        ws.cell(row=rows["RV.1.2"], column=header.index(COLUMNS["due"][0]) + 1, value="next week")
        wb.save(path)
        set_lang("ja")
        try:
            with pytest.raises(QuestionnaireProblems) as caught:
                read(a, path)
        finally:
            set_lang(None)
    found = {(p.row, p.column): p.problem for p in caught.value.problems}
    assert set(found) == {(rows["PO.5.2"], COLUMNS["reason"][0]), (rows["RV.1.2"], COLUMNS["due"][0])}
    assert all(JAPANESE.search(problem) for problem in found.values()), found

"""One language rule for every command: --lang, else MAMORI_LANG, else the locale (ja_* → ja), else en."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mamori.cli.main import main
from mamori.errors import InputError
from mamori.i18n import Messages, Text, choose_lang, default_lang


@pytest.fixture
def no_lang_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("MAMORI_LANG", "LC_ALL", "LANG"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "en"),
        ({"LANG": "ja_JP.UTF-8"}, "ja"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LC_ALL": "ja_JP.eucJP", "LANG": "en_US.UTF-8"}, "ja"),
        ({"MAMORI_LANG": "en", "LANG": "ja_JP.UTF-8"}, "en"),
        ({"MAMORI_LANG": "ja", "LANG": "en_US.UTF-8"}, "ja"),
    ],
)
def test_default_lang(no_lang_env: pytest.MonkeyPatch, env: dict[str, str], expected: str) -> None:
    for name, value in env.items():
        no_lang_env.setenv(name, value)
    assert default_lang() == expected
    assert choose_lang(None) == expected
    assert choose_lang("en") == "en" and choose_lang("ja") == "ja"


def test_bad_lang_is_an_input_error() -> None:
    with pytest.raises(InputError, match="--lang must be ja or en, not 'fr'"):
        choose_lang("fr")


def test_text_pair_and_messages() -> None:
    assert Text(ja="製品", en="product").get("ja") == "製品"
    messages = Messages("data/compliance/messages.yaml")
    pair = messages.pair("status", "partial")
    assert set(pair) == {"ja", "en"} and pair["ja"] != pair["en"]
    assert messages.text("ja", "status", "partial") == pair["ja"]
    assert messages.text("fr", "status", "partial") == pair["en"]


@pytest.mark.parametrize("argv", [["catalog", "list"], ["ssvc", "tables"]])
def test_commands_follow_the_locale_without_lang(
    no_lang_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    outputs = {}
    for locale in ("en_US.UTF-8", "ja_JP.UTF-8"):
        no_lang_env.setenv("LANG", locale)
        assert main(argv) == 0
        outputs[locale] = capsys.readouterr().out
    assert outputs["en_US.UTF-8"] != outputs["ja_JP.UTF-8"]
    assert main([*argv, "--lang", "ja"]) == 0
    assert capsys.readouterr().out == outputs["ja_JP.UTF-8"]
    no_lang_env.setenv("MAMORI_LANG", "en")  # MAMORI_LANG wins over the Japanese locale
    assert main(argv) == 0
    assert capsys.readouterr().out == outputs["en_US.UTF-8"]


def test_pair_key_order_is_each_module_s_own() -> None:
    """The pairs show up in JSON output: SBOM messages keep en first, compliance ja first, as before."""
    from mamori.compliance.messages import both
    from mamori.sbom.messages import bilingual

    assert list(bilingual("no_components")) == ["en", "ja"]
    assert list(both("status.partial")) == ["ja", "en"]


# --- no internal key reaches a person (the installed mamori, Japanese and English) ---------------------

_INTERNAL = re.compile(
    r"meti_mgmt|sbom_guide|sw_isac|digital_agency_sbd|nisc_standards|mic_cloud|\((guideline|ssdf|checklist|jcstar1)[),、]"
    r"|\[(guideline|ssdf|checklist|jcstar1) |user_company|on_event|per_release"
)


def _first_items() -> list[str]:
    """One item id of every installed catalog."""
    from mamori.compliance import catalog as cat

    return [
        f"{name}:{next(iter(cat.load(name).of_kind(*cat.load(name).levels))).id}" for name in cat.frameworks()
    ]


def test_no_internal_key_reaches_a_person(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    mamori = Path(sys.executable).with_name("mamori")
    if not mamori.exists():
        pytest.skip("the installed mamori is not next to the interpreter")
    demo_sbom = Path(__file__).resolve().parents[1] / "src/mamori/data/demo/shop-portal-2.1.0.cdx.json"
    items = [i.split(":") for i in _first_items()]
    # writes, in order, once per language (each language its own store)
    setup = [
        [
            "assess",
            "new",
            "--framework",
            "guideline",
            "--org",
            "ACME",
            "--roles",
            "developer",
            "--scope",
            "shop",
        ],
        ["assess", "new", "--framework", "ssdf", "--org", "ACME", "--roles", "developer", "--scope", "shop"],
        ["product", "add", "shop", "--supplier", "Example KK"],
        ["release", "add", "shop", "2.1.0", "--sbom", str(demo_sbom)],
    ]
    reads = [
        ["catalog", "list"],
        *(["catalog", "list", fw] for fw, _ in items),
        *(["catalog", "show", item, "--framework", fw] for fw, item in items),
        ["catalog", "show", "PO.1.1"],
        ["assess", "list"],
        ["assess", "show", "1"],
        ["assess", "gaps", "1"],
        ["assess", "roadmap", "2"],
        ["product", "list"],
        ["product", "show", "shop"],
        ["release", "show", "shop", "2.1.0"],
        ["portfolio", "findings"],
        ["triage", "records", "--product", "shop", "--release", "2.1.0"],
    ]

    def run(lang: str, args: list[str]) -> tuple[list[str], str]:
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("LANG", "LC_ALL")},
            "MAMORI_LANG": lang,
            "MAMORI_DB": str(tmp_path / f"{lang}.db"),
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "NO_COLOR": "1",
            "COLUMNS": "200",
        }
        done = subprocess.run([str(mamori), *args], capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode in (0, 1, 3), (lang, args, done.stderr)
        return args, done.stdout + done.stderr

    with ThreadPoolExecutor(max_workers=4) as pool:
        written = list(pool.map(lambda lang: [run(lang, a) for a in setup], ("ja", "en")))
        jobs = [(lang, args) for lang in ("ja", "en") for args in reads]
        outputs = list(pool.map(lambda job: (job[0], *run(*job)), jobs))
    outputs += [("ja", a, o) for a, o in written[0]] + [("en", a, o) for a, o in written[1]]
    for lang, args, out in outputs:
        assert not _INTERNAL.search(out), (lang, args, _INTERNAL.search(out), out)
    table = {" ".join(a): o for lang, a, o in outputs if lang == "ja"}
    assert "製品" in table["product list"] and "Product" not in table["product list"]
    assert "未対応" in table["portfolio findings"]
    assert "ガイドライン" in table["assess list"]


def test_portfolio_words_come_from_the_catalog_with_their_context() -> None:
    """The portfolio words moved from YAML to gettext: same texts, a msgctxt for single words."""
    from mamori.i18n import translate
    from mamori.portfolio.messages import WORDS, text

    assert text("ja", "columns", "by") == "保存者" and text("en", "columns", "by") == "By"
    assert text("ja", "status", "open") == "未対応" and text("fr", "status", "open") == "open"
    assert text("ja", "text", "product_added", name="shop") == "製品 shop を登録しました。"
    assert translate("By", "ja") == "By"  # without its context the word is not the column's
    for section, entries in WORDS.items():
        for key in entries:
            assert text("ja", section, key) != text("en", section, key) or key in ("sbom",), (section, key)


@pytest.mark.parametrize(("lang", "prefix"), [("ja", "mamori: エラー: "), ("en", "mamori: error: ")])
def test_error_line_prefix_follows_the_language(
    no_lang_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    lang: str,
    prefix: str,
) -> None:
    no_lang_env.setenv("MAMORI_LANG", lang)
    assert main(["sbom", "check", str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(prefix) and err.count("\n") == 1, err

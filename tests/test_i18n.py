"""One language rule for every command: --lang, else MAMORI_LANG, else the locale (ja_* → ja), else en."""

from __future__ import annotations

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

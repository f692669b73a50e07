"""Every message exists in Japanese and English: the gettext catalog is complete and compiled, every
bilingual YAML leaf has both languages, and the installed ``mamori`` shows its whole ``--help`` in the
language MAMORI_LANG chooses, usage errors included."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
MAMORI = Path(sys.executable).with_name("mamori")
sys.path.insert(0, str(ROOT / "tools"))

import i18n as catalog_tool  # noqa: E402  (tools/i18n.py)


def test_catalog_is_complete_and_compiled() -> None:
    """Every extracted message (each ``_()``/``N_()`` call and every --help text) has a Japanese msgstr
    that is not fuzzy, and the .mo is the compiled .po (``python tools/i18n.py check``)."""
    assert catalog_tool.problems() == []


def test_translations_keep_the_placeholders() -> None:
    catalog = catalog_tool.read(catalog_tool.po_path("ja"), "ja")
    for message in catalog:
        if not message.id or not isinstance(message.id, str):
            continue
        fields = set(re.findall(r"\{\w*\}", message.id))
        assert fields == set(re.findall(r"\{\w*\}", message.string)), message.id


def _leaves(node: Any, path: str) -> list[tuple[str, Any]]:
    if isinstance(node, dict) and ({"ja", "en"} & set(node)):
        return [(path, node)]
    if isinstance(node, dict):
        return [leaf for key, value in node.items() for leaf in _leaves(value, f"{path}.{key}")]
    return []


@pytest.mark.parametrize(
    "name", sorted(p.parent.name for p in (ROOT / "src/mamori/data").glob("*/messages.yaml"))
)
def test_every_yaml_message_has_japanese_and_english(name: str) -> None:
    source = resources.files("mamori").joinpath(f"data/{name}/messages.yaml").read_text(encoding="utf-8")
    leaves = _leaves(yaml.safe_load(source), name)
    assert leaves
    for path, leaf in leaves:
        for lang in ("ja", "en"):
            assert isinstance(leaf.get(lang), str) and leaf[lang].strip(), f"{path}: no {lang}"


# --- the installed mamori -----------------------------------------------------------------------------


def _env(lang: str, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_ALL", "LANGUAGE")}
    return {
        **env,
        "MAMORI_LANG": lang,
        "NO_COLOR": "1",
        "TERMINAL_WIDTH": "3000",  # no wrapping: every help text is on one line
        "COLUMNS": "3000",
        "MAMORI_DB": str(tmp / "kb.db"),
        "XDG_DATA_HOME": str(tmp / "data"),
    }


def _run(args: list[str], lang: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MAMORI), *args], capture_output=True, text=True, timeout=120, env=_env(lang, tmp), check=False
    )


def _flat(text: str) -> str:
    return re.sub(r"[\s│╭╮╰╯─]+", " ", text).strip()


def _commands() -> list[tuple[tuple[str, ...], list[str]]]:
    """(path, help texts shown on its page) for the root, every group and every command."""
    import typer.main

    from mamori.cli.main import app

    found = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        texts = [getattr(command, "help", None), getattr(command, "epilog", None)]
        texts += [p.help for p in command.params if not getattr(p, "hidden", False)]
        found.append((path, [t for t in texts if t]))
        for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


COMMANDS = _commands()


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, tuple[str, ...]], str]:
    if not MAMORI.exists():
        pytest.skip(f"the installed mamori is not next to {sys.executable}")
    tmp = tmp_path_factory.mktemp("help")
    # Japanese: every page; English: the root and every group
    jobs = [("ja", path) for path, _ in COMMANDS]
    jobs += [("en", path) for path, _ in COMMANDS if len(path) <= 1]
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(pool.map(lambda job: _run([*job[1], "--help"], job[0], tmp), jobs))
    for job, run in zip(jobs, runs, strict=True):
        assert run.returncode == 0, (job, run.stderr)
    return {job: run.stdout for job, run in zip(jobs, runs, strict=True)}


def test_help_is_japanese_everywhere(pages: dict[tuple[str, tuple[str, ...]], str]) -> None:
    from mamori.i18n import _translations

    catalog = _translations("ja")
    checked = 0
    for path, texts in COMMANDS:
        shown = _flat(pages[("ja", path)])
        assert "Usage:" not in shown and "使い方:" in shown, path
        assert "オプション" in shown and " Options " not in f" {shown} ", path
        for english in texts:
            japanese = catalog.gettext(english)
            assert japanese != english or not re.search("[a-z]{3} [a-z]{3}", english), english
            assert _flat(japanese) in shown, (path, japanese)
            if japanese != english:
                assert _flat(english) not in shown, (path, english)
                checked += 1
    assert checked > 300


def test_help_is_english_without_japanese(pages: dict[tuple[str, tuple[str, ...]], str]) -> None:
    for path, texts in COMMANDS:
        if len(path) > 1:
            continue
        shown = _flat(pages[("en", path)])
        assert "Usage:" in shown and "使い方" not in shown, path
        for english in texts:
            assert _flat(english) in shown, (path, english)


@pytest.mark.parametrize(
    ("args", "japanese", "english"),
    [
        (
            ["sbom", "--no-such-option"],
            "そのようなオプションはありません: --no-such-option",
            "No such option",
        ),
        (["sbom", "convert"], "引数 'source' がありません", "Missing argument 'source'"),
        (["no-such-command"], "コマンド 'no-such-command' はありません", "No such command"),
        (["scan", "a.json", "b.json"], "余分な引数があります", "unexpected extra argument"),
        (["scan", "a.json", "--format"], "オプション '--format' には値が必要です", "requires an argument"),
    ],
)
def test_usage_error_is_one_line_in_the_chosen_language(
    tmp_path: Path, args: list[str], japanese: str, english: str
) -> None:
    if not MAMORI.exists():
        pytest.skip(f"the installed mamori is not next to {sys.executable}")
    ja = _run(args, "ja", tmp_path)
    assert ja.returncode == 2 and ja.stdout == ""
    assert len(ja.stderr.splitlines()) == 1, ja.stderr
    assert japanese in ja.stderr and "エラー" in ja.stderr and "--help" in ja.stderr, ja.stderr
    assert english not in ja.stderr
    en = _run(args, "en", tmp_path)
    assert en.returncode == 2 and len(en.stderr.splitlines()) == 1
    assert english in en.stderr and ": error: " in en.stderr, en.stderr


def test_version_does_not_walk_the_help_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    from mamori.cli import help_text

    walked: list[object] = []
    monkeypatch.setattr(help_text, "_translate_command", walked.append)
    monkeypatch.setenv("MAMORI_LANG", "ja")
    from mamori.cli.main import main

    assert main(["--version"]) == 0
    assert walked == []
    assert main(["sbom", "--help"]) == 0
    assert len(walked) == 1
    assert main(["sbom", "generate", "--version", "1.0", "--help"]) == 0  # the command's own --version
    assert len(walked) == 2

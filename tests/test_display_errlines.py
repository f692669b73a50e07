"""Lines for people on standard error (mamori.display.ErrLines): written as they are where rich would not
style them, styled through rich where it would, never read as markup or emoji codes, never folded."""

from __future__ import annotations

import pytest

from mamori.display import ErrLines, styled

LINE = "mamori: [bold]not markup[/bold] :thumbs_up: " + "x" * 200


@pytest.fixture(autouse=True)
def _no_colour_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)


def test_a_pipe_gets_the_line_as_it_is(capsys: pytest.CaptureFixture[str]) -> None:
    ErrLines().print(LINE, style="yellow")
    assert capsys.readouterr().err == LINE + "\n"


def test_quiet_writes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    ErrLines(quiet=True).print(LINE, style="red")
    assert capsys.readouterr().err == ""


def test_forced_colour_is_styled_by_rich_and_still_literal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    ErrLines().print(LINE, style="red")
    err = capsys.readouterr().err
    assert "\x1b[" in err and err.count("\n") == 1
    assert LINE in err  # no markup, no emoji, not folded at the width


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, False),
        ({"FORCE_COLOR": "1"}, True),
        ({"FORCE_COLOR": ""}, False),
        ({"TTY_COMPATIBLE": "1"}, True),
        ({"TTY_COMPATIBLE": "0", "FORCE_COLOR": "1"}, False),
    ],
)
def test_styled_follows_richs_rules(
    env: dict[str, str], expected: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    from rich.console import Console

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert styled(sys.stderr) is expected
    assert Console(file=sys.stderr).is_terminal is expected

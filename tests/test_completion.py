"""``mamori completion install|show``: one command installs completion for bash, zsh or fish in a
temporary HOME, a second run changes nothing; the bash script, sourced in a real bash, completes
commands and options through the ``_MAMORI_COMPLETE`` protocol of the installed ``mamori``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from scanconv_support import MAMORI, clean_env, run


def _snapshot(home: Path) -> dict[str, bytes]:
    return {str(p.relative_to(home)): p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file()}


def test_show_prints_each_script(tmp_path) -> None:
    for shell, marker in (("bash", "complete_bash"), ("zsh", "complete_zsh"), ("fish", "complete_fish")):
        done = run("completion", "show", shell, home=tmp_path)
        assert done.returncode == 0 and marker in done.stdout and "_MAMORI_COMPLETE" in done.stdout
    done = run("completion", "show", home=tmp_path, env={"SHELL": "/usr/bin/zsh"})
    assert "#compdef mamori" in done.stdout


def test_install_bash_is_one_command_and_idempotent(tmp_path) -> None:
    (tmp_path / ".bashrc").write_text("export EDITOR=vi", encoding="utf-8")  # no final newline
    done = run("completion", "install", home=tmp_path, env={"SHELL": "/bin/bash"})
    assert done.returncode == 0, done.stderr
    script = tmp_path / ".bash_completions" / "mamori.sh"
    assert done.stdout.splitlines() == [
        f"wrote {script}",
        f"added to {tmp_path / '.bashrc'}: source '{script}'",
        "bash completion installed: open a new shell to use it",
    ]
    assert (tmp_path / ".bashrc").read_text(encoding="utf-8") == f"export EDITOR=vi\nsource '{script}'\n"
    before = _snapshot(tmp_path)
    again = run("completion", "install", "bash", home=tmp_path)
    assert again.returncode == 0
    assert again.stdout.splitlines() == ["bash completion is already installed: nothing changed"]
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_install_zsh_and_fish(tmp_path, shell) -> None:
    done = run("completion", "install", shell, home=tmp_path)
    assert done.returncode == 0, done.stderr
    if shell == "zsh":
        assert (tmp_path / ".zfunc" / "_mamori").read_text(encoding="utf-8").startswith("#compdef mamori")
        rc = (tmp_path / ".zshrc").read_text(encoding="utf-8")
        assert rc.splitlines() == ["fpath+=~/.zfunc", "autoload -Uz compinit && compinit"]
    else:
        script = tmp_path / ".config" / "fish" / "completions" / "mamori.fish"
        assert "complete --command mamori" in script.read_text(encoding="utf-8")
        assert done.stdout.splitlines()[0] == f"wrote {script}"
    before = _snapshot(tmp_path)
    assert "nothing changed" in run("completion", "install", shell, home=tmp_path).stdout
    assert _snapshot(tmp_path) == before


def test_unknown_shell_is_one_line(tmp_path) -> None:
    for args, env in ((("tcsh",), {}), ((), {"SHELL": "/bin/sh"}), ((), {})):
        done = run("completion", "install", *args, home=tmp_path, env=env)
        assert done.returncode == 2
        (line,) = done.stderr.splitlines()
        assert line.startswith("mamori: error: ")
    assert _snapshot(tmp_path) == {}


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash here")
def test_the_bash_script_completes(tmp_path) -> None:
    assert run("completion", "install", "bash", home=tmp_path).returncode == 0
    probe = tmp_path / "probe.sh"
    probe.write_text(
        "source ~/.bash_completions/mamori.sh\n"
        'ask() { COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=(); _mamori_completion mamori; '
        'echo "${COMPREPLY[*]}"; }\n'
        "ask mamori sc\n"
        "ask mamori scan --sev\n"
        "ask mamori completion ''\n"
        "ask mamori sbom gen\n",
        encoding="utf-8",
    )
    env = clean_env(tmp_path)
    env["PATH"] = f"{MAMORI.parent}:{env.get('PATH', '')}"
    done = subprocess.run(
        ["bash", "--norc", str(probe)], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["scan scheduler", "--severity", "install show", "generate"]


def test_completion_protocol_directly(tmp_path) -> None:
    env = clean_env(
        tmp_path, _MAMORI_COMPLETE="complete_bash", COMP_WORDS="mamori scan --ignore", COMP_CWORD="2"
    )
    done = subprocess.run([str(MAMORI)], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0 and done.stdout.split() == ["--ignore-unfixed", "--ignorefile"]

"""``mamori completion install|show``: shell completion for bash, zsh and fish in one command.

The scripts are Typer's (they call ``mamori`` back with ``_MAMORI_COMPLETE=complete_<shell>``, which
:func:`mamori.cli.main.main` answers). ``install`` writes the script where the shell looks for it and,
for bash and zsh, the lines that load it into the shell's rc file, each only when missing: run twice,
it changes nothing the second time. It prints every file it changed (or that nothing changed).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import typer

from mamori.errors import InputError
from mamori.i18n import _

app = typer.Typer(
    help="Shell completion: install it (one command) or show the script.",
    no_args_is_help=True,
)

SHELLS = ("bash", "zsh", "fish")
PROG = "mamori"
COMPLETE_VAR = "_MAMORI_COMPLETE"
_RC_LIMIT = 16 * 1024 * 1024  # an rc file larger than this is not edited


def detect_shell(given: str | None) -> str:
    """``given`` (bash, zsh or fish), else the shell ``$SHELL`` names; a one-line InputError otherwise."""
    if given is not None:
        name = given.strip().lower()
        if name not in SHELLS:
            raise InputError(None, _("shell {shell!r}: expected one of bash, zsh, fish").format(shell=given))
        return name
    name = Path(os.environ.get("SHELL", "")).name
    if name not in SHELLS:
        raise InputError(
            None,
            _(
                "cannot tell the shell from $SHELL ({value}): name it, e.g. mamori completion install bash"
            ).format(value=name or "unset"),
        )
    return name


def script(shell: str) -> str:
    """The completion script of ``shell``."""
    from typer._completion_shared import get_completion_script

    return get_completion_script(prog_name=PROG, complete_var=COMPLETE_VAR, shell=shell).rstrip("\n") + "\n"


@dataclass(frozen=True, slots=True)
class Plan:
    """Where the script goes and which lines the rc file needs."""

    script_path: Path
    rc_path: Path | None
    rc_lines: tuple[str, ...]


def plan(shell: str, home: Path | None = None) -> Plan:
    home = home or Path.home()
    if shell == "bash":
        path = home / ".bash_completions" / f"{PROG}.sh"
        return Plan(path, home / ".bashrc", (f"source '{path}'",))
    if shell == "zsh":
        path = home / ".zfunc" / f"_{PROG}"
        return Plan(path, home / ".zshrc", ("fpath+=~/.zfunc", "autoload -Uz compinit && compinit"))
    config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    return Plan(config / "fish" / "completions" / f"{PROG}.fish", None, ())


def install_completion(shell: str, home: Path | None = None) -> list[str]:
    """Install the completion of ``shell``; returns one line per change (empty when nothing changed)."""
    from mamori.fileio import read_text, write_bytes_atomic

    chosen = plan(shell, home)
    changes: list[str] = []
    wanted = script(shell)
    current = (
        read_text(chosen.script_path, _RC_LIMIT, errors="replace") if chosen.script_path.exists() else None
    )
    if current != wanted:
        chosen.script_path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(chosen.script_path, wanted.encode("utf-8"))
        changes.append(_("wrote {path}").format(path=chosen.script_path))
    if chosen.rc_path is not None:
        rc = chosen.rc_path
        text = read_text(rc, _RC_LIMIT, errors="replace") if rc.exists() else ""
        present = {line.strip() for line in text.splitlines()}
        missing = [line for line in chosen.rc_lines if line not in present]
        if missing:
            block = ("" if not text or text.endswith("\n") else "\n") + "".join(f"{m}\n" for m in missing)
            with rc.open("a", encoding="utf-8") as fh:  # appended: the rest of the file is the user's
                fh.write(block)
            for line in missing:
                changes.append(_("added to {path}: {line}").format(path=rc, line=line))
    return changes


@app.command("install")
def install(
    shell: str | None = typer.Argument(None, help="bash, zsh or fish (default: the shell $SHELL names)."),
) -> None:
    """Install shell completion for mamori: the script, and the line that loads it in the shell's rc
    file. Running it again changes nothing."""
    name = detect_shell(shell)
    changes = install_completion(name)
    for line in changes:
        typer.echo(line)
    if changes:
        typer.echo(_("{shell} completion installed: open a new shell to use it").format(shell=name))
    else:
        typer.echo(_("{shell} completion is already installed: nothing changed").format(shell=name))


@app.command("show")
def show(
    shell: str | None = typer.Argument(None, help="bash, zsh or fish (default: the shell $SHELL names)."),
) -> None:
    """Print the completion script of a shell (to install it by hand)."""
    typer.echo(script(detect_shell(shell)), nl=False)

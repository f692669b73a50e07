"""Configuration files (``mamori.toml``): where they are and how one is read.

Two files at most take part: the project's (``mamori.toml`` in the scanned folder for ``mamori scan``,
else in the current directory) and the user's (``mamori.toml`` in the user config directory,
``platformdirs.user_config_dir("mamori")``: ``~/.config/mamori`` on Linux, ``$XDG_CONFIG_HOME/mamori``
when set). What the keys mean, and which option each one sets, is the CLI's business
(:mod:`mamori.cli.config`). A configuration file is input like any other: a bounded read of a regular
file, and a flaw is one line naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mamori.errors import InputError
from mamori.fileio import read_bytes
from mamori.i18n import _

NAME = "mamori.toml"
MAX_BYTES = 1024 * 1024  # a configuration file is small: anything larger is not one


def user_config_file() -> Path:
    """``mamori.toml`` in the user config directory (it may not exist)."""
    import platformdirs

    return Path(platformdirs.user_config_dir("mamori", appauthor=False)) / NAME


def project_config_file(folders: list[Path]) -> Path | None:
    """The first ``mamori.toml`` in ``folders`` (in order), or None."""
    seen: set[Path] = set()
    for folder in folders:
        try:
            key = folder.resolve()
        except OSError:
            continue
        if key in seen:
            continue
        seen.add(key)
        candidate = folder / NAME
        if candidate.exists() or candidate.is_symlink():
            return candidate
    return None


def load(path: Path) -> dict[str, Any]:
    """The TOML table of one configuration file; an InputError naming the file when it cannot be read
    or is not TOML."""
    data = read_bytes(path, MAX_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(path, _("not UTF-8 text")) from None
    import tomllib  # here, not at start-up: compiling its patterns took a few ms of every command

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(
            path, _("not valid TOML: {reason}").format(reason=str(exc).splitlines()[0])
        ) from None
    except RecursionError:
        raise InputError(path, _("not valid TOML: nested too deeply")) from None

"""The SBOM author from the configuration file: ``author`` in the ``[sbom.generate]`` table.

Looked up in ``./mamori.toml`` (the folder mamori runs in), then in ``mamori.toml`` of the user's config
folder (platformdirs: ``~/.config/mamori`` on Linux). The first file that sets the key wins; a file that
cannot be read or parsed is an input error naming it (a broken config is never silently ignored).

>>> configured_author()  # "Example KK <psirt@example.jp>" or None
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from mamori.errors import InputError
from mamori.fileio import read_bytes
from mamori.i18n import _

CONFIG_NAME = "mamori.toml"


def config_files(cwd: Path | None = None) -> list[Path]:
    """The configuration files looked at, in order (existing or not)."""
    from platformdirs import user_config_dir

    return [(cwd or Path.cwd()) / CONFIG_NAME, Path(user_config_dir("mamori")) / CONFIG_NAME]


def configured_author(cwd: Path | None = None) -> str | None:
    """``[sbom.generate] author`` of the first configuration file that sets it, else None."""
    for path in config_files(cwd):
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(read_bytes(path).decode("utf-8-sig"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise InputError(path, _("not a TOML configuration file: {reason}").format(reason=exc)) from None
        table = (data.get("sbom") or {}).get("generate") if isinstance(data.get("sbom"), dict) else None
        value = table.get("author") if isinstance(table, dict) else None
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            raise InputError(path, _("[sbom.generate] author: expected a non-empty string"))
        return value.strip()
    return None

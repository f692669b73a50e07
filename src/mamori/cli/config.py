"""``mamori.toml`` turned into click's ``default_map``: what a configuration file sets becomes the
default of an option, so the command line and the environment (options that declare a ``MAMORI_*``
variable) still win. Precedence, highest first (docs/config.md):

1. the command line;
2. the environment: ``MAMORI_*`` variables (``mamori scan --help`` lists them per option), and
   ``MAMORI_DB`` / ``MAMORI_LANG`` for every command;
3. the project's ``mamori.toml`` (the scanned folder's, else the current directory's);
4. the user's ``mamori.toml`` (user config directory);
5. the built-in default.

Layout: global keys at the top (``lang``, ``db``: every command that has the option), one table per
command by its path (``[scan]``, ``[sbom.generate]``, ``[db.update]``); keys of a group's table
(``[sbom]``) apply to each of its commands that has the option. Keys are the long option names, with
``-`` or ``_`` (``fail-on``, ``fail_on``). Unknown tables and keys, and values of the wrong type, are an
error (exit 2, one line naming the file and the key): a misspelt gate setting never passes in silence.
Relative paths are read from the folder of the file that gives them.
"""

from __future__ import annotations

import contextlib
import os
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mamori import config as config_mod
from mamori.errors import InputError
from mamori.i18n import _

#: keys at the top of a file that set an option of every command having it; the variable that wins over it
GLOBAL_KEYS = {"lang": "MAMORI_LANG", "db": "MAMORI_DB", "broker": "MAMORI_BROKER_URL"}
# commands a global key leaves alone: the demo keeps a database of its own (it refuses any other)
_GLOBAL_EXCEPT = {"db": {("demo",)}}
# options never taken from a file
_NEVER = {"help"}


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def _commands(cmd: Any) -> dict[str, Any] | None:
    return getattr(cmd, "commands", None)


def _options(cmd: Any) -> dict[str, Any]:
    """The options a file may set, by every key that names them (param name, long flags)."""
    out: dict[str, Any] = {}
    for param in getattr(cmd, "params", ()):
        if getattr(param, "param_type_name", "") != "option" or param.name in _NEVER:
            continue
        if getattr(param, "is_eager", False) or not getattr(param, "expose_value", True):
            continue
        out[_key(param.name)] = param
        for opt in param.opts:
            if opt.startswith("--"):
                out[_key(opt[2:])] = param
    return out


def _leaves(cmd: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    subs = _commands(cmd)
    if subs is None:
        return [(path, cmd)]
    out = []
    for name, sub in subs.items():
        out.extend(_leaves(sub, (*path, name)))
    return out


def _kind(param: Any) -> str:
    """bool, int, float, path or text: the option's type, on Typer's own click (a type descriptor)
    and on click itself (a ParamType)."""
    if getattr(param, "is_flag", False):
        return "bool"
    described = getattr(param, "type_descriptor", None)
    if described is not None:
        annotation = getattr(described, "annotation", None)
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if args:
            annotation = args[0]
        for kind, types in (("bool", (bool,)), ("int", (int,)), ("float", (float,)), ("path", (Path,))):
            if isinstance(annotation, type) and issubclass(annotation, types):
                return kind
        return "text"
    name = str(getattr(getattr(param, "type", None), "name", ""))
    if name == "boolean":
        return "bool"
    if name.startswith("integer"):
        return "int"
    if name.startswith("float"):
        return "float"
    return "path" if name == "path" else "text"


def _value(param: Any, value: Any, where: str, base: Path) -> Any:
    """``value`` checked against the option's type (a file's own TOML types: booleans, integers, text,
    lists of text); a relative path read from ``base``."""
    kind = _kind(param)
    if kind == "bool":
        if not isinstance(value, bool):
            raise InputError(None, _("{where}: expected true or false").format(where=where))
        return value
    if getattr(param, "multiple", False):
        items = value if isinstance(value, list) else [value]
        return [_scalar(param, kind, item, where, base) for item in items]
    return _scalar(param, kind, value, where, base)


def _scalar(param: Any, kind: str, value: Any, where: str, base: Path) -> Any:
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(None, _("{where}: expected a whole number").format(where=where))
        return value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(None, _("{where}: expected a number").format(where=where))
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InputError(None, _("{where}: expected text").format(where=where))
    text = str(value)
    if kind == "path" or (param.name == "db" and "://" not in text):
        path = Path(text).expanduser()
        return str(path if path.is_absolute() else base / path)
    return text


def _section(table: dict[str, Any], cmd: Any, path: tuple[str, ...], file: Path, out: dict[str, Any]) -> None:
    """Put one command's (or group's) table into ``out`` (that command's default_map)."""
    shown = ".".join(path)
    subs = _commands(cmd)
    for raw, value in table.items():
        key = _key(raw)
        where = f"{shown}.{raw}"
        if subs is not None and isinstance(value, dict):
            sub = subs.get(raw) or subs.get(key.replace("_", "-"))
            if sub is None:
                raise InputError(
                    file,
                    _("unknown table [{where}] (mamori {values} has no command {raw})").format(
                        where=where, values=" ".join(path), raw=raw
                    ),
                )
            name = next(n for n, c in subs.items() if c is sub)
            _section(value, sub, (*path, name), file, out.setdefault(name, {}))
            continue
        if subs is None:
            param = _options(cmd).get(key)
            if param is None:
                raise InputError(
                    file,
                    _("unknown key {where} (not an option of mamori {values})").format(
                        where=where, values=" ".join(path)
                    ),
                )
            out[param.name] = _checked(param, value, where, file)
            continue
        targets = [(p, c) for p, c in _leaves(cmd) if key in _options(c)]
        if not targets:
            raise InputError(
                file,
                _("unknown key {where} (no command of mamori {values} has this option)").format(
                    where=where, values=" ".join(path)
                ),
            )
        for sub_path, sub_cmd in targets:
            node = out
            for part in sub_path:
                node = node.setdefault(part, {})
            param = _options(sub_cmd)[key]
            node.setdefault(param.name, _checked(param, value, where, file))


def _checked(param: Any, value: Any, where: str, file: Path) -> Any:
    try:
        return _value(param, value, where, file.parent)
    except InputError as exc:
        raise InputError(file, exc.problem) from None


def _merge(low: dict[str, Any], high: dict[str, Any]) -> dict[str, Any]:
    out = dict(low)
    for key, value in high.items():
        out[key] = (
            _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        )
    return out


def file_map(root: Any, file: Path, table: dict[str, Any]) -> dict[str, Any]:
    """One file's ``default_map`` (an InputError naming the file and the key on any flaw)."""
    out: dict[str, Any] = {}
    commands = _commands(root) or {}
    globals_: dict[str, Any] = {}
    for raw, value in table.items():
        key = _key(raw)
        if key in GLOBAL_KEYS and not isinstance(value, dict):
            globals_[key] = value
            continue
        if not isinstance(value, dict):
            raise InputError(
                file,
                _("unknown key {raw} (top-level keys: {values}; else a [command] table)").format(
                    raw=raw, values=", ".join(GLOBAL_KEYS)
                ),
            )
        cmd = commands.get(raw)
        if cmd is None:
            raise InputError(file, _("unknown table [{raw}] (mamori has no command {raw})").format(raw=raw))
        _section(value, cmd, (raw,), file, out.setdefault(raw, {}))
    for key, value in globals_.items():
        if os.environ.get(GLOBAL_KEYS[key]):
            continue  # the environment wins over a file
        checked = None
        for path, cmd in _leaves(root):
            if path in _GLOBAL_EXCEPT.get(key, ()):
                continue
            param = _options(cmd).get(key)
            if param is None or param.name != key:
                continue
            if checked is None:
                checked = _checked(param, value, key, file)
            node = out
            for part in path:
                node = node.setdefault(part, {})
            node.setdefault(param.name, checked)
    return out


def _drop_env(cmd: Any, node: dict[str, Any]) -> None:
    """A section's ``db``/``lang`` where MAMORI_DB/MAMORI_LANG is set: the environment wins."""
    for key, env in GLOBAL_KEYS.items():
        if os.environ.get(env):
            node.pop(key, None)
    for name, sub in (_commands(cmd) or {}).items():
        if isinstance(node.get(name), dict):
            _drop_env(sub, node[name])


def scan_target(args: Sequence[str], scan: Any) -> Path | None:
    """The TARGET of ``mamori scan …`` in ``args`` (what the options around it take read past)."""
    if not args or args[0] != "scan":
        return None
    takes_value = {
        opt
        for p in getattr(scan, "params", ())
        if getattr(p, "param_type_name", "") == "option" and not getattr(p, "is_flag", False)
        for opt in p.opts
    }
    rest = list(args[1:])
    index = 0
    while index < len(rest):
        arg = rest[index]
        if arg == "--":
            return Path(rest[index + 1]) if index + 1 < len(rest) else None
        if arg.startswith("-") and arg != "-":
            if "=" not in arg and arg in takes_value:
                index += 1
            index += 1
            continue
        return Path(arg)
    return None


def may_apply(args: Sequence[str]) -> bool:
    """A cheap first look (no command tree built): could any configuration file take part? False only
    when there is surely none: no user file, none in the current directory and, for ``scan``, none
    beside any argument that could be its target."""
    user = config_mod.user_config_file()
    if user.exists() or user.is_symlink() or (Path.cwd() / config_mod.NAME).exists():
        return True
    if not args or args[0] != "scan":
        return False
    for arg in args[1:]:
        if arg.startswith("-"):
            continue
        with contextlib.suppress(OSError, ValueError):
            path = Path(arg)
            folder = path if path.is_dir() else path.parent
            if (folder / config_mod.NAME).exists() or (folder / config_mod.NAME).is_symlink():
                return True
    return False


def config_files(args: Sequence[str], root: Any) -> list[Path]:
    """The files that take part, lowest precedence first: the user's, then the project's."""
    found = []
    user = config_mod.user_config_file()
    if user.exists() or user.is_symlink():
        found.append(user)
    folders = []
    commands = _commands(root) or {}
    target = scan_target(args, commands.get("scan"))
    if target is not None:
        with contextlib.suppress(OSError):
            folders.append((target if target.is_dir() else target.parent).absolute())
    folders.append(Path.cwd())
    project = config_mod.project_config_file(folders)
    if project is not None:
        found.append(project)
    return found


def default_map(args: Sequence[str], root: Any) -> tuple[dict[str, Any], list[Path]]:
    """The merged ``default_map`` of the files that take part, and those files."""
    merged: dict[str, Any] = {}
    files = config_files(args, root)
    for file in files:
        merged = _merge(merged, file_map(root, file, config_mod.load(file)))
    _drop_env(root, merged)
    return merged, files


def global_lang(files: list[Path]) -> str | None:
    """The ``lang`` a file sets at its top (the project's over the user's), unless MAMORI_LANG is set."""
    if os.environ.get("MAMORI_LANG"):
        return None
    chosen = None
    for file in files:
        value = config_mod.load(file).get("lang")
        if isinstance(value, str) and value in ("ja", "en"):
            chosen = value
    return chosen

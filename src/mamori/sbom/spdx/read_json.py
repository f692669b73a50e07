"""SPDX 2 JSON and YAML readers: orjson / libyaml straight into the model (no spdx-tools on this path)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
import yaml

from mamori.errors import InputError
from mamori.fileio import MAX_YAML_DEPTH, check_yaml_depth
from mamori.i18n import _
from mamori.model import Document
from mamori.sbom.gc_pause import gc_paused
from mamori.sbom.spdx.from_dict import document_from_dict

if TYPE_CHECKING:
    from mamori.sbom.formats import ReadOptions

_BOM = b"\xef\xbb\xbf"
__all__ = ["MAX_YAML_DEPTH", "read_json", "read_yaml"]


def read_json(data: bytes, path: Path, options: ReadOptions) -> Document:
    """Read SPDX 2.1-2.3 JSON."""
    with gc_paused():
        try:
            obj = orjson.loads(data.removeprefix(_BOM))
        except orjson.JSONDecodeError as exc:
            raise InputError(
                path,
                _("invalid JSON at line {lineno} column {colno}: {msg}").format(
                    lineno=exc.lineno, colno=exc.colno, msg=exc.msg
                ),
            ) from None
        return document_from_dict(obj, path, strict=options.strict)


class _SpdxYamlLoader(yaml.CSafeLoader):
    """CSafeLoader that reads only true/false, null and plain decimal integers as non-strings.

    YAML 1.1 would turn ``versionInfo: 1.10`` into the float 1.1, ``010`` into 8 and ``no`` into False;
    SPDX values are strings, so those stay text.
    """


_SpdxYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}
_SpdxYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_SpdxYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:0|-?[1-9][0-9]*)$"), list("-0123456789")
)


def read_yaml(data: bytes, path: Path, options: ReadOptions) -> Document:
    """Read SPDX 2.1-2.3 YAML (the JSON structure in YAML syntax)."""
    check_yaml_depth(data, path)  # libyaml composes nested nodes recursively in C: deeper input is refused
    with gc_paused():
        try:
            obj = yaml.load(data, Loader=_SpdxYamlLoader)  # a SafeLoader subclass
        except yaml.YAMLError as exc:
            raise InputError(
                path,
                _("invalid YAML{where}: {problem}").format(
                    where=_yaml_where(exc), problem=_yaml_problem(exc)
                ),
            ) from None
        except (ValueError, TypeError, RecursionError) as exc:  # e.g. NUL bytes, unhashable keys
            raise InputError(path, _("invalid YAML: {exc}").format(exc=exc)) from None
        if (b"&" in data or b"*" in data) and _has_shared_nodes(obj):
            raise InputError(path, _("YAML anchors and aliases are not allowed in an SPDX document"))
        return document_from_dict(obj, path, strict=options.strict)


def _yaml_where(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is None:
        return ""
    return _(" at line {line} column {column}").format(line=mark.line + 1, column=mark.column + 1)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    if problem:
        return f"{context} {problem}" if context else str(problem)
    return " ".join(str(exc).split())


def _has_shared_nodes(obj: object) -> bool:
    """True when a list or mapping occurs twice (what anchors/aliases produce): it could expand exponentially."""
    seen: set[int] = set()
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if id(item) in seen:
            return True
        seen.add(id(item))
        stack.extend(children)
    return False

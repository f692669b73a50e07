"""go.mod (with the go.sum beside it).

- ``module`` names the project (``pkg:golang/<module>``, no version: a module being built has none).
- ``require`` lines are the components, ``pkg:golang/<module path>@<version>``. Since Go 1.17 the
  main module requires every module that provides a package to the build, so each one is an edge
  from the project (as ``go mod graph`` prints it); ``// indirect`` ones are marked
  ``mamori:go:indirect`` (transitive: no package of the main module imports them).
- ``replace old [v] => new v``: the component is the replacement (that is the code built), with
  ``mamori:go:replaces`` naming the original; ``=> ./dir`` (a local folder) gives a local
  component without purl. ``exclude`` and ``retract`` lines only narrow the choice and add nothing.
- go.sum: the ``h1:`` sum of each module's zip is kept in ``mamori:go:h1`` (it is a SHA-256 over
  a file list, not the digest of a file, so it is not a CycloneDX hash). Modules only in go.sum
  are not components (go.sum also lists modules that are only consulted, never built).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from mamori.i18n import _
from mamori.model import Component, Property
from mamori.sbom.generate.base import REQUIRED, Found, bad_line
from mamori.sbom.generate.components import local_component, purl_component, structure_checked
from mamori.sbom.generate.lines import declared_at

ECOSYSTEM = "golang"
H1 = "mamori:go:h1"
INDIRECT = "mamori:go:indirect"
REPLACES = "mamori:go:replaces"
TOOLCHAIN = "mamori:go:version"

_DIRECTIVES = {
    "module",
    "go",
    "toolchain",
    "require",
    "replace",
    "exclude",
    "retract",
    "godebug",
    "tool",
    "ignore",
}
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|`[^`]*`|\S+')


@dataclass(slots=True)
class GoMod:
    module: str | None = None
    go: str | None = None
    requires: list[tuple[str, str, bool, int]] = field(default_factory=list)  # path, version, indirect, line
    replaces: dict[tuple[str, str | None], tuple[str, str | None]] = field(default_factory=dict)


def _tokens(line: str) -> tuple[list[str], str]:
    """The words of a go.mod line (quotes removed) and its ``//`` comment."""
    code, _, comment = line.partition("//")
    return [t.strip('"`') for t in _TOKEN.findall(code)], comment.strip()


_MODULE_PATH = re.compile(r"^[^\s/.][^\s]*[^\s/]$|^[^\s/.]$")


def _checked(path: Path, number: int, module: str) -> str:
    if not _MODULE_PATH.match(module):
        raise bad_line(path, number, _("not a module path: {module!r}").format(module=module))
    return module


def _entry(mod: GoMod, path: Path, verb: str, words: list[str], comment: str, number: int) -> None:
    if verb in ("module", "require") and words:
        _checked(path, number, words[0])
    if verb == "module":
        mod.module = words[0] if words else None
    elif verb == "go":
        mod.go = words[0] if words else None
    elif verb == "require":
        if len(words) != 2:
            raise bad_line(path, number, _("a require line needs a module path and a version"))
        indirect = "indirect" in re.split(r"[;\s]+", comment)
        mod.requires.append((words[0], words[1], indirect, number))
    elif verb == "replace":
        if "=>" not in words:
            raise bad_line(path, number, _("a replace line needs '=>'"))
        arrow = words.index("=>")
        left, right = words[:arrow], words[arrow + 1 :]
        if not left or not right or len(left) > 2 or len(right) > 2:
            raise bad_line(path, number, _("malformed replace line"))
        mod.replaces[(left[0], left[1] if len(left) == 2 else None)] = (
            right[0],
            right[1] if len(right) == 2 else None,
        )


def parse_gomod(path: Path, text: str) -> GoMod:
    mod = GoMod()
    block: str | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        words, comment = _tokens(raw)
        if block is not None:
            if words == [")"]:
                block = None
            elif words:
                _entry(mod, path, block, words, comment, number)
            continue
        if not words:
            continue
        verb = words[0]
        if verb not in _DIRECTIVES:
            raise bad_line(path, number, _("unknown go.mod directive {verb!r}").format(verb=verb))
        if words[1:] == ["("]:
            block = verb
        else:
            _entry(mod, path, verb, words[1:], comment, number)
    if block is not None:
        raise bad_line(
            path, len(text.splitlines()), _("the {block} ( … ) block is not closed").format(block=block)
        )
    if mod.module is None:
        raise bad_line(path, None, _("no module directive: not a go.mod"))
    return mod


def read_gosum(path: Path) -> dict[tuple[str, str], str]:
    """(module, version) → ``h1:…`` of the module zip, from the go.sum beside the go.mod."""
    sums: dict[tuple[str, str], str] = {}
    gosum = path.with_name("go.sum")
    if not gosum.is_file():
        return sums
    from mamori.sbom.generate import read_text  # the framework's reader (size limit, UTF-8 check)

    for number, line in enumerate(read_text(gosum).splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 3 or not parts[2].startswith("h"):
            raise bad_line(gosum, number, _("expected '<module> <version> <hash>'"))
        if not parts[1].endswith("/go.mod"):
            sums[(parts[0], parts[1])] = parts[2]
    return sums


def module_component(module: str, version: str | None, h1: str | None = None) -> Component:
    namespace, _, name = module.rpartition("/")
    comp = purl_component(ECOSYSTEM, name, version, namespace=namespace or None)
    comp.name, comp.group = module, None  # the whole module path is the name people know
    if h1:
        comp.properties.append(Property(H1, h1))
    return comp


Replaces = dict[tuple[str, str | None], tuple[str, str | None]]


def replaced(module: str, version: str, replaces: Replaces) -> tuple[str, str | None] | None:
    """The replacement of ``module@version`` as (path, version or None for a folder), or None."""
    return replaces.get((module, version)) or replaces.get((module, None))


@structure_checked
def parse(path: Path, text: str) -> Found:
    mod = parse_gomod(path, text)
    sums = read_gosum(path)
    found = Found(ECOSYSTEM)
    found.project = module_component(mod.module or "", None)
    if mod.go:
        found.project.properties.append(Property(TOOLCHAIN, mod.go))
    for module, version, indirect, number in mod.requires:
        target = replaced(module, version, mod.replaces)
        if target is not None and target[1] is None:  # a local folder
            comp = local_component(ECOSYSTEM, module, version, f"path {target[0]}")
        else:
            new_path, new_version = target if target is not None else (module, version)
            comp = module_component(new_path, new_version, sums.get((new_path, new_version or "")))
        if target is not None:
            comp.properties.append(Property(REPLACES, f"{module}@{version}"))
        if indirect:
            comp.properties.append(Property(INDIRECT, "true"))
        found.add(declared_at(comp, number))
        found.direct[comp.bom_ref or ""] = REQUIRED
    return found

"""package.json: the project, and its dependencies when no lockfile resolves them.

- A package.json that a lockfile above it resolves (a workspace member, a ``file:`` target; see
  lockgraph.py) gives the project and the dependencies that lockfile resolved for it.
- Otherwise the dependencies are **declared only**: one component per registry dependency with the
  range in ``mamori:version-range`` (the version only when the range pins one exact version),
  scoped by section (dependencies: required, optionalDependencies: optional, devDependencies: dev,
  peerDependencies: required). ``npm:`` aliases name the real package. Folder, git and URL
  dependencies have no version to give without a lockfile: they are listed in a notice.
"""

from __future__ import annotations

import re
from pathlib import Path

from mamori.sbom.generate.base import Found, declared_only
from mamori.sbom.generate.javascript.common import (
    ECOSYSTEM,
    FOLDER_PREFIXES,
    alias_target,
    guarded,
    is_git,
    load_json,
    manifest_sections,
    package,
    project_component,
)
from mamori.sbom.generate.javascript.lockgraph import covering
from mamori.sbom.generate.javascript.workspaces import sibling_workspaces
from mamori.sbom.generate.lines import declared_at, manifest_line

_EXACT = re.compile(r"=?v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)")


@guarded("package.json")
def parse(path: Path, text: str) -> Found:
    data = load_json(path, text, "package.json")
    project = project_component(data)
    cover = covering(path.parent)
    if cover is not None:
        _, entry = cover
        return Found(ECOSYSTEM, project=project, direct=dict(entry.deps))
    found = Found(ECOSYSTEM, project=project, resolved=False)
    siblings = sibling_workspaces(path.parent)
    for name, (spec, scope) in manifest_sections(data).items():
        spec = spec.strip()
        if name in siblings:  # another workspace of the same monorepo: its sub-project
            found.direct.setdefault(siblings[name], scope)
            continue
        if spec.startswith(FOLDER_PREFIXES) or is_git(spec) or spec.startswith(("http://", "https://")):
            found.notices.append(
                f"{name}: {spec!r} is not a registry version; it is resolved only by a lockfile"
            )
            continue
        real, rng = alias_target(spec) or (name, spec)
        exact = _EXACT.fullmatch(rng)
        comp = declared_only(package(real, exact.group(1) if exact else None, scope=scope, alias=name), rng)
        ref = comp.bom_ref or ""
        if ref not in found.direct:
            found.add(declared_at(comp, manifest_line(text, name)))
            found.direct[ref] = scope
    return found

"""Package.resolved (Swift Package Manager, format versions 1, 2 and 3).

Version 1: ``object.pins[]`` with ``package``, ``repositoryURL`` and ``state`` (``version``,
``revision``, ``branch``). Versions 2 and 3: ``pins[]`` with ``identity``, ``kind``
(``remoteSourceControl``, ``localSourceControl``, ``registry``), ``location`` and ``state``.
purl: ``pkg:swift/<host>/<owner>/<repository>@<version>`` (the repository URL without scheme and
``.git``, its last part the name); a pin on a branch or a bare revision uses the revision as
version. The commit is kept in ``mamori:swift:revision``. Local checkouts are local components.
The file has no graph: every pin hangs off the project.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mamori.i18n import _
from mamori.model import Component, Property
from mamori.sbom.generate.base import REQUIRED, Found, bad_line
from mamori.sbom.generate.components import (
    line_with,
    load_json,
    local_component,
    purl_component,
    structure_checked,
)
from mamori.sbom.generate.lines import Cursor, declared_at

ECOSYSTEM = "swift"
REVISION = "mamori:swift:revision"
BRANCH = "mamori:swift:branch"


def _location_parts(location: str) -> tuple[str | None, str]:
    """``https://github.com/apple/swift-nio.git`` → ("github.com/apple", "swift-nio")."""
    bare = re.sub(r"^[a-z+]+://", "", location.strip())
    bare = re.sub(r"^[^@/]+@([^:/]+):", r"\1/", bare)  # git@github.com:owner/repo
    bare = bare.removesuffix("/").removesuffix(".git")
    namespace, _, name = bare.rpartition("/")
    return namespace or None, name


def _pin(path: Path, text: str, name_hint: str, location: str, kind: str, state: dict[str, Any]) -> Component:
    version = state.get("version") if isinstance(state.get("version"), str) else None
    revision = state.get("revision") if isinstance(state.get("revision"), str) else None
    if kind == "localSourceControl":
        comp = local_component(ECOSYSTEM, name_hint, version, f"path {location}")
    elif kind == "registry":
        scope, _dot, name = name_hint.partition(".")
        comp = purl_component(
            ECOSYSTEM, name or scope, version or revision, namespace=scope if name else None
        )
    else:
        if not location:
            raise bad_line(
                path,
                line_with(text, name_hint),
                _("pin {name_hint!r} has no repository location").format(name_hint=name_hint),
            )
        namespace, name = _location_parts(location)
        comp = purl_component(ECOSYSTEM, name, version or revision, namespace=namespace)
    if revision:
        comp.properties.append(Property(REVISION, revision))
    if isinstance(state.get("branch"), str):
        comp.properties.append(Property(BRANCH, state["branch"]))
    return comp


@structure_checked
def parse(path: Path, text: str) -> Found:
    data = load_json(path, text)
    if not isinstance(data, dict):
        raise bad_line(path, None, _("expected a JSON object: not a Package.resolved"))
    version = data.get("version")
    found = Found(ECOSYSTEM)
    if version == 1:
        pins = (data.get("object") or {}).get("pins")
    elif version in (2, 3):
        pins = data.get("pins")
    else:
        raise bad_line(
            path,
            line_with(text, '"version"'),
            _("unknown Package.resolved version {version!r}").format(version=version),
        )
    if not isinstance(pins, list):
        raise bad_line(path, None, _("no 'pins' list"))
    cursor = Cursor(text)
    name_key = "package" if version == 1 else "identity"
    for pin in pins:
        if not isinstance(pin, dict):
            raise bad_line(path, None, _("a pin that is not an object"))
        line = cursor.value(name_key, pin.get(name_key))
        state = pin.get("state") if isinstance(pin.get("state"), dict) else {}
        if version == 1:
            comp = _pin(
                path,
                text,
                str(pin.get("package", "")),
                str(pin.get("repositoryURL", "")),
                "remoteSourceControl",
                state,
            )
        else:
            comp = _pin(
                path,
                text,
                str(pin.get("identity", "")),
                str(pin.get("location", "")),
                str(pin.get("kind", "")),
                state,
            )
        found.add(declared_at(comp, line))
        found.direct[comp.bom_ref or ""] = REQUIRED
    return found

"""gradle.lockfile (Gradle 6+ dependency locking, one line per module: ``group:name:version=confs``).

Scope from the configurations a module is locked in: any main compile or runtime classpath
(``compileClasspath``, ``runtimeClasspath``, ``releaseRuntimeClasspath`` …, i.e. one that ends in
``CompileClasspath``/``RuntimeClasspath`` and is not a test one) → required; only test, annotation
processor or other tool configurations → dev. ``buildscript-gradle.lockfile`` (the build's own
plugins) is all dev. The lockfile has no graph: every module hangs off the project.
"""

from __future__ import annotations

from pathlib import Path

from mamori.i18n import _
from mamori.sbom.generate.base import DEV, REQUIRED, Found, bad_line
from mamori.sbom.generate.components import purl_component, structure_checked
from mamori.sbom.generate.lines import declared_at

ECOSYSTEM = "maven"
CONFIGURATIONS = "mamori:gradle:configurations"


def _is_main(configuration: str) -> bool:
    lower = configuration.lower()
    return "test" not in lower and lower.endswith(("compileclasspath", "runtimeclasspath"))


@structure_checked
def parse(path: Path, text: str) -> Found:
    from mamori.model import Property

    found = Found(ECOSYSTEM)
    build_script = path.name.startswith("buildscript-")
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        coordinates, sep, confs = line.partition("=")
        if not sep:
            raise bad_line(
                path,
                number,
                _("expected 'group:name:version=configurations', got {line!r}").format(line=line[:60]),
            )
        if coordinates == "empty":
            continue
        parts = coordinates.split(":")
        if len(parts) != 3 or not all(parts):
            raise bad_line(
                path,
                number,
                _("expected 'group:name:version', got {coordinates!r}").format(coordinates=coordinates[:60]),
            )
        group, name, version = parts
        configurations = [c for c in confs.split(",") if c]
        scope = REQUIRED if not build_script and any(_is_main(c) for c in configurations) else DEV
        comp = found.add(purl_component(ECOSYSTEM, name, version, namespace=group, scope=scope))
        declared_at(comp, number)
        comp.properties.append(Property(CONFIGURATIONS, ",".join(configurations)))
        found.direct[comp.bom_ref or ""] = scope
    return found

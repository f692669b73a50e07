"""pubspec.lock (Dart and Flutter ``pub``).

Per package: ``dependency`` — ``direct main`` (required), ``direct dev`` (dev), ``direct
overridden`` (required), ``transitive``; ``source`` — ``hosted`` (``pkg:pub/<name>@<version>``,
``repository_url`` when the host is not pub.dev; ``description.sha256`` is the SHA-256 of the
archive, written by Dart 2.19 and later), ``git`` (``vcs_url`` with ``resolved-ref``), ``path`` and
``sdk`` (Flutter's own packages: no registry, local components). The lock has no graph, so the
transitive packages hang off the project as well, marked ``mamori:pub:transitive``.
"""

from __future__ import annotations

from pathlib import Path

from mamori.i18n import _
from mamori.model import Property
from mamori.sbom.generate.base import DEV, REQUIRED, Found, add_hashes, bad_line
from mamori.sbom.generate.components import (
    declare,
    hex_hash,
    line_with,
    load_yaml,
    local_component,
    purl_component,
    structure_checked,
    vcs_qualifier,
)
from mamori.sbom.generate.lines import declared_at, locate_declared, yaml_key_lines

ECOSYSTEM = "pub"
TRANSITIVE = "mamori:pub:transitive"
PUB_HOSTS = ("https://pub.dev", "https://pub.dartlang.org")


@structure_checked
def parse(path: Path, text: str) -> Found:
    data = load_yaml(path, text)
    if not isinstance(data, dict) or not isinstance(data.get("packages", {}), dict):
        raise bad_line(path, None, _("no 'packages' mapping: not a pubspec.lock"))
    found = Found(ECOSYSTEM)
    lines = yaml_key_lines(text, 2, "packages")
    for name, entry in (data.get("packages") or {}).items():
        if not isinstance(entry, dict) or not isinstance(entry.get("version"), str):
            raise bad_line(path, line_with(text, f"  {name}:"), _("{name}: no version").format(name=name))
        version, source = entry["version"], entry.get("source")
        description = entry.get("description")
        desc = description if isinstance(description, dict) else {}
        if source == "hosted":
            url = str(desc.get("url") or "https://pub.dev").rstrip("/")
            comp = purl_component(
                ECOSYSTEM, str(name), version, qualifiers={"repository_url": "" if url in PUB_HOSTS else url}
            )
            add_hashes(comp, [hex_hash("SHA-256", desc.get("sha256"))])
        elif source == "git":
            comp = purl_component(
                ECOSYSTEM,
                str(name),
                version,
                qualifiers={"vcs_url": vcs_qualifier(str(desc.get("url", "")), desc.get("resolved-ref"))},
            )
        elif source == "path":
            comp = local_component(ECOSYSTEM, str(name), version, f"path {desc.get('path', '')}")
        else:
            comp = local_component(
                ECOSYSTEM,
                str(name),
                version,
                f"sdk {description if isinstance(description, str) else source}",
            )
        kind = str(entry.get("dependency", "transitive"))
        scope = DEV if kind == "direct dev" else REQUIRED
        if kind == "transitive":
            comp.properties.append(Property(TRANSITIVE, "true"))
            scope = REQUIRED
        found.add(declared_at(comp, lines.get(str(name))))
        found.direct[comp.bom_ref or ""] = scope
    return found


@structure_checked
def parse_manifest(path: Path, text: str) -> Found:
    """pubspec.yaml without a pubspec.lock: the declared dependencies (declared-only)."""
    data = load_yaml(path, text)
    if not isinstance(data, dict):
        raise bad_line(path, None, _("expected a mapping: not a pubspec.yaml"))
    found = Found(ECOSYSTEM, resolved=False)
    if isinstance(data.get("name"), str):
        version = data.get("version") if isinstance(data.get("version"), str) else None
        found.project = purl_component(ECOSYSTEM, data["name"], version)
    for key, scope in (("dependencies", REQUIRED), ("dev_dependencies", DEV)):
        for name, spec in (data.get(key) or {}).items():
            if isinstance(spec, dict) and "sdk" in spec:
                comp = local_component(ECOSYSTEM, str(name), None, f"sdk {spec['sdk']}", scope)
            else:
                comp = purl_component(ECOSYSTEM, str(name), None, scope=scope)
            declare(found, comp, spec if isinstance(spec, str) else None, scope)
    locate_declared(found.components, text)
    return found

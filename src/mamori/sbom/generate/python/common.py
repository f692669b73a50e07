"""Shared by the Python parsers: PEP 503 names, pypi purls, sources, hashes, TOML errors, pyproject.

purl: ``pkg:pypi/<PEP 503 normalised name>@<version>`` (purl spec for pypi). A registry other than
PyPI adds ``repository_url``; a git source adds ``vcs_url`` (``git+<url>@<commit>``); a URL source
adds ``download_url``. Local paths (workspace members, editable installs) have no purl: their
bom-ref is ``pypi-path:<name>@<version>`` and the path is kept in ``mamori:python:source``.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from packageurl import PackageURL
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from mamori.i18n import _
from mamori.model import Component, Contact, Property
from mamori.sbom.generate.base import bad_line

ECOSYSTEM = "pypi"
MARKER = "mamori:python:marker"
SOURCE = "mamori:python:source"
PYPI_HOSTS = ("https://pypi.org/simple", "https://pypi.python.org/simple", "https://pypi.org/pypi")

_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")


def canonical(name: str) -> str:
    """PEP 503: lower case, runs of ``-_.`` become one ``-``."""
    return canonicalize_name(name)


def purl_for(name: str, version: str | None, qualifiers: dict[str, str] | None = None) -> str:
    return PackageURL(
        type="pypi", name=canonical(name), version=version, qualifiers=qualifiers or None
    ).to_string()


def component(
    name: str,
    version: str | None,
    *,
    scope: str | None = None,
    registry: str | None = None,
    vcs_url: str | None = None,
    download_url: str | None = None,
    local_path: str | None = None,
    marker: str | None = None,
) -> Component:
    """A pypi component with its purl as bom-ref (local paths: no purl, see module docstring)."""
    comp = Component(name=name, version=version, scope=scope)
    if local_path is not None:
        comp.bom_ref = f"pypi-path:{canonical(name)}@{version or ''}"
        comp.properties.append(Property(SOURCE, f"path {local_path}"))
    else:
        qualifiers: dict[str, str] = {}
        if registry and not registry.rstrip("/").startswith(PYPI_HOSTS):
            qualifiers["repository_url"] = registry.rstrip("/")
        if vcs_url:
            qualifiers["vcs_url"] = vcs_url
            comp.properties.append(Property(SOURCE, f"git {vcs_url}"))
        if download_url:
            qualifiers["download_url"] = download_url
            comp.download_location = download_url
            comp.properties.append(Property(SOURCE, f"url {download_url}"))
        comp.purl = purl_for(name, version, qualifiers)
        comp.bom_ref = comp.purl
    if marker:
        comp.properties.append(Property(MARKER, marker))
    return comp


def load_toml(path: Path, text: str) -> dict[str, Any]:
    """tomllib with its error turned into ``<file>: line N: <problem>``."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _TOML_LINE.search(message)
        problem = _("not valid TOML: {reason}").format(reason=_TOML_LINE.sub("", message).strip())
        raise bad_line(path, int(found.group(1)) if found else None, problem) from None


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def key_line(text: str, value: str) -> int | None:
    """The line of the first ``name = "<value>"`` entry (for errors about one TOML table)."""
    index = text.find(f'"{value}"')
    return text.count("\n", 0, index) + 1 if index >= 0 else None


def requirement(path: Path, line: int | None, spec: object) -> Requirement:
    """A PEP 508 requirement; anything else in a lockfile's list of them is an error of that file."""
    if not isinstance(spec, str):
        raise bad_line(path, line, _("a requirement is not a string: {value}").format(value=_short(spec)))
    try:
        return Requirement(spec)
    except InvalidRequirement as exc:
        raise bad_line(
            path,
            line,
            _("not a valid requirement {spec!r}: {reason}").format(
                spec=spec, reason=str(exc).splitlines()[0]
            ),
        ) from None


def exact_version(req: Requirement) -> str | None:
    """The version when the specifier pins exactly one (``==1.2.3``, ``===1.2.3``), else None."""
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        return specs[0].version
    return None


def project_component(data: dict[str, Any]) -> Component | None:
    """The project a pyproject.toml describes (PEP 621 ``[project]``, else ``[tool.poetry]``)."""
    table = data.get("project") or data.get("tool", {}).get("poetry") or {}
    name = table.get("name")
    if not isinstance(name, str) or not name:
        return None
    version = table.get("version") if isinstance(table.get("version"), str) else None
    comp = component(name, version)
    comp.supplier = _people(table.get("maintainers")) or _people(table.get("authors"))
    return comp


def _people(value: Any) -> Contact | None:
    """The first of PEP 621 ``authors``/``maintainers`` ({name, email}) or poetry's "Name <email>"."""
    if not isinstance(value, list):
        return None
    for person in value:
        if isinstance(person, dict):
            name, email = person.get("name"), person.get("email")
            name = name.strip() if isinstance(name, str) and name.strip() else None
            email = email.strip() if isinstance(email, str) and email.strip() else None
            if name or email:
                return Contact(name=name or email or "", email=email)
        elif isinstance(person, str) and person.strip():
            from mamori.sbom.generate.metadata import supplier_contact

            return supplier_contact(person)
    return None

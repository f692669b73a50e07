"""Helpers shared by the non-Python parsers: purl-named components, local ones, JSON/YAML with lines.

A component from a registry gets ``purl`` = ``bom_ref`` built with packageurl-python. A component
that no registry holds (a path dependency, a workspace member, an SDK package) gets no purl: its
bom-ref is ``<ecosystem>-local:<name>@<version>`` and where it lives is kept in ``mamori:source``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from pathlib import Path
from typing import Any

import yaml
from packageurl import PackageURL

from mamori.errors import InputError
from mamori.fileio import check_yaml_depth
from mamori.i18n import _
from mamori.model import Component, Hash, Property
from mamori.sbom.generate.base import bad_line

SOURCE = "mamori:source"  # where a component came from when that is not its registry: "git <url>@<rev>", "path <dir>"


def purl_component(
    ptype: str,
    name: str,
    version: str | None,
    *,
    namespace: str | None = None,
    qualifiers: dict[str, str] | None = None,
    scope: str | None = None,
) -> Component:
    """A component named by ``pkg:<ptype>/<namespace>/<name>@<version>?<qualifiers>``."""
    quals = {k: v for k, v in (qualifiers or {}).items() if v}
    purl = PackageURL(
        type=ptype, namespace=namespace or None, name=name, version=version or None, qualifiers=quals or None
    ).to_string()
    return Component(
        name=name, version=version, group=namespace or None, purl=purl, bom_ref=purl, scope=scope
    )


def local_component(
    ecosystem: str, name: str, version: str | None, where: str, scope: str | None = None
) -> Component:
    """A component with no registry behind it (path dependency, workspace member, SDK package)."""
    comp = Component(name=name, version=version, scope=scope)
    comp.bom_ref = f"{ecosystem}-local:{name}@{version or ''}"
    comp.properties.append(Property(SOURCE, where))
    return comp


_FORGES = (
    "github.com",
    "gitlab.com",
    "bitbucket.org",
    "codeberg.org",
    "sr.ht",
    "git.sr.ht",
    "sourceforge.net",
)


def url_owner(url: str) -> str | None:
    """Who a project URL names: the owner on a code forge (``https://github.com/pallets/jinja`` →
    ``pallets``), else the host without ``www.`` (``https://www.sqlalchemy.org`` → ``sqlalchemy.org``)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if not host or parts.scheme not in ("http", "https", "git+https", "git"):
        return None
    host = host.removeprefix("www.")
    segments = [s for s in parts.path.split("/") if s]
    if host in _FORGES or host.endswith(".github.io"):
        if host.endswith(".github.io"):
            return host.split(".", 1)[0]
        if host == "sourceforge.net" and len(segments) >= 2 and segments[0] == "projects":
            return segments[1]
        return segments[0].removeprefix("~") if segments else None
    return host


def vcs_qualifier(url: str, revision: str | None) -> str:
    """``vcs_url`` qualifier value: ``git+https://host/repo.git@<rev>``."""
    base = url if url.startswith("git+") else f"git+{url}"
    return f"{base}@{revision}" if revision else base


def b64_hash(alg: str, value: str) -> Hash | None:
    """A base64 digest (NuGet contentHash, apk ``Q1…``) → Hash with the hex value; None when not base64."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    expected = {"SHA-1": 20, "SHA-256": 32, "SHA-512": 64}.get(alg)
    return Hash(alg, raw.hex()) if raw and (expected is None or len(raw) == expected) else None


_HEX = re.compile(r"^[0-9a-fA-F]+$")


def hex_hash(alg: str, value: object) -> Hash | None:
    """A hex digest of the length the algorithm has; None otherwise (empty, placeholder text)."""
    length = {"SHA-1": 40, "SHA-256": 64, "SHA-512": 128, "MD5": 32}[alg]
    if isinstance(value, str) and len(value) == length and _HEX.match(value):
        return Hash(alg, value.lower())
    return None


def load_json(path: Path, text: str) -> Any:
    """json.loads with its error turned into ``<file>: line N: not valid JSON: …``."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise bad_line(path, exc.lineno, _("not valid JSON: {msg}").format(msg=exc.msg)) from None
    except RecursionError:
        raise bad_line(path, None, _("not valid JSON: nested too deeply")) from None


def load_yaml(path: Path, text: str) -> Any:
    """yaml.safe_load with its error turned into ``<file>: line N: not valid YAML: …``."""
    check_yaml_depth(text, path)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise bad_line(
            path,
            mark.line + 1 if mark is not None else None,
            _("not valid YAML: {problem}").format(problem=problem),
        ) from None
    except RecursionError:
        raise bad_line(path, None, _("not valid YAML: nested too deeply")) from None


def expect_dict(path: Path, value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_line(path, None, _("{what}: expected a mapping").format(what=what))
    return value


def line_with(text: str, needle: str) -> int | None:
    """1-based line of the first occurrence of ``needle`` (for errors about one entry)."""
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else None


def spdx_or_none(text: str | None) -> str | None:
    """``text`` as a valid SPDX expression (ids fixed to their SPDX case), or None when it is not one."""
    if not text or not text.strip():
        return None
    from license_expression import ExpressionError, get_spdx_licensing

    licensing = _licensing(get_spdx_licensing)
    try:
        parsed = licensing.parse(text.strip(), validate=True, strict=True)
    except ExpressionError:
        return None
    if parsed is None or licensing.unknown_license_keys(parsed):
        return None
    return str(parsed)


_LICENSING: list[Any] = []


def _licensing(factory: Any) -> Any:  # building the SPDX licensing takes tens of milliseconds: once
    if not _LICENSING:
        _LICENSING.append(factory())
    return _LICENSING[0]


def declare(found: Any, comp: Component, version_range: str | None, scope: str) -> None:
    """Add a manifest's declared dependency once (declared-only, with its range) as a direct one."""
    from mamori.sbom.generate.base import declared_only

    if comp.bom_ref in found.direct:
        return
    found.add(declared_only(comp, version_range))
    found.direct[comp.bom_ref or ""] = scope


def structure_checked(parse: Any) -> Any:
    """Decorator for ``parse(path, text)``: a file of the right syntax but an unexpected shape (a list
    where an object belongs …) becomes the one-line ``InputError`` naming the file, not a traceback."""
    import functools

    @functools.wraps(parse)
    def checked(path: Path, text: str) -> Any:
        try:
            return parse(path, text)
        except (TypeError, AttributeError, KeyError, ValueError) as exc:
            if isinstance(exc, InputError):
                raise
            raise bad_line(
                path,
                None,
                _("unexpected structure ({kind}: {exc})").format(kind=type(exc).__name__, exc=str(exc)[:80]),
            ) from None

    return checked

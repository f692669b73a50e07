"""Shared by the JavaScript parsers: npm purls, integrity, sources, licences, JSON/YAML errors.

purl (purl spec, type npm): ``pkg:npm/<name>@<version>``; a scope is the namespace, its ``@``
percent-encoded (``pkg:npm/%40babel/core@7.24.0``). The spec lowercases npm names (packageurl-python
does): the legacy ``JSONStream`` is ``pkg:npm/jsonstream@1.3.5`` while the component name keeps the
case the lockfile gives. An alias (``"lodash-three": "npm:lodash@3.10.1"``)
is the real package (``pkg:npm/lodash@3.10.1``); the installed name is kept in ``ALIAS``. Where a
package came from decides the qualifiers:

- the npm registry (or none recorded): no qualifier; the tarball URL is a ``distribution`` reference;
- another registry (a ``…/<name>/-/<file>.tgz`` URL on another host): ``repository_url``;
- a git source: ``vcs_url`` (``git+https://…#<commit>``), and ``SOURCE = "git <url>"``;
- any other tarball URL: ``download_url``, and ``SOURCE = "url <url>"``;
- a folder (``file:``, ``link:``, a workspace) outside what mamori reads as a sub-project: no purl, the
  bom-ref is ``npm-path:<name>@<version>`` and ``SOURCE = "path <folder>"``.

Integrity strings (``sha512-<base64>``, several separated by spaces) become hex hashes; yarn classic's
``#<sha1>`` URL fragment becomes SHA-1. Yarn berry's ``checksum`` is the hash of Yarn's own zip of
the package, not of the published tarball, so it is kept as ``YARN_CHECKSUM``, not as a hash.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
from packageurl import PackageURL

from mamori.errors import InputError
from mamori.fileio import check_yaml_depth
from mamori.i18n import _
from mamori.model import Component, ExternalReference, Property
from mamori.sbom.generate.base import (
    DEV,
    OPTIONAL,
    REQUIRED,
    SCOPE_RANK,
    Found,
    add_hashes,
    bad_line,
    hash_from,
)

ECOSYSTEM = "npm"
ALIAS = "mamori:npm:alias"  # the name a package is installed under when it differs from its own
PEER = "mamori:npm:peer"  # "true": installed only to satisfy a peer dependency
SOURCE = "mamori:npm:source"  # "git <url>" | "url <url>" | "path <folder>" (absent: a registry)
YARN_CHECKSUM = "mamori:npm:yarn-checksum"  # yarn berry's cache checksum ("10c0/<hex>")

DEFAULT_REGISTRIES = ("registry.npmjs.org", "registry.yarnpkg.com", "registry.npmjs.com")
GIT_PREFIXES = ("git+", "git:", "git@", "github:", "gitlab:", "bitbucket:", "gist:")
FOLDER_PREFIXES = ("file:", "link:", "portal:", "workspace:")
_SHA1_FRAGMENT = re.compile(r"#([0-9a-f]{40})$")

# dependency sections of a package.json / lock entry → the scope they give
SECTIONS: tuple[tuple[str, str], ...] = (
    ("dependencies", REQUIRED),
    ("optionalDependencies", OPTIONAL),
    ("devDependencies", DEV),
    ("peerDependencies", REQUIRED),
)


def better(a: str | None, b: str) -> str:
    """The scope that wins when a package is reached two ways (required > optional > dev)."""
    return b if a is None or SCOPE_RANK[b] < SCOPE_RANK[a] else a


def purl_for(name: str, version: str | None, qualifiers: dict[str, str] | None = None) -> str:
    namespace, _, short = name.rpartition("/") if name.startswith("@") else ("", "", name)
    return PackageURL(
        type="npm", namespace=namespace or None, name=short, version=version, qualifiers=qualifiers or None
    ).to_string()


def split_spec(key: str) -> tuple[str, str]:
    """``"@scope/name@range"`` → ``("@scope/name", "range")`` (the first ``@`` after the scope)."""
    at = key.find("@", 1)
    return (key, "") if at < 0 else (key[:at], key[at + 1 :])


def alias_target(spec: str) -> tuple[str, str] | None:
    """``"npm:lodash@3.10.1"`` → ``("lodash", "3.10.1")``; None for anything else (``npm:4.6.0`` is a version)."""
    rest = spec[4:] if spec.startswith("npm:") else ""
    if not (rest.startswith("@") or rest.find("@", 1) > 0):
        return None
    name, rng = split_spec(rest)
    return (name, rng or "*")


def integrity_hashes(text: str | None) -> list:
    """``"sha512-<base64> sha1-<base64>"`` → hex Hash objects (unknown or broken entries skipped)."""
    out = []
    for part in (text or "").split():
        alg, sep, value = part.partition("-")
        if not sep:
            continue
        try:
            raw = base64.b64decode(value.split("?")[0], validate=True)
        except (binascii.Error, ValueError):
            continue
        out.append(hash_from(alg, raw.hex()))
    return [h for h in out if h is not None]


def is_git(source: str) -> bool:
    return source.startswith(GIT_PREFIXES) or ".git#" in source


def _registry_base(url: str, name: str) -> str | None:
    """The registry a ``<registry>/<name>/-/<file>.tgz`` URL belongs to; None when not that shape."""
    index = url.find(f"/{name}/-/")
    if index < 0 and name.startswith("@"):
        index = url.find(f"/{name.replace('/', '%2f')}/-/")
    return url[:index] if index > 0 else None


def package(
    name: str,
    version: str | None,
    *,
    scope: str | None = None,
    resolved: str | None = None,
    integrity: str | None = None,
    licence: Any = None,
    alias: str | None = None,
    peer: bool = False,
    folder: str | None = None,
) -> Component:
    """One npm package as a component with its purl as bom-ref (see the module docstring)."""
    comp = Component(name=name, version=version or None, scope=scope)
    qualifiers: dict[str, str] = {}
    if folder is not None:
        comp.bom_ref = f"npm-path:{name}@{version or ''}"
        comp.properties.append(Property(SOURCE, f"path {folder}"))
    elif resolved and is_git(resolved):
        qualifiers["vcs_url"] = resolved
        comp.properties.append(Property(SOURCE, f"git {resolved}"))
    elif resolved and resolved.startswith(("http://", "https://")):
        comp.external_references.append(ExternalReference("distribution", resolved))
        base = _registry_base(resolved, name)
        if base is None:
            qualifiers["download_url"] = resolved
            comp.download_location = resolved
            comp.properties.append(Property(SOURCE, f"url {resolved}"))
        elif urlsplit(base).hostname not in DEFAULT_REGISTRIES:
            qualifiers["repository_url"] = base
        fragment = _SHA1_FRAGMENT.search(resolved)
        if fragment:
            add_hashes(comp, [hash_from("sha1", fragment.group(1))])
    if folder is None:
        comp.purl = purl_for(name, version or None, qualifiers)
        comp.bom_ref = comp.purl
    add_hashes(comp, integrity_hashes(integrity))
    comp.license_declared = licence_of(licence)
    if alias and alias != name:
        comp.properties.append(Property(ALIAS, alias))
    if peer:
        comp.properties.append(Property(PEER, "true"))
    return comp


def licence_of(value: Any) -> str | None:
    """A package.json ``license`` (string, ``{type}`` object or the old ``licenses`` list) → SPDX expression."""
    from mamori.sbom.cyclonedx.licenses import LicenceError, combine

    if isinstance(value, dict):
        value = value.get("type")
    if isinstance(value, list):
        names = [v.get("type") if isinstance(v, dict) else v for v in value]
        entries = tuple(("name", n) for n in names if isinstance(n, str) and n.strip())
    else:
        entries = (("name", value),) if isinstance(value, str) and value.strip() else ()
    if not entries:
        return None
    try:
        return combine(entries)
    except LicenceError:
        return None


def _object(path: Path, data: Any, kind: str | None) -> Any:
    if kind is not None and not isinstance(data, dict):
        raise bad_line(path, 1, _("not a {kind}: expected a mapping at the top").format(kind=kind))
    return data


def load_json(path: Path, text: str, kind: str | None = None) -> Any:
    """JSON with its error turned into ``<file>: line N``; ``kind`` given: the top must be an object."""
    try:
        return _object(path, orjson.loads(text), kind)
    except orjson.JSONDecodeError as exc:
        problem = str(exc).split(": line ")[0]
        raise bad_line(
            path,
            exc.lineno,
            _("not valid JSON (column {colno}): {problem}").format(colno=exc.colno, problem=problem),
        ) from None


def load_yaml(path: Path, text: str, kind: str | None = None) -> Any:
    """YAML with every scalar kept as a string (``1.10`` stays a version, not a float)."""
    import yaml

    loader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
    check_yaml_depth(text, path)
    try:
        return _object(path, yaml.load(text, Loader=loader), kind)  # BaseLoader: only str/list/dict
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and start is not None and mark is not None and start.line != mark.line:
            problem += f" ({context} that starts on line {start.line + 1})"
        raise bad_line(
            path, mark.line + 1 if mark else None, _("not valid YAML: {problem}").format(problem=problem)
        ) from None


def key_line(text: str, key: str) -> int | None:
    """The line where ``"key"`` first appears in a JSON text (for errors about one entry)."""
    index = text.find(f'"{key}"')
    return text.count("\n", 0, index) + 1 if index >= 0 else None


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The package.json of ``folder`` (parsed), or None when there is none."""
    path = folder / "package.json"
    if not path.is_file():
        return None
    from mamori.sbom.generate import read_text

    return load_json(path, read_text(path), "package.json")


def manifest_sections(data: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Dependency name → (declared range, scope) over all sections of a package.json (best scope wins)."""
    out: dict[str, tuple[str, str]] = {}
    for section, scope in SECTIONS:
        table = data.get(section)
        if not isinstance(table, dict):
            continue
        for name, spec in table.items():
            if isinstance(spec, str):
                prior = out.get(name)
                if section == "peerDependencies" and prior is not None:
                    continue  # a peer also listed as a dev/regular dependency keeps that scope
                out[name] = (spec, better(prior[1] if prior else None, scope))
    return out


def project_component(data: dict[str, Any] | None) -> Component | None:
    """The project a package.json describes (name, version, licence, description)."""
    if not data or not isinstance(data.get("name"), str) or not data["name"]:
        return None
    version = data.get("version") if isinstance(data.get("version"), str) else None
    comp = Component(name=data["name"], version=version, type="application")
    comp.purl = purl_for(data["name"], version)
    comp.bom_ref = comp.purl
    comp.license_declared = licence_of(data.get("license", data.get("licenses")))
    if isinstance(data.get("description"), str) and data["description"].strip():
        comp.description = data["description"].strip()
    author = data.get("author")
    if isinstance(author, dict):  # {"name", "email", "url"}
        author = " ".join(
            f"<{v}>" if k == "email" else v for k, v in author.items() if k in ("name", "email")
        )
    if isinstance(author, str) and author.strip():
        from mamori.sbom.generate.metadata import supplier_contact

        comp.author = author.strip()
        comp.supplier = supplier_contact(re.sub(r"\s*\(.*?\)\s*$", "", author.strip()))  # drop "(url)"
    return comp


def guarded(kind: str) -> Callable[[Callable[[Path, str], Found]], Callable[[Path, str], Found]]:
    """Turn an unexpected shape the checks missed into a one-line InputError, never a traceback."""

    def wrap(func: Callable[[Path, str], Found]) -> Callable[[Path, str], Found]:
        @functools.wraps(func)
        def parse(path: Path, text: str) -> Found:
            try:
                return func(path, text)
            except InputError:
                raise
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
                raise bad_line(
                    path,
                    None,
                    _("not a {kind} mamori understands ({kind2}: {exc})").format(
                        kind=kind, kind2=type(exc).__name__, exc=exc
                    ),
                ) from None

        return parse

    return wrap

"""Suppliers for the NTIA "supplier name" element, from package metadata where it exists.

Lockfiles rarely name who supplies a package; the package's own metadata does. After assembly,
every component without a supplier is looked up, by its purl type, in metadata already on disk
(nothing is downloaded):

- ``pypi``: the installed distribution's METADATA (Maintainer, else Author, with their e-mail
  fields; the home page as the supplier's url; with neither, the owner the project URL names) in
  ``--python-env`` and in a virtual environment folder of the project (``.venv``, ``venv``, ``env``
  with a ``pyvenv.cfg``);
- ``npm``: ``node_modules/<name>/package.json`` of the project (``author``, else the first of
  ``maintainers``, else the owner the ``repository``/``homepage`` URL names);
- ``maven``: the POM in the local Maven repository (``~/.m2/repository``): ``<organization>``, else
  the first developer's organization;
- ``cargo``: ``Cargo.toml`` of the crate's source in ``$CARGO_HOME/registry/src`` (``authors``,
  else the owner the ``repository`` URL names);
- ``deb``/``apk``/``rpm`` (``--rootfs``) already carry the package database's maintainer/vendor;
- the project's own folders (sub-projects) take the root's supplier (``--supplier``).

Where the metadata does not exist, the component gets ``mamori:supplier:missing`` with the reason
(one of ``REASONS``, English; ``mamori sbom check`` shows it, translated, beside the component), so a
failing check says what to do. Where the supplier came from metadata other than the input file,
``mamori:supplier:source`` says where (``installed``, ``node_modules``, ``maven-repository``,
``cargo-registry``, ``project-url``, ``root``).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from packageurl import PackageURL

from mamori.errors import InputError
from mamori.fileio import read_bytes
from mamori.model import Component, Contact, Property
from mamori.model.sbom import PROJECT_PATH
from mamori.sbom.generate.assemble import Assembled
from mamori.sbom.generate.base import SUPPLIER_MISSING, SUPPLIER_SOURCE
from mamori.sbom.generate.components import url_owner

_META_LIMIT = 4 * 1024 * 1024  # a package.json, POM or METADATA larger than this is not metadata

# the reasons recorded in mamori:supplier:missing (the check translates them: data/sbom/messages.yaml)
ROOT = "no --supplier given and the project's manifest names none"
OWN = "one of the project's own folders: give --supplier"
LOCAL = "a local component (path, workspace or SDK) whose files name no supplier"
PY_ABSENT = "not installed in --python-env or in a .venv/venv folder of the project"
PY_EMPTY = "its installed metadata names no author, maintainer or project URL"
NPM_ABSENT = "not installed in node_modules (run npm ci before generating)"
NPM_EMPTY = "its package.json names no author, maintainer or repository"
MAVEN_ABSENT = "its POM is not in the local Maven repository (~/.m2/repository)"
MAVEN_EMPTY = "its POM names no organization"
CARGO_ABSENT = "Cargo.lock names no authors and the crate's source is not in ~/.cargo/registry"
CARGO_EMPTY = "its Cargo.toml names no authors or repository"
OS_EMPTY = "the package database names no maintainer"
OTHER = "the lockfile or manifest names no supplier and mamori reads no installed metadata for it"
REASONS = (
    ROOT,
    OWN,
    LOCAL,
    PY_ABSENT,
    PY_EMPTY,
    NPM_ABSENT,
    NPM_EMPTY,
    MAVEN_ABSENT,
    MAVEN_EMPTY,
    CARGO_ABSENT,
    CARGO_EMPTY,
    OS_EMPTY,
    OTHER,
)
_VENV_NAMES = (".venv", "venv", "env")
_OS_TYPES = frozenset({"deb", "apk", "rpm", "alpm"})


def _read_meta(path: Path) -> str | None:
    try:
        return read_bytes(path, _META_LIMIT).decode("utf-8", errors="replace")
    except (InputError, OSError):
        return None


def _contact_text(text: str) -> Contact | None:
    from mamori.sbom.generate.metadata import supplier_contact

    cleaned = re.sub(r"\s*\(.*?\)\s*$", "", text.strip())  # npm's "Name <mail> (url)"
    return supplier_contact(cleaned) if cleaned else None


# ---------------------------------------------------------------- Python


class _Python:
    def __init__(self, folders: Iterable[Path], python_env: Path | None) -> None:
        self.sites: list[Path] = []
        from mamori.sbom.generate.python.environment import site_packages

        roots = [python_env] if python_env is not None else []
        for folder in folders:
            roots += [folder / n for n in _VENV_NAMES if (folder / n / "pyvenv.cfg").is_file()]
        for root in roots:
            try:
                self.sites += [s for s in site_packages(root) if s not in self.sites]
            except InputError:
                continue
        self._index: dict[str, Path] | None = None

    def index(self) -> dict[str, Path]:
        if self._index is None:
            from mamori.sbom.generate.python.common import canonical

            self._index = {}
            for site in self.sites:
                try:
                    names = sorted(os.listdir(site))
                except OSError:
                    continue
                for entry in names:
                    if entry.endswith(".dist-info"):
                        name = entry[: -len(".dist-info")].rsplit("-", 1)[0]
                        self._index.setdefault(canonical(name), site / entry / "METADATA")
        return self._index

    def lookup(self, name: str) -> tuple[Contact | None, str, str | None]:
        from mamori.sbom.generate.python.common import canonical
        from mamori.sbom.generate.python.environment import Headers, supplier_of

        path = self.index().get(canonical(name))
        text = _read_meta(path) if path is not None else None
        if text is None:
            return None, PY_ABSENT, None
        contact, from_url = supplier_of(Headers(text))
        if contact is None:
            return None, PY_EMPTY, None
        return contact, "", "project-url" if from_url else "installed"


# ---------------------------------------------------------------- npm


def _npm_person(value: Any) -> Contact | None:
    if isinstance(value, dict) and isinstance(value.get("name"), str) and value["name"].strip():
        email = value.get("email") if isinstance(value.get("email"), str) else None
        url = value.get("url") if isinstance(value.get("url"), str) else None
        return Contact(name=" ".join(value["name"].split()), email=email or None, url=url or None)
    if isinstance(value, str) and value.strip():
        return _contact_text(value)
    return None


def _npm_url(data: dict[str, Any]) -> str | None:
    repo = data.get("repository")
    url = repo.get("url") if isinstance(repo, dict) else repo
    for candidate in (url, data.get("homepage")):
        if isinstance(candidate, str) and candidate.strip():
            text = candidate.strip().removeprefix("git+")
            if text.startswith("github:") or re.match(r"^[\w.-]+/[\w.-]+$", text):  # "owner/repo" shorthand
                text = "https://github.com/" + text.removeprefix("github:")
            if text.startswith(("https://", "http://", "git://")):
                return text.removesuffix(".git")
    return None


def npm_supplier(data: dict[str, Any]) -> tuple[Contact | None, bool]:
    """The supplier a package.json names (author, else the first maintainer, else the repository's
    owner); True when from the URL alone."""
    url = _npm_url(data)
    maintainers = data.get("maintainers")
    first = maintainers[0] if isinstance(maintainers, list) and maintainers else None
    contact = _npm_person(data.get("author")) or _npm_person(first)
    if contact is not None:
        contact.url = contact.url or url
        return contact, False
    owner = url_owner(url) if url else None
    return (Contact(name=owner, url=url), True) if owner else (None, False)


def _npm_lookup(folders: list[Path], name: str) -> tuple[Contact | None, str, str | None]:
    for folder in folders:
        text = _read_meta(folder / "node_modules" / name / "package.json")
        if text is None:
            continue
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(data, dict):
            continue
        contact, from_url = npm_supplier(data)
        if contact is None:
            return None, NPM_EMPTY, None
        return contact, "", "project-url" if from_url else "node_modules"
    return None, NPM_ABSENT, None


# ---------------------------------------------------------------- Maven, Cargo


def _maven_lookup(group: str, artifact: str, version: str | None) -> tuple[Contact | None, str, str | None]:
    if not version:
        return None, MAVEN_ABSENT, None
    repo = Path(os.environ.get("MAVEN_REPOSITORY") or Path.home() / ".m2" / "repository")
    pom = repo / Path(*group.split(".")) / artifact / version / f"{artifact}-{version}.pom"
    text = _read_meta(pom)
    if text is None:
        return None, MAVEN_ABSENT, None
    from mamori.sbom.generate.jvm.maven import Pom, _parse_xml, organization

    try:
        parsed = Pom(pom, _parse_xml(pom, text))
        contact = organization(parsed.root, parsed.resolve)
    except (InputError, ValueError, TypeError, AttributeError):
        return None, MAVEN_EMPTY, None
    return (contact, "", "maven-repository") if contact else (None, MAVEN_EMPTY, None)


@cache
def _cargo_sources() -> tuple[Path, ...]:
    home = Path(os.environ.get("CARGO_HOME") or Path.home() / ".cargo")
    try:
        return tuple(sorted(p for p in (home / "registry" / "src").iterdir() if p.is_dir()))
    except OSError:
        return ()


def _cargo_lookup(name: str, version: str | None) -> tuple[Contact | None, str, str | None]:
    for source in _cargo_sources() if version else ():
        text = _read_meta(source / f"{name}-{version}" / "Cargo.toml")
        if text is None:
            continue
        try:
            package = tomllib.loads(text).get("package") or {}
        except tomllib.TOMLDecodeError:
            return None, CARGO_EMPTY, None
        authors = package.get("authors")
        url = package.get("repository") if isinstance(package.get("repository"), str) else None
        if isinstance(authors, list) and authors and isinstance(authors[0], str):
            contact = _contact_text(authors[0])
            if contact is not None:
                contact.url = url
                return contact, "", "cargo-registry"
        owner = url_owner(url) if url else None
        if owner:
            return Contact(name=owner, url=url), "", "project-url"
        return None, CARGO_EMPTY, None
    return None, CARGO_ABSENT, None


# ---------------------------------------------------------------- the pass


def _purl(comp: Component) -> PackageURL | None:
    try:
        return PackageURL.from_string(comp.purl) if comp.purl else None
    except ValueError:
        return None


def fill_suppliers(
    assembled: Assembled, folders: list[Path], python_env: Path | None, base: Path | None = None
) -> None:
    """Give every supplier-less component the supplier its package metadata names, else the reason."""
    folders = list(dict.fromkeys([*([base] if base is not None else []), *folders]))
    python: _Python | None = None
    root = assembled.root
    if root.supplier is None:
        root.properties.append(Property(SUPPLIER_MISSING, ROOT))
    for comp in assembled.components:
        if comp.supplier is not None and comp.supplier.name:
            continue
        source: str | None = None
        if comp.property(PROJECT_PATH) is not None:
            contact, reason = root.supplier, OWN
            source = "root" if contact else None
        else:
            purl = _purl(comp)
            kind = purl.type if purl else None
            if kind == "pypi" and purl is not None:
                python = python or _Python(folders, python_env)
                contact, reason, source = python.lookup(purl.name)
            elif kind == "npm" and purl is not None:
                name = f"{purl.namespace}/{purl.name}" if purl.namespace else purl.name
                contact, reason, source = _npm_lookup(folders, name)
            elif kind == "maven" and purl is not None and purl.namespace:
                contact, reason, source = _maven_lookup(purl.namespace, purl.name, purl.version)
            elif kind == "cargo" and purl is not None:
                contact, reason, source = _cargo_lookup(purl.name, purl.version)
            elif kind in _OS_TYPES:
                contact, reason = None, OS_EMPTY
            elif purl is None:
                contact, reason = None, LOCAL
            else:
                contact, reason = None, OTHER
        if contact is not None:
            comp.supplier = Contact(contact.name, contact.email, contact.url, contact.kind)
            if source and comp.property(SUPPLIER_SOURCE) is None:
                comp.properties.append(Property(SUPPLIER_SOURCE, source))
        else:
            comp.properties.append(Property(SUPPLIER_MISSING, reason))

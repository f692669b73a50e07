"""An installed Python environment (``--python-env``): a virtualenv folder or a site-packages folder.

Every ``*.dist-info`` (and legacy ``*.egg-info``) folder is one component. From its METADATA
headers (the description body is not read):

- name, version, summary; purl ``pkg:pypi/<PEP 503 name>@<version>``;
- licence: ``License-Expression`` (PEP 639) when present; else the ``License ::`` classifiers that
  name exactly one SPDX licence (data/generate/python-license-classifiers.yaml; ambiguous ones such
  as "BSD License" are kept in ``mamori:python:license-classifier``); else a ``License`` field that
  is itself a valid SPDX expression; any other ``License`` text is kept in ``mamori:python:license-text``;
- supplier: the maintainer (``Maintainer``, else the name in ``Maintainer-email``), else the author
  (``Author``, else ``Author-email``) — the party that publishes the package on the index; the
  author also goes to ``author``; the supplier's url is the home page (``Home-page``, else a
  ``Project-URL`` labelled home/source/repository); with no author or maintainer, the owner named by
  that URL (``github.com/<owner>/…``, else its host) is the supplier (``mamori:supplier:source`` =
  ``project-url``);
- external references: Home-page (website), Download-URL (distribution), Project-URL (vcs,
  documentation, issue-tracker, release-notes, website by label);
- edges: ``Requires-Dist`` entries without an ``extra`` marker whose target is installed (the
  environment is the evidence of what a marker selected).

Direct dependencies: distributions with a ``REQUESTED`` file (installed by name, PEP 376) and those
nothing installed requires. Scope is not known in an environment: everything is required.

Hash (``SHA-256``, property ``mamori:python:hash-of = installed-record``): the SHA-256 of the
RECORD entries that carry a hash and lie inside site-packages, excluding the installer's own
files (``INSTALLER``, ``REQUESTED``, ``direct_url.json``, ``RECORD``), each written as
``path,hash\\n`` in sorted order. The same digest can be computed from the RECORD inside the
wheel (less its ``*.data/`` entries), so it identifies the installed content independently of
the installer and of the environment's location. pip does not keep the wheel's own hash; when
``direct_url.json`` names an archive hash (PEP 610), that hash is added too.
"""

from __future__ import annotations

import hashlib
import os
import re
from email.utils import getaddresses
from functools import cache
from importlib import resources
from pathlib import Path

import orjson
import yaml
from cyclonedx.spdx import fixup_id
from license_expression import ExpressionError, get_spdx_licensing

from mamori.errors import InputError
from mamori.fileio import read_text
from mamori.i18n import _
from mamori.model import Component, Contact, ExternalReference, Property
from mamori.sbom.generate.base import REQUIRED, SUPPLIER_SOURCE, Found, entry_points, hash_from_pair
from mamori.sbom.generate.components import url_owner
from mamori.sbom.generate.python.common import ECOSYSTEM, canonical, component

HASH_OF = "mamori:python:hash-of"
DIST_INFO = "mamori:python:dist-info"
LICENSE_CLASSIFIER = "mamori:python:license-classifier"
LICENSE_TEXT = "mamori:python:license-text"
_COMPOUND = re.compile(r"[\s()]")
_REQUIREMENT_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_HEADER = re.compile(r"^([A-Za-z0-9-]+):[ \t]?(.*)$")
_INSTALLER_FILES = frozenset({"INSTALLER", "REQUESTED", "direct_url.json", "RECORD"})
_URL_TYPES = (
    (re.compile(r"source|repository|code|github|gitlab", re.I), "vcs"),
    (re.compile(r"doc", re.I), "documentation"),
    (re.compile(r"issue|tracker|bug", re.I), "issue-tracker"),
    (re.compile(r"change|release|history|news", re.I), "release-notes"),
    (re.compile(r"download", re.I), "distribution"),
)


@cache
def classifier_licences() -> dict[str, str]:
    raw = (
        resources.files("mamori").joinpath("data/generate/python-license-classifiers.yaml").read_text("utf-8")
    )
    return yaml.safe_load(raw)["classifiers"]


@cache
def _licensing():  # -> license_expression.Licensing (building it takes about 30 ms)
    return get_spdx_licensing()


@cache
def _spdx_expression(text: str) -> str | None:
    """``text`` when it is a valid SPDX expression of known ids (normalised), else None."""
    if not _COMPOUND.search(text):  # one id: the SPDX list of cyclonedx-python-lib, no parser needed
        return fixup_id(text)
    licensing = _licensing()
    try:
        parsed = licensing.parse(text, validate=True, strict=True)
    except (ExpressionError, ValueError, TypeError):
        return None
    if parsed is None or licensing.unknown_license_keys(parsed):
        return None
    return str(parsed)


def site_packages(path: Path) -> list[Path]:
    """The site-packages folders of a virtualenv, or ``path`` itself when it holds distributions."""
    if (path / "pyvenv.cfg").is_file() or (path / "lib").is_dir() or (path / "Lib").is_dir():
        found = sorted(path.glob("lib/python*/site-packages")) + sorted(
            path.glob("lib64/python*/site-packages")
        )
        found += [p for p in [path / "Lib" / "site-packages"] if p.is_dir()]
        unique = list(dict.fromkeys(p.resolve() for p in found))
        if unique:
            return unique
    if any(path.glob("*.dist-info")) or any(path.glob("*.egg-info")):
        return [path]
    raise InputError(path, _("--python-env: no site-packages folder and no *.dist-info here"))


def _contact(name: str | None, email_field: str | None) -> Contact | None:
    if name and name.strip() and name.strip().upper() != "UNKNOWN":
        email = getaddresses([email_field])[0][1] if email_field else None
        return Contact(name=" ".join(name.split()), email=email or None)
    if email_field:
        pairs = [(n, e) for n, e in getaddresses([email_field]) if n or e]
        if pairs:
            names = ", ".join(n or e for n, e in pairs)
            return Contact(name=names, email=pairs[0][1] or None)
    return None


_HOME_LABELS = re.compile(r"home|source|repository|code|github|gitlab", re.I)


def home_page(headers: Headers) -> str | None:
    """``Home-page``, else the first ``Project-URL`` labelled home/source/repository (http(s) only)."""
    candidates = [headers.get("Home-page") or ""]
    candidates += [
        url.strip()
        for label, _, url in (e.partition(",") for e in headers.get_all("Project-URL"))
        if _HOME_LABELS.search(label)
    ]
    return next(
        (u.strip() for u in candidates if u.strip().lower().startswith(("https://", "http://"))), None
    )


def supplier_of(headers: Headers) -> tuple[Contact | None, bool]:
    """The supplier the METADATA headers name (see the module docstring); True when from the URL alone."""
    contact = _contact(headers.get("Maintainer"), headers.get("Maintainer-email")) or _contact(
        headers.get("Author"), headers.get("Author-email")
    )
    url = home_page(headers)
    if contact is not None:
        contact.url = url
        return contact, False
    owner = url_owner(url) if url else None
    return (Contact(name=owner, url=url), True) if owner else (None, False)


def _licence(comp: Component, headers: Headers) -> None:
    expression = headers.get("License-Expression")
    if expression and expression.strip():
        comp.license_declared = _spdx_expression(expression.strip()) or expression.strip()
        return
    mapped = []
    for classifier in headers.get_all("Classifier"):
        if classifier.startswith("License ::"):
            spdx = classifier_licences().get(classifier)
            if spdx:
                mapped.append(spdx)
            elif classifier not in ("License :: OSI Approved", "License :: Other/Proprietary License"):
                comp.properties.append(Property(LICENSE_CLASSIFIER, classifier))
    text = (headers.get("License") or "").strip()
    if mapped:
        comp.license_declared = " OR ".join(dict.fromkeys(mapped)) if len(set(mapped)) > 1 else mapped[0]
    elif (
        text and text.upper() != "UNKNOWN" and "\n" not in text and len(text) < 100 and _spdx_expression(text)
    ):
        comp.license_declared = _spdx_expression(text)
    if text and text.upper() != "UNKNOWN" and comp.license_declared != _spdx_expression(text):
        comp.properties.append(Property(LICENSE_TEXT, text.splitlines()[0][:200]))


def _references(comp: Component, headers: Headers) -> None:
    refs: list[ExternalReference] = []
    home = headers.get("Home-page")
    if home and home.strip().upper() != "UNKNOWN":
        refs.append(ExternalReference("website", home.strip()))
    download = headers.get("Download-URL")
    if download and download.strip().upper() != "UNKNOWN":
        refs.append(ExternalReference("distribution", download.strip()))
    for entry in headers.get_all("Project-URL"):
        label, _, url = entry.partition(",")
        url = url.strip()
        if not url:
            continue
        kind = next((t for pattern, t in _URL_TYPES if pattern.search(label)), "website")
        refs.append(ExternalReference(kind, url, comment=label.strip() or None))
    seen: set[tuple[str, str]] = set()
    comp.external_references = [r for r in refs if not ((r.type, r.url) in seen or seen.add((r.type, r.url)))]


def record_digest(record_text: str) -> str | None:
    """SHA-256 of the sorted ``path,hash`` RECORD lines inside site-packages (see module docstring)."""
    lines = []
    for row in record_text.splitlines():
        if row.startswith('"'):
            import csv

            parts = next(csv.reader([row]))
        else:
            parts = row.split(",")
        if len(parts) < 2 or not parts[1] or parts[0].startswith("../") or parts[0].startswith("/"):
            continue
        path = parts[0]
        if ".dist-info/" in path and path.rsplit("/", 1)[-1] in _INSTALLER_FILES:
            continue
        lines.append(f"{path},{parts[1]}\n")
    if not lines:
        return None
    return hashlib.sha256("".join(sorted(lines)).encode("utf-8")).hexdigest()


def _read(path: Path) -> str | None:
    """A metadata file's text; None when it cannot be read or is no regular file (a FIFO is never
    waited on, /dev/zero never read) or is over the input size limit."""
    try:
        return read_text(path, errors="replace")
    except InputError:
        return None


class Headers:
    """The METADATA header block (RFC 822 style; the body, the long description, is not read)."""

    def __init__(self, text: str) -> None:
        self.fields: dict[str, list[str]] = {}
        last: list[str] | None = None
        for line in text.splitlines():
            if not line:
                break
            if line[0] in " \t" and last is not None:  # a folded continuation line
                last[-1] += "\n" + line.strip()
                continue
            match = _HEADER.match(line)
            if match:
                last = self.fields.setdefault(match.group(1).lower(), [])
                last.append(match.group(2).strip())

    def get(self, name: str) -> str | None:
        values = self.fields.get(name.lower())
        return values[0] if values else None

    def get_all(self, name: str) -> list[str]:
        return self.fields.get(name.lower(), [])


def requirement_name(spec: str) -> str | None:
    """The distribution a Requires-Dist entry names, or None when it only applies to an extra."""
    _, semicolon, marker = spec.partition(";")
    if semicolon and "extra" in marker:
        return None
    match = _REQUIREMENT_NAME.match(spec)
    return match.group(1) if match else None


def _distribution(info: Path) -> tuple[Component, list[str], bool] | None:
    egg = info.name.endswith(".egg-info")
    text = _read(info / ("PKG-INFO" if egg else "METADATA"))
    if text is None:
        return None
    headers = Headers(text)
    name, version = headers.get("Name"), headers.get("Version")
    if not name or not version:
        return None
    comp = component(name.strip(), version.strip())
    summary = headers.get("Summary")
    if summary and summary.strip() and summary.strip().upper() != "UNKNOWN":
        comp.description = " ".join(summary.split())
    comp.supplier, from_url = supplier_of(headers)
    if from_url:
        comp.properties.append(Property(SUPPLIER_SOURCE, "project-url"))
    author = _contact(headers.get("Author"), headers.get("Author-email"))
    comp.author = author.name if author else None
    _licence(comp, headers)
    _references(comp, headers)
    comp.properties.append(Property(DIST_INFO, info.name))
    record = None if egg else _read(info / "RECORD")
    digest = record_digest(record) if record else None
    if digest:
        comp.hashes.append(hash_from_pair(f"sha256:{digest}"))  # type: ignore[arg-type]
        comp.properties.append(Property(HASH_OF, "installed-record"))
    direct_url = _read(info / "direct_url.json")
    if direct_url:
        try:
            archive = orjson.loads(direct_url).get("archive_info") or {}
        except (orjson.JSONDecodeError, AttributeError):
            archive = {}
        for alg, value in (archive.get("hashes") or {}).items():
            if (h := hash_from_pair(f"{alg}:{value}")) is not None:
                comp.hashes.append(h)
    requires = [name for spec in headers.get_all("Requires-Dist") if (name := requirement_name(spec))]
    return comp, requires, (info / "REQUESTED").exists()


def scan(path: Path) -> Found:
    found = Found(ECOSYSTEM)
    by_name: dict[str, Component] = {}
    requires: list[tuple[Component, list[str]]] = []
    requested: list[Component] = []
    for folder in site_packages(path):
        try:
            names = sorted(os.listdir(folder))
        except OSError as exc:
            raise InputError(folder, _("cannot list folder: {reason}").format(reason=exc.strerror)) from None
        for entry in names:
            if not entry.endswith((".dist-info", ".egg-info")):
                continue
            result = _distribution(folder / entry)
            if result is None:
                found.notices.append(f"{entry}: no readable metadata (name and version)")
                continue
            comp, reqs, was_requested = result
            key = canonical(comp.name)
            if key in by_name:
                found.notices.append(f"{entry}: {comp.name} is installed twice; the first one is listed")
                continue
            by_name[key] = found.add(comp)
            requires.append((comp, reqs))
            if was_requested:
                requested.append(comp)
    for comp, reqs in requires:
        for name in reqs:
            target = by_name.get(canonical(name))
            if target is not None and target is not comp:
                found.depends(comp.bom_ref or "", target.bom_ref or "")
    for ref in [c.bom_ref or "" for c in requested] + entry_points(found):
        found.direct[ref] = REQUIRED
    return found

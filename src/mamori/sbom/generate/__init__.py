"""``mamori sbom generate``: lockfiles, manifests and installed packages → one SBOM.

>>> doc = generate(Path("."), GenerateOptions(exclude_dev=True))

The pieces: ``registry`` (which file names go to which parser), ``discover`` (walk PATH, lockfiles
over manifests), the parsers (``python/`` …, interface in ``base``), ``assemble`` (one root,
merged components, edges, scopes) and ``metadata`` (NTIA document fields).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mamori.errors import InputError
from mamori.fileio import read_bytes
from mamori.i18n import _
from mamori.model import Document, Occurrence, Property
from mamori.sbom.generate import registry
from mamori.sbom.generate.assemble import ProjectInput, assemble
from mamori.sbom.generate.base import NOTICE, SKIPPED, SOURCE_FILE, SUPERSEDED, Found
from mamori.sbom.generate.discover import Excludes, Project, discover
from mamori.sbom.generate.metadata import document_for, root_info
from mamori.sbom.generate.suppliers import fill_suppliers

__all__ = ["GenerateOptions", "generate", "notices"]


@dataclass(slots=True)
class GenerateOptions:
    name: str | None = None
    version: str | None = None
    supplier: str | None = None
    exclude_dev: bool = False
    python_env: Path | None = None
    rootfs: Path | None = None
    author: str | None = None  # "Name <email>" (--author, else the config file's [sbom.generate] author)
    author_from_git: bool = False  # the git identity of PATH as the author (only when asked for)
    include_tests: bool = False  # read test-fixture folders too
    default_excludes: bool = True  # False: no default skip of fixture and example folders
    exclude: tuple[str, ...] = ()  # more globs to skip (relative path or name)


def _label(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix() or "."
    except ValueError:
        return str(path)


def read_text(path: Path) -> str:
    try:
        return read_bytes(path).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, _("not UTF-8 text (byte {start})").format(start=exc.start)) from None


def _locate(found: Found, label: str, base: Path) -> None:
    """Occurrences a parser recorded: the file parsed (``label``) where it gave none, other files made
    relative to ``base``; a component with none gets the file alone (its line unknown)."""
    for comp in found.components:
        occurrences = comp.occurrences
        if not occurrences:
            occurrences.append(Occurrence(label, None))
            continue
        for occurrence in occurrences:
            if not occurrence.location:
                occurrence.location = label
            elif Path(occurrence.location).is_absolute():
                occurrence.location = _label(Path(occurrence.location), base)


def _read_project(project: Project, base: Path, props: list[Property]) -> ProjectInput:
    result = ProjectInput(_label(project.folder, base))
    for path, spec in project.files:
        found: Found = registry.resolve(spec.target)(path, read_text(path))
        label = _label(path, base)
        _locate(found, label, base)
        result.results.append((label, found))
        props.append(Property(SOURCE_FILE, label))
        props += [Property(NOTICE, f"{label}: {text}") for text in found.notices]
    for path, magic in project.binaries:
        found = registry.resolve(magic.target)(path, "")
        if found.components or found.project is not None:
            label = _label(path, base)
            _locate(found, label, base)
            result.results.append((label, found))
            props.append(Property(SOURCE_FILE, label))
            props += [Property(NOTICE, f"{label}: {text}") for text in found.notices]
    for path, lock in project.superseded:
        props.append(Property(SUPERSEDED, f"{_label(path, base)} (read {_label(lock, base)} instead)"))
        spec = registry.spec_for(path)
        if result.named_by is None and spec is not None:  # the manifest still names the project
            result.named_by = registry.resolve(spec.target)(path, read_text(path)).project
    for path, why in project.not_read:
        props.append(Property(NOTICE, f"{_label(path, base)}: not read: {why}"))
    return result


def generate(path: Path, options: GenerateOptions | None = None) -> Document:
    """Read every lockfile/manifest under ``path`` (and the scanned directories) into one SBOM."""
    options = options or GenerateOptions()
    path = Path(path)
    base = path if path.is_dir() else path.parent
    props: list[Property] = []
    excludes = Excludes(options.default_excludes, options.include_tests, tuple(options.exclude))
    projects = [_read_project(p, base, props) for p in discover(path, excludes)]
    props += [Property(SKIPPED, f"{rel} ({why})") for rel, why in excludes.skipped]
    if excludes.skipped:
        shown = ", ".join(rel for rel, _ in excludes.skipped[:5])
        more = f" and {len(excludes.skipped) - 5} more" if len(excludes.skipped) > 5 else ""
        props.append(
            Property(
                NOTICE,
                f"not read: {len(excludes.skipped)} folder(s) of test fixtures, examples or --exclude: "
                f"{shown}{more} (--include-tests, --no-default-excludes read them)",
            )
        )
    projects = [p for p in projects if p.results]
    extra: list[tuple[str, Found]] = []
    for option in ("python_env", "rootfs"):
        target: Path | None = getattr(options, option)
        if target is not None:
            if not target.is_dir():
                raise InputError(
                    target, _("--{option}: not a folder").format(option=option.replace("_", "-"))
                )
            found = registry.scanner(option)(target)
            label = _label(target, base)
            _locate(found, label, base)
            extra.append((label, found))
            props.append(Property(SOURCE_FILE, label))
            props += [Property(NOTICE, f"{label}: {text}") for text in found.notices]
    if not projects and not extra:
        notes = "; ".join(p.value for p in props if p.name == NOTICE)
        raise InputError(
            path,
            _("no lockfile, manifest or package database mamori reads ({notes})").format(notes=notes)
            if notes
            else _("no lockfile, manifest or package database mamori reads"),
        )
    info = root_info(base.resolve(), options.name, options.version, options.supplier)
    assembled = assemble(projects, extra, info, options.exclude_dev)
    fill_suppliers(assembled, [base / p.label for p in projects], options.python_env, base)
    props += [Property(NOTICE, text) for text in assembled.notices]
    resolved = any(found.resolved for p in projects for _, found in p.results) or any(
        f.resolved for _, f in extra
    )
    return document_for(
        assembled, info, base.resolve(), props, resolved, options.author, options.author_from_git
    )


def notices(doc: Document) -> list[str]:
    """The notices a generated document carries (for the CLI to print)."""
    return [p.value for p in doc.properties if p.name == NOTICE]

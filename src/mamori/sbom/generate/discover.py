"""Walk a directory and decide which files to read, grouped by project folder.

Folders that hold installed or generated code are not entered (``SKIP_DIRS``, every hidden
folder, and any folder with a ``pyvenv.cfg``, i.e. a virtual environment); symbolic links to
folders are not followed. Inside one folder a lockfile wins over the manifests of its ecosystem
(see registry.py). Files in a ``requirements/`` folder belong to the project of the folder above.

Default excludes (as cdxgen and Trivy users expect): folders below PATH named like test fixtures
(``TEST_DIRS``: ``fixtures``, ``__fixtures__``, ``testdata`` …) and like vendored example projects
(``EXAMPLE_DIRS``: ``examples``, ``samples`` …) are not entered; each one skipped is recorded
(``Excludes.skipped``). ``include_tests`` enters the fixture folders, ``default=False`` enters both;
``patterns`` (``--exclude``) skip more: a glob matched against the path relative to PATH (folders and
files) and against the name alone. PATH itself is never skipped.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from mamori.errors import InputError
from mamori.fileio import not_regular
from mamori.i18n import _
from mamori.sbom.generate import registry
from mamori.sbom.generate.registry import LOCK, MANIFEST, FileSpec

SKIP_DIRS = frozenset(
    {
        "node_modules",
        "bower_components",
        "jspm_packages",
        "venv",
        "__pycache__",
        "site-packages",
        "dist",
        "build",
        "target",
        "vendor",
        "Pods",
        "DerivedData",
    }
)

# folders skipped by default (names, at any depth below PATH)
TEST_DIRS = frozenset({"fixtures", "__fixtures__", "testdata", "test-data", "test_data", "test-fixtures"})
EXAMPLE_DIRS = frozenset({"examples", "example", "samples", "_examples"})


@dataclass(slots=True)
class Excludes:
    """What the walk leaves out beyond ``SKIP_DIRS`` (see the module docstring)."""

    default: bool = True
    include_tests: bool = False
    patterns: tuple[str, ...] = ()
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path relative to PATH, why)

    def why(self, rel: str, name: str, is_dir: bool) -> str | None:
        """Why ``rel`` (relative to PATH, posix) is left out, or None when it is read."""
        for pattern in self.patterns:
            cleaned = pattern.strip().strip("/")
            if cleaned and (fnmatchcase(rel, cleaned) or fnmatchcase(name, cleaned)):
                return f"--exclude {pattern}"
        if is_dir and self.default:
            if name in TEST_DIRS and not self.include_tests:
                return "test fixtures"
            if name in EXAMPLE_DIRS:
                return "example projects"
        return None


@dataclass(slots=True)
class Project:
    """One folder's inputs."""

    folder: Path
    files: list[tuple[Path, FileSpec]] = field(default_factory=list)  # to parse, in a stable order
    superseded: list[tuple[Path, Path]] = field(default_factory=list)  # (manifest, the lock that won)
    not_read: list[tuple[Path, str]] = field(default_factory=list)  # (file, why)
    binaries: list[tuple[Path, registry.MagicSpec]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.files or self.not_read or self.binaries)


def _magic(path: Path, mode: int) -> registry.MagicSpec | None:
    if not registry.MAGIC or not mode & 0o111:
        return None
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError:
        return None
    for spec in registry.MAGIC:
        if head.startswith(spec.prefix):
            return spec
    return None


def _walk(
    top: Path,
    found: dict[Path, Project],
    is_path: bool = False,
    root: Path | None = None,
    excludes: Excludes | None = None,
) -> None:
    root = top if root is None else root
    try:
        entries = sorted(os.scandir(top), key=lambda e: e.name)
    except OSError as exc:
        raise InputError(top, _("cannot list folder: {reason}").format(reason=exc.strerror)) from None
    if not is_path and any(e.name == "pyvenv.cfg" for e in entries):
        return  # a virtual environment below PATH (read one with --python-env)
    dirs: list[Path] = []
    for entry in entries:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        path = Path(entry.path)
        is_dir = stat.S_ISDIR(st.st_mode)
        if excludes is not None and (not is_dir or not entry.name.startswith(".")):
            rel = path.relative_to(root).as_posix()
            if (why := excludes.why(rel, entry.name, is_dir)) is not None:
                if is_dir or registry.spec_for(path) is not None:
                    excludes.skipped.append((rel, why))
                continue
        if is_dir:
            if not entry.name.startswith(".") and entry.name not in SKIP_DIRS:
                dirs.append(path)
            continue
        if not stat.S_ISREG(st.st_mode):
            if not stat.S_ISLNK(st.st_mode) and registry.spec_for(path) is not None:  # a FIFO, a device
                found.setdefault(top, Project(top)).not_read.append(
                    (path, not_regular(path, st.st_mode).problem)
                )
            continue
        spec = registry.spec_for(path)
        folder = top.parent if spec is not None and "/" in spec.pattern else top
        if spec is not None:
            found.setdefault(folder, Project(folder)).files.append((path, spec))
        elif (reason := registry.not_read_reason(path)) is not None:
            found.setdefault(folder, Project(folder)).not_read.append((path, reason))
        elif (magic := _magic(path, st.st_mode)) is not None:
            found.setdefault(folder, Project(folder)).binaries.append((path, magic))
    for sub in dirs:
        _walk(sub, found, root=root, excludes=excludes)


def _prefer_locks(project: Project) -> None:
    """Drop manifests of an ecosystem that has a lockfile in the same folder."""
    locks = {spec.ecosystem: path for path, spec in project.files if spec.kind == LOCK}
    kept: list[tuple[Path, FileSpec]] = []
    for path, spec in project.files:
        if spec.kind == MANIFEST and spec.ecosystem in locks:
            project.superseded.append((path, locks[spec.ecosystem]))
        else:
            kept.append((path, spec))
    project.files = kept


def discover(path: Path, excludes: Excludes | None = None) -> list[Project]:
    """Projects under ``path`` (a folder or one file), the top folder first, then by path; what
    ``excludes`` leaves out is recorded in ``excludes.skipped``."""
    if not path.exists():
        raise InputError(path, _("no such file or folder"))
    if path.is_file():
        spec = registry.spec_for(path)
        if spec is None:
            raise InputError(path, _("not a lockfile or manifest mamori reads"))
        return [Project(path.parent, files=[(path, spec)])]
    found: dict[Path, Project] = {}
    _walk(path, found, is_path=True, excludes=excludes)
    projects = sorted(found.values(), key=lambda p: (p.folder != path, str(p.folder)))
    for project in projects:
        _prefer_locks(project)
    return [p for p in projects if not p.empty]

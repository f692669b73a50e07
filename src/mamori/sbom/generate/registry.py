"""The dispatch table: which file names mamori reads, with which parser, and which it knows it does not.

To add an ecosystem, append ``FileSpec`` rows to ``FILES`` (and, for files mamori recognises as
manifests but does not read, rows to ``NOT_READ``). Parsers are imported lazily from their
``"module:function"`` target, so start-up stays fast. ``kind`` decides precedence inside one
folder: when a ``lock`` of an ecosystem is present, the ``manifest`` files of the same ecosystem
there are not parsed (they are listed as superseded); several locks of one ecosystem are all read
and their components merged.

``MAGIC`` rows match files by their first bytes instead of their name (compiled binaries that
carry build information). They are only tried on executable regular files whose name matched no
row; the parser must return an empty ``Found`` for a binary it does not understand (an ELF file
that is not a Go program), not raise.

``SCANNERS`` are directory sources given on the command line (``--python-env``, ``--rootfs``):
``scan(path: Path) -> Found``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path

from mamori.errors import InputError
from mamori.i18n import _
from mamori.sbom.generate.base import Found

FileParser = Callable[[Path, str], Found]
Scanner = Callable[[Path], Found]

LOCK = "lock"
MANIFEST = "manifest"


@dataclass(frozen=True, slots=True)
class FileSpec:
    pattern: str  # fnmatch pattern on the file name (case-sensitive): "poetry.lock", "requirements*.txt"
    target: str  # "module:function" of a FileParser
    ecosystem: str  # purl type
    kind: str = LOCK  # LOCK | MANIFEST


@dataclass(frozen=True, slots=True)
class MagicSpec:
    prefix: bytes  # the file's first bytes
    target: str  # "module:function" of a FileParser (called with text="" — read the bytes yourself)
    ecosystem: str


_PY = "mamori.sbom.generate.python"
_G = "mamori.sbom.generate"
_JS = "mamori.sbom.generate.javascript"

FILES: list[FileSpec] = [
    # ---- Python (pypi)
    FileSpec("poetry.lock", f"{_PY}.poetry:parse", "pypi"),
    FileSpec("Pipfile.lock", f"{_PY}.pipfile:parse_lock", "pypi"),
    FileSpec("uv.lock", f"{_PY}.uv:parse", "pypi"),
    FileSpec("pdm.lock", f"{_PY}.pdm:parse", "pypi"),
    FileSpec("requirements*.txt", f"{_PY}.requirements:parse", "pypi"),
    FileSpec("requirements/*.txt", f"{_PY}.requirements:parse", "pypi"),  # matched on "parent/name"
    FileSpec("pyproject.toml", f"{_PY}.pyproject:parse", "pypi", MANIFEST),
    FileSpec("Pipfile", f"{_PY}.pipfile:parse_manifest", "pypi", MANIFEST),
    FileSpec("requirements*.in", f"{_PY}.requirements:parse", "pypi", MANIFEST),  # pip-compile input
    # ---- JavaScript (npm)
    FileSpec("package-lock.json", f"{_JS}.npm_lock:parse", "npm"),
    FileSpec("npm-shrinkwrap.json", f"{_JS}.npm_lock:parse", "npm"),
    FileSpec("yarn.lock", f"{_JS}.yarn:parse", "npm"),
    FileSpec("pnpm-lock.yaml", f"{_JS}.pnpm:parse", "npm"),
    FileSpec("package.json", f"{_JS}.manifest:parse", "npm", MANIFEST),
    # ---- Go, Cargo, Maven, Gradle, Ruby, PHP, .NET, Dart, Swift, Conan
    FileSpec("go.mod", f"{_G}.golang.gomod:parse", "golang"),  # reads go.sum beside it
    FileSpec("Cargo.lock", f"{_G}.rust.cargo:parse", "cargo"),
    FileSpec("Cargo.toml", f"{_G}.rust.cargo:parse_manifest", "cargo", MANIFEST),
    FileSpec("gradle.lockfile", f"{_G}.jvm.gradle:parse", "maven"),
    FileSpec("buildscript-gradle.lockfile", f"{_G}.jvm.gradle:parse", "maven"),
    FileSpec("pom.xml", f"{_G}.jvm.maven:parse", "maven", MANIFEST),
    FileSpec("Gemfile.lock", f"{_G}.ruby.bundler:parse", "gem"),
    FileSpec("gems.locked", f"{_G}.ruby.bundler:parse", "gem"),
    FileSpec("Gemfile", f"{_G}.ruby.bundler:parse_manifest", "gem", MANIFEST),
    FileSpec("gems.rb", f"{_G}.ruby.bundler:parse_manifest", "gem", MANIFEST),
    FileSpec("composer.lock", f"{_G}.php.composer:parse", "composer"),
    FileSpec("composer.json", f"{_G}.php.composer:parse_manifest", "composer", MANIFEST),
    FileSpec("packages.lock.json", f"{_G}.dotnet.nuget:parse", "nuget"),
    FileSpec("pubspec.lock", f"{_G}.dart.pub:parse", "pub"),
    FileSpec("pubspec.yaml", f"{_G}.dart.pub:parse_manifest", "pub", MANIFEST),
    FileSpec("Package.resolved", f"{_G}.swift.swiftpm:parse", "swift"),
    FileSpec("conan.lock", f"{_G}.conan.lockfile:parse", "conan"),
]

# file names recognised as manifests that mamori does not read → why / what to do instead
NOT_READ: dict[str, str] = {
    "setup.py": "a Python build script; lock the project (uv lock, pip-compile) or pass --python-env",
    "setup.cfg": "Python setuptools metadata; lock the project (uv lock, pip-compile) or pass --python-env",
    "environment.yml": "a conda environment; conda packages are not read",
    "environment.yaml": "a conda environment; conda packages are not read",
    "conda-lock.yml": "a conda lockfile; conda packages are not read",
    "Package.swift": "a Swift manifest (Swift code); mamori reads Package.resolved ('swift package resolve')",
    "build.gradle": "a Gradle build script; mamori reads gradle.lockfile ('gradle dependencies --write-locks')",
    "build.gradle.kts": "a Gradle build script; mamori reads gradle.lockfile ('gradle dependencies --write-locks')",
    "conanfile.py": "a Conan recipe; mamori reads conan.lock ('conan lock create')",
    "conanfile.txt": "a Conan recipe; mamori reads conan.lock ('conan lock create')",
    "packages.config": "a NuGet package list of old .NET projects; mamori reads packages.lock.json",
}

MAGIC: list[MagicSpec] = [
    # compiled programs that may carry Go build information (ELF, PE, Mach-O)
    MagicSpec(b"\x7fELF", f"{_G}.golang.buildinfo:parse", "golang"),
    MagicSpec(b"MZ", f"{_G}.golang.buildinfo:parse", "golang"),
    MagicSpec(b"\xcf\xfa\xed\xfe", f"{_G}.golang.buildinfo:parse", "golang"),
]

SCANNERS: dict[str, str] = {
    "python_env": f"{_PY}.environment:scan",
    "rootfs": f"{_G}.ospkg.rootfs:scan",
}


@cache
def resolve(target: str) -> Callable:
    module, _, func = target.partition(":")
    return getattr(importlib.import_module(module), func)


def spec_for(path: Path) -> FileSpec | None:
    """The first row whose pattern matches the file name (or ``parent/name`` for rows with a slash)."""
    name = path.name
    nested = f"{path.parent.name}/{name}"
    for spec in FILES:
        if fnmatchcase(nested if "/" in spec.pattern else name, spec.pattern):
            return spec
    return None


def not_read_reason(path: Path) -> str | None:
    return NOT_READ.get(path.name)


def scanner(option: str) -> Scanner:
    """The directory scanner behind a command-line option (``python_env``, ``rootfs``)."""
    target = SCANNERS.get(option)
    if target is None:
        raise InputError(None, _("--{option} is not supported yet").format(option=option.replace("_", "-")))
    return resolve(target)

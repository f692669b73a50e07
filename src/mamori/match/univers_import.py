"""What univers imports, imported for less: semantic_version without ``importlib.metadata``, semver when used.

semantic_version sets its ``__version__`` with ``importlib.metadata.version("semantic_version")`` when it
is imported. That one call imports ``importlib.metadata`` and with it the ``email`` package, ``socket``,
``calendar``, ``csv`` and ``zipfile``, then walks every folder of ``sys.path`` for the distribution: about
a fifth of a 3-component scan's start-up, for a string mamori never reads.

:func:`import_semantic_version` imports it with a stand-in for ``importlib.metadata`` whose ``version``
reads the ``Version:`` line of the ``METADATA`` file in the one ``semantic_version-*.dist-info`` folder
beside the package, the file ``importlib.metadata`` reads for it; in any other case (no such folder or
several, a file that is not a regular file or too large, no such line, any error) it calls the real
``importlib.metadata.version``, so ``__version__`` is the same string either way.

semver (python-semver) is imported by ``univers.nuget`` alone, which uses it inside its functions (NuGet
versions); importing it compiles its large version patterns and imports ``argparse`` for its command line.
:func:`defer_semver` puts a stand-in module under its name: the first attribute read from it imports the
real semver (which then takes its place in ``sys.modules``) and copies its names into the stand-in, so a
module holding the stand-in reads the very same objects. (The standard library's ``LazyLoader`` does not
serve here: on Python 3.11 the import statement itself reads the module's ``__spec__`` and runs it.)
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types
from typing import Any

_NAME = "semantic_version"
_METADATA_LIMIT = 1 << 16  # bytes of METADATA read at most (its header is a few hundred bytes)


def _metadata_version(name: str) -> str | None:
    """The ``Version:`` of distribution ``name`` from its .dist-info beside the package; None if unsure."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = os.path.dirname(os.path.abspath(next(iter(spec.submodule_search_locations))))
    prefix = name.replace("-", "_") + "-"
    found = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith(prefix) and entry.name.endswith(".dist-info"):
                found.append(entry)
    if len(found) != 1 or not found[0].is_dir(follow_symlinks=False):
        return None
    path = os.path.join(found[0].path, "METADATA")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not (0 < info.st_size <= _METADATA_LIMIT) or (info.st_mode & 0o170000) != 0o100000:
            return None
        text = fh.read(_METADATA_LIMIT).decode("utf-8", "replace")
    for line in text.splitlines():
        if not line:  # the end of the header: the body is the description
            break
        if line.startswith("Version:"):
            return line[len("Version:") :].strip() or None
    return None


def _version(name: str) -> str:
    try:
        found = _metadata_version(name)
    except (OSError, ValueError, ImportError):
        found = None
    if found is not None:
        return found
    if not isinstance(sys.modules.get("importlib.metadata"), _StandIn):
        raise ImportError("importlib.metadata")  # not called through import_semantic_version
    del sys.modules["importlib.metadata"]  # the real one from here on
    return str(importlib.import_module("importlib.metadata").version(name))


class _StandIn(types.ModuleType):
    """``importlib.metadata`` while semantic_version is imported: its ``version`` alone."""

    version = staticmethod(_version)


class _Deferred(types.ModuleType):
    """A module imported on the first read of one of its attributes (:func:`defer_semver`)."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):  # probes (copy, pickle, inspect …) find nothing
            raise AttributeError(name)
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        real = importlib.import_module(self.__name__)
        vars(self).update(vars(real))
        return getattr(real, name)


def defer_semver() -> None:
    """Put the stand-in under ``semver`` (unless it is imported already or not installed)."""
    if "semver" in sys.modules or importlib.util.find_spec("semver") is None:
        return
    sys.modules["semver"] = _Deferred("semver")


def import_semantic_version() -> None:
    """Import semantic_version (once) with the stand-in for ``importlib.metadata``: see the module."""
    if _NAME in sys.modules or "importlib.metadata" in sys.modules:
        return
    stand_in = _StandIn("importlib.metadata")
    sys.modules["importlib.metadata"] = stand_in
    try:
        import semantic_version  # noqa: F401
    except ImportError:
        pass  # univers's own import says it then
    finally:
        if sys.modules.get("importlib.metadata") is stand_in:
            del sys.modules["importlib.metadata"]

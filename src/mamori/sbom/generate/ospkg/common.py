"""What the package-database readers of ``--rootfs`` share: paths resolved inside the folder, the
distribution from ``os-release``, dependency links by provided name."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from mamori.errors import InputError
from mamori.fileio import read_text
from mamori.sbom.generate.base import Found

_MAX_LINKS = 40


def inside(root: Path, relative: str) -> Path | None:
    """``root/relative`` with every symbolic link resolved inside ``root``; None when it does not exist."""
    parts = [p for p in relative.split("/") if p not in ("", ".")]
    current = root
    links = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            current = current.parent if current != root else root
            continue
        candidate = current / part
        if candidate.is_symlink():
            links += 1
            if links > _MAX_LINKS:
                return None
            target = os.readlink(candidate)
            parts = [p for p in target.split("/") if p not in ("", ".")] + parts
            if target.startswith("/"):
                current = root
            continue
        if not candidate.exists():
            return None
        current = candidate
    return current


def os_release(root: Path) -> dict[str, str]:
    """KEY=value pairs of the image's os-release (empty when it has none)."""
    for rel in ("etc/os-release", "usr/lib/os-release"):
        path = inside(root, rel)
        if path is not None and path.is_file():
            values: dict[str, str] = {}
            for line in _text(path).splitlines():
                key, sep, value = line.partition("=")
                if sep and key.strip() and not key.startswith("#"):
                    try:
                        words = shlex.split(value, posix=True)
                    except ValueError:
                        words = [value.strip().strip("'\"")]
                    values[key.strip()] = words[0] if words else ""
            return values
    return {}


def distro(release: dict[str, str], fallback_id: str) -> tuple[str, str | None]:
    """(purl namespace, ``distro`` qualifier) from os-release, e.g. ("debian", "debian-12")."""
    ident = (release.get("ID") or fallback_id).lower()
    version = release.get("VERSION_ID")
    return ident, (f"{ident}-{version}" if version else None)


def link(found: Found, providers: dict[str, str], wanted: dict[str, list[list[str]]]) -> None:
    """Edges from each package to what it needs: ``wanted`` is bom-ref → list of alternative groups
    (names or capabilities); the first alternative some installed package provides is taken."""
    for source, groups in wanted.items():
        seen: set[str] = set()
        for group in groups:
            target = next((providers[name] for name in group if name in providers), None)
            if target is not None and target != source and target not in seen:
                seen.add(target)
                found.depends(source, target)


def _text(path: Path) -> str:
    """The text of a file of the image (a FIFO or device there is read as empty, never waited on)."""
    try:
        return read_text(path, errors="replace")
    except InputError:
        return ""

"""requirements*.txt (pip's format; pip-compile and ``uv pip compile`` output included).

- ``name==1.2.3`` (or ``===``) is resolved; any other specifier (or none) is declared-only, with
  the range in ``mamori:version-range``. Environment markers are kept in ``mamori:python:marker``
  (not evaluated: the SBOM describes the file, not one platform).
- ``--hash=alg:value`` options become component hashes.
- ``-r FILE`` includes another requirements file (read in place, relative to this one; a cycle is
  an error); ``-c FILE`` constraints are not dependencies and are noted.
- ``name @ URL`` becomes a component with ``download_url`` / ``vcs_url``; ``-e``/``--editable``
  lines and bare paths or URLs name no package version and are listed in notices.
- pip-compile's ``# via`` annotations give the edges: ``via -r <file>`` marks a direct dependency,
  ``via <package>`` an edge from that package. Without annotations every line is direct.
- Files whose name says dev/test/lint/docs (``requirements-dev.txt``, ``requirements/test.txt``,
  ``dev-requirements.txt``) hold dev dependencies.
"""

from __future__ import annotations

import re
from pathlib import Path

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)

from mamori.i18n import _
from mamori.model import Component
from mamori.sbom.generate.base import (
    DECLARED_ONLY,
    DEV,
    REQUIRED,
    Found,
    add_hashes,
    bad_line,
    declared_only,
    hash_from_pair,
)
from mamori.sbom.generate.lines import declared_at
from mamori.sbom.generate.python.common import ECOSYSTEM, canonical, component, exact_version, requirement

_DEV_NAME = re.compile(r"(^|[-_./])(dev|devel|develop|test|tests|testing|lint|docs?|ci|typing)([-_.]|$)")
_OPTION_VALUE = re.compile(r"^(-r|--requirement|-c|--constraint|-e|--editable)\s*=?\s*(.+)$")
_SKIPPED_OPTIONS = (
    "-i", "--index-url", "--extra-index-url", "--no-index", "-f", "--find-links", "--pre", "--trusted-host",
    "--no-binary", "--only-binary", "--prefer-binary", "--require-hashes", "--use-feature", "--config-settings",
    "--global-option", "--install-option",
)  # fmt: skip
_HASH = re.compile(r"--hash[=\s]\s*(\S+)")
_NAMED = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?\s*(\[[^\]]*\])?\s*(@|[<>=!~;,(]|$)")
_VIA = re.compile(r"^#\s+via\b\s*(.*)$")


def _version_from_url(url: str) -> str | None:
    """The version in a wheel or sdist file name at the end of a URL (``attrs-24.2.0-py3-none-any.whl``)."""
    filename = url.split("#")[0].split("?")[0].rsplit("/", 1)[-1]
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        if filename.endswith((".tar.gz", ".zip")):
            return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None


def _logical_lines(text: str) -> list[tuple[int, str, list[str]]]:
    """(first line number, requirement text, comment lines that follow it) with continuations joined."""
    out: list[tuple[int, str, list[str]]] = []
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        stripped = line.strip()
        if not buffer and stripped.startswith("#"):
            if out:
                out[-1][2].append(stripped)
            continue
        if not buffer:
            start = number
        if line.endswith("\\"):
            buffer.append(line[:-1])
            continue
        buffer.append(line)
        joined = " ".join(part.strip() for part in buffer)
        buffer = []
        body = re.sub(r"(^|\s)#.*$", "", joined).strip()
        if body:
            out.append((start, body, []))
        elif out and joined.strip().startswith("#"):
            out[-1][2].append(joined.strip())
    if buffer:
        out.append((start, " ".join(part.strip() for part in buffer).strip(), []))
    return out


def _via(comments: list[str]) -> list[str]:
    """The names after ``# via`` (one line or an indented list)."""
    names: list[str] = []
    collecting = False
    for comment in comments:
        match = _VIA.match(comment)
        if match:
            collecting = True
            if match.group(1).strip():
                names.append(match.group(1).strip())
            continue
        if collecting and comment.startswith("#   "):
            names.append(comment[1:].strip())
        else:
            collecting = False
    return names


class _Reader:
    def __init__(self, top: Path) -> None:
        self.found = Found(ECOSYSTEM)
        self.top = top
        self.by_name: dict[str, Component] = {}
        self.via: list[tuple[Component, list[str], str]] = []  # (component, via names, scope of its file)
        self.stack: list[Path] = []

    def where(self, path: Path, number: int) -> str:
        """``line N`` in the file itself, ``base.txt line N`` in an included one."""
        return f"line {number}" if path == self.top else f"{path.name} line {number}"

    def note(self, path: Path, number: int, text: str) -> None:
        self.found.notices.append(f"{self.where(path, number)}: {text}")

    def read(self, path: Path, text: str) -> None:
        self.stack.append(path.resolve())
        for number, body, comments in _logical_lines(text):
            self.line(path, number, body, comments)
        self.stack.pop()

    def include(self, path: Path, number: int, target: str) -> None:
        from mamori.sbom.generate import read_text

        try:
            included = (path.parent / target).resolve()
            is_file = included.is_file()
        except (OSError, ValueError) as exc:  # a name too long for the file system, a NUL byte ...
            reason = exc.strerror if isinstance(exc, OSError) else str(exc)
            raise bad_line(
                path,
                number,
                _("-r {target!r}: cannot be read ({reason})").format(target=target, reason=reason),
            ) from None
        if included in self.stack:
            raise bad_line(path, number, _("-r {target}: includes itself").format(target=target))
        if not is_file:
            raise bad_line(path, number, _("-r {target}: no such file").format(target=target))
        self.read(included, read_text(included))

    def line(self, path: Path, number: int, body: str, comments: list[str]) -> None:
        option = _OPTION_VALUE.match(body)
        if option:
            flag, value = option.group(1), option.group(2).strip()
            if flag in ("-r", "--requirement"):
                self.include(path, number, value)
            elif flag in ("-c", "--constraint"):
                self.note(path, number, f"constraints file {value} limits versions, not read as dependencies")
            else:
                self.note(path, number, f"editable install {value} is not pinned to a version")
            return
        if body.startswith("-"):
            if body.split()[0].split("=")[0] not in _SKIPPED_OPTIONS:
                self.note(path, number, f"option {body.split()[0]} not understood")
            return
        hashes = [hash_from_pair(h) for h in _HASH.findall(body)]
        spec = _HASH.sub("", body).strip()
        if not _NAMED.match(spec):
            self.note(path, number, f"{spec} names a file or URL, not a package")
            return
        req = requirement(path, number, spec)
        url = req.url
        version = exact_version(req) or (_version_from_url(url) if url else None)
        vcs = url if url and url.startswith("git+") else None
        comp = component(
            req.name,
            version,
            vcs_url=vcs,
            download_url=url if url and not vcs else None,
            marker=str(req.marker) if req.marker else None,
        )
        if url:
            self.note(path, number, f"{req.name} comes from {url}")
        elif version is None:
            declared_only(comp, str(req.specifier) or None)
        add_hashes(comp, hashes)
        declared_at(comp, number, "" if path == self.top else str(path))
        key = canonical(req.name)
        if key in self.by_name:
            add_hashes(self.by_name[key], comp.hashes)
            return
        self.by_name[key] = self.found.add(comp)
        self.via.append((comp, _via(comments), DEV if _DEV_NAME.search(path.stem.lower()) else REQUIRED))

    def finish(self) -> Found:
        found = self.found
        annotated = any(names for _, names, _ in self.via)
        for comp, names, scope in self.via:
            ref = comp.bom_ref or ""
            parents = [n for n in names if not n.startswith(("-r ", "-c "))]
            if not annotated or not parents or any(n.startswith("-r ") for n in names):
                found.direct[ref] = scope
            for parent in parents:
                source = self.by_name.get(canonical(re.split(r"[\[\s]", parent, maxsplit=1)[0]))
                if source is None:
                    found.direct[ref] = scope  # required by something outside this file
                elif source is not comp:
                    found.depends(source.bom_ref or "", ref)
        if found.components and all(c.property(DECLARED_ONLY) for c in found.components):
            found.resolved = False
        return found


def parse(path: Path, text: str) -> Found:
    reader = _Reader(path)
    reader.read(path, text)
    return reader.finish()

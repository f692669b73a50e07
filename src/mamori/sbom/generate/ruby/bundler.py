"""Gemfile.lock (Bundler), with the Gemfile beside it for development groups.

Sections: ``GEM`` (a gem server: ``pkg:gem/<name>@<version>``, ``repository_url`` when not
rubygems.org), ``GIT`` (``vcs_url`` with the locked ``revision``), ``PATH`` (a local gem: no purl),
``PLUGIN SOURCE``; under ``specs:`` each gem at four spaces, ``name (version[-platform])``, and its
dependencies at six. A platform suffix becomes the ``platform`` qualifier. ``DEPENDENCIES`` are the
project's direct gems (``name!`` = from a GIT/PATH source); ``CHECKSUMS`` (Bundler 2.5+) gives
SHA-256 hashes. ``BUNDLED WITH`` adds the bundler gem itself as a dev component (the tool that
installs the set). Development groups come from the Gemfile: gems inside ``group :development,
:test do … end`` blocks or with ``group:``/``groups:`` options naming only development, test or
other non-default groups are dev. The Gemfile is Ruby: it is scanned line by line, not run.
"""

from __future__ import annotations

import re
from pathlib import Path

from mamori.i18n import _
from mamori.model import Component, Property
from mamori.sbom.generate.base import DEV, REQUIRED, Found, add_hashes, bad_line, hash_from_pair
from mamori.sbom.generate.components import (
    declare,
    local_component,
    purl_component,
    structure_checked,
    vcs_qualifier,
)
from mamori.sbom.generate.lines import declared_at

ECOSYSTEM = "gem"
RUBYGEMS = ("https://rubygems.org", "http://rubygems.org", "https://rubygems.org/", "http://rubygems.org/")
_SPEC = re.compile(r"^    (\S+) \(([^)]+)\)$")
_DEP = re.compile(r"^      (\S+?)(?: \(([^)]*)\))?$")
_TOP = re.compile(r"^  (\S+?)(!)?(?: \(([^)]*)\))?$")
_CHECKSUM = re.compile(r"^  (\S+) \(([^)]+)\)(?: (.+))?$")
_GEM_LINE = re.compile(r"""^\s*gem\s+["']([^"']+)["'](.*)$""")
_GROUP_OPT = re.compile(r"""groups?:\s*(\[[^\]]*\]|:\w+|["']\w+["'])""")
_GROUP_BLOCK = re.compile(r"^\s*group\s+(.+?)\s+do\b")
_DEFAULT_GROUPS = {"default", "production", "runtime"}
KNOWN_PLATFORMS = ("x86_64", "x86", "arm64", "aarch64", "arm", "universal", "java", "x64", "i386", "ruby")


def _split_version(text: str) -> tuple[str, str | None]:
    """``1.13.10-x86_64-linux`` → ("1.13.10", "x86_64-linux"); plain versions unchanged."""
    head, sep, tail = text.partition("-")
    if sep and tail.startswith(KNOWN_PLATFORMS):
        return head, tail
    return text, None


def dev_gems(gemfile: Path) -> set[str]:
    """Names of gems the Gemfile puts only in non-default groups."""
    if not gemfile.is_file():
        return set()
    from mamori.sbom.generate import read_text

    dev: set[str] = set()
    stack: list[bool] = []  # per open block: is it a non-default group?
    for line in read_text(gemfile).splitlines():
        code = line.split("#", 1)[0]
        block = _GROUP_BLOCK.match(code)
        if block:
            groups = set(re.findall(r"\w+", block.group(1).split("do")[0]))
            stack.append(bool(groups) and not groups & _DEFAULT_GROUPS)
            continue
        if re.match(r"^\s*end\b", code) and stack:
            stack.pop()
            continue
        if re.search(r"\bdo\b\s*(\|.*\|)?\s*$", code):
            stack.append(any(stack))  # another block (platforms, source …) keeps the outer state
            continue
        gem = _GEM_LINE.match(code)
        if gem:
            option = _GROUP_OPT.search(gem.group(2))
            groups = set(re.findall(r"\w+", option.group(1))) if option else set()
            if any(stack) or (groups and not groups & _DEFAULT_GROUPS):
                dev.add(gem.group(1))
    return dev


@structure_checked
def parse(path: Path, text: str) -> Found:
    found = Found(ECOSYSTEM)
    by_name: dict[str, Component] = {}
    deps: list[tuple[str, str]] = []
    direct: list[str] = []
    checksums: dict[tuple[str, str], list[str]] = {}
    section = remote = revision = None
    bundler: str | None = None
    bundler_line: int | None = None
    current: Component | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if not line.startswith(" "):
            section, remote, revision, current = line.strip(), None, None, None
            continue
        if section in ("GEM", "GIT", "PATH", "PLUGIN SOURCE"):
            if line.startswith("  remote: "):
                remote = line.split(": ", 1)[1].strip()
            elif line.startswith("  revision: "):
                revision = line.split(": ", 1)[1].strip()
            elif (spec := _SPEC.match(line)) is not None:
                name, (version, platform) = spec.group(1), _split_version(spec.group(2))
                if section == "PATH":
                    current = local_component(ECOSYSTEM, name, version, f"path {remote}")
                else:
                    qualifiers = {"platform": platform or ""}
                    if section == "GIT" and remote:
                        qualifiers["vcs_url"] = vcs_qualifier(remote, revision)
                    elif remote and remote not in RUBYGEMS:
                        qualifiers["repository_url"] = remote.rstrip("/")
                    current = purl_component(ECOSYSTEM, name, version, qualifiers=qualifiers)
                if name in by_name and by_name[name].bom_ref == current.bom_ref:
                    current = by_name[name]
                    continue
                found.add(declared_at(current, number))
                by_name.setdefault(name, current)
            elif (dep := _DEP.match(line)) is not None and current is not None:
                deps.append((current.bom_ref or "", dep.group(1)))
            elif not line.startswith(
                ("  specs:", "  branch:", "  ref:", "  tag:", "  glob:", "  submodules:")
            ):
                raise bad_line(
                    path,
                    number,
                    _("unexpected line in {section}: {value!r}").format(
                        section=section, value=line.strip()[:60]
                    ),
                )
        elif section == "DEPENDENCIES":
            top = _TOP.match(line)
            if top is None:
                raise bad_line(
                    path, number, _("unexpected dependency line {value!r}").format(value=line.strip()[:60])
                )
            direct.append(top.group(1))
        elif section == "CHECKSUMS":
            entry = _CHECKSUM.match(line)
            if entry and entry.group(3):
                checksums[(entry.group(1), _split_version(entry.group(2))[0])] = entry.group(3).split(",")
        elif section == "BUNDLED WITH":
            bundler, bundler_line = line.strip(), number
    if not found.components and not direct:
        raise bad_line(path, None, _("no GEM, GIT or PATH specs: not a Gemfile.lock"))
    for comp in found.components:
        pairs = checksums.get((comp.name, comp.version or ""), [])
        add_hashes(comp, [hash_from_pair(p.strip(), "=") for p in pairs])
    for source, name in deps:
        if name in by_name:
            found.depends(source, by_name[name].bom_ref or "")
    dev = dev_gems(path.with_name("Gemfile")) | dev_gems(path.with_name("gems.rb"))
    for name in direct:
        if name in by_name:
            found.direct[by_name[name].bom_ref or ""] = DEV if name in dev else REQUIRED
    if bundler:
        tool = found.add(declared_at(purl_component(ECOSYSTEM, "bundler", bundler, scope=DEV), bundler_line))
        tool.properties.append(Property("mamori:ruby:bundled-with", "true"))
        found.direct[tool.bom_ref or ""] = DEV
    return found


@structure_checked
def parse_manifest(path: Path, text: str) -> Found:
    """A Gemfile without a Gemfile.lock: its ``gem`` lines (declared-only; the Ruby is not run)."""
    found = Found(ECOSYSTEM, resolved=False)
    dev = dev_gems(path)
    for number, line in enumerate(text.splitlines(), 1):
        gem = _GEM_LINE.match(line.split("#", 1)[0])
        if gem is None:
            continue
        name = gem.group(1)
        ranges, rest = [], gem.group(2)
        while (quoted := re.match(r"""\s*,\s*["']([^"']+)["']""", rest)) is not None:
            ranges.append(quoted.group(1))
            rest = rest[quoted.end() :]
        wanted = ", ".join(ranges) or None
        scope = DEV if name in dev else REQUIRED
        declare(found, declared_at(purl_component(ECOSYSTEM, name, None, scope=scope), number), wanted, scope)
    if not found.components:
        found.notices.append("no gem lines found")
    return found

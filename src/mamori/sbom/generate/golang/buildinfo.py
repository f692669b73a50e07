"""The build information the Go toolchain embeds in every program it links (``go version -m``).

Layout (Go's ``debug/buildinfo``): a 32-byte header starting ``\\xff Go buildinf:``, then pointer
size and flags. Go 1.18 and later (flag 0x2) put the two strings right after the header, each
prefixed by its length as a varint: the toolchain version and the module information. Older
toolchains store two pointers to Go string headers instead; those are followed through the
program's segment table (ELF program headers, PE sections, Mach-O 64-bit segments).

The module information is text between two 16-byte sentinels: ``path`` (main package), ``mod``
(main module), ``dep`` lines (module, version, ``h1:`` sum), a ``=>`` line after a dep that was
replaced, and ``build`` settings. Components: every dep (``pkg:golang/<module>@<version>``, sum in
``mamori:go:h1``; a replacement is the component, the original kept in ``mamori:go:replaces``;
a folder replacement is a local component) and the standard library the program was linked with
(``pkg:golang/stdlib@<version>``, what Go vulnerability data calls the standard library). The
main module is the project. A binary carries no dependency graph, so every dep hangs off the
project. Files that are not Go programs give an empty result.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path

from mamori.errors import InputError
from mamori.i18n import _
from mamori.model import Component, Property
from mamori.sbom.generate.base import Found
from mamori.sbom.generate.components import local_component
from mamori.sbom.generate.golang.gomod import ECOSYSTEM, H1, REPLACES, TOOLCHAIN, module_component

MAGIC = b"\xff Go buildinf:"
BUILD = "mamori:go:build:"  # + setting name (vcs.revision, GOOS …)
_KEPT_SETTINGS = (
    "vcs",
    "vcs.revision",
    "vcs.time",
    "vcs.modified",
    "GOOS",
    "GOARCH",
    "CGO_ENABLED",
    "-trimpath",
)
_SENTINEL_LEN = 16


def _uvarint(data: bytes | mmap.mmap, pos: int) -> tuple[int, int]:
    value = shift = 0
    while pos < len(data) and shift < 64:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
    raise ValueError("bad varint")


def _segments(data: mmap.mmap) -> list[tuple[int, int, int]]:
    """(virtual address, file offset, size in file) of the loaded parts of an ELF, PE or Mach-O file."""
    if data[:4] == b"\x7fELF":
        wide, endian = data[4] == 2, "<" if data[5] == 1 else ">"
        if wide:
            (phoff,) = struct.unpack_from(endian + "Q", data, 0x20)
            phentsize, phnum = struct.unpack_from(endian + "HH", data, 0x36)
        else:
            (phoff,) = struct.unpack_from(endian + "I", data, 0x1C)
            phentsize, phnum = struct.unpack_from(endian + "HH", data, 0x2A)
        out = []
        for i in range(phnum):
            at = phoff + i * phentsize
            if wide:
                kind, _, offset, vaddr, _, filesz = struct.unpack_from(endian + "IIQQQQ", data, at)
            else:
                kind, offset, vaddr, _, filesz = struct.unpack_from(endian + "IIIII", data, at)
            if kind == 1:  # PT_LOAD
                out.append((vaddr, offset, filesz))
        return out
    if data[:2] == b"MZ":
        (pe,) = struct.unpack_from("<I", data, 0x3C)
        (nsections,) = struct.unpack_from("<H", data, pe + 6)
        (optsize,) = struct.unpack_from("<H", data, pe + 20)
        opt = pe + 24
        (magic,) = struct.unpack_from("<H", data, opt)
        base = (
            struct.unpack_from("<Q", data, opt + 24)[0]
            if magic == 0x20B
            else struct.unpack_from("<I", data, opt + 28)[0]
        )
        out = []
        for i in range(nsections):
            at = opt + optsize + i * 40
            _, vaddr, rawsize, rawptr = struct.unpack_from("<IIII", data, at + 8)
            out.append((base + vaddr, rawptr, rawsize))
        return out
    if data[:4] == b"\xcf\xfa\xed\xfe":  # Mach-O 64-bit little-endian
        (ncmds,) = struct.unpack_from("<I", data, 16)
        at, out = 32, []
        for _ in range(ncmds):
            cmd, size = struct.unpack_from("<II", data, at)
            if cmd == 0x19:  # LC_SEGMENT_64
                vmaddr, _, fileoff, filesize = struct.unpack_from("<QQQQ", data, at + 24)
                out.append((vmaddr, fileoff, filesize))
            at += size
        return out
    return []


def _read_at(data: mmap.mmap, segments: list[tuple[int, int, int]], addr: int, size: int) -> bytes:
    for vaddr, offset, filesz in segments:
        if vaddr <= addr and addr + size <= vaddr + filesz:
            start = offset + addr - vaddr
            return bytes(data[start : start + size])
    raise ValueError("address outside the file")


def _pointer_strings(data: mmap.mmap, at: int, ptr_size: int, big: bool) -> tuple[str, str]:
    """Go < 1.18: two pointers to string headers (pointer, length) in the program's data."""
    fmt = (">" if big else "<") + ("Q" if ptr_size == 8 else "I")
    segments = _segments(data)

    def string_at(addr: int) -> str:
        header = _read_at(data, segments, addr, 2 * ptr_size)
        (ptr,) = struct.unpack_from(fmt, header, 0)
        (length,) = struct.unpack_from(fmt, header, ptr_size)
        return _read_at(data, segments, ptr, length).decode("utf-8", "replace") if length else ""

    (version_addr,) = struct.unpack_from(fmt, data, at + 16)
    (mod_addr,) = struct.unpack_from(fmt, data, at + 16 + ptr_size)
    return string_at(version_addr), string_at(mod_addr)


def read_buildinfo(path: Path) -> tuple[str, str] | None:
    """(Go version, module information) of a Go program; None when the file carries none."""
    try:
        with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            at = data.find(MAGIC)
            while at >= 0 and at % 16:
                at = data.find(MAGIC, at + 1)
            if at < 0 or at + 32 > len(data):
                return None
            ptr_size, flags = data[at + 14], data[at + 15]
            if flags & 0x2:
                length, pos = _uvarint(data, at + 32)
                version = bytes(data[pos : pos + length]).decode("utf-8", "replace")
                length, pos = _uvarint(data, pos + length)
                modinfo = bytes(data[pos : pos + length]).decode("utf-8", "replace")
            elif ptr_size in (4, 8):
                version, modinfo = _pointer_strings(data, at, ptr_size, bool(flags & 0x1))
            else:
                return None
    except (OSError, ValueError, struct.error):
        return None
    if len(modinfo) >= 2 * _SENTINEL_LEN + 1 and modinfo[-_SENTINEL_LEN - 1] == "\n":
        modinfo = modinfo[_SENTINEL_LEN:-_SENTINEL_LEN]
    return version, modinfo


def _stdlib(version: str) -> Component:
    bare = version.removeprefix("go").split()[0]
    comp = module_component("stdlib", f"v{bare}")
    comp.properties.append(Property(TOOLCHAIN, version))
    return comp


def parse(path: Path, text: str) -> Found:  # text is "" (a binary): the file is read here
    info = read_buildinfo(path)
    found = Found(ECOSYSTEM)
    if info is None:
        return found
    version, modinfo = info
    if not version.startswith("go"):
        raise InputError(
            path,
            _("Go build information with an unexpected toolchain version {version!r}").format(
                version=version[:40]
            ),
        )
    last: Component | None = None
    for line in modinfo.splitlines():
        kind, _tab, rest = line.partition("\t")
        fields = rest.split("\t")
        if kind == "mod" and len(fields) >= 2:
            found.project = module_component(fields[0], None if fields[1] == "(devel)" else fields[1])
            found.project.type = "application"
        elif kind == "dep" and len(fields) >= 2:
            last = found.add(
                module_component(fields[0], fields[1], fields[2] if len(fields) > 2 and fields[2] else None)
            )
        elif kind == "=>" and last is not None and len(fields) >= 2:
            original = f"{last.name}@{last.version}"
            if fields[1] == "(devel)" or fields[0].startswith((".", "/")):
                replacement = local_component(ECOSYSTEM, last.name, last.version, f"path {fields[0]}")
            else:
                replacement = module_component(
                    fields[0], fields[1], fields[2] if len(fields) > 2 and fields[2] else None
                )
            replacement.properties.append(Property(REPLACES, original))
            found.components[-1] = last = replacement
        elif kind == "build" and found.project is not None:
            key, _eq, value = rest.partition("=")
            if key in _KEPT_SETTINGS:
                found.project.properties.append(Property(BUILD + key.lstrip("-"), value))
    found.add(_stdlib(version))
    if found.project is not None:
        found.project.properties.append(Property(TOOLCHAIN, version))
    if not any(c.property(H1) for c in found.components):
        found.notices.append("built without module sums (GOPATH or vendor mode): versions only")
    return found

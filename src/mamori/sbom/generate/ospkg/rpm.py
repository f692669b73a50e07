"""The RPM database in its SQLite form (``rpmdb.sqlite``), read with Python's sqlite3.

Each row of the ``Packages`` table is an RPM header blob: a count of index entries and the size of
the data store (big-endian 32-bit), the index entries (tag, type, offset, count: 16 bytes each) and
the data. The tags read: name (1000), version (1001), release (1002), epoch (1003), summary (1004),
vendor (1011), licence (1014), URL (1020), arch (1022), source RPM (1044), provides (1047) and
requires (1049). purl: ``pkg:rpm/<ID>/<name>@<version>-<release>?arch=…&epoch=…&distro=<ID>-<VERSION_ID>
&upstream=<source RPM>`` as Syft writes it: the epoch in its qualifier, not in the version (the
component's version is ``epoch:version-release``); ``upstream`` the source RPM's file name
(``openssl-3.0.7-27.el9.src.rpm``, also in ``mamori:rpm:source``); the namespace is os-release's
``ID``, with ``rhel`` written ``redhat`` and ``opensuse-leap``/``opensuse-tumbleweed``
``opensuse``. The licence is an SPDX expression when it is one (Fedora writes SPDX since 2022),
else kept in ``mamori:rpm:license``. Requires are resolved through the provides of the installed
packages into edges (``rpmlib(…)`` and file paths nothing provides are skipped).

Not read: the Berkeley DB (``Packages``) and NDB (``Packages.db``) databases of older systems
(RHEL/CentOS 7-8, SUSE before 2021); they are reported. ``rpm --rebuilddb`` on a copy with a
SQLite-enabled rpm converts them.
"""

from __future__ import annotations

import shutil
import sqlite3
import struct
import tempfile
from pathlib import Path

from mamori.errors import InputError
from mamori.i18n import _
from mamori.model import ExternalReference, Property
from mamori.model.source_package import RPM_SOURCE, UPSTREAM
from mamori.sbom.generate.base import Found
from mamori.sbom.generate.components import purl_component, spdx_or_none
from mamori.sbom.generate.ospkg.common import distro, inside, link

ECOSYSTEM = "rpm"
LICENSE_TEXT = "mamori:rpm:license"
SOURCE_RPM = RPM_SOURCE
VENDOR = "mamori:rpm:vendor"

NAME, VERSION, RELEASE, EPOCH, SUMMARY = 1000, 1001, 1002, 1003, 1004
VENDOR_TAG, LICENSE, URL, ARCH, SOURCERPM = 1011, 1014, 1020, 1022, 1044
PROVIDENAME, REQUIRENAME = 1047, 1049
_INT_TYPES = {2: ("B", 1), 3: (">H", 2), 4: (">I", 4), 5: (">Q", 8)}
_STRING, _STRING_ARRAY, _I18N = 6, 8, 9

_DB_PATHS = ("var/lib/rpm", "usr/lib/sysimage/rpm")


def read_header(blob: bytes) -> dict[int, object]:
    """Tag → value (str, list[str], int or list[int]) of one header blob; ValueError when malformed."""
    if len(blob) < 8:
        raise ValueError(_("header shorter than 8 bytes"))
    count, size = struct.unpack_from(">II", blob, 0)
    store = 8 + 16 * count
    if count > 100_000 or store + size > len(blob):
        raise ValueError(_("header sizes beyond the blob"))
    data = blob[store : store + size]
    out: dict[int, object] = {}
    for i in range(count):
        tag, kind, offset, n = struct.unpack_from(">IIII", blob, 8 + 16 * i)
        if offset > size:
            raise ValueError(_("tag {tag}: data offset beyond the store").format(tag=tag))
        if kind in (_STRING, _STRING_ARRAY, _I18N):
            values, pos = [], offset
            for _item in range(n if kind != _STRING else 1):
                end = data.find(b"\0", pos)
                if end < 0:
                    raise ValueError(_("tag {tag}: unterminated string").format(tag=tag))
                values.append(data[pos:end].decode("utf-8", "replace"))
                pos = end + 1
            out[tag] = values[0] if kind == _STRING else values
        elif kind in _INT_TYPES:
            fmt, width = _INT_TYPES[kind]
            if offset + width * n > size:
                raise ValueError(_("tag {tag}: integers beyond the store").format(tag=tag))
            out[tag] = [struct.unpack_from(fmt, data, offset + width * j)[0] for j in range(n)]
    return out


def _text(header: dict[int, object], tag: int) -> str | None:
    value = header.get(tag)
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) and value else None


def _names(header: dict[int, object], tag: int) -> list[str]:
    value = header.get(tag)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _rows(path: Path) -> list[tuple[int, bytes]]:
    """The Packages rows. SQLite in WAL mode writes an index file beside the database even when
    reading, so the database (and its write-ahead log, which may hold the latest changes) is copied
    to a temporary folder first: nothing is written into the scanned tree."""
    with tempfile.TemporaryDirectory(prefix="mamori-rpmdb-") as tmp:
        copy = Path(tmp) / "rpmdb.sqlite"
        shutil.copyfile(path, copy)
        wal = path.with_name(path.name + "-wal")
        if wal.is_file():
            shutil.copyfile(wal, Path(tmp) / "rpmdb.sqlite-wal")
        try:
            db = sqlite3.connect(copy)
            try:
                return db.execute("SELECT hnum, blob FROM Packages ORDER BY hnum").fetchall()
            finally:
                db.close()
        except sqlite3.DatabaseError as exc:
            raise InputError(path, _("not a readable RPM SQLite database: {exc}").format(exc=exc)) from None


# os-release IDs → the purl namespace other tools write (Syft: redhat, opensuse).
_NAMESPACES = {"rhel": "redhat", "opensuse-leap": "opensuse", "opensuse-tumbleweed": "opensuse"}


def parse_rpmdb(path: Path, release: dict[str, str]) -> Found:
    namespace, distro_q = distro(release, "")
    namespace = _NAMESPACES.get(namespace, namespace)
    rows = _rows(path)
    found = Found(ECOSYSTEM)
    providers: dict[str, str] = {}
    wanted: dict[str, list[list[str]]] = {}
    for hnum, blob in rows:
        try:
            header = read_header(bytes(blob))
        except ValueError as exc:
            raise InputError(path, _("package header {hnum}: {exc}").format(hnum=hnum, exc=exc)) from None
        name, version, rel = _text(header, NAME), _text(header, VERSION), _text(header, RELEASE)
        if not name or not version or name == "gpg-pubkey":  # imported signing keys are not packages
            continue
        epoch = header.get(EPOCH)
        epoch_text = str(epoch[0]) if isinstance(epoch, list) and epoch else ""
        full = f"{version}-{rel}" if rel else version
        source_rpm = _text(header, SOURCERPM) or ""
        comp = found.add(
            purl_component(
                ECOSYSTEM,
                name,
                full,
                namespace=namespace or None,
                qualifiers={
                    "arch": _text(header, ARCH) or "",
                    "epoch": epoch_text,
                    "distro": distro_q or "",
                    UPSTREAM: source_rpm,
                },
            )
        )
        comp.group = None
        if epoch_text:
            comp.version = f"{epoch_text}:{full}"
        comp.description = _text(header, SUMMARY)
        licence = _text(header, LICENSE)
        spdx = spdx_or_none(licence)
        if spdx:
            comp.license_declared = spdx
        elif licence:
            comp.properties.append(Property(LICENSE_TEXT, licence))
        if _text(header, VENDOR_TAG):
            comp.properties.append(Property(VENDOR, _text(header, VENDOR_TAG) or ""))
            comp.publisher = _text(header, VENDOR_TAG)
        if _text(header, URL):
            comp.external_references.append(ExternalReference("website", _text(header, URL) or ""))
        if source_rpm:
            comp.properties.append(Property(SOURCE_RPM, source_rpm))
        ref = comp.bom_ref or ""
        providers.setdefault(name, ref)
        for provided in _names(header, PROVIDENAME):
            providers.setdefault(provided, ref)
        wanted[ref] = [[req] for req in _names(header, REQUIRENAME) if not req.startswith("rpmlib(")]
    link(found, providers, wanted)
    if not namespace:
        found.notices.append("no etc/os-release: RPM packages have no distribution namespace in their purl")
    return found


def scan(root: Path, release: dict[str, str]) -> Found | None:
    for folder in _DB_PATHS:
        sqlite_db = inside(root, f"{folder}/rpmdb.sqlite")
        if sqlite_db is not None and sqlite_db.is_file():
            return parse_rpmdb(sqlite_db, release)
    for folder in _DB_PATHS:
        for legacy, kind in (("Packages", "Berkeley DB"), ("Packages.db", "NDB")):
            if (p := inside(root, f"{folder}/{legacy}")) is not None and p.is_file():
                found = Found(ECOSYSTEM)
                found.notices.append(
                    f"{folder}/{legacy}: an RPM database in {kind} form, which mamori does not read "
                    "(convert a copy with 'rpm --rebuilddb' using the sqlite backend)"
                )
                return found
    return None

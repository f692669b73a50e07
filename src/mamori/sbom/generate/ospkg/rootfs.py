"""``--rootfs DIR``: the package databases of an installed system or an unpacked container image.

Looked for under DIR (paths resolved inside DIR: an absolute symbolic link in an image points into
the image, never to the machine running mamori):

- dpkg (Debian, Ubuntu): ``var/lib/dpkg/status`` and the one-file-per-package ``var/lib/dpkg/status.d/``
  of distroless images;
- apk (Alpine): ``lib/apk/db/installed``;
- RPM (Fedora, RHEL, SUSE …): ``var/lib/rpm/rpmdb.sqlite`` or ``usr/lib/sysimage/rpm/rpmdb.sqlite``.
  The Berkeley DB (``Packages``) and NDB (``Packages.db``) forms of older systems are reported in a
  notice, not read.

The distribution comes from ``etc/os-release`` (or ``usr/lib/os-release``): its ``ID`` is the purl
namespace and ``ID``-``VERSION_ID`` the ``distro`` qualifier.
"""

from __future__ import annotations

from pathlib import Path

from mamori.sbom.generate.base import Found
from mamori.sbom.generate.ospkg import apk, dpkg, rpm
from mamori.sbom.generate.ospkg.common import distro, inside, link, os_release

__all__ = ["distro", "inside", "link", "os_release", "scan"]


def scan(root: Path) -> Found:
    release = os_release(root)
    found = Found("deb")
    readers = [dpkg.scan, apk.scan, rpm.scan]
    for reader in readers:
        part = reader(root, release)
        if part is None:
            continue
        found.ecosystem = part.ecosystem
        found.components += part.components
        found.edges += part.edges
        found.notices += part.notices
    if not found.components and not found.notices:
        found.notices.append("no dpkg, apk or RPM package database found under this folder")
    return found

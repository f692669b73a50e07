"""Helpers shared by the bundle tests."""

from __future__ import annotations

import io
import zipfile

from mamori.bundle.create import zip_bytes


def tampered_bundle(data: bytes) -> tuple[bytes, str]:
    """The bundle ``data`` with one name changed inside its original SBOM (commons-text → commons-texx),
    re-zipped as mamori zips bundles; and the part changed."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    name = next(n for n in members if n.startswith("sbom/original/"))
    members[name] = members[name].replace(b"commons-text", b"commons-texx", 1)
    return zip_bytes(members), name

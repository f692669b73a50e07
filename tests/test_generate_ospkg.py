"""--rootfs: dpkg status (a slice of this Debian 12 machine's own database), RPM SQLite database
(written by Debian's rpm 4.18 from alien-converted Debian packages and one rpmbuild package) and
the apk database (whole entries of a real Alpine 3.14 one; no apk tool is available here)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from packageurl import PackageURL

from mamori.cli.main import main
from mamori.errors import InputError
from mamori.sbom.check import check_document
from mamori.sbom.generate import GenerateOptions, generate
from mamori.sbom.generate.ospkg import apk, rootfs, rpm

FIXTURES = Path(__file__).parent / "fixtures" / "generate" / "ospkg"
LIBC = "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=debian-12&upstream=glibc"


def _scan(name: str):
    return rootfs.scan(FIXTURES / name)


def test_dpkg_status() -> None:
    found = _scan("debian")
    comps = {c.bom_ref: c for c in found.components}
    assert len(comps) == 17 and LIBC in comps
    libc = comps[LIBC]
    assert libc.supplier is not None and libc.supplier.email == "debian-glibc@lists.debian.org"
    assert libc.property("mamori:deb:source") == "glibc"
    zlib = comps["pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib"]
    assert zlib.license_declared == "Zlib"  # from its machine-readable copyright file
    edges = {(r.source.split("@")[0], r.target.split("@")[0]) for r in found.edges}
    assert ("pkg:deb/debian/gzip", "pkg:deb/debian/libc6") in edges
    assert ("pkg:deb/debian/libc6", "pkg:deb/debian/libgcc-s1") in edges
    assert not found.notices


def test_dpkg_source_in_upstream_qualifier() -> None:
    """Syft's form: ``upstream=<Source>``, ``@<version>`` when dpkg's Source names a version other
    than the binary's (a binary rebuild, ``+b8``); no qualifier when the package is its own source."""
    purls = {c.name: c.purl for c in _scan("debian").components}
    assert purls["libgcc-s1"] == (
        "pkg:deb/debian/libgcc-s1@12.2.0-14%2Bdeb12u1?arch=amd64&distro=debian-12&upstream=gcc-12"
    )
    assert purls["libselinux1"] == (
        "pkg:deb/debian/libselinux1@3.4-1%2Bb6?arch=amd64&distro=debian-12&upstream=libselinux%403.4-1"
    )
    assert (
        purls["bash"]
        == "pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2"
    )
    assert purls["gzip"] == "pkg:deb/debian/gzip@1.12-1?arch=amd64&distro=debian-12"
    assert PackageURL.from_string(purls["libselinux1"]).qualifiers["upstream"] == "libselinux@3.4-1"


def test_dpkg_skips_removed_packages(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "debian", root)
    status = root / "var/lib/dpkg/status"
    text = status.read_text().replace(
        "Package: mawk\nStatus: install ok installed", "Package: mawk\nStatus: deinstall ok config-files"
    )
    status.write_text(text)
    assert "mawk" not in {c.name for c in rootfs.scan(root).components}


def test_dpkg_malformed_names_file_and_line(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "var/lib/dpkg").mkdir(parents=True)
    (root / "var/lib/dpkg/status").write_text("Package: a\nVersion: 1\nthis is not a field\n")
    with pytest.raises(InputError, match=r"status: line 3: expected 'Field: value'"):
        rootfs.scan(root)


def test_apk_installed() -> None:
    found = _scan("alpine")
    comps = {c.name: c for c in found.components}
    assert len(comps) == 11
    musl = comps["musl"]
    assert musl.purl == "pkg:apk/alpine/musl@1.2.2-r3?arch=armv7" and musl.license_declared == "MIT"
    # o: (origin) → upstream when it is another package, as Syft writes it
    assert comps["libssl1.1"].purl == "pkg:apk/alpine/libssl1.1@1.1.1k-r0?arch=armv7&upstream=openssl"
    assert comps["libssl1.1"].property(apk.ORIGIN) == "openssl"
    assert comps["ssl_client"].purl == "pkg:apk/alpine/ssl_client@1.33.1-r3?arch=armv7&upstream=busybox"
    # C:Q1CpjMpFo3UY/Tn4CshBpA+PXMf04= is base64 of the SHA-1 of the package
    assert [(h.alg, h.value) for h in musl.hashes] == [("SHA-1", "0a98cca45a37518fd39f80ac841a40f8f5cc7f4e")]
    assert comps["musl-utils"].license_declared is None
    assert comps["musl-utils"].property(apk.LICENSE_TEXT) == "MIT BSD GPL2+"
    edges = {
        (r.source.split("@")[0].split("/")[-1], r.target.split("@")[0].split("/")[-1]) for r in found.edges
    }
    assert ("libssl1.1", "libcrypto1.1") in edges  # through so:libcrypto.so.1.1
    assert ("ssl_client", "libretls") in edges  # through so:libtls.so.2
    assert ("libc-utils", "musl-utils") in edges
    assert any("os-release" in n for n in found.notices)


def test_rpm_sqlite_headers() -> None:
    found = _scan("rpm")
    comps = {c.name: c for c in found.components}
    assert set(comps) == {"hello", "cowsay", "sl", "fixture-tool"}
    tool = comps["fixture-tool"]
    assert tool.purl == (
        "pkg:rpm/fixture-tool@1.4.0-3.fx1?arch=noarch&epoch=2&upstream=fixture-tool-1.4.0-3.fx1.src.rpm"
    )
    assert tool.version == "2:1.4.0-3.fx1" and tool.license_declared == "MIT AND (Apache-2.0 OR BSD-3-Clause)"
    assert tool.property(rpm.VENDOR) == "Mamori Fixture Builders"
    assert comps["hello"].property(rpm.LICENSE_TEXT) == "see /usr/share/doc/hello/copyright"
    assert {(r.source, r.target) for r in found.edges} == {
        (tool.bom_ref, comps["hello"].bom_ref),
        (tool.bom_ref, comps["cowsay"].bom_ref),
    }


def test_rpm_source_rpm_in_upstream_qualifier() -> None:
    """Rocky Linux 9.3 database: the source RPM's file name in ``upstream`` (Syft's form, which Grype
    reads), the epoch in its qualifier and in the component's version, distro from os-release."""
    comps = {c.name: c for c in _scan("rocky").components}
    assert set(comps) == {"libuuid", "libblkid", "openssl", "openssl-libs"}
    libs = comps["openssl-libs"]
    assert libs.purl == (
        "pkg:rpm/rocky/openssl-libs@3.0.7-24.el9?arch=x86_64&distro=rocky-9.3&epoch=1"
        "&upstream=openssl-3.0.7-24.el9.src.rpm"
    )
    assert libs.version == "1:3.0.7-24.el9"
    assert comps["libblkid"].property(rpm.SOURCE_RPM) == "util-linux-2.37.4-15.el9.src.rpm"
    assert PackageURL.from_string(comps["libuuid"].purl or "").qualifiers == {
        "arch": "x86_64",
        "distro": "rocky-9.3",
        "upstream": "util-linux-2.37.4-15.el9.src.rpm",
    }


def test_rpm_header_corrupt(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "rpm", root)
    db = root / "var/lib/rpm/rpmdb.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE Packages SET blob = substr(blob, 1, 40) WHERE hnum = 1")
    with pytest.raises(InputError, match=r"rpmdb.sqlite: package header 1: header sizes beyond the blob"):
        rootfs.scan(root)


def test_rpm_berkeley_db_reported(tmp_path: Path) -> None:
    (tmp_path / "var/lib/rpm").mkdir(parents=True)
    (tmp_path / "var/lib/rpm/Packages").write_bytes(b"\0" * 64)
    found = rootfs.scan(tmp_path)
    assert not found.components and "Berkeley DB" in found.notices[0]


def test_absolute_links_stay_inside_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "usr/lib/sysimage/rpm").mkdir(parents=True)
    shutil.copy(FIXTURES / "rpm/var/lib/rpm/rpmdb.sqlite", root / "usr/lib/sysimage/rpm/rpmdb.sqlite")
    (root / "var/lib").mkdir(parents=True)
    (root / "var/lib/rpm").symlink_to("/usr/lib/sysimage/rpm")  # absolute, as in Fedora images
    (root / "etc").mkdir()
    (root / "etc/os-release").symlink_to("/nonexistent/os-release")
    assert rootfs.inside(root, "var/lib/rpm/rpmdb.sqlite") == root / "usr/lib/sysimage/rpm/rpmdb.sqlite"
    assert len(rootfs.scan(root).components) == 4


def test_generate_rootfs_ntia(tmp_path: Path) -> None:
    doc = generate(
        tmp_path,
        GenerateOptions(
            rootfs=FIXTURES / "debian",
            name="appliance",
            version="1.0",
            supplier="Example KK <psirt@example.jp>",
        ),
    )
    assert len(doc.components) == 17
    report = check_document(doc, "ntia", file="x", fmt="cyclonedx-json")
    assert report.passed, report.to_json()


def test_cli_rootfs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "os.cdx.json"
    assert (
        main(["sbom", "generate", str(tmp_path), "--rootfs", str(FIXTURES / "alpine"), "-o", str(out)]) == 0
    )
    assert "11 components" in capsys.readouterr().out and out.exists()

"""OS packages are matched by their source package: dpkg ``Source``, RPM ``SOURCERPM``, apk origin,
the purl ``upstream`` qualifier (Syft) and Trivy's ``SrcName`` properties.

The SBOMs come from the real-format package databases of tests/fixtures/generate/ospkg (a slice of a
Debian 12 dpkg status file, an rpm 4.18 SQLite database with Rocky Linux 9.3's os-release, an
Alpine 3.14 apk database) and from Trivy's and Syft's CycloneDX (tests/fixtures/match/ospkg). The
advisories are written in the OSV format of the distributions' own records (Debian's DSA, as
../shared/data/osv/misc/osv-DSA-5474-1.json; Alpine's and Rocky Linux's): an ``affected`` entry per
source package and release, ``ECOSYSTEM`` ranges with the distribution's versions. Their ids and
fixed versions are the test's, chosen around the installed versions.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mamori.cli.main import main
from mamori.model.sbom import Component, Document
from mamori.model.source_package import SourcePackage, parse_source_rpm, source_of
from mamori.sbom import read
from mamori.sbom.generate import GenerateOptions, generate
from mamori.scan.run import scan_document
from mamori.store import Store
from match_support import build_store

OSPKG = Path(__file__).parent / "fixtures" / "generate" / "ospkg"
SBOMS = Path(__file__).parent / "fixtures" / "match" / "ospkg"
DPKG_STATUS = Path("/var/lib/dpkg/status")


def _entry(ecosystem: str, name: str, events: list[dict[str, str]], **extra: Any) -> dict[str, Any]:
    purl_type = {"Debian": "deb", "Ubuntu": "deb", "Alpine": "apk"}.get(ecosystem.split(":")[0], "rpm")
    namespace = ecosystem.split(":")[0].lower().replace(" ", "-")
    return {
        "package": {
            "name": name,
            "ecosystem": ecosystem,
            "purl": f"pkg:{purl_type}/{namespace}/{name}?arch=source",
        },
        "ranges": [{"type": "ECOSYSTEM", "events": events}],
        **extra,
    }


def _record(folder: Path, vuln_id: str, summary: str, affected: list[dict[str, Any]]) -> Path:
    record = {
        "schema_version": "1.6.0",
        "id": vuln_id,
        "summary": summary,
        "modified": "2024-02-01T00:00:00Z",
        "published": "2024-02-01T00:00:00Z",
        "affected": affected,
    }
    path = folder / f"{vuln_id}.json"
    path.write_text(json.dumps(record, indent=2), encoding="utf-8")
    return path


def _fixed(version: str) -> list[dict[str, str]]:
    return [{"introduced": "0"}, {"fixed": version}]


def _findings(doc: Document, store: Store) -> dict[str, list[Any]]:
    result = scan_document(doc, store, target="test", sbom_format="cyclonedx-json")
    out: dict[str, list[Any]] = {}
    for f in result.findings:
        out.setdefault(f.component.name, []).append(f)
    return out


# -- reading the source package -------------------------------------------------------------------


def test_source_rpm_names_with_dashes() -> None:
    assert parse_source_rpm("util-linux-ng-2.17.2-12.28.el6_9.2.src.rpm") == (
        "util-linux-ng",
        "2.17.2",
        "12.28.el6_9.2",
    )
    assert parse_source_rpm("python3.11-3.11.5-1.el9.src.rpm") == ("python3.11", "3.11.5", "1.el9")
    assert parse_source_rpm("not-a-source-rpm") is None


@pytest.mark.parametrize(
    ("purl_type", "qualifiers", "props", "expected"),
    [
        ("deb", {"upstream": "glibc"}, (), SourcePackage("glibc")),
        ("deb", {"upstream": "libselinux@3.4-1"}, (), SourcePackage("libselinux", "3.4-1")),
        # the qualifier wins over properties
        ("deb", {"upstream": "glibc"}, (("syft:metadata:source", "other"),), SourcePackage("glibc")),
        ("deb", {}, (("mamori:deb:source", "glibc (2.36-9)"),), SourcePackage("glibc", "2.36-9")),
        (
            "deb",
            {},
            (("syft:metadata:source", "libselinux"), ("syft:metadata:sourceVersion", "3.4-1")),
            SourcePackage("libselinux", "3.4-1"),
        ),
        # Trivy splits the source version into epoch, version and release
        (
            "deb",
            {},
            (
                ("aquasecurity:trivy:SrcEpoch", "1"),
                ("aquasecurity:trivy:SrcName", "zlib"),
                ("aquasecurity:trivy:SrcRelease", "1"),
                ("aquasecurity:trivy:SrcVersion", "1.2.13.dfsg"),
            ),
            SourcePackage("zlib", "1:1.2.13.dfsg-1"),
        ),
        # a source RPM has its binaries' epoch
        (
            "rpm",
            {"epoch": "1", "upstream": "openssl-3.0.7-24.el9.src.rpm"},
            (),
            SourcePackage("openssl", "1:3.0.7-24.el9"),
        ),
        (
            "rpm",
            {},
            (("syft:metadata:sourceRpm", "util-linux-2.37.4-15.el9.src.rpm"),),
            SourcePackage("util-linux", "2.37.4-15.el9"),
        ),
        ("apk", {"upstream": "openssl"}, (), SourcePackage("openssl")),
        ("apk", {}, (("mamori:apk:origin", "busybox"),), SourcePackage("busybox")),
        ("npm", {"upstream": "other"}, (), None),
    ],
)
def test_source_of(
    purl_type: str, qualifiers: dict[str, str], props: tuple[tuple[str, str], ...], expected: Any
) -> None:
    assert source_of(purl_type, qualifiers, props) == expected


# -- Debian: dpkg status → SBOM → DSA-format advisories -------------------------------------------


@pytest.fixture(scope="module")
def debian_store(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("debian-kb")
    files = [
        _record(
            folder,
            "DSA-9001-1",
            "glibc - security update",
            [
                _entry("Debian:11", "glibc", _fixed("2.31-13+deb11u99")),
                _entry("Debian:12", "glibc", _fixed("2.36-9+deb12u15")),
            ],
        ),
        _record(
            folder,
            "DSA-9002-1",
            "gcc-12 - security update",
            [_entry("Debian:12", "gcc-12", _fixed("12.2.0-14+deb12u2"))],
        ),
        # only Debian 11 is affected: the Debian 12 packages must not be reported
        _record(
            folder, "DSA-9003-1", "pcre2 - security update", [_entry("Debian:11", "pcre2", _fixed("10.99-1"))]
        ),
        # the source version 3.4-1 is the one affected; the rebuilt binary 3.4-1+b6 is above it
        _record(
            folder,
            "DSA-9004-1",
            "libselinux - security update",
            [_entry("Debian:12", "libselinux", [{"introduced": "0"}, {"last_affected": "3.4-1"}])],
        ),
        # advisories filed under a binary's own name still reach it
        _record(
            folder,
            "DSA-9005-1",
            "gzip - security update",
            [_entry("Debian:12", "gzip", _fixed("1.12-1+deb12u1"))],
        ),
    ]
    with build_store(folder, files, complete=True) as store:
        yield store


def _debian_sbom(tmp_path: Path) -> Document:
    return generate(tmp_path, GenerateOptions(rootfs=OSPKG / "debian", name="appliance", version="1"))


def test_debian_binaries_reached_through_their_source(debian_store: Store, tmp_path: Path) -> None:
    found = _findings(_debian_sbom(tmp_path), debian_store)
    assert {name: sorted(f.vulnerability.id for f in fs) for name, fs in found.items()} == {
        "libc6": ["DSA-9001-1"],
        "gcc-12-base": ["DSA-9002-1"],
        "libgcc-s1": ["DSA-9002-1"],
        "libselinux1": ["DSA-9004-1"],
        "gzip": ["DSA-9005-1"],
    }
    (libc,) = found["libc6"]
    (evidence,) = libc.evidence  # the Debian 11 entry of the same advisory does not apply
    assert evidence.detail.startswith("source package glibc 2.36-9+deb12u14; Debian:12 glibc")
    assert evidence.method == "purl-range" and evidence.confidence == "high"
    assert libc.fixed_versions == ["2.36-9+deb12u15"]
    (selinux,) = found["libselinux1"]
    assert selinux.evidence[0].detail.startswith("source package libselinux 3.4-1;")
    (gzip,) = found["gzip"]
    assert not gzip.evidence[0].detail.startswith("source package")


def test_cli_generate_then_scan_keeps_the_source(debian_store: Store, tmp_path: Path, capsys) -> None:
    """The upstream qualifier survives writing and reading the CycloneDX file."""
    sbom = tmp_path / "os.cdx.json"
    assert main(["sbom", "generate", str(tmp_path), "--rootfs", str(OSPKG / "debian"), "-o", str(sbom)]) == 0
    out = tmp_path / "scan.json"
    url = str(debian_store.engine.url.database)
    assert main(["scan", str(sbom), "--db", url, "--format", "json", "-o", str(out)]) == 0
    capsys.readouterr()
    report = json.loads(out.read_text(encoding="utf-8"))
    names = {f["component"]["name"] for f in report["findings"]}
    assert names == {"libc6", "gcc-12-base", "libgcc-s1", "libselinux1", "gzip"}


# -- SBOMs made by Trivy and Syft ------------------------------------------------------------------


@pytest.fixture(scope="module")
def image_store(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("image-kb")
    files = [
        _record(
            folder,
            "DSA-9101-1",
            "openssl - security update",
            [_entry("Debian:12", "openssl", _fixed("3.0.13-1~deb12u1"))],
        ),
        _record(
            folder,
            "DSA-9102-1",
            "glibc - security update",
            [_entry("Debian:12", "glibc", _fixed("2.36-9+deb12u4"))],
        ),
        # zlib1g is 1:1.2.13.dfsg-1: with its epoch it is above 1.3 (epoch 0), so not affected
        _record(
            folder, "DSA-9103-1", "zlib - security update", [_entry("Debian:12", "zlib", _fixed("1.3-1"))]
        ),
        _record(
            folder,
            "DSA-9104-1",
            "libselinux - security update",
            [_entry("Debian:12", "libselinux", [{"introduced": "0"}, {"last_affected": "3.4-1"}])],
        ),
    ]
    with build_store(folder, files) as store:
        yield store


def _read(name: str) -> Document:
    return read(SBOMS / name)


def test_trivy_src_properties(image_store: Store) -> None:
    found = _findings(_read("trivy-debian.cdx.json"), image_store)
    assert {name: [f.vulnerability.id for f in fs] for name, fs in found.items()} == {
        "libc6": ["DSA-9102-1"],
        "libssl3": ["DSA-9101-1"],
        "openssl": ["DSA-9101-1"],
    }
    # distro=debian-12.4 is Debian 12; the source version is rebuilt from SrcVersion and SrcRelease
    assert found["libssl3"][0].evidence[0].detail.startswith("source package openssl 3.0.11-1~deb12u2;")
    # binary and source share the name and version: one lookup, one evidence
    (openssl,) = found["openssl"]
    assert len(openssl.evidence) == 1 and not openssl.evidence[0].detail.startswith("source package")


def test_syft_upstream_qualifier(image_store: Store) -> None:
    found = _findings(_read("syft-debian.cdx.json"), image_store)
    assert {name: [f.vulnerability.id for f in fs] for name, fs in found.items()} == {
        "libc6": ["DSA-9102-1"],
        "libssl3": ["DSA-9101-1"],
        "libselinux1": ["DSA-9104-1"],
    }
    assert found["libselinux1"][0].evidence[0].detail.startswith("source package libselinux 3.4-1;")


def test_syft_upstream_without_properties(image_store: Store) -> None:
    """The qualifier alone (an SBOM converted to SPDX and back keeps only the purl) is enough."""
    doc = _read("syft-debian.cdx.json")
    for comp in doc.components:
        comp.properties = []
    assert set(_findings(doc, image_store)) == {"libc6", "libssl3", "libselinux1"}


def test_other_ecosystems_unchanged(image_store: Store) -> None:
    """An ``upstream`` qualifier on a non-OS purl names no source package to look up."""
    comp = Component("openssl", "3.0.0", purl="pkg:npm/openssl@3.0.0?upstream=openssl")
    doc = Document(name="npm", components=[comp])
    result = scan_document(doc, image_store, target="t", sbom_format="cyclonedx-json")
    assert result.findings == []
    assert any(n.code == "coverage" and "npm" in n.reason for n in result.not_evaluated)


# -- RPM (Rocky Linux 9.3) and apk (Alpine 3.14) ----------------------------------------------------


def test_rpm_binaries_reached_through_their_source_rpm(tmp_path: Path) -> None:
    files = [
        _record(
            tmp_path,
            "RLSA-9201",
            "Important: openssl security update",
            [_entry("Rocky Linux:9", "openssl", _fixed("1:3.0.7-25.el9_3"))],
        ),
        _record(
            tmp_path,
            "RLSA-9202",
            "Moderate: util-linux security update",
            [_entry("Rocky Linux:9", "util-linux", _fixed("2.37.4-18.el9"))],
        ),
        # fixed below the installed epoch: 3.0.8 of epoch 0 is older than 1:3.0.7 (the binary's
        # own name: its version takes the purl's epoch qualifier)
        _record(
            tmp_path,
            "RLSA-9203",
            "Low: openssl update",
            [
                _entry("Rocky Linux:9", "openssl", _fixed("3.0.8-1.el9")),
                _entry("Rocky Linux:9", "openssl-libs", _fixed("3.0.8-1.el9")),
            ],
        ),
        _record(
            tmp_path,
            "RLSA-9204",
            "Moderate: util-linux update",
            [_entry("Rocky Linux:8", "util-linux", _fixed("2.37.4-99.el8"))],
        ),
    ]
    doc = generate(tmp_path, GenerateOptions(rootfs=OSPKG / "rocky", name="server", version="1"))
    with build_store(tmp_path, files) as store:
        found = _findings(doc, store)
    assert {name: [f.vulnerability.id for f in fs] for name, fs in found.items()} == {
        "libuuid": ["RLSA-9202"],
        "libblkid": ["RLSA-9202"],
        "openssl": ["RLSA-9201"],
        "openssl-libs": ["RLSA-9201"],
    }
    assert found["openssl-libs"][0].evidence[0].detail.startswith("source package openssl 1:3.0.7-24.el9;")
    assert found["libuuid"][0].evidence[0].detail.startswith("source package util-linux 2.37.4-15.el9;")


def test_apk_binaries_reached_through_their_origin(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(OSPKG / "alpine", root)
    (root / "etc").mkdir()
    (root / "etc/os-release").write_text(
        'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.14.2\nPRETTY_NAME="Alpine Linux v3.14"\n'
        'HOME_URL="https://alpinelinux.org/"\nBUG_REPORT_URL="https://bugs.alpinelinux.org/"\n',
        encoding="utf-8",
    )
    files = [
        _record(
            tmp_path,
            "CVE-2021-3711",
            "SM2 decryption buffer overflow",
            [_entry("Alpine:v3.14", "openssl", _fixed("1.1.1l-r0"))],
        ),
        _record(
            tmp_path,
            "CVE-2021-42374",
            "busybox unlzma out-of-bounds read",
            [_entry("Alpine:v3.15", "busybox", _fixed("1.34.1-r3"))],
        ),
    ]
    doc = generate(tmp_path, GenerateOptions(rootfs=root, name="device", version="1"))
    with build_store(tmp_path, files) as store:
        found = _findings(doc, store)
    # Alpine:v3.14 applies to 3.14.2; the v3.15 entry does not reach ssl_client (origin busybox)
    assert {name: [f.vulnerability.id for f in fs] for name, fs in found.items()} == {
        "libcrypto1.1": ["CVE-2021-3711"],
        "libssl1.1": ["CVE-2021-3711"],
    }
    assert found["libssl1.1"][0].evidence[0].detail.startswith("source package openssl 1.1.1k-r0;")


# -- this machine's own dpkg database --------------------------------------------------------------


def _dpkg_query() -> list[tuple[str, str, str, str, str]]:
    if not DPKG_STATUS.is_file() or shutil.which("dpkg-query") is None:
        pytest.skip("no dpkg database on this machine")
    fmt = "${db:Status-Abbrev}\\t${Package}\\t${Architecture}\\t${source:Package}\\t${source:Version}\\n"
    text = subprocess.run(["dpkg-query", "-W", "-f", fmt], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in text.splitlines():
        status, name, arch, source, version = line.split("\t")
        if status[1:2] == "i":  # installed, whatever the selection (install, hold)
            rows.append((name, arch, source, version, ""))
    return rows


def _os_ecosystem() -> str:
    release = {}
    for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        release[key] = value.strip('"')
    base = {"debian": "Debian", "ubuntu": "Ubuntu"}.get(release.get("ID", ""))
    if base is None or not release.get("VERSION_ID"):
        pytest.skip("not a Debian or Ubuntu release")
    return f"{base}:{release['VERSION_ID']}"


def test_this_machine_openssl_and_glibc_reach_every_binary(tmp_path: Path) -> None:
    """mamori's SBOM of this machine names each binary's source as dpkg does, and an advisory for
    the openssl and glibc sources reaches every installed binary built from them, and no other."""
    rows = _dpkg_query()
    ecosystem = _os_ecosystem()
    doc = generate(tmp_path, GenerateOptions(rootfs=Path("/"), name="host", version="1"))
    dpkg = {(name, arch): (source, version) for name, arch, source, version, _ in rows}
    from mamori.match.target import target_for

    disagree = []
    for comp in doc.components:
        target = target_for(comp)
        arch = (comp.purl or "").split("arch=")[1].split("&")[0]
        mine = (target.source.name, target.source_version) if target.source else (comp.name, target.version)
        if mine != dpkg[(comp.name, arch)]:
            disagree.append((comp.name, mine, dpkg[(comp.name, arch)]))
    assert len(doc.components) == len(dpkg) and disagree == []

    versions = {source: version for source, version in dpkg.values()}
    wanted = [s for s in ("openssl", "glibc") if s in versions]
    affected = [_entry(ecosystem, s, _fixed(versions[s] + "+fix1")) for s in wanted]
    with build_store(
        tmp_path, [_record(tmp_path, "DSA-9999-1", "openssl, glibc - security update", affected)]
    ) as store:
        reached = {
            f.component.name for f in scan_document(doc, store, target="host", sbom_format="x").findings
        }
    expected = {name for (name, _), (source, _) in dpkg.items() if source in ("openssl", "glibc")}
    assert expected and reached == expected


@pytest.mark.parametrize(
    ("distro", "fixed"),
    [("debian-12.4", "3.20230808.1~deb12u1"), ("debian-11.7", "3.20230808.1~deb11u1"), ("debian-10", None)],
)
def test_real_dsa_entry_per_point_release(
    shared_data: Path, tmp_path: Path, distro: str, fixed: str | None
) -> None:
    """DSA-5474-1 (Debian:11 and Debian:12 entries): a point release in the ``distro`` qualifier, as
    Trivy writes it, selects its major release's entry; Debian 10 has none."""
    purl = f"pkg:deb/debian/intel-microcode@3.20230512.1?arch=amd64&distro={distro}"
    with build_store(tmp_path, [shared_data / "osv" / "misc" / "osv-DSA-5474-1.json"]) as store:
        doc = Document(name="t", components=[Component("intel-microcode", "3.20230512.1", purl=purl)])
        result = scan_document(doc, store, target="t", sbom_format="x")
    assert [f.fixed_versions for f in result.findings] == ([[fixed]] if fixed else [])

"""cdxgen (12.8.4, network off) on the Go, Rust, Java, Ruby, PHP, .NET, Dart, Swift and Conan fixtures:
the component sets (purls without qualifiers) are equal, or the differences are listed and explained
here. Skips when cdxgen is absent (see cdxgen_peer.py). OS package databases are not compared: cdxgen
reads them only through its separate plugins package (trivy), which is not installed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from cdxgen_peer import cdxgen_or_skip, offline_command, offline_env, purls_without_qualifiers
from mamori.sbom.generate import generate

FIXTURES = Path(__file__).parent / "fixtures" / "generate"
GRADLE = {
    "pkg:maven/commons-io/commons-io@2.14.0",
    "pkg:maven/io.github.toolfactory/jvm-driver@9.8.0",
    "pkg:maven/org.apiguardian/apiguardian-api@1.1.2",
    "pkg:maven/org.burningwave/core@12.66.2",
    "pkg:maven/org.burningwave/jvm-driver@8.19.1",
    "pkg:maven/org.junit.jupiter/junit-jupiter-api@5.9.2",
    "pkg:maven/org.junit.jupiter/junit-jupiter-engine@5.9.2",
    "pkg:maven/org.junit.jupiter/junit-jupiter-params@5.9.2",
    "pkg:maven/org.junit.platform/junit-platform-commons@1.9.2",
    "pkg:maven/org.junit.platform/junit-platform-engine@1.9.2",
    "pkg:maven/org.opentest4j/opentest4j@1.2.0",
}
CARGO_APP = {"pkg:cargo/app@0.1.0", "pkg:cargo/textutil@0.1.0"}
CARGO_WHY = (
    "cdxgen lists the project itself among the components (mamori makes it the root) and names the "
    "path crate textutil as a crates.io package; mamori gives a path crate no purl."
)

# fixture → (cdxgen project type, only mamori, only cdxgen, why); None sets: cdxgen writes no SBOM
CASES: dict[str, tuple[str, set[str] | None, set[str] | None, str]] = {
    "golang/app": (
        "go",
        set(),
        {"pkg:golang/./greet", "pkg:golang/example.org/greet@v0.0.0", "pkg:golang/v1.2.0"},
        "cdxgen names the folder replacement twice as golang purls (mamori: a local component without "
        "purl) and reads the version of the `exclude` line as a module named v1.2.0.",
    ),
    "golang/xtext": ("go", set(), set(), "equal"),
    "golang/bin": ("go", None, None, "cdxgen reads Go binaries only with its plugins package: no SBOM."),
    "rust/v4": ("rust", set(), CARGO_APP, CARGO_WHY),
    "rust/v3": ("rust", set(), CARGO_APP, CARGO_WHY),
    "rust/v2": ("rust", set(), CARGO_APP, CARGO_WHY),
    "rust/v1-maturin": (
        "rust",
        set(),
        {"pkg:cargo/maturin@0.7.7"},
        "cdxgen lists the project among the components.",
    ),
    "jvm/commons-lang3": ("java", set(), set(), "equal"),
    "jvm/gradle": (
        "gradle",
        GRADLE,
        set(),
        "cdxgen runs Gradle to list dependencies; it ignores the lockfile.",
    ),
    "ruby/app": (
        "ruby",
        {"pkg:gem/bundler@2.3.15"},
        {"pkg:gem/greeter@0.1.0"},
        "mamori adds the bundler of BUNDLED WITH (dev); cdxgen names the PATH gem greeter as a rubygems.org "
        "package, mamori gives a local gem no purl.",
    ),
    "php/composer": ("php", set(), set(), "equal"),
    "dotnet/subdependencies": ("dotnet", set(), set(), "equal"),
    "dotnet/multi": ("dotnet", set(), set(), "equal"),
    "dotnet/legacy": (
        "dotnet",
        set(),
        {"pkg:nuget/my.project"},
        "cdxgen names the project reference my.project as a nuget.org package; mamori: local, no purl.",
    ),
    "dart/localsend_isolates": (
        "dart",
        None,
        None,
        "cdxgen 12.8.4 stops with a TypeError on a pubspec.lock without pubspec.yaml.",
    ),
    "swift/v1": ("swift", set(), set(), "equal"),
    "swift/v2": ("swift", set(), set(), "equal"),
    "conan/v04": ("conan", set(), set(), "equal"),
    "conan/v05": (
        "conan",
        {"pkg:conan/fixture-gen@2.0.0"},
        set(),
        "cdxgen leaves out Conan 2's build_requires.",
    ),
}


def _ours(folder: Path) -> set[str]:
    return {c.purl.split("?")[0] for c in generate(folder).components if c.purl}


@pytest.mark.parametrize("name", sorted(CASES))
def test_component_set_against_cdxgen(tmp_path: Path, name: str) -> None:
    binary = cdxgen_or_skip()
    project_type, only_ours, only_theirs, _why = CASES[name]
    folder = tmp_path / "in"
    shutil.copytree(FIXTURES / name, folder)
    out = tmp_path / "cdxgen.json"
    subprocess.run(
        offline_command(binary, folder, out, project_type),
        env=offline_env(),
        capture_output=True,
        timeout=600,
        check=False,
    )
    if only_ours is None:
        assert not out.exists()
        return
    theirs = purls_without_qualifiers(json.loads(out.read_text(encoding="utf-8")))
    ours = _ours(FIXTURES / name)
    assert (ours - theirs, theirs - ours) == (only_ours, only_theirs)


def test_maven_same_artifacts_mamori_adds_versions(tmp_path: Path) -> None:
    """Offline and without Maven's repository, cdxgen reads maven-core's pom without the versions that
    come from the parent pom; mamori reads the parent beside it. Same artifacts, versions only here."""
    binary = cdxgen_or_skip()
    folder = tmp_path / "in"
    shutil.copytree(FIXTURES / "jvm" / "maven", folder)
    out = tmp_path / "cdxgen.json"
    subprocess.run(
        offline_command(binary, folder, out, "java"),
        env=offline_env(),
        capture_output=True,
        timeout=600,
        check=False,
    )
    theirs = purls_without_qualifiers(json.loads(out.read_text(encoding="utf-8")))
    ours = _ours(FIXTURES / "jvm" / "maven")

    def unversioned(purls: set[str]) -> set[str]:
        return {p.split("@")[0] for p in purls}

    assert unversioned(ours) - unversioned(theirs) == {
        "pkg:maven/org.apache.maven/maven-core"
    }  # the sub-project
    assert unversioned(theirs) <= unversioned(ours)
    assert sum(1 for p in ours if "@" in p) == len(ours)

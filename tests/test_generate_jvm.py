"""Maven pom.xml (upstream poms of Debian's maven 3.8.7 and commons-lang3 3.12.0 source packages) and
gradle.lockfile (Gradle-written, from a public repository: no Gradle with locking runs here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mamori.errors import InputError
from mamori.sbom.generate import generate
from mamori.sbom.generate.base import DECLARED_ONLY, DEV, REQUIRED, VERSION_RANGE
from mamori.sbom.generate.jvm import gradle, maven

FIXTURES = Path(__file__).parent / "fixtures" / "generate" / "jvm"


def test_pom_versions_from_parent_dependency_management_and_properties() -> None:
    path = FIXTURES / "maven" / "maven-core" / "pom.xml"
    found = maven.parse(path, path.read_text())
    comps = {f"{c.group}:{c.name}": c for c in found.components}
    assert found.project is not None and found.project.purl == "pkg:maven/org.apache.maven/maven-core@3.8.7"
    assert len(comps) == 27 and not found.notices
    # ${project.version} of the parent, ${resolverVersion}, ${slf4jVersion} … all resolved through ../pom.xml
    assert comps["org.apache.maven:maven-model"].version == "3.8.7"
    assert comps["org.apache.maven.resolver:maven-resolver-impl"].version == "1.6.3"
    assert comps["org.slf4j:slf4j-api"].version == "1.7.36"
    assert (
        comps["com.google.inject:guice"].purl == "pkg:maven/com.google.inject/guice@4.2.2?classifier=no_aop"
    )
    assert found.direct[comps["org.mockito:mockito-core"].bom_ref] == DEV
    assert found.direct[comps["org.slf4j:slf4j-api"].bom_ref] == REQUIRED
    assert all(c.property(DECLARED_ONLY) == "true" for c in comps.values())
    assert not found.resolved


def test_pom_bom_import_left_unresolved() -> None:
    path = FIXTURES / "commons-lang3" / "pom.xml"
    found = maven.parse(path, path.read_text())
    jupiter = next(c for c in found.components if c.name == "junit-jupiter")
    assert jupiter.version is None and jupiter.purl == "pkg:maven/org.junit.jupiter/junit-jupiter"
    assert found.notices == [
        "org.junit.jupiter:junit-jupiter: no version (from a BOM or a parent not on disk)"
    ]
    jmh = next(c for c in found.components if c.name == "jmh-core")
    assert jmh.version == "1.27"  # ${jmh.version} from <properties>
    assert {found.direct[c.bom_ref] for c in found.components} == {DEV}


def test_pom_monorepo() -> None:
    doc = generate(FIXTURES / "maven")
    assert doc.root is not None and doc.root.purl == "pkg:maven/org.apache.maven/maven@3.8.7"
    core = next(c for c in doc.components if c.name == "maven-core")
    assert core.property("mamori:project-path") == "maven-core"


def test_pom_refuses_entities_and_names_lines(tmp_path: Path) -> None:
    path = tmp_path / "pom.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE project [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<project>&x;</project>\n'
    )
    with pytest.raises(InputError, match="DTD is refused"):
        maven.parse(path, path.read_text())
    path.write_text(
        "<project>\n<dependencies>\n<dependency><version>1</version></dependency>\n</dependencies>\n</project>\n"
    )
    with pytest.raises(InputError, match=r"pom.xml: line 3: a <dependency> without groupId or artifactId"):
        maven.parse(path, path.read_text())
    path.write_text("<project>\n<unclosed>\n</project>\n")
    with pytest.raises(InputError, match=r"pom.xml: line \d+: not well-formed XML"):
        maven.parse(path, path.read_text())


def test_pom_range_kept(tmp_path: Path) -> None:
    path = tmp_path / "pom.xml"
    path.write_text(
        "<project><groupId>g</groupId><artifactId>a</artifactId><version>1</version><dependencies>"
        "<dependency><groupId>x</groupId><artifactId>y</artifactId><version>[1.0,2.0)</version>"
        "<optional>true</optional></dependency></dependencies></project>"
    )
    found = maven.parse(path, path.read_text())
    (comp,) = found.components
    assert comp.version is None and comp.property(VERSION_RANGE) == "[1.0,2.0)" and comp.scope == "optional"


def test_gradle_lockfile_scopes() -> None:
    path = FIXTURES / "gradle" / "gradle.lockfile"
    found = gradle.parse(path, path.read_text())
    scopes = {
        c.name if c.group != "org.burningwave" else f"burningwave-{c.name}": c.scope for c in found.components
    }
    assert len(scopes) == 11
    assert scopes["jvm-driver"] == REQUIRED and scopes["burningwave-core"] == REQUIRED
    assert scopes["junit-jupiter-api"] == DEV and scopes["commons-io"] == DEV
    assert (
        next(c for c in found.components if c.name == "commons-io").purl
        == "pkg:maven/commons-io/commons-io@2.14.0"
    )


def test_gradle_malformed(tmp_path: Path) -> None:
    path = tmp_path / "gradle.lockfile"
    path.write_text("# header\na:b=compileClasspath\n")
    with pytest.raises(InputError, match=r"gradle.lockfile: line 2: expected 'group:name:version'"):
        gradle.parse(path, path.read_text())

"""`sbom generate`: suppliers from package metadata (or the reason there is none), default skips of test
fixtures and example projects, sub-projects' versions, and the SBOM author (--author, config, git)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mamori.demo import demo_data
from mamori.sbom.check import check_document
from mamori.sbom.generate import GenerateOptions, generate, notices
from mamori.sbom.generate.author import configured_author
from mamori.sbom.generate.base import SKIPPED, SUPPLIER_MISSING, SUPPLIER_SOURCE, VERSION_SOURCE
from mamori.sbom.generate.components import url_owner
from mamori.sbom.generate.suppliers import REASONS

MAMORI = Path(sys.executable).with_name("mamori")


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _run(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    if not MAMORI.exists():
        pytest.skip(f"the installed mamori is not next to {sys.executable}")
    full = {
        **os.environ,
        "MAMORI_DB": str(cwd / "kb.db"),
        "XDG_CONFIG_HOME": str(cwd / "config"),
        "NO_COLOR": "1",
        "COLUMNS": "200",
        **(env or {}),
    }
    return subprocess.run(
        [str(MAMORI), *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=full, check=False
    )


METADATA = """Metadata-Version: 2.1
Name: {name}
Version: {version}
{extra}
"""


def _venv(project: Path, dists: dict[str, str]) -> None:
    """A virtual environment folder ``.venv`` in ``project`` with ``name-version: headers`` distributions."""
    (project / ".venv").mkdir(parents=True)
    (project / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n", encoding="utf-8")
    site = project / ".venv" / "lib" / "python3.11" / "site-packages"
    for key, extra in dists.items():
        name, version = key.split("-")
        info = site / f"{name}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(METADATA.format(name=name, version=version, extra=extra), "utf-8")


def _by_name(doc) -> dict:
    return {c.name: c for c in doc.components}


def test_python_suppliers_from_the_projects_venv_or_the_reason(tmp_path: Path) -> None:
    project = _write(
        tmp_path / "app",
        {
            "requirements.txt": "alpha==1.0\nbeta==2.0\ngamma==3.0\ndelta==4.0\n",
            "pyproject.toml": '[project]\nname = "app"\nversion = "1.0"\n'
            'authors = [{name = "Example KK", email = "oss@example.jp"}]\n',
        },
    )
    _venv(
        project,
        {
            "alpha-1.0": "Author: Ada Author\nMaintainer-email: Team Alpha <alpha@example.org>\n"
            "Home-page: https://alpha.example.org/",
            "beta-2.0": "Project-URL: Source, https://github.com/beta-org/beta",
            "gamma-3.0": "Summary: nothing about who",
        },
    )
    doc = generate(project)
    assert doc.root is not None and doc.root.supplier is not None
    assert (doc.root.supplier.name, doc.root.supplier.email) == ("Example KK", "oss@example.jp")
    comps = _by_name(doc)
    alpha = comps["alpha"].supplier
    assert (alpha.name, alpha.email, alpha.url) == (
        "Team Alpha",
        "alpha@example.org",
        "https://alpha.example.org/",
    )
    assert comps["alpha"].property(SUPPLIER_SOURCE) == "installed"
    assert comps["beta"].supplier.name == "beta-org"
    assert comps["beta"].supplier.url == "https://github.com/beta-org/beta"
    assert comps["beta"].property(SUPPLIER_SOURCE) == "project-url"
    assert comps["gamma"].supplier is None
    assert (
        comps["gamma"].property(SUPPLIER_MISSING)
        == "its installed metadata names no author, maintainer or project URL"
    )
    assert comps["delta"].property(SUPPLIER_MISSING) == (
        "not installed in --python-env or in a .venv/venv folder of the project"
    )
    # the venv is a metadata source only: its packages are not listed
    assert set(comps) == {"alpha", "beta", "gamma", "delta"}
    report = check_document(doc)
    missing = [p for p in report.result.problems if p.element == "supplier"]
    assert {p.component for p in missing} == {"pkg:pypi/gamma@3.0", "pkg:pypi/delta@4.0"}
    assert any("(not installed in --python-env" in p.message["en"] for p in missing)
    assert any("インストールされていない" in p.message["ja"] for p in missing)


def test_check_text_lists_components_by_reason(tmp_path: Path) -> None:
    _write(tmp_path / "p", {"requirements.txt": "alpha==1.0\n"})
    made = _run(tmp_path, "sbom", "generate", "p", "-o", "x.cdx.json")
    assert made.returncode == 0, made.stderr
    checked = _run(tmp_path, "sbom", "check", "x.cdx.json")
    assert checked.returncode == 1
    assert (
        "no supplier name (not installed in --python-env or in a .venv/venv folder of the project) (1): "
        "pkg:pypi/alpha@1.0"
    ) in checked.stdout
    data = json.loads((tmp_path / "x.cdx.json").read_text("utf-8"))
    props = {p["name"]: p["value"] for p in data["components"][0]["properties"]}
    assert props[SUPPLIER_MISSING].startswith("not installed")


NPM_LOCK = {
    "name": "web",
    "version": "2.0.0",
    "lockfileVersion": 3,
    "packages": {
        "": {"name": "web", "version": "2.0.0", "dependencies": {"left": "1.0.0", "mid": "1.0.0"}},
        "node_modules/left": {"version": "1.0.0"},
        "node_modules/mid": {"version": "1.0.0"},
        "node_modules/@scope/right": {"version": "3.0.0"},
        "node_modules/gone": {"version": "1.0.0"},
    },
}


def test_npm_suppliers_from_node_modules(tmp_path: Path) -> None:
    project = _write(
        tmp_path / "web",
        {
            "package-lock.json": json.dumps(NPM_LOCK),
            "node_modules/left/package.json": json.dumps(
                {"name": "left", "author": "Lefty Person <left@example.org> (https://left.example.org)"}
            ),
            "node_modules/mid/package.json": json.dumps(
                {"name": "mid", "maintainers": [{"name": "Mid Team", "email": "mid@example.org"}]}
            ),
            "node_modules/@scope/right/package.json": json.dumps(
                {
                    "name": "@scope/right",
                    "repository": {"type": "git", "url": "git+https://github.com/rightco/right.git"},
                }
            ),
        },
    )
    comps = _by_name(generate(project))
    assert (comps["left"].supplier.name, comps["left"].supplier.email) == ("Lefty Person", "left@example.org")
    assert (
        comps["mid"].supplier.name == "Mid Team" and comps["mid"].property(SUPPLIER_SOURCE) == "node_modules"
    )
    assert comps["@scope/right"].supplier.name == "rightco"
    assert comps["@scope/right"].supplier.url == "https://github.com/rightco/right"
    assert (
        comps["gone"].property(SUPPLIER_MISSING)
        == "not installed in node_modules (run npm ci before generating)"
    )


POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>jp.example</groupId><artifactId>shop</artifactId><version>1.0</version>
  <organization><name>Example KK</name><url>https://example.jp</url></organization>
  <dependencies>
    <dependency><groupId>org.lib</groupId><artifactId>lib</artifactId><version>2.1</version></dependency>
    <dependency><groupId>org.other</groupId><artifactId>other</artifactId><version>1.0</version></dependency>
  </dependencies>
</project>
"""
LIB_POM = """<project><modelVersion>4.0.0</modelVersion><groupId>org.lib</groupId><artifactId>lib</artifactId>
<version>2.1</version><organization><name>The Lib Foundation</name><url>https://lib.example.org</url></organization>
</project>"""


def test_maven_organization_of_the_project_and_from_the_local_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _write(tmp_path / "m2", {"org/lib/lib/2.1/lib-2.1.pom": LIB_POM})
    monkeypatch.setenv("MAVEN_REPOSITORY", str(repo))
    doc = generate(_write(tmp_path / "shop", {"pom.xml": POM}))
    assert doc.root is not None and doc.root.supplier.name == "Example KK"
    assert doc.root.supplier.url == "https://example.jp"
    comps = _by_name(doc)
    assert comps["lib"].supplier.name == "The Lib Foundation"
    assert comps["lib"].property(SUPPLIER_SOURCE) == "maven-repository"
    assert comps["other"].property(SUPPLIER_MISSING) == (
        "its POM is not in the local Maven repository (~/.m2/repository)"
    )


CARGO_LOCK = """version = 3

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["serde", "nobody"]

[[package]]
name = "serde"
version = "1.0.1"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "nobody"
version = "0.2.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
"""


def test_cargo_authors_from_the_registry_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mamori.sbom.generate import suppliers

    home = _write(
        tmp_path / "cargo",
        {
            "registry/src/index.crates.io-6f17d22bba15001f/serde-1.0.1/Cargo.toml": "[package]\n"
            'name = "serde"\nversion = "1.0.1"\nauthors = ["Erick Tryzelaar <erick@example.org>"]\n',
        },
    )
    monkeypatch.setenv("CARGO_HOME", str(home))
    suppliers._cargo_sources.cache_clear()
    try:
        comps = _by_name(generate(_write(tmp_path / "app", {"Cargo.lock": CARGO_LOCK})))
    finally:
        suppliers._cargo_sources.cache_clear()
    assert comps["serde"].supplier.name == "Erick Tryzelaar"
    assert comps["serde"].property(SUPPLIER_SOURCE) == "cargo-registry"
    assert comps["nobody"].property(SUPPLIER_MISSING) == (
        "Cargo.lock names no authors and the crate's source is not in ~/.cargo/registry"
    )


def test_every_reason_is_translated() -> None:
    from mamori.sbom.data import load_data

    rows = load_data("supplier_reasons.yaml")["reasons"]
    assert [r["en"] for r in rows] == list(REASONS)
    assert all(r["ja"].strip() for r in rows)


def test_url_owner() -> None:
    assert url_owner("https://github.com/pallets/jinja/") == "pallets"
    assert url_owner("https://www.sqlalchemy.org") == "sqlalchemy.org"
    assert url_owner("https://tox-dev.github.io/platformdirs") == "tox-dev"
    assert url_owner("ftp://example.org/x") is None


# ---------------------------------------------------------------- default skips


def _skips_project(root: Path) -> Path:
    return _write(
        root,
        {
            "requirements.txt": "alpha==1.0\n",
            "tests/fixtures/old/requirements.txt": "fixture-only==0.1\n",
            "pkg/testdata/requirements.txt": "testdata-only==0.1\n",
            "examples/demo/requirements.txt": "example-only==0.1\n",
            "tools/requirements.txt": "tool-only==0.1\n",
        },
    )


def test_fixtures_and_examples_are_skipped_by_default(tmp_path: Path) -> None:
    project = _skips_project(tmp_path / "p")
    doc = generate(project)
    names = {c.name for c in doc.components}
    assert names == {"alpha", "tool-only"}  # tools/ has no version: folded into the root
    skipped = [p.value for p in doc.properties if p.name == SKIPPED]
    assert skipped == [
        "examples (example projects)",
        "pkg/testdata (test fixtures)",
        "tests/fixtures (test fixtures)",
    ]
    assert any(n.startswith("not read: 3 folder(s) of test fixtures") for n in notices(doc))

    with_tests = {c.name for c in generate(project, GenerateOptions(include_tests=True)).components}
    assert {"fixture-only", "testdata-only"} <= with_tests and "example-only" not in with_tests
    everything = {c.name for c in generate(project, GenerateOptions(default_excludes=False)).components}
    assert {"fixture-only", "testdata-only", "example-only"} <= everything
    narrowed = generate(project, GenerateOptions(exclude=("tools",)))
    assert "tool-only" not in {c.name for c in narrowed.components}
    assert "tools (--exclude tools)" in [p.value for p in narrowed.properties if p.name == SKIPPED]


def test_cli_skip_options(tmp_path: Path) -> None:
    _skips_project(tmp_path / "p")
    made = _run(
        tmp_path, "sbom", "generate", "p", "--skip-dirs", "tool*", "--include-tests", "-o", "x.cdx.json"
    )
    assert made.returncode == 0, made.stderr
    names = {c["name"] for c in json.loads((tmp_path / "x.cdx.json").read_text("utf-8"))["components"]}
    assert "fixture-only" in names and "tool-only" not in names and "example-only" not in names
    made = _run(tmp_path, "sbom", "generate", "p", "--no-default-excludes", "-o", "y.cdx.json")
    assert "example-only" in {
        c["name"] for c in json.loads((tmp_path / "y.cdx.json").read_text("utf-8"))["components"]
    }


# ---------------------------------------------------------------- sub-project versions


def test_subproject_takes_the_roots_version_or_is_folded(tmp_path: Path) -> None:
    versioned = _write(
        tmp_path / "mono",
        {
            "pyproject.toml": '[project]\nname = "mono"\nversion = "1.2.3"\n',
            "backend/requirements.txt": "alpha==1.0\n",
        },
    )
    doc = generate(versioned)
    backend = _by_name(doc)["backend"]
    assert backend.version == "1.2.3" and backend.property(VERSION_SOURCE) == "root"
    assert check_document(doc).ntia.element("version").present == len(doc.components) + 1

    bare = _write(
        tmp_path / "bare", {"backend/requirements.txt": "alpha==1.0\n", "web/requirements.txt": "beta==2\n"}
    )
    doc = generate(bare)
    assert {c.name for c in doc.components} == {"alpha", "beta"}
    assert doc.root is not None and doc.root.version is None
    edges = {(r.source, r.target) for r in doc.relationships}
    assert (doc.root.bom_ref, "pkg:pypi/alpha@1.0") in edges
    assert any(n.startswith("backend: a folder of the project with no version") for n in notices(doc))


# ---------------------------------------------------------------- author


def test_author_from_option_config_or_git_only_when_asked(tmp_path: Path) -> None:
    project = _write(tmp_path / "p", {"requirements.txt": "alpha==1.0\n"})
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    subprocess.run(["git", "-C", str(project), "config", "user.name", "Git Person"], check=True)
    subprocess.run(["git", "-C", str(project), "config", "user.email", "git@example.jp"], check=True)

    def authors(*args: str, cwd: Path = tmp_path) -> list[dict[str, str]]:
        made = _run(cwd, "sbom", "generate", str(project), "-o", str(tmp_path / "a.cdx.json"), *args)
        assert made.returncode == 0, made.stderr
        return json.loads((tmp_path / "a.cdx.json").read_text("utf-8"))["metadata"].get("authors", [])

    assert authors() == []  # the git identity is not taken unasked; the tool stands as author
    checked = _run(tmp_path, "sbom", "check", str(tmp_path / "a.cdx.json"), "--format", "json")
    assert checked.returncode == 1  # alpha names no supplier; the author element is met by the tool
    assert authors("--author", "Taro Yamada <taro@example.jp>") == [
        {"name": "Taro Yamada", "email": "taro@example.jp"}
    ]
    assert authors("--author-from-git") == [{"name": "Git Person", "email": "git@example.jp"}]
    cfg = _write(
        tmp_path / "cfgdir", {"mamori.toml": '[sbom.generate]\nauthor = "Config KK <sbom@example.jp>"\n'}
    )
    assert authors(cwd=cfg) == [{"name": "Config KK", "email": "sbom@example.jp"}]
    assert authors("--author", "Option Person", cwd=cfg) == [{"name": "Option Person"}]
    user = _write(
        tmp_path / "config" / "mamori", {"mamori.toml": '[sbom.generate]\nauthor = "User Config"\n'}
    )
    assert user.is_dir() and authors() == [{"name": "User Config"}]
    bad = _write(tmp_path / "bad", {"mamori.toml": "[sbom.generate\n"})
    broken = _run(bad, "sbom", "generate", str(project), "-o", str(tmp_path / "b.cdx.json"))
    assert broken.returncode == 2 and "mamori.toml" in broken.stderr and len(broken.stderr.splitlines()) == 1


def test_configured_author_reads_cwd_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "none"))
    assert configured_author(tmp_path) is None
    _write(tmp_path, {"mamori.toml": "[sbom.generate]\nauthor = 'A <a@example.jp>'\n"})
    assert configured_author(tmp_path) == "A <a@example.jp>"


def test_demo_sbom_still_passes(tmp_path: Path) -> None:
    """The check's supplier reasons change nothing for SBOMs that name their suppliers."""
    from mamori import sbom

    report = check_document(sbom.read(demo_data() / "shop-portal-2.1.0.cdx.json"))
    assert report.passed


def test_hooks_file_is_valid_yaml() -> None:
    hooks = yaml.safe_load((Path(__file__).parent.parent / ".pre-commit-hooks.yaml").read_text("utf-8"))
    assert {h["id"] for h in hooks} == {"mamori-sbom-check", "mamori-scan"}

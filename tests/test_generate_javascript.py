"""JavaScript lockfiles → SBOM, on lockfiles written by the real npm, Yarn and pnpm (see the fixtures' README).

The single project is locked eight ways (npm lockfile v1/v2/v3, Yarn classic and berry, pnpm 7/8/9);
the monorepo (workspaces, a file: folder, a tarball URL, a git dependency) six ways. The component sets
are compared with each other and, when cdxgen is installed, with cdxgen's on the same folders.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest

from cdxgen_peer import cdxgen_or_skip, purls_without_qualifiers, run_cdxgen
from mamori.cli.main import main
from mamori.errors import InputError
from mamori.model import Component, Document
from mamori.sbom.check import check_document
from mamori.sbom.generate import GenerateOptions, generate
from mamori.sbom.generate.base import DECLARED_ONLY, PROJECT_PATH, SCOPE, VERSION_RANGE
from mamori.sbom.generate.javascript.common import ALIAS, PEER, SOURCE, YARN_CHECKSUM

FIXTURES = Path(__file__).parent / "fixtures" / "generate" / "javascript"
SINGLE = ["npm-v1", "npm-v2", "npm-v3", "yarn1", "berry", "pnpm7", "pnpm8", "pnpm9"]
MONOREPO = ["npm-ws", "yarn1-ws", "berry-ws", "pnpm7-ws", "pnpm8-ws", "pnpm9-ws"]

REACT = "pkg:npm/react@18.3.1"
MOCHA = "pkg:npm/mocha@10.8.2"
UTIL = "pkg:npm/%40mamori-fixture/util@0.1.0"
WEB = "pkg:npm/%40mamori-fixture/web@0.2.0"
LOCAL_LIB = "pkg:npm/local-lib@0.0.1"


def _purls(doc: Document) -> set[str]:
    return {(c.purl or "").split("?")[0] for c in doc.components if c.purl}


def _by_purl(doc: Document) -> dict[str, Component]:
    return {(c.purl or "").split("?")[0]: c for c in doc.components if c.purl}


def _edges(doc: Document) -> set[tuple[str, str]]:
    return {(r.source.split("?")[0], r.target.split("?")[0]) for r in doc.relationships}


def _scope(comp: Component) -> str:
    return comp.property(SCOPE) or "required"


@pytest.fixture(scope="module")
def docs() -> dict[str, Document]:
    return {name: generate(FIXTURES / name) for name in SINGLE + MONOREPO}


# ---------------------------------------------------------------- one project, eight lockfiles


def test_eight_lockfiles_of_one_project_agree(docs: dict[str, Document]) -> None:
    reference = _purls(docs["npm-v3"])
    assert len(reference) == 149
    assert _purls(docs["npm-v2"]) == reference
    assert _purls(docs["pnpm8"]) == reference
    assert _purls(docs["pnpm9"]) == reference
    # npm 11 writing lockfile v1 still installs the undeclared peer react (flagged "peer")
    assert _purls(docs["npm-v1"]) == reference
    # Yarn classic and pnpm 7 do not install peer dependencies nobody declared
    assert _purls(docs["yarn1"]) == reference - {REACT}
    assert _purls(docs["pnpm7"]) == reference - {REACT}
    # Yarn berry adds node-gyp (and its 19 dependencies) to fsevents, which has a native build
    extra = _purls(docs["berry"]) - reference
    assert _purls(docs["berry"]) - extra == reference - {REACT}
    assert len(extra) == 20 and "pkg:npm/node-gyp@13.1.0" in extra
    for name in SINGLE:
        doc = docs[name]
        assert doc.root is not None and doc.root.bom_ref == "pkg:npm/mamori-js-fixture@1.2.0", name
        assert doc.root.license_declared == "MIT"
        direct = {t for s, t in _edges(doc) if s == doc.root.bom_ref}
        assert {
            "pkg:npm/express@4.22.3",
            "pkg:npm/lodash@4.18.1",
            "pkg:npm/lodash@3.10.1",
            MOCHA,
        } <= direct, name
        assert len(direct) == 8, name  # the eight dependencies package.json declares
        scopes = {p: _scope(c) for p, c in _by_purl(doc).items()}
        assert scopes[MOCHA] == "dev" and scopes["pkg:npm/%40types/lodash@4.17.27"] == "dev", name
        assert scopes["pkg:npm/fsevents@2.3.3"] == "optional", name
        assert scopes["pkg:npm/express@4.22.3"] == "required", name
        assert scopes["pkg:npm/supports-color@8.1.1"] == "dev", name  # only mocha needs it


def test_npm_v3_details_purl_hash_licence_alias_peer(docs: dict[str, Document]) -> None:
    lock = json.loads((FIXTURES / "npm-v3" / "package-lock.json").read_text())["packages"]
    comps = _by_purl(docs["npm-v3"])
    scoped = comps["pkg:npm/%40sindresorhus/is@4.6.0"]
    assert scoped.name == "@sindresorhus/is" and scoped.license_declared == "MIT"
    integrity = lock["node_modules/@sindresorhus/is"]["integrity"]
    assert [(h.alg, h.value) for h in scoped.hashes] == [
        ("SHA-512", base64.b64decode(integrity.removeprefix("sha512-")).hex())
    ]
    assert [(r.type, r.url) for r in scoped.external_references] == [
        ("distribution", "https://registry.npmjs.org/@sindresorhus/is/-/is-4.6.0.tgz")
    ]
    old = comps["pkg:npm/lodash@3.10.1"]
    assert old.name == "lodash" and old.property(ALIAS) == "lodash-three"
    assert comps["pkg:npm/lodash@4.18.1"].property(ALIAS) is None
    assert comps[REACT].property(PEER) == "true" and _scope(comps[REACT]) == "required"
    assert comps["pkg:npm/argparse@2.0.1"].license_declared == "Python-2.0"


def test_nested_node_modules_resolve_like_node(docs: dict[str, Document]) -> None:
    for name in ("npm-v1", "npm-v2", "npm-v3"):
        edges = _edges(docs[name])
        # mocha gets its own nested debug 4; express the top-level debug 2
        assert (MOCHA, "pkg:npm/debug@4.4.3") in edges and (MOCHA, "pkg:npm/debug@2.6.9") not in edges
        assert ("pkg:npm/express@4.22.3", "pkg:npm/debug@2.6.9") in edges
        # chalk's nested supports-color 7, mocha's top-level supports-color 8
        assert ("pkg:npm/chalk@4.1.2", "pkg:npm/supports-color@7.2.0") in edges
        assert (MOCHA, "pkg:npm/supports-color@8.1.1") in edges
        assert ("pkg:npm/debug@2.6.9", "pkg:npm/ms@2.0.0") in edges
        assert ("pkg:npm/debug@4.4.3", "pkg:npm/ms@2.1.3") in edges


def test_exclude_dev_drops_dev_only_packages() -> None:
    for name in ("npm-v3", "yarn1", "pnpm9", "berry"):
        full = generate(FIXTURES / name)
        slim = generate(FIXTURES / name, GenerateOptions(exclude_dev=True))
        dropped = _purls(full) - _purls(slim)
        assert MOCHA in dropped and "pkg:npm/express@4.22.3" in _purls(slim), name
        assert all(_scope(c) == "dev" for p, c in _by_purl(full).items() if p in dropped), name
        assert not any(s in dropped or t in dropped for s, t in _edges(slim)), name


def test_yarn_and_pnpm_specifics(docs: dict[str, Document]) -> None:
    express = _by_purl(docs["yarn1"])["pkg:npm/express@4.22.3"]
    assert {h.alg for h in express.hashes} == {"SHA-1", "SHA-512"}  # resolved "#<sha1>" + integrity
    berry = _by_purl(docs["berry"])["pkg:npm/express@4.22.3"]
    assert berry.hashes == [] and (berry.property(YARN_CHECKSUM) or "").startswith("10c0/")
    assert _by_purl(docs["berry"])["pkg:npm/lodash@3.10.1"].property(ALIAS) == "lodash-three"
    for name in ("pnpm7", "pnpm8", "pnpm9"):
        comp = _by_purl(docs[name])["pkg:npm/express@4.22.3"]
        assert [h.alg for h in comp.hashes] == ["SHA-512"], name


# ---------------------------------------------------------------- the monorepo


@pytest.mark.parametrize("name", MONOREPO)
def test_workspaces_are_subprojects_with_resolved_dependencies(docs: dict[str, Document], name: str) -> None:
    doc = docs[name]
    assert doc.root is not None and doc.root.bom_ref == "pkg:npm/mamori-monorepo-fixture@0.3.0"
    comps = _by_purl(doc)
    subs = {p: c.property(PROJECT_PATH) for p, c in comps.items() if c.property(PROJECT_PATH)}
    assert subs == {UTIL: "packages/util", WEB: "packages/web", LOCAL_LIB: "local-lib"}
    edges = _edges(doc)
    root = doc.root.bom_ref
    assert {(root, UTIL), (root, WEB), (root, LOCAL_LIB), (root, "pkg:npm/typescript@5.9.3")} <= edges
    assert (root, "pkg:npm/is-number@7.0.0") in edges
    assert {
        (UTIL, "pkg:npm/debug@4.4.3"),
        (WEB, UTIL),
        (WEB, "pkg:npm/debug@2.6.9"),  # npm nests it under packages/web/node_modules
        (WEB, "pkg:npm/ms@2.1.3"),
        (LOCAL_LIB, "pkg:npm/escape-html@1.0.3"),
        ("pkg:npm/debug@2.6.9", "pkg:npm/ms@2.0.0"),
        ("pkg:npm/debug@4.4.3", "pkg:npm/ms@2.1.3"),
    } <= edges
    assert _scope(comps["pkg:npm/typescript@5.9.3"]) == "dev"
    git = [c for c in doc.components if (c.property(SOURCE) or "").startswith("git ")]
    if name in ("berry-ws", "pnpm8-ws"):
        assert git == []  # those package managers refused the git+file: dependency (README)
    else:
        assert len(git) == 1 and git[0].name == "tiny-git-dep"
        assert "vcs_url=git%2Bfile:///tmp/jsfix/gitdep%239608dca428def01ea0df42672b82d717480dca2c" in (
            git[0].purl or ""
        )


def test_lockfile_alone_lists_workspace_dependencies(tmp_path: Path) -> None:
    doc = generate(FIXTURES / "npm-ws" / "package-lock.json")
    assert {"pkg:npm/debug@2.6.9", "pkg:npm/debug@4.4.3", "pkg:npm/escape-html@1.0.3"} <= _purls(doc)
    assert UTIL not in _purls(doc)  # workspaces are sub-projects only when their folders are read


def test_folder_dependency_outside_the_tree_is_a_path_component(tmp_path: Path) -> None:
    # the real npm-ws lockfile, with its file: folder moved out of the folder mamori reads
    shutil.copytree(FIXTURES / "npm-ws", tmp_path / "repo")
    shutil.rmtree(tmp_path / "repo" / "local-lib")
    doc = generate(tmp_path / "repo")
    path_comp = next(c for c in doc.components if c.bom_ref == "npm-path:local-lib@0.0.1")
    assert path_comp.purl is None and path_comp.property(SOURCE) == "path local-lib"
    assert ("npm-path:local-lib@0.0.1", "pkg:npm/escape-html@1.0.3") in _edges(doc)


# ---------------------------------------------------------------- package.json alone


def test_package_json_alone_is_declared_only() -> None:
    doc = generate(FIXTURES / "manifest-only")
    assert doc.lifecycles == ["pre-build"]
    comps = {(c.name, c.version): c for c in doc.components}
    assert all(c.property(DECLARED_ONLY) == "true" for c in doc.components)
    assert comps[("express", None)].property(VERSION_RANGE) == "^4.19.2"
    alias = comps[("lodash", "3.10.1")]  # npm:lodash@3.10.1 pins one version
    assert alias.purl == "pkg:npm/lodash@3.10.1" and alias.property(ALIAS) == "lodash-three"
    assert _scope(comps[("mocha", None)]) == "dev" and _scope(comps[("fsevents", None)]) == "optional"
    assert comps[("@sindresorhus/is", None)].purl == "pkg:npm/%40sindresorhus/is"


# ---------------------------------------------------------------- output and NTIA


def test_cli_output_and_ntia_elements(tmp_path: Path) -> None:
    out = tmp_path / "bom.json"
    assert main(["sbom", "generate", str(FIXTURES / "npm-v3"), "-o", str(out)]) == 0
    bom = json.loads(out.read_text())
    assert bom["metadata"]["component"]["purl"] == "pkg:npm/mamori-js-fixture@1.2.0"
    assert len(bom["components"]) == 149
    mocha = next(c for c in bom["components"] if c["purl"] == MOCHA)
    assert mocha["scope"] == "excluded"
    report = check_document(generate(FIXTURES / "npm-v3"), "ntia")
    verdict = {e.id: e.passed for e in report.ntia.elements}
    assert verdict["name"] and verdict["version"] and verdict["identifier"] and verdict["dependency"]
    assert verdict["author"] and verdict["timestamp"] and verdict["license"]
    assert not verdict["supplier"]  # a lockfile names no supplier for the packages


# ---------------------------------------------------------------- malformed input


def _broken(tmp_path: Path, source: str, line: int, replacement: str) -> Path:
    src = FIXTURES / source
    lines = src.read_text().splitlines(keepends=True)
    lines[line - 1] = replacement + "\n"
    target = tmp_path / src.parent.name / src.name
    target.parent.mkdir(parents=True)
    target.write_text("".join(lines))
    return target


@pytest.mark.parametrize(
    ("source", "line", "replacement", "problem"),
    [
        ("npm-v3/package-lock.json", 30, '      "version" "4.6.0",', "not valid JSON"),
        ("npm-v1/package-lock.json", 9, "      {{", "not valid JSON"),
        ("pnpm9/pnpm-lock.yaml", 41, "    resolution: {integrity: [unclosed", "not valid YAML"),
        ("pnpm7/pnpm-lock.yaml", 30, "   bad indent: [", "not valid YAML"),
        ("berry/yarn.lock", 20, "\tchecksum: 10c0/00", "not valid YAML"),
        ("yarn1/yarn.lock", 12, "  resolved", "expected 'key value'"),
        ("yarn1/yarn.lock", 15, "accepts@~1.3.8", "expected 'name@range:'"),
        ("manifest-only/package.json", 5, '  "private": tru,', "not valid JSON"),
    ],
)
def test_malformed_file_names_file_and_line(
    tmp_path: Path, source: str, line: int, replacement: str, problem: str
) -> None:
    target = _broken(tmp_path, source, line, replacement)
    with pytest.raises(InputError) as caught:
        generate(target)
    message = str(caught.value)
    assert message.startswith(str(target)) and problem in message
    reported = int(message.split(": line ")[1].split(":")[0])
    # YAML reports where the parser stopped, and the line the broken construct starts on
    assert reported in (line, line + 1) or f"starts on line {line})" in message, message


def test_wrong_shapes_are_input_errors(tmp_path: Path) -> None:
    data = json.loads((FIXTURES / "npm-v3" / "package-lock.json").read_text())
    data["packages"]["node_modules/express"] = 7
    target = tmp_path / "package-lock.json"
    target.write_text(json.dumps(data, indent=2))
    line = target.read_text().splitlines().index('    "node_modules/express": 7,') + 1
    with pytest.raises(
        InputError, match=rf"line {line}: packages entry 'node_modules/express' is not an object"
    ):
        generate(target)
    data = {"lockfileVersion": "9.0", "packages": ["not", "a", "mapping"]}
    target = tmp_path / "pnpm-lock.yaml"
    target.write_text(json.dumps(data))  # JSON is YAML
    with pytest.raises(InputError, match="packages: entries must be mappings"):
        generate(target)


@pytest.mark.parametrize(
    "source",
    [
        "npm-v3/package-lock.json",
        "npm-v1/package-lock.json",
        "yarn1/yarn.lock",
        "berry/yarn.lock",
        "pnpm7/pnpm-lock.yaml",
        "pnpm9/pnpm-lock.yaml",
        "pnpm9-ws/pnpm-lock.yaml",
    ],
)
def test_truncated_lockfiles_never_crash(tmp_path: Path, source: str) -> None:
    text = (FIXTURES / source).read_text()
    for index, fraction in enumerate((0.03, 0.11, 0.29, 0.47, 0.61, 0.83, 0.97)):
        target = tmp_path / str(index) / Path(source).name
        target.parent.mkdir()
        target.write_text(text[: int(len(text) * fraction)])
        try:
            generate(target)
        except InputError as exc:
            assert str(exc).startswith(str(target))


# ---------------------------------------------------------------- cdxgen on the same inputs

# Differences found on these fixtures with cdxgen 12.8.4 (purls without qualifiers):
EXPECTED_DIFFERENCES: dict[str, tuple[set[str], set[str], str]] = {
    "npm-v1": (
        {REACT},
        set(),
        "cdxgen walks a v1 lockfile from `requires`; react is installed only as react-dom's peer, "
        "which v1 `requires` does not list. npm put it in the lockfile (peer: true), so mamori lists it.",
    ),
    "pnpm7-ws": (
        {UTIL, WEB, LOCAL_LIB, "pkg:npm/tiny-git-dep"},
        set(),
        "cdxgen lists no pnpm importers (workspaces) nor the file: folder package; pnpm 7 keys the git "
        "package by path without its name, which mamori takes from the importer that depends on it.",
    ),
    "pnpm8-ws": ({UTIL, WEB, LOCAL_LIB}, set(), "cdxgen lists no pnpm importers nor the file: folder."),
    "pnpm9-ws": (
        {UTIL, WEB, LOCAL_LIB, "pkg:npm/tiny-git-dep@1.0.0"},
        {"pkg:npm/local-lib"},
        "cdxgen lists no pnpm importers, names the file: folder without the version its package.json "
        "gives, and drops the git package (pnpm 9 keeps its version).",
    ),
    "manifest-only": (
        {
            "pkg:npm/%40sindresorhus/is",
            "pkg:npm/%40types/lodash",
            "pkg:npm/express",
            "pkg:npm/fsevents",
            "pkg:npm/lodash",
            "pkg:npm/lodash@3.10.1",
            "pkg:npm/mocha",
            "pkg:npm/react-dom",
        },
        set(),
        "without a lockfile and without installing, cdxgen lists nothing; mamori lists the declared "
        "dependencies, marked declared-only.",
    ),
}


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()))
def test_component_set_matches_cdxgen(tmp_path: Path, name: str) -> None:
    binary = cdxgen_or_skip()
    folder = tmp_path / name
    shutil.copytree(FIXTURES / name, folder)
    theirs = purls_without_qualifiers(run_cdxgen(binary, folder, tmp_path / "cdxgen.json"))
    ours = _purls(generate(FIXTURES / name))
    only_ours, only_theirs, _why = EXPECTED_DIFFERENCES.get(name, (set(), set(), "equal"))
    assert (ours - theirs, theirs - ours) == (only_ours, only_theirs)


# ---------------------------------------------------------------- sources and notices


def test_registry_and_source_qualifiers() -> None:
    from mamori.sbom.generate.javascript.common import package

    mirror = package("@acme/ui", "1.0.0", resolved="https://npm.example.jp/repo/@acme/ui/-/ui-1.0.0.tgz")
    assert mirror.purl == "pkg:npm/%40acme/ui@1.0.0?repository_url=https://npm.example.jp/repo"
    tarball = package("x", "2.0.0", resolved="https://downloads.example.jp/x-latest.tgz")
    assert tarball.purl == "pkg:npm/x@2.0.0?download_url=https://downloads.example.jp/x-latest.tgz"
    assert tarball.property(SOURCE) == "url https://downloads.example.jp/x-latest.tgz"
    default = package("lodash", "4.18.1", resolved="https://registry.yarnpkg.com/lodash/-/lodash-4.18.1.tgz")
    assert default.purl == "pkg:npm/lodash@4.18.1"


def test_monorepo_without_lockfile_is_declared_with_notices(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "npm-ws", tmp_path / "repo")
    (tmp_path / "repo" / "package-lock.json").unlink()
    doc = generate(tmp_path / "repo")
    assert doc.lifecycles == ["pre-build"]
    notes = [p.value for p in doc.properties if p.name == "mamori:notice"]
    assert any("tiny-git-dep" in n and "git+file:" in n for n in notes)
    assert any("local-lib" in n and "file:./local-lib" in n for n in notes)
    debug = next(c for c in doc.components if c.name == "debug")  # one purl without a version
    assert debug.purl == "pkg:npm/debug" and debug.property(DECLARED_ONLY) == "true"
    assert {p.value for p in debug.properties if p.name == VERSION_RANGE} == {"^2.6.9", "^4.3.4"}
    edges = _edges(doc)
    assert {(WEB, UTIL), (WEB, "pkg:npm/debug"), (UTIL, "pkg:npm/debug")} <= edges  # util: the workspace
    assert "pkg:npm/%40mamori-fixture/util" not in _purls(doc)


def test_newer_lockfile_version_is_read_with_a_notice(tmp_path: Path) -> None:
    data = json.loads((FIXTURES / "npm-v3" / "package-lock.json").read_text())
    data["lockfileVersion"] = 4
    (tmp_path / "package-lock.json").write_text(json.dumps(data))
    doc = generate(tmp_path)
    assert len(doc.components) == 149
    assert any("lockfileVersion 4" in p.value for p in doc.properties if p.name == "mamori:notice")


def test_package_json_author_is_the_project_supplier(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "npm-v3", tmp_path / "app")
    manifest = json.loads((tmp_path / "app" / "package.json").read_text())
    manifest["author"] = "Example KK <oss@example.jp> (https://example.jp)"
    (tmp_path / "app" / "package.json").write_text(json.dumps(manifest))
    doc = generate(tmp_path / "app")
    assert doc.root is not None and doc.root.supplier is not None
    assert (doc.root.supplier.name, doc.root.supplier.email) == ("Example KK", "oss@example.jp")

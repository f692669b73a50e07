"""`mamori sbom generate` for Python, on lockfiles and an environment written by the real tools.

The fixtures (tests/fixtures/generate/python, README there) come from uv, pdm, poetry, pipenv,
pip-compile and pip on real PyPI packages. The peer is cyclonedx-py (PyPI cyclonedx-bom), run on
the same inputs; component sets (PEP 503 name, version) must be equal, and every difference that
comes from a different reading of the same file is listed below with its reason.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mamori.cli.main import main
from mamori.errors import InputError
from mamori.model import Document
from mamori.sbom.check import check_document
from mamori.sbom.generate import GenerateOptions, generate, notices
from mamori.sbom.generate.base import DECLARED_ONLY, EVIDENCE_FILE, SCOPE, SOURCE_FILE, VERSION_RANGE
from mamori.sbom.generate.python.common import canonical
from mamori.sbom.generate.python.environment import HASH_OF, LICENSE_CLASSIFIER, record_digest, scan

FIXTURES = Path(__file__).parent / "fixtures" / "generate" / "python"
RUNTIME = {
    ("blinker", "1.9.0"), ("certifi", "2026.10.18"), ("charset-normalizer", "3.5.2"), ("click", "8.5.1"),
    ("flask", "3.1.3"), ("idna", "3.20"), ("itsdangerous", "2.2.0"), ("jinja2", "3.1.6"), ("markupsafe", "3.0.4"),
    ("requests", "2.34.2"), ("urllib3", "2.8.0"), ("werkzeug", "3.1.9"),
}  # fmt: skip
PYTEST_DEPS = {("iniconfig", "2.3.1"), ("packaging", "26.3"), ("pluggy", "1.7.0"), ("pygments", "2.21.0")}
OPTIONS = GenerateOptions(version="1.0.0")


def names(doc: Document, *, scope: str | None = None) -> set[tuple[str, str | None]]:
    """(PEP 503 name, version) of the library components, optionally only those of one mamori:scope."""
    return {
        (canonical(c.name), c.version)
        for c in doc.components
        if c.type == "library" and (scope is None or (c.property(SCOPE) or "required") == scope)
    }


def direct(doc: Document) -> set[str]:
    assert doc.root is not None
    return {r.target for r in doc.relationships if r.source == doc.root.bom_ref}


# ---------------------------------------------------------------- each lockfile


def test_uv_lock() -> None:
    doc = generate(FIXTURES / "uv", OPTIONS)
    assert doc.root is not None and (doc.root.name, doc.root.version) == ("shop-api", "1.0.0")
    assert names(doc, scope="required") == RUNTIME
    assert names(doc, scope="optional") == {("tomli-w", "1.2.0")}
    assert names(doc, scope="dev") == PYTEST_DEPS | {("pytest", "9.2.0"), ("colorama", "0.4.6")}
    assert direct(doc) == {
        "pkg:pypi/flask@3.1.3", "pkg:pypi/requests@2.34.2", "pkg:pypi/tomli-w@1.2.0", "pkg:pypi/pytest@9.2.0",
    }  # fmt: skip
    edges = {(r.source, r.target) for r in doc.relationships}
    assert ("pkg:pypi/jinja2@3.1.6", "pkg:pypi/markupsafe@3.0.4") in edges
    assert ("pkg:pypi/pytest@9.2.0", "pkg:pypi/colorama@0.4.6") in edges
    flask = doc.by_ref()["pkg:pypi/flask@3.1.3"]
    assert {h.value for h in flask.hashes} == {
        "f4bcbefc124291925f1a26446da31a5178f9483862233b23c0c96a20701f670c",
        "0ef0e52b8a9cd932855379197dd8f94047b359ca0a78695144304cb45f87c9eb",
    }
    assert flask.property(EVIDENCE_FILE) == "uv.lock"
    assert {p.value for p in doc.properties if p.name == SOURCE_FILE} == {"uv.lock"}
    assert doc.lifecycles == ["build"]


def test_poetry_lock_groups_and_pyproject() -> None:
    doc = generate(FIXTURES / "poetry", OPTIONS)
    assert doc.root is not None and doc.root.name == "shop-web"
    assert names(doc, scope="required") == RUNTIME
    assert names(doc, scope="optional") == {("tomli-w", "1.2.0")}
    assert names(doc, scope="dev") == PYTEST_DEPS | {("pytest", "8.4.2"), ("colorama", "0.4.6")}
    assert "pkg:pypi/pytest@8.4.2" in direct(doc) and "pkg:pypi/iniconfig@2.3.1" not in direct(doc)
    charset = doc.by_ref()["pkg:pypi/charset-normalizer@3.5.2"]
    lock = (FIXTURES / "poetry" / "poetry.lock").read_text()
    block = lock.split('name = "charset-normalizer"')[1].split("[[package]]")[0]
    assert len(charset.hashes) == block.count('hash = "sha256:') > 50
    slim = generate(FIXTURES / "poetry", GenerateOptions(version="1.0.0", exclude_dev=True))
    assert names(slim) == RUNTIME | {("tomli-w", "1.2.0")}


def test_pdm_lock() -> None:
    doc = generate(FIXTURES / "pdm", OPTIONS)
    assert names(doc, scope="required") == RUNTIME
    assert names(doc, scope="dev") == PYTEST_DEPS | {("pytest", "9.2.0"), ("colorama", "0.4.6")}
    assert direct(doc) == {"pkg:pypi/flask@3.1.3", "pkg:pypi/requests@2.34.2", "pkg:pypi/pytest@9.2.0"}


def test_pipfile_lock_default_and_develop() -> None:
    doc = generate(FIXTURES / "pipenv", OPTIONS)
    assert names(doc, scope="required") == RUNTIME
    assert names(doc, scope="dev") == PYTEST_DEPS | {("pytest", "9.2.0")}
    # the lock has no edges, so every locked package hangs from the project
    assert len(direct(doc)) == len(doc.components) == 17
    superseded = [p.value for p in doc.properties if p.name == "mamori:superseded"]
    assert superseded == ["Pipfile (read Pipfile.lock instead)"]


def test_pip_compile_via_annotations_give_edges() -> None:
    doc = generate(FIXTURES / "pip-compile", OPTIONS)
    assert names(doc, scope="required") == RUNTIME
    assert names(doc, scope="dev") == PYTEST_DEPS | {("pytest", "9.2.0")}
    assert direct(doc) == {"pkg:pypi/flask@3.1.3", "pkg:pypi/requests@2.34.2", "pkg:pypi/pytest@9.2.0"}
    edges = {(r.source, r.target) for r in doc.relationships}
    for parent in ("flask@3.1.3", "jinja2@3.1.6", "werkzeug@3.1.9"):  # "# via" as an indented list
        assert (f"pkg:pypi/{parent}", "pkg:pypi/markupsafe@3.0.4") in edges
    assert doc.by_ref()["pkg:pypi/flask@3.1.3"].hashes[0].alg == "SHA-256"
    # requirements.in is pip-compile's input: a manifest, superseded by the compiled file beside it
    assert "requirements.in (read requirements.txt instead)" in {p.value for p in doc.properties}


def test_uv_pip_compile_keeps_markers() -> None:
    doc = generate(FIXTURES / "uv-pip-compile", OPTIONS)
    colorama = doc.by_ref()["pkg:pypi/colorama@0.4.6"]
    assert colorama.property("mamori:python:marker") == 'sys_platform == "win32"'
    assert colorama.property(SCOPE) == "dev"


def test_pyproject_declared_only() -> None:
    doc = generate(FIXTURES / "declared" / "pep621", OPTIONS)
    assert doc.lifecycles == ["pre-build"]
    assert doc.root is not None and doc.root.name == "Shop_Batch"
    by_name = {c.name: c for c in doc.components}
    assert all(c.property(DECLARED_ONLY) == "true" for c in doc.components)
    assert by_name["Flask"].version == "3.1.3" and by_name["requests"].version is None
    assert by_name["requests"].property(VERSION_RANGE) == "<3,>=2.31"
    assert by_name["requests"].purl == "pkg:pypi/requests"
    assert by_name["PyYAML"].property(SCOPE) == "optional"
    # dev includes the groups test and lint
    assert {n for n, c in by_name.items() if c.property(SCOPE) == "dev"} == {"pytest", "ruff", "mypy"}
    assert by_name["tomli"].property("mamori:python:marker") == 'python_version < "3.11"'


def test_requirements_includes_urls_editables_and_notices() -> None:
    doc = generate(FIXTURES / "declared" / "reqs", OPTIONS)
    by_name = {c.name: c for c in doc.components}
    assert by_name["attrs"].version == "24.2.0"  # from the wheel's file name
    assert by_name["attrs"].purl is not None and "download_url=" in by_name["attrs"].purl
    assert by_name["requests"].property(DECLARED_ONLY) == "true"
    assert by_name["flask"].property(DECLARED_ONLY) is None  # pinned with ==
    assert by_name["pytest"].property(SCOPE) == "dev"  # dev.txt
    assert by_name["flask"].property(SCOPE) is None  # from base.txt, also included by dev.txt
    text = "\n".join(notices(doc))
    assert "requirements/base.txt: line 7: editable install ./libs/shop-core" in text
    assert "requirements/dev.txt: base.txt line 7: editable install" in text
    assert "setup.py: not read" in text


def test_monorepo_of_all_fixtures() -> None:
    doc = generate(FIXTURES, OPTIONS)
    assert doc.root is not None and doc.root.name == "python"
    projects = sorted(
        c.property("mamori:project-path") or "" for c in doc.components if c.type == "application"
    )
    assert projects == [
        "declared/pep621",
        "declared/reqs",
        "pdm",
        "pip-compile",
        "pipenv",
        "poetry",
        "uv",
        "uv-pip-compile",
    ]  # fmt: skip  (site-packages is not walked)
    flask = doc.by_ref()["pkg:pypi/flask@3.1.3"]
    evidence = {p.value for p in flask.properties if p.name == EVIDENCE_FILE}
    assert {
        "uv/uv.lock",
        "poetry/poetry.lock",
        "pipenv/Pipfile.lock",
        "pip-compile/requirements.txt",
    } <= evidence
    assert flask.property(DECLARED_ONLY) is None  # declared in declared/pep621, resolved by the locks


# ---------------------------------------------------------------- installed environment


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real virtual environment holding the fixture's dist-info folders (what pip installed)."""
    root = tmp_path_factory.mktemp("env") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    site = next(root.glob("lib/python*/site-packages"))
    for info in (FIXTURES / "site-packages").iterdir():
        shutil.copytree(info, site / info.name)
    return root


def test_environment_metadata(venv: Path) -> None:
    found = scan(venv)
    by_name = {canonical(c.name): c for c in found.components}
    assert len(by_name) == 18
    assert by_name["packaging"].license_declared == "Apache-2.0 OR BSD-2-Clause"  # License-Expression
    assert by_name["requests"].license_declared == "Apache-2.0"  # License field; classifier is ambiguous
    assert (
        by_name["requests"].property(LICENSE_CLASSIFIER)
        == "License :: OSI Approved :: Apache Software License"
    )
    assert by_name["jinja2"].license_declared is None  # only "BSD License": which BSD is not said
    assert (
        by_name["flask"].supplier is not None and by_name["flask"].supplier.name == "Pallets"
    )  # Maintainer-email
    assert by_name["flask"].supplier.email == "contact@palletsprojects.com"
    assert by_name["requests"].author == "Kenneth Reitz"
    assert by_name["flask"].property(HASH_OF) == "installed-record"
    assert {(r.type, r.url) for r in by_name["flask"].external_references} >= {
        ("vcs", "https://github.com/pallets/flask/"), ("documentation", "https://flask.palletsprojects.com/"),
    }  # fmt: skip
    refs = {c.bom_ref: canonical(c.name) for c in found.components}
    edges = {(refs[r.source], refs[r.target]) for r in found.edges}
    assert ("flask", "werkzeug") in edges and ("requests", "urllib3") in edges
    assert ("idna", "pytest") not in edges  # Requires-Dist "pytest; extra == 'all'" is not an installed need
    assert {refs[r] for r in found.direct} == {"flask", "pytest", "requests", "tomli-w"}  # REQUESTED


def test_record_digest_ignores_installer_and_location() -> None:
    record = (FIXTURES / "site-packages" / "flask-3.1.3.dist-info" / "RECORD").read_text()
    assert "../../../bin/flask" in record and "INSTALLER" in record
    moved = record.replace("../../../bin/flask,sha256=", "../../bin/flask,sha256=X").replace(
        "flask-3.1.3.dist-info/INSTALLER,sha256=", "flask-3.1.3.dist-info/INSTALLER,sha256=uv"
    )
    assert record_digest(record) == record_digest(moved) is not None
    assert record_digest(record) != record_digest(
        record.replace("flask/app.py,sha256=", "flask/app.py,sha256=0")
    )


def test_ntia_passes_when_the_inputs_carry_the_data(venv: Path) -> None:
    """Lockfile + installed environment: versions and hashes from the lock, suppliers and licences from
    the metadata. A lockfile alone carries no supplier, and check says so."""
    options = GenerateOptions(version="1.0.0", supplier="Example KK <psirt@example.jp>", python_env=venv)
    doc = generate(FIXTURES / "pip-compile", options)
    report = check_document(doc, "ntia")
    assert report.passed, json.dumps(report.to_json(), ensure_ascii=False)[:2000]
    alone = check_document(generate(FIXTURES / "pip-compile", GenerateOptions(version="1.0.0")), "ntia")
    assert not alone.passed
    elements = alone.to_json()["ntia"]["elements"]
    assert {name for name, e in elements.items() if e["required"] and not e["pass"]} == {"supplier"}


def test_declared_dependencies_resolved_by_the_environment(venv: Path) -> None:
    doc = generate(FIXTURES / "declared" / "pep621", GenerateOptions(version="1", python_env=venv))
    assert doc.lifecycles == ["build"]
    by_ref = doc.by_ref()
    assert "pkg:pypi/requests" not in by_ref  # ">=2.31" is met by the one installed version
    requests = by_ref["pkg:pypi/requests@2.34.2"]
    assert requests.property(DECLARED_ONLY) is None
    assert {p.value for p in requests.properties if p.name == EVIDENCE_FILE} == {"pyproject.toml", str(venv)}
    assert "pkg:pypi/requests@2.34.2" in direct(doc)
    assert by_ref["pkg:pypi/pyyaml"].property(DECLARED_ONLY) == "true"  # not installed: stays declared


# ---------------------------------------------------------------- malformed input: file and line


@pytest.mark.parametrize(
    ("folder", "name", "line", "replacement", "message"),
    [
        ("poetry", "poetry.lock", 12, 'files = [ {file = "x"', r"poetry\.lock: line 1[23]: not valid TOML"),
        ("uv", "uv.lock", 20, "version = = 1", r"uv\.lock: line 20: not valid TOML"),
        ("pdm", "pdm.lock", 15, "[[package]", r"pdm\.lock: line 15: not valid TOML"),
        # a table where a PEP 508 string belongs (found by tests/test_fuzz_readers.py)
        ("pdm", "pdm.lock", 449, '    {file = "x"},', r"pdm\.lock: line \d+: a requirement is not a string: \{'file': 'x'\}"),
        ("pipenv", "Pipfile.lock", 30, '            "version": ==1.9.0"', r"Pipfile\.lock: line 30: not valid JSON"),
        ("pip-compile", "requirements.txt", 7, "blinker=>1.9.0", r"requirements\.txt: line 7: not a valid requirement"),
    ],
)  # fmt: skip
def test_malformed_lockfile_names_file_and_line(
    tmp_path: Path,
    folder: str,
    name: str,
    line: int,
    replacement: str,
    message: str,
    capsys: pytest.CaptureFixture,
) -> None:
    target = tmp_path / folder
    shutil.copytree(FIXTURES / folder, target)
    lines = (target / name).read_text().splitlines()
    lines[line - 1] = replacement
    (target / name).write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=message):
        generate(target, OPTIONS)
    assert main(["sbom", "generate", str(target)]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err) and err.startswith("mamori: error: ") and err.count("\n") == 1


# ---------------------------------------------------------------- command line


def test_cli_cyclonedx_output(tmp_path: Path) -> None:
    out = tmp_path / "web.cdx.json"
    code = main(["sbom", "generate", str(FIXTURES / "poetry"), "-o", str(out), "--exclude-dev", "--name", "Shop Web",
                 "--version", "0.9.1", "--supplier", "Example KK <psirt@example.jp>"])  # fmt: skip
    assert code == 0
    bom = json.loads(out.read_text())
    meta = bom["metadata"]
    assert meta["component"]["name"] == "Shop Web" and meta["component"]["version"] == "0.9.1"
    assert meta["component"]["supplier"]["name"] == "Example KK"
    assert meta["authors"] == [{"name": "Example KK", "email": "psirt@example.jp"}]
    assert meta["lifecycles"] == [{"phase": "build"}]
    assert {(c["name"], c["version"]) for c in bom["components"]} == RUNTIME | {("tomli-w", "1.2.0")}
    tomli = next(c for c in bom["components"] if c["name"] == "tomli-w")
    assert tomli["scope"] == "optional"
    assert {"name": EVIDENCE_FILE, "value": "poetry.lock"} in tomli["properties"]
    assert bom["serialNumber"].startswith("urn:uuid:")


# ---------------------------------------------------------------- the peer: cyclonedx-py on the same inputs


def cyclonedx_py(*args: str) -> set[tuple[str, str | None]]:
    pytest.importorskip("cyclonedx_py", reason="cyclonedx-bom (test extra) is not installed")
    exe = Path(sys.executable).parent / "cyclonedx-py"
    result = subprocess.run(
        [str(exe), *args, "--no-validate", "-o", "-"], capture_output=True, text=True, check=True, timeout=120
    )
    return {(canonical(c["name"]), c.get("version")) for c in json.loads(result.stdout).get("components", [])}


def test_peer_requirements() -> None:
    for name in ("requirements.txt", "requirements-dev.txt"):
        path = FIXTURES / "pip-compile" / name
        assert names(generate(path, OPTIONS)) == cyclonedx_py("requirements", str(path))


def test_peer_poetry() -> None:
    """Equal when cyclonedx-py is asked for the extras: mamori lists locked extras as optional
    components, cyclonedx-py leaves them out unless --all-extras is given."""
    folder = str(FIXTURES / "poetry")
    doc = generate(FIXTURES / "poetry", OPTIONS)
    assert names(doc) == cyclonedx_py("poetry", "--all-extras", folder)
    assert names(doc) - cyclonedx_py("poetry", folder) == {("tomli-w", "1.2.0")}
    slim = generate(FIXTURES / "poetry", GenerateOptions(version="1", exclude_dev=True))
    assert names(slim) == cyclonedx_py("poetry", "--all-extras", "--without", "dev", folder)


def test_peer_pipenv() -> None:
    folder = str(FIXTURES / "pipenv")
    assert names(generate(FIXTURES / "pipenv", OPTIONS)) == cyclonedx_py("pipenv", "--dev", folder)
    slim = generate(FIXTURES / "pipenv", GenerateOptions(version="1", exclude_dev=True))
    assert names(slim) == cyclonedx_py("pipenv", folder)


@pytest.mark.parametrize(
    ("folder", "lock", "export"), [("uv", "uv.lock", "uv-export.txt"), ("pdm", "pdm.lock", "pdm-export.txt")]
)
def test_peer_uv_and_pdm_via_their_own_export(folder: str, lock: str, export: str) -> None:
    """cyclonedx-py reads neither uv.lock nor pdm.lock; uv and pdm wrote the same lock as requirements."""
    mine = names(generate(FIXTURES / folder / lock, OPTIONS))
    assert mine == cyclonedx_py("requirements", str(FIXTURES / folder / export))


def test_peer_environment(venv: Path) -> None:
    doc = generate(FIXTURES / "pip-compile", GenerateOptions(version="1", python_env=venv))
    installed = {
        (canonical(c.name), c.version) for c in doc.components if c.property("mamori:python:dist-info")
    }
    assert installed == cyclonedx_py("environment", str(venv))
    assert len(installed) == 18

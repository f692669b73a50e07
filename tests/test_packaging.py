"""Packaging a team can adopt: the wheel on every CPython >= 3.11 here, the pre-commit hooks, the Action.

The wheel test and the pre-commit test install packages from the package index (marked ``packaging``;
they skip when it cannot be reached). The Action's script is run directly with its inputs in the
environment, against the installed mamori.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mamori.cli.hooks import run as run_hooks
from mamori.demo import demo_data

REPO = Path(__file__).resolve().parent.parent
MAMORI = Path(sys.executable).with_name("mamori")


def _index_reachable(tmp: Path) -> bool:
    probe = subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--dest", str(tmp), "packageurl-python"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    return probe.returncode == 0


@pytest.fixture(scope="module")
def online(tmp_path_factory: pytest.TempPathFactory) -> None:
    if not _index_reachable(tmp_path_factory.mktemp("probe")):
        pytest.skip("the package index cannot be reached: installing the wheel is impossible offline")


def _env(tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "XDG_DATA_HOME": str(tmp / "data"),
        "XDG_CONFIG_HOME": str(tmp / "config"),
        "MAMORI_DB": str(tmp / "kb.db"),
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }


@pytest.mark.packaging
@pytest.mark.runs_first
def test_wheel_installs_and_runs_the_demo_on_every_python(tmp_path: Path, online: None) -> None:
    """`.ci/pythons.py`: wheel built once, then per CPython >= 3.11 found: venv, install, --version, demo
    (the suite tries the running Python; ``MAMORI_TEST_PYTHONS=3.11,3.13`` names others, ``all`` every one
    found, ``none`` only builds the wheel and checks what it holds: .ci/run sets it, because it runs
    .ci/pythons.py over every CPython on the machine, the running one too, after the suite)."""
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if built.returncode != 0:
        pytest.skip(f"the wheel cannot be built here: {built.stderr.strip()[-300:]}")
    wheel = next(dist.glob("mamori-*.whl"))
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert "mamori/locale/ja/LC_MESSAGES/mamori.mo" in names
    assert any(n.startswith("mamori/data/demo/") for n in names)
    assert "mamori/data/sbom/supplier_reasons.yaml" in names
    wanted = (
        os.environ.get("MAMORI_TEST_PYTHONS", "").strip() or f"{sys.version_info[0]}.{sys.version_info[1]}"
    )
    if wanted == "none":
        return
    only = [] if wanted == "all" else [f"--only={v.strip()}" for v in wanted.split(",") if v.strip()]
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / ".ci" / "pythons.py"),
            "--wheel",
            str(wheel),
            "--work",
            str(tmp_path / "w"),
            *only,
        ],
        capture_output=True,
        text=True,
        timeout=3000,
        check=False,
        env=_env(tmp_path),
    )
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0, done.stdout + done.stderr
    summary = re.fullmatch(r"(\d+) passed, (\d+) failed", lines[-1])
    assert summary is not None and int(summary[1]) >= 1 and summary[2] == "0"
    current = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert only != [f"--only={current}"] or any(
        line.startswith(f"PASS CPython {current}.") for line in lines
    ), lines


def _git_project(root: Path, files: dict[str, bytes]) -> Path:
    root.mkdir(parents=True)
    for name, data in files.items():
        (root / name).write_bytes(data)
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.jp"]
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run([*git[:3], "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "sample"], check=True)
    return root


@pytest.mark.packaging
@pytest.mark.runs_first
def test_pre_commit_try_repo_checks_sbom_files(tmp_path: Path, online: None) -> None:
    if not (REPO / ".git").exists():
        pytest.skip("the repository is not a git checkout: pre-commit try-repo needs one")
    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or shutil.which(
        "pre-commit"
    )
    if pre_commit is None:
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    good = (demo_data() / "shop-portal-2.1.0.cdx.json").read_bytes()
    bad = json.dumps(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "version": 1,
            "metadata": {
                "timestamp": "2026-01-01T00:00:00Z",
                "component": {"name": "app", "type": "application"},
            },
            "components": [
                {"type": "library", "name": "left", "purl": "pkg:npm/left@1.0.0", "version": "1.0.0"}
            ],
        }
    ).encode()
    project = _git_project(tmp_path / "proj", {"good.cdx.json": good, "bad.cdx.json": bad})
    env = {**_env(tmp_path), "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    env.pop("VIRTUAL_ENV", None)

    def try_repo(*files: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [pre_commit, "try-repo", str(REPO), "mamori-sbom-check", "--verbose", "--files", *files],
            capture_output=True,
            text=True,
            cwd=project,
            env=env,
            timeout=1800,
            check=False,
        )

    failed = try_repo("good.cdx.json", "bad.cdx.json")
    out = failed.stdout + failed.stderr
    assert failed.returncode == 1, out
    assert "PASS" in out and "FAIL: required elements are missing" in out and "no supplier name" in out
    passed = try_repo("good.cdx.json")  # the hook environment is reused
    assert passed.returncode == 0, passed.stdout + passed.stderr


def test_hooks_file_names_the_runner_and_sbom_files() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text("utf-8"))}
    assert set(hooks) == {"mamori-sbom-check", "mamori-scan"}
    assert all(h["language"] == "python" for h in hooks.values())
    sbom_files = re.compile(hooks["mamori-sbom-check"]["files"])
    assert sbom_files.search("release/app.cdx.json") and sbom_files.search("sbom.json")
    assert not sbom_files.search("package.json")
    locks = re.compile(hooks["mamori-scan"]["files"])
    assert (
        locks.search("web/package-lock.json")
        and locks.search("poetry.lock")
        and locks.search("requirements-dev.txt")
    )
    assert not locks.search("README.md")


def test_hook_runner_runs_each_file_and_keeps_the_worst_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAMORI_DB", str(tmp_path / "kb.db"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    good = demo_data() / "shop-portal-2.1.0.cdx.json"
    assert run_hooks(["sbom-check", str(good)]) == 0
    (tmp_path / "junk.cdx.json").write_text("{", "utf-8")
    assert run_hooks(["sbom-check", str(good), str(tmp_path / "junk.cdx.json")]) == 2
    lock = tmp_path / "requirements.txt"
    lock.write_text("requests==2.19.1\n", "utf-8")
    assert run_hooks(["scan", "--fail-on=high", str(lock)]) == 3  # empty knowledge base: cannot judge
    assert run_hooks(["nope"]) == 2


# ---------------------------------------------------------------- the GitHub Action


def test_action_inputs_reach_the_script() -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text("utf-8"))
    assert action["runs"]["using"] == "composite"
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "mamori")
    script = (REPO / "scripts" / "action.sh").read_text("utf-8")
    for name in action["inputs"]:
        if name == "python-version":
            continue
        var = "INPUT_" + name.upper().replace("-", "_")
        assert step["env"][var] == "${{ inputs." + name + " }}"
        assert var in script, var
    assert "scripts/action.sh" in step["run"]


def _action(tmp: Path, project: Path, **inputs: str) -> subprocess.CompletedProcess[str]:
    if not MAMORI.exists():
        pytest.skip(f"the installed mamori is not next to {sys.executable}")
    env = {**_env(tmp), "MAMORI": str(MAMORI), "GITHUB_OUTPUT": str(tmp / "gh-output")}
    env.update({"INPUT_" + k.upper(): v for k, v in inputs.items()})
    env.update({"INPUT_PATH": str(project)})
    return subprocess.run(
        ["bash", str(REPO / "scripts" / "action.sh")],
        capture_output=True,
        text=True,
        cwd=tmp,
        env=env,
        timeout=300,
        check=False,
    )


def test_action_script_generates_scans_and_gates(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("requests==2.19.1\nurllib3==1.24.1\n", "utf-8")
    osv = str(demo_data() / "osv")
    gated = _action(tmp_path, project, fail_on="medium", allow_partial="true", **{"import": osv})
    assert gated.returncode == 1, gated.stdout + gated.stderr
    assert "findings reach --fail-on medium" in gated.stderr
    sarif = json.loads((tmp_path / "mamori.sarif").read_text("utf-8"))
    rules = {r["ruleId"] for run in sarif["runs"] for r in run["results"]}
    assert "CVE-2018-18074" in rules
    sbom = json.loads((tmp_path / "mamori-sbom.cdx.json").read_text("utf-8"))
    assert {c["name"] for c in sbom["components"]} == {"requests", "urllib3"}
    outputs = (tmp_path / "gh-output").read_text("utf-8").splitlines()
    assert outputs == ["sbom=mamori-sbom.cdx.json", "report=mamori.sarif", "exit-code=1"]
    assert "misses NTIA minimum elements" in gated.stderr  # sbom-check defaults to warn

    quiet = _action(tmp_path, project, format="json", output="r.json", allow_partial="true", sbom_check="off")
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert json.loads((tmp_path / "r.json").read_text("utf-8"))["findings"]
    strict = _action(tmp_path, project, sbom_check="fail", sbom="strict.cdx.json")
    assert strict.returncode == 1 and "(sbom-check: fail)" in strict.stderr
    assert not (tmp_path / "strict.cdx.json.sarif").exists()
    wrong = _action(tmp_path, project, sbom_check="maybe")
    assert wrong.returncode == 2 and "expected fail, warn or off" in wrong.stderr

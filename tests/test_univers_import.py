"""semantic_version imported by mamori.match without importlib.metadata, with the same ``__version__``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CHECK = (
    "import json, sys\n"
    "{prelude}"
    "import mamori.match, semantic_version\n"
    "print(json.dumps([semantic_version.__version__, 'importlib.metadata' in sys.modules, 'email' in sys.modules,"
    " type(sys.modules.get('importlib.metadata')).__name__]))\n"
)


def _run(prelude: str = "") -> list[object]:
    done = subprocess.run(
        [sys.executable, "-c", CHECK.format(prelude=prelude)], capture_output=True, text=True, check=True
    )
    return list(json.loads(done.stdout.splitlines()[-1]))


def _real_version() -> str:
    script = "import importlib.metadata as m; print(m.version('semantic_version'))"
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_matching_imports_neither_importlib_metadata_nor_email() -> None:
    version, metadata, email, _ = _run()
    assert version == _real_version()
    assert metadata is False and email is False


def test_when_the_dist_info_is_unclear_the_real_lookup_gives_the_version() -> None:
    # the module loaded on its own first (importing it through the package would run the import already)
    prelude = (
        "import importlib.util, mamori\n"
        "spec = importlib.util.spec_from_file_location("
        "'mamori.match.univers_import', mamori.__path__[0] + '/match/univers_import.py')\n"
        "u = importlib.util.module_from_spec(spec)\n"
        "sys.modules[spec.name] = u\n"
        "spec.loader.exec_module(u)\n"
        "u._metadata_version = lambda name: None\n"
    )
    version, metadata, _, kind = _run(prelude)
    assert version == _real_version()
    assert metadata is True and kind == "module"  # the real module, the stand-in gone


def test_the_stand_in_reads_the_version_line_of_the_header_only() -> None:
    from mamori.match.univers_import import _metadata_version

    assert _metadata_version("semantic_version") == _real_version()
    assert _metadata_version("no_such_distribution_here") is None


NUGET = (
    "from univers.versions import NugetVersion\n"
    "texts = ['1.0.0', '1.0.0-beta', '1.0.0-beta.2', '2.1', '1.0.0.1', 'v1.2.3', '1.2.3+build']\n"
    "parsed = [NugetVersion(t) for t in texts]\n"
    "print(json.dumps([[str(p) for p in sorted(parsed)], [[a < b for b in parsed] for a in parsed], "
    "'semver.version' in sys.modules]))\n"
)


def test_semver_is_imported_when_a_nuget_version_is_read_and_compares_the_same() -> None:
    def run(prelude: str) -> list[object]:
        script = f"import json, sys\n{prelude}import mamori.match\nbefore = 'semver.version' in sys.modules\n"
        script += f"print(json.dumps(before))\n{NUGET}"
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
        first, last = done.stdout.splitlines()[-2:]
        return [json.loads(first), *json.loads(last)]

    deferred = run("")
    direct = run("import semver\n")  # imported first: no stand-in
    assert deferred[0] is False and direct[0] is True
    assert deferred[1:3] == direct[1:3] and deferred[3] is True


def test_a_scan_of_pypi_components_does_not_import_semver(tmp_path: Path) -> None:
    sbom = tmp_path / "s.cdx.json"
    component = {"type": "library", "name": "pillow", "version": "8.0.0", "purl": "pkg:pypi/pillow@8.0.0"}
    sbom.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [component]}))
    script = (
        "import json, sys\nfrom mamori.cli.main import main\n"
        f"code = main(['scan', {str(sbom)!r}, '--db', {str(tmp_path / 'kb.db')!r}, '-f', 'json', '-q', "
        "'--allow-partial'])\n"
        "print(json.dumps(['semver.version' in sys.modules, 'argparse' in sys.modules, 'email' in sys.modules]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.splitlines()[-1]) == [False, False, False]

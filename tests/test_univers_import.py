"""semantic_version imported by mamori.match without importlib.metadata, with the same ``__version__``."""

from __future__ import annotations

import json
import subprocess
import sys

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

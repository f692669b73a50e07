"""Packages that import their modules on first use give the same names as eager imports did: a function
named like its module (``mamori.portfolio.rematch``) stays the function."""

from __future__ import annotations

import subprocess
import sys


def _names(code: str) -> str:
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return run.stdout.strip()


def test_a_function_named_like_its_module_stays_the_function() -> None:
    code = (
        "from mamori.portfolio import match_release, rematch, store_sbom\n"
        "import mamori.portfolio as p\n"
        "print(type(rematch).__name__, type(p.rematch).__name__, callable(match_release), callable(store_sbom))"
    )
    assert _names(code) == "function function True True"


def test_names_are_found_in_any_order_and_unknown_ones_raise() -> None:
    code = (
        "import mamori.vulndb as v, mamori.portfolio as p\n"
        "print(v.import_path.__module__, v.SOURCES is not None, p.rematch.__module__, p.StoredSbom.__name__)\n"
        "try:\n    v.nothing\nexcept AttributeError as exc:\n    print(exc)"
    )
    assert _names(code).splitlines() == [
        "mamori.vulndb.importer True mamori.portfolio.rematch StoredSbom",
        "module 'mamori.vulndb' has no attribute 'nothing'",
    ]


def test_a_scan_does_not_load_the_portfolio_archive_or_the_importer() -> None:
    code = (
        "import sys\nimport mamori.portfolio.context, mamori.match\n"
        "print(sorted(m for m in ('mamori.portfolio.archive', 'mamori.portfolio.rematch', "
        "'mamori.vulndb.importer') if m in sys.modules))"
    )
    assert _names(code) == "[]"


def test_the_function_wins_after_its_module_was_imported_directly() -> None:
    # the module imported first (as the sharded re-match and the upload worker do), then the package name
    code = (
        "import mamori.portfolio.rematch\n"
        "from mamori.portfolio import rematch\n"
        "import mamori.portfolio as p\n"
        "print(type(rematch).__name__, type(p.rematch).__name__, rematch.__module__)"
    )
    assert _names(code) == "function function mamori.portfolio.rematch"

"""Every installed catalog against its schema (the check that no longer runs at every start), and the fast
reader of installed catalogs giving exactly what the strict reader gives."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mamori.compliance import catalog as cat

NAMES = cat.frameworks()


def test_every_catalog_is_installed() -> None:
    assert {"guideline", "ssdf", "checklist", "jcstar1", "sbom-transaction-model"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_installed_catalog_passes_the_schema(name: str) -> None:
    path = cat.CATALOG_DIR / f"{name}.yaml"
    data = cat._parse_yaml(path)  # strict: duplicate keys refused
    cat._check_schema(path, data)  # raises InputError naming the file and item
    assert cat.validate(name).framework == name


@pytest.mark.parametrize("name", NAMES)
def test_fast_reader_equals_strict_reader(name: str) -> None:
    path = cat.CATALOG_DIR / f"{name}.yaml"
    assert cat._parse_installed(path) == cat._parse_yaml(path)
    fast, strict = cat.load(name), cat.validate(name)
    assert [i.to_dict() for i in fast.items] == [i.to_dict() for i in strict.items]
    assert fast.extra == strict.extra and fast.version == strict.version


def test_a_user_catalog_file_is_still_checked(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "x.yaml"
    bad.write_text(
        cat.CATALOG_DIR.joinpath("jcstar1.yaml").read_text(encoding="utf-8").replace("levels:", "levelz:", 1),
        encoding="utf-8",
    )
    with pytest.raises(cat.InputError, match=r"x\.yaml"):
        cat.load_file(bad)


def test_catalog_check_validates_against_the_schema(capsys) -> None:  # type: ignore[no-untyped-def]
    from mamori.cli.main import main

    assert main(["catalog", "check"]) == 0
    assert "checklist: 133 items" in capsys.readouterr().out


def test_compliance_commands_do_not_load_the_schema_validator() -> None:
    """``catalog list`` reads every catalog without importing jsonschema (seconds at start, most of it
    compiling URI grammars); the check runs in the tests above and in ``mamori catalog check``."""
    code = (
        "import sys\n"
        "from mamori.cli.main import main\n"
        "code = main(['catalog', 'list'])\n"
        "print(code, 'jsonschema' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "0 False"

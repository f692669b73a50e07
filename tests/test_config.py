"""``mamori.toml`` and ``MAMORI_*`` variables: command line > environment > project file (the scanned
folder's, else the current directory's) > user file (user config directory) > default, each level
overriding the next; global keys, command tables, relative paths; a flawed file is one line naming the
file and the key, exit 2. The installed ``mamori`` on the demo set."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from scanconv_support import DEMO_SBOM, build_kb, run, scan_json


@pytest.fixture(scope="module")
def kb(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("config")
    home = folder / "home"
    home.mkdir()
    return {"home": home, "db": build_kb(folder / "kb", home)}


@pytest.fixture
def setup(kb, tmp_path) -> dict:
    """A home of its own (user config in it), a project folder with the SBOM, a working directory."""
    home = tmp_path / "home"
    (home / ".config" / "mamori").mkdir(parents=True)
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(DEMO_SBOM, project / DEMO_SBOM.name)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    return {
        "home": home,
        "project": project,
        "cwd": cwd,
        "db": kb["db"],
        "user": home / ".config" / "mamori" / "mamori.toml",
    }


def _ratings(setup: dict, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> set[str]:
    code, data, err = scan_json(
        setup["project"] / DEMO_SBOM.name, "--db", setup["db"], "--max-age", "0", *args,
        home=setup["home"], cwd=cwd or setup["project"], env=env,
    )  # fmt: skip
    assert code == 0, err
    return {r for r, n in data["summary"]["by_rating"].items() if n}


def test_precedence_each_level_overrides_the_next(setup) -> None:
    assert _ratings(setup) == {"critical", "high", "medium", "low", "unknown"}  # the default: no filter
    setup["user"].write_text('[scan]\nseverity = "critical"\n', encoding="utf-8")
    assert _ratings(setup) == {"critical"}  # user file over the default
    (setup["project"] / "mamori.toml").write_text('[scan]\nseverity = "HIGH"\n', encoding="utf-8")
    assert _ratings(setup) == {"high"}  # project file over the user file
    env = {"MAMORI_SEVERITY": "critical"}
    assert _ratings(setup, env=env) == {"critical"}  # environment over the project file
    assert _ratings(setup, "--severity", "high", env=env) == {"high"}  # command line over the environment


def test_project_file_of_the_scanned_folder_then_the_current_directory(setup) -> None:
    (setup["cwd"] / "mamori.toml").write_text('[scan]\nseverity = "high"\n', encoding="utf-8")
    assert _ratings(setup, cwd=setup["cwd"]) == {
        "high"
    }  # the scanned folder has none: the current directory's
    (setup["project"] / "mamori.toml").write_text('[scan]\nseverity = "critical"\n', encoding="utf-8")
    assert _ratings(setup, cwd=setup["cwd"]) == {"critical"}  # the scanned folder's wins


def test_keys_of_every_kind(setup) -> None:
    """Global db (relative to the file), text, list, boolean, integer keys, both spellings of a key."""
    rel = Path(shutil.copy(setup["db"], setup["project"] / "kb.db")).name
    (setup["project"] / "mamori.toml").write_text(
        f'db = "{rel}"\n[scan]\nformat = "json"\nquiet = true\nignore_unfixed = true\n'
        'max-age = "0"\nfail-on = "HIGH"\nexit-code = 5\n',
        encoding="utf-8",
    )
    done = run("scan", DEMO_SBOM.name, home=setup["home"], cwd=setup["project"])
    assert done.returncode == 5 and done.stderr == ""
    data = json.loads(done.stdout)
    assert data["filters"]["ignore_unfixed"] is True and data["summary"]["by_rating"]["high"] == 5
    # MAMORI_DB wins over the file's db: an empty store cannot be judged
    done = run(
        "scan",
        DEMO_SBOM.name,
        home=setup["home"],
        cwd=setup["project"],
        env={"MAMORI_DB": str(setup["project"] / "empty.db")},
    )
    assert done.returncode == 3 and "cannot judge" in done.stderr


def test_global_lang_and_command_tables(setup) -> None:
    (setup["cwd"] / "requirements.txt").write_text("requests==2.19.1\n", encoding="utf-8")
    (setup["cwd"] / "mamori.toml").write_text(
        'lang = "ja"\n[sbom.generate]\nformat = "spdx-json"\n', encoding="utf-8"
    )
    done = run("sbom", "generate", "requirements.txt", home=setup["home"], cwd=setup["cwd"])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["spdxVersion"].startswith("SPDX-")
    done = run("scan", "no-such-file.json", home=setup["home"], cwd=setup["cwd"])
    assert done.returncode == 2
    # the file's lang: the report is Japanese; MAMORI_LANG wins over it
    done = run(
        "scan",
        setup["project"] / DEMO_SBOM.name,
        "--db",
        setup["db"],
        "--max-age",
        "0",
        home=setup["home"],
        cwd=setup["cwd"],
    )
    assert "コンポーネント" in done.stdout
    done = run(
        "scan",
        setup["project"] / DEMO_SBOM.name,
        "--db",
        setup["db"],
        "--max-age",
        "0",
        home=setup["home"],
        cwd=setup["cwd"],
        env={"MAMORI_LANG": "en"},
    )
    assert "コンポーネント" not in done.stdout and "components" in done.stdout


def test_group_table_applies_to_its_commands(setup) -> None:
    (setup["cwd"] / "requirements.txt").write_text("requests==2.19.1\n", encoding="utf-8")
    (setup["cwd"] / "mamori.toml").write_text('[sbom]\nformat = "spdx-json"\n', encoding="utf-8")
    done = run("sbom", "generate", "requirements.txt", home=setup["home"], cwd=setup["cwd"])
    assert done.returncode == 0 and "spdxVersion" in json.loads(done.stdout)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('[scan]\nseverty = "high"\n', "unknown key scan.severty (not an option of mamori scan)"),
        ('[scna]\nseverity = "high"\n', "unknown table [scna] (mamori has no command scna)"),
        ('colour = "red"\n', "unknown key colour"),
        ("[scan]\nquiet = 1\n", "scan.quiet: expected true or false"),
        ('[scan]\nexit-code = "5"\n', "scan.exit-code: expected a whole number"),
        ("[scan]\nseverity = [1, 2]\n", "scan.severity: expected text"),
        ('[sbom.generat]\nformat = "x"\n', "unknown table [sbom.generat]"),
        ("[scan\n", "not valid TOML: Expected ']' at the end of a table declaration (at line 1, column 6)"),
        ("[scan]\nhelp = true\n", "unknown key scan.help"),
    ],
)
def test_a_flawed_file_is_one_line_naming_file_and_key(setup, content, problem) -> None:
    config = setup["cwd"] / "mamori.toml"
    config.write_text(content, encoding="utf-8")
    done = run(
        "scan", setup["project"] / DEMO_SBOM.name, "--db", setup["db"], home=setup["home"], cwd=setup["cwd"]
    )
    assert done.returncode == 2 and done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"mamori: error: {config}: ") and problem in line


def test_a_flawed_user_file_names_it(setup) -> None:
    setup["user"].write_text("[db]\nno-such = 1\n", encoding="utf-8")
    done = run("db", "status", home=setup["home"], cwd=setup["cwd"])
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"mamori: error: {setup['user']}: unknown key db.no-such (no command of mamori db has this option)"
    ]


def test_hostile_config_files(setup) -> None:
    config = setup["cwd"] / "mamori.toml"
    config.mkdir()
    done = run("scan", "x.json", home=setup["home"], cwd=setup["cwd"])
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1 and str(config) in done.stderr
    config.rmdir()
    config.write_bytes(b"# " + b"x" * (2 * 1024 * 1024))
    done = run("scan", "x.json", home=setup["home"], cwd=setup["cwd"])
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1 and str(config) in done.stderr
    config.write_bytes(b'lang = "\xff"\n')
    done = run("scan", "x.json", home=setup["home"], cwd=setup["cwd"])
    assert done.returncode == 2 and "not UTF-8" in done.stderr
    config.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    done = run("scan", "x.json", home=setup["home"], cwd=setup["cwd"])
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr


def test_no_config_changes_nothing(setup) -> None:
    done = run(
        "scan",
        setup["project"] / DEMO_SBOM.name,
        "--db",
        setup["db"],
        "--max-age",
        "0",
        "-f",
        "json",
        home=setup["home"],
        cwd=setup["cwd"],
    )
    assert done.returncode == 0 and "filters" not in json.loads(done.stdout)


def test_global_keys_reach_every_command_but_the_demo_database(tmp_path, monkeypatch) -> None:
    import typer

    for name in ("MAMORI_DB", "MAMORI_LANG"):  # the environment wins over a file: not under test here
        monkeypatch.delenv(name, raising=False)

    from mamori.cli import config as config_cli
    from mamori.cli.main import app

    mapping = config_cli.file_map(
        typer.main.get_command(app), tmp_path / "mamori.toml", {"db": "kb.db", "lang": "ja"}
    )
    assert mapping["scan"]["db"] == str(tmp_path / "kb.db")
    assert mapping["db"]["snapshot"]["export"]["db"] == str(tmp_path / "kb.db")
    assert mapping["triage"]["record"]["lang"] == "ja"
    assert "db" not in mapping["demo"] and mapping["demo"]["lang"] == "ja"
    url = config_cli.file_map(
        typer.main.get_command(app), tmp_path / "mamori.toml", {"db": "postgresql+psycopg://h/db"}
    )
    assert url["scan"]["db"] == "postgresql+psycopg://h/db"  # a URL is no path

"""purl2cpe imports: malformed upstream lines are warnings (``db import`` exits 0); every link is
stored with its strength and ``db import`` / ``db status`` report strong and weak links (text en/ja,
JSON); the migration judges the links a store already holds."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, insert, select

from conftest import SHARED_DATA
from mamori.cli.main import main
from mamori.errors import InputError
from mamori.model.linkrule import WEAK_RULES
from mamori.store import open_store, resolve_url, schema
from mamori.store.engine import alembic_config
from mamori.store.throwaway import throwaway_postgres
from mamori.vulndb import purl2cpe
from mamori.vulndb.detect import parse_blob
from mamori.vulndb.rejected import DataWarning
from mamori.vulndb.sources import Blob

TSV = SHARED_DATA / "purl2cpe" / "purl2cpe.tsv"
JACKSON = "pkg:maven/com.fasterxml.jackson.core/jackson-databind"
PG_URL = os.environ.get("MAMORI_TEST_PG_URL")


def _shared_tsv() -> Path:
    if not TSV.is_file():
        pytest.skip(f"{TSV} is absent")
    return TSV


# ------------------------------------------------------------------------- malformed upstream data


def test_malformed_tsv_lines_are_warnings_and_a_broken_file_still_fails() -> None:
    data = (
        b"cpe_vendor\tcpe_product\tpurl\n"
        b"fasterxml\tjackson-databind\tpkg:maven/com.fasterxml.jackson.core/jackson-databind\n"
        b'bulbsecurity\tsmartphone_pentest_framework\t"""pkg:github/vaginessa/x\\u20142-"""\n'
        b"only two\tcolumns\n"
        b"fast xml\tjackson-databind\tpkg:maven/com.fasterxml.jackson.core/jackson-databind\n"
        b"fasterxml\tjackson*\tpkg:maven/com.fasterxml.jackson.core/jackson-databind\n"
    )
    items = list(purl2cpe.parse_tsv("purl2cpe.tsv", data))
    assert [type(i).__name__ for i in items] == ["PurlCpeLink"] + ["DataWarning"] * 4
    assert [(i.record, i.reason.split(" ")[:2]) for i in items[1:]] == [
        ("line 3", ["invalid", "purl"]),
        ("line 4", ["expected", "vendor,"]),
        ("line 5", ["invalid", "CPE"]),
        ("line 6", ["invalid", "CPE"]),
    ]
    with pytest.raises(InputError, match="expected the header"):
        list(purl2cpe.parse_tsv("purl2cpe.tsv", b"vendor,product,purl\n"))


def test_malformed_scanoss_files_are_warnings() -> None:
    not_a_list = parse_blob(Blob("data/google/protobuf/purls.yml", b"purls: pkg:pypi/protobuf\n"))
    assert not_a_list is not None and not_a_list.source == "purl2cpe"
    (warning,) = list(not_a_list.items)
    assert isinstance(warning, DataWarning) and "needs a 'purls' list" in warning.reason
    mixed = b"cpes:\n- not-a-cpe\n- cpe:2.3:a:google:protobuf:3.0:*:*:*:*:*:*:*\npurls:\n- pkg:pypi/protobuf\n- 42\n"
    items = list(purl2cpe.parse_scanoss_yaml("data/google/protobuf.yml", mixed))
    warnings = [i for i in items if isinstance(i, DataWarning)]
    assert [w.record for w in warnings] == ["purls[1]", "cpes[0]"]
    (link,) = [i for i in items if isinstance(i, purl2cpe.PurlCpeLink)]
    assert (link.purl, link.cpe_product, link.strength) == ("pkg:pypi/protobuf", "protobuf", "strong")
    with pytest.raises(InputError, match="not valid YAML"):  # a file that does not parse still fails
        list(purl2cpe.parse_scanoss_yaml("data/google/protobuf/purls.yml", b"purls: [\n"))


# ------------------------------------------------------------------------------ import and status


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_links_carry_the_rules_judgement() -> None:
    data = (
        b"cpe_vendor\tcpe_product\tpurl\nfasterxml\tjackson-dataformats-text\t"
        + JACKSON.encode()
        + b"@2.14.2\n"
    )
    (link,) = purl2cpe.parse_tsv("purl2cpe.tsv", data)
    assert isinstance(link, purl2cpe.PurlCpeLink) and link.purl == JACKSON  # the version is dropped
    assert (link.rule, link.strength, link.strong) == ("sibling", "weak", False)
    unjudged = purl2cpe.PurlCpeLink("pypi", "", "protobuf", "pkg:pypi/protobuf", "google", "protobuf-cpp")
    assert unjudged.rule == "" and purl2cpe.judged(unjudged).rule == "more-specific"
    assert unjudged.strength == "weak"


def test_db_import_reports_strong_and_weak_and_exits_0_on_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _shared_tsv()
    db = str(tmp_path / "kb.db")
    code, out, err = _run(capsys, "db", "import", str(TSV), "--db", db, "--format", "json")
    summary = json.loads(out)
    assert code == 0 and summary["rejected"] == [] and len(summary["warnings"]) == 4
    assert summary["sources"]["purl2cpe"]["warnings"] == 4 and summary["sources"]["purl2cpe"]["rejected"] == 0
    assert (summary["purl2cpe"]["strong"], summary["purl2cpe"]["weak"]) == (38718, 8865)
    assert summary["purl2cpe"]["rules"]["sibling"] == 725
    examples = summary["purl2cpe"]["weak_examples"]
    assert examples and all(e["rule"] in WEAK_RULES for e in examples)
    assert err == ""
    code, out, err = _run(capsys, "db", "import", str(TSV), "--db", db, "--lang", "ja")
    assert code == 0
    assert "purl2cpe リンク: 強 38718 件 (照合に使用)、弱 8865 件" in out and "  弱: " in out
    assert "上流データの不正な行 4 件をスキップしました" in out
    assert (
        err.count("警告: ") == 4 and "line 5394: 不正な purl" in err
    )  # the reason in the language of the run
    code, out, _ = _run(capsys, "db", "status", "--db", db, "--format", "json")
    status = json.loads(out)["sources"]["purl2cpe"]
    assert (status["records"], status["strong"], status["weak"]) == (47578, 38713, 8865)
    code, out, _ = _run(capsys, "db", "status", "--db", db, "--lang", "en")
    assert "purl2cpe links: 38713 strong, 8865 weak" in out


def test_db_import_lists_at_most_ten_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = ["cpe_vendor\tcpe_product\tpurl", "haxx\tcurl\tpkg:github/curl/curl"]
    lines += [f"vendor\tproduct{n}\tnot a purl {n}" for n in range(12)]
    lines += ["vendor\tproduct\tnot a purl \x1b[31m"]  # a control character, shown escaped
    path = tmp_path / "purl2cpe.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = _run(capsys, "db", "import", str(path), "--db", str(tmp_path / "kb.db"), "--lang", "en")
    assert code == 0
    assert err.count("warning: ") == 10 and "… and 3 more warnings" in err and "\x1b" not in err
    assert "13 malformed lines of upstream data skipped" in out
    assert "purl2cpe links: 1 strong (used for matching), 0 weak" in out


# --------------------------------------------------------------------------------------- migration


def _migrate_old_store(url: str) -> None:
    """A store at revision coverage1 (before link strength) holding two links, then opened."""
    engine = create_engine(resolve_url(url))
    try:
        with engine.begin() as conn:
            config = alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, "coverage1")
            conn.execute(
                insert(schema.PurlCpe.__table__).values(
                    [
                        {
                            "purl_type": "maven",
                            "purl_namespace": "com.fasterxml.jackson.core",
                            "purl_name": "jackson-databind",
                            "purl": JACKSON,
                            "cpe_vendor": "fasterxml",
                            "cpe_product": product,
                        }
                        for product in ("jackson-databind", "jackson-dataformats-text")
                    ]
                )
            )
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "backend",
    [
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="no MAMORI_TEST_PG_URL")),
    ],
)
def test_the_migration_judges_the_links_a_store_holds(backend: str, tmp_path: Path) -> None:
    def check(url: str) -> None:
        _migrate_old_store(url)
        with open_store(url) as store, store.engine.connect() as conn:
            t = schema.PurlCpe.__table__
            rows = set(conn.execute(select(t.c.cpe_product, t.c.strength, t.c.rule)))
        assert rows == {
            ("jackson-databind", "strong", "same-name"),
            ("jackson-dataformats-text", "weak", "sibling"),
        }

    if backend == "sqlite":
        check(str(tmp_path / "old.db"))
    else:
        assert PG_URL
        with throwaway_postgres(PG_URL) as url:
            check(url)

"""CSAF 2.0 publishing and provider checks (section 7), run through the installed ``mamori``.

* ``advisory validate``: valid OASIS examples exit 0; a file failing a mandatory test exits 1 naming the test;
  unreadable input exits 2 with one line on stderr;
* ``advisory publish`` writes a provider directory (TLP and year folders, index.txt, changes.csv, a ROLIE
  feed, hashes, OpenPGP signatures, provider-metadata.json valid against the OASIS provider schema);
  publishing an updated advisory again moves it to the top of changes.csv and the feed;
* ``csaf check`` passes on that output (folder and loopback HTTP), names file and requirement for a changed
  byte, a missing index line and a wrong hash; on CISA's tree as it is it reports exactly its two real
  deviations (paths from the repository root, ROLIE links to another host); a conformant copy of CISA's tree
  passes, its signatures (CISA's key is not in the shared data) "not verifiable".
"""

from __future__ import annotations

import contextlib
import csv
import functools
import http.server
import json
import shutil
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import SHARED_DATA

MAMORI = str(Path(sys.executable).with_name("mamori"))
CSAF = SHARED_DATA / "csaf"
EXAMPLES = CSAF / "examples" / "csaf"
TESTS = CSAF / "validator-tests"
CISA = CSAF / "cisa"
WHITE = ["bsi-2022-0001.json", "rhsa-2019_1862.json", "rhsa-2021_5186.json", "rhsa-2022_0011.json"]

pytestmark = pytest.mark.shared


def mamori(*args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(Path(sys.executable).parent), "MAMORI_LANG": "en", "HOME": "/nonexistent"}
    return subprocess.run([MAMORI, *args], capture_output=True, text=True, timeout=900, env=env, check=False)


def _need_examples() -> None:
    if not EXAMPLES.is_dir():
        pytest.skip("../shared/data/csaf is absent")


@pytest.fixture(autouse=True)
def _shared() -> None:
    _need_examples()


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    pgp = pytest.importorskip("pysequoia")
    folder = tmp_path_factory.mktemp("keys")
    out = {}
    for name in ("psirt", "other"):
        tsk = pgp.Tsk.generate(f"{name} <{name}@example.com>")
        (folder / f"{name}.sec.asc").write_text(str(tsk), encoding="ascii")
        (folder / f"{name}.pub.asc").write_text(str(tsk.extract_certificate()), encoding="ascii")
        out[name] = folder / name
    return out


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serving(folder: Path) -> Iterator[str]:
    """A loopback HTTP server serving ``folder``; yields its base URL."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def check(target: str | Path, *args: str) -> tuple[int, dict[str, Any]]:
    done = mamori("csaf", "check", str(target), "--format", "json", *args)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def kinds(report: dict[str, Any], level: str = "fail") -> Counter[tuple[str, str]]:
    return Counter((f["requirement"], f["kind"]) for f in report["findings"] if f["level"] == level)


# ---------------------------------------------------------------- validate


def test_validate_exit_codes(tmp_path: Path) -> None:
    done = mamori("advisory", "validate", *(str(EXAMPLES / n) for n in WHITE))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("valid CSAF 2.0") == len(WHITE)
    failing = TESTS / "mandatory" / "oasis_csaf_tc-csaf_2_0-2021-6-1-02-01.json"
    done = mamori("advisory", "validate", str(failing), str(EXAMPLES / WHITE[0]))
    assert done.returncode == 1
    assert "invalid CSAF 2.0" in done.stdout and "mandatory test 6.1.2)" in done.stdout
    broken = tmp_path / "broken.json"
    broken.write_text('{"document": ', encoding="utf-8")
    done = mamori("advisory", "validate", str(broken))
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "broken.json" in done.stderr
    done = mamori("advisory", "validate", str(tmp_path))
    assert done.returncode == 2 and done.stderr.count("\n") == 1


# ---------------------------------------------------------------- publish


def _provider_schema_problems(data: Any) -> list[str]:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    schema = json.loads((CSAF / "schema" / "provider_json_schema.json").read_text(encoding="utf-8"))
    csaf = json.loads((CSAF / "schema" / "csaf_json_schema.json").read_text(encoding="utf-8"))
    registry = Registry().with_resource(csaf["$id"], Resource.from_contents(csaf))
    validator = Draft202012Validator(
        schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    return [e.message for e in validator.iter_errors(data)]


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Path]) -> Path:
    _need_examples()  # a module fixture is set up before the autouse one that skips
    root = tmp_path_factory.mktemp("provider") / "csaf"
    no_tlp = EXAMPLES / "cisco-sa-20180328-smi2.json"
    done = mamori(
        "advisory",
        "publish",
        *(str(EXAMPLES / n) for n in WHITE),
        str(no_tlp),
        "--provider",
        str(root),
        "--key",
        f"{keys['psirt']}.sec.asc",
        "--base-url",
        "https://psirt.example.com/.well-known/csaf",
    )
    assert done.returncode == 1  # the document without a TLP label is rejected alone
    assert done.stderr.count("\n") == 1 and "cisco-sa-20180328-smi2.json" in done.stderr
    assert done.stdout.count("published ") == len(WHITE)
    return root


def test_publish_writes_a_provider_directory(provider: Path, keys: dict[str, Path]) -> None:
    metadata = json.loads((provider / "provider-metadata.json").read_text(encoding="utf-8"))
    assert _provider_schema_problems(metadata) == []
    assert metadata["canonical_url"] == "https://psirt.example.com/.well-known/csaf/provider-metadata.json"
    assert metadata["role"] == "csaf_trusted_provider"
    (key,) = metadata["public_openpgp_keys"]
    pub = (provider / "openpgp" / f"{key['fingerprint']}.asc").read_text(encoding="ascii")
    assert pub == Path(f"{keys['psirt']}.pub.asc").read_text(encoding="ascii")
    assert (provider / "white" / "index.txt").read_text(encoding="utf-8").splitlines() == [
        "2019/rhsa-2019_1862.json",
        "2021/rhsa-2021_5186.json",
        "2022/bsi-2022-0001.json",
        "2022/rhsa-2022_0011.json",
    ]
    rows = list(csv.reader((provider / "white" / "changes.csv").open(encoding="utf-8")))
    assert [r[0] for r in rows] == [
        "2022/bsi-2022-0001.json",
        "2022/rhsa-2022_0011.json",
        "2021/rhsa-2021_5186.json",
        "2019/rhsa-2019_1862.json",
    ]
    feed = json.loads((provider / "white" / "csaf-feed-tlp-white.json").read_text(encoding="utf-8"))["feed"]
    assert [e["id"] for e in feed["entry"]] == [
        "BSI-2022-0001",
        "RHSA-2022:0011",
        "RHSA-2021:5186",
        "RHSA-2019:1862",
    ]
    doc = provider / "white" / "2021" / "rhsa-2021_5186.json"
    assert doc.read_bytes() == (EXAMPLES / "rhsa-2021_5186.json").read_bytes()
    assert not list(provider.rglob("cisco*"))


def test_check_passes_on_published_output_folder_and_http(provider: Path, keys: dict[str, Path]) -> None:
    code, report = check(provider, "--key", f"{keys['psirt']}.pub.asc")
    assert code == 0 and report["findings"] == [] and report["documents"] == len(WHITE)
    code, report = check(provider)  # the metadata's own key verifies the signatures
    assert code == 0 and report["findings"] == []
    with serving(provider) as base:
        # the metadata names https://psirt.example.com: served from here, its links point elsewhere
        code, report = check(f"{base}provider-metadata.json")
        assert code == 1 and {r for r, _k in kinds(report)} == {"7.1.7", "7.1.15", "7.1.20"}
    served = provider.parent / "served"
    shutil.copytree(provider, served)
    with serving(served) as base:
        done = mamori(
            "advisory",
            "publish",
            "--provider",
            str(served),
            "--base-url",
            base.rstrip("/"),
            "--key",
            f"{keys['psirt']}.sec.asc",
            str(EXAMPLES / WHITE[0]),
        )
        assert done.returncode == 0, done.stderr
        code, report = check(f"{base}provider-metadata.json", "--key", f"{keys['psirt']}.pub.asc")
        assert code == 0, report["findings"][:5]
        assert report["documents"] == len(WHITE) and any("7.1.3" in n for n in report["notes"])
    assert mamori("csaf", "check", "http://192.0.2.1/provider-metadata.json").returncode == 2


def test_republishing_an_updated_advisory(provider: Path, keys: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "csaf"
    shutil.copytree(provider, copy)
    data = json.loads((EXAMPLES / "rhsa-2019_1862.json").read_text(encoding="utf-8"))
    tracking = data["document"]["tracking"]
    tracking["current_release_date"] = "2024-05-01T09:00:00Z"
    tracking["version"] = "2"
    tracking["revision_history"].append({"date": "2024-05-01T09:00:00Z", "number": "2", "summary": "Update."})
    updated = tmp_path / "rhsa-2019_1862.json"
    updated.write_text(json.dumps(data), encoding="utf-8")
    done = mamori(
        "advisory", "publish", str(updated), "--provider", str(copy), "--key", f"{keys['psirt']}.sec.asc"
    )
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader((copy / "white" / "changes.csv").open(encoding="utf-8")))
    assert rows[0] == ["2019/rhsa-2019_1862.json", "2024-05-01T09:00:00Z"] and len(rows) == len(WHITE)
    feed = json.loads((copy / "white" / "csaf-feed-tlp-white.json").read_text(encoding="utf-8"))["feed"]
    assert (
        feed["entry"][0]["id"] == "RHSA-2019:1862" and feed["entry"][0]["updated"] == "2024-05-01T09:00:00Z"
    )
    assert len(feed["entry"]) == len(WHITE)
    code, report = check(copy, "--key", f"{keys['psirt']}.pub.asc")
    assert code == 0, report["findings"][:5]
    assert not [p for p in copy.rglob("*.tmp")]


def test_check_names_file_and_requirement_of_each_break(
    provider: Path, keys: dict[str, Path], tmp_path: Path
) -> None:
    copy = tmp_path / "csaf"
    shutil.copytree(provider, copy)
    doc = copy / "white" / "2022" / "bsi-2022-0001.json"
    raw = bytearray(doc.read_bytes())
    raw[raw.index(b"Bundesamt")] = ord("b")  # one changed byte (the publisher's name)
    doc.write_bytes(bytes(raw))
    index = copy / "white" / "index.txt"
    index.write_text(
        index.read_text(encoding="utf-8").replace("2021/rhsa-2021_5186.json\n", ""), encoding="utf-8"
    )
    sha = copy / "white" / "2019" / "rhsa-2019_1862.json.sha512"
    sha.write_text("0" * 128 + "  rhsa-2019_1862.json\n", encoding="ascii")
    code, report = check(copy, "--key", f"{keys['psirt']}.pub.asc")
    assert code == 1
    found = {(f["requirement"], f["kind"], Path(f["where"]).name) for f in report["findings"]}
    assert found == {
        ("7.1.18", "hash-mismatch", "bsi-2022-0001.json.sha256"),
        ("7.1.18", "hash-mismatch", "bsi-2022-0001.json.sha512"),
        ("7.1.19", "signature-invalid", "bsi-2022-0001.json.asc"),
        ("7.1.12", "index-missing", "index.txt"),
        ("7.1.18", "hash-mismatch", "rhsa-2019_1862.json.sha512"),
    }
    (missing,) = [f for f in report["findings"] if f["kind"] == "index-missing"]
    assert "white/2021/rhsa-2021_5186.json" in missing["message"]
    # another key than the one given: the signatures are not the given key's
    (copy / "provider-metadata.json").unlink()
    code, report = check(copy, "--key", f"{keys['other']}.pub.asc")
    assert code == 1 and kinds(report)[("7.1.19", "signature-unknown-key")] == len(WHITE)
    code, report = check(copy)
    assert kinds(report, "unverifiable")[("7.1.19", "signature-unknown-key")] == len(WHITE)


# ---------------------------------------------------------------- CISA's tree


def test_cisa_tree_as_it_is_shows_its_real_deviations() -> None:
    if not (CISA / "IT").is_dir():
        pytest.skip("CISA's CSAF tree is absent")
    code, report = check(CISA / "IT")
    assert code == 1
    assert kinds(report) == Counter(
        {
            ("7.1.12", "path-not-relative"): 4,  # csaf_files/IT/white/2024/... from the repository root
            ("7.1.13", "path-not-relative"): 4,
            (
                "7.1.15",
                "feed-link-missing",
            ): 8,  # the IT feed says "ref" where ROLIE has "rel" (hash, signature)
            (
                "7.1.15",
                "feed-foreign-link",
            ): 5,  # the feed's self link and its 4 entries: raw.githubusercontent.com
        }
    )
    assert kinds(report, "unverifiable") == Counter({("7.1.19", "signature-unknown-key"): 4})
    assert report["documents"] == 4


def _conformant_copy(parts: list[str], target: Path, base: str) -> None:
    """CISA's folders ``parts`` with index.txt and changes.csv paths relative to the folder, ROLIE links on
    ``base`` and a provider-metadata.json naming the feeds."""
    for part in parts:
        shutil.copytree(CISA / part, target / part)
    feeds = []
    for index in sorted(target.glob("*/*/index.txt")):
        folder = index.parent
        rel = folder.relative_to(target).as_posix()
        prefix = f"csaf_files/{rel}/"
        index.write_text(index.read_text(encoding="utf-8").replace(prefix, ""), encoding="utf-8")
        changes = folder / "changes.csv"
        changes.write_text(changes.read_text(encoding="utf-8").replace(prefix, ""), encoding="utf-8")
        for feed in folder.glob("*feed*.json"):
            text = feed.read_text(encoding="utf-8")
            text = text.replace("https://raw.githubusercontent.com/cisagov/CSAF/develop/csaf_files/", base)
            feed.write_text(text.replace('"ref": ', '"rel": '), encoding="utf-8")  # the IT feed's link kinds
            feeds.append({"tlp_label": "WHITE", "url": f"{base}{rel}/{feed.name}"})
    metadata = {
        "canonical_url": f"{base}provider-metadata.json",
        "distributions": [{"rolie": {"feeds": feeds}}],
        "last_updated": "2024-10-24T19:23:12.425Z",
        "list_on_CSAF_aggregators": True,
        "metadata_version": "2.0",
        "mirror_on_CSAF_aggregators": True,
        "publisher": {"category": "coordinator", "name": "CISA", "namespace": "https://www.cisa.gov/"},
        "role": "csaf_trusted_provider",
    }
    (target / "provider-metadata.json").write_text(json.dumps(metadata), encoding="utf-8")


def test_conformant_copy_of_cisa_tree_passes_over_http(tmp_path: Path) -> None:
    if not (CISA / "IT").is_dir():
        pytest.skip("CISA's CSAF tree is absent")
    served = tmp_path / "served"
    served.mkdir()
    with serving(served) as base:
        _conformant_copy(["IT"], served, base)
        code, report = check(f"{base}provider-metadata.json")
        assert code == 0, report["findings"][:5]
        assert report["documents"] == 4
        assert kinds(report, "unverifiable") == Counter({("7.1.19", "signature-unknown-key"): 4})
        code, report = check(served)  # the same copy as a folder: the metadata's canonical URL maps the links
        assert code == 0, report["findings"][:5]

"""Files that are not files, outputs that cannot be written, zips and workbooks that do not unpack
as they claim, YAML nested too deep (issue 13, point 6): the installed ``mamori`` as a subprocess,
with real inputs (the packaged demo SBOM and OSV advisories, an exported questionnaire).

Every case ends with one line on stderr naming the file and exit 2 (or, where an import goes on,
a report of the file it skipped), never a traceback, never a hang: every run has a bounded
subprocess timeout, and a run that hits it fails the test.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import struct
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from spreadsheet_fixtures import xlsx_bomb

REPO = Path(__file__).resolve().parents[1]
MAMORI = Path(sys.executable).with_name("mamori")
DEMO = REPO / "src" / "mamori" / "data" / "demo"
SBOM = DEMO / "shop-portal-2.1.0.cdx.json"
OSV = sorted((DEMO / "osv").glob("*.json"))
TIMEOUT = 60  # a run that waits on a FIFO or reads /dev/zero without end fails here

pytestmark = pytest.mark.skipif(
    not MAMORI.exists(), reason=f"the installed mamori is not next to {sys.executable}"
)


def mamori(
    *args: str | Path, cwd: Path, stdout: int | io.IOBase | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {
        **os.environ,
        "MAMORI_DB": str(cwd / "kb.db"),
        "XDG_DATA_HOME": str(cwd / "data"),
        "MAMORI_LANG": "en",
        "NO_COLOR": "1",
        "COLUMNS": "200",
        "MAMORI_IMPORT_WORKERS": "0",
        **(env or {}),
    }
    try:
        return subprocess.run(
            [str(MAMORI), *map(str, args)],
            cwd=cwd,
            env=environ,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if stdout is None else stdout,
            stderr=subprocess.PIPE,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(
            f"mamori {' '.join(map(str, args))} did not finish in {TIMEOUT} s (hangs or reads without end)"
        )


@pytest.fixture(scope="module")
def store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store made once (its schema, and assessment 1 for the assess commands), copied into each test."""
    folder = tmp_path_factory.mktemp("template")
    run = mamori("assess", "new", "--framework", "guideline", "--org", "o", "--roles", "developer", "--scope", "s",
                 cwd=folder)  # fmt: skip
    assert run.returncode == 0, run.stderr
    return folder / "kb.db"


@pytest.fixture(autouse=True)
def _store(tmp_path: Path, store_template: Path) -> None:
    shutil.copy(store_template, tmp_path / "kb.db")


def one_line(run: subprocess.CompletedProcess[str], name: str | Path, *words: str) -> str:
    """Exit 2, exactly one stderr line that names ``name`` and holds ``words``, no traceback."""
    lines = run.stderr.splitlines()
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert run.returncode == 2, (run.returncode, run.stderr[-3000:])
    assert len(lines) == 1, run.stderr[-3000:]
    assert str(name) in lines[0], lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "input.json"
    os.mkfifo(path)
    return path


# --- 1. inputs that are not regular files ------------------------------------------------------------

NOT_FILES = ["/dev/zero", "/dev/urandom", "fifo"]
READERS = {  # one reader of each kind here; tests/test_one_line_errors.py runs every command that reads a file
    "sbom check": ("sbom", "check", "{}"),
    "db import": ("db", "import", "{}"),
    "scan --policy": ("scan", str(SBOM), "--policy", "{}"),
    "assess import-xlsx": ("assess", "import-xlsx", "1", "{}"),
}


@pytest.mark.parametrize("kind", NOT_FILES)
@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_device_or_fifo_as_input_is_one_line(tmp_path: Path, fifo: Path, reader: str, kind: str) -> None:
    source = str(fifo) if kind == "fifo" else kind
    run = mamori(*(a.format(source) for a in READERS[reader]), cwd=tmp_path)
    one_line(run, source, "not a regular file")


def test_fifo_and_device_in_an_import_folder_are_reported_not_waited_on(tmp_path: Path) -> None:
    folder = tmp_path / "advisories"
    folder.mkdir()
    shutil.copy(OSV[0], folder / OSV[0].name)
    os.mkfifo(folder / "pipe.json")
    os.mkfifo(folder / "pipe.zip")
    (folder / "zero.json").symlink_to("/dev/zero")
    run = mamori("db", "import", folder, cwd=tmp_path)
    assert "Traceback" not in run.stderr
    for name in ("pipe.json", "pipe.zip", "zero.json"):
        assert f"{name}: is a" in run.stderr and "not a regular file" in run.stderr, run.stderr
    assert "osv: 1 read, 1 new" in run.stdout + run.stderr


def test_fifo_named_like_a_lockfile_is_reported_by_sbom_generate(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "web").mkdir(parents=True)
    (project / "requirements.txt").write_text("requests==2.31.0\nurllib3==2.0.7\n")
    os.mkfifo(project / "web" / "package-lock.json")
    run = mamori("sbom", "generate", project, "-o", tmp_path / "out.cdx.json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "web/package-lock.json: not read: is a FIFO" in run.stderr
    assert (tmp_path / "out.cdx.json").stat().st_size > 0


def test_evidence_from_a_device_is_refused(tmp_path: Path) -> None:
    run = mamori(
        "assess", "answer", "1", "G-1-1", "--status", "done", "--evidence", "/dev/zero", cwd=tmp_path
    )
    assert "Traceback" not in run.stderr and run.returncode == 2, run.stderr
    assert "/dev/zero" in run.stderr and len(run.stderr.splitlines()) == 1


# --- 2. outputs that cannot be written ---------------------------------------------------------------


def test_output_naming_a_folder_is_one_line(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    run = mamori("sbom", "convert", SBOM, "-o", target, "--to", "spdx-json", cwd=tmp_path)
    one_line(run, target, "is a folder")
    assert list(target.iterdir()) == []


@pytest.mark.parametrize("args", [("sbom", "check", SBOM, "--format", "json"), ("sbom", "check", SBOM)])
def test_standard_output_on_dev_full_is_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    with open("/dev/full", "w") as full:
        run = mamori(*args, cwd=tmp_path, stdout=full)
    one_line(run, "standard output", "No space left on device")


@pytest.fixture
def null_device(tmp_path: Path) -> Path:
    path = tmp_path / "null"
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, OSError):
        pytest.skip("cannot make a device node here (not root, or nodev)")
    return path


def test_output_to_a_device_writes_into_it_and_keeps_it(tmp_path: Path, null_device: Path) -> None:
    run = mamori("sbom", "convert", SBOM, "-o", null_device, "--to", "spdx-json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert stat.S_ISCHR(null_device.stat().st_mode), "the device was replaced by a regular file"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".null")) == []


@pytest.fixture
def mounted(tmp_path: Path) -> Iterator[callable]:
    points: list[Path] = []

    def mount(options: str) -> Path:
        point = tmp_path / f"mnt{len(points)}"
        point.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
        points.append(point)
        return point

    yield mount
    for point in points:
        subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)


def test_disk_full_is_one_line_and_leaves_no_file(tmp_path: Path, mounted: callable) -> None:
    big = tmp_path / "big.cdx.json"
    run = mamori("sbom", "convert", SBOM, "-o", big, "--to", "cyclonedx-json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    point = mounted(f"size={max(4096, big.stat().st_size // 2)}")
    target = point / "out.spdx.json"
    run = mamori("sbom", "convert", SBOM, "-o", target, "--to", "spdx-json", cwd=tmp_path)
    one_line(run, target, "No space left on device")
    assert list(point.iterdir()) == []  # no partial output, no temporary file


def test_read_only_folder_is_one_line(tmp_path: Path, mounted: callable) -> None:
    target = mounted("ro,size=1m") / "out.spdx.json"
    run = mamori("sbom", "convert", SBOM, "-o", target, "--to", "spdx-json", cwd=tmp_path)
    one_line(run, target, "Read-only file system")


def test_stale_temporary_files_of_a_killed_run_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "out.spdx.json"
    old, young = tmp_path / ".out.spdx.json.k1ll3d_x.tmp", tmp_path / ".out.spdx.json.running.tmp"
    other = tmp_path / ".notes.txt.abcdefgh.tmp"
    for path in (old, young, other):
        path.write_text("partial")
    hour_ago = time.time() - 3600
    os.utime(old, (hour_ago, hour_ago))
    os.utime(other, (hour_ago, hour_ago))
    run = mamori("sbom", "convert", SBOM, "-o", out, "--to", "spdx-json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert not old.exists()  # mamori's pattern beside this target, over a minute old
    assert young.exists() and other.exists()  # still being written / another target's
    assert out.stat().st_size > 0


# --- 3. zip members ------------------------------------------------------------------------------------


def _patched(data: bytes, member: str, *, flag: int = 0, method: int | None = None) -> bytes:
    """``data`` with the local and central headers of ``member`` changed (encrypted flag, method)."""
    out = bytearray(data)
    name = member.encode()
    for signature, name_at, flag_at in ((b"PK\x03\x04", 30, 6), (b"PK\x01\x02", 46, 8)):
        at = out.find(signature)
        while at != -1:
            if out[at + name_at : at + name_at + len(name)] == name:
                struct.pack_into(
                    "<H", out, at + flag_at, struct.unpack_from("<H", out, at + flag_at)[0] | flag
                )
                if method is not None:
                    struct.pack_into("<H", out, at + flag_at + 2, method)
            at = out.find(signature, at + 4)
    return bytes(out)


def _zip(members: dict[str, bytes], zeros: dict[str, int] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name, size in (zeros or {}).items():  # streamed in: a large member without a large buffer
            with archive.open(name, "w", force_zip64=True) as fh:
                for _ in range(size >> 20):
                    fh.write(bytes(1 << 20))
    return buffer.getvalue()


GOOD, BAD = OSV[0].name, "bad.json"


@pytest.mark.parametrize(
    ("case", "make", "words"),
    [
        ("encrypted", lambda: _patched(_zip({GOOD: OSV[0].read_bytes(), BAD: OSV[1].read_bytes()}), BAD, flag=1),
         "encrypted"),
        ("deflate64", lambda: _patched(_zip({GOOD: OSV[0].read_bytes(), BAD: OSV[1].read_bytes()}), BAD, method=9),
         "method 9"),
        ("bomb", lambda: _zip({GOOD: OSV[0].read_bytes()}, {BAD: 64 << 20}), "zip bomb"),
    ],
)  # fmt: skip
def test_unreadable_zip_member_is_reported_and_the_rest_imported(
    tmp_path: Path, case: str, make: callable, words: str
) -> None:
    archive = tmp_path / f"{case}.zip"
    archive.write_bytes(make())
    run = mamori("db", "import", archive, cwd=tmp_path)
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    reported = [line for line in run.stderr.splitlines() if f"{archive.name}:{BAD}" in line]
    assert len(reported) == 1 and words in reported[0], run.stderr
    assert "osv: 1 read, 1 new" in run.stdout + run.stderr


def test_zip_members_are_bounded_in_all(tmp_path: Path) -> None:
    archive = tmp_path / "many.zip"
    archive.write_bytes(_zip({p.name: p.read_bytes() for p in OSV[:4]}))
    limit = OSV[0].stat().st_size + OSV[1].stat().st_size + 1
    run = mamori("db", "import", archive, cwd=tmp_path, env={"MAMORI_MAX_UNZIPPED_BYTES": str(limit)})
    assert "Traceback" not in run.stderr, run.stderr
    assert "inflate to more than" in run.stderr and "osv: 2 read" in run.stdout + run.stderr


# --- 4. workbooks ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def questionnaire(store_template: Path) -> Path:
    """The questionnaire of assessment 1, exported by mamori."""
    book = store_template.parent / "q.xlsx"
    run = mamori("assess", "export-xlsx", "1", "-o", book, cwd=store_template.parent)
    assert run.returncode == 0, run.stderr
    return book


def test_import_xlsx_reads_a_workbook_whatever_its_name(tmp_path: Path, questionnaire: Path) -> None:
    renamed = shutil.copy(questionnaire, tmp_path / "answers.bin")
    run = mamori("assess", "import-xlsx", "1", renamed, cwd=tmp_path)
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    assert "Read 56 rows" in run.stdout


@pytest.mark.parametrize("name", ["notes.txt", "fake.xlsx", "empty.xlsx"])
def test_import_xlsx_of_something_else_is_one_line(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"" if name.startswith("empty") else SBOM.read_bytes())
    one_line(mamori("assess", "import-xlsx", "1", path, cwd=tmp_path), path)


@pytest.mark.parametrize("command", [("sbom", "check"), ("sbom", "convert"), ("assess", "import-xlsx", "1")])
def test_xlsx_bomb_is_refused_before_it_is_parsed(tmp_path: Path, command: tuple[str, ...]) -> None:
    bomb = tmp_path / "parts.xlsx"
    bomb.write_bytes(xlsx_bomb(400_000, [["Component", "Version"], ["zlib", "1.3.1"]]))
    assert bomb.stat().st_size < 64 << 10
    extra = ("-o", tmp_path / "out.json", "--to", "spdx-json") if command[-1] == "convert" else ()
    one_line(mamori(*command, bomb, *extra, cwd=tmp_path), bomb, "zip bomb")


# --- 5. YAML nested too deep -----------------------------------------------------------------------------

DEEP_BLOCK = "a:\n" + "".join("  " * i + "-\n" for i in range(1, 1200))
DEEP_FLOW = "a: " + "[" * 1200 + "]" * 1200 + "\n"
YAML_READERS = {
    "scan --policy": ("scan", SBOM, "--policy", "{}"),
    "scan --context": ("scan", SBOM, "--context", "{}"),
    "triage --context": (
        "triage",
        "prioritize",
        SBOM,
        "--role",
        "supplier",
        "--skill",
        "low",
        "--context",
        "{}",
    ),
    "vex export": ("vex", "export", "{}", "-o", "out.json", "--to", "openvex"),
    "assess compare --profile": ("assess", "compare", SBOM, "--profile", "{}"),
}


@pytest.mark.parametrize("shape", ["block", "flow"])
@pytest.mark.parametrize("reader", sorted(YAML_READERS))
def test_yaml_nested_too_deep_is_one_line(tmp_path: Path, reader: str, shape: str) -> None:
    path = tmp_path / f"deep-{shape}.yaml"
    path.write_text(DEEP_BLOCK if shape == "block" else DEEP_FLOW)
    args = [str(path) if a == "{}" else a for a in YAML_READERS[reader]]
    one_line(mamori(*args, cwd=tmp_path), path, "nested deeper than 1000 levels")


# --- the same lines in Japanese --------------------------------------------------------------------------


def test_the_lines_follow_lang_ja(tmp_path: Path, fifo: Path) -> None:
    assert "通常のファイルではなく" in one_line(
        mamori("sbom", "check", fifo, "--lang", "ja", cwd=tmp_path), fifo
    )
    assert "フォルダー" in one_line(mamori("sbom", "convert", SBOM, "-o", tmp_path, "--to", "spdx-json",
                                         "--lang", "ja", cwd=tmp_path), tmp_path)  # fmt: skip
    run = mamori("sbom", "check", fifo, cwd=tmp_path, env={"MAMORI_LANG": "ja"})
    assert "通常のファイルではなく" in one_line(run, fifo)

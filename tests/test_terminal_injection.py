"""Hostile text from inputs never drives the terminal, never becomes rich markup, and reports carry only
http(s) links (issue 13, point 3).

A real SBOM (CERN's lhc-vdm-editor CycloneDX) and a real OSV record (PYSEC-2019-117, reportlab) get one
hostile text in names, versions, suppliers, licences, purls, the advisory's summary, details and
references, the assessment's fields, a triage record, a VEX statement, zip member names and an HTTP
header. Each command runs once as the installed ``mamori``; each cause is then checked on what it printed:

- markup: no traceback, the expected exit code, ``[/]x`` and ``[link=…]`` shown as the text they are;
- control: no raw ESC, BEL, C1 CSI, CR or bidi override on stdout, stderr or the text file written, and
  the sequences shown escaped (``\\x1b[2J``);
- urls: every link in SARIF, HTML and CycloneDX output is http(s).
"""

from __future__ import annotations

import copy
import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SHARED_DATA

MAMORI = str(Path(sys.executable).with_name("mamori"))
SBOM = SHARED_DATA / "sbom" / "cyclonedx" / "cern-lhc-vdm-editor-e564943" / "bom.json"
OSV = SHARED_DATA / "osv" / "pypi" / "reportlab" / "PYSEC-2019-117.yaml"
VEX = SHARED_DATA / "vex" / "cyclonedx" / "CISA-Use-Cases" / "Case-1" / "vex-not_affected.json"

# every kind of hostile text at once: markup, a link, clear screen, window title, an OSC 8 hyperlink,
# C1 CSI, BEL, a carriage return and a right-to-left override
HOSTILE = (
    "[/]x [link=http://evil.example/]L[/link] \x1b[2J \x1b]0;T\x07 "
    "\x1b]8;;http://evil.example/\x1b\\O\x1b]8;;\x1b\\ \x9b31m R\rS \u202eB"
)
RAW = ("\x1b", "\x07", "\x9b", "\r", "\u202e")
MARKUP_SHOWN = ("[/]x", "[link=http://evil.example/]L[/link]")
CONTROL_SHOWN = ("\\x1b[2J", "\\x1b]0;T\\x07", "\\x9b31m", "\\u202eB")
BAD_URLS = (
    "javascript:alert(1)",
    "data:text/html,<b>x</b>",
    "file:///etc/passwd",
    "https://ok.example/\x1b[2J",
)


@dataclass
class Case:
    """One command: its arguments, the exit codes it may end with, what it must show, what it wrote."""

    args: list[str]
    codes: tuple[int, ...] = (0,)
    shows: bool = True  # the hostile text appears in the output (else: only the no-raw checks apply)
    data: bool = False  # stdout is a JSON document (data, escaped as JSON escapes), not text for a person
    markup: tuple[str, ...] = MARKUP_SHOWN
    control: tuple[str, ...] = CONTROL_SHOWN
    file: str | None = None  # a text file the command writes for a person to read (checked like stdout)
    urls: Callable[[str], list[str]] | None = None  # the links the output carries


def _json_urls(text: str) -> list[str]:
    """Every value under a key named like a URL in the JSON document."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key.lower() in ("url", "helpuri") and isinstance(value, str):
                    found.append(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(json.loads(text))
    return found


def _html_urls(text: str) -> list[str]:
    return [u for u in re.findall(r'href="([^"]*)"', text) if not u.startswith("#") and u != "data:,"]


def _is_web(url: str) -> bool:
    return bool(re.fullmatch(r"https?://[^\s\x00-\x1f\x7f-\x9f]+", url))


# ----------------------------------------------------------------------------------------- the inputs


def _hostile_sbom(folder: Path) -> Path:
    doc = json.loads(SBOM.read_text(encoding="utf-8"))
    doc["metadata"]["component"]["name"] = f"app{HOSTILE}"
    first = doc["components"][0]
    first["name"] = HOSTILE
    first["publisher"] = HOSTILE
    first["licenses"] = [{"license": {"name": HOSTILE}}]
    second = doc["components"][1]
    second["version"] = f"4.1.1{HOSTILE}"
    doc["components"][3]["hashes"] = [{"alg": HOSTILE, "content": "00"}]  # read warnings quote the value
    doc["components"][4]["type"] = HOSTILE
    doc["components"].insert(0, {"type": "library", "bom-ref": "bare", "name": HOSTILE, "version": "1.0"})
    doc["components"].append(
        {
            "type": "library",
            "bom-ref": "reportlab",
            "name": HOSTILE,
            "version": "3.5.26",
            "supplier": {"name": HOSTILE},
            "purl": "pkg:pypi/reportlab@3.5.26",
        }
    )
    doc["components"].append(
        {
            "type": "library",
            "bom-ref": "evil",
            "name": "evil",
            "version": HOSTILE,
            "purl": f"pkg:npm/evil@{quote(HOSTILE, safe='')}",
        }
    )
    path = folder / "hostile.cdx.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _hostile_advisory(folder: Path) -> Path:
    record = yaml.safe_load(OSV.read_text(encoding="utf-8"))
    record["summary"] = HOSTILE
    record["details"] = f"{HOSTILE} {record['details']}"
    record["aliases"] = [*record.get("aliases", []), f"GHSA-{HOSTILE}"]
    record["references"] = [{"type": "WEB", "url": u} for u in BAD_URLS] + record.get("references", [])
    path = folder / "PYSEC-2019-117.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


def _hostile_zip(folder: Path) -> Path:
    """An OSV export whose member names carry the hostile text; one member is not JSON."""
    record = yaml.safe_load(OSV.read_text(encoding="utf-8"))
    path = folder / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{HOSTILE}.json", b"{not json")
        broken = copy.deepcopy(record)
        broken["id"] = "PYSEC-0000-1"
        broken["affected"] = "not a list"
        archive.writestr(f"b{HOSTILE}.json", json.dumps(broken))
    return path


def _hostile_vex(folder: Path) -> Path:
    doc = json.loads(VEX.read_text(encoding="utf-8"))
    vuln = doc["vulnerabilities"][0]
    vuln["analysis"]["detail"] = HOSTILE
    doc["metadata"]["component"]["name"] = HOSTILE
    second = copy.deepcopy(vuln)
    second["id"] = f"CVE-{HOSTILE}"
    second["source"] = {"name": HOSTILE, "url": "javascript:alert(1)"}
    second["affects"] = [{"ref": f"pkg:npm/x{HOSTILE}"}]
    doc["vulnerabilities"].append(second)
    path = folder / "hostile.vex.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _declaration(folder: Path) -> tuple[Path, Path]:
    """A supplier's declaration.json and the customer's requirement profile, both carrying the text."""
    declaration = folder / "declaration.json"
    declaration.write_text(
        json.dumps(
            {
                "mamori_declaration": "1",
                "framework": "ssdf",
                "catalog": {"framework": "ssdf", "version": "1"},
                "organization": HOSTILE,
                "scope": HOSTILE,
                "roles": ["developer"],
                "approver": {"name": HOSTILE, "title": "CEO"},
                "date": "2026-01-01",
                "items": [{"id": "PW.4.4", "status": "partial", "evidence": [], "level": 1}],
            }
        ),
        encoding="utf-8",
    )
    profile = folder / "profile.yaml"  # JSON is YAML: the escapes stay valid
    requirement = {"id": "PW.4.4", "level": 2}
    profile.write_text(json.dumps({"profile": HOSTILE, "framework": "ssdf", "requirements": [requirement]}))
    return declaration, profile


def _link_vex(folder: Path) -> Path:
    """The real VEX with a second statement whose source link is javascript: (and a data: supplier)."""
    doc = json.loads(VEX.read_text(encoding="utf-8"))
    second = copy.deepcopy(doc["vulnerabilities"][0])
    second["id"] = "CVE-2021-45046"
    second["source"] = {"name": "NVD", "url": "javascript:alert(1)"}
    doc["vulnerabilities"].append(second)
    path = folder / "links.vex.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _openvex_urls(text: str) -> list[str]:
    return [s["vulnerability"]["@id"] for s in json.loads(text)["statements"] if "@id" in s["vulnerability"]]


def _hostile_project(folder: Path) -> Path:
    """A project folder whose sub-project (a name a file system allows: no slash) has a broken lockfile."""
    project = folder / "project"
    sub = project / "sub[red]x \x1b[2J \x1b]0;T\x07 \x9bm \u202eB"
    sub.mkdir(parents=True)
    (sub / "package-lock.json").write_text("{broken", encoding="utf-8")
    return project


class _Headers(BaseHTTPRequestHandler):
    """An error whose explanation header (NVD's ``message``) carries C1 and bidi controls: 404 at once,
    or for ``/retry…`` a 503 first (retried) and then the real OSV record."""

    seen: ClassVar[set[str]] = set()

    def do_GET(self) -> None:
        text = "nope \u009b2J [/]x \u202eB".encode()
        if self.path.startswith("/retry") and self.path in self.seen:
            body = json.dumps(yaml.safe_load(OSV.read_text(encoding="utf-8"))).encode()
            head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            self.wfile.write(head.encode() + body)
            return
        self.seen.add(self.path)
        status = b"503 Service Unavailable" if self.path.startswith("/retry") else b"404 Not Found"
        self.wfile.write(
            b"HTTP/1.1 "
            + status
            + b"\r\nContent-Length: 0\r\nRetry-After: 0\r\nmessage: "
            + text
            + b"\r\n\r\n"
        )

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Headers)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _env(folder: Path) -> dict[str, str]:
    env = {
        "PATH": str(Path(sys.executable).parent) + os.pathsep + "/usr/bin:/bin",
        "HOME": str(folder),
        "XDG_DATA_HOME": str(folder / "data"),
        "MAMORI_DB": str(folder / "kb.db"),
        "MAMORI_LANG": "en",
        "MAMORI_USER": HOSTILE,
        "COLUMNS": "1000",
    }
    if "PYTHONPATH" in os.environ:  # to run the same tests against another checkout
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def _run(args: list[str], folder: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [MAMORI, *args], capture_output=True, env=_env(folder), cwd=folder, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def world(shared_data: Path, tmp_path_factory: pytest.TempPathFactory, server: str) -> dict[str, Any]:
    """The store with the hostile advisory, a product with a release, an assessment; the input files."""
    for path in (SBOM, OSV, VEX):
        if not path.exists():
            pytest.skip(f"{path} is absent")
    folder = tmp_path_factory.mktemp("terminal")
    files = {
        "sbom": str(_hostile_sbom(folder)),
        "plain": str(SBOM),
        "advisory": str(_hostile_advisory(folder)),
        "zip": str(_hostile_zip(folder)),
        "vex": str(_hostile_vex(folder)),
        "project": str(_hostile_project(folder)),
        "links": str(_link_vex(folder)),
        "declaration": str(_declaration(folder)[0]),
        "profile": str(folder / "profile.yaml"),
        "server": server,
        "folder": str(folder),
    }
    for name, case in _setup_cases(files).items():  # in this order: each needs what the last stored
        _DONE[name] = _run_case(name, case, folder)
    return files


def _setup_cases(w: dict[str, Any]) -> dict[str, Case]:
    """The commands that fill the store (their output is checked too)."""
    record = ["--component", "pkg:pypi/reportlab@3.5.26", "--vulnerability", "PYSEC-2019-117"]
    return {
        "db import": Case(["db", "import", "--complete", w["advisory"]], shows=False),
        "product add": Case(["product", "add", HOSTILE, "--supplier", HOSTILE]),
        "release add": Case(["release", "add", HOSTILE, "1.0", "--sbom", w["sbom"]]),
        "context set": Case(
            ["product", "context", "set", HOSTILE, "--system-exposure", "open", "--reason", HOSTILE]
        ),
        "triage record": Case(
            [
                "triage",
                "record",
                "--product",
                HOSTILE,
                "--release",
                "1.0",
                *record,
                "--status",
                "affected",
                "--detail",
                HOSTILE,
            ]
        ),
        "assess new": Case(
            [
                "assess",
                "new",
                "--framework",
                "ssdf",
                "--org",
                HOSTILE,
                "--roles",
                "developer",
                "--scope",
                HOSTILE,
            ],
            shows=False,
        ),
        "assess answer": Case(
            [
                "assess",
                "answer",
                "1",
                "PO.1.1",
                "--status",
                "partial",
                "--owner",
                HOSTILE,
                "--reason",
                HOSTILE,
            ],
            shows=False,
        ),
    }


def _cases(w: dict[str, Any]) -> dict[str, Case]:
    folder = Path(w["folder"])
    sbom, vex = w["sbom"], w["vex"]
    return {
        "scan table": Case(["scan", sbom], codes=(3,)),
        "scan table -o": Case(["scan", sbom, "-f", "table", "-o", str(folder / "r.txt")], (3,), file="r.txt"),
        "scan sarif": Case(
            ["scan", sbom, "-f", "sarif", "--allow-partial"], shows=False, data=True, urls=_json_urls
        ),
        "scan json": Case(
            ["scan", sbom, "-f", "json", "--allow-partial"], shows=False, data=True, urls=_json_urls
        ),
        "scan html": Case(
            ["scan", sbom, "-f", "html", "-o", str(folder / "r.html"), "--allow-partial"],
            shows=False,
            urls=lambda _: _html_urls((folder / "r.html").read_text(encoding="utf-8")),
        ),
        "scan cyclonedx-vdr": Case(
            ["scan", sbom, "-f", "cyclonedx-vdr", "--allow-partial"], shows=False, data=True, urls=_json_urls
        ),
        "sbom check": Case(["sbom", "check", sbom], codes=(0, 1)),
        "sbom diff": Case(["sbom", "diff", w["plain"], sbom]),
        "db show": Case(["db", "show", "PYSEC-2019-117"]),
        "db import zip": Case(
            ["db", "import", w["zip"]], codes=(1,), markup=("[/]x",), control=("\\x1b]0;T\\x07",)
        ),
        "db import url": Case(
            ["db", "import", f"{w['server']}/{quote(HOSTILE)}.json"],
            codes=(2,),
            markup=("[/]x",),
            control=("\\x9b2J", "\\u202eB"),
        ),
        "db import url retried": Case(
            ["db", "import", "--db", str(folder / "other.db"), f"{w['server']}/retry{quote(HOSTILE)}.json"],
            markup=("[/]x",),
            control=("\\x9b2J", "\\u202eB"),
        ),
        "sbom generate": Case(
            ["sbom", "generate", w["project"], "-o", str(folder / "g.cdx.json")],
            codes=(2,),  # the broken lockfile is refused, named in the one error line
            markup=("[red]x",),
            control=("\\x1b[2J", "\\x1b]0;T\\x07", "\\x9bm", "\\u202eB"),
        ),
        "missing file": Case(["scan", str(folder / f"{HOSTILE}.json")], codes=(2,), markup=("[/]x",)),
        "triage": Case(["triage", sbom, "--role", "user", "--skill", "low"]),
        "triage records": Case(["triage", "records", "--product", HOSTILE]),
        "vex import": Case(["vex", "import", vex, "--lenient"]),
        "vex import release": Case(
            ["vex", "import", vex, "--product", HOSTILE, "--release", "1.0"], codes=(0, 1)
        ),
        "vex convert cyclonedx": Case(
            ["vex", "convert", w["links"], "-o", str(folder / "l.cdx.json")],
            shows=False,
            urls=lambda _: _json_urls((folder / "l.cdx.json").read_text(encoding="utf-8")),
        ),
        "vex convert openvex": Case(
            ["vex", "convert", w["links"], "-o", str(folder / "l.openvex.json"), "--author", "me"],
            shows=False,
            urls=lambda _: _openvex_urls((folder / "l.openvex.json").read_text(encoding="utf-8")),
        ),
        "vex convert csaf": Case(
            [
                *("vex", "convert", w["links"], "-o", str(folder / "l.csaf.json"), "--author", "me"),
                *("--namespace", "https://psirt.example"),
            ],
            shows=False,
            urls=lambda _: _json_urls((folder / "l.csaf.json").read_text(encoding="utf-8")),
        ),
        "product list": Case(["product", "list"]),
        "product show": Case(["product", "show", HOSTILE]),
        "release show": Case(["release", "show", HOSTILE, "1.0"]),
        "portfolio findings": Case(["portfolio", "findings"]),
        "assess list": Case(["assess", "list"]),
        "assess show": Case(["assess", "show", "1", "--history"]),
        "assess gaps": Case(["assess", "gaps", "1"]),
        "assess compare": Case(
            ["assess", "compare", w["declaration"], "--profile", w["profile"]], codes=(1,)
        ),
    }


CASE_NAMES = [
    "db import", "product add", "release add", "context set", "triage record", "assess new", "assess answer",
    "scan table", "scan table -o", "scan json", "scan sarif", "scan html", "scan cyclonedx-vdr", "sbom check",
    "sbom diff", "db show", "db import zip", "db import url", "db import url retried", "sbom generate",
    "missing file", "triage", "triage records", "vex import", "vex import release",
    "vex convert cyclonedx", "vex convert openvex", "vex convert csaf", "product list", "product show",
    "release show", "portfolio findings", "assess list", "assess show", "assess gaps", "assess compare",
]  # fmt: skip
# run under a pseudo-terminal (rich colours, links and progress bars on; click strips nothing); the
# others with pipes, as in CI logs and redirections
TERMINAL = {
    "scan table", "sbom check", "sbom diff", "db show", "db import zip", "triage", "vex import",
    "release show", "portfolio findings", "assess list", "assess show", "assess gaps", "context set",
}  # fmt: skip
URL_CASES = [
    "scan json", "scan sarif", "scan html", "scan cyclonedx-vdr", "vex convert cyclonedx",
    "vex convert openvex", "vex convert csaf",
]  # fmt: skip
# what a terminal would act on: clear screen, window title, an OSC 8 hyperlink (rich's [link] or raw),
# BEL, C1 CSI, a right-to-left override; mamori's own colours and cursor moves (CSI) may stay
ACTIVE = ("\x1b[2J", "\x1b]0;", "\x1b]8;", "\x07", "\x9b", "\u202e")
_CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass(frozen=True)
class Outcome:
    case: Case
    code: int
    out: str  # stdout (with stderr, under a terminal)
    err: str
    written: str  # the text file the command wrote
    terminal: bool


_DONE: dict[str, Outcome] = {}


def _run_in_terminal(args: list[str], folder: Path) -> tuple[int, str]:
    """Run ``mamori ARGS`` with a pseudo-terminal as stdin, stdout and stderr; what the terminal got."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 60, 1000, 0, 0))
    env = {**_env(folder), "TERM": "xterm-256color"}
    env.pop("COLUMNS")
    proc = subprocess.Popen([MAMORI, *args], stdin=slave, stdout=slave, stderr=slave, env=env, cwd=folder)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the other end closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=300), b"".join(chunks).decode("utf-8", errors="replace")


def _outcome(world: dict[str, Any], name: str) -> Outcome:
    """What one command printed and wrote, run once per module."""
    if name not in _DONE:
        _DONE[name] = _run_case(name, _cases(world)[name], Path(world["folder"]))
    return _DONE[name]


def _run_case(name: str, case: Case, folder: Path) -> Outcome:
    if name in TERMINAL:
        code, out = _run_in_terminal(case.args, folder)
        err = ""
    else:
        done = _run(case.args, folder)
        code = done.returncode
        out = done.stdout.decode("utf-8", errors="replace")
        err = done.stderr.decode("utf-8", errors="replace")
    written = ""
    if case.file and (folder / case.file).exists():
        written = (folder / case.file).read_text(encoding="utf-8", errors="replace")
    return Outcome(case, code, out, err, written, name in TERMINAL)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_markup_is_shown_as_text(world: dict[str, Any], name: str) -> None:
    o = _outcome(world, name)
    assert "Traceback" not in o.out + o.err, (o.out + o.err)[-3000:]
    assert o.code in o.case.codes, (o.code, (o.out + o.err)[-2000:])
    if o.case.shows:
        shown = _CSI.sub("", o.out) + o.err + o.written
        missing = [m for m in o.case.markup if m not in shown]
        assert not missing, (missing, shown[-3000:])


@pytest.mark.parametrize("name", CASE_NAMES)
def test_control_characters_are_shown_escaped(world: dict[str, Any], name: str) -> None:
    o = _outcome(world, name)
    if o.terminal:  # the pseudo-terminal turns \n into \r\n; mamori's colours are CSI sequences
        active = [repr(c) for c in ACTIVE if c in o.out]
        assert not active, (active, o.out[-2000:])
        assert "\x1b" not in _CSI.sub("", o.out), o.out[-2000:]
    else:
        for where, text in (("stdout", "" if o.case.data else o.out), ("stderr", o.err), ("file", o.written)):
            raw = [repr(c) for c in RAW if c in text]
            assert not raw, (where, raw, text[-2000:])
    assert "Traceback" not in o.out + o.err, (o.out + o.err)[-3000:]
    if o.case.shows:
        shown = _CSI.sub("", o.out) + o.err + o.written
        missing = [m for m in o.case.control if m not in shown]
        assert not missing, (missing, shown[-3000:])


@pytest.mark.parametrize("name", URL_CASES)
def test_report_links_are_http(world: dict[str, Any], name: str) -> None:
    o = _outcome(world, name)
    assert o.code in o.case.codes, (o.code, o.err[-2000:])
    assert o.case.urls is not None
    urls = o.case.urls(o.out)
    assert urls, "the report carries the advisory's web links"
    assert [u for u in urls if not _is_web(u)] == []


# ------------------------------------------------------------------------- the two helpers, directly

CONTROLS = [
    *map(chr, range(0x20)), "\x7f", *map(chr, range(0x80, 0xA0)), "\u2028", "\u2029",
    "\u061c", "\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A)),
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff",
]  # fmt: skip


@pytest.mark.parametrize("char", CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_visible_escapes_control_and_bidi_characters(char: str) -> None:
    from mamori.display import visible

    shown = visible(f"a{char}b")
    assert shown.startswith("a\\") and shown.endswith("b") and shown.isascii() and shown.isprintable()


def test_visible_keeps_japanese_text() -> None:
    from mamori.display import visible

    text = "脆弱性　ｶﾀｶﾅ ひらがな — “quotes” ☆1 [bold]x[/]"
    assert visible(text) == text


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://nvd.nist.gov/vuln/detail/CVE-2021-44228", True),
        ("HTTP://Example.org/a?b=c#d", True),
        ("https://[2001:db8::1]:8443/x", True),
        ("javascript:alert(1)", False),
        ("JavaScript:alert(1)", False),
        ("data:text/html,<script>x</script>", False),
        ("file:///etc/passwd", False),
        ("vbscript:x", False),
        ("//evil.example/x", False),
        ("https:///no-host", False),
        ("https://a.example:port/", False),
        ("https://[::1/", False),
        (" https://a.example/", False),
        ("https://a.example/\x1b[2J", False),
        ("https://a.example/\u202egpj.exe", False),
        ("https://a example/", False),
        ("", False),
    ],
)
def test_web_url(url: str, kept: bool) -> None:
    from mamori.model.references import web_url

    assert (web_url(url) == url) is kept


_URL_PIECES = st.sampled_from(
    ["http://", "https://", "HTTP://", "a", "B.c", "-", ".", ":", ":80", ":99999", "@", "[::1]", "/", "?", "#",
     "%", " ", "\t", "\\", "\x7f", "\x1b", "\u202e", "é", "[", "]"]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(_URL_PIECES, max_size=8).map("".join))
def test_the_plain_url_shortcut_decides_as_the_full_checks(value: str) -> None:
    """A reference the quick pattern accepts is one the full checks (split, scheme, host, port, no
    control or space) accept too, and what it does not accept is left to them."""
    from mamori.model import references

    quick = references._PLAIN_WEB_URL.fullmatch(value) is not None
    checked = references._checked_web_url(value)
    assert references._web_url(value) == checked
    if quick:
        assert checked == value


_PIECES = st.sampled_from(
    ["[", "]", "/", "\\", "[/]", "[link=http://evil.example/]", "[bold]", "\x1b", "\x9b"]
)
_TEXT = st.lists(st.one_of(st.text(max_size=4), _PIECES), max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_any_text_beside_mamori_styles_or_in_a_cell_is_shown_as_it_is(value: str) -> None:
    """Whatever an input holds, beside mamori's own styled words (``Text.assemble``) or as a table cell
    (``plain``), rich prints exactly its visible form: no markup error, no tag taken from it."""
    import io

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from mamori.display import plain, visible

    buffer = io.StringIO()
    console = Console(file=buffer, width=10_000, color_system=None, force_terminal=False)
    console.print(Text.assemble(("<", "bold"), plain(value), ("[/]>", "red")), soft_wrap=True)
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(no_wrap=True)
    table.add_row(plain(value))
    console.print(table)
    first, second = buffer.getvalue().split("\n")[:2]
    assert first == f"<{visible(value)}[/]>"
    assert second.rstrip() == visible(value).rstrip()

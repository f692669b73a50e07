"""Every error that promises one line is one line: each command that reads or writes a file, run through
the installed ``mamori``'s entry point with each kind of bad file in each place a file goes, exits 2 with
exactly one line on stderr naming that file, and never a traceback (issue 13, point 6).

Most cases run the entry point (:func:`mamori.cli.main.run`) in a process forked from one that has imported
mamori already (tests/cli_forks.py: its own process per case, so nothing leaks from one case to the next,
and a hang is killed at the timeout); one case of every top-level command (:data:`PROCESS_CASES`) runs as
the installed ``mamori`` script in a new Python process, so the real process path stays proved for each.

The commands and their parameters are read from the application itself: a parameter that is not
listed here as a file it reads (:data:`READS`), a file it writes (:data:`WRITES`) or something else
(:data:`NOT_FILES`) fails :func:`test_every_parameter_is_classified`, so a new command or option is
not forgotten. Every run has a bounded timeout: a command that waits on a FIFO or reads /dev/zero
without end fails instead of hanging the suite.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer

from cli_forks import ForkedCli, Run
from mamori.cli.main import app
from spreadsheet_fixtures import xlsx_bomb

REPO = Path(__file__).resolve().parents[1]
MAMORI = Path(sys.executable).with_name("mamori")
DEMO = REPO / "src" / "mamori" / "data" / "demo"
SBOM = DEMO / "shop-portal-2.1.0.cdx.json"
OSV = sorted((DEMO / "osv").glob("*.json"))[0]
KEV = DEMO / "kev" / "known_exploited_demo.json"
TIMEOUT = 90
SKIP = "skip"
PROFILE = "profile: p\nframework: ssdf\nrequirements:\n  - id: PW.4.4\n    level: 2\n"


def _tree() -> dict[str, set[str]]:
    """command path → the names of its parameters."""
    found: dict[str, set[str]] = {}

    def walk(command: object, path: tuple[str, ...]) -> None:
        subs = getattr(command, "commands", None)
        if subs:
            for name, sub in sorted(subs.items()):
                walk(sub, (*path, name))
        else:
            found[" ".join(path)] = {p.name for p in command.params}  # type: ignore[attr-defined]

    walk(typer.main.get_command(app), ())
    return found


COMMANDS = _tree()

# Parameters that name no file mamori reads or writes here. ``db`` is the store (its own tests).
NOT_FILES = {
    "no_apply", "lang", "db", "fmt", "output_format", "assessment_id", "item_id", "status", "level", "owner", "due", "reason",
    "by", "proposal", "item", "every", "reject", "override", "approver", "date", "allow_unanswered", "only",
    "issued", "draft", "framework", "org", "roles", "scope", "target_level", "history", "frameworks", "strict",
    "kind", "source", "batch", "complete", "identifier", "sha256", "max_size", "since", "api_key", "ecosystem",
    "purl", "cve", "jvn_lang", "force", "url", "options", "product", "resolved", "role", "changed_only", "name",
    "supplier", "points", "system_exposure", "mission_impact", "safety_impact", "value_density", "set_values",
    "version", "no_match", "profile", "columns", "sheet", "input_format", "to", "spec_version", "root_name",
    "root_version", "exclude_dev", "fail_on", "skill", "max_age", "allow_partial", "purl2cpe_weak", "release",
    "table", "assignments", "conservative", "author", "namespace", "component", "vulnerability", "justification",
    "responses", "detail", "who", "history_of", "verbose", "lenient", "timeout", "deadline", "max_retry_wait",
    "max_download", "total_deadline", "severity", "exit_code", "quiet", "ignore_unfixed", "shell", "tlp",
    "review_interval", "target", "author_from_git", "exclude", "include_tests", "no_default_excludes", "top",
    "show_all", "expires", "team", "key_id", "access_log", "behind_proxy", "demo", "forwarded_allow_ips", "host",
    "csaf_publisher", "csaf_namespace", "cna_org_id", "cna_short_name",
    "port", "password_stdin",
    "channel", "secret", "secret_stdin", "min_severity", "ssvc", "kev_only", "event", "digest", "subscription",
    "limit", "baseline", "epss_rise", "deliver",
    "broker", "concurrency", "queues", "pool", "loglevel", "job_id", "job",
    "title", "reporter", "contact", "credit", "coordinator", "channel_ref", "embargo", "vers", "fixed_version",
    "cwe", "cvss3", "cvss4", "fix_url", "description", "workaround", "mitigation", "impact", "state", "note",
    "duplicate_of", "affected", "fixed", "not_affected", "remove", "recompute", "text_title", "key", "as_",
    "set_", "reset", "notify", "domain", "csaf", "encryption", "policy", "acknowledgments", "languages", "case",
    "vex", "publisher", "revision", "org_id", "short_name", "vendor", "reference", "base_url", "review_days",
    "assessment",
    "site", "system", "environment", "exposure", "network", "end_of_support", "deployment",
    "delivered", "release_date", "critical", "ours", "theirs",
}  # fmt: skip

# (command, parameter) → (argv with {} where the file goes, what the file should hold)
READS: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {
    ("assess answer", "evidence"): (("assess", "answer", "1", "G-1-1", "--status", "done", "--evidence", "{}"), "any"),
    ("assess answer", "from_file"): (("assess", "answer", "1", "--from", "{}"), "yaml"),
    ("assess compare", "declaration"): (("assess", "compare", "{}", "--profile", "@profile"), "json"),
    ("assess compare", "profile"): (("assess", "compare", str(SBOM), "--profile", "{}"), "yaml"),
    ("assess import-xlsx", "workbook"): (("assess", "import-xlsx", "1", "{}"), "xlsx"),
    ("assess label", "fields"): (("assess", "label", "2", "-o", "@out/label.html", "--fields", "{}"), "yaml"),
    ("assess propose", "sbom"): (("assess", "propose", "1", "--sbom", "{}"), "sbom"),
    ("assess propose", "scan"): (("assess", "propose", "1", "--scan", "{}"), "json"),
    ("assess propose", "vex_file"): (("assess", "propose", "1", "--vex", "{}"), "vex"),
    ("catalog check", "seeds"): (("catalog", "check", "--seeds", "{}"), "folder"),
    ("db import", "path"): (("db", "import", "{}"), "advisory"),
    ("db snapshot import", "file"): (("db", "snapshot", "import", "{}"), "zip"),
    ("release add", "sbom"): (("release", "add", "shop", "9.9", "--sbom", "{}"), "sbom"),
    ("sbom check", "source"): (("sbom", "check", "{}"), "sbom"),
    ("sbom convert", "source"): (("sbom", "convert", "{}", "-o", "@out/x.spdx.json"), "sbom"),
    ("sbom diff", "old"): (("sbom", "diff", "{}", str(SBOM)), "sbom"),
    ("sbom diff", "new"): (("sbom", "diff", str(SBOM), "{}"), "sbom"),
    ("sbom generate", "path"): (("sbom", "generate", "{}", "-o", "@out/g.cdx.json"), "lockfile"),
    ("sbom generate", "rootfs"): (("sbom", "generate", "@project", "--rootfs", "{}", "-o", "@out/g.cdx.json"), "folder"),
    ("sbom generate", "python_env"): (
        ("sbom", "generate", "@project", "--python-env", "{}", "-o", "@out/g.cdx.json"), "folder"),
    ("sbom merge", "sources"): (("sbom", "merge", str(SBOM), "{}", "-o", "@out/m.cdx.json"), "sbom"),
    ("scan", "target"): (("scan", "{}"), "sbom"),
    ("scan", "context"): (("scan", str(SBOM), "--context", "{}"), "yaml"),
    ("scan", "vex_files"): (("scan", str(SBOM), "--vex", "{}"), "vex"),
    ("scan", "policy"): (("scan", str(SBOM), "--policy", "{}"), "yaml"),
    ("scan", "ignorefile"): (("scan", str(SBOM), "--ignorefile", "{}"), "yaml"),
    ("triage prioritize", "target"): (("triage", "prioritize", "{}", "--role", "supplier", "--skill", "low"), "sbom"),
    ("triage prioritize", "context_file"): (
        ("triage", "prioritize", str(SBOM), "--role", "supplier", "--skill", "low", "--context", "{}"), "yaml"),
    ("triage prioritize", "vex_files"): (
        ("triage", "prioritize", str(SBOM), "--role", "supplier", "--skill", "low", "--vex", "{}"), "vex"),
    ("triage prioritize", "policy_file"): (
        ("triage", "prioritize", str(SBOM), "--role", "supplier", "--skill", "low", "--policy", "{}"), "yaml"),
    ("vex convert", "src"): (("vex", "convert", "{}", "-o", "@out/v.json", "--to", "openvex"), "vex"),
    ("vex export", "statements"): (("vex", "export", "{}", "-o", "@out/v.json", "--to", "openvex"), "yaml"),
    ("vex import", "file"): (("vex", "import", "{}"), "vex"),
    ("serve", "oidc_config"): (("serve", "--port", "0", "--oidc-config", "{}"), "yaml"),
    ("serve", "tls_cert"): (("serve", "--port", "0", "--tls-cert", "{}", "--tls-key", str(SBOM)), "pem"),
    ("serve", "tls_key"): (("serve", "--port", "0", "--tls-cert", str(SBOM), "--tls-key", "{}"), "any"),
    ("serve", "csaf_provider"): (("serve", "--port", "0", "--csaf-provider", "{}"), "folder"),
    ("psirt case new", "eml"): (("psirt", "case", "new", "--eml", "{}"), "any"),
    ("advisory validate", "files"): (("advisory", "validate", "{}"), "csaf"),
    ("csaf apply", "files"): (("csaf", "apply", "{}"), "vex"),
    ("advisory publish", "files"): (("advisory", "publish", "{}", "--provider", "@out/provider"), "csaf"),
    ("bundle verify", "file"): (("bundle", "verify", "{}", "--key", "@pub"), "zip"),
    ("bundle verify", "key"): (("bundle", "verify", "@bundle", "--key", "{}"), "pem"),
    ("bundle import", "file"): (("bundle", "import", "{}", "--key", "@pub"), "zip"),
    ("bundle import", "key"): (("bundle", "import", "@bundle", "--key", "{}"), "pem"),
    ("bundle create", "key"): (("bundle", "create", "shop@1.0", "--supplier", "S", "-o", "@out/b.zip", "--key", "{}"), "pem"),
    ("bundle trust", "key"): (("bundle", "trust", "Example Corp", "--key", "{}"), "pem"),
    ("inventory import", "file"): (("inventory", "import", "{}"), "xlsx"),
    ("contract terms set", "source"): (("contract", "terms", "set", "ACME", "--from", "{}"), "yaml"),
    ("contract check", "sbom"): (("contract", "check", "ACME", "--sbom", "{}"), "sbom"),
    ("contract check", "vex"): (("contract", "check", "ACME", "--sbom", str(SBOM), "--vex", "{}"), "vex"),
    ("contract check", "declaration"): (("contract", "check", "ACME", "--declaration", "{}"), "json"),
    ("contract questionnaire import", "workbook"): (("contract", "questionnaire", "import", "ACME", "{}"), "xlsx"),
    ("csaf subscribe", "key"): (("csaf", "subscribe", "127.0.0.1:9", "--key", "{}"), "pgp"),
}  # fmt: skip

# the PSIRT case _prepare opens (its key has the year it was received in)
CASE = f"PSIRT-{datetime.now(UTC).year}-0001"

# (command, parameter) → argv with {} where the output goes
WRITES: dict[tuple[str, str], tuple[str, ...]] = {
    ("scheduler", "schedule_file"): ("scheduler", "--broker", "amqp://guest:guest@127.0.0.1:1//", "--schedule-file", "{}"),
    ("assess declare", "output"): ("assess", "declare", "1", "--approver", "A, CEO", "--allow-unanswered", "-o", "{}"),
    ("assess export-xlsx", "output"): ("assess", "export-xlsx", "1", "-o", "{}"),
    ("assess label", "output"): ("assess", "label", "2", "-o", "{}", "--draft"),
    ("db snapshot export", "file"): ("db", "snapshot", "export", "{}"),
    ("demo", "out"): ("demo", "--out", "{}"),
    ("plan contract", "output"): ("plan", "contract", "-o", "{}"),
    ("sbom convert", "output"): ("sbom", "convert", str(SBOM), "-o", "{}", "--to", "spdx-json"),
    ("sbom generate", "output"): ("sbom", "generate", "@project", "-o", "{}", "--format", "cyclonedx-json"),
    ("sbom merge", "output"): ("sbom", "merge", str(SBOM), str(SBOM), "-o", "{}", "--to", "cyclonedx-json"),
    ("scan", "output"): ("scan", str(SBOM), "--output", "{}", "--format", "json"),
    ("triage export", "output"): ("triage", "export", "--product", "shop", "--release", "1.0", "--format", "openvex", "--author", "A",
                                  "-o", "{}"),
    ("triage prioritize", "output"): ("triage", "prioritize", str(SBOM), "--role", "supplier", "--skill", "low",
                                      "--format", "json", "--output", "{}"),
    ("vex convert", "output"): ("vex", "convert", "@vex", "-o", "{}", "--to", "openvex"),
    ("vex export", "output"): ("vex", "export", "@statements", "-o", "{}", "--to", "openvex"),
    ("psirt metrics", "output"): ("psirt", "metrics", "--format", "csv", "-o", "{}"),
    ("psirt security-txt", "output"): ("psirt", "security-txt", "--domain", "example.com", "--contact",
                                       "mailto:psirt@example.com", "-o", "{}"),
    ("advisory new", "output"): ("advisory", "new", "--case", CASE, "--publisher", "Example Corp", "--namespace",
                                 "https://example.com", "-o", "{}"),
    ("advisory cve", "output"): ("advisory", "cve", "--case", CASE, "--org-id", "8254265b-2729-46b6-b9e3-3dfca2d5bfca",
                                 "--short-name", "example", "--vendor", "Example Corp", "--reference",
                                 "https://example.com/advisory", "-o", "{}"),
    ("advisory publish", "provider"): ("advisory", "publish", "@csaf", "--provider", "{}"),
    ("bundle keygen", "output"): ("bundle", "keygen", "-o", "{}"),
    ("bundle import", "report"): ("bundle", "import", "@bundle", "--key", "@pub", "--report", "{}"),
    ("bundle create", "output"): ("bundle", "create", "shop@1.0", "--supplier", "S", "--key", "@key", "-o", "{}"),
    ("inventory export", "output"): ("inventory", "export", "-o", "{}"),
    ("inventory priorities", "output"): ("inventory", "priorities", "--format", "json", "-o", "{}"),
    ("contract check", "output"): ("contract", "check", "ACME", "--sbom", str(SBOM), "-o", "{}"),
    ("contract terms show", "output"): ("contract", "terms", "show", "ACME", "-o", "{}"),
    ("contract questionnaire send", "output"): ("contract", "questionnaire", "send", "ACME", "-o", "{}"),
}  # fmt: skip

FILE_KINDS = (
    "missing",
    "dev-zero",
    "fifo",
    "empty",
    "garbage",
    "truncated",
    "wrong-format",
    "too-deep",
    "bomb",
)
FOLDER_KINDS = ("missing", "dev-zero", "fifo", "a-file")  # where a folder goes
ANY_KINDS = ("missing", "directory", "dev-zero", "fifo")  # any regular file is good (evidence)
OUTPUT_KINDS = {  # where the output is a folder: a file in its place
    ("assess declare", "output"): ("a-file", "dev-full"),
    ("demo", "out"): ("a-file",),
    ("advisory publish", "provider"): ("a-file",),
}


def kinds(what: str) -> tuple[str, ...]:
    if what == "folder":
        return FOLDER_KINDS
    if what == "any":
        return ANY_KINDS
    if what == "lockfile":  # a folder is what it usually reads: no "directory" case
        return ("missing", "dev-zero", "fifo", "empty", "garbage", "too-deep")
    if what == "advisory":  # a folder is what it usually reads
        return tuple(k for k in FILE_KINDS if k not in ("directory",))
    if what == "csaf":  # any other JSON is a CSAF document that fails its tests (exit 1), not unreadable
        return ("directory", *(k for k in FILE_KINDS if k != "wrong-format"))
    return ("directory", *FILE_KINDS)


def _deep(what: str) -> bytes:
    if what in ("yaml", "lockfile"):
        return b"a:\n" + b"".join(b"  " * i + b"-\n" for i in range(1, 1200))
    return b"[" * 100_000 + b"]" * 100_000  # JSON (and any reader that sniffs it)


def _zip_bomb(name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, archive.open(name, "w") as fh:
        for _ in range(48):
            fh.write(bytes(1 << 20))
    return buffer.getvalue()


def _real(what: str) -> bytes:
    """A real file of the kind the parameter reads (for truncation) ."""
    return {
        "advisory": OSV.read_bytes(),
        "yaml": PROFILE.encode(),
        "xlsx": _workbook(),
        "zip": _zip_bytes({"manifest.json": b"{}"}),
    }.get(what, SBOM.read_bytes())


def _workbook() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    for row in (["Component", "Version", "Supplier"], ["zlib", "1.3.1", "Jean-loup Gailly, Mark Adler"]):
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def make_input(folder: Path, what: str, kind: str) -> str:
    """The bad input of ``kind`` for a parameter that reads ``what``; returns the path to pass."""
    path = folder / f"input-{kind}.{'xlsx' if what == 'xlsx' else 'yaml' if what == 'yaml' else 'json'}"
    if kind == "missing":
        return str(folder / "no-such-file.json")
    if kind == "directory":
        path.mkdir()
    elif kind == "dev-zero":
        return "/dev/zero"
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "a-file":
        path.write_bytes(SBOM.read_bytes())
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "garbage":
        path.write_bytes(bytes((i * 167 + 13) % 256 for i in range(4096)))
    elif kind == "truncated":
        real = _real(what)
        path.write_bytes(real[: len(real) // 2])
    elif kind == "wrong-format":  # a real file of another kind: the KEV catalog, or an SBOM for an advisory
        path.write_bytes((SBOM if what == "advisory" else KEV).read_bytes())
    elif kind == "too-deep":
        path.write_bytes(_deep(what))
    elif kind == "bomb":
        if what == "xlsx" or what == "sbom":
            path = path.with_suffix(".xlsx")
            path.write_bytes(xlsx_bomb(400_000, [["Component", "Version"]]))
        else:
            path = path.with_suffix(".zip")
            path.write_bytes(_zip_bomb("member.json"))
    return str(path)


FULL = os.environ.get("MAMORI_SWEEP") == "full"  # every kind in every place (slow: a few hundred runs)


def _cases() -> dict[str, tuple[tuple[str, str], str, str]]:
    """By default every place a file goes gets the kinds that hang or read without end (a FIFO,
    /dev/zero), and the first place of each file type gets every kind; MAMORI_SWEEP=full: all of them."""
    cases: dict[str, tuple[tuple[str, str], str, str]] = {}
    first: set[str] = set()
    for key, (_, what) in READS.items():
        every = FULL or what not in first
        first.add(what)
        for kind in kinds(what):
            if every or kind in ("dev-zero", "fifo"):
                cases[f"read:{key[0]} {key[1]}:{kind}"] = (key, "read", kind)
    for key in WRITES:
        for kind in OUTPUT_KINDS.get(key, ("directory", "dev-full")):
            cases[f"write:{key[0]} {key[1]}:{kind}"] = (key, "write", kind)
    return cases


CASES = _cases()


def _env(folder: Path) -> dict[str, str]:
    return {
        **os.environ,
        "MAMORI_DB": str(folder / "kb.db"),
        "XDG_DATA_HOME": str(folder / "data"),
        "MAMORI_LANG": "en",
        "NO_COLOR": "1",
        "COLUMNS": "200",
        "MAMORI_IMPORT_WORKERS": "0",
    }


def _prepare(base: Path, forked: ForkedCli) -> Path:
    """A store with assessments 1 (guideline) and 2 (jcstar1), product shop 1.0 with a triage record (so
    every command gets as far as its files),
    a project folder, VEX statements and a profile; copied into each case's folder."""
    base.mkdir(parents=True, exist_ok=True)
    env = _env(base)
    for argv in (
        ("assess", "new", "--framework", "guideline", "--org", "o", "--roles", "developer", "--scope", "s"),
        ("assess", "new", "--framework", "jcstar1", "--org", "o", "--roles", "developer", "--scope", "s"),
        ("product", "add", "shop"),
        ("release", "add", "shop", "1.0", "--sbom", str(SBOM), "--no-match"),
        (
            "triage",
            "record",
            "--product",
            "shop",
            "--release",
            "1.0",
            "--component",
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            "--vulnerability",
            "CVE-2021-44228",
            "--status",
            "not_affected",
            "--justification",
            "component_not_present",
        ),
        (
            "psirt",
            "case",
            "new",
            "--title",
            "Log4Shell in shop",
            "--cve",
            "CVE-2021-44228",
            "--description",
            "JNDI lookups run remote code.",
            "--component",
            "pkg:maven/org.apache.logging.log4j/log4j-core",
            "--range",
            "vers:maven/>=2.0.1|<2.15.0",
        ),
    ):
        run = forked.run(argv, cwd=base, env=env, folder=base, timeout=TIMEOUT)
        assert run.returncode == 0, (argv, run.stderr)
    (base / "project").mkdir()
    (base / "project" / "requirements.txt").write_text("requests==2.31.0\n")
    (base / "statements.yaml").write_text(
        "document:\n  author: Example Corp PSIRT\nstatements:\n  - vulnerability: CVE-2021-44228\n"
        "    products: [pkg:maven/a/b@1]\n    status: not_affected\n    justification: component_not_present\n"
    )
    (base / "profile.yaml").write_text(PROFILE)
    key = str(base / "bundle.key")
    for argv in (
        ("bundle", "keygen", "-o", key),
        (
            "bundle",
            "create",
            "shop@1.0",
            "--supplier",
            "Example Corp",
            "--key",
            key,
            "-o",
            str(base / "bundle.zip"),
        ),
        ("contract", "terms", "set", "ACME", "--from", str(base / "terms.yaml")),
    ):
        if argv[0] == "contract":
            (base / "terms.yaml").write_text("items:\n  TX-01: {formats: cyclonedx}\n  TX-18: {}\n")
        run = forked.run(argv, cwd=base, env=env, folder=base, timeout=TIMEOUT)
        assert run.returncode == 0, (argv, run.stderr)
    return base


def _argv(template: tuple[str, ...], folder: Path, value: str) -> list[str]:
    out = []
    for arg in template:
        if arg == "{}":
            out.append(value)
        elif arg.startswith("@out/"):
            out.append(str(folder / arg[5:]))
        elif arg == "@profile":
            out.append(str(folder / "profile.yaml"))
        elif arg == "@project":
            out.append(str(folder / "project"))
        elif arg == "@statements":
            out.append(str(folder / "statements.yaml"))
        elif arg == "@vex":
            out.append(str(folder / "vex.json"))
        elif arg == "@csaf":
            out.append(str(folder / "advisory.json"))
        elif arg in ("@key", "@pub", "@bundle"):
            out.append(
                str(folder / {"@key": "bundle.key", "@pub": "bundle.key.pub", "@bundle": "bundle.zip"}[arg])
            )
        else:
            out.append(arg)
    return out


# One case of every top-level command runs as the installed script in a new process (the kinds that would
# hang without their checks first); the others in forks of a process that has imported mamori.
_PROCESS_KINDS = ("fifo", "dev-zero", "dev-full", "a-file", "directory")


def _process_cases() -> frozenset[str]:
    chosen: dict[str, str] = {}
    rank = {kind: index for index, kind in enumerate(_PROCESS_KINDS)}
    for name in sorted(sorted(CASES), key=lambda n: rank.get(CASES[n][2], len(rank))):
        chosen.setdefault(CASES[name][0][0].split()[0], name)
    return frozenset(chosen.values())


PROCESS_CASES = _process_cases()


def _run_case(name: str, template_dir: Path, root: Path, forked: ForkedCli) -> tuple[Run | None, str]:
    key, side, kind = CASES[name]
    folder = root / f"case{sorted(CASES).index(name)}"
    shutil.copytree(template_dir, folder)
    if side == "read":
        template, what = READS[key]
        value = make_input(folder, what, kind)
    else:
        template = WRITES[key]
        if kind == "directory":
            value = str(folder / "out-folder")
            Path(value).mkdir()
        elif kind == "a-file":
            value = str(folder / "out-file")
            Path(value).write_text("not a folder")
        else:  # a full device of our own: never /dev/full itself, which a faulty writer could replace
            value = str(folder / "full")
            try:
                os.mknod(value, stat.S_IFCHR | 0o666, os.makedev(1, 7))
            except OSError:
                return None, SKIP
    argv = _argv(template, folder, value)
    if name not in PROCESS_CASES:
        run = forked.run(argv, cwd=folder, env=_env(folder), folder=root, timeout=TIMEOUT)
        return (None if run.returncode is None else run), value
    try:
        done = subprocess.run(
            [str(MAMORI), *argv],
            cwd=folder,
            env=_env(folder),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, value
    return Run(done.returncode, done.stdout, done.stderr), value


@pytest.fixture(scope="module")
def forked() -> Iterator[ForkedCli]:
    runner = ForkedCli()
    try:
        yield runner
    finally:
        runner.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, forked: ForkedCli) -> Path:
    """The store and files every case starts from (once per test process; each case copies it)."""
    template_dir = _prepare(tmp_path_factory.mktemp("sweep") / "template", forked)
    for argv in (
        ("vex", "export", str(template_dir / "statements.yaml"), "-o", str(template_dir / "vex.json"), "--to",
         "openvex"),
        ("advisory", "new", "--case", CASE, "--publisher", "Example Corp", "--namespace", "https://example.com",
         "-o", str(template_dir / "advisory.json")),
    ):  # fmt: skip
        done = forked.run(
            argv, cwd=template_dir, env=_env(template_dir), folder=template_dir, timeout=TIMEOUT
        )
        assert done.returncode == 0, done.stderr
    return template_dir


def test_every_parameter_is_classified() -> None:
    """A new command or option that takes a file must be added to READS or WRITES (or NOT_FILES)."""
    unknown = {
        (command, param)
        for command, params in COMMANDS.items()
        for param in params
        if param not in NOT_FILES and (command, param) not in READS and (command, param) not in WRITES
    }
    assert unknown == set()
    assert {k for k in [*READS, *WRITES] if k[0] not in COMMANDS or k[1] not in COMMANDS[k[0]]} == set()


def test_every_command_runs_once_as_the_installed_script() -> None:
    """Every top-level command that takes a file has a case run as the installed ``mamori`` process."""
    groups = {key[0].split()[0] for key, _, _ in CASES.values()}
    assert {CASES[name][0][0].split()[0] for name in PROCESS_CASES} == groups
    assert len(PROCESS_CASES) == len(groups)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_file_is_one_line_naming_it(
    case: str, template: Path, forked: ForkedCli, tmp_path_factory: pytest.TempPathFactory
) -> None:
    if case in PROCESS_CASES and not MAMORI.exists():
        pytest.skip(f"the installed mamori is not next to {sys.executable}")
    run, value = _run_case(case, template, tmp_path_factory.mktemp("case"), forked)
    if value == SKIP:
        pytest.skip("cannot make a device node here (not root, or nodev)")
    assert run is not None, f"{case}: no answer in {TIMEOUT} s (waits on a FIFO or reads without end)"
    lines = run.stderr.splitlines()
    assert "Traceback" not in run.stderr, (case, run.stderr[-3000:])
    assert run.returncode == 2, (case, run.returncode, run.stderr[-3000:])
    assert len(lines) == 1, (case, run.stderr[-3000:])
    assert lines[0].startswith("mamori: error: ") and value in lines[0], (case, lines[0])

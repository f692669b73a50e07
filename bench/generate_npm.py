"""The npm part of bench/generate.py: mamori vs cdxgen on a real lockfile of 1,829 packages.

    .venv/bin/python bench/generate_npm.py [--repeat 5] [--cdxgen PATH]

Input: bench/fixtures/npm-large (package.json + package-lock.json written by npm; see its README),
copied to a temporary folder so that neither tool writes into the repository. Each tool runs as a
fresh process writing CycloneDX JSON: ``mamori sbom generate FOLDER`` and ``cdxgen -t js
--no-install-deps --no-babel -o FILE FOLDER`` with ``FETCH_LICENSE=false`` and
``CDXGEN_FETCH_PKG_METADATA=false``, inside ``unshare -n`` (no network) where the machine allows it.
Like for like first: mamori (which does not validate its output against the schema) against
``cdxgen --no-validate``; second, clearly labelled, cdxgen with its default schema validation. All
commands run in turn (A B C A B C ...) the same ``--repeat`` times after one unmeasured warm-up run
each (page cache, byte-code, node's compile cache alike); wall time and peak resident memory of each
fresh process, median, min and max; ratios from medians (``measure_in_turn`` in
bench/process_timing.py). The component sets (purl without
qualifiers) of both outputs are compared. cdxgen: ``--cdxgen``, ``$MAMORI_CDXGEN``, ``cdxgen`` on
PATH or ``~/.cache/mamori/peers/cdxgen`` (where ``MAMORI_PEERS=1`` test runs install it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from process_timing import machine, measure, measure_in_turn, ratio

LOCK_FOLDER = Path(__file__).parent / "fixtures" / "npm-large"
BIN = Path(sys.executable).parent
CDXGEN_CACHE = Path.home() / ".cache" / "mamori" / "peers" / "cdxgen" / "node_modules" / ".bin" / "cdxgen"


def find_cdxgen(given: str | None) -> str | None:
    for candidate in (given, os.environ.get("MAMORI_CDXGEN"), shutil.which("cdxgen"), str(CDXGEN_CACHE)):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def offline_prefix() -> list[str]:
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True, check=False).returncode == 0:
        return [unshare, "-n"]
    return []


def purls(path: Path) -> set[str]:
    bom = json.loads(path.read_bytes())
    return {c["purl"].split("?")[0] for c in bom.get("components", []) if c.get("purl")}


def bench_npm(repeat: int, work: Path, cdxgen: str | None = None) -> dict[str, Any]:
    folder = work / "npm-large"
    shutil.copytree(LOCK_FOLDER, folder, ignore=shutil.ignore_patterns("README.md"))
    packages = len(json.loads((folder / "package-lock.json").read_bytes())["packages"]) - 1
    mamori_out = work / "mamori-npm.cdx.json"
    mamori = [str(BIN / "mamori"), "sbom", "generate", str(folder)]
    result: dict[str, Any] = {"lockfile_packages": packages, "runs_per_command": repeat}
    binary = find_cdxgen(cdxgen)
    if binary is None:
        result["warm_up"] = "none"
        result["mamori"] = measure(mamori, mamori_out, repeat)
        result["cdxgen"] = "not found (--cdxgen, MAMORI_CDXGEN or cdxgen on PATH)"
        return result
    os.environ.update(FETCH_LICENSE="false", CDXGEN_FETCH_PKG_METADATA="false", CDXGEN_TELEMETRY="false")
    peer_out = work / "cdxgen-npm.cdx.json"
    peer = [*offline_prefix(), binary, "-t", "js", "--no-install-deps", "--no-babel", "-o", str(peer_out)]
    result["cdxgen_network_off"] = bool(offline_prefix())
    result["warm_up"] = "one unmeasured run of every command first; commands run in turn"
    cmds = {
        "mamori": mamori,
        "cdxgen_no_validate": [*peer, "--no-validate", str(folder)],
        "cdxgen_validating": [*peer, str(folder)],
    }
    outs = {
        "mamori": mamori_out,
        "cdxgen_no_validate": work / "cdxgen.log",
        "cdxgen_validating": work / "cdxgen.log",
    }
    timed = measure_in_turn(cmds, outs, repeat, warm_up=1)
    result["like_for_like"] = {
        "note": "neither side validates the output against the CycloneDX schema",
        "mamori": timed["mamori"],
        "cdxgen_no_validate": timed["cdxgen_no_validate"],
        "peer_slower_by_median": ratio(timed["cdxgen_no_validate"], timed["mamori"]),
    }
    result["validating_peer"] = {
        "note": "unequal work: cdxgen's default schema validation of its output; mamori does not validate",
        "mamori": timed["mamori"],
        "cdxgen_validating": timed["cdxgen_validating"],
        "peer_slower_by_median": ratio(timed["cdxgen_validating"], timed["mamori"]),
    }
    mine, theirs = purls(mamori_out), purls(peer_out)
    result["components"] = {
        "mamori": len(mine),
        "cdxgen": len(theirs),
        "equal": mine == theirs,
        # the purl spec lowercases npm names (JSONStream → jsonstream); cdxgen keeps the case
        "equal_ignoring_case": {p.lower() for p in mine} == {p.lower() for p in theirs},
        "only_mamori": sorted(mine - theirs)[:20],
        "only_cdxgen": sorted(theirs - mine)[:20],
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cdxgen", help="path of the cdxgen executable")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mamori-bench-npm-") as tmp:
        report = {
            "machine_at_start": machine(),
            "npm_lockfile": bench_npm(args.repeat, Path(tmp), args.cdxgen),
        }
        print(json.dumps({**report, "machine_at_end": machine()}, indent=2))


if __name__ == "__main__":
    main()

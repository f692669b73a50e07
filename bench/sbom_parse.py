"""Parse speed and peak memory: mamori.sbom.read against the reference libraries.

Cases:
- CycloneDX JSON and XML of OWASP juice-shop v11.1.2 (real, ../shared/data) vs cyclonedx-python-lib
  (``Bom.from_json(json.loads(...))`` / ``Bom.from_xml(file)``, the library's own deserialisers);
- a synthetic CycloneDX 1.6 JSON of 50,000 components written to a temporary folder (npm and Maven
  purls, licences, hashes, external references, properties, a dependency graph). Only mamori is
  measured at that size: cyclonedx-python-lib takes about a minute per parse of it, so many minutes
  for the runs. Both are measured on a smaller
  file from the same generator (``--library-components``), and the per-component rates of both on
  that SAME smaller file are reported; the output says so (``peer_measured_on``);
- an SPDX 2.2 JSON from ../shared/data vs spdx-tools (``parse_anything.parse_file``).

Two sets of figures per case, both sides always with the same number of runs (``--repeat``, default
5) and the same statistic (median, min and max); ratios are peer median / mamori median:

1. ``whole_process`` (first, the figure a user sees): each side in a fresh interpreter
   (``python -W ignore -c SNIPPET``) that imports its library and parses the file once. Wall time of the
   process (includes interpreter start and the library's imports) and its peak RSS (VmHWM, read by
   the child at its end), plus the parse alone timed inside that process (``parse_seconds``) and the
   import time. The two sides run in turn
   (A B A B ...) so that both see the same load. No warm-up run: the only caches are the OS page
   cache (the file was just read or written) and the byte-code (.pyc) files of both libraries, which
   exist for both after installation.
2. ``in_process``: in this process, after ONE untimed warm-up call per side (imports done lazily
   on first use, first-use caches and lazy set-up of either library); then ``--repeat`` timed calls,
   ``gc.collect()`` before each (untimed). Wall and CPU seconds. Then one further call under
   tracemalloc for its peak (it counts orjson's parse buffer in full although most of it is never
   touched).

Prints one JSON object, with the core count and load average. Not run by pytest.

    .venv/bin/python bench/sbom_parse.py [--components 50000] [--library-components 5000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tempfile
import tracemalloc
import warnings
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from process_timing import machine, measure_in_turn, ratio, summary, time_calls

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "sbom"
JUICE_SHOP = SHARED / "cyclonedx" / "juice-shop" / "v11.1.2"
SPDX_JSON = SHARED / "spdx" / "software" / "example9" / "spdx2.2" / "appbomination.spdx.json"
PEER = {"cyclonedx": "cyclonedx-python-lib", "spdx": "spdx-tools"}

_LICENCES = [
    [{"license": {"id": "MIT"}}],
    [{"license": {"id": "Apache-2.0"}}],
    [{"license": {"id": "BSD-3-Clause"}}],
    [{"license": {"id": "ISC"}}],
    [{"expression": "(MIT OR Apache-2.0)"}],
    [{"license": {"id": "EPL-2.0"}}, {"license": {"id": "LGPL-2.1-only"}}],
    [{"license": {"name": "The Apache Software License, Version 2.0"}}],
    [{"license": {"id": "GPL-2.0-only WITH Classpath-exception-2.0"}}],
]


def _hex(rng: random.Random, chars: int) -> str:
    return hashlib.sha512(rng.randbytes(16)).hexdigest()[:chars]


def synthetic_bom(components: int, seed: int = 2) -> dict:
    """A CycloneDX 1.6 BOM that looks like a large real one (deterministic for a seed)."""
    rng = random.Random(seed)
    comps = []
    refs = []
    for i in range(components):
        if i % 3:
            scope = rng.choice(["", "@types/", "@babel/", "@angular/"])
            name = f"{scope}pkg-{i:06d}"
            version = f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}"
            purl = f"pkg:npm/{scope.replace('@', '%40')}pkg-{i:06d}@{version}"
            group = None
        else:
            group = rng.choice(["org.apache.commons", "com.fasterxml.jackson.core", "io.netty", "org.slf4j"])
            name = f"artifact-{i:06d}"
            version = f"{rng.randint(1, 5)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}.Final"
            purl = f"pkg:maven/{group}/{name}@{version}?type=jar"
        comp: dict = {"type": "library", "bom-ref": purl}
        if group:
            comp["group"] = group
        comp.update(
            {
                "name": name,
                "version": version,
                "description": f"Synthetic component number {i} for the parse benchmark",
                "scope": "required",
                "hashes": [
                    {"alg": "SHA-1", "content": _hex(rng, 40)},
                    {"alg": "SHA-256", "content": _hex(rng, 64)},
                    {"alg": "SHA-512", "content": _hex(rng, 128)},
                ],
                "licenses": _LICENCES[rng.randrange(len(_LICENCES))],
                "purl": purl,
                "externalReferences": [
                    {"type": "website", "url": f"https://example.org/{name}"},
                    {"type": "vcs", "url": f"git+https://github.com/example/{name.strip('@')}.git"},
                    {"type": "distribution", "url": f"https://registry.example.org/{name}/-/{version}.tgz"},
                ],
            }
        )
        if i % 4 == 0:
            comp["properties"] = [{"name": "cdx:npm:package:path", "value": f"node_modules/{name}"}]
        comps.append(comp)
        refs.append(purl)
    deps = [
        {
            "ref": ref,
            "dependsOn": sorted({refs[rng.randrange(len(refs))] for _ in range(rng.randint(0, 5))} - {ref}),
        }
        for ref in refs
    ]
    return {
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": "urn:uuid:8f1d4a4c-5f7e-4c1b-9b0a-2b8d4c6e1f00",
        "version": 1,
        "metadata": {
            "timestamp": "2025-01-01T00:00:00Z",
            "tools": {
                "components": [{"type": "application", "group": "mamori", "name": "bench", "version": "1"}]
            },
            "component": {
                "type": "application",
                "bom-ref": "root",
                "name": "synthetic-app",
                "version": "1.0.0",
            },
        },
        "components": comps,
        "dependencies": [{"ref": "root", "dependsOn": refs[:50]}, *deps],
    }


# ------------------------------------------------------------------ in-process readers ----------
def mamori_read(path: Path) -> Callable[[], object]:
    from mamori.sbom import read

    return lambda: read(path)


def cdx_lib_read(path: Path) -> Callable[[], object]:
    from cyclonedx.model.bom import Bom

    if path.suffix == ".xml":

        def run() -> object:
            with open(path, encoding="utf-8") as fh:
                return Bom.from_xml(fh)

        return run
    return lambda: Bom.from_json(json.loads(path.read_bytes()))


def spdx_tools_read(path: Path) -> Callable[[], object]:
    from spdx_tools.spdx.parser.parse_anything import parse_file

    return lambda: parse_file(str(path))


READERS: dict[str, Callable[[Path], Callable[[], object]]] = {
    "mamori": mamori_read,
    "cyclonedx-python-lib": cdx_lib_read,
    "spdx-tools": spdx_tools_read,
}

# ------------------------------------------------------ fresh-process snippets (same calls) -----
_CHILD_TAIL = (
    "t2 = time.perf_counter()\n"
    "hwm = [int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM:')]\n"
    "sys.stdout.write(json.dumps({'import_seconds': t1 - t0, 'parse_seconds': t2 - t1,"
    " 'vm_hwm_mib': hwm[0] / 1024 if hwm else None}))\n"
)
_CHILD_HEAD = "import json, sys, time\npath = sys.argv[1]\nt0 = time.perf_counter()\n"
SNIPPETS = {
    "mamori": "from mamori.sbom import read\nt1 = time.perf_counter()\nread(path)\n",
    "cyclonedx-python-lib": (
        "from cyclonedx.model.bom import Bom\nt1 = time.perf_counter()\n"
        "if path.endswith('.xml'):\n"
        "    with open(path, encoding='utf-8') as fh:\n        Bom.from_xml(fh)\n"
        "else:\n    Bom.from_json(json.loads(open(path, 'rb').read()))\n"
    ),
    "spdx-tools": (
        "from spdx_tools.spdx.parser.parse_anything import parse_file\nt1 = time.perf_counter()\n"
        "parse_file(path)\n"
    ),
}


def child_command(kind: str, path: Path) -> list[str]:
    return [sys.executable, "-W", "ignore", "-c", _CHILD_HEAD + SNIPPETS[kind] + _CHILD_TAIL, str(path)]


def whole_process(sides: list[str], path: Path, repeat: int, work: Path) -> dict:
    inner: dict[str, dict[str, list[float]]] = {s: {"parse": [], "import": [], "rss": []} for s in sides}

    def collect(name: str, out: Path) -> None:
        figures = json.loads(out.read_text())
        inner[name]["parse"].append(figures["parse_seconds"])
        inner[name]["import"].append(figures["import_seconds"])
        if figures["vm_hwm_mib"] is not None:
            inner[name]["rss"].append(figures["vm_hwm_mib"])

    cmds = {side: child_command(side, path) for side in sides}
    timed = measure_in_turn(cmds, work / "child.json", repeat, warm_up=0, collect=collect)
    result: dict = {}
    for side in sides:
        t = timed[side]
        result[side] = {
            "process": {k: t[k] for k in ("seconds_median", "seconds_min", "seconds_max", "runs")},
            # VmHWM read by the child itself (wait4's ru_maxrss would include this parent's size at fork)
            "peak_rss_mib": summary(inner[side]["rss"], 1, "mib") if inner[side]["rss"] else None,
            "parse_inside_process": summary(inner[side]["parse"], 4),
            "import_inside_process": summary(inner[side]["import"], 4),
        }
    return result


def peak_mib(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return round(peak / 2**20, 1)


def in_process(sides: list[str], path: Path, repeat: int) -> dict:
    result = {}
    for side in sides:
        fn = READERS[side](path)
        result[side] = {**time_calls(fn, repeat, warm_up=1), "tracemalloc_peak_mib": peak_mib(fn)}
    return result


def ratios(whole: dict, inproc: dict, mine: str, peer: str) -> dict:
    return {
        "whole_process_wall": ratio(whole[peer]["process"], whole[mine]["process"]),
        "whole_process_parse_only": ratio(
            whole[peer]["parse_inside_process"], whole[mine]["parse_inside_process"]
        ),
        "in_process_wall": ratio(inproc[peer], inproc[mine]),
        "in_process_cpu": ratio(inproc[peer], inproc[mine], "cpu_seconds_median"),
    }


def count_components(path: Path) -> int:
    from mamori.sbom import read

    return sum(1 for _ in read(path).all_components())


def compare(label: str, path: Path, peer: str, repeat: int, work: Path) -> dict:
    sides = ["mamori", peer]
    whole = whole_process(sides, path, repeat, work)
    inproc = in_process(sides, path, repeat)
    return {
        "case": label,
        "file": str(path.relative_to(REPO.parent)) if path.is_relative_to(REPO.parent) else path.name,
        "bytes": path.stat().st_size,
        "components": count_components(path),
        "peer": peer,
        "whole_process": whole,
        "in_process": inproc,
        "peer_slower_by_median": ratios(whole, inproc, "mamori", peer),
    }


def synthetic_case(work: Path, components: int, library_components: int, repeat: int) -> dict:
    big = work / f"synthetic-{components}.cdx.json"
    big.write_bytes(orjson.dumps(synthetic_bom(components)))
    small = work / f"synthetic-{library_components}.cdx.json"
    small.write_bytes(orjson.dumps(synthetic_bom(library_components)))
    peer = "cyclonedx-python-lib"
    whole_big = whole_process(["mamori"], big, repeat, work)
    inproc_big = in_process(["mamori"], big, repeat)
    same = compare(
        f"synthetic CycloneDX 1.6 JSON, {library_components} components", small, peer, repeat, work
    )
    rate = {
        side: {
            "whole_process_wall": round(
                same["whole_process"][side]["process"]["seconds_median"] / library_components * 1e6, 1
            ),
            "whole_process_parse_only": round(
                same["whole_process"][side]["parse_inside_process"]["seconds_median"]
                / library_components
                * 1e6,
                1,
            ),
            "in_process_cpu": round(
                same["in_process"][side]["cpu_seconds_median"] / library_components * 1e6, 1
            ),
        }
        for side in ("mamori", peer)
    }
    same["microseconds_per_component_median"] = rate
    same["peer_estimated_parse_seconds_at_full_size"] = round(
        rate[peer]["whole_process_parse_only"] * components / 1e6, 1
    )
    return {
        "case": f"synthetic CycloneDX 1.6 JSON, {components} components",
        "bytes": big.stat().st_size,
        "components": count_components(big),
        "peer_measured_on": (
            f"the smaller file of {library_components} components from the same generator only "
            f"({peer} takes minutes at {components}); see same_smaller_file"
        ),
        "whole_process": whole_big,
        "in_process": inproc_big,
        "target_seconds": 2.0,
        "meets_target_whole_process_median": whole_big["mamori"]["process"]["seconds_median"] < 2.0,
        "same_smaller_file": same,
    }


def spdx_case(repeat: int, work: Path) -> dict:
    try:
        import mamori.sbom.spdx.read_json  # noqa: F401
    except ImportError as exc:
        return {"case": "SPDX JSON vs spdx-tools", "skipped": f"mamori SPDX reader not available yet ({exc})"}
    if not SPDX_JSON.exists():
        return {"case": "SPDX JSON vs spdx-tools", "skipped": f"{SPDX_JSON.name} is absent"}
    return compare("SPDX 2.2 JSON (appbomination)", SPDX_JSON, "spdx-tools", repeat, work)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=50_000)
    parser.add_argument("--library-components", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", choices=("juice-shop", "synthetic", "spdx"), help="one group of cases")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # cyclonedx-python-lib warns about deprecated fields in old BOMs
    start_machine = machine()
    cases: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="mamori-bench-") as tmp:
        work = Path(tmp)
        if args.only in (None, "juice-shop"):
            for name in ("bom.json", "bom.xml"):
                path = JUICE_SHOP / name
                if path.exists():
                    cases.append(
                        compare(f"juice-shop v11.1.2 {name}", path, "cyclonedx-python-lib", args.repeat, work)
                    )
                else:
                    cases.append({"case": f"juice-shop v11.1.2 {name}", "skipped": f"{path.name} is absent"})
        if args.only in (None, "synthetic"):
            cases.append(synthetic_case(work, args.components, args.library_components, args.repeat))
        if args.only in (None, "spdx"):
            cases.append(spdx_case(args.repeat, work))

    versions = {}
    for dist in ("mamori", "cyclonedx-python-lib", "spdx-tools", "orjson", "lxml", "license-expression"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    result = {
        "benchmark": "sbom_parse",
        "python": sys.version.split()[0],
        "versions": versions,
        "machine_at_start": start_machine,
        "machine_at_end": machine(),
        "runs_per_side": args.repeat,
        "statistic": "median, with min and max; ratios are peer median / mamori median",
        "warm_up": {
            "whole_process": "none; OS page cache and installed .pyc files only, the same for both sides; "
            "sides run in turn",
            "in_process": "one untimed call per side before the timed calls; gc.collect() before each call",
        },
        "notes": [
            "whole_process.process is the like-for-like figure: parse_inside_process counts whatever a library "
            "imports lazily during its first call (mamori imports its format readers on first use, spdx-tools "
            "imports everything up front), so the parse/import split differs between the sides",
            "peak_rss_mib is the child's own VmHWM; tracemalloc_peak_mib is Python allocations of one warm call",
        ],
        "cases": cases,
    }
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

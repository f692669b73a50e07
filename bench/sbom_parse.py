"""Parse speed and peak memory: mamori.sbom.read against the reference libraries.

Cases:
- CycloneDX JSON and XML of OWASP juice-shop v11.1.2 (real, ../shared/data) vs cyclonedx-python-lib
  (``Bom.from_json(json.loads(...))`` / ``Bom.from_xml(file)``, the library's own deserialisers);
- a synthetic CycloneDX 1.6 JSON of 50,000 components written to a temporary folder (npm and Maven
  purls, licences, hashes, external references, properties, a dependency graph). cyclonedx-python-lib
  is measured on a smaller file from the same generator (``--library-components``) and its rate
  per component reported, because it takes minutes on the full size;
- an SPDX 2.x JSON from ../shared/data vs spdx-tools (``parse_anything.parse_file``).

Time is the best of ``--repeat`` runs (wall clock and process CPU time, without tracemalloc); on a
busy machine the CPU time is the steadier figure. Memory is reported twice: the tracemalloc peak of
one further run (it counts orjson's parse buffer in full although most of it is never touched) and
the growth of the peak resident set (VmHWM) when a fresh interpreter reads the file once.
Prints one JSON object. Not run by pytest.

    .venv/bin/python bench/sbom_parse.py [--components 50000] [--library-components 5000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "sbom"
JUICE_SHOP = SHARED / "cyclonedx" / "juice-shop" / "v11.1.2"
SPDX_JSON = SHARED / "spdx" / "software" / "example9" / "spdx2.2" / "appbomination.spdx.json"

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


def best_of(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(wall, cpu) seconds of the fastest run."""
    runs = []
    for _ in range(repeat):
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        runs.append((time.perf_counter() - start, time.process_time() - cpu))
    return min(runs)


def peak_mib(fn: Callable[[], object]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return round(peak / 2**20, 1)


def rss_mib(kind: str, path: Path) -> float | None:
    """Resident-set growth of a fresh interpreter that reads ``path`` once with ``kind``."""
    proc = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path)], capture_output=True, text=True, check=False
    )
    return float(proc.stdout) if proc.returncode == 0 and proc.stdout.strip() else None


def _high_water_kib() -> int:
    """Peak resident set of this process in KiB. /proc's VmHWM starts afresh at exec, whereas
    ru_maxrss keeps the figure of the (large) parent the child was forked from."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child(kind: str, path: Path) -> int:
    """Run one read and print the growth of the peak resident set in MiB (the ``--child`` mode)."""
    fn = READERS[kind](path)
    before = _high_water_kib()
    fn()
    sys.stdout.write(f"{(_high_water_kib() - before) / 1024:.1f}\n")
    return 0


def measure(kind: str, path: Path, repeat: int) -> dict:
    fn = READERS[kind](path)
    fn()  # warm caches and imports once
    wall, cpu = best_of(fn, repeat)
    return {
        "seconds": round(wall, 4),
        "cpu_seconds": round(cpu, 4),
        "peak_mib": peak_mib(fn),
        "rss_growth_mib": rss_mib(kind, path),
    }


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


def compare(label: str, path: Path, other: str, repeat: int, other_repeat: int) -> dict:
    from mamori.sbom import read

    doc = read(path)
    ours = measure("mamori", path, repeat)
    theirs = measure(other, path, other_repeat)
    return {
        "case": label,
        "file": str(path),
        "bytes": path.stat().st_size,
        "components": sum(1 for _ in doc.all_components()),
        "mamori": ours,
        other: theirs,
        "speedup": round(theirs["seconds"] / ours["seconds"], 1),
        "speedup_cpu": round(theirs["cpu_seconds"] / ours["cpu_seconds"], 1),
    }


def synthetic_case(tmp: Path, components: int, library_components: int, repeat: int) -> dict:
    from mamori.sbom import read

    big = tmp / "synthetic-50k.cdx.json"
    big.write_bytes(orjson.dumps(synthetic_bom(components)))
    small = tmp / "synthetic-small.cdx.json"
    small.write_bytes(orjson.dumps(synthetic_bom(library_components)))
    n_big = sum(1 for _ in read(big).all_components())
    ours_big = measure("mamori", big, repeat)
    ours_small = measure("mamori", small, repeat)
    theirs_small = measure("cyclonedx-python-lib", small, 1)
    ours_rate = ours_small["cpu_seconds"] / library_components * 1e6
    theirs_rate = theirs_small["cpu_seconds"] / library_components * 1e6
    return {
        "case": f"synthetic CycloneDX 1.6 JSON, {components} components",
        "bytes": big.stat().st_size,
        "components": n_big,
        "mamori": ours_big,
        "target_seconds": 2.0,
        "meets_target": ours_big["seconds"] < 2.0,
        "library_comparison": {
            "components": library_components,
            "bytes": small.stat().st_size,
            "mamori": ours_small,
            "cyclonedx-python-lib": theirs_small,
            "cpu_microseconds_per_component": {
                "mamori": round(ours_rate, 1),
                "cyclonedx-python-lib": round(theirs_rate, 1),
            },
            "speedup": round(theirs_small["seconds"] / ours_small["seconds"], 1),
            "speedup_cpu": round(theirs_small["cpu_seconds"] / ours_small["cpu_seconds"], 1),
            "cyclonedx-python-lib_estimated_cpu_seconds_for_full_size": round(
                theirs_rate * components / 1e6, 1
            ),
        },
    }


def spdx_case(repeat: int) -> dict:
    try:
        import mamori.sbom.spdx.read_json  # noqa: F401
    except ImportError as exc:
        return {"case": "SPDX JSON vs spdx-tools", "skipped": f"mamori SPDX reader not available yet ({exc})"}
    if not SPDX_JSON.exists():
        return {"case": "SPDX JSON vs spdx-tools", "skipped": f"{SPDX_JSON} is absent"}
    return compare("SPDX 2.2 JSON (appbomination)", SPDX_JSON, "spdx-tools", repeat, repeat)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=50_000)
    parser.add_argument("--library-components", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", nargs=2, metavar=("READER", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # cyclonedx-python-lib warns about deprecated fields in old BOMs
    if args.child:
        return child(args.child[0], Path(args.child[1]))

    cases: list[dict] = []
    for name in ("bom.json", "bom.xml"):
        path = JUICE_SHOP / name
        if path.exists():
            cases.append(
                compare(
                    f"juice-shop v11.1.2 {name}",
                    path,
                    "cyclonedx-python-lib",
                    args.repeat,
                    max(1, args.repeat // 2),
                )
            )
        else:
            cases.append({"case": f"juice-shop v11.1.2 {name}", "skipped": f"{path} is absent"})
    with tempfile.TemporaryDirectory(prefix="mamori-bench-") as tmp:
        cases.append(
            synthetic_case(Path(tmp), args.components, args.library_components, max(1, args.repeat // 2))
        )
    cases.append(spdx_case(args.repeat))

    versions = {}
    for dist in ("cyclonedx-python-lib", "spdx-tools", "orjson", "lxml", "license-expression"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    result = {
        "benchmark": "sbom_parse",
        "python": sys.version.split()[0],
        "versions": versions,
        "cases": cases,
    }
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

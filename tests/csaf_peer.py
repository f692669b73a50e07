"""@secvisogram/csaf-validator-lib (npm, the BSI CSAF validator library) as a peer for CSAF tests.

Found at $MAMORI_CSAF_VALIDATOR_LIB, else in ``~/.cache/mamori/peers/csaf-validator``, where it is installed
with npm when ``node`` and ``npm`` are present (set MAMORI_PEERS=0 to never install). Tests skip without it.
Parallel test processes install it once: the install runs under a file lock next to the cache folder.
:func:`mandatory_failures` runs the library's CSAF 2.0 mandatory tests (section 6.1) on files and returns,
per file, the ids of the tests that fail ("6.1.1", "6.1.27.9" ...) with their messages.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path

VALIDATOR_PACKAGE = "@secvisogram/csaf-validator-lib@2.0.10"
VALIDATOR_CACHE = Path.home() / ".cache" / "mamori" / "peers" / "csaf-validator"
MANDATORY_SCRIPT = """
import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { join } from 'node:path'
const [lib, ...files] = process.argv.slice(2)
const tests = await import(pathToFileURL(join(lib, 'mandatoryTests.js')).href)
const out = {}
for (const file of files) {
  const doc = JSON.parse(readFileSync(file, 'utf8'))
  const found = {}
  for (const [name, test] of Object.entries(tests)) {
    if (!name.startsWith('mandatoryTest_')) continue
    const result = await test(doc)
    if (result && result.isValid === false) {
      found[name.slice('mandatoryTest_'.length).replaceAll('_', '.')] =
        (result.errors || []).map(e => `${e.instancePath}: ${e.message}`)
    }
  }
  out[file] = found
}
process.stdout.write(JSON.stringify(out))
"""


def validator_lib() -> Path | None:
    """The library's folder (installed on first use when npm is at hand), or None."""
    given = os.environ.get("MAMORI_CSAF_VALIDATOR_LIB")
    if given:
        return Path(given) if Path(given, "mandatoryTests.js").exists() else None
    lib = VALIDATOR_CACHE / "node_modules" / "@secvisogram" / "csaf-validator-lib"
    npm, node = shutil.which("npm"), shutil.which("node")
    wanted = os.environ.get("MAMORI_PEERS") != "0"
    if not (lib / "mandatoryTests.js").exists() and wanted and npm and node:
        VALIDATOR_CACHE.mkdir(parents=True, exist_ok=True)
        with open(VALIDATOR_CACHE.with_name("csaf-validator.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another test process may be installing it right now
            if not (lib / "mandatoryTests.js").exists():
                subprocess.run(
                    [
                        npm,
                        "install",
                        "--prefix",
                        str(VALIDATOR_CACHE),
                        "--no-audit",
                        "--no-fund",
                        VALIDATOR_PACKAGE,
                    ],
                    check=False,
                    capture_output=True,
                    timeout=900,
                )
    return lib if (lib / "mandatoryTests.js").exists() else None


def mandatory_failures(lib: Path, files: list[Path], work: Path) -> dict[Path, dict[str, list[str]]]:
    """The library's failing mandatory tests for each file."""
    node = shutil.which("node")
    assert node is not None
    script = work / "csaf-mandatory.mjs"
    script.write_text(MANDATORY_SCRIPT, encoding="utf-8")
    done = subprocess.run(
        [node, str(script), str(lib), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout)
    return {Path(name): tests for name, tests in found.items()}

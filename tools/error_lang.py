"""How many of the one-line error cases (tests/test_one_line_errors.py: every command × every file it reads
or writes × every way a file can be bad) print their problem in Japanese under MAMORI_LANG=ja.

    python tools/error_lang.py [--json OUT]

Runs the installed ``mamori`` next to the running Python (as the test does), two cases at a time. The
``mamori: エラー:`` / ``mamori: error:`` prefix and the file path are not counted: a line counts as Japanese
when the problem after them holds Japanese characters. Prints one JSON object: the counts overall and per
command group, and the English lines left.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
PREFIX = re.compile(r"^mamori(?: [\w-]+)*: (?:エラー|error): ")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="also write every case's line here")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "tests"))
    import test_one_line_errors as sweep

    plain_env = sweep._env
    sweep._env = lambda folder: {**plain_env(folder), "MAMORI_LANG": "ja"}
    root = Path(tempfile.mkdtemp(prefix="mamori-error-lang-"))
    template = sweep._prepare(root / "template")
    subprocess.run(
        [str(sweep.MAMORI), "vex", "export", str(template / "statements.yaml"), "-o", str(template / "vex.json"),
         "--to", "openvex"], env=sweep._env(template), check=True, capture_output=True,
    )  # fmt: skip
    names = sorted(sweep.CASES)
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(zip(names, pool.map(lambda n: sweep._run_case(n, template, root), names), strict=True))
    total: Counter[str] = Counter()
    japanese: Counter[str] = Counter()
    lines: dict[str, str] = {}
    english: list[str] = []
    for name, (run, _reason) in runs.items():
        if run is None:
            continue
        group = name.split(":")[1].split()[0] if ":" in name else name
        line = run.stderr.strip()
        lines[name] = line
        problem = PREFIX.sub("", line)
        total[group] += 1
        if JAPANESE.search(problem):
            japanese[group] += 1
        else:
            english.append(line)
    report = {
        "cases": sum(total.values()),
        "japanese": sum(japanese.values()),
        "per_group": {g: f"{japanese[g]}/{total[g]}" for g in sorted(total)},
        "english_lines": english,
    }
    print(json.dumps(report, ensure_ascii=False, indent=1))
    if args.json:
        args.json.write_text(json.dumps(lines, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The pre-commit hooks (.pre-commit-hooks.yaml): one mamori command per file pre-commit passes.

    python -m mamori.cli.hooks sbom-check [--OPTION=VALUE ...] FILE ...
    python -m mamori.cli.hooks scan [--OPTION=VALUE ...] FILE ...

``sbom-check`` runs ``mamori sbom check`` and ``scan`` runs ``mamori scan`` on each file in turn, with the
options given (written ``--option=value``, as pre-commit's ``args`` are put before the file names);
the exit code is the worst of the runs (2 over 3 over 1 over 0: bad input first, then cannot judge,
then a gate that fired); an interrupted run stops the rest.
"""

from __future__ import annotations

import sys

COMMANDS = {"sbom-check": ["sbom", "check"], "scan": ["scan"]}
_SEVERITY = {0: 0, 1: 1, 3: 2, 2: 3}  # which exit code wins when files disagree


def run(argv: list[str]) -> int:
    from mamori.cli.main import main

    if not argv or argv[0] not in COMMANDS:
        sys.stderr.write(f"mamori hooks: expected one of {', '.join(COMMANDS)} first\n")
        return 2
    options = [a for a in argv[1:] if a.startswith("-")]
    files = [a for a in argv[1:] if not a.startswith("-")]
    worst = 0
    for path in files:
        code = main([*COMMANDS[argv[0]], path, *options])
        if code not in _SEVERITY:  # interrupted or terminated: stop here
            return code
        if _SEVERITY[code] > _SEVERITY[worst]:
            worst = code
    return worst


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))

"""Count the person-facing error sites of some folders of src/mamori and how many speak the person's language.

    python tools/error_sites.py [-v] [--root SRC] cli triage portfolio compliance vex report scan demo.py

A site is the message of an InputError / UnsupportedFormat / BadParameter / StoreError, of a VEX reader's
``fail(where, problem)``, of a ``…warnings.append(...)``, or a line written to stderr (``typer.echo(...,
err=True)``, ``sys.stderr.write``). It is translated when the message goes through gettext (``_()``,
``gettext()``), a bilingual pair (``text(lang, …)``, ``t(key, lang)``, ``message(…)``) or only passes on
such a message (``f"{where}: {exc.problem}"``). A heuristic over the syntax tree: ``-v`` lists the sites
it counts as English only, to be read.
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

ERRORS = {"InputError", "UnsupportedFormat", "BadParameter", "StoreError"}
BILINGUAL = {"t", "text", "message", "msg", "pair", "get"}
OK = ("gettext", "bilingual", "passthrough")


def kind(node: ast.AST | None) -> str:
    """gettext, bilingual, passthrough or plain (English only)."""
    if isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Name) and f.id in ("_", "gettext", "ngettext"):
            return "gettext"
        if (
            isinstance(f, ast.Attribute)
            and f.attr in ("format", "splitlines")
            and isinstance(f.value, ast.Call)
        ):
            return kind(f.value)
        if isinstance(f, ast.Name) and f.id in ("visible", "str") and node.args:
            return kind(node.args[0])
        name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
        if name in BILINGUAL or "text" in name.lower() or "message" in name.lower():
            return "bilingual"
        return "plain"
    if isinstance(node, ast.JoinedStr):
        for v in node.values:
            if isinstance(v, ast.FormattedValue) and kind(v.value) in ("gettext", "bilingual"):
                return kind(v.value)
        words = any(isinstance(v, ast.Constant) and any(c.isalpha() for c in v.value) for v in node.values)
        return "plain" if words else "passthrough"
    if isinstance(node, ast.IfExp):
        kinds = {kind(node.body), kind(node.orelse)}
        return "plain" if "plain" in kinds else kinds.pop()
    if isinstance(node, ast.BinOp):
        kinds = {kind(node.left), kind(node.right)}
        return next((k for k in OK if k in kinds), "plain")
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Call):
        return kind(node.value)
    if isinstance(node, (ast.Name, ast.Attribute)) or (
        isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute)
    ):
        return "passthrough"
    return "plain"


def sites(path: Path) -> Iterator[tuple[int, str, str]]:
    """(line, raise or stderr, kind) of each site in one file."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
        if name == "fail" and len(node.args) > 1:
            yield node.lineno, "raise", kind(node.args[1])
        elif (
            name == "append"
            and isinstance(f, ast.Attribute)
            and ast.unparse(f.value).endswith("warnings")
            and node.args
            and not isinstance(node.args[0], ast.Tuple)
        ):
            yield node.lineno, "raise", kind(node.args[0])
        elif name in ERRORS:
            if name == "StoreError":
                yield node.lineno, "raise", "bilingual"  # its texts are a ja/en pair
                continue
            index = 0 if name == "BadParameter" else 1
            yield node.lineno, "raise", kind(node.args[index] if len(node.args) > index else None)
        elif node.args and (
            (name == "echo" and any(k.arg == "err" for k in node.keywords))
            or (name == "write" and isinstance(f, ast.Attribute) and ast.unparse(f.value) == "sys.stderr")
        ):
            arg = node.args[0]
            if isinstance(arg, ast.Call) and getattr(arg.func, "id", "") == "visible" and arg.args:
                arg = arg.args[0]
            yield node.lineno, "stderr", kind(arg)


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    args = [a for a in argv if a != "-v"]
    root = Path(__file__).resolve().parents[1] / "src" / "mamori"
    if "--root" in args:
        at = args.index("--root")
        root = Path(args[at + 1])
        del args[at : at + 2]
    total: Counter[tuple[str, bool]] = Counter()
    for area in args:
        found: Counter[tuple[str, bool]] = Counter()
        target = root / area
        for file in [target] if target.is_file() else sorted(target.rglob("*.py")):
            for line, what, how in sites(file):
                found[(what, how in OK)] += 1
                if verbose and how not in OK:
                    print(f"  {file.relative_to(root)}:{line} {what}")
        total.update(found)
        print(
            f"{area:12} "
            + "  ".join(
                f"{w} {found[(w, True)]}/{found[(w, True)] + found[(w, False)]}" for w in ("raise", "stderr")
            )
        )
    print(
        f"{'all':12} "
        + "  ".join(
            f"{w} {total[(w, True)]}/{total[(w, True)] + total[(w, False)]}" for w in ("raise", "stderr")
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

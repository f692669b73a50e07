"""Japanese coverage of ``--help`` per command group, and the time of ``mamori --help`` / ``--version``.

    python bench/help_lang.py            # coverage table, then times (10 fresh processes each, median)
    python bench/help_lang.py --no-time  # coverage only

A help text (a command's help or epilog, a parameter's help) counts as shown in Japanese when the command's
``--help`` under MAMORI_LANG=ja no longer contains the English text and contains its catalog msgstr. The help
is rendered in-process, wide enough that no line is wrapped.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

os.environ["TERMINAL_WIDTH"] = "4000"  # read by typer.rich_utils when imported: no wrapping
os.environ["COLUMNS"] = "4000"

MAMORI = Path(sys.executable).with_name("mamori")
GROUPS = ("sbom", "db", "ssvc", "catalog", "assess", "plan", "scan", "demo", "vex", "product", "release",
          "portfolio", "triage")  # fmt: skip


def _flat(text: str) -> str:
    return re.sub(r"[\s│╭╮╰╯─]+", " ", text).strip()


def nodes(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    yield path, command
    for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
        yield from nodes(sub, (*path, name))


def help_texts(command: object) -> list[str]:
    texts = [getattr(command, a, None) for a in ("help", "epilog")]
    texts += [
        getattr(p, "help", None) for p in getattr(command, "params", []) if not getattr(p, "hidden", False)
    ]
    return [t for t in texts if t]


def render(path: tuple[str, ...]) -> str:
    from mamori.cli.main import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        main([*path, "--help"])
    return out.getvalue()


def _shown_translated(english: str, translated: str, shown: str) -> bool:
    """The msgstr is on the page and the English is not (a text that is the same in both, e.g. a list of
    format names, counts when it is on the page)."""
    if not translated or _flat(translated) not in shown:
        return False
    return translated == english or _flat(english) not in shown


def coverage() -> dict[str, tuple[int, int]]:
    import typer.main

    from mamori.cli.main import app
    from mamori.i18n import _translations

    catalog = _translations("ja")
    os.environ["MAMORI_LANG"] = "ja"
    found: dict[str, tuple[int, int]] = {}
    for path, command in nodes(typer.main.get_command(app)):
        group = path[0] if path else "(root)"
        shown = _flat(render(path))
        texts = help_texts(command)
        japanese = sum(1 for t in texts if _shown_translated(t, catalog.gettext(t), shown))
        done, total = found.get(group, (0, 0))
        found[group] = (done + japanese, total + len(texts))
    return found


def timing(args: list[str], lang: str, runs: int = 10) -> float:
    env = {**os.environ, "MAMORI_LANG": lang}
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([str(MAMORI), *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    found = coverage()
    all_done = all_total = 0
    for group in ("(root)", *GROUPS):
        done, total = found.get(group, (0, 0))
        all_done, all_total = all_done + done, all_total + total
        print(f"{group:10} {done:4}/{total:<4} {100 * done / max(total, 1):5.1f}%")
    print(f"{'all':10} {all_done:4}/{all_total:<4} {100 * all_done / max(all_total, 1):5.1f}%")
    if "--no-time" in sys.argv:
        return
    for lang in ("en", "ja"):
        for args in (["--help"], ["--version"], ["sbom", "--help"]):
            print(
                f"MAMORI_LANG={lang} mamori {' '.join(args):14} {timing(args, lang):7.1f} ms (median of 10)"
            )


if __name__ == "__main__":
    main()

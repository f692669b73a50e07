"""Check catalog items against the seed texts they cite: the id and the title appear near the recorded line.

Seed lines are NFKC-normalised before comparing (the seeds print full-width digits and brackets), whitespace is
ignored (titles wrap over several lines in slide extractions), and an item may name the form printed in the seed
in ``extra.printed_id`` / ``extra.printed_title_ja`` when it differs from the catalog's id or title.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mamori.compliance.catalog import Catalog, Item, id_key
from mamori.errors import InputError
from mamori.fileio import read_bytes
from mamori.i18n import _

#: Lines either side of the recorded line where the id must appear.
ID_WINDOW = 3
#: Lines after the recorded line over which a wrapped title may run.
TITLE_SPAN = 14


@dataclass(frozen=True)
class SourceProblem:
    item: Item
    problem: str

    def __str__(self) -> str:
        return f"{self.item.framework} {self.item.id}: {self.problem}"


def _seed_lines(seeds_dir: Path, name: str, cache: dict[str, list[str]]) -> list[str] | None:
    if name not in cache:
        path = seeds_dir / name
        if not path.is_file():
            return None
        try:
            text = read_bytes(path).decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(path, _("seed text is not UTF-8")) from None
        cache[name] = [id_key(line) for line in text.splitlines()]
    return cache[name]


def item_problems(item: Item, lines: list[str], strict: bool = True) -> list[str]:
    """What does not match between ``item`` and the (id_key-normalised) seed lines it cites.

    Strict: both the id (or ``extra.printed_id``) and the title must be there. Otherwise one of them is
    enough, for catalogs whose ids are our own labels because the seed prints none.
    """
    line = item.source.line
    if line > len(lines):
        return [f"line {line} is past the end of {item.source.file} ({len(lines)} lines)"]
    problems: list[str] = []
    near = lines[max(0, line - 1 - ID_WINDOW) : line + ID_WINDOW]
    printed = item.extra.get("printed_id")
    candidates = {id_key(item.id)} | ({id_key(printed)} if isinstance(printed, str) else set())
    if not any(c in text for c in candidates for text in near):
        problems.append(f"id not found within {ID_WINDOW} lines of {item.source.file}:{line}")
    title = item.extra.get("printed_title_ja") or item.title.ja
    span = "".join(lines[max(0, line - 1 - ID_WINDOW) : line + TITLE_SPAN])
    if id_key(title) not in span:
        problems.append(f"title_ja {title!r} not found near {item.source.file}:{line}")
    if not strict and len(problems) < 2:
        return []
    return problems


def source_problems(catalog: Catalog, seeds_dir: Path, strict: bool = True) -> list[SourceProblem]:
    """Every item whose seed file is missing, or whose id or title is not where its source line says."""
    cache: dict[str, list[str]] = {}
    out: list[SourceProblem] = []
    for item in catalog.items:
        lines = _seed_lines(seeds_dir, item.source.file, cache)
        if lines is None:
            out.append(SourceProblem(item, f"seed file {item.source.file} is not in {seeds_dir}"))
            continue
        out += [SourceProblem(item, problem) for problem in item_problems(item, lines, strict)]
    return out

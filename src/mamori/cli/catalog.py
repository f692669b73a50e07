"""``mamori catalog ...``: the source texts as catalogs (guideline, SSDF, checklist, JC-STAR ☆1 ...)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mamori.display import visible
from mamori.errors import InputError
from mamori.i18n import DEFAULT_NOTE, Lang, _, choose_lang

if TYPE_CHECKING:
    from mamori.compliance import catalog as cat

app = typer.Typer(
    help="Catalogs of the guideline, SSDF, checklist, JC-STAR ☆1 and SBOM models.", no_args_is_help=True
)

FORMATS = ("text", "json")

_LABELS: dict[str, dict[str, str]] = {
    "framework": {"ja": "フレームワーク", "en": "Framework"},
    "kind": {"ja": "種別", "en": "Kind"},
    "parents": {"ja": "上位", "en": "Under"},
    "summary": {"ja": "概要", "en": "Summary"},
    "source": {"ja": "出典", "en": "Source"},
    "roles": {"ja": "対象の役割", "en": "Roles"},
    "target": {"ja": "対象", "en": "Target"},
    "level": {"ja": "レベル", "en": "Level"},
    "periodicity": {"ja": "頻度", "en": "Periodicity"},
    "evidence": {"ja": "証跡の例", "en": "Evidence hints"},
    "children": {"ja": "下位項目", "en": "Contains"},
    "version": {"ja": "版", "en": "version"},
    "examples": {"ja": "原典の例", "en": "Examples in the source"},
    "refs": {"ja": "関連項目", "en": "Related"},
    "referenced_by": {"ja": "参照元", "en": "Referenced by"},
    "mapping": {"ja": "国内ガイドラインとの対応", "en": "Japanese guideline mapping"},
    "demo_level": {"ja": "実証での達成レベル", "en": "Demonstration level"},
    "text": {"ja": "原文に記載", "en": "stated in the text"},
    "inferred": {"ja": "推定", "en": "inferred"},
}


# options shared with ``mamori assess`` and ``mamori plan``
LANG = typer.Option(None, "--lang", help=f"ja or en ({DEFAULT_NOTE}).")
FORMAT = typer.Option("text", "--format", help="text or json.")


def check_format(value: str) -> str:
    """The ``--format`` value, if it is text or json."""
    if value not in FORMATS:
        raise InputError(None, _("--format must be text or json, not {value!r}").format(value=value))
    return value


def _label(key: str, lang: Lang) -> str:
    return _LABELS[key][lang]


def echo_json(data: Any) -> None:
    """Indented JSON, non-ASCII kept."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _word(section: str, key: str, lang: Lang) -> str:
    from mamori.compliance.messages import key_word

    return key_word(section, key, lang)


def _flag_text(flag: cat.Flagged, lang: Lang, section: str) -> str:
    values = flag.value if isinstance(flag.value, tuple) else (flag.value,)
    value = ", ".join(_word(section, str(v), lang) for v in values)
    return f"{value} ({_label(flag.basis, lang) if flag.basis in _LABELS else flag.basis})"


@app.command("list")
def list_items(
    framework: str | None = typer.Argument(None, help="guideline, ssdf, ...; omit to list the catalogs."),
    fmt: str = FORMAT,
    lang: str | None = LANG,
    kind: str | None = typer.Option(
        None, "--kind", help="Only these item kinds, comma-separated (e.g. individual)."
    ),
) -> None:
    """List the items of a catalog, or the installed catalogs."""
    from mamori.compliance import catalog as cat

    fmt, language = check_format(fmt), choose_lang(lang)
    if framework is None:
        catalogs = cat.all_catalogs()
        if fmt == "json":
            echo_json(
                [
                    {
                        "framework": c.framework,
                        "catalog_version": c.version,
                        "title": {"ja": c.title.ja, "en": c.title.en},
                        "counts": c.counts(),
                    }
                    for c in catalogs.values()
                ]
            )
            return
        for c in catalogs.values():
            counts = ", ".join(f"{n} {_word('kind', k, language)}" for k, n in c.counts().items())
            typer.echo(f"{c.framework}\t{c.title.get(language)} ({counts})")
        return
    catalog = cat.load(framework)
    kinds = [k.strip() for k in kind.split(",") if k.strip()] if kind else list(catalog.levels)
    unknown = [k for k in kinds if k not in catalog.levels]
    if unknown:
        raise InputError(
            None,
            _("--kind {unknown}: {framework} has kinds {levels}").format(
                unknown=", ".join(unknown), framework=catalog.framework, levels=", ".join(catalog.levels)
            ),
        )
    items = catalog.of_kind(*kinds)
    if fmt == "json":
        echo_json(
            {
                "framework": catalog.framework,
                "catalog_version": catalog.version,
                "title": {"ja": catalog.title.ja, "en": catalog.title.en},
                "source": catalog.source,
                "levels": list(catalog.levels),
                "count": len(items),
                "items": [item.to_dict() for item in items],
            }
        )
        return
    indent = kind is None
    for item in items:
        pad = "  " * catalog.levels.index(item.kind) if indent else ""
        typer.echo(f"{pad}{item.id}  {item.title.get(language)}")


@app.command()
def show(
    item_id: str = typer.Argument(
        ..., metavar="ID", help="Item id, e.g. S(2)-2.3 or PW.4.1 (full-width is fine)."
    ),
    framework: str | None = typer.Option(None, "--framework", help="Search only this catalog."),
    fmt: str = FORMAT,
    lang: str | None = LANG,
) -> None:
    """Show one item with its hierarchy, applicability, evidence hints and cross-references."""
    from mamori.compliance import catalog as cat

    fmt, language = check_format(fmt), choose_lang(lang)
    found = cat.find(item_id, framework)
    if not found:
        where = _("the {framework} catalog").format(framework=framework) if framework else _("any catalog")
        raise InputError(None, _("no item {item_id!r} in {where}").format(item_id=item_id, where=where))
    if len(found) > 1:
        names = ", ".join(item.framework for item in found)
        raise InputError(
            None,
            _("{item_id!r} is in several catalogs ({names}); choose one with --framework").format(
                item_id=item_id, names=names
            ),
        )
    item = found[0]
    catalog = cat.load(item.framework)
    catalogs = cat.all_catalogs()
    refs = cat.references(item, catalogs)
    incoming = cat.referenced_by(item, catalogs)
    if fmt == "json":
        data = item.to_dict()
        data["ancestors"] = [parent.id for parent in catalog.ancestors(item)]
        data["children"] = [child.id for child in catalog.children(item)]
        data["referenced_by"] = [{"framework": other.framework, "id": other.id} for other in incoming]
        data["unresolved_refs"] = [{"framework": r.framework, "id": r.id} for r in refs if r.target is None]
        echo_json(data)
        return
    for line in _show_lines(item, catalog, refs, incoming, language):
        typer.echo(line)


def _show_lines(
    item: cat.Item, catalog: cat.Catalog, refs: list[cat.Reference], incoming: list[cat.Item], lang: Lang
) -> list[str]:
    from mamori.compliance.messages import guideline_name

    lines = [f"{item.id}  {item.title.get(lang)}"]
    other = item.title.en if lang == "ja" else item.title.ja
    lines.append(f"  ({other})")
    lines.append(
        f"{_label('framework', lang)}: {catalog.title.get(lang)} [{_label('version', lang)} {catalog.version}]"
    )
    lines.append(f"{_label('kind', lang)}: {_word('kind', item.kind, lang)}")
    ancestors = catalog.ancestors(item)
    if ancestors:
        lines.append(
            f"{_label('parents', lang)}: " + " > ".join(f"{a.id} {a.title.get(lang)}" for a in ancestors)
        )
    lines.append(f"{_label('summary', lang)}: {item.summary.get(lang)}")
    lines.append(f"{_label('source', lang)}: {item.source.file}:{item.source.line}")
    for name in ("roles", "target", "level"):
        flag = getattr(item.applicability, name)
        if flag is not None:
            lines.append(f"{_label(name, lang)}: {_flag_text(flag, lang, name)}")
    if item.periodicity is not None:
        lines.append(f"{_label('periodicity', lang)}: {_flag_text(item.periodicity, lang, 'periodicity')}")
    hints = item.evidence_hints.get(lang)
    if hints:
        lines.append(f"{_label('evidence', lang)}:")
        lines += [f"  - {hint}" for hint in hints]
    examples = item.extra.get("examples")
    if isinstance(examples, dict) and examples.get(lang):
        lines.append(f"{_label('examples', lang)} (L{examples.get('line')}):")
        lines += [f"  - {example}" for example in examples[lang]]
    mapping = item.extra.get("mapping")
    if isinstance(mapping, dict):
        lines.append(f"{_label('mapping', lang)}:")
        for key, cell in mapping.items():
            title = guideline_name(catalog, key, lang)
            clauses = f" [{cell['clauses']}]" if cell.get("clauses") else ""
            lines.append(f"  {cell['grade']} {title}{clauses}")
    if "demo_level" in item.extra:
        lines.append(f"{_label('demo_level', lang)}: {item.extra['demo_level']}")
    children = catalog.children(item)
    if children:
        lines.append(f"{_label('children', lang)}:")
        lines += [f"  {child.id}  {child.title.get(lang)}" for child in children]
    if refs:
        lines.append(f"{_label('refs', lang)}:")
        for ref in refs:
            title = ref.target.title.get(lang) if ref.target else "?"
            lines.append(f"  {_word('framework', ref.framework, lang)} {ref.id}  {title}")
    if incoming:
        lines.append(f"{_label('referenced_by', lang)}:")
        lines += [f"  {_word('framework', o.framework, lang)} {o.id}  {o.title.get(lang)}" for o in incoming]
    return lines


@app.command()
def check(
    frameworks: list[str] | None = typer.Argument(None, help="Catalogs to check (default: all installed)."),
    seeds: Path | None = typer.Option(
        None,
        "--seeds",
        help="Folder with the seed texts; when given, each item's id and title are looked up there.",
    ),
    strict: bool = typer.Option(
        False, "--strict", help="Require both the id and the title near the source line."
    ),
) -> None:
    """Validate catalogs: schema, hierarchy, cross-references, and (with --seeds) the cited seed lines."""
    from mamori.compliance import catalog as cat
    from mamori.compliance.sources import source_problems
    from mamori.fileio import check_folder

    if seeds is not None:
        check_folder(seeds)
    names = [cat.validate(name).framework for name in frameworks] if frameworks else cat.frameworks()
    for name in names:
        cat.validate(name)
    catalogs = cat.all_catalogs()
    problems = [
        f"{r.holder.framework} {r.holder.id}: no {r.framework} item {r.id!r}"
        for r in cat.broken_references(catalogs)
        if r.holder.framework in names
    ]
    for name in names:
        catalog = cat.load(name)
        if seeds is not None:
            problems += [str(p) for p in source_problems(catalog, seeds, strict)]
        typer.echo(f"{catalog.framework}: {len(catalog)} items ({catalog.path.name})")
    for problem in problems:
        typer.echo(visible(f"problem: {problem}"))
    if problems:
        raise typer.Exit(1)

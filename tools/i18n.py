"""Keep the Japanese gettext catalog in step with the code (Babel's extraction, update and compilation).

    python tools/i18n.py extract   # src/mamori/locale/mamori.pot from every _()/N_()/ngettext() call and
                                   # every --help text of the command line (commands, options, arguments)
    python tools/i18n.py update    # extract, then merge into locale/ja/LC_MESSAGES/mamori.po and compile .mo
    python tools/i18n.py compile   # mamori.po -> mamori.mo only
    python tools/i18n.py check     # exit 1 when a message lacks Japanese, is fuzzy, or the .mo is stale

English is the source language: the msgid is the English text and there is no English catalog.
Help texts are not wrapped in ``_()`` in the code (Typer reads them when the modules are imported); the
command line translates them when it starts (mamori.cli.help_text), so they are extracted from the command
tree here. See docs/translating.md.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "mamori"
LOCALE = PACKAGE / "locale"
POT = LOCALE / "mamori.pot"
LANGS = ("ja",)
KEYWORDS = {
    "_": None,
    "gettext": None,
    "N_": None,
    "ngettext": (1, 2),
    "NC_": ((1, "c"), 2),
    "pgettext": ((1, "c"), 2),
}
METHODS = [("**.py", "python")]
CREATED = datetime(2026, 12, 6, tzinfo=UTC)  # fixed, so that a re-run changes no header line
HEADER = "mamori: Japanese messages (English is the source language)."


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "mamori.po"


def mo_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "mamori.mo"


def help_texts() -> Iterator[tuple[str, str]]:
    """(where, text) for every help, short help and epilog of every command, option and argument."""
    sys.path.insert(0, str(ROOT / "src"))
    import typer.main

    from mamori.cli.main import app

    def walk(command: object, path: str) -> Iterator[tuple[str, str]]:
        for attribute in ("help", "short_help", "epilog"):
            text = getattr(command, attribute, None)
            if text:
                yield path, text
        for param in getattr(command, "params", []):
            text = getattr(param, "help", None)
            if text:
                yield f"{path}/{param.name}", text
        for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
            yield from walk(sub, f"{path}/{name}")

    yield from walk(typer.main.get_command(app), "mamori")


def extract() -> Catalog:
    catalog = Catalog(
        project="mamori",
        header_comment=f"# {HEADER}",
        fuzzy=False,
        creation_date=CREATED,
        revision_date=CREATED,
        msgid_bugs_address="mamori developers",
        last_translator="mamori developers",
        language_team="mamori developers",
    )
    for filename, lineno, message, comments, context in extract_from_dir(
        str(PACKAGE), METHODS, keywords=KEYWORDS, comment_tags=("Translators:",), strip_comment_tags=True
    ):
        catalog.add(
            message,
            None,
            [(f"src/mamori/{filename}", lineno)],
            auto_comments=comments,
            context=context,
        )
    for where, text in help_texts():
        catalog.add(text, None, [(f"help:{where}", None)])
    return catalog


def _write_po(path: Path, catalog: Catalog) -> None:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, sort_output=True, include_previous=False, omit_header=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def _mo_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def read(path: Path, lang: str) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=lang)


def update() -> None:
    template = extract()
    _write_po(POT, template)
    for lang in LANGS:
        path = po_path(lang)
        catalog = read(path, lang) if path.exists() else Catalog(locale=lang, project="mamori")
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=True)
        catalog.obsolete.clear()
        catalog.fuzzy = False
        catalog.header_comment = f"# {HEADER}"
        catalog.revision_date = CREATED
        catalog.last_translator = "mamori developers"
        catalog.language_team = "mamori developers"
        catalog.msgid_bugs_address = template.msgid_bugs_address
        _write_po(path, catalog)
    compile_all()


def compile_all() -> None:
    for lang in LANGS:
        mo_path(lang).write_bytes(_mo_bytes(read(po_path(lang), lang)))


def problems() -> list[str]:
    """What stops the catalogs from being complete: untranslated, fuzzy, missing from the .po, stale .mo."""
    template = extract()
    found: list[str] = []
    for lang in LANGS:
        catalog = read(po_path(lang), lang)
        for message in template:
            if not message.id:
                continue
            entry = catalog.get(message.id, message.context)
            key = message.id if isinstance(message.id, str) else message.id[0]
            if entry is None:
                found.append(f"{lang}: not in the catalog: {key!r}")
            elif entry.fuzzy:
                found.append(f"{lang}: fuzzy: {key!r}")
            elif not (entry.string if isinstance(entry.string, str) else all(entry.string)):
                found.append(f"{lang}: untranslated: {key!r}")
        if not mo_path(lang).exists() or mo_path(lang).read_bytes() != _mo_bytes(catalog):
            found.append(
                f"{lang}: {mo_path(lang).relative_to(ROOT)} is stale: run python tools/i18n.py compile"
            )
    return found


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    if command == "extract":
        _write_po(POT, extract())
    elif command == "update":
        update()
    elif command == "compile":
        compile_all()
    elif command == "check":
        found = problems()
        for line in found:
            print(line)
        print(f"{len(found)} problem(s)", file=sys.stderr)
        return 1 if found else 0
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

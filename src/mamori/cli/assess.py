"""``mamori assess ...``: self-assessment against the guideline, SSDF, checklist or JC-STAR ☆1, with evidence,
gap analysis, roadmap, self-conformity declaration, a customer's comparison and the ☆1 label page."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mamori.cli.catalog import FORMAT, LANG, check_format, echo_json
from mamori.compliance.assessment import (
    FRAMEWORKS,
    STATUSES,
    Assessment,
    is_mandatory,
    parse_date,
    parse_roles,
    parse_target,
)
from mamori.compliance.messages import guideline_name, t
from mamori.compliance.messages import label as key_label
from mamori.display import plain, visible
from mamori.errors import InputError
from mamori.i18n import LANGS, Lang, _, choose_lang, gettext

if TYPE_CHECKING:
    from mamori.compliance.repository import Assessments

app = typer.Typer(
    help="Self-assessment: guideline, SSDF, checklist, JC-STAR ☆1; evidence, gaps, roadmap, declaration.",
    no_args_is_help=True,
)

DB = typer.Option(
    None, "--db", help="Store: a SQLite path or a database URL (default: MAMORI_DB or the user data dir)."
)
BY = typer.Option(None, "--by", help="Who makes the change (default: MAMORI_USER or the login name).")


@contextmanager
def _book(db: str | None) -> Iterator[Assessments]:
    from mamori.compliance.repository import Assessments
    from mamori.store import open_store

    with open_store(db) as store:
        yield Assessments(store)


def _get(db: str | None, assessment_id: str) -> Assessment:
    with _book(db) as book:
        return book.get(assessment_id)


def _console() -> Any:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def _status(status: str | None, lang: Lang) -> str:
    return t(f"status.{status or 'unanswered'}", lang)


def _expiry_note(a: Assessment, lang: Lang) -> str | None:
    from mamori.compliance.jcstar import reminder

    found = reminder(a)
    if found is None:
        return None
    kind, days = found
    return (
        t("list.expired", lang, date=a.valid_until)
        if kind == "expired"
        else t("list.expires_soon", lang, days=days)
    )


# --------------------------------------------------------------------------------------------- create, list, show


@app.command()
def new(
    framework: str = typer.Option(..., "--framework", help=f"One of {', '.join(FRAMEWORKS)}."),
    org: str = typer.Option(..., "--org", help="The organisation that assesses itself."),
    roles: str | None = typer.Option(
        None, "--roles", help="Comma-separated: developer, supplier, operator, customer."
    ),
    target: str | None = typer.Option(
        None,
        "--target",
        help="Instead of --roles: user (a company using software, ユーザ企業: operator, customer) or provider "
        "(a company providing it, 提供者: developer, supplier), or both.",
    ),
    scope: str = typer.Option(..., "--scope", help='What is assessed, e.g. "product X 2.1".'),
    db: str | None = DB,
    lang: str | None = LANG,
) -> None:
    """Start an assessment: the catalog items that apply to the roles become its questions."""
    language = choose_lang(lang)
    if (roles is None) == (target is None):
        raise InputError(None, _("give either --roles or --target"))
    role_list = parse_roles(roles) if roles is not None else parse_target(target or "")
    with _book(db) as book:
        a = book.create(framework, org, role_list, scope)
    name = key_label("framework", a.framework, language)
    typer.echo(visible(t("new.created", language, id=a.id, framework=name, count=len(a.items()))))


@app.command("list")
def list_assessments(db: str | None = DB, lang: str | None = LANG, fmt: str = FORMAT) -> None:
    """List assessments with their progress, declaration and label expiry (reminds within 90 days)."""
    language, fmt = choose_lang(lang), check_format(fmt)
    with _book(db) as book:
        assessments = book.all()
    if fmt == "json":
        echo_json(
            [
                {
                    "id": a.id,
                    "framework": a.framework,
                    "organization": a.organization,
                    "scope": a.scope,
                    "roles": list(a.roles),
                    "counts": a.counts(),
                    "declared_on": a.declared_on,
                    "valid_until": a.valid_until,
                    "reminder": _expiry_note(a, language),
                }
                for a in assessments
            ]
        )
        return
    if not assessments:
        typer.echo(t("list.none", language))
        return
    from rich.table import Table

    table = Table(show_lines=False)
    for key in ("assessment", "framework", "organization", "scope", "counts", "declared", "valid_until"):
        table.add_column(t(f"label.{key}", language))
    notes = []
    for a in assessments:
        counts = a.counts()
        done = sum(v for k, v in counts.items() if k != "unanswered")
        table.add_row(
            str(a.id),
            plain(key_label("framework", a.framework, language)),
            plain(a.organization),
            plain(a.scope),
            f"{done}/{sum(counts.values())}",
            plain(a.declared_on or "-"),
            plain(a.valid_until or "-"),
        )
        note = _expiry_note(a, language)
        if note:
            notes.append(f"#{a.id}: {note}")
    console = _console()
    console.print(table)
    for note in notes:
        console.print(plain(note, style="bold yellow"))


@app.command()
def show(
    assessment_id: str = typer.Argument(..., metavar="ID"),
    history: bool = typer.Option(False, "--history", help="Also list every recorded change."),
    db: str | None = DB,
    lang: str | None = LANG,
    fmt: str = FORMAT,
) -> None:
    """Show an assessment: each applicable item with status, level, owner, due date and evidence."""
    from rich.text import Text

    from mamori.compliance.evidence import describe
    from mamori.compliance.gaps import group_key

    language, fmt = choose_lang(lang), check_format(fmt)
    with _book(db) as book:
        a = book.get(assessment_id)
        changes = book.history(a.id) if history else []
    catalog = a.catalog
    if fmt == "json":
        data = {
            "id": a.id,
            "framework": a.framework,
            "catalog_version": a.catalog_version,
            "organization": a.organization,
            "scope": a.scope,
            "roles": list(a.roles),
            "created_at": a.created_at,
            "updated_at": a.updated_at,
            "approver": a.approver,
            "declared_on": a.declared_on,
            "valid_from": a.valid_from,
            "valid_until": a.valid_until,
            "counts": a.counts(),
            "items": [
                {
                    "id": item.id,
                    "title": {"ja": item.title.ja, "en": item.title.en},
                    "group": group_key(catalog, item)[0],
                    "status": (ans := a.answer(item.id)).status,
                    "level": ans.level,
                    "owner": ans.owner,
                    "due": ans.due,
                    "reason": ans.reason,
                    "evidence": [e.to_dict() for e in ans.evidence],
                }
                for item in a.items()
            ],
        }
        if history:
            data["history"] = changes
        echo_json(data)
        return
    console = _console()
    head = visible(f" {catalog.title.get(language)} [{t('label.version', language)} {a.catalog_version}]")
    console.print(Text.assemble((f"#{a.id}", "bold"), head))
    console.print(plain(f"{t('label.organization', language)}: {a.organization}"))
    console.print(plain(f"{t('label.scope', language)}: {a.scope}"))
    console.print(f"{t('label.roles', language)}: " + ", ".join(t(f"role.{r}", language) for r in a.roles))
    if a.catalog_version != catalog.version:
        console.print(
            plain(
                f"catalog {catalog.version} installed; assessment made with {a.catalog_version}",
                style="yellow",
            )
        )
    current = None
    for item in a.items():
        key, title = group_key(catalog, item)
        if key != current:
            current = key
            console.print()
            console.print(plain(f"{key} {title.get(language)}", style="bold"))
        ans = a.answer(item.id)
        extra = [
            f"L{ans.level}" if ans.level is not None else "",
            f"{t('label.owner', language)}: {ans.owner}" if ans.owner else "",
            f"{t('label.due', language)}: {ans.due}" if ans.due else "",
        ]
        line = f"  {item.id:<10} {_status(ans.status, language):<8} {item.title.get(language)}"
        console.print(plain(f"{line}  {' '.join(x for x in extra if x)}"))
        if ans.reason:
            console.print(plain(f"             {t('label.reason', language)}: {ans.reason}"))
        for ev in ans.evidence:
            console.print(plain(f"             - {describe(ev)}"))
    counts = a.counts()
    console.print("\n" + "  ".join(f"{_status(k, language)} {v}" for k, v in counts.items()), markup=False)
    for change in changes:
        console.print(
            plain(
                f"{change['at']} {change['actor'] or '-'} ({change['via']}) {change['item'] or '-'} "
                f"{change['field']}: {change['old'] or '-'} → {change['new'] or '-'}"
            )
        )


# --------------------------------------------------------------------------------------------- answering


@app.command()
def answer(
    assessment_id: str = typer.Argument(..., metavar="ID"),
    item_id: str | None = typer.Argument(
        None, metavar="[ITEM]", help="Catalog item, e.g. S(2)-2.3 or PW.4.1 (or give --from)."
    ),
    from_file: Path | None = typer.Option(
        None,
        "--from",
        help="Answers in bulk: a CSV, YAML or XLSX file with columns item, status, level, evidence, note "
        "(also owner, due). A bad row is rejected alone; the others are recorded together.",
    ),
    status: str | None = typer.Option(None, "--status", help=", ".join(STATUSES) + "."),
    level: int | None = typer.Option(None, "--level", help="SSDF level 0-3."),
    owner: str | None = typer.Option(None, "--owner", help="Who is responsible."),
    due: str | None = typer.Option(None, "--due", help="Due date, YYYY-MM-DD."),
    evidence: list[str] | None = typer.Option(
        None, "--evidence", help="A file, an http(s) URL, or sbom:/scan:/vex:FILE (repeatable)."
    ),
    reason: str | None = typer.Option(None, "--reason", help="Why (required for not_applicable)."),
    by: str | None = BY,
    db: str | None = DB,
    lang: str | None = LANG,
) -> None:
    """Answer one item from the command line, or many from a file (--from)."""
    from mamori.compliance.evidence import parse_evidence
    from mamori.compliance.repository import UNSET

    language = choose_lang(lang)
    if from_file is not None:
        given = [status, level, owner, due, evidence, reason, item_id]
        if any(value not in (None, []) for value in given):
            raise InputError(
                None, _("--from takes the answers from the file; give no ITEM and no other answer option")
            )
        _answer_from(assessment_id, from_file, by, db, language)
        return
    if item_id is None:
        raise InputError(None, _("give an ITEM to answer, or --from FILE"))
    records = [parse_evidence(spec) for spec in evidence or []]
    values = {
        "status": UNSET if status is None else status.strip().lower().replace(" ", "_").replace("-", "_"),
        "level": UNSET if level is None else level,
        "owner": UNSET if owner is None else owner,
        "due": UNSET if due is None else due,
        "reason": UNSET if reason is None else reason,
    }
    with _book(db) as book:
        a = book.get(assessment_id)
        changes = book.answer(a, item_id, **values, evidence=records, actor=by)
    typer.echo(
        t("answer.changed", language, count=len(changes)) if changes else t("answer.unchanged", language)
    )


def _answer_from(assessment_id: str, path: Path, by: str | None, db: str | None, language: Lang) -> None:
    from mamori.compliance.bulk import read

    with _book(db) as book:
        a = book.get(assessment_id)
        updates, problems, rows = read(a, path)
        changes = book.answer_many(a, updates, via="file", actor=by) if updates else []
    for problem in problems:
        sys.stderr.write(visible(str(problem)) + "\n")
    typer.echo(
        _("{rows} rows read: {applied} applied, {rejected} rejected; {changes} changes recorded.").format(
            rows=rows, applied=len(updates), rejected=len(problems), changes=len(changes)
        )
    )
    if problems:
        raise typer.Exit(1)


@app.command("export-xlsx")
def export_xlsx(
    assessment_id: str = typer.Argument(..., metavar="ID"),
    output: Path = typer.Option(..., "-o", "--output", help="The .xlsx file to write."),
    db: str | None = DB,
    lang: str | None = LANG,
) -> None:
    """Write the bilingual questionnaire workbook (one row per applicable item, drop-downs for answers)."""
    from mamori.compliance.questionnaire import export

    a = _get(db, assessment_id)
    rows = export(a, output)
    typer.echo(visible(t("xlsx.exported", choose_lang(lang), path=output, count=rows)))


@app.command("import-xlsx")
def import_xlsx(
    assessment_id: str = typer.Argument(..., metavar="ID"),
    workbook: Path = typer.Argument(..., metavar="FILE"),
    by: str | None = BY,
    db: str | None = DB,
    lang: str | None = LANG,
) -> None:
    """Read answers back from the questionnaire; any problem (listed by sheet/row/column) imports nothing."""
    from mamori.compliance.questionnaire import QuestionnaireProblems, read

    language = choose_lang(lang)
    with _book(db) as book:
        a = book.get(assessment_id)
        try:
            rows = read(a, workbook)
        except QuestionnaireProblems as exc:
            for problem in exc.problems:
                sys.stderr.write(visible(f"{workbook}: {problem}") + "\n")
            raise InputError(workbook, t("xlsx.problems", language, count=len(exc.problems))) from None
        changes = book.answer_many(a, rows, via="xlsx", actor=by)
    typer.echo(t("xlsx.imported", language, rows=len(rows), changes=len(changes)))


# --------------------------------------------------------------------------------------------- evidence proposals


@app.command()
def propose(
    assessment_id: str = typer.Argument(..., metavar="ID"),
    sbom: list[Path] | None = typer.Option(None, "--sbom", help="An SBOM of the release (repeatable)."),
    scan: list[Path] | None = typer.Option(
        None, "--scan", help="A `mamori scan --format json` report (repeatable)."
    ),
    vex_file: list[Path] | None = typer.Option(None, "--vex", help="A VEX document (repeatable)."),
    db: str | None = DB,
    lang: str | None = LANG,
) -> None:
    """Propose artifacts as evidence for the items they serve, with a suggested status to confirm.

    Besides the files given, the store's triage records for the releases the scope names are proposed."""
    from mamori.compliance.artifacts import FileArtifacts, StoreTriage
    from mamori.compliance.proposals import artifact_label
    from mamori.compliance.proposals import propose as make

    language = choose_lang(lang)
    source = FileArtifacts(sboms=sbom or [], scans=scan or [], vexes=vex_file or [])
    with _book(db) as book:
        a = book.get(assessment_id)
        artifacts, proposals = make(a, [source, StoreTriage(book.store.engine)])
        added = book.add_proposals(a, proposals)
    for artifact in artifacts:
        typer.echo(
            visible(
                f"{t('propose.artifact', language)}: {artifact_label(artifact.kind, language)} {artifact.ref}"
            )
        )
        if artifact.matches_scope(a.scope) is False:
            typer.echo(
                visible(t("propose.scope_mismatch", language, subject=artifact.subject, scope=a.scope))
            )
    for p in added:
        typer.echo(
            visible(
                f"  #{p.id} {p.item_id:<10} {_status(p.suggested_status, language)}"
                + (f" L{p.suggested_level}" if p.suggested_level is not None else "")
                + f"  {p.reason[language]}"
            )
        )
    if not proposals:
        typer.echo(t("propose.none", language))
        return
    typer.echo(t("propose.added", language, count=len(added), id=a.id))
    if len(proposals) > len(added):
        typer.echo(t("propose.skipped", language, count=len(proposals) - len(added)))


@app.command()
def confirm(
    assessment_id: str = typer.Argument(..., metavar="ID"),
    proposal: list[int] | None = typer.Option(None, "--proposal", help="Proposal number (repeatable)."),
    item: list[str] | None = typer.Option(
        None, "--item", help="Every pending proposal for this item (repeatable)."
    ),
    every: bool = typer.Option(False, "--all", help="Every pending proposal."),
    reject: bool = typer.Option(False, "--reject", help="Reject instead of confirming."),
    override: bool = typer.Option(
        False, "--override", help="Let the suggestion replace a status already given."
    ),
    by: str | None = BY,
    db: str | None = DB,
    lang: str | None = LANG,
) -> None:
    """Confirm or reject proposed evidence; without a choice, list what is pending."""
    from mamori.compliance.catalog import id_key

    language = choose_lang(lang)
    with _book(db) as book:
        a = book.get(assessment_id)
        pending = book.proposals(a.id, "pending")
        if not pending:
            typer.echo(t("confirm.nothing", language))
            return
        if not (proposal or item or every):
            for p in pending:
                typer.echo(
                    visible(
                        f"#{p.id} {p.item_id:<10} {_status(p.suggested_status, language)}"
                        f"  [{p.artifact_kind}] {p.artifact_ref}"
                    )
                )
                typer.echo(visible(f"      {p.reason[language]}"))
            return
        keys = {id_key(i) for i in item or []}
        numbers = set(proposal or [])
        known = {p.id for p in pending}
        unknown = sorted(numbers - known)
        if unknown:
            raise InputError(
                None, gettext("no pending proposal {names}").format(names=", ".join(f"#{n}" for n in unknown))
            )
        chosen = [p for p in pending if every or p.id in numbers or id_key(p.item_id) in keys]
        book.settle_proposals(a, chosen, accept=not reject, override=override, actor=by)
    action = t("confirm.rejected" if reject else "confirm.accepted", language)
    typer.echo(t("confirm.done", language, count=len(chosen), action=action))


# --------------------------------------------------------------------------------------------- gaps, roadmap


@app.command()
def gaps(
    assessment_id: str = typer.Argument(..., metavar="ID"),
    db: str | None = DB,
    lang: str | None = LANG,
    fmt: str = FORMAT,
) -> None:
    """Unmet items, mandatory first, grouped by duty / category / requirement; totals per group."""
    from rich.text import Text

    from mamori.compliance.gaps import analyse

    language, fmt = choose_lang(lang), check_format(fmt)
    a = _get(db, assessment_id)
    report = analyse(a)
    if fmt == "json":
        echo_json(report.to_dict())
        return
    from rich.table import Table

    console = _console()
    console.print(
        Text.assemble(
            (t("gaps.title", language), "bold"),
            visible(f" #{a.id} {a.catalog.title.get(language)} — {a.scope}"),
        )
    )
    table = Table()
    table.add_column(t("label.group", language))
    for s in (*STATUSES, "unanswered"):
        table.add_column(_status(s, language), justify="right")
    table.add_column(t("label.met_percent", language), justify="right")
    for tally in [*report.groups, report.total]:
        table.add_row(
            plain(
                f"{tally.key} {tally.title.get(language)}"
                if tally.key != "total"
                else tally.title.get(language)
            ),
            *[str(tally.counts[s]) for s in (*STATUSES, "unanswered")],
            f"{tally.met_percent} %",
        )
    console.print(table)
    if report.levels is not None:
        _print_levels(console, report.levels, report.unrated, language)
    if not report.gaps:
        console.print(t("gaps.none", language))
        return
    for mandatory in (True, False):
        chosen = [g for g in report.gaps if g.mandatory == mandatory]
        if not chosen:
            continue
        console.print(
            f"\n[bold]{t('gaps.mandatory_first' if mandatory else 'gaps.optional', language)} ({len(chosen)})[/]"
        )
        shown: list[str] = []  # the headings above the previous gap
        for gap in chosen:
            path = [parent.id for parent in gap.path]
            for depth, parent in enumerate(gap.path):
                if shown[: depth + 1] != path[: depth + 1]:
                    console.print(plain(f"{'  ' * depth}{parent.id} {parent.title.get(language)}"))
            shown = path
            pad = "  " * len(gap.path)
            notes = [_status(gap.status, language)]
            if gap.owner:
                notes.append(f"{t('label.owner', language)}: {gap.owner}")
            if gap.due:
                notes.append(
                    f"{t('label.due', language)}: {gap.due}"
                    + (f" ({t('label.overdue', language)})" if gap.overdue else "")
                )
            rest = visible(f" {gap.item.title.get(language)}  [{' / '.join(notes)}]")
            console.print(Text.assemble(pad, (visible(gap.item.id), "red"), rest))
            if gap.guidance:
                names = ", ".join(guideline_name(a.catalog, key, language) for key in gap.guidance)
                console.print(plain(f"{pad}    {t('label.guidance', language)}: {names}"))


def _print_levels(console: Any, rows: dict[str, list[int]], unrated: int, lang: Lang) -> None:
    from rich.table import Table

    table = Table(title=t("label.level_table", lang))
    table.add_column(t("label.group", lang))
    for n in range(4):
        table.add_column(t("label.level_n", lang, n=n), justify="right")
    for group, counts in rows.items():
        name = t("group.total", lang) if group == "total" else group
        table.add_row(plain(name), *[str(c) for c in counts])
    console.print(table)
    if unrated:
        console.print(f"{t('label.unrated', lang)}: {unrated}")


@app.command()
def roadmap(
    assessment_id: str = typer.Argument(..., metavar="ID"),
    target_level: int | None = typer.Option(
        None, "--target-level", help="SSDF: depth to reach in the last step (1-3)."
    ),
    db: str | None = DB,
    lang: str | None = LANG,
    fmt: str = FORMAT,
) -> None:
    """Step-up plan: 50 % → 80 % → 100 % of tasks (SSDF demonstration), easiest first; then depth."""
    from mamori.compliance.roadmap import plan

    language, fmt = choose_lang(lang), check_format(fmt)
    if target_level is not None and target_level not in (1, 2, 3):
        raise InputError(
            None,
            gettext("--target-level must be 1, 2 or 3, not {target_level}").format(target_level=target_level),
        )
    a = _get(db, assessment_id)
    result = plan(a, target_level)
    if fmt == "json":
        echo_json(result.to_dict())
        return
    typer.echo(visible(f"{t('roadmap.title', language)} #{a.id} {a.catalog.title.get(language)}"))
    typer.echo(t("roadmap.method" if a.framework == "ssdf" else "roadmap.method_levels", language))
    typer.echo(
        t(
            "roadmap.coverage",
            language,
            covered=len(result.covered),
            base=result.base,
            percent=result.coverage_percent,
        )
    )
    add_key = "roadmap.add" if a.framework == "ssdf" else "roadmap.add_other"
    for n, step in enumerate(result.steps, start=1):
        head = t("roadmap.step", language, n=n, percent=step.percent, count=step.target_count)
        typer.echo(f"\n{head}" + (f" — {t('roadmap.reached', language)}" if step.reached else ""))
        if step.add:
            typer.echo(f"  {t(add_key, language)}:")
            levels = a.framework == "checklist"
            for item in step.add:
                mark = t("roadmap.mandatory" if is_mandatory(item) else "roadmap.advanced", language)
                typer.echo(
                    visible(
                        f"    {item.id:<10} " + (f"[{mark}] " if levels else "") + item.title.get(language)
                    )
                )
        if step.raise_to:
            typer.echo(f"  {t('roadmap.raise', language, level=target_level)}: {', '.join(step.raise_to)}")


# --------------------------------------------------------------------------------------------- declaration


@app.command()
def declare(
    assessment_id: str = typer.Argument(..., metavar="ID"),
    approver: str = typer.Option(..., "--approver", help='"name, title" of the approver from management.'),
    date: str | None = typer.Option(None, "--date", help="Date of the declaration (default: today)."),
    output: Path = typer.Option(
        ..., "-o", "--output", help="Folder for declaration.json, .ja/.en .html and .pdf."
    ),
    allow_unanswered: bool = typer.Option(
        False, "--allow-unanswered", help="Declare even with items unanswered."
    ),
    only: str | None = typer.Option(
        None, "--only-lang", help="Write HTML/PDF in this language only (ja or en)."
    ),
    review_interval: str = typer.Option(
        "1y",
        "--review-interval",
        help="When to review the declaration again: years, months or days after its date (1y, 6m, 90d).",
    ),
    by: str | None = BY,
    db: str | None = DB,
    lang: str | None = LANG,
) -> None:
    """Write the self-conformity declaration (JSON, and HTML + PDF in Japanese and English)."""
    from mamori.compliance.declaration import build, parse_approver, write_all
    from mamori.compliance.documents import parse_interval

    language = choose_lang(lang)
    person = parse_approver(approver)
    parse_interval(review_interval)
    day = parse_date(date, "--date") if date else dt.date.today().isoformat()
    langs = (choose_lang(only),) if only else LANGS
    with _book(db) as book:
        a = book.get(assessment_id)
        unanswered = a.counts()["unanswered"]
        if unanswered and not allow_unanswered:
            raise InputError(None, t("declaration.unanswered", language, count=unanswered))
        paths = write_all(build(a, person, day, review_interval), output, langs)
        book.update_header(
            a, {"approver": f"{person['name']}, {person['title']}", "declared_on": day}, actor=by
        )
    for path in paths:
        typer.echo(visible(t("declaration.written", language, path=path)))


@app.command()
def compare(
    declaration: Path | None = typer.Argument(
        None, metavar="[DECLARATION.json]", help="A supplier's declaration.json (with --profile)."
    ),
    profile: Path | None = typer.Option(
        None, "--profile", help="Your procurement requirement profile (YAML)."
    ),
    ours: str | None = typer.Option(
        None,
        "--ours",
        metavar="ID",
        help="Instead: our own assessment, compared with --theirs or --supplier.",
    ),
    theirs: str | None = typer.Option(None, "--theirs", metavar="ID", help="The supplier's assessment."),
    supplier: str | None = typer.Option(
        None, "--supplier", help="The supplier whose questionnaire answers (mamori contract) to compare with."
    ),
    db: str | None = DB,
    lang: str | None = LANG,
    fmt: str = FORMAT,
) -> None:
    """Compare a supplier's declaration with your requirement profile, or our own answers with a supplier's
    (--ours with --theirs or --supplier); exit 1 when there are gaps or differences."""
    language, fmt = choose_lang(lang), check_format(fmt)
    if ours is not None:
        _compare_answers(ours, theirs, supplier, db, language, fmt)
        return
    if declaration is None or profile is None:
        raise InputError(
            None, _("give DECLARATION.json with --profile, or --ours with --theirs or --supplier")
        )
    from mamori.compliance.compare import compare as run
    from mamori.compliance.compare import load_profile
    from mamori.compliance.declaration import load

    wanted = load_profile(profile)
    supplied = load(declaration)
    findings = run(supplied, wanted)
    if fmt == "json":
        echo_json(
            {
                "declaration": {
                    "organization": supplied["organization"],
                    "scope": supplied["scope"],
                    "date": supplied["date"],
                },
                "profile": wanted["profile"],
                "gaps": [f.to_dict() for f in findings],
            }
        )
    else:
        typer.echo(visible(f"{t('compare.title', language)}: {wanted['profile']}"))
        typer.echo(
            visible(
                f"{t('compare.supplier', language)}: {supplied['organization']} — {supplied['scope']}"
                f" ({supplied['date']})"
            )
        )
        for f in findings:
            head = f"{f.item} {f.title[language]}: " if f.item and f.title else ""
            typer.echo(visible(f"  - {head}{f.message[language]}"))
        typer.echo(
            t("compare.gaps", language, count=len(findings)) if findings else t("compare.ok", language)
        )
    if findings:
        raise typer.Exit(1)


def _compare_answers(
    ours_id: str, theirs_id: str | None, supplier: str | None, db: str | None, language: Lang, fmt: str
) -> None:
    from mamori.compliance.compare import compare_answers

    if (theirs_id is None) == (supplier is None):
        raise InputError(None, _("--ours takes either --theirs ID or --supplier NAME"))
    with _book(db) as book:
        ours = book.get(ours_id)
        if supplier is not None:
            from mamori.contract.questionnaire import supplier_assessment

            found = supplier_assessment(book.store, supplier, ours.framework)
            if found is None:
                raise InputError(
                    None,
                    _("no {framework} answers from supplier {supplier!r}").format(
                        framework=ours.framework, supplier=supplier
                    ),
                )
            theirs = found
        else:
            theirs = book.get(theirs_id or "")
    findings = compare_answers(ours, theirs)
    if fmt == "json":
        echo_json(
            {
                "ours": {"id": ours.id, "organization": ours.organization, "framework": ours.framework},
                "theirs": {
                    "id": theirs.id,
                    "organization": theirs.organization,
                    "framework": theirs.framework,
                },
                "differences": [f.to_dict() for f in findings],
            }
        )
    else:
        typer.echo(
            visible(f"{t('compare.answers_title', language)}: {ours.organization} / {theirs.organization}")
        )
        for f in findings:
            head = f"{f.item} {f.title[language]}: " if f.item and f.title else ""
            typer.echo(visible(f"  - {head}{f.message[language]}"))
        typer.echo(
            t("compare.differences", language, count=len(findings))
            if findings
            else t("compare.answers_ok", language)
        )
    if findings:
        raise typer.Exit(1)


# --------------------------------------------------------------------------------------------- JC-STAR ☆1 label


@app.command()
def label(
    assessment_id: str = typer.Argument(..., metavar="ID"),
    output: Path = typer.Option(..., "-o", "--output", help="The label information page (.html)."),
    fields: Path | None = typer.Option(
        None, "--fields", help="YAML with field values: 'LP-02: Product name'."
    ),
    issued: str | None = typer.Option(
        None, "--issued", help="Date the label was obtained; sets the 2-year validity."
    ),
    draft: bool = typer.Option(False, "--draft", help="Render even with fields missing or items not met."),
    url: str | None = typer.Option(
        None, "--url", help="Address the page is published at; the page shows it as a QR code (kept)."
    ),
    release: str | None = typer.Option(
        None,
        "--release",
        help="PRODUCT@VERSION whose stored findings fill the vulnerability information (kept; default: the "
        "release named in the scope).",
    ),
    by: str | None = BY,
    db: str | None = DB,
    lang: str | None = LANG,
) -> None:
    """Render the JC-STAR ☆1 label information page from its 22 fields (jcstar1 assessments)."""
    from mamori.compliance import jcstar
    from mamori.fileio import write_bytes_atomic

    language = choose_lang(lang)
    values = jcstar.read_fields(fields) if fields else {}
    if url is not None:
        values[jcstar.PAGE_URL] = jcstar.check_page_url(url)
    if release is not None:
        values[jcstar.RELEASE] = jcstar.check_release(release)
    with _book(db) as book:
        a = book.get(assessment_id)
        if a.framework != "jcstar1":
            raise InputError(
                None,
                gettext("assessment {id} is a {framework} assessment; the label page is for jcstar1").format(
                    id=a.id, framework=a.framework
                ),
            )
        header: dict[str, Any] = {}
        if values:
            header["label_fields"] = {**a.label_fields, **values}
        if issued:
            start = dt.date.fromisoformat(parse_date(issued, "--issued"))
            header["valid_from"], header["valid_until"] = (
                start.isoformat(),
                jcstar.valid_until(start).isoformat(),
            )
        if header:
            book.update_header(a, header, actor=by)
            a = book.get(a.id)
        vulns = jcstar.vulnerability_info(book.store, a, language)
    missing = jcstar.missing_required(jcstar.field_values(a, language, vulns=vulns))
    _, _, open_items = jcstar.conformity(a)
    if not draft and (missing or open_items):
        problems = []
        if missing:
            problems.append(t("label_page.missing", language, fields=", ".join(i.id for i in missing)))
        if open_items:
            problems.append(t("label_page.not_conforming", language, items=", ".join(open_items)))
        raise InputError(None, gettext("{problems} (or pass --draft)").format(problems="; ".join(problems)))
    write_bytes_atomic(
        output,
        jcstar.render(a, language, draft=draft or bool(missing or open_items), vulns=vulns).encode("utf-8"),
    )
    typer.echo(visible(t("declaration.written", language, path=output)))
    if a.valid_until:
        typer.echo(visible(t("label_page.issued", language, issued=a.valid_from, until=a.valid_until)))
    note = _expiry_note(a, language)
    if note:
        typer.echo(visible(note))

"""Plain-text views of ``mamori db show`` and ``mamori db status`` in English or Japanese."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mamori.display import visible
from mamori.model.vulnerability import AffectedPackage, Vulnerability
from mamori.vulndb.coverage import age_days
from mamori.vulndb.messages import text

MAX_LISTED = 15


def _ranges(pkg: AffectedPackage) -> str:
    parts = []
    for r in pkg.ranges:
        events = ", ".join(f"{e.kind} {e.value}" for e in r.events)
        parts.append(f"{r.type}: {events}" if events else r.type)
    if pkg.versions:
        parts.append(f"{len(pkg.versions)} versions")
    return "; ".join(parts)


def _more(lines: list[str], total: int, lang: str) -> list[str]:
    if total > len(lines):
        lines.append("    " + text(lang, "show", "more", count=total - len(lines)))
    return lines


def show_lines(v: Vulnerability, lang: str, also: list[str] | None = None) -> list[str]:
    t = lambda key: text(lang, "show", key)  # noqa: E731
    lines = [v.id]
    if v.aliases:
        lines.append(f"  {t('aliases')}: {', '.join(v.aliases)}")
    if v.related:
        lines.append(f"  {t('related')}: {', '.join(v.related)}")
    if also:
        lines.append(f"  {t('also')}: {', '.join(also)}")
    sources = ", ".join(f"{s.source} {s.id}" + (f" ({s.feed})" if s.feed else "") for s in v.sources)
    lines.append(f"  {t('sources')}: {sources}")
    order = [lang] + [x for x in ("ja", "en") if x != lang]
    for key, texts in (("title", v.titles), ("summary", v.summaries)):
        for language in order:
            if language in texts:
                lines.append(f"  {t(key)} ({language}): {texts[language]}")
    for key in ("published", "modified", "withdrawn"):
        value = getattr(v, key)
        if value:
            lines.append(f"  {t(key)}: {value}")
    for s in v.severities:
        score = f"{s.score:.1f} {s.rating}" if s.score is not None else t("invalid")
        given = f", {t('source_score')} {s.source_score}" if s.source_score is not None else ""
        who = ", ".join(x for x in (s.source, s.provider) if x)
        lines.append(f"  {t('severity')}: {s.method} {s.version} {score}{given} [{who}] {s.vector}")
    if v.cwes:
        lines.append(f"  {t('cwe')}: {', '.join(v.cwes)}")
    for k in v.kev:
        line = text(
            lang,
            "show",
            "kev_line",
            cve=k.cve_id,
            added=k.date_added or "-",
            due=k.due_date or "-",
            ransomware=k.known_ransomware_use or "-",
        )
        lines.append(f"  {t('kev')}: {line} [{k.source}]")
    for e in v.epss:
        lines.append(
            f"  {t('epss')}: "
            + text(
                lang,
                "show",
                "epss_line",
                cve=e.cve_id,
                score=e.score,
                percentile=e.percentile,
                date=e.date or "-",
            )
        )
    for s in v.ssvc:
        line = text(
            lang,
            "show",
            "ssvc_line",
            exploitation=s.exploitation or "-",
            automatable=s.automatable or "-",
            technical_impact=s.technical_impact or "-",
        )
        lines.append(f"  {t('ssvc')}: {line} [{s.provider or '-'}, {s.timestamp or '-'}]")
    if v.affected_packages:
        lines.append(f"  {t('packages')} ({len(v.affected_packages)}):")
        listed = [
            f"    {p.ecosystem} {p.name}: {_ranges(p)} [{p.source} {p.record_id}]"
            for p in v.affected_packages[:MAX_LISTED]
        ]
        lines += _more(listed, len(v.affected_packages), lang)
    cpes = [m.criteria for c in v.cpe_configurations for n in c.nodes for m in n.matches if m.vulnerable]
    cpes += [c for p in v.affected_products for c in p.cpes]
    if cpes:
        unique = list(dict.fromkeys(cpes))
        lines.append(f"  {t('cpes')} ({len(unique)}):")
        lines += _more([f"    {c}" for c in unique[:MAX_LISTED]], len(unique), lang)
    derived = {c: p for p in v.affected_products for c in p.derived_cpes if c not in cpes}
    for cpe, product in derived.items():
        named = " / ".join(str(x) for x in (product.vendor, product.product, product.repo) if x)
        lines.append(f"  {text(lang, 'show', 'derived_cpe', cpe=cpe, named=named)}")
    if v.references:
        lines.append(f"  {t('references')} ({len(v.references)}):")
        listed = [f"    [{r.type}] {r.url}" for r in v.references[:MAX_LISTED]]
        lines += _more(listed, len(v.references), lang)
    return [visible(line) for line in lines]  # record text: control characters shown as escapes


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def with_ages(status: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """``status`` with ``age_days`` on each coverage row: days since its complete feed was imported
    (None when partial)."""
    now = now or datetime.now(UTC)
    for row in status.get("coverage") or []:
        row["age_days"] = age_days(row.get("complete_at"), now) if row.get("complete") else None
    return status


def _age(days: float | None, lang: str) -> str:
    if days is None:
        return "-"
    if days < 2:
        return text(lang, "status", "hours", count=round(days * 24))
    return text(lang, "status", "days", count=int(days))


def coverage_lines(status: dict[str, Any], lang: str) -> list[str]:
    """The coverage table of ``db status``: per source and scope, complete or partial, when, age, records."""
    t = lambda key: text(lang, "status", key)  # noqa: E731
    rows = status.get("coverage") or []
    lines = [t("coverage")]
    if not rows:
        return [*lines, t("no_coverage")]
    lines.append(
        f"{t('source'):<8} {t('scope'):<16} {t('state'):<9} {t('records'):>9}  {t('updated_at'):<21}"
        f" {t('age'):>6}  {t('origin')}"
    )
    for row in rows:
        state = t("complete") if row["complete"] else t("partial")
        when = (row.get("complete_at") if row["complete"] else row.get("partial_at")) or "-"
        origin = (row.get("complete_origin") if row["complete"] else row.get("partial_origin")) or "-"
        lines.append(
            f"{row['source']:<8} {visible(row['scope']):<16} {state:<9} {row.get('records', 0):>9}  {when:<21}"
            f" {_age(row.get('age_days'), lang):>6}  {visible(origin)}"
        )
    return lines


def status_lines(status: dict[str, Any], lang: str) -> list[str]:
    t = lambda key: text(lang, "status", key)  # noqa: E731
    lines = [
        f"{t('database')}: {status['database']} ({t('size')} {_size(status['size_bytes'])})",
        f"{t('vulnerabilities')}: {status['vulnerabilities']} ({t('withdrawn')} {status['withdrawn']}),"
        f" {t('aliases')}: {status['aliases']}",
    ]
    if not status["sources"]:
        lines.append(t("empty"))
        return [visible(line) for line in lines]
    header = f"{t('source'):<10} {t('records'):>9} {t('withdrawn'):>9}  {t('updated_at'):<21} {t('origin')}"
    lines.append(header)
    for source, entry in status["sources"].items():
        withdrawn = entry.get("withdrawn", "")
        lines.append(
            f"{source:<10} {entry.get('records', 0):>9} {withdrawn!s:>9}  {entry.get('updated_at', '-'):<21}"
            f" {entry.get('origin') or '-'}"
        )
    links = status["sources"].get("purl2cpe")
    if links and "strong" in links:
        lines.append(text(lang, "status", "links", strong=links["strong"], weak=links["weak"]))
    return [visible(line) for line in (*lines, *coverage_lines(status, lang))]

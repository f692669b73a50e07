"""PDF output of the declaration (and other compliance documents) with ReportLab.

Why ReportLab: it installs from PyPI alone (pure Python plus Pillow wheels, no system libraries, unlike
WeasyPrint's Pango/Cairo), lays out tables and wrapped paragraphs (platypus), and writes Japanese with no font
download: its built-in Adobe-Japan1 CID font ``HeiseiKakuGo-W5`` (UnicodeCIDFont) is named, not embedded, and
every PDF viewer with Japanese support (Acrobat's Asian font pack, any Japanese-locale desktop, poppler with a
Japanese font installed) supplies the glyphs; the text layer is correct Unicode either way, so search and
copy work. When a Japanese TrueType font is present — ``MAMORI_PDF_FONT``, or the IPAex / IPA Gothic fonts of
Debian's fonts-ipaexfont-gothic / fonts-ipafont-gothic packages — ReportLab embeds a subset of it instead, and
the PDF then renders the same everywhere, even where no Japanese font is installed. fpdf2 would need such a
font file in every case (it has no CID fonts), which is why it was not chosen.
"""

from __future__ import annotations

import io
import os
from functools import cache
from pathlib import Path
from typing import Any

from mamori.compliance import catalog as cat
from mamori.compliance.assessment import STATUSES
from mamori.compliance.messages import t

CID_FONT = "HeiseiKakuGo-W5"
EMBEDDED_NAME = "MamoriJapanese"
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
)


def truetype_font() -> Path | None:
    """The Japanese TrueType font to embed, if one is available."""
    chosen = os.environ.get("MAMORI_PDF_FONT")
    candidates = [chosen] if chosen else list(FONT_CANDIDATES)
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


@cache
def _font(path: str | None) -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    if path is not None:
        try:
            pdfmetrics.registerFont(TTFont(EMBEDDED_NAME, path))
            return EMBEDDED_NAME
        except (TTFError, OSError):
            pass  # not a usable TrueType font: fall back to the CID font
    pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    return CID_FONT


def font_name() -> str:
    found = truetype_font()
    return _font(str(found) if found else None)


def _styles(font: str) -> dict[str, Any]:
    from reportlab.lib.styles import ParagraphStyle

    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=10),
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=24, alignment=1, spaceAfter=12),
        "h2": ParagraphStyle("h2", parent=base, fontSize=12, leading=16, spaceBefore=10, spaceAfter=4),
    }


def _p(text: object, style: Any) -> Any:
    from xml.sax.saxutils import escape

    from reportlab.platypus import Paragraph

    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


def _table(rows: list[list[Any]], widths: list[float] | None, font: str, header: bool = True) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8f8")))
    table.setStyle(TableStyle(style))
    return table


def numbered_canvas(font: str, label: str = "{page} / {pages}") -> type:
    """A ReportLab canvas class that prints "n / N" at the foot of every page: pages are held back until the
    document is complete, so the total is known when each number is drawn."""
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # ReportLab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self.setFont(font, 8)
                self.setFillGray(0.4)
                self.drawCentredString(self._pagesize[0] / 2, 8 * mm, label.format(page=number, pages=total))
                super().showPage()
            super().save()

    return NumberedCanvas


def declaration_pdf(d: dict[str, Any], lang: cat.Lang) -> bytes:
    """The declaration as an A4 PDF in ``lang``."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate, Spacer

    font = font_name()
    s = _styles(font)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=d["title"][lang],
        author=d["organization"],
        subject=d["scope"],
        creator=d.get("generated_by", ""),
    )
    width = A4[0] - 30 * mm
    roles = ", ".join(t(f"role.{role}", lang) for role in d["roles"])
    head = [
        ("label.organization", d["organization"]),
        ("label.scope", d["scope"]),
        ("label.framework", d["catalog"]["title"][lang]),
        ("label.catalog_version", d["catalog"]["version"]),
        ("label.roles", roles),
        ("label.approver", f"{d['approver']['name']} ({d['approver']['title']})"),
        ("label.date", d["date"]),
    ]
    review = d.get("review")
    if review:
        from mamori.compliance.documents import interval_words

        text = f"{review['next']} ({t('declaration.review_interval', lang, interval=interval_words(review['interval'], lang))})"
        if review.get("valid_until"):
            text += "\n" + t(
                "declaration.valid_until", lang, years=review["validity_years"], date=review["valid_until"]
            )
        head.append(("declaration.review", text))
    story: list[Any] = [
        _p(d["title"][lang], s["title"]),
        _p(
            t(
                "declaration.statement",
                lang,
                catalog=d["catalog"]["title"][lang],
                version=d["catalog"]["version"],
            ),
            s["base"],
        ),
        Spacer(1, 6),
        _table(
            [[_p(t(k, lang), s["base"]), _p(v, s["base"])] for k, v in head],
            [45 * mm, width - 45 * mm],
            font,
            False,
        ),
    ]
    if d.get("sources"):
        story.append(_p(t("declaration.sources", lang), s["h2"]))
        for src in d["sources"]:
            lines = [
                f"{src['title'][lang]} — {t('label.catalog_version', lang)} {src['catalog_version']}"
                + (f" ({src['based_on']})" if src.get("based_on") else ""),
                f"{t('declaration.source_document', lang)}: {src.get('document') or '-'}"
                + (f" ({src['file']})" if src.get("file") else "")
                + f", {t('declaration.published', lang)}: {src.get('published') or t('declaration.published_unknown', lang)}",
            ]
            if src.get("edition_note"):
                lines.append(src["edition_note"][lang])
            story.append(_p("\n".join(lines), s["small"]))
    story.append(_p(t("label.counts", lang), s["h2"]))
    counts = d["summary"]["counts"]
    names = [*STATUSES, "unanswered"]
    story.append(
        _table(
            [
                [_p(t(f"status.{n}", lang), s["small"]) for n in names]
                + [_p(t("label.met_percent", lang), s["small"])],
                [_p(counts.get(n, 0), s["base"]) for n in names]
                + [_p(f"{d['summary']['met_percent']} %", s["base"])],
            ],
            None,
            font,
        )
    )
    levels = d.get("levels")
    if levels:
        story.append(_p(t("label.level_table", lang), s["h2"]))
        rows = [
            [_p(t("label.group", lang), s["small"])]
            + [_p(t("label.level_n", lang, n=n), s["small"]) for n in range(4)]
        ]
        rows += [
            [_p(t("group.total", lang) if group == "total" else group, s["base"])]
            + [_p(c, s["base"]) for c in counts_]
            for group, counts_ in levels["rows"].items()
        ]
        story.append(_table(rows, None, font))
    story.append(_p(t("declaration.items", lang), s["h2"]))
    has_level = levels is not None
    header = [t("label.item", lang), t("label.title", lang), t("label.status", lang)]
    widths = [26 * mm, 58 * mm, 25 * mm]
    if has_level:
        header.append(t("label.level_short", lang))
        widths.append(14 * mm)
    header.append(f"{t('label.evidence', lang)} / {t('label.reason', lang)}")
    widths.append(width - sum(widths))
    rows = [[_p(h, s["small"]) for h in header]]
    for item in d["items"]:
        lines = [
            f"{ev['ref']}" + (f"\nsha256:{ev['sha256']}" if ev.get("sha256") else "")
            for ev in item["evidence"]
        ]
        if item.get("reason"):
            lines.append(f"{t('label.reason', lang)}: {item['reason']}")
        row = [
            _p(
                item["id"]
                + (" *" if item.get("mandatory") else "")
                + (" †" if item.get("roles_inferred") else ""),
                s["base"],
            ),
            _p(item["title"][lang] if "title" in item else "", s["base"]),
            _p(t(f"status.{item['status']}", lang), s["base"]),
        ]
        if has_level:
            row.append(_p(item.get("level", ""), s["base"]))
        row.append(_p("\n".join(lines), s["small"]))
        rows.append(row)
    story.append(_table(rows, widths, font))
    story.append(_p(f"* {t('label.mandatory', lang)}", s["small"]))
    story += _excluded(d, lang, s, font, width)
    story += _signature(d, lang, s, font)
    doc.build(
        story, canvasmaker=numbered_canvas(font, t("declaration.page", lang, page="{page}", pages="{pages}"))
    )
    return buffer.getvalue()


def _excluded(d: dict[str, Any], lang: cat.Lang, s: dict[str, Any], font: str, width: float) -> list[Any]:
    from reportlab.lib.units import mm

    from mamori.compliance.documents import role_names

    if "excluded" not in d:
        return []
    out: list[Any] = [_p(t("declaration.excluded", lang), s["h2"])]
    if not d["excluded"]:
        out.append(_p(t("declaration.excluded_none", lang), s["base"]))
    else:
        out.append(_p(t("declaration.excluded_intro", lang, roles=role_names(d["roles"], lang)), s["base"]))
        rows = [
            [
                _p(t("label.item", lang), s["small"]),
                _p(t("label.title", lang), s["small"]),
                _p(t("declaration.applies_to", lang), s["small"]),
            ]
        ]
        for item in d["excluded"]:
            mark = item.get("roles_inferred")
            rows.append(
                [
                    _p(item["id"] + (" †" if mark else ""), s["base"]),
                    _p(item["title"][lang], s["base"]),
                    _p(
                        role_names(item["roles"], lang)
                        + (f" ({t('declaration.inferred_mark', lang)})" if mark else ""),
                        s["base"],
                    ),
                ]
            )
        out.append(_table(rows, [22 * mm, width - 72 * mm, 50 * mm], font))
    roles = d.get("role_applicability") or {}
    if roles.get("inferred"):
        out.append(_p(" ".join(x[lang] for x in (roles["note"], roles.get("catalog_note")) if x), s["small"]))
    return out


def _signature(d: dict[str, Any], lang: cat.Lang, s: dict[str, Any], font: str) -> list[Any]:
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Spacer

    rows = [
        [_p(t("declaration.sign_name", lang), s["base"]), _p(d["approver"]["name"], s["base"])],
        [_p(t("declaration.sign_title", lang), s["base"]), _p(d["approver"]["title"], s["base"])],
        [_p(t("declaration.sign_seal", lang), s["base"]), Spacer(1, 16 * mm)],
        [_p(t("declaration.sign_date", lang), s["base"]), _p(d["date"], s["base"])],
    ]
    return [
        KeepTogether(
            [
                _p(t("declaration.signature", lang), s["h2"]),
                _table(rows, [35 * mm, 80 * mm], font, False),
            ]
        )
    ]

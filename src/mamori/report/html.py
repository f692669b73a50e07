"""The HTML scan report: one self-contained file, Japanese and English, for people.

Everything is inline (CSS, the small script, the SVG chart); nothing is loaded from the network. The
page carries both languages and shows the one ``lang`` chooses; a toggle switches. Data from the scan
(names, summaries, details, URLs) is escaped by Jinja2's autoescape, only http(s) references become
links, and a Content-Security-Policy allows no script or style but the report's own (by SHA-256), so
text that slipped through as markup would still not run. The output depends only on the
:class:`ScanResult` (no clock, no randomness): the same result gives the same bytes.

Template, style, script and words: ``mamori/data/report/`` (report.html.j2, report.css, report.js,
messages.yaml). The view model: :mod:`mamori.report.html_view`.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib import resources

import jinja2
from markupsafe import Markup

from mamori.report.html_view import LANGS, msg, plain_messages, report_view, shared
from mamori.scan.result import ScanResult

DATA = "data/report"
COLUMNS = ("component", "vulnerability", "rating", "kev", "epss", "fixed", "method", "confidence")
COLUMNS_MORE = ("sources", "purl", "cpe", "detail", "reason", "code", "status")


def _asset(name: str) -> str:
    return resources.files("mamori").joinpath(f"{DATA}/{name}").read_text(encoding="utf-8")


@cache
def _inline(name: str) -> str:
    """A bundled CSS or JS file for inlining; it must not be able to close its own element."""
    body = _asset(name)
    if "</" in body or "<!--" in body:
        raise ValueError(f"{name}: cannot be inlined (contains '</' or '<!--')")
    return body


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env.from_string(_asset("report.html.j2"))


def _shown(total: int) -> dict[str, tuple[str, str]]:
    """'Showing {shown} of {total}' split around the live count, per language."""
    marker = "\x00"
    texts = msg("shown", shown=marker, total=total)
    return {lang: tuple(texts[lang].split(marker, 1)) for lang in LANGS}  # type: ignore[misc]


def render(result: ScanResult, lang: str = "en") -> bytes:
    """The report as UTF-8 HTML; ``lang`` (en or ja) is the language shown first."""
    view = report_view(result, lang)
    css, js = _inline("report.css"), _inline("report.js")
    csp = (
        f"default-src 'none'; script-src {_sha256(js)}; style-src {_sha256(css)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    messages = plain_messages()
    cols = {key: shared("columns", key) for key in (*COLUMNS, *COLUMNS_MORE)}
    html = _template().render(
        v=view,
        m=messages,
        cols=cols,
        title={lang_: f"{messages['title'][lang_]}: {view.target}" for lang_ in LANGS},
        footer=msg("footer", version=view.version),
        shown=_shown(len(view.findings)),
        csp=csp,
        css=Markup(css),
        js=Markup(js),
    )
    return html.encode("utf-8")

"""Server-rendered pages: the Jinja2 environment (autoescaped: input text shows as text, never markup), the
page language, and rendering.

The language of a page: the signed-in user's choice, else the ``mamori_lang`` cookie (set by ``?lang=``
or the switch), else the ``Accept-Language`` header's preferred of ja and en, else English.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse

from mamori.accounts.roles import roles
from mamori.display import visible
from mamori.i18n import Messages

LANG_COOKIE = "mamori_lang"
MESSAGES = Messages("data/server/messages.yaml")


@cache
def environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    folder = str(resources.files("mamori") / "data" / "server" / "templates")
    env = Environment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["visible"] = visible
    return env


def accept_language(header: str) -> str | None:
    """ja or en, whichever the ``Accept-Language`` header prefers (None when it names neither)."""
    best: tuple[float, int, str] | None = None
    for index, part in enumerate(header.split(",")[:50]):
        tag, _sep, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        if lang not in ("ja", "en"):
            continue
        q = 1.0
        for param in params.split(";"):
            key, _s, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0 and (best is None or (q, -index) > (best[0], best[1])):
            best = (q, -index, lang)
    return best[2] if best else None


def page_lang(request: Request, user_lang: str | None = None) -> str:
    asked = request.query_params.get("lang")
    if asked in ("ja", "en"):
        return asked
    if user_lang in ("ja", "en"):
        return user_lang
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in ("ja", "en"):
        return cookie
    return accept_language(request.headers.get("accept-language", "")) or "en"


def _here(request: Request) -> str:
    """This page's path and query (without ``lang``), where the language switch comes back to."""
    query = "&".join(
        f"{quote(k, safe='')}={quote(v, safe='')}"
        for k, v in request.query_params.multi_items()
        if k not in ("lang", "recorded")
    )
    path = request.url.path if request.method == "GET" else "/"
    return path + ("?" + query if query and request.method == "GET" else "")


def render(
    request: Request, template: str, lang: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    def t(*path: str, **values: Any) -> str:
        return MESSAGES.text(lang, *path, **values)

    def role_label(name: str) -> str:
        role = roles().get(name)
        return role.label.get(lang, name) if role else name

    html = (
        environment()
        .get_template(template)
        .render(
            lang=lang,
            other_lang="en" if lang == "ja" else "ja",
            t=t,
            role_label=role_label,
            principal=context.pop("principal", None),
            here=_here(request),
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status_code)
    if request.query_params.get("lang") in ("ja", "en"):
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="lax")
    return response


def text(lang: str, *path: str, **values: Any) -> str:
    return MESSAGES.text(lang, *path, **values)

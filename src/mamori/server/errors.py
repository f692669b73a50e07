"""Error answers of the native API (``/api/mamori/v1``) and of the web UI's JSON answers in the request's
language, each with a stable machine-readable ``code``:

    {"detail": "見つかりません", "code": "not_found"}

The language is the web UI's (:func:`mamori.server.web.page_lang`): ``?lang=ja|en``, else the signed-in
user's remembered language, else the language cookie, else ``Accept-Language``, else English. The routes
raise :class:`fastapi.HTTPException` with the English text (the gettext msgid, listed in :data:`CODES`),
or :class:`ApiError` for a text with values; the application's handler translates it here. A detail that
is not a text (the 422 list of ``{"loc", "msg", "type"}``) is answered as it is, with its code.

The Dependency-Track-compatible endpoints (``/api/v1/``) keep Dependency-Track's English shapes: no code,
no translation (:func:`is_dtrack`).
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request

from mamori.i18n import N_, translate

#: the English detail of each error the routes raise → its code
CODES: dict[str, str] = {
    N_("not found"): "not_found",
    N_("not permitted"): "forbidden",
    N_("authentication required"): "unauthenticated",
    N_("CSRF token missing or wrong"): "csrf_token",
    N_("a product of this name exists"): "product_exists",
    N_("no such finding in the release"): "no_such_finding",
    N_("no triage records for this release"): "no_triage_records",
    N_("not a browser session"): "not_browser_session",
    N_("lang is ja or en"): "bad_lang",
    N_("request body too large"): "too_large",
    N_("internal server error"): "internal",
}

#: the code of an error whose detail is not in :data:`CODES`, by its status
STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "timeout",
    409: "conflict",
    413: "too_large",
    422: "invalid_request",
    429: "too_many_requests",
    500: "internal",
}


class ApiError(HTTPException):
    """An error whose detail has values: ``ApiError(400, "bad_format", N_("format: one of {formats}"),
    formats="…")``; its ``detail`` is the English text (what logs and the Dependency-Track paths show)."""

    def __init__(self, status_code: int, code: str, message: str, **values: Any) -> None:
        super().__init__(status_code, message.format(**values))
        self.code = code
        self.message = message
        self.values = values

    def text(self, lang: str) -> str:
        return translate(self.message, lang).format(**self.values)


def is_dtrack(request: Request) -> bool:
    """A Dependency-Track-compatible path: its errors keep Dependency-Track's English shapes."""
    return request.url.path.startswith("/api/v1/")


def request_lang(request: Request) -> str:
    """The language of the request's answers: ``?lang=``, the signed-in user's, the cookie's, then
    ``Accept-Language`` (:func:`mamori.server.web.page_lang`)."""
    from mamori.server.web import page_lang

    principal = getattr(request.state, "principal", None)
    return page_lang(request, getattr(principal, "lang", None))


def code_of(status: int, detail: Any) -> str:
    """The stable code of an error: the detail's (:data:`CODES`), else the status's."""
    if isinstance(detail, str) and detail in CODES:
        return CODES[detail]
    return STATUS_CODES.get(status, "error")


def body(request: Request, exc: HTTPException) -> dict[str, Any]:
    """``{"detail", "code"}`` of ``exc`` in the request's language."""
    lang = request_lang(request)
    if isinstance(exc, ApiError):
        return {"detail": exc.text(lang), "code": exc.code}
    detail = exc.detail
    text = translate(detail, lang) if isinstance(detail, str) and detail else detail  # "": the header
    return {"detail": text, "code": code_of(exc.status_code, detail)}


def plain(request: Request, status: int, message: str, code: str | None = None) -> dict[str, Any]:
    """``{"detail", "code"}`` of an English ``message`` (an msgid) in the request's language."""
    return {"detail": translate(message, request_lang(request)), "code": code or code_of(status, message)}

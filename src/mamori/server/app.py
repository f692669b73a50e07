"""The ASGI application: :func:`create_app`.

One FastAPI application over the store the command line uses (``--db``, ``MAMORI_DB``, the default SQLite
file; PostgreSQL by URL). It includes the routers of :mod:`mamori.server.routes`, serves the OpenAPI 3.1
document at ``/openapi.json`` (no interactive documentation pages: they would load scripts from a CDN,
which the Content-Security-Policy forbids), adds the security headers and the request size limit
(:mod:`mamori.server.middleware`), and answers errors without internals: a generic 500 (JSON, or a page for
a browser), the traceback in the server's log only. The errors of the native API and of the web UI's JSON
answers are in the request's language with a stable ``code`` (:mod:`mamori.server.errors`); those of the
Dependency-Track-compatible paths keep Dependency-Track's English shapes.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from mamori import __version__
from mamori.errors import MamoriError
from mamori.server import background, errors
from mamori.server.middleware import BodyLimit, SecurityHeaders
from mamori.server.routes import routers
from mamori.server.settings import ServerSettings
from mamori.server.web import page_lang, render, text
from mamori.store import Store, open_store

log = logging.getLogger("mamori.server")


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def _error_page(request: Request, status: int) -> Response:
    key = {403: "forbidden", 404: "not_found", 413: "too_large"}.get(status, "server")
    lang = page_lang(request)
    return render(request, "error.html", lang, status_code=status, message=text(lang, "error", key))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if _wants_html(request):
        if exc.status_code == 401:
            path = request.url.path if request.method == "GET" else "/"
            return RedirectResponse(f"/signin?next={path}", 303)
        if exc.status_code in (403, 404, 413):
            return _error_page(request, exc.status_code)
    headers = getattr(exc, "headers", None)
    if errors.is_dtrack(request):  # Dependency-Track's English shape
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)
    if not isinstance(exc, HTTPException):  # Starlette's own (405, a route that is absent)
        exc = HTTPException(exc.status_code, exc.detail, headers)
    return JSONResponse(errors.body(request, exc), status_code=exc.status_code, headers=headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    body: dict[str, Any] = {"detail": jsonable_encoder(exc.errors())}
    if not errors.is_dtrack(request):
        body["code"] = "invalid_request"
    return JSONResponse(body, status_code=422)


async def _input_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, MamoriError)
    if errors.is_dtrack(request):
        return JSONResponse({"detail": exc.message(page_lang(request))}, status_code=400)
    detail = exc.message(errors.request_lang(request))
    return JSONResponse({"detail": detail, "code": "bad_input"}, status_code=400)


async def _server_error(request: Request, exc: Exception) -> Response:
    # the path without its query (which may carry a token); the traceback stays in the server's log
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path, exc_info=exc)
    if _wants_html(request):
        return _error_page(request, 500)
    if errors.is_dtrack(request):
        return JSONResponse({"detail": "internal server error"}, status_code=500)
    return JSONResponse(errors.plain(request, 500, "internal server error"), status_code=500)


# what the first requests of a server just started would otherwise load: the modules the findings lists,
# the dashboard and the release pages import when called (1.2 s of the first dashboard's 1.6 s on a
# loaded machine), the role table, and the dashboard's template
WARM_MODULES = (
    "mamori.portfolio.dashboard",
    "mamori.portfolio.views",
    "mamori.portfolio.ssvc_view",
    "mamori.portfolio.context",
    "mamori.match.knowledge",
    "mamori.triage.integrate",
    "mamori.triage.record_tables",
)


def warm_up() -> None:
    """Load what the first read requests need, before the server takes requests."""
    import importlib

    from mamori.accounts.roles import roles
    from mamori.server.web import environment

    for name in WARM_MODULES:
        importlib.import_module(name)
    roles()
    environment().get_template("portfolio.html")


def create_app(settings: ServerSettings, store: Store | None = None) -> FastAPI:
    """The application over ``store`` (else the store of ``settings.db``, opened now and closed when the
    application stops)."""
    own_store = store is None
    opened = open_store(settings.db) if store is None else store

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from mamori.portfolio import uploads

        background.configure(settings.background_workers, opened, settings.broker_url)
        await run_in_threadpool(warm_up)
        if not background.broker_configured():
            # SBOM uploads a stopped server left queued or half-processed are processed again (with a
            # broker, the workers and the scheduler's sweep do)
            await run_in_threadpool(uploads.resume_pending, opened)
            await run_in_threadpool(background.resume_bundles, opened)
        try:
            yield
        finally:
            await run_in_threadpool(uploads.shutdown_workers, True)
            background.shutdown(wait=True)
            if own_store:
                opened.close()

    app = FastAPI(
        title="mamori",
        version=__version__,
        summary="SBOM, vulnerabilities, VEX and self-assessment for Japan's supply-chain guidelines",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = opened
    app.state.oidc_cache = {}
    handlers: dict[Any, Any] = {
        StarletteHTTPException: _http_error,
        RequestValidationError: _validation_error,
        MamoriError: _input_error,
        Exception: _server_error,
    }
    for kind, handler in handlers.items():
        app.add_exception_handler(kind, handler)
    for router in routers():
        app.include_router(router)
    static = str(resources.files("mamori") / "data" / "server" / "static")
    app.mount("/static", StaticFiles(directory=static), name="static")
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    return app

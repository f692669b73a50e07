"""Dependency-Track-compatible endpoints, so that CI uploaders and clients written for Dependency-Track's
REST API v1 work against mamori unchanged (``X-Api-Key`` header, paths and JSON shapes as Dependency-Track
documents them):

- ``PUT /api/v1/bom`` (JSON ``BomSubmitRequest``: base64 ``bom``, ``projectName``, ``projectVersion``,
  ``autoCreate``, or ``project`` = the project's UUID) and ``POST /api/v1/bom`` (multipart, the same
  fields, ``bom`` a file) → ``{"token": …}``; every format mamori reads is accepted, not only CycloneDX;
- ``GET /api/v1/bom/token/{token}`` and ``GET /api/v1/event/token/{token}`` → ``{"processing": …}``;
- ``GET /api/v1/project/lookup?name=&version=``, ``GET /api/v1/project?name=``,
  ``GET /api/v1/project/{uuid}`` → ``Project``;
- ``GET /api/v1/finding/project/{uuid}`` → a list of ``Finding``.

The project list is paged and sorted as Dependency-Track's (Alpine's) list endpoints are: ``offset`` (with
``limit``/``pageSize``/``size``), else ``pageNumber``/``page`` (1-based) with ``pageSize``, else the first
100; ``sortName``/``orderBy`` with ``sortOrder``/``sort`` (``asc`` or ``desc``); ``X-Total-Count`` is the
number before paging (:func:`paging`). The findings of a project are never paged, as in Dependency-Track.

A project is a product release (:mod:`mamori.report.dtrack_shapes`). The upload is stored and matched in
the background (:mod:`mamori.portfolio.uploads`); this module only wires HTTP to that Python API.
Status codes as Dependency-Track answers: 400 bad request (bad base64, not an SBOM, neither a project
UUID nor a name and version), 401 when ``autoCreate`` would create a product the caller may not create,
404 unknown project (also a product of another team: it is never told apart), 413 larger than
``MAMORI_MAX_UPLOAD_BYTES``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import os
import re
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from mamori.errors import InputError
from mamori.i18n import N_, _, current_lang
from mamori.portfolio import uploads
from mamori.report import dtrack_shapes as shapes
from mamori.store import Store

# isort: split
# the server foundation's interface, used from here only through these names
from mamori.server import api_common, background
from mamori.server.security import Principal, get_store, require

router = APIRouter(tags=["Dependency-Track compatible"])

JSON_OVERHEAD = 64 << 10  # the other fields of a BomSubmitRequest
MULTIPART_OVERHEAD = 64 << 10
DEFAULT_UPLOAD_SECONDS = 300.0
NOT_FOUND = N_("The project could not be found.")


def _error(status: int, text: str) -> PlainTextResponse:
    """An error as Dependency-Track answers it: plain text (in the server's language)."""
    return PlainTextResponse(text, status_code=status)


def _audit(
    request: Request,
    store: Store,
    principal: Principal,
    action: str,
    target: str,
    detail: dict[str, Any],
    product_id: int | None,
) -> None:
    """Record a change in the audit log (:func:`mamori.accounts.record_audit`)."""
    team = api_common.team_of(principal, "sbom.upload", product_id)
    api_common.record(store, request, principal, action, target, detail, team)


def _process_later(store: Store, token: str) -> None:
    """Where an accepted upload is processed: in this process, or on a worker when a broker is configured."""
    background.start_upload(store, token)


def _visible(principal: Principal, permission: str, product_id: int) -> bool:
    return principal.can(permission, product_id)


# -- reading a bounded body ------------------------------------------------------------------------
class _BodyRefused(Exception):
    """The body was not read; :meth:`response` is the answer to the client."""

    def response(self) -> PlainTextResponse:
        raise NotImplementedError


class _TooLarge(_BodyRefused):
    def response(self) -> PlainTextResponse:
        return _too_large()


class _TooSlow(_BodyRefused):
    def response(self) -> PlainTextResponse:
        return _error(408, _("The upload took too long to arrive."))


def upload_seconds() -> float:
    """How long a client may take to send an upload (``MAMORI_UPLOAD_SECONDS``, default 300)."""
    raw = os.environ.get("MAMORI_UPLOAD_SECONDS", "").strip()
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_UPLOAD_SECONDS
    return value if value > 0 else DEFAULT_UPLOAD_SECONDS


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused past ``limit`` bytes (the declared length is checked first) or when it
    takes longer than :func:`upload_seconds` to arrive."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    parts, size = [], 0
    try:
        async with asyncio.timeout(upload_seconds()):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise _TooLarge
                parts.append(chunk)
    except TimeoutError:
        raise _TooSlow from None
    data = b"".join(parts)
    request._body = data  # so that request.form() parses what was read here
    return data


def _too_large() -> PlainTextResponse:
    limit = uploads.max_upload_bytes()
    return _error(413, _("The BOM is larger than the upload limit ({limit} bytes).").format(limit=limit))


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("true", "1", "yes", "on")


def _text(value: Any) -> str | None:
    """A text field as sent (a number, list or object where text belongs counts as absent)."""
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _target(store: Store, fields: dict[str, Any]) -> tuple[str, str] | PlainTextResponse:
    """(product, release) the upload is for: from the project UUID, else from name and version."""
    project = _text(fields.get("project"))
    if project is not None:
        release_id = uploads.release_of_uuid(store, project)
        if release_id is None:
            return _error(404, _(NOT_FOUND))
        found = shapes.releases(store, release_id=release_id)
        if not found:
            return _error(404, _(NOT_FOUND))
        return found[0]["product"], found[0]["version"]
    name, version = _text(fields.get("projectName")), _text(fields.get("projectVersion"))
    if name is None or version is None:
        return _error(400, _("Either project or projectName and projectVersion must be specified."))
    return name, version


def _submit(
    request: Request, store: Store, principal: Principal, fields: dict[str, Any], data: bytes, filename: str
) -> Response:
    target = _target(store, fields)
    if isinstance(target, Response):
        return target
    product, version = target
    auto_create = _flag(fields.get("autoCreate"))
    product_id, release_id = uploads.find_release(store, product, version)
    if product_id is not None and not _visible(principal, "sbom.upload", product_id):
        return _error(404, _(NOT_FOUND))  # another team's product: as if absent
    if product_id is None and auto_create and not api_common.may_create_product(principal):
        return _error(401, _("The principal does not have permission to create project."))
    try:
        token = uploads.submit_upload(store, data, filename, product, version, auto_create, principal.name)
    except uploads.UploadTooLarge:
        return _too_large()
    except uploads.ProjectNotFound:
        return _error(404, _(NOT_FOUND))
    except InputError as exc:
        return _error(400, exc.message(current_lang()))
    if product_id is None and auto_create:
        # created now (the SBOM was accepted), so that the principal's teams own it
        try:
            product_id = api_common.create_owned_product(
                store, principal, product, None, request.client.host if request.client else None
            )
        except InputError:  # another upload created it meanwhile
            product_id, release_id = uploads.find_release(store, product, version)
            if product_id is None or not _visible(principal, "sbom.upload", product_id):
                uploads.cancel_upload(store, token, "the product was created by another team meanwhile")
                return _error(404, _(NOT_FOUND))
    _audit(
        request,
        store,
        principal,
        "sbom.upload",
        f"{product} {version}",
        {
            "token": token,
            "file": uploads.file_name_of(filename),
            "size": len(data),
            "auto_create": auto_create,
        },
        product_id,
    )
    _process_later(store, token)
    body: dict[str, Any] = {"token": token}
    if release_id is not None:
        body["projectUuid"] = uploads.release_uuid(store, release_id)
    return JSONResponse(body)


_FIELDS: dict[str, Any] = {
    "project": {"type": "string", "format": "uuid", "description": "the project (release) UUID"},
    "projectName": {"type": "string", "maxLength": 200, "description": "the product"},
    "projectVersion": {"type": "string", "maxLength": 100, "description": "the release"},
    "autoCreate": {"type": "boolean", "description": "create the product and release when absent"},
}
_BOM_JSON = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["bom"],
                    "properties": {**_FIELDS, "bom": {"type": "string", "description": "the SBOM, base64"}},
                }
            }
        },
    }
}
_BOM_MULTIPART = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["bom"],
                    "properties": {**_FIELDS, "bom": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@router.put("/api/v1/bom", summary="Upload an SBOM (JSON, base64)", openapi_extra=_BOM_JSON)
async def put_bom(
    request: Request,
    principal: Principal = Depends(require("sbom.upload")),
    store: Store = Depends(get_store),
) -> Response:
    limit = uploads.max_upload_bytes()
    try:
        raw = await _body(request, (limit + 2) // 3 * 4 + JSON_OVERHEAD)
    except _BodyRefused as refused:
        return refused.response()
    try:
        fields = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _error(400, _("The request is not JSON."))
    if not isinstance(fields, dict) or not isinstance(fields.get("bom"), str):
        return _error(400, _("The request has no base64 bom."))
    try:
        data = base64.b64decode("".join(fields["bom"].split()), validate=True)
    except (binascii.Error, ValueError):
        return _error(400, _("The bom is not valid base64."))
    return await run_in_threadpool(_submit, request, store, principal, fields, data, "bom")


@router.post("/api/v1/bom", summary="Upload an SBOM (multipart)", openapi_extra=_BOM_MULTIPART)
async def post_bom(
    request: Request,
    principal: Principal = Depends(require("sbom.upload")),
    store: Store = Depends(get_store),
) -> Response:
    form = getattr(request, "_form", None)  # a cookie session's CSRF check read the form already
    if form is None:
        try:
            await _body(request, uploads.max_upload_bytes() + MULTIPART_OVERHEAD)
        except _BodyRefused as refused:
            return refused.response()
        try:
            form = await request.form(max_files=1, max_fields=20)
        except Exception:  # any malformed multipart body is the client's
            return _error(400, _("The request is not multipart/form-data."))
    try:
        part = form.get("bom")
        if part is None or isinstance(part, str):
            return _error(400, _("The request has no bom file."))
        data = await part.read()
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        return await run_in_threadpool(
            _submit, request, store, principal, fields, data, part.filename or "bom"
        )
    finally:
        await form.close()


def _token_state(store: Store, principal: Principal, token: str) -> uploads.UploadStatus | None:
    status = uploads.upload_status(store, token)
    if status is None:
        return None
    found = shapes.releases(store, status.product)
    if found and not _visible(principal, "sbom.upload", found[0]["product_id"]):
        return None  # another team's upload: as if unknown
    return status


EVENT_STATUS = {"queued": "PENDING", "processing": "RUNNING", "done": "COMPLETED", "failed": "FAILED"}


@router.get("/api/v1/bom/token/{token}", summary="Is the upload still being processed?")
def bom_token(
    token: str,
    principal: Principal = Depends(require("sbom.upload")),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    status = _token_state(store, principal, token)
    if status is None:  # as Dependency-Track: false does not say the token was ever valid
        return {"processing": False}
    return {"processing": status.processing, "status": EVENT_STATUS[status.state]}


@router.get("/api/v1/event/token/{token}", summary="Is the upload still being processed?")
def event_token(
    token: str,
    principal: Principal = Depends(require("sbom.upload")),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    return bom_token(token, principal, store)


def _release_by_uuid(
    store: Store, principal: Principal, project_uuid: str, permission: str
) -> dict[str, Any] | None:
    release_id = uploads.release_of_uuid(store, project_uuid)
    if release_id is None:
        return None
    found = shapes.releases(store, release_id=release_id)
    if not found or not _visible(principal, permission, found[0]["product_id"]):
        return None
    return found[0]


# -- paging and sorting of lists, as Dependency-Track's (Alpine's ApiFilter and Pagination) -----------
DEFAULT_LIMIT = 100  # Alpine pages every list: the first 100 when no page is asked for
_INT32 = re.compile(r"[+-]?[0-9]{1,10}")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class Paging:
    """Which part of a list to answer: ``offset`` and ``limit`` (``limit`` 0 or less: all of it), sorted
    by the field ``order_by`` when it is given with a direction."""

    offset: int = 0
    limit: int = DEFAULT_LIMIT
    order_by: str | None = None
    descending: bool | None = None

    def apply(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``items`` sorted (by a top-level field they have; an unknown field is ignored, as Alpine
        does; absent values last when ascending) and cut to the page."""
        if self.order_by is not None and self.descending is not None:
            key = self.order_by
            if any(key in item for item in items):
                present = [i for i in items if _sortable(i.get(key))]
                absent = [i for i in items if not _sortable(i.get(key))]
                present.sort(key=lambda i: _sort_key(i[key]), reverse=self.descending)
                items = absent + present if self.descending else present + absent
        if self.limit <= 0:
            return items
        return items[self.offset : self.offset + self.limit]


def _sortable(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def _sort_key(value: Any) -> tuple[int, Any]:
    # numbers (and booleans) before texts: a field holds one kind in practice
    return (1, value) if isinstance(value, str) else (0, float(value))


def _int_param(value: str | None, default: int) -> int:
    """A query parameter as Java's ``Integer.valueOf`` reads it; anything else is ``default``."""
    if value is None or not _INT32.fullmatch(value):
        return default
    number = int(value)
    return number if -(2**31) <= number < 2**31 else default


def _param(request: Request, *names: str) -> str | None:
    """The first of ``names`` given (not blank) in the query: Alpine accepts several names for each."""
    for name in names:
        value = request.query_params.get(name)
        if value is not None and value.strip():
            return value
    return None


def paging(request: Request) -> Paging:
    """The request's paging and sorting, as Dependency-Track reads them: ``offset`` given: from there,
    ``limit``/``pageSize``/``size`` items (default 100); else ``pageNumber``/``page`` and a page size:
    page N (1-based); else the first 100. A number that does not parse takes its default; a negative
    offset is 0; a limit of 0 or less answers everything. ``sortName``/``orderBy`` (an identifier) sorts
    when ``sortOrder``/``sort`` is ``asc`` or ``desc``."""
    offset = _param(request, "offset")
    page = _param(request, "page", "pageNumber")
    size = _param(request, "size", "pageSize", "limit")
    if offset is not None:
        start, limit = _int_param(offset, 0), _int_param(size, DEFAULT_LIMIT)
    elif page is not None and size is not None:
        number, limit = _int_param(page, 1), _int_param(size, DEFAULT_LIMIT)
        start = (number - 1) * limit
    else:
        start, limit = 0, DEFAULT_LIMIT
    order_by = _param(request, "orderBy", "sortName")
    if order_by is not None and not _IDENTIFIER.fullmatch(order_by):
        order_by = None
    direction = (_param(request, "sort", "sortOrder") or "").lower()
    descending = {"asc": False, "desc": True}.get(direction)
    return Paging(max(start, 0), limit, order_by, descending)


_PAGING_PARAMETERS = {
    "parameters": [
        {"name": name, "in": "query", "required": False, "schema": schema, "description": text}
        for name, schema, text in (
            ("pageNumber", {"type": "string", "default": "1"}, "the page (1-based), with pageSize"),
            ("pageSize", {"type": "string", "default": "100"}, "the number of projects of a page"),
            ("offset", {"type": "string"}, "the first project (0-based), instead of pageNumber"),
            ("limit", {"type": "string"}, "the number of projects from offset"),
            ("sortName", {"type": "string"}, "the Project field to sort by"),
            ("sortOrder", {"type": "string", "enum": ["asc", "desc"]}, "with sortName"),
        )
    ]
}


def _project(store: Store, release: dict[str, Any]) -> dict[str, Any]:
    project_uuid = shapes.project_uuids(store, [release["release_id"]])[release["release_id"]]
    return shapes.project(release, project_uuid, shapes.summary_of(store, release))


@router.get("/api/v1/project/lookup", summary="A project by name and version")
def project_lookup(
    name: str = Query(..., max_length=200),
    version: str = Query(..., max_length=100),
    principal: Principal = Depends(require("product.read")),
    store: Store = Depends(get_store),
) -> Response:
    found = next((r for r in shapes.releases(store, name.strip()) if r["version"] == version.strip()), None)
    if found is None or not _visible(principal, "product.read", found["product_id"]):
        return _error(404, _(NOT_FOUND))
    return JSONResponse(_project(store, found))


@router.get(
    "/api/v1/project",
    summary="Projects (every release of every product visible), paged",
    openapi_extra=_PAGING_PARAMETERS,
)
def project_list(
    request: Request,
    name: str | None = Query(None, max_length=200),
    principal: Principal = Depends(require("product.read")),
    store: Store = Depends(get_store),
) -> Response:
    found = [
        r
        for r in shapes.releases(store, name.strip() if name else None)
        if _visible(principal, "product.read", r["product_id"])
    ]
    ids = shapes.project_uuids(store, [r["release_id"] for r in found])
    # a list item carries hasChildren (Dependency-Track 4.13's client requires it): a release has none
    items = [{**shapes.project(r, ids[r["release_id"]], None), "hasChildren": False} for r in found]
    body = paging(request).apply(items)
    return JSONResponse(body, headers={"X-Total-Count": str(len(found))})


@router.get("/api/v1/project/{uuid}", summary="A project by UUID")
def project_get(
    uuid: str,
    principal: Principal = Depends(require("product.read")),
    store: Store = Depends(get_store),
) -> Response:
    found = _release_by_uuid(store, principal, uuid, "product.read")
    if found is None:
        return _error(404, _(NOT_FOUND))
    return JSONResponse(_project(store, found))


@router.get("/api/v1/finding/project/{uuid}", summary="The findings of a project")
def project_findings(
    uuid: str,
    suppressed: bool = Query(False),
    principal: Principal = Depends(require("finding.read")),
    store: Store = Depends(get_store),
) -> Response:
    # not paged, as in Dependency-Track: every finding, X-Total-Count their number
    found = _release_by_uuid(store, principal, uuid, "finding.read")
    if found is None:
        return _error(404, _(NOT_FOUND))
    project_uuid = shapes.project_uuids(store, [found["release_id"]])[found["release_id"]]
    body = shapes.findings(store, found, project_uuid, suppressed, current_lang())
    return Response(
        orjson.dumps(body), media_type="application/json", headers={"X-Total-Count": str(len(body))}
    )

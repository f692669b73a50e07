"""Native API: the customer side of the supply chain — subscriptions to suppliers' CSAF 2.0 providers
(``/api/mamori/v1/csaf/subscriptions``).

Thin wiring over :mod:`mamori.advisory.subscribe` and :mod:`mamori.advisory.pull` — the same calls as
``mamori csaf subscribe|pull|list``. A subscription belongs to the teams that made it (table
``csaf_subscription_team``): ``supplier.read`` lists the subscriptions of the principal's teams and the
advisories pulled for each with their signature state; ``supplier.write`` subscribes a team (pinning the
OpenPGP keys given), pulls now (a background job) and removes the team's subscription. An administrator
sees every subscription, those made on the command line (of no team) included. Another team's
subscription answers 404, as one that does not exist.

Contract terms with suppliers (``/api/mamori/v1/contracts``, over :mod:`mamori.contract`): a team's terms
with a supplier are its own (table ``contract_team_terms``; two teams may name the same supplier);
``supplier.read`` reads them and checks a delivered SBOM against them, ``supplier.write`` sets them.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from mamori.errors import InputError
from mamori.server import api_common as common
from mamori.server.api import PREFIX
from mamori.server.security import Principal, audit, get_store, require
from mamori.store import Store

router = APIRouter(prefix=PREFIX, tags=["suppliers"])
SubscriptionId = Annotated[int, PathParam(ge=1, le=2**62, description="a CSAF subscription's id")]
MAX_KEY_CHARS = 64 << 10  # one armored OpenPGP certificate


def _admin(principal: Principal, permission: str) -> bool:
    return any(g.all_products and permission in g.permissions() for g in principal.memberships)


def _teams(principal: Principal, permission: str) -> set[int]:
    return {g.team_id for g in principal.memberships if permission in g.permissions()}


def _may(principal: Principal, teams: set[int], permission: str) -> bool:
    return _admin(principal, permission) or bool(teams & _teams(principal, permission))


def visible_subscriptions(store: Store, principal: Principal, permission: str = "supplier.read") -> list[Any]:
    """The subscriptions ``permission`` holds for, by id, each with the ids of its teams."""
    from mamori.advisory.subscribe import list_subscriptions, subscription_teams

    owners = subscription_teams(store)
    return [
        (s, owners.get(s.id, set()))
        for s in list_subscriptions(store)
        if _may(principal, owners.get(s.id, set()), permission)
    ]


def subscription_or_404(
    store: Store, principal: Principal, sid: int, permission: str
) -> tuple[Any, set[int]]:
    """The subscription and its teams when ``permission`` holds for it; one the principal reads but may not
    change: 403; another team's, or none: 404."""
    from mamori.advisory.subscribe import get_subscription, subscription_teams

    try:
        found = get_subscription(store, sid)
    except InputError:
        raise common.not_found() from None
    teams = subscription_teams(store).get(sid, set())
    if not _may(principal, teams, "supplier.read") and not _may(principal, teams, permission):
        raise common.not_found()
    if not _may(principal, teams, permission):
        raise HTTPException(403, "not permitted")
    return found, teams


def managing_teams(store: Store, principal: Principal) -> list[tuple[int, str]]:
    """(id, name) of the teams the principal may subscribe; an administrator: every team."""
    from mamori import accounts

    if _admin(principal, "supplier.write"):
        return [(t.id, t.name) for t in accounts.list_teams(store)]
    out: list[tuple[int, str]] = []
    for g in principal.memberships:
        if "supplier.write" in g.permissions() and (g.team_id, g.team) not in out:
            out.append((g.team_id, g.team))
    return out


def _out(sub: Any, teams: set[int], names: dict[int, str], principal: Principal) -> dict[str, Any]:
    """The subscription as answered: of its teams only the principal's own (an administrator: every one),
    so that a shared provider does not tell which other team subscribed to it."""
    data = sub.as_dict()
    if not _admin(principal, "supplier.read"):
        teams = teams & _teams(principal, "supplier.read")
        # the keys are each team's own: those the principal's teams pinned
        data["keys"] = sorted({fpr for t in teams for fpr in sub.team_keys.get(t, [])})
    else:
        data["team_keys"] = {names.get(t, str(t)): sub.team_keys.get(t, []) for t in sorted(teams)}
    data["teams"] = sorted(names.get(t, str(t)) for t in teams)
    return data


def _team_names(store: Store) -> dict[int, str]:
    from mamori import accounts

    return {t.id: t.name for t in accounts.list_teams(store)}


class SubscriptionIn(BaseModel):
    target: str = Field(
        min_length=1,
        max_length=2000,
        description="the https URL of a provider-metadata.json, or the supplier's domain (CSAF 2.0 7.3.1)",
    )
    keys: list[Annotated[str, Field(max_length=MAX_KEY_CHARS)]] = Field(
        default_factory=list, max_length=20, description="OpenPGP public keys to pin (armored)"
    )
    team: str | None = Field(None, max_length=200, description="the team (default: the first you manage)")


def _subscribe(store: Store, target: str, keys: list[str], team_id: int) -> Any:
    from mamori.advisory.subscribe import subscribe
    from mamori.notify.netguard import guarded

    with tempfile.TemporaryDirectory(prefix="mamori-keys-") as tmp:
        paths = []
        for i, text in enumerate(keys):
            path = Path(tmp) / f"key-{i}.asc"
            path.write_text(text, encoding="utf-8")
            paths.append(path)
        with guarded():  # discovery reaches only public addresses or networks the operator allowed
            return subscribe(store, target, paths, team_id=team_id)


@router.get("/csaf/subscriptions", response_model=list[dict[str, Any]])
def list_csaf_subscriptions(
    principal: Principal = Depends(require("supplier.read")), store: Store = Depends(get_store)
) -> list[dict[str, Any]]:
    """The CSAF subscriptions of your teams (an administrator: every one): provider, how it was found,
    last pull and its counts, pinned key fingerprints, deviations from CSAF 2.0 met."""
    names = _team_names(store)
    return [_out(s, teams, names, principal) for s, teams in visible_subscriptions(store, principal)]


@router.get("/csaf/subscriptions/{csaf_subscription_id}", response_model=dict[str, Any])
def show_csaf_subscription(
    csaf_subscription_id: SubscriptionId,
    principal: Principal = Depends(require("supplier.read")),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    """One CSAF subscription."""
    sub, teams = subscription_or_404(store, principal, csaf_subscription_id, "supplier.read")
    return _out(sub, teams, _team_names(store), principal)


@router.get("/csaf/subscriptions/{csaf_subscription_id}/advisories", response_model=list[dict[str, Any]])
def list_csaf_advisories(
    csaf_subscription_id: SubscriptionId,
    principal: Principal = Depends(require("supplier.read")),
    store: Store = Depends(get_store),
) -> list[dict[str, Any]]:
    """The advisories pulled for the subscription (newest release first): URL, sha256, tracking id,
    version, release date and the signature state for your team, checked against the keys your team
    pinned only (``valid``, ``failed`` when your keys do not verify it, ``not-verifiable`` when your team
    pinned none, ``missing``, ``unchecked`` until the next pull after a key was pinned). An administrator
    sees the state of the command line's keys (or the best of the teams')."""
    from mamori.advisory.subscribe import advisory_list

    _sub, teams = subscription_or_404(store, principal, csaf_subscription_id, "supplier.read")
    if _admin(principal, "supplier.read"):
        return advisory_list(store, csaf_subscription_id)
    team = min(teams & _teams(principal, "supplier.read"))
    return advisory_list(store, csaf_subscription_id, team)


@router.post("/csaf/subscriptions", status_code=201, response_model=dict[str, Any])
async def create_csaf_subscription(
    body: SubscriptionIn,
    request: Request,
    principal: Principal = Depends(require("supplier.write")),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    """Subscribe a team to a supplier's CSAF provider: find its provider-metadata.json, check it against the
    provider schema and pin the keys given (audit-logged). Subscribing to a provider the team already has
    adds the keys."""
    teams = await run_in_threadpool(managing_teams, store, principal)
    if not teams:
        raise HTTPException(403, "not permitted")
    if body.team is None:
        team_id, _team = teams[0]
    else:
        chosen = [t for t in teams if t[1] == body.team.strip()]
        if not chosen:
            raise common.unprocessable("not a team you may manage suppliers of", "body", "team")
        team_id, _team = chosen[0]
    try:
        sub = await run_in_threadpool(_subscribe, store, body.target.strip(), body.keys, team_id)
    except InputError as exc:
        raise common.unprocessable(exc.problem, "body", "target") from None
    await audit(request, "supplier.subscribe", f"csaf-subscription:{sub.id}", {"keys": sub.keys}, team_id)
    owners = await run_in_threadpool(_owners, store, sub.id)
    return _out(sub, owners, await run_in_threadpool(_team_names, store), principal)


def _owners(store: Store, sid: int) -> set[int]:
    from mamori.advisory.subscribe import subscription_teams

    return subscription_teams(store).get(sid, set())


@router.post("/csaf/subscriptions/{csaf_subscription_id}/pull", response_model=dict[str, Any])
async def pull_csaf_subscription(
    csaf_subscription_id: SubscriptionId,
    request: Request,
    principal: Principal = Depends(require("supplier.write")),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    """Pull the subscription now, after the answer (a job of the message broker's workers when one is
    configured, else a thread of this process): its outcome is the subscription's ``last_pull`` and
    ``counts``. The job's id."""
    from mamori.server import background

    sub, teams = await run_in_threadpool(
        subscription_or_404, store, principal, csaf_subscription_id, "supplier.write"
    )
    team = min(teams & _teams(principal, "supplier.write"), default=None)
    await audit(request, "supplier.pull", f"csaf-subscription:{sub.id}", {"queued": True}, team)
    if background.broker_configured():
        job = background.submit_task("csaf-pull", subscription_id=sub.id)
    else:
        from mamori.jobs.work import csaf_pull

        job = background.submit(csaf_pull, store, sub.id)
    return {"job": job, "subscription": sub.id}


@router.delete("/csaf/subscriptions/{csaf_subscription_id}", response_model=dict[str, Any])
async def delete_csaf_subscription(
    csaf_subscription_id: SubscriptionId,
    request: Request,
    principal: Principal = Depends(require("supplier.write")),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    """Your teams leave the subscription; it is removed with its keys and advisories when no team is left
    (an administrator removes it at once). ``removed``: whether it was."""
    from mamori.advisory.subscribe import unsubscribe

    sub, teams = await run_in_threadpool(
        subscription_or_404, store, principal, csaf_subscription_id, "supplier.write"
    )
    removed = False
    if _admin(principal, "supplier.write"):
        removed = await run_in_threadpool(unsubscribe, store, sub.id, None)
        team = None
    else:
        mine = teams & _teams(principal, "supplier.write")
        for team_id in sorted(mine):
            removed = await run_in_threadpool(unsubscribe, store, sub.id, team_id)
        team = min(mine, default=None)
    await audit(request, "supplier.unsubscribe", f"csaf-subscription:{sub.id}", {"removed": removed}, team)
    return {"id": sub.id, "removed": removed}


# -- contract terms with suppliers (/contracts) -----------------------------------------------------
MAX_TERMS_BYTES = 1 << 20
Supplier = Annotated[str, PathParam(min_length=1, max_length=200, description="the supplier's name")]
TeamQuery = Annotated[str | None, Query(max_length=200, description="the team (default: the first of yours)")]


async def _bounded_body(request: Request, limit: int) -> bytes:
    """The request body, refused (413) past ``limit`` bytes, declared or sent, or (408) when it takes longer
    than the upload time limit to arrive."""
    import asyncio

    from mamori.server.dtrack import upload_seconds

    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, "the body is too large")
    parts, size = [], 0
    try:
        async with asyncio.timeout(upload_seconds()):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise HTTPException(413, "the body is too large")
                parts.append(chunk)
    except TimeoutError:
        raise HTTPException(408, "the body took too long to arrive") from None
    return b"".join(parts)


def _team_ids(store: Store, principal: Principal, permission: str) -> list[int]:
    """The teams ``permission`` holds in (an administrator: every team), by id."""
    from mamori import accounts

    if _admin(principal, permission):
        return sorted(t.id for t in accounts.list_teams(store))
    return sorted(_teams(principal, permission))


def _chosen_team(store: Store, principal: Principal, permission: str, team: str | None) -> list[int]:
    """The principal's teams ``permission`` holds in, or the one named (404 when it is not one of them)."""
    from mamori import accounts

    ids = _team_ids(store, principal, permission)
    if team is None:
        return ids
    found = accounts.get_team(store, team.strip())
    if found is None or found.id not in ids:
        raise common.not_found()
    return [found.id]


def _terms_out(store: Store, team_id: int, terms: Any, set_at: str) -> dict[str, Any]:
    return {
        "supplier": terms.supplier,
        "team": _team_names(store).get(team_id, str(team_id)),
        "set_at": set_at,
        "source": terms.source,
        "terms": terms.to_file_data(),
        "items": terms.to_dict()["items"],
    }


def _terms_or_404(
    store: Store, principal: Principal, supplier: str, team: str | None
) -> tuple[int, Any, str]:
    from mamori.contract.store import team_terms

    found = team_terms(store, _chosen_team(store, principal, "supplier.read", team), supplier.strip())
    if not found:
        raise common.not_found()
    return found[0]


@router.get("/contracts", response_model=list[dict[str, Any]])
def list_contracts(
    principal: Principal = Depends(require("supplier.read")), store: Store = Depends(get_store)
) -> list[dict[str, Any]]:
    """The suppliers your teams agreed terms with (an administrator: every team's), by supplier."""
    from mamori.contract.store import team_terms

    names = _team_names(store)
    return [
        {
            "supplier": terms.supplier,
            "team": names.get(tid, str(tid)),
            "set_at": set_at,
            "source": terms.source,
        }
        for tid, terms, set_at in team_terms(store, _team_ids(store, principal, "supplier.read"))
    ]


@router.get("/contracts/{supplier}", response_model=dict[str, Any])
def get_contract(
    supplier: Supplier,
    team: TeamQuery = None,
    principal: Principal = Depends(require("supplier.read")),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    """The terms your team agreed with the supplier: ``terms`` as the YAML/JSON terms file that reads back
    to them, ``items`` every item of the SBOM transaction model with agreed or not."""
    tid, terms, set_at = _terms_or_404(store, principal, supplier, team)
    return _terms_out(store, tid, terms, set_at)


def _load_terms(raw: bytes, supplier: str, json_body: bool) -> Any:
    from mamori.contract.store import supplier_name
    from mamori.contract.terms import load

    name = supplier_name(supplier)
    with tempfile.TemporaryDirectory(prefix="mamori-terms-") as tmp:
        path = Path(tmp) / ("terms.json" if json_body else "terms.yaml")
        path.write_bytes(raw)
        return load(path, name)


@router.put(
    "/contracts/{supplier}",
    response_model=dict[str, Any],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/yaml": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}},
            },
        }
    },
)
async def put_contract(
    supplier: Supplier,
    request: Request,
    team: TeamQuery = None,
    principal: Principal = Depends(require("supplier.write")),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    """Set the terms your team agreed with the supplier from a YAML or JSON terms file (the body, at most
    1 MiB; ``mamori contract set`` reads the same); replaces earlier terms (audit-logged)."""
    from mamori.contract.store import set_team_terms, team_terms

    teams = await run_in_threadpool(_chosen_team, store, principal, "supplier.write", team)
    if not teams:
        raise HTTPException(403, "not permitted")
    raw = await _bounded_body(request, MAX_TERMS_BYTES)
    json_body = "json" in request.headers.get("content-type", "")
    try:
        terms = await run_in_threadpool(_load_terms, raw, supplier, json_body)
    except InputError as exc:
        raise common.unprocessable(exc.problem, "body") from None
    await run_in_threadpool(set_team_terms, store, teams[0], terms, principal.name)
    await audit(request, "supplier.terms", f"contract:{terms.supplier}", {"source": terms.source}, teams[0])
    tid, stored, set_at = (await run_in_threadpool(team_terms, store, [teams[0]], terms.supplier))[0]
    return _terms_out(store, tid, stored, set_at)


def _check(terms: Any, raw: bytes) -> dict[str, Any]:
    from mamori.contract import check as ck
    from mamori.sbom.formats import read

    with tempfile.TemporaryDirectory(prefix="mamori-sbom-") as tmp:
        path = Path(tmp) / "sbom"
        path.write_bytes(raw)
        document = read(path)
    results = ck.check(terms, ck.Delivery(sboms=[("sbom", document)]))
    return {
        "supplier": terms.supplier,
        "counts": ck.counts(results),
        "exit_code": ck.exit_code(results),
        "results": [r.to_dict() for r in results],
    }


@router.post(
    "/contracts/{supplier}/check",
    response_model=dict[str, Any],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def check_contract(
    supplier: Supplier,
    request: Request,
    team: TeamQuery = None,
    principal: Principal = Depends(require("supplier.read")),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    """Check an SBOM the supplier delivered (the body: CycloneDX or SPDX, at most the upload limit) against
    the terms your team agreed with it, as ``mamori contract check`` does: each term ``met``, ``gap``,
    ``confirm`` (to be confirmed by a person) or ``not_agreed``; ``exit_code`` 1 when a term has a gap.
    Nothing is stored."""
    from mamori.portfolio.uploads import max_upload_bytes

    _tid, terms, _set_at = await run_in_threadpool(_terms_or_404, store, principal, supplier, team)
    raw = await _bounded_body(request, max_upload_bytes())
    try:
        return await run_in_threadpool(_check, terms, raw)
    except InputError as exc:
        raise common.unprocessable(exc.problem, "body") from None


# -- release bundles received from suppliers (/bundles) -----------------------------------------------
def _product_scope(principal: Principal, permission: str) -> list[int] | None:
    from mamori.server.security import ALL

    found = principal.visible_products(permission)
    return None if found is ALL else sorted(found)  # type: ignore[arg-type]


@router.get("/bundles", response_model=list[dict[str, Any]])
def list_bundles(
    principal: Principal = Depends(require("supplier.read")), store: Store = Depends(get_store)
) -> list[dict[str, Any]]:
    """The release bundles received for the products of your teams, newest first: supplier, product,
    release, signing key, who imported it and what differs from the product's previous bundle."""
    from mamori.bundle.importer import list_imports

    return list_imports(store, _product_scope(principal, "supplier.read"))


BundleJobId = Annotated[
    str, PathParam(min_length=1, max_length=36, description="a received bundle's job id (from the upload)")
]


def _submit(
    store: Store, principal: Principal, raw: bytes, key_pem: bytes | None, team_id: int
) -> tuple[str, bool]:
    """Keep the bundle as a job of the team; (job id, whether it is new). A key that is not a public key
    is refused before anything is kept."""
    from mamori.bundle.jobs import submit_bundle_job
    from mamori.bundle.signing import load_public_pem

    if key_pem:
        load_public_pem(key_pem, "key")
    return submit_bundle_job(
        store,
        raw,
        team_id=team_id,
        who=principal.name,
        every_product=_admin(principal, "supplier.write"),
        key_pem=key_pem,
    )


@router.post(
    "/bundles",
    response_model=dict[str, Any],
    status_code=202,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "format": "binary", "description": "the bundle (zip)"},
                            "key": {
                                "type": "string",
                                "format": "binary",
                                "description": "the supplier's public key (PEM); else its pinned keys",
                            },
                        },
                    }
                }
            },
        }
    },
)
async def upload_bundle(
    request: Request,
    team: TeamQuery = None,
    principal: Principal = Depends(require("supplier.write")),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    """Receive a supplier's release bundle (multipart ``file``, at most the upload limit; optional ``key``)
    and answer at once (202) with its job: ``job``, ``state`` and ``status_url``. The job verifies its
    signature and every part (with the key given, else the supplier's pinned keys), then imports it (SBOM,
    VEX, declarations) and checks it against the terms your team agreed with the supplier; its status
    (``GET /bundles/jobs/{id}``) gives the report. A bundle that fails verification is stored nowhere: the
    job ends ``failed`` with the part named. The bundle's product must be one of your team's, or new (it
    becomes your team's). The same bundle sent again while its job is queued, running or done answers that
    job (``duplicate`` true): it is imported once."""
    from mamori.portfolio.uploads import max_upload_bytes
    from mamori.server import background

    teams = await run_in_threadpool(_chosen_team, store, principal, "supplier.write", team)
    if not teams:
        raise HTTPException(403, "not permitted")
    raw = await _bounded_body(request, max_upload_bytes() + (64 << 10))
    request._body = raw  # so that request.form() parses what was read here
    form = await request.form()
    upload, key = form.get("file"), form.get("key")
    if upload is None or isinstance(upload, str):
        raise common.unprocessable("file: the bundle is required", "body", "file")
    data = await upload.read(max_upload_bytes() + 1)
    if len(data) > max_upload_bytes():
        raise HTTPException(413, "the bundle is too large")
    key_pem = None if key is None or isinstance(key, str) else await key.read(MAX_KEY_CHARS + 1)
    if key_pem is not None and len(key_pem) > MAX_KEY_CHARS:
        raise common.unprocessable("key: too large", "body", "key")
    try:
        job_id, new = await run_in_threadpool(_submit, store, principal, data, key_pem, teams[0])
    except InputError as exc:
        raise common.unprocessable(exc.problem, "body", "key") from None
    if new:
        await audit(
            request,
            "supplier.bundle",
            f"bundle-job:{job_id}",
            {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)},
            teams[0],
        )
        await run_in_threadpool(background.start_bundle, store, job_id)
    found = await run_in_threadpool(_job_or_404, store, principal, job_id)
    return {
        "job": job_id,
        "state": found["state"],
        "duplicate": not new,
        "status_url": f"{PREFIX}/bundles/jobs/{job_id}",
    }


def _job_or_404(store: Store, principal: Principal, job_id: str, lang: str | None = None) -> dict[str, Any]:
    """The bundle job when ``supplier.read`` holds in its team (an administrator: any); else 404; its
    ``error`` in ``lang`` (None: the stored English line)."""
    from mamori.bundle.jobs import bundle_job

    found = bundle_job(store, job_id)
    if found is None:
        raise common.not_found()
    if not _admin(principal, "supplier.read") and found.team_id not in _teams(principal, "supplier.read"):
        raise common.not_found()
    return found.as_dict(lang)


@router.get("/bundles/jobs/{bundle_job_id}", response_model=dict[str, Any])
def bundle_job_status(
    request: Request,
    bundle_job_id: BundleJobId,
    principal: Principal = Depends(require("supplier.read")),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    """How a received bundle stands: ``state`` queued, running, done or failed; ``error`` the one-line
    reason a failed one was refused (the part named when verification failed), in the request's language
    (``?lang=``, the user's, the cookie's, ``Accept-Language``, else English); ``report`` when it ended:
    the import (``diff``: what differs from the product's previous bundle) with ``contract`` (the check
    against the agreed terms: gaps, items to confirm), or ``ok`` false with the verification's failures.
    Another team's job answers 404, as one that does not exist."""
    from mamori.server.web import page_lang

    return _job_or_404(store, principal, bundle_job_id, page_lang(request, principal.lang))

"""Native API: notification subscriptions of the teams and the delivery log
(``/api/mamori/v1/notifications``).

Thin wiring over :mod:`mamori.notify` — the same calls as ``mamori notify add|list|remove|test|log``.

Who sees what: a subscription belongs to a team. ``notify.read`` (security manager, developer, auditor,
admin) lists the subscriptions of the principal's teams and their delivery log; ``notify.write``
(security manager, admin) adds, removes and tests them. A membership limited to some products sees the
subscriptions narrowed to those products only, and adds only such. An administrator sees every team's.
Another team's subscription answers 404, as one that does not exist. The webhook secret is write-only:
no answer holds it (only ``signed``), and a URL is shown as its scheme and host (Slack's and Teams' URLs
carry their token in the path). Every change, and every test message, is a line of the audit log.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from mamori.errors import InputError
from mamori.notify.subscriptions import EVENT_KINDS, OUTCOMES, Subscription
from mamori.server import api_common as common
from mamori.server.api import PREFIX
from mamori.server.security import Grant, Principal, get_store, remote_addr, require
from mamori.store import Store

router = APIRouter(prefix=PREFIX, tags=["notifications"])

SubscriptionId = Annotated[int, PathParam(ge=1, le=2**62)]
Channel = Literal["webhook", "slack", "teams", "email"]
Severity = Literal["critical", "high", "medium", "low", "none"]
# the outcomes and event kinds mamori.notify accepts, from its own lists
Outcome = Literal[OUTCOMES]  # type: ignore[valid-type]
Kind = Literal[EVENT_KINDS]  # type: ignore[valid-type]


# -- who may do what ---------------------------------------------------------------------------------
def _covers(grant: Grant, product_ids: set[int] | None) -> bool:
    """The grant covers a subscription of its team narrowed to ``product_ids`` (None: every product)."""
    if grant.all_products or not grant.limited:
        return True
    return product_ids is not None and product_ids <= grant.products


def may(principal: Principal, sub: Subscription, permission: str, product_ids: set[int] | None) -> bool:
    """``permission`` holds for the subscription: a grant of its team (or of every product) with it; a
    grant limited to products only for a subscription narrowed to some of those products."""
    for grant in principal.memberships:
        if permission not in grant.permissions():
            continue
        if grant.all_products or (grant.team_id == sub.team_id and _covers(grant, product_ids)):
            return True
    return False


def _ids(store: Store, sub: Subscription) -> set[int] | None:
    if sub.products is None:
        return None
    found = common.product_ids(store, sub.products)
    return {found.get(name, -1) for name in sub.products}


def visible_subscriptions(
    store: Store, principal: Principal, permission: str = "notify.read"
) -> list[Subscription]:
    """The subscriptions ``permission`` holds for, by id."""
    from mamori.notify import list_subscriptions

    return [s for s in list_subscriptions(store) if may(principal, s, permission, _ids(store, s))]


def subscription_or_404(
    store: Store, principal: Principal, subscription_id: int, permission: str
) -> Subscription:
    """The subscription when ``permission`` holds for it; one the principal reads but may not change:
    403; another team's, or none: 404."""
    from mamori.notify import get_subscription

    found = get_subscription(store, subscription_id) if 0 < subscription_id < 2**62 else None
    if found is None:
        raise common.not_found()
    ids = _ids(store, found)
    if not may(principal, found, "notify.read", ids) and not may(principal, found, permission, ids):
        raise common.not_found()
    if not may(principal, found, permission, ids):
        raise HTTPException(403, "not permitted")
    return found


def managing_teams(store: Store, principal: Principal) -> list[tuple[int, str]]:
    """(id, name) of the teams the principal may add subscriptions to; an administrator: every team."""
    from mamori import accounts

    if any(g.all_products and "notify.write" in g.permissions() for g in principal.memberships):
        return [(t.id, t.name) for t in accounts.list_teams(store)]
    out: list[tuple[int, str]] = []
    for g in principal.memberships:
        if "notify.write" in g.permissions() and (g.team_id, g.team) not in out:
            out.append((g.team_id, g.team))
    return out


def team_product_names(store: Store, principal: Principal, team_id: int) -> list[str]:
    """The products of the team a subscription of it may name (a limited membership: its products)."""
    from sqlalchemy import select

    from mamori import accounts
    from mamori.portfolio.tables import ProductRow

    owned = accounts.team_products(store, [team_id]).get(team_id, frozenset())
    if not any(g.all_products for g in principal.memberships):
        allowed: set[int] = set()
        for g in principal.memberships:
            if g.team_id == team_id and "notify.write" in g.permissions():
                allowed |= set(owned) if not g.limited else set(g.products)
        owned = frozenset(owned & allowed)
    if not owned:
        return []
    p = ProductRow.__table__
    with store.engine.connect() as conn:
        return list(conn.scalars(select(p.c.name).where(p.c.id.in_(sorted(owned))).order_by(p.c.name)))


# -- models ------------------------------------------------------------------------------------------
class SubscriptionIn(BaseModel):
    team: str | None = Field(None, max_length=200, description="the team (default: the first you manage)")
    channel: Channel
    target: str = Field(
        min_length=3, max_length=2048, description="URL (webhook, Slack, Teams) or e-mail address"
    )
    secret: str | None = Field(
        None,
        min_length=16,
        max_length=500,
        description="the webhook's HMAC secret (write-only: never returned)",
    )
    products: list[str] | None = Field(None, max_length=200, description="only these products of the team")
    min_severity: Severity | None = None
    ssvc_outcomes: list[Outcome] | None = Field(None, max_length=8)
    kev_only: bool = False
    events: list[Kind] | None = Field(
        None, max_length=8, description="only these kinds (default: every kind but policy_violation)"
    )
    mode: Literal["immediate", "digest"] = "immediate"
    lang: Literal["ja", "en"] = "en"


class SubscriptionOut(BaseModel):
    id: int
    team: str
    channel: str
    target: str = Field(description="an e-mail address, or a URL's scheme and host only")
    signed: bool = Field(description="a webhook secret is set (the secret itself is never returned)")
    products: list[str] | None
    min_severity: str | None
    ssvc_outcomes: list[str] | None
    kev_only: bool
    events: list[str] | None
    mode: str
    lang: str
    created_at: str
    created_by: str


class AttemptOut(BaseModel):
    id: int
    at: str
    subscription: int
    channel: str
    status: str = Field(description="sent, retry or failed")
    code: int | None = Field(description="HTTP status or SMTP reply code")
    error_class: str | None
    events: int
    digest: bool
    test: bool


class TestQueuedOut(BaseModel):
    job: str = Field(description="the job that sends the test message")
    state: str = Field(description="the job's state when answered: queued, running, done or failed")
    subscription: int
    log: str = Field(description="the subscription's delivery log, where the outcome appears")


def out(sub: Subscription) -> SubscriptionOut:
    return SubscriptionOut(**sub.as_dict())


# -- the operations (the API and the web pages call these) ------------------------------------------
def create(store: Store, request: Request, principal: Principal, body: SubscriptionIn) -> Subscription:
    """A new subscription of the team named (or the first the principal manages)."""
    from mamori.notify import add_subscription

    teams = managing_teams(store, principal)
    if not teams:
        raise HTTPException(403, "not permitted")
    if body.team is None:
        team_id, team = teams[0]
    else:
        chosen = [t for t in teams if t[1] == body.team.strip()]
        if not chosen:
            raise common.unprocessable("not a team you may manage notifications of", "body", "team")
        team_id, team = chosen[0]
    allowed = set(team_product_names(store, principal, team_id))
    limited_only = not any(
        g.all_products or (g.team_id == team_id and not g.limited and "notify.write" in g.permissions())
        for g in principal.memberships
    )
    if body.products is not None and not set(p.strip() for p in body.products) <= allowed:
        raise common.unprocessable("not a product of the team", "body", "products")
    if limited_only and not body.products:
        raise common.unprocessable("name the products your membership covers", "body", "products")
    try:
        return add_subscription(
            store,
            team,
            body.channel,
            body.target,
            secret=body.secret,
            products=body.products,
            min_severity=body.min_severity,
            ssvc_outcomes=body.ssvc_outcomes,
            kev_only=body.kev_only,
            events=body.events,
            mode=body.mode,
            lang=body.lang,
            who=principal.name,
            actor=principal.actor,
            remote_addr=remote_addr(request),
        )
    except InputError as exc:
        raise common.unprocessable(exc.problem) from None


def remove(store: Store, request: Request, principal: Principal, sub: Subscription) -> None:
    from mamori.notify import remove_subscription

    remove_subscription(store, sub.id, actor=principal.actor, remote_addr=remote_addr(request))


def queue_test_message(store: Store, request: Request, principal: Principal, sub: Subscription) -> str:
    """Send the test message after the answer (a job of the message broker's workers when one is
    configured, else a thread of this process): sending may take a minute (timeouts, retries), and its
    outcome is a line of the delivery log. The request is a line of the audit log now; the job's id."""
    from mamori.server import background

    common.record(
        store, request, principal, "notify.test", f"subscription:{sub.id}", {"queued": True}, sub.team_id
    )
    if background.broker_configured():
        return background.submit_task("notify-test", subscription_id=sub.id)
    from mamori.jobs.work import notify_test

    return background.submit(notify_test, store, sub.id)


def log(
    store: Store, principal: Principal, subscription_id: int | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    """The delivery log of the subscriptions the principal reads (of one of them when given), newest
    first. Tries of a removed subscription stay in the log; only an administrator reads them."""
    from mamori.notify import delivery_log

    admin = any(g.all_products and "notify.read" in g.permissions() for g in principal.memberships)
    if subscription_id is not None:
        subscription_or_404(store, principal, subscription_id, "notify.read")
        return delivery_log(store, subscription_id, limit, offset=offset)
    if admin:
        return delivery_log(store, None, limit, offset=offset)
    ids = [s.id for s in visible_subscriptions(store, principal)]
    return delivery_log(store, None, limit, subscriptions=ids, offset=offset)


# -- routes ------------------------------------------------------------------------------------------
@router.get("/notifications/subscriptions", response_model=list[SubscriptionOut])
def list_notification_subscriptions(
    principal: Principal = Depends(require("notify.read")), store: Store = Depends(get_store)
) -> list[SubscriptionOut]:
    """The subscriptions of your teams (an administrator: every team's), by id; secrets never shown."""
    return [out(s) for s in visible_subscriptions(store, principal)]


@router.post("/notifications/subscriptions", response_model=SubscriptionOut, status_code=201)
def create_notification_subscription(
    body: SubscriptionIn,
    request: Request,
    principal: Principal = Depends(require("notify.write")),
    store: Store = Depends(get_store),
) -> SubscriptionOut:
    """Subscribe a team to notifications (audit-logged). The webhook ``secret`` is stored to sign
    messages and never returned."""
    return out(create(store, request, principal, body))


@router.get("/notifications/subscriptions/{subscription_id}", response_model=SubscriptionOut)
def notification_subscription(
    subscription_id: SubscriptionId,
    principal: Principal = Depends(require("notify.read")),
    store: Store = Depends(get_store),
) -> SubscriptionOut:
    return out(subscription_or_404(store, principal, subscription_id, "notify.read"))


@router.delete("/notifications/subscriptions/{subscription_id}", response_model=SubscriptionOut)
def delete_notification_subscription(
    subscription_id: SubscriptionId,
    request: Request,
    principal: Principal = Depends(require("notify.write")),
    store: Store = Depends(get_store),
) -> SubscriptionOut:
    """Remove a subscription and its pending deliveries (audit-logged; its delivery log stays); the
    subscription removed."""
    found = subscription_or_404(store, principal, subscription_id, "notify.write")
    remove(store, request, principal, found)
    return out(found)


@router.post(
    "/notifications/subscriptions/{subscription_id}/test", response_model=TestQueuedOut, status_code=202
)
def send_notification_test(
    subscription_id: SubscriptionId,
    request: Request,
    response: Response,
    principal: Principal = Depends(require("notify.write")),
    store: Store = Depends(get_store),
) -> TestQueuedOut:
    """Queue the test message (sent after the answer, by a worker when a broker is configured; a slow
    target would hold the request up to a minute): 202 with the job's id. Its outcome is a line of the
    delivery log (``log``, also the ``Location``: the subscription's tries, ``test`` true)."""
    from mamori.server import background

    sub = subscription_or_404(store, principal, subscription_id, "notify.write")
    job = queue_test_message(store, request, principal, sub)
    found = background.status(job) if job else None
    url = f"{PREFIX}/notifications/log?subscription={sub.id}"
    response.headers["Location"] = url
    state = found.state if found is not None else ("queued" if job else "failed")  # "": the broker refused
    return TestQueuedOut(job=job, state=state, subscription=sub.id, log=url)


@router.get("/notifications/log", response_model=list[AttemptOut])
def notification_log(
    principal: Principal = Depends(require("notify.read")),
    store: Store = Depends(get_store),
    subscription: int | None = Query(None, ge=1, le=2**62, description="only this subscription's tries"),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10**9),
) -> list[dict[str, Any]]:
    """The delivery log, newest first: every try with when, channel, status, code and error class; never
    a secret or a URL."""
    return log(store, principal, subscription, limit, offset)

"""Subscriptions to suppliers' CSAF 2.0 providers (the consumer side of CSAF 2.0 section 7.3).

:func:`subscribe` finds a provider's ``provider-metadata.json`` as section 7.3.1 orders: the URL when one is
given; for a domain ``https://DOMAIN/.well-known/csaf/provider-metadata.json`` (7.1.9), then the ``CSAF:``
lines of ``https://DOMAIN/.well-known/security.txt`` (7.1.8), then ``https://csaf.data.security.DOMAIN``
(7.1.10). The metadata must be valid against the OASIS provider schema. OpenPGP keys given by the person are
pinned (fingerprint and certificate stored): only they make a signature valid at pull time. Keys are pinned
for whoever subscribes: the command line pins the store's own keys, a team of the team server (``team_id``,
``mamori csaf subscribe --team``) its own. One team's keys make no other team trust an advisory: a pull
downloads each advisory once per provider and checks its signature against each team's keys apart
(:func:`trust_domains`, :mod:`mamori.advisory.pull`). Plain ``http://``
is refused except on loopback addresses (127.0.0.0/8, ::1), which tests use.

:func:`advisories` gives the CSAF documents pulled for each subscription, parsed, for code that applies a
supplier's product status to findings.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import insert, select

from mamori.advisory import subscription_tables as t
from mamori.advisory.provider_check import loopback
from mamori.advisory.publish import METADATA, metadata_problems
from mamori.display import visible
from mamori.errors import InputError
from mamori.i18n import _
from mamori.store import Store

MAX_LIST_BYTES = 64 << 20  # index.txt, changes.csv, a ROLIE feed, provider-metadata.json
MAX_DOCUMENT_BYTES = 50 << 20
MAX_SMALL_BYTES = 64 << 10  # a hash file, a signature, security.txt
DEADLINE = 60.0  # seconds for one download


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_scheme(url: str) -> None:
    """https, or plain http to a loopback address; anything else is an InputError (exit 2)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and loopback(parts.hostname) and parts.hostname != "localhost":
        return
    if parts.scheme == "http":
        raise InputError(
            visible(url),
            _("plain http is refused except on loopback addresses (127.0.0.0/8, ::1): use https"),
        )
    raise InputError(visible(url), _("not an https URL"))


class Client:
    """Bounded GETs (size and time) through the online sources' fetcher; absent (404/410) is None. Made
    inside :func:`mamori.notify.netguard.guarded` (the team server), every connection it opens (redirects
    too) goes only to an address checked when it connects (:func:`mamori.notify.netguard.async_transport`)."""

    def __init__(self, deadline: float = DEADLINE) -> None:
        from mamori.notify.netguard import async_transport, current
        from mamori.vulndb.online.http import Fetcher, RetryPolicy

        allowed = current()
        self.fetcher = Fetcher(
            transport=async_transport(allowed) if allowed is not None else None,
            retry=RetryPolicy(attempts=3, base=0.5, cap=5.0, max_wait=30.0),
            timeout=min(30.0, deadline),
            deadline=deadline,
            max_bytes={
                "csaf-list": MAX_LIST_BYTES,
                "csaf-doc": MAX_DOCUMENT_BYTES,
                "csaf-small": MAX_SMALL_BYTES,
            },
        )

    def get(self, url: str, kind: str = "csaf-list") -> bytes | None:
        """The body of ``url`` (None when absent). Inside :func:`mamori.notify.netguard.guarded` (the team
        server), a host that is or resolves to a private, loopback, link-local or reserved address the
        operator did not allow is refused before anything is sent: here, with a message that says so, and
        again on the connection itself (an answer that changed since is refused, nothing is sent)."""
        from mamori.notify.netguard import check_url_host, current

        check_scheme(url)
        allowed = current()
        if allowed is not None:
            check_url_host(url, allowed)
        answer = self.fetcher.request("GET", url, source=kind, ok=(200, 404, 410))
        return answer.content if answer.status == 200 else None

    def close(self) -> None:
        self.fetcher.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        self.fetcher.close(failed=kind is not None)


def parse_json(raw: bytes, where: str) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise InputError(
            visible(where), _("not JSON: {reason}").format(reason=visible(str(exc)[:200]))
        ) from None


def security_txt_urls(text: str) -> list[str]:
    """The ``CSAF:`` field values of a security.txt (RFC 9116 fields are case-insensitive)."""
    out = []
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() == "csaf" and value.strip():
            out.append(value.strip())
    return out


def _base(domain: str) -> str:
    """``https://DOMAIN``; a loopback address (with its port) is reached over plain http."""
    host = urlsplit(f"//{domain}").hostname
    return f"http://{domain}" if loopback(host) and host != "localhost" else f"https://{domain}"


@dataclass
class Discovery:
    metadata_url: str
    found_by: str
    metadata: dict[str, Any]
    tried: list[str] = field(default_factory=list)


def _ways(domain: str, client: Client) -> Iterator[tuple[str, str]]:
    """The URLs where a domain's provider metadata may be, in the order of section 7.3.1; security.txt is
    read only when the well-known URL has none."""
    base = _base(domain)
    yield f"{base}/.well-known/csaf/{METADATA}", "well-known"
    try:
        txt = client.get(f"{base}/.well-known/security.txt", "csaf-small")
    except InputError:  # unreachable or refused: the next way is tried
        txt = None
    for url in security_txt_urls(txt.decode("utf-8", "replace")) if txt is not None else []:
        yield url, "security.txt"
    if not loopback(urlsplit(f"//{domain}").hostname):
        yield f"https://csaf.data.security.{domain}", "dns"


def discover(target: str, client: Client) -> Discovery:
    """The provider metadata of ``target`` (a URL of provider-metadata.json, or a domain)."""
    candidates: Iterable[tuple[str, str]]
    if "://" in target:
        check_scheme(target)
        candidates = [(target, "url")]
    else:
        domain = target.strip().rstrip("/")
        if not domain or "/" in domain or any(c.isspace() for c in domain):
            raise InputError(visible(target), _("not a URL or a domain name"))
        candidates = _ways(domain, client)
    tried = []
    for url, how in candidates:
        tried.append(url)
        try:
            check_scheme(url)
            raw = client.get(url)
        except InputError:
            if how == "url":
                raise
            continue
        if raw is None:
            if how == "url":
                raise InputError(visible(url), _("provider-metadata.json does not exist"))
            continue
        data = parse_json(raw, url)
        problems = metadata_problems(data)
        if problems:
            raise InputError(
                visible(url),
                _("not valid CSAF provider metadata: {problem}").format(problem=visible(problems[0])),
            )
        return Discovery(url, how, data, tried)
    raise InputError(
        visible(target), _("no CSAF provider metadata found (tried {urls})").format(urls=", ".join(tried))
    )


@dataclass
class Subscription:
    id: int
    metadata_url: str
    given: str
    found_by: str
    publisher: str
    namespace: str
    created_at: str
    last_pull: str | None
    counts: dict[str, Any]
    deviations: list[dict[str, str]]
    watermarks: dict[str, str]
    keys: list[str] = field(default_factory=list)  # fingerprints pinned on the command line (of no team)
    team_keys: dict[int, list[str]] = field(default_factory=dict)  # team id → the fingerprints it pinned

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "metadata_url": self.metadata_url,
            "given": self.given,
            "found_by": self.found_by,
            "publisher": self.publisher,
            "namespace": self.namespace,
            "created_at": self.created_at,
            "last_pull": self.last_pull,
            "counts": self.counts,
            "deviations": self.deviations,
            "keys": self.keys,
        }


def _write(store: Store) -> Any:
    from mamori.accounts.core import _write as write

    return write(store)


def subscribe(
    store: Store, target: str, key_files: list[Path] | None = None, team_id: int | None = None
) -> Subscription:
    """Find the provider of ``target``, pin the keys in ``key_files`` and store the subscription (an
    existing subscription to the same metadata URL gets the keys added). With ``team_id`` the subscription
    becomes one of the team's and the keys are the team's own: no other team trusts them; else they are the
    store's own (the command line's)."""
    from mamori.advisory.signing import load_public_keys

    certs = [(c, p) for p in key_files or [] for c in load_public_keys(p)]
    with Client() as client:
        found = discover(target, client)
    publisher = found.metadata.get("publisher") if isinstance(found.metadata.get("publisher"), dict) else {}
    with _write(store) as conn:
        row = conn.execute(
            select(t.SubscriptionRow.id).where(t.SubscriptionRow.metadata_url == found.metadata_url)
        ).first()
        if row is None:
            sid = conn.execute(
                insert(t.SubscriptionRow).values(
                    metadata_url=found.metadata_url,
                    given=target,
                    found_by=found.found_by,
                    publisher=str(publisher.get("name", "")),
                    namespace=str(publisher.get("namespace", "")),
                    created_at=now_iso(),
                    last_pull=None,
                    counts="{}",
                    deviations="[]",
                    watermarks="{}",
                )
            ).inserted_primary_key[0]
        else:
            sid = row[0]
        if team_id is None:
            pinned = set(_keys(conn, sid))
            for cert, _path in certs:
                fpr = str(cert.fingerprint).upper()
                if fpr not in pinned:
                    conn.execute(
                        insert(t.SubscriptionKeyRow).values(
                            subscription_id=sid, fingerprint=fpr, armored=str(cert)
                        )
                    )
                    pinned.add(fpr)
        else:
            _link(conn, int(sid), team_id)
            pinned = set(_team_keys(conn, sid).get(team_id, []))
            added = False
            for cert, _path in certs:
                fpr = str(cert.fingerprint).upper()
                if fpr not in pinned:
                    conn.execute(
                        insert(t.SubscriptionTeamKeyRow).values(
                            subscription_id=sid, team_id=team_id, fingerprint=fpr, armored=str(cert)
                        )
                    )
                    pinned.add(fpr)
                    added = True
            if added:  # the team's verdicts on what was pulled before are made again by the next pull
                _forget_team_states(conn, int(sid), team_id)
    return get_subscription(store, int(sid))


def _team_keys(conn: Any, sid: int) -> dict[int, list[str]]:
    k = t.SubscriptionTeamKeyRow
    out: dict[int, list[str]] = {}
    rows = conn.execute(
        select(k.team_id, k.fingerprint).where(k.subscription_id == sid).order_by(k.team_id, k.fingerprint)
    )
    for team_id, fpr in rows:
        out.setdefault(int(team_id), []).append(fpr)
    return out


def _forget_team_states(conn: Any, sid: int, team_id: int | None = None) -> None:
    """Drop the per-team signature states of the subscription's advisories (of one team, or every one)."""
    from sqlalchemy import delete

    a = t.AdvisoryTeamRow
    ids = select(t.AdvisoryRow.id).where(t.AdvisoryRow.subscription_id == sid).scalar_subquery()
    query = delete(a).where(a.advisory_id.in_(ids))
    if team_id is not None:
        query = query.where(a.team_id == team_id)
    conn.execute(query)


def _keys(conn: Any, sid: int) -> list[str]:
    rows = conn.execute(
        select(t.SubscriptionKeyRow.fingerprint)
        .where(t.SubscriptionKeyRow.subscription_id == sid)
        .order_by(t.SubscriptionKeyRow.fingerprint)
    )
    return [r[0] for r in rows]


def _of(row: Any, keys: list[str], team_keys: dict[int, list[str]] | None = None) -> Subscription:
    return Subscription(
        row.id,
        row.metadata_url,
        row.given,
        row.found_by,
        row.publisher,
        row.namespace,
        row.created_at,
        row.last_pull,
        json.loads(row.counts or "{}"),
        json.loads(row.deviations or "[]"),
        json.loads(row.watermarks or "{}"),
        keys,
        team_keys or {},
    )


def list_subscriptions(store: Store, only: int | None = None) -> list[Subscription]:
    with store.engine.connect() as conn:
        query = select(t.SubscriptionRow.__table__).order_by(t.SubscriptionRow.id)
        if only is not None:
            query = query.where(t.SubscriptionRow.id == only)
        return [_of(r, _keys(conn, r.id), _team_keys(conn, r.id)) for r in conn.execute(query).all()]


def get_subscription(store: Store, sid: int) -> Subscription:
    found = list_subscriptions(store, sid)
    if not found:
        raise InputError(None, _("no CSAF subscription {id}").format(id=sid))
    return found[0]


def pinned_certs(store: Store, sid: int, team_id: int | None = None) -> list[Any]:
    """The keys pinned for the subscription on the command line, or by the team given."""
    return trust_domains(store, sid, every=True).get(team_id, [])


def trust_domains(store: Store, sid: int, *, every: bool = False) -> dict[int | None, list[Any]]:
    """Who judges the subscription's signatures, each with its own pinned keys: every team of the
    subscription (team id → its keys) and the store's own keys (None), when the command line pinned some
    or no team subscribed (``every``: None always). An advisory is trusted for one of them only by its
    keys."""
    from mamori.advisory.signing import _sequoia

    with store.engine.connect() as conn:
        own = conn.execute(
            select(t.SubscriptionKeyRow.armored).where(t.SubscriptionKeyRow.subscription_id == sid)
        ).all()
        k = t.SubscriptionTeamKeyRow
        team_rows = conn.execute(select(k.team_id, k.armored).where(k.subscription_id == sid)).all()
        teams = conn.scalars(
            select(t.SubscriptionTeamRow.team_id).where(t.SubscriptionTeamRow.subscription_id == sid)
        ).all()
    pgp = _sequoia() if own or team_rows else None
    out: dict[int | None, list[Any]] = {int(team): [] for team in teams}
    if every or own or not teams:
        out[None] = [pgp.Cert.from_bytes(r[0].encode("ascii")) for r in own] if pgp else []
    for team_id, armored in team_rows:
        if int(team_id) in out:
            out[int(team_id)].append(pgp.Cert.from_bytes(armored.encode("ascii")))  # type: ignore[union-attr]
    return out


@dataclass
class PulledAdvisory:
    """One advisory pulled from a subscription, as stored: the parsed CSAF document and its provenance."""

    subscription_id: int
    url: str
    tracking_id: str
    version: str
    current_release_date: str
    signature: str  # valid | not-verifiable | missing
    document: dict[str, Any]


def advisories(store: Store, subscription_id: int | None = None) -> dict[int, list[PulledAdvisory]]:
    """The CSAF documents pulled, parsed, per subscription id (newest release first)."""
    out: dict[int, list[PulledAdvisory]] = {}
    table = t.AdvisoryRow.__table__
    query = select(table).order_by(table.c.subscription_id, table.c.current_release_date.desc(), table.c.url)
    if subscription_id is not None:
        query = query.where(table.c.subscription_id == subscription_id)
    with store.engine.connect() as conn:
        for row in conn.execute(query):
            out.setdefault(row.subscription_id, []).append(
                PulledAdvisory(
                    row.subscription_id,
                    row.url,
                    row.tracking_id,
                    row.version,
                    row.current_release_date,
                    row.signature,
                    json.loads(bytes(row.doc).decode("utf-8")),
                )
            )
    return out


# -- the teams of the team server a subscription belongs to -----------------------------------------
def subscription_teams(store: Store) -> dict[int, set[int]]:
    """Subscription id → the ids of the teams it belongs to (a subscription of no team is absent)."""
    out: dict[int, set[int]] = {}
    with store.engine.connect() as conn:
        rows = conn.execute(select(t.SubscriptionTeamRow.subscription_id, t.SubscriptionTeamRow.team_id))
        for sid, team_id in rows:
            out.setdefault(int(sid), set()).add(int(team_id))
    return out


def link_team(store: Store, subscription_id: int, team_id: int) -> None:
    """Make the subscription one of the team's (nothing when it already is)."""
    with _write(store) as conn:
        _link(conn, subscription_id, team_id)


def _link(conn: Any, subscription_id: int, team_id: int) -> None:
    found = conn.execute(
        select(t.SubscriptionTeamRow.id).where(
            t.SubscriptionTeamRow.subscription_id == subscription_id,
            t.SubscriptionTeamRow.team_id == team_id,
        )
    ).first()
    if found is None:
        conn.execute(insert(t.SubscriptionTeamRow).values(subscription_id=subscription_id, team_id=team_id))


def unsubscribe(store: Store, subscription_id: int, team_id: int | None = None) -> bool:
    """The team leaves the subscription; the subscription, its keys and its advisories are removed when no
    team is left (or at once when ``team_id`` is None). True when the subscription was removed."""
    from sqlalchemy import delete, func

    with _write(store) as conn:
        if team_id is not None:
            conn.execute(
                delete(t.SubscriptionTeamRow).where(
                    t.SubscriptionTeamRow.subscription_id == subscription_id,
                    t.SubscriptionTeamRow.team_id == team_id,
                )
            )
            conn.execute(
                delete(t.SubscriptionTeamKeyRow).where(
                    t.SubscriptionTeamKeyRow.subscription_id == subscription_id,
                    t.SubscriptionTeamKeyRow.team_id == team_id,
                )
            )
            _forget_team_states(conn, subscription_id, team_id)
            left = conn.execute(
                select(func.count())
                .select_from(t.SubscriptionTeamRow)
                .where(t.SubscriptionTeamRow.subscription_id == subscription_id)
            ).scalar_one()
            if left:
                return False
        _forget_team_states(conn, subscription_id)
        for table in (t.SubscriptionTeamRow, t.SubscriptionTeamKeyRow, t.SubscriptionKeyRow, t.AdvisoryRow):
            conn.execute(delete(table).where(table.subscription_id == subscription_id))
        conn.execute(delete(t.SubscriptionRow).where(t.SubscriptionRow.id == subscription_id))
    return True


def advisory_list(store: Store, subscription_id: int, team_id: int | None = None) -> list[dict[str, Any]]:
    """The advisories pulled for a subscription without their documents (newest release first). With
    ``team_id`` the signature state is the team's own (checked against its keys only: ``valid``,
    ``failed`` when its keys do not verify it, ``not-verifiable`` when it pinned none, ``missing``;
    ``unchecked`` until the next pull after the team subscribed or pinned a key)."""
    table = t.AdvisoryRow.__table__
    cols = [table.c[n] for n in ("url", "sha256", "tracking_id", "version", "current_release_date")]
    query = (
        select(table.c.id, *cols, table.c.signature, table.c.pulled_at)
        .where(table.c.subscription_id == subscription_id)
        .order_by(table.c.current_release_date.desc(), table.c.url)
    )
    with store.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
        states: dict[int, str] = {}
        if team_id is not None:
            a = t.AdvisoryTeamRow
            ids = select(table.c.id).where(table.c.subscription_id == subscription_id).scalar_subquery()
            states = dict(
                conn.execute(
                    select(a.advisory_id, a.signature).where(a.team_id == team_id, a.advisory_id.in_(ids))
                ).all()
            )
    for row in rows:
        ident = row.pop("id")
        if team_id is not None:
            row["signature"] = states.get(ident, "unchecked")
    return rows

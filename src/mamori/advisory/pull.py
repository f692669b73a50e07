"""Pulling the advisories of CSAF subscriptions (CSAF 2.0 section 7.3, the consumer side).

For every distribution of the provider's metadata: a directory (its ``changes.csv``, else ``index.txt``) or
ROLIE feeds (their entries' ``updated`` times). A pull is incremental: each distribution remembers the
newest time it has pulled completely (its watermark) and each advisory its URL and sha256, so only what
changed since is downloaded, and a document whose bytes did not change is not read again.

Each advisory is downloaded within bounds (size, time); its ``.sha512``/``.sha256`` must match; its ``.asc``
is checked against the keys of each who subscribed, apart (:func:`mamori.advisory.subscribe.trust_domains`:
each team of the team server with the keys it pinned, and the command line's own keys): for each the state
is ``valid`` (one of its keys made the signature), ``failed`` (it pinned keys and none of them made it, or
there is no ``.asc``), ``not-verifiable`` (it pinned none) or ``missing`` (no ``.asc``, no keys). The
advisory is downloaded once per provider and stored once; it is rejected when every one of them says
``failed``. Each team's state is stored for it (``csaf_advisory_team``): a team sees an advisory verified
only by its own keys, and applying it to the inventory leaves out the products of the teams whose keys
refused it; it must be valid CSAF (schema and mandatory tests); then its vulnerabilities go into the
knowledge base (source ``csaf:<publisher namespace>``, see :mod:`mamori.advisory.csaf_kb`). A bad advisory is rejected alone, with
its reason. What the provider does that CSAF 2.0 does not allow but can be coped with (index paths not
relative to the folder, ROLIE links to another host, missing hash files …) is reported as a deviation.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from sqlalchemy import select, update

from mamori.advisory import subscription_tables as t
from mamori.advisory.csaf_kb import records
from mamori.advisory.subscribe import (
    Client,
    Subscription,
    get_subscription,
    list_subscriptions,
    now_iso,
    parse_json,
    trust_domains,
)
from mamori.display import visible
from mamori.errors import InputError
from mamori.i18n import _
from mamori.store import Store

BATCH = 200  # advisories written to the knowledge base in one transaction
DOWNLOADS = 4  # advisories downloaded (with their hash files and signatures) at the same time
_RELATIVE = re.compile(r"[0-9]{4}/[^/]+\.json")
_LOCK = threading.Lock()  # the download threads report deviations


@dataclass
class Deviation:
    kind: str  # a stable code: index-path-not-relative, rolie-foreign-link, hash-missing …
    where: str
    message: str
    count: int = 1

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "where": self.where, "message": self.message, "count": self.count}


@dataclass
class PullReport:
    subscription: Subscription
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    fetched: int = 0  # advisories downloaded
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (url, reason)
    failed: list[tuple[str, str]] = field(default_factory=list)  # not reached: (url, reason)
    deviations: dict[str, Deviation] = field(default_factory=dict)
    signatures: Counter[str] = field(default_factory=Counter)
    records: int = 0  # knowledge-base records written
    # the new and updated advisories applied to the inventory (mamori.portfolio.csafin): one summary each
    applied: list[dict[str, Any]] = field(default_factory=list)
    apply_rejected: list[tuple[str, str]] = field(default_factory=list)  # (url, reason)
    apply_skipped: bool = False  # --no-apply
    inventory_empty: bool = False  # no release to apply to: nothing applied, nothing read for it

    def apply_totals(self) -> dict[str, int]:
        """What applying the pulled advisories did, summed over them."""
        out = {"advisories": len(self.applied), "not_applied": len(self.apply_rejected)}
        for key in ("records", "created", "updated", "unchanged", "unmatched", "rejected"):
            out[key] = sum(int(a[key]) for a in self.applied)
        return out

    def deviate(self, kind: str, where: str, message: str) -> None:
        with _LOCK:
            self._deviate(kind, where, message)

    def _deviate(self, kind: str, where: str, message: str) -> None:
        if kind in self.deviations:
            self.deviations[kind].count += 1
        else:
            self.deviations[kind] = Deviation(kind, visible(where), message)

    def counts(self) -> dict[str, Any]:
        return {
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": len(self.rejected),
            "failed": len(self.failed),
            "fetched": self.fetched,
            "signatures": dict(self.signatures),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "subscription": self.subscription.id,
            "publisher": self.subscription.publisher,
            "metadata_url": self.subscription.metadata_url,
            **self.counts(),
            "records": self.records,
            "rejected": [{"url": u, "reason": r} for u, r in self.rejected],
            "failed": [{"url": u, "reason": r} for u, r in self.failed],
            "deviations": [d.as_dict() for d in self.deviations.values()],
            "apply": None
            if self.apply_skipped
            else {
                **self.apply_totals(),
                "inventory_empty": self.inventory_empty,
                "applied": self.applied,
                "not_applied_advisories": [{"url": u, "reason": r} for u, r in self.apply_rejected],
            },
        }


@dataclass(frozen=True)
class Signature:
    """An advisory's signature state: ``overall`` (the command line's keys when they judge, else the best
    of the teams': what ``csaf_advisory.signature`` holds) and each team's own."""

    overall: str
    teams: dict[int, str] = field(default_factory=dict)


_RANK = {"valid": 0, "not-verifiable": 1, "missing": 2, "failed": 3}


@dataclass
class Candidate:
    url: str
    when: str | None = None
    hashes: list[str] = field(default_factory=list)
    signature: str | None = None
    distributions: set[str] = field(default_factory=set)


def _when(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else None


def _later(a: str | None, b: str | None) -> str | None:
    if a is None or _when(a) is None:
        return b
    if b is None or _when(b) is None:
        return a
    return b if _when(b) > _when(a) else a  # type: ignore[operator]


def _newer(when: str | None, mark: str | None) -> bool:
    """Whether a listed time is after the watermark (a time that cannot be read always counts)."""
    w, m = _when(when), _when(mark)
    return m is None or w is None or w > m


class _Pull:
    def __init__(self, store: Store, sub: Subscription, client: Client) -> None:
        self.store = store
        self.sub = sub
        self.client = client
        self.report = PullReport(sub)
        self.candidates: dict[str, Candidate] = {}
        self.marks: dict[str, str | None] = {}  # distribution → newest time listed
        self.broken: set[str] = set()  # distributions whose watermark must not move

    # --- the lists

    def _folder_url(self, folder: str, value: str, origin: str) -> str | None:
        """The document ``value`` (a line of index.txt or changes.csv) names, coping with paths that are not
        relative to the folder as section 7.1.12/7.1.13 ask."""
        value = value.strip()
        if _RELATIVE.fullmatch(value):
            return urljoin(folder, value)
        parts = value.rsplit("/", 2)
        if "://" in value and value.startswith(folder):
            return value
        if len(parts) >= 2 and parts[-2].isdigit() and len(parts[-2]) == 4 and parts[-1].endswith(".json"):
            self.report.deviate(
                "index-path-not-relative",
                origin,
                _("{value} is not relative to the folder (taken as {path})").format(
                    value=visible(value), path=f"{parts[-2]}/{parts[-1]}"
                ),
            )
            return urljoin(folder, f"{parts[-2]}/{parts[-1]}")
        self.report.deviate(
            "index-path-unknown",
            origin,
            _("{value} names no document of the folder").format(value=visible(value)),
        )
        return None

    def _add(self, url: str, when: str | None, dist: str, hashes: list[str], sig: str | None) -> None:
        cand = self.candidates.setdefault(url, Candidate(url))
        cand.when = _later(cand.when, when)
        cand.distributions.add(dist)
        cand.hashes = list(dict.fromkeys([*cand.hashes, *hashes]))
        cand.signature = cand.signature or sig

    def directory(self, folder: str) -> None:
        folder = folder if folder.endswith("/") else folder + "/"
        mark = self.sub.watermarks.get(folder)
        changes = self._get(folder + "changes.csv", folder)
        newest: str | None = None
        if changes is not None:
            for n, row in enumerate(csv.reader(io.StringIO(changes.decode("utf-8", "replace"))), 1):
                if not row:
                    continue
                if len(row) != 2 or _when(row[1]) is None:
                    self.report.deviate(
                        "changes-row",
                        folder + "changes.csv",
                        _("line {line}: not a path and a date-time").format(line=n),
                    )
                    continue
                newest = _later(newest, row[1].strip())
                if not _newer(row[1], mark):
                    continue
                url = self._folder_url(folder, row[0], folder + "changes.csv")
                if url is not None:
                    self._add(url, row[1].strip(), folder, [], None)
        else:
            self.report.deviate("changes-absent", folder + "changes.csv", _("changes.csv does not exist"))
            index = self._get(folder + "index.txt", folder)
            if index is None:
                self.report.deviate("index-absent", folder + "index.txt", _("index.txt does not exist"))
                return
            for line in index.decode("utf-8", "replace").splitlines():
                if line.strip():
                    url = self._folder_url(folder, line, folder + "index.txt")
                    if url is not None:
                        self._add(url, None, folder, [], None)
        self.marks[folder] = newest

    def feed(self, feed_url: str) -> None:
        raw = self._get(feed_url, feed_url)
        if raw is None:
            self.report.deviate("feed-absent", feed_url, _("the ROLIE feed does not exist"))
            return
        try:
            data = parse_json(raw, feed_url)
        except InputError as exc:
            self.report.failed.append((feed_url, exc.problem))
            self.broken.add(feed_url)
            return
        body = data.get("feed") if isinstance(data, dict) else None
        entries = body.get("entry") if isinstance(body, dict) else None
        if not isinstance(entries, list):
            self.report.failed.append((feed_url, _("not a ROLIE feed (no feed object with entries)")))
            self.broken.add(feed_url)
            return
        mark = self.sub.watermarks.get(feed_url)
        folder = feed_url.rsplit("/", 1)[0] + "/"
        newest: str | None = None
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            updated = entry.get("updated") if isinstance(entry.get("updated"), str) else None
            newest = _later(newest, updated)
            if not _newer(updated, mark):
                continue
            links = (
                [x for x in entry.get("link", []) if isinstance(x, dict)]
                if isinstance(entry.get("link"), list)
                else []
            )
            content = entry.get("content") if isinstance(entry.get("content"), dict) else {}
            href = next((str(x.get("href")) for x in links if x.get("rel") == "self"), None) or content.get(
                "src"
            )
            if not isinstance(href, str):
                self.report.deviate("feed-entry", feed_url, _("an entry without a link to its document"))
                continue
            url = self._local(urljoin(feed_url, href), folder, feed_url)
            if url is None:
                continue
            hashes = [
                self._local(urljoin(feed_url, str(x.get("href"))), folder, feed_url)
                for x in links
                if x.get("rel") == "hash"
            ]
            sigs = [
                self._local(urljoin(feed_url, str(x.get("href"))), folder, feed_url)
                for x in links
                if x.get("rel") == "signature"
            ]
            self._add(url, updated, feed_url, [h for h in hashes if h], next((s for s in sigs if s), None))
        self.marks[feed_url] = newest

    def _local(self, url: str, folder: str, feed_url: str) -> str | None:
        """``url`` when it lies on the feed's host; a link to another host is a deviation, taken as the same
        year folder and file name under the feed's folder."""
        here, there = urlsplit(folder), urlsplit(url)
        if (here.scheme, here.netloc) == (there.scheme, there.netloc):
            return url
        parts = there.path.rsplit("/", 2)
        self.report.deviate(
            "rolie-foreign-link",
            feed_url,
            _("{href} points to another host (taken from the feed's folder)").format(href=visible(url)),
        )
        if len(parts) == 3 and parts[1].isdigit() and len(parts[1]) == 4:
            return urljoin(folder, f"{parts[1]}/{parts[2]}")
        return None

    def _get(self, url: str, dist: str, kind: str = "csaf-list") -> bytes | None:
        try:
            return self.client.get(url, kind)
        except InputError as exc:
            self.report.failed.append((url, exc.problem))
            self.broken.add(dist)
            return None

    # --- the advisories

    def check(
        self, cand: Candidate, known: dict[str, str], domains: dict[int | None, list[Any]]
    ) -> tuple[bytes, Signature] | None:
        """(the document, its signature state) once its hashes and signature are checked, or None when it is
        rejected, failed or unchanged. Runs in the download threads."""
        try:
            return self._check(cand, known, domains)
        except InputError as exc:  # the document, a hash file or the signature could not be downloaded
            self.report.failed.append((exc.path or cand.url, exc.problem))
            with _LOCK:
                self.broken.update(cand.distributions)
            return None

    def _check(
        self, cand: Candidate, known: dict[str, str], domains: dict[int | None, list[Any]]
    ) -> tuple[bytes, Signature] | None:
        url = cand.url
        raw = self.client.get(url, "csaf-doc")
        if raw is None:
            self.report.rejected.append((url, _("the document does not exist")))
            return None
        same = known.get(url) == hashlib.sha256(raw).hexdigest()
        with _LOCK:
            self.report.fetched += 1
            self.report.unchanged += same
        if same:
            return None
        hashes = cand.hashes or [f"{url}.sha512", f"{url}.sha256"]
        checked = 0
        for hurl in hashes:
            algorithm = (
                "sha512" if hurl.endswith(".sha512") else "sha256" if hurl.endswith(".sha256") else None
            )
            if algorithm is None:
                continue
            text = self.client.get(hurl, "csaf-small")
            if text is None:
                continue
            checked += 1
            fields = text.decode("utf-8", "replace").split()
            if not fields or fields[0].lower() != hashlib.new(algorithm, raw).hexdigest():
                self.report.rejected.append(
                    (url, _("the {algorithm} hash does not match the document").format(algorithm=algorithm))
                )
                return None
        if not checked:
            self.report.deviate("hash-missing", url, _("neither .sha256 nor .sha512 exists"))
        signature = self.client.get(cand.signature or f"{url}.asc", "csaf-small")
        states, refusal = _judge_signature(raw, signature, domains)
        if signature is None and "missing" in states.values():
            self.report.deviate("signature-missing", url, _("no .asc signature"))
        if all(state == "failed" for state in states.values()):
            self.report.rejected.append((url, refusal or _("the signature does not verify")))
            return None
        teams = {team: state for team, state in states.items() if team is not None}
        overall = states.get(None) or min(teams.values(), key=_RANK.__getitem__)
        return raw, Signature(overall, teams)

    def judge(self, url: str, raw: bytes, state: Signature) -> tuple[bytes, Any, Signature] | None:
        """(the document, parsed, its signature state) when it is valid CSAF, else None (rejected)."""
        try:
            data = parse_json(raw, url)
        except InputError as exc:
            self.report.rejected.append((url, exc.problem))
            return None
        errors = csaf_errors(data)
        if errors:
            more = len(errors) - 1
            extra = _(" (and {count} more)").format(count=more) if more else ""
            self.report.rejected.append(
                (url, _("not valid CSAF: {problem}").format(problem=errors[0]) + extra)
            )
            return None
        return raw, data, state


def _fast_schema() -> Any:
    """The CSAF 2.0 schema on jsonschema-rs (:func:`mamori.advisory.publish.fast_validator`), or None."""
    from mamori.advisory.publish import fast_validator

    return fast_validator("csaf")


def csaf_errors(data: Any) -> list[str]:
    """What makes ``data`` invalid CSAF (schema with formats, mandatory tests), as
    :func:`mamori.advisory.publish.validate` says. The schema is checked with jsonschema-rs first (about 50
    times faster on CISA's advisories); only a document it finds invalid goes through jsonschema, whose
    messages are reported, so the verdict on an invalid document is always jsonschema's."""
    from mamori.advisory.publish import validate
    from mamori.vex.csaf_checks import mandatory_problems

    fast = _fast_schema()
    if fast is not None and fast.is_valid(data):
        return [str(p) for p in mandatory_problems(data)]
    return validate(data).errors


def _judge_signature(
    raw: bytes, signature: bytes | None, domains: dict[int | None, list[Any]]
) -> tuple[dict[int | None, str], str | None]:
    """Each judge's state of the signature (see the module), and why the first that refused it did."""
    from mamori.advisory.signing import verify

    states: dict[int | None, str] = {}
    refusal: str | None = None
    verdicts: dict[tuple[str, ...], str] = {}
    for who, certs in domains.items():
        if not certs:
            states[who] = "missing" if signature is None else "not-verifiable"
            continue
        if signature is None:
            states[who] = "failed"
            refusal = refusal or _("no .asc signature, and keys are pinned")
            continue
        marks = tuple(sorted(str(c.fingerprint) for c in certs))
        if marks not in verdicts:
            verdicts[marks] = verify(raw, signature, certs)
        verdict = verdicts[marks]
        states[who] = "valid" if verdict == "valid" else "failed"
        if verdict != "valid" and refusal is None:
            refusal = (
                _("the signature was not made by a pinned key")
                if verdict == "unverifiable"
                else _("the signature does not verify")
            )
    return states, refusal


def _known(store: Store, sid: int, teams: list[int]) -> tuple[dict[str, str], dict[str, str], bool]:
    """The advisories pulled before: URL → sha256, URL → current_release_date, and whether one was left
    out: an advisory that a team of the subscription has no signature state for yet (it subscribed, or
    pinned a key, since) is downloaded and checked again."""
    from sqlalchemy import func

    table = t.AdvisoryRow.__table__
    a = t.AdvisoryTeamRow.__table__
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(table.c.id, table.c.url, table.c.sha256, table.c.current_release_date).where(
                table.c.subscription_id == sid
            )
        ).all()
        judged: dict[int, int] = {}
        if teams:
            judged = dict(
                conn.execute(
                    select(a.c.advisory_id, func.count())
                    .where(a.c.team_id.in_(teams), a.c.advisory_id.in_([r[0] for r in rows] or [-1]))
                    .group_by(a.c.advisory_id)
                ).all()
            )
    current = [r for r in rows if judged.get(r[0], 0) >= len(teams)]
    return {r[1]: r[2] for r in current}, {r[1]: r[3] for r in current}, len(current) < len(rows)


class _Applier:
    """Applies each advisory written to the inventory, with the subscription's publisher as supplier (the
    inventory's releases and SBOMs read once, at the first advisory)."""

    def __init__(self, store: Store, sub: Subscription, report: PullReport) -> None:
        self.store, self.sub, self.report = store, sub, report
        self.releases: list[Any] | None = None
        self.owned: dict[int, set[str]] | None = None

    def _owned(self, teams: list[int]) -> dict[int, set[str]]:
        """Team id → the names of its products."""
        if self.owned is None:
            from mamori.accounts import team_products
            from mamori.portfolio import tables as pt

            with self.store.engine.connect() as conn:
                names = dict(conn.execute(select(pt.ProductRow.id, pt.ProductRow.name)).all())
            self.owned = {
                team: {names[p] for p in products if p in names}
                for team, products in team_products(self.store, teams).items()
            }
        return self.owned

    def __call__(self, url: str, data: Any, signature: Signature | None = None) -> None:
        from mamori.portfolio.csafin import apply_advisory, inventory

        if self.releases is None:
            self.releases = inventory(self.store)
            self.report.inventory_empty = not self.releases
        if not self.releases:  # nothing it could name: the advisory is not read again
            return
        releases = self.releases
        refused = [
            team for team, state in (signature.teams if signature else {}).items() if state == "failed"
        ]
        if refused:  # not applied to the products of the teams whose keys refused it
            owned = self._owned(sorted(signature.teams))  # type: ignore[union-attr]
            left_out = set().union(*(owned.get(team, set()) for team in refused))
            releases = [r for r in releases if r.product not in left_out]
        try:
            done = apply_advisory(self.store, data, self.sub.publisher, url, releases)
        except InputError as exc:
            self.report.apply_rejected.append((url, visible(exc.problem[:200])))
            return
        self.report.applied.append(
            {
                "url": url,
                "advisory": done.advisory,
                "version": done.version,
                "records": done.records,
                "created": done.created,
                "updated": done.updated,
                "unchanged": done.unchanged,
                "unmatched": done.unmatched,
                "rejected": len(done.rejected),
                "matched": done.matched,
            }
        )


def _store_batch(
    store: Store,
    sub: Subscription,
    batch: list[tuple[str, bytes, Any, Signature]],
    report: PullReport,
    known: dict[str, str],
    applier: _Applier | None = None,
) -> None:
    """Write a batch of checked advisories (knowledge base, then the advisory rows); when the batch fails,
    each advisory alone, so one that the store refuses is rejected by itself."""
    from mamori.store.documents import prepare
    from mamori.store.limits import record_problem

    ready: list[tuple[str, bytes, Any, Signature, list[Any]]] = []
    for url, raw, data, state in batch:
        try:
            prepared = [prepare(r) for r in records(data)]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            report.rejected.append(
                (url, _("cannot be read as vulnerabilities: {reason}").format(reason=visible(str(exc)[:200])))
            )
            continue
        problem = next((p for p in map(record_problem, prepared) if p is not None), None)
        if problem is not None:
            report.rejected.append((url, str(problem)))
            continue
        ready.append((url, raw, data, state, prepared))
    groups = [ready] if len(ready) > 1 else [[r] for r in ready]
    while groups:
        group = groups.pop(0)
        try:
            _write_group(store, sub, group)
        except Exception as exc:  # the store refused the batch: each advisory alone names the one it refuses
            if len(group) > 1:
                groups = [[r] for r in group] + groups
                continue
            report.rejected.append(
                (
                    group[0][0],
                    _("the store refused it: {reason}").format(
                        reason=visible(str(exc).splitlines()[0][:200])
                    ),
                )
            )
            continue
        for url, _raw, _data, state, prepared in group:
            if url in known:
                report.updated += 1
            else:
                report.new += 1
            report.signatures[state.overall] += 1
            report.records += len(prepared)
            if applier is not None:
                applier(url, _data, state)


def _write_group(
    store: Store, sub: Subscription, group: list[tuple[str, bytes, Any, Signature, list[Any]]]
) -> None:
    from mamori.store.writer import upsert

    with store.writer() as writer:
        writer.put_vulnerabilities([p for item in group for p in item[4]])
        for source in sorted({p.vulnerability.sources[0].source for item in group for p in item[4]}):
            writer.touch(source, sub.metadata_url)
    stamp = now_iso()
    rows = []
    for url, raw, data, state, _prepared in group:
        tracking = data["document"]["tracking"]
        rows.append(
            {
                "subscription_id": sub.id,
                "url": url,
                "sha256": hashlib.sha256(raw).hexdigest(),
                "tracking_id": str(tracking["id"])[:200],
                "version": str(tracking.get("version", ""))[:32],
                "current_release_date": str(tracking.get("current_release_date", ""))[:40],
                "signature": state.overall,
                "pulled_at": stamp,
                "doc": raw,
            }
        )
    from mamori.accounts.core import _write

    a = t.AdvisoryRow.__table__
    with _write(store) as conn:
        upsert(conn, a, rows, keys=["subscription_id", "url"])
        judged = [(url, state.teams) for url, _raw, _data, state, _prepared in group if state.teams]
        if judged:
            ids = dict(
                conn.execute(
                    select(a.c.url, a.c.id).where(
                        a.c.subscription_id == sub.id, a.c.url.in_([url for url, _teams in judged])
                    )
                ).all()
            )
            team_rows = [
                {"advisory_id": ids[url], "team_id": team, "signature": state}
                for url, teams in judged
                for team, state in sorted(teams.items())
            ]
            upsert(conn, t.AdvisoryTeamRow.__table__, team_rows, keys=["advisory_id", "team_id"])


def pull_one(store: Store, sub: Subscription, client: Client, apply: bool = True) -> PullReport:
    """Pull one subscription; unless ``apply`` is false, each new or updated advisory is also applied to
    the inventory (:func:`mamori.portfolio.csafin.apply_advisory`, the publisher as supplier)."""
    domains = trust_domains(store, sub.id)
    known, dates, stale = _known(store, sub.id, [team for team in domains if team is not None])
    # advisories to check again for a team: the distributions are listed in full (not from the watermarks)
    run = _Pull(store, dataclasses.replace(sub, watermarks={}) if stale else sub, client)
    report = run.report
    report.apply_skipped = not apply
    applier = _Applier(store, sub, report) if apply else None
    raw = run._get(sub.metadata_url, sub.metadata_url)
    if raw is None:
        if not report.failed:
            report.failed.append((sub.metadata_url, _("provider-metadata.json does not exist")))
        _save(store, sub, report, {})
        return report
    try:
        metadata = parse_json(raw, sub.metadata_url)
    except InputError as exc:
        report.failed.append((sub.metadata_url, exc.problem))
        _save(store, sub, report, {})
        return report
    from mamori.advisory.publish import metadata_problems

    for problem in metadata_problems(metadata)[:3]:
        report.deviate("metadata-schema", sub.metadata_url, problem)
    distributions = metadata.get("distributions") if isinstance(metadata, dict) else None
    for dist in distributions if isinstance(distributions, list) else []:
        if not isinstance(dist, dict):
            continue
        if isinstance(dist.get("directory_url"), str):
            run.directory(urljoin(sub.metadata_url, dist["directory_url"]))
        rolie = dist.get("rolie") if isinstance(dist.get("rolie"), dict) else {}
        for feed in rolie.get("feeds", []) if isinstance(rolie.get("feeds"), list) else []:
            if isinstance(feed, dict) and isinstance(feed.get("url"), str):
                run.feed(urljoin(sub.metadata_url, feed["url"]))
    batch: list[tuple[str, bytes, Any, Signature]] = []
    # listed again with the release date already pulled (a pull after one that could not finish): unchanged
    same = [
        c
        for c in run.candidates.values()
        if c.when and dates.get(c.url) and _when(c.when) == _when(dates[c.url])
    ]
    report.unchanged += len(same)
    todo = [c for c in run.candidates.values() if c not in same]
    ordered = sorted(todo, key=lambda c: (_when(c.when) is None, c.when or "", c.url))
    from mamori.notify.netguard import current, guard_thread

    # the download threads keep the caller's address guard (the team server pulls under one)
    with ThreadPoolExecutor(max_workers=DOWNLOADS, initializer=guard_thread, initargs=(current(),)) as pool:
        fetched = pool.map(lambda c: (c.url, run.check(c, known, domains)), ordered)
        for url, checked in fetched:  # validation here, while the threads download the next ones
            judged = run.judge(url, *checked) if checked is not None else None
            if judged is not None:
                batch.append((url, *judged))
            if len(batch) >= BATCH:
                _store_batch(store, sub, batch, report, known, applier)
                batch = []
    if batch:
        _store_batch(store, sub, batch, report, known, applier)
    marks = dict(sub.watermarks)
    for dist, newest in run.marks.items():
        if dist not in run.broken and newest is not None:
            marks[dist] = _later(marks.get(dist), newest) or newest
    _save(store, sub, report, marks)
    return report


def _save(store: Store, sub: Subscription, report: PullReport, marks: dict[str, Any]) -> None:
    from mamori.accounts.core import _write

    with _write(store) as conn:
        conn.execute(
            update(t.SubscriptionRow)
            .where(t.SubscriptionRow.id == sub.id)
            .values(
                last_pull=now_iso(),
                counts=json.dumps(report.counts()),
                deviations=json.dumps([d.as_dict() for d in report.deviations.values()], ensure_ascii=False),
                watermarks=json.dumps(marks or sub.watermarks),
            )
        )


def pull(store: Store, subscription_id: int | None = None, apply: bool = True) -> list[PullReport]:
    """Pull every subscription (or the one given); one report per subscription. ``apply``: apply each new
    or updated advisory to the inventory (see :func:`pull_one`)."""
    subs = (
        [get_subscription(store, subscription_id)]
        if subscription_id is not None
        else list_subscriptions(store)
    )
    with Client() as client:
        return [pull_one(store, sub, client, apply) for sub in subs]

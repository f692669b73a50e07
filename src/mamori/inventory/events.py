"""Notifications of the deployed inventory, recorded through :func:`mamori.notify.record_events`.

- ``deployed_kev``: an open finding of a release with an active deployment whose vulnerability (or an
  alias) is in the CISA KEV catalog: once per release and vulnerability (the event names every site);
- ``end_of_support``: an active deployment whose end of support (its own date, else the release's) has
  passed or falls within ``days`` days: once per deployment, date and state (``soon``, then ``ended``).

Each event's key makes it unique, so running this again records nothing twice and sends nothing twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from mamori.inventory.deployments import EOS_SOON_DAYS, list_deployments
from mamori.store import Store


def inventory_events(
    store: Store, *, today: dt.date | None = None, days: int = EOS_SOON_DAYS
) -> list[dict[str, Any]]:
    """The events the inventory gives now (rows for :func:`mamori.notify.record_events`)."""
    from mamori.portfolio.views import findings

    today = today or dt.date.today()
    deployments = list_deployments(store)
    rows: list[dict[str, Any]] = []
    sites: dict[tuple[str, str], list[str]] = {}
    for d in deployments:
        sites.setdefault((d.product, d.release), []).append(d.site)
        state = d.support_state(today, days)
        if state is not None and d.support_ends is not None:
            left = (dt.date.fromisoformat(d.support_ends) - today).days
            rows.append(
                {
                    "key": f"{d.id}:{d.support_ends}:{state}",
                    "kind": "end_of_support",
                    "product": d.product,
                    "release": d.release,
                    "vuln_id": None,
                    "severity": None,
                    "ssvc_outcome": None,
                    "kev": False,
                    "payload": {
                        "deployment": d.id,
                        "site": d.site,
                        "system": d.system,
                        "support_ends": d.support_ends,
                        "state": state,
                        "days_left": left,
                    },
                }
            )
    if sites:
        done: set[tuple[str, str, str]] = set()
        for f in findings(store)["findings"]:
            place = (f["product"], f["release"])
            v = f["vulnerability"]
            if place not in sites or not f["in_gate"] or f["status"] == "resolved" or not v["kev"]:
                continue
            if (*place, v["id"]) in done:
                continue
            done.add((*place, v["id"]))
            rows.append(
                {
                    "key": f"{f['product']}\x1f{f['release']}\x1f{v['id']}",
                    "kind": "deployed_kev",
                    "product": f["product"],
                    "release": f["release"],
                    "vuln_id": v["id"],
                    "severity": v["rating"],
                    "ssvc_outcome": None,
                    "kev": True,
                    "payload": {
                        "sites": sorted(set(sites[place])),
                        "aliases": v["aliases"],
                        "score": v["score"],
                        "component": {k: f["component"][k] for k in ("name", "version", "purl")},
                        "fixed_versions": f["fixed_versions"],
                    },
                }
            )
    return rows


def notify_inventory(store: Store, *, today: dt.date | None = None, days: int = EOS_SOON_DAYS) -> Any:
    """Record the inventory's events once each and queue their deliveries; returns
    :class:`mamori.notify.Computed`."""
    from mamori.notify import record_events

    return record_events(store, inventory_events(store, today=today, days=days))

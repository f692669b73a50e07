"""The dashboard's SSVC outcomes are stored when findings change (a re-match run's end): a process that
has decided nothing (a server just started) reads them instead of deciding every vulnerability, gets the
outcomes a fresh decision gives, and decides again once the knowledge base changed (a KEV import)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mamori.portfolio import ssvc_view
from notify_support import demo_store


def _forget() -> None:
    with ssvc_view._DECIDED_LOCK:
        ssvc_view._DECIDED.clear()


def _ids(store: Any) -> set[str]:
    from sqlalchemy import select

    from mamori.portfolio import tables as pt

    m = pt.MatchRow.__table__
    with store.engine.connect() as conn:
        return set(conn.scalars(select(m.c.vuln_id).where(m.c.verdict == "affected")))


def test_stored_outcomes_are_read_by_a_new_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_data: Path
) -> None:
    from mamori.jobs.dispatch import run_inline
    from mamori.vulndb import import_path

    store = demo_store(tmp_path)
    ids = _ids(store)
    _forget()
    fresh = ssvc_view.outcomes(store, ids, store_decided=False)  # decided, nothing kept in the store
    assert fresh and {"immediate", "out_of_cycle"} & set(fresh.values())
    _forget()
    result = run_inline(store, "rematch", {})  # a re-match run: its end stores the outcomes
    assert result["ssvc_outcomes"] == len(fresh)
    _forget()
    decided: list[set[str]] = []
    real = ssvc_view._decide

    def counting(store: Any, knowledge: Any, vuln_ids: set[str], *args: Any) -> Any:
        decided.append(set(vuln_ids))
        return real(store, knowledge, vuln_ids, *args)

    monkeypatch.setattr(ssvc_view, "_decide", counting)
    assert ssvc_view.outcomes(store, ids) == fresh
    assert decided == []  # every outcome read from the store
    # the knowledge base changes (the real KEV catalog): stored outcomes are stale, decided again
    import_path(store, shared_data / "kev" / "known_exploited_vulnerabilities.json")
    _forget()
    again = ssvc_view.outcomes(store, ids)
    assert decided and decided[0] >= set(fresh)
    _forget()
    monkeypatch.setattr(ssvc_view, "_decide", real)
    monkeypatch.setattr(ssvc_view, "_stored", lambda *args: {})  # decided afresh, nothing read
    assert again == ssvc_view.outcomes(store, ids, store_decided=False)

"""Coverage per source and scope: loose records make a scope partial; a whole feed makes it complete,
and a later loose import never takes that back."""

from __future__ import annotations

import json

from mamori.store import open_store
from mamori.vulndb import import_path
from mamori.vulndb.coverage import CPE_SCOPE, CoverageClaim


def _osv(vid: str, ecosystem: str, name: str) -> dict:
    return {
        "schema_version": "1.6.0",
        "id": vid,
        "modified": "2024-01-02T00:00:00Z",
        "affected": [
            {
                "package": {"ecosystem": ecosystem, "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0"}]}],
            }
        ],
    }


def _scopes(store) -> dict[tuple[str, str], dict]:
    return {(c["source"], c["scope"]): c for c in store.coverage()}


def test_loose_records_partial_feed_complete_and_never_downgraded(tmp_path):
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "a.json").write_text(json.dumps(_osv("GHSA-aaaa-bbbb-cccc", "npm", "left-pad")))
    (loose / "b.json").write_text(json.dumps(_osv("PYSEC-2024-1", "PyPI", "requests")))
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "c.json").write_text(json.dumps(_osv("PYSEC-2024-2", "PyPI", "urllib3")))
    with open_store(tmp_path / "kb.db") as store:
        import_path(store, loose)
        cov = _scopes(store)
        assert set(cov) == {("osv", "npm"), ("osv", "PyPI")}
        assert not any(c["complete"] for c in cov.values())
        assert cov[("osv", "PyPI")]["records"] == 1

        import_path(store, feed, complete=[CoverageClaim("osv")])
        cov = _scopes(store)
        assert cov[("osv", "PyPI")]["complete"] is True
        assert cov[("osv", "PyPI")]["complete_origin"] == str(feed.resolve())
        assert cov[("osv", "npm")]["complete"] is False
        assert cov[("osv", "PyPI")]["records"] == 2

        import_path(store, loose)  # loose records again: PyPI stays complete
        cov = _scopes(store)
        assert cov[("osv", "PyPI")]["complete"] is True
        assert cov[("osv", "PyPI")]["partial_origin"] == str(loose.resolve())
        # what an import reports: the same rows, without the records counted over the whole store
        bare = store.coverage(records=False)
        assert bare == [{k: v for k, v in c.items() if k != "records"} for c in store.coverage()]


def test_claim_names_scopes_without_records_and_cpe_scope(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with open_store(tmp_path / "kb.db") as store:
        import_path(
            store, empty, complete=[CoverageClaim("osv", ("Pub",)), CoverageClaim("nvd", (CPE_SCOPE,))]
        )
        cov = _scopes(store)
        assert cov[("osv", "Pub")]["complete"] and cov[("osv", "Pub")]["records"] == 0
        assert cov[("nvd", "cpe")]["complete"]
        assert "coverage" in store.status()

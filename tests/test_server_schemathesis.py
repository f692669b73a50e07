"""The server's HTTP API against its own OpenAPI document, with schemathesis: every operation of
``/openapi.json`` called with generated requests (a bounded number each) on a real server whose store
holds the world of tests/server_api_support.py (two products with a matched release, teams, API keys).

Checks: no answer is a server error (5xx), and the native API's answers (``/api/mamori/v1``) conform to
the schemas the document declares. Called with an administrator's API key, and once more with a
an auditor's key of one team (read-only) (so the 403/404 paths are walked too).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis import checks  # noqa: E402

from mamori import accounts  # noqa: E402
from mamori.portfolio import uploads  # noqa: E402
from mamori.store import open_store  # noqa: E402
from server_api_support import SECRET, WEB, _import_jvn, knowledge_template, upload  # noqa: E402

__all__ = ["knowledge_template"]
from server_support import live  # noqa: E402

NATIVE = "/api/mamori/v1"
EXAMPLES = 8  # per operation and key: the whole file stays well under a minute


@pytest.fixture(scope="module")
def served(knowledge_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A live server over a copy of the test knowledge base with the products, releases and keys."""
    from mamori.portfolio import add_product

    folder = tmp_path_factory.mktemp("schemathesis")
    path = folder / "kb.db"
    shutil.copy(knowledge_template, path)
    with open_store(path) as store:
        _import_jvn(store)
        for team in ("psirt", "other", "ops"):
            accounts.create_team(store, team)
        add_product(store, "web", "Example K.K.", who="test")
        add_product(store, SECRET, who="test")
        accounts.assign_product(store, "psirt", "web")
        accounts.assign_product(store, "other", SECRET)
        upload(store, folder, "web", "1.0", WEB)
        upload(store, folder, SECRET, "9", ["pkg:pypi/django@1.11.0"])
        keys = {
            "admin": accounts.create_api_key(store, "ops", "admin")[1],
            "auditor": accounts.create_api_key(store, "psirt", "auditor")[1],
        }
        with live(store) as server:
            yield {"url": server.url, "keys": keys}
        uploads.shutdown_workers(wait=True)


def _document() -> dict[str, Any]:
    """The OpenAPI document the server serves (it does not depend on the store's content)."""
    from mamori.server.app import create_app
    from mamori.server.settings import ServerSettings

    unused: Any = object()  # no request reaches this application: only its document is read
    return create_app(ServerSettings(), unused).openapi()


schema = schemathesis.openapi.from_dict(_document())

ALL_CHECKS = [
    checks.not_a_server_error,
    checks.response_schema_conformance,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.allow_header_conformance,
]


def _validate(case: Any, served: dict[str, Any], who: str) -> None:
    wanted = [checks.not_a_server_error]
    if case.path.startswith(NATIVE):
        wanted.append(checks.response_schema_conformance)
    response = case.call(base_url=served["url"], headers={"X-Api-Key": served["keys"][who]}, timeout=30)
    case.validate_response(
        response, checks=wanted, excluded_checks=[c for c in ALL_CHECKS if c not in wanted]
    )


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_admin_key(case: Any, served: dict[str, Any]) -> None:
    _validate(case, served, "admin")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES // 2,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_auditor_key(case: Any, served: dict[str, Any]) -> None:
    _validate(case, served, "auditor")

"""Serving the Dependency-Track-compatible router in the tests.

The router (``mamori.server.dtrack``) uses the server foundation's dependencies: ``current_principal`` and
``require(permission)`` of ``mamori.server.security``, ``get_store`` of ``mamori.server.app``, and
``mamori.accounts.record_audit``. Where those modules are not in this tree yet, minimal test-only versions
are put in their place (here, never in src/); the app below overrides ``current_principal`` and
``get_store`` either way, so the same tests run against the real ones.

API keys: ``KEYS`` maps an ``X-Api-Key`` value to a principal with a set of permissions and the products
(ids) they hold for (None: every product).
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request

AUDIT: list[tuple[Any, ...]] = []


@dataclass(frozen=True)
class FakePrincipal:
    name: str
    permissions: frozenset[str]
    products: frozenset[int] | None = None  # None: every product
    kind: str = "apikey"
    id: int = 0
    memberships: tuple[Any, ...] = field(default_factory=tuple)

    def can(self, permission: str, product_id: int | None = None) -> bool:
        if permission not in self.permissions:
            return False
        return product_id is None or self.products is None or product_id in self.products


def _missing(name: str) -> bool:
    if name in sys.modules:
        return False
    try:
        return importlib.util.find_spec(name) is None
    except ModuleNotFoundError:
        return True


def install_stand_ins() -> None:
    """Test-only stand-ins for the foundation's modules that this tree does not have yet."""
    if _missing("mamori.server.security"):
        security = types.ModuleType("mamori.server.security")

        def current_principal(request: Request) -> FakePrincipal:
            raise HTTPException(status_code=401, detail="overridden by the test app")

        def require(permission: str) -> Callable[..., FakePrincipal]:
            def check(principal: FakePrincipal = Depends(current_principal)) -> FakePrincipal:
                if not principal.can(permission):
                    raise HTTPException(status_code=403, detail="Forbidden")
                return principal

            return check

        def product_or_404(principal: FakePrincipal, permission: str, product_id: int) -> None:
            if not principal.can(permission, product_id):
                raise HTTPException(status_code=404, detail="Not Found")

        security.Principal = FakePrincipal  # type: ignore[attr-defined]
        security.current_principal = current_principal  # type: ignore[attr-defined]
        security.require = require  # type: ignore[attr-defined]
        security.product_or_404 = product_or_404  # type: ignore[attr-defined]
        sys.modules["mamori.server.security"] = security
    if _missing("mamori.server.app"):
        app_module = types.ModuleType("mamori.server.app")

        def get_store(request: Request) -> Any:
            return request.app.state.store

        app_module.get_store = get_store  # type: ignore[attr-defined]
        sys.modules["mamori.server.app"] = app_module
    if _missing("mamori.accounts"):
        accounts = types.ModuleType("mamori.accounts")

        def record_audit(*args: Any, **kwargs: Any) -> None:
            AUDIT.append((args, kwargs))

        accounts.record_audit = record_audit  # type: ignore[attr-defined]
        sys.modules["mamori.accounts"] = accounts


ALL = frozenset({"sbom.upload", "product.read", "product.write", "finding.read"})
KEYS: dict[str, FakePrincipal] = {
    "odt_ci": FakePrincipal("ci", ALL),
    "odt_upload_only": FakePrincipal("uploader", frozenset({"sbom.upload"})),
    "odt_no_create": FakePrincipal("nocreate", ALL - {"product.write"}),
    "odt_reader": FakePrincipal("reader", frozenset({"product.read", "finding.read"})),
}


def build_app(store: Any, keys: dict[str, FakePrincipal] | None = None) -> Any:
    """A FastAPI app with the router, its principal taken from ``X-Api-Key`` (``keys``) and ``store``."""
    install_stand_ins()
    from fastapi import HTTPException
    from mamori.server.app import get_store
    from mamori.server.security import current_principal

    from mamori.server import dtrack

    table = KEYS if keys is None else keys

    def principal(request: Request) -> FakePrincipal:
        found = table.get(request.headers.get("x-api-key", ""))
        if found is None:
            raise HTTPException(status_code=401, detail="Unauthorized")
        return found

    app = FastAPI()
    app.state.store = store
    app.include_router(dtrack.router)
    app.dependency_overrides[current_principal] = principal
    app.dependency_overrides[get_store] = lambda: store
    return app


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port; its base URL."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def wait_done(store: Any, token: str, timeout: float = 120.0) -> Any:
    """The upload's status once it is no longer processing."""
    from mamori.portfolio.uploads import upload_status

    deadline = time.monotonic() + timeout
    while True:
        status = upload_status(store, token)
        if status is not None and not status.processing:
            return status
        if time.monotonic() > deadline:
            raise TimeoutError(token)
        time.sleep(0.05)

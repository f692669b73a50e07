"""``mamori serve --demo``: the bundled demo product and demo vulnerability set on the server.

The demo store gets the demo vulnerability set (as ``mamori demo`` loads it), the product ``shop-portal``
with release 2.1.0 (the demo SBOM, matched), a team ``demo`` that owns it, and a user ``admin`` with a new
one-time password each time (returned to be shown once; the sessions of an earlier run end).
"""

from __future__ import annotations

from dataclasses import dataclass

from mamori import accounts
from mamori.accounts.core import Actor
from mamori.store import Store

DEMO_PRODUCT = "shop-portal"
DEMO_VERSION = "2.1.0"
DEMO_TEAM = "demo"
DEMO_ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class DemoServer:
    admin: str
    password: str
    product: str
    version: str


def prepare_demo(store: Store) -> DemoServer:
    """Load the demo data into ``store`` (what is there already stays) and give the demo admin a new
    one-time password."""
    from sqlalchemy import select

    from mamori.demo import DEMO_SBOM, demo_data, load_demo_vulnerabilities
    from mamori.portfolio import match_release, store_sbom
    from mamori.portfolio.archive import add_product
    from mamori.portfolio.tables import ProductRow

    actor = Actor("system", "demo")
    load_demo_vulnerabilities(store.url)
    with store.engine.connect() as conn:
        exists = conn.scalar(select(ProductRow.id).where(ProductRow.name == DEMO_PRODUCT)) is not None
    if not exists:
        add_product(store, DEMO_PRODUCT, "Demo Corp (fictional)", who="demo")
        stored = store_sbom(store, DEMO_PRODUCT, DEMO_VERSION, demo_data() / DEMO_SBOM, who="demo")
        match_release(store, stored.sbom_id, stored.previous_sbom_id)
    if accounts.get_team(store, DEMO_TEAM) is None:
        accounts.create_team(store, DEMO_TEAM, actor=actor)
    accounts.assign_product(store, DEMO_TEAM, DEMO_PRODUCT, actor=actor)
    if accounts.find_user(store, DEMO_ADMIN) is None:
        _user, password = accounts.create_user(store, DEMO_ADMIN, None, DEMO_TEAM, "admin", actor=actor)
    else:
        password = accounts.set_password(store, DEMO_ADMIN, None, actor=actor)
    assert password is not None
    return DemoServer(DEMO_ADMIN, password, DEMO_PRODUCT, DEMO_VERSION)

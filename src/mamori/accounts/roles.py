"""The roles of the team server and their permissions (``data/server/roles.yaml``).

A role's ``scope`` is ``team`` (its product permissions hold for the products of the membership's team) or
``all`` (every product, and the administration permissions).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    label: dict[str, str]
    scope: str  # team | all
    permissions: frozenset[str]


@cache
def _data() -> dict[str, Any]:
    import yaml

    text = (resources.files("mamori") / "data" / "server" / "roles.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    known = set(data["permissions"])
    for name, role in data["roles"].items():
        unknown = set(role["permissions"]) - known
        if unknown:
            raise ValueError(f"role {name}: unknown permissions {sorted(unknown)}")
        if role["scope"] not in ("team", "all"):
            raise ValueError(f"role {name}: scope must be team or all")
    return data


@cache
def roles() -> dict[str, Role]:
    """Every role by name, in the order of the data file."""
    return {
        name: Role(name, dict(r["label"]), r["scope"], frozenset(r["permissions"]))
        for name, r in _data()["roles"].items()
    }


def permissions() -> dict[str, dict[str, str]]:
    """Every permission with its description in English and Japanese."""
    return {k: dict(v) for k, v in _data()["permissions"].items()}


ROLE_NAMES: tuple[str, ...] = ("admin", "security_manager", "developer", "auditor", "customer")


def role(name: str) -> Role:
    """The role ``name``; KeyError when there is none."""
    return roles()[name]

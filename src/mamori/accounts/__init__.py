"""Accounts of the team server, as a typed Python API over the store: teams and the products they own, users
(argon2 password hashes), memberships (a role per team, optionally limited to products), API keys (shown
once, stored as SHA-256, looked up by their public prefix), server-side sessions, sign-in throttling and
lockout, OpenID Connect sign-ins under way, and the audit log.

The server (:mod:`mamori.server`) and the administration commands (``mamori team|user|apikey``) are thin
wiring over these functions. Every function takes the open :class:`~mamori.store.Store` first; every change
is written in one transaction together with its audit record.
"""

from __future__ import annotations

from mamori.accounts.core import (
    API_KEY_PREFIX,
    Actor,
    ApiKey,
    AuditEntry,
    LockoutPolicy,
    LoginResult,
    Membership,
    Session,
    Team,
    User,
    add_membership,
    assign_product,
    authenticate_api_key,
    cli_actor,
    create_api_key,
    create_session,
    create_team,
    create_user,
    delete_session,
    find_user,
    get_team,
    list_api_keys,
    list_audit,
    list_teams,
    list_users,
    load_session,
    memberships,
    now_iso,
    pop_oidc_state,
    record_audit,
    revoke_api_key,
    save_oidc_state,
    set_user_lang,
    sync_oidc_user,
    team_products,
    verify_password,
)

__all__ = [
    "API_KEY_PREFIX",
    "Actor",
    "ApiKey",
    "AuditEntry",
    "LockoutPolicy",
    "LoginResult",
    "Membership",
    "Session",
    "Team",
    "User",
    "add_membership",
    "assign_product",
    "authenticate_api_key",
    "cli_actor",
    "create_api_key",
    "create_session",
    "create_team",
    "create_user",
    "delete_session",
    "find_user",
    "get_team",
    "list_api_keys",
    "list_audit",
    "list_teams",
    "list_users",
    "load_session",
    "memberships",
    "now_iso",
    "pop_oidc_state",
    "record_audit",
    "revoke_api_key",
    "save_oidc_state",
    "set_user_lang",
    "sync_oidc_user",
    "team_products",
    "verify_password",
]

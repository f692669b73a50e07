"""Administration of the team server's accounts: ``mamori team``, ``mamori user``, ``mamori apikey``.

Every change is written to the audit log with the person at the command line (``MAMORI_USER`` or the
login name) as its actor. Secrets go to stdout once and nowhere else: ``apikey create`` prints only the
key; ``user add`` prints a generated password (or reads one from stdin with ``--password-stdin``).
"""

from __future__ import annotations

import json
import sys

import typer

from mamori.display import visible
from mamori.errors import InputError
from mamori.i18n import _

DB_OPTION = typer.Option(
    None, "--db", help="Database: SQLite path or URL; default $MAMORI_DB or the user data dir."
)
FORMAT_OPTION = typer.Option("text", "--format", help="text or json.")
PASSWORD_STDIN_OPTION = typer.Option(
    False,
    "--password-stdin",
    help="Read the password from the first line of stdin (else one is generated and printed once).",
)
ROLE_HELP = "admin, security_manager, developer, auditor or customer."

team_app = typer.Typer(help="Teams of the team server.", no_args_is_help=True)
user_app = typer.Typer(help="Users of the team server.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys of the team server (for CI and integrations).", no_args_is_help=True)


def _format(value: str) -> str:
    if value not in ("text", "json"):
        raise InputError(None, _("--format is text or json"))
    return value


def _store(db: str | None):  # type: ignore[no-untyped-def]
    from mamori.store import open_store

    return open_store(db)


# -- teams -----------------------------------------------------------------------------------------
@team_app.command("add")
def team_add(name: str = typer.Argument(..., help="The team's name."), db: str | None = DB_OPTION) -> None:
    """Add a team."""
    from mamori import accounts

    with _store(db) as store:
        team = accounts.create_team(store, name)
    typer.echo(visible(_("team {name} added").format(name=team.name)))


@team_app.command("list")
def team_list(db: str | None = DB_OPTION, output_format: str = FORMAT_OPTION) -> None:
    """List the teams."""
    from mamori import accounts

    output_format = _format(output_format)
    with _store(db) as store:
        teams = accounts.list_teams(store)
    if output_format == "json":
        typer.echo(
            json.dumps(
                [{"id": t.id, "name": t.name, "created_at": t.created_at} for t in teams],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    for team in teams:
        typer.echo(visible(f"{team.id}  {team.name}  {team.created_at}"))


@team_app.command("product")
def team_product(
    team: str = typer.Argument(..., help="The team."),
    product: str = typer.Argument(..., help="A product added with `mamori product add`."),
    db: str | None = DB_OPTION,
) -> None:
    """Give a team a product: its members see and work on it as their roles allow."""
    from mamori import accounts

    with _store(db) as store:
        accounts.assign_product(store, team, product)
    typer.echo(
        visible(_("team {team} has product {product}").format(team=team.strip(), product=product.strip()))
    )


# -- users -----------------------------------------------------------------------------------------
def _read_password() -> str:
    line = sys.stdin.readline(1024)
    password = line.rstrip("\r\n")
    if not password:
        raise InputError("<stdin>", _("no password on the first line"))
    return password


@user_app.command("add")
def user_add(
    name: str = typer.Argument(..., help="The user's name (what they sign in with)."),
    team: str = typer.Option(..., "--team", help="The user's team."),
    role: str = typer.Option(..., "--role", help=ROLE_HELP),
    product: list[str] | None = typer.Option(
        None,
        "--product",
        help="Limit the role to this product of the team (repeatable; default: all of them).",
    ),
    password_stdin: bool = PASSWORD_STDIN_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Add a local user with a role in a team."""
    from mamori import accounts

    password = _read_password() if password_stdin else None
    with _store(db) as store:
        user, generated = accounts.create_user(store, name, password, team, role, products=product or None)
    typer.echo(visible(_("user {name} added").format(name=user.name)), err=generated is not None)
    if generated is not None:
        typer.echo(_("password (shown once): {password}").format(password=generated))


@user_app.command("role")
def user_role(
    name: str = typer.Argument(..., help="The user."),
    team: str = typer.Option(..., "--team", help="The team."),
    role: str = typer.Option(..., "--role", help=ROLE_HELP),
    product: list[str] | None = typer.Option(
        None, "--product", help="Limit the role to this product of the team (repeatable)."
    ),
    db: str | None = DB_OPTION,
) -> None:
    """Give a user a role in a team (replacing the role the user had there)."""
    from mamori import accounts

    with _store(db) as store:
        accounts.add_membership(store, name, team, role, products=product or None)
    typer.echo(
        visible(
            _("user {name} is {role} in team {team}").format(name=name.strip(), role=role, team=team.strip())
        )
    )


@user_app.command("password")
def user_password(
    name: str = typer.Argument(..., help="The user."),
    password_stdin: bool = PASSWORD_STDIN_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Set a user's password (the account's lock is lifted; the user's sessions end)."""
    from mamori import accounts

    password = _read_password() if password_stdin else None
    with _store(db) as store:
        generated = accounts.set_password(store, name, password)
    if generated is not None:
        typer.echo(_("password (shown once): {password}").format(password=generated))


@user_app.command("list")
def user_list(db: str | None = DB_OPTION, output_format: str = FORMAT_OPTION) -> None:
    """List the users with their teams and roles."""
    from mamori import accounts

    output_format = _format(output_format)
    with _store(db) as store:
        users = accounts.list_users(store)
    rows = [
        {
            "id": u.id,
            "name": u.name,
            "local": u.local,
            "disabled": u.disabled,
            "memberships": [
                {
                    "team": m.team,
                    "role": m.role,
                    "products": sorted(m.products) if m.products is not None else None,
                    "origin": m.origin,
                }
                for m in ms
            ],
        }
        for u, ms in users
    ]
    if output_format == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        roles = ", ".join(f"{m['team']}:{m['role']}" for m in row["memberships"])
        typer.echo(visible(f"{row['id']}  {row['name']}  {roles}"))


# -- API keys --------------------------------------------------------------------------------------
@apikey_app.command("create")
def apikey_create(
    team: str = typer.Option(..., "--team", help="The key's team."),
    role: str = typer.Option(..., "--role", help=ROLE_HELP),
    expires: int | None = typer.Option(
        None, "--expires", min=1, help="Days until the key expires (default: never)."
    ),
    name: str | None = typer.Option(
        None, "--name", help="What the key is for (shown in lists and the audit log)."
    ),
    db: str | None = DB_OPTION,
) -> None:
    """Create an API key; prints only the key (it cannot be shown again)."""
    from mamori import accounts

    with _store(db) as store:
        _key, plaintext = accounts.create_api_key(store, team, role, expires, name)
    typer.echo(plaintext)


@apikey_app.command("revoke")
def apikey_revoke(
    key_id: int = typer.Argument(..., help="The key's id (see `mamori apikey list`)."),
    db: str | None = DB_OPTION,
) -> None:
    """Revoke an API key: from now on it is refused."""
    from mamori import accounts

    with _store(db) as store:
        key = accounts.revoke_api_key(store, key_id)
    typer.echo(_("API key {id} revoked").format(id=key.id))


@apikey_app.command("list")
def apikey_list(db: str | None = DB_OPTION, output_format: str = FORMAT_OPTION) -> None:
    """List the API keys (their public prefix, never the secret)."""
    from mamori import accounts

    output_format = _format(output_format)
    with _store(db) as store:
        keys = accounts.list_api_keys(store)
    if output_format == "json":
        typer.echo(json.dumps([k.as_dict() for k in keys], ensure_ascii=False, indent=2))
        return
    for key in keys:
        d = key.as_dict()
        state = _("active") if d["active"] else (_("revoked") if d["revoked_at"] else _("expired"))
        typer.echo(
            visible(
                f"{d['id']}  {d['prefix']}  {d['team']}  {d['role']}  {d['name'] or ''}  {state}  "
                f"expires={d['expires_at'] or '-'}  last_used={d['last_used_at'] or '-'}"
            )
        )

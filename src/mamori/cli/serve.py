"""``mamori serve``: the team server (FastAPI on uvicorn) over the store.

Loopback by default. Another address is refused unless the server speaks TLS itself (``--tls-cert`` and
``--tls-key``) or ``--behind-proxy`` says a TLS-terminating reverse proxy is in front (the usual set-up of a
Dependency-Track server); behind a proxy, ``--forwarded-allow-ips`` names the proxies whose
``X-Forwarded-For`` and ``X-Forwarded-Proto`` headers are believed (so cookies get ``Secure`` and the audit
log the client's address).
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path
from typing import Any

import typer

from mamori.errors import InputError
from mamori.i18n import _

CONFIG_LIMIT = 1024 * 1024


def check_tls_files(cert: Path, key: Path) -> None:
    """Refuse, in one line naming the file, a certificate or key that is not a regular file, is too large,
    or is not a PEM certificate chain with its private key (checked before the store is opened or the port
    bound, so that nothing starts on files uvicorn would stumble on later)."""
    import ssl

    from mamori import fileio

    for path in (cert, key):
        fileio.read_bytes(path, CONFIG_LIMIT)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(str(cert), str(key))
    except (ssl.SSLError, OSError) as exc:
        raise InputError(
            cert, _("not a PEM certificate with the private key {key}: {reason}").format(key=key, reason=exc)
        ) from None


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_oidc(path: Path) -> Any:
    """The OpenID Connect settings of a YAML or JSON file (``issuer``, ``client_id``, ``client_secret`` or
    ``client_secret_env``, ``redirect_url``, optional ``scopes``, ``groups_claim``, ``username_claim``,
    ``label``, and ``grants``: a list of ``{group, team, role}``)."""
    import os

    from mamori import fileio
    from mamori.accounts.roles import ROLE_NAMES
    from mamori.server.settings import OidcGroupGrant, OidcSettings

    data = fileio.read_yaml(path, CONFIG_LIMIT)  # a regular file, bounded: one line otherwise
    if not isinstance(data, dict):
        raise InputError(path, _("the OpenID Connect settings are not a mapping"))
    missing = [k for k in ("issuer", "client_id", "redirect_url") if not isinstance(data.get(k), str)]
    if missing:
        raise InputError(path, _("the OpenID Connect settings lack {keys}").format(keys=", ".join(missing)))
    secret = data.get("client_secret")
    if isinstance(data.get("client_secret_env"), str):
        secret = os.environ.get(data["client_secret_env"])
    grants = []
    for item in data.get("grants") or []:
        if (
            not isinstance(item, dict)
            or item.get("role") not in ROLE_NAMES
            or not item.get("group")
            or not item.get("team")
        ):
            raise InputError(
                path,
                _("each grant is {{group, team, role}} with a role of: {roles}").format(
                    roles=", ".join(ROLE_NAMES)
                ),
            )
        grants.append(OidcGroupGrant(str(item["group"]), str(item["team"]), str(item["role"])))
    optional = {
        k: str(data[k])
        for k in ("scopes", "groups_claim", "username_claim", "label")
        if isinstance(data.get(k), str)
    }
    return OidcSettings(
        issuer=data["issuer"],
        client_id=data["client_id"],
        client_secret=str(secret) if secret else None,
        redirect_url=data["redirect_url"],
        grants=tuple(grants),
        **optional,
    )


def serve(
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on (loopback unless TLS or --behind-proxy)."
    ),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port to listen on (0: any free port)."),
    db: str | None = typer.Option(
        None, "--db", help="Database: SQLite path or URL; default $MAMORI_DB or the user data dir."
    ),
    demo: bool = typer.Option(
        False, "--demo", help="Serve the bundled demo product and data; prints a one-time admin password."
    ),
    tls_cert: Path | None = typer.Option(None, "--tls-cert", help="TLS certificate (PEM) to serve https."),
    tls_key: Path | None = typer.Option(None, "--tls-key", help="TLS private key (PEM) of --tls-cert."),
    behind_proxy: bool = typer.Option(
        False,
        "--behind-proxy",
        help="A TLS-terminating reverse proxy is in front: allow a non-loopback address.",
    ),
    forwarded_allow_ips: str | None = typer.Option(
        None,
        "--forwarded-allow-ips",
        help="Proxies whose X-Forwarded-* headers are trusted (comma-separated).",
    ),
    oidc_config: Path | None = typer.Option(
        None, "--oidc-config", help="OpenID Connect settings (YAML or JSON file)."
    ),
    access_log: bool = typer.Option(
        False, "--access-log", help="Log every request line (query strings included)."
    ),
    broker: str | None = typer.Option(
        None,
        "--broker",
        help="Message broker URL (RabbitMQ, amqp://…; default $MAMORI_BROKER_URL): uploads and jobs go to mamori workers.",
    ),
    csaf_provider: Path | None = typer.Option(
        None,
        "--csaf-provider",
        envvar="MAMORI_CSAF_PROVIDER",
        help="A CSAF provider directory (mamori advisory publish) to serve under /.well-known/csaf/.",
    ),
    csaf_publisher: str | None = typer.Option(
        None,
        "--csaf-publisher",
        envvar="MAMORI_CSAF_PUBLISHER",
        help="The publisher (vendor) of the advisories drafted from PSIRT cases.",
    ),
    csaf_namespace: str | None = typer.Option(
        None, "--csaf-namespace", envvar="MAMORI_CSAF_NAMESPACE", help="The publisher's namespace URL."
    ),
    cna_org_id: str | None = typer.Option(
        None, "--cna-org-id", envvar="MAMORI_CNA_ORG_ID", help="The CNA's organisation UUID (CVE records)."
    ),
    cna_short_name: str | None = typer.Option(
        None, "--cna-short-name", envvar="MAMORI_CNA_SHORT_NAME", help="The CNA's short name (CVE records)."
    ),
) -> None:
    """Run the team server: web pages and REST API over the store (Ctrl-C stops it)."""
    if (tls_cert is None) != (tls_key is None):
        raise InputError(None, _("--tls-cert and --tls-key go together"))
    if tls_cert is not None and tls_key is not None:
        check_tls_files(tls_cert, tls_key)
    if not loopback(host) and tls_cert is None and not behind_proxy:
        raise InputError(
            None,
            _(
                "{host} is not a loopback address: serve TLS (--tls-cert, --tls-key) or say that a TLS proxy is in front (--behind-proxy)"
            ).format(host=host),
        )
    if csaf_provider is not None and (csaf_provider.is_symlink() or not csaf_provider.is_dir()):
        raise InputError(csaf_provider, _("not a folder"))
    import uvicorn

    from mamori.server.app import create_app
    from mamori.server.settings import ServerSettings
    from mamori.store import open_store

    oidc = read_oidc(oidc_config) if oidc_config is not None else None
    if demo and db is None:
        from mamori.demo import default_demo_db

        db = str(default_demo_db())
    from mamori.jobs.settings import broker_url

    settings = ServerSettings(
        db=db,
        oidc=oidc,
        broker_url=broker_url(broker),
        csaf_provider=str(csaf_provider.resolve()) if csaf_provider is not None else None,
        csaf_publisher=csaf_publisher,
        csaf_namespace=csaf_namespace,
        cna_org_id=cna_org_id,
        cna_short_name=cna_short_name,
    )
    store = open_store(db)
    prepared = None
    if demo:
        from mamori.server.demo import prepare_demo

        prepared = prepare_demo(store)
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # no Nagle delay: a response goes out as its head and then its body; with Nagle the body of a
        # small response waited for the client's delayed acknowledgement of the head (40 ms on Linux) on
        # every request of a kept-alive connection but the first. Accepted connections inherit it.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        store.close()
        raise InputError(
            None,
            _("cannot listen on {host}:{port}: {reason}").format(
                host=host, port=port, reason=exc.strerror or exc
            ),
        ) from None
    bound = sock.getsockname()[1]
    scheme = "https" if tls_cert else "http"
    shown = f"[{host}]" if ":" in host else host
    url = f"{scheme}://{shown}:{bound}/"
    typer.echo(_("mamori server: {url} (database: {db})").format(url=url, db=store.display_url))
    if prepared is not None:
        typer.echo(
            _("demo administrator: {name}, one-time password: {password}").format(
                name=prepared.admin, password=prepared.password
            )
        )
    config = uvicorn.Config(
        create_app(settings, store),
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        proxy_headers=forwarded_allow_ips is not None,
        forwarded_allow_ips=forwarded_allow_ips,
        access_log=access_log,
        server_header=False,
        log_level="info",
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        store.close()

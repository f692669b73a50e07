"""What the team server is started with. No FastAPI import: the CLI builds this before uvicorn starts."""

from __future__ import annotations

from dataclasses import dataclass, field

from mamori.accounts import LockoutPolicy


@dataclass(frozen=True, slots=True)
class OidcGroupGrant:
    """Members of the identity provider's ``group`` get ``role`` in ``team``."""

    group: str
    team: str
    role: str


@dataclass(frozen=True, slots=True)
class OidcSettings:
    """Sign-in through an OpenID Connect provider (authorization code flow with PKCE).

    ``issuer``: where ``/.well-known/openid-configuration`` is; ``redirect_url``: this server's callback
    (``https://mamori.example/auth/oidc/callback``) as registered at the provider; ``groups_claim``: the ID
    token (or userinfo) claim that lists the user's groups; ``grants``: which group gives which team and
    role. A user none of whose groups is mapped is refused."""

    issuer: str
    client_id: str
    client_secret: str | None
    redirect_url: str
    scopes: str = "openid profile email"
    groups_claim: str = "groups"
    username_claim: str = "preferred_username"
    grants: tuple[OidcGroupGrant, ...] = ()
    label: str = "OpenID Connect"


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """``db``: the store (path or URL; None: the default store). ``secure_cookies``: None sets the
        ``Secure`` attribute when the request came over https (directly or, with ``proxy_headers``, through a
        proxy), True always, False never. Times in seconds, sizes in bytes. ``evidence_dir``: where evidence
    files uploaded to self-assessments are kept (None: ``<store file>.evidence`` beside a SQLite store, else
    ``evidence`` in mamori's data folder)."""

    db: str | None = None
    session_idle_seconds: int = 30 * 60
    session_absolute_seconds: int = 12 * 60 * 60
    secure_cookies: bool | None = None
    max_body_bytes: int = 64 * 1024 * 1024
    lockout: LockoutPolicy = field(default_factory=LockoutPolicy)
    oidc: OidcSettings | None = None
    background_workers: int = 2
    evidence_dir: str | None = None  # evidence files uploaded to self-assessments (None: beside the store)
    broker_url: str | None = None  # a message broker (RabbitMQ): work goes to mamori workers
    csaf_provider: str | None = None  # a CSAF provider directory served under /.well-known/csaf/
    csaf_publisher: str | None = None  # the publisher (vendor) of advisories drafted from cases
    csaf_namespace: str | None = None  # the publisher's namespace URL
    cna_org_id: str | None = None  # the CNA's organisation UUID of CVE records drafted from cases
    cna_short_name: str | None = None  # the CNA's short name

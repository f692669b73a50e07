"""Where notifications may go: never to the operator's own networks unless the operator says so.

A notification target (a webhook, Slack or Teams URL, the SMTP server) is chosen by whoever may add a
subscription, and the server sends to it from inside the operator's network. An address that is not a
public unicast one — private (RFC 1918, unique local), loopback, link-local (cloud metadata services),
shared (100.64/10), multicast, reserved, unspecified, documentation — is refused:

- when a subscription is added: every address its host resolves to now (:func:`check_host`); a host
  that does not resolve at all is accepted (it is checked again when something is sent to it);
- when something is sent (:func:`guarded`): every name resolution of this thread during the send keeps
  only allowed addresses, so the connection is made to an address that was checked — a name that
  resolved to a public address when the subscription was added and to a private one later (DNS
  rebinding) is refused. A send refused so records ``RefusedAddress`` in the delivery log;
- on the connection itself, for the HTTP clients mamori makes (the webhook client, the CSAF subscription
  client): their network backend (:class:`GuardedBackend`, :class:`AsyncGuardedBackend`, through
  :func:`transport` and :func:`async_transport`) resolves the name once, connects only to an address it
  checked, and checks the connected peer before the client sends a byte — also for a redirect, and also
  where the event loop runs in a thread of its own (which the thread's resolution guard does not see).

The operator allows networks explicitly: ``MAMORI_NOTIFY_ALLOW_NETWORKS`` (comma-separated CIDR blocks,
``127.0.0.0/8,10.0.0.0/8``), else ``allow_networks`` of ``[notify]`` in the user's ``mamori.toml``
(a list of CIDR blocks). Nothing is allowed by default.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from mamori.errors import InputError
from mamori.i18n import _

ALLOW_ENV = "MAMORI_NOTIFY_ALLOW_NETWORKS"
RESOLVE_TIMEOUT = 5.0  # seconds for the name resolution when a subscription is added
MAX_NETWORKS = 256

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddress(OSError):
    """Every address of a host is one notifications may not go to."""


def parse_networks(values: Sequence[str]) -> tuple[Network, ...]:
    """CIDR blocks (or single addresses); an InputError naming the first that is not one."""
    out: list[Network] = []
    for value in list(values)[:MAX_NETWORKS]:
        value = str(value).strip()
        if not value:
            continue
        try:
            out.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise InputError(
                None, _("not a network (CIDR block) to allow notifications to: {value!r}").format(value=value)
            ) from None
    return tuple(out)


def allowed_networks(config: Mapping[str, Any] | None = None) -> tuple[Network, ...]:
    """The networks the operator allows notifications to (see the module's text); ``config`` is the
    ``[notify]`` table (default: the user's ``mamori.toml``)."""
    env = os.environ.get(ALLOW_ENV)
    if env is not None:
        return parse_networks(env.split(","))
    if config is None:
        from mamori.config import load, user_config_file

        path = user_config_file()
        config = (load(path).get("notify") or {}) if path.is_file() else {}
    value = config.get("allow_networks") or ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple):
        raise InputError(None, _("[notify] allow_networks must be a list of CIDR blocks"))
    return parse_networks([str(v) for v in value])


def _address(text: str) -> Address | None:
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def public(ip: Address) -> bool:
    """A global unicast address: not private, loopback, link-local, shared, multicast, reserved …"""
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def refused(address: str, allowed: Sequence[Network]) -> bool:
    """Notifications may not go to ``address`` (a text from name resolution)."""
    ip = _address(address)
    if ip is None:
        return True
    if public(ip):
        return False
    return not any(ip.version == net.version and ip in net for net in allowed)


def _resolve(host: str, port: int) -> list[str] | None:
    """The addresses of ``host`` (None when it does not resolve within :data:`RESOLVE_TIMEOUT`)."""
    found: list[list[str] | None] = [None]

    def run() -> None:
        try:
            found[0] = [str(r[4][0]) for r in _real_getaddrinfo(host, port, 0, socket.SOCK_STREAM)]
        except (OSError, UnicodeError):
            found[0] = None

    thread = threading.Thread(target=run, daemon=True, name="mamori-resolve")
    thread.start()
    thread.join(RESOLVE_TIMEOUT)
    return found[0]


def check_host(host: str, port: int, allowed: Sequence[Network] | None = None) -> None:
    """An InputError when ``host`` is, or resolves to, an address notifications may not go to (it does
    not repeat the host: a URL's parts may be secret)."""
    allowed = allowed_networks() if allowed is None else allowed
    addresses = _resolve(host, port)
    if addresses and any(refused(a, allowed) for a in addresses):
        raise InputError(
            None,
            _(
                "the target's host is a private, loopback, link-local, multicast or reserved address; "
                "the operator allows such networks with {env}"
            ).format(env=ALLOW_ENV),
        )


def check_url_host(url: str, allowed: Sequence[Network] | None = None) -> None:
    """:func:`check_host` for the host and port of an http(s) URL."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.hostname:
        check_host(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80), allowed)


# -- at delivery: the name resolutions of the sending thread keep only allowed addresses --------------
_real_getaddrinfo = socket.getaddrinfo
_state = threading.local()
_install_lock = threading.Lock()


def _guarded_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    results = _real_getaddrinfo(host, port, *args, **kwargs)
    allowed = getattr(_state, "allowed", None)
    if allowed is None:
        return results
    kept = [r for r in results if not refused(str(r[4][0]), allowed)]
    if len(kept) < len(results):
        _state.refused = True
    if not kept:
        raise RefusedAddress(
            f"every address of the host is private, loopback, link-local, multicast or reserved; "
            f"the operator allows such networks with {ALLOW_ENV}"
        )
    return kept


def _install() -> None:
    with _install_lock:
        if socket.getaddrinfo is not _guarded_getaddrinfo:
            socket.getaddrinfo = _guarded_getaddrinfo


class Guard:
    """What :func:`guarded` saw: ``refused`` when an address was dropped."""

    def __init__(self) -> None:
        self.done = False
        self.seen = False

    @property
    def refused(self) -> bool:
        return self.seen if self.done else bool(getattr(_state, "refused", False))


@contextmanager
def guarded(allowed: Sequence[Network] | None = None) -> Iterator[Guard]:
    """Within the block, this thread's name resolutions (HTTP clients, SMTP) keep only addresses
    notifications may go to; none left is an :class:`OSError` (:class:`RefusedAddress`)."""
    allowed = allowed_networks() if allowed is None else allowed
    _install()
    before = getattr(_state, "allowed", None), getattr(_state, "refused", False)
    _state.allowed, _state.refused = tuple(allowed), False
    guard = Guard()
    try:
        yield guard
    finally:
        guard.seen, guard.done = bool(getattr(_state, "refused", False)), True
        _state.allowed, _state.refused = before


def current() -> tuple[Network, ...] | None:
    """The networks this thread's name resolutions are held to (inside :func:`guarded`), else None."""
    return getattr(_state, "allowed", None)


def guard_thread(allowed: Sequence[Network] | None) -> None:
    """Hold a worker thread's name resolutions to ``allowed`` for the thread's life (a pool's
    ``initializer``, so threads that download for a guarded caller stay guarded); None: no guard."""
    if allowed is not None:
        _install()
        _state.allowed, _state.refused = tuple(allowed), False


def peer_refused(address: Any, allowed: Sequence[Network]) -> bool:
    """The peer address of a connection (``(host, port, …)``) is one notifications may not go to."""
    if not isinstance(address, tuple) or not address:
        return False
    return refused(str(address[0]), allowed)


# -- at connection: the HTTP clients' own connections are made to addresses checked then --------------
def _connect_addresses(host: str, port: int, allowed: Sequence[Network]) -> list[str]:
    """The addresses to connect to for ``host``: resolved once, here, and only those allowed (in the
    resolver's order); :class:`RefusedAddress` when none is, an :class:`OSError` when the name does not
    resolve. The connection is then made to one of these addresses, never to the name, so an answer that
    changes between a check and the connection (DNS rebinding) cannot lead it elsewhere."""
    found = [host] if _address(host) is not None else _resolve(host, port)
    if not found:
        raise OSError(f"the host does not resolve within {RESOLVE_TIMEOUT:g} seconds")
    kept = list(dict.fromkeys(a for a in found if not refused(a, allowed)))
    if not kept:
        raise RefusedAddress(
            f"every address of the host is private, loopback, link-local, multicast or reserved; "
            f"the operator allows such networks with {ALLOW_ENV}"
        )
    return kept


def _refuse_peer(stream: Any, allowed: Sequence[Network]) -> None:
    """:class:`RefusedAddress` when the connected peer (read from the socket) is not allowed; before
    anything is sent on it."""
    if peer_refused(stream.get_extra_info("server_addr"), allowed):
        raise RefusedAddress("the connected peer address is not allowed")


class GuardedBackend:
    """An httpcore network backend (blocking) whose TCP connections go only to addresses checked at
    connect time: the name is resolved once by the backend, every address is held to the allowed
    networks, the socket connects to a checked address (TLS still names the host: SNI and certificate
    check use the URL's name, as does the Host header) and its peer is checked again before the stream is
    handed to the HTTP client. ``allowed`` None: the networks of :func:`guarded` in the connecting thread
    (no guard outside it)."""

    def __init__(self, allowed: Sequence[Network] | None = None) -> None:
        import httpcore

        self._allowed = tuple(allowed) if allowed is not None else None
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> Any:
        allowed = self._allowed if self._allowed is not None else current()
        if allowed is None:
            return self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        failure: Exception | None = None
        for address in _connect_addresses(host, port, allowed):
            try:
                stream = self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except Exception as exc:  # this address does not answer: the next one
                failure = exc
                continue
            try:
                _refuse_peer(stream, allowed)
            except RefusedAddress:
                stream.close()
                raise
            return stream
        assert failure is not None
        raise failure

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> Any:
        raise RefusedAddress("a guarded client does not connect to local sockets")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class AsyncGuardedBackend:
    """:class:`GuardedBackend` for httpcore's async clients (anyio): the networks are given, since the
    event loop runs in a thread of its own."""

    def __init__(self, allowed: Sequence[Network]) -> None:
        import httpcore

        self._allowed = tuple(allowed)
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> Any:
        import anyio.to_thread

        addresses = await anyio.to_thread.run_sync(_connect_addresses, host, port, self._allowed)
        failure: Exception | None = None
        for address in addresses:
            try:
                stream = await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except Exception as exc:  # this address does not answer: the next one
                failure = exc
                continue
            try:
                _refuse_peer(stream, self._allowed)
            except RefusedAddress:
                await stream.aclose()
                raise
            return stream
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> Any:
        raise RefusedAddress("a guarded client does not connect to local sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def transport(allowed: Sequence[Network] | None = None, **options: Any) -> Any:
    """An httpx transport (blocking) whose connections go through :class:`GuardedBackend`; ``options``
    are httpx.HTTPTransport's. No proxy from the environment: a proxy would make the connection, not
    this backend."""
    import httpx

    made = httpx.HTTPTransport(trust_env=False, **options)
    _use_backend(made, GuardedBackend(allowed))
    return made


def async_transport(allowed: Sequence[Network], **options: Any) -> Any:
    """An httpx async transport whose connections go through :class:`AsyncGuardedBackend`."""
    import httpx

    made = httpx.AsyncHTTPTransport(trust_env=False, **options)
    _use_backend(made, AsyncGuardedBackend(allowed))
    return made


def _use_backend(made: Any, backend: Any) -> None:
    """Put ``backend`` under the connection pool of an httpx transport (httpx makes the pool with
    httpcore's default backend and has no parameter for another)."""
    pool = getattr(made, "_pool", None)
    if pool is None or not hasattr(pool, "_network_backend"):
        raise RuntimeError("this httpx has no connection pool to guard")  # a newer httpx: fail closed
    pool._network_backend = backend

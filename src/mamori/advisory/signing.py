"""Detached OpenPGP signatures of published CSAF documents (CSAF 2.0 sections 7.1.19 and 7.1.20).

Built on pysequoia (the Sequoia-PGP library's Python binding; docs/advisory-publish.md says why it was
chosen over PGPy and python-gnupg). Keys are read from files bounded in size; nothing here runs gpg or any
other program.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mamori.errors import InputError
from mamori.fileio import read_bytes
from mamori.i18n import _

MAX_KEY_BYTES = 1 << 20  # an armored key or key ring larger than this is refused
MAX_SIGNATURE_BYTES = 64 << 10

Verdict = Literal["valid", "invalid", "unverifiable"]


def _sequoia() -> Any:
    import pysequoia

    return pysequoia


@dataclass
class SigningKey:
    """A secret OpenPGP key that signs CSAF documents, with its public half."""

    secret: Any  # pysequoia.Tsk
    public: Any  # pysequoia.Cert

    @property
    def fingerprint(self) -> str:
        return str(self.public.fingerprint).upper()

    def public_armored(self) -> bytes:
        return str(self.public).encode("ascii")

    def sign(self, data: bytes) -> bytes:
        """An ASCII-armored detached signature of ``data``."""
        pgp = _sequoia()
        return bytes(pgp.sign(self.secret.signer(), data, mode=pgp.SignatureMode.DETACHED))


def load_signing_key(path: str | Path, password: str | None = None) -> SigningKey:
    """The secret key in ``path`` (armored or binary); one-line InputError when it is not one."""
    data = read_bytes(path, MAX_KEY_BYTES)
    pgp = _sequoia()
    try:
        tsk = pgp.Tsk.from_bytes(data)
        tsk.signer(password)  # a protected key without its password fails here, not halfway through
        public = tsk.extract_certificate()
    except Exception as exc:  # pysequoia raises plain exceptions with long backtraces
        raise InputError(
            path, _("not an unlocked OpenPGP secret key: {reason}").format(reason=_short(exc))
        ) from None
    return SigningKey(tsk, public)


def load_public_keys(path: str | Path) -> list[Any]:
    """The OpenPGP certificates in ``path`` (one or several, armored or binary)."""
    data = read_bytes(path, MAX_KEY_BYTES)
    try:
        certs = list(_sequoia().Cert.split_bytes(data))
    except Exception as exc:
        raise InputError(path, _("not an OpenPGP public key: {reason}").format(reason=_short(exc))) from None
    if not certs:
        raise InputError(path, _("not an OpenPGP public key: {reason}").format(reason=_("no key found")))
    return certs


def fingerprints(certs: list[Any]) -> set[str]:
    return {str(c.fingerprint).upper() for c in certs}


def verify(data: bytes, signature: bytes, certs: list[Any]) -> Verdict:
    """``valid`` when one of ``certs`` made ``signature`` over ``data``; ``unverifiable`` when the signature
    names a key that is not among them; ``invalid`` when it is damaged or does not match the data."""
    pgp = _sequoia()
    try:
        sig = pgp.Sig.from_bytes(signature)
    except Exception:
        return "invalid"
    asked: list[str] = []

    def store(ids: list[str]) -> list[Any]:
        asked.extend(str(i).upper() for i in ids)
        return list(certs)

    try:
        pgp.verify(bytes=data, store=store, signature=sig)
    except Exception:
        known = {k for c in certs for k in _key_ids(c)}
        if asked and not any(_matches(a, known) for a in asked):
            return "unverifiable"
        return "invalid"
    return "valid"


def _key_ids(cert: Any) -> set[str]:
    """The fingerprints of the certificate's primary key and subkeys."""
    from pysequoia.packet import PacketPile

    out = {str(cert.fingerprint).upper()}
    for packet in PacketPile.from_bytes(bytes(cert)):
        if packet.fingerprint:
            out.add(str(packet.fingerprint).upper())
    return out


def _matches(asked: str, known: set[str]) -> bool:
    return any(k.endswith(asked) or asked.endswith(k) for k in known)


def _short(exc: Exception) -> str:
    return str(exc).split("\n", 1)[0][:200]

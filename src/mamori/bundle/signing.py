"""Keys and DSSE envelopes of release bundles (securesystemslib's ``CryptoSigner``, ``SSlibKey`` and
``dsse.Envelope``).

A key is a PEM file: the supplier's private key (PKCS #8, ed25519 or ECDSA P-256) for ``bundle create``,
the public key (SubjectPublicKeyInfo) for ``bundle verify``. The key id is securesystemslib's: the SHA-256
of the key's canonical JSON, the same id the envelope's signature names.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mamori.errors import InputError
from mamori.fileio import read_bytes, write_bytes_atomic
from mamori.i18n import _

KEY_LIMIT = 64 * 1024  # a PEM key file is a few hundred bytes
KEY_TYPES = ("ed25519", "ecdsa-p256")
PAYLOAD_TYPE = "application/vnd.in-toto+json"


@dataclass(frozen=True, slots=True)
class PublicKey:
    key: Any  # securesystemslib SSlibKey
    pem: str

    @property
    def keyid(self) -> str:
        return str(self.key.keyid)


def _public_of(crypto_key: Any) -> PublicKey:
    from cryptography.hazmat.primitives import serialization
    from securesystemslib.signer import SSlibKey

    pem = crypto_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")
    return PublicKey(SSlibKey.from_crypto(crypto_key), pem)


def _check_type(key: Any, path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) and isinstance(
        key.curve, ec.SECP256R1
    ):
        return
    raise InputError(path, _("the key is neither ed25519 nor ECDSA P-256"))


def generate(kind: str) -> tuple[bytes, bytes]:
    """A new key pair of ``kind`` (ed25519 or ecdsa-p256): private PEM (PKCS #8), public PEM."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    if kind not in KEY_TYPES:
        raise InputError(
            None,
            _("--type: expected one of {allowed}, got {kind!r}").format(
                allowed=", ".join(KEY_TYPES), kind=kind
            ),
        )
    private: Any = (
        ed25519.Ed25519PrivateKey.generate() if kind == "ed25519" else ec.generate_private_key(ec.SECP256R1())
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem, _public_of(private.public_key()).pem.encode("ascii")


def write_key_pair(private_path: Path, kind: str) -> tuple[Path, Path, str]:
    """Write a new key pair: the private key (mode 0600) and ``<name>.pub``; returns both paths and the key id."""
    private, public = generate(kind)
    public_path = private_path.with_name(private_path.name + ".pub")
    for path in (private_path, public_path):
        if path.exists() or path.is_symlink():
            raise InputError(path, _("exists already: a key is never overwritten"))
    write_bytes_atomic(private_path, private)
    os.chmod(private_path, 0o600)
    write_bytes_atomic(public_path, public)
    return private_path, public_path, load_public_pem(public, public_path).keyid


def load_signer(path: str | Path) -> Any:
    """The securesystemslib signer of a private key PEM file (unencrypted PKCS #8 or the curve's own form)."""
    from cryptography.hazmat.primitives import serialization
    from securesystemslib.signer import CryptoSigner

    p = Path(path)
    data = read_bytes(p, KEY_LIMIT)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise InputError(p, _("the private key is encrypted; give an unencrypted PEM key")) from None
    except (ValueError, binascii.Error):
        raise InputError(p, _("not a PEM private key")) from None
    except Exception as exc:  # an unsupported algorithm and the like: one line, never a traceback
        raise InputError(p, _("not a PEM private key ({reason})").format(reason=type(exc).__name__)) from None
    _check_type(key, p)
    return CryptoSigner(key)


def load_public_pem(data: bytes, path: str | Path | None = None) -> PublicKey:
    from cryptography.hazmat.primitives import serialization

    where = Path(path) if path is not None else None
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, binascii.Error):
        raise InputError(where, _("not a PEM public key")) from None
    except Exception as exc:
        raise InputError(
            where, _("not a PEM public key ({reason})").format(reason=type(exc).__name__)
        ) from None
    _check_type(key, where or Path("-"))
    return _public_of(key)


def load_public(path: str | Path) -> PublicKey:
    return load_public_pem(read_bytes(path, KEY_LIMIT), path)


def sign(payload: bytes, signer: Any) -> dict[str, Any]:
    """The DSSE envelope (as JSON data) of ``payload`` signed by ``signer``."""
    from securesystemslib.dsse import Envelope

    envelope = Envelope(payload, PAYLOAD_TYPE, {})
    envelope.sign(signer)
    return envelope.to_dict()


def envelope_payload(data: Any) -> tuple[bytes, list[str]]:
    """The payload of an envelope and the key ids of its signatures; ValueError when it is no DSSE envelope."""
    if not isinstance(data, dict) or not isinstance(data.get("signatures"), list):
        raise ValueError("no signatures list")
    if data.get("payloadType") != PAYLOAD_TYPE:
        raise ValueError(f"payloadType is not {PAYLOAD_TYPE}")
    payload = data.get("payload")
    if not isinstance(payload, str):
        raise ValueError("no payload")
    try:
        raw = base64.b64decode(payload, validate=True)
    except binascii.Error:
        raise ValueError("the payload is not base64") from None
    ids = [str(s.get("keyid")) for s in data["signatures"] if isinstance(s, dict)]
    return raw, ids


def verify_envelope(data: dict[str, Any], keys: list[PublicKey]) -> str | None:
    """The id of the trusted key whose signature verifies, or None."""
    from securesystemslib.dsse import Envelope

    if not keys:
        return None
    try:
        envelope = Envelope.from_dict(data)
        accepted = envelope.verify([k.key for k in keys], 1)
    except Exception:  # a malformed signature is a failed verification, not a crash
        return None
    return next(iter(accepted))

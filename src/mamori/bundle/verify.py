"""``mamori bundle verify``: a customer checks a supplier's bundle before trusting any of it.

Reading is bounded before anything is believed: the file (at most :data:`MAX_BUNDLE_BYTES`, a regular
file), the number of members, each member's size as declared and as it inflates, all of them together.
Members must be regular files with plain relative names: an absolute name, ``..``, a backslash, a
directory, a symbolic link or a device entry makes the bundle unreadable (exit 2) before anything in it
is read.

Then the DSSE envelope must carry a signature by a trusted key (``--key`` or the supplier's pinned keys)
over an in-toto Statement of the bundle's predicate type, every subject of the statement must be a member
with exactly that SHA-256, every member (besides the envelope) must be a subject, and the manifest must
say what the statement says. Each failure names the member and the problem.
"""

from __future__ import annotations

import hashlib
import io
import stat
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import orjson

from mamori.bundle.create import ATTESTATION, MANIFEST, PREDICATE_TYPE, STATEMENT_TYPE
from mamori.bundle.signing import PublicKey, envelope_payload, verify_envelope
from mamori.errors import InputError
from mamori.fileio import ZipBudget, kind_of, read_bytes
from mamori.i18n import _

MAX_BUNDLE_BYTES = 1 << 30  # the bundle file
MAX_MEMBERS = 500
MAX_MEMBER_BYTES = 512 << 20  # one member inflated (an SBOM of a large system)
MAX_TOTAL_BYTES = 2 << 30  # all members inflated


@dataclass(slots=True)
class Failure:
    member: str
    problem: str

    def as_dict(self) -> dict[str, str]:
        return {"member": self.member, "problem": self.problem}


@dataclass(slots=True)
class VerifiedBundle:
    """What verification found; ``ok`` only when the signature and every part check out."""

    path: str
    sha256: str
    members: dict[str, bytes]
    manifest: dict[str, Any]
    statement: dict[str, Any]
    statement_sha256: str
    key_id: str | None
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.key_id is not None and not self.failures

    @property
    def product(self) -> str:
        return str(self.manifest.get("product", ""))

    @property
    def release(self) -> str:
        return str(self.manifest.get("release", ""))

    @property
    def supplier(self) -> str:
        return str(self.manifest.get("supplier", ""))

    def parts(self) -> list[dict[str, Any]]:
        return [p for p in self.manifest.get("parts", []) if isinstance(p, dict)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "sha256": self.sha256,
            "ok": self.ok,
            "product": self.product,
            "release": self.release,
            "supplier": self.supplier,
            "key_id": self.key_id,
            "parts": [{k: p.get(k) for k in ("name", "kind", "sha256", "size")} for p in self.parts()],
            "failures": [f.as_dict() for f in self.failures],
        }


def _name_problem(name: str) -> str | None:
    if not name or "\x00" in name:
        return _("an empty name or one with NUL")
    if "\\" in name:
        return _("a backslash in the name")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return _("an absolute path")
    if name.endswith("/"):
        return _("a directory, not a regular file")
    if any(part in ("..", ".", "") for part in PurePosixPath(name).parts) or "//" in name:
        return _("a path that leaves the bundle (..) or is not plain")
    return None


def _type_problem(info: zipfile.ZipInfo) -> str | None:
    mode = info.external_attr >> 16
    if info.create_system == 3 and stat.S_IFMT(mode) and not stat.S_ISREG(mode):
        return _("not a regular file ({kind})").format(kind=kind_of(mode))
    if info.external_attr & 0x10:  # MS-DOS directory attribute
        return _("a directory, not a regular file")
    return None


def read_members(path: str | Path, *, member_limit: int = MAX_MEMBER_BYTES) -> tuple[bytes, dict[str, bytes]]:
    """The bundle file's bytes and its members by name, within the bounds (InputError otherwise)."""
    p = Path(path)
    data = read_bytes(p, MAX_BUNDLE_BYTES)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise InputError(p, _("not a zip bundle: {reason}").format(reason=exc)) from None
    if len(infos) > MAX_MEMBERS:
        raise InputError(
            p, _("{count} members, more than {limit}").format(count=len(infos), limit=MAX_MEMBERS)
        )
    seen: set[str] = set()
    for info in infos:
        problem = _name_problem(info.filename) or _type_problem(info)
        if problem is None and info.filename in seen:
            problem = _("appears twice")
        if problem is not None:
            raise InputError(p, _("member {name!r}: {problem}").format(name=info.filename, problem=problem))
        seen.add(info.filename)
    budget = ZipBudget(member_limit, MAX_TOTAL_BYTES)
    members: dict[str, bytes] = {}
    with archive:
        for info in infos:
            try:
                members[info.filename] = budget.read(archive, info, info.filename)
            except InputError as exc:
                raise InputError(
                    p, _("member {name!r}: {problem}").format(name=info.filename, problem=exc.problem)
                ) from None
    return data, members


def _json(members: dict[str, bytes], name: str, p: Path) -> Any:
    if name not in members:
        raise InputError(p, _("not a mamori bundle: no {name}").format(name=name))
    try:
        return orjson.loads(members[name])
    except orjson.JSONDecodeError as exc:
        raise InputError(p, _("member {name!r}: not JSON: {reason}").format(name=name, reason=exc)) from None


def statement_of(envelope: Any) -> tuple[dict[str, Any], bytes]:
    payload, _ids = envelope_payload(envelope)
    data = orjson.loads(payload)
    if not isinstance(data, dict):
        raise ValueError("the statement is not an object")
    return data, payload


def verify_bundle(
    path: str | Path,
    keys: Sequence[PublicKey] = (),
    *,
    pinned: Any = None,
    member_limit: int = MAX_MEMBER_BYTES,
) -> VerifiedBundle:
    """Verify the bundle at ``path`` against ``keys``, else the keys ``pinned(supplier)`` returns for the
    supplier the bundle names (see the module). Unreadable input raises InputError; failed checks are in
    the result's ``failures``."""
    p = Path(path)
    data, members = read_members(p, member_limit=member_limit)
    manifest = _json(members, MANIFEST, p)
    envelope = _json(members, ATTESTATION, p)
    if not isinstance(manifest, dict):
        raise InputError(p, _("member {name!r}: not a JSON object").format(name=MANIFEST))
    out = VerifiedBundle(str(p), hashlib.sha256(data).hexdigest(), members, manifest, {}, "", None)
    try:
        statement, payload = statement_of(envelope)
    except (ValueError, orjson.JSONDecodeError) as exc:
        out.failures.append(
            Failure(
                ATTESTATION, _("not a DSSE envelope of an in-toto statement: {reason}").format(reason=exc)
            )
        )
        return out
    out.statement, out.statement_sha256 = statement, hashlib.sha256(payload).hexdigest()
    if statement.get("_type") != STATEMENT_TYPE or statement.get("predicateType") != PREDICATE_TYPE:
        out.failures.append(
            Failure(ATTESTATION, _("the statement is not an in-toto Statement v1 of a mamori bundle"))
        )
        return out
    predicate = statement.get("predicate")
    supplier = predicate.get("supplier") if isinstance(predicate, dict) else None
    trusted = list(keys)
    if not trusted and pinned is not None and isinstance(supplier, str):
        trusted = list(pinned(supplier))
    if not trusted:
        raise InputError(
            p,
            _(
                "no trusted key for supplier {supplier!r}: give --key or pin one with `mamori bundle trust`"
            ).format(supplier=supplier),
        )
    out.key_id = verify_envelope(envelope, trusted)
    if out.key_id is None:
        signed_by = ", ".join(envelope_payload(envelope)[1]) or "-"
        out.failures.append(
            Failure(
                ATTESTATION,
                _("no signature verifies with a trusted key (signed by key id {ids})").format(ids=signed_by),
            )
        )
    subjects: dict[str, str] = {}
    for subject in statement.get("subject") or []:
        if not isinstance(subject, dict) or not isinstance(subject.get("name"), str):
            out.failures.append(Failure(ATTESTATION, _("a subject of the statement has no name")))
            continue
        digest = subject.get("digest")
        subjects[subject["name"]] = str(digest.get("sha256", "")) if isinstance(digest, dict) else ""
    for name, digest in sorted(subjects.items()):
        if name not in members:
            out.failures.append(Failure(name, _("missing from the bundle")))
        elif hashlib.sha256(members[name]).hexdigest() != digest.lower():
            out.failures.append(Failure(name, _("its SHA-256 differs from the signed statement")))
    for name in sorted(members):
        if name != ATTESTATION and name not in subjects:
            out.failures.append(Failure(name, _("not covered by the signed statement")))
    if manifest != predicate:
        out.failures.append(Failure(MANIFEST, _("differs from the signed statement's predicate")))
    for entry in out.parts():
        name = entry.get("name")
        if name not in subjects or subjects.get(str(name)) != entry.get("sha256"):
            out.failures.append(Failure(str(name), _("the manifest's SHA-256 is not the signed one")))
    return out

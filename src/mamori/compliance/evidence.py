"""Evidence records: a file (SHA-256, size, modification time, when it was recorded), a URL, or a mamori
artifact (``sbom:PATH``, ``scan:PATH``, ``vex:PATH``, ``triage:PATH`` or a store reference ``store:KIND/ID``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import stat
from pathlib import Path

from mamori.compliance.assessment import Evidence
from mamori.errors import InputError
from mamori.fileio import open_regular
from mamori.i18n import gettext
from mamori.model.references import web_url

ARTIFACT_KINDS = ("sbom", "scan", "vex", "triage")
_CHUNK = 1 << 20


def now() -> str:
    """The current time in UTC, ISO 8601 to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def sha256_file(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file, read in chunks (evidence can be large)."""
    try:
        size = path.stat().st_size
        if stat.S_ISDIR(path.stat().st_mode):
            raise IsADirectoryError
        digest = hashlib.sha256()
        with open_regular(path) as fh:  # a FIFO or /dev/zero is refused, never read without end
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    except FileNotFoundError:
        raise InputError(path, gettext("evidence file not found")) from None
    except IsADirectoryError:
        raise InputError(path, gettext("evidence must be a file, not a directory")) from None
    except OSError as exc:
        raise InputError(
            path, gettext("cannot read the evidence file: {strerror}").format(strerror=exc.strerror)
        ) from None
    return digest.hexdigest(), size


def file_evidence(path: str | Path, note: str | None = None) -> Evidence:
    p = Path(path)
    digest, size = sha256_file(p)
    mtime = dt.datetime.fromtimestamp(p.stat().st_mtime, dt.UTC).replace(microsecond=0)
    return Evidence(
        kind="file",
        ref=str(p.resolve()),
        sha256=digest,
        size=size,
        file_time=mtime.isoformat().replace("+00:00", "Z"),
        recorded_at=now(),
        note=note,
    )


def is_url(text: str) -> bool:
    """An http(s) URL (surrounding blanks aside) that is safe as a link: :func:`web_url`."""
    return web_url(text.strip()) is not None


def url_evidence(url: str, note: str | None = None) -> Evidence:
    if not is_url(url):
        raise InputError(
            None, gettext("evidence URL must be an http(s) address with a host, not {url!r}").format(url=url)
        )
    return Evidence(kind="url", ref=url.strip(), recorded_at=now(), note=note)


def artifact_evidence(kind: str, ref: str, sha256: str | None = None, note: str | None = None) -> Evidence:
    if kind not in ARTIFACT_KINDS:
        raise InputError(
            None,
            gettext("artifact kind must be one of {allowed}, not {kind!r}").format(
                allowed=", ".join(ARTIFACT_KINDS), kind=kind
            ),
        )
    return Evidence(kind="artifact", ref=ref, artifact_kind=kind, sha256=sha256, recorded_at=now(), note=note)


def parse_evidence(spec: str, base: Path | None = None) -> Evidence:
    """``https://...`` → URL; ``sbom:FILE`` (scan:, vex:, triage:) → artifact; ``store:KIND/ID`` → stored
    artifact; anything else → a file (relative paths against ``base``)."""
    text = spec.strip()
    if not text:
        raise InputError(None, gettext("empty evidence"))
    if is_url(text):
        return url_evidence(text)
    head, sep, rest = text.partition(":")
    if sep and head == "store":
        kind, _, ident = rest.partition("/")
        if not ident:
            raise InputError(
                None, gettext("store evidence must look like store:sbom/42, not {text!r}").format(text=text)
            )
        return artifact_evidence(kind, text)
    if sep and head in ARTIFACT_KINDS and rest:
        path = _path(rest, base)
        digest, _ = sha256_file(path)
        return artifact_evidence(head, f"{head}:{path.resolve()}", digest)
    return file_evidence(_path(text, base))


def _path(text: str, base: Path | None) -> Path:
    p = Path(text).expanduser()
    return p if p.is_absolute() or base is None else base / p


def describe(evidence: Evidence) -> str:
    """One line a person reads: the reference and, for files, a short hash."""
    if evidence.kind == "file":
        return f"{evidence.ref} (sha256 {evidence.sha256[:12] if evidence.sha256 else '?'}…)"
    if evidence.kind == "artifact":
        digest = f" (sha256 {evidence.sha256[:12]}…)" if evidence.sha256 else ""
        return f"[{evidence.artifact_kind}] {evidence.ref}{digest}"
    return evidence.ref

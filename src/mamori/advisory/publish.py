"""Publishing CSAF 2.0 advisories as a provider directory (CSAF 2.0 section 7).

:func:`validate` checks one document: the JSON schema with its formats, then every mandatory test of
section 6.1 (:mod:`mamori.vex.csaf_checks`). :func:`publish` writes valid documents into a provider
directory laid out as section 7.1 asks::

    provider-metadata.json                      7.1.7 (valid against the OASIS provider schema)
    openpgp/<FINGERPRINT>.asc                   7.1.20 (when a signing key is given)
    <tlp>/<year>/<name>.json                    7.1.2 name from document.tracking.id, 7.1.11 year of
    <tlp>/<year>/<name>.json.sha256, .sha512    initial_release_date, 7.1.18 hashes
    <tlp>/<year>/<name>.json.asc                7.1.19 detached OpenPGP signature
    <tlp>/index.txt, <tlp>/changes.csv          7.1.12, 7.1.13 (paths relative to the folder)
    <tlp>/csaf-feed-tlp-<tlp>.json              7.1.15 one ROLIE feed per TLP label

``<tlp>`` is ``white``, ``green``, ``amber`` or ``red`` from document.distribution.tlp.label. Publishing is
incremental: the folder's index, changes and feed are rebuilt from every document in it, so an updated
advisory (same tracking id) replaces its earlier file and moves up in changes.csv and the feed. Every file
is written to a temporary name and renamed into place; the metadata last. A document that is not valid CSAF,
has no TLP label or no tracking id is rejected alone and the others are published.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mamori.errors import InputError
from mamori.fileio import check_folder, read_bytes, write_bytes_atomic
from mamori.i18n import N_, _, current_lang, translate

if TYPE_CHECKING:
    from mamori.advisory.signing import SigningKey

MAX_DOCUMENT_BYTES = 50 << 20  # a CSAF document larger than this is refused
TLP_FOLDERS = {"WHITE": "white", "GREEN": "green", "AMBER": "amber", "RED": "red"}
METADATA = "provider-metadata.json"
CSAF_SCHEMA_URL = "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json"
PROVIDER_SCHEMA = "csaf-provider-2.0.schema.json"
_NAME_RUN = re.compile(r"[^+\-a-z0-9]+")
SCHEMA_PROBLEM = N_("{problem} (CSAF 2.0 JSON schema)")  # one schema violation


@dataclass
class Validation:
    """Schema violations and mandatory-test findings (errors) and optional-test findings (warnings)."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors


def parse(raw: bytes, path: str | Path) -> Any:
    """The JSON of a CSAF file (UTF-8), or a one-line InputError."""
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(path, _("not UTF-8 text: {reason}").format(reason=exc.reason)) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            path, _("not JSON: {reason} (line {line})").format(reason=exc.msg, line=exc.lineno)
        ) from None
    except RecursionError:
        raise InputError(path, _("not JSON: nested too deeply")) from None


def validate(data: Any, *, optional: bool = False, lang: str | None = None) -> Validation:
    """Check parsed CSAF: the schema with formats, then every mandatory test (CSAF 2.0 section 6.1); a valid
    document then gets, with ``optional``, the optional tests (section 6.2) as warnings. The findings are in
    ``lang`` (default: the running command's language); the schema's own messages are jsonschema's English."""
    from mamori.vex.csaf_checks import mandatory_problems
    from mamori.vex.schemas import _csaf_validator, _problems

    chosen = lang or current_lang()
    result = Validation()
    result.errors.extend(
        translate(SCHEMA_PROBLEM, chosen).format(problem=p) for p in _problems(_csaf_validator(None), data)
    )
    result.errors.extend(p.line(chosen) for p in mandatory_problems(data))
    if optional and result.valid:  # the optional tests (section 6.2) judge a valid document
        from mamori.vex.csaf_optional import optional_problems

        result.warnings.extend(p.line(chosen) for p in optional_problems(data))
    return result


def file_name(tracking_id: str) -> str:
    """The file name CSAF 2.0 section 5.1 derives from document.tracking.id."""
    return _NAME_RUN.sub("_", tracking_id.lower()) + ".json"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


@dataclass
class Entry:
    """What the index, changes and feed say about one published document."""

    relpath: str  # relative to the TLP folder: "2024/example-2024-001.json"
    tracking_id: str
    title: str
    initial: str
    current: str
    tlp: str


def entry_of(data: Any, relpath: str) -> Entry | None:
    doc = data.get("document") if isinstance(data, dict) else None
    tracking = doc.get("tracking") if isinstance(doc, dict) else None
    if not isinstance(tracking, dict) or not isinstance(tracking.get("id"), str):
        return None
    tlp = ((doc.get("distribution") or {}).get("tlp") or {}).get("label")
    return Entry(
        relpath,
        tracking["id"],
        str(doc.get("title", "")),
        str(tracking.get("initial_release_date", "")),
        str(tracking.get("current_release_date", "")),
        str(tlp or ""),
    )


@dataclass
class PublishResult:
    provider: Path
    published: list[Path] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (file, problem)
    unreadable: list[str] = field(default_factory=list)  # the rejected files that could not be read at all
    signed: bool = False


def hash_line(data: bytes, name: str, algorithm: str) -> bytes:
    """The content of a .sha256/.sha512 file: the digest and the file name, as sha256sum writes them."""
    return f"{hashlib.new(algorithm, data).hexdigest()}  {name}\n".encode("ascii")


def publish(
    files: list[Path],
    provider: Path,
    *,
    key: SigningKey | None = None,
    base_url: str | None = None,
    now: str | None = None,
) -> PublishResult:
    """Publish ``files`` into the provider directory ``provider`` (created when absent)."""
    stamp = now or _now()
    if provider.exists():
        check_folder(provider)
    provider.mkdir(parents=True, exist_ok=True)
    result = PublishResult(provider, signed=key is not None)
    metadata = _old_metadata(provider)
    accepted: list[tuple[Path, bytes, Any]] = []
    seen: dict[str, Path] = {}
    for path in files:
        try:
            raw = read_bytes(path, MAX_DOCUMENT_BYTES)
            data = parse(raw, path)
        except InputError as exc:
            result.rejected.append((str(path), exc.problem))
            result.unreadable.append(str(path))
            continue
        problem = _refusal(data)
        if problem is None:
            name = file_name(data["document"]["tracking"]["id"])
            if name in seen:
                problem = _("same tracking id as {other}").format(other=seen[name])
            seen[name] = path
        if problem is not None:
            result.rejected.append((str(path), problem))
            continue
        accepted.append((path, raw, data))
    if not accepted and not metadata:
        return result
    publisher = metadata.get("publisher") if metadata else None
    if publisher is None and accepted:
        publisher = accepted[0][2]["document"]["publisher"]
    base = (base_url or _metadata_base(metadata) or _default_base(publisher)).rstrip("/")
    for _path, raw, data in accepted:
        result.published.append(_write_document(provider, raw, data, key))
    touched = {TLP_FOLDERS[d["document"]["distribution"]["tlp"]["label"]] for _p, _r, d in accepted}
    for folder in TLP_FOLDERS.values():
        if (provider / folder).is_dir():
            _rebuild_folder(provider, folder, base, stamp, key, sign_missing=folder in touched)
    _write_metadata(provider, metadata, publisher, base, stamp, key)
    return result


def _refusal(data: Any) -> str | None:
    """Why ``data`` cannot be published, or None."""
    checked = validate(data)
    if not checked.valid:
        more = len(checked.errors) - 1
        extra = _(" (and {count} more)").format(count=more) if more else ""
        return _("not valid CSAF: {problem}").format(problem=checked.errors[0]) + extra
    document = data["document"]
    label = ((document.get("distribution") or {}).get("tlp") or {}).get("label")
    if label not in TLP_FOLDERS:
        return _("document.distribution.tlp.label is missing: the TLP folder cannot be chosen")
    return None


def _old_metadata(provider: Path) -> dict[str, Any]:
    path = provider / METADATA
    if not path.exists():
        return {}
    data = parse(read_bytes(path, MAX_DOCUMENT_BYTES, follow=False), path)
    return data if isinstance(data, dict) else {}


def _metadata_base(metadata: dict[str, Any]) -> str | None:
    url = metadata.get("canonical_url")
    if isinstance(url, str) and url.endswith("/" + METADATA):
        return url[: -len(METADATA)]
    return None


def _default_base(publisher: Any) -> str:
    namespace = publisher.get("namespace") if isinstance(publisher, dict) else None
    return (
        f"{str(namespace).rstrip('/')}/.well-known/csaf"
        if namespace
        else "https://localhost/.well-known/csaf"
    )


def _write_document(provider: Path, raw: bytes, data: Any, key: SigningKey | None) -> Path:
    document = data["document"]
    name = file_name(document["tracking"]["id"])
    folder = TLP_FOLDERS[document["distribution"]["tlp"]["label"]]
    year = str(document["tracking"]["initial_release_date"])[:4]
    target = provider / folder / year / name
    # the same advisory under another TLP label or year before: it moves
    for old in provider.glob(f"*/*/{name}"):
        if old != target and old.parent.parent.name in TLP_FOLDERS.values():
            for suffix in ("", ".sha256", ".sha512", ".asc"):
                Path(f"{old}{suffix}").unlink(missing_ok=True)
    write_bytes_atomic(target, raw)
    write_bytes_atomic(Path(f"{target}.sha256"), hash_line(raw, name, "sha256"))
    write_bytes_atomic(Path(f"{target}.sha512"), hash_line(raw, name, "sha512"))
    if key is not None:
        write_bytes_atomic(Path(f"{target}.asc"), key.sign(raw))
    else:  # a signature of the earlier version would no longer match
        Path(f"{target}.asc").unlink(missing_ok=True)
    return target


def _entries(provider: Path, folder: str) -> list[Entry]:
    out = []
    for path in sorted((provider / folder).glob("[0-9][0-9][0-9][0-9]/*.json")):
        if not path.is_file() or path.is_symlink():
            continue
        entry = entry_of(parse(read_bytes(path, MAX_DOCUMENT_BYTES, follow=False), path), "")
        if entry is not None:
            entry.relpath = f"{path.parent.name}/{path.name}"
            out.append(entry)
    return out


def _rebuild_folder(
    provider: Path, folder: str, base: str, stamp: str, key: SigningKey | None, *, sign_missing: bool
) -> None:
    entries = _entries(provider, folder)
    if key is not None and sign_missing:
        for e in entries:
            doc = provider / folder / e.relpath
            if not Path(f"{doc}.asc").exists():
                write_bytes_atomic(Path(f"{doc}.asc"), key.sign(read_bytes(doc, MAX_DOCUMENT_BYTES)))
    index = "".join(f"{e.relpath}\n" for e in sorted(entries, key=lambda e: e.relpath))
    write_bytes_atomic(provider / folder / "index.txt", index.encode("utf-8"))
    # "path","date" per line: a path is the year folder's digits and a section 5.1 file name ([+\-a-z0-9_]
    # and .json), a date is ISO 8601, so no value holds a quote and none can be read as a spreadsheet formula
    changes = "".join(
        f'"{e.relpath}","{e.current}"\n'
        for e in sorted(entries, key=lambda e: (e.current, e.relpath), reverse=True)
    )
    write_bytes_atomic(provider / folder / "changes.csv", changes.encode("utf-8"))
    feed = _feed(folder, entries, base, stamp, provider)
    write_bytes_atomic(provider / folder / feed_name(folder), _json(feed))


def feed_name(folder: str) -> str:
    return f"csaf-feed-tlp-{folder}.json"


def _feed(folder: str, entries: list[Entry], base: str, stamp: str, provider: Path) -> dict[str, Any]:
    url = f"{base}/{folder}"
    items = []
    for e in sorted(entries, key=lambda e: (e.current, e.relpath), reverse=True):
        doc = f"{url}/{e.relpath}"
        links = [{"rel": "self", "href": doc}]
        links += [{"rel": "hash", "href": f"{doc}.sha256"}, {"rel": "hash", "href": f"{doc}.sha512"}]
        if (provider / folder / f"{e.relpath}.asc").exists():
            links.append({"rel": "signature", "href": f"{doc}.asc"})
        items.append(
            {
                "id": e.tracking_id,
                "title": e.title,
                "link": links,
                "published": e.initial,
                "updated": e.current,
                "content": {"type": "application/json", "src": doc},
                "format": {"schema": CSAF_SCHEMA_URL, "version": "2.0"},
            }
        )
    label = folder.upper()
    return {
        "feed": {
            "id": f"csaf-feed-tlp-{folder}",
            "title": f"CSAF feed (TLP:{label})",
            "link": [{"rel": "self", "href": f"{url}/{feed_name(folder)}"}],
            "category": [{"scheme": "urn:ietf:params:rolie:category:information-type", "term": "csaf"}],
            "updated": stamp,
            "entry": items,
        }
    }


def _json(data: Any) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _write_metadata(
    provider: Path,
    old: dict[str, Any],
    publisher: Any,
    base: str,
    stamp: str,
    key: SigningKey | None,
) -> None:
    keys = [k for k in old.get("public_openpgp_keys", []) if isinstance(k, dict)]
    for k in keys:  # keys published here move with the base URL
        fpr = str(k.get("fingerprint", "")).upper()
        if fpr and (provider / "openpgp" / f"{fpr}.asc").is_file():
            k["url"] = f"{base}/openpgp/{fpr}.asc"
    if key is not None:
        fpr = key.fingerprint
        write_bytes_atomic(provider / "openpgp" / f"{fpr}.asc", key.public_armored())
        if not any(str(k.get("fingerprint", "")).upper() == fpr for k in keys):
            keys.append({"fingerprint": fpr, "url": f"{base}/openpgp/{fpr}.asc"})
    folders = [f for f in TLP_FOLDERS.values() if (provider / f).is_dir()]
    feeds = [
        {
            "summary": f"TLP:{f.upper()}",
            "tlp_label": f.upper(),
            "url": f"{base}/{f}/{feed_name(f)}",
        }
        for f in folders
    ]
    distributions: list[dict[str, Any]] = [{"directory_url": f"{base}/{f}/"} for f in folders]
    if feeds:
        distributions.append({"rolie": {"feeds": feeds}})
    metadata: dict[str, Any] = {
        "canonical_url": f"{base}/{METADATA}",
        "distributions": distributions,
        "last_updated": stamp,
        "list_on_CSAF_aggregators": old.get("list_on_CSAF_aggregators", True),
        "metadata_version": "2.0",
        "mirror_on_CSAF_aggregators": old.get("mirror_on_CSAF_aggregators", True),
        "publisher": publisher,
        "role": "csaf_trusted_provider" if keys else "csaf_provider",
    }
    if keys:
        metadata["public_openpgp_keys"] = keys
    problems = metadata_problems(metadata)
    if problems:  # mamori's own output: a failure here is a bug, not bad input
        raise RuntimeError(f"provider-metadata.json would not be valid: {problems[0]}")
    write_bytes_atomic(provider / METADATA, _json(metadata))


@cache
def _provider_validator() -> Any:
    from jsonschema import Draft202012Validator
    from referencing import Resource

    from mamori.vex.schemas import _csaf_validator, csaf_format_checker

    schema = json.loads(
        resources.files("mamori").joinpath("data", "vex", PROVIDER_SCHEMA).read_text(encoding="utf-8")
    )
    csaf = _csaf_validator(None)
    registry = csaf._registry.with_resource(CSAF_SCHEMA_URL, Resource.from_contents(csaf.schema))
    return Draft202012Validator(schema, registry=registry, format_checker=csaf_format_checker())


@cache
def fast_validator(schema: str) -> Any:
    """The CSAF 2.0 schema (``"csaf"``) or the provider metadata schema (``"provider"``) on jsonschema-rs, with
    the CSAF and CVSS schemas they refer to from csaf-lib (never fetched) and the same ``uri`` and
    ``date-time`` checks as the jsonschema validators; None when either package is absent."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    from rfc3339_validator import validate_rfc3339
    from rfc3986_validator import validate_rfc3986

    from mamori.vex.csaf_checks import csaf_lib_schema_dir
    from mamori.vex.schemas import _CVSS_FILES

    folder = csaf_lib_schema_dir()
    if folder is None:
        return None
    files = {CSAF_SCHEMA_URL: "csaf_2_0.json", **_CVSS_FILES}
    if schema == "csaf":
        text = (folder / files[CSAF_SCHEMA_URL]).read_text(encoding="utf-8")
    else:
        text = resources.files("mamori").joinpath("data", "vex", PROVIDER_SCHEMA).read_text(encoding="utf-8")

    def retrieve(uri: str) -> Any:
        return json.loads((folder / files[uri]).read_text(encoding="utf-8"))

    return jsonschema_rs.Draft202012Validator(
        json.loads(text),
        formats={
            "uri": lambda v: not isinstance(v, str) or bool(validate_rfc3986(v, rule="URI")),
            "date-time": lambda v: not isinstance(v, str) or bool(validate_rfc3339(v)),
        },
        validate_formats=True,
        retriever=retrieve,
    )


def _fast_provider_validator() -> Any:
    """The provider metadata schema on jsonschema-rs (:func:`fast_validator`), or None."""
    return fast_validator("provider")


def metadata_problems(data: Any) -> list[str]:
    """Violations of the CSAF 2.0 provider metadata schema (formats checked). Metadata jsonschema-rs finds
    valid is not checked again; only what it finds invalid goes through jsonschema, whose messages are
    reported (importing jsonschema costs about a second, which each pull paid for valid metadata)."""
    fast = _fast_provider_validator()
    if fast is not None and fast.is_valid(data):
        return []
    from mamori.vex.schemas import _problems

    return _problems(_provider_validator(), data)

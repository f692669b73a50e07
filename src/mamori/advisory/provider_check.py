"""Checking a CSAF provider, as a directory or over HTTP(S), against CSAF 2.0 section 7.1.

Requirements checked where they apply (a folder without provider-metadata.json is checked from its
index.txt, changes.csv and ROLIE feeds; the metadata requirements then are not judged):

* 7.1.1 each document is valid CSAF (schema with formats and the mandatory tests of section 6.1);
* 7.1.2 its file name is the one section 5.1 derives from document.tracking.id;
* 7.1.6 (URL mode) no redirects; 7.1.3 (URL mode) TLS, except on the loopback host used for tests;
* 7.1.7 provider-metadata.json is valid against the OASIS provider schema;
* 7.1.11 each document lies in the folder of its initial_release_date's year;
* 7.1.12 index.txt lists every document, by a path relative to the folder, and nothing else;
* 7.1.13 changes.csv lists every document once with its current_release_date, newest first;
* 7.1.15 each ROLIE feed lists every document of its folder, links point into the provider, entry id and
  updated match the document;
* 7.1.18 .sha256/.sha512 files exist and match; 7.1.19 .asc signatures exist and verify (a signature by a
  key that is neither given with ``--key`` nor listed in the metadata is "not verifiable", a failure only
  when keys were given); 7.1.20 the listed public keys exist and carry the listed fingerprints.

Every read is bounded in size (and, over HTTP, in time); plain http is used only on the loopback host.
"""

from __future__ import annotations

import csv
import hashlib
import io
import ipaddress
import itertools
import json
import posixpath
import stat
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from mamori.advisory.publish import (
    MAX_DOCUMENT_BYTES,
    METADATA,
    file_name,
    metadata_problems,
    validate,
)
from mamori.advisory.signing import MAX_KEY_BYTES, MAX_SIGNATURE_BYTES, fingerprints, verify
from mamori.errors import InputError
from mamori.fileio import read_bytes
from mamori.i18n import _

Level = Literal["fail", "unverifiable"]
MAX_LIST_BYTES = 64 << 20  # index.txt, changes.csv, a ROLIE feed
MAX_SMALL_BYTES = 64 << 10  # a hash file
HTTP_TIMEOUT = 30.0


@dataclass(frozen=True)
class Finding:
    requirement: str  # "7.1.12"
    kind: str  # a stable code for counting: "index-path-not-relative" ...
    where: str  # the file (relative to the provider) or URL
    message: str
    level: Level = "fail"

    def __str__(self) -> str:
        label = _("not verifiable") if self.level == "unverifiable" else _("fails")
        return _("{where}: {label} CSAF 2.0 requirement {requirement}: {message}").format(
            where=self.where, label=label, requirement=self.requirement, message=self.message
        )


@dataclass
class CheckReport:
    target: str
    findings: list[Finding] = field(default_factory=list)
    documents: int = 0
    checked: list[str] = field(default_factory=list)  # requirements judged
    notes: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "fail"]

    @property
    def ok(self) -> bool:
        return not self.failures

    def counts(self) -> Counter[tuple[str, str]]:
        return Counter((f.requirement, f.kind) for f in self.findings)


# ------------------------------------------------------------------ where the files come from


class Source:
    """A provider's files by path relative to its root ("white/index.txt")."""

    base_url: str | None = None

    def read(self, rel: str, limit: int) -> bytes | None:  # None: absent
        raise NotImplementedError

    def where(self, rel: str) -> str:
        return rel

    def listing(self, folder: str) -> list[str] | None:
        """The documents under the year folders of ``folder`` when the source can list them."""
        return None

    def local(self, href: str, origin: str) -> str | None:
        """The path of ``href`` (found in the file ``origin``) inside the provider, or None when it points
        elsewhere."""
        parts = urlsplit(href)
        if not parts.scheme and not parts.netloc:
            joined = posixpath.normpath(posixpath.join(posixpath.dirname(origin), parts.path))
            return None if joined.startswith("..") or href.startswith("/") else joined
        if self.base_url and href.startswith(self.base_url):
            rest = posixpath.normpath(href[len(self.base_url) :])
            return None if rest.startswith("..") else rest
        return None


class DirSource(Source):
    def __init__(self, root: Path, base_url: str | None) -> None:
        self.root = root
        self.base_url = base_url

    def read(self, rel: str, limit: int) -> bytes | None:
        path = self.root / rel
        try:
            info = path.lstat()
        except OSError:
            return None
        if not stat.S_ISREG(info.st_mode):
            raise InputError(self.where(rel), _("not a regular file"))
        return read_bytes(path, limit, follow=False)

    def listing(self, folder: str) -> list[str] | None:
        base = self.root / folder
        out = []
        for path in sorted(base.glob("*/*.json")):
            if path.parent.name.isdigit() and path.is_file() and not path.is_symlink():
                out.append(posixpath.join(folder, path.parent.name, path.name))
        return out


def loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class HttpSource(Source):
    def __init__(self, base_url: str, timeout: float = HTTP_TIMEOUT) -> None:
        import httpx

        self.base_url = base_url
        self.client = httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False)
        self.redirects: list[str] = []

    def where(self, rel: str) -> str:
        return urljoin(self.base_url or "", rel)

    def read(self, rel: str, limit: int) -> bytes | None:
        import httpx

        url = self.where(rel)
        try:
            with self.client.stream("GET", url) as response:
                if response.status_code in (301, 302, 303, 307, 308):
                    self.redirects.append(url)
                    return None
                if response.status_code == 404:
                    return None
                if response.status_code != 200:
                    raise InputError(url, _("HTTP status {status}").format(status=response.status_code))
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > limit:
                        raise InputError(url, _("larger than {limit} bytes").format(limit=limit))
                return bytes(data)
        except httpx.HTTPError as exc:
            raise InputError(url, _("cannot fetch: {reason}").format(reason=str(exc)[:200])) from None

    def close(self) -> None:
        self.client.close()


# ------------------------------------------------------------------ the check


def _when(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass
class _Doc:
    rel: str
    tracking_id: str | None = None
    current: datetime | None = None
    tlp: str | None = None
    readable: bool = False


class _Checker:
    def __init__(self, source: Source, report: CheckReport, certs: list[Any], strict_keys: bool) -> None:
        self.source = source
        self.report = report
        self.certs = certs
        self.strict_keys = strict_keys
        self.docs: dict[str, _Doc] = {}
        self.listed: dict[str, list[str] | None] = {}

    def add(self, requirement: str, kind: str, rel: str, message: str, level: Level = "fail") -> None:
        self.report.findings.append(Finding(requirement, kind, self.source.where(rel), message, level))

    def read(self, rel: str, limit: int, requirement: str) -> bytes | None:
        try:
            return self.source.read(rel, limit)
        except InputError as exc:
            self.add(requirement, "unreadable", rel, exc.problem)
            return None

    def read_json(self, rel: str, requirement: str, absent: str) -> Any:
        raw = self.read(rel, MAX_LIST_BYTES, requirement)
        if raw is None:
            self.add(requirement, "absent", rel, absent)
            return None
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            self.add(requirement, "not-json", rel, _("not JSON: {reason}").format(reason=str(exc)[:200]))
            return None

    # --- paths found in index.txt, changes.csv and feeds

    def resolve(self, value: str, origin: str, folder: str, known: list[str]) -> tuple[str | None, bool]:
        """(the document's path, whether ``value`` names it as the requirement asks). A path that is not
        relative to the folder but ends with a known document's path names that document, wrongly."""
        rel = self.source.local(value, origin)
        listed = self.listed.get(folder)
        if rel is not None and rel.startswith(folder.rstrip("/") + "/") and (listed is None or rel in listed):
            return rel, True
        for doc in known:
            if value.endswith("/" + doc[len(folder) :].lstrip("/")):
                return doc, False
        return None, False

    def doc(self, rel: str, named_by: tuple[str, str, int] | None = None) -> _Doc:
        """The document at ``rel``, checked on first use; ``named_by``: (requirement, file, line) of the
        list that named it, blamed when it does not exist."""
        if rel not in self.docs:
            self.docs[rel] = _Doc(rel)
            self.check_document(self.docs[rel], named_by)
        return self.docs[rel]

    def check_document(self, doc: _Doc, named_by: tuple[str, str, int] | None) -> None:
        raw = self.read(doc.rel, MAX_DOCUMENT_BYTES, "7.1.1")
        if raw is None:
            requirement, file, line = named_by or ("7.1.1", doc.rel, 0)
            message = _("line {line}: {doc} does not exist").format(line=line, doc=doc.rel)
            self.add(
                requirement, "document-missing", file, message if line else _("the document does not exist")
            )
            return
        self.report.documents += 1
        name = posixpath.basename(doc.rel)
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            self.add("7.1.1", "not-json", doc.rel, _("not JSON: {reason}").format(reason=str(exc)[:200]))
            data = None
        if data is not None:
            checked = validate(data)
            for problem in checked.errors[:5]:
                self.add("7.1.1", "invalid-csaf", doc.rel, problem)
            document = data.get("document") if isinstance(data, dict) else None
            tracking = document.get("tracking") if isinstance(document, dict) else None
            if isinstance(tracking, dict):
                doc.readable = True
                doc.tracking_id = tracking.get("id") if isinstance(tracking.get("id"), str) else None
                doc.current = _when(tracking.get("current_release_date"))
                doc.tlp = ((document.get("distribution") or {}).get("tlp") or {}).get("label")
                if doc.tracking_id and file_name(doc.tracking_id) != name:
                    self.add(
                        "7.1.2",
                        "file-name",
                        doc.rel,
                        _("the name derived from tracking id {id} is {name}").format(
                            id=doc.tracking_id, name=file_name(doc.tracking_id)
                        ),
                    )
                year = str(tracking.get("initial_release_date", ""))[:4]
                folder_year = posixpath.basename(posixpath.dirname(doc.rel))
                if year != folder_year:
                    self.add(
                        "7.1.11",
                        "year-folder",
                        doc.rel,
                        _("initial_release_date is in {year}, the folder is {folder}").format(
                            year=year, folder=folder_year
                        ),
                    )
        self.check_hashes(doc.rel, raw, name)
        self.check_signature(doc.rel, raw)

    def check_hashes(self, rel: str, raw: bytes, name: str) -> None:
        found = 0
        for algorithm in ("sha256", "sha512"):
            text = self.read(f"{rel}.{algorithm}", MAX_SMALL_BYTES, "7.1.18")
            if text is None:
                continue
            found += 1
            fields = text.decode("utf-8", "replace").split()
            digest = hashlib.new(algorithm, raw).hexdigest()
            if not fields or fields[0].lower() != digest:
                self.add(
                    "7.1.18", "hash-mismatch", f"{rel}.{algorithm}", _("the hash does not match the document")
                )
            elif len(fields) > 1 and fields[1].lstrip("*") != name:
                self.add(
                    "7.1.18",
                    "hash-file-name",
                    f"{rel}.{algorithm}",
                    _("names {other}, not {name}").format(other=fields[1], name=name),
                )
        if not found:
            self.add("7.1.18", "hash-missing", rel, _("neither .sha256 nor .sha512 exists"))

    def check_signature(self, rel: str, raw: bytes) -> None:
        signature = self.read(f"{rel}.asc", MAX_SIGNATURE_BYTES, "7.1.19")
        if signature is None:
            self.add("7.1.19", "signature-missing", rel, _("no .asc signature"))
            return
        verdict = verify(raw, signature, self.certs)
        if verdict == "invalid":
            self.add("7.1.19", "signature-invalid", f"{rel}.asc", _("the signature does not verify"))
        elif verdict == "unverifiable":
            level: Level = "fail" if self.strict_keys else "unverifiable"
            self.add("7.1.19", "signature-unknown-key", f"{rel}.asc", _("signed by a key not known"), level)

    # --- the folder's lists

    def check_folder(self, folder: str, feeds: list[tuple[str, str | None]]) -> None:
        listed = self.listed[folder] = self.source.listing(folder)
        known: list[str] = list(listed or [])
        index_docs = self.check_index(folder, known)
        known = list(dict.fromkeys([*known, *index_docs]))
        changes_docs = self.check_changes(folder, known)
        known = list(dict.fromkeys([*known, *changes_docs]))
        feed_docs: list[str] | None = None
        for feed, tlp in feeds:
            found = self.check_feed(feed, tlp, folder, known)
            if found is not None:
                feed_docs = [*(feed_docs or []), *found]
                known = list(dict.fromkeys([*known, *found]))
        for rel in known:
            self.doc(rel)
            if index_docs is not None and rel not in index_docs:
                self.add(
                    "7.1.12", "index-missing", f"{folder}/index.txt", _("does not list {doc}").format(doc=rel)
                )
            if changes_docs is not None and rel not in changes_docs:
                self.add(
                    "7.1.13",
                    "changes-missing",
                    f"{folder}/changes.csv",
                    _("does not list {doc}").format(doc=rel),
                )
            if feed_docs is not None and rel not in feed_docs:
                self.add("7.1.15", "feed-missing", feeds[0][0], _("does not list {doc}").format(doc=rel))

    def _path_finding(self, requirement: str, file: str, line: int, value: str, rel: str | None) -> None:
        if rel is None:
            self.add(
                requirement,
                "path-unknown",
                file,
                _("line {line}: {value} names no document of the folder").format(line=line, value=value),
            )
        else:
            self.add(
                requirement,
                "path-not-relative",
                file,
                _("line {line}: {value} is not relative to the folder (it means {doc})").format(
                    line=line, value=value, doc=rel
                ),
            )

    def check_index(self, folder: str, known: list[str]) -> list[str] | None:
        origin = f"{folder}/index.txt"
        raw = self.read(origin, MAX_LIST_BYTES, "7.1.12")
        if raw is None:
            self.add("7.1.12", "index-absent", origin, _("index.txt does not exist"))
            return None
        out = []
        for n, line in enumerate(raw.decode("utf-8", "replace").splitlines(), 1):
            value = line.strip()
            if not value:
                continue
            rel, right = self.resolve(value, origin, folder, known)
            if not right:
                self._path_finding("7.1.12", origin, n, value, rel)
            if rel is not None:
                out.append(rel)
                self.doc(rel, ("7.1.12", origin, n))
        return out

    def check_changes(self, folder: str, known: list[str]) -> list[str] | None:
        origin = f"{folder}/changes.csv"
        raw = self.read(origin, MAX_LIST_BYTES, "7.1.13")
        if raw is None:
            self.add("7.1.13", "changes-absent", origin, _("changes.csv does not exist"))
            return None
        out: list[str] = []
        rows: list[tuple[int, str, datetime | None]] = []
        for n, row in enumerate(csv.reader(io.StringIO(raw.decode("utf-8", "replace"))), 1):
            if not row:
                continue
            if len(row) != 2:
                self.add("7.1.13", "changes-row", origin, _("line {line}: not two fields").format(line=n))
                continue
            value, when = row[0].strip(), _when(row[1].strip())
            if when is None:
                self.add(
                    "7.1.13",
                    "changes-date",
                    origin,
                    _("line {line}: {value} is not a date-time").format(line=n, value=row[1]),
                )
            rel, right = self.resolve(value, origin, folder, known)
            if not right:
                self._path_finding("7.1.13", origin, n, value, rel)
            if rel is None:
                continue
            if rel in out:
                self.add(
                    "7.1.13",
                    "changes-duplicate",
                    origin,
                    _("line {line}: {doc} is listed again").format(line=n, doc=rel),
                )
            out.append(rel)
            rows.append((n, rel, when))
            self.doc(rel, ("7.1.13", origin, n))
        for n, rel, when in rows:
            doc = self.doc(rel)
            if when is not None and doc.current is not None and when != doc.current:
                self.add(
                    "7.1.13",
                    "changes-date-differs",
                    origin,
                    _("line {line}: {when} is not the current_release_date of {doc}").format(
                        line=n, when=when.isoformat(), doc=rel
                    ),
                )
        dates = [w for _n, _r, w in rows if w is not None]
        if any(a < b for a, b in itertools.pairwise(dates)):
            self.add("7.1.13", "changes-order", origin, _("not sorted newest first"))
        return out

    def check_feed(self, feed: str, tlp: str | None, folder: str, known: list[str]) -> list[str] | None:
        data = self.read_json(feed, "7.1.15", _("the ROLIE feed does not exist"))
        if data is None:
            return None
        body = data.get("feed") if isinstance(data, dict) else None
        if not isinstance(body, dict) or not isinstance(body.get("entry", []), list):
            self.add("7.1.15", "feed-shape", feed, _("not a ROLIE feed (no feed object with entries)"))
            return None
        for link in body.get("link", []) if isinstance(body.get("link"), list) else []:
            if isinstance(link, dict) and link.get("rel") == "self":
                href = str(link.get("href", ""))
                if self.source.local(href, feed) != feed:
                    self.add(
                        "7.1.15",
                        "feed-foreign-link",
                        feed,
                        _("self link {href} points elsewhere").format(href=href),
                    )
        out = []
        for n, entry in enumerate(body.get("entry", []), 1):
            if not isinstance(entry, dict):
                continue
            links = (
                [x for x in entry.get("link", []) if isinstance(x, dict)]
                if isinstance(entry.get("link"), list)
                else []
            )
            hrefs = {str(x.get("rel")): str(x.get("href", "")) for x in links}
            src = (
                str((entry.get("content") or {}).get("src", ""))
                if isinstance(entry.get("content"), dict)
                else ""
            )
            target = hrefs.get("self") or src
            rel, right = self.resolve(target, feed, folder, known)
            if not right:
                if rel is None:
                    self.add(
                        "7.1.15",
                        "feed-unknown",
                        feed,
                        _("entry {n}: {href} names no document of the folder").format(n=n, href=target),
                    )
                    continue
                self.add(
                    "7.1.15",
                    "feed-foreign-link",
                    feed,
                    _("entry {n}: {href} points outside the provider").format(n=n, href=target),
                )
            out.append(rel)
            doc = self.doc(rel, ("7.1.15", feed, n))
            if doc.tracking_id is not None and entry.get("id") != doc.tracking_id:
                self.add(
                    "7.1.15",
                    "feed-id",
                    feed,
                    _("entry {n}: id {id} is not the tracking id {tid}").format(
                        n=n, id=entry.get("id"), tid=doc.tracking_id
                    ),
                )
            if doc.current is not None and _when(entry.get("updated")) != doc.current:
                self.add(
                    "7.1.15",
                    "feed-updated",
                    feed,
                    _("entry {n}: updated is not the current_release_date of {doc}").format(n=n, doc=rel),
                )
            if tlp and doc.tlp and doc.tlp != tlp:
                self.add(
                    "7.1.15",
                    "feed-tlp",
                    feed,
                    _("entry {n}: {doc} is TLP:{label}, the feed TLP:{tlp}").format(
                        n=n, doc=rel, label=doc.tlp, tlp=tlp
                    ),
                )
            for want, suffixes in (("hash", (".sha256", ".sha512")), ("signature", (".asc",))):
                got = [str(x.get("href", "")) for x in links if x.get("rel") == want]
                if not got:
                    self.add(
                        "7.1.15",
                        "feed-link-missing",
                        feed,
                        _("entry {n}: no {rel} link").format(n=n, rel=want),
                    )
                for href in got if right else []:
                    if not any(href == f"{target}{s}" for s in suffixes):
                        self.add(
                            "7.1.15",
                            "feed-link-wrong",
                            feed,
                            _("entry {n}: {rel} link {href} does not belong to the document").format(
                                n=n, rel=want, href=href
                            ),
                        )
        return out


def _feeds_in(source: Source, folder: str) -> list[tuple[str, str | None]]:
    if not isinstance(source, DirSource):
        return []
    out = []
    for path in sorted((source.root / folder).glob("*.json")):
        try:
            data = json.loads(read_bytes(path, MAX_LIST_BYTES, follow=False))
        except (InputError, ValueError, RecursionError):
            continue  # not a feed: the lists' checks report what is missing
        if isinstance(data, dict) and "feed" in data:
            out.append((posixpath.join(folder, path.name), None))
    return out


def _folders_in(root: Path) -> list[str]:
    out = []
    for index in sorted([*root.glob("index.txt"), *root.glob("*/index.txt"), *root.glob("*/*/index.txt")]):
        out.append(index.parent.relative_to(root).as_posix())
    return out


def check_provider(
    target: str, *, keys: list[Any] | None = None, base_url: str | None = None, timeout: float = HTTP_TIMEOUT
) -> CheckReport:
    """Check the provider at ``target``: a folder, or an http(s) URL of provider-metadata.json, of a
    folder holding index.txt (ending in "/") or of a ROLIE feed."""
    report = CheckReport(target)
    parts = urlsplit(target)
    source: Source
    start = ""
    if parts.scheme in ("http", "https"):
        if parts.scheme == "http" and not loopback(parts.hostname):
            raise InputError(target, _("plain http is used only on the loopback host: use https"))
        base = target.rsplit("/", 1)[0] + "/"
        source = HttpSource(base, timeout)
        start = target[len(base) :]
    elif parts.scheme:
        raise InputError(target, _("not a folder or an http(s) URL"))
    else:
        root = Path(target)
        if not root.is_dir():
            raise InputError(target, _("not a folder"))
        source = DirSource(root, base_url)
    try:
        _run(source, start, report, keys or [], keys is not None)
    finally:
        if isinstance(source, HttpSource):
            source.close()
            for url in source.redirects:
                report.findings.append(Finding("7.1.6", "redirect", url, _("answered with a redirect")))
    if parts.scheme == "http":
        report.notes.append(_("7.1.3 (TLS) not judged: plain http on the loopback host"))
    return report


def _run(source: Source, start: str, report: CheckReport, keys: list[Any], strict: bool) -> None:
    metadata_rel = METADATA if start in ("", METADATA) else None
    metadata = None
    if metadata_rel is not None:
        raw = source.read(metadata_rel, MAX_LIST_BYTES)
        if raw is not None:
            try:
                metadata = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
                report.findings.append(Finding("7.1.7", "not-json", source.where(METADATA), str(exc)[:200]))
        elif start == METADATA or isinstance(source, HttpSource):
            report.findings.append(
                Finding(
                    "7.1.7",
                    "metadata-absent",
                    source.where(METADATA),
                    _("provider-metadata.json does not exist"),
                )
            )
    certs = list(keys)
    checker = _Checker(source, report, certs, strict)
    folders: dict[str, list[tuple[str, str | None]]] = {}
    if isinstance(metadata, dict):
        _check_metadata(checker, source, metadata, folders, certs)
    elif metadata_rel is None:
        if start.endswith(".json"):
            folders[posixpath.dirname(start)] = [(start, None)]
        else:
            folders[start.rstrip("/")] = []
    if not folders and isinstance(source, DirSource):
        report.notes.append(_("no provider-metadata.json: 7.1.7 and 7.1.20 not judged"))
        for folder in _folders_in(source.root):
            folders[folder] = _feeds_in(source, folder)
    for folder, feeds in folders.items():
        checker.check_folder(folder, feeds)


def _check_metadata(
    checker: _Checker,
    source: Source,
    metadata: dict[str, Any],
    folders: dict[str, list[tuple[str, str | None]]],
    certs: list[Any],
) -> None:
    for problem in metadata_problems(metadata):
        checker.add("7.1.7", "metadata-schema", METADATA, problem)
    canonical = metadata.get("canonical_url")
    if isinstance(canonical, str) and canonical.endswith("/" + METADATA) and source.base_url is None:
        source.base_url = canonical[: -len(METADATA)]
    for dist in metadata.get("distributions", []) if isinstance(metadata.get("distributions"), list) else []:
        if not isinstance(dist, dict):
            continue
        if isinstance(dist.get("directory_url"), str):
            rel = source.local(dist["directory_url"].rstrip("/") + "/", METADATA)
            if rel is None:
                checker.add(
                    "7.1.7",
                    "foreign-link",
                    METADATA,
                    _("{href} points outside the provider").format(href=dist["directory_url"]),
                )
            else:
                folders.setdefault(rel.rstrip("/").removeprefix("."), [])
        rolie = dist.get("rolie") if isinstance(dist.get("rolie"), dict) else {}
        for feed in rolie.get("feeds", []) if isinstance(rolie.get("feeds"), list) else []:
            if not isinstance(feed, dict) or not isinstance(feed.get("url"), str):
                continue
            rel = source.local(feed["url"], METADATA)
            if rel is None:
                checker.add(
                    "7.1.15",
                    "feed-foreign-link",
                    METADATA,
                    _("{href} points outside the provider").format(href=feed["url"]),
                )
                continue
            folders.setdefault(posixpath.dirname(rel), []).append((rel, feed.get("tlp_label")))
    for key in (
        metadata.get("public_openpgp_keys", [])
        if isinstance(metadata.get("public_openpgp_keys"), list)
        else []
    ):
        if not isinstance(key, dict) or not isinstance(key.get("url"), str):
            continue
        rel = source.local(key["url"], METADATA)
        raw = checker.read(rel, MAX_KEY_BYTES, "7.1.20") if rel else None
        if raw is None:
            checker.add(
                "7.1.20",
                "key-absent",
                rel or key["url"],
                _("the public key cannot be read from the provider"),
            )
            continue
        try:
            from pysequoia import Cert

            found = list(Cert.split_bytes(raw))
        except Exception:
            checker.add("7.1.20", "key-invalid", rel, _("not an OpenPGP public key"))
            continue
        want = str(key.get("fingerprint", "")).upper()
        if want and want not in fingerprints(found):
            checker.add(
                "7.1.20", "key-fingerprint", rel, _("the key's fingerprint is not {fpr}").format(fpr=want)
            )
        certs.extend(found)


def iter_summary(report: CheckReport) -> Iterator[tuple[str, str, int]]:
    for (requirement, kind), count in sorted(report.counts().items()):
        yield requirement, kind, count

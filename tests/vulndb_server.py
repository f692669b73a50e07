"""A local stand-in for the online vulnerability services, on 127.0.0.1, for the sync tests.

It answers the way the real services do, from real records in ../shared/data:

- NVD CVE API 2.0 (``/nvd``): paging by ``startIndex``/``resultsPerPage``, filtering by
  ``lastModStartDate``/``lastModEndDate`` (and refusing ranges over 120 days, as NVD does);
- MyJVN (``/myjvn``): ``getVulnOverviewList`` (JVNRSS, paged by ``startItem``/``maxCountItem``) and
  ``getVulnDetailInfo`` (VULDEF, ids joined by ``+``), built from the published fixtures;
- the KEV catalog, an EPSS CSV.gz, OSV's ``ecosystems.txt`` and one ``<ecosystem>/all.zip`` per
  ecosystem (each record in the export of every ecosystem it affects, as OSV exports them; listed
  ecosystems without records get an empty zip), and a purl2cpe repository archive (``purls.yml`` per
  CPE vendor and product, from the rows of the shared purl2cpe TSV), all with ETag and 304 answers;
- the EPSS API and the OSV API (``querybatch`` with ``next_page_token``, ``vulns/{id}``).

``faults[path]`` lists what the next requests to a path get instead of the answer: ``403``, ``429``
or ``503`` (the last two with ``Retry-After``), ``drop`` (connection closed before any answer), ``cut`` (headers
sent, half the body, then closed) or ``ok`` (the real answer).
"""

from __future__ import annotations

import gzip
import io
import socket
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import orjson
from lxml import etree

from mamori.model.names import normalise_name
from mamori.vulndb.online.http import Clock
from mamori.vulndb.osv import load as load_osv

# The EPSS daily CSV layout (comment line, header, rows); the scores are a format sample, not FIRST's.
EPSS_SAMPLE = b"""#model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z
cve,epss,percentile
CVE-2017-5638,0.94000,0.99900
CVE-2021-0002,0.00050,0.18000
CVE-2024-23113,0.91000,0.99600
"""
LIVE_NAMESPACES = (
    b'<VULDEF-Document xmlns="http://jvn.jp/vuldef/" xmlns:sec="http://jvn.jp/rss/mod_sec/3.0/" '
    b'xmlns:marking="http://data-marking.mitre.org/Marking-1" '
    b'xmlns:tlpMarking="http://data-marking.mitre.org/extensions/MarkingStructure#TLP-1" '
    b'xmlns:status="http://jvndb.jvn.jp/myjvn/Status" '
    b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
)


def nvd_records(data: Path) -> list[dict[str, Any]]:
    """Each CVE once (the last file wins), in id order, as NVD page items."""
    by_id: dict[str, dict[str, Any]] = {}
    for path in sorted((data / "nvd").glob("*.json")):
        item = orjson.loads(path.read_bytes())
        by_id[item["cve"]["id"]] = item
    return [by_id[k] for k in sorted(by_id)]


def zip_of(records: dict[str, dict[str, Any]]) -> bytes:
    """An all.zip like OSV's: one ``<id>.json`` per record, in id order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for rid in sorted(records):
            archive.writestr(f"{rid}.json", orjson.dumps(records[rid]))
    return buffer.getvalue()


def osv_records(paths: list[Path]) -> dict[str, dict[str, Any]]:
    """OSV records of YAML or JSON files (a later file with the same id wins)."""
    records: dict[str, dict[str, Any]] = {}
    for path in paths:
        doc = (
            load_osv(str(path), path.read_bytes())
            if path.suffix == ".yaml"
            else orjson.loads(path.read_bytes())
        )
        records[doc["id"]] = doc
    return records


def osv_zip(folder: Path, limit: int | None = None) -> tuple[bytes, dict[str, dict[str, Any]]]:
    """An all.zip like OSV's from the YAML advisories of a folder."""
    records = osv_records(sorted(folder.rglob("*.yaml"))[:limit])
    return zip_of(records), records


def by_ecosystem(records: dict[str, dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Each record under every base ecosystem it affects (``Debian:12`` → ``Debian``)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for rid, doc in records.items():
        for affected in doc.get("affected") or []:
            ecosystem = ((affected.get("package") or {}).get("ecosystem") or "").partition(":")[0]
            if ecosystem:
                out.setdefault(ecosystem, {})[rid] = doc
    return out


def purl2cpe_archive(tsv: Path, rows: int | None = None, top: str = "purl2cpe-main") -> tuple[bytes, set]:
    """A zip like GitHub's archive of scanoss/purl2cpe: ``data/<vendor>/<product>/purls.yml`` (with
    ``cpes.yml`` beside it, and repository files that are not data) from the TSV's first ``rows``; the
    (purl, vendor, product) links it holds."""
    grouped: dict[tuple[str, str], list[str]] = {}
    lines = tsv.read_text(encoding="utf-8").splitlines()[1:]
    for line in lines[:rows]:
        vendor, product, purl = line.split("\t")
        grouped.setdefault((vendor, product), []).append(purl)
    buffer = io.BytesIO()
    links = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{top}/", b"")
        archive.writestr(f"{top}/README.md", b"# Introduction\n\nThe purl2cpe project is a dataset.\n")
        archive.writestr(f"{top}/.github/workflows/update.yml", b"name: update\non: [push]\njobs: {}\n")
        for (vendor, product), purls in sorted(grouped.items()):
            folder = f"{top}/data/{vendor}/{product}"
            archive.writestr(f"{folder}/cpes.yml", f"cpes:\n- cpe:2.3:a:{vendor}:{product}:*:*:*:*:*:*:*:*\n")
            archive.writestr(f"{folder}/purls.yml", "purls:\n" + "".join(f"- {p}\n" for p in purls))
            links.update((p, vendor, product) for p in purls)
    return buffer.getvalue(), links


def _parse_nvd_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class Services:
    data: Path
    osv_folder: Path  # PyPI advisories (YAML): the PyPI export and what the OSV API answers from
    osv_limit: int | None = None
    osv_page: int = 1  # vulns per querybatch result page (next_page_token beyond)
    epss_api_page: int = 2
    osv_more: tuple[Path, ...] = ()  # further OSV record files, exported under their ecosystems
    empty_ecosystems: tuple[str, ...] = ()  # listed in ecosystems.txt, with an all.zip of no record
    purl2cpe_rows: int | None = 1000  # rows of the shared TSV in the purl2cpe archive (None: all)
    faults: dict[str, list[str]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, list[str]], dict[str, str]]] = field(default_factory=list)
    nvd: list[dict[str, Any]] = field(init=False)
    kev: bytes = field(init=False)
    epss_gz: bytes = field(init=False)
    zip_bytes: bytes = field(init=False)
    osv: dict[str, dict[str, Any]] = field(init=False)
    exports: dict[str, bytes] = field(init=False)  # ecosystem → all.zip
    exported: dict[str, dict[str, dict[str, Any]]] = field(init=False)  # ecosystem → its records
    ecosystems_txt: bytes = field(init=False)
    purl2cpe_zip: bytes = field(init=False)
    purl2cpe_links: set[tuple[str, str, str]] = field(init=False)

    def __post_init__(self) -> None:
        self.nvd = nvd_records(self.data)
        self.kev = (self.data / "kev" / "known_exploited_vulnerabilities.json").read_bytes()
        self.epss_gz = gzip.compress(EPSS_SAMPLE, mtime=0)
        self.zip_bytes, self.osv = osv_zip(self.osv_folder, self.osv_limit)
        self.exported = by_ecosystem({**self.osv, **osv_records(list(self.osv_more))})
        for name in self.empty_ecosystems:
            self.exported.setdefault(name, {})
        self.exports = {name: zip_of(records) for name, records in self.exported.items()}
        self.ecosystems_txt = "".join(f"{name}\n" for name in sorted(self.exports)).encode()
        tsv = self.data / "purl2cpe" / "purl2cpe.tsv"
        self.purl2cpe_zip, self.purl2cpe_links = purl2cpe_archive(tsv, self.purl2cpe_rows)
        jvn = self.data / "jvn"
        self.overview_fixture = (jvn / "get_vuln_overview_list.xml").read_bytes()
        self.detail_fixture = (jvn / "get_vuln_detail_info.xml").read_bytes()

    def requests_to(self, path: str) -> list[dict[str, list[str]]]:
        return [query for _, p, query, _ in self.requests if p == path]

    # -- NVD ----------------------------------------------------------------------------------
    def nvd_page(self, query: dict[str, list[str]]) -> tuple[int, bytes]:
        items = self.nvd
        if "lastModStartDate" in query or "lastModEndDate" in query:
            start = _parse_nvd_time(query["lastModStartDate"][0])
            end = _parse_nvd_time(query["lastModEndDate"][0])
            if end - start > timedelta(days=120):
                return 404, b""
            items = [
                i
                for i in items
                if start <= datetime.fromisoformat(i["cve"]["lastModified"]).replace(tzinfo=UTC) <= end
            ]
        first = int(query.get("startIndex", ["0"])[0])
        size = min(2000, int(query.get("resultsPerPage", ["2000"])[0]))
        page = items[first : first + size]
        body = {
            "resultsPerPage": len(page),
            "startIndex": first,
            "totalResults": len(items),
            "format": "NVD_CVE",
            "version": "2.0",
            "timestamp": "2026-11-22T00:00:00.000",
            "vulnerabilities": page,
        }
        return 200, orjson.dumps(body)

    # -- MyJVN --------------------------------------------------------------------------------
    def jvn_ids(self) -> list[str]:
        return ["JVNDB-2020-006469", "JVNDB-2020-000049"]

    def overview(self, query: dict[str, list[str]]) -> bytes:
        """The published overview answer, its item repeated for each id of the requested page."""
        root = etree.fromstring(self.overview_fixture, etree.XMLParser(recover=True, resolve_entities=False))
        template = next(c for c in root if c.tag == "item")
        root.remove(template)
        status = root[-1]
        first = int(query.get("startItem", ["1"])[0])
        count = int(query.get("maxCountItem", ["50"])[0])
        ids = self.jvn_ids()
        for jvn_id in ids[first - 1 : first - 1 + count]:
            item = etree.fromstring(etree.tostring(template), etree.XMLParser(recover=True))
            for el in item:
                if el.tag.endswith("identifier"):
                    el.text = jvn_id
            status.addprevious(item)
        status.set("totalRes", str(len(ids)))
        status.set("firstRes", str(first))
        status.set("totalResRet", str(len(ids[first - 1 : first - 1 + count])))
        return etree.tostring(root, encoding="utf-8")

    def details(self, ids: list[str]) -> bytes:
        """VULDEF for the requested ids this server knows (the published one), with the xmlns
        declarations live answers carry."""
        doc = self.detail_fixture
        if "JVNDB-2020-006469" not in ids:
            doc = doc.replace(doc[doc.index(b"<Vulinfo>") : doc.index(b"</Vulinfo>") + 10], b"")
        return doc.replace(b"<VULDEF-Document ", LIVE_NAMESPACES, 1)

    # -- OSV API ------------------------------------------------------------------------------
    def osv_ids_for(self, purl: str) -> list[str]:
        from packageurl import PackageURL

        parsed = PackageURL.from_string(purl)
        wanted = normalise_name("PyPI", parsed.name)
        out = []
        for rid, doc in self.osv.items():
            for affected in doc.get("affected") or []:
                package = affected.get("package") or {}
                if normalise_name("PyPI", package.get("name", "")) == wanted and (
                    parsed.version is None or parsed.version in (affected.get("versions") or [])
                ):
                    out.append(rid)
                    break
        return out

    def querybatch(self, body: dict[str, Any]) -> bytes:
        results = []
        for query in body["queries"]:
            ids = self.osv_ids_for(query["package"]["purl"])
            first = int(query.get("page_token") or 0)
            page = ids[first : first + self.osv_page]
            result: dict[str, Any] = {
                "vulns": [{"id": i, "modified": self.osv[i].get("modified")} for i in page]
            }
            if first + self.osv_page < len(ids):
                result["next_page_token"] = str(first + self.osv_page)
            results.append(result if page else {})
        return orjson.dumps({"results": results})

    # -- EPSS API -----------------------------------------------------------------------------
    def epss_api(self, query: dict[str, list[str]]) -> bytes:
        rows = {
            line.split(",")[0]: line.split(",")
            for line in EPSS_SAMPLE.decode().splitlines()
            if line.startswith("CVE-")
        }
        wanted = [c for c in query.get("cve", [""])[0].split(",") if c in rows]
        offset = int(query.get("offset", ["0"])[0])
        limit = min(self.epss_api_page, int(query.get("limit", ["100"])[0]))
        page = wanted[offset : offset + limit]
        data = [{"cve": c, "epss": rows[c][1], "percentile": rows[c][2], "date": "2025-08-25"} for c in page]
        body = {"status": "OK", "status-code": 200, "version": "1.0", "access": "public"}
        body.update({"total": len(wanted), "offset": offset, "limit": limit, "data": data})
        return orjson.dumps(body)


def _handler(services: Services) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms stalls

        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _fault(self, path: str, body: bytes) -> bool:
            queue = services.faults.get(path) or []
            if not queue:
                return False
            fault = queue.pop(0)
            if fault == "ok":
                return False
            if fault == "403":  # how NVD answers a client over its rate limit
                self._send(403, b"forbidden")
            elif fault in ("429", "503"):
                retry = "2" if fault == "429" else "1"
                self._send(int(fault), b"slow down", {"Retry-After": retry})
            elif fault == "drop":
                self.close_connection = True
                self.connection.close()
            elif fault == "cut":
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.close()
            return True

        def _conditional(self, body: bytes, etag: str, content_type: str) -> None:
            if self.headers.get("If-None-Match") == etag:
                self._send(304, b"", {"ETag": etag})
            else:
                self._send(200, body, {"ETag": etag, "Content-Type": content_type})

        def _route(self, method: str) -> None:
            split = urlsplit(self.path)
            path, query = split.path, parse_qs(split.query, keep_blank_values=True)
            length = int(self.headers.get("Content-Length") or 0)
            payload = self.rfile.read(length) if length else b""
            services.requests.append((method, path, query, dict(self.headers)))
            body, status, headers = self._answer(method, path, split.query, query, payload)
            if self._fault(path, body):
                return
            if status == 200 and "ETag" in headers:
                self._conditional(body, headers["ETag"], headers["Content-Type"])
            else:
                self._send(status, body, headers)

        def _answer(
            self, method: str, path: str, raw_query: str, query: dict[str, list[str]], payload: bytes
        ) -> tuple[bytes, int, dict[str, str]]:
            if path == "/nvd":
                status, body = services.nvd_page(query)
                return body, status, {"Content-Type": "application/json"}
            if path == "/myjvn":
                xml = {"Content-Type": "application/xml"}
                if query.get("method") == ["getVulnOverviewList"]:
                    return services.overview(query), 200, xml
                raw = next(p for p in raw_query.split("&") if p.startswith("vulnId="))
                ids = unquote(raw.removeprefix("vulnId=")).replace(" ", "+").split("+")
                return services.details(ids), 200, xml
            if path == "/kev.json":
                return services.kev, 200, {"ETag": '"kev-1"', "Content-Type": "application/json"}
            if path == "/epss_scores-current.csv.gz":
                return services.epss_gz, 200, {"ETag": '"epss-1"', "Content-Type": "application/gzip"}
            if path == "/osv/ecosystems.txt":
                return services.ecosystems_txt, 200, {"Content-Type": "text/plain"}
            if path.startswith("/osv/") and path.endswith("/all.zip"):
                ecosystem = unquote(path.removeprefix("/osv/").removesuffix("/all.zip"))
                if ecosystem not in services.exports:
                    return b"<Error><Code>NoSuchKey</Code></Error>", 404, {}
                etag = f'"zip-{quote(ecosystem)}-1"'
                return services.exports[ecosystem], 200, {"ETag": etag, "Content-Type": "application/zip"}
            if path == "/purl2cpe.zip":
                return services.purl2cpe_zip, 200, {"ETag": '"p2c-1"', "Content-Type": "application/zip"}
            if path == "/osv-api/querybatch" and method == "POST":
                return services.querybatch(orjson.loads(payload)), 200, {"Content-Type": "application/json"}
            if path.startswith("/osv-api/vulns/"):
                rid = unquote(path.rsplit("/", 1)[1])
                if rid not in services.osv:
                    return b'{"code":5,"message":"Bug not found."}', 404, {}
                return orjson.dumps(services.osv[rid]), 200, {"Content-Type": "application/json"}
            if path == "/epss-api":
                return services.epss_api(query), 200, {"Content-Type": "application/json"}
            return b"not found", 404, {}

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

    return Handler


class Server:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(services))
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str) -> str:
        return self.base + path


def running(services: Services) -> Iterator[Server]:
    with Server(services) as server:
        yield server


class FakeClock:
    """Monotonic time that only advances when something sleeps: retry and rate-limit logic without waiting."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds

    def clock(self) -> Clock:
        return Clock(self.now, self.sleep)

"""``mamori csaf pull`` of CISA's whole CSAF tree over loopback, against a plain mirror of the same tree.

Builds a conformant copy of ../shared/data/csaf/cisa (documents, .sha512 and .asc linked, not copied;
index.txt and changes.csv with folder-relative paths; ROLIE links on the loopback host; a
provider-metadata.json naming the folders and feeds) in a temporary folder, serves it with Python's
ThreadingHTTPServer on 127.0.0.1 (in this process; every client below is a separate process), and measures
as whole fresh processes, ``--runs`` times each (median, min, max):

- ``full``: ``mamori csaf pull`` into a fresh SQLite store just subscribed (``mamori csaf subscribe``, not
  timed): every advisory downloaded with its hash file and signature, hash checked, signature checked ("not
  verifiable": CISA's key is not in the data), validated (schema and mandatory tests) and imported;
- ``incremental``: the next ``mamori csaf pull`` after one advisory changed (its bytes, .sha512,
  changes.csv line and feed entry): goal: exactly one advisory downloaded;
- peers on the same server: ``mirror_httpx`` (a Python process with one httpx client that reads every
  index.txt and downloads each listed document and its .sha512, checking the hash: transfer cost only)
  and ``wget_mirror`` (``wget --mirror`` of the same files listed in index.txt, when wget is installed).

Warm-up: one full pull and one mirror run before the measured runs (page cache, byte-code files). Goals:
full <= 60 s, incremental <= 2 s.

    python bench/csaf_pull.py [--runs 3]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import hashlib
import http.server
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from process_timing import machine, summary

REPO = Path(__file__).resolve().parents[1]
CISA = REPO.parent / "shared" / "data" / "csaf" / "cisa"
GITHUB = "https://raw.githubusercontent.com/cisagov/CSAF/develop/csaf_files/"
MAMORI = str(Path(sys.executable).with_name("mamori"))
GOALS = {"full": 60.0, "incremental": 2.0}

PEER = r"""
import hashlib, sys, httpx
base = sys.argv[1]
files = 0
with httpx.Client(timeout=60) as client:
    for folder in sys.argv[2:]:
        index = client.get(f"{base}/{folder}/index.txt").text.split()
        for rel in index:
            doc = client.get(f"{base}/{folder}/{rel}").content
            digest = client.get(f"{base}/{folder}/{rel}.sha512").text.split()[0]
            assert hashlib.sha512(doc).hexdigest() == digest, rel
            files += 1
print(files)
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serving(folder: Path) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def build(target: Path, base: str) -> list[str]:
    """The conformant copy of CISA's tree under ``target``; returns its folders (``OT/white`` …)."""
    folders = []
    feeds = []
    for index in sorted(CISA.glob("*/*/index.txt")):
        source = index.parent
        rel = source.relative_to(CISA).as_posix()
        folder = target / rel
        folder.mkdir(parents=True)
        prefix = f"csaf_files/{rel}/"
        rows = list(csv.reader((source / "changes.csv").read_text(encoding="utf-8").splitlines()))
        for path, _when in rows:
            doc = path.removeprefix(prefix)
            (folder / doc).parent.mkdir(parents=True, exist_ok=True)
            for suffix in ("", ".sha512", ".asc"):
                if (source / f"{doc}{suffix}").exists():
                    (folder / f"{doc}{suffix}").symlink_to(source / f"{doc}{suffix}")
        (folder / "index.txt").write_text(
            index.read_text(encoding="utf-8").replace(prefix, ""), encoding="utf-8"
        )
        (folder / "changes.csv").write_text(
            (source / "changes.csv").read_text(encoding="utf-8").replace(prefix, ""), encoding="utf-8"
        )
        for feed in source.glob("*feed*.json"):
            text = feed.read_text(encoding="utf-8").replace(GITHUB, f"{base}/").replace('"ref": ', '"rel": ')
            (folder / feed.name).write_text(text, encoding="utf-8")
            feeds.append({"tlp_label": "WHITE", "url": f"{base}/{rel}/{feed.name}"})
        folders.append(rel)
    metadata = {
        "canonical_url": f"{base}/provider-metadata.json",
        "distributions": [{"directory_url": f"{base}/{f}/"} for f in folders] + [{"rolie": {"feeds": feeds}}],
        "last_updated": "2024-10-24T19:23:12.425Z",
        "list_on_CSAF_aggregators": True,
        "metadata_version": "2.0",
        "mirror_on_CSAF_aggregators": True,
        "publisher": {"category": "coordinator", "name": "CISA", "namespace": "https://www.cisa.gov/"},
        "role": "csaf_trusted_provider",
    }
    (target / "provider-metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    return folders


def change_one(target: Path, folder: str, stamp: str) -> str:
    """A new revision of the newest advisory of ``folder``: new bytes, .sha512, changes.csv line, feed entry."""
    root = target / folder
    changes = root / "changes.csv"
    rows = list(csv.reader(changes.read_text(encoding="utf-8").splitlines()))
    rel = rows[0][0]
    doc = root / rel
    data = json.loads(doc.read_bytes())
    tracking = data["document"]["tracking"]
    number = str(int(str(tracking["version"]).split(".")[0]) + 1)
    tracking["version"] = number
    tracking["current_release_date"] = stamp
    tracking["revision_history"].append({"date": stamp, "number": number, "summary": "bench change"})
    raw = json.dumps(data, indent=2).encode("utf-8")
    doc.unlink()
    doc.write_bytes(raw)
    sha = root / f"{rel}.sha512"
    sha.unlink()
    sha.write_text(f"{hashlib.sha512(raw).hexdigest()}  {doc.name}\n", encoding="utf-8")
    (root / f"{rel}.asc").unlink(missing_ok=True)  # the old signature no longer matches
    rows[0][1] = stamp
    changes.write_text("".join(f"{p},{w}\n" for p, w in [rows[0], *rows[1:]]), encoding="utf-8")
    for feed in root.glob("*feed*.json"):
        body = json.loads(feed.read_text(encoding="utf-8"))
        for entry in body["feed"]["entry"]:
            if entry["content"]["src"].endswith("/" + rel):
                entry["updated"] = stamp
                entry["link"] = [x for x in entry["link"] if x.get("rel") != "signature"]
        feed.write_text(json.dumps(body), encoding="utf-8")
    return rel


CPU: dict[str, list[float]] = {}  # what → CPU seconds (user + system) of each measured process


def timed(
    cmd: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,), what: str | None = None
) -> tuple[float, str]:
    """Wall seconds and stdout of one fresh process; its CPU seconds go to :data:`CPU` under ``what``."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd[:3])} failed ({proc.returncode}): {err[-2000:]}")
    if what is not None:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        total = usage.ru_utime + usage.ru_stime
        CPU.setdefault(what, []).append(total - CPU.get("_seen", [0.0])[-1])
        CPU["_seen"] = [total]
    return seconds, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not CISA.is_dir():
        raise SystemExit(f"{CISA} is absent")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        served = root / "served"
        served.mkdir()
        env = {**os.environ, "MAMORI_LANG": "en", "XDG_CACHE_HOME": str(root / "cache")}
        with serving(served) as base:
            folders = build(served, base)
            documents = sum(len((served / f / "index.txt").read_text().split()) for f in folders)
            full: list[float] = []
            incremental: list[float] = []
            httpx_peer: list[float] = []
            wget_peer: list[float] = []
            details: dict[str, Any] = {}
            for n in range(args.runs + 1):  # run 0 is the warm-up
                db = str(root / f"kb{n}.sqlite")
                timed(
                    [MAMORI, "csaf", "subscribe", f"{base}/provider-metadata.json", "--db", db], env, what="_"
                )
                seconds, out = timed(
                    [MAMORI, "csaf", "pull", "--db", db, "--format", "json"], env, what="full"
                )
                (report,) = json.loads(out)
                assert report["new"] == documents and not report["rejected"], report["rejected"][:3]
                stamp = f"2026-12-0{n + 1}T00:00:00.000Z"
                biggest = max(folders, key=lambda f: len((served / f / "index.txt").read_text()))
                change_one(served, biggest, stamp)
                seconds_inc, out = timed(
                    [MAMORI, "csaf", "pull", "--db", db, "--format", "json"], env, what="incremental"
                )
                (again,) = json.loads(out)
                assert (again["fetched"], again["updated"]) == (1, 1), again
                peer_s, _ = timed([sys.executable, "-c", PEER, base, *folders], env, what="peer_mirror_httpx")
                wget_s = None
                if shutil.which("wget"):
                    mirror = root / f"mirror{n}"
                    urls = root / "urls.txt"
                    urls.write_text(
                        "".join(
                            f"{base}/{f}/{rel}\n{base}/{f}/{rel}.sha512\n"
                            for f in folders
                            for rel in (served / f / "index.txt").read_text().split()
                        ),
                        encoding="utf-8",
                    )
                    wget_s, _ = timed(
                        ["wget", "-q", "-x", "-nH", "-P", str(mirror), "-i", str(urls)],
                        env,
                        ok=(0, 8),
                        what="peer_wget",
                    )
                    shutil.rmtree(mirror, ignore_errors=True)
                if n == 0:
                    details = {
                        "documents": documents,
                        "full_counts": {k: report[k] for k in ("new", "fetched", "records", "signatures")},
                        "incremental_counts": {k: again[k] for k in ("fetched", "updated", "unchanged")},
                        "deviations": report["deviations"],
                        "warm_up_seconds": {
                            "full": round(seconds, 2),
                            "incremental": round(seconds_inc, 2),
                            "peer_mirror_httpx": round(peer_s, 2),
                            "peer_wget": None if wget_s is None else round(wget_s, 2),
                        },
                    }
                    if not args.runs:
                        print(json.dumps(details, indent=2), file=sys.stderr)
                    continue
                full.append(seconds)
                incremental.append(seconds_inc)
                httpx_peer.append(peer_s)
                if wget_s is not None:
                    wget_peer.append(wget_s)
    cpu = {k: summary(v[1:], unit="cpu_seconds") for k, v in CPU.items() if not k.startswith("_") and v[1:]}
    result = {
        "what": "mamori csaf pull of CISA's conformant CSAF tree on loopback (whole processes)",
        "warm_up": "one full pull, one incremental pull and one run of each peer before the measured runs",
        "machine": machine(),
        **details,
        "mamori_full_pull": {**summary(full), "goal_seconds": GOALS["full"]},
        "mamori_incremental_pull": {**summary(incremental), "goal_seconds": GOALS["incremental"]},
        "peer_mirror_httpx": {
            **summary(httpx_peer),
            "what": "every document + .sha512 of index.txt, hash checked",
        },
    }
    result["cpu_seconds"] = {
        "what": "user + system CPU seconds of each measured process (the machine is shared: wall time waits)",
        **cpu,
    }
    if wget_peer:
        result["peer_wget"] = {
            **summary(wget_peer),
            "what": "wget -i of every document + .sha512 of index.txt",
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

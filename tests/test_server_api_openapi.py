"""The OpenAPI 3.1 document: the copy in docs/openapi.json is the one the server serves (regenerate it
with tools/openapi.py), and every native API operation declares its parameters and the shape of its
answer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from mamori.store import open_store
from server_support import live

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "docs" / "openapi.json"


def test_the_checked_in_document_is_the_served_one(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "s.db")) as store, live(store) as server:
        got = httpx.get(server.url + "/openapi.json", timeout=30)
    assert got.status_code == 200
    served = got.json()
    assert served["openapi"].startswith("3.1")
    assert json.loads(DOCUMENT.read_text(encoding="utf-8")) == served, "run: python tools/openapi.py"


def test_the_tool_tells_a_stale_copy(tmp_path: Path) -> None:
    ok = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "openapi.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "up to date" in ok.stdout


def test_every_native_operation_declares_its_answer() -> None:
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    native = {
        (method, path): op
        for path, ops in document["paths"].items()
        if path.startswith("/api/mamori/v1/")
        for method, op in ops.items()
    }
    assert len(native) >= 20
    for (method, path), op in native.items():
        answers = op["responses"]
        ok = answers.get("200") or answers.get("201") or answers.get("202")  # 202: queued as a job
        assert ok is not None, (method, path)
        content = ok.get("content", {})
        assert content, (method, path)
        for media, body in content.items():
            if media == "application/json":
                assert body.get("schema"), (method, path)  # a response model, not "any"
                assert body["schema"] != {}, (method, path)
        for param in op.get("parameters", []):
            assert param.get("schema"), (method, path, param["name"])
    pages = {
        p
        for (m, p), op in native.items()
        if m == "get" and "Page" in json.dumps(op["responses"]["200"]["content"].get("application/json", {}))
    }
    assert {"/api/mamori/v1/findings", "/api/mamori/v1/uploads"} <= pages

"""Write the OpenAPI 3.1 document the team server serves at /openapi.json to docs/openapi.json: run after
changing a route, a parameter or a response model (tests/test_server_api_openapi.py checks that the copy
equals the served document).

Usage: python tools/openapi.py [--check]
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

TARGET = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def served() -> dict[str, Any]:
    """The document of an application over an empty store (the routes do not depend on its content)."""
    from mamori.server.app import create_app
    from mamori.server.settings import ServerSettings
    from mamori.store import open_store

    with tempfile.TemporaryDirectory() as folder, open_store(str(Path(folder) / "openapi.db")) as store:
        return create_app(ServerSettings(), store).openapi()


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = render(served())
    if argv[1:] == ["--check"]:
        same = TARGET.is_file() and TARGET.read_text(encoding="utf-8") == text
        print(f"{TARGET.name}: {'up to date' if same else 'differs from the served document'}")
        return 0 if same else 1
    if argv[1:]:
        print(__doc__, file=sys.stderr)
        return 2
    TARGET.write_text(text, encoding="utf-8")
    print(f"{TARGET.name}: {len(text)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

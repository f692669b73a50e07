"""What the browser tests share: Debian's Chromium driven by Playwright for Python (its own browser download
is not used), and screenshots kept under the test's temporary folder as
artefacts. The ``browser`` fixture (one browser per test module) is in conftest.py; a test that asks for it
skips when Playwright or Chromium is absent."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("MAMORI_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


class Shots:
    """Screenshots under the test's temporary folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / "screenshots"
        self.folder.mkdir()
        print(f"screenshots: {self.folder}")

    def take(self, page: Any, name: str) -> None:
        page.screenshot(path=str(self.folder / f"{name}.png"), full_page=True)

"""Document metadata for the NTIA elements: author, timestamp, tool, root, lifecycle.

- Author: ``--supplier`` (also the document's and the root component's supplier); else the
  ``git config user.name`` / ``user.email`` that applies in PATH (a person); the tool (mamori)
  is always listed too, which NTIA accepts as the author when no person is known.
- Timestamp: now, in UTC, to the second; ``SOURCE_DATE_EPOCH`` (reproducible builds) when set.
- Root version when neither ``--version`` nor the manifest gives one: ``git describe --tags
  --always --dirty`` of PATH's repository.
- Lifecycle: ``build`` when something was resolved (a lockfile, an installed environment, a
  package database), ``pre-build`` when only manifests were read.
- Serial number: a random ``urn:uuid``, so bom-refs are document-scoped identifiers NTIA accepts.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from datetime import UTC, datetime
from email.utils import parseaddr
from pathlib import Path

from mamori import __version__
from mamori.model import Contact, Document, Property, Tool
from mamori.sbom.generate.assemble import Assembled, RootInfo


def _git(folder: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    value = out.stdout.strip()
    return value if out.returncode == 0 and value else None


def supplier_contact(text: str) -> Contact:
    """``"Example KK <sbom@example.jp>"`` or ``"Example KK"`` → Contact."""
    name, email = parseaddr(text)
    if email and "@" in email:
        return Contact(name=name or email, email=email)
    return Contact(name=text.strip())


def root_info(folder: Path, name: str | None, version: str | None, supplier: str | None) -> RootInfo:
    return RootInfo(
        name=folder.name or "project",
        override_name=name,
        override_version=version,
        fallback_version=None if version else _git(folder, "describe", "--tags", "--always", "--dirty"),
        supplier=supplier_contact(supplier) if supplier else None,
    )


def _author(folder: Path, info: RootInfo) -> Contact | None:
    if info.supplier is not None:
        return info.supplier
    name = _git(folder, "config", "user.name")
    email = _git(folder, "config", "user.email")
    if name or email:
        return Contact(name=name or email or "", email=email, kind="person")
    return None


def _timestamp() -> datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.now(UTC).replace(microsecond=0)


def document_for(
    assembled: Assembled, info: RootInfo, folder: Path, properties: list[Property], resolved: bool
) -> Document:
    author = _author(folder, info)
    root = assembled.root
    return Document(
        spec="cyclonedx",
        serial_number=f"urn:uuid:{uuid.uuid4()}",
        name=root.name,
        authors=[author] if author is not None else [],
        tools=[Tool(name="mamori", vendor="mamori", version=__version__)],
        timestamp=_timestamp(),
        supplier=info.supplier,
        lifecycles=["build" if resolved else "pre-build"],
        root=root,
        components=assembled.components,
        relationships=assembled.relationships,
        properties=properties,
    )

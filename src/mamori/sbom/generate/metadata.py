"""Document metadata for the NTIA elements: author, timestamp, tool, root, lifecycle.

- Author: ``--author`` (else ``author`` in ``[sbom.generate]`` of the config file, see :mod:`author`);
  else ``--supplier`` (also the document's and the root component's supplier); else, only with
  ``--author-from-git``, the git ``user.name`` / ``user.email`` that applies in PATH (a person; the
  repository's own config only when git would trust it). The tool (mamori) is always listed too,
  which NTIA accepts as the author when no person is known.
- Timestamp: now, in UTC, to the second; ``SOURCE_DATE_EPOCH`` (reproducible builds) when set.
- Root version when neither ``--version`` nor the manifest gives one: what ``git describe --tags
  --always`` gives for PATH's repository, read from its files (:mod:`gitrepo`): git is never run, since a
  scanned folder's ``.git/config`` can name programs git would run.
- Lifecycle: ``build`` when something was resolved (a lockfile, an installed environment, a
  package database), ``pre-build`` when only manifests were read.
- Serial number: a random ``urn:uuid``, so bom-refs are document-scoped identifiers NTIA accepts.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from email.utils import parseaddr
from pathlib import Path

from mamori import __version__
from mamori.model import Contact, Document, Property, Tool
from mamori.sbom.generate import gitrepo
from mamori.sbom.generate.assemble import Assembled, RootInfo


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
        fallback_version=None if version else gitrepo.describe(folder),
        supplier=supplier_contact(supplier) if supplier else None,
    )


def _author(folder: Path, info: RootInfo, author: str | None, from_git: bool) -> Contact | None:
    if author and author.strip():
        contact = supplier_contact(author)
        contact.kind = "person"
        return contact
    if info.supplier is not None:
        return info.supplier
    if not from_git:
        return None
    name, email = gitrepo.user_identity(folder)
    if name or email:
        return Contact(name=name or email or "", email=email, kind="person")
    return None


def _timestamp() -> datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.now(UTC).replace(microsecond=0)


def document_for(
    assembled: Assembled,
    info: RootInfo,
    folder: Path,
    properties: list[Property],
    resolved: bool,
    author_text: str | None = None,
    author_from_git: bool = False,
) -> Document:
    author = _author(folder, info, author_text, author_from_git)
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

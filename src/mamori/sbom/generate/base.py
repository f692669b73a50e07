"""What a parser returns, and the conventions every ecosystem follows.

A **file parser** is a function ``parse(path: Path, text: str) -> Found`` registered in
``registry.py`` under the file names it reads. ``text`` is the whole file (UTF-8, read by the
framework with the input size limit); ``path`` lets the parser name the file in errors and read a
sibling it needs (poetry.lock reads pyproject.toml beside it for the dev groups). A **directory
scanner** (``--python-env``, ``--rootfs``) is ``scan(path: Path) -> Found``.

Rules for parsers:

- Components are model ``Component`` objects with ``bom_ref`` set to their purl (built with
  packageurl-python, per the purl spec of the ecosystem), ``version``, ``hashes`` /
  integrity from the lockfile, ``license_declared`` when the file declares one, and ``scope``
  set to one of ``REQUIRED``, ``OPTIONAL``, ``DEV`` or left ``None`` ("not stated": the assembler
  derives it from the dependency graph — a component only reachable through dev dependencies is
  dev). The assembler turns DEV into the CycloneDX scope ``excluded`` and adds the property
  ``mamori:scope`` (``dev`` / ``optional``), so readers need not know the mapping.
- ``edges`` are ``Relationship(source_ref, target_ref)`` (DEPENDS_ON) between bom-refs of the
  components the parser returned. Edges from the project itself are not edges: list the project's
  direct dependencies in ``direct`` (bom-ref → scope). When a parser cannot tell direct from
  transitive it leaves ``direct`` empty and the assembler treats the components nothing depends
  on as direct.
- ``project`` is the component the file describes (pyproject/package.json name and version), or
  None; the assembler uses it for the root or for a sub-project of a monorepo.
- Declared-only components (a manifest range, not a resolved version) carry
  ``DECLARED_ONLY = "true"`` and the range in ``VERSION_RANGE``; their ``version`` is None unless the
  manifest pins one exact version.
- ``notices`` are sentences for the person running mamori (printed on stderr by the CLI and kept
  in the document as ``mamori:notice`` properties): entries that were read but could not be fully
  understood (an editable install, a URL requirement, a marker-only line …).
- A malformed file raises ``bad_line(path, line, problem)`` — an ``InputError`` whose text reads
  ``poetry.lock: line 12: <problem>`` — never a traceback, never a partial result.
- The source file of each component (CycloneDX-style evidence) is added by the assembler as the
  property ``EVIDENCE_FILE``; parsers do not set it.
- Where the file says it, a parser records the line that declares each component with
  ``lines.declared_at(comp, line)`` (``Component.occurrences``; the framework fills in the file,
  relative to the scanned folder). A component read from another file (a ``-r`` include, the
  lockfile above a workspace member) gives that file's absolute path. Lines are found in the text
  the parser already holds (see lines.py), never by parsing the file again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mamori.errors import InputError
from mamori.i18n import _
from mamori.model import Component, Hash, Property, Relationship
from mamori.model.sbom import (
    PROJECT_PATH,  # noqa: F401  (re-exported for the generators)
    SUPPLIER_MISSING,  # noqa: F401  (component: why no supplier could be named)
)

# scope words parsers use (model scope is CycloneDX's: required | optional | excluded)
REQUIRED = "required"
OPTIONAL = "optional"
DEV = "dev"
SCOPE_RANK = {REQUIRED: 0, OPTIONAL: 1, DEV: 2}  # the lower wins when two paths disagree

# property names
EVIDENCE_FILE = "mamori:evidence:file"  # the file a component was found in (relative to PATH), one per file
SCOPE = "mamori:scope"  # "dev" | "optional" (absent: required)
DECLARED_ONLY = "mamori:declared-only"  # "true": from a manifest, not resolved by a lockfile
VERSION_RANGE = "mamori:version-range"  # the declared requirement (">=2.0,<3")
NOTICE = "mamori:notice"  # document: something read but not (fully) understood
SOURCE_FILE = "mamori:source-file"  # document: every input file read, relative to PATH
SUPERSEDED = "mamori:superseded"  # document: a manifest not read because a lockfile beside it was
SKIPPED = "mamori:skipped"  # document: a folder or file not read (default excludes, --exclude): "path (why)"
VERSION_SOURCE = "mamori:version-source"  # component: "root" when a sub-project took the root's version
SUPPLIER_SOURCE = (
    "mamori:supplier:source"  # component: where the supplier was taken from, when not the input file
)


@dataclass(slots=True)
class Found:
    """Everything one input file (or scanned directory) yields."""

    ecosystem: str  # the purl type: pypi, npm, golang, cargo, maven, deb …
    components: list[Component] = field(default_factory=list)
    edges: list[Relationship] = field(default_factory=list)
    direct: dict[str, str] = field(default_factory=dict)  # bom-ref → REQUIRED | OPTIONAL | DEV
    project: Component | None = None
    notices: list[str] = field(default_factory=list)
    resolved: bool = True  # False when everything is declared-only (a manifest): lifecycle pre-build

    def add(self, comp: Component) -> Component:
        """Append ``comp`` and return it (for chaining in parsers)."""
        self.components.append(comp)
        return comp

    def depends(self, source: str, target: str) -> None:
        self.edges.append(Relationship(source, target))


def bad_line(path: Path, line: int | None, problem: str) -> InputError:
    """The error for a malformed input: ``<file>: line N: problem`` (line omitted when unknown)."""
    return InputError(
        path, _("line {line}: {problem}").format(line=line, problem=problem) if line else problem
    )


def line_of(text: str, offset: int) -> int:
    """1-based line number of a character offset (for parsers that get offsets from a library)."""
    return text.count("\n", 0, offset) + 1


def declared_only(comp: Component, version_range: str | None) -> Component:
    """Mark a component as declared in a manifest, not resolved."""
    comp.properties.append(Property(DECLARED_ONLY, "true"))
    if version_range:
        comp.properties.append(Property(VERSION_RANGE, version_range))
    return comp


# hash algorithm spellings seen in lockfiles → CycloneDX names
_HASH_NAMES = {
    "md5": "MD5",
    "sha1": "SHA-1",
    "sha256": "SHA-256",
    "sha384": "SHA-384",
    "sha512": "SHA-512",
    "sha3-256": "SHA3-256",
    "sha3-384": "SHA3-384",
    "sha3-512": "SHA3-512",
    "blake2b-256": "BLAKE2b-256",
    "blake2b-384": "BLAKE2b-384",
    "blake2b-512": "BLAKE2b-512",
    "blake3": "BLAKE3",
}


def hash_from(alg: str, value: str) -> Hash | None:
    """``("sha256", "ab…")`` → Hash("SHA-256", "ab…"); None for an algorithm CycloneDX does not name."""
    name = _HASH_NAMES.get(alg.strip().lower())
    return Hash(name, value.strip().lower()) if name and value.strip() else None


def hash_from_pair(pair: str, sep: str = ":") -> Hash | None:
    """``"sha256:ab…"`` (or ``sha256=ab…`` with ``sep="="``) → Hash; None when malformed or unknown."""
    alg, found, value = pair.partition(sep)
    return hash_from(alg, value) if found else None


def add_hashes(comp: Component, hashes: list[Hash | None]) -> None:
    """Append hashes not already on the component (order kept)."""
    seen = {(h.alg, h.value) for h in comp.hashes}
    for h in hashes:
        if h is not None and (h.alg, h.value) not in seen:
            seen.add((h.alg, h.value))
            comp.hashes.append(h)


def entry_points(found: Found) -> list[str]:
    """Bom-refs of the components nothing in ``found`` depends on, plus one per cycle nothing reaches.

    The assembler uses them as the direct dependencies when a parser leaves ``direct`` empty.
    """
    refs = [c.bom_ref for c in found.components if c.bom_ref]
    targets = {rel.target for rel in found.edges if rel.source != rel.target}
    entries = [ref for ref in refs if ref not in targets]
    adjacency: dict[str, list[str]] = {}
    for rel in found.edges:
        adjacency.setdefault(rel.source, []).append(rel.target)
    seen: set[str] = set()

    def flood(start: str) -> None:
        seen.add(start)
        stack = [start]
        while stack:
            for nxt in adjacency.get(stack.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)

    for ref in entries:
        flood(ref)
    for ref in refs:
        if ref not in seen:  # the first member of a cycle nothing outside it reaches
            entries.append(ref)
            flood(ref)
    return entries

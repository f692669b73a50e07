"""Every lockfile and manifest fixture under tests/fixtures/generate: each component the generator lists records
the file that declares it and the line of its entry, and that line (or the few after it: a ``[[package]]`` or
``<dependency>`` header) names the package. Also: the occurrences travel through CycloneDX 1.4, 1.5 and 1.6."""

from __future__ import annotations

from pathlib import Path

import pytest

from mamori.model import Component
from mamori.sbom.cyclonedx import read_json, read_xml
from mamori.sbom.cyclonedx.write import write_json, write_xml
from mamori.sbom.generate import generate, registry

FIXTURES = Path(__file__).parent / "fixtures" / "generate"
FILES = sorted(
    p
    for p in FIXTURES.rglob("*")
    if p.is_file() and registry.spec_for(p) is not None and "node_modules" not in p.parts
)
# the text an entry spans below its line, beyond which the package's name must have shown
_ENTRY_LINES = 3
# entries whose text does not spell the package's name
UNNAMED = {
    ("Gemfile.lock", "bundler"): "the version line under BUNDLED WITH",
    ("pnpm-lock.yaml", "tiny-git-dep"): "a git dependency is keyed by its repository path and commit",
}


def _names(comp: Component) -> set[str]:
    """Spellings of the package a lockfile may use (PEP 503 variants, the last part of a path or group)."""
    names = {comp.name, comp.name.split("/")[-1], comp.name.split(":")[-1]}
    names |= {n.replace("-", "_") for n in names} | {n.replace("_", "-") for n in names}
    alias = comp.property("mamori:npm:alias")
    if alias:
        names.add(alias)
    return {n.lower() for n in names if n}


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_each_component_records_its_file_and_line(path: Path) -> None:
    doc = generate(path)
    components = list(doc.all_components())
    texts: dict[str, list[str]] = {}
    for comp in components:
        lined = [o for o in comp.occurrences if o.line is not None]
        assert lined, f"{comp.bom_ref}: no line"
        for occurrence in lined:
            if occurrence.location not in texts:
                texts[occurrence.location] = (
                    (path.parent / occurrence.location).read_text(encoding="utf-8").splitlines()
                )
            lines = texts[occurrence.location]
            assert 1 <= occurrence.line <= len(lines)
            entry = " ".join(lines[occurrence.line - 1 : occurrence.line - 1 + _ENTRY_LINES]).lower()
            if (occurrence.location, comp.name) in UNNAMED:
                continue
            assert any(name in entry for name in _names(comp)), (comp.name, occurrence, entry[:120])


def test_a_monorepo_records_paths_from_its_root() -> None:
    doc = generate(FIXTURES / "javascript" / "npm-ws")
    locations = {o.location for c in doc.all_components() for o in c.occurrences}
    assert locations == {"package-lock.json"}
    doc = generate(FIXTURES / "python")
    locations = {o.location for c in doc.all_components() for o in c.occurrences}
    assert {
        "poetry/poetry.lock",
        "uv/uv.lock",
        "pipenv/Pipfile.lock",
        "pip-compile/requirements.txt",
    } <= locations


@pytest.mark.parametrize("version", ["1.4", "1.5", "1.6"])
def test_occurrences_survive_cyclonedx_json_and_xml(version: str) -> None:
    doc = generate(FIXTURES / "rust" / "v4")
    expected = {c.bom_ref: [(o.location, o.line) for o in c.occurrences] for c in doc.all_components()}
    assert all(all(line for _, line in places) for places in expected.values())
    for write, reader in ((write_json, read_json.read), (write_xml, read_xml.read)):
        data = write(doc, version)
        assert (b'"evidence"' in data or b"<evidence>" in data) == (version != "1.4")
        back = reader(data, Path("bom"))
        assert back.warnings == []
        assert {
            c.bom_ref: [(o.location, o.line) for o in c.occurrences] for c in back.all_components()
        } == expected

"""Across formats: CycloneDX → SPDX 2.3 (JSON, tag-value) → CycloneDX and CycloneDX → SPDX Lite XLSX → CycloneDX.

Each trip writes real files with ``mamori.sbom.write`` and reads them back with ``mamori.sbom.read``: first the
SPDX (or SPDX Lite) file, then the CycloneDX 1.6 JSON written from what was read. Components are matched by purl
(every component of these three SBOMs has one).

- Full SPDX keeps purls, versions, declared and concluded licences, hashes, dependency edges, the components
  stated to have no dependencies (SPDX ``DEPENDS_ON NONE``), the root and the supplier, where a CycloneDX
  publisher becomes the SPDX PackageSupplier. One licence spelling changes on purpose: the SPDX writers give
  deprecated ids that spdx-tools cannot validate as licences their replacement
  (``GPL-2.0-with-classpath-exception`` → ``GPL-2.0-only WITH Classpath-exception-2.0``).
- SPDX Lite keeps what its profile has; what it drops is the data list ``lite_fields.DROPPED``, and the test
  states exactly which of the compared aspects that list drops.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import SHARED_DATA, requires_shared
from mamori import sbom
from mamori.model import Component, Document
from mamori.sbom.check import check_document
from mamori.sbom.merge import merge_documents
from mamori.sbom.spdx.licenses import replace_deprecated
from mamori.sbom.spreadsheet.lite_fields import DROPPED

CDX = SHARED_DATA / "sbom" / "cyclonedx"
SOURCES = ["keycloak-10.0.2/bom.json", "dropwizard-1.3.15/bom.json", "juice-shop/v11.1.2/bom.json"]
MIDDLE_FILE = {"spdx-json": "middle.spdx.json", "spdx-tv": "middle.spdx", "spdx-lite-xlsx": "middle.xlsx"}


def _components(doc: Document) -> list[Component]:
    return [*(doc.root.walk() if doc.root is not None else ()), *doc.all_components()]


def _supplier(comp: Component) -> str | None:
    return comp.supplier.name if comp.supplier is not None else comp.publisher


@dataclass
class View:
    """What the trips are judged on, with every ref replaced by the component's purl."""

    purls: set[str]
    versions: dict[str, str | None]
    declared: dict[str, str | None]
    concluded: dict[str, str | None]
    hashes: dict[str, set[tuple[str, str]]]
    suppliers: dict[str, str | None]
    edges: set[tuple[str, str]]
    no_dependencies: set[str]
    root: str | None

    @classmethod
    def of(cls, doc: Document) -> View:
        comps = _components(doc)
        assert all(c.purl for c in comps)
        purl = {c.bom_ref: c.purl for c in comps}
        assert len(set(purl.values())) == len(comps)  # one component per purl
        return cls(
            purls={c.purl for c in comps},  # type: ignore[misc]
            versions={c.purl: c.version for c in comps},  # type: ignore[misc]
            declared={c.purl: c.license_declared for c in comps},  # type: ignore[misc]
            concluded={c.purl: c.license_concluded for c in comps},  # type: ignore[misc]
            hashes={c.purl: {(h.alg, h.value.lower()) for h in c.hashes} for c in comps},  # type: ignore[misc]
            suppliers={c.purl: _supplier(c) for c in comps},  # type: ignore[misc]
            edges={(purl[r.source], purl[r.target]) for r in doc.relationships if r.type == "DEPENDS_ON"},
            no_dependencies={purl[ref] for ref in doc.no_dependencies},
            root=doc.root.purl if doc.root is not None else None,
        )


def _spdx_spelling(licences: dict[str, str | None]) -> dict[str, str | None]:
    return {purl: replace_deprecated(expr) if expr else expr for purl, expr in licences.items()}


def _through(source: Document, fmt: str, folder: Path) -> tuple[Document, Document]:
    """(the middle document as read back, the CycloneDX document written from it and read back)."""
    middle_path = folder / MIDDLE_FILE[fmt]
    assert sbom.write(source, middle_path, fmt) == fmt
    middle = sbom.read(middle_path)
    back_path = folder / "back.cdx.json"
    sbom.write(middle, back_path)
    return middle, sbom.read(back_path)


@pytest.fixture(scope="module", params=SOURCES)
def source(request: pytest.FixtureRequest) -> Document:
    return sbom.read(requires_shared(CDX / request.param))


@pytest.mark.parametrize("fmt", ["spdx-json", "spdx-tv"])
def test_cyclonedx_through_spdx_and_back_keeps_everything_compared(
    shared_data: Path, tmp_path: Path, source: Document, fmt: str
) -> None:
    middle, back = _through(source, fmt, tmp_path)
    assert middle.spec == "spdx" and middle.spec_version == "2.3"
    want, got = View.of(source), View.of(back)
    assert got.purls == want.purls
    assert got.versions == want.versions
    assert got.declared == _spdx_spelling(want.declared)
    assert got.concluded == _spdx_spelling(want.concluded)
    assert got.hashes == want.hashes
    assert got.suppliers == want.suppliers  # the publisher, where there is no supplier, as the supplier
    assert got.edges == want.edges
    assert got.no_dependencies == want.no_dependencies
    assert got.root == want.root


def test_the_compared_sboms_have_something_to_lose(shared_data: Path) -> None:
    keycloak = View.of(sbom.read(requires_shared(CDX / SOURCES[0])))
    assert len(keycloak.purls) == 904 and len(keycloak.edges) == 994 and len(keycloak.no_dependencies) == 601
    assert sum(len(h) for h in keycloak.hashes.values()) == 7224
    assert sum(1 for s in keycloak.suppliers.values() if s) == 756  # publishers only
    assert sum(1 for e in keycloak.declared.values() if e and replace_deprecated(e) != e) == 18


# what each compared aspect is in the model, as lite_fields.DROPPED names it
ASPECT_FIELDS = {
    "purls": "Component.purl",
    "versions": "Component.version",
    "declared": "Component.license_declared",
    "concluded": "Component.license_concluded",
    "hashes": "Component.hashes",
    "suppliers": "Component.supplier",
    "edges": "Document.relationships",
    "no_dependencies": "Document.no_dependencies",
    "root": "Document.root",
}
LITE_DROPS = {"hashes", "edges", "no_dependencies", "root"}
LOST = {"hashes": lambda v: all(not h for h in v.values()), "edges": set().__eq__, "no_dependencies": set().__eq__,
        "root": lambda v: v is None}  # fmt: skip


def test_spdx_lite_drops_exactly_what_its_data_says() -> None:
    assert {aspect for aspect, name in ASPECT_FIELDS.items() if name in DROPPED} == LITE_DROPS


def test_cyclonedx_through_spdx_lite_xlsx_and_back(
    shared_data: Path, tmp_path: Path, source: Document
) -> None:
    middle, back = _through(source, "spdx-lite-xlsx", tmp_path)
    assert middle.spec == "spdx-lite" and middle.spec_version == "2.3"
    want, got = View.of(source), View.of(back)
    for aspect in ASPECT_FIELDS:
        if aspect in LITE_DROPS:
            assert LOST[aspect](getattr(got, aspect)), f"{aspect} should be lost"
        else:
            assert getattr(got, aspect) == getattr(want, aspect), aspect
    # the root is not lost as a component: it is the first package row, read back as an ordinary one
    assert want.root in got.purls and middle.components[0].purl == want.root


def test_merged_suppliers_survive_spdx(shared_data: Path, tmp_path: Path) -> None:
    inputs = [(name, sbom.read(requires_shared(CDX / name))) for name in SOURCES[:2]]  # keycloak + dropwizard
    merged = merge_documents(inputs, root_name="product", root_version="1.0").document
    before = check_document(merged).ntia.element("supplier")
    target = tmp_path / "product.spdx.json"
    sbom.write(merged, target)
    after = check_document(sbom.read(target)).ntia.element("supplier")
    assert (after.present, after.total) == (before.present, before.total)
    assert before.present == 837  # 756 keycloak + 90 dropwizard publishers; 9 components with one are in both

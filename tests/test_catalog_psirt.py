"""PSIRT services of seed 003 Table 16 (FIRST PSIRT Services Framework 1.1) and the metrics it lists."""

from __future__ import annotations

from collections import Counter

import pytest

from catalog_seed import (
    assert_bilingual,
    assert_own_words,
    assert_refs_resolve,
    assert_tree,
    norm,
    seed_line,
    seed_lines,
    seed_window,
)
from mamori.compliance.catalog import Catalog, load


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load("psirt-services")


def test_areas_services_metrics(catalog: Catalog) -> None:
    assert catalog.counts() == {"area": 6, "service": 28, "metric": 19}
    services = catalog.of_kind("service")
    assert Counter(s.parent for s in services) == {"SA1": 7, "SA2": 5, "SA3": 3, "SA4": 4, "SA5": 4, "SA6": 5}
    for service in services:
        area = service.id.split(".")[0]
        assert service.parent == f"SA{area}", service.id
    for area in catalog.of_kind("area"):
        numbers = [int(s.id.split(".")[1]) for s in catalog.children(area)]
        assert numbers == list(range(1, len(numbers) + 1)), area.id
    # the second printed "2.4" is the discovery-metrics service 2.5
    assert (
        catalog.get("2.5").extra["printed_id"] == "2.4"
        and catalog.get("2.4").title_en == "Finding new vulnerabilities"
    )
    metrics = catalog.of_kind("metric")
    assert Counter(m.parent for m in metrics) == {"2.5": 8, "4.4": 8, "5.4": 3}
    assert all(catalog.get(m.parent).extra.get("metrics_service") for m in metrics)
    assert {m.extra["report"]["value"] for m in metrics} == {"operational", "business"}
    assert_tree(catalog)
    assert_bilingual(catalog)
    assert_refs_resolve(catalog)


def test_seed_rows(catalog: Catalog) -> None:
    """Areas and services are printed as '<number> <title>' on their line; metrics are bullets under them."""
    seed_lines("003_7cf674b23f9b0e1d.txt")
    for item in catalog.of_kind("area", "service"):
        printed = item.extra.get("printed_id", item.id)
        assert seed_line(item) == printed + norm(item.title_ja), item.id
    for metric in catalog.of_kind("metric"):
        line = seed_line(metric)
        assert line.startswith("・") and norm(metric.title_ja) in seed_window(metric, 0, 2), metric.id
        parent = catalog.get(metric.parent)
        following = [s for s in catalog.of_kind("service") if s.source.line > parent.source.line]
        assert parent.source.line < metric.source.line < min(s.source.line for s in following), metric.id


def test_summaries_are_own_words(catalog: Catalog) -> None:
    assert_own_words(catalog, after=15)

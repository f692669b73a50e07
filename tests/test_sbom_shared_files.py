"""Every file under ../shared/data/sbom goes through mamori.sbom.read: it parses (format, spec version and
number of components as listed here, the root component not counted) or is rejected with InputError and
the message listed here. No other exception type, ever. Run with -v to see each file and its outcome."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SHARED_DATA, shared_files
from mamori.errors import InputError
from mamori.fileio import read_bytes
from mamori.sbom import detect_format, read

SBOM = SHARED_DATA / "sbom"
SPDX3 = "SPDX 3 (JSON-LD) is not supported yet; mamori reads SPDX 2.1, 2.2 and 2.3"
POM = "not an SBOM: XML root element <project> is neither CycloneDX nor SPDX RDF"

# file -> (format detected, spec version, components) when it parses, else the InputError problem
EXPECTED: dict[str, tuple[str, str, int] | str] = {
    "cyclonedx/cern-lhc-vdm-editor-e564943/bom.json": ("cyclonedx-json", "1.2", 43),
    "cyclonedx/cern-lhc-vdm-editor-e564943/bom.xml": ("cyclonedx-xml", "1.2", 43),
    "cyclonedx/dropwizard-1.3.15/bom.json": ("cyclonedx-json", "1.2", 167),
    "cyclonedx/dropwizard-1.3.15/bom.xml": ("cyclonedx-xml", "1.2", 167),
    "cyclonedx/juice-shop/v11.1.2/bom.json": ("cyclonedx-json", "1.2", 840),
    "cyclonedx/juice-shop/v11.1.2/bom.xml": ("cyclonedx-xml", "1.2", 840),
    "cyclonedx/juice-shop/via_npm/bare/bom.1.2.json": ("cyclonedx-json", "1.2", 1115),
    "cyclonedx/juice-shop/via_npm/bare/bom.1.2.xml": ("cyclonedx-xml", "1.2", 1115),
    "cyclonedx/juice-shop/via_npm/bare/bom.1.3.json": ("cyclonedx-json", "1.3", 1115),
    "cyclonedx/juice-shop/via_npm/bare/bom.1.3.xml": ("cyclonedx-xml", "1.3", 1115),
    "cyclonedx/juice-shop/via_npm/bare/bom.1.4.json": ("cyclonedx-json", "1.4", 1115),
    "cyclonedx/juice-shop/via_npm/bare/bom.1.4.xml": ("cyclonedx-xml", "1.4", 1115),
    "cyclonedx/juice-shop/via_npm/flat/bom.1.2.json": ("cyclonedx-json", "1.2", 1115),
    "cyclonedx/juice-shop/via_npm/flat/bom.1.2.xml": ("cyclonedx-xml", "1.2", 1115),
    "cyclonedx/juice-shop/via_npm/flat/bom.1.3.json": ("cyclonedx-json", "1.3", 1115),
    "cyclonedx/juice-shop/via_npm/flat/bom.1.3.xml": ("cyclonedx-xml", "1.3", 1115),
    "cyclonedx/juice-shop/via_npm/flat/bom.1.4.json": ("cyclonedx-json", "1.4", 1115),
    "cyclonedx/juice-shop/via_npm/flat/bom.1.4.xml": ("cyclonedx-xml", "1.4", 1115),
    "cyclonedx/keycloak-10.0.2/bom.json": ("cyclonedx-json", "1.2", 903),
    "cyclonedx/keycloak-10.0.2/bom.xml": ("cyclonedx-xml", "1.2", 903),
    "cyclonedx/laravel-7.12.0/bom.1.1.xml": ("cyclonedx-xml", "1.1", 62),
    "cyclonedx/laravel-7.12.0/bom.1.2.json": ("cyclonedx-json", "1.2", 62),
    "cyclonedx/laravel-7.12.0/bom.1.2.xml": ("cyclonedx-xml", "1.2", 62),
    "cyclonedx/laravel-7.12.0/bom.1.3.json": ("cyclonedx-json", "1.3", 62),
    "cyclonedx/laravel-7.12.0/bom.1.3.xml": ("cyclonedx-xml", "1.3", 62),
    "cyclonedx/laravel-7.12.0/bom.1.4.json": ("cyclonedx-json", "1.4", 62),
    "cyclonedx/laravel-7.12.0/bom.1.4.xml": ("cyclonedx-xml", "1.4", 62),
    "cyclonedx/protonmail-webclient-v4-0912dff/bom.json": ("cyclonedx-json", "1.2", 883),
    "cyclonedx/protonmail-webclient-v4-0912dff/bom.xml": ("cyclonedx-xml", "1.2", 883),
    "dependency-track-tests/bom-1.xml": ("cyclonedx-xml", "1.5", 1),
    "dependency-track-tests/bom-component-property.json": ("cyclonedx-json", "1.4", 1),
    "dependency-track-tests/bom-custom-license.json": ("cyclonedx-json", "1.4", 3),
    "dependency-track-tests/bom-empty.json": ("cyclonedx-json", "1.4", 0),
    # read leniently: kept, with one warning (tests/test_read_lenient.py); refused when read strictly
    "dependency-track-tests/bom-invalid-license-expression.json": ("cyclonedx-json", "1.4", 1),
    "dependency-track-tests/bom-invalid.json": "invalid JSON at line 2 column 28: unexpected end of data",
    "dependency-track-tests/bom-issue1905.json": ("cyclonedx-json", "1.4", 2),
    "dependency-track-tests/bom-issue2519.xml": ("cyclonedx-xml", "1.5", 2184),
    "dependency-track-tests/bom-issue2859.xml": ("cyclonedx-xml", "1.4", 1),
    "dependency-track-tests/bom-issue3309.json": ("cyclonedx-json", "1.4", 0),
    "dependency-track-tests/bom-issue3936-author.json": ("cyclonedx-json", "1.5", 1),
    "dependency-track-tests/bom-issue3936-authors.json": ("cyclonedx-json", "1.6", 1),
    "dependency-track-tests/bom-issue3936-both.json": ("cyclonedx-json", "1.6", 1),
    "dependency-track-tests/bom-issue4008.xml": ("cyclonedx-xml", "1.4", 1),
    "dependency-track-tests/bom-issue4455.json": ("cyclonedx-json", "1.6", 23),
    "dependency-track-tests/bom-license-expression-single-license.json": ("cyclonedx-json", "1.4", 1),
    "dependency-track-tests/bom-license-expression.json": ("cyclonedx-json", "1.4", 1),
    "dependency-track-tests/bom-metadata-components.json": ("cyclonedx-json", "1.4", 151),
    "dependency-track-tests/bom-metadata-timestamp.json": ("cyclonedx-json", "1.5", 0),
    "dependency-track-tests/bom-metadata-tool-deprecated.json": ("cyclonedx-json", "1.5", 0),
    "dependency-track-tests/bom-metadata-tool.json": ("cyclonedx-json", "1.5", 0),
    "dependency-track-tests/bom-no-purl.json": ("cyclonedx-json", "1.4", 1),
    "dependency-track-tests/bom-service.json": ("cyclonedx-json", "1.5", 1),
    "dependency-track-tests/valid-bom-1.0.xml": ("cyclonedx-xml", "1.0", 3),
    "dependency-track-tests/valid-bom-1.1.xml": ("cyclonedx-xml", "1.1", 3),
    "dependency-track-tests/valid-bom-1.2.json": ("cyclonedx-json", "1.2", 2),
    "dependency-track-tests/valid-bom-1.2.xml": ("cyclonedx-xml", "1.2", 3),
    "dependency-track-tests/valid-bom-1.3.json": ("cyclonedx-json", "1.3", 2),
    "dependency-track-tests/valid-bom-1.3.xml": ("cyclonedx-xml", "1.3", 3),
    "dependency-track-tests/valid-bom-1.4.json": ("cyclonedx-json", "1.4", 2),
    "dependency-track-tests/valid-bom-1.4.xml": ("cyclonedx-xml", "1.4", 3),
    "dependency-track-tests/valid-bom-1.5.json": ("cyclonedx-json", "1.5", 2),
    "dependency-track-tests/valid-bom-1.5.xml": ("cyclonedx-xml", "1.5", 3),
    "dependency-track-tests/valid-bom-1.6.json": ("cyclonedx-json", "1.6", 2),
    "dependency-track-tests/valid-bom-1.6.xml": ("cyclonedx-xml", "1.6", 3),
    "dependency-track-tests/valid-bom-1.7.json": ("cyclonedx-json", "1.7", 3),
    "dependency-track-tests/valid-bom-1.7.xml": ("cyclonedx-xml", "1.7", 3),
    "dependency-track-tests/vex-issue2549.json": ("cyclonedx-json", "1.4", 0),
    "spdx/ai/example01/spdx3.0/simplehtr-example.json": SPDX3,
    "spdx/ai/example02/spdx3.0/sbom.spdx3.json": SPDX3,
    "spdx/dataset/example01/spdx3.0/example01.spdx3.json": SPDX3,
    "spdx/presentations/OSS-NA-2023/SPDXVersion2.3/01-MinimalSBOM.json": ("spdx-json", "2.3", 0),
    "spdx/presentations/OSS-NA-2023/SPDXVersion2.3/02-SBOMwSource.json": ("spdx-json", "2.3", 1),
    "spdx/presentations/OSS-NA-2023/SPDXVersion2.3/03-SBOMwDependency.json": ("spdx-json", "2.3", 1),
    "spdx/presentations/OSS-NA-2023/SPDXVersion2.3/04-SBOMwSecurity.json": ("spdx-json", "2.3", 1),
    "spdx/presentations/OSS-NA-2023/SPDXVersion2.3/05-SBOMwSourceLicense.json": ("spdx-json", "2.3", 1),
    "spdx/presentations/SBOMS-SPDX-Now-and-Future/ACME-v2.3.spdx.json": ("spdx-json", "2.3", 3),
    "spdx/software/example1/spdx2.2/example1.spdx": ("spdx-tv", "2.2", 3),
    "spdx/software/example1/spdx3.0/example1.json": SPDX3,
    "spdx/software/example10/spdx2.3/hello-source.spdx.json": ("spdx-json", "2.3", 5),
    "spdx/software/example10/spdx3.0/hello-source.spdx3.json": SPDX3,
    "spdx/software/example11/spdx2.3/sbom.spdx.json": ("spdx-json", "2.3", 5),
    "spdx/software/example11/spdx3.0/sbom.spdx3.json": SPDX3,
    "spdx/software/example12/spdx2.2/hello-dist.spdx.json": ("spdx-json", "2.2", 1),
    "spdx/software/example12/spdx2.2/hello-src.spdx.json": ("spdx-json", "2.2", 12),
    "spdx/software/example12/spdx3.0/hello-dist.spdx3.json": SPDX3,
    "spdx/software/example12/spdx3.0/hello-src.spdx3.json": SPDX3,
    "spdx/software/example13/spdx3.0/example13.spdx3.json": SPDX3,
    "spdx/software/example14/content/examplemaven-0.0.1.spdx.json": ("spdx-json", "2.3", 7),
    "spdx/software/example14/content/examplemaven-0.0.1.spdx3.json": SPDX3,
    "spdx/software/example14/spdx2.3/examplemaven-0.0.1-enriched.spdx.json": ("spdx-json", "2.3", 7),
    "spdx/software/example14/spdx3.0/examplemaven-0.0.1-enriched.spdx3.json": SPDX3,
    "spdx/software/example2/spdx2.2/example2-bin.spdx": ("spdx-tv", "2.2", 1),
    "spdx/software/example2/spdx2.2/example2-src.spdx": ("spdx-tv", "2.2", 2),
    "spdx/software/example3/spdx2.2/example3-bin.spdx": ("spdx-tv", "2.2", 2),
    "spdx/software/example3/spdx2.2/example3-src.spdx": ("spdx-tv", "2.2", 3),
    "spdx/software/example3/spdx3.0/example3-bin.json": SPDX3,
    "spdx/software/example3/spdx3.0/example3-src.json": SPDX3,
    "spdx/software/example4/spdx2.2/example4-bin.spdx": ("spdx-tv", "2.2", 4),
    "spdx/software/example4/spdx2.2/example4-src.spdx": ("spdx-tv", "2.2", 3),
    "spdx/software/example4/spdx3.0/example4-bin.json": SPDX3,
    "spdx/software/example4/spdx3.0/example4-src.json": SPDX3,
    "spdx/software/example5/spdx2.2/example5-bin.spdx": ("spdx-tv", "2.2", 1),
    "spdx/software/example5/spdx2.2/example5-src.spdx": ("spdx-tv", "2.2", 2),
    "spdx/software/example5/spdx3.0/example5-bin.json": SPDX3,
    "spdx/software/example5/spdx3.0/example5-src.json": SPDX3,
    "spdx/software/example6/spdx2.2/example6-bin.spdx": ("spdx-tv", "2.2", 1),
    "spdx/software/example6/spdx2.2/example6-lib.spdx": ("spdx-tv", "2.2", 4),
    "spdx/software/example6/spdx2.2/example6-src.spdx": ("spdx-tv", "2.2", 2),
    "spdx/software/example6/spdx3.0/example6-bin.json": SPDX3,
    "spdx/software/example6/spdx3.0/example6-lib.json": SPDX3,
    "spdx/software/example6/spdx3.0/example6-src.json": SPDX3,
    "spdx/software/example7/spdx2.2/example7-bin.spdx.json": ("spdx-json", "2.2", 0),
    "spdx/software/example7/spdx2.2/example7-go-module.spdx.json": ("spdx-json", "2.2", 0),
    "spdx/software/example7/spdx2.2/example7-golang.spdx.json": ("spdx-json", "2.2", 1),
    "spdx/software/example7/spdx2.2/example7-third-party-modules.spdx.json": ("spdx-json", "2.2", 3),
    "spdx/software/example7/spdx3.0/example7-bin.spdx3.json": SPDX3,
    "spdx/software/example7/spdx3.0/example7-go-module.spdx3.json": SPDX3,
    "spdx/software/example7/spdx3.0/example7-golang.spdx3.json": SPDX3,
    "spdx/software/example7/spdx3.0/example7-third-party-modules.spdx3.json": SPDX3,
    "spdx/software/example8/content/examplemaven/pom-with-spdx-plugin.xml": POM,
    "spdx/software/example8/content/examplemaven/pom.xml": POM,
    "spdx/software/example8/spdx2.3/examplemaven-0.0.1.spdx.json": ("spdx-json", "2.3", 7),
    "spdx/software/example8/spdx3.0/examplemaven-0.0.1.spdx3.json": SPDX3,
    "spdx/software/example9/spdx2.2/appbomination.spdx.json": ("spdx-json", "2.2", 16),
    "spdx/software/example9/spdx3.0/appbomination.spdx3.json": SPDX3,
}


def test_the_list_names_every_file(shared_data: Path) -> None:
    found = {str(p.relative_to(SBOM)) for p in shared_files("sbom")}
    assert found == set(EXPECTED)


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_file_parses_or_is_rejected_clearly(shared_data: Path, rel: str) -> None:
    path = SBOM / rel
    expected = EXPECTED[rel]
    try:
        doc = read(path)
    except InputError as exc:  # any other exception type fails the test
        assert exc.problem == expected, f"rejected, but expected {expected!r}"
        assert exc.path == str(path)
        assert str(exc) == f"{path}: {expected}"  # the one line the CLI prints after "mamori: error: "
        return
    fmt = detect_format(read_bytes(path), path)
    assert (fmt, doc.spec_version, sum(1 for _ in doc.all_components())) == expected

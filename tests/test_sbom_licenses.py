"""One licence normaliser (mamori.sbom.licenses): the same licence text gives the same expression and the same
LicenseRef whichever format it comes from or goes to."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mamori import sbom
from mamori.model import Component, Document
from mamori.sbom.cyclonedx.licenses import combine
from mamori.sbom.cyclonedx.licenses import normalise_expression as cyclonedx_expression
from mamori.sbom.licenses import licence_ref
from mamori.sbom.spdx.licenses import LicenseWriter, replace_deprecated
from mamori.sbom.spdx.licenses import normalise as spdx_normalise
from mamori.sbom.spdx.validate import spdx_tools_problems
from mamori.sbom.spreadsheet.licenses import normalise_license

IDSTRING_REF = re.compile(r"LicenseRef-[A-Za-z0-9.\-]+")


@pytest.mark.parametrize(
    ("name", "ref"),
    [
        ("Public Domain", "LicenseRef-Public-Domain"),
        ("Apache License, Version 2.0", "LicenseRef-Apache-License-Version-2.0"),
        ("Eclipse Distribution License - v 1.0", "LicenseRef-Eclipse-Distribution-License-v-1.0"),  # one "-"
        ("GPL-2.0-only WITH Foo-exception", "LicenseRef-GPL-2.0-only-WITH-Foo-exception"),
        ("LicenseRef-custom", "LicenseRef-custom"),  # already one: kept
        (
            "DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2",
            "DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2",
        ),
        ("LicenseRef-with space", "LicenseRef-with-space"),  # not doubled
    ],
)
def test_licence_ref_spelling(name: str, ref: str) -> None:
    assert licence_ref(name) == ref


def test_names_with_other_characters_get_a_stable_distinct_suffix() -> None:
    own, inhouse, gpl_compatible = (
        licence_ref("独自ライセンス"),
        licence_ref("社内ライセンス"),
        licence_ref("GPL互換"),
    )
    assert re.fullmatch(r"LicenseRef-unnamed-[0-9a-f]{12}", own)
    assert own != inhouse and licence_ref("独自ライセンス") == own
    assert re.fullmatch(r"LicenseRef-GPL-[0-9a-f]{12}", gpl_compatible)  # not the plain ASCII "GPL"
    assert gpl_compatible != licence_ref("GPL") == "LicenseRef-GPL"
    assert licence_ref(" 独自  ライセンス ") == licence_ref("独自 ライセンス")  # spaces folded first
    assert all(IDSTRING_REF.fullmatch(r) for r in (own, inhouse, gpl_compatible))


def test_the_same_name_gives_the_same_ref_in_every_format() -> None:
    name = "独自ライセンス"
    from_cyclonedx = combine((("name", name),))
    from_spreadsheet = normalise_license(name)
    writer = LicenseWriter([], set())
    to_spdx = writer.expression(name)
    assert from_cyclonedx == from_spreadsheet.expression == to_spdx == licence_ref(name)
    assert from_spreadsheet.refs == {to_spdx: name}
    assert writer.extracted()[0]["extractedText"] == name


@pytest.mark.parametrize(
    ("text", "expression"),
    [
        ("mit OR (apache-2.0 AND isc)", "MIT OR (Apache-2.0 AND ISC)"),
        ("Foo OR MIT", "LicenseRef-Foo OR MIT"),  # an unknown key becomes a LicenseRef
        ("GPL-2.0+ WITH Classpath-exception-2.0", "GPL-2.0-or-later WITH Classpath-exception-2.0"),
        ("MIT OR GPL-2.0-only WITH Foo-exception", "MIT OR LicenseRef-GPL-2.0-only-WITH-Foo-exception"),
        ("LicenseRef-Apache AND MIT", "LicenseRef-Apache AND MIT"),  # not read as Apache-2.0
    ],
)
def test_expressions_normalise_alike_in_every_format(text: str, expression: str) -> None:
    assert cyclonedx_expression(text) == expression
    assert spdx_normalise(text) == expression
    assert normalise_license(text).expression == expression


@pytest.mark.parametrize("fmt", ["spdx-json", "spdx-tv"])
def test_spdx_output_keeps_a_licenseref_that_license_expression_aliases(tmp_path: Path, fmt: str) -> None:
    """license-expression maps LicenseRef-lgpl to LGPL-2.0-or-later; spdx-tools (tag-value) used to apply that."""
    doc = Document(
        components=[Component("lib", "1", bom_ref="lib", license_declared="LicenseRef-lgpl AND MIT")]
    )
    data = sbom.dumps(doc, fmt)
    assert spdx_tools_problems(data, fmt) == []
    path = tmp_path / ("doc.spdx.json" if fmt == "spdx-json" else "doc.spdx")
    path.write_bytes(data)
    back = sbom.read(path)
    assert back.root is not None  # the one package the document describes
    assert back.root.license_declared == "LicenseRef-lgpl AND MIT"


def test_deprecated_ids_spdx_tools_cannot_validate_are_written_as_their_replacement() -> None:
    expression = "EPL-2.0 AND GPL-2.0-with-classpath-exception"
    assert replace_deprecated(expression) == "EPL-2.0 AND GPL-2.0-only WITH Classpath-exception-2.0"
    assert replace_deprecated("LicenseRef-GPL-2.0-with-classpath-exception-x") == (
        "LicenseRef-GPL-2.0-with-classpath-exception-x"  # only whole ids
    )
    doc = Document(components=[Component("jta", "1", bom_ref="jta", license_declared=expression)])
    data = sbom.dumps(doc, "spdx-json")
    assert spdx_tools_problems(data, "spdx-json") == []
    package = json.loads(data)["packages"][0]
    assert package["licenseDeclared"] == "EPL-2.0 AND GPL-2.0-only WITH Classpath-exception-2.0"
    assert "hasExtractedLicensingInfos" not in json.loads(data)  # no LicenseRef needed any more
    # CycloneDX lists the old id, so CycloneDX output keeps it as read
    bom = json.loads(sbom.dumps(doc, "cyclonedx-json"))
    assert bom["components"][0]["licenses"] == [{"expression": expression, "acknowledgement": "declared"}]

"""CycloneDX licence entries ↔ SPDX expressions."""

from __future__ import annotations

import pytest

from mamori.sbom.cyclonedx.licenses import (
    LicenceError,
    combine,
    from_id,
    from_name,
    licence_ref,
    normalise_expression,
    to_entry,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("mit", "MIT"),
        ("GPL-2.0", "GPL-2.0-only"),  # deprecated id → current one
        ("LGPL-2.1+", "LGPL-2.1-or-later"),
        ("GPL-2.0-with-classpath-exception", "GPL-2.0-with-classpath-exception"),  # deprecated but an SPDX id
        ("Apache 2", "LicenseRef-Apache-2"),  # not an id at all: treated as a name
    ],
)
def test_ids(value: str, expected: str) -> None:
    assert from_id(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Apache-2.0", "Apache-2.0"),
        ("(MIT OR Apache-2.0)", "MIT OR Apache-2.0"),
        ("WTFPL OR ISC", "WTFPL OR ISC"),
        ("Public Domain", "LicenseRef-Public-Domain"),
        ("MIT/X11", "LicenseRef-MIT-X11"),
        ("lgpl_v2_1", "LicenseRef-lgpl-v2-1"),
        ("MPL 2.0 or EPL 1.0", "LicenseRef-MPL-2.0-or-EPL-1.0"),
        # already a reference: kept, so writing it back round-trips
        ("LicenseRef-custom", "LicenseRef-custom"),
        ("   ", None),
    ],
)
def test_names(value: str, expected: str | None) -> None:
    assert from_name(value) == expected


def test_names_without_latin_letters_stay_distinct() -> None:
    first, second = from_name("独自ライセンス"), from_name("社内ライセンス")
    assert first and first.startswith("LicenseRef-unnamed-")
    assert first != second
    assert from_name("独自ライセンス") == first


def test_expressions() -> None:
    assert normalise_expression("mit OR (apache-2.0 AND isc)") == "MIT OR (Apache-2.0 AND ISC)"
    assert normalise_expression("Foo OR MIT") == "LicenseRef-Foo OR MIT"
    assert normalise_expression("GPL-2.0+ WITH Classpath-exception-2.0") == (
        "GPL-2.0-or-later WITH Classpath-exception-2.0"
    )
    # renaming unknown keys must not leak into later parses of the same text
    assert normalise_expression("Bar AND MIT") == "LicenseRef-Bar AND MIT"
    assert normalise_expression.__wrapped__("Bar AND MIT") == "LicenseRef-Bar AND MIT"
    for bad in ("(invalid", "MIT AND", "", "MIT OR OR ISC"):
        with pytest.raises(LicenceError):
            normalise_expression(bad)


def test_several_entries_are_joined_with_and() -> None:
    assert combine((("id", "MIT"),)) == "MIT"
    assert combine((("id", "EPL-2.0"), ("id", "mit"))) == "EPL-2.0 AND MIT"
    assert combine((("expression", "MIT OR Apache-2.0"), ("name", "Custom"))) == (
        "(MIT OR Apache-2.0) AND LicenseRef-Custom"
    )
    assert combine((("id", "MIT"), ("name", "MIT"))) == "MIT"  # the same licence twice is listed once
    assert combine((("name", " "),)) is None


def test_licence_refs() -> None:
    assert licence_ref("custom license foobar") == "LicenseRef-custom-license-foobar"
    assert licence_ref("LicenseRef-x") == "LicenseRef-x"


@pytest.mark.parametrize(
    ("expression", "entry"),
    [
        ("MIT", ("id", "MIT")),
        ("GPL-2.0-with-classpath-exception", ("id", "GPL-2.0-with-classpath-exception")),
        ("LicenseRef-Public-Domain", ("name", "LicenseRef-Public-Domain")),
        ("MIT OR Apache-2.0", ("expression", "MIT OR Apache-2.0")),
        (
            "GPL-2.0-only WITH Classpath-exception-2.0",
            ("expression", "GPL-2.0-only WITH Classpath-exception-2.0"),
        ),
    ],
)
def test_how_an_expression_is_written(expression: str, entry: tuple[str, str]) -> None:
    assert to_entry(expression) == entry
    # and reading that entry back gives the expression again
    kind, value = entry
    assert combine(((kind, value),)) == expression

"""The matcher reads a purl of the usual shape (type/name@version of unreserved characters) without
splitting it as a URL first: what it gets is what ``PackageURL.from_string`` gives, field for field, and
the same error when that refuses it."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st
from packageurl import PackageURL

from mamori.match import target

TYPES = ["pypi", "npm", "maven", "golang", "deb", "rpm", "apk", "generic", "cargo", "gem", "nuget", "conan",
         "swift", "hex", "pub", "cran", "composer", "oci", "docker", "github", "huggingface", "cocoapods",
         "conda", "alpm", "bitnami", "luarocks", "otp", "julia", "vscode-extension", "a", "x.y", "PyPI"]  # fmt: skip
PART = st.text(alphabet=string.ascii_letters + string.digits + "._~+!-@/:%?#= \u00e9", max_size=8)


def _parsed(text: str) -> PackageURL | str:
    try:
        return PackageURL.from_string(text.strip())
    except ValueError as exc:
        return str(exc)


def _read(text: str) -> PackageURL | str:
    target._purl.cache_clear()
    return target._purl(text)


@settings(max_examples=2000, deadline=None)
@given(st.sampled_from(TYPES), PART, PART)
def test_a_purl_is_read_as_from_string_reads_it(kind: str, name: str, version: str) -> None:
    text = f"pkg:{kind}/{name}@{version}"
    got, expected = _read(text), _parsed(text)
    assert got == expected
    if isinstance(expected, PackageURL):
        assert isinstance(got, PackageURL) and got._asdict() == expected._asdict()
        assert got.to_string() == expected.to_string()


def test_the_usual_shapes_take_the_short_way_and_give_the_same() -> None:
    for text, name in [
        ("pkg:pypi/Django_Rest@3.1.0", "django-rest"),
        ("pkg:npm/left-pad@1.3.0", "left-pad"),
        ("pkg:golang/x@v1.2.3+incompatible", "x"),
        ("pkg:pypi/leo@5.5", "leo"),
        (" pkg:cargo/serde@1.0.0 ", "serde"),
    ]:
        assert target._SIMPLE_PURL.fullmatch(text.strip()) is not None
        got = _read(text)
        assert isinstance(got, PackageURL) and got.name == name and got == _parsed(text)
    for text in ["pkg:maven/org.a/b@1", "pkg:pypi/a@1?x=y", "pkg:npm/%40s/a@1", "pkg:pypi/a@1#sub"]:
        assert target._SIMPLE_PURL.fullmatch(text) is None
        assert _read(text) == _parsed(text)

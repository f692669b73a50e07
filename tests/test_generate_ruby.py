"""Gemfile.lock written by Bundler 2.3.15 (`bundle install --local` over Debian's ruby gems, with a
PATH gem and a GIT gem), and the Gemfile alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from mamori.errors import InputError
from mamori.sbom.generate import GenerateOptions, generate
from mamori.sbom.generate.base import DEV, REQUIRED
from mamori.sbom.generate.ruby import bundler

FIXTURES = Path(__file__).parent / "fixtures" / "generate" / "ruby"
TAGGER = "pkg:gem/tagger@0.2.0?vcs_url=git%2Bfile:///tmp/rubyfx/tagger-git%40dbc3fbbc78dbd085e88b4659bea026a8b31421ff"


def test_lock_sections_edges_and_dev_groups() -> None:
    path = FIXTURES / "app" / "Gemfile.lock"
    found = bundler.parse(path, path.read_text())
    refs = {c.bom_ref for c in found.components}
    assert len(refs) == 16 and TAGGER in refs and "gem-local:greeter@0.1.0" in refs
    assert found.direct == {
        "gem-local:greeter@0.1.0": REQUIRED,
        "pkg:gem/rack-test@2.0.2": DEV,
        "pkg:gem/rspec@3.12.0": DEV,
        "pkg:gem/sinatra@3.0.5": REQUIRED,
        TAGGER: REQUIRED,
        "pkg:gem/bundler@2.3.15": DEV,
    }
    edges = {(r.source, r.target) for r in found.edges}
    assert ("pkg:gem/sinatra@3.0.5", "pkg:gem/rack-protection@3.0.5") in edges
    assert (TAGGER, "pkg:gem/tilt@2.0.11") in edges


def test_dev_only_gems_dropped() -> None:
    names = {c.name for c in generate(FIXTURES / "app", GenerateOptions(exclude_dev=True)).components}
    assert "rspec-core" not in names and "diff-lcs" not in names and "rack" in names


def test_platform_and_checksums(tmp_path: Path) -> None:
    """Bundler 2.5's CHECKSUMS section and platform gems (Bundler 2.3 here writes neither): a minimal
    snippet of the format, not a fixture."""
    path = tmp_path / "Gemfile.lock"
    path.write_text(
        "GEM\n  remote: https://rubygems.org/\n  specs:\n    nokogiri (1.16.0-x86_64-linux)\n      racc (~> 1.4)\n"
        "    racc (1.7.3)\n\nPLATFORMS\n  x86_64-linux\n\nDEPENDENCIES\n  nokogiri\n\nCHECKSUMS\n"
        "  nokogiri (1.16.0-x86_64-linux) sha256=" + "a" * 64 + "\n  racc (1.7.3)\n\nBUNDLED WITH\n   2.5.4\n"
    )
    found = bundler.parse(path, path.read_text())
    noko = next(c for c in found.components if c.name == "nokogiri")
    assert noko.purl == "pkg:gem/nokogiri@1.16.0?platform=x86_64-linux"
    assert [(h.alg, h.value) for h in noko.hashes] == [("SHA-256", "a" * 64)]


def test_malformed(tmp_path: Path) -> None:
    path = tmp_path / "Gemfile.lock"
    path.write_text("GEM\n  remote: https://rubygems.org/\n  specs:\n  ???\n")
    with pytest.raises(InputError, match=r"Gemfile.lock: line 4: unexpected line in GEM"):
        bundler.parse(path, path.read_text())


def test_gemfile_alone(tmp_path: Path) -> None:
    (tmp_path / "Gemfile").write_text((FIXTURES / "app" / "Gemfile").read_text())
    found = bundler.parse_manifest(tmp_path / "Gemfile", (tmp_path / "Gemfile").read_text())
    assert {c.name: c.scope for c in found.components} == {
        "sinatra": REQUIRED,
        "greeter": REQUIRED,
        "tagger": REQUIRED,
        "rspec": DEV,
        "rack-test": DEV,
    }

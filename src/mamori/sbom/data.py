"""The SBOM data files (``mamori/data/sbom/*.yaml``: profiles, messages, field lists, licence tables), one loader."""

from __future__ import annotations

from importlib import resources
from typing import Any

from mamori.packaged import load_yaml_text


def load_data(name: str) -> Any:
    """A YAML data file from mamori/data/sbom, parsed (callers cache what they keep)."""
    text = resources.files("mamori").joinpath("data", "sbom", name).read_text(encoding="utf-8")
    return load_yaml_text(text)

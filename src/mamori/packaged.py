"""mamori's own data files (``src/mamori/data``, the message tables): read with libyaml's loader.

These files ship with mamori and are read at the start of most commands; PyYAML's C loader (``CSafeLoader``,
the same safe subset as ``yaml.safe_load``) reads them several times faster than the pure-Python one.
Files a user gives are read where their errors are reported, not here."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml_text(text: str) -> Any:
    """Parse the text of a packaged YAML file."""
    return yaml.load(text, Loader=_LOADER)


def load_yaml(*parts: str) -> Any:
    """The packaged YAML file ``mamori/<parts...>``, parsed."""
    return load_yaml_text(resources.files("mamori").joinpath(*parts).read_text(encoding="utf-8"))

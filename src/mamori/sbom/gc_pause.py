"""One switch every SBOM reader uses while it builds a document: the cyclic garbage collector off."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while an SBOM is parsed and mapped.

    Building a few hundred thousand containers triggers collection after collection, each walking
    everything built so far (on 50,000 CycloneDX components that triples the time), and finds nothing:
    every object is alive and none forms a cycle that needs the collector. It is switched back on
    afterwards, also when reading fails.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()

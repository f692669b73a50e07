"""CPE names for CVE 5 products their CNA names without one (``data/vulndb/cve5-products.yaml``).

The Linux kernel CNA writes its products as vendor "Linux", product "Linux", repo git.kernel.org,
with no CPE; an SBOM names the kernel ``cpe:2.3:o:linux:linux_kernel``. Without a CPE a product is
never matched by CPE, so the kernel CNA's own release-number entries would never decide. The
catalog says which products are which CPE; :func:`derived_cpes` applies it to one product.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from mamori.model.cpe import parse_cpe
from mamori.packaged import load_yaml_text

CATALOG = "data/vulndb/cve5-products.yaml"
_SEPARATORS = re.compile(r"[ _\-]+")


@dataclass(frozen=True, slots=True)
class KnownProduct:
    name: str
    cpe: str
    repos: frozenset[str]
    names: frozenset[tuple[str, str]]


def _repo(url: str) -> str:
    text = url.strip().lower().rstrip("/")
    return text.removesuffix(".git")


def _name(text: str) -> str:
    return _SEPARATORS.sub("_", text.strip().lower())


def parse_catalog(data: object, origin: str = CATALOG) -> list[KnownProduct]:
    """The catalog's entries; ValueError naming the entry when one is malformed."""
    if not isinstance(data, dict) or not isinstance(data.get("products"), list):
        raise ValueError(f"{origin}: no 'products' list")
    out = []
    for i, entry in enumerate(data["products"]):
        where = f"{origin}: products[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("cpe"), str):
            raise ValueError(f"{where}: no 'cpe'")
        if parse_cpe(entry["cpe"]) is None:
            raise ValueError(f"{where}: {entry['cpe']!r} is no CPE name")
        repos = entry.get("repos") or []
        names = entry.get("names") or []
        if not all(isinstance(r, str) for r in repos) or not all(
            isinstance(n, list) and len(n) == 2 and all(isinstance(x, str) for x in n) for n in names
        ):
            raise ValueError(f"{where}: 'repos' must be URLs, 'names' [vendor, product] pairs")
        if not repos and not names:
            raise ValueError(f"{where}: neither 'repos' nor 'names'")
        out.append(
            KnownProduct(
                name=str(entry.get("name") or entry["cpe"]),
                cpe=entry["cpe"],
                repos=frozenset(_repo(r) for r in repos),
                names=frozenset((_name(v), _name(p)) for v, p in names),
            )
        )
    return out


@cache
def catalog() -> tuple[KnownProduct, ...]:
    text = resources.files("mamori").joinpath(CATALOG).read_text(encoding="utf-8")
    return tuple(parse_catalog(load_yaml_text(text)))


def derived_cpes(vendor: str | None, product: str | None, repo: str | None) -> list[str]:
    """The CPE names the catalog gives a product identified by these fields (empty when none)."""
    if all(value is None or value.__class__ is str for value in (vendor, product, repo)):
        return list(_derived(vendor, product, repo))  # a new list: the caller's to keep
    return list(_derive(vendor, product, repo))


# Products repeat across records (8,127 CVE 5 records: 23,746 products, most of them a few vendors'):
# each is looked up once per process.
@lru_cache(maxsize=8192)
def _derived(vendor: str | None, product: str | None, repo: str | None) -> tuple[str, ...]:
    return _derive(vendor, product, repo)


def _derive(vendor: object, product: object, repo: object) -> tuple[str, ...]:
    key_repo = _repo(repo) if isinstance(repo, str) and repo.strip() else None
    key_name = (
        (_name(vendor), _name(product)) if isinstance(vendor, str) and isinstance(product, str) else None
    )
    return tuple(
        known.cpe
        for known in catalog()
        if (key_repo is not None and key_repo in known.repos)
        or (key_name is not None and key_name in known.names)
    )

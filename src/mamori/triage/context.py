"""The triage context: facts about how each product is used, given by the user in YAML (``--context FILE``).

Schema (documented with an example in docs/triage-context.md)::

    version: 1
    default:                       # every product without its own entry (optional)
      system_exposure: controlled
      mission_impact: {value: mef_support_crippled, reason: order intake stops}
    products:
      shop-portal:                 # the product name (the SBOM's root component, or --product)
        system_exposure: open
        components:                # optional, by purl without version (or with one, to pin it)
          pkg:npm/lodash: {system_exposure: small}

A point value is a scalar or ``{value: ..., reason: ...}``. Points are those listed under
``context_points`` in ``mamori/data/triage/variants.yaml``; values are any name the SSVC data accepts
(id, key, English or Japanese name). The most specific entry wins: component, then product, then default.

The context can also be a property of the product, set once with ``mamori product context set`` and kept
in the store (:mod:`mamori.portfolio.context`); :func:`product_context` turns it into a :class:`Context`
and :func:`layered` puts a context file over it (the file wins, point by point).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packageurl import PackageURL

from mamori.errors import InputError
from mamori.fileio import read_yaml
from mamori.i18n import gettext
from mamori.triage import ssvc
from mamori.triage.inputs import Input


@dataclass(frozen=True, slots=True)
class Entry:
    """One decision point value of a triage context, with its reason and where it was given."""

    value: str  # the point's value id
    reason: str | None
    where: str  # products.shop-portal.system_exposure
    origin: str | None = None  # how the input names it (default: "<file name>: <where>")


@dataclass(slots=True)
class ProductContext:
    """One product's triage context: its point values and per-component ones."""

    name: str
    points: dict[str, Entry] = field(default_factory=dict)
    components: list[tuple[tuple[str, str | None, str, str | None], dict[str, Entry]]] = field(
        default_factory=list
    )


def _purl_key(text: str) -> tuple[str, str | None, str, str | None] | None:
    try:
        p = PackageURL.from_string(text)
    except ValueError:
        return None
    return (p.type, p.namespace, p.name, p.version)


@dataclass(slots=True)
class Context:
    """A triage context: defaults, products and the stored context under the file."""

    path: str
    default: dict[str, Entry] = field(default_factory=dict)
    products: dict[str, ProductContext] = field(default_factory=dict)
    base: dict[str, Entry] = field(default_factory=dict)  # the product's stored context, under the file

    def product(self, name: str | None) -> ProductContext | None:
        return self.products.get(ssvc.norm(name)) if name else None

    @property
    def empty(self) -> bool:
        return not (self.default or self.products or self.base)

    def entries(self, product: str | None, purl: str | None = None) -> dict[str, Entry]:
        """Point → entry for one component of one product (component, then product, then default, then
        the product's stored context)."""
        out = dict(self.base)
        out.update(self.default)
        found = self.product(product)
        if found is None:
            return out
        out.update(found.points)
        key = _purl_key(purl) if purl else None
        if key is not None:
            for (ptype, ns, name, version), points in found.components:
                if (ptype, ns, name) == key[:3] and (version is None or version == key[3]):
                    out.update(points)
        return out

    def inputs(self, product: str | None, purl: str | None = None) -> dict[str, Input]:
        return {
            point: Input(
                point,
                e.value,
                "context",
                "context",
                (e.origin or f"{Path(self.path).name}: {e.where}") + (f" ({e.reason})" if e.reason else ""),
            )
            for point, e in self.entries(product, purl).items()
        }


def context_points() -> tuple[str, ...]:
    from mamori.triage.variants import variant_data

    return variant_data().context_points


def check_point(point: str, value: str, where: str | None = None) -> str:
    """The id of ``value`` for a context ``point`` (any name the SSVC data accepts); InputError naming
    ``where`` (default: the point) when the point is not a context point or the value not one of its."""
    allowed = context_points()
    if point not in allowed:
        raise InputError(
            None,
            gettext("{where}: not a context point; allowed: {allowed}").format(
                where=where or point, allowed=", ".join(allowed)
            ),
        )
    try:
        return ssvc.default_catalog().points[point].value(str(value)).id
    except InputError as exc:
        raise InputError(None, f"{where or point}: {exc.problem}") from None


def product_context(product: str, points: Mapping[str, tuple[str, str | None, str]]) -> Context:
    """A context of one product's stored points: point → (value id, reason, how to name its origin)."""
    base = {
        point: Entry(value, reason, f"product {product}: {point}", origin)
        for point, (value, reason, origin) in points.items()
    }
    return Context(f"product {product}", base=base)


def layered(stored: Context | None, given: Context | None) -> Context | None:
    """A context file (``given``) over the product's stored context: the file wins, point by point."""
    if stored is None or stored.empty:
        return given
    if given is None:
        return stored
    return Context(given.path, dict(given.default), dict(given.products), {**stored.base, **given.base})


def _points(raw: Any, where: str, path: str, *, allow_components: bool) -> tuple[dict[str, Entry], Any]:
    if raw is None:
        return {}, None
    if not isinstance(raw, Mapping):
        raise InputError(path, gettext("{where}: expected a mapping of decision points").format(where=where))
    catalog = ssvc.default_catalog()
    allowed = context_points()
    out: dict[str, Entry] = {}
    components = None
    for key, value in raw.items():
        k = str(key)
        if k == "components" and allow_components:
            components = value
            continue
        if k not in allowed:
            raise InputError(
                path,
                gettext("{where}.{k}: not a context point; allowed: {allowed}").format(
                    where=where, k=k, allowed=", ".join(allowed)
                ),
            )
        reason = None
        if isinstance(value, Mapping):
            reason = value.get("reason")
            value = value.get("value")
        if value is None or isinstance(value, list | Mapping):
            raise InputError(
                path,
                gettext("{where}.{k}: expected a value or {{value: ..., reason: ...}}").format(
                    where=where, k=k
                ),
            )
        try:
            chosen = catalog.points[k].value(str(value))
        except InputError as exc:
            raise InputError(path, f"{where}.{k}: {exc.problem}") from None
        out[k] = Entry(chosen.id, str(reason) if reason else None, f"{where}.{k}")
    return out, components


def parse_context(raw: Any, path: str | Path) -> Context:
    p = str(path)
    if not isinstance(raw, Mapping):
        raise InputError(
            p, gettext("a triage context must be a YAML mapping with 'default' and/or 'products'")
        )
    unknown = sorted(set(map(str, raw)) - {"version", "default", "products"})
    if unknown:
        raise InputError(
            p,
            gettext("unknown top-level key {key!r}; expected version, default, products").format(
                key=unknown[0]
            ),
        )
    if str(raw.get("version", 1)) != "1":
        raise InputError(
            p,
            gettext("unsupported context version {version!r}; expected 1").format(version=raw.get("version")),
        )
    ctx = Context(p)
    ctx.default, _ = _points(raw.get("default"), "default", p, allow_components=False)
    products = raw.get("products") or {}
    if not isinstance(products, Mapping):
        raise InputError(p, gettext("products: expected a mapping of product name → decision points"))
    for name, body in products.items():
        where = f"products.{name}"
        points, comps = _points(body, where, p, allow_components=True)
        product = ProductContext(str(name), points)
        if comps is not None:
            if not isinstance(comps, Mapping):
                raise InputError(
                    p,
                    gettext("{where}.components: expected a mapping of purl → decision points").format(
                        where=where
                    ),
                )
            for purl, cbody in comps.items():
                key = _purl_key(str(purl))
                if key is None:
                    raise InputError(
                        p,
                        gettext("{where}.components: {purl!r} is not a package URL").format(
                            where=where, purl=purl
                        ),
                    )
                cpoints, _ = _points(cbody, f"{where}.components.{purl}", p, allow_components=False)
                product.components.append((key, cpoints))
        if ssvc.norm(str(name)) in ctx.products:
            raise InputError(p, gettext("{where}: product given twice").format(where=where))
        ctx.products[ssvc.norm(str(name))] = product
    return ctx


def load_context(path: str | Path) -> Context:
    """Read and check a context file; InputError names the file and the key for anything wrong."""
    return parse_context(read_yaml(path), path)

"""A component's identity in the portfolio and the keys it is looked up by.

The identity is what matching depends on — purl, name, group, version and CPEs — so two SBOMs that
list the same library share one ``portfolio_component`` row and one evaluation. Its keys are the ones
the matcher looks records up by (:func:`mamori.match.target.target_for`): the OSV ecosystem and
normalised name, the purl2cpe link key, and vendor:product of every CPE the SBOM declares. An OS
package's source package (purl ``upstream`` qualifier, mamori's, Syft's or Trivy's properties) is
part of the identity and kept in the row (name, version, index key), so a stored component is
matched through its source like a scanned one and a new advisory for the source finds it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mamori.match.target import parse_purl, target_for
from mamori.model.cpe import index_key
from mamori.model.sbom import Component
from mamori.model.source_package import stored_property
from mamori.portfolio.tables import ComponentRow
from mamori.store.limits import fit_row

_SEP = "\x1f"


@dataclass(frozen=True, slots=True)
class Identity:
    key: str  # SHA-1 of the identity fields, the unique key of portfolio_component
    ref: str  # how people and triage records name it: the canonical purl, else name@version
    name: str
    group: str | None
    version: str | None
    purl: str | None
    purl_base: str | None
    cpes: tuple[str, ...]
    ecosystem: str | None
    name_key: str | None
    link: tuple[str, str, str] | None
    cpe_keys: frozenset[tuple[str, str]]
    problem: str | None
    source_name: str | None = None
    source_version: str | None = None
    source_name_key: str | None = None

    def row(self) -> dict[str, Any]:
        """The ``portfolio_component`` row, as every backend stores it the same (:func:`fit_row`)."""
        return fit_row(ComponentRow.__table__, self._row())

    def _row(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "ref": self.ref,
            "name": self.name,
            "component_group": self.group,
            "version": self.version,
            "purl": self.purl,
            "purl_base": self.purl_base,
            "cpes": "\n".join(self.cpes) or None,
            "ecosystem": self.ecosystem,
            "name_key": self.name_key,
            "link_type": self.link[0] if self.link else None,
            "link_namespace": self.link[1] if self.link else None,
            "link_name": self.link[2] if self.link else None,
            "problem": self.problem,
            "source_name": self.source_name,
            "source_version": self.source_version,
            "source_name_key": self.source_name_key,
        }


# the end of a canonical purl's base (type, namespace, name): its fields are percent-encoded, so the
# first "@" starts the version, "?" the qualifiers and "#" the subpath
_BASE_END = re.compile(r"[@?#]")


@lru_cache(maxsize=1 << 16)
def _canonical(purl: str | None) -> tuple[str | None, str | None]:
    """The canonical purl and the purl without version; (None, None) when it does not parse. The
    parse is the matcher's (:func:`mamori.match.target.parse_purl`, memoised), done once per purl."""
    if not purl:
        return None, None
    parsed = parse_purl(purl)
    if isinstance(parsed, str):
        return None, None
    canonical = parsed.to_string()
    return canonical, _BASE_END.split(canonical, maxsplit=1)[0]


def identity_of(component: Component) -> Identity:
    canonical, base = _canonical(component.purl)
    label = f"{component.group}/{component.name}" if component.group else component.name
    ref = canonical or (f"{label}@{component.version}" if component.version else label)
    cpes = tuple(component.cpes)
    target = target_for(component)
    package, source = target.package, target.source
    fields = (component.purl or "", component.group or "", component.name, component.version or "", *cpes)
    if source is not None:  # only then: the keys of other components stay what they were
        fields += ("source", source.name, target.source_version or "")
    key = hashlib.sha1(_SEP.join(fields).encode("utf-8"), usedforsecurity=False).hexdigest()
    return Identity(
        key=key,
        ref=ref,
        name=component.name,
        group=component.group,
        version=component.version,
        purl=component.purl,
        purl_base=base,
        cpes=cpes,
        ecosystem=package.ecosystem if package else None,
        name_key=package.name_key if package else None,
        link=target.link,
        cpe_keys=frozenset((index_key(n.vendor), index_key(n.product)) for n in target.cpes),
        problem=target.problem,
        source_name=source.name if source else None,
        source_version=target.source_version if source else None,
        source_name_key=source.name_key if source else None,
    )


def component_of(row: Any, local_ref: str) -> Component:
    """A ``portfolio_component`` row back as a model component (``bom_ref`` = ``local_ref``)."""
    return Component(
        name=row.name,
        version=row.version,
        group=row.component_group,
        purl=row.purl,
        cpes=row.cpes.split("\n") if row.cpes else [],
        bom_ref=local_ref,
        properties=[stored_property(row.source_name, row.source_version)] if row.source_name else [],
    )

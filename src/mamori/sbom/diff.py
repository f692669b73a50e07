"""``mamori sbom diff``: what changed between two SBOMs, component by component.

Components are matched by identity: the purl without its version (type/namespace/name, the qualifiers
in IDENTITY_QUALIFIERS, and the subpath), else group/name. The root (primary component) takes part too;
SPDX files do not (they are package contents, see check.checked_components).
When one side lists several versions under one identity, equal versions pair first; a single leftover
on each side is a version change, any other leftovers are removals and additions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from packageurl import PackageURL

from mamori.model import Component, Document
from mamori.sbom.check import checked_components, given
from mamori.sbom.licenses import LicenceError, equivalent

# purl qualifiers that name a different artifact of the same package (not a different release)
IDENTITY_QUALIFIERS = frozenset({"classifier", "type", "arch", "os", "platform", "extension"})
# qualifier values that are the type's default and therefore the same as leaving the qualifier out
_DEFAULT_QUALIFIERS = {("maven", "type", "jar")}
# strongest first: the algorithm used to report a hash change
_HASH_PREFERENCE = (
    "SHA-512",
    "SHA3-512",
    "SHA-384",
    "SHA3-384",
    "SHA-256",
    "SHA3-256",
    "BLAKE3",
    "BLAKE2B-512",
    "BLAKE2B-384",
    "BLAKE2B-256",
    "SHA-1",
    "MD5",
)


def _parse_purl(purl: str | None) -> PackageURL | None:
    if not given(purl):
        return None
    try:
        return PackageURL.from_string(str(purl).strip())
    except ValueError:
        return None


def canonical_purl(purl: str | None) -> str | None:
    """The purl in canonical form (qualifiers sorted, normalised), or None when absent or invalid."""
    parsed = _parse_purl(purl)
    return parsed.to_string() if parsed else None


def identity_key(comp: Component) -> str:
    """What stays the same across releases of one component: the purl minus version, else group/name."""
    parsed = _parse_purl(comp.purl)
    if parsed is not None:
        qualifiers = {
            k: v
            for k, v in (parsed.qualifiers or {}).items()
            if k in IDENTITY_QUALIFIERS and (parsed.type, k, v) not in _DEFAULT_QUALIFIERS
        }
        return PackageURL(
            type=parsed.type,
            namespace=parsed.namespace,
            name=parsed.name,
            qualifiers=qualifiers or None,
            subpath=parsed.subpath,
        ).to_string()
    name = (comp.name or "").strip()
    return f"{comp.group.strip()}/{name}" if comp.group else name


def same_license(a: str | None, b: str | None) -> bool:
    """Equal licence expressions, order and case aside (``MIT OR Apache-2.0`` == ``apache-2.0 or mit``)."""
    a = a.strip() if given(a) else None
    b = b.strip() if given(b) else None
    if a is None or b is None:
        return a is b
    if a == b:
        return True
    try:
        return equivalent(a, b)
    except LicenceError:
        return a.casefold() == b.casefold()


def supplier_name(comp: Component) -> str | None:
    if comp.supplier is not None and given(comp.supplier.name):
        return comp.supplier.name.strip()
    return comp.publisher.strip() if given(comp.publisher) else None


def _norm_alg(alg: str) -> str:
    alg = alg.upper().replace("_", "-")
    return {"SHA1": "SHA-1", "SHA256": "SHA-256", "SHA384": "SHA-384", "SHA512": "SHA-512"}.get(alg, alg)


def _hash_change(a: Component, b: Component) -> tuple[str, str, str] | None:
    before = {_norm_alg(h.alg): h.value.strip().lower() for h in a.hashes if given(h.value)}
    after = {_norm_alg(h.alg): h.value.strip().lower() for h in b.hashes if given(h.value)}
    common = [alg for alg in _HASH_PREFERENCE if alg in before and alg in after]
    common += sorted(set(before) & set(after) - set(common))
    changed = [alg for alg in common if before[alg] != after[alg]]
    if not changed:
        return None
    return changed[0], before[changed[0]], after[changed[0]]


@dataclass(slots=True)
class Change:
    """One component's change. ``before``/``after`` hold the changed value (version, licence, supplier, hash)."""

    key: str
    name: str
    group: str | None
    version: str | None
    before: str | None = None
    after: str | None = None
    alg: str | None = None
    purl: str | None = None

    def sort_key(self) -> tuple[str, str, str]:
        return (self.key, self.version or "", self.before or "")


@dataclass(slots=True)
class DiffReport:
    a: str
    b: str
    added: list[Change] = field(default_factory=list)
    removed: list[Change] = field(default_factory=list)
    version_changed: list[Change] = field(default_factory=list)
    license_changed: list[Change] = field(default_factory=list)
    supplier_changed: list[Change] = field(default_factory=list)
    hash_changed: list[Change] = field(default_factory=list)
    unchanged: int = 0

    CATEGORIES = (
        "added",
        "removed",
        "version_changed",
        "license_changed",
        "supplier_changed",
        "hash_changed",
    )

    def category(self, name: str) -> list[Change]:
        return getattr(self, name)

    @property
    def empty(self) -> bool:
        return not any(self.category(name) for name in self.CATEGORIES)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"a": self.a, "b": self.b, "summary": {}}
        out["summary"] = {name: len(self.category(name)) for name in self.CATEGORIES}
        out["summary"]["unchanged"] = self.unchanged
        for name in ("added", "removed"):
            out[name] = [
                {"key": c.key, "name": c.name, "group": c.group, "version": c.version, "purl": c.purl}
                for c in self.category(name)
            ]
        out["version_changed"] = [
            {"key": c.key, "name": c.name, "group": c.group, "before": c.before, "after": c.after}
            for c in self.version_changed
        ]
        for name in ("license_changed", "supplier_changed"):
            out[name] = [
                {
                    "key": c.key,
                    "name": c.name,
                    "group": c.group,
                    "version": c.version,
                    "before": c.before,
                    "after": c.after,
                }
                for c in self.category(name)
            ]
        out["hash_changed"] = [
            {
                "key": c.key,
                "name": c.name,
                "group": c.group,
                "version": c.version,
                "alg": c.alg,
                "before": c.before,
                "after": c.after,
            }
            for c in self.hash_changed
        ]
        return out


def _index(components: Iterable[Component]) -> dict[str, list[Component]]:
    index: dict[str, list[Component]] = {}
    for comp in components:
        index.setdefault(identity_key(comp), []).append(comp)
    return index


def _change(key: str, comp: Component, **values: str | None) -> Change:
    return Change(key=key, name=comp.name, group=comp.group, version=comp.version, purl=comp.purl, **values)


def _pair(
    left: list[Component], right: list[Component]
) -> tuple[list[tuple[Component, Component]], list[Component], list[Component]]:
    """Pair equal versions first; one leftover on each side pairs as a version change."""
    pairs: list[tuple[Component, Component]] = []
    rest_right = list(right)
    rest_left: list[Component] = []
    for comp in left:
        match = next((other for other in rest_right if (other.version or "") == (comp.version or "")), None)
        if match is None:
            rest_left.append(comp)
        else:
            rest_right.remove(match)
            pairs.append((comp, match))
    if len(rest_left) == 1 and len(rest_right) == 1:
        pairs.append((rest_left[0], rest_right[0]))
        return pairs, [], []
    return pairs, rest_left, rest_right


def _compare(report: DiffReport, key: str, old: Component, new: Component) -> None:
    changed = False
    if (old.version or "") != (new.version or ""):
        report.version_changed.append(_change(key, new, before=old.version, after=new.version))
        changed = True
    elif (hashes := _hash_change(old, new)) is not None:
        alg, before, after = hashes
        report.hash_changed.append(_change(key, new, alg=alg, before=before, after=after))
        changed = True
    if not same_license(old.licenses, new.licenses):
        report.license_changed.append(_change(key, new, before=old.licenses, after=new.licenses))
        changed = True
    old_supplier, new_supplier = supplier_name(old), supplier_name(new)
    if (old_supplier or "").casefold() != (new_supplier or "").casefold():
        report.supplier_changed.append(_change(key, new, before=old_supplier, after=new_supplier))
        changed = True
    if not changed:
        report.unchanged += 1


def diff_documents(a: Document, b: Document, *, a_name: str = "A", b_name: str = "B") -> DiffReport:
    """Compare two SBOMs. Lists are sorted by identity key, then version: stable output."""
    report = DiffReport(a=a_name, b=b_name)
    old_index = _index(checked_components(a))
    new_index = _index(checked_components(b))
    for key in sorted(old_index.keys() | new_index.keys()):
        pairs, removed, added = _pair(old_index.get(key, []), new_index.get(key, []))
        report.removed.extend(_change(key, comp) for comp in removed)
        report.added.extend(_change(key, comp) for comp in added)
        for old, new in pairs:
            _compare(report, key, old, new)
    for name in report.CATEGORIES:
        report.category(name).sort(key=Change.sort_key)
    return report

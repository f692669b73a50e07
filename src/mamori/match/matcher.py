"""The matcher: components → hits (one per component, record entry and way of matching) and
"not evaluated" notes, reading the store in bulk through :class:`Knowledge`.

An OS package is looked up by its own name and by its source package's (``Target.lookups``), both
keys in the same bulk query.

Coverage: a component whose purl names an OSV ecosystem is evaluated only when some source holds
that ecosystem whole (a complete feed, :mod:`mamori.vulndb.coverage`); one looked up by CPE only
needs the ``cpe`` scope complete (NVD, JVN or CVE 5). Otherwise it is "not evaluated" (reason
``coverage``) — the loose records that are there are still matched and their hits reported.

Per batch of components: one query per chunk of (ecosystem, name) keys on ``affected_package``, one
per chunk of (vendor, product) keys on ``affected_cpe``, one per chunk of candidate advisories
(documents parsed once and cached), nothing per component.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from mamori.dataclass_code import slot_setters
from mamori.match import cpe as cpe_rules
from mamori.match import cve5, purl, reasons
from mamori.match.cpe import CpeMatch, CpeTarget
from mamori.match.ecosystems import GENERIC, PackageKey, release_matches
from mamori.match.knowledge import Advisory, CpeRow, Knowledge, PackageRow
from mamori.match.purl import OsvAffected
from mamori.match.target import Target, target_for
from mamori.match.verdict import CPE_CONFIG, PURL2CPE, PURL2CPE_WEAK, PURL_RANGE, Verdict
from mamori.model.cpe import CpeName, index_key
from mamori.model.linkrule import reason as link_reason
from mamori.model.sbom import Component
from mamori.store import Store
from mamori.vulndb.coverage import CPE_SCOPE

CONFIDENCE = {
    PURL_RANGE: "high",
    "purl-version-list": "high",
    CPE_CONFIG: "medium",
    PURL2CPE: "low",
    PURL2CPE_WEAK: "weak",
}


@dataclass(frozen=True, slots=True, init=False)
class Hit:
    """One component affected according to one entry of one record."""

    component: int
    vuln_id: str
    method: str
    confidence: str
    detail: str
    source: str
    record_id: str
    fixed: str | None = None

    def __init__(
        self,
        component: int,
        vuln_id: str,
        method: str,
        confidence: str,
        detail: str,
        source: str,
        record_id: str,
        fixed: str | None = None,
    ) -> None:  # the generated one, its fields set through their slots (~20,000 hits a scan)
        s_component, s_vuln_id, s_method, s_confidence, s_detail, s_source, s_record_id, s_fixed = _HIT_SLOTS
        s_component(self, component)
        s_vuln_id(self, vuln_id)
        s_method(self, method)
        s_confidence(self, confidence)
        s_detail(self, detail)
        s_source(self, source)
        s_record_id(self, record_id)
        s_fixed(self, fixed)

    def at(self, component: int) -> Hit:
        """The same hit for another component index (cached results are reused across SBOMs)."""
        return Hit(
            component,
            self.vuln_id,
            self.method,
            self.confidence,
            self.detail,
            self.source,
            self.record_id,
            self.fixed,
        )


_HIT_SLOTS = slot_setters(Hit)


@dataclass(frozen=True, slots=True)
class Skip:
    """A component, or one record for it (``vuln_id``), that could not be evaluated: the reason code
    (:mod:`mamori.match.reasons`) and the values its words are filled with."""

    component: int
    code: str
    values: tuple[tuple[str, str | int], ...] = ()
    vuln_id: str | None = None

    def at(self, component: int) -> Skip:
        return Skip(component, self.code, self.values, self.vuln_id)


@dataclass(slots=True)
class MatchOutput:
    """What matching an SBOM's components gave: the targets, the hits and the skipped ones."""

    targets: list[Target]
    hits: list[Hit] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    uncachable: set[int] = field(default_factory=set)  # components whose result used the rest of the SBOM


def _through_source(verdict: Verdict, name: str, version: str) -> Verdict:
    """The verdict of a lookup by source package, saying so in its detail or reason."""
    said = f"source package {name} {version}"
    if verdict.affected:
        return Verdict(True, verdict.method, f"{said}; {verdict.detail}", verdict.fixed)
    if verdict.affected is None:
        return Verdict(None, verdict.method, verdict.detail, reason=f"{said}: {verdict.reason}")
    return verdict


def _cpe_version(name: CpeName, fallback: str | None) -> str | None:
    if name.version not in ("*", "-", ""):
        return cpe_rules.plain(name.version)
    return fallback


# per package key: the OSV entries to evaluate (row, entry), and the CVE 5 products per record
_Plan = tuple[list[tuple[PackageRow, OsvAffected]], dict[tuple[str, str, str], list[dict[str, Any]]]]


def _plan(key: PackageKey, rows: list[PackageRow], advisories: dict[str, Advisory]) -> _Plan:
    """What of ``rows`` applies to ``key`` whatever the version: not withdrawn, of the key's release,
    entries that exist (parsed), in the rows' order."""
    entries: list[tuple[PackageRow, OsvAffected]] = []
    products: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in rows:
        adv = advisories.get(row.vuln_id)
        if (
            adv is None
            or adv.withdrawn
            or (adv.withdrawn_records and adv.record_withdrawn(row.source, row.record_id))
        ):
            continue
        if row.variant and key.release and not release_matches(row.variant, key.release):
            continue
        if row.origin == "package":
            entry = adv.package(row.position)
            if entry is not None:
                entries.append((row, entry))
        else:
            found = adv.product(row.position)
            if found is not None:
                products.setdefault((row.vuln_id, row.source, row.record_id), []).append(found[0])
    return entries, products


class _Elsewhere:
    """The rest of the SBOM, for AND configurations; remembers whether it was asked."""

    def __init__(self, by_product: dict[tuple[str, str], list[CpeTarget]]) -> None:
        self.by_product = by_product
        self.asked = False

    def __call__(self, m: CpeMatch) -> bool:
        self.asked = True
        key = (index_key(m.name.vendor), index_key(m.name.product))
        return any(cpe_rules.hit(m, ct) is True for ct in self.by_product.get(key, ()))


class Matcher:
    """Matches components against one store; keep it to reuse its caches across scans.

    What a component gives (its hits and notes) depends only on the component and the store, so it
    is cached per component identity for the store's current generation — except when an AND
    configuration consulted the rest of the SBOM, which is never cached.

    ``weak_links``: also match through weak purl2cpe links (the CPE product does not plausibly name
    the package, docs/purl2cpe.md); their findings carry method ``purl2cpe-weak``, confidence weak.
    """

    def __init__(self, store: Store, *, weak_links: bool = False) -> None:
        self.knowledge = Knowledge(store)
        self.weak_links = weak_links
        self._epoch = -1
        self._results: dict[Target, tuple[list[Hit], list[Skip]]] = {}
        self.shared: dict[str, dict[Any, Any]] = {}  # other per-generation caches (finding descriptions)
        self._held = 0  # inside one_generation(): the store is not checked again on each match

    def _refresh(self) -> None:
        k = self.knowledge
        k.refresh()
        if k.epoch != self._epoch:
            self._results.clear()
            self.shared.clear()
            self._epoch = k.epoch

    @contextlib.contextmanager
    def one_generation(self) -> Iterator[None]:
        """Check the store for a change once, on entry, and match the block's batches against what was
        read then (a run of many :meth:`match` calls; without it each call checks, a few queries)."""
        self._refresh()
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1

    def match(self, components: Sequence[Component]) -> MatchOutput:
        if not self._held:
            self._refresh()
        targets = [target_for(c) for c in components]
        out = MatchOutput(targets)
        todo = []
        for i, t in enumerate(targets):
            cached = self._results.get(t)
            if cached is None:
                todo.append(i)
                continue
            out.hits.extend(h.at(i) for h in cached[0])
            out.skipped.extend(sk.at(i) for sk in cached[1])
        if todo:
            self._match_new(targets, todo, out)
        return out

    def _match_new(self, all_targets: list[Target], todo: list[int], out: MatchOutput) -> None:
        targets = [all_targets[i] for i in todo]
        part = MatchOutput(targets)
        self._evaluate(targets, part, all_targets)
        hits: dict[int, list[Hit]] = {}
        skips: dict[int, list[Skip]] = {}
        for h in part.hits:
            hits.setdefault(h.component, []).append(h)
        for sk in part.skipped:
            skips.setdefault(sk.component, []).append(sk)
        for local, index in enumerate(todo):
            mine, notes = hits.get(local, []), skips.get(local, [])
            if local not in part.uncachable:
                self._results[targets[local]] = (mine, notes)
            if local == index:  # hits and skips are frozen: the cached ones serve as they are
                out.hits.extend(mine)
                out.skipped.extend(notes)
            else:
                out.hits.extend(h.at(index) for h in mine)
                out.skipped.extend(sk.at(index) for sk in notes)

    def _evaluate(self, targets: list[Target], out: MatchOutput, sbom: list[Target]) -> None:
        k = self.knowledge
        cpe_targets = self._cpe_targets(targets, out)
        package_keys = {
            (key.ecosystem, key.name_key) for t in targets if not t.problem for key, _, _ in t.lookups()
        }
        package_rows = k.package_rows(package_keys)
        cpe_keys = {
            (index_key(ct.name.vendor), index_key(ct.name.product)) for cts in cpe_targets for ct in cts
        }
        cpe_rows = k.cpe_rows(cpe_keys)
        wanted = {r.vuln_id for rows in package_rows.values() for r in rows}
        wanted |= {r.vuln_id for rows in cpe_rows.values() for r in rows}
        advisories = k.advisories(wanted)
        by_product: dict[tuple[str, str], list[CpeTarget]] = {}
        for cts in self._cpe_targets(sbom, MatchOutput(sbom)) if len(sbom) != len(targets) else cpe_targets:
            for ct in cts:
                by_product.setdefault((index_key(ct.name.vendor), index_key(ct.name.product)), []).append(ct)

        plans: dict[PackageKey, _Plan] = {}
        for i, t in enumerate(targets):
            if t.problem:
                continue
            if t.package is not None:
                self._covered(i, t.package.ecosystem, out)
                for key, version, through_source in t.lookups():
                    rows = package_rows.get((key.ecosystem, key.name_key), [])
                    self._packages(i, t, key, version, through_source, rows, advisories, out, plans)
            elif not cpe_targets[i]:
                out.skipped.append(Skip(i, reasons.UNKNOWN_ECOSYSTEM, (("type", t.purl_type or ""),)))
            else:
                self._covered(i, CPE_SCOPE, out)
            elsewhere = _Elsewhere(by_product)
            for ct in cpe_targets[i]:
                rows_c = cpe_rows.get((index_key(ct.name.vendor), index_key(ct.name.product)), [])
                self._cpes(i, t, ct, rows_c, advisories, elsewhere, out)
            if elsewhere.asked:
                out.uncachable.add(i)

    def _covered(self, i: int, scope: str, out: MatchOutput) -> None:
        """Note the component as not evaluated unless some source holds ``scope`` whole."""
        state = self.knowledge.scope(scope)
        if not state.complete:
            out.skipped.append(Skip(i, reasons.COVERAGE, (("scope", scope), ("records", state.records))))

    def scopes(self, target: Target) -> tuple[str, ...]:
        """The coverage scopes a component is looked up in: its purl's OSV ecosystem, and ``cpe`` when
        it has a CPE to match (declared, or linked to its purl through purl2cpe)."""
        return self.scopes_of([target])[0]

    def scopes_of(self, targets: Sequence[Target]) -> list[tuple[str, ...]]:
        """:meth:`scopes` of every target, their purl2cpe links read in one go."""
        keys = {t.link for t in targets if t.link is not None and t.version and not t.problem}
        links = self.knowledge.links_of(keys) if keys else {}
        out: list[tuple[str, ...]] = []
        for t in targets:
            if t.problem:
                out.append(())
                continue
            found = [t.package.ecosystem] if t.package is not None else []
            if t.cpes or (t.link is not None and t.version and links.get(t.link)):
                found.append(CPE_SCOPE)
            out.append(tuple(found))
        return out

    def _cpe_targets(self, targets: list[Target], out: MatchOutput) -> list[list[CpeTarget]]:
        keys = {t.link for t in targets if t.link is not None and t.version and not t.problem}
        links = self.knowledge.links_of(keys)
        weak = self.knowledge.weak_links_of(keys) if self.weak_links else {}
        result: list[list[CpeTarget]] = []
        for i, t in enumerate(targets):
            found: list[CpeTarget] = []
            if t.problem:
                code = t.problem_code or reasons.BAD_IDENTIFIER
                out.skipped.append(Skip(i, code, (("detail", t.problem), ("no_version", not t.version))))
                result.append(found)
                continue
            cls = t.cls or GENERIC
            for name in t.cpes:
                version = _cpe_version(name, t.version)
                if version:
                    found.append(CpeTarget(name, version, cls))
            if t.link is not None and t.version:
                seen = {(index_key(n.vendor), index_key(n.product)) for n in t.cpes}
                for vendor, product in links.get(t.link, ()):
                    if (vendor, product) not in seen:
                        seen.add((vendor, product))
                        found.append(
                            CpeTarget(CpeName("*", vendor, product, t.version), t.version, cls, True)
                        )
                for vendor, product, rule in weak.get(t.link, ()):
                    if (vendor, product) not in seen:
                        seen.add((vendor, product))
                        name = CpeName("*", vendor, product, t.version)
                        found.append(CpeTarget(name, t.version, cls, True, weak=rule))
            result.append(found)
        return result

    @staticmethod
    def _record(
        out: MatchOutput, i: int, verdict: Verdict, vuln_id: str, method: str, source: str, record: str
    ) -> None:
        if verdict.affected:
            out.hits.append(
                Hit(i, vuln_id, method, CONFIDENCE[method], verdict.detail, source, record, verdict.fixed)
            )
        elif verdict.affected is None:
            detail = verdict.reason or f"{record}: cannot be evaluated"
            out.skipped.append(Skip(i, reasons.CANNOT_COMPARE, (("detail", detail),), vuln_id))

    def _packages(
        self,
        i: int,
        t: Target,
        key: PackageKey,
        version: str,
        through_source: bool,
        rows: list[PackageRow],
        advisories: dict[str, Advisory],
        out: MatchOutput,
        plans: dict[PackageKey, _Plan],
    ) -> None:
        """The advisories naming ``key``, evaluated at ``version`` (the source package's name and
        version when ``through_source``, which the evidence then says). CVE 5 products are read per
        record, together (the CNA's before CISA ADP's).

        ``plans`` keeps per key what does not depend on the version (the rows left after withdrawn
        records and other releases, their entries parsed): components of one package share it."""
        plan = plans.get(key)
        if plan is None:
            plan = plans[key] = _plan(key, rows, advisories)
        entries, products = plan
        for row, verdict in purl.evaluate_many(entries, version):  # most pairs: nothing to record
            method = verdict.method or PURL_RANGE
            if through_source:
                verdict = _through_source(verdict, key.name, version)
            self._record(out, i, verdict, row.vuln_id, method, row.source, row.record_id)
        if not products:
            return
        label = f"{key.ecosystem} {key.name}"
        for (vuln_id, source, record), found in products.items():
            verdict = cve5.evaluate_record(found, version, t.cls, label)
            if through_source:
                verdict = _through_source(verdict, key.name, version)
            self._record(out, i, verdict, vuln_id, PURL_RANGE, source, record)

    def _cpes(
        self,
        i: int,
        t: Target,
        ct: CpeTarget,
        rows: list[CpeRow],
        advisories: dict[str, Advisory],
        elsewhere: cpe_rules.Elsewhere,
        out: MatchOutput,
    ) -> None:
        method = (PURL2CPE_WEAK if ct.weak else PURL2CPE) if ct.derived else CPE_CONFIG
        hint = t.cls
        records: dict[tuple[str, str, str], list[dict[str, Any]]] = {}  # CVE 5 products, read per record
        for row in rows:
            adv = advisories.get(row.vuln_id)
            if adv is None or adv.withdrawn:
                continue
            if row.origin == "configuration":
                config = adv.configuration(row.position)
                if config is None or adv.record_withdrawn(config.source, config.record_id):
                    continue
                verdict = cpe_rules.evaluate_configuration(config, ct, elsewhere)
                source, record = config.source, config.record_id
            else:
                found = adv.product(row.position)
                if found is None:
                    continue
                raw, names = found
                source, record = str(raw.get("source") or ""), str(raw.get("record_id") or "")
                if adv.record_withdrawn(source, record) or not cpe_rules.product_matches(names, ct.name):
                    continue
                records.setdefault((row.vuln_id, source, record), []).append(raw)
                continue
            self._cpe_hit(out, i, ct, verdict, row.vuln_id, method, source, record)
        label = f"{ct.name.vendor}:{ct.name.product}"
        for (vuln_id, source, record), products in records.items():
            verdict = cve5.evaluate_record(products, ct.version, hint, label)
            self._cpe_hit(out, i, ct, verdict, vuln_id, method, source, record)

    def _cpe_hit(
        self,
        out: MatchOutput,
        i: int,
        ct: CpeTarget,
        verdict: Verdict,
        vuln_id: str,
        method: str,
        source: str,
        record: str,
    ) -> None:
        if ct.derived and verdict.affected:
            via = f"purl2cpe weak link ({ct.weak}: {link_reason(ct.weak)})" if ct.weak else "purl2cpe"
            verdict = Verdict(
                True,
                detail=f"{via} → {ct.name.vendor}:{ct.name.product}; {verdict.detail}",
                fixed=verdict.fixed,
            )
        self._record(out, i, verdict, vuln_id, method, source, record)

"""One triage state per finding, whatever says it: the user's own triage records and VEX statements.

Every report, ``mamori portfolio findings`` and the gate read the state from :class:`Resolver`, so one
finding has one status everywhere:

========================  ==================================================================
status                    meaning
========================  ==================================================================
``open``                  nothing says anything about it yet (no record, no VEX statement)
``under_investigation``   someone is looking at it
``affected``              it is exploitable in this product: act (the action says how)
``not_affected``          it cannot be exploited here (the justification says why)
``fixed``                 this release contains the fix
========================  ==================================================================

``not_affected`` and ``fixed`` leave the gate (``--fail-on``, policy rules) but stay in every report,
marked. Where several statements speak about one finding, precedence decides:

0. an unexpired entry of the project's ignore file (origin ``ignore``, :mod:`mamori.triage.ignorefile`;
   ``mamori scan`` only, never stored) beats records and VEX;
1. the user's own triage record (``mamori triage record``) beats any VEX statement;
2. among VEX statements (imported with ``mamori vex import``, stored as records of origin ``vex``, or
   given with ``--vex``) the newest wins (the statement's last update, else its first issue, else the
   document's time);
3. at equal times a statement about the component beats one about the whole release, and then a
   ``--vex`` file given on the command line beats what is stored, a later file an earlier one.

The statements that lost are kept (:attr:`FindingState.overridden`) so a report can show them. No I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from packageurl import PackageURL

from mamori.model import merge
from mamori.model.vex import VexDocument, VexStatement
from mamori.scan.result import ComponentRef
from mamori.triage.records import IGNORE, USER, WHOLE_RELEASE, TriageRecord
from mamori.triage.texts import state_label, text
from mamori.triage.vexmatch import ScannedProduct, matches, whole_product

OPEN = "open"
STATUSES = (OPEN, "under_investigation", "affected", "not_affected", "fixed")
OUT_OF_GATE = frozenset({"not_affected", "fixed"})
RECORD = "record"  # the user's own triage record
IGNORED = "ignore"  # an entry of the project's ignore file (.mamoriignore)
VEX = "vex"  # a VEX statement (imported into the store, or a --vex file)


@dataclass(frozen=True, slots=True)
class Origin:
    """Who said it, when, and where it was read."""

    kind: str  # record | vex
    who: str | None = None  # record: who decided; VEX: the author it names (else the file)
    at: str | None = None  # ISO 8601
    source: str | None = None  # VEX: the document (file name, id); record: None
    version: int | None = None  # record: its version
    stored: bool = False  # VEX: imported into the store (False: a --vex file of this run)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "who": self.who,
            "at": self.at,
            "source": self.source,
            "version": self.version,
            "stored": self.stored,
        }

    def describe(self, lang: str = "en") -> str:
        at = self.at or "?"
        if self.kind == RECORD:
            return text("origin_record", lang, version=self.version or 1, who=self.who or "?", at=at)
        if self.kind == IGNORED:
            return text("origin_ignore", lang, source=self.source or "?")
        key = "origin_vex_stored" if self.stored else "origin_vex"
        return text(key, lang, who=self.who or "?", source=self.source or "?", at=at)


@dataclass(frozen=True, slots=True)
class FindingState:
    """The status of one finding, with what it rests on."""

    status: str = OPEN
    justification: str | None = None  # not_affected: the CISA justification
    responses: tuple[str, ...] = ()  # CycloneDX responses
    detail: str | None = None  # impact statement (not_affected), action (affected), else the notes
    origin: Origin | None = None
    overridden: tuple[tuple[str, Origin], ...] = ()  # (status, origin) of statements that lost
    whole_release: bool = False  # said of the whole release, not of this component

    @property
    def in_gate(self) -> bool:
        """False for not_affected and fixed: the finding stays visible, outside ``--fail-on`` and policies."""
        return self.status not in OUT_OF_GATE

    def label(self, lang: str = "en") -> str:
        return state_label(self.status, lang)

    def justification_label(self, lang: str = "en") -> str | None:
        if not self.justification:
            return None
        from mamori.vex.mapping import mapping  # the VEX package: when a state has a justification

        found = mapping().justification_label.get(self.justification)
        return found[lang] if found else self.justification

    def summary(self, lang: str = "en") -> str:
        """``not affected (the vulnerable code is not in the product) — VEX from … at …``."""
        shown = self.label(lang)
        why = self.justification_label(lang)
        if why:
            shown += f" ({why})"
        if self.origin is not None:
            shown += f" — {self.origin.describe(lang)}"
        return shown

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "status": self.status,
            "label": self.label(lang),
            "justification": self.justification,
            "justification_label": self.justification_label(lang),
            "responses": list(self.responses),
            "detail": self.detail,
            "in_gate": self.in_gate,
            "whole_release": self.whole_release,
            "origin": self.origin.as_dict() if self.origin is not None else None,
            "overridden": [{"status": s, "origin": o.as_dict()} for s, o in self.overridden],
        }


UNSTATED = FindingState()


def _stamp(text_or_time: str | datetime | None) -> str:
    """A comparable UTC ISO time ('' when unknown)."""
    if text_or_time is None:
        return ""
    when = text_or_time
    if isinstance(when, str):
        try:
            when = datetime.fromisoformat(when.replace("Z", "+00:00"))
        except ValueError:
            return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat()


def canonical_purl(purl: str | None) -> str | None:
    """The purl in its canonical spelling (qualifiers sorted, encodings normalised); None when it is no purl."""
    if not purl:
        return None
    return _canonical(purl)


@lru_cache(maxsize=65536)
def _canonical(purl: str) -> str | None:
    try:
        return PackageURL.from_string(purl.strip()).to_string()
    except ValueError:
        return None


def _applies(r: TriageRecord, purl: str | None) -> bool:
    """The record speaks about this component: the whole release, the same purl, or (an ignore file
    entry) a purl without version naming the same package."""
    if r.component_purl in (WHOLE_RELEASE, purl):
        return True
    if r.origin != IGNORE or purl is None:
        return False
    try:
        wanted, have = PackageURL.from_string(r.component_purl), PackageURL.from_string(purl)
    except ValueError:
        return False
    return wanted.version is None and (wanted.type, wanted.namespace, wanted.name) == (
        have.type,
        have.namespace,
        have.name,
    )


@dataclass(frozen=True, slots=True)
class _Claim:
    """A candidate status of a finding and its rank."""

    rank: tuple[Any, ...]
    state: FindingState


def statement_detail(st: VexStatement) -> str | None:
    """What a VEX statement says besides its status: the impact of a not_affected one, the action of an
    affected one (its responses in words when it gives no text), else its detail."""
    if st.status == "not_affected":
        return st.impact_statement or st.detail
    if st.status == "affected":
        from mamori.vex.mapping import mapping

        return st.action_statement or st.detail or mapping().responses_text(st.responses) or None
    return st.detail or st.impact_statement or st.action_statement


def _record_claim(r: TriageRecord, order: int) -> _Claim:
    whole = r.component_purl == WHOLE_RELEASE
    if r.origin == IGNORE:  # the project's ignore file: the decision checked in with the code wins
        origin = Origin(IGNORED, r.who, r.at, r.source, None)
        priority = 3
    elif r.origin == USER:
        origin = Origin(RECORD, r.who, r.at, None, r.version)
        priority = 2
    else:
        origin = Origin(VEX, r.who, r.at, r.source, r.version, stored=True)
        priority = 1
    state = FindingState(r.status, r.justification, tuple(r.responses), r.detail, origin, (), whole)
    return _Claim((priority, _stamp(r.at), not whole, order), state)


def _author(doc: VexDocument, path: str) -> str:
    return doc.author or Path(path).name


def source_label(path: str | Path, doc: VexDocument) -> str:
    """How a VEX document is named as an origin: its file name, and its id when it has one."""
    name = Path(path).name
    return f"{name} ({doc.id})" if doc.id and doc.id != name else name


def _vex_claim(path: str, doc: VexDocument, st: VexStatement, whole: bool, order: int) -> _Claim:
    from mamori.vex.fields import iso

    stamp = st.last_updated or st.timestamp or doc.last_updated or doc.timestamp
    at = iso(stamp) if stamp is not None else None
    origin = Origin(VEX, _author(doc, path), at, source_label(path, doc))
    state = FindingState(
        st.status,
        st.justification if st.status == "not_affected" else None,
        tuple(st.responses),
        statement_detail(st),
        origin,
        (),
        whole,
    )
    return _Claim((1, _stamp(stamp), not whole, order), state)


def vex_dict(st: VexStatement, source: str) -> dict[str, Any]:
    """A VEX statement as reports carry it (``finding.vex``)."""
    from mamori.vex.fields import iso

    out: dict[str, Any] = {"status": st.status, "source": source}
    for key in ("justification", "impact_statement", "action_statement", "detail"):
        if getattr(st, key):
            out[key] = getattr(st, key)
    if st.responses:
        out["responses"] = list(st.responses)
    stamp = st.last_updated or st.timestamp
    if stamp is not None:
        out["timestamp"] = iso(stamp)
    return out


@dataclass(slots=True)
class Resolved:
    """The state of one finding, and the VEX statement (newest) that applies, if any."""

    state: FindingState
    vex: dict[str, Any] | None = None


@dataclass(slots=True)
class Resolver:
    """Answers "what is the status of this vulnerability in this component?" from records and VEX.

    ``records`` are the triage records (both origins) of the release the findings belong to (or of
    several releases: :meth:`state` then takes the release); ``documents`` the VEX files given for this
    run, in the order given; ``scanned`` identifies the product, so that statements about the product as
    a whole and BOM-Links into its SBOM are told.
    """

    records: Iterable[TriageRecord] = ()
    documents: Sequence[tuple[str | Path, VexDocument]] = ()
    scanned: ScannedProduct | None = None
    _by_vuln: dict[str, list[TriageRecord]] = field(default_factory=dict, init=False)
    _statements: dict[str, list[tuple[int, str, VexDocument, VexStatement]]] = field(
        default_factory=dict, init=False
    )

    def __post_init__(self) -> None:
        for r in self.records:
            self._by_vuln.setdefault(merge.key(r.vulnerability), []).append(r)
        for order, (path, doc) in enumerate(self.documents):
            for st in doc.statements:
                for vid in dict.fromkeys((st.vulnerability.id, *st.vulnerability.aliases)):
                    self._statements.setdefault(merge.key(vid), []).append((order, str(path), doc, st))

    @property
    def empty(self) -> bool:
        """No record and no statement: every finding is :data:`UNSTATED`, without a VEX statement."""
        return not self._by_vuln and not self._statements

    def resolve(
        self, component: ComponentRef, ids: Iterable[str], release: tuple[str, str] | None = None
    ) -> Resolved:
        """The state of the vulnerability named by ``ids`` (id and aliases) in ``component``; with
        records of several releases, ``release`` = (product, release) says which apply."""
        if not self._by_vuln and not self._statements:
            return Resolved(UNSTATED, None)  # no record or statement at all (the usual scan)
        keys = list(dict.fromkeys(merge.key(i) for i in ids))
        if not any(key in self._by_vuln or key in self._statements for key in keys):
            return Resolved(UNSTATED, None)  # nothing was said about this vulnerability
        claims: list[_Claim] = []
        purl = canonical_purl(component.purl)
        seen: set[tuple[str, ...]] = set()
        for key in keys:
            for r in self._by_vuln.get(key, ()):
                if release is not None and (r.product, r.release) != release:
                    continue
                if not _applies(r, purl) or r.key in seen:
                    continue
                seen.add(r.key)
                claims.append(_record_claim(r, 0))
        best_vex: tuple[tuple[Any, ...], dict[str, Any]] | None = None
        used: set[int] = set()
        for key in keys:
            for order, path, doc, st in self._statements.get(key, ()):
                if id(st) in used:
                    continue
                if st.products:
                    hits = [p for p in st.products if matches(p, component, self.scanned)]
                    if not hits:
                        continue
                    whole = all(whole_product(p, self.scanned) for p in hits)
                else:
                    whole = True  # every product of the document's author
                used.add(id(st))
                claim = _vex_claim(path, doc, st, whole, 1000 + order)
                claims.append(claim)
                if best_vex is None or claim.rank >= best_vex[0]:
                    best_vex = (claim.rank, vex_dict(st, Path(path).name))
        if not claims:
            return Resolved(UNSTATED, None)
        claims.sort(key=lambda c: c.rank)
        winner = claims[-1].state
        losers = tuple((c.state.status, c.state.origin) for c in reversed(claims[:-1]) if c.state.origin)
        state = FindingState(
            winner.status,
            winner.justification,
            winner.responses,
            winner.detail,
            winner.origin,
            losers,
            winner.whole_release,
        )
        return Resolved(state, best_vex[1] if best_vex is not None else None)

    def state(
        self, component: ComponentRef, ids: Iterable[str], release: tuple[str, str] | None = None
    ) -> FindingState:
        return self.resolve(component, ids, release).state


def counts(states: Iterable[FindingState]) -> dict[str, int]:
    """How many findings have each status (every status listed, in :data:`STATUSES` order)."""
    out = dict.fromkeys(STATUSES, 0)
    for s in states:
        out[s.status] = out.get(s.status, 0) + 1
    return out

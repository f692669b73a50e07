"""The JSON report, in the shape issue 5 gives (plus ``not_evaluated`` and ``coverage``).

``{"target", "sbom": {"format", "components"}, "database": {"sources": {src: {"records", "updated"}}},
"coverage": {...}, "findings": [{"component": {...}, "vulnerability": {...}, "match": {...}, "status", "state": {...}}],
"not_evaluated": [{"component", "reason", "reason_code", "vulnerability"}], "warnings": [...],
"summary": {"by_rating", "by_status", "components_affected", "components_not_evaluated"}}``

``status`` is the finding's one triage status (mamori.triage.state: open, under_investigation, affected,
not_affected, fixed) and ``state`` what it rests on.

``coverage`` (:func:`coverage_dict`): ``complete`` (nothing keeps the result from being judged),
``demo``, ``empty``, ``updated`` (newest import), ``newest_record``, ``max_age_days``,
``components_not_evaluated``, ``not_evaluated_by_reason`` (reason code → components), ``problems``
(``code``, ``message`` and values: why ``mamori scan`` exits 3) and ``scopes``: per scope the scan
used, ``complete``, ``source``, ``complete_at``, ``age_days``, ``origin``, ``records``, ``sources``,
``components``, ``not_evaluated``, ``stale``.

``fix_first`` (mamori.report.fix_first): per component, the smallest upgrade that clears the most weighted
risk, largest first: ``component``, ``target_version``, ``cleared`` (ids), ``cleared_count``,
``risk_cleared``, ``top_outcome`` (the highest SSVC outcome cleared) and ``left`` (findings it does not clear).

``warnings``: the flaws in single fields of the SBOM that the scan read past (file, component, field,
code, value, message in the report's language; see mamori.sbom.problems).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

import orjson

from mamori.model.references import web_url
from mamori.model.vulnerability import Vulnerability
from mamori.report.fix_first import fix_first
from mamori.sbom.problems import warning_dict
from mamori.scan.result import ComponentRef, Finding, ScanResult


def component_dict(c: ComponentRef) -> dict[str, Any]:
    """The component; ``locations`` (file relative to the scanned folder, line or null) when the scan
    knows where it is declared (a folder or lockfile scanned, or an SBOM with evidence occurrences)."""
    out: dict[str, Any] = {"name": c.name, "version": c.version, "purl": c.purl, "cpe": c.cpe}
    if c.occurrences:
        out["locations"] = [{"file": o.location, "line": o.line} for o in c.occurrences]
    return out


def vulnerability_dict(v: Vulnerability, lang: str) -> dict[str, Any]:
    """The finding-independent part of a finding's ``vulnerability`` object."""
    severity = v.severity
    return {
        "id": v.id,
        "aliases": v.aliases,
        "sources": v.sources,
        "summary": v.summary(lang),
        "severity": {
            "version": severity.version,
            "vector": severity.vector,
            "score": severity.score,
            "rating": severity.rating,
        }
        if severity is not None
        else None,
        "cwe": v.cwes,
        "kev": {
            "date_added": v.kev.date_added,
            "due_date": v.kev.due_date,
            "known_ransomware_use": v.kev.known_ransomware_use,
            "source": v.kev.source,
        }
        if v.kev is not None
        else None,
        "epss": {"score": v.epss.score, "percentile": v.epss.percentile, "date": v.epss.date}
        if v.epss is not None
        else None,
    }


class _Parts:
    """The parts many findings share (a vulnerability, a component, their references), built once per
    report: 5,000 components give ~20,000 findings of ~2,000 vulnerabilities.

    ``encoded``: the shared parts come as JSON already encoded (:class:`orjson.Fragment`, indented as a
    finding's fields are in the report), so that a part shared by many findings is encoded once, not
    once per finding (:func:`write`)."""

    def __init__(self, lang: str, *, encoded: bool = False) -> None:
        self.lang = lang
        self.encoded = encoded
        self._vulns: dict[int, tuple[Vulnerability, dict[str, Any], list[dict[str, Any]]]] = {}
        self._components: dict[int, tuple[ComponentRef, Any]] = {}
        self._shared: dict[int, tuple[Any, Any]] = {}
        self._blocks: dict[tuple[int, tuple[str, ...]], Any] = {}  # (vulnerability, fixed versions) → part

    def _kept(self, value: Any) -> Any:
        return _fragment(value) if self.encoded else value

    def vulnerability(self, v: Vulnerability) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        got = self._vulns.get(id(v))
        if got is None:  # the object is kept with its parts, so that its id() is not reused
            refs = [{"url": r.url, "type": r.type} for r in v.references if web_url(r.url)]
            got = self._vulns[id(v)] = (v, vulnerability_dict(v, self.lang), refs)
        return got[1], got[2]

    def vulnerability_block(self, v: Vulnerability, fixed_versions: list[str]) -> Any:
        """A finding's ``vulnerability`` object: the vulnerability's part, its fixed versions, its
        references (once per vulnerability and fixed versions when ``encoded``)."""
        vulnerability, references = self.vulnerability(v)
        if not self.encoded:
            return {**vulnerability, "fixed_versions": fixed_versions, "references": references}
        key = (id(v), tuple(fixed_versions))  # v is kept alive by self._vulns
        got = self._blocks.get(key)
        if got is None:
            got = self._blocks[key] = _fragment(
                {**vulnerability, "fixed_versions": fixed_versions, "references": references}
            )
        return got

    def shared(self, obj: Any, build: Callable[..., Any], *args: Any) -> Any:
        """``build(*args)`` once per object that findings share (an SSVC assessment, a triage state);
        objects of their own (None, a dict) are built each time."""
        got = self._shared.get(id(obj))
        if got is None:
            if obj is None or isinstance(obj, dict):
                return build(*args)
            got = self._shared[id(obj)] = (obj, self._kept(build(*args)))
        return got[1]

    def component(self, c: ComponentRef) -> Any:
        got = self._components.get(id(c))
        if got is None:
            got = self._components[id(c)] = (c, self._kept(component_dict(c)))
        return got[1]


_IN_FINDING = b"\n      "  # a line break and the indentation of a finding's fields in the report


def _fragment(value: Any) -> orjson.Fragment:
    """``value`` encoded as the value of a finding's field in the indented report (JSON strings hold no
    raw line break: every one in the encoding is a line of the layout)."""
    return orjson.Fragment(orjson.dumps(value, option=orjson.OPT_INDENT_2).replace(b"\n", _IN_FINDING))


def finding_dict(f: Finding, lang: str, parts: _Parts | None = None) -> dict[str, Any]:
    parts = parts or _Parts(lang)
    match = f.match
    ssvc, vex = f.ssvc, f.vex
    state = parts.shared(f.state, state_dict, f, lang)
    status = f.status
    out = {
        "component": parts.component(f.component),
        "vulnerability": parts.vulnerability_block(f.vulnerability, f.fixed_versions),
        "match": {"method": match.method, "confidence": match.confidence, "detail": match.detail},
        "status": status,
        "state": state,
    }
    if ssvc is not None or vex is not None:  # what triage_fields gives, in its order
        out["ssvc"] = parts.shared(ssvc, _ssvc_dict, ssvc, lang)
        out["priority_score"] = f.priority_score
        out["vex"] = vex
    return out


def _finding_dicts(findings: list[Finding], lang: str, parts: _Parts) -> list[dict[str, Any]]:
    """:func:`finding_dict` of each finding: the same objects. A finding whose shared parts are all
    built already (most of ~20,000: they share components, vulnerabilities, states and assessments)
    gets them looked up here, without a call per part."""
    components, blocks, shared = parts._components, parts._blocks, parts._shared
    out: list[dict[str, Any]] = []
    for f in findings:
        if type(f) is Finding:
            state_obj, ssvc, vex = f.state, f.ssvc, f.vex
            state = shared.get(id(state_obj))
            component = components.get(id(f.component))
            block = blocks.get((id(f.vulnerability), tuple(f.fixed_versions)))
            triaged = ssvc is not None or vex is not None
            assessed = shared.get(id(ssvc)) if triaged else None
            if (
                state is not None
                and component is not None
                and block is not None
                and (assessed or not triaged)
            ):
                match = f.evidence[0]
                found = {
                    "component": component[1],
                    "vulnerability": block,
                    "match": {"method": match.method, "confidence": match.confidence, "detail": match.detail},
                    "status": str(state_obj.status),  # Finding.status: the state's
                    "state": state[1],
                }
                if assessed is not None:
                    found["ssvc"] = assessed[1]
                    found["priority_score"] = f.priority_score
                    found["vex"] = vex
                out.append(found)
                continue
        out.append(finding_dict(f, lang, parts))
    return out


def state_dict(f: Finding, lang: str) -> dict[str, Any]:
    """The finding's one triage state (mamori.triage.state): status, justification, detail, who said it
    and when, whether it is in the gate, and the statements it overrode."""
    if f.state is not None and hasattr(f.state, "as_dict"):
        return dict(f.state.as_dict(lang))
    vex = f.vex or {}
    return {
        "status": f.status,
        "justification": vex.get("justification"),
        "in_gate": not f.out_of_gate,
        "origin": {"kind": "vex", "source": vex.get("source")} if vex else None,
    }


def triage_fields(f: Finding, lang: str, parts: _Parts | None = None) -> dict[str, Any]:
    """``status`` and ``state`` always; ``ssvc``, ``priority_score`` and ``vex`` when mamori.triage set
    them on the finding."""
    if parts is None:
        state, ssvc = state_dict(f, lang), _ssvc_dict(f.ssvc, lang)
    else:
        state, ssvc = (
            parts.shared(f.state, state_dict, f, lang),
            parts.shared(f.ssvc, _ssvc_dict, f.ssvc, lang),
        )
    if f.ssvc is None and f.vex is None:
        return {"status": f.status, "state": state}
    return {
        "status": f.status,
        "state": state,
        "ssvc": ssvc,
        "priority_score": f.priority_score,
        "vex": f.vex,
    }


def _ssvc_dict(ssvc: Any, lang: str) -> Any:
    return ssvc.ssvc_dict(lang) if hasattr(ssvc, "ssvc_dict") else ssvc


def coverage_dict(result: ScanResult, lang: str = "en") -> dict[str, Any]:
    """What the knowledge base could vouch for in this scan (also SARIF run properties)."""
    cov = result.coverage
    problems = result.problems()
    return {
        "complete": not problems,
        "demo": result.demo,
        "empty": cov.empty,
        "updated": cov.updated,
        "newest_record": cov.newest_record,
        "max_age_days": cov.max_age_days,
        "components_not_evaluated": result.components_not_evaluated(),
        "not_evaluated_by_reason": result.not_evaluated_by_reason(),
        "problems": [{"code": p.code, "message": p.text(lang), **p.values} for p in problems],
        "scopes": [
            {
                "scope": s.scope,
                "complete": s.complete,
                "source": s.source,
                "complete_at": s.complete_at,
                "age_days": s.age_days,
                "origin": s.origin,
                "records": s.records,
                "sources": s.sources,
                "components": s.components,
                "not_evaluated": s.not_evaluated,
                "stale": s.stale,
            }
            for s in cov.scopes
        ],
    }


def result_dict(result: ScanResult, lang: str = "en", findings: Any = None) -> dict[str, Any]:
    """The report as one object; ``findings`` stands in for the list of finding objects when given
    (:func:`write` puts them in one by one)."""
    parts = _Parts(lang)
    out: dict[str, Any] = {
        "target": result.target,
        "sbom": {"format": result.sbom_format, "components": result.components},
        "database": {
            "sources": {
                name: {"records": info.records, "updated": info.updated}
                for name, info in sorted(result.sources.items())
            }
        },
        "coverage": coverage_dict(result, lang),
        "findings": [finding_dict(f, lang, parts) for f in result.findings] if findings is None else findings,
        "not_evaluated": [
            {
                "component": component_dict(n.component),
                "reason": n.text(lang),
                "reason_code": n.code,
                "vulnerability": n.vulnerability_id,
            }
            for n in result.not_evaluated
        ],
        "warnings": [warning_dict(w, lang) for w in result.warnings],
        "summary": {
            "by_rating": result.by_rating(),
            "by_status": result.by_status(),
            "components_affected": result.components_affected(),
            "components_not_evaluated": result.components_not_evaluated(),
        },
    }
    out["fix_first"] = [row.as_dict(lang) for row in fix_first(result)]
    if result.triage is not None:
        out["triage"] = result.triage
    if result.filters is not None:  # --severity, --ignore-unfixed: what they hid, counted
        out["filters"] = result.filters
    return out


def render(result: ScanResult, lang: str = "en") -> bytes:
    return orjson.dumps(result_dict(result, lang), option=orjson.OPT_INDENT_2) + b"\n"


_HOLE = "\x00findings\x00"  # a string no report holds: where the findings go
_CHUNK = 1 << 20
_BATCH = 256  # findings encoded by one orjson call
# a batch is encoded as {"findings": [...]}: its findings then come out indented as in the whole report
_BATCH_HEAD = b'{\n  "findings": [\n'
_BATCH_TAIL = b"\n  ]\n}"


def _encoded(findings: list[dict[str, Any]]) -> memoryview:
    """The findings as the whole report's list holds them (indented, separated by ",\\n"), without the
    brackets: a view into orjson's output (no copy of it)."""
    out = orjson.dumps({"findings": findings}, option=orjson.OPT_INDENT_2)
    return memoryview(out)[len(_BATCH_HEAD) : len(out) - len(_BATCH_TAIL)]


def write(result: ScanResult, stream: IO[bytes], lang: str = "en") -> None:
    """:func:`render` written to ``stream`` a batch of findings at a time, byte for byte the same: the
    report of a 50,000-component SBOM (~170,000 findings, ~600 MB of JSON) never sits in memory as a
    whole, nor do the objects of all its findings. A batch's encoding (~1 MB) is written as orjson made
    it; the pieces between batches are gathered into writes of :data:`_CHUNK` bytes at least."""
    head = orjson.dumps(result_dict(result, lang, findings=_HOLE), option=orjson.OPT_INDENT_2) + b"\n"
    hole = orjson.dumps(_HOLE)
    before, after = head.split(hole, 1)
    stream.write(before)
    if not result.findings:
        stream.write(b"[]")
    else:
        parts = _Parts(lang, encoded=True)
        buffer = bytearray(b"[\n")
        findings = result.findings
        for start in range(0, len(findings), _BATCH):
            if start:
                buffer += b",\n"
            encoded = _encoded(_finding_dicts(findings[start : start + _BATCH], lang, parts))
            if len(buffer) + len(encoded) >= _CHUNK:
                stream.write(buffer)
                buffer.clear()
                stream.write(encoded)
            else:
                buffer += encoded
        buffer += b"\n  ]"
        stream.write(buffer)
    stream.write(after)

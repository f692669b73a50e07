"""OSV records (JSON or YAML): one record per file, a JSON list of records, or an API ``vulns`` list."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from itertools import repeat
from typing import Any

import orjson

from mamori.errors import InputError
from mamori.i18n import _
from mamori.model.references import typed_reference
from mamori.model.timestamps import iso_utc
from mamori.model.vulnerability import AffectedPackage, Event, Range, Severity, SourceRef, Vulnerability
from mamori.vulndb import shapes, yamlfast
from mamori.vulndb.rejected import Rejected, guarded
from mamori.vulndb.severity import make_severity

SOURCE = "osv"
_EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")
_CVSS_VERSIONS = {"CVSS_V2": "2.0", "CVSS_V3": None, "CVSS_V4": "4.0"}


def load_yaml(data: bytes) -> Any:
    """YAML → data: by yaml-rs (:mod:`mamori.vulndb.yamlfast`, twice as fast) when its answer is
    libyaml's, else by libyaml; both give the same data."""
    value = yamlfast.load(data)
    return value if value is not yamlfast.DECLINED else load_yaml_libyaml(data)


def load_yaml_libyaml(data: bytes) -> Any:
    """YAML → data with libyaml composing and a small converter (twice PyYAML's constructor speed);
    PyYAML is imported on first use (:mod:`mamori.vulndb.libyaml`): yaml-rs reads almost every OSV file."""
    from mamori.vulndb import libyaml

    return libyaml.load(data)


def _yaml_error(exc: Exception) -> bool:
    """A PyYAML error (none can have been raised before PyYAML was imported)."""
    yaml = sys.modules.get("yaml")
    return yaml is not None and isinstance(exc, yaml.YAMLError)


def load(name: str, data: bytes) -> Any:
    """Parse OSV JSON or YAML bytes."""
    head = data.lstrip()[:1]
    try:
        if head in (b"{", b"["):
            return orjson.loads(data)
        return load_yaml(data)
    except TypeError:  # a mapping or sequence used as a key
        raise InputError(name, _("not valid OSV YAML: a key that is not a string")) from None
    except Exception as exc:
        if not (isinstance(exc, orjson.JSONDecodeError) or _yaml_error(exc)):
            raise
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(name, _("not valid OSV JSON/YAML: {problem}").format(problem=problem)) from None


def _str_list(value: Any, name: str, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(map(isinstance, value, repeat(str))):
        raise InputError(name, _("{what} must be a list of strings").format(what=what))
    return list(value)


def _dict(value: Any, name: str, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(name, _("{what} must be an object").format(what=what))
    return value


def _list_of_dicts(value: Any, name: str, what: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(map(isinstance, value, repeat(dict))):
        raise InputError(name, _("{what} must be a list of objects").format(what=what))
    return value


def severities(entries: Any, name: str, record_id: str) -> list[Severity]:
    out: list[Severity] = []
    for entry in _list_of_dicts(entries, name, f"{record_id}: severity"):
        kind, score = entry.get("type"), entry.get("score")
        if not isinstance(kind, str) or not isinstance(score, str) or not score.strip():
            continue  # an empty severity entry says nothing
        if kind in _CVSS_VERSIONS:
            out.append(make_severity(score, source=SOURCE, version=_CVSS_VERSIONS[kind], provider=record_id))
        else:  # e.g. Ubuntu's own rating: kept, not scored
            out.append(Severity(method=kind, version="", vector=score, source=SOURCE, provider=record_id))
    return out


def _ranges(entries: Any, name: str, where: str) -> list[Range]:
    out: list[Range] = []
    for entry in _list_of_dicts(entries, name, f"{where}: ranges"):
        kind = entry.get("type")
        if not isinstance(kind, str):
            raise InputError(name, _("{where}: a range has no type").format(where=where))
        events: list[Event] = []
        for event in _list_of_dicts(entry.get("events"), name, f"{where}: events"):
            for key, value in event.items():
                if key in _EVENT_KINDS:
                    events.append(Event(key, str(value)))
        out.append(Range(kind, events, entry.get("repo"), entry.get("database_specific")))
    return out


def _affected(entries: Any, name: str, record_id: str) -> list[AffectedPackage]:
    out: list[AffectedPackage] = []
    for i, entry in enumerate(_list_of_dicts(entries, name, f"{record_id}: affected")):
        where = f"{record_id}: affected[{i}]"
        package = _dict(entry.get("package"), name, f"{where}.package")
        out.append(
            AffectedPackage(
                ecosystem=str(package.get("ecosystem") or ""),
                name=str(package.get("name") or ""),
                purl=package.get("purl"),
                ranges=_ranges(entry.get("ranges"), name, where),
                versions=[str(v) for v in entry.get("versions") or []],
                ecosystem_specific=entry.get("ecosystem_specific"),
                database_specific=entry.get("database_specific"),
                severities=severities(entry.get("severity"), name, record_id),
                source=SOURCE,
                record_id=record_id,
            )
        )
    return out


def parse_record(doc: Any, name: str) -> Vulnerability:
    """One OSV record (already parsed) → :class:`Vulnerability`."""
    if not isinstance(doc, dict):
        raise InputError(name, _("an OSV record must be an object"))
    record_id = doc.get("id")
    shapes.OSV.check(doc, name, record_id.strip() if isinstance(record_id, str) else "")
    if not isinstance(record_id, str) or not record_id.strip():
        raise InputError(name, _("OSV record has no id"))
    record_id = record_id.strip()
    database_specific = doc.get("database_specific") if isinstance(doc.get("database_specific"), dict) else {}
    cwes = [c for c in database_specific.get("cwe_ids") or [] if isinstance(c, str)]
    published, modified = iso_utc(doc.get("published")), iso_utc(doc.get("modified"))
    withdrawn = iso_utc(doc.get("withdrawn"))
    summary, details = doc.get("summary"), doc.get("details")
    related = _str_list(doc.get("related"), name, f"{record_id}: related")
    related += [u for u in _str_list(doc.get("upstream"), name, f"{record_id}: upstream") if u not in related]
    return Vulnerability(
        id=record_id,
        aliases=[a for a in _str_list(doc.get("aliases"), name, f"{record_id}: aliases") if a != record_id],
        related=related,
        sources=[SourceRef(SOURCE, record_id, "", published, modified, withdrawn)],
        titles={"en": summary.strip()} if isinstance(summary, str) and summary.strip() else {},
        summaries={"en": details.strip()} if isinstance(details, str) and details.strip() else {},
        published=published,
        modified=modified,
        withdrawn=withdrawn,
        severities=severities(doc.get("severity"), name, record_id),
        cwes=sorted(set(cwes)),
        references=[
            typed_reference(r["url"], [r["type"]] if isinstance(r.get("type"), str) else [], SOURCE)
            for r in _list_of_dicts(doc.get("references"), name, f"{record_id}: references")
            if isinstance(r.get("url"), str)
        ],
        affected_packages=_affected(doc.get("affected"), name, record_id),
    )


def _label(item: Any, index: int) -> str:
    rid = item.get("id") if isinstance(item, dict) else None
    return rid if shapes.usable_label(rid) else f"[{index}]"


def parse_document(doc: Any, name: str) -> Iterator[Vulnerability | Rejected]:
    """A record, a list of records, or an API answer with ``vulns``; in a list a bad record is
    :class:`Rejected` and the others are still read."""
    items = doc if isinstance(doc, list) else None
    if isinstance(doc, dict) and "id" not in doc and isinstance(doc.get("vulns"), list):
        items = doc["vulns"]
    if items is None:
        yield parse_record(doc, name)
        return
    for i, item in enumerate(items):
        yield guarded(name, _label(item, i), lambda item=item: parse_record(item, name))


def parse_bytes(name: str, data: bytes) -> Iterator[Vulnerability | Rejected]:
    yield from parse_document(load(name, data), name)


def looks_like(doc: Any) -> bool:
    return (
        isinstance(doc, dict)
        and isinstance(doc.get("id"), str)
        and ("affected" in doc or "modified" in doc or "schema_version" in doc or "aliases" in doc)
    )

"""A customer's side: compare a supplier's self-conformity declaration (JSON) with the customer's own procurement
requirement profile (guideline S(6)-2.1 define the security requirements, S(6)-2.2 tell suppliers which
practices are required, S(6)-2.3 decide on the risk) and list the gaps.

A profile is YAML (schema: data/compliance/profile.schema.json)::

    profile: "Procurement requirements 2025"
    organization: "Customer Inc."
    framework: guideline
    catalog_version: "1"         # optional: warn when the declaration used another version
    max_age_days: 365            # optional: the declaration must be this recent
    defaults: {status: implemented, evidence: false, allow_not_applicable: true}
    requirements:
      - id: "S(2)-2.3"           # one item ...
        evidence: true
      - under: "S(3)-2"          # ... or every item under a requirement, category or duty
        status: partial
      - id: PW.4.1
        level: 2                 # SSDF tasks: minimum level
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from mamori.compliance import catalog as cat
from mamori.compliance.assessment import LEAF_KIND
from mamori.compliance.messages import both
from mamori.errors import InputError
from mamori.fileio import read_yaml
from mamori.i18n import LANGS, _

SCHEMA_PATH = "data/compliance/profile.schema.json"
_RANK = {"unanswered": 0, "not_implemented": 0, "partial": 1, "implemented": 2}
_DEFAULTS = {"status": "implemented", "evidence": False, "allow_not_applicable": True}


@dataclass(frozen=True)
class Finding:
    """One gap: ``item`` is None for problems with the declaration as a whole."""

    item: str | None
    title: dict[str, str] | None
    problem: str
    message: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {"item": self.item, "title": self.title, "problem": self.problem, "message": self.message}


@cache
def _validator() -> Any:
    import jsonschema

    schema = json.loads(resources.files("mamori").joinpath(SCHEMA_PATH).read_text(encoding="utf-8"))
    return jsonschema.validators.validator_for(schema)(schema)


def load_profile(path: str | Path) -> dict[str, Any]:
    from jsonschema.exceptions import best_match

    data = read_yaml(path)
    error = best_match(_validator().iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or _("top level")
        raise InputError(
            path,
            _("not a requirement profile: {where}: {reason}").format(where=where, reason=error.message[:200]),
        )
    catalog = cat.load(data["framework"])
    for rule in data["requirements"]:
        ref = rule.get("id") or rule.get("under")
        item = catalog.get(ref)
        if item is None:
            raise InputError(
                path,
                _("no item {ref!r} in the {framework} catalog").format(ref=ref, framework=catalog.framework),
            )
        if "id" in rule and item.kind != LEAF_KIND[catalog.framework]:
            raise InputError(
                path,
                _("{id} is a {kind}; use 'under: {id}' for every item under it").format(
                    id=item.id, kind=item.kind
                ),
            )
        if "level" in rule and catalog.framework != "ssdf":
            raise InputError(path, _("{ref}: level applies to SSDF tasks only").format(ref=ref))
    return data


def required_items(profile: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Item id → its requirement (defaults, then each rule in order; later rules win)."""
    catalog = cat.load(profile["framework"])
    leaf = LEAF_KIND[catalog.framework]
    base = {**_DEFAULTS, **(profile.get("defaults") or {})}
    out: dict[str, dict[str, Any]] = {}
    for rule in profile["requirements"]:
        settings = {k: v for k, v in rule.items() if k not in ("id", "under", "note")}
        if "id" in rule:
            targets = [catalog.get(rule["id"])]
        else:
            top = catalog.get(rule["under"])
            targets = [i for i in catalog.of_kind(leaf) if top in catalog.ancestors(i)]
        for item in targets:
            assert item is not None
            out[item.id] = {**base, **out.get(item.id, {}), **settings}
    order = {item.id: n for n, item in enumerate(catalog.items)}
    return dict(sorted(out.items(), key=lambda kv: order[kv[0]]))


def _msg(key: str, **values: object) -> dict[str, str]:
    return {lang: text.format(**values) for lang, text in both(f"compare.{key}").items()}


def compare(
    declaration: dict[str, Any], profile: dict[str, Any], today: dt.date | None = None
) -> list[Finding]:
    today = today or dt.date.today()
    findings: list[Finding] = []
    if declaration["framework"] != profile["framework"]:
        findings.append(
            Finding(
                None,
                None,
                "framework",
                _msg("framework", have=declaration["framework"], need=profile["framework"]),
            )
        )
        return findings
    want_version = profile.get("catalog_version")
    have_version = declaration["catalog"]["version"]
    if want_version and want_version != have_version:
        findings.append(Finding(None, None, "version", _msg("version", have=have_version, need=want_version)))
    max_age = profile.get("max_age_days")
    if max_age and (today - dt.date.fromisoformat(declaration["date"])).days > max_age:
        findings.append(
            Finding(None, None, "too_old", _msg("too_old", date=declaration["date"], days=max_age))
        )
    catalog = cat.load(profile["framework"])
    declared = {cat.id_key(entry["id"]): entry for entry in declaration["items"]}
    for item_id, rule in required_items(profile).items():
        item = catalog.get(item_id)
        assert item is not None
        title = {"ja": item.title.ja, "en": item.title.en}
        entry = declared.get(cat.id_key(item_id))
        if entry is None:
            findings.append(Finding(item_id, title, "missing", _msg("missing")))
            continue
        status = entry["status"]
        if status == "not_applicable":
            if not rule["allow_not_applicable"]:
                findings.append(
                    Finding(
                        item_id, title, "not_applicable", _msg("na_refused", reason=entry.get("reason", ""))
                    )
                )
            continue
        if _RANK[status] < _RANK[rule["status"]]:
            have = both(f"status.{status}")
            need = both(f"status.{rule['status']}")
            message = {
                lang: both("compare.status_low")[lang].format(have=have[lang], need=need[lang])
                for lang in LANGS
            }
            findings.append(Finding(item_id, title, "status", message))
        if "level" in rule and (entry.get("level") or 0) < rule["level"]:
            findings.append(
                Finding(
                    item_id, title, "level", _msg("level_low", have=entry.get("level", 0), need=rule["level"])
                )
            )
        if rule["evidence"] and not entry["evidence"]:
            findings.append(Finding(item_id, title, "evidence", _msg("no_evidence")))
    return findings


def compare_answers(ours: Any, theirs: Any) -> list[Finding]:
    """Our own assessment against a supplier's (both :class:`~mamori.compliance.assessment.Assessment` of one
    framework): a finding for every item we answer whose status differs from the supplier's, ``below`` where
    the supplier's is weaker than ours, ``above`` where it is stronger, ``differs`` otherwise (for example
    not applicable against not implemented), ``unanswered`` where the supplier left it open."""
    if ours.framework != theirs.framework:
        return [
            Finding(None, None, "framework", _msg("framework", have=theirs.framework, need=ours.framework))
        ]
    findings: list[Finding] = []
    theirs_items = {item.id for item in theirs.items()}
    for item in ours.items():
        if item.id not in theirs_items:
            continue
        mine, other = ours.answer(item.id).status, theirs.answer(item.id).status
        if mine == other:
            continue
        title = {"ja": item.title.ja, "en": item.title.en}
        have = both(f"status.{other or 'unanswered'}")
        need = both(f"status.{mine or 'unanswered'}")
        if other is None:
            problem = "unanswered"
        elif mine in _RANK and other in _RANK and _RANK[other] != _RANK[mine]:
            problem = "below" if _RANK[other] < _RANK[mine] else "above"
        else:
            problem = "differs"
        message = {
            lang: both("compare.answers_differ")[lang].format(have=have[lang], need=need[lang])
            for lang in LANGS
        }
        findings.append(Finding(item.id, title, problem, message))
    return findings

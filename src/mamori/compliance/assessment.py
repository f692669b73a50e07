"""Self-assessment model: which catalog items an assessment covers, what an answer may say, and the loaded view.

An assessment answers the leaf items of one catalog (guideline: individual requirements, SSDF: tasks, checklist:
items, JC-STAR ☆1: items) that apply to the roles the organisation plays. Per item: a status (implemented,
partial, not implemented, not applicable with a reason), for SSDF a level 0-3, an owner, a due date and evidence.

"Mandatory" is what the catalog says (checklist ``mandatory``, transaction model ``basic``); where a catalog has
no level at all (guideline, SSDF, ☆1) every item counts as mandatory.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mamori.errors import InputError
from mamori.i18n import _

if TYPE_CHECKING:  # the catalogs (YAML) load on first use, not when the CLI starts
    from mamori.compliance import catalog as cat

FRAMEWORKS = ("guideline", "ssdf", "checklist", "jcstar1")
#: The kind of item an assessment answers, per framework.
LEAF_KIND = {"guideline": "individual", "ssdf": "task", "checklist": "item", "jcstar1": "item"}
STATUSES = ("implemented", "partial", "not_implemented", "not_applicable")
MET = ("implemented", "not_applicable")
LEVELS = (0, 1, 2, 3)
MANDATORY_LEVELS = ("mandatory", "basic")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def check_framework(framework: str) -> str:
    name = framework.strip().lower()
    if name not in FRAMEWORKS:
        raise InputError(
            None,
            _("--framework must be one of {allowed}, not {framework!r}").format(
                allowed=", ".join(FRAMEWORKS), framework=framework
            ),
        )
    return name


def parse_roles(text: str) -> tuple[str, ...]:
    """``developer,supplier`` → roles in the catalog's order; unknown roles are an error."""
    from mamori.compliance.catalog import ROLES

    given = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [role for role in given if role not in ROLES]
    if unknown or not given:
        raise InputError(
            None,
            _("--roles takes a comma-separated list of {allowed}; got {text!r}").format(
                allowed=", ".join(ROLES), text=text
            ),
        )
    return tuple(role for role in ROLES if role in given)


#: ``--target``: whose checklist it is. The checklist prints each row's target (ユーザ企業 = a company that uses
#: software, 製品提供企業及び上流企業 = one that provides it); the catalogs' roles follow from it.
TARGET_ROLES = {"user": ("operator", "customer"), "provider": ("developer", "supplier")}
_TARGET_NAMES = {
    "user": "user",
    "user-company": "user",
    "user_company": "user",
    "ユーザ企業": "user",
    "ユーザー企業": "user",
    "provider": "provider",
    "提供者": "provider",
    "提供企業": "provider",
    "製品提供企業": "provider",
}


def parse_target(text: str) -> tuple[str, ...]:
    """``user``, ``provider`` or both (comma-separated; Japanese ユーザ企業 / 提供者 too) → roles in catalog order."""
    from mamori.compliance.catalog import ROLES

    names = [part.strip() for part in text.replace("、", ",").split(",") if part.strip()]
    targets = [_TARGET_NAMES.get(unicodedata.normalize("NFKC", name).casefold()) for name in names]
    if not targets or None in targets:
        raise InputError(
            None,
            _("--target takes user or provider (ユーザ企業 or 提供者), comma-separated; got {text!r}").format(
                text=text
            ),
        )
    wanted = {role for target in targets for role in TARGET_ROLES[target]}  # type: ignore[index]
    return tuple(role for role in ROLES if role in wanted)


def parse_date(value: str, what: str) -> str:
    """An ISO date (YYYY-MM-DD) that exists; else an error naming ``what``."""
    text = value.strip()
    if _DATE.match(text):
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            pass
    raise InputError(
        None, _("{what} must be a date like 2025-04-01, not {value!r}").format(what=what, value=value)
    )


def status_from_level(status: str | None, level: int | None) -> str | None:
    """The one rule for an SSDF level given without a status, wherever the answer comes from (``assess answer
    --level``, the questionnaire, a bulk file, an older store): level 1-3 means the task is implemented at that
    depth, level 0 that it is not implemented. A status that is given stays as it is."""
    if status is None and level is not None:
        return "implemented" if level >= 1 else "not_implemented"
    return status


def is_mandatory(item: cat.Item) -> bool:
    level = item.applicability.level
    return level is None or level.value in MANDATORY_LEVELS


def applies(item: cat.Item, roles: tuple[str, ...]) -> bool:
    """An item applies when it names one of the roles (items without roles apply to everyone)."""
    item_roles = item.applicability.role_list()
    return not item_roles or any(role in item_roles for role in roles)


def leaf_items(catalog: cat.Catalog) -> list[cat.Item]:
    return catalog.of_kind(LEAF_KIND[catalog.framework])


def applicable_items(catalog: cat.Catalog, roles: tuple[str, ...]) -> list[cat.Item]:
    return [item for item in leaf_items(catalog) if applies(item, roles)]


def group_of(catalog: cat.Catalog, item: cat.Item) -> cat.Item | None:
    """The outermost ancestor (duty, SSDF group, checklist table); None for flat catalogs."""
    chain = catalog.ancestors(item)
    return chain[0] if chain else None


@dataclass
class Evidence:
    """One piece of evidence attached to an item."""

    kind: str  # file | url | artifact
    ref: str
    artifact_kind: str | None = None
    sha256: str | None = None
    size: int | None = None
    file_time: str | None = None
    recorded_at: str = ""
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "ref": self.ref}
        for name in ("artifact_kind", "sha256", "size", "file_time", "recorded_at", "note"):
            value = getattr(self, name)
            if value not in (None, ""):
                out[name] = value
        return out


@dataclass
class Answer:
    item_id: str
    status: str | None = None
    level: int | None = None
    owner: str | None = None
    due: str | None = None
    reason: str | None = None
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class Assessment:
    """An assessment as loaded from the store, with its answers keyed by item id."""

    id: int
    framework: str
    catalog_version: str
    organization: str
    roles: tuple[str, ...]
    scope: str
    created_at: str
    updated_at: str
    approver: str | None = None
    declared_on: str | None = None
    valid_from: str | None = None
    valid_until: str | None = None
    label_fields: dict[str, Any] = field(default_factory=dict)
    answers: dict[str, Answer] = field(default_factory=dict)

    @property
    def catalog(self) -> cat.Catalog:
        from mamori.compliance.catalog import load

        return load(self.framework)

    def items(self) -> list[cat.Item]:
        """The catalog items this assessment answers, in catalog order."""
        return applicable_items(self.catalog, self.roles)

    def answer(self, item_id: str) -> Answer:
        return self.answers.get(item_id) or Answer(item_id)

    def counts(self) -> dict[str, int]:
        """Applicable items per status (``unanswered`` for none yet)."""
        out = dict.fromkeys((*STATUSES, "unanswered"), 0)
        for item in self.items():
            out[self.answer(item.id).status or "unanswered"] += 1
        return out


def resolve_item(assessment: Assessment, item_id: str) -> cat.Item:
    """The applicable catalog item for ``item_id`` (any NFKC spelling); an error names why not."""
    catalog = assessment.catalog
    item = catalog.get(item_id)
    if item is None:
        raise InputError(
            None,
            _("no item {item_id!r} in the {framework} catalog").format(
                item_id=item_id, framework=catalog.framework
            ),
        )
    leaf = LEAF_KIND[catalog.framework]
    if item.kind != leaf:
        raise InputError(
            None,
            _("{id} is a {kind}; answers are given per {leaf}").format(id=item.id, kind=item.kind, leaf=leaf),
        )
    if not applies(item, assessment.roles):
        roles = ", ".join(item.applicability.role_list())
        raise InputError(
            None,
            _("{id} applies to {roles}, not to the assessment's roles {roles2}").format(
                id=item.id, roles=roles, roles2=", ".join(assessment.roles)
            ),
        )
    return item

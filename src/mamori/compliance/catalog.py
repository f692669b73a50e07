"""Catalogs of the source texts (guideline, SSDF, checklist, JC-STAR ☆1 ...) as typed, validated data.

One YAML file per framework lives in ``mamori/data/catalogs`` (format: SCHEMA.md there, checked with
``catalog.schema.json`` and the rules below). ``load(framework)`` returns a :class:`Catalog`;
``Catalog.get`` accepts any NFKC-equivalent spelling of an id (full-width digits and brackets, other case).
Cross-references between catalogs are resolved by :func:`references`, :func:`referenced_by` and
:func:`broken_references`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from mamori.errors import InputError
from mamori.fileio import check_yaml_depth, read_bytes
from mamori.i18n import Lang, Text, gettext

CATALOG_DIR = Path(__file__).resolve().parent.parent / "data" / "catalogs"
SCHEMA_PATH = CATALOG_DIR / "catalog.schema.json"

ROLES = ("developer", "supplier", "operator", "customer")
#: SSDF ↔ Japanese guideline mapping grades (001): includes, equivalent, partial, none.
GRADES = ("◎", "○", "△", "×")
_GRADE_ALIASES = {"〇": "○", "◯": "○"}
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"))


def id_key(value: str) -> str:
    """The lookup key of an id: NFKC, ASCII hyphens, no whitespace, case-folded."""
    text = unicodedata.normalize("NFKC", value).translate(_DASHES)
    return re.sub(r"\s+", "", text).casefold()


@dataclass(frozen=True)
class Hints:
    """Evidence hints per language (what an organisation would show)."""

    ja: tuple[str, ...] = ()
    en: tuple[str, ...] = ()

    def get(self, lang: Lang) -> tuple[str, ...]:
        return self.ja if lang == "ja" else self.en


@dataclass(frozen=True)
class Flagged:
    """A value with its basis: ``text`` (stated in the seed) or ``inferred`` (our reading)."""

    value: Any
    basis: str


@dataclass(frozen=True)
class Applicability:
    roles: Flagged | None = None
    target: Flagged | None = None
    level: Flagged | None = None

    def role_list(self) -> tuple[str, ...]:
        return tuple(self.roles.value) if self.roles else ()


@dataclass(frozen=True)
class SourceRef:
    file: str
    line: int


@dataclass(frozen=True, eq=False)
class Item:
    """One catalog entry (a duty, requirement, SSDF task, checklist item ...)."""

    framework: str
    id: str
    kind: str
    parent: str | None
    title: Text
    summary: Text
    source: SourceRef
    applicability: Applicability = Applicability()
    evidence_hints: Hints = Hints()
    periodicity: Flagged | None = None
    refs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def title_ja(self) -> str:
        return self.title.ja

    @property
    def title_en(self) -> str:
        return self.title.en

    def to_dict(self) -> dict[str, Any]:
        """The item in the shape of the catalog file (plus ``framework``), for JSON output."""
        out: dict[str, Any] = {
            "framework": self.framework,
            "id": self.id,
            "kind": self.kind,
            "parent": self.parent,
            "title_ja": self.title.ja,
            "title_en": self.title.en,
            "summary": {"ja": self.summary.ja, "en": self.summary.en},
            "source": {"file": self.source.file, "line": self.source.line},
        }
        app = {
            name: {"value": flag.value, "basis": flag.basis}
            for name in ("roles", "target", "level")
            if (flag := getattr(self.applicability, name)) is not None
        }
        out["applicability"] = app
        out["evidence_hints"] = {"ja": list(self.evidence_hints.ja), "en": list(self.evidence_hints.en)}
        out["periodicity"] = (
            {"value": self.periodicity.value, "basis": self.periodicity.basis} if self.periodicity else None
        )
        out["refs"] = {fw: list(ids) for fw, ids in self.refs.items()}
        out["extra"] = self.extra
        return out


@dataclass(frozen=True, eq=False)
class Catalog:
    """A loaded, validated catalog: items in file order with lookup by id."""

    framework: str
    version: str
    title: Text
    source: dict[str, Any]
    levels: tuple[str, ...]
    items: tuple[Item, ...]
    extra: dict[str, Any]
    path: Path
    _index: dict[str, Item] = field(repr=False)
    _aliases: dict[str, Item] = field(repr=False)
    _children: dict[str, tuple[Item, ...]] = field(repr=False)

    def get(self, item_id: str) -> Item | None:
        """The item with this id in any NFKC-equivalent spelling, or as printed in the seed; else None."""
        key = id_key(item_id)
        return self._index.get(key) or self._aliases.get(key)

    def __contains__(self, item_id: object) -> bool:
        return isinstance(item_id, str) and self.get(item_id) is not None

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def of_kind(self, *kinds: str) -> list[Item]:
        return [item for item in self.items if item.kind in kinds]

    def counts(self) -> dict[str, int]:
        return {level: sum(1 for item in self.items if item.kind == level) for level in self.levels}

    def children(self, item: Item | str) -> tuple[Item, ...]:
        item_id = item.id if isinstance(item, Item) else item
        return self._children.get(id_key(item_id), ())

    def ancestors(self, item: Item) -> list[Item]:
        """Parents of ``item``, outermost first."""
        chain: list[Item] = []
        current = item
        while current.parent is not None:
            parent = self.get(current.parent)
            if parent is None:  # validated at load time; defensive only
                break
            chain.append(parent)
            current = parent
        return chain[::-1]


@dataclass(frozen=True)
class Reference:
    """A cross-reference ``holder.refs[framework]`` → ``id``; ``target`` is None when it does not resolve."""

    holder: Item
    framework: str
    id: str
    target: Item | None


# --------------------------------------------------------------------------------------------- loading


def _catalog_files() -> dict[str, Path]:
    files = sorted([*CATALOG_DIR.glob("*.yaml"), *CATALOG_DIR.glob("*.yml")])
    return {path.stem.replace("_", "-"): path for path in files}


def frameworks() -> list[str]:
    """Frameworks whose catalog file is installed, e.g. ``["guideline", "ssdf", ...]``."""
    return sorted(_catalog_files())


def _installed(framework: str) -> Path:
    files = _catalog_files()
    name = framework.strip().lower().replace("_", "-")
    if name not in files:
        raise InputError(
            None,
            gettext("unknown catalog {framework!r} (available: {available})").format(
                framework=framework, available=", ".join(sorted(files)) or "none"
            ),
        )
    return files[name]


@cache
def load(framework: str) -> Catalog:
    """The installed catalog of ``framework`` (cached); unknown names raise :class:`InputError`.

    Installed catalogs are checked against the schema when they are built and in the tests
    (tests/test_catalog_schema.py, ``mamori catalog check``), not on every start: they are read with the
    fast YAML reader and only the structural rules of :func:`_build` run here."""
    path = _installed(framework)
    data = _parse_installed(path)
    expect = path.stem.replace("_", "-")
    if data.get("framework") != expect:
        raise InputError(
            path,
            gettext("framework is {framework!r} but the file name says {expect!r}").format(
                framework=data.get("framework"), expect=expect
            ),
        )
    return _build(path, data)


def validate(framework: str) -> Catalog:
    """The installed catalog of ``framework`` read and checked in full (strict YAML, schema, structure)."""
    path = _installed(framework)
    return load_file(path, expect=path.stem.replace("_", "-"))


def load_file(path: str | Path, expect: str | None = None) -> Catalog:
    """Load and validate one catalog file; every problem is an :class:`InputError` naming the file."""
    path = Path(path)
    data = _parse_yaml(path)
    _check_schema(path, data)
    if expect is not None and data["framework"] != expect:
        raise InputError(
            path,
            gettext("framework is {framework!r} but the file name says {expect!r}").format(
                framework=data["framework"], expect=expect
            ),
        )
    return _build(path, data)


def _parse_installed(path: Path) -> dict[str, Any]:
    """An installed catalog by yaml-rs (about 20 times faster than libyaml on these files); the tests
    prove that its answer equals the strict reader's for every installed catalog. Anything yaml-rs
    cannot read goes to the strict reader, which names the problem."""
    import yaml_rs

    raw = read_bytes(path)
    try:
        data = yaml_rs.loads(raw.decode("utf-8"), parse_datetime=False)
    except Exception:  # the strict reader names the problem
        return _parse_yaml(path)
    if not isinstance(data, dict):
        return _parse_yaml(path)
    return data


@cache
def _unique_key_loader() -> Any:
    """Safe YAML loader that refuses duplicate mapping keys (YAML would silently keep the last); PyYAML is
    imported here, not when the module is, since installed catalogs are read by yaml-rs."""
    import yaml

    class UniqueKeyLoader(yaml.CSafeLoader):
        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r}", key_node.start_mark
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return UniqueKeyLoader


def _parse_yaml(path: Path) -> dict[str, Any]:
    import yaml

    raw = read_bytes(path)
    check_yaml_depth(raw, path)
    try:
        data = yaml.load(raw.decode("utf-8"), Loader=_unique_key_loader())
    except UnicodeDecodeError as exc:
        raise InputError(path, gettext("not UTF-8 text (byte {start})").format(start=exc.start)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(
            path, gettext("invalid YAML: {where}{problem}").format(where=where, problem=problem)
        ) from None
    if not isinstance(data, dict):
        raise InputError(path, gettext("a catalog must be a YAML mapping with framework, levels and items"))
    return data


@cache
def _validator() -> Any:
    import jsonschema  # imported on first use: it takes a noticeable time and most commands never need it

    schema = json.loads(read_bytes(SCHEMA_PATH))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _where(data: dict[str, Any], path: Iterable[Any]) -> str:
    parts = list(path)
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    if len(parts) >= 2 and parts[0] == "items" and isinstance(parts[1], int):
        items = data.get("items")
        entry = items[parts[1]] if isinstance(items, list) and parts[1] < len(items) else None
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            text = f"item {entry['id']!r} ({text})"
    return text or gettext("top level")


def _check_schema(path: Path, data: dict[str, Any]) -> None:
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(data))
    if error is None:
        return
    message = " ".join(error.message.split())
    if len(message) > 200:
        message = message[:197] + "..."
    if error.validator == "additionalProperties" and not error.path:
        message += gettext("; put framework-specific data under 'extra'")
    raise InputError(path, f"{_where(data, error.absolute_path)}: {message}")


def _flag(raw: dict[str, Any] | None) -> Flagged | None:
    if raw is None:
        return None
    value = raw["value"]
    return Flagged(tuple(value) if isinstance(value, list) else value, raw["basis"])


def _build(path: Path, data: dict[str, Any]) -> Catalog:
    framework = data["framework"]
    levels = tuple(data["levels"])
    rank = {level: i for i, level in enumerate(levels)}
    items: list[Item] = []
    index: dict[str, Item] = {}
    for raw in data["items"]:
        item_id = raw["id"]
        where = f"item {item_id!r}"
        if unicodedata.normalize("NFKC", item_id) != item_id:
            normal = unicodedata.normalize("NFKC", item_id)
            raise InputError(
                path,
                gettext("{where}: id is not NFKC-normalised; write {normal!r}").format(
                    where=where, normal=normal
                ),
            )
        if raw["kind"] not in rank:
            raise InputError(
                path,
                gettext("{where}: kind {kind!r} is not one of levels {levels}").format(
                    where=where, kind=raw["kind"], levels=list(levels)
                ),
            )
        key = id_key(item_id)
        if key in index:
            raise InputError(
                path, gettext("{where}: duplicate id (same as {id!r})").format(where=where, id=index[key].id)
            )
        hints = raw.get("evidence_hints") or {}
        if bool(hints.get("ja")) != bool(hints.get("en")):
            raise InputError(
                path, gettext("{where}: evidence_hints must be given in both ja and en").format(where=where)
            )
        extra = dict(raw.get("extra") or {})
        if framework == "ssdf" and raw["kind"] == "task":
            _check_ssdf_task(path, where, extra, data.get("extra") or {})
        app = raw.get("applicability") or {}
        item = Item(
            framework=framework,
            id=item_id,
            kind=raw["kind"],
            parent=raw.get("parent"),
            title=Text(raw["title_ja"], raw["title_en"]),
            summary=Text(raw["summary"]["ja"], raw["summary"]["en"]),
            source=SourceRef(raw["source"]["file"], raw["source"]["line"]),
            applicability=Applicability(
                _flag(app.get("roles")), _flag(app.get("target")), _flag(app.get("level"))
            ),
            evidence_hints=Hints(tuple(hints.get("ja") or ()), tuple(hints.get("en") or ())),
            periodicity=_flag(raw.get("periodicity")),
            refs={fw: tuple(ids) for fw, ids in (raw.get("refs") or {}).items()},
            extra=extra,
        )
        index[key] = item
        items.append(item)
    children: dict[str, list[Item]] = {}
    for item in items:
        if item.parent is None:
            continue
        parent = index.get(id_key(item.parent))
        if parent is None:
            raise InputError(
                path,
                gettext("item {id!r}: parent {parent!r} is not in the catalog").format(
                    id=item.id, parent=item.parent
                ),
            )
        if rank[parent.kind] >= rank[item.kind]:
            raise InputError(
                path,
                gettext("item {id!r}: parent {id2!r} is a {kind}, not a level above {kind2}").format(
                    id=item.id, id2=parent.id, kind=parent.kind, kind2=item.kind
                ),
            )
        children.setdefault(id_key(parent.id), []).append(item)
    aliases: dict[str, Item] = {}
    for item in items:
        printed = item.extra.get("printed_id")
        if isinstance(printed, str) and id_key(printed) not in index:
            aliases.setdefault(id_key(printed), item)
    title = data["title"]
    return Catalog(
        framework=framework,
        version=data["catalog_version"],
        title=Text(title["ja"], title["en"]),
        source=dict(data["source"]),
        levels=levels,
        items=tuple(items),
        extra=dict(data.get("extra") or {}),
        path=path,
        _index=index,
        _aliases=aliases,
        _children={key: tuple(value) for key, value in children.items()},
    )


def _check_ssdf_task(path: Path, where: str, extra: dict[str, Any], header: dict[str, Any]) -> None:
    """SSDF tasks carry the 7-guideline mapping grades (in the header's order) and optionally a demo level."""
    order = (header.get("mapping_guidelines") or {}).get("order") or []
    mapping = extra.get("mapping")
    if not isinstance(mapping, dict) or list(mapping) != list(order) or not order:
        raise InputError(
            path,
            gettext("{where}: extra.mapping must list the guidelines {order} in that order").format(
                where=where, order=order
            ),
        )
    for guideline, cell in mapping.items():
        grade = cell.get("grade") if isinstance(cell, dict) else None
        grade = _GRADE_ALIASES.get(grade, grade)
        if grade not in GRADES:
            raise InputError(
                path,
                gettext("{where}: extra.mapping.{guideline}.grade must be one of {allowed}").format(
                    where=where, guideline=guideline, allowed=" ".join(GRADES)
                ),
            )
        cell["grade"] = grade
    level = extra.get("demo_level")
    if level is not None and level not in (0, 1, 2, 3):
        raise InputError(path, gettext("{where}: extra.demo_level must be 0, 1, 2 or 3").format(where=where))


# ------------------------------------------------------------------------------------ cross-references


def all_catalogs() -> dict[str, Catalog]:
    """Every installed catalog, by framework."""
    return {name: load(name) for name in frameworks()}


def find(item_id: str, framework: str | None = None) -> list[Item]:
    """Items with this id: in one framework, or in every catalog (exact ids before printed aliases)."""
    if framework is not None:
        item = load(framework).get(item_id)
        return [item] if item is not None else []
    catalogs = all_catalogs().values()
    key = id_key(item_id)
    exact = [c._index[key] for c in catalogs if key in c._index]
    return exact or [c._aliases[key] for c in catalogs if key in c._aliases]


def references(item: Item, catalogs: dict[str, Catalog] | None = None) -> list[Reference]:
    """The item's outgoing references; ``target`` is None when the id or its catalog is missing."""
    catalogs = all_catalogs() if catalogs is None else catalogs
    out: list[Reference] = []
    for framework, ids in item.refs.items():
        catalog = catalogs.get(framework)
        for ref_id in ids:
            out.append(Reference(item, framework, ref_id, catalog.get(ref_id) if catalog else None))
    return out


def broken_references(catalogs: dict[str, Catalog] | None = None) -> list[Reference]:
    """References into an installed catalog that name no item there (refs to absent catalogs are skipped)."""
    catalogs = all_catalogs() if catalogs is None else catalogs
    return [
        ref
        for catalog in catalogs.values()
        for item in catalog.items
        for ref in references(item, catalogs)
        if ref.target is None and ref.framework in catalogs
    ]


def referenced_by(item: Item, catalogs: dict[str, Catalog] | None = None) -> list[Item]:
    """Items in any catalog whose refs point at ``item``."""
    catalogs = all_catalogs() if catalogs is None else catalogs
    key = id_key(item.id)
    return [
        other
        for catalog in catalogs.values()
        for other in catalog.items
        if any(id_key(ref_id) == key for ref_id in other.refs.get(item.framework, ()))
    ]

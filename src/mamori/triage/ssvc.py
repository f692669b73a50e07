"""SSVC decision points and decision tables, loaded from data files, and ``decide``.

The data lives in ``mamori/data/ssvc`` (format: ``mamori/data/ssvc/README.md``): decision points with ordered
values and bilingual texts, and one file per decision table.  A table yields its outcome either from an ordered rule
list (first match wins) or, for the CVSS v4 macrovector severity, from the CVSS v4 lookup scores in the ``cvss``
library.  Loading expands every table to all value combinations, so coverage and dead rules are checked once.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from mamori.errors import InputError
from mamori.i18n import gettext

Lang = Literal["ja", "en"]
Source = Literal["given", "default", "derived"]
ROLE_ORDER = ("supplier", "deployer", "coordinator", "cisa", "helper", "cvss")


_SEPARATORS = re.compile(r"[\s_\-/]+")


def norm(token: str) -> str:
    """Case-, width- and separator-insensitive form: ``Public_PoC`` → ``public poc``."""
    text = unicodedata.normalize("NFKC", str(token)).casefold()
    return _SEPARATORS.sub(" ", text).strip()


@dataclass(frozen=True)
class Text:
    """A text in English and Japanese."""

    en: str
    ja: str

    def get(self, lang: Lang) -> str:
        return self.ja if lang == "ja" else self.en


@dataclass(frozen=True)
class PointValue:
    """One value of an SSVC decision point."""

    id: str
    key: str
    name: Text
    description: Text
    aliases: tuple[str, ...] = ()

    def tokens(self) -> set[str]:
        return {norm(t) for t in (self.id, self.key, self.name.en, self.name.ja, *self.aliases)}


@dataclass(frozen=True)
class DecisionPoint:
    """An SSVC decision point and its values."""

    id: str
    namespace: str
    key: str
    version: str
    name: Text
    description: Text
    values: tuple[PointValue, ...]
    question: Text | None = None
    aliases: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        """The SSVC identifier ``namespace:key:version``."""
        return f"{self.namespace}:{self.key}:{self.version}"

    def tokens(self) -> set[str]:
        return {norm(t) for t in (self.id, self.key, self.name.en, self.name.ja, *self.aliases)}

    @cached_property
    def _by_token(self) -> dict[str, PointValue]:
        return {tok: v for v in self.values for tok in v.tokens()}

    @cached_property
    def _index(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for i, value in enumerate(self.values):
            found.setdefault(value.id, i)
        return found

    def index(self, value_id: str) -> int:
        return self._index[value_id]  # KeyError for a value the point does not have

    def value(self, token: str) -> PointValue:
        """The value named by ``token`` (id, official key, en/ja name or alias, any case)."""
        value = self._by_token.get(norm(token))
        if value is not None:
            return value
        allowed = ", ".join(v.id for v in self.values)
        raise InputError(
            None,
            gettext("{id}: unknown value {token!r}; allowed: {allowed}").format(
                id=self.id, token=token, allowed=allowed
            ),
        )


@dataclass(frozen=True)
class DecisionTable:
    """An SSVC decision table: its inputs, outcome and rows."""

    id: str
    name: Text
    summary: Text
    role: str
    source: Mapping[str, str]
    inputs: tuple[DecisionPoint, ...]
    outcome: DecisionPoint
    conservative: Mapping[str, str]
    form: str
    rule_count: int
    aliases: tuple[str, ...] = ()
    grid: Mapping[tuple[int, ...], int] = field(default_factory=dict, repr=False)

    def tokens(self) -> set[str]:
        return {
            norm(t) for t in (self.id, self.name.en, self.name.ja, self.source.get("key", ""), *self.aliases)
        }

    def lookup(self, chosen: Mapping[str, str]) -> PointValue:
        """Outcome for value ids of every input (no alias resolution, no defaults)."""
        idx = tuple(p.index(chosen[p.id]) for p in self.inputs)
        return self.outcome.values[self.grid[idx]]

    def rows(self) -> Iterator[tuple[dict[str, str], str]]:
        """Every combination of input value ids with its outcome value id."""
        for idx, out in self.grid.items():
            yield (
                {p.id: p.values[i].id for p, i in zip(self.inputs, idx, strict=True)},
                self.outcome.values[out].id,
            )


@dataclass(frozen=True)
class Step:
    """One step of a decision: the point, the value taken and where it came from."""

    point: DecisionPoint
    value: PointValue
    source: Source
    via: Decision | None = None

    def as_dict(self, lang: Lang = "en") -> dict[str, Any]:
        out: dict[str, Any] = {
            "point": self.point.id,
            "ref": self.point.ref,
            "point_name": self.point.name.get(lang),
            "value": self.value.id,
            "key": self.value.key,
            "value_name": self.value.name.get(lang),
            "source": self.source,
        }
        if self.via is not None:
            out["via"] = self.via.as_dict(lang)
        return out


@dataclass(frozen=True)
class Decision:
    """The outcome of a decision table and the path that led to it."""

    table: DecisionTable
    outcome: PointValue
    path: tuple[Step, ...]

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        """The path as (point id, value id) pairs in the table's input order."""
        return tuple((s.point.id, s.value.id) for s in self.path)

    def as_dict(self, lang: Lang = "en") -> dict[str, Any]:
        return {
            "table": self.table.id,
            "table_name": self.table.name.get(lang),
            "outcome": {
                "point": self.table.outcome.id,
                "ref": self.table.outcome.ref,
                "value": self.outcome.id,
                "key": self.outcome.key,
                "name": self.outcome.name.get(lang),
                "description": self.outcome.description.get(lang),
            },
            "path": [s.as_dict(lang) for s in self.path],
        }


class Catalog:
    """All decision points and tables of one data directory."""

    def __init__(self, points: Mapping[str, DecisionPoint], tables: Mapping[str, DecisionTable]) -> None:
        self.points = dict(points)
        rank = {role: i for i, role in enumerate(ROLE_ORDER)}
        self.tables = {t.id: t for t in sorted(tables.values(), key=lambda t: (rank.get(t.role, 99), t.id))}
        # a point that is the outcome of exactly one table can be derived from that table's inputs
        producers: dict[str, list[DecisionTable]] = {}
        for t in self.tables.values():
            producers.setdefault(t.outcome.id, []).append(t)
        self.producer = {pid: ts[0] for pid, ts in producers.items() if len(ts) == 1}
        self._table_index = {tok: t for t in self.tables.values() for tok in t.tokens()}
        self._scopes: dict[str, list[DecisionPoint]] = {}
        self._point_index: dict[str, dict[str, DecisionPoint]] = {}

    def table(self, name: str) -> DecisionTable:
        """The table named by ``name``: id, alias, en/ja name or official key (e.g. ``DT_SP``)."""
        found = self._table_index.get(norm(name))
        if found is not None:
            return found
        raise InputError(
            None,
            gettext("unknown SSVC table {name!r}; known: {tables}").format(
                name=name, tables=", ".join(self.tables)
            ),
        )

    def scope(self, table: DecisionTable) -> list[DecisionPoint]:
        """Points one may give for ``table``: its inputs and, recursively, inputs of tables deriving them."""
        if table.id not in self._scopes:
            self._scopes[table.id] = self._scope(table)
        return self._scopes[table.id]

    def _scope(self, table: DecisionTable) -> list[DecisionPoint]:
        seen: dict[str, DecisionPoint] = {}
        todo = list(table.inputs)
        while todo:
            p = todo.pop(0)
            if p.id in seen:
                continue
            seen[p.id] = p
            if p.id in self.producer:
                todo.extend(self.producer[p.id].inputs)
        return list(seen.values())

    def point_in_scope(self, table: DecisionTable, token: str) -> DecisionPoint:
        """The point of ``table``'s scope named by ``token`` (id, official key, en/ja name or alias)."""
        if table.id not in self._point_index:
            self._point_index[table.id] = {tok: p for p in self.scope(table) for tok in p.tokens()}
        point = self._point_index[table.id].get(norm(token))
        if point is not None:
            return point
        allowed = ", ".join(p.id for p in self.scope(table))
        raise InputError(
            None,
            gettext("table {id}: unknown decision point {token!r}; allowed: {allowed}").format(
                id=table.id, token=token, allowed=allowed
            ),
        )

    def conservative(self, table: DecisionTable) -> dict[str, str]:
        """Conservative values for every point in the table's scope (its own, then those of sub-tables)."""
        out: dict[str, str] = {}
        subs = [self.producer[p.id] for p in self.scope(table) if p.id in self.producer]
        for t in (table, *subs):
            for pid, value in t.conservative.items():
                out.setdefault(pid, value)
        return out

    def decide(
        self,
        table: DecisionTable | str,
        values: Mapping[str, str],
        defaults: Mapping[str, str] | None = None,
        *,
        ignore_unknown: bool = False,
    ) -> Decision:
        """Outcome of ``table`` for ``values`` ({point: value}, names as accepted by the data).

        A missing input is derived from the table producing it when any of that table's inputs is given, else
        taken from ``defaults``; otherwise InputError lists what is missing.  Unknown points are an error
        unless ``ignore_unknown``.
        """
        t = self.table(table) if isinstance(table, str) else table
        given: dict[str, PointValue] = {}
        names: dict[str, str] = {}
        for token, raw in values.items():
            try:
                p = self.point_in_scope(t, token)
            except InputError:
                if ignore_unknown:
                    continue
                raise
            if p.id in given:
                raise InputError(
                    None,
                    gettext("{id} given twice ({name}={raw!r})").format(id=p.id, name=names[p.id], raw=raw),
                )
            given[p.id], names[p.id] = p.value(raw), token
        fallback: dict[str, PointValue] = {}
        for token, raw in (defaults or {}).items():
            try:
                p = self.point_in_scope(t, token)
            except InputError:
                continue
            fallback[p.id] = p.value(raw)
        return self._decide(t, given, fallback)

    def _decide(
        self, t: DecisionTable, given: dict[str, PointValue], fallback: dict[str, PointValue]
    ) -> Decision:
        path: list[Step] = []
        missing: list[DecisionPoint] = []
        for p in t.inputs:
            sub = self.producer.get(p.id)
            if p.id in given:
                if sub is not None and all(q.id in given for q in sub.inputs):
                    check = self._decide(sub, given, fallback)
                    if check.outcome != given[p.id]:
                        shown = ", ".join(f"{a}={b}" for a, b in check.pairs)
                        raise InputError(
                            None,
                            gettext("{point}={value} contradicts {shown} (which give {outcome})").format(
                                point=p.id, value=given[p.id].id, shown=shown, outcome=check.outcome.id
                            ),
                        )
                path.append(Step(p, given[p.id], "given"))
            elif sub is not None and any(q.id in given for q in self.scope(sub)):
                via = self._decide(sub, given, fallback)
                path.append(Step(p, via.outcome, "derived", via))
            elif p.id in fallback:
                path.append(Step(p, fallback[p.id], "default"))
            else:
                missing.append(p)
        if missing:
            need = "; ".join(self._need(p) for p in missing)
            raise InputError(None, gettext("table {id}: missing value for {need}").format(id=t.id, need=need))
        outcome = t.lookup({s.point.id: s.value.id for s in path})
        return Decision(t, outcome, tuple(path))

    def _need(self, point: DecisionPoint) -> str:
        text = f"{point.id} ({'|'.join(v.id for v in point.values)}"
        sub = self.producer.get(point.id)
        if sub is not None:
            text += f", or give {' and '.join(q.id for q in sub.inputs)}"
        return text + ")"


# ---------------------------------------------------------------------------------------------------- loading


def _text(raw: Any, where: str) -> Text:
    if (
        not (type(raw) is dict or isinstance(raw, Mapping))
        or not isinstance(raw.get("en"), str)
        or not isinstance(raw.get("ja"), str)
    ):
        raise ValueError(f"{where}: expected {{en: ..., ja: ...}}")
    return Text(en=raw["en"], ja=raw["ja"])


def _point(raw: Mapping[str, Any], namespace: str, check: bool = True) -> DecisionPoint:
    """A decision point; ``check``: its values' names checked for clashes (left out for the packaged data,
    whose tests load it checked, from the YAML)."""
    pid = raw["id"]
    values = tuple(
        PointValue(
            id=str(v["id"]),
            key=str(v["key"]),
            name=_text(v["name"], f"{pid}.{v['id']}.name"),
            description=_text(v["description"], f"{pid}.{v['id']}.description"),
            aliases=tuple(str(a) for a in v.get("aliases", ())),
        )
        for v in raw["values"]
    )
    point = DecisionPoint(
        id=pid,
        namespace=raw.get("namespace", namespace),
        key=str(raw["key"]),
        version=str(raw["version"]),
        name=_text(raw["name"], f"{pid}.name"),
        description=_text(raw["description"], f"{pid}.description"),
        values=values,
        question=_text(raw["question"], f"{pid}.question") if "question" in raw else None,
        aliases=tuple(str(a) for a in raw.get("aliases", ())),
    )
    if len(values) < 2:
        raise ValueError(f"point {pid}: needs at least two values")
    seen: dict[str, str] = {}
    for v in values if check else ():
        for tok in v.tokens():
            if seen.setdefault(tok, v.id) != v.id:
                raise ValueError(f"point {pid}: {tok!r} names both {seen[tok]} and {v.id}")
    return point


def _condition(point: DecisionPoint, spec: Any) -> frozenset[int]:
    """``v``, ``[v, w]``, ``v..`` (v or higher), ``..v`` (v or lower) or ``v..w`` → value indices."""
    if isinstance(spec, list):
        return frozenset(point.index(str(s)) for s in spec)
    text = str(spec)
    if ".." in text:
        lo, _, hi = text.partition("..")
        a = point.index(lo) if lo else 0
        b = point.index(hi) if hi else len(point.values) - 1
        if a > b:
            raise ValueError(f"empty range {text!r}")
        return frozenset(range(a, b + 1))
    return frozenset({point.index(text)})


def _grid_from_rules(inputs: tuple[DecisionPoint, ...], outcome: DecisionPoint, rules: list[Any]) -> dict:
    parsed: list[tuple[dict[int, frozenset[int]], int]] = []
    position = {p.id: i for i, p in enumerate(inputs)}
    for n, rule in enumerate(rules, 1):
        when = rule.get("when") or {}
        try:
            cond = {position[k]: _condition(inputs[position[k]], v) for k, v in when.items()}
            parsed.append((cond, outcome.index(str(rule["then"]))))
        except KeyError as exc:
            raise ValueError(f"rule {n}: unknown point or value {exc.args[0]!r}") from None
        except ValueError as exc:
            raise ValueError(f"rule {n}: {exc}") from None
    grid: dict[tuple[int, ...], int] = {}
    used: set[int] = set()
    for idx in itertools.product(*(range(len(p.values)) for p in inputs)):
        for n, (cond, out) in enumerate(parsed):
            if all(idx[i] in allowed for i, allowed in cond.items()):
                grid[idx] = out
                used.add(n)
                break
        else:
            shown = ", ".join(f"{p.id}={p.values[i].id}" for p, i in zip(inputs, idx, strict=True))
            raise ValueError(f"no rule matches {shown}")
    dead = [str(n + 1) for n in range(len(parsed)) if n not in used]
    if dead:
        raise ValueError(f"rule(s) {', '.join(dead)} never apply (shadowed by earlier rules)")
    return grid


def _grid_from_cvss4(inputs: tuple[DecisionPoint, ...], outcome: DecisionPoint, spec: Mapping) -> dict:
    """Rows from the CVSS v4 macrovector lookup scores shipped with the ``cvss`` library."""
    from cvss.constants4 import CVSS_LOOKUP_GLOBAL

    digits = spec["digits"]
    if list(digits) != [p.id for p in inputs]:
        raise ValueError("cvss4_macrovector.digits must list the inputs in macrovector order")
    substitutes = spec.get("substitute", [])
    bands = sorted(((float(lo), outcome.index(v)) for lo, v in spec["bands"]), reverse=True)
    grid: dict[tuple[int, ...], int] = {}
    for idx in itertools.product(*(range(len(p.values)) for p in inputs)):
        chosen = {p.id: p.values[i].id for p, i in zip(inputs, idx, strict=True)}
        for sub in substitutes:
            if all(chosen[k] == v for k, v in sub["when"].items()):
                chosen.update(sub["use"])
        vector = "".join(str(digits[p.id][chosen[p.id]]) for p in inputs)
        if vector not in CVSS_LOOKUP_GLOBAL:
            raise ValueError(f"macrovector {vector} has no CVSS v4 score and no substitute")
        score = float(CVSS_LOOKUP_GLOBAL[vector])
        grid[idx] = next(out for lo, out in bands if score >= lo)
    return grid


class _LazyGrid(Mapping[tuple[int, ...], int]):
    """A table's grid expanded on first use: the packaged catalog (tested whole by its own tests) has 17
    tables, a scan looks up two or three of them; expanding all, and importing the ``cvss`` library for
    the CVSS v4 one, was a good part of every scan's start-up."""

    def __init__(self, build: Callable[[], dict[tuple[int, ...], int]]) -> None:
        self._build: Callable[[], dict[tuple[int, ...], int]] | None = build
        self._grid: dict[tuple[int, ...], int] = {}

    def _cells(self) -> dict[tuple[int, ...], int]:
        if self._build is not None:
            self._grid = self._build()
            self._build = None
        return self._grid

    def __getitem__(self, key: tuple[int, ...]) -> int:
        return self._cells()[key]

    def __iter__(self) -> Iterator[tuple[int, ...]]:
        return iter(self._cells())

    def __len__(self) -> int:
        return len(self._cells())


def _table(raw: Mapping[str, Any], points: Mapping[str, DecisionPoint], lazy: bool = False) -> DecisionTable:
    tid = raw["id"]
    try:
        inputs = tuple(points[p] for p in raw["inputs"])
        outcome = points[raw["outcome"]]
    except KeyError as exc:
        raise ValueError(f"table {tid}: unknown decision point {exc.args[0]!r}") from None
    if outcome in inputs or len({p.id for p in inputs}) != len(inputs):
        raise ValueError(f"table {tid}: inputs must be distinct and differ from the outcome")
    conservative = {str(k): str(v) for k, v in (raw.get("conservative") or {}).items()}
    if set(conservative) != {p.id for p in inputs}:
        raise ValueError(f"table {tid}: conservative must give a value for exactly the inputs")
    for p in inputs:
        if p.question is None:
            raise ValueError(f"table {tid}: input {p.id} has no question")
        try:
            p.index(conservative[p.id])
        except KeyError:
            raise ValueError(
                f"table {tid}: conservative {p.id}={conservative[p.id]!r} is not a value"
            ) from None

    def expand() -> dict[tuple[int, ...], int]:
        try:
            if form == "rules":
                return _grid_from_rules(inputs, outcome, raw["rules"])
            return _grid_from_cvss4(inputs, outcome, raw["cvss4_macrovector"])
        except (KeyError, ValueError) as exc:
            raise ValueError(f"table {tid}: {exc}") from None

    if "rules" in raw:
        form, count = "rules", len(raw["rules"])
    elif "cvss4_macrovector" in raw:
        form, count = "cvss4_macrovector", 0
    else:
        raise ValueError(f"table {tid}: needs rules or cvss4_macrovector")
    grid: Mapping[tuple[int, ...], int] = _LazyGrid(expand) if lazy else expand()
    return DecisionTable(
        id=tid,
        name=_text(raw["name"], f"{tid}.name"),
        summary=_text(raw["summary"], f"{tid}.summary"),
        role=str(raw["role"]),
        source={str(k): str(v) for k, v in raw["source"].items()},
        inputs=inputs,
        outcome=outcome,
        conservative=conservative,
        form=form,
        rule_count=count,
        aliases=tuple(str(a) for a in raw.get("aliases", ())),
        grid=grid,
    )


def _yaml(path: Path) -> Any:
    # on use (PyYAML): the packaged tables are read from their packed copy (default_catalog)
    from mamori.fileio import read_yaml  # bounded, a regular file only, a safe loader

    try:
        return read_yaml(path)
    except InputError as exc:
        raise InputError(
            path, gettext("cannot read SSVC data: {reason}").format(reason=exc.problem)
        ) from None


# The packaged YAML files as parsed, in one JSON file (tools/ssvc_json.py writes it from the YAML;
# tests/test_ssvc_packed.py proves it equal): parsing the YAML took about 30 ms of every scan's start-up.
PACKED = "catalog.json"
KINDS = ("points", "tables")


def _files(base: Path, kind: str) -> list[Path]:
    return sorted((base / kind).glob("*.yaml"))


def packed(directory: str | Path) -> bytes:
    """The YAML files of ``directory`` as parsed, as JSON: ``{"points/NAME.yaml": data, …}``."""
    import orjson

    base = Path(directory)
    docs = {f"{kind}/{path.name}": _yaml(path) for kind in KINDS for path in _files(base, kind)}
    return orjson.dumps(docs, option=orjson.OPT_APPEND_NEWLINE)


def load_catalog(directory: str | Path | None = None) -> Catalog:
    """Load ``points/*.yaml`` and ``tables/*.yaml`` of ``directory`` (default: the packaged data)."""
    if directory is None:
        return default_catalog()
    return _catalog(Path(directory), _yaml)


def _catalog(base: Path, read: Any, lazy: bool = False) -> Catalog:
    """The catalog of ``base``'s YAML files, each parsed by ``read(path)``; ``lazy``: each table's grid
    expanded (and its rules checked) on first use and the names within each point's values and each
    table's scope not checked for clashes, for the packaged data only (its tests check it whole, read
    from the YAML)."""
    points: dict[str, DecisionPoint] = {}
    refs: dict[str, str] = {}
    for path in _files(base, "points"):
        doc = read(path)
        try:
            for raw in doc["points"]:
                p = _point(raw, doc["namespace"], check=not lazy)
                if p.id in points or refs.setdefault(p.ref, p.id) != p.id:
                    raise ValueError(f"point {p.id} ({p.ref}) defined twice")
                points[p.id] = p
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(path, gettext("invalid decision point data: {exc}").format(exc=exc)) from None
    tables: dict[str, DecisionTable] = {}
    names: dict[str, str] = {}
    for path in _files(base, "tables"):
        try:
            t = _table(read(path), points, lazy)
            for tok in t.tokens():
                if names.setdefault(tok, t.id) != t.id:
                    raise ValueError(f"table name {tok!r} used by {names[tok]} and {t.id}")
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(path, gettext("invalid decision table: {exc}").format(exc=exc)) from None
        tables[t.id] = t
    if not tables:
        raise InputError(base, gettext("no SSVC decision tables found"))
    catalog = Catalog(points, tables)
    for t in () if lazy else tables.values():
        seen: dict[str, str] = {}
        for p in catalog.scope(t):
            for tok in p.tokens():
                if seen.setdefault(tok, p.id) != p.id:
                    raise InputError(
                        base,
                        gettext("table {id}: {tok!r} names both {first} and {second}").format(
                            id=t.id, tok=tok, first=seen[tok], second=p.id
                        ),
                    )
    return catalog


@cache
def default_catalog() -> Catalog:
    """The SSVC data shipped with mamori (loaded once), read from its packed copy (:data:`PACKED`) when
    that names the same files (else from the YAML)."""
    with resources.as_file(resources.files("mamori") / "data" / "ssvc") as path:
        try:
            import orjson

            docs = orjson.loads((path / PACKED).read_bytes())
        except (OSError, ValueError):
            return load_catalog(path)
        names = {f"{kind}/{p.name}" for kind in KINDS for p in _files(path, kind)}
        if not isinstance(docs, dict) or set(docs) != names:
            return load_catalog(path)
        return _catalog(path, lambda p: docs[f"{p.parent.name}/{p.name}"], lazy=True)


def decide(
    table: DecisionTable | str,
    values: Mapping[str, str],
    defaults: Mapping[str, str] | None = None,
    *,
    ignore_unknown: bool = False,
) -> Decision:
    """Outcome and path of ``table`` (id, alias or object) for ``values`` with the packaged data."""
    return default_catalog().decide(table, values, defaults, ignore_unknown=ignore_unknown)


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """``["exploitation=active", "automatable=yes"]`` → mapping; every item must be POINT=VALUE."""
    values: dict[str, str] = {}
    for item in pairs:
        point, sep, value = item.partition("=")
        if not sep or not point.strip() or not value.strip():
            raise InputError(None, gettext("expected POINT=VALUE, got {item!r}").format(item=item))
        if point.strip() in values:
            raise InputError(None, gettext("{point} given twice").format(point=point.strip()))
        values[point.strip()] = value.strip()
    return values

"""Agreed contract terms per supplier: the SBOM transaction model's 22 items (TX-01 ... TX-22, catalog
``sbom-transaction-model``), each agreed or not, with the machine-checkable values of data/contract/terms.yaml.

Read from the checklist ``mamori plan contract`` writes (.xlsx: the "agreed" column says yes/はい, the notes
column may hold ``key: value`` lines; .md: ``- [x]`` marks an agreed item, indented ``key: value`` lines
under it give values) or from a YAML/JSON terms file::

    supplier: ACME               # optional
    items:
      TX-01: {formats: "cyclonedx 1.4 1.5, spdx 2.3"}
      TX-03: {minimum_elements: ntia, licenses: 90%, hashes: 1.0}
      TX-11: {vex: yes, vex_within_days: 7}
      TX-18: {}                  # agreed; checked by a person
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from mamori.compliance import catalog as cat
from mamori.errors import InputError
from mamori.fileio import open_xlsx, read_bytes, read_yaml
from mamori.i18n import _
from mamori.packaged import load_yaml

TRANSACTION = "sbom-transaction-model"
TERMS_DATA = "data/contract/terms.yaml"
_YES = {"yes", "y", "true", "1", "はい", "○", "◯", "agreed", "合意", "合意済", "x"}
_NO = {"no", "n", "false", "0", "いいえ", "n/a", "na", "該当なし", "-", ""}
_PARAM_LINE = re.compile(r"^\s*([a-z_]+)\s*[:=]\s*(.*?)\s*$")


@dataclass(frozen=True)
class Param:
    name: str
    item: str
    kind: str  # formats | list | choice | share | days | flag
    values: tuple[str, ...] = ()


@cache
def params() -> dict[str, Param]:
    """Every machine-checkable parameter, by name."""
    table = load_yaml(TERMS_DATA)["params"]
    return {
        name: Param(name, spec["item"], spec["kind"], tuple(spec.get("values") or ()))
        for name, spec in table.items()
    }


def params_of(item_id: str) -> list[Param]:
    return [p for p in params().values() if p.item == item_id]


def items() -> list[cat.Item]:
    """The 22 clauses in catalog order."""
    return cat.load(TRANSACTION).of_kind("item")


@dataclass
class ItemTerm:
    agreed: bool
    params: dict[str, Any] = field(default_factory=dict)
    clause: str | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"agreed": self.agreed, "params": self.params}
        if self.clause:
            out["clause"] = self.clause
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class Terms:
    supplier: str
    items: dict[str, ItemTerm]
    catalog_version: str = "1"
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "supplier": self.supplier,
            "catalog": TRANSACTION,
            "catalog_version": self.catalog_version,
            "source": self.source,
            "items": {k: v.to_dict() for k, v in self.items.items()},
        }

    def to_file_data(self) -> dict[str, Any]:
        """The YAML/JSON terms file that reads back to these terms (agreed items only)."""
        out: dict[str, Any] = {"supplier": self.supplier, "items": {}}
        for item_id, term in self.items.items():
            if term.agreed:
                entry: dict[str, Any] = dict(term.params)
                if term.clause:
                    entry["clause"] = term.clause
                if term.note:
                    entry["note"] = term.note
                out["items"][item_id] = entry
        return out


def from_dict(data: dict[str, Any]) -> Terms:
    """Stored terms (:meth:`Terms.to_dict`) back to :class:`Terms`."""
    return Terms(
        supplier=str(data["supplier"]),
        items={
            k: ItemTerm(bool(v.get("agreed")), dict(v.get("params") or {}), v.get("clause"), v.get("note"))
            for k, v in (data.get("items") or {}).items()
        },
        catalog_version=str(data.get("catalog_version") or "1"),
        source=data.get("source"),
    )


# --------------------------------------------------------------------------------------------- values


def _words(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [w.strip() for w in re.split(r"[,;、\n]", str(value)) if w.strip()]


def parse_param(name: str, value: Any, where: str) -> Any:
    """One parameter's value in its stored form; anything else is an InputError naming ``where``."""
    spec = params().get(name)
    if spec is None:
        raise ValueError(_("{where}: unknown term {name!r}").format(where=where, name=name))

    def bad(expected: str) -> ValueError:
        return ValueError(
            _("{where}: {name}: {value!r} is not {expected}").format(
                where=where, name=name, value=value, expected=expected
            )
        )

    if spec.kind == "formats":
        found: dict[str, list[str]] = {}
        entries: list[tuple[str, list[str]]] = []
        if isinstance(value, dict):
            entries = [(str(k), [str(v) for v in (vs or [])]) for k, vs in value.items()]
        else:
            for word in _words(value):
                parts = word.replace("-", " ").split()
                entries.append((parts[0], parts[1:]))
        for spec_name, versions in entries:
            key = spec_name.strip().lower()
            if key not in spec.values:
                raise bad(" / ".join(spec.values))
            found.setdefault(key, [])
            found[key] = sorted(set(found[key]) | {v.strip() for v in versions if v.strip()})
        if not found:
            raise bad(" / ".join(spec.values))
        return found
    if spec.kind == "list":
        words = _words(value)
        if spec.values:
            words = [w.lower() for w in words]
            if any(w not in spec.values for w in words):
                raise bad(" / ".join(spec.values))
        if not words:
            raise bad(_("a list"))
        return words
    if spec.kind == "choice":
        text = str(value).strip().lower()
        if text not in spec.values:
            raise bad(" / ".join(spec.values))
        return text
    if spec.kind == "share":
        if value is True or str(value).strip().lower() in _YES - {"1"}:
            return 1.0
        text = str(value).strip()
        try:
            share = float(text.removesuffix("%")) / (100 if text.endswith("%") else 1)
        except ValueError:
            raise bad(_("a share such as 0.9 or 90%")) from None
        if not 0 <= share <= 1:
            raise bad(_("a share such as 0.9 or 90%"))
        return share
    if spec.kind == "days":
        try:
            days = int(str(value).strip())
        except ValueError:
            raise bad(_("a whole number of days")) from None
        if days < 0 or isinstance(value, float | bool):
            raise bad(_("a whole number of days"))
        return days
    # flag
    text = str(value).strip().lower() if not isinstance(value, bool) else ("yes" if value else "no")
    if text in _YES:
        return True
    if text in _NO - {""}:
        return False
    raise bad("yes / no")


def _item_id(raw: Any, where: str) -> str:
    wanted = str(raw).strip().upper()
    known = {i.id for i in items()}
    if wanted not in known:
        raise ValueError(_("{where}: {item!r} is not an item TX-01 ... TX-22").format(where=where, item=raw))
    return wanted


def _check_item(item_id: str, given: dict[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in given.items():
        spec = params().get(name)
        if spec is None or spec.item != item_id:
            allowed = ", ".join(p.name for p in params_of(item_id)) or _("none")
            raise ValueError(
                _("{where}: {item}: unknown term {name!r} (this item takes: {allowed})").format(
                    where=where, item=item_id, name=name, allowed=allowed
                )
            )
        if value is None or str(value).strip() == "":
            continue
        out[name] = parse_param(name, value, f"{where}: {item_id}")
    return out


def _notes(text: str | None, item_id: str, where: str) -> tuple[dict[str, Any], str | None]:
    """``key: value`` lines naming a term of the item → values; other lines stay the note."""
    values: dict[str, Any] = {}
    rest: list[str] = []
    for line in (text or "").splitlines():
        match = _PARAM_LINE.match(line)
        if match and match.group(1) in params():
            values[match.group(1)] = match.group(2)
        elif line.strip():
            rest.append(line.strip())
    return _check_item(item_id, values, where), "\n".join(rest) or None


def _empty() -> dict[str, ItemTerm]:
    return {i.id: ItemTerm(False) for i in items()}


# --------------------------------------------------------------------------------------------- readers


def load(path: Path, supplier: str) -> Terms:
    """The terms in ``path`` (.xlsx, .md, .yaml/.yml/.json) for ``supplier``; problems are one InputError."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".xlsx":
            found = _from_xlsx(path)
        elif suffix == ".md":
            found = _from_markdown(path)
        elif suffix in (".yaml", ".yml", ".json"):
            found = _from_data(path)
        else:
            raise InputError(path, _("terms are read from .xlsx, .md, .yaml or .json"))
    except ValueError as exc:
        raise InputError(path, str(exc)) from None
    if not any(t.agreed for t in found.values()):
        raise InputError(path, _("no item is marked as agreed"))
    version = cat.load(TRANSACTION).version
    return Terms(supplier=supplier, items=found, catalog_version=version, source=path.name)


def _from_data(path: Path) -> dict[str, ItemTerm]:
    data = read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("items"), dict):
        raise ValueError(_("a terms file is a mapping with 'items': {TX-01: {...}, ...}"))
    found = _empty()
    for raw, given in data["items"].items():
        item_id = _item_id(raw, "items")
        given = dict(given or {}) if isinstance(given, dict) or given is None else None
        if given is None:
            raise ValueError(_("items: {item}: expected a mapping of terms").format(item=raw))
        clause, note = given.pop("clause", None), given.pop("note", None)
        found[item_id] = ItemTerm(
            True,
            _check_item(item_id, given, "items"),
            str(clause) if clause else None,
            str(note) if note else None,
        )
    return found


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    from mamori.cells import restore

    text = restore(str(value)).strip()
    return text or None


def _from_xlsx(path: Path) -> dict[str, ItemTerm]:
    from mamori.compliance.messages import both

    wb = open_xlsx(read_bytes(path), path)
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True, max_row=200, max_col=30))
    names = {key: set(both(f"plan.{key}").values()) for key in ("agreed", "clause_ref", "note")}
    header_at = next((n for n, row in enumerate(rows) if row and _cell(row[0]) == "ID"), None)
    if header_at is None:
        raise ValueError(_("no header row starting with 'ID' (a checklist of 'mamori plan contract')"))
    header = [_cell(c) for c in rows[header_at]]
    where = {key: next((n for n, h in enumerate(header) if h in spell), None) for key, spell in names.items()}
    if where["agreed"] is None:
        raise ValueError(_("no column {names}").format(names=" / ".join(sorted(names["agreed"]))))
    found = _empty()
    for n, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        if not row or _cell(row[0]) is None:
            continue
        label = _("row {row}").format(row=n)
        item_id = _item_id(_cell(row[0]), label)

        def get(key: str, row: tuple[Any, ...] = row) -> str | None:
            at = where[key]
            return _cell(row[at]) if at is not None and at < len(row) else None

        agreed = (get("agreed") or "").lower()
        if agreed not in _YES and agreed not in _NO:
            raise ValueError(
                _("{where}: {item}: agreed is {value!r}, not yes/no").format(
                    where=label, item=item_id, value=agreed
                )
            )
        values, note = _notes(get("note"), item_id, label)
        found[item_id] = ItemTerm(agreed in _YES, values, get("clause_ref"), note)
    return found


_MD_ITEM = re.compile(r"^- \[( |x|X)\] \*\*(TX-\d\d)\b")


def _from_markdown(path: Path) -> dict[str, ItemTerm]:
    try:
        text = read_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(_("not UTF-8 text")) from None
    found = _empty()
    current: str | None = None
    lines: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _MD_ITEM.match(line)
        if match:
            current = _item_id(match.group(2), _("line {line}").format(line=number))
            found[current] = ItemTerm(match.group(1) != " ")
            lines[current] = []
        elif current and line.startswith((" ", "\t")) and _PARAM_LINE.match(line):
            key = _PARAM_LINE.match(line).group(1)  # type: ignore[union-attr]
            if key in params():
                lines[current].append(line)
        elif line.startswith("#"):
            current = None
    for item_id, given in lines.items():
        values, _note = _notes("\n".join(given), item_id, item_id)
        found[item_id].params = values
    return found

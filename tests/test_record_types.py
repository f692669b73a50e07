"""One wrongly typed field never aborts or corrupts an import (issue 13, point 5).

For every source, real records from ../shared/data get, in each leaf field (every field of the record,
each distinct key path once), each wrong type in turn: a list, an object, an integer, a float, a
boolean, null, a long string, a numeric string where a number is, and a NUL character in a string. Each mutated record carries one
mutation and gets its own id; good copies of the real records go beside them. The installed
``mamori db import`` reads the lot into SQLite and into a throw-away PostgreSQL database
(MAMORI_TEST_PG_URL); then:

- no traceback, exit 1 (records were rejected) or 0;
- each mutated record is stored with values of the model's types, or rejected, its line naming the
  key path (or, for an id that is gone, the id's key);
- every good record is stored;
- the two stores hold the same rows (compared value by value, documents decompressed).

Text formats (EPSS CSV, purl2cpe TSV, JVN XML) get the same kinds of values as text: bracketed and
braced text, numbers, booleans, an empty value, a long value; a JVN element doubled (a list) or given
child elements (an object).

``python tests/test_record_types.py`` prints, per source, how many mutations were tried and how many
abort an import or store something different on SQLite and PostgreSQL when each is imported alone
(with PYTHONPATH pointing at another checkout's src, it measures that checkout).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import subprocess
import sys
import types
import typing
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import SHARED_DATA, requires_shared

PG_URL = os.environ.get("MAMORI_TEST_PG_URL")
MAMORI = str(Path(sys.executable).with_name("mamori"))
LONG = "A" * 5000

Path_ = tuple[str | int, ...]

MUTATIONS: dict[str, Callable[[Any], Any]] = {
    "list": lambda v: [v if v is not None else "Known"],
    "dict": lambda v: {"value": v},
    "int": lambda v: 7,
    "float": lambda v: 7.5,
    "bool": lambda v: True,
    "null": lambda v: None,
    "long": lambda v: LONG,
    "numstr": lambda v: "7.5",  # only where the real value is a number
    "nul": lambda v: f"{v}\u0000x",  # only where the real value is a string: PostgreSQL keeps no NUL in text
}
TEXT_MUTATIONS = {
    "list": "[1, 2]",
    "dict": '{"a": 1}',
    "int": "7",
    "float": "7.5",
    "bool": "true",
    "null": "",
    "long": LONG,
}


@dataclass
class Case:
    source: str
    record: str  # the record's own id (as given to the copy), or "" for a text line
    path: Path_  # key path of the mutated field from where the importer names it
    mutation: str
    labels: tuple[str, ...]  # how a rejected line may begin: file and record, or the file alone


@dataclass
class Input:
    """One import: a file or folder, the mutated cases in it, the good records' ids."""

    source: str
    path: Path
    cases: list[Case] = field(default_factory=list)
    good: list[str] = field(default_factory=list)


def key_path(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def leaves(value: Any, path: Path_ = ()) -> Iterator[Path_]:
    """Every scalar's key path; of the items of a list, only the first and the last."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        indexes = sorted({0, len(value) - 1}) if value else []
        for index in indexes:
            yield from leaves(value[index], (*path, index))
    else:
        yield path


def generic(path: Path_) -> Path_:
    return tuple("*" if isinstance(p, int) else p for p in path)


def distinct_leaves(doc: Any, seen: set[Path_] | None = None) -> list[Path_]:
    """The leaves of ``doc`` whose key path (list positions aside) is not in ``seen`` (the other
    records of the same source already mutated), each once."""
    seen = set() if seen is None else seen
    out = []
    for path in leaves(doc):
        if generic(path) not in seen:
            seen.add(generic(path))
            out.append(path)
    return out


def get_at(doc: Any, path: Path_) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def set_at(doc: Any, path: Path_, value: Any) -> Any:
    doc = copy.deepcopy(doc)
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return doc


def mutations_of(value: Any) -> list[str]:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return [m for m in MUTATIONS if (m != "numstr" or number) and (m != "nul" or isinstance(value, str))]


# -- the inputs, one builder per source ----------------------------------------------------------------


def _osv_records() -> list[dict[str, Any]]:
    from mamori.vulndb import osv

    misc = SHARED_DATA / "osv" / "misc"
    names = ["osv-GHSA-77rv-6vfw-x4gc.json", "osv-DSA-5474-1.json", "osv-git-commit-hash-ranges.json"]
    records = [orjson.loads((misc / n).read_bytes()) for n in names]
    for path in sorted((SHARED_DATA / "osv" / "pypi").rglob("*.yaml")):
        doc = osv.load_yaml(path.read_bytes())
        if doc.get("severity") and doc.get("aliases") and doc.get("affected"):
            records.append(doc)
            break
    return records


def _renamed_osv(doc: dict[str, Any], n: int) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    doc["id"] = f"MAMORI-TEST-{n}"
    if isinstance(doc.get("aliases"), list):
        doc["aliases"] = [f"{a}-{n}" for a in doc["aliases"]]
    return doc


def _labels(path: Path, *records: str) -> tuple[str, ...]:
    return tuple(f"{path}: {record}: " for record in records)


def osv_input(folder: Path) -> Input:
    out = Input("osv", folder / "osv-records.json")
    docs: list[dict[str, Any]] = []
    seen: set[Path_] = set()
    for real in _osv_records():
        docs.append(_renamed_osv(real, len(docs)))
        out.good.append(docs[-1]["id"])
        for path in distinct_leaves(real, seen):
            for mutation in mutations_of(get_at(real, path)):
                doc = _renamed_osv(real, len(docs))
                rid = doc["id"]
                doc = set_at(doc, path, MUTATIONS[mutation](get_at(doc, path)))
                labels = _labels(out.path, rid, f"[{len(docs)}]")
                out.cases.append(Case("osv", rid, path, mutation, labels))
                docs.append(doc)
    out.path.write_bytes(orjson.dumps(docs))
    return out


CVE5_FILES = [
    "2022/43xxx/CVE-2022-43453.json",  # CNA and ADP affected with lessThan, collectionURL, SSVC
    "2019/1xxx/CVE-2019-1069.json",  # CISA ADP KEV
    "2019/25xxx/CVE-2019-25161.json",
]


def cve5_input(folder: Path) -> Input:
    target = folder / "cve5"
    target.mkdir()
    out = Input("cve5", target)
    n = 0
    seen: set[Path_] = set()

    def write(doc: dict[str, Any]) -> str:
        nonlocal n
        rid = f"CVE-9999-{n:07d}"
        doc = copy.deepcopy(doc)
        doc["cveMetadata"]["cveId"] = rid
        (target / f"{rid}.json").write_bytes(orjson.dumps(doc))
        n += 1
        return rid

    for name in CVE5_FILES:
        real = orjson.loads((SHARED_DATA / "cve5" / name).read_bytes())
        out.good.append(write(real))
        for path in distinct_leaves(real, seen):
            for mutation in mutations_of(get_at(real, path)):
                rid = f"CVE-9999-{n:07d}"
                doc = copy.deepcopy(real)
                doc["cveMetadata"]["cveId"] = rid
                doc = set_at(doc, path, MUTATIONS[mutation](get_at(doc, path)))
                (target / f"{rid}.json").write_bytes(orjson.dumps(doc))
                n += 1
                out.cases.append(Case("cve5", rid, path, mutation, (f"{target / rid}.json: ",)))
    return out


NVD_FILES = [
    "cve-2024-23113.json",  # CISA KEV fields, CVSS v3.1, configurations
    "CVE-2021-0002-duplicate-exact-version-matches.json",  # AND configurations, negate, version bounds
    "CVE-2017-5638-cvssv4-rating.json",  # CVSS v4
]


def nvd_input(folder: Path) -> Input:
    out = Input("nvd", folder / "nvd-page.json")
    items: list[dict[str, Any]] = []
    seen: set[Path_] = set()
    for name in NVD_FILES:
        real = orjson.loads((SHARED_DATA / "nvd" / name).read_bytes())

        def renamed(doc: dict[str, Any]) -> dict[str, Any]:
            doc = copy.deepcopy(doc)
            doc["cve"]["id"] = f"CVE-9998-{len(items):07d}"
            return doc

        items.append(renamed(real))
        out.good.append(items[-1]["cve"]["id"])
        for leaf in distinct_leaves(real, seen):
            for mutation in mutations_of(get_at(real, leaf)):
                doc = renamed(real)
                rid = doc["cve"]["id"]
                doc = set_at(doc, leaf, MUTATIONS[mutation](get_at(doc, leaf)))
                labels = _labels(out.path, rid, f"vulnerabilities[{len(items)}]")
                out.cases.append(Case("nvd", rid, leaf, mutation, labels))
                items.append(doc)
    page = {"resultsPerPage": len(items), "startIndex": 0, "totalResults": len(items), "format": "NVD_CVE"}
    out.path.write_bytes(orjson.dumps({**page, "vulnerabilities": items}))
    return out


def kev_input(folder: Path) -> Input:
    catalog = orjson.loads((SHARED_DATA / "kev" / "known_exploited_vulnerabilities.json").read_bytes())
    reals = catalog["vulnerabilities"][:3]
    out = Input("kev", folder / "kev.json")
    items: list[dict[str, Any]] = []
    seen: set[Path_] = set()
    for real in reals:
        items.append({**real, "cveID": f"CVE-9997-{len(items):07d}"})
        out.good.append(items[-1]["cveID"])
        for leaf in distinct_leaves(real, seen):
            for mutation in mutations_of(get_at(real, leaf)):
                rid = f"CVE-9997-{len(items):07d}"
                doc = set_at({**real, "cveID": rid}, leaf, MUTATIONS[mutation](get_at(real, leaf)))
                path = ("vulnerabilities", len(items), *leaf)
                labels = _labels(out.path, rid, f"vulnerabilities[{len(items)}]")
                out.cases.append(Case("kev", rid, path, mutation, labels))
                items.append(doc)
    out.path.write_bytes(orjson.dumps({**catalog, "count": len(items), "vulnerabilities": items}))
    return out


def _kev_ids() -> list[str]:
    catalog = orjson.loads((SHARED_DATA / "kev" / "known_exploited_vulnerabilities.json").read_bytes())
    return [v["cveID"] for v in catalog["vulnerabilities"]]


def epss_api_input(folder: Path) -> Input:
    """The EPSS API answer's layout (scores as strings, as FIRST sends them) for real CVE ids."""
    out = Input("epss", folder / "epss-api.json")
    rows: list[dict[str, Any]] = []
    real = {"cve": "", "epss": "0.000430000", "percentile": "0.122450000", "date": "2025-08-25"}
    for number, cve in enumerate(_kev_ids()[:3]):
        rows.append({**real, "cve": cve, "epss": f"0.{number + 1}"})
        out.good.append(cve)
    ids = iter(_kev_ids()[3:])
    for leaf in distinct_leaves(real):
        for mutation in [*mutations_of(get_at(real, leaf)), "numstr"]:
            rid = next(ids)
            doc = set_at({**real, "cve": rid}, leaf, MUTATIONS[mutation](get_at(real, leaf)))
            out.cases.append(Case("epss", rid, leaf, mutation, _labels(out.path, rid, f"data[{len(rows)}]")))
            rows.append(doc)
    out.path.write_bytes(orjson.dumps({"status": "OK", "total": len(rows), "data": rows}))
    return out


def epss_csv_input(folder: Path) -> Input:
    out = Input("epss", folder / "epss_scores-2025-08-25.csv")
    lines = ["#model_version:v2025.03.14,score_date:2025-08-25T00:00:00Z", "cve,epss,percentile"]
    ids = iter(_kev_ids()[100:])
    for _ in range(3):
        rid = next(ids)
        lines.append(f"{rid},0.00043,0.12245")
        out.good.append(rid)
    for column, name in enumerate(("cve", "epss", "percentile")):
        for mutation, value in TEXT_MUTATIONS.items():
            rid = next(ids)
            fields = [rid, "0.00043", "0.12245"]
            value = value.replace(",", ";")  # a comma would make another column
            fields[column] = value if column else f"CVE-{value}"
            lines.append(",".join(fields))
            label = f"line {len(lines)}"
            out.cases.append(Case("epss", rid if column else "", (name,), mutation, _labels(out.path, label)))
    out.path.write_text("\n".join(lines) + "\n")
    return out


def purl2cpe_input(folder: Path) -> Input:
    real = (SHARED_DATA / "purl2cpe" / "purl2cpe.tsv").read_text().splitlines()
    out = Input("purl2cpe", folder / "purl2cpe.tsv")
    lines = [real[0], *real[1:4]]
    out.good = [line.split("\t")[2] for line in real[1:4]]
    for base in real[4:6]:
        for column, name in enumerate(("vendor", "product", "purl")):
            for mutation, value in TEXT_MUTATIONS.items():
                fields = base.split("\t")
                fields[column] = value if column < 2 else f"pkg:{value}/{value}"
                lines.append("\t".join(fields))
                out.cases.append(
                    Case("purl2cpe", "", (name,), mutation, _labels(out.path, f"line {len(lines)}"))
                )
    out.path.write_text("\n".join(lines) + "\n")
    return out


def jvn_input(folder: Path) -> Input:
    """Each leaf element and attribute of the real VULDEF and JVNRSS records, one mutation per copy."""
    from lxml import etree

    from mamori.vulndb import xmlsafe

    out = Input("jvn", folder / "jvn")
    out.path.mkdir()
    for prefix, name, record_tag, id_tag in (
        ("D", "get_vuln_detail_info.xml", "Vulinfo", "VulinfoID"),
        ("O", "get_vuln_overview_list.xml", "item", "identifier"),
    ):
        tree = xmlsafe.parse(name, (SHARED_DATA / "jvn" / name).read_bytes())
        records = [e for e in tree.iter() if xmlsafe.local(e.tag) == record_tag]
        real = records[0]
        parent = real.getparent()
        for e in records:
            parent.remove(e)
        n = 0

        def copy_of(n: int, real: Any = real, id_tag: str = id_tag, prefix: str = prefix) -> Any:
            element = copy.deepcopy(real)
            for e in element.iter():
                if xmlsafe.local(e.tag) == id_tag:
                    e.text = f"JVNDB-9999-{prefix}{n:06d}"
            return element

        good = copy_of(n)
        parent.append(good)
        out.good.append(f"JVNDB-9999-{prefix}{n:06d}")
        positions = [e for e in real.iter() if len(e) == 0 and xmlsafe.local(e.tag) != id_tag]
        for index, _ in enumerate(positions):
            for mutation in TEXT_MUTATIONS:
                n += 1
                element = copy_of(n)
                leaf = [e for e in element.iter() if len(e) == 0 and xmlsafe.local(e.tag) != id_tag][index]
                _mutate_xml(leaf, mutation)
                parent.append(element)
                rid = f"JVNDB-9999-{prefix}{n:06d}"
                out.cases.append(
                    Case("jvn", rid, (xmlsafe.local(leaf.tag),), mutation, _labels(out.path / name, rid))
                )
        (out.path / name).write_bytes(etree.tostring(tree, encoding="utf-8", xml_declaration=True))
    return out


def _mutate_xml(leaf: Any, mutation: str) -> None:
    from lxml import etree

    if mutation == "list":
        twin = copy.deepcopy(leaf)
        leaf.addnext(twin)
    elif mutation == "dict":
        leaf.text = None
        etree.SubElement(leaf, "value").text = "value"
    else:
        leaf.text = TEXT_MUTATIONS[mutation]
        for key in list(leaf.attrib):
            if not key.startswith("{"):
                leaf.set(key, TEXT_MUTATIONS[mutation])


BUILDERS = {
    "osv": osv_input,
    "cve5": cve5_input,
    "nvd": nvd_input,
    "kev": kev_input,
    "epss-api": epss_api_input,
    "epss-csv": epss_csv_input,
    "purl2cpe": purl2cpe_input,
    "jvn": jvn_input,
}


# -- what the stores hold -----------------------------------------------------------------------------

TABLES = {  # table → columns compared (autoincrement ids and times of the run left out)
    "source_record": ["source", "record_id", "feed", "vuln_id", "modified", "withdrawn", "digest", "doc"],
    "vulnerability": ["id", "sources", "published", "modified", "withdrawn", "doc"],
    "alias": ["alias_key", "vuln_id", "alias"],
    "affected_package": [
        "vuln_id",
        "source",
        "record_id",
        "origin",
        "position",
        "ecosystem",
        "ecosystem_variant",
        "name",
        "name_key",
        "purl",
    ],
    "affected_cpe": [
        "vuln_id",
        "source",
        "record_id",
        "origin",
        "position",
        "part",
        "vendor",
        "product",
        "cpe",
        "version",
        "start_including",
        "start_excluding",
        "end_including",
        "end_excluding",
        "version_type",
        "status",
        "vulnerable",
    ],
    "kev": ["cve_id", "date_added", "due_date", "known_ransomware_use", "doc"],
    "epss": ["cve_id", "score", "percentile", "date"],
    "purl_cpe": [
        "purl_type",
        "purl_namespace",
        "purl_name",
        "purl",
        "cpe_vendor",
        "cpe_product",
        "strength",
        "rule",
    ],
}


def _plain(value: Any) -> Any:
    if isinstance(value, bool):  # SQLite gives 0 and 1
        return int(value)
    if isinstance(value, bytes | memoryview):
        return orjson.loads(zlib.decompress(bytes(value)))
    return value


def export(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every compared row of the store, sorted, documents as data."""
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    out: dict[str, list[tuple[Any, ...]]] = {}
    try:
        with engine.connect() as conn:
            present = set(inspect(conn).get_table_names())
            for table, columns in TABLES.items():
                if table not in present:
                    out[table] = []
                    continue
                names = ", ".join(f'"{c}"' for c in columns)
                rows = conn.exec_driver_sql(f'SELECT {names} FROM "{table}"').all()
                out[table] = sorted(
                    tuple(orjson.dumps(_plain(v), option=orjson.OPT_SORT_KEYS) for v in row) for row in rows
                )
    finally:
        engine.dispose()
    return out


def type_problems(value: Any, hint: Any, where: str) -> list[str]:
    """Where a stored value is not of its model type (dataclasses of mamori.model.vulnerability)."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return []
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return []
        inner = [o for o in options if o is not type(None)]
        found = [type_problems(value, o, where) for o in inner]
        return [] if any(not f for f in found) else found[0]
    if origin is list:
        if not isinstance(value, list):
            return [f"{where}: {type(value).__name__} for {hint}"]
        (item,) = typing.get_args(hint)
        return [p for i, v in enumerate(value) for p in type_problems(v, item, f"{where}[{i}]")]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{where}: {type(value).__name__} for {hint}"]
        _, item = typing.get_args(hint)
        return [p for k, v in value.items() for p in type_problems(v, item, f"{where}.{k}")]
    if dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        return [p for f in dataclasses.fields(hint) for p in type_problems(getattr(value, f.name), hints[f.name], f"{where}.{f.name}")]  # fmt: skip
    if hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{where}: {type(value).__name__} for float"]
    if isinstance(hint, type) and not isinstance(value, hint):
        return [f"{where}: {type(value).__name__} for {hint.__name__}"]
    return []


# -- running the imports ------------------------------------------------------------------------------


def run_import(path: Path, db: str) -> tuple[int, dict[str, Any] | None, str]:
    env = {**os.environ, "MAMORI_LANG": "en", "HOME": "/nonexistent"}
    env.pop("MAMORI_DB", None)
    done = subprocess.run(
        [MAMORI, "db", "import", str(path), "--db", db, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    try:
        report = json.loads(done.stdout)
    except ValueError:
        report = None
    return done.returncode, report, done.stderr


@dataclass
class Outcome:
    backend: str
    code: int
    report: dict[str, Any] | None
    stderr: str
    rows: dict[str, list[tuple[Any, ...]]]
    url: str
    ids: dict[str, set[str]] = field(default_factory=dict)
    docs: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ids = stored_ids(self.rows)
        self.docs = _stored_docs(self.rows)


def stored_ids(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, set[str]]:
    def text(v: bytes) -> str:
        return orjson.loads(v)

    return {
        "vuln": {text(r[1]) for r in rows["source_record"]},
        "kev": {text(r[0]) for r in rows["kev"]},
        "epss": {text(r[0]) for r in rows["epss"]},
        "purl": {text(r[3]) for r in rows["purl_cpe"]},
    }


def judge(data: Input, outcome: Outcome) -> list[str]:
    """What is wrong with one backend's import of one input (empty: all well)."""
    problems: list[str] = []
    if "Traceback" in outcome.stderr or outcome.code not in (0, 1) or outcome.report is None:
        return [f"{data.source} on {outcome.backend}: exit {outcome.code}: {outcome.stderr.strip()[-300:]}"]
    lines = [*outcome.report["rejected"], *outcome.report["failed"], *outcome.report["warnings"]]
    ids = outcome.ids
    kind = {"kev": "kev", "epss": "epss", "purl2cpe": "purl"}.get(data.source, "vuln")
    for good in data.good:
        if kind == "purl":
            continue  # checked below with the links
        if good not in ids[kind]:
            problems.append(f"{data.source} on {outcome.backend}: good record {good} not stored")
    docs = outcome.docs
    for case in data.cases:
        named = [line for line in lines if line.startswith(case.labels)]
        stored = case.record in ids[kind] if case.record else None
        if named:
            leaf = str(case.path[-1]) if case.path else ""
            if not any(key_path(case.path) in line or leaf in line for line in named):
                problems.append(f"{case.source}: {key_path(case.path)} {case.mutation}: rejected without its key path: {named[0][:200]}")  # fmt: skip
            if stored:
                problems.append(f"{case.source}: {key_path(case.path)} {case.mutation}: rejected and stored")
        elif stored is False and kind != "purl":
            problems.append(
                f"{case.source}: {key_path(case.path)} {case.mutation}: neither stored nor rejected"
            )
        elif stored and case.record in docs:
            problems += [
                f"{case.source}: {key_path(case.path)} {case.mutation}: stored {p}" for p in docs[case.record]
            ]
    return problems


def _stored_docs(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[str]]:
    """Each stored record's type problems against the model."""
    from mamori.model.vulnerability import Kev, Vulnerability, from_dict

    out: dict[str, list[str]] = {}
    for row in rows["source_record"]:
        rid, doc = orjson.loads(row[1]), orjson.loads(row[7])
        out[rid] = type_problems(from_dict(Vulnerability, doc), Vulnerability, "record")
    for row in rows["kev"]:
        rid, doc = orjson.loads(row[0]), orjson.loads(row[4])
        out[rid] = type_problems(from_dict(Kev, doc), Kev, "kev")
    for row in rows["epss"]:
        rid = orjson.loads(row[0])
        score, percentile = orjson.loads(row[1]), orjson.loads(row[2])
        ok = all(isinstance(v, float | int) and 0 <= v <= 1 for v in (score, percentile))
        out[rid] = [] if ok else [f"epss {score!r} {percentile!r}"]
    return out


@pytest.fixture(scope="module")
def inputs(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Input]:
    folder = tmp_path_factory.mktemp("record-types")
    return {name: build(folder) for name, build in BUILDERS.items()}


BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="MAMORI_TEST_PG_URL not set")),
]


@pytest.fixture(scope="module")
def outcomes(
    inputs: dict[str, Input], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Outcome]]:
    """The folder of every input imported at once on SQLite and (when set up) PostgreSQL."""
    from contextlib import ExitStack

    from mamori.store.throwaway import throwaway_postgres

    folder = next(iter(inputs.values())).path.parent
    out: dict[str, Outcome] = {}
    with ExitStack() as stack:
        urls = {"sqlite": f"sqlite:///{tmp_path_factory.mktemp('record-type-stores')}/kb.db"}
        if PG_URL:
            urls["postgresql"] = stack.enter_context(throwaway_postgres(PG_URL, prefix="mamori_rectypes"))
        for backend, url in urls.items():
            code, report, stderr = run_import(folder, url)
            out[backend] = Outcome(backend, code, report, stderr, export(url), url)
        yield out


@pytest.mark.shared
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", list(BUILDERS))
def test_each_bad_record_is_rejected_or_stored_right(
    name: str, backend: str, inputs: dict[str, Input], outcomes: dict[str, Outcome]
) -> None:
    data = inputs[name]
    assert data.cases, "no mutation was made"
    problems = judge(data, outcomes[backend])
    assert not problems, f"{len(problems)} of {len(data.cases)} mutations: " + "\n".join(problems[:20])


@pytest.mark.shared
@pytest.mark.skipif(not PG_URL, reason="MAMORI_TEST_PG_URL not set")
def test_sqlite_and_postgresql_store_the_same(outcomes: dict[str, Outcome]) -> None:
    lite, pg = outcomes["sqlite"], outcomes["postgresql"]
    assert lite.code == pg.code == 1, (lite.stderr[-300:], pg.stderr[-300:])
    assert lite.report is not None and pg.report is not None
    for table in TABLES:
        only_lite = set(lite.rows[table]) - set(pg.rows[table])
        only_pg = set(pg.rows[table]) - set(lite.rows[table])
        assert not only_lite and not only_pg, (table, sorted(only_lite)[:3], sorted(only_pg)[:3])
    assert lite.rows["source_record"], "nothing was stored"
    assert sorted(lite.report["rejected"]) == sorted(pg.report["rejected"])
    assert sorted(lite.report["failed"]) == sorted(pg.report["failed"])


@pytest.mark.shared
def test_the_rejected_line_names_the_key_path_in_both_languages(shared_data: Path, tmp_path: Path) -> None:
    """The example of the issue: one KEV entry with knownRansomwareCampaignUse ["Known"]."""
    catalog = orjson.loads((SHARED_DATA / "kev" / "known_exploited_vulnerabilities.json").read_bytes())
    catalog["vulnerabilities"] = catalog["vulnerabilities"][:50]
    catalog["vulnerabilities"][3]["knownRansomwareCampaignUse"] = ["Known"]
    path = tmp_path / "kev.json"
    path.write_bytes(orjson.dumps(catalog))
    cve = catalog["vulnerabilities"][3]["cveID"]
    env = {**os.environ, "HOME": "/nonexistent"}
    env.pop("MAMORI_DB", None)
    for lang, words in (
        ("en", "expected a string, got a list"),
        ("ja", "文字列であるべきところがリストです"),
    ):
        db = f"sqlite:///{tmp_path}/{lang}.db"
        done = subprocess.run(
            [MAMORI, "db", "import", str(path), "--db", db, "--lang", lang],
            capture_output=True, text=True, timeout=120, env=env, check=False,
        )  # fmt: skip
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-500:]
        line = f"{path}: {cve}: vulnerabilities[3].knownRansomwareCampaignUse: {words}"
        assert line in done.stderr
        assert f"{len(catalog['vulnerabilities']) - 1}" in done.stdout


# -- SBOMs stored per release ---------------------------------------------------------------------------

SBOM = SHARED_DATA / "sbom" / "cyclonedx" / "laravel-7.12.0" / "bom.1.3.json"
SBOM_MUTATIONS: list[tuple[str, Any]] = [
    ("purl", "pkg:" + "a" * 100 + "/x@1"),  # a purl type longer than the link key column
    ("purl", "pkg:composer/acme/x\u0000y@1"),
    ("name", "N\u0000ul"),
    ("version", LONG),
    ("group", LONG),
]
PORTFOLIO_TABLES = {
    "portfolio_component": [
        "key", "ref", "name", "component_group", "version", "purl", "purl_base", "cpes", "ecosystem",
        "name_key", "link_type", "link_namespace", "link_name", "problem",
    ],
    "release_sbom": ["revision", "file_name", "format", "spec_version", "serial_number", "sbom_timestamp", "tools", "sha256", "size", "components"],
}  # fmt: skip


def _succeeds(args: list[str], db: str, env: dict[str, str], backend: str) -> None:
    """The installed mamori runs ``args`` on ``db`` without a traceback and exits 0."""
    done = subprocess.run(
        [MAMORI, *args, "--db", db], capture_output=True, text=True, timeout=300, env=env, check=False
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, (backend, done.stderr[-800:])


@pytest.mark.shared
@pytest.mark.skipif(not PG_URL, reason="MAMORI_TEST_PG_URL not set")
def test_release_sbom_components_are_stored_the_same(shared_data: Path, tmp_path: Path) -> None:
    """A component whose purl type is longer than the store's link key, or whose texts hold a NUL
    character or are long, is stored by ``mamori release add`` the same on SQLite and PostgreSQL."""
    from mamori.store.throwaway import throwaway_postgres

    doc = orjson.loads(requires_shared(SBOM).read_bytes())
    for index, (key, value) in enumerate(SBOM_MUTATIONS):
        doc["components"][index][key] = value
    path = tmp_path / "bom.json"
    path.write_bytes(orjson.dumps(doc))
    env = {**os.environ, "MAMORI_LANG": "en", "HOME": "/nonexistent"}
    env.pop("MAMORI_DB", None)
    stored = {}
    with throwaway_postgres(PG_URL or "", prefix="mamori_rectypes") as pg:
        for backend, db in (("sqlite", f"sqlite:///{tmp_path}/kb.db"), ("postgresql", pg)):
            for args in (["product", "add", "acme"], ["release", "add", "acme", "1.0", "--sbom", str(path)]):
                _succeeds(args, db, env, backend)
            stored[backend] = _portfolio_rows(db)
    assert stored["sqlite"] == stored["postgresql"]
    components = stored["sqlite"]["portfolio_component"]
    assert len(components) == len(doc["components"])
    names = {orjson.loads(row[2]) for row in components}
    assert "N\ufffdul" in names


def _portfolio_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    out = {}
    try:
        with engine.connect() as conn:
            for table, columns in PORTFOLIO_TABLES.items():
                names = ", ".join(f'"{c}"' for c in columns)
                rows = conn.exec_driver_sql(f'SELECT {names} FROM "{table}"').all()
                out[table] = sorted(tuple(orjson.dumps(_plain(v)) for v in row) for row in rows)
    finally:
        engine.dispose()
    return out


@pytest.mark.shared
@pytest.mark.skipif(not PG_URL, reason="MAMORI_TEST_PG_URL not set")
def test_vex_statements_are_stored_the_same(shared_data: Path, tmp_path: Path) -> None:
    """A real CycloneDX VEX statement whose id and detail hold a NUL character becomes the same
    triage record on SQLite and PostgreSQL (no traceback on PostgreSQL)."""
    from sqlalchemy import create_engine

    from mamori.store.throwaway import throwaway_postgres

    bom = requires_shared(SHARED_DATA / "vex" / "cyclonedx" / "bom.json")
    vex = orjson.loads(requires_shared(SHARED_DATA / "vex" / "cyclonedx" / "vex.json").read_bytes())
    statement = vex["vulnerabilities"][0]
    statement["id"] += "\u0000x"
    statement["analysis"]["detail"] = "not \u0000 reachable"
    statement["affects"] = [{"ref": orjson.loads(bom.read_bytes())["components"][0]["bom-ref"]}]
    path = tmp_path / "vex.json"
    path.write_bytes(orjson.dumps(vex))
    env = {**os.environ, "MAMORI_LANG": "en", "HOME": "/nonexistent"}
    env.pop("MAMORI_DB", None)
    columns = (
        "product, release, component_purl, vuln_id, status, justification, responses, detail, origin, source"
    )
    stored = {}
    with throwaway_postgres(PG_URL or "", prefix="mamori_rectypes") as pg:
        for backend, db in (("sqlite", f"sqlite:///{tmp_path}/kb.db"), ("postgresql", pg)):
            for args in (
                ["product", "add", "acme"],
                ["release", "add", "acme", "1.0", "--sbom", str(bom)],
                ["vex", "import", str(path), "--product", "acme", "--release", "1.0"],
            ):
                _succeeds(args, db, env, backend)
            engine = create_engine(db)
            try:
                with engine.connect() as conn:
                    stored[backend] = sorted(
                        conn.exec_driver_sql(f"SELECT {columns} FROM triage_record").all()
                    )
            finally:
                engine.dispose()
    assert stored["sqlite"] == stored["postgresql"]
    assert [row[3] for row in stored["sqlite"]] == [statement["id"].replace("\x00", "\ufffd")]


# -- counting, per mutation imported alone (python tests/test_record_types.py) ------------------------


def count() -> dict[str, dict[str, int]]:
    """Per source, each record imported alone (one file) into one store per backend: records tried,
    refused with one line on both backends (a file that is one bad record), aborting the import
    (any other exception, a traceback, on either backend), and stored differently (or refused on
    one backend only) on SQLite and PostgreSQL."""
    import tempfile

    from mamori.errors import InputError
    from mamori.store import open_store
    from mamori.store.throwaway import throwaway_postgres
    from mamori.vulndb import import_path

    totals: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, build in BUILDERS.items():
            data = build(folder)
            singles = _singles(data, folder / f"single-{name}")
            tally = totals.setdefault(name, {"tried": 0, "refused": 0, "aborting": 0, "diverging": 0})
            with throwaway_postgres(PG_URL or "", prefix="mamori_rectypes") as pg:
                urls = {"sqlite": f"sqlite:///{folder}/{name}.db", "postgresql": pg}
                for path in singles:
                    tally["tried"] += 1
                    outcome = set()
                    for url in urls.values():
                        try:
                            with open_store(url) as store:
                                import_path(store, path)
                            outcome.add("imported")
                        except InputError:  # a file of one bad record: one line, exit 2
                            outcome.add("refused")
                        except Exception:  # a traceback
                            outcome.add("aborting")
                    stored = {b: export(u) for b, u in urls.items()}
                    if "aborting" in outcome:
                        tally["aborting"] += 1
                    elif len(outcome) > 1 or stored["sqlite"] != stored["postgresql"]:
                        tally["diverging"] += 1
                    elif outcome == {"refused"}:
                        tally["refused"] += 1
                    for url in urls.values():
                        clear(url)
    return totals


def clear(url: str) -> None:
    """Empty the compared tables (and the import state), so the next record is imported alone."""
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            present = set(inspect(conn).get_table_names())
            for table in [*TABLES, "source_state", "coverage"]:
                if table in present:
                    conn.exec_driver_sql(f'DELETE FROM "{table}"')
    finally:
        engine.dispose()


def _singles(data: Input, folder: Path) -> list[Path]:
    """Each mutated record of an input in a file of its own (text formats: with the header)."""
    folder.mkdir()
    out: list[Path] = []
    if data.source == "jvn":
        return _jvn_singles(data.path, folder)
    if data.path.is_dir():
        return sorted(data.path.iterdir())
    raw = data.path.read_bytes()
    if data.path.suffix in (".csv", ".tsv"):
        lines = raw.decode().splitlines()
        head = 2 if data.path.suffix == ".csv" else 1
        for number, line in enumerate(lines[head:]):
            path = folder / f"{number}{data.path.name}"
            path.write_text("\n".join([*lines[:head], line]) + "\n")
            out.append(path)
        return out
    doc = orjson.loads(raw)
    key = {"osv": None, "nvd": "vulnerabilities", "kev": "vulnerabilities", "epss": "data"}[data.source]
    items = doc if key is None else doc[key]
    for number, item in enumerate(items):
        single = [item] if key is None else {**doc, key: [item]}
        path = folder / f"{number}-{data.path.name}"
        path.write_bytes(orjson.dumps(single))
        out.append(path)
    return out


def _jvn_singles(source: Path, folder: Path) -> list[Path]:
    from lxml import etree

    from mamori.vulndb import xmlsafe

    out: list[Path] = []
    for path in sorted(source.iterdir()):
        tree = xmlsafe.parse(path.name, path.read_bytes())
        tag = "Vulinfo" if xmlsafe.local(tree.tag) == "VULDEF-Document" else "item"
        count = sum(1 for e in tree.iter() if xmlsafe.local(e.tag) == tag)
        for keep in range(count):
            single = copy.deepcopy(tree)
            for index, e in enumerate([e for e in single.iter() if xmlsafe.local(e.tag) == tag]):
                if index != keep:
                    e.getparent().remove(e)
            target = folder / f"{keep}-{path.name}"
            target.write_bytes(etree.tostring(single, encoding="utf-8", xml_declaration=True))
            out.append(target)
    return out


if __name__ == "__main__":
    print(json.dumps(count(), indent=1))

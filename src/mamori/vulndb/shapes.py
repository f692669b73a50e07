"""The type of every field an importer reads, checked per record before the record is read.

A record of a feed is data from the internet: any field can hold any JSON type. Each source declares
the shape of what its parser reads (:data:`OSV`, :data:`CVE5`, :data:`NVD`, :data:`KEV`, :data:`EPSS`),
so a wrongly typed field rejects its record, with the key path and the reason
(``containers.cna.affected[0].versions[2].lessThan: expected a string, got a list``), before
anything of it reaches the model or the store. Fields the parsers do not read are not looked at.

Shapes are written as plain data: a dict is an object whose listed keys are optional and may be
null (null reads as absent), a one-item list is a list of that item, and the leaves below are
strings (with the store's length limit where the value is stored as it is), numbers (not booleans,
not numeric strings), booleans and free-form objects.

Each shape is compiled twice: into a pydantic-core validator (the check that decides, and names
the first bad field) and into the same rules as a JSON Schema for jsonschema-rs, which answers
whether a record is good without building a checked copy of it as pydantic-core does (8,127 CVE 5
records: 0.05 s of CPU against 0.13 s; 2,661 OSV records: 0.007 s against 0.016 s, with the collector
settings of an import). A record it finds good is good
(tests/test_vulndb_shapes.py checks that both accept the same values); any other record, or one
holding a value jsonschema-rs does not take (a key that is not a string), is checked by
pydantic-core, whose answer stands. pydantic-core is thus imported, and its validators built, only
when a record is not good: about 25 ms less of the fixed cost every import pays (jsonschema-rs is
loaded instead, which costs less).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from mamori.vulndb.messages import text as message
from mamori.vulndb.rejected import RecordTypeProblem

if TYPE_CHECKING:
    from pydantic_core import SchemaValidator

# pydantic-core schemas are plain dicts (what pydantic_core.core_schema's builders return, written out
# here so that module is not imported: tests/test_vulndb_shapes.py compares them with the builders')
CoreSchema = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Leaf:
    """A value that is not checked further down: a string, a number, a boolean, a free-form object;
    ``schema`` for pydantic-core, ``json`` the same rule as JSON Schema."""

    schema: CoreSchema
    json: dict[str, Any]


Spec = dict[str, Any] | list[Any] | Leaf


def string(max_length: int | None = None, *, column: bool = False) -> Leaf:
    """A string; ``max_length``: the store's limit for a value that is stored as it is; ``column``:
    the value (or one made from it) goes to a text column, where PostgreSQL keeps no NUL."""
    schema: CoreSchema = {"type": "str"}
    json: dict[str, Any] = {"type": "string"}
    if column:
        schema["pattern"] = json["pattern"] = _NO_NUL
    if max_length is not None:
        schema["max_length"] = json["maxLength"] = max_length
    schema["strict"] = True
    return Leaf(schema, json)


_NO_NUL = "^[^\x00]*$"


_NUMBER: CoreSchema = {
    "type": "union",
    "choices": [{"type": "int", "strict": True}, {"type": "float", "allow_inf_nan": False, "strict": True}],
    "custom_error_type": "number_type",
    "custom_error_message": "number",
}
STRING = string()
TEXT = string(column=True)  # stored in an index column
NUMBER = Leaf(_NUMBER, {"type": "number"})  # JSON Schema: not a boolean, not NaN or infinite
BOOLEAN = Leaf({"type": "bool", "strict": True}, {"type": "boolean"})
OBJECT = Leaf(
    {"type": "dict", "strict": True}, {"type": "object"}
)  # free-form: kept as it is in the document
ID_LIMIT, DATE_LIMIT = 200, 32
ID = string(ID_LIMIT, column=True)  # record ids and aliases: the store's key columns
DATE = string(DATE_LIMIT, column=True)  # a date that could not be read is kept as it is
STRINGS: list[Any] = [STRING]


def _compile(spec: Spec) -> CoreSchema:
    if isinstance(spec, dict):
        fields = {
            key: {
                "type": "typed-dict-field",
                "schema": {"type": "nullable", "schema": _compile(value)},
                "required": False,
            }
            for key, value in spec.items()
        }
        return {"type": "typed-dict", "fields": fields, "extra_behavior": "ignore"}
    if isinstance(spec, list):
        (item,) = spec
        return {"type": "list", "items_schema": _compile(item), "strict": True}
    return spec.schema


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema, null also allowed (its other keywords apply to their own types only)."""
    kind = schema["type"]
    return {**schema, "type": [*(kind if isinstance(kind, list) else [kind]), "null"]}


def _json_schema(spec: Spec) -> dict[str, Any]:
    """``spec`` as JSON Schema: the rules of :func:`_compile`."""
    if isinstance(spec, dict):
        return {
            "type": "object",
            "properties": {key: _nullable(_json_schema(value)) for key, value in spec.items()},
        }
    if isinstance(spec, list):
        (item,) = spec
        return {"type": "array", "items": _json_schema(item)}
    return spec.json


_EXPECTED = {
    "string_type": "string",
    "string_too_long": "string",
    "number_type": "number",
    "bool_type": "boolean",
    "list_type": "list",
    "dict_type": "object",
}
_GOT = {
    str: "string",
    bool: "boolean",
    int: "number",
    float: "number",
    list: "list",
    dict: "object",
    type(None): "null",
}


def usable_label(value: Any, limit: int = ID_LIMIT) -> bool:
    """Whether a record's id can name it in a report: a string with text, at most ``limit``
    characters, printable (else the record is named by its place in the document)."""
    return isinstance(value, str) and bool(value.strip()) and len(value) <= limit and value.isprintable()


def type_name(value: Any) -> str:
    """The JSON name of ``value``'s type (string, number, boolean, list, object, null), else other."""
    return _GOT.get(type(value), "other")


def key_path(loc: tuple[str | int, ...]) -> str:
    """``('containers', 'cna', 'affected', 0, 'lessThan')`` → ``containers.cna.affected[0].lessThan``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass(slots=True)
class Shape:
    """A compiled record shape; :meth:`check` raises :class:`RecordTypeProblem` on the first bad field."""

    spec: Spec
    schema: CoreSchema
    fast: Any  # a jsonschema-rs validator of the same rules: is a record good?
    prefix: tuple[str | int, ...] = ()
    _validator: SchemaValidator | None = field(default=None, repr=False)

    @property
    def validator(self) -> SchemaValidator:
        """The pydantic-core validator (compiled on first use): what tells the first bad field."""
        if self._validator is None:
            from pydantic_core import SchemaValidator

            self._validator = SchemaValidator(self.schema)  # type: ignore[arg-type]
        return self._validator

    def check(self, value: Any, name: str, record: str = "", prefix: tuple[str | int, ...] = ()) -> None:
        """``prefix``: where ``value`` is in its document, when not where the shape says."""
        try:
            if self.fast.is_valid(value):
                return
        except (
            Exception
        ):  # a value jsonschema-rs does not take (a key that is not a string): pydantic-core says
            pass
        from pydantic_core import ValidationError

        try:
            self.validator.validate_python(value)
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_context=True)[0]
            raise _problem(first, prefix or self.prefix, name, record) from None


def shape(spec: Spec, prefix: tuple[str | int, ...] = ()) -> Shape:
    """Compile ``spec``; ``prefix``: the key path of the checked value inside its document."""
    return Shape(spec, _compile(spec), jsonschema_rs.validator_for(_json_schema(spec)), prefix)


def _problem(error: Any, prefix: tuple[str | int, ...], name: str, record: str) -> RecordTypeProblem:
    where = key_path((*prefix, *error["loc"])) or "(record)"
    kind = error["type"]
    texts: dict[str, str] = {}
    for lang in ("en", "ja"):
        if kind == "string_too_long":
            limit = error.get("ctx", {}).get("max_length")
            texts[lang] = message(lang, "record", "too_long", path=where, limit=limit)
        elif kind == "string_pattern_mismatch":
            texts[lang] = message(lang, "record", "nul", path=where)
        else:
            expected = message(lang, "record", "types", _EXPECTED.get(kind, "string"))
            got = message(lang, "record", "types", type_name(error["input"]))
            texts[lang] = message(lang, "record", "wrong_type", path=where, expected=expected, got=got)
    return RecordTypeProblem(name, record, where, texts)


def too_long(name: str, record: str, where: str, limit: int) -> RecordTypeProblem:
    """The problem of a text at ``where`` longer than ``limit`` (for formats checked without a shape)."""
    texts = {lang: message(lang, "record", "too_long", path=where, limit=limit) for lang in ("en", "ja")}
    return RecordTypeProblem(name, record, where, texts)


# -- the sources -----------------------------------------------------------------------------------

_OSV_SEVERITY = [{"type": STRING, "score": STRING}]
_OSV_RANGE = {
    "type": STRING,
    "repo": STRING,
    "events": [{"introduced": STRING, "fixed": STRING, "last_affected": STRING, "limit": STRING}],
    "database_specific": OBJECT,
}
OSV = shape(
    {
        "id": ID,
        "aliases": [ID],
        "related": STRINGS,
        "upstream": STRINGS,
        "published": DATE,
        "modified": DATE,
        "withdrawn": DATE,
        "summary": STRING,
        "details": STRING,
        "database_specific": {"cwe_ids": STRINGS},
        "severity": _OSV_SEVERITY,
        "references": [{"type": STRING, "url": STRING}],
        "affected": [
            {
                "package": {"ecosystem": string(64, column=True), "name": TEXT, "purl": TEXT},
                "ranges": [_OSV_RANGE],
                "versions": STRINGS,
                "ecosystem_specific": OBJECT,
                "database_specific": OBJECT,
                "severity": _OSV_SEVERITY,
            }
        ],
    }
)

_CVE5_TEXTS = [{"lang": STRING, "value": STRING}]
_CVE5_CVSS = {"vectorString": STRING, "baseScore": NUMBER, "baseSeverity": STRING}
_CVE5_CONTAINER = {
    "providerMetadata": {"shortName": STRING},
    "title": STRING,
    "descriptions": _CVE5_TEXTS,
    "rejectedReasons": _CVE5_TEXTS,
    "metrics": [
        {
            "cvssV2_0": _CVE5_CVSS,
            "cvssV3_0": _CVE5_CVSS,
            "cvssV3_1": _CVE5_CVSS,
            "cvssV4_0": _CVE5_CVSS,
            "other": {"type": STRING, "content": OBJECT},
        }
    ],
    "problemTypes": [{"descriptions": [{"cweId": STRING, "description": STRING}]}],
    "references": [{"url": STRING, "tags": STRINGS}],
    "affected": [
        {
            "vendor": TEXT,
            "product": TEXT,
            "repo": TEXT,
            "defaultStatus": string(16, column=True),
            "packageName": TEXT,
            "collectionURL": TEXT,
            "cpes": [TEXT],
            "platforms": STRINGS,
            "versions": [
                {
                    "version": TEXT,
                    "status": string(16, column=True),
                    "versionType": string(32, column=True),
                    "lessThan": TEXT,
                    "lessThanOrEqual": TEXT,
                    "changes": [OBJECT],
                }
            ],
        }
    ],
}
CVE5 = shape(
    {
        "cveMetadata": {
            "cveId": ID,
            "state": STRING,
            "assignerShortName": STRING,
            "datePublished": DATE,
            "dateUpdated": DATE,
            "dateRejected": DATE,
        },
        "containers": {"cna": _CVE5_CONTAINER, "adp": [_CVE5_CONTAINER]},
    }
)
#: The content of a CISA ADP SSVC or KEV metric (``other.content``), checked by its type.
CVE5_SSVC = shape(
    {
        "options": [{"Exploitation": STRING, "Automatable": STRING, "Technical Impact": STRING}],
        "role": STRING,
        "version": STRING,
        "timestamp": DATE,
        "id": STRING,
    }
)
CVE5_KEV = shape({"dateAdded": STRING})

_NVD_CVSS = [
    {
        "cvssData": {"vectorString": STRING, "version": STRING, "baseScore": NUMBER, "baseSeverity": STRING},
        "baseSeverity": STRING,
        "source": STRING,
        "type": STRING,
    }
]
NVD = shape(
    {
        "id": ID,
        "vulnStatus": STRING,
        "published": DATE,
        "lastModified": DATE,
        "descriptions": [{"lang": STRING, "value": STRING}],
        "weaknesses": [{"description": [{"value": STRING}]}],
        "cisaExploitAdd": STRING,
        "cisaActionDue": STRING,
        "cisaVulnerabilityName": STRING,
        "cisaRequiredAction": STRING,
        "metrics": {
            key: _NVD_CVSS for key in ("cvssMetricV2", "cvssMetricV30", "cvssMetricV31", "cvssMetricV40")
        },
        "references": [{"url": STRING, "tags": STRINGS}],
        "configurations": [
            {
                "operator": STRING,
                "negate": BOOLEAN,
                "nodes": [
                    {
                        "operator": STRING,
                        "negate": BOOLEAN,
                        "cpeMatch": [
                            {
                                "criteria": TEXT,
                                "vulnerable": BOOLEAN,
                                "versionStartIncluding": TEXT,
                                "versionStartExcluding": TEXT,
                                "versionEndIncluding": TEXT,
                                "versionEndExcluding": TEXT,
                                "matchCriteriaId": STRING,
                            }
                        ],
                    }
                ],
            }
        ],
    },
    ("cve",),
)

KEV = shape(
    {
        "cveID": string(32, column=True),
        "dateAdded": TEXT,
        "dueDate": TEXT,
        "knownRansomwareCampaignUse": string(16, column=True),
        "vendorProject": STRING,
        "product": STRING,
        "vulnerabilityName": STRING,
        "shortDescription": STRING,
        "requiredAction": STRING,
        "notes": STRING,
        "cwes": STRINGS,
    }
)

_SCORE = Leaf(
    {
        "type": "union",
        "choices": [_NUMBER, {"type": "str", "strict": True}],
        "custom_error_type": "number_type",
        "custom_error_message": "number",
    },
    {"type": ["number", "string"]},
)
EPSS = shape({"cve": string(32, column=True), "epss": _SCORE, "percentile": _SCORE, "date": TEXT})

"""The type of every field an importer reads, checked per record before the record is read.

A record of a feed is data from the internet: any field can hold any JSON type. Each source declares
the shape of what its parser reads (:data:`OSV`, :data:`CVE5`, :data:`NVD`, :data:`KEV`, :data:`EPSS`),
compiled once into a pydantic-core validator (Rust: a CVE 5 record is checked in a few microseconds),
so a wrongly typed field rejects its record, with the key path and the reason
(``containers.cna.affected[0].versions[2].lessThan: expected a string, got a list``), before
anything of it reaches the model or the store. Fields the parsers do not read are not looked at.

Shapes are written as plain data: a dict is an object whose listed keys are optional and may be
null (null reads as absent), a one-item list is a list of that item, and the leaves below are
strings (with the store's length limit where the value is stored as it is), numbers (not booleans,
not numeric strings), booleans and free-form objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic_core import SchemaValidator, ValidationError
from pydantic_core import core_schema as cs

from mamori.vulndb.messages import text as message
from mamori.vulndb.rejected import RecordTypeProblem


@dataclass(frozen=True, slots=True)
class Leaf:
    """A value that is not checked further down: a string, a number, a boolean, a free-form object."""

    schema: cs.CoreSchema


Spec = dict[str, Any] | list[Any] | Leaf


def string(max_length: int | None = None, *, column: bool = False) -> Leaf:
    """A string; ``max_length``: the store's limit for a value that is stored as it is; ``column``:
    the value (or one made from it) goes to a text column, where PostgreSQL keeps no NUL."""
    return Leaf(cs.str_schema(strict=True, max_length=max_length, pattern=_NO_NUL if column else None))


_NO_NUL = "^[^\x00]*$"


_NUMBER = cs.union_schema(
    [cs.int_schema(strict=True), cs.float_schema(strict=True, allow_inf_nan=False)],
    custom_error_type="number_type",
    custom_error_message="number",
)
STRING = string()
TEXT = string(column=True)  # stored in an index column
NUMBER = Leaf(_NUMBER)
BOOLEAN = Leaf(cs.bool_schema(strict=True))
OBJECT = Leaf(cs.dict_schema(strict=True))  # free-form: kept as it is in the record's document
ID_LIMIT, DATE_LIMIT = 200, 32
ID = string(ID_LIMIT, column=True)  # record ids and aliases: the store's key columns
DATE = string(DATE_LIMIT, column=True)  # a date that could not be read is kept as it is
STRINGS: list[Any] = [STRING]


def _compile(spec: Spec) -> cs.CoreSchema:
    if isinstance(spec, dict):
        fields = {
            key: cs.typed_dict_field(cs.nullable_schema(_compile(value)), required=False)
            for key, value in spec.items()
        }
        return cs.typed_dict_schema(fields, extra_behavior="ignore")
    if isinstance(spec, list):
        (item,) = spec
        return cs.list_schema(_compile(item), strict=True)
    return spec.schema


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


@dataclass(frozen=True, slots=True)
class Shape:
    """A compiled record shape; :meth:`check` raises :class:`RecordTypeProblem` on the first bad field."""

    validator: SchemaValidator
    prefix: tuple[str | int, ...] = ()

    def check(self, value: Any, name: str, record: str = "", prefix: tuple[str | int, ...] = ()) -> None:
        """``prefix``: where ``value`` is in its document, when not where the shape says."""
        try:
            self.validator.validate_python(value)
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_context=True)[0]
            raise _problem(first, prefix or self.prefix, name, record) from None


def shape(spec: Spec, prefix: tuple[str | int, ...] = ()) -> Shape:
    """Compile ``spec``; ``prefix``: the key path of the checked value inside its document."""
    return Shape(SchemaValidator(_compile(spec)), prefix)


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
    cs.union_schema(
        [_NUMBER, cs.str_schema(strict=True)], custom_error_type="number_type", custom_error_message="number"
    )
)
EPSS = shape({"cve": string(32, column=True), "epss": _SCORE, "percentile": _SCORE, "date": TEXT})

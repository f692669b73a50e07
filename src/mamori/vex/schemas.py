"""Schema checks of what the VEX writers produce.

* CSAF 2.0: the official OASIS JSON schema as shipped by the ``csaf-lib`` package (with the FIRST
  CVSS 2.0/3.0/3.1 schemas it references), or a schema file the caller names, with its formats
  checked (``uri`` by RFC 3986, ``date-time`` by RFC 3339), then the mandatory tests of CSAF 2.0
  section 6.1 (csaf_checks.py).
* OpenVEX 0.2: ``mamori/data/vex/openvex-0.2.schema.json``, written from the specification's rules
  (no installable package ships one).
* CycloneDX 1.4-1.6: cyclonedx-python-lib's ``JsonStrictValidator``.

Each function returns a list of problems (empty when valid), each "<json path>: <message>".
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mamori.vex.csaf_checks import csaf_lib_schema_dir

if TYPE_CHECKING:  # jsonschema costs ~1 s to import (rfc3987-syntax): loaded on first validation only
    from jsonschema import Draft202012Validator, FormatChecker

_CVSS_FILES = {
    "https://www.first.org/cvss/cvss-v2.0.json": "cvss_v2_0.json",
    "https://www.first.org/cvss/cvss-v3.0.json": "cvss_v3_0.json",
    "https://www.first.org/cvss/cvss-v3.1.json": "cvss_v3_1.json",
}
_MAX_SHOWN = 20


@cache
def _csaf_validator(schema_path: Path | None) -> Draft202012Validator:
    folder = csaf_lib_schema_dir()
    if schema_path is None:
        if folder is None:
            raise RuntimeError(
                "the CSAF 2.0 JSON schema is not available: install csaf-lib or give a schema path"
            )
        schema_path = folder / "csaf_2_0.json"
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    registry: Registry = Registry()
    for uri, name in _CVSS_FILES.items():
        for candidate in (schema_path.parent / name, (folder / name) if folder else None):
            if candidate is not None and candidate.is_file():
                cvss = json.loads(candidate.read_text(encoding="utf-8"))
                registry = registry.with_resource(
                    uri, Resource.from_contents(cvss, default_specification=DRAFT7)
                )
                break
    return Draft202012Validator(schema, registry=registry, format_checker=csaf_format_checker())


@cache
def csaf_format_checker() -> FormatChecker:
    """Checks of the two formats the CSAF 2.0 schema uses: ``uri`` (RFC 3986) and ``date-time`` (RFC 3339)."""
    from jsonschema import FormatChecker
    from rfc3339_validator import validate_rfc3339
    from rfc3986_validator import validate_rfc3986

    checker = FormatChecker(formats=())

    @checker.checks("uri")
    def _uri(value: object) -> bool:
        return not isinstance(value, str) or bool(validate_rfc3986(value, rule="URI"))

    @checker.checks("date-time")
    def _date_time(value: object) -> bool:
        return not isinstance(value, str) or bool(validate_rfc3339(value))

    return checker


def _problems(validator: Draft202012Validator, data: Any) -> list[str]:
    out = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        where = "/" + "/".join(str(p) for p in error.absolute_path)
        out.append(f"{where}: {error.message[:300]}")
        if len(out) >= _MAX_SHOWN:
            break
    return out


def csaf_problems(data: Any, schema_path: Path | None = None, lang: str | None = None) -> list[str]:
    """CSAF 2.0 JSON schema violations of ``data`` (formats checked), then its mandatory test findings (in
    ``lang``; default: the running command's language)."""
    from mamori.vex.csaf_checks import mandatory_problems

    out = _problems(_csaf_validator(schema_path), data)
    out.extend(p.line(lang) for p in mandatory_problems(data)[: max(0, _MAX_SHOWN - len(out))])
    return out


@cache
def _openvex_validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    text = resources.files("mamori").joinpath("data/vex/openvex-0.2.schema.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    return Draft202012Validator(
        schema, registry=Registry().with_resource(schema["$id"], DRAFT202012.create_resource(schema))
    )


def openvex_problems(data: Any) -> list[str]:
    """OpenVEX 0.2 rule violations of ``data``."""
    return _problems(_openvex_validator(), data)


def cyclonedx_problems(text: str, spec_version: str) -> list[str]:
    """CycloneDX JSON schema violations (strict: no unknown keys)."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    version = SchemaVersion.from_version(spec_version)
    error = JsonStrictValidator(version).validate_str(text)
    return [] if error is None else [str(error)[:600]]

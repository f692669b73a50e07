"""The status / justification / response mapping between CycloneDX, OpenVEX and CSAF, loaded from data.

The table is ``mamori/data/vex/mapping.yaml`` (documented in docs/vex-mapping.md). :func:`mapping`
loads and checks it once; the readers and writers only ask it questions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from mamori.model.vex import JUSTIFICATIONS, RESPONSES, VEX_STATUSES
from mamori.packaged import load_yaml_text

CSAF_STATUS_KEYS = (
    "first_affected",
    "first_fixed",
    "fixed",
    "known_affected",
    "known_not_affected",
    "last_affected",
    "recommended",
    "under_investigation",
)
CSAF_REMEDIATION_CATEGORIES = ("mitigation", "no_fix_planned", "none_available", "vendor_fix", "workaround")


@dataclass(frozen=True)
class VexMapping:
    """How statuses and states map between OpenVEX, CycloneDX and CSAF."""

    cdx_state_to_status: dict[str, str]
    status_to_cdx_state: dict[str, str]
    status_to_cdx_version_status: dict[str, str]
    csaf_key_to_status: dict[str, str]
    status_to_csaf_key: dict[str, str]
    csaf_not_a_status: frozenset[str]
    status_label: dict[str, dict[str, str]]
    cdx_justification_to_cisa: dict[str, str]
    cisa_to_cdx_justification: dict[str, str]
    justification_label: dict[str, dict[str, str]]
    response_to_csaf: dict[str, str]
    response_text: dict[str, dict[str, str]]
    csaf_to_response: dict[str, str]
    csaf_remediation_without_response: str
    csaf_publisher_categories: dict[str, str]
    csaf_texts: dict[str, dict[str, str]]

    def cdx_justification(self, statement_justification: str | None, original: str | None) -> str | None:
        """The CycloneDX label to write: the original when it still agrees, else the table's first."""
        if original and self.cdx_justification_to_cisa.get(original) == statement_justification:
            return original
        return self.cisa_to_cdx_justification.get(statement_justification or "")

    def responses_text(self, responses: list[str], lang: str = "en") -> str | None:
        texts = [self.response_text[r][lang] for r in responses if r in self.response_text]
        return " ".join(texts) or None

    def csaf_text(self, key: str, lang: str, **values: object) -> str:
        """A CSAF document phrase in ``lang`` (en or ja), placeholders filled in."""
        texts = self.csaf_texts[key]
        return texts.get(lang, texts["en"]).format(**values)

    def publisher_category(self, role: str | None) -> str:
        return self.csaf_publisher_categories.get((role or "").strip().lower(), "other")


def _check(cond: bool, what: str) -> None:
    if not cond:
        raise ValueError(f"mamori/data/vex/mapping.yaml: {what}")


def build(raw: dict[str, Any]) -> VexMapping:
    """Turn the parsed YAML into lookup tables, checking every value against the known vocabularies."""
    cdx_state: dict[str, str] = {}
    status_cdx: dict[str, str] = {}
    version_status: dict[str, str] = {}
    csaf_key: dict[str, str] = {}
    status_csaf: dict[str, str] = {}
    labels: dict[str, dict[str, str]] = {}
    for row in raw["statuses"]:
        status = row["status"]
        _check(status in VEX_STATUSES and row["openvex"] == status, f"unknown status {status!r}")
        for state in row["cyclonedx"]:
            cdx_state[state] = status
        status_cdx[status] = row["cyclonedx"][0]
        version_status[status] = row["cyclonedx_version_status"]
        for key in row["csaf"]:
            _check(key in CSAF_STATUS_KEYS, f"unknown CSAF product_status {key!r}")
            csaf_key[key] = status
        status_csaf[status] = row["csaf"][0]
        labels[status] = row["label"]
    _check(set(status_cdx) == set(VEX_STATUSES), "every status needs a row")

    cdx_just: dict[str, str] = {}
    cisa_cdx: dict[str, str] = {}
    just_labels: dict[str, dict[str, str]] = {}
    for row in raw["justifications"]:
        cisa = row["id"]
        _check(cisa in JUSTIFICATIONS, f"unknown justification {cisa!r}")
        for label in row["cyclonedx"]:
            _check(label not in cdx_just, f"CycloneDX justification {label!r} mapped twice")
            cdx_just[label] = cisa
        cisa_cdx[cisa] = row["cyclonedx"][0]
        just_labels[cisa] = row["label"]
    _check(set(cisa_cdx) == set(JUSTIFICATIONS), "every CISA justification needs a row")

    to_csaf: dict[str, str] = {}
    texts: dict[str, dict[str, str]] = {}
    for row in raw["responses"]:
        _check(row["cyclonedx"] in RESPONSES, f"unknown response {row['cyclonedx']!r}")
        _check(row["csaf"] in CSAF_REMEDIATION_CATEGORIES, f"unknown remediation category {row['csaf']!r}")
        to_csaf[row["cyclonedx"]] = row["csaf"]
        texts[row["cyclonedx"]] = row["text"]
    _check(set(to_csaf) == set(RESPONSES), "every CycloneDX response needs a row")
    from_csaf = dict(raw["csaf_remediations"])
    _check(set(from_csaf) == set(CSAF_REMEDIATION_CATEGORIES), "every remediation category needs a response")
    _check(set(from_csaf.values()) <= set(RESPONSES), "csaf_remediations maps to unknown responses")
    default_cat = raw["csaf_remediation_without_response"]
    _check(default_cat in CSAF_REMEDIATION_CATEGORIES, "csaf_remediation_without_response is not a category")
    return VexMapping(
        cdx_state_to_status=cdx_state,
        status_to_cdx_state=status_cdx,
        status_to_cdx_version_status=version_status,
        csaf_key_to_status=csaf_key,
        status_to_csaf_key=status_csaf,
        csaf_not_a_status=frozenset(raw["csaf_not_a_status"]),
        status_label=labels,
        cdx_justification_to_cisa=cdx_just,
        cisa_to_cdx_justification=cisa_cdx,
        justification_label=just_labels,
        response_to_csaf=to_csaf,
        response_text=texts,
        csaf_to_response=from_csaf,
        csaf_remediation_without_response=default_cat,
        csaf_publisher_categories=dict(raw["csaf_publisher_categories"]),
        csaf_texts=_texts(raw.get("csaf_texts") or {}),
    )


def _texts(raw: dict[str, Any]) -> dict[str, dict[str, str]]:
    for key, texts in raw.items():
        _check(isinstance(texts, dict) and {"en", "ja"} <= set(texts), f"csaf_texts.{key} needs en and ja")
    return {k: dict(v) for k, v in raw.items()}


def load_raw() -> dict[str, Any]:
    text = resources.files("mamori").joinpath("data/vex/mapping.yaml").read_text(encoding="utf-8")
    return load_yaml_text(text)


@cache
def mapping() -> VexMapping:
    """The bundled mapping table (loaded and checked once)."""
    return build(load_raw())

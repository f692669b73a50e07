"""The SPDX Lite field list (data/sbom/spdx_lite_fields.yaml) and header-label lookup."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from mamori.sbom.data import load_data
from mamori.sbom.spreadsheet.table import label_variants, norm_label

DOCUMENT, PACKAGE, LICENSE = "document", "package", "license"


@dataclass(frozen=True, slots=True)
class LiteField:
    key: str
    number: str
    clause: str
    tag: str
    level: str  # document | package | license
    required: bool | str  # True, False or "conditional"
    en: str
    ja: str
    many: bool = False
    since: str = "2.2"
    aliases: tuple[str, ...] = ()

    @property
    def header(self) -> str:
        """The bilingual header mamori writes: ``Package Name / パッケージ名``."""
        return f"{self.en} / {self.ja}"

    def in_version(self, version: str) -> bool:
        return tuple(int(x) for x in version.split(".")) >= tuple(int(x) for x in self.since.split("."))


@dataclass(frozen=True, slots=True)
class Dropped:
    """A model field SPDX Lite cannot carry, with the reason in English and Japanese."""

    field: str
    en: str
    ja: str
    lost_in: tuple[str, ...] = ("2.2", "2.3")


@functools.cache
def lite_fields() -> tuple[LiteField, ...]:
    out = []
    for raw in load_data("spdx_lite_fields.yaml")["fields"]:
        raw = dict(raw)
        raw["aliases"] = tuple(raw.get("aliases", ()))
        raw["since"] = str(raw.get("since", "2.2"))
        out.append(LiteField(**raw))
    return tuple(out)


@functools.cache
def dropped_fields() -> tuple[Dropped, ...]:
    out = []
    for item in load_data("spdx_lite_fields.yaml")["dropped"]:
        item = dict(item)
        if "lost_in" in item:
            item["lost_in"] = tuple(str(v) for v in item["lost_in"])
        out.append(Dropped(**item))
    return tuple(out)


def dropped_for(version: str = "2.3") -> tuple[str, ...]:
    """Model fields (``Component.hashes`` ...) that writing SPDX Lite ``version`` loses."""
    return tuple(d.field for d in dropped_fields() if version in d.lost_in)


def fields_at(level: str, version: str = "2.3") -> list[LiteField]:
    return [f for f in lite_fields() if f.level == level and f.in_version(version)]


@functools.cache
def _lookup() -> dict[str, tuple[LiteField, ...]]:
    table: dict[str, list[LiteField]] = {}
    for fld in lite_fields():
        for label in (fld.tag, fld.en, fld.ja, fld.header, *fld.aliases):
            bucket = table.setdefault(norm_label(label), [])
            if fld not in bucket:
                bucket.append(fld)
    return {k: tuple(v) for k, v in table.items()}


def match_field(cell: str, prefer: str | None = None) -> LiteField | None:
    """The SPDX Lite field a header/label cell names, or None.

    ``SPDXID`` / ``SPDX Identifier`` name both the document and a package: ``prefer`` (a level) decides.
    """
    if not cell:
        return None
    table = _lookup()
    for variant in label_variants(cell):
        hits = table.get(variant)
        if hits:
            for fld in hits:
                if fld.level == prefer:
                    return fld
            return hits[0]
    return None


FIELD = {f.key: f for f in lite_fields()}
DROPPED: tuple[str, ...] = dropped_for("2.3")  # what the default (SPDX 2.3) SPDX Lite output cannot carry

"""CISA Known Exploited Vulnerabilities catalog (JSON)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mamori.errors import InputError
from mamori.i18n import _
from mamori.model.timestamps import iso_date
from mamori.model.vulnerability import Kev
from mamori.vulndb import shapes
from mamori.vulndb.rejected import Rejected, guarded

SOURCE = "kev"
_LABEL = 32  # a cveID longer than this is not shown as the record's name


def parse_document(doc: Any, name: str) -> Iterator[Kev | Rejected]:
    if not looks_like(doc):
        raise InputError(name, _("not a CISA KEV catalog (no 'vulnerabilities' with cveID)"))
    for i, item in enumerate(doc["vulnerabilities"]):
        cve = item.get("cveID") if isinstance(item, dict) else None
        good = shapes.usable_label(cve, _LABEL) and cve.startswith("CVE-")
        label = cve.strip() if good else f"vulnerabilities[{i}]"
        yield guarded(name, label, lambda item=item, i=i: _entry(item, name, i))


def _entry(item: Any, name: str, index: int) -> Kev:
    if not isinstance(item, dict):
        raise InputError(name, _("no cveID"))
    shapes.KEV.check(item, name, prefix=("vulnerabilities", index))
    cve = item.get("cveID")
    if not isinstance(cve, str) or not cve.startswith("CVE-"):
        raise InputError(name, _("no cveID"))
    return Kev(
        cve_id=cve.strip(),
        date_added=iso_date(item.get("dateAdded")),
        due_date=iso_date(item.get("dueDate")),
        known_ransomware_use=item.get("knownRansomwareCampaignUse"),
        vendor_project=item.get("vendorProject"),
        product=item.get("product"),
        name=item.get("vulnerabilityName"),
        short_description=item.get("shortDescription"),
        required_action=item.get("requiredAction"),
        notes=item.get("notes") or None,
        cwes=[c for c in item.get("cwes") or [] if isinstance(c, str)],
        source=SOURCE,
    )


def looks_like(doc: Any) -> bool:
    if not isinstance(doc, dict) or "$schema" in doc or not isinstance(doc.get("vulnerabilities"), list):
        return False
    items = doc["vulnerabilities"]
    return "catalogVersion" in doc or (bool(items) and isinstance(items[0], dict) and "cveID" in items[0])

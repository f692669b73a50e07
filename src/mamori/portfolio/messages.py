"""Words people read in ``mamori product``, ``mamori release`` and ``mamori portfolio`` (and the VEX
import and export lines): gettext messages, English the msgid, Japanese in the catalog
(docs/translating.md). Single words carry a msgctxt, so that "Status" or "open" here keeps its own
Japanese whatever the same English means elsewhere."""

from __future__ import annotations

from mamori.i18n import N_, NC_, translate

#: section -> key -> msgid, or (msgctxt, msgid)
WORDS: dict[str, dict[str, str | tuple[str, str]]] = {
    "columns": {
        "product": NC_("portfolio column", "Product"),
        "supplier": NC_("portfolio column", "Supplier"),
        "release": NC_("portfolio column", "Release"),
        "releases": NC_("portfolio column", "Releases"),
        "latest": NC_("portfolio column", "Latest release"),
        "open": NC_("portfolio column", "Open findings"),
        "first_seen": NC_("portfolio column", "First seen"),
        "status": NC_("portfolio column", "Status"),
        "revision": NC_("portfolio column", "Revision"),
        "format": NC_("portfolio column", "Format"),
        "stored": NC_("portfolio column", "Stored"),
        "by": NC_("portfolio column", "By"),
    },
    "status": {
        "open": NC_("finding status", "open"),
        "resolved": NC_("finding status", "resolved"),
    },
    "modes": {
        "full": NC_("re-match mode", "Full re-match"),
        "changed": NC_("re-match mode", "Changed-only re-match"),
        "release": NC_("re-match mode", "Release match"),
    },
    "text": {
        "product_added": N_("Product {name} added."),
        "no_products": N_("No products yet: add one with `mamori product add NAME`."),
        "stored": N_(
            "Stored the SBOM of {product} {version} as revision {revision}: {components} components, {format}, SHA-256 {sha256}."
        ),
        "unchanged": N_(
            "{product} {version}: the same file as revision {revision} (SHA-256 {sha256}); nothing stored."
        ),
        "not_matched": N_("Not matched yet (--no-match): run `mamori portfolio rematch --changed-only`."),
        "matching": NC_("portfolio", "Matching"),
        "run": N_(
            "{mode}: {components} components re-matched ({placements} placements in {releases} releases) in {seconds:.2f} s."
        ),
        "changed": N_("Vulnerabilities changed since the last run: {count}."),
        "counts": N_(
            "Findings: {opened} new, {reopened} reopened, {resolved} resolved; {open} open in the portfolio, {outside} not affected or fixed ({not_evaluated} not evaluated)."
        ),
        "no_earlier_run": N_("No earlier full run: everything was matched."),
        "sbom": N_("SBOM revision {revision} of {count}: {file} ({format} {spec}), SHA-256 {sha256}"),
        "provenance": N_("stored {at} by {by} with {importer}; made by: {tools}"),
        "release_summary": N_(
            "{components} components, {affected} affected, {open} open findings, {outside} not affected or fixed (triage records), {not_evaluated} not evaluated."
        ),
        "findings_summary": N_(
            "{open} open findings ({kev} in KEV) in {affected} components; {outside} not affected or fixed (triage records, listed, outside the count); {resolved} resolved; {not_evaluated} not evaluated."
        ),
        "no_findings": N_("No open findings."),
        "no_findings_partial": N_(
            "No open findings among the components evaluated; {count} notes say what was not evaluated (see below and the coverage)."
        ),
        "reasons": N_("Not evaluated, by reason code: {reasons}"),
        "not_evaluated": N_(
            "Not evaluated (no complete feed of the component's ecosystem, or a record that cannot be decided for this version):"
        ),
        "none": NC_("portfolio", "(none)"),
        "supplier": N_("Supplier: {supplier}"),
        "release_line": N_("{version}: {open} open findings, {outside} not affected or fixed"),
    },
    "context": {
        "heading": N_("Triage context (used by scan --product, triage and portfolio findings):"),
        "none": N_("No triage context is set: rankings assume the worst case. Set it once: {command}"),
        "set_by": N_("(set by {who} at {at})"),
        "set": N_("Set {count} context point(s) of {product}."),
        "cleared": N_("Removed {count} context point(s) of {product}."),
    },
    "vex_import": {
        "stored": N_(
            "{file}: {statements} VEX statements by {author} for {product} {release}: {records} records ({created} new, {updated} updated, {unchanged} unchanged, {older} older than the one stored), {whole} about the whole release."
        ),
        "not_in_release": N_(
            "{count} statement products name components {product} {release} does not have (not stored), e.g.:"
        ),
        "other_product": N_(
            "{count} statement products are about another product, release or SBOM (not stored), e.g.:"
        ),
        "without_purl": N_("{count} components named have no purl to record them under (not stored), e.g.:"),
        "rejected": N_("statement {index} ({vulnerability}) rejected: {problem}"),
    },
    "vex_export": {
        "no_sbom": N_("{product} {release} has no stored SBOM: products are named by purl only"),
        "no_serial": N_(
            "the SBOM of {product} {release} has no serial number (urn:uuid:…) to link to: components are named by their purls"
        ),
        "not_in_sbom": N_("{purl} is not in the SBOM of {product} {release}: named by its purl"),
    },
}


def text(lang: str, section: str, key: str, **values: object) -> str:
    """``section.key`` in ``lang`` (English for any other language), placeholders filled."""
    entry = WORDS[section][key]
    context, message = entry if isinstance(entry, tuple) else (None, entry)
    translated = translate(message, lang, context)
    return translated.format(**values) if values else translated

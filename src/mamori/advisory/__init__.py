"""Advisories drafted from PSIRT cases: CSAF 2.0 (security advisory or VEX, Japanese and English) in
:mod:`mamori.advisory.csaf_draft` and CVE JSON 5 records in :mod:`mamori.advisory.cve_record`."""

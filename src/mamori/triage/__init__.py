"""Prioritisation of vulnerabilities: SSVC decision tables (and, later, CVSS/EPSS/KEV inputs)."""

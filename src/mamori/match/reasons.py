"""Why a component (or one record for it) was not evaluated: the reason codes reports carry.

Every "not evaluated" note has one code, for machines (JSON ``reason_code``, the XLSX sheet, the exit-3
line), and its values; :mod:`mamori.scan.result` words it in English and Japanese
(data/scan/messages.yaml ``reasons``).

==================  ==================================================================================
code                meaning
==================  ==================================================================================
``coverage``        the knowledge base holds no complete feed of the component's scope (its purl's
                    OSV ecosystem, or ``cpe`` for a component looked up only by CPE): records that
                    are there were still matched, but their absence proves nothing
``no-version``      the component has no version to compare
``no-identifier``   neither purl nor CPE to look it up by
``bad-identifier``  its purl or CPE cannot be parsed
``unknown-ecosystem``  its purl type is no ecosystem with advisories, and no CPE is known
``cannot-compare``  one record's bounds or the installed version cannot be compared under the rules
                    that apply (the record is named)
==================  ==================================================================================
"""

from __future__ import annotations

COVERAGE = "coverage"
NO_VERSION = "no-version"
NO_IDENTIFIER = "no-identifier"
BAD_IDENTIFIER = "bad-identifier"
UNKNOWN_ECOSYSTEM = "unknown-ecosystem"
CANNOT_COMPARE = "cannot-compare"

CODES = (COVERAGE, NO_VERSION, NO_IDENTIFIER, BAD_IDENTIFIER, UNKNOWN_ECOSYSTEM, CANNOT_COMPARE)

"""Matching SBOM components against the knowledge base: purl ranges, CPE configurations, purl2cpe.

>>> matcher = Matcher(store)             # keep it: its caches make the next scan fast
>>> output = matcher.match(components)   # hits and "not evaluated" notes
"""

from mamori.match.univers_import import defer_semver, import_semantic_version

import_semantic_version()  # before univers imports them: see mamori.match.univers_import
defer_semver()

from mamori.match.matcher import Hit, Matcher, MatchOutput, Skip  # noqa: E402

__all__ = ["Hit", "MatchOutput", "Matcher", "Skip"]

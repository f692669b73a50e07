"""Matching SBOM components against the knowledge base: purl ranges, CPE configurations, purl2cpe.

>>> matcher = Matcher(store)             # keep it: its caches make the next scan fast
>>> output = matcher.match(components)   # hits and "not evaluated" notes
"""

from mamori.match.matcher import Hit, Matcher, MatchOutput, Skip

__all__ = ["Hit", "MatchOutput", "Matcher", "Skip"]

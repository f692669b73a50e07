"""A purl2cpe link: a package (purl without version) known under a CPE vendor and product, judged strong or
weak by :mod:`mamori.model.linkrule` (read from feeds by :mod:`mamori.vulndb.purl2cpe`, kept by the store)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from mamori.model.linkrule import STRONG, WEAK, Judgement, judge


@dataclass(frozen=True, slots=True)
class PurlCpeLink:
    """A package (purl without version) known under a CPE vendor and product."""

    purl_type: str
    purl_namespace: str
    purl_name: str
    purl: str
    cpe_vendor: str
    cpe_product: str
    rule: str = ""  # the linkrule rule that judged it ("" until judged, see :func:`judged`)

    @property
    def strong(self) -> bool:
        """Used for matching by default; a weak link only on request."""
        return Judgement(judged(self).rule).strong

    @property
    def strength(self) -> str:
        return STRONG if self.strong else WEAK


def judged(link: PurlCpeLink) -> PurlCpeLink:
    """The link with its rule (links built without one are judged now)."""
    if link.rule:
        return link
    verdict = judge(link.purl_type, link.purl_namespace, link.purl_name, link.cpe_vendor, link.cpe_product)
    return replace(link, rule=verdict.rule)

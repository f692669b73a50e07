"""Whether a purl2cpe link's CPE product plausibly names the package (docs/purl2cpe.md).

Upstream purl2cpe links are not all of one quality: one links Maven jackson-databind to
fasterxml:jackson-dataformats-text (another artifact of the same project), another PyPI protobuf
to google:protobuf-cpp (the C++ runtime). Names are compared as tokens (lower-case runs of letters
and digits, so separators never matter). A link is *strong* when its product names the package by
one of these rules, tried in order, and *weak* otherwise:

``same-name``    product and package name are equal (spring_framework ↔ spring-framework,
                 libcurl ↔ curl with a glued ``lib``); a name that is one vague word ("core",
                 "utils") only when the purl's namespace names the vendor (else ``generic``);
``decorated``    equal once the words that decorate a name in the link's languages are dropped
                 (python-ldap ↔ ldap, mustache.js ↔ mustache, PyPI protobuf ↔ protobuf-python,
                 appdynamics-plugin ↔ appdynamics, mysql-connector-java ↔ mysql_connector_j),
                 number tokens and short version digits too (tpm2.0-tools ↔ tpm2-tools,
                 tomcat9 ↔ tomcat), or the product adds only such words
                 (ecommerce-product-catalog ↔ ecommerce_product_catalog_plugin_for_wordpress);
``part-of``      the product starts the name and the rest names a part or build (rabbitmq-server,
                 grails-core), or the purl's namespace names the product too (Maven
                 org.apache.tomcat:tomcat-catalina ↔ tomcat);
``qualified``    the name is the product behind qualifier words or the vendor's name, or followed
                 by "by" and the vendor (wordpress-popular-posts ↔ popular_posts, yubico-piv-tool ↔
                 yubico:piv_tool, golang-github-dgrijalva-jwt-go ↔ jwt-go,
                 data-tables-generator-by-supsystic ↔ supsystic:data_tables_generator), or the
                 product is the purl's namespace followed by the name (github horde/mime ↔
                 horde_mime, npm @apollo/server ↔ apollo_server);
``namespace``    the product names the purl's project namespace (Maven groupId
                 org.springframework ↔ spring_framework, npm scope, Composer vendor, Go path),
                 or its owner when the repository name is vague or a part of it
                 (github eqdkpplus/core ↔ eqdkp_plus).

Weak links say why: ``generic`` (the names agree on one vague word only), ``more-specific`` (the
product is the name plus a word naming another part: protobuf ↔ protobuf-cpp), ``partial`` (the
product only starts the name and nothing confirms it: gtk ↔ gtk-vnc), ``sibling`` (both start
alike, then name different parts: jackson-databind ↔ jackson-dataformats-text), ``unrelated``.

The words (language affixes, suffixes, qualifiers, part words, vague words) are data:
``data/vulndb/purl2cpe_rule.yaml``; :func:`judge` is the function.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from mamori.i18n import Messages
from mamori.packaged import load_yaml

_WORDS = Messages("data/vulndb/messages.yaml")

STRONG = "strong"
WEAK = "weak"
STRONG_RULES = ("same-name", "decorated", "part-of", "qualified", "namespace")
WEAK_RULES = ("generic", "more-specific", "partial", "sibling", "unrelated")
RULES = STRONG_RULES + WEAK_RULES
DATA = "data/vulndb/purl2cpe_rule.yaml"

_SPLIT = re.compile(r"[^a-z0-9]+")
_VERSION_DIGITS = re.compile(r"^([a-z][a-z0-9]*?[a-z])(\d{1,2})$")
_GO_MAJOR = re.compile(r"^v\d+$")
Tokens = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Judgement:
    """The verdict on one link: the rule that made it strong, or why it is weak."""

    rule: str

    @property
    def strong(self) -> bool:
        return self.rule in STRONG_RULES

    @property
    def strength(self) -> str:
        return STRONG if self.strong else WEAK


@dataclass(frozen=True, slots=True)
class _Words:
    """The word lists of the link rules, by language."""

    prefixes: dict[str, frozenset[str]]  # language → prefix words
    suffixes: dict[str, frozenset[str]]  # language → suffix words
    types: dict[str, tuple[str, ...]]
    detect: frozenset[str]
    common_suffixes: frozenset[str]
    glued: tuple[str, ...]
    glued_suffixes: tuple[str, ...]
    qualifiers: frozenset[str]
    vague: frozenset[str]
    generic: frozenset[str]  # vague and platform words
    components: frozenset[str]
    not_code: frozenset[str]
    project_namespaces: frozenset[str]
    owner_namespaces: frozenset[str]
    min_partial: int


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{DATA}: {where} must be a list of words")
    return [v.lower() for v in value]


@cache
def words() -> _Words:
    """The rule's word lists, read once from the data file."""
    doc = load_yaml(DATA)
    languages = doc["languages"]
    types = {str(t): tuple(_strings(langs, f"types.{t}")) for t, langs in doc["types"].items()}
    for t, langs in types.items():
        unknown = [lang for lang in langs if lang not in languages]
        if unknown:
            raise ValueError(f"{DATA}: types.{t} names unknown languages {unknown}")
    return _Words(
        prefixes={k: frozenset(_strings(v.get("prefix", []), f"{k}.prefix")) for k, v in languages.items()},
        suffixes={k: frozenset(_strings(v.get("suffix", []), f"{k}.suffix")) for k, v in languages.items()},
        types=types,
        detect=frozenset(_strings(doc["detect_language"], "detect_language")),
        common_suffixes=frozenset(_strings(doc["suffixes"], "suffixes")),
        glued=tuple(_strings(doc["glued_prefixes"], "glued_prefixes")),
        glued_suffixes=tuple(_strings(doc["glued_suffixes"], "glued_suffixes")),
        qualifiers=frozenset(_strings(doc["qualifiers"], "qualifiers")),
        vague=frozenset(_strings(doc["vague"], "vague")),
        generic=frozenset(_strings(doc["vague"], "vague") + _strings(doc["platforms"], "platforms")),
        components=frozenset(_strings(doc["components"], "components")),
        not_code=frozenset(_strings(doc["not_code"], "not_code")),
        project_namespaces=frozenset(_strings(doc["project_namespaces"], "project_namespaces")),
        owner_namespaces=frozenset(_strings(doc["owner_namespaces"], "owner_namespaces")),
        min_partial=int(doc["min_partial"]),
    )


def reason(rule: str, lang: str = "en") -> str:
    """Why a rule makes a link strong or weak, in words (data/vulndb/messages.yaml ``link_rules``)."""
    return _WORDS.text(lang, "link_rules", rule) if rule in RULES else rule


def tokens(text: str) -> Tokens:
    """Lower-case runs of letters and digits: ``jackson-dataformats-text`` → jackson dataformats text."""
    return tuple(t for t in _SPLIT.split(text.lower()) if t)


def _languages(w: _Words, purl_type: str, name: Tokens) -> tuple[str, ...]:
    langs = list(w.types.get(purl_type, ()))
    if purl_type in w.detect and len(name) > 1:
        for lang in w.prefixes:
            if lang not in langs and (name[0] in w.prefixes[lang] or name[-1] in w.suffixes[lang]):
                langs.append(lang)
    return tuple(langs)


def _unglued(word: str, w: _Words) -> set[str]:
    """A word without a glued prefix or suffix (libcurl → curl, knockoutjs → knockout)."""
    out = {word}
    for prefix in w.glued:
        if word.startswith(prefix) and len(word) - len(prefix) >= 2:
            out.add(word[len(prefix) :])
    for suffix in w.glued_suffixes:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            out.add(word[: -len(suffix)])
    return out


def _loosened(form: Tokens, w: _Words) -> set[Tokens]:
    """A form without a glued prefix or suffix, number tokens, or short version digits."""
    out = {form}
    out |= {(first, *form[1:]) for first in _unglued(form[0], w)}
    out |= {(*form[:-1], last) for last in _unglued(form[-1], w)}
    for f in list(out):
        words_only = tuple(t for t in f if not t.isdigit()) or f
        trimmed = tuple(
            m.group(1) if (m := _VERSION_DIGITS.match(t)) and len(m.group(1)) >= 3 else t for t in words_only
        )
        out |= {words_only, trimmed}
    return out


def _forms(name: Tokens, prefixes: frozenset[str], suffixes: frozenset[str], w: _Words) -> set[Tokens]:
    """The name and every shorter form left by dropping decoration words from its ends."""
    seen = {name}
    current = name
    while len(current) > 1:
        if current[0] in prefixes:
            current = current[1:]
        elif current[-1] in suffixes:
            current = current[:-1]
        else:
            break
        seen.add(current)
    out: set[Tokens] = set()
    for form in seen:
        out |= _loosened(form, w)
    return out


def _compact(form: Tokens) -> str:
    return "".join(form)


def _after(short: Tokens, long: Tokens) -> list[Tokens]:
    """What follows each leading run of ``long`` that spells ``short`` (separators ignored):
    tomcat in tomcat-catalina → [(catalina,)]; springframework in spring-framework-bom → [(bom,)]."""
    target = _compact(short)
    return [long[i:] for i in range(1, len(long)) if _compact(long[:i]) == target]


def _before(short: Tokens, long: Tokens) -> list[Tokens]:
    """What precedes each trailing run of ``long`` that spells ``short``."""
    target = _compact(short)
    return [long[:i] for i in range(1, len(long)) if _compact(long[i:]) == target]


def _stem(a: Tokens, b: Tokens) -> bool:
    """One spelled out is the start of the other (falcon ↔ falconpl), at least 4 letters."""
    x, y = _compact(a), _compact(b)
    return min(len(x), len(y)) >= 4 and x != y and (x.startswith(y) or y.startswith(x))


def _namable(form: Tokens, w: _Words) -> bool:
    """Long enough, and not only generic words: may name a package through a partial rule."""
    return len(_compact(form)) >= w.min_partial and not all(t in w.generic for t in form)


def _vendor_in(vendor: str, namespace_names: set[str], w: _Words) -> bool:
    """The purl's namespace names the CPE vendor (adonisjs/core ↔ adonisjs:core, antfu/utils ↔
    antfu:utils): a whole vendor word or the vendor's compact name, as or at the start of a name."""
    words_ = tuple(t for t in tokens(vendor) if t != "project")
    candidates = {*words_, _compact(words_)}
    return any(
        n == v or (len(n) >= 3 and (n.startswith(v) or v.startswith(n)))
        for v in candidates
        if len(v) >= 3 and v not in w.generic
        for n in namespace_names
    )


def _go_qualified(remainder: Tokens, w: _Words) -> bool:
    """Debian/openSUSE Go naming: golang-<host>-<owner…>-<repo>."""
    return len(remainder) >= 2 and remainder[0] in ("golang", "go") and remainder[1] in w.qualifiers


def _namespaces(purl_type: str, namespace: str, w: _Words) -> tuple[set[str], set[str]]:
    """(project names, owner names) a purl's namespace offers, compacted."""
    if not namespace:
        return set(), set()
    projects: set[str] = set()
    owners: set[str] = set()
    if purl_type in ("maven", "gradle"):
        parts = [p for p in namespace.lower().split(".") if p]
        parts = parts[1:] if len(parts) > 1 else parts
        for i in range(len(parts)):
            for j in range(i + 1, len(parts) + 1):
                projects.add(_compact(tokens("".join(parts[i:j]))))
    elif purl_type == "golang":
        parts = [p for p in namespace.lower().split("/") if p]
        if parts and "." in parts[0]:
            parts = parts[1:]
        if parts:
            owners.add(_compact(tokens(parts[0])))
            projects |= {_compact(tokens(p)) for p in parts[1:]}
    elif purl_type in w.project_namespaces:
        projects.add(_compact(tokens(namespace.lstrip("@"))))
    elif purl_type in w.owner_namespaces:
        owners |= {_compact(tokens(p)) for p in namespace.lower().split("/") if p}
    projects = {v for p in projects if p for v in _unglued(p, w)}
    owners = {v for o in owners if o for v in _unglued(o, w)}
    return projects, owners


@lru_cache(maxsize=1 << 16)
def judge(purl_type: str, namespace: str, name: str, vendor: str, product: str) -> Judgement:
    """The strength of the link purl (type, namespace, name) → CPE vendor:product."""
    w = words()
    purl_type = purl_type.lower()
    if purl_type == "golang" and _GO_MAJOR.match(name.lower()) and namespace:
        namespace, _, name = namespace.rpartition("/")  # github.com/x/y/v2 names y
    name_raw, product_raw = tokens(name), tokens(product)
    if not name_raw or not product_raw:
        return Judgement("unrelated")
    name_compact, product_compact = _compact(name_raw), _compact(product_raw)
    same = name_compact == product_compact or any(
        a == prefix + b and len(b) >= 2
        for prefix in w.glued
        for a, b in ((name_compact, product_compact), (product_compact, name_compact))
    )
    if same:
        if len(name_raw) == 1 and name_raw[0] in w.vague:
            projects, owners = _namespaces(purl_type, namespace, w)
            if not _vendor_in(vendor, projects | owners, w):
                return Judgement("generic")  # pkg:npm/core is not adonisjs:core
        return Judgement("same-name")
    projects, owners = _namespaces(purl_type, namespace, w)
    namespace_names = projects | owners
    vendor_words = set(tokens(vendor)) - {"project"}

    langs = _languages(w, purl_type, name_raw)
    prefixes = frozenset().union(*(w.prefixes[lang] for lang in langs))
    suffixes = frozenset().union(w.common_suffixes, *(w.suffixes[lang] for lang in langs))
    names = _forms(name_raw, prefixes, suffixes, w)
    products = _forms(product_raw, prefixes, suffixes, w)
    name_compacts = {_compact(f) for f in names}
    if any(_compact(p) in name_compacts for p in products):
        return Judgement("decorated")
    decoration = w.qualifiers | w.common_suffixes | {"for", "the"}
    if any(all(t in decoration for t in rest) for n in names for p in products for rest in _after(n, p)):
        return Judgement("decorated")  # ecommerce_product_catalog_plugin_for_wordpress

    partial = [p for p in products if _namable(p, w)]

    # part-of: the product, then only words naming a part (or the namespace names the product)
    parts = w.components | w.qualifiers | prefixes | suffixes
    leading = [(p, rest) for p in partial for n in names for rest in _after(p, n)]
    if any(all(t in parts for t in rest) for _, rest in leading):
        return Judgement("part-of")
    if any(_compact(p) in namespace_names for p, _ in leading):
        return Judgement("part-of")

    # qualified: qualifier or vendor words, then the product (or the product, then "by" and the
    # vendor's words); or the purl's namespace, then the name
    vendor_compact = _compact(tuple(t for t in tokens(vendor) if t != "project"))

    def by_vendor(t: str) -> bool:  # league in thephpleague, puppetlabs for puppet, w3 for w3edge
        return (
            t in vendor_words
            or (len(t) >= 2 and len(vendor_compact) >= 4 and vendor_compact.startswith(t))
            or (len(t) >= 4 and len(vendor_compact) >= 4 and (t in vendor_compact or vendor_compact in t))
        )

    allowed = w.qualifiers
    for p in partial:
        for n in names:
            for head in _before(p, n):
                if all(t in allowed or by_vendor(t) for t in head) or _go_qualified(head, w):
                    return Judgement("qualified")
            for tail in _after(p, n):
                if len(tail) >= 2 and tail[0] == "by" and all(by_vendor(t) for t in tail[1:]):
                    return Judgement("qualified")
    for n in names:  # horde/mime ↔ horde_mime: the namespace, then the name
        for p in partial:
            if any(all(t in namespace_names for t in head) for head in _before(n, p)):
                return Judgement("qualified")

    # namespace: the product names the purl's project namespace, or its owner
    product_compacts = {_compact(p) for p in partial}
    if product_compacts & projects:
        return Judgement("namespace")
    if product_compacts & owners and not any(t in w.not_code for t in name_raw):
        generic_name = all(t in w.generic for t in name_raw)
        for p in partial:
            if _compact(p) in owners and (
                generic_name
                or any(_after(n, p) or _before(n, p) or _before(p, n) or _stem(n, p) for n in names)
            ):
                return Judgement("namespace")

    if leading:
        return Judgement("partial")
    if any(_after(n, p) for n in names for p in products):
        return Judgement("more-specific")
    if any(n[0] == p[0] and n[0] not in w.generic and len(n[0]) >= 2 for n in names for p in products):
        return Judgement("sibling")
    return Judgement("unrelated")

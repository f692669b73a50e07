"""The purl2cpe plausibility rule (docs/purl2cpe.md): each branch on links of the real upstream
table (scanoss/purl2cpe), then the whole shared table: its figures, jackson-databind and PyPI
protobuf."""

from __future__ import annotations

from collections import Counter

import pytest

from conftest import SHARED_DATA
from mamori.model.linkrule import RULES, STRONG_RULES, WEAK_RULES, Judgement, judge, reason
from mamori.vulndb import purl2cpe

TSV = SHARED_DATA / "purl2cpe" / "purl2cpe.tsv"
JACKSON = "pkg:maven/com.fasterxml.jackson.core/jackson-databind"

# ------------------------------------------------------------------------------------- the rule

# (purl type, namespace, name, CPE vendor, CPE product, rule): links of the upstream table
BRANCHES = [
    # same-name: equal names, separators ignored, a glued lib
    ("maven", "com.fasterxml.jackson.core", "jackson-databind", "fasterxml", "jackson-databind", "same-name"),
    ("github", "spring-projects", "spring-framework", "vmware", "spring_framework", "same-name"),
    ("rpm", "fedora", "curl", "haxx", "libcurl", "same-name"),
    ("npm", "@adonisjs", "core", "adonisjs", "core", "same-name"),
    # generic: one vague word, and the namespace does not name the vendor
    ("npm", "", "core", "adonisjs", "core", "generic"),
    # decorated: a language's affixes dropped (only that language's), numbers, decoration words
    ("pypi", "", "protobuf", "google", "protobuf-python", "decorated"),
    ("deb", "debian", "python-marshmallow", "marshmallow_project", "marshmallow", "decorated"),
    ("npm", "", "mustache", "mustache.js_project", "mustache.js", "decorated"),
    ("rpm", "fedora", "perl-libwww-perl", "gisle_aas", "libwww-perl", "decorated"),
    ("github", "jenkinsci", "appdynamics-plugin", "jenkins", "appdynamics", "decorated"),
    ("deb", "debian", "tpm2-tools", "01org", "tpm2.0-tools", "decorated"),
    ("maven", "com.google.protobuf", "protobuf-java", "google", "protobuf", "decorated"),
    ("maven", "mysql", "mysql-connector-java", "oracle", "mysql_connector_j", "decorated"),
    (
        "github",
        "implecode",
        "ecommerce-product-catalog",
        "implecode",
        "ecommerce_product_catalog_plugin_for_wordpress",
        "decorated",
    ),
    # part-of: the product, then a part word; or the namespace confirms the product
    ("deb", "debian", "rabbitmq-server", "vmware", "rabbitmq", "part-of"),
    ("maven", "org.apache.tomcat", "tomcat-catalina", "apache", "tomcat", "part-of"),
    # partial: the product only starts the name, nothing confirms it
    ("deb", "debian", "gtk-vnc", "gnome", "gtk", "partial"),
    ("deb", "debian", "libtorrent-rasterbar", "libtorrent", "libtorrent", "partial"),
    # qualified: qualifier or vendor words before the product, "by" the vendor after it,
    # or the product is the namespace and the name
    ("github", "cabrerahector", "wordpress-popular-posts", "cabrerahector", "popular_posts", "qualified"),
    ("deb", "ubuntu", "yubico-piv-tool", "yubico", "piv_tool", "qualified"),
    ("rpm", "opensuse", "golang-github-dgrijalva-jwt-go", "jwt-go_project", "jwt-go", "qualified"),
    ("rpm", "fedora", "php-league-flysystem", "thephpleague", "flysystem", "qualified"),
    (
        "github",
        "wp-plugins",
        "data-tables-generator-by-supsystic",
        "supsystic",
        "data_tables_generator",
        "qualified",
    ),
    ("github", "horde", "spellchecker", "horde", "horde_spellchecker", "qualified"),
    ("npm", "@apollo", "server", "apollographql", "apollo_server", "qualified"),
    # namespace: a project namespace, or an owner when the repository name is vague or a part
    ("maven", "org.springframework", "spring-core", "vmware", "spring_framework", "namespace"),
    ("github", "eqdkpplus", "core", "eqdkp", "eqdkp_plus", "namespace"),
    ("github", "burst-statistics", "burst", "burst-statistics", "burst_statistics", "namespace"),
    ("github", "cscart", "docs", "cs-cart", "cs-cart", "unrelated"),  # a docs repository is no code
    # weak: more specific, sibling, unrelated
    ("pypi", "", "protobuf", "google", "protobuf-cpp", "more-specific"),
    ("pypi", "", "protobuf", "google", "protobuf-java", "more-specific"),  # java is no Python affix
    ("maven", "com.squareup.okhttp3", "okhttp", "squareup", "okhttp-brotli", "more-specific"),
    (
        "maven",
        "com.fasterxml.jackson.core",
        "jackson-databind",
        "fasterxml",
        "jackson-dataformats-text",
        "sibling",
    ),
    ("pypi", "", "pillow", "debian", "python-imaging", "unrelated"),
    ("golang", "github.com/gofiber/fiber", "v2", "gofiber", "fiber", "same-name"),  # /v2 names fiber
]


@pytest.mark.parametrize(("purl_type", "namespace", "name", "vendor", "product", "rule"), BRANCHES)
def test_each_branch_of_the_rule(
    purl_type: str, namespace: str, name: str, vendor: str, product: str, rule: str
) -> None:
    verdict = judge(purl_type, namespace, name, vendor, product)
    assert verdict.rule == rule
    assert verdict.strong == (rule in STRONG_RULES)
    assert verdict.strength == ("strong" if rule in STRONG_RULES else "weak")


def test_every_rule_has_a_reason_in_both_languages() -> None:
    assert set(RULES) == set(STRONG_RULES) | set(WEAK_RULES)
    covered = {case[-1] for case in BRANCHES}
    assert covered == set(RULES)  # every branch is exercised above
    for rule in RULES:
        assert reason(rule, "en") and reason(rule, "ja") and reason(rule, "en") != reason(rule, "ja")


# ------------------------------------------------------------------------- the whole shared table


Judged = list[tuple[purl2cpe.PurlCpeLink, Judgement]]


@pytest.fixture(scope="module")
def table() -> tuple[Judged, int]:
    """Every link of the shared table with its judgement, and how many lines are malformed."""
    if not TSV.is_file():
        pytest.skip(f"{TSV} is absent")
    items = list(purl2cpe.parse_tsv(str(TSV), TSV.read_bytes()))
    links = [i for i in items if isinstance(i, purl2cpe.PurlCpeLink)]
    judged = [
        (x, judge(x.purl_type, x.purl_namespace, x.purl_name, x.cpe_vendor, x.cpe_product)) for x in links
    ]
    return judged, len(items) - len(links)


def test_whole_shared_table_figures(table: tuple[Judged, int]) -> None:
    """The figures docs/purl2cpe.md gives (scanoss/purl2cpe @ ebede2f8eff2)."""
    judged, malformed = table
    assert (len(judged), malformed) == (47583, 4)
    assert Counter(verdict.strength for _, verdict in judged) == {"strong": 38718, "weak": 8865}
    assert Counter(verdict.rule for _, verdict in judged) == {
        "same-name": 32497,
        "decorated": 4110,
        "qualified": 1254,
        "part-of": 653,
        "namespace": 204,
        "unrelated": 6136,
        "more-specific": 1349,
        "sibling": 725,
        "partial": 650,
        "generic": 5,
    }


def test_jackson_databind_and_protobuf_on_the_shared_table(table: tuple[Judged, int]) -> None:
    judged, _ = table
    jackson = {(x.cpe_vendor, x.cpe_product): v.strength for x, v in judged if x.purl == JACKSON}
    assert jackson == {
        ("fasterxml", "jackson-databind"): "strong",
        ("fastxml", "jackson-databind"): "strong",  # an upstream typo of the vendor
        ("fasterxml", "jackson-dataformats-text"): "weak",
    }
    protobuf = {x.cpe_product: v.rule for x, v in judged if x.purl == "pkg:pypi/protobuf"}
    assert protobuf == {
        "protobuf": "same-name",
        "protobuf-python": "decorated",
        "protobuf-cpp": "more-specific",
        "protobuf-java": "more-specific",
        "protobuf-javalite": "more-specific",
        "protobuf-kotlin": "more-specific",
        "protobuf-kotlin-lite": "more-specific",
    }

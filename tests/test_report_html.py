"""The HTML scan report: self-contained, bilingual, escaped, deterministic; checked in headless Chromium.

The browser tests need Debian's ``chromium`` (``apt-get install -y chromium``) and skip without it. They
drive the page three ways, all without extra Python packages:

- ``--dump-dom`` of the report opened from a ``file://`` URL with a fragment (``#q=…&kev=1&lang=ja``): the
  page's own script reads the fragment, so this is the real standalone use (a shared filtered link);
- ``--dump-dom`` of a small harness page served from 127.0.0.1 that loads the report in a same-origin
  frame and works its controls like a person (types in the search box, picks options, ticks KEV, clicks
  column headings, the language buttons and a chart bar) and writes what the page then shows as JSON;
  every step is synchronous, so the dump happens after the last one;
- ``--screenshot``, decoded with Pillow and checked not blank (the chart's critical colour is there).
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import pytest
from lxml import html as lxml_html

from mamori.demo import demo_data
from mamori.report import render as render_any
from mamori.report.html import render
from mamori.scan.result import (
    ComponentRef,
    EpssInfo,
    Evidence,
    Finding,
    KevInfo,
    NotEvaluated,
    ReferenceInfo,
    ScanResult,
    SeverityInfo,
    SourceInfo,
    VulnerabilityInfo,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")
CRITICAL_RGB = (0xA4, 0x16, 0x1A)  # --critical in report.css


def _severity(vector: str, score: float, rating: str, source: str = "nvd") -> SeverityInfo:
    return SeverityInfo("3.1", vector, score, rating, source)


def _osv(
    component: ComponentRef,
    ids: tuple[str, ...],
    summary: str,
    cvss: tuple[str, float, str],
    cwes: list[str],
    match: tuple[str, str],
) -> Finding:
    """A finding from one GHSA record in OSV, matched by its range (ids: the CVE, then the GHSA first)."""
    detail, fixed = match
    vuln = VulnerabilityInfo(
        ids[0],
        aliases=list(ids[1:]),
        sources=["osv"],
        summaries={"en": summary},
        severity=_severity(*cvss, "osv"),
        cwes=cwes,
    )
    return Finding(component, vuln, [Evidence("purl-range", "high", detail, "osv", ids[1], fixed)], [fixed])


def sample_result(demo: bool = False) -> ScanResult:
    """Findings with public facts (ids, ranges, CVSS, KEV dates, fixes as published)."""
    log4j = ComponentRef(
        "log4j-core", "2.14.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", bom_ref="log4j"
    )
    lodash = ComponentRef("lodash", "4.17.15", "pkg:npm/lodash@4.17.15", bom_ref="lodash")
    requests = ComponentRef("requests", "2.19.1", "pkg:pypi/requests@2.19.1", bom_ref="requests")
    xtext = ComponentRef("text", "v0.3.7", "pkg:golang/golang.org/x/text@v0.3.7", bom_ref="xtext")
    openssl = ComponentRef(
        "openssl", "1.1.1k", cpe="cpe:2.3:a:openssl:openssl:1.1.1k:*:*:*:*:*:*:*", bom_ref="openssl"
    )
    findings = [
        Finding(
            log4j,
            VulnerabilityInfo(
                "CVE-2021-44228",
                aliases=["GHSA-jfh8-c2jp-5v3q"],
                sources=["cve5", "kev", "nvd", "osv"],
                summaries={
                    "en": "Log4j 2 resolves JNDI lookups in logged text, letting an attacker run code remotely.",
                    "ja": "Log4j 2 がログ文字列中の JNDI ルックアップを解決するため、遠隔からコードを実行される。",
                },
                severity=_severity("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, "critical"),
                cwes=["CWE-502", "CWE-917"],
                kev=KevInfo("CVE-2021-44228", "2021-12-10", "2021-12-24", "Known"),
                epss=EpssInfo("CVE-2021-44228", 0.94358, 0.99989, "2025-01-15"),
                references=[
                    ReferenceInfo("https://logging.apache.org/log4j/2.x/security.html"),
                    ReferenceInfo("https://nvd.nist.gov/vuln/detail/CVE-2021-44228", "ADVISORY"),
                ],
            ),
            [
                Evidence(
                    "purl-range",
                    "high",
                    "Maven org.apache.logging.log4j:log4j-core 2.14.1 in [introduced 2.13.0, fixed 2.15.0]",
                    "osv",
                    "GHSA-jfh8-c2jp-5v3q",
                    "2.15.0",
                ),
                Evidence(
                    "purl2cpe",
                    "low",
                    "cpe:2.3:a:apache:log4j via purl2cpe: 2.14.1 in [2.13.0, 2.15.0)",
                    "nvd",
                    "CVE-2021-44228",
                    "2.15.0",
                ),
            ],
            ["2.15.0", "2.16.0"],
        ),
        _osv(
            lodash,
            ("CVE-2020-8203", "GHSA-p6mc-m468-83gw"),
            "Prototype pollution in lodash zipObjectDeep.",
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:H", 7.4, "high"),
            ["CWE-1321"],
            ("npm lodash 4.17.15 in [0, fixed 4.17.19]", "4.17.19"),
        ),
        _osv(
            lodash,
            ("CVE-2021-23337", "GHSA-35jh-r3h4-6jhm"),
            "Command injection through lodash template.",
            ("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", 7.2, "high"),
            ["CWE-77", "CWE-94"],
            ("npm lodash 4.17.15 in [0, fixed 4.17.21]", "4.17.21"),
        ),
        _osv(
            requests,
            ("CVE-2023-32681", "GHSA-j8r2-6x86-q33q", "PYSEC-2023-74"),
            "requests sends Proxy-Authorization headers to the destination after a redirect.",
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N", 6.1, "medium"),
            ["CWE-200"],
            ("PyPI requests 2.19.1 in [introduced 2.3.0, fixed 2.31.0]", "2.31.0"),
        ),
        Finding(
            xtext,
            VulnerabilityInfo(
                "GO-2022-1059",
                aliases=["CVE-2022-32149", "GHSA-69ch-w2m2-3vjp"],
                sources=["osv"],
                summaries={
                    "en": "Denial of service via crafted Accept-Language header in golang.org/x/text/language."
                },
            ),
            [
                Evidence(
                    "purl-range",
                    "high",
                    "Go golang.org/x/text v0.3.7 in [0, fixed 0.3.8]",
                    "osv",
                    "GO-2022-1059",
                    "0.3.8",
                )
            ],
            ["0.3.8"],
        ),
        Finding(
            openssl,
            VulnerabilityInfo(
                "CVE-2021-3711",
                aliases=["JVNDB-2021-002548"],
                sources=["jvn", "nvd"],
                summaries={
                    "en": "SM2 decryption buffer overflow in OpenSSL.",
                    "ja": "OpenSSL の SM2 復号処理にバッファオーバーフロー。",
                },
                severity=_severity("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "critical"),
                cwes=["CWE-120"],
            ),
            [
                Evidence(
                    "cpe-config",
                    "medium",
                    "cpe:2.3:a:openssl:openssl:1.1.1k in [1.1.1, 1.1.1l) (NVD configuration 1)",
                    "nvd",
                    "CVE-2021-3711",
                    "1.1.1l",
                )
            ],
            ["1.1.1l"],
        ),
    ]
    return ScanResult(
        target="product-1.0.cdx.json",
        sbom_format="cyclonedx-json",
        components=42,
        sources={
            "osv": SourceInfo(16542, "2025-01-15T03:00:00Z"),
            "nvd": SourceInfo(265000, "2025-01-14T22:10:00Z"),
            "kev": SourceInfo(1238, "2025-01-14T18:00:00Z"),
        },
        findings=findings,
        not_evaluated=[
            NotEvaluated(
                ComponentRef("internal-tool", "build-42", "pkg:generic/internal-tool@build-42"),
                "no vulnerability data for ecosystem generic",
            )
        ],
        generated_at="2025-01-15T09:00:00Z",
        database="sqlite:///mamori.db",
        demo=demo,
    )


def parse(data: bytes) -> lxml_html.HtmlElement:
    return lxml_html.document_fromstring(data, parser=lxml_html.HTMLParser(encoding="utf-8", no_network=True))


def inline(doc: lxml_html.HtmlElement, tag: str) -> str:
    (element,) = doc.xpath(f"//{tag}")
    return element.text


def sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


# --- the file itself -------------------------------------------------------------------------------


def test_self_contained_bilingual_with_chart_table_evidence_and_fix() -> None:
    data = render(sample_result(), "en")
    doc = parse(data)
    assert doc.get("lang") == "en"
    # nothing external: no link/img/iframe/object elements, no src attributes, no CSS url()/@import
    assert not doc.xpath("//img|//iframe|//object|//embed|//*[@src]")
    assert [link.get("href") for link in doc.xpath("//link")] == ["data:,"]  # no favicon request
    assert "url(" not in inline(doc, "style") and "@import" not in inline(doc, "style")
    assert b"fetch(" not in data and b"XMLHttpRequest" not in data
    hrefs = [a.get("href") for a in doc.xpath("//a[@href]")]
    assert all(h.startswith("#") or h.startswith("https://") for h in hrefs)
    assert {h for h in hrefs if h.startswith("https://")} == {
        "https://logging.apache.org/log4j/2.x/security.html",
        "https://nvd.nist.gov/vuln/detail/CVE-2021-44228",
    }
    # both languages are in the file
    for words in ("検出結果", "Findings", "深刻度", "Severity", "根拠と対処", "Evidence and fix"):
        assert words in data.decode()
    assert doc.xpath("//button[@data-lang='ja']") and doc.xpath("//button[@data-lang='en']")
    # the chart: one bar per rating, counts from the result
    counts = {
        a.get("data-rating"): int(a.xpath(".//*[@class='bar-count']")[0].text)
        for a in doc.xpath("//svg[@id='chart']//a")
    }
    assert counts == {"critical": 2, "high": 2, "medium": 1, "low": 0, "none": 0, "unknown": 1}
    # the table: one group per finding, sorted critical first (score, then component)
    groups = doc.xpath("//table[@id='findings-table']/tbody")
    assert [g.xpath("./tr[1]/th/span[@class='vid']")[0].text for g in groups] == [
        "CVE-2021-44228",
        "CVE-2021-3711",
        "CVE-2020-8203",
        "CVE-2021-23337",
        "CVE-2023-32681",
        "GO-2022-1059",
    ]
    assert [g.get("data-eco") for g in groups] == ["maven", "cpe", "npm", "npm", "pypi", "golang"]
    assert [g.get("data-kev") for g in groups] == ["1", "0", "0", "0", "0", "0"]
    assert groups[0].get("data-methods") == "purl-range purl2cpe"
    assert {th.get("data-sort") for th in doc.xpath("//table[@id='findings-table']/thead//th")} == {
        "rating", "id", "component", "eco", "kev", "epss", "fixed", "method", "status",
    }  # fmt: skip
    # evidence and fix of the first finding
    log4j = groups[0].text_content()
    assert "Maven org.apache.logging.log4j:log4j-core 2.14.1 in [introduced 2.13.0, fixed 2.15.0]" in log4j
    assert "cpe:2.3:a:apache:log4j via purl2cpe" in log4j and "GHSA-jfh8-c2jp-5v3q" in log4j
    assert "Upgrade log4j-core@2.14.1 to 2.15.0 or later." in log4j
    assert "log4j-core@2.14.1 を 2.15.0 以降に更新してください。" in log4j
    assert (
        "2021-12-10" in log4j
        and "0.94358" in log4j
        and "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H" in log4j
    )
    # a summary given in both languages is shown per language; one in English only is marked lang=en
    summaries = groups[0].xpath(".//p[@class='summary']/span")
    assert [(s.get("lang"), s.get("class")) for s in summaries] == [("en", "t"), ("ja", "t")]
    lodash = groups[2].xpath(".//p[@class='summary']/span")
    assert [(s.get("lang"), s.get("class")) for s in lodash] == [("en", None)]
    # no CVSS → unknown, no fix known → the no-fix sentence
    assert groups[5].get("data-rating") == "unknown"
    # components not evaluated are listed with the reason, not counted as safe
    assert (
        "no vulnerability data for ecosystem generic"
        in doc.xpath("//table[@class='not-evaluated']")[0].text_content()
    )
    # the header: target, SBOM format and size, sources with counts and update times
    facts = doc.xpath("//dl[@class='facts']")[0].text_content()
    assert "product-1.0.cdx.json" in facts and "cyclonedx-json" in facts and "42" in facts
    sources = [[c.text_content() for c in row] for row in doc.xpath("//table[@class='sources']/tbody/tr")]
    assert sources == [
        ["kev", "1238", "2025-01-14T18:00:00Z"],
        ["nvd", "265000", "2025-01-14T22:10:00Z"],
        ["osv", "16542", "2025-01-15T03:00:00Z"],
    ]
    assert not doc.xpath("//*[@id='demo-banner']")


def test_language_choice_and_accessibility() -> None:
    doc = parse(render(sample_result(), "ja"))
    assert doc.get("lang") == "ja" and doc.get("data-default-lang") == "ja"
    assert doc.xpath("//title")[0].text.startswith("脆弱性スキャンレポート")
    assert doc.xpath("//button[@data-lang='ja']")[0].get("aria-pressed") == "true"
    # every form control has a label; every table has header cells with a scope
    for control in doc.xpath("//form[@id='filters']//input|//form[@id='filters']//select"):
        assert doc.xpath(f"//label[@for='{control.get('id')}']"), control.get("id")
    for th in doc.xpath("//thead//th"):
        assert th.get("scope") == "col"
    assert doc.xpath("//svg[@id='chart']")[0].get("role") == "img"
    assert doc.xpath("//table[@id='findings-table']/caption")


def test_deterministic() -> None:
    assert render(sample_result(), "en") == render(sample_result(), "en")
    assert render_any("html", sample_result(), "ja") == render(sample_result(), "ja")


def test_demo_banner_in_both_languages() -> None:
    doc = parse(render(sample_result(demo=True), "en"))
    banner = doc.xpath("//*[@id='demo-banner']")[0]
    assert banner.get("role") == "note"
    texts = {span.get("lang"): span.text_content() for span in banner.xpath(".//span[@class='t']")}
    assert "demonstration set" in texts["en"] and "16542 records" in texts["en"]
    assert "デモ用セット" in texts["ja"]


def test_csp_allows_only_the_reports_own_script_and_style() -> None:
    doc = parse(render(sample_result(), "en"))
    csp = doc.xpath("//meta[@http-equiv='Content-Security-Policy']")[0].get("content")
    assert "default-src 'none'" in csp
    assert f"script-src '{sha256(inline(doc, 'script'))}'" in csp
    assert f"style-src '{sha256(inline(doc, 'style'))}'" in csp
    assert len(doc.xpath("//script")) == 1 and not doc.xpath("//script[@src]")


HOSTILE_SCRIPT = "<script>document.body.setAttribute('data-pwned','1')</script>"
HOSTILE_IMG = "<img src=x onerror=\"document.body.setAttribute('data-pwned','2')\">"


def hostile_result() -> ScanResult:
    result = sample_result()
    first = result.findings[0]
    vuln = replace(
        first.vulnerability,
        summaries={"en": f"Summary {HOSTILE_SCRIPT} end", "ja": f"概要 {HOSTILE_IMG}"},
        references=[
            ReferenceInfo("javascript:document.body.setAttribute('data-pwned','3')"),
            ReferenceInfo('https://example.org/"><script>alert(4)</script>'),
        ],
        aliases=["GHSA-<b>x</b>"],
    )
    component = replace(
        first.component, name="log4j\"><svg onload=\"document.body.setAttribute('data-pwned','5')\">"
    )
    evidence = [replace(first.evidence[0], detail=f"</td></tr></tbody></table>{HOSTILE_SCRIPT}")]
    result.findings[0] = replace(first, vulnerability=vuln, component=component, evidence=evidence)
    result.target = f"{HOSTILE_IMG}.json"
    return result


def test_attacker_text_is_escaped() -> None:
    data = render(hostile_result(), "en")
    text = data.decode()
    assert "<script>document" not in text and "<img" not in text and "<svg onload" not in text
    assert "&lt;script&gt;document.body.setAttribute" in text
    assert 'href="javascript:' not in text
    doc = parse(data)
    assert len(doc.xpath("//script")) == 1 and not doc.xpath("//img")
    # the text is shown as text, intact
    summary = doc.xpath("//tbody[@id='f1']//p[@class='summary']/span[@lang='en']")[0].text
    assert summary == f"Summary {HOSTILE_SCRIPT} end"
    # the table still has its six findings (the detail did not close it)
    assert len(doc.xpath("//table[@id='findings-table']/tbody")) == 6


def test_triage_fields_are_shown_when_present() -> None:
    @dataclass(slots=True)
    class TriagedFinding(Finding):
        ssvc: dict | None = None
        priority_score: float | None = None
        vex: dict | None = None

    result = sample_result()
    first = result.findings[0]
    result.findings[0] = TriagedFinding(
        first.component,
        first.vulnerability,
        first.evidence,
        first.fixed_versions,
        ssvc={"table": "deployer", "outcome": "immediate", "outcome_name": "Immediate"},
        priority_score=20.0,
        vex={"status": "affected", "action_statement": "Upgrade to 2.17.1."},
    )
    doc = parse(render(result, "en"))
    heads = [th.get("data-sort") for th in doc.xpath("//table[@id='findings-table']/thead//th")]
    assert {"priority", "ssvc", "status"} <= set(heads)
    row = doc.xpath("//tbody[@id='f1']")[0]
    assert row.get("data-k-priority") == "20.0" and row.get("data-k-ssvc") == "Immediate"
    content = row.text_content()
    assert "20.00" in content and "Immediate" in content and "deployer" in content
    assert "affected" in content and "Upgrade to 2.17.1." in content
    assert doc.xpath("//tbody[@id='f2']")[0].get("data-k-priority") == "-1"


def test_no_findings() -> None:
    result = sample_result()
    result.findings = []
    doc = parse(render(result, "en"))
    assert not doc.xpath("//table[@id='findings-table']") and not doc.xpath("//form[@id='filters']")
    (said,) = doc.xpath("//p[@id='nothing-found']/span[@lang='en']")
    # one component of 42 was not evaluated: never a plain "no known vulnerability"
    assert said.text.startswith(
        "No known vulnerability was found in the 41 components evaluated; 1 components"
    )
    assert said.getparent().get("class") == "warn"
    result.not_evaluated = []
    doc = parse(render(result, "en"))
    (said,) = doc.xpath("//p[@id='nothing-found']/span[@lang='en']")
    assert said.text == "No known vulnerability was found in the components of this SBOM."
    assert said.getparent().get("class") == "ok"


# --- in the browser --------------------------------------------------------------------------------


def chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    profile.mkdir()
    return subprocess.run(
        [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def visible_ids(dom: str) -> list[str]:
    doc = lxml_html.document_fromstring(dom)
    return [
        g.xpath("./tr[1]/th/span[@class='vid']")[0].text
        for g in doc.xpath("//table[@id='findings-table']/tbody")
        if g.get("hidden") is None
    ]


@needs_chromium
def test_browser_filter_from_url_fragment(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_bytes(render(sample_result(demo=True), "en"))
    dom = chromium(tmp_path, "--dump-dom", page.as_uri() + "#q=log4j&kev=1&lang=ja").stdout
    doc = lxml_html.document_fromstring(dom)
    assert doc.get("lang") == "ja"  # the fragment's language
    assert doc.xpath("//form[@id='filters']")[0].get("hidden") is None  # the script ran (CSP let it)
    assert doc.xpath("//input[@id='f-q']")[0].get("value") is None  # value is a property, not markup
    assert visible_ids(dom) == ["CVE-2021-44228"]
    assert {b.text for b in doc.xpath("//b[@class='shown']")} == {"1"}
    dom = chromium(tmp_path, "--dump-dom", page.as_uri() + "#eco=npm&sort=id&dir=desc").stdout
    assert visible_ids(dom) == ["CVE-2021-23337", "CVE-2020-8203"]
    dom = chromium(tmp_path, "--dump-dom", page.as_uri() + "#method=cpe-config&q=ssl").stdout
    assert visible_ids(dom) == ["CVE-2021-3711"]


HARNESS = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><pre id="out"></pre><script>
var steps = [];
function run(frame) {
  var w = frame.contentWindow, d = w.document;
  function visible() {
    return Array.prototype.filter.call(d.querySelectorAll("#findings-table > tbody"), function (g) { return !g.hidden; })
      .map(function (g) { return g.querySelector("tr > th > .vid").textContent; });
  }
  function shown(lang) {
    var el = d.querySelector(".status .t[lang=" + lang + "]");
    return w.getComputedStyle(el).display === "none" ? null : el.textContent;
  }
  function record(name) {
    steps.push({step: name, visible: visible(), hash: w.location.hash, lang: d.documentElement.lang,
      title: d.title, en: shown("en"), ja: shown("ja"),
      sort: Array.prototype.map.call(d.querySelectorAll("#findings-table thead th"), function (th) {
        return th.getAttribute("data-sort") + ":" + th.getAttribute("aria-sort"); }).join(" "),
      option: d.querySelector("#f-rating option[value=critical]").textContent,
      rating: d.getElementById("f-rating").value});
  }
  function set(id, value, ev) {
    var el = d.getElementById(id);
    if (el.type === "checkbox") { el.checked = value; } else { el.value = value; }
    el.dispatchEvent(new w.Event(ev, {bubbles: true}));
  }
  function heading(key) { d.querySelector("th[data-sort=" + key + "] button").click(); }
  record("initial");
  set("f-q", "lodash", "input"); record("search lodash");
  set("f-q", "Lodash  TEMPLATE", "input"); record("search two words");
  d.getElementById("f-reset").click(); record("reset");
  set("f-rating", "high", "change"); record("rating high");
  set("f-rating", "", "change"); set("f-kev", true, "change"); record("kev");
  set("f-kev", false, "change"); set("f-eco", "pypi", "change"); record("eco pypi");
  set("f-eco", "", "change"); set("f-method", "purl2cpe", "change"); record("method purl2cpe");
  set("f-method", "", "change");
  heading("component"); record("sort component");
  heading("component"); record("sort component again");
  heading("rating"); record("sort rating");
  d.querySelector(".langs button[data-lang=ja]").click(); record("ja");
  d.querySelector(".bar-link[data-rating=critical]").dispatchEvent(new w.MouseEvent("click", {bubbles: true, cancelable: true}));
  record("chart critical");
  w.history.replaceState(null, "", "#rating=medium&lang=en");
  w.dispatchEvent(new w.HashChangeEvent("hashchange")); record("hash medium");
  document.getElementById("out").textContent = JSON.stringify(steps);
}
var frame = document.createElement("iframe");
frame.width = 1200; frame.height = 800;
frame.onload = function () { run(frame); };
frame.src = "report.html";
document.body.appendChild(frame);
</script></body></html>
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """tmp_path served on 127.0.0.1 (a random free port) for the duration of a test."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@needs_chromium
def test_browser_controls_filter_sort_and_switch_language(served: tuple[Path, str]) -> None:
    folder, base = served
    (folder / "report.html").write_bytes(render(sample_result(), "en"))
    (folder / "harness.html").write_text(HARNESS, encoding="utf-8")
    dom = chromium(folder, "--dump-dom", f"{base}/harness.html").stdout
    out = lxml_html.document_fromstring(dom).xpath("//pre[@id='out']")[0].text
    steps = {s["step"]: s for s in json.loads(out)}
    order = [
        "CVE-2021-44228",
        "CVE-2021-3711",
        "CVE-2020-8203",
        "CVE-2021-23337",
        "CVE-2023-32681",
        "GO-2022-1059",
    ]
    first = steps["initial"]
    assert first["visible"] == order and first["lang"] == "en" and first["hash"] == ""
    assert first["en"] == "Showing 6 of 6 findings" and first["ja"] is None  # CSS hides the other language
    assert "rating:descending" in first["sort"]
    assert steps["search lodash"]["visible"] == ["CVE-2020-8203", "CVE-2021-23337"]
    assert (
        steps["search lodash"]["hash"] == "#q=lodash"
        and steps["search lodash"]["en"] == "Showing 2 of 6 findings"
    )
    # every word must match, case-insensitively: only CVE-2021-23337's summary names lodash's template
    assert steps["search two words"]["visible"] == ["CVE-2021-23337"]
    assert steps["reset"]["visible"] == order and steps["reset"]["hash"] == ""
    assert steps["rating high"]["visible"] == ["CVE-2020-8203", "CVE-2021-23337"]
    assert steps["kev"]["visible"] == ["CVE-2021-44228"] and steps["kev"]["hash"] == "#kev=1"
    assert steps["eco pypi"]["visible"] == ["CVE-2023-32681"]
    assert steps["method purl2cpe"]["visible"] == ["CVE-2021-44228"]
    assert steps["sort component"]["visible"] == [
        "CVE-2020-8203",
        "CVE-2021-23337",
        "CVE-2021-44228",
        "CVE-2021-3711",
        "CVE-2023-32681",
        "GO-2022-1059",
    ]  # lodash ×2 (ties keep their order), log4j-core, openssl, requests, text
    assert "component:ascending" in steps["sort component"]["sort"]
    assert steps["sort component"]["hash"] == "#sort=component&dir=asc"
    assert steps["sort component again"]["visible"][0] == "GO-2022-1059"
    assert "component:descending" in steps["sort component again"]["sort"]
    assert steps["sort rating"]["visible"] == order
    ja = steps["ja"]
    assert ja["lang"] == "ja" and ja["ja"] == "6 件中 6 件を表示" and ja["en"] is None
    assert ja["title"].startswith("脆弱性スキャンレポート") and ja["option"] == "緊急"
    assert "lang=ja" in ja["hash"]
    chart = steps["chart critical"]
    assert chart["visible"] == ["CVE-2021-44228", "CVE-2021-3711"] and chart["rating"] == "critical"
    medium = steps["hash medium"]
    assert medium["visible"] == ["CVE-2023-32681"] and medium["rating"] == "medium" and medium["lang"] == "en"
    assert medium["option"] == "Critical"


@needs_chromium
def test_browser_keeps_attacker_text_inert(tmp_path: Path) -> None:
    page = tmp_path / "hostile.html"
    page.write_bytes(render(hostile_result(), "en"))
    dom = chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    doc = lxml_html.document_fromstring(dom)
    assert doc.xpath("//body")[0].get("data-pwned") is None
    assert not doc.xpath("//img|//svg[@onload]") and len(doc.xpath("//script")) == 1
    assert len(doc.xpath("//table[@id='findings-table']/tbody")) == 6
    assert doc.xpath("//form[@id='filters']")[0].get("hidden") is None  # the report's own script did run


@needs_chromium
def test_browser_screenshot_is_not_blank(tmp_path: Path) -> None:
    image_module = pytest.importorskip("PIL.Image")
    page = tmp_path / "report.html"
    page.write_bytes(render(sample_result(demo=True), "ja"))
    shot = tmp_path / "report.png"
    chromium(tmp_path, "--window-size=1280,1000", "--hide-scrollbars", f"--screenshot={shot}", page.as_uri())
    with image_module.open(shot) as image:
        assert image.format == "PNG" and image.size == (1280, 1000)
        pixels = image.convert("RGB")
        colours = pixels.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 200  # text, bars, badges: not a flat page
    counts = {rgb: n for n, rgb in colours}
    total = 1280 * 1000
    white = counts.get((255, 255, 255), 0)
    assert white < 0.95 * total
    assert counts.get(CRITICAL_RGB, 0) > 3000  # the critical bar of the chart (300 × 20 px) and badges
    assert counts.get((0xFF, 0xF8, 0xC5), 0) > 10000  # the demo banner's background


# --- fix first ---------------------------------------------------------------------------------------

# SSVC outcomes lowest first, as the decision tables of data/triage order them
OUTCOME_ORDERS = (
    ("defer", "scheduled", "out_of_cycle", "immediate"),
    ("track", "track_star", "attend", "act"),
)
MAMORI = str(Path(sys.executable).with_name("mamori"))


def _rank(ssvc: dict | None) -> int:
    outcome = (ssvc or {}).get("outcome")
    for order in OUTCOME_ORDERS:
        if outcome in order:
            return order.index(outcome)
    return 0


def _numbers(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version))


def expected_fix_first(findings: list[dict]) -> list[tuple[str, str, list[str], float]]:
    """(component, target, cleared ids, risk) worked out from the JSON findings alone: findings still needing
    action with a fixed version; weight = priority score × 2^(SSVC outcome rank); a fixed version clears a
    finding it is listed for or is above all of its fixed versions; target = the fixed version clearing the
    most weight (the lowest on a tie); rows by risk, then highest outcome, then component."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for f in findings:
        if f["status"] in ("not_affected", "fixed") or not f["vulnerability"]["fixed_versions"]:
            continue
        groups.setdefault((f["component"]["name"], f["component"]["version"]), []).append(f)
    rows = []
    for (name, _version), group in groups.items():
        weight = {f["vulnerability"]["id"]: f["priority_score"] * 2 ** _rank(f.get("ssvc")) for f in group}
        fixes = {f["vulnerability"]["id"]: f["vulnerability"]["fixed_versions"] for f in group}
        best = None
        for target in sorted({v for vs in fixes.values() for v in vs}, key=_numbers):
            cleared = [
                vid
                for vid, vs in fixes.items()
                if target in vs or all(_numbers(target) >= _numbers(v) for v in vs)
            ]
            total = sum(weight[vid] for vid in cleared)
            if best is None or total > best[0]:
                best = (total, target, cleared)
        assert best is not None
        total, target, cleared = best
        top = max(_rank(f.get("ssvc")) for f in group if f["vulnerability"]["id"] in cleared)
        rows.append(
            (name, target, sorted(cleared, key=lambda vid: (-weight[vid], vid)), round(total, 2), top)
        )
    rows.sort(key=lambda r: (-r[3], -r[4], r[0]))
    return [r[:4] for r in rows]


@pytest.fixture(scope="module")
def demo_scan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The installed mamori's scan of the bundled demo product against the bundled OSV/KEV set (triaged:
    SSVC outcomes and priority scores), as JSON and as HTML."""
    from triage_support import build_kb

    folder = tmp_path_factory.mktemp("demo-scan")
    db = build_kb(folder)
    sbom = demo_data() / "shop-portal-2.1.0.cdx.json"
    out = {}
    for fmt in ("json", "html"):
        target = folder / f"report.{fmt}"
        env = {"PATH": str(Path(sys.executable).parent), "MAMORI_LANG": "en", "HOME": "/nonexistent"}
        done = subprocess.run(
            [MAMORI, "scan", str(sbom), "--db", str(db), "--format", fmt, "-o", str(target)],
            capture_output=True,
            text=True,
            timeout=600,
            env=env,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        out[fmt] = target
    return out


def test_fix_first_rows_for_the_demo_data(demo_scan: dict[str, Path]) -> None:
    data = json.loads(demo_scan["json"].read_text(encoding="utf-8"))
    expected = expected_fix_first(data["findings"])
    assert expected[0][:3] == ("log4j-core", "2.16.0", ["CVE-2021-44228", "CVE-2021-45046"])
    assert [
        (r["component"]["name"], r["target_version"], r["cleared"], r["risk_cleared"])
        for r in data["fix_first"]
    ] == [(name, target, cleared, risk) for name, target, cleared, risk in expected]
    assert all(r["cleared_count"] == len(r["cleared"]) for r in data["fix_first"])
    assert data["fix_first"][0]["top_outcome"] == "Immediate"
    doc = parse(demo_scan["html"].read_bytes())
    rows = doc.xpath("//table[@id='fix-first-table']/tbody/tr")
    assert [
        (
            r.get("data-component"),
            r.get("data-target"),
            r.get("data-cleared").split(),
            float(r.get("data-weight")),
        )
        for r in rows
    ] == expected
    first = rows[0]
    assert first.xpath("string(./th/span[@class='comp'])") == "log4j-core"
    assert first.xpath("string(.//b[@class='count'])") == "2"
    # each id links to its finding's row in the findings table
    for link in first.xpath(".//a"):
        (body,) = doc.xpath(f"//tbody[@id='{link.get('href')[1:]}']")
        assert body.xpath("string(.//span[@class='vid'])") == link.text


def test_fix_first_words_in_both_languages_and_out_of_gate_findings_left_out() -> None:
    result = sample_result()
    doc = parse(render(result, "ja"))
    (heading,) = doc.xpath("//h2[@id='h-fix-first']")
    assert [s.text for s in heading.xpath("./span")] == ["Fix first", "優先して対処するもの"]
    rows = doc.xpath("//table[@id='fix-first-table']/tbody/tr")
    assert [r.get("data-component") for r in rows][:2] == ["log4j-core", "lodash"]  # KEV 2 × 10; 7.4 + 7.2
    assert (
        rows[1].get("data-target") == "4.17.21"
        and rows[1].get("data-cleared") == "CVE-2020-8203 CVE-2021-23337"
    )
    # a finding a VEX statement calls not affected needs no upgrade
    result.findings[0] = replace(result.findings[0], vex={"status": "not_affected", "justification": "x"})
    assert result.findings[0].out_of_gate
    doc = parse(render(result, "en"))
    assert "log4j-core" not in [
        r.get("data-component") for r in doc.xpath("//table[@id='fix-first-table']/tbody/tr")
    ]
    # nothing with a fix: the section says so
    result.findings = [replace(f, fixed_versions=[]) for f in result.findings]
    doc = parse(render(result, "en"))
    assert not doc.xpath("//table[@id='fix-first-table']") and doc.xpath("//p[@id='fix-first-none']")


NARROW_HARNESS = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><pre id="out"></pre><script>
var results = [null, null, null], done = 0;
var pages = [["report.html", 390], ["report.html#lang=ja", 390], ["report.html", 1200]];
pages.forEach(function (page, i) {
  var frame = document.createElement("iframe");
  frame.width = page[1]; frame.height = 844; frame.style.border = "0";
  frame.onload = function () {
    var w = frame.contentWindow, d = w.document;
    var wide = Array.prototype.filter.call(d.querySelectorAll("body *"), function (el) {
      return el.getBoundingClientRect().right > page[1] + 0.5 && !el.closest(".scroll"); })
      .map(function (el) { return el.tagName + ":" + el.textContent.slice(0, 40); });
    var row = d.querySelector("#fix-first-table tbody tr");
    results[i] = {page: page[0], width: page[1], viewport: d.documentElement.clientWidth,
      scrollWidth: d.documentElement.scrollWidth, wide: wide.slice(0, 5), lang: d.documentElement.lang,
      row: row ? w.getComputedStyle(row).display : null,
      chart: d.getElementById("chart").getBoundingClientRect().width};
    if (++done === pages.length) { document.getElementById("out").textContent = JSON.stringify(results); }
  };
  frame.src = page[0];
  document.body.appendChild(frame);
});
</script></body></html>
"""


@needs_chromium
def test_browser_no_horizontal_overflow_at_390_px(
    served: tuple[Path, str], demo_scan: dict[str, Path]
) -> None:
    folder, base = served
    (folder / "report.html").write_bytes(demo_scan["html"].read_bytes())
    (folder / "narrow.html").write_text(NARROW_HARNESS, encoding="utf-8")
    dom = chromium(folder, "--dump-dom", f"{base}/narrow.html").stdout
    narrow_en, narrow_ja, wide = json.loads(
        lxml_html.document_fromstring(dom).xpath("//pre[@id='out']")[0].text
    )
    for narrow in (narrow_en, narrow_ja):
        assert narrow["scrollWidth"] <= 390 and narrow["scrollWidth"] <= narrow["viewport"], narrow
        assert narrow["wide"] == [], narrow  # nothing outside the scrolling tables sticks out
        assert narrow["row"] == "block"  # the fix-first table becomes one block per upgrade
        assert narrow["chart"] <= narrow["viewport"]  # the severity bars shrink with the page
    assert narrow_ja["lang"] == "ja"
    assert wide["row"] == "table-row" and wide["chart"] == 480 and wide["wide"] == []


def test_fix_first_takes_the_smallest_upgrade_that_clears_the_most_weight() -> None:
    from mamori.report.fix_first import fix_first

    result = sample_result()
    log4j = replace(result.findings[0].component, version="2.12.1")
    # CVE-2021-44228 is fixed on the 2.12 line in 2.12.2 and on the main line in 2.15.0: 2.12.2 is enough
    result.findings[0] = replace(result.findings[0], component=log4j, fixed_versions=["2.12.2", "2.15.0"])
    (row,) = [r for r in fix_first(result) if r.component == "log4j-core"]
    assert (row.target, [c.vuln_id for c in row.cleared], row.weight) == ("2.12.2", ["CVE-2021-44228"], 20.0)
    # a second finding fixed only in 2.16.0 (above every fix of the first): 2.16.0 clears both
    second = replace(
        result.findings[0],
        vulnerability=replace(result.findings[0].vulnerability, id="CVE-2021-45046", kev=None, epss=None),
        fixed_versions=["2.16.0"],
    )
    result.findings.append(second)
    (row,) = [r for r in fix_first(result) if r.component == "log4j-core"]
    assert row.target == "2.16.0" and [c.vuln_id for c in row.cleared] == ["CVE-2021-44228", "CVE-2021-45046"]
    assert row.weight == 30.0 and row.left == 0  # 2 × 10 (KEV) + 10 (CVSS 10, no EPSS)

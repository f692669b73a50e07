"""The range evaluator against the PyPI advisories' own enumerated ``versions`` (../shared/data/osv/pypi).

For every (non-withdrawn) advisory entry that lists versions, every version of the package's history
is evaluated: the history is every version any advisory of that package lists plus every version a
range event names. Expected: affected exactly when the advisory lists it (PEP 440 equality).

Two checks: the full matcher (ranges, then the list) and the ranges alone (the list ignored), so the
range evaluation itself is proven against the lists. Disagreements must fall into a category
explained below, or be one of the individually explained cases; the figures are printed.
"""

from __future__ import annotations

import collections
import itertools
from dataclasses import dataclass, field

import orjson
import pytest
from univers.versions import PypiVersion, SemverVersion

from conftest import SHARED_DATA
from mamori.match.purl import Event, OsvAffected, OsvRange, evaluate, evaluate_ranges, parse_affected, walk
from mamori.match.versions import installed_key, order_key, parse, parse_installed
from mamori.vulndb import osv

PYPI = SHARED_DATA / "osv" / "pypi"

CATEGORIES = {
    "event-only": (
        "the version is known only from a range event and appears in no advisory's version list: "
        "not a release the lists knew (a fix announced under a number never uploaded, or uploaded "
        "after every list was computed); the range decides, a list cannot"
    ),
    "pre-release-omitted": (
        "a pre- or dev-release inside the range that this list omits although other advisories of the "
        "package list it (lists enumerated from git tags miss pre-releases whose tags are spelt "
        "differently, e.g. TensorFlow's v2.1.0-rc0); PEP 440 puts it inside the range"
    ),
    "newer-than-list": (
        "above every version this list names: released after the list was computed; the open or later "
        "range covers it"
    ),
    "not-pep440": (
        "not a PEP 440 version (e.g. 0.8.1p1): the matcher answers 'cannot tell' (the component is "
        "reported not evaluated), never 'not affected'"
    ),
}

LATER_RELEASE = "a later release of the affected line that this list (last modified {date}) lacks; {why}"
EXPLAINED_FULL = {
    ("PYSEC-2020-220", "6.7.0"): LATER_RELEASE.format(date="2022-11-08", why="'introduced: 0' has no fix"),
    ("PYSEC-2020-215", "5.7.14"): LATER_RELEASE.format(date="2021-08-11", why="'fixed: 6.1.5' covers it"),
    ("PYSEC-2020-215", "5.7.15"): LATER_RELEASE.format(date="2021-08-11", why="'fixed: 6.1.5' covers it"),
    ("PYSEC-2022-180", "5.7.14"): LATER_RELEASE.format(date="2022-04-11", why="'fixed: 6.1.5' covers it"),
    ("PYSEC-2022-180", "5.7.15"): LATER_RELEASE.format(date="2022-04-11", why="'fixed: 6.1.5' covers it"),
    ("PYSEC-2022-257", "2.0.19"): LATER_RELEASE.format(date="2022-09-01", why="'fixed: 2.1.4' covers it"),
    ("PYSEC-2022-159", "1.8.3"): LATER_RELEASE.format(date="2022-03-09", why="'fixed: 2.6.1' covers it"),
}
EXPLAINED_RANGES_ONLY = {
    "PYSEC-2023-61": (
        "pre-releases of 3.2 and 4.2 are listed, but PEP 440 sorts them before 'introduced: 3.2' / "
        "'4.2'; the full matcher reports them affected through the list"
    ),
    "PYSEC-2023-177": (
        "the list names 23.9.0 and 23.9.0.post1 although the range says 'fixed: 23.9.0'; the full "
        "matcher follows the list (affected)"
    ),
    "PYSEC-2024-1": "no ECOSYSTEM range: only the list decides",
}


def _v(text: str) -> PypiVersion | None:
    return parse(PypiVersion, text)


def _key(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


@dataclass
class Corpus:
    entries: list[tuple[str, str, OsvAffected]] = field(default_factory=list)  # package key, id, entry
    history: dict[str, set[str]] = field(default_factory=lambda: collections.defaultdict(set))
    listed: dict[str, set[str]] = field(default_factory=lambda: collections.defaultdict(set))


@pytest.fixture(scope="module")
def corpus(shared_data) -> Corpus:
    if not PYPI.is_dir():
        pytest.skip(f"{PYPI} is absent")
    c = Corpus()
    for path in sorted(PYPI.rglob("*.yaml")):
        record = osv.parse_record(osv.load(path.name, path.read_bytes()), str(path))
        stored = orjson.loads(orjson.dumps(record))  # the shape the store keeps and the matcher reads
        for affected in stored["affected_packages"]:
            key = _key(affected["name"])
            c.history[key].update(affected["versions"])
            c.listed[key].update(affected["versions"])
            for rng in affected["ranges"]:
                if rng["type"] == "ECOSYSTEM":
                    c.history[key].update(e["value"] for e in rng["events"] if e["value"] != "0")
            if affected["versions"] and not record.withdrawn:
                c.entries.append((key, record.id, parse_affected(record.id, affected)))
    assert len(c.entries) > 2500
    return c


def _compare(
    corpus: Corpus, ranges_only: bool
) -> tuple[collections.Counter[str], list[tuple[str, str, bool, bool | None]]]:
    counts: collections.Counter[str] = collections.Counter()
    unexplained: list[tuple[str, str, bool, bool | None]] = []
    for key, vid, entry in corpus.entries:
        listed = {v for v in map(_v, entry.versions) if v is not None}
        top = max(listed) if listed else None
        real = {v for v in map(_v, corpus.listed[key]) if v is not None}
        for version in sorted(corpus.history[key]):
            parsed = _v(version)
            expected = version in entry.versions or (parsed is not None and parsed in listed)
            got = (evaluate_ranges if ranges_only else evaluate)(entry, version).affected
            if got == expected:
                counts["agree"] += 1
            elif parsed is None and got is None:
                counts["not-pep440"] += 1
            elif got and version not in corpus.listed[key] and parsed not in real:
                counts["event-only"] += 1
            elif got and parsed is not None and (parsed.value.is_prerelease or parsed.value.is_devrelease):
                counts["pre-release-omitted"] += 1
            elif got and top is not None and parsed is not None and parsed > top:
                counts["newer-than-list"] += 1
            elif (not ranges_only and (vid, version) in EXPLAINED_FULL) or (
                ranges_only and ((vid, version) in EXPLAINED_FULL or vid in EXPLAINED_RANGES_ONLY)
            ):
                counts["explained"] += 1
            else:
                unexplained.append((vid, version, expected, got))
    return counts, unexplained


def _report(title: str, counts: collections.Counter[str]) -> float:
    total = sum(counts.values())
    share = counts["agree"] / total
    print(f"\n{title}: {counts['agree']} of {total} (advisory, version) pairs agree ({share:.2%})")
    for name, count in counts.most_common():
        if name != "agree":
            print(f"  {name}: {count} — {CATEGORIES.get(name, 'explained one by one in this test')}")
    return share


def test_full_matcher_agrees_with_the_enumerated_versions(corpus: Corpus) -> None:
    counts, unexplained = _compare(corpus, ranges_only=False)
    share = _report("matcher (ranges + list)", counts)
    assert unexplained == []
    assert share > 0.97
    assert counts["explained"] == len(EXPLAINED_FULL)  # every explained case still occurs


def test_ranges_alone_agree_with_the_enumerated_versions(corpus: Corpus) -> None:
    counts, unexplained = _compare(corpus, ranges_only=True)
    share = _report("ranges alone", counts)
    assert unexplained == []
    assert share > 0.97


def test_every_listed_version_is_affected(corpus: Corpus) -> None:
    for _, vid, entry in corpus.entries:
        for version in entry.versions:
            assert evaluate(entry, version).affected, (vid, version)


def _as_univers(rng: OsvRange) -> OsvRange:
    """The range with every event compared by its univers object (the comparison before order keys)."""
    events = {id(e): Event(e.kind, e.text, e.version, e.version) for e in rng.events}
    pairs = None
    if rng.pairs is not None:
        pairs = [(events[id(s)], None if e is None else events[id(e)]) for s, e in rng.pairs]
    return OsvRange(rng.type, [events[id(e)] for e in rng.events], rng.problem, pairs)


def test_order_keys_decide_as_univers_versions_do(corpus: Corpus) -> None:
    """The walk compares order keys; over every entry and every version of its package's history,
    it gives what comparing the univers objects gives (affected, and the fix), and the keys sort
    the history as univers does (equal where univers finds them equal)."""
    compared = 0
    for key, vid, entry in corpus.entries:
        for rng in entry.ranges:
            if rng.problem:
                continue
            cls = SemverVersion if rng.type == "SEMVER" else entry.cls
            old = _as_univers(rng)
            for version in corpus.history[key]:
                parsed = parse_installed(cls, version)
                if parsed is None:
                    continue
                assert walk(rng, installed_key(cls, version)) == walk(old, parsed), (vid, version)
                compared += 1
    assert compared > 100_000
    for history in corpus.history.values():
        parsed = sorted(v for v in map(_v, history) if v is not None)
        for a, b in itertools.pairwise(parsed):
            ka, kb = order_key(a), order_key(b)
            assert (ka < kb, ka == kb, ka > kb) == (a < b, a == b, a > b), (a.string, b.string)


def test_pypi_versions_are_the_objects_univers_builds() -> None:
    """mamori parses a PyPI version once; univers' own PypiVersion(text) parses it twice: same object."""
    for text in (
        "1.0",
        " v2.3.4 ",
        "1.0rc1",
        "2!1.0.post3+local.7",
        "V10",
        "1.0.dev0",
        "",
        "v",
        "not a version",
    ):
        ours = parse(PypiVersion, text)
        try:
            theirs = PypiVersion(text.strip())
        except Exception:
            theirs = None
        assert (ours is None) == (theirs is None), text
        if ours is not None:
            assert type(ours) is PypiVersion and ours == theirs and hash(ours) == hash(theirs)
            assert list(vars(ours).items()) == list(vars(theirs).items()) and str(ours) == str(theirs)

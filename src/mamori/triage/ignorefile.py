"""The project's ignore file (``.mamoriignore``, the convention of ``.trivyignore``): vulnerabilities the
project decided not to be alerted about, each with its reason and, optionally, the packages it is about
and the day it expires.

Text form (``.mamoriignore``), one entry per line; ``#`` starts a comment::

    # log4j-core is not on the class path of the shipped image     <- comment lines right above an
    CVE-2021-44228                                                    entry are its reason (.trivyignore)
    CVE-2020-8203 pkg:npm/lodash exp:2027-01-31  # reason on the line itself wins

Fields after the id, in any order: ``pkg:…`` package URLs (repeatable; one without a version names
every version of the package), ``exp:YYYY-MM-DD`` the expiry date, ``# reason`` to the end of the line.

YAML form (``.mamoriignore.yaml``, the shape of ``.trivyignore.yaml``)::

    vulnerabilities:
      - id: CVE-2020-8203
        purls: [pkg:npm/lodash@4.17.15]
        statement: only server-side, never given user input   # or: reason
        expired_at: 2027-01-31

Every entry that has not expired becomes a triage record of origin ``ignore`` (status ``not_affected``,
the reason as its detail, the file and line as its source) for the one scan: the findings stay in every
report with that status and leave the gate. An entry expires at the start of its expiry date (UTC):
from then on it suppresses nothing and is reported as expired. No I/O but the one bounded read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from mamori.errors import InputError
from mamori.fileio import check_yaml_depth, read_bytes
from mamori.i18n import _
from mamori.triage.records import IGNORE, WHOLE_RELEASE, TriageRecord, canonical_purl

#: file names looked for in a project folder, in this order (the first one found is read)
NAMES = (".mamoriignore", ".mamoriignore.yaml", ".mamoriignore.yml")
MAX_BYTES = 4 * 1024 * 1024
NO_REASON = "listed in the ignore file"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+/-]{0,199}$")
_YAML_ENTRY_KEYS = {"id", "purls", "paths", "statement", "reason", "expired_at"}
# sections of .trivyignore.yaml about what mamori does not scan: accepted, not used
_OTHER_SECTIONS = {"misconfigurations", "secrets", "licenses"}


@dataclass(frozen=True, slots=True)
class IgnoreEntry:
    """One entry: the vulnerability id, the packages (empty: every component), the reason, the expiry."""

    id: str
    purls: tuple[str, ...] = ()
    reason: str | None = None
    expires: date | None = None
    line: int = 0
    where: str = ""  # YAML: vulnerabilities[N]; text: "" (the line says where)

    def source(self, name: str) -> str:
        """Where the entry is: ``.mamoriignore:3``, ``.mamoriignore.yaml:vulnerabilities[0]``."""
        return f"{name}:{self.where or self.line}"

    def expired(self, today: date) -> bool:
        return self.expires is not None and today >= self.expires

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "purls": list(self.purls),
            "reason": self.reason,
            "expired_at": self.expires.isoformat() if self.expires else None,
            "where": self.where or f"line {self.line}",
        }


@dataclass(slots=True)
class IgnoreFile:
    """An ignore file and its entries."""

    path: Path
    entries: list[IgnoreEntry] = field(default_factory=list)

    def active(self, today: date) -> list[IgnoreEntry]:
        return [e for e in self.entries if not e.expired(today)]

    def expired(self, today: date) -> list[IgnoreEntry]:
        return [e for e in self.entries if e.expired(today)]

    def records(self, today: date, product: str = "", release: str = "") -> list[TriageRecord]:
        """The triage records the unexpired entries stand for (one per entry and purl)."""
        out = []
        for e in self.active(today):
            for purl in e.purls or (WHOLE_RELEASE,):
                out.append(
                    TriageRecord(
                        product=product,
                        release=release,
                        component_purl=purl,
                        vulnerability=e.id,
                        status="not_affected",
                        detail=e.reason or NO_REASON,
                        who=self.path.name,
                        at="",
                        origin=IGNORE,
                        source=e.source(self.path.name),
                    )
                )
        return out


def find(folders: list[Path]) -> Path | None:
    """The first ignore file (:data:`NAMES`) in ``folders``, in order."""
    for folder in folders:
        for name in NAMES:
            candidate = folder / name
            if candidate.exists():
                return candidate
    return None


def today_utc() -> date:
    return datetime.now(UTC).date()


def load(path: str | Path) -> IgnoreFile:
    """Read an ignore file: YAML when its name ends in .yaml or .yml, else the text form. A flaw is an
    InputError naming the file and the line (or entry)."""
    p = Path(path)
    data = read_bytes(p, MAX_BYTES)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(p, _("not UTF-8 text")) from None
    if p.suffix.lower() in (".yaml", ".yml"):
        return IgnoreFile(p, _yaml_entries(p, data, text))
    return IgnoreFile(p, _text_entries(p, text))


def _date(value: Any, where: str, p: Path) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(
            p,
            _("{where}: expiry {value!r} is not a date YYYY-MM-DD").format(
                where=where, value=str(value)[:40]
            ),
        ) from None


def _id(value: Any, where: str, p: Path) -> str:
    text = str(value).strip() if isinstance(value, str | int) else ""
    if not _ID.match(text):
        raise InputError(
            p, _("{where}: {text!r} is not a vulnerability id").format(where=where, text=text[:60])
        )
    return text


def _purl(value: Any, where: str, p: Path) -> str:
    if not isinstance(value, str) or not value.strip().startswith("pkg:"):
        raise InputError(
            p, _("{where}: {value!r} is not a package URL (pkg:…)").format(where=where, value=str(value)[:80])
        )
    try:
        return canonical_purl(value)
    except InputError as exc:
        raise InputError(p, f"{where}: {exc.problem}") from None


def _reason(value: str) -> str | None:
    text = " ".join(value.split())
    return text[:2000] or None


def _text_entries(p: Path, text: str) -> list[IgnoreEntry]:
    entries: list[IgnoreEntry] = []
    comment: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            comment = []
            continue
        if line.startswith("#"):
            comment.append(line.lstrip("#").strip())
            continue
        body, _hash, inline = line.partition("#")
        tokens = body.split()
        where = f"line {number}"
        vid = _id(tokens[0], where, p)
        purls: list[str] = []
        expires: date | None = None
        for token in tokens[1:]:
            if token.startswith("pkg:"):
                purls.append(_purl(token, where, p))
            elif token.startswith("exp:"):
                if expires is not None:
                    raise InputError(p, _("{where}: two expiry dates").format(where=where))
                expires = _date(token[4:], where, p)
            else:
                raise InputError(
                    p,
                    _(
                        "{where}: unexpected field {token!r} (expected pkg:…, exp:YYYY-MM-DD or # reason)"
                    ).format(where=where, token=token[:60]),
                )
        reason = _reason(inline) or _reason(" ".join(comment))
        entries.append(IgnoreEntry(vid, tuple(dict.fromkeys(purls)), reason, expires, number))
        comment = []
    return entries


def _yaml_entries(p: Path, data: bytes, text: str) -> list[IgnoreEntry]:
    import yaml

    check_yaml_depth(data, p)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(p, _("not valid YAML: {reason}").format(reason=str(exc).splitlines()[0])) from None
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise InputError(p, _("expected a mapping with a 'vulnerabilities' list"))
    for key in raw:
        if key != "vulnerabilities" and key not in _OTHER_SECTIONS:
            raise InputError(p, _("unknown key {key!r} (expected vulnerabilities)").format(key=str(key)[:60]))
    items = raw.get("vulnerabilities") or []
    if not isinstance(items, list):
        raise InputError(p, _("vulnerabilities: expected a list of entries"))
    entries: list[IgnoreEntry] = []
    for index, item in enumerate(items):
        where = f"vulnerabilities[{index}]"
        if not isinstance(item, dict):
            raise InputError(p, _("{where}: expected a mapping with an id").format(where=where))
        unknown = [str(k) for k in item if k not in _YAML_ENTRY_KEYS]
        if unknown:
            raise InputError(
                p, _("{where}: unknown key {unknown!r}").format(where=where, unknown=unknown[0][:60])
            )
        if "id" not in item:
            raise InputError(p, _("{where}: id is required").format(where=where))
        vid = _id(item["id"], where, p)
        purls = item.get("purls") or []
        if isinstance(purls, str):
            purls = [purls]
        if not isinstance(purls, list):
            raise InputError(p, _("{where}.purls: expected a list of package URLs").format(where=where))
        if item.get("paths"):
            raise InputError(
                p,
                _("{where}.paths: not supported by mamori (name the packages with purls)").format(
                    where=where
                ),
            )
        reason = item.get("statement", item.get("reason"))
        if reason is not None and not isinstance(reason, str):
            raise InputError(p, _("{where}.statement: expected text").format(where=where))
        expires = _date(item["expired_at"], where, p) if item.get("expired_at") is not None else None
        entries.append(
            IgnoreEntry(
                vid,
                tuple(dict.fromkeys(_purl(u, f"{where}.purls", p) for u in purls)),
                _reason(reason or ""),
                expires,
                index + 1,
                where,
            )
        )
    return entries

"""``mamori bundle create``: one signed zip holding what a supplier hands a customer for a release.

Members (sorted by name, every one stored with the same fixed time and mode, so the same store state and
key give the same bytes; ECDSA signatures are randomised, ed25519 ones are not):

- ``sbom/original/<file name>``: the release's current SBOM revision as archived (original bytes);
- ``sbom/sbom.cdx.json``: the same SBOM written as CycloneDX JSON;
- ``vex/vex.cdx.json``: the release's triage state as CycloneDX VEX (:mod:`mamori.portfolio.vexout`),
  when the release has triage records;
- ``csaf/<case>.json``: the CSAF advisory of each PSIRT case that touches the release and has a drafted
  or published revision;
- ``declaration/<assessment>-<framework>/declaration.json`` and ``declaration.ja.pdf`` /
  ``declaration.en.pdf`` for each assessment named, and ``label.ja.html`` / ``label.en.html`` when it is a
  JC-STAR ☆1 assessment with label fields;
- ``manifest.json``: product, release, supplier, the release date (``release_date``, YYYY-MM-DD, and
  ``release_date_source``: ``given`` for ``--release-date``, else ``sbom`` for the SBOM's metadata timestamp,
  else ``release`` for the day the release was stored) and every part above with kind, media type, size and
  SHA-256; the manifest is the signed statement's predicate, so the release date is covered by the signature;
- ``attestation.dsse.json``: the DSSE envelope of the in-toto Statement whose subjects are every member
  above (manifest included).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from mamori import __version__
from mamori.bundle.signing import sign
from mamori.errors import InputError
from mamori.i18n import _
from mamori.store import Store

FORMAT_VERSION = "1"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "urn:mamori:predicate:release-bundle:v1"
MANIFEST = "manifest.json"
ATTESTATION = "attestation.dsse.json"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
MEMBER_MODE = 0o100644  # a regular file, rw-r--r--
_JSON = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE

MEDIA = {
    "sbom": "application/octet-stream",
    "sbom-cyclonedx": "application/vnd.cyclonedx+json",
    "vex": "application/vnd.cyclonedx+json",
    "csaf": "application/json",
    "declaration-json": "application/json",
    "declaration-pdf": "application/pdf",
    "label-page": "text/html",
}
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class Part:
    name: str
    kind: str
    data: bytes
    lang: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def entry(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "media_type": MEDIA[self.kind],
            "size": len(self.data),
            "sha256": self.sha256,
        }
        if self.lang:
            out["lang"] = self.lang
        return out


@dataclass(frozen=True, slots=True)
class CreatedBundle:
    data: bytes
    manifest: dict[str, Any]
    key_id: str


def safe_name(name: str, default: str) -> str:
    """A member name part made of letters, digits, ``.``, ``_`` and ``-`` only."""
    cleaned = _SAFE.sub("_", Path(name).name).strip("._")[:100]
    return cleaned or default


def dumps(data: Any) -> bytes:
    return orjson.dumps(data, option=_JSON)


@contextlib.contextmanager
def _invariant_pdf() -> Iterator[None]:
    """ReportLab writes no creation time or random document id while this holds: the same PDF bytes."""
    from reportlab import rl_config

    before = rl_config.invariant
    rl_config.invariant = 1
    try:
        yield
    finally:
        rl_config.invariant = before


@dataclass(frozen=True, slots=True)
class _Sbom:
    parts: list[Part]
    stored_at: str | None
    timestamp: dt.datetime | None  # the SBOM's metadata timestamp
    release_created: str | None  # when the release was stored


def _sbom_parts(store: Store, product: str, release: str) -> _Sbom:
    from sqlalchemy import select

    from mamori.portfolio import tables as t
    from mamori.portfolio.archive import original_bytes, parse_sbom, release_id
    from mamori.sbom.cyclonedx.write import write_json

    s, r = t.SbomRow.__table__, t.ReleaseRow.__table__
    with store.engine.connect() as conn:
        rid = release_id(conn, product, release)
        row = conn.execute(
            select(s.c.file_name, s.c.imported_at, r.c.created_at)
            .join(r, r.c.current_sbom_id == s.c.id)
            .where(r.c.id == rid)
        ).first()
    if row is None:
        raise InputError(
            None,
            _("{product} {release} has no SBOM: store one with `mamori release add`").format(
                product=product, release=release
            ),
        )
    original = original_bytes(store, product, release)
    _fmt, doc = parse_sbom(original, Path(row.file_name))
    parts = [
        Part(f"sbom/original/{safe_name(row.file_name, 'sbom')}", "sbom", original),
        Part("sbom/sbom.cdx.json", "sbom-cyclonedx", write_json(doc)),
    ]
    return _Sbom(parts, row.imported_at, doc.timestamp, row.created_at)


def release_date(sbom: _Sbom, given: str | None) -> tuple[str | None, str | None]:
    """The release's date (YYYY-MM-DD) and where it came from: ``given`` (``--release-date``), else ``sbom``
    (the SBOM's metadata timestamp, when it is a real date), else ``release`` (the day the release was
    stored). (None, None) when none is known."""
    from mamori.model.timestamps import iso_date

    if given:
        return given, "given"
    day = iso_date(sbom.timestamp) if sbom.timestamp is not None else None
    if day and _plain_date(day):
        return day, "sbom"
    day = iso_date(sbom.release_created) if sbom.release_created else None
    if day and _plain_date(day):
        return day, "release"
    return None, None


def _plain_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _vex_part(store: Store, product: str, release: str, supplier: str) -> Part | None:
    from mamori import vex
    from mamori.portfolio.vexout import release_vex
    from mamori.triage.records import list_records

    records = list_records(store, product, release)
    if not records:
        return None
    made = release_vex(store, product, release, "cyclonedx", author=supplier)
    latest = max(dt.datetime.fromisoformat(r.at) for r in records)
    options = vex.WriteOptions(timestamp=latest.replace(microsecond=0))
    return Part("vex/vex.cdx.json", "vex", vex.dumps(made.document, "cyclonedx", options))


def _csaf_parts(
    store: Store, product: str, release: str, publisher: str, namespace: str | None
) -> list[Part]:
    from sqlalchemy import inspect, select

    from mamori.advisory.csaf_draft import check_csaf, draft_csaf
    from mamori.psirt import tables as pt
    from mamori.psirt.cases import get_case, parse_time, revisions

    if not inspect(store.engine).has_table(pt.CaseRow.__tablename__):
        return []
    c, p = pt.CaseRow.__table__, pt.CaseProductRow.__table__
    with store.engine.connect() as conn:
        keys = list(
            conn.scalars(
                select(c.c.key)
                .join(p, p.c.case_id == c.c.id)
                .where(p.c.product == product, p.c.release == release)
                .distinct()
                .order_by(c.c.key)
            )
        )
    parts = []
    for case in (get_case(store, key) for key in keys):
        done = revisions(store, case.key)
        if not done:
            continue  # no advisory drafted for the case yet
        if not namespace:
            raise InputError(
                None,
                _("case {key} has an advisory for this release: give the CSAF publisher --namespace").format(
                    key=case.key
                ),
            )
        doc = draft_csaf(
            store, case.key, publisher=publisher, namespace=namespace, now=parse_time(done[-1]["date"])
        )
        problems = check_csaf(doc)
        if problems:
            raise InputError(
                None,
                _("the CSAF advisory of case {key} is not valid: {problem}").format(
                    key=case.key, problem=problems[0]
                ),
            )
        parts.append(Part(f"csaf/{safe_name(case.key, 'advisory')}.json", "csaf", dumps(doc)))
    return parts


def _declaration_parts(
    store: Store, assessment_id: str, approver: str | None, date: str | None
) -> list[Part]:
    from mamori.compliance import jcstar
    from mamori.compliance.declaration import build, parse_approver
    from mamori.compliance.pdf import declaration_pdf
    from mamori.compliance.repository import Assessments

    a = Assessments(store).get(assessment_id)
    who = approver or a.approver
    if not who:
        raise InputError(
            None,
            _('assessment {id} has no approver: give --approver "name, title"').format(id=a.id),
        )
    day = date or a.declared_on or dt.date.today().isoformat()
    declaration = build(a, parse_approver(who), day)
    folder = f"declaration/{a.id}-{safe_name(a.framework, 'framework')}"
    parts = [Part(f"{folder}/declaration.json", "declaration-json", dumps(declaration))]
    with _invariant_pdf():
        for lang in ("en", "ja"):
            parts.append(
                Part(
                    f"{folder}/declaration.{lang}.pdf",
                    "declaration-pdf",
                    declaration_pdf(declaration, lang),
                    lang,
                )
            )
    if a.framework == "jcstar1" and a.label_fields:
        today = dt.date.fromisoformat(day)
        for lang in ("en", "ja"):
            vulns = jcstar.vulnerability_info(store, a, lang)
            missing = jcstar.missing_required(jcstar.field_values(a, lang, today, vulns))
            open_items = jcstar.conformity(a)[2]
            page = jcstar.render(a, lang, draft=bool(missing or open_items), today=today, vulns=vulns)
            parts.append(Part(f"{folder}/label.{lang}.html", "label-page", page.encode("utf-8"), lang))
    return parts


def _supplier(store: Store, product: str, given: str | None) -> str:
    from sqlalchemy import select

    from mamori.portfolio import tables as t

    if given and given.strip():
        return given.strip()
    with store.engine.connect() as conn:
        found = conn.scalar(select(t.ProductRow.supplier).where(t.ProductRow.name == product.strip()))
    if not found:
        raise InputError(
            None,
            _("product {product!r} names no supplier: give --supplier").format(product=product),
        )
    return str(found)


def statement(manifest_part: Part, parts: Sequence[Part], manifest: dict[str, Any]) -> dict[str, Any]:
    """The in-toto Statement v1: every member a subject with its SHA-256; the manifest as predicate."""
    subjects = sorted([manifest_part, *parts], key=lambda p: p.name)
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": p.name, "digest": {"sha256": p.sha256}} for p in subjects],
        "predicateType": PREDICATE_TYPE,
        "predicate": manifest,
    }


def zip_bytes(members: dict[str, bytes]) -> bytes:
    """A deterministic zip: names sorted, one fixed time and mode, deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix: the mode below is what the attributes mean
            info.external_attr = MEMBER_MODE << 16
            archive.writestr(info, members[name], compresslevel=9)
    return buffer.getvalue()


def create_bundle(
    store: Store,
    product: str,
    release: str,
    signer: Any,
    *,
    supplier: str | None = None,
    assessments: Sequence[str] = (),
    approver: str | None = None,
    date: str | None = None,
    namespace: str | None = None,
    released_on: str | None = None,
) -> CreatedBundle:
    """The bundle of ``product`` ``release`` signed by ``signer`` (see the module); ``released_on``
    (YYYY-MM-DD) is the release's date when given, else it comes from the SBOM or the release record."""
    product, release = product.strip(), release.strip()
    who = _supplier(store, product, supplier)
    sbom = _sbom_parts(store, product, release)
    parts = list(sbom.parts)
    day, day_source = release_date(sbom, released_on)
    vex_part = _vex_part(store, product, release, who)
    if vex_part is not None:
        parts.append(vex_part)
    parts += _csaf_parts(store, product, release, who, namespace)
    for ident in dict.fromkeys(assessments):
        parts += _declaration_parts(store, ident, approver, date)
    names = [p.name for p in parts]
    if len(set(names)) != len(names):
        raise InputError(None, _("two parts of the bundle would have the same name"))
    parts.sort(key=lambda p: p.name)
    manifest = {
        "mamori_bundle": FORMAT_VERSION,
        "product": product,
        "release": release,
        "supplier": who,
        "sbom_stored_at": sbom.stored_at,
        "generated_by": f"mamori {__version__}",
        "parts": [p.entry() for p in parts],
    }
    if day is not None:
        manifest["release_date"] = day
        manifest["release_date_source"] = day_source
    manifest_part = Part(MANIFEST, "manifest", dumps(manifest))
    payload = dumps(statement(manifest_part, parts, manifest))
    envelope = sign(payload, signer)
    members = {p.name: p.data for p in parts}
    members[MANIFEST] = manifest_part.data
    members[ATTESTATION] = dumps(envelope)
    return CreatedBundle(zip_bytes(members), manifest, str(signer.public_key.keyid))

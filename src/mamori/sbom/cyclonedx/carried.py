"""Model fields that CycloneDX has no element for travel as properties named ``mamori:…``.

The writer adds them and the readers take them out again, so CycloneDX → model → CycloneDX and
model → CycloneDX → model keep them. Values are plain strings, or JSON where a field has parts.

Document level (``metadata.properties``):

- ``mamori:document-name`` — ``Document.name`` when it is not the root component's name
- ``mamori:comment`` — ``Document.comment``
- ``mamori:serial-number`` — a ``Document.serial_number`` that is not a ``urn:uuid:`` (an SPDX
  document namespace); ``serialNumber`` then holds a UUID derived from it
- ``mamori:relationship`` — ``["source", "TYPE", "target"]`` (plus the comment when there is one)
  for every relationship the ``dependencies`` graph cannot hold
- ``mamori:manufacturer`` — ``{"name", "email", "url"}``: the reader stores ``metadata.manufacturer``
  (``manufacture`` before 1.6) here because the model has no field for it; the writer turns it back
  into that element

Component level (``component.properties``):

- ``mamori:license-concluded`` — a concluded licence the target version cannot express
  (acknowledgement needs 1.6, and a component holds at most one expression)
- ``mamori:licenses-acknowledgement`` — ``concluded`` when, before 1.6, ``licenses`` holds the
  concluded licence of a component that has no declared one
- ``mamori:cpe`` — every CPE after the first (CycloneDX has one ``cpe``)
- ``mamori:hash`` — ``ALG:value`` for an algorithm or value the schema does not allow
- ``mamori:external-reference`` — ``[index, "type", "url"]`` (plus the comment) for a reference
  whose URL the schema's iri-reference format refuses (``https://github.com/x/${project}``); the
  reader puts it back at its index (also used on services)
- ``mamori:type`` — a component type the target version does not know (written as ``library``)
- ``mamori:occurrence`` — ``["location", line]`` (line or null) for an occurrence the target version
  cannot hold in ``evidence.occurrences`` (1.4 has no such element, 1.5 has no ``line``)
- ``mamori:manufacturer`` — as above, for ``component.manufacturer`` (1.6+)
"""

from __future__ import annotations

PREFIX = "mamori:"

DOCUMENT_NAME = "mamori:document-name"
COMMENT = "mamori:comment"
SERIAL_NUMBER = "mamori:serial-number"
RELATIONSHIP = "mamori:relationship"
MANUFACTURER = "mamori:manufacturer"

LICENSE_CONCLUDED = "mamori:license-concluded"
LICENSES_ACKNOWLEDGEMENT = "mamori:licenses-acknowledgement"
CPE = "mamori:cpe"
HASH = "mamori:hash"
TYPE = "mamori:type"
EXTERNAL_REFERENCE = "mamori:external-reference"
OCCURRENCE = "mamori:occurrence"

# component properties a reader takes back into model fields
COMPONENT_FIELDS = frozenset(
    (LICENSE_CONCLUDED, LICENSES_ACKNOWLEDGEMENT, CPE, HASH, TYPE, EXTERNAL_REFERENCE, OCCURRENCE)
)
# document properties a reader takes back into model fields
DOCUMENT_FIELDS = frozenset((DOCUMENT_NAME, COMMENT, SERIAL_NUMBER, RELATIONSHIP))

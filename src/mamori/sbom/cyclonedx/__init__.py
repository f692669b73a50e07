"""CycloneDX JSON and XML: readers (spec 1.0-1.7) and writers (1.4, 1.5, 1.6).

read_json.py / read_xml.py → from_bom.py (one mapping to the model); to_bom.py → write.py (one
mapping from the model, serialised as JSON or XML). licenses.py turns licence entries into SPDX
expressions and back; carried.py names the ``mamori:`` properties that carry model fields CycloneDX
has no element for; versions.py holds what each spec version allows.
"""

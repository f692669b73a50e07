"""Read and write SBOMs in every format mamori knows, through one small API.

>>> doc = read("bom.json")            # format and version detected
>>> write(doc, "out.spdx.json")        # format from the file name
"""

from mamori.model import Document
from mamori.sbom.formats import (
    READ_FORMATS,
    WRITE_FORMATS,
    ReadOptions,
    detect_format,
    dumps,
    format_from_filename,
    read,
    write,
)

__all__ = [
    "READ_FORMATS",
    "WRITE_FORMATS",
    "Document",
    "ReadOptions",
    "detect_format",
    "dumps",
    "format_from_filename",
    "read",
    "write",
]

"""Reading the signed content a copy carries: the base64 element of an HTML copy, the
signed-content.json attachment of a PDF copy. Bytes in, text out (None for what is
not a perfplan copy), the standard library only: the case file's script's own reads."""

from __future__ import annotations

import binascii
import zlib

# The case file's script reads copies with the standard library alone; these reads are
# its own, so a copy that perfplan can read is one the script can read.
from states.evidence import verify_case as script


def kind_of(document: bytes) -> str | None:
    """'pdf', 'html' or None, from the document's first bytes."""
    if document.startswith(b"%PDF-"):
        return "pdf"
    head = document[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "html"
    return None


def html_content(document: bytes) -> str | None:
    """The base64 content element of an HTML copy, decoded."""
    try:
        return script.html_content(document)
    except (binascii.Error, UnicodeDecodeError):
        return None


def pdf_content(document: bytes) -> str | None:
    """The first embedded file of a PDF (a perfplan copy has exactly one), decoded."""
    try:
        return script.pdf_content(document)
    except (zlib.error, UnicodeDecodeError):
        return None


def carried_content(document: bytes) -> str | None:
    """The signed content a copy carries, whichever its kind; None if it carries none."""
    kind = kind_of(document)
    if kind == "pdf":
        return pdf_content(document)
    if kind == "html":
        return html_content(document)
    return None

"""Reading the signed content a copy carries: the base64 element of an HTML copy, the
signed-content.json attachment of a PDF copy. Bytes in, text out, the standard library
only (the case file's script reads copies the same way)."""

from __future__ import annotations

import base64
import binascii
import re
import zlib

_HTML_CONTENT = re.compile(
    rb'<script type="text/plain" id="perfplan-signed-content"[^>]*>([A-Za-z0-9+/=\s]*)</script>'
)
_PDF_ATTACHMENT = re.compile(rb"<<\s*/Type\s*/EmbeddedFile(.*?)>>\s*stream\r?\n", re.DOTALL)
_LENGTH = re.compile(rb"/Length\s+(\d+)")


def kind_of(document: bytes) -> str | None:
    """'pdf', 'html' or None, from the document's first bytes."""
    if document.startswith(b"%PDF-"):
        return "pdf"
    head = document[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "html"
    return None


def html_content(document: bytes) -> str | None:
    found = _HTML_CONTENT.search(document)
    if found is None:
        return None
    try:
        return base64.b64decode(found.group(1), validate=False).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


def pdf_content(document: bytes) -> str | None:
    """The first embedded file of a PDF (a perfplan copy has exactly one), decoded."""
    found = _PDF_ATTACHMENT.search(document)
    length = _LENGTH.search(found.group(1)) if found else None
    if found is None or length is None:
        return None
    data = document[found.end() : found.end() + int(length.group(1))]
    try:
        if b"/FlateDecode" in found.group(1):
            data = zlib.decompress(data)
        return data.decode()
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

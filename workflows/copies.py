"""Rendering a signed copy (`states.evidence.copies`) to HTML and PDF, from the content
sealed when its signatures completed, and keeping both with their SHA-256.

The HTML carries the canonical content it shows (base64, in an element of its own) and
the PDF carries it as an attachment, so a copy alone says which digest it is a copy of.
Rendering is deterministic: the same sealed row gives the same bytes (the PDF's dates
are the sealing instant), so a copy can be rendered again and compared.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import select, update
from sqlmodel import Session

from models.clock import utc
from models.tables import SIGNED_COPY

TEMPLATES = Path(__file__).parent / "templates" / "copy"
ATTACHMENT = "signed-content.json"


@dataclass(frozen=True)
class Rendered:
    """A copy's two documents and their SHA-256."""

    html: bytes
    pdf: bytes

    @property
    def html_sha256(self) -> str:
        return hashlib.sha256(self.html).hexdigest()

    @property
    def pdf_sha256(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@cache
def _words() -> dict[str, Any]:
    return dict(yaml.safe_load((TEMPLATES / "words.yaml").read_text(encoding="utf-8")))


def _figure(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _instant(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M UTC")


def render_html(copy: Mapping[str, Any]) -> str:
    """The copy as a page: what the canonical content says, who signed it, and the proof."""
    names: Mapping[str, str] = copy["names"]
    return (
        _environment()
        .get_template("copy.html.j2")
        .render(
            copy=copy,
            content=json.loads(copy["content"]),
            words=_words(),
            name=lambda key: names.get(key, key),
            figure=_figure,
            sealed_at=utc(copy["sealed_at"]).strftime("%Y-%m-%dT%H:%M:%SZ"),
            instant=_instant,
            embedded=base64.b64encode(copy["content"].encode()).decode(),
        )
    )


def render_pdf(html: str, content: str, sealed_at: datetime) -> bytes:
    """The page printed to PDF (A4), the canonical content attached as signed-content.json."""
    from weasyprint import HTML, Attachment

    attachment = Attachment(
        string=content,
        name=ATTACHMENT,
        description="The plan content as signed; its SHA-256 is the digest the signatures bind",
        created=utc(sealed_at),
        modified=utc(sealed_at),
    )
    pdf = HTML(string=html).write_pdf(attachments=[attachment])
    assert pdf is not None  # write_pdf without a target returns the bytes
    return bytes(pdf)


def render(copy: Mapping[str, Any]) -> Rendered:
    html = render_html(copy)
    return Rendered(html.encode(), render_pdf(html, copy["content"], copy["sealed_at"]))


def archive(session: Session, *, plan_id: int, number: int, now: datetime) -> Rendered:
    """Render copy `number` of a plan and keep it; a copy rendered already stays as it is."""
    row = session.execute(
        select(SIGNED_COPY).where(SIGNED_COPY.c.plan_id == plan_id, SIGNED_COPY.c.number == number)
    ).one()
    if row.html is not None and row.pdf is not None:
        return Rendered(row.html, row.pdf)
    rendered = render(dict(row._mapping))
    session.execute(
        update(SIGNED_COPY)
        .where(SIGNED_COPY.c.id == row.id)
        .values(
            html=rendered.html,
            html_sha256=rendered.html_sha256,
            pdf=rendered.pdf,
            pdf_sha256=rendered.pdf_sha256,
            rendered_at=now,
        )
    )
    return rendered

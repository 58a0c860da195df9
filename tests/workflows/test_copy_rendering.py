"""Signed copies: at agreement and at each re-confirmation the plan as signed is kept as
HTML and PDF, rendered from the content its signatures bind, and readable as a page."""

from __future__ import annotations

import ctypes
import hashlib
import io
import json
from pathlib import Path

import pypdfium2
from PIL import Image
from sqlalchemy import Engine, select, update

from models.clock import FrozenClock
from models.db import session_scope
from models.tables import GOAL, SIGNATURE, SIGNED_COPY
from states.evidence.documents import carried_content, html_content, pdf_content
from states.plans.content import canonical_content
from tests.states.engine.support import adjust_milestone, running, sign
from workflows.copies import render
from workflows.dispatch import dispatch_pending


def _copies(engine: Engine, plan_id: int) -> list[dict[str, object]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(SIGNED_COPY)
            .where(SIGNED_COPY.c.plan_id == plan_id)
            .order_by(SIGNED_COPY.c.number)
        )
        return [dict(row._mapping) for row in rows]


def _signed_digests(engine: Engine, plan_id: int, event: str) -> set[str]:
    with engine.connect() as conn:
        query = select(SIGNATURE.c.content_digest).where(
            SIGNATURE.c.plan_id == plan_id, SIGNATURE.c.event == event
        )
        return set(conn.execute(query).scalars())


def test_agreement_and_each_reconfirmation_keep_a_copy_of_what_was_signed(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    running(engine, zhang_plan, clock())
    for due in ("2026-10-16", "2026-10-23"):
        adjust_milestone(engine, zhang_plan, "li", "report_1", due)
        sign(engine, zhang_plan, "zhang", clock())
        sign(engine, zhang_plan, "li", clock())
    dispatch_pending(engine, now=clock())

    copies = _copies(engine, zhang_plan)

    assert [(c["number"], c["event"]) for c in copies] == [
        (1, "agree"),
        (2, "reconfirm"),
        (3, "reconfirm"),
    ]
    assert {c["content_digest"] for c in copies[:1]} == _signed_digests(engine, zhang_plan, "agree")
    assert {c["content_digest"] for c in copies[1:]} == _signed_digests(
        engine, zhang_plan, "reconfirm"
    )
    for copy in copies:
        content = str(copy["content"])
        html, pdf = bytes(copy["html"]), bytes(copy["pdf"])  # type: ignore[call-overload]
        assert hashlib.sha256(content.encode()).hexdigest() == copy["content_digest"]
        assert hashlib.sha256(html).hexdigest() == copy["html_sha256"]
        assert hashlib.sha256(pdf).hexdigest() == copy["pdf_sha256"]
        assert html_content(html) == content and pdf_content(pdf) == content
        assert carried_content(pdf) == content
    dues = [json.loads(str(c["content"]))["milestones"] for c in copies]
    report_1 = [next(m["due"] for m in d if m["key"] == "report_1") for d in dues]
    assert report_1 == ["2026-10-09", "2026-10-16", "2026-10-23"]
    assert b"2026-10-23" in bytes(copies[2]["html"])  # type: ignore[call-overload]


def test_a_copy_shows_the_content_sealed_not_what_the_plan_says_later(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    running(engine, zhang_plan, clock())
    with session_scope(engine) as session:  # changed before the clockwork renders
        session.execute(update(GOAL).where(GOAL.c.plan_id == zhang_plan).values(target=1))
        changed = canonical_content(session, zhang_plan)
    dispatch_pending(engine, now=clock())

    (copy,) = _copies(engine, zhang_plan)

    assert copy["content"] != changed
    assert html_content(bytes(copy["html"])) == copy["content"]  # type: ignore[call-overload]
    assert "→ 100 %" in bytes(copy["html"]).decode()  # type: ignore[call-overload]


def test_rendering_a_copy_again_gives_the_same_bytes(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    running(engine, zhang_plan, clock())
    dispatch_pending(engine, now=clock())
    (copy,) = _copies(engine, zhang_plan)

    again = render(copy)

    assert (again.html_sha256, again.pdf_sha256) == (copy["html_sha256"], copy["pdf_sha256"])


def _fonts(page: pypdfium2.PdfPage) -> set[str]:
    """The base names of the fonts the page's text is set in."""
    names = set()
    for text in page.get_objects(filter=[pypdfium2.raw.FPDF_PAGEOBJ_TEXT]):
        font = pypdfium2.raw.FPDFTextObj_GetFont(text.raw)
        buffer = ctypes.create_string_buffer(256)
        length = pypdfium2.raw.FPDFFont_GetBaseFontName(font, buffer, 256)
        names.add(buffer.raw[:length].rstrip(b"\0").decode())
    return names


def _dark_share(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    region = image.convert("L").crop(box)
    histogram = region.histogram()  # grey levels 0..255, one count each
    return sum(histogram[:128]) / sum(histogram)


def test_the_pdf_reads_as_a_page_with_chinese_names_and_the_digest(
    engine: Engine, zhang_plan: int, clock: FrozenClock, tmp_path: Path
) -> None:
    running(engine, zhang_plan, clock())
    dispatch_pending(engine, now=clock())
    (copy,) = _copies(engine, zhang_plan)

    pdf = pypdfium2.PdfDocument(io.BytesIO(bytes(copy["pdf"])))  # type: ignore[call-overload]
    first = pdf[0]
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    image = first.render(scale=1.5).to_pil()
    image.save(tmp_path / "copy-page-1.png")

    assert 1 <= len(pdf) <= 4
    assert (round(first.get_width()), round(first.get_height())) == (595, 842)  # A4, in points
    assert "张三 Zhang San" in text and "王芳 Wang Fang" in text
    # Set in the machine's Chinese font (fonts-wqy-zenhei), not in boxes of a fallback.
    assert any("WenQuanYi-Zen-Hei" in name for name in _fonts(first)), _fonts(first)
    assert str(copy["content_digest"]) in text.replace("\r", "").replace("\n", "")
    # Printed, not blank: the title's band carries ink, and the margins none.
    width = image.size[0]
    assert _dark_share(image, (0, 60, width, 140)) > 0.01
    assert _dark_share(image, (0, 0, width, 30)) == 0

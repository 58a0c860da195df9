"""A plan's signed copies as their keepers read them: the list (what each copy is a copy
of, and its digests) and one copy's document, for the pages, the API and the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, NamedTuple

from sqlalchemy import select
from sqlmodel import Session

from models.tables import AUDIT, SIGNED_COPY
from people.access import Viewer, check_copy_keeper, check_plan
from people.errors import NotFound
from states.evidence.receipts import Receipt

Format = Literal["pdf", "html"]
MEDIA_TYPES: dict[str, str] = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}


class CopyInfo(NamedTuple):
    """One signed copy: the round it closed, when, and the digests that identify it."""

    plan_id: int
    number: int
    event: str
    seq: int
    sealed_at: datetime
    content_digest: str  # what its signatures bind; the copy's identity
    html_sha256: str  # "" until the clockwork has rendered it
    pdf_sha256: str
    signers: tuple[str, ...]  # person keys

    @property
    def rendered(self) -> bool:
        return bool(self.pdf_sha256)

    def filename(self, fmt: str) -> str:
        return f"plan-{self.plan_id}-copy-{self.number}-{self.content_digest[:12]}.{fmt}"


_COLUMNS = (
    SIGNED_COPY.c.plan_id,
    SIGNED_COPY.c.number,
    SIGNED_COPY.c.event,
    SIGNED_COPY.c.seq,
    SIGNED_COPY.c.sealed_at,
    SIGNED_COPY.c.content_digest,
    SIGNED_COPY.c.html_sha256,
    SIGNED_COPY.c.pdf_sha256,
    SIGNED_COPY.c.signatures,
)


def _info(row: Any) -> CopyInfo:
    signers = tuple(str(s["person"]) for s in row.signatures)
    return CopyInfo(
        row.plan_id,
        row.number,
        row.event,
        row.seq,
        row.sealed_at,
        row.content_digest,
        row.html_sha256,
        row.pdf_sha256,
        signers,
    )


def plan_copies(session: Session, plan_id: int) -> list[CopyInfo]:
    """Every copy of a plan, oldest first (1 is the agreement)."""
    query = select(*_COLUMNS).where(SIGNED_COPY.c.plan_id == plan_id)
    return [_info(row) for row in session.execute(query.order_by(SIGNED_COPY.c.number))]


def kept_copies(session: Session, viewer: Viewer, plan_id: int) -> list[CopyInfo]:
    """The copies `viewer` keeps; PlanNotFound unless they keep the plan's copies."""
    check_plan(session, viewer, plan_id, "read")
    copies = plan_copies(session, plan_id)
    signers = frozenset(key for copy in copies for key in copy.signers)
    check_copy_keeper(session, viewer, plan_id, signers)
    return copies


def copy_document(
    session: Session, viewer: Viewer, plan_id: int, number: int, fmt: Format
) -> tuple[CopyInfo, bytes]:
    """One copy's PDF or HTML for a keeper; NotFound when there is none (yet)."""
    copies = {copy.number: copy for copy in kept_copies(session, viewer, plan_id)}
    data = session.execute(
        select(SIGNED_COPY.c[fmt]).where(
            SIGNED_COPY.c.plan_id == plan_id, SIGNED_COPY.c.number == number
        )
    ).scalar()
    if number not in copies or data is None:
        raise NotFound(f"plan {plan_id} has no signed copy {number} (as {fmt}) yet")
    return copies[number], bytes(data)


def own_receipts(session: Session, viewer: Viewer, plan_id: int) -> list[Receipt]:
    """The receipts of the viewer's own signatures on a plan they may read, oldest first."""
    check_plan(session, viewer, plan_id, "read")
    query = select(AUDIT).where(
        AUDIT.c.plan_id == plan_id, AUDIT.c.kind == "signature", AUDIT.c.actor == viewer.key
    )
    return [Receipt.of(row) for row in session.execute(query.order_by(AUDIT.c.seq))]


def own_receipt(session: Session, viewer: Viewer, plan_id: int, seq: int) -> Receipt:
    """One receipt of the viewer's own; NotFound for anyone else's signature or record."""
    for receipt in own_receipts(session, viewer, plan_id):
        if receipt.seq == seq:
            return receipt
    raise NotFound(f"plan {plan_id} has no signature of yours at record {seq}")

"""Checking what a person holds against the chain: a signer's receipt, or a signed copy
(PDF or HTML). Each check ends in one sentence saying what holds, or what does not."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from models.tables import AUDIT, PLAN, SIGNED_COPY
from states import audit
from states.evidence.documents import carried_content, kind_of
from states.evidence.receipts import Receipt


@dataclass(frozen=True)
class Finding:
    """The outcome of one check: whether it holds, and the sentence that says so."""

    ok: bool
    sentence: str


def _refused(sentence: str) -> Finding:
    return Finding(False, sentence)


def _chain_problem(session: Session, plan_id: int) -> str | None:
    """Why plan `plan_id`'s chain cannot be relied on, or None when it verifies."""
    if session.execute(select(PLAN.c.id).where(PLAN.c.id == plan_id)).first() is None:
        return f"plan {plan_id} does not exist in this database"
    report = audit.verify(session, plan_id)
    if not report.ok:
        return f"plan {plan_id}'s chain does not verify ({report.breaks[0]})"
    return None


def _receipt_mismatch(record: Any, receipt: Receipt) -> str | None:
    expected = {
        "hash": receipt.record_hash,
        "content_digest": receipt.content_digest,
        "actor": receipt.person,
        "role": receipt.role,
        "event": f"sign:{receipt.event}",
        "kind": "signature",
    }
    for column, value in expected.items():
        if getattr(record, column) != value:
            return f"its {column} is {getattr(record, column)!r}, the receipt says {value!r}"
    return None


def check_receipt(session: Session, receipt: Receipt) -> Finding:
    """The receipt's record is in its plan's chain, unchanged, binding the digest it says."""
    problem = _chain_problem(session, receipt.plan_id)
    if problem:
        return _refused(f"The receipt cannot be confirmed: {problem}.")
    record = session.execute(
        select(AUDIT).where(AUDIT.c.plan_id == receipt.plan_id, AUDIT.c.seq == receipt.seq)
    ).first()
    where = f"record {receipt.seq} of plan {receipt.plan_id}"
    if record is None:
        return _refused(f"The receipt does not hold: the chain has no {where}.")
    mismatch = _receipt_mismatch(record, receipt)
    if mismatch:
        return _refused(f"The receipt does not hold: {where} is not the one it names ({mismatch}).")
    return Finding(
        True,
        f"The receipt holds: {where} is {receipt.person}'s signature as {receipt.role} of "
        f"'{receipt.event}', binding content {receipt.content_digest}, in a chain that verifies.",
    )


def _archived(session: Session, digest: str) -> list[Any]:
    query = select(SIGNED_COPY).where(SIGNED_COPY.c.content_digest == digest)
    return list(session.execute(query.order_by(SIGNED_COPY.c.plan_id, SIGNED_COPY.c.number)))


def _signature_seqs(session: Session, copy: Any) -> list[int]:
    """The signature records of the copy's round that bind its digest, in chain order."""
    query = select(AUDIT.c.seq).where(
        AUDIT.c.plan_id == copy.plan_id,
        AUDIT.c.kind == "signature",
        AUDIT.c.event == f"sign:{copy.event}",
        AUDIT.c.content_digest == copy.content_digest,
        AUDIT.c.seq < copy.seq,
    )
    return list(session.execute(query.order_by(AUDIT.c.seq)).scalars())


def _copy_in_chain(session: Session, copy: Any) -> str | None:
    """Why the chain does not bear the copy out, or None when it does."""
    problem = _chain_problem(session, copy.plan_id)
    if problem:
        return problem
    sealed = session.execute(
        select(AUDIT.c.event, AUDIT.c.content_digest).where(
            AUDIT.c.plan_id == copy.plan_id, AUDIT.c.seq == copy.seq
        )
    ).first()
    if sealed is None or (sealed.event, sealed.content_digest) != (copy.event, copy.content_digest):
        return f"record {copy.seq} of plan {copy.plan_id} is not the '{copy.event}' of this content"
    if len(_signature_seqs(session, copy)) < len(copy.signatures):
        return f"plan {copy.plan_id}'s chain holds fewer signatures of it than the copy shows"
    return None


def check_copy(session: Session, document: bytes) -> Finding:
    """The document is an archived copy, byte for byte, of content its signatures bind."""
    kind = kind_of(document)
    content = carried_content(document)
    if kind is None or content is None:
        return _refused("The file is not a signed copy: it carries no perfplan signed content.")
    digest = hashlib.sha256(content.encode()).hexdigest()
    sha = hashlib.sha256(document).hexdigest()
    copies = _archived(session, digest)
    if not copies:
        return _refused(f"No signed copy of content {digest} is archived here.")
    same = [c for c in copies if sha in (c.pdf_sha256, c.html_sha256)]
    if not same:
        first = copies[0]
        return _refused(
            f"The file carries the content of plan {first.plan_id}'s copy {first.number} "
            f"({digest}) but is not that copy as archived: its SHA-256 {sha} differs, so its "
            "pages may show something else."
        )
    copy = same[0]
    problem = _copy_in_chain(session, copy)
    if problem:
        return _refused(f"The copy cannot be confirmed: {problem}.")
    signers = ", ".join(f"{s['person']} ({s['role']})" for s in copy.signatures)
    return Finding(
        True,
        f"The {kind.upper()} is copy {copy.number} of plan {copy.plan_id} as archived "
        f"(SHA-256 {sha}): content {digest}, signed by {signers}, "
        f"'{copy.event}' at record {copy.seq} of a chain that verifies.",
    )

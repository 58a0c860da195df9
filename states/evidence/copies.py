"""Sealing a signed copy: when the last signature of a round completes its approval chain,
the plan's canonical content (the very text whose SHA-256 every signature of the round
binds), the round's signatures and the names the copy shows are kept in one row, in the
same transaction. The clockwork renders its HTML and PDF from that row, never from the
live plan, so a copy shows what was signed even if the plan changes a second later."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlmodel import Session

from models.clock import utc
from models.tables import PERSON, SIGNATURE, SIGNED_COPY
from states.errors import NotAllowedNow
from states.plans.content import canonical_content, content_digest


def _signatures(
    session: Session, plan_id: int, event: str, epoch: int, digest: str
) -> list[dict[str, object]]:
    rows = session.execute(
        select(
            PERSON.c.key,
            PERSON.c.name,
            SIGNATURE.c.role,
            SIGNATURE.c.step,
            SIGNATURE.c.signed_at,
            SIGNATURE.c.comment,
        )
        .join(PERSON, PERSON.c.id == SIGNATURE.c.person_id)
        .where(
            SIGNATURE.c.plan_id == plan_id,
            SIGNATURE.c.event == event,
            SIGNATURE.c.epoch == epoch,
            SIGNATURE.c.content_digest == digest,
        )
        .order_by(SIGNATURE.c.signed_at, SIGNATURE.c.id)
    )
    return [
        {
            "person": row.key,
            "name": row.name,
            "role": row.role,
            "step": row.step,
            "signed_at": utc(row.signed_at).isoformat(),
            "comment": row.comment,
        }
        for row in rows
    ]


def _names(session: Session, canonical: str, signers: list[dict[str, object]]) -> dict[str, str]:
    """Every person the content names by key, with their name as the copy shows it."""
    content = json.loads(canonical)
    keys = {role["person"] for role in content["roles"]}
    for action in content["actions"]:
        keys.update(k for k in (action["executor"], action["supporter"]) if k)
        keys.update(action["collaborators"])
    keys.update(str(s["person"]) for s in signers)
    rows = session.execute(select(PERSON.c.key, PERSON.c.name).where(PERSON.c.key.in_(keys)))
    return {row.key: row.name for row in rows}


def seal(
    session: Session,
    *,
    plan_id: int,
    event: str,
    epoch: int,
    seq: int,
    digest: str,
    state: str,
    now: datetime,
) -> int:
    """Keep the content that `digest` was signed for as the plan's next copy; its number.

    The content is read again from the plan's rows and must hash to `digest`: a copy
    is never sealed for content its signatures do not bind."""
    canonical = canonical_content(session, plan_id)
    if content_digest(canonical) != digest:
        raise NotAllowedNow(
            f"plan {plan_id}'s content no longer hashes to the digest its signatures bind "
            "(changed outside perfplan?): run `perfplan audit verify` before signing",
            plan_id=plan_id,
            event=event,
            state=state,
        )
    signers = _signatures(session, plan_id, event, epoch, digest)
    kept = select(func.count()).select_from(SIGNED_COPY).where(SIGNED_COPY.c.plan_id == plan_id)
    number = 1 + int(session.execute(kept).scalar_one())
    session.execute(
        insert(SIGNED_COPY).values(
            plan_id=plan_id,
            number=number,
            event=event,
            epoch=epoch,
            seq=seq,
            content_digest=digest,
            content=canonical,
            signatures=signers,
            names=_names(session, canonical, signers),
            sealed_at=now,
            html_sha256="",
            pdf_sha256="",
        )
    )
    return number

"""What the engine tests share: the moments of Zhang's plan, a footprint of everything a change
could touch, and the changes themselves, each in its own transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select

from models.db import session_scope
from models.tables import AUDIT, EVALUATION, OUTBOX, PLAN, SIGNATURE
from states import audit
from states.engine import firing as plan_engine
from states.engine import signing
from states.plans import activities as records

PERIOD_STARTED = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)


END_OF_PERIOD = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)


MEASURED = {"contracts": 95.0, "training": 86.0, "reports": 100.0, "response_time": 22.0}


@dataclass(frozen=True)
class Footprint:
    """Everything a change to a plan could touch."""

    state: str
    version: int
    epoch: int
    audit_seq: int
    audit_rows: int
    outbox_rows: int
    signatures: int
    evaluations: int


def footprint(db: Engine, plan_id: int) -> Footprint:
    with db.connect() as conn:
        plan = conn.execute(
            select(PLAN.c.state, PLAN.c.version, PLAN.c.epoch, PLAN.c.audit_seq).where(
                PLAN.c.id == plan_id
            )
        ).one()

        def count(table: Any) -> int:
            query = select(func.count()).select_from(table).where(table.c.plan_id == plan_id)
            return int(conn.execute(query).scalar_one())

        return Footprint(
            plan.state,
            plan.version,
            plan.epoch,
            plan.audit_seq,
            count(AUDIT),
            count(OUTBOX),
            count(SIGNATURE),
            count(EVALUATION),
        )


def fire(db: Engine, plan_id: int, event: str, actor: str, now: datetime, **kw: Any) -> Any:
    with session_scope(db) as session:
        return plan_engine.fire(
            session=session, plan_id=plan_id, event=event, actor=actor, now=now, **kw
        )


def sign(db: Engine, plan_id: int, actor: str, now: datetime, **kw: Any) -> signing.Signed:
    with session_scope(db) as session:
        return signing.sign(session=session, plan_id=plan_id, actor=actor, now=now, **kw)


def agree(db: Engine, plan_id: int, now: datetime) -> None:
    for person in ("zhang", "li", "wang"):
        sign(db, plan_id, person, now)


def running(db: Engine, plan_id: int, now: datetime) -> None:
    agree(db, plan_id, now)
    fire(db, plan_id, "start", "li", PERIOD_STARTED)


def measure_all(db: Engine, plan_id: int, now: datetime) -> None:
    for goal, value in MEASURED.items():
        with session_scope(db) as session:
            records.measure(
                session=session, plan_id=plan_id, goal=goal, value=value, actor="li", now=now
            )


def outbox(db: Engine, plan_id: int) -> list[Any]:
    with db.connect() as conn:
        query = select(OUTBOX).where(OUTBOX.c.plan_id == plan_id).order_by(OUTBOX.c.id)
        return list(conn.execute(query))


def flows_at(db: Engine, plan_id: int, seq: int) -> tuple[str, ...]:
    """The flows queued by the change that wrote audit record `seq` (keyed to it)."""
    prefix = f"plan:{plan_id}:seq:{seq}:"
    return tuple(r.flow for r in outbox(db, plan_id) if r.key.startswith(prefix))


def audit_rows(db: Engine, plan_id: int) -> list[Any]:
    with db.connect() as conn:
        query = select(AUDIT).where(AUDIT.c.plan_id == plan_id).order_by(AUDIT.c.seq)
        return list(conn.execute(query))


def verified(db: Engine) -> audit.VerifyReport:
    with session_scope(db) as session:
        return audit.verify(session)


def adjust_milestone(db: Engine, plan_id: int, actor: str, key: str, due: str) -> int:
    with session_scope(db) as session:
        return records.adjust(
            session=session,
            plan_id=plan_id,
            actor=actor,
            now=PERIOD_STARTED,
            kind="milestone",
            key=key,
            changes={"due": due},
            reason="the training was postponed",
        )

"""What the workers of a proof do (run in their own processes by `pool.WorkerPool`).

Every task catches what it provokes and reports it as an `Outcome`, so the
test sees each worker's result, a Conflict or anything unexpected alike.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from models.db import session_scope
from models.tables import PLAN
from states.engine import firing as plan_engine
from states.engine import signing
from tests.proofs.pool import Outcome, Worker
from tests.proofs.support import SIGNED
from workflows import dispatch, outbox
from workflows.announcements import PlanReads
from workflows.sweep import sweep


def _version(worker: Worker, plan_id: int) -> int:
    with worker.db.connect() as conn:
        query = select(PLAN.c.version).where(PLAN.c.id == plan_id)
        return int(conn.execute(query).scalar_one())


def _move(worker: Worker, plan_id: int, move: str, actor: str, now: datetime, seen: int) -> None:
    with session_scope(worker.db) as session:
        if move in SIGNED:
            signed = signing.sign(
                session=session,
                plan_id=plan_id,
                event=move,
                actor=actor,
                now=now,
                expected_version=seen,
            )
            assert signed.fired is not None, "a quorum of one fires on the first signature"
        else:
            plan_engine.fire(
                session=session,
                plan_id=plan_id,
                event=move,
                actor=actor,
                now=now,
                expected_version=seen,
            )


@contextmanager
def _pause_after_loading(seconds: float) -> Iterator[None]:
    """The engine pauses between reading the plan and reading anything else: the
    window in which a racing change commits, held open for `seconds`."""
    load = plan_engine.load_plan_and_actor

    def slow(*args: Any, **kwargs: Any) -> Any:
        read = load(*args, **kwargs)
        time.sleep(seconds)
        return read

    plan_engine.load_plan_and_actor = slow  # fire's
    setattr(signing, "load_plan_and_actor", slow)  # sign's, imported by name  # noqa: B010
    try:
        yield
    finally:
        plan_engine.load_plan_and_actor = load
        setattr(signing, "load_plan_and_actor", load)  # noqa: B010


def race(
    worker: Worker,
    *,
    plan_id: int,
    move: str,
    actor: str,
    now: datetime,
    pause_after_read: float = 0.0,
) -> Outcome:
    """Read the plan's version, wait for the others, then move the plan with that version
    expected (pausing inside the engine first, if asked: see `_pause_after_loading`)."""
    seen = _version(worker, plan_id)
    worker.wait_for_the_others()
    try:
        with _pause_after_loading(pause_after_read) if pause_after_read else nullcontext():
            _move(worker, plan_id, move, actor, now, seen)
    except Exception as error:  # Conflict is expected for losers; anything else fails the test
        where = traceback.extract_tb(error.__traceback__)[-1].name
        detail = {"seen": seen, "actor": actor, "error": repr(error), "where": where}
        return Outcome(type(error).__name__, detail)
    return Outcome("ok", {"seen": seen, "actor": actor})


def sweep_together(worker: Worker, *, as_of: datetime, batch: int) -> Outcome:
    """Wait for the other sweeper, then sweep everything due at `as_of`."""
    worker.wait_for_the_others()
    try:
        report = sweep(worker.db, as_of=as_of, batch=batch)
    except Exception as error:
        return Outcome(type(error).__name__, str(error))
    return Outcome("ok", asdict(report))


def claim_then_hang(worker: Worker, *, now: datetime, lease: timedelta) -> Outcome:
    """Claim every pending outbox row, carry out those before the first announcement,
    then stop in the middle of that announcement's transaction (its messages written,
    not committed) and tell the test, which kills this process."""
    with session_scope(worker.db) as session:
        items = outbox.claim(session, now=now, limit=10_000, lease=lease)
    finished: list[str] = []
    for item in items:
        if item.flow != "announce":
            with session_scope(worker.db) as session:
                dispatch.HANDLERS[item.flow](session, item, now, PlanReads())
                outbox.complete(session, item.id, now=now)
            finished.append(item.key)
            continue
        with session_scope(worker.db) as session:
            dispatch.HANDLERS[item.flow](session, item, now, PlanReads())
            session.flush()
            worker.tell(
                Outcome(
                    "stuck",
                    {"claimed": [i.key for i in items], "finished": finished, "stuck": item.key},
                )
            )
            time.sleep(600)  # killed long before this ends
    return Outcome("no announcement to stop in", [i.key for i in items])

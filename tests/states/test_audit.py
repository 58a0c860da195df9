"""The audit trail an auditor relies on: the database refuses to change it, and
`verify` finds any change made behind the database's back, naming where."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.exc import DatabaseError

from models.clock import FrozenClock
from models.db import session_scope
from models.plans import GENESIS_HASH
from models.tables import AUDIT, PLAN
from states import audit
from states.audit import Break, VerifyReport, chain_hash
from states.engine import firing as plan_engine
from states.engine import signing
from states.plans import activities as records
from states.plans.document import PlanDocument
from states.plans.opening import create_plan
from tests.conftest import unprotect_audit

PERIOD_STARTED = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
END_OF_PERIOD = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)


def fire(db: Engine, plan_id: int, event: str, actor: str, now: datetime, **kw: Any) -> Any:
    with session_scope(db) as session:
        return plan_engine.fire(
            session=session, plan_id=plan_id, event=event, actor=actor, now=now, **kw
        )


def started(db: Engine, plan_id: int, now: datetime) -> None:
    """Signed by Zhang, Li and Wang, then started by Li: 6 audit records."""
    for person in ("zhang", "li", "wang"):
        with session_scope(db) as session:
            signing.sign(session=session, plan_id=plan_id, actor=person, now=now)
    fire(db, plan_id, "start", "li", PERIOD_STARTED, comment="kick-off with Zhang")


def new_plan(db: Engine, doc: PlanDocument, now: datetime) -> int:
    with session_scope(db) as session:
        return create_plan(session=session, document=doc, actor="wang", now=now)


def verify(db: Engine, plan_id: int | None = None) -> VerifyReport:
    with session_scope(db) as session:
        return audit.verify(session, plan_id)


def chain(db: Engine, plan_id: int) -> list[Any]:
    with db.connect() as conn:
        query = select(AUDIT).where(AUDIT.c.plan_id == plan_id).order_by(AUDIT.c.seq)
        return list(conn.execute(query))


def record_at(db: Engine, plan_id: int, seq: int) -> Any:
    return next(r for r in chain(db, plan_id) if r.seq == seq)


def tamper(db: Engine, *statements: Any) -> None:
    """What someone with write access to the file could do: drop the triggers, edit."""
    unprotect_audit(db)
    with db.begin() as conn:
        for statement in statements:
            conn.execute(statement)


def only_break(report: VerifyReport) -> Break:
    assert len(report.breaks) == 1, report.breaks
    return report.breaks[0]


@pytest.fixture
def running_plan(engine: Engine, zhang_plan: int, clock: FrozenClock) -> int:
    started(engine, zhang_plan, clock())
    return zhang_plan


# --- an untouched trail -------------------------------------------------------------------------


def test_verify_passes_on_a_real_life(engine: Engine, zhang_plan: int, clock: FrozenClock) -> None:
    started(engine, zhang_plan, clock())
    week = datetime(2026, 9, 4, 17, 0, tzinfo=UTC)
    with session_scope(engine) as session:
        records.report_progress(
            session=session,
            plan_id=zhang_plan,
            actor="zhang",
            now=week,
            summary="2 reports done this week, 1 approved",
            blockers="the rest waits on data from the technical department",
        )
        records.record_coaching(
            session=session, plan_id=zhang_plan, actor="li", now=week, notes="拆解客户需求"
        )
    with session_scope(engine) as session:
        records.adjust(
            session=session,
            plan_id=zhang_plan,
            actor="li",
            now=week,
            kind="milestone",
            key="training_attended",
            changes={"due": "2026-09-25"},
            reason="the training was postponed",
        )
    for person in ("zhang", "li"):
        with session_scope(engine) as session:
            signing.sign(session=session, plan_id=zhang_plan, actor=person, now=week)
    for goal, value in {
        "contracts": 95,
        "training": 86,
        "reports": 100,
        "response_time": 22,
    }.items():
        with session_scope(engine) as session:
            records.measure(
                session=session,
                plan_id=zhang_plan,
                goal=goal,
                value=value,
                actor="wang",
                now=END_OF_PERIOD,
            )
    fire(engine, zhang_plan, "evaluate", "li", END_OF_PERIOD, inputs={"outcome": "successful"})

    rows = chain(engine, zhang_plan)
    report = verify(engine)

    assert (report.ok, report.plans, report.records) == (True, 1, len(rows))
    assert len(rows) >= 18
    assert {r.kind for r in rows} == {"transition", "signature", "record"}
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0].prev_hash == GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(rows))
    with engine.connect() as conn:
        tip = conn.execute(select(PLAN.c.audit_seq, PLAN.c.audit_head)).one()
    assert tuple(tip) == (rows[-1].seq, rows[-1].hash)
    with session_scope(engine) as session:
        history = audit.history(session, zhang_plan)
    assert [(h.seq, h.hash, h.comment) for h in history] == [
        (r.seq, r.hash, r.comment) for r in rows
    ]
    assert "拆解客户需求" in {h.comment for h in history}


def test_a_plan_with_only_its_creation_verifies(engine: Engine, zhang_plan: int) -> None:
    report = verify(engine, zhang_plan)
    assert (report.ok, report.plans, report.records) == (True, 1, 1)


# --- the database refuses changes ---------------------------------------------------------------


def test_database_refuses_to_update_an_audit_record(engine: Engine, running_plan: int) -> None:
    before = chain(engine, running_plan)

    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
        conn.execute(update(AUDIT).where(AUDIT.c.seq == 2).values(comment="backdated"))

    assert chain(engine, running_plan) == before


def test_database_refuses_to_delete_an_audit_record(engine: Engine, running_plan: int) -> None:
    before = chain(engine, running_plan)

    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
        conn.execute(delete(AUDIT).where(AUDIT.c.seq == len(before)))
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_record"))

    assert chain(engine, running_plan) == before


def test_database_refuses_changes_through_the_orm_too(engine: Engine, running_plan: int) -> None:
    with pytest.raises(DatabaseError, match="append-only"), session_scope(engine) as session:
        record = audit.history(session, running_plan)[1]
        record.actor = "li"
    assert record_at(engine, running_plan, 2).actor == "zhang"


# --- tampering behind the database's back -------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("comment", "kick-off postponed"),
        ("to_state", "evaluated"),
        ("actor", "sun"),
        ("role", "hr"),
        ("event", "evaluate"),
        ("at", datetime(2026, 8, 31, 9, 0)),
        ("definition_hash", "0" * 64),
    ],
)
def test_an_edited_record_is_caught_where_it_was_edited(
    engine: Engine, running_plan: int, column: str, value: Any
) -> None:
    target = record_at(engine, running_plan, 6)  # the start, with its comment
    assert getattr(target, column) != value

    tamper(engine, update(AUDIT).where(AUDIT.c.id == target.id).values({column: value}))

    broken = only_break(verify(engine))
    assert (broken.plan_id, broken.seq, broken.record_id) == (running_plan, 6, target.id)
    assert "altered" in broken.problem
    assert f"record #{target.id} (seq 6)" in str(broken)


def test_an_edited_middle_record_is_caught_before_later_ones(
    engine: Engine, running_plan: int
) -> None:
    second, fourth = record_at(engine, running_plan, 2), record_at(engine, running_plan, 4)

    tamper(
        engine,
        update(AUDIT).where(AUDIT.c.id == fourth.id).values(comment="signed under protest"),
        update(AUDIT).where(AUDIT.c.id == second.id).values(role="manager"),
    )

    broken = only_break(verify(engine))
    assert (broken.seq, broken.record_id) == (2, second.id)


def test_a_rehashed_record_still_breaks_the_link_to_the_next(
    engine: Engine, running_plan: int
) -> None:
    """Editing a record and recomputing its own hash cuts the chain after it."""
    third = record_at(engine, running_plan, 3)
    fields = {**third._asdict(), "comment": "approved by phone"}
    tamper(
        engine,
        update(AUDIT)
        .where(AUDIT.c.id == third.id)
        .values(comment=fields["comment"], hash=chain_hash(fields)),
    )

    broken = only_break(verify(engine))
    assert (broken.seq, broken.record_id) == (4, record_at(engine, running_plan, 4).id)
    assert "previous-hash" in broken.problem


def test_a_deleted_middle_record_is_caught(engine: Engine, running_plan: int) -> None:
    third, fourth = record_at(engine, running_plan, 3), record_at(engine, running_plan, 4)

    tamper(engine, delete(AUDIT).where(AUDIT.c.id == third.id))

    broken = only_break(verify(engine))
    assert (broken.plan_id, broken.seq, broken.record_id) == (running_plan, 4, fourth.id)
    assert "jumps from 2 to 4" in broken.problem and "missing" in broken.problem


def test_a_deleted_last_record_is_caught(engine: Engine, running_plan: int) -> None:
    last = chain(engine, running_plan)[-1]

    tamper(engine, delete(AUDIT).where(AUDIT.c.id == last.id))

    broken = only_break(verify(engine))
    assert (broken.plan_id, broken.seq, broken.record_id) == (running_plan, last.seq, None)
    assert "deleted" in broken.problem and f"records {last.seq} audit records" in broken.problem


def test_a_plan_whose_records_are_all_deleted_is_caught(engine: Engine, running_plan: int) -> None:
    tamper(engine, delete(AUDIT).where(AUDIT.c.plan_id == running_plan))

    broken = only_break(verify(engine))
    assert (broken.plan_id, broken.seq, broken.record_id) == (running_plan, 1, None)
    assert "no records remain" in broken.problem


def test_reordered_records_are_caught(engine: Engine, running_plan: int) -> None:
    second, third = record_at(engine, running_plan, 2), record_at(engine, running_plan, 3)

    tamper(  # swap their places in the sequence (through a free seq: it is unique)
        engine,
        update(AUDIT).where(AUDIT.c.id == second.id).values(seq=-1),
        update(AUDIT).where(AUDIT.c.id == third.id).values(seq=2),
        update(AUDIT).where(AUDIT.c.id == second.id).values(seq=3),
    )

    broken = only_break(verify(engine))
    assert (broken.plan_id, broken.seq, broken.record_id) == (running_plan, 2, third.id)
    assert "reordered" in broken.problem


def test_an_altered_plan_tip_is_caught(engine: Engine, running_plan: int) -> None:
    """The plan row keeps the chain's tip; a tip that the last record does not match
    is reported, without a record id (no record is at fault)."""
    tamper(engine, update(PLAN).where(PLAN.c.id == running_plan).values(audit_head="f" * 64))

    broken = only_break(verify(engine))
    assert (broken.plan_id, broken.record_id) == (running_plan, None)
    assert "tip" in broken.problem


# --- several plans ------------------------------------------------------------------------------


def test_chains_of_several_plans_verify_independently(
    engine: Engine, zhang_plan: int, zhang_doc: PlanDocument, clock: FrozenClock
) -> None:
    second, third = new_plan(engine, zhang_doc, clock()), new_plan(engine, zhang_doc, clock())
    for plan_id in (zhang_plan, second, third):
        started(engine, plan_id, clock())
    fire(engine, third, "adjust", "zhang", PERIOD_STARTED)
    counts = {p: len(chain(engine, p)) for p in (zhang_plan, second, third)}
    assert counts == {zhang_plan: 6, second: 6, third: 7}
    # Each plan's chain starts at seq 1 from the genesis hash: none continues another.
    firsts = [chain(engine, p)[0] for p in counts]
    assert {(f.seq, f.prev_hash) for f in firsts} == {(1, GENESIS_HASH)}
    report = verify(engine)
    assert (report.ok, report.plans, report.records) == (True, 3, 19)

    victim = record_at(engine, second, 5)
    tamper(engine, update(AUDIT).where(AUDIT.c.id == victim.id).values(to_state="in_progress"))

    everything = verify(engine)
    assert (everything.plans, everything.records) == (3, 19)
    assert [(b.plan_id, b.seq, b.record_id) for b in everything.breaks] == [(second, 5, victim.id)]
    assert verify(engine, zhang_plan).ok and verify(engine, third).ok
    alone = verify(engine, second)
    assert (alone.plans, alone.records, len(alone.breaks)) == (1, 6, 1)


def test_a_record_moved_to_another_plan_breaks_both(
    engine: Engine, zhang_plan: int, zhang_doc: PlanDocument, clock: FrozenClock
) -> None:
    other = new_plan(engine, zhang_doc, clock())
    started(engine, zhang_plan, clock())
    started(engine, other, clock())
    moved = record_at(engine, zhang_plan, 6)

    tamper(engine, update(AUDIT).where(AUDIT.c.id == moved.id).values(plan_id=other, seq=7))

    report = verify(engine)
    assert sorted((b.plan_id, b.seq) for b in report.breaks) == [(zhang_plan, 6), (other, 7)]
    by_plan = {b.plan_id: b for b in report.breaks}
    assert by_plan[zhang_plan].record_id is None  # its tip says 6, the chain ends at 5
    assert by_plan[other].record_id == moved.id


# --- the hash itself ----------------------------------------------------------------------------

FIELDS: dict[str, Any] = {
    "plan_id": 1,
    "seq": 2,
    "kind": "signature",
    "event": "sign:agree",
    "from_state": "drafted",
    "to_state": "drafted",
    "actor": "zhang",
    "role": "employee",
    "at": datetime(2026, 8, 25, 9, 0, tzinfo=UTC),
    "comment": "同意",
    "definition_hash": "d" * 64,
    "content_digest": "c" * 64,
    "prev_hash": "p" * 64,
}


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_chain_hash_covers_every_field(name: str) -> None:
    value = FIELDS[name]
    if isinstance(value, datetime):
        changed: Any = value.replace(microsecond=1)
    elif isinstance(value, int):
        changed = value + 1
    else:
        changed = value + "x"
    assert chain_hash({**FIELDS, name: changed}) != chain_hash(FIELDS)


def test_chain_hash_is_a_sha256_of_a_fixed_field_order() -> None:
    assert chain_hash(FIELDS) == chain_hash(dict(reversed(FIELDS.items())))
    assert len(chain_hash(FIELDS)) == 64 and int(chain_hash(FIELDS), 16) >= 0


def test_records_written_at_a_beijing_time_instant_still_verify(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    """A caller passing an aware non-UTC `now` (17:00 in Beijing is 09:00 UTC)."""
    beijing = timezone(timedelta(hours=8))
    for person in ("zhang", "li", "wang"):
        with session_scope(engine) as session:
            signing.sign(
                session=session,
                plan_id=zhang_plan,
                actor=person,
                now=clock().astimezone(beijing),
            )
    fire(engine, zhang_plan, "start", "li", PERIOD_STARTED.astimezone(beijing))

    assert record_at(engine, zhang_plan, 6).at == PERIOD_STARTED
    assert verify(engine).ok

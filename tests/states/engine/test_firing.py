"""Firing an event: its guards, inputs and refusals, one transaction for the move, its audit record
and its outbox rows, and a refused or failed attempt that leaves the plan exactly as it was."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from models.clock import FrozenClock
from models.db import session_scope
from models.tables import GOAL, GOAL_RESULT
from states.engine import firing as plan_engine
from states.engine.registry import ACTIONS
from states.errors import (
    Conflict,
    Forbidden,
    GuardFailed,
    InvalidInput,
    NotAllowedNow,
    PersonNotFound,
    PlanNotFound,
    StatesError,
)
from states.plans import activities as records
from tests.states.engine.support import (
    END_OF_PERIOD,
    MEASURED,
    PERIOD_STARTED,
    adjust_milestone,
    agree,
    audit_rows,
    fire,
    flows_at,
    footprint,
    measure_all,
    outbox,
    running,
    sign,
    verified,
)


def test_start_refused_before_period_with_guard_name(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    agree(engine, zhang_plan, clock())
    before = footprint(engine, zhang_plan)

    with pytest.raises(GuardFailed) as refused:
        fire(engine, zhang_plan, "start", "li", clock())

    error = refused.value
    assert (error.guard, error.event, error.state, error.plan_id) == (
        "period_started",
        "start",
        "agreed",
        zhang_plan,
    )
    assert "2026-09-01" in error.reason
    assert footprint(engine, zhang_plan) == before

    started = fire(engine, zhang_plan, "start", "li", PERIOD_STARTED)
    assert (started.from_state, started.to_state) == ("agreed", "in_progress")
    assert {"announce", "schedule_followups"} <= set(started.flows)
    assert flows_at(engine, zhang_plan, started.seq) == started.flows


def test_unknown_event_is_invalid_input(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    before = footprint(engine, zhang_plan)

    with pytest.raises(InvalidInput) as unknown:
        fire(engine, zhang_plan, "promote", "li", clock())
    # A known event in the wrong state is something else: not allowed now.
    with pytest.raises(NotAllowedNow) as misplaced:
        fire(engine, zhang_plan, "evaluate", "li", clock(), inputs={"outcome": "successful"})

    assert unknown.value.field == "event" and "promote" in str(unknown.value)
    assert not isinstance(unknown.value, NotAllowedNow)
    assert (misplaced.value.event, misplaced.value.state) == ("evaluate", "drafted")
    assert footprint(engine, zhang_plan) == before


def test_unknown_person_and_unknown_plan_are_not_found(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    agree(engine, zhang_plan, clock())
    with pytest.raises(PersonNotFound) as nobody:
        fire(engine, zhang_plan, "start", "nobody", PERIOD_STARTED)
    with pytest.raises(PlanNotFound) as no_plan:
        fire(engine, zhang_plan + 1, "start", "li", PERIOD_STARTED)
    assert nobody.value.key == "nobody" and no_plan.value.plan_id == zhang_plan + 1


def test_evaluate_needs_every_goal_measured_and_an_outcome(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    running(engine, zhang_plan, clock())
    with session_scope(engine) as session:
        records.measure(
            session=session,
            plan_id=zhang_plan,
            goal="contracts",
            value=95,
            actor="li",
            now=END_OF_PERIOD,
        )
    outcome = {"outcome": "successful"}

    with pytest.raises(GuardFailed) as unmeasured:
        fire(engine, zhang_plan, "evaluate", "wang", END_OF_PERIOD, inputs=outcome)
    assert unmeasured.value.guard == "all_goals_measured"
    assert "reports, response_time, training" in unmeasured.value.reason
    assert "contracts" not in unmeasured.value.reason

    measure_all(engine, zhang_plan, END_OF_PERIOD)
    with pytest.raises(InvalidInput) as missing:
        fire(engine, zhang_plan, "evaluate", "wang", END_OF_PERIOD)
    with pytest.raises(InvalidInput) as wrong:
        fire(engine, zhang_plan, "evaluate", "wang", END_OF_PERIOD, inputs={"outcome": "great"})
    with pytest.raises(InvalidInput) as extra:
        fire(engine, zhang_plan, "evaluate", "wang", END_OF_PERIOD, inputs={**outcome, "x": "1"})
    assert (missing.value.field, wrong.value.field, extra.value.field) == (
        "outcome",
        "outcome",
        "inputs",
    )

    done = fire(engine, zhang_plan, "evaluate", "wang", END_OF_PERIOD, inputs=outcome)
    assert done.to_state == "evaluated"
    with engine.connect() as conn:
        query = select(
            GOAL.c.key, GOAL.c.target, GOAL.c.direction, GOAL_RESULT.c.actual, GOAL_RESULT.c.met
        ).join(GOAL, GOAL.c.id == GOAL_RESULT.c.goal_id)
        results = list(conn.execute(query))
    assert {r.key: r.actual for r in results} == MEASURED
    for r in results:  # "lower" goals (response time) are met at or below their target
        assert r.met == (r.actual <= r.target if r.direction == "lower" else r.actual >= r.target)
    assert {r.key: r.met for r in results}["response_time"] is True


def test_stale_expected_version_conflicts_and_changes_nothing(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    read = footprint(engine, zhang_plan).version
    sign(engine, zhang_plan, "zhang", clock(), expected_version=read)
    before = footprint(engine, zhang_plan)
    assert before.version == read + 1

    with pytest.raises(Conflict) as stale:
        sign(engine, zhang_plan, "li", clock(), expected_version=read)

    assert (stale.value.plan_id, stale.value.expected, stale.value.actual) == (
        zhang_plan,
        read,
        read + 1,
    )
    assert footprint(engine, zhang_plan) == before
    fresh = sign(engine, zhang_plan, "li", clock(), expected_version=before.version)
    assert fresh.role == "manager"


def test_stale_expected_version_on_fire_conflicts(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    agree(engine, zhang_plan, clock())
    before = footprint(engine, zhang_plan)
    with pytest.raises(Conflict):
        fire(engine, zhang_plan, "start", "li", PERIOD_STARTED, expected_version=before.version - 1)
    assert footprint(engine, zhang_plan) == before
    started = fire(
        engine, zhang_plan, "start", "li", PERIOD_STARTED, expected_version=before.version
    )
    assert started.version == before.version + 1


def test_a_concurrent_change_between_read_and_write_is_a_conflict(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    """Another writer commits after this session read the plan: the version-checked
    update matches nothing, and the error says so instead of overwriting."""
    agree(engine, zhang_plan, clock())
    before = footprint(engine, zhang_plan)
    real_load = plan_engine.load_plan_and_actor
    interrupted: list[int] = []

    def load_then_someone_else_starts(session: Any, plan_id: int, *args: Any) -> Any:
        read = real_load(session, plan_id, *args)
        if not interrupted:
            interrupted.append(plan_id)
            fire(engine, plan_id, "start", "wang", PERIOD_STARTED)
        return read

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plan_engine, "load_plan_and_actor", load_then_someone_else_starts)
        with pytest.raises(Conflict) as lost:
            fire(engine, zhang_plan, "start", "li", PERIOD_STARTED)

    assert (lost.value.expected, lost.value.actual) == (before.version, before.version + 1)
    after = footprint(engine, zhang_plan)
    assert (after.state, after.version) == ("in_progress", before.version + 1)
    starts = [r for r in audit_rows(engine, zhang_plan) if r.event == "start"]
    assert [r.actor for r in starts] == ["wang"]


def test_fire_writes_audit_and_outbox_in_one_transaction(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    running(engine, zhang_plan, clock())
    measure_all(engine, zhang_plan, END_OF_PERIOD)
    before = footprint(engine, zhang_plan)
    real_action = ACTIONS["record_evaluation"]

    def records_then_fails(ctx: Any) -> None:
        real_action(ctx)  # writes the evaluation and goal results...
        raise RuntimeError("the report store is down")  # ...then fails

    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(ACTIONS, "record_evaluation", records_then_fails)
        with pytest.raises(RuntimeError):
            fire(
                engine,
                zhang_plan,
                "evaluate",
                "wang",
                END_OF_PERIOD,
                inputs={"outcome": "successful"},
            )

    assert footprint(engine, zhang_plan) == before
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(GOAL_RESULT)).scalar_one() == 0

    done = fire(
        engine, zhang_plan, "evaluate", "wang", END_OF_PERIOD, inputs={"outcome": "successful"}
    )
    after = footprint(engine, zhang_plan)
    assert (after.state, after.version, after.audit_rows, after.evaluations) == (
        "evaluated",
        before.version + 1,
        before.audit_rows + 1,
        1,
    )
    new_rows = outbox(engine, zhang_plan)[before.outbox_rows :]
    assert {"announce", "evaluation_report"} <= set(done.flows)
    assert [r.key for r in new_rows] == [
        f"plan:{zhang_plan}:seq:{done.seq}:{f}" for f in done.flows
    ]
    assert all(r.payload["to"] == "evaluated" and r.status == "pending" for r in new_rows)
    assert all(r.payload["plan_id"] == zhang_plan for r in new_rows)


def test_a_caller_that_fails_after_fire_keeps_nothing(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    agree(engine, zhang_plan, clock())
    before = footprint(engine, zhang_plan)

    with pytest.raises(RuntimeError), session_scope(engine) as session:
        fired = plan_engine.fire(
            session=session, plan_id=zhang_plan, event="start", actor="li", now=PERIOD_STARTED
        )
        assert fired.to_state == "in_progress"
        raise RuntimeError("the caller fails before its scope commits")

    assert footprint(engine, zhang_plan) == before


@pytest.mark.parametrize(
    ("event", "actor", "when", "inputs", "error"),
    [
        ("start", "chen", PERIOD_STARTED, None, Forbidden),
        ("start", "zhang", PERIOD_STARTED, None, Forbidden),
        ("start", "li", datetime(2026, 8, 31, 23, 59, tzinfo=UTC), None, GuardFailed),
        ("adjust", "li", PERIOD_STARTED, None, NotAllowedNow),
        ("agree", "wang", PERIOD_STARTED, None, NotAllowedNow),
        ("promote", "li", PERIOD_STARTED, None, InvalidInput),
        ("start", "li", PERIOD_STARTED, {"outcome": "x"}, InvalidInput),
        ("start", "ghost", PERIOD_STARTED, None, PersonNotFound),
    ],
)
def test_refused_event_changes_nothing(
    engine: Engine,
    zhang_plan: int,
    clock: FrozenClock,
    event: str,
    actor: str,
    when: datetime,
    inputs: dict[str, str] | None,
    error: type[StatesError],
) -> None:
    agree(engine, zhang_plan, clock())
    before = footprint(engine, zhang_plan)

    with pytest.raises(error):
        fire(engine, zhang_plan, event, actor, when, inputs=inputs)

    assert footprint(engine, zhang_plan) == before
    assert verified(engine).ok


def test_zhangs_whole_plan_life_leaves_a_verified_trail(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    agree(engine, zhang_plan, clock())
    fire(engine, zhang_plan, "start", "li", PERIOD_STARTED)
    fire(engine, zhang_plan, "adjust", "li", PERIOD_STARTED, comment="training postponed")
    adjust_milestone(engine, zhang_plan, "zhang", "training_attended", "2026-09-25")
    sign(engine, zhang_plan, "li", PERIOD_STARTED)
    sign(engine, zhang_plan, "zhang", PERIOD_STARTED)
    measure_all(engine, zhang_plan, END_OF_PERIOD)
    fire(engine, zhang_plan, "evaluate", "li", END_OF_PERIOD, inputs={"outcome": "successful"})

    rows = audit_rows(engine, zhang_plan)
    transitions = [(r.event, r.to_state) for r in rows if r.kind == "transition"]
    assert transitions == [
        ("create", "drafted"),
        ("agree", "agreed"),
        ("start", "in_progress"),
        ("adjust", "adjusted"),
        ("reconfirm", "in_progress"),
        ("evaluate", "evaluated"),
    ]
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert (rows[6].event, rows[6].comment) == ("adjust", "training postponed")
    # Every change of state announced itself in the same transaction, keyed to its record.
    for row in rows:
        if row.kind == "transition" and row.event != "create":
            assert "announce" in flows_at(engine, zhang_plan, row.seq), row.event
    seqs = {r.seq for r in rows}
    assert all(int(r.key.split(":")[3]) in seqs for r in outbox(engine, zhang_plan))
    after = footprint(engine, zhang_plan)
    assert after.state == "evaluated" and after.version == len(rows) + 1
    report = verified(engine)
    assert (report.plans, report.records, report.breaks) == (1, len(rows), [])
    with pytest.raises(NotAllowedNow):
        fire(engine, zhang_plan, "adjust", "li", END_OF_PERIOD)  # evaluated is final

"""The engine's rules as people meet them: who may sign or fire what, when, and
that a refused or failed attempt leaves the plan exactly as it was."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from models.clock import FrozenClock
from models.db import session_scope
from models.tables import (
    ADJUSTMENT,
    AUDIT,
    EVALUATION,
    GOAL,
    GOAL_RESULT,
    OUTBOX,
    PLAN,
    SIGNATURE,
)
from states import audit
from states.definitions import catalog
from states.definitions.catalog import BUILTIN_DIR
from states.engine import firing as plan_engine
from states.engine.registry import ACTIONS
from states.errors import (
    Conflict,
    DefinitionInvalid,
    Forbidden,
    GuardFailed,
    InvalidDocument,
    InvalidInput,
    NotAllowedNow,
    PersonNotFound,
    PlanNotFound,
    StatesError,
)
from states.plans import activities as records
from states.plans.document import PlanDocument
from states.plans.opening import create_plan

PERIOD_STARTED = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
END_OF_PERIOD = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
# Zhang's goals and a value measured for each at the end of the period.
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


def sign(db: Engine, plan_id: int, actor: str, now: datetime, **kw: Any) -> plan_engine.Signed:
    with session_scope(db) as session:
        return plan_engine.sign(session=session, plan_id=plan_id, actor=actor, now=now, **kw)


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


# --- the approval chain -------------------------------------------------------------------------


def test_employee_then_manager_and_hr_sign_and_the_last_signature_agrees(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    first = sign(engine, zhang_plan, "zhang", clock())
    assert (first.role, first.step, first.waiting_for, first.fired) == (
        "employee",
        0,
        ("manager", "hr"),
        None,
    )
    second = sign(engine, zhang_plan, "li", clock())
    assert (second.role, second.step, second.waiting_for, second.fired) == (
        "manager",
        1,
        ("hr",),
        None,
    )
    assert footprint(engine, zhang_plan).state == "drafted"

    last = sign(engine, zhang_plan, "wang", clock())

    assert last.fired is not None
    assert (last.fired.from_state, last.fired.to_state) == ("drafted", "agreed")
    after = footprint(engine, zhang_plan)
    # create + 3 signatures + the transition, each bumping the version once.
    assert (after.state, after.version, after.epoch, after.audit_seq) == ("agreed", 6, 1, 5)
    assert last.fired.version == after.version and last.fired.seq == after.audit_seq
    kinds = [(r.kind, r.event, r.actor, r.role) for r in audit_rows(engine, zhang_plan)]
    assert kinds == [
        ("transition", "create", "wang", "hr"),
        ("signature", "sign:agree", "zhang", "employee"),
        ("signature", "sign:agree", "li", "manager"),
        ("signature", "sign:agree", "wang", "hr"),
        ("transition", "agree", "wang", "hr"),
    ]
    assert "announce" in last.fired.flows
    assert flows_at(engine, zhang_plan, last.fired.seq) == last.fired.flows
    assert verified(engine).ok


def test_manager_cannot_sign_before_employee(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    before = footprint(engine, zhang_plan)

    # Li may sign, at step 2: too early is "not allowed now", not "forbidden".
    with pytest.raises(NotAllowedNow) as refused:
        sign(engine, zhang_plan, "li", clock())

    assert (refused.value.plan_id, refused.value.event, refused.value.state) == (
        zhang_plan,
        "sign",
        "drafted",
    )
    assert "signs step 2" in str(refused.value)
    assert "waits for employee first" in str(refused.value)
    assert footprint(engine, zhang_plan) == before


def test_hr_cannot_sign_before_employee_either(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    with pytest.raises(NotAllowedNow, match="as hr"):
        sign(engine, zhang_plan, "wang", clock())
    assert sign(engine, zhang_plan, "zhang", clock()).waiting_for == ("manager", "hr")


def test_a_participant_with_no_step_in_the_chain_is_forbidden_at_any_step(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    # Chen mentors Zhang: a role on the plan, but none in the sign-off chain.
    with pytest.raises(Forbidden, match="chen's roles: mentor") as refused:
        sign(engine, zhang_plan, "chen", clock())
    assert (refused.value.actor, refused.value.event) == ("chen", "sign")
    sign(engine, zhang_plan, "zhang", clock())
    before = footprint(engine, zhang_plan)
    with pytest.raises(Forbidden):
        sign(engine, zhang_plan, "chen", clock())
    assert footprint(engine, zhang_plan) == before


def test_employee_cannot_approve_own_plan(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    sign(engine, zhang_plan, "zhang", clock())
    before = footprint(engine, zhang_plan)

    # Signing a second time (now for the manager's and HR's step) is refused...
    with pytest.raises(NotAllowedNow, match="already signed"):
        sign(engine, zhang_plan, "zhang", clock())
    # ...and so is starting the plan, which belongs to manager or HR.
    sign(engine, zhang_plan, "li", clock())
    sign(engine, zhang_plan, "wang", clock())
    agreed = footprint(engine, zhang_plan)
    with pytest.raises(Forbidden, match="own plan") as refused:
        fire(engine, zhang_plan, "start", "zhang", PERIOD_STARTED)

    assert refused.value.actor == "zhang" and refused.value.event == "start"
    assert footprint(engine, zhang_plan) == agreed
    assert before.signatures == 1


def test_a_plan_whose_employee_is_also_its_manager_is_refused(
    engine: Engine, zhang_doc: PlanDocument, clock: FrozenClock
) -> None:
    doc = zhang_doc.model_copy(update={"roles": {**zhang_doc.roles, "manager": "zhang"}})

    with pytest.raises(InvalidDocument) as refused, session_scope(engine) as session:
        create_plan(session=session, document=doc, actor="wang", now=clock())

    assert any("roles.manager" in p and "own plan" in p for p in refused.value.problems)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(PLAN)).scalar_one() == 0


def test_department_head_may_sign_for_manager(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    # Sun heads Sales East, Zhang's department, and holds no role on the plan.
    with pytest.raises(NotAllowedNow, match="as manager"):
        sign(engine, zhang_plan, "sun", clock())  # the employee's step is Zhang's alone
    sign(engine, zhang_plan, "zhang", clock())

    by_sun = sign(engine, zhang_plan, "sun", clock())

    assert (by_sun.role, by_sun.step, by_sun.waiting_for) == ("manager", 1, ("hr",))
    with pytest.raises(Forbidden):
        sign(engine, zhang_plan, "li", clock())  # the manager's place is taken
    last = sign(engine, zhang_plan, "wang", clock())
    assert last.fired is not None and last.fired.to_state == "agreed"
    assert [(r.actor, r.role) for r in audit_rows(engine, zhang_plan)][2] == ("sun", "manager")


def test_department_head_of_another_department_may_not_sign_for_manager(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    sign(engine, zhang_plan, "zhang", clock())
    # Zhao works in Technical Support and is only a collaborator on the plan.
    with pytest.raises(Forbidden, match="collaborator"):
        sign(engine, zhang_plan, "zhao", clock())
    with pytest.raises(Forbidden, match="mentor"):
        sign(engine, zhang_plan, "chen", clock())


def test_department_head_may_not_start_a_plan(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    agree(engine, zhang_plan, clock())
    with pytest.raises(Forbidden):
        fire(engine, zhang_plan, "start", "sun", PERIOD_STARTED)
    assert footprint(engine, zhang_plan).state == "agreed"


def test_firing_an_approval_event_says_to_sign_instead(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    sign(engine, zhang_plan, "zhang", clock())
    with pytest.raises(NotAllowedNow, match="plan sign") as refused:
        fire(engine, zhang_plan, "agree", "wang", clock())
    assert refused.value.event == "agree" and refused.value.state == "drafted"
    assert "manager" in str(refused.value) and "hr" in str(refused.value)


def test_signing_when_nothing_waits_for_signatures_is_not_allowed_now(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    agree(engine, zhang_plan, clock())
    with pytest.raises(NotAllowedNow) as refused:
        sign(engine, zhang_plan, "li", clock())
    assert refused.value.state == "agreed"
    with pytest.raises(NotAllowedNow, match="needs no signatures"):
        sign(engine, zhang_plan, "li", clock(), event="start")


# --- guards, roles and inputs -------------------------------------------------------------------


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


def test_forbidden_is_not_not_allowed_now(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    assert not issubclass(Forbidden, NotAllowedNow)
    assert not issubclass(NotAllowedNow, Forbidden)
    agree(engine, zhang_plan, clock())

    # Before the period: the mentor lacks the right at all (Forbidden, checked before
    # guards), the manager has it but not yet (GuardFailed, a NotAllowedNow).
    with pytest.raises(Forbidden) as mentor:
        fire(engine, zhang_plan, "start", "chen", clock())
    with pytest.raises(NotAllowedNow) as manager:
        fire(engine, zhang_plan, "start", "li", clock())

    assert not isinstance(mentor.value, NotAllowedNow)
    assert isinstance(manager.value, GuardFailed) and not isinstance(manager.value, Forbidden)
    with pytest.raises(Forbidden):  # and still forbidden once the guard would pass
        fire(engine, zhang_plan, "start", "chen", PERIOD_STARTED)


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


def test_reconfirm_needs_a_proposed_adjustment_and_confirms_it(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    running(engine, zhang_plan, clock())
    adjusted = fire(engine, zhang_plan, "adjust", "zhang", PERIOD_STARTED)
    assert adjusted.to_state == "adjusted"

    with pytest.raises(GuardFailed) as nothing_proposed:
        sign(engine, zhang_plan, "zhang", PERIOD_STARTED)
    assert nothing_proposed.value.guard == "adjustments_proposed"
    assert nothing_proposed.value.event == "reconfirm"

    adjust_milestone(engine, zhang_plan, "li", "training_attended", "2026-09-25")
    first = sign(engine, zhang_plan, "zhang", PERIOD_STARTED)
    assert first.waiting_for == ("manager",) and first.fired is None
    with pytest.raises(Forbidden):  # no deputy for the manager in this chain
        sign(engine, zhang_plan, "sun", PERIOD_STARTED)
    last = sign(engine, zhang_plan, "li", PERIOD_STARTED)

    assert last.fired is not None and last.fired.to_state == "in_progress"
    with engine.connect() as conn:
        adjustments = list(conn.execute(select(ADJUSTMENT)))
    assert [(a.target_key, a.status, a.after) for a in adjustments] == [
        ("training_attended", "confirmed", {"due": "2026-09-25"})
    ]


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


def test_signature_voided_when_content_changes(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    running(engine, zhang_plan, clock())
    adjust_milestone(engine, zhang_plan, "li", "training_attended", "2026-09-25")
    assert footprint(engine, zhang_plan).state == "adjusted"
    assert sign(engine, zhang_plan, "zhang", PERIOD_STARTED).waiting_for == ("manager",)

    adjust_milestone(engine, zhang_plan, "li", "training_passed", "2026-10-09")

    # Zhang signed what the plan said before the second change: his signature no
    # longer counts, so Li's signature does not complete the chain.
    by_li = sign(engine, zhang_plan, "li", PERIOD_STARTED)
    assert by_li.fired is None and by_li.waiting_for == ("employee",)
    assert footprint(engine, zhang_plan).state == "adjusted"
    again = sign(engine, zhang_plan, "zhang", PERIOD_STARTED)
    assert again.fired is not None and again.fired.to_state == "in_progress"


def test_signature_of_the_agreement_voided_when_the_draft_changes(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    """The same rule during drafting, with the digest changed as an edit would change it."""
    sign(engine, zhang_plan, "zhang", clock())
    with engine.begin() as conn:
        conn.execute(PLAN.update().where(PLAN.c.id == zhang_plan).values(content_digest="edited"))

    with pytest.raises(NotAllowedNow):  # the employee's step is open again
        sign(engine, zhang_plan, "li", clock())
    assert sign(engine, zhang_plan, "zhang", clock()).waiting_for == ("manager", "hr")


# --- versions and transactions ------------------------------------------------------------------


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
    real_load = plan_engine.load_plan
    interrupted: list[int] = []

    def load_then_someone_else_starts(session: Any, plan_id: int, expected: Any = None) -> Any:
        plan = real_load(session, plan_id, expected)
        if not interrupted:
            interrupted.append(plan_id)
            fire(engine, plan_id, "start", "wang", PERIOD_STARTED)
        return plan

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plan_engine, "load_plan", load_then_someone_else_starts)
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


# --- definition versions ------------------------------------------------------------------------

STANDARD = (BUILTIN_DIR / "standard.yaml").read_text(encoding="utf-8")
START_ROLES = "    roles: [manager, hr]\n    guards: [period_started]"


def edited_standard(directory: Path, *, version: int) -> Path:
    """The standard definition where only HR may start a plan."""
    assert START_ROLES in STANDARD and "\nversion: 1\n" in STANDARD
    text = STANDARD.replace(START_ROLES, "    roles: [hr]\n    guards: [period_started]")
    text = text.replace("\nversion: 1\n", f"\nversion: {version}\n")
    directory.mkdir(exist_ok=True)
    (directory / "standard.yaml").write_text(text, encoding="utf-8")
    return directory


def plan_definition(db: Engine, plan_id: int) -> tuple[str, int]:
    with db.connect() as conn:
        query = select(PLAN.c.definition_name, PLAN.c.definition_version)
        row = conn.execute(query.where(PLAN.c.id == plan_id)).one()
    return row.definition_name, row.definition_version


def new_plan(db: Engine, doc: PlanDocument, now: datetime, **kw: Any) -> int:
    with session_scope(db) as session:
        return create_plan(session=session, document=doc, actor="wang", now=now, **kw)


def test_running_plan_keeps_its_definition_version(
    engine: Engine,
    zhang_plan: int,
    zhang_doc: PlanDocument,
    clock: FrozenClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin_dir = edited_standard(tmp_path / "definitions", version=2)
    monkeypatch.setenv("PERFPLAN_DEFINITIONS_DIR", str(admin_dir))
    newer = new_plan(engine, zhang_doc, clock())
    assert plan_definition(engine, zhang_plan) == ("standard", 1)
    assert plan_definition(engine, newer) == ("standard", 2)
    # Forget the compiled definitions: the old plan's rules must come from the
    # source stored in the database, not from the file that changed.
    monkeypatch.setattr(catalog, "_BY_HASH", {})
    for plan_id in (zhang_plan, newer):
        agree(engine, plan_id, clock())

    started = fire(engine, zhang_plan, "start", "li", PERIOD_STARTED)  # v1: manager may start
    with pytest.raises(Forbidden, match="hr"):
        fire(engine, newer, "start", "li", PERIOD_STARTED)  # v2: only HR may
    by_hr = fire(engine, newer, "start", "wang", PERIOD_STARTED)

    assert started.to_state == by_hr.to_state == "in_progress"
    hashes = {r.definition_hash for r in audit_rows(engine, zhang_plan)}
    assert hashes.isdisjoint({r.definition_hash for r in audit_rows(engine, newer)})


def test_reusing_a_version_with_different_content_is_refused(
    engine: Engine,
    zhang_plan: int,
    zhang_doc: PlanDocument,
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    admin_dir = edited_standard(tmp_path / "definitions", version=1)

    with pytest.raises(DefinitionInvalid) as reused:
        new_plan(engine, zhang_doc, clock(), definitions_dir=admin_dir)

    assert [p.code for p in reused.value.problems] == ["VERSION_REUSED"]
    assert reused.value.problems[0].path == "version"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(PLAN)).scalar_one() == 1
    # The same content under the same version is simply the same definition.
    same = new_plan(engine, zhang_doc, clock(), definitions_dir=BUILTIN_DIR)
    assert plan_definition(engine, same) == ("standard", 1)


# --- a whole life -------------------------------------------------------------------------------


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

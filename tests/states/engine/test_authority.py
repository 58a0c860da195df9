"""Who may act on a plan: the roles people hold or derive, the step of a chain that is
theirs, and the refusals that tell Forbidden from NotAllowedNow."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from models.clock import FrozenClock
from models.db import session_scope
from models.tables import PLAN
from states.errors import Forbidden, GuardFailed, InvalidDocument, NotAllowedNow
from states.plans.document import PlanDocument
from states.plans.opening import create_plan
from tests.states.engine.support import PERIOD_STARTED, agree, audit_rows, fire, footprint, sign


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

"""Signing an approval chain: step by step, the last signature firing the transition, and a
signature that no longer counts once what the plan says has changed."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from models.clock import FrozenClock
from models.tables import ADJUSTMENT, PLAN
from states.errors import Forbidden, GuardFailed, NotAllowedNow
from tests.states.engine.support import (
    PERIOD_STARTED,
    adjust_milestone,
    agree,
    audit_rows,
    fire,
    flows_at,
    footprint,
    running,
    sign,
    verified,
)


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

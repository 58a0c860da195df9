"""Steps that people name by what they do rather than by a definition's event:
re-confirm the proposed adjustments, evaluate a plan. Each finds the event of the
plan's own definition that does it (by the action it runs), then fires or signs it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from states.definitions.schema import TransitionSpec
from states.engine.firing import Fired, fire, load_plan_and_definition
from states.engine.signing import Signed, sign
from states.errors import NotAllowedNow

CONFIRMING_ACTION = "confirm_adjustments"
EVALUATING_ACTION = "record_evaluation"


def _event_running(session: Session, plan_id: int, action: str, what: str) -> TransitionSpec:
    """The transition out of the plan's current state that runs `action`."""
    plan, definition = load_plan_and_definition(session, plan_id)
    for transition in definition.transitions_from(plan.state):
        if action in transition.actions:
            return transition
    raise NotAllowedNow(
        f"plan {plan_id} is '{plan.state}': nothing there {what}",
        plan_id=plan_id,
        event=what,
        state=plan.state,
    )


def confirm_adjustments(
    *,
    session: Session,
    plan_id: int,
    actor: str,
    now: datetime,
    comment: str | None = None,
    expected_version: int | None = None,
) -> Signed:
    """Sign the re-confirmation of the proposed adjustments (the chain's last signature
    confirms them and resumes the plan)."""
    spec = _event_running(session, plan_id, CONFIRMING_ACTION, "confirms adjustments")
    if spec.approval is None:
        fired = fire(
            session=session,
            plan_id=plan_id,
            event=spec.trigger,
            actor=actor,
            now=now,
            comment=comment,
            expected_version=expected_version,
        )
        return Signed(
            plan_id=plan_id, event=spec.trigger, role="", step=0, waiting_for=(), fired=fired
        )
    return sign(
        session=session,
        plan_id=plan_id,
        actor=actor,
        now=now,
        event=spec.trigger,
        comment=comment,
        expected_version=expected_version,
    )


def evaluate(
    *,
    session: Session,
    plan_id: int,
    actor: str,
    now: datetime,
    outcome: str,
    feedback: str = "",
    lessons: str = "",
    comment: str | None = None,
    expected_version: int | None = None,
) -> Fired:
    """Evaluate the plan: every goal against its target, and the outcome that decides
    what happens next (successful, extended, not met)."""
    spec = _event_running(session, plan_id, EVALUATING_ACTION, "evaluates the plan")
    inputs = {"outcome": outcome}
    for name, value in (("feedback", feedback), ("lessons", lessons)):
        if value and name in spec.inputs:
            inputs[name] = value
    return fire(
        session=session,
        plan_id=plan_id,
        event=spec.trigger,
        actor=actor,
        now=now,
        comment=comment,
        inputs=inputs,
        expected_version=expected_version,
    )

"""Steps that people name by what they do rather than by a definition's event:
re-confirm the proposed adjustments, evaluate a plan. Each finds the event of the
plan's own definition that does it (by the action it runs), then fires or signs it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from states.definitions.schema import TransitionSpec
from states.engine.firing import Fired, fire, load_plan_and_definition, not_possible_there
from states.engine.signing import Signed, sign

CONFIRMING_ACTION = "confirm_adjustments"
EVALUATING_ACTION = "record_evaluation"


def _event_running(session: Session, plan_id: int, action: str, what: str) -> TransitionSpec:
    """The transition out of the plan's current state that runs `action`."""
    plan, definition = load_plan_and_definition(session, plan_id)
    for transition in definition.transitions_from(plan.state):
        if action in transition.actions:
            return transition
    raise not_possible_there(plan, what, f"nothing there {what}")


@dataclass(frozen=True)
class _Asked:
    """Who asked for a step, when, why, and at which version of the plan."""

    session: Session
    plan_id: int
    actor: str
    now: datetime
    comment: str | None
    expected_version: int | None

    # The fields are the keyword arguments that `fire` and `sign` both take.
    def fire(self, spec: TransitionSpec, inputs: dict[str, str] | None = None) -> Fired:
        return fire(event=spec.trigger, inputs=inputs, **vars(self))

    def sign(self, spec: TransitionSpec) -> Signed:
        return sign(event=spec.trigger, **vars(self))


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
    asked = _Asked(session, plan_id, actor, now, comment, expected_version)
    if spec.approval is not None:
        return asked.sign(spec)
    fired = asked.fire(spec)
    return Signed(plan_id=plan_id, event=spec.trigger, role="", step=0, waiting_for=(), fired=fired)


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
    return _Asked(session, plan_id, actor, now, comment, expected_version).fire(spec, inputs)

"""Built-in actions: a transition's own bookkeeping, in its transaction."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import insert, select, update

from models.records import Evaluation
from models.tables import ADJUSTMENT, GOAL, GOAL_RESULT, MEASUREMENT
from states.engine.context import Context
from states.errors import InvalidInput


def confirm_adjustments(ctx: Context) -> None:
    """Re-confirmation seals the adjustments proposed since the plan was adjusted."""
    ctx.session.execute(
        update(ADJUSTMENT)
        .where(ADJUSTMENT.c.plan_id == ctx.plan.id, ADJUSTMENT.c.status == "proposed")
        .values(status="confirmed", confirmed_at=ctx.now)
    )


def attainment(baseline: float | None, target: float, actual: float, direction: str) -> float:
    """Share of the planned improvement reached: 1.0 means the target exactly.

    Without a baseline (or when baseline equals target) it is actual/target,
    inverted for goals that lower a metric.
    """
    if baseline is not None and baseline != target:
        return (actual - baseline) / (target - baseline)
    if direction == "lower":
        return target / actual if actual else 1.0
    return actual / target if target else 1.0


def target_met(target: float, actual: float, direction: str) -> bool:
    return actual <= target if direction == "lower" else actual >= target


def record_evaluation(ctx: Context) -> None:
    """Compare every goal's latest measurement with its target and store the outcome."""
    outcome = ctx.inputs.get("outcome")
    if not outcome:
        raise InvalidInput("an evaluation needs an outcome", field="outcome")
    evaluation = Evaluation(
        plan_id=ctx.plan.id,
        outcome=outcome,
        feedback=ctx.inputs.get("feedback", ""),
        lessons=ctx.inputs.get("lessons", ""),
        evaluated_by_id=ctx.actor.id or 0,
        evaluated_at=ctx.now,
    )
    ctx.session.add(evaluation)
    ctx.session.flush()
    assert evaluation.id is not None
    goals = ctx.session.execute(select(GOAL).where(GOAL.c.plan_id == ctx.plan.id)).all()
    results = []
    for goal in goals:
        latest = ctx.session.execute(
            select(MEASUREMENT.c.value, MEASUREMENT.c.measured_on)
            .where(MEASUREMENT.c.goal_id == goal.id)
            .order_by(MEASUREMENT.c.measured_on.desc(), MEASUREMENT.c.id.desc())
            .limit(1)
        ).one()
        results.append(
            {
                "evaluation_id": evaluation.id,
                "goal_id": goal.id,
                "actual": latest.value,
                "attainment": attainment(goal.baseline, goal.target, latest.value, goal.direction),
                "met": target_met(goal.target, latest.value, goal.direction),
                "measured_on": latest.measured_on,
            }
        )
    if results:
        ctx.session.execute(insert(GOAL_RESULT), results)


Action = Callable[[Context], None]

# The names a definition may give in a transition's `actions`.
ACTIONS: dict[str, Action] = {
    "confirm_adjustments": confirm_adjustments,
    "record_evaluation": record_evaluation,
}

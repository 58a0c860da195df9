"""Built-in guards: may this transition happen now? None = yes, else why not."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from models.tables import ADJUSTMENT, GOAL, MEASUREMENT, MILESTONE
from states.engine.context import Context

Guard = Callable[[Context], str | None]


def has_goals(ctx: Context) -> str | None:
    count = ctx.session.execute(
        select(func.count()).select_from(GOAL).where(GOAL.c.plan_id == ctx.plan.id)
    ).scalar_one()
    return None if count else "the plan has no goals yet; add at least one SMART goal"


def _goals_without(ctx: Context, child_goal_id: object) -> list[str]:
    query = (
        select(GOAL.c.key)
        .where(GOAL.c.plan_id == ctx.plan.id)
        .where(~select(child_goal_id).where(child_goal_id == GOAL.c.id).exists())  # type: ignore[call-overload]
        .order_by(GOAL.c.key)
    )
    return list(ctx.session.execute(query).scalars())


def goals_have_milestones(ctx: Context) -> str | None:
    bare = _goals_without(ctx, MILESTONE.c.goal_id)
    if not bare:
        return None
    return f"goal(s) without a milestone: {', '.join(bare)}; give each goal at least one"


def all_goals_measured(ctx: Context) -> str | None:
    unmeasured = _goals_without(ctx, MEASUREMENT.c.goal_id)
    if not unmeasured:
        return None
    return f"goal(s) with no measured result: {', '.join(unmeasured)}; record a measurement first"


def period_started(ctx: Context) -> str | None:
    if ctx.now.date() >= ctx.plan.period_start:
        return None
    return f"the plan's period starts on {ctx.plan.period_start.isoformat()}"


def period_ended(ctx: Context) -> str | None:
    if ctx.now.date() >= ctx.plan.period_end:
        return None
    return f"the plan's period ends on {ctx.plan.period_end.isoformat()}"


def midpoint_reached(ctx: Context) -> str | None:
    start, end = ctx.plan.period_start, ctx.plan.period_end
    midpoint = start + (end - start) / 2
    if ctx.now.date() >= midpoint:
        return None
    return f"the mid-point review is possible from {midpoint.isoformat()}"


def adjustments_proposed(ctx: Context) -> str | None:
    pending = ctx.session.execute(
        select(func.count())
        .select_from(ADJUSTMENT)
        .where(ADJUSTMENT.c.plan_id == ctx.plan.id, ADJUSTMENT.c.status == "proposed")
    ).scalar_one()
    return None if pending else "no adjustment has been proposed since the plan was adjusted"


# The names a definition may give in a transition's `guards`.
GUARDS: dict[str, Guard] = {
    "has_goals": has_goals,
    "goals_have_milestones": goals_have_milestones,
    "all_goals_measured": all_goals_measured,
    "period_started": period_started,
    "period_ended": period_ended,
    "midpoint_reached": midpoint_reached,
    "adjustments_proposed": adjustments_proposed,
}

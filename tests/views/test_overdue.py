"""A milestone is late only where milestones run: `plan list --overdue`, the list's
count and HR's overdue dashboard leave out plans that are drafted, agreed but not
started, or finished, whatever their milestones' dates."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from models.clock import FrozenClock
from models.db import session_scope
from people import access
from states.engine.firing import fire
from states.engine.signing import sign
from tests.workflows.test_report import Life
from views.dashboards import overdue_milestones
from views.lists import PlanFilter, search_plans

# Zhang's training milestones were due on 15 and 30 September.
LATE_DAY = date(2026, 10, 5)


def _seen_late(engine: Engine, today: date) -> tuple[list[int], dict[int, int], list[int]]:
    """The plans `--overdue` lists, every plan's count of late milestones, and the plans
    the dashboard shows, as the operator sees them."""
    with session_scope(engine) as session:
        viewer = access.operator()
        late = search_plans(session, viewer=viewer, today=today, filters=PlanFilter(overdue=True))
        every = search_plans(session, viewer=viewer, today=today)
        dashboard = overdue_milestones(session, viewer=viewer, today=today)
    return (
        [plan.id for plan in late],
        {plan.id: plan.overdue_milestones for plan in every},
        sorted({row.plan_id for row in dashboard}),
    )


def test_a_drafted_or_agreed_plan_has_nothing_late(
    engine: Engine, clock: FrozenClock, zhang_plan: int
) -> None:
    life = Life(engine, clock, zhang_plan)
    assert _seen_late(engine, LATE_DAY) == ([], {zhang_plan: 0}, [])  # drafted

    life.at("2026-08-26T10:30").do(sign, "zhang")
    life.at("2026-08-26T15:00").do(sign, "li")
    life.at("2026-08-27T11:00").do(sign, "wang")
    assert _seen_late(engine, LATE_DAY) == ([], {zhang_plan: 0}, [])  # agreed, not started

    life.at("2026-09-01T09:00").do(fire, "li", event="start")
    on_time = _seen_late(engine, date(2026, 9, 10))
    assert on_time == ([], {zhang_plan: 0}, [])
    assert _seen_late(engine, LATE_DAY) == ([zhang_plan], {zhang_plan: 2}, [zhang_plan])


def test_a_finished_plan_has_nothing_late(
    engine: Engine, clock: FrozenClock, zhang_plan: int
) -> None:
    life = Life(engine, clock, zhang_plan)
    life.until_measured()
    life.at("2026-12-01T10:00").do(fire, "li", event="evaluate", inputs={"outcome": "extended"})
    # contracts_nov (due 30 November) was never marked done.
    assert _seen_late(engine, date(2026, 12, 10)) == ([], {zhang_plan: 0}, [])
